"""Readers of the Stadtteil population tables: migration, 2012–2024 series, 2035 forecast,
primary-school pupils.

All outputs carry ``stadtteil_code`` to join with the quarters layer.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import numpy as np
import pandas as pd

from handwerkgeo._text import normalize_key
from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    DuplicateIdError,
    MissingColumnError,
)
from handwerkgeo.sources.statistics._parse import (
    DashMeaning,
    PathLike,
    clean_label,
    join_notes,
    one_file,
    parse_value,
    read_semicolon_csv,
)
from handwerkgeo.sources.statistics.codes import (
    MERGED_PARTS,
    MERGED_UNTERBILK_HAFEN,
    check_code_coverage,
    stadtteil_code,
    stadtteil_fields,
)

__all__ = [
    "read_population_2012_2024",
    "read_population_forecast_2035",
    "read_population_migration",
    "read_primary_pupils",
    "read_stadtteil_population",
]

logger = logging.getLogger(__name__)


def read_population_migration(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Population per Stadtteil 2020–2024 with and without migration background.

    The best per-Stadtteil population source: all 50 Stadtteile separately, five years.

    Parameters
    ----------
    path
        ``bevoelkerung_migrationshintergrund_stadtteile_2020_2024.csv``; ``None`` reads the
        fetched layer ``population_migration``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per year and Stadtteil: ``year`` (int), ``stadtteil_code``
        (``"011"`` …), ``stadtteil_name`` (official spelling), ``name_in_source``,
        ``bezirk_code``, ``population``, ``with_migration``, ``without_migration``
        (floats), ``note`` (``""`` or what is odd about the row, e.g. a total that is not
        the sum of its parts — such rows are kept and logged).

    Examples
    --------
    >>> pop = read_population_migration(path)  # doctest: +SKIP
    >>> pop.groupby("year")["population"].sum().loc[2024]  # doctest: +SKIP
    658350.0
    """
    p = one_file(path, "population_migration", data_dir)
    cols = {
        "Jahr": "year",
        "Stadtteil_Nummer": "stadtteil_code",
        "Stadtteil_Name": "name_in_source",
        "personen_insgesamt": "population",
        "personen_mit_migrationshintergrund": "with_migration",
        "personen_ohne_migrationshintergrund": "without_migration",
    }
    raw = read_semicolon_csv(p, required=list(cols))
    raw = raw[~raw.apply(lambda r: all(not str(v).strip() for v in r), axis=1)]
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        code = stadtteil_code(row["Stadtteil_Nummer"], where=where)
        name, bezirk, note = stadtteil_fields(code, row["Stadtteil_Name"], where=where)
        rec: dict[str, Any] = {
            "year": int(parse_value(row["Jahr"], where=where)[0]),
            "stadtteil_code": code,
            "stadtteil_name": name,
            "name_in_source": clean_label(row["Stadtteil_Name"]),
            "bezirk_code": bezirk,
        }
        for src, dst in list(cols.items())[3:]:
            rec[dst] = parse_value(row[src], where=f"{where}, column {src}")[0]
        total = rec["with_migration"] + rec["without_migration"]
        if np.isfinite(total) and abs(total - rec["population"]) > 0.5:
            note = join_notes(
                note, f"population {rec['population']:.0f} != with + without {total:.0f}"
            )
            logger.warning("%s: %s", where, note)
        rec["note"] = note
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    dup = out.duplicated(["year", "stadtteil_code"], keep=False)
    if dup.any():
        pairs = sorted(set(zip(out.loc[dup, "year"], out.loc[dup, "stadtteil_code"], strict=True)))
        msg = f"{p.name}: (year, Stadtteil) pairs occur more than once: {pairs[:10]}."
        raise DuplicateIdError(msg)
    years = sorted(int(y) for y in out["year"].unique())
    logger.info("read %s: %d rows, years %s", p.name, len(out), years)
    return out


def read_population_2012_2024(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Population per Stadtteil 2012–2024 ("Bevölkerungsstand in den Stadtteilen seit 2012").

    Quirks of the published file handled here: codes without leading zero (``11`` →
    ``"011"``); the mistyped header ``_Jahr_2014``; ASCII spellings (``Flingern Sued`` →
    ``Flingern Süd``); Unterbilk and Hafen published as one row ``032/033`` (kept with
    ``is_merged=True``; join it to quarters with :func:`merged_join_key` or split it with
    :func:`split_unterbilk_hafen`); Knittkuhl 2012–2013 given as ``X`` because it became a
    Stadtteil only in 2014 and was counted in Hubbelrath (footnote ``*`` on both names):
    those cells are NaN with ``value_missing=True`` and a reason in ``note``, and the
    Hubbelrath rows of the same years say that they include Knittkuhl.

    Parameters
    ----------
    path
        ``bevoelkerungsstand_stadtteile_2012_2024.csv``; ``None`` reads the fetched layer
        ``population_2012_2024``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        Long format: ``stadtteil_code``, ``stadtteil_name``, ``name_in_source``,
        ``bezirk_code``, ``year`` (int), ``population`` (float), ``is_merged``,
        ``value_missing``, ``note``.

    Examples
    --------
    >>> ts = read_population_2012_2024(path)  # doctest: +SKIP
    >>> ts.groupby("year")["population"].sum().loc[2020]  # doctest: +SKIP
    644280.0
    """
    p = one_file(path, "population_2012_2024", data_dir)
    raw = read_semicolon_csv(p, required=["Stadtteilnummer", "Stadtteilname"])
    year_cols: dict[str, int] = {}
    for c in raw.columns:
        if m := re.fullmatch(r"(?i)_*jahr_*(\d{4})_*", c):
            year_cols[c] = int(m.group(1))
            if c != f"Jahr_{m.group(1)}":
                logger.info("%s: header %r read as year %s", p.name, c, m.group(1))
    if not year_cols:
        msg = f"{p.name}: no year columns like 'Jahr_2012' in {list(raw.columns)}."
        raise MissingColumnError(msg)
    raw = raw[~raw.apply(lambda r: all(not str(v).strip() for v in r), axis=1)]
    rows = []
    starred: dict[str, str] = {}  # code -> name of rows with footnote '*'
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        code = stadtteil_code(row["Stadtteilnummer"], where=where)
        src_name = clean_label(row["Stadtteilname"])
        footnote = src_name.endswith("*")
        clean = src_name.rstrip("*").strip()
        name, bezirk, note = stadtteil_fields(code, clean, where=where)
        if footnote:
            starred[code] = name
        for col, year in year_cols.items():
            value, status = parse_value(row[col], where=f"{where}, column {col}")
            rows.append(
                {
                    "stadtteil_code": code,
                    "stadtteil_name": name,
                    "name_in_source": src_name,
                    "bezirk_code": bezirk,
                    "year": year,
                    "population": value,
                    "is_merged": code == MERGED_UNTERBILK_HAFEN,
                    "value_missing": status in {"not_available", "suppressed", "empty"},
                    "note": note,
                    "_status": status,
                }
            )
    out = pd.DataFrame.from_records(rows)
    # explain missing cells of footnoted rows, and the rows that include them
    for idx in out.index[out["value_missing"]]:
        code, year = out.at[idx, "stadtteil_code"], out.at[idx, "year"]
        status = out.at[idx, "_status"]
        if code in starred and len(starred) > 1:
            others = [n for c, n in starred.items() if c != code]
            reason = (
                f"'{'X' if status == 'not_available' else status}' in source: no separate "
                f"figure for {year}; counted in {', '.join(others)} (footnote * in source)"
            )
            for c in starred:
                if c == code:
                    continue
                mask = (out["stadtteil_code"] == c) & (out["year"] == year)
                out.loc[mask, "note"] = out.loc[mask, "note"].map(
                    lambda n, nm=starred[code]: join_notes(n, f"includes {nm} (footnote *)")
                )
        else:
            reason = f"no value in source ({status})"
        out.at[idx, "note"] = join_notes(out.at[idx, "note"], reason)
    out = out.drop(columns="_status")
    if out.duplicated(["stadtteil_code", "year"]).any():
        dups = sorted(
            out.loc[out.duplicated(["stadtteil_code", "year"]), "stadtteil_code"].unique()
        )
        msg = f"{p.name}: Stadtteil code(s) {dups} occur more than once."
        raise DuplicateIdError(msg)
    check_code_coverage(set(out["stadtteil_code"]), p.name)
    logger.info(
        "read %s: %d Stadtteil rows × %d years (%d missing cells)",
        p.name,
        out["stadtteil_code"].nunique(),
        len(year_cols),
        int(out["value_missing"].sum()),
    )
    return out.sort_values(["stadtteil_code", "year"], kind="stable").reset_index(drop=True)


def read_population_forecast_2035(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Official population forecast per Stadtteil, 2019 → 2035.

    The first row of the file is the whole city; rows are labelled ``"011 Altstadt"``;
    Unterbilk and Hafen form one row ``"032 Unterbilk / 033 Hafen"``; the change in %
    uses a decimal comma.

    Parameters
    ----------
    path
        ``bevoelkerungsprognose_stadtteile_2035.csv``; ``None`` reads the fetched layer
        ``population_forecast_2035``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        ``row_type`` (``"city_total"``, ``"stadtteil"`` or ``"merged"``),
        ``stadtteil_code`` (``None`` for the city row, ``"032/033"`` for the merged one),
        ``stadtteil_name``, ``name_in_source``, ``bezirk_code``, ``population_2019``,
        ``population_2035``, ``change_abs``, ``change_pct`` (percent), ``is_merged``,
        ``note`` (e.g. when the published change disagrees with the two populations).

    Examples
    --------
    >>> fc = read_population_forecast_2035(path)  # doctest: +SKIP
    >>> fc.loc[fc.row_type == "city_total", "population_2035"].item()  # doctest: +SKIP
    702500.0
    """
    p = one_file(path, "population_forecast_2035", data_dir)
    raw = read_semicolon_csv(p)
    if raw.shape[1] < 5:
        msg = (
            f"{p.name}: expected 5 columns (Indikator; 2019; 2035; Veraenderung absolut; "
            f"Veraenderung in %), found {list(raw.columns)}."
        )
        raise MissingColumnError(msg)
    label_col, y0, y1, abs_col, pct_col = raw.columns[:5]
    years = []
    for c in (y0, y1):
        if not re.fullmatch(r"\d{4}", c):
            msg = f"{p.name}: column {c!r} should be a year (e.g. 2019, 2035)."
            raise MissingColumnError(msg)
        years.append(int(c))
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        label = clean_label(row[label_col])
        if not label:
            continue
        merged = re.fullmatch(r"(\d{1,3})\s+(.+?)\s*/\s*(\d{1,3})\s+(.+)", label)
        single = re.fullmatch(r"(\d{1,3})\s+(.+)", label)
        if merged and {merged.group(1).zfill(3), merged.group(3).zfill(3)} == set(MERGED_PARTS):
            code = MERGED_UNTERBILK_HAFEN
            src_name = f"{merged.group(2)}/{merged.group(4)}"
            row_type = "merged"
        elif single:
            code = single.group(1).zfill(3)
            src_name = single.group(2)
            row_type = "stadtteil"
        elif normalize_key(label) in {"duesseldorf", "stadtduesseldorf", "duesseldorfinsgesamt"}:
            code, src_name, row_type = None, label, "city_total"
        else:
            msg = f"{where}: cannot read {label!r} as '011 Altstadt' or the city total."
            raise DataSourceError(msg)
        if code is None:
            name, bezirk, note = "Düsseldorf", None, ""
        else:
            name, bezirk, note = stadtteil_fields(code, src_name, where=where)
        vals = [
            parse_value(row[c], where=f"{where}, column {c}")[0] for c in (y0, y1, abs_col, pct_col)
        ]
        if np.isfinite(vals[0]) and np.isfinite(vals[1]) and abs(vals[1] - vals[0] - vals[2]) > 0.5:
            note = join_notes(note, f"published change {vals[2]:.0f} != {vals[1] - vals[0]:.0f}")
        records.append(
            {
                "row_type": row_type,
                "stadtteil_code": code,
                "stadtteil_name": name,
                "name_in_source": label,
                "bezirk_code": bezirk,
                f"population_{years[0]}": vals[0],
                f"population_{years[1]}": vals[1],
                "change_abs": vals[2],
                "change_pct": vals[3],
                "is_merged": row_type == "merged",
                "note": note,
            }
        )
    out = pd.DataFrame.from_records(records)
    parts = out[out["row_type"] != "city_total"]
    city = out[out["row_type"] == "city_total"]
    if len(city) == 1:
        for y in years:
            col = f"population_{y}"
            diff = parts[col].sum() - city[col].item()
            if abs(diff) > 0.5:
                logger.warning(
                    "%s: Stadtteile sum to %+.0f vs the city total in %d", p.name, diff, y
                )
    check_code_coverage(set(parts["stadtteil_code"]), p.name)
    logger.info("read %s: %d rows (%d Stadtteil rows)", p.name, len(out), len(parts))
    return out


def read_primary_pupils(
    path: PathLike | None = None,
    *,
    data_dir: PathLike | None = None,
    dash: DashMeaning = "zero",
) -> pd.DataFrame:
    """Primary-school pupils by Stadtteil of residence (year not stated in the file).

    Parameters
    ----------
    path
        ``grundschueler_stadtteile.csv``; ``None`` reads the fetched layer
        ``primary_pupils``.
    data_dir
        Data directory for ``path=None``.
    dash
        Meaning of the sign ``-``: ``"zero"`` (default; the city's legend: "Zahlenwert
        genau Null") or ``"suppressed"`` (read as NaN, like ``.``).

    Returns
    -------
    pandas.DataFrame
        ``row_type`` (``"stadtteil"`` or ``"outside_city"`` for the row of pupils from
        outside the city or without a stated Stadtteil, kept but flagged),
        ``stadtteil_code`` (``None`` for that row), ``stadtteil_name``,
        ``name_in_source``, ``bezirk_code``, ``male``, ``female``, ``german``,
        ``non_german`` (floats, NaN where suppressed), ``total`` (male + female),
        ``suppressed`` (comma-separated names of suppressed columns, ``""`` if none),
        ``note``.

    Examples
    --------
    >>> pupils = read_primary_pupils(path)  # doctest: +SKIP
    >>> pupils.loc[pupils.stadtteil_code == "034", "suppressed"].item()  # doctest: +SKIP
    'german,non_german'
    """
    if dash not in ("zero", "suppressed"):
        msg = f"dash must be 'zero' or 'suppressed', not {dash!r}."
        raise ConfigError(msg)
    p = one_file(path, "primary_pupils", data_dir)
    cols = {
        "männlich": "male",
        "weiblich": "female",
        "deutsch": "german",
        "nichtdeutsch": "non_german",
    }
    raw = read_semicolon_csv(p, required=["Stadtteil", *cols])
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        label = clean_label(row["Stadtteil"])
        if not label:
            continue
        if m := re.fullmatch(r"(\d{1,3})\s+(.+)", label):
            code = m.group(1).zfill(3)
            name, bezirk, note = stadtteil_fields(code, m.group(2), where=where)
            row_type = "stadtteil"
        else:
            code, name, bezirk, row_type = None, label, None, "outside_city"
            note = "pupils living outside Düsseldorf or without a stated Stadtteil"
        rec: dict[str, Any] = {
            "row_type": row_type,
            "stadtteil_code": code,
            "stadtteil_name": name,
            "name_in_source": label,
            "bezirk_code": bezirk,
        }
        suppressed = []
        for src, dst in cols.items():
            value, status = parse_value(row[src], where=f"{where}, column {src}", dash=dash)
            rec[dst] = value
            if status == "suppressed":
                suppressed.append(dst)
        rec["total"] = rec["male"] + rec["female"]
        rec["suppressed"] = ",".join(suppressed)
        both = rec["german"] + rec["non_german"]
        if np.isfinite(both) and np.isfinite(rec["total"]) and abs(both - rec["total"]) > 0.5:
            note = join_notes(note, f"german + non_german {both:.0f} != total {rec['total']:.0f}")
        rec["note"] = note
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    check_code_coverage(set(out["stadtteil_code"].dropna()), p.name)
    logger.info("read %s: %d rows", p.name, len(out))
    return out


_KINDS = {
    "migration": read_population_migration,
    "timeseries": read_population_2012_2024,
    "forecast": read_population_forecast_2035,
    "pupils": read_primary_pupils,
}


def read_stadtteil_population(
    kind: Literal["migration", "timeseries", "forecast", "pupils"] = "migration",
    path: PathLike | None = None,
    *,
    data_dir: PathLike | None = None,
) -> pd.DataFrame:
    """Read one of the Stadtteil population tables by kind.

    ``"migration"`` → :func:`read_population_migration` (2020–2024, the best source),
    ``"timeseries"`` → :func:`read_population_2012_2024`, ``"forecast"`` →
    :func:`read_population_forecast_2035`, ``"pupils"`` → :func:`read_primary_pupils`.
    All outputs carry ``stadtteil_code`` to join with the quarters layer.

    Examples
    --------
    >>> read_stadtteil_population("migration", path).columns[:3].tolist()  # doctest: +SKIP
    ['year', 'stadtteil_code', 'stadtteil_name']
    """
    try:
        reader = _KINDS[kind]
    except KeyError:
        msg = f"kind must be one of {sorted(_KINDS)}, not {kind!r}."
        raise ConfigError(msg) from None
    return reader(path, data_dir=data_dir)
