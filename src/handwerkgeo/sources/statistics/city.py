"""City-wide tables: the population projection 2021–2035 and households per Sozialraum."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from handwerkgeo._text import normalize_key
from handwerkgeo.errors import (
    DataSourceError,
    DuplicateIdError,
)
from handwerkgeo.sources.statistics._parse import (
    PathLike,
    clean_label,
    one_file,
    parse_value,
    read_semicolon_csv,
)

__all__ = [
    "read_households_sozialraum",
    "read_population_projection",
]

logger = logging.getLogger(__name__)


def read_population_projection(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """City population projection 2021–2035: three city variants and IT.NRW.

    Parameters
    ----------
    path
        ``einwohner_prognose.csv``; ``None`` reads the fetched layer
        ``population_projection``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        Long format: ``year``, ``reference_date`` (1 January of ``year``), ``variant``
        (``variant_1``, ``variant_2``, ``variant_3``, ``it_nrw``), ``variant_label``
        (German header), ``population``. The published change rows ("Veraenderung
        2021/2035 absolut / in Prozent") are in ``attrs["published_change"]``
        ({variant: {"abs": …, "pct": …}}); a disagreement with the yearly values is
        logged.

    Examples
    --------
    >>> proj = read_population_projection(path)  # doctest: +SKIP
    >>> proj.query("variant == 'variant_2' and year == 2035")["population"].item()  # doctest: +SKIP
    702500.0
    """
    p = one_file(path, "population_projection", data_dir)
    raw = read_semicolon_csv(p)
    year_col = raw.columns[0]
    variants = {}
    for c in raw.columns[1:]:
        if m := re.fullmatch(r"(?i)variante\s*(\d+)", c):
            variants[c] = f"variant_{m.group(1)}"
        elif normalize_key(c) == "itnrw":
            variants[c] = "it_nrw"
        elif c:
            variants[c] = normalize_key(c)
    records = []
    change: dict[str, dict[str, float]] = {v: {} for v in variants.values()}
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        label = clean_label(row[year_col])
        if not label and all(not str(row[c]).strip() for c in variants):
            continue
        if re.fullmatch(r"\d{4}", label):
            year = int(label)
            for c, v in variants.items():
                value, _ = parse_value(row[c], where=f"{where}, column {c}")
                records.append(
                    {
                        "year": year,
                        "reference_date": pd.Timestamp(year, 1, 1),
                        "variant": v,
                        "variant_label": c,
                        "population": value,
                    }
                )
        elif "veraenderung" in normalize_key(label) or "veränderung" in label.lower():
            kind = "pct" if "prozent" in label.lower() or "%" in label else "abs"
            for c, v in variants.items():
                change[v][kind] = parse_value(row[c], where=f"{where}, column {c}")[0]
        else:
            msg = f"{where}: unexpected row {label!r} (expected a year or a 'Veraenderung' row)."
            raise DataSourceError(msg)
    out = pd.DataFrame.from_records(records)
    for v, ch in change.items():
        s = out[out["variant"] == v].set_index("year")["population"].sort_index()
        if "abs" in ch and len(s) > 1 and abs(s.iloc[-1] - s.iloc[0] - ch["abs"]) > 0.5:
            logger.warning("%s: published change of %s disagrees with the yearly values", p.name, v)
    out.attrs["published_change"] = change
    logger.info("read %s: %d years × %d variants", p.name, out["year"].nunique(), len(variants))
    return out


def read_households_sozialraum(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Private households by size for the 179 Sozialräume (2020).

    Parameters
    ----------
    path
        ``haushalte_sozialraum_2020.csv``; ``None`` reads the fetched layer
        ``households_sozialraum``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        ``sozialraum_code`` (four digits, e.g. ``"0101"``), ``bezirk_code`` (as given in
        the file's Stadtbezirk column), ``households``, ``households_1_person``,
        ``households_2_persons``, ``households_3plus_persons``,
        ``households_with_children``, ``single_parent_households`` (floats; NaN for ``x``,
        0 for ``-``), ``value_missing`` (True if any value is ``x``/``.``), ``note``
        (e.g. when the code prefix and the Stadtbezirk column disagree — Sozialräume 0115
        and 0116 are listed under Stadtbezirk 02 — or when sizes do not add up). There is
        no geometry for Sozialräume.

    Examples
    --------
    >>> hh = read_households_sozialraum(path)  # doctest: +SKIP
    >>> len(hh)  # doctest: +SKIP
    179
    """
    p = one_file(path, "households_sozialraum", data_dir)
    cols = {
        "Haushalte insgesamt": "households",
        "Haushalte mit 1 Person": "households_1_person",
        "Haushalte mit 2 Personen": "households_2_persons",
        "Haushalte mit 3 u. m. Personen": "households_3plus_persons",
        "Haushalte mit Kindern": "households_with_children",
        "Alleinerziehenden Haushalte": "single_parent_households",
    }
    raw = read_semicolon_csv(p, required=["Stadtbezirk", "Sozialraum", *cols])
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        code_raw = clean_label(row["Sozialraum"])
        if not code_raw:
            continue
        if not re.fullmatch(r"\d{3,4}", code_raw):
            msg = f"{where}: Sozialraum code {code_raw!r} is not 4 digits like '0101'."
            raise DataSourceError(msg)
        code = code_raw.zfill(4)
        bezirk = clean_label(row["Stadtbezirk"]).zfill(2)
        notes = []
        if code[:2] != bezirk:
            notes.append(f"code prefix {code[:2]} differs from Stadtbezirk {bezirk} in the file")
        rec: dict[str, Any] = {"sozialraum_code": code, "bezirk_code": bezirk}
        missing_any = False
        for src, dst in cols.items():
            value, status = parse_value(row[src], where=f"{where}, column {src}")
            rec[dst] = value
            missing_any |= status in {"not_available", "suppressed", "empty"}
        if missing_any:
            notes.append("values not published ('x' or '.')")
        sizes = (
            rec["households_1_person"]
            + rec["households_2_persons"]
            + rec["households_3plus_persons"]
        )
        if (
            np.isfinite(sizes)
            and np.isfinite(rec["households"])
            and abs(sizes - rec["households"]) > 0.5
        ):
            notes.append(f"sizes sum to {sizes:.0f}, not {rec['households']:.0f}")
        rec["value_missing"] = missing_any
        rec["note"] = "; ".join(notes)
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    dup = out["sozialraum_code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(out.loc[dup, "sozialraum_code"].unique())
        msg = f"{p.name}: Sozialraum codes occur twice: {codes}."
        raise DuplicateIdError(msg)
    logger.info("read %s: %d Sozialräume", p.name, len(out))
    return out
