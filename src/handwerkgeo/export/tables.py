"""Score tables for council papers: Excel workbook and CSV, for any number of plots.

The workbook (German headers by default) has three sheets, each set up to print (A4
landscape, one page wide, header row repeated, frozen header, auto filter; see
:func:`handwerkgeo.spreadsheet.write_xlsx`):

- "Rangfolge": one row per plot, best rank first (excluded plots last, with their reason),
  with total score, coverage, missing criteria and, when present, the robustness columns
  (``p_top_<N>``, rank percentiles);
- "Kriterien": one row per plot (wide form): rank, id, and per criterion the raw value,
  utility, contribution (and fallback flag);
- "Konfiguration und Quellen": one row per criterion (weight, unit, utility function as
  ``x → u`` pairs or category table, parameters, data source), then the run (hash,
  version, time, plots in the workbook), the exclusion filters and the data sources with
  licences and attribution.

Excel holds at most 1,048,576 rows, and a workbook of 100,000 plots is neither printable
nor quick to write. Above ``xlsx_max_rows`` plots (default :data:`XLSX_MAX_ROWS` = 10,000)
the workbook holds the best ``xlsx_max_rows`` plots, and a first sheet "Hinweis" (English
"Note") says so and names the files with the full table (the CSV, and the GeoPackage or
GeoParquet the command line writes beside it). The CSV always holds every plot.

The CSV holds the ranking with the criterion breakdown in one table. ``csv_format="excel-de"``
(default) writes what German Excel opens correctly by double-click: UTF-8 with BOM, ``;`` as
separator and a decimal comma. ``csv_format="plain"`` writes UTF-8 without BOM, ``,`` and a
decimal point (for scripts and other tools). Both end rows in CRLF and quote text fields;
every cell of the workbook and the CSV goes through :mod:`handwerkgeo.spreadsheet`, so no
text from a listing can become a formula. Both are written as streams (a million plots
fit), atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo.errors import ConfigError
from handwerkgeo.export._config_sheet import WRAP, config_frames
from handwerkgeo.export._labels import (
    TEXT,
    Criterion,
    check_lang,
    criteria_of,
    format_number,
    run_of,
    validate_scored,
)
from handwerkgeo.messages import message
from handwerkgeo.scoring import carried_columns, decision_ready
from handwerkgeo.spreadsheet import Sheet, write_csv, write_xlsx

__all__ = ["XLSX_MAX_ROWS", "criteria_table", "export_tables", "ranking_table"]

#: Plots in the workbook at most; above it the workbook holds the best ones and a note,
#: the CSV (and GeoPackage / GeoParquet) every plot.
XLSX_MAX_ROWS = 10_000

logger = logging.getLogger(__name__)

_COLS = {
    "de": {
        "rank": "Rang",
        "plot_id": "Flächen-ID",
        "name": "Name",
        "score_total": "Gesamtpunktzahl",
        "excluded": "Ausgeschlossen",
        "exclusion_reason": "Ausschlussgrund",
        "coverage": "Datenabdeckung (%)",
        "decision_ready": "Entscheidungsreif",
        "missing_criteria": "Fehlende Kriterien",
        "area_m2": "Fläche (m²)",
        "p_top": "Wahrscheinlichkeit Top {n} (%)",
        "rank_p05": "Rang 5. Perzentil",
        "rank_p50": "Rang Median",
        "rank_p95": "Rang 95. Perzentil",
        "raw": "{label}: Wert{unit}",
        "u": "{label}: Nutzen (0–1)",
        "contrib": "{label}: Beitrag (Punkte)",
        "fallback": "{label}: Ersatzwert",
    },
    "en": {
        "rank": "Rank",
        "plot_id": "Plot ID",
        "name": "Name",
        "score_total": "Total score",
        "excluded": "Excluded",
        "exclusion_reason": "Exclusion reason",
        "coverage": "Data coverage (%)",
        "decision_ready": "Ready for a decision",
        "missing_criteria": "Missing criteria",
        "area_m2": "Area (m²)",
        "p_top": "Probability of top {n} (%)",
        "rank_p05": "Rank 5th percentile",
        "rank_p50": "Rank median",
        "rank_p95": "Rank 95th percentile",
        "raw": "{label}: value{unit}",
        "u": "{label}: utility (0–1)",
        "contrib": "{label}: contribution (points)",
        "fallback": "{label}: fallback value",
    },
}


def _sorted(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    key = pd.to_numeric(gdf["rank"], errors="coerce").astype(float).fillna(np.inf)
    score = pd.to_numeric(gdf["score_total"], errors="coerce").astype(float).fillna(-np.inf)
    order = np.lexsort((-score.to_numpy(), key.to_numpy()))
    return gdf.iloc[order]


def _yes_no(values: pd.Series, lang: str) -> pd.Series:
    t = TEXT[lang]
    words = np.where(values.fillna(False).astype(bool).to_numpy(), t["yes"], t["no"])
    return pd.Series(np.where(values.isna().to_numpy(), "", words).astype(object), values.index)


def _raw_column(values: pd.Series, lang: str) -> pd.Series:
    """Yes/no for flags; numbers to 1 decimal from 10 up, else 3 (``15400.1``, ``0.457``)."""
    if pd.api.types.is_bool_dtype(values):
        return _yes_no(values, lang)
    if pd.api.types.is_float_dtype(values) and not pd.api.types.is_extension_array_dtype(values):
        x = values.to_numpy()
        return pd.Series(np.where(np.abs(x) >= 10, x.round(1), x.round(3)), values.index)
    return values


def _missing_labels(value: object, crits: list[Criterion]) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    labels = {c.name: c.label for c in crits}
    names = [s.strip() for s in str(value).split(",") if s.strip()]
    return ", ".join(labels.get(n, n) for n in names)


def _int_column(values: pd.Series) -> pd.arrays.IntegerArray:
    """Whole numbers as a nullable integer column: ``1`` (never ``1.0``), empty when missing."""
    v = pd.to_numeric(values, errors="coerce").astype("float64").round(0)
    return pd.array(v.to_numpy(), dtype="Int64")


def _text_column(values: pd.Series) -> np.ndarray:
    return values.astype(object).where(values.notna(), "").to_numpy()


def _carried(gdf: gpd.GeoDataFrame, taken: pd.Index) -> dict[str, np.ndarray]:
    """The planner's own columns (``Gemarkung``, ``Bemerkung`` …), headed by their names."""
    out = {}
    for col in carried_columns(gdf):
        header = col if col not in taken else f"{col} (*)"
        values = gdf[col]
        out[header] = values.to_numpy() if values.dtype.kind in "biuf" else _text_column(values)
    return out


def ranking_table(scored: gpd.GeoDataFrame, *, lang: str = "de") -> pd.DataFrame:
    """The ranking: one row per plot, best first, excluded plots last, labelled columns.

    Columns: rank (whole numbers, empty for excluded plots), id, name, total score,
    "Entscheidungsreif" (ja/nein: coverage at least ``filters.decision_coverage``), area,
    exclusion, coverage, missing criteria (in full), the planner's carried columns
    (``Gemarkung``, ``Bemerkung`` … under their own names) and the robustness columns.
    """
    lang = check_lang(lang)
    c = _COLS[lang]
    t = TEXT[lang]
    gdf = _sorted(validate_scored(scored))
    crits = criteria_of(gdf, lang)
    out = pd.DataFrame(index=range(len(gdf)))
    out[c["rank"]] = _int_column(gdf["rank"])
    out[c["plot_id"]] = gdf["plot_id"].astype(str).to_numpy()
    if "name" in gdf.columns:
        out[c["name"]] = _text_column(gdf["name"])
    out[c["score_total"]] = pd.to_numeric(gdf["score_total"], errors="coerce").round(1).to_numpy()
    ready = decision_ready(gdf)
    out[c["decision_ready"]] = np.where(ready.to_numpy(), t["yes"], t["no"])
    if "area_m2" in gdf.columns:
        out[c["area_m2"]] = _int_column(gdf["area_m2"])
    out[c["excluded"]] = _yes_no(gdf["excluded"], lang).to_numpy()
    if "exclusion_reason" in gdf.columns:
        out[c["exclusion_reason"]] = _text_column(gdf["exclusion_reason"])
    if "coverage" in gdf.columns:
        out[c["coverage"]] = _int_column(pd.to_numeric(gdf["coverage"], errors="coerce") * 100)
    if "missing_criteria" in gdf.columns:
        missing = gdf["missing_criteria"]  # few distinct values: each labelled once
        labels = {v: _missing_labels(v, crits) for v in missing.dropna().unique()}
        out[c["missing_criteria"]] = missing.map(labels).fillna("").to_numpy()
    for header, values in _carried(gdf, out.columns).items():
        out[header] = values
    for col in gdf.columns:
        if str(col).startswith("p_top_") and str(col)[6:].isdigit():
            p = pd.to_numeric(gdf[col], errors="coerce") * 100
            out[c["p_top"].format(n=str(col)[6:])] = _int_column(p)
    for col in ("rank_p05", "rank_p50", "rank_p95"):
        if col in gdf.columns:
            out[c[col]] = _int_column(gdf[col])
    return out


def _criteria_columns(
    gdf: gpd.GeoDataFrame, lang: str, *, by_measure: bool = False
) -> dict[str, np.ndarray]:
    """Per criterion: raw value (with unit), utility, contribution, fallback flag.

    ``by_measure``: the contributions of every criterion first, then the raw values, the
    utilities and the fallback flags (the workbook prints the first block); else the
    columns of one criterion side by side.
    """
    c = _COLS[lang]
    groups: dict[str, dict[str, np.ndarray]] = {k: {} for k in ("contrib", "raw", "u", "fb")}
    interleaved: dict[str, np.ndarray] = {}
    crits = criteria_of(gdf, lang)
    # the columns without the run attributes: pandas deep-copies ``attrs`` on every column
    # taken (~0.3 ms each, some 100 columns per table)
    gdf = gdf.copy(deep=False)
    gdf.attrs = {}
    for cr in crits:
        unit = f" ({cr.unit})" if cr.unit else ""
        cols: list[tuple[str, str, pd.Series]] = []
        if f"raw_{cr.name}" in gdf.columns:
            col = _raw_column(gdf[f"raw_{cr.name}"], lang)
            cols.append(("raw", c["raw"].format(label=cr.label, unit=unit), col))
        if f"u_{cr.name}" in gdf.columns:
            u = pd.to_numeric(gdf[f"u_{cr.name}"], errors="coerce").round(3)
            cols.append(("u", c["u"].format(label=cr.label), u))
        if f"contrib_{cr.name}" in gdf.columns:
            v = pd.to_numeric(gdf[f"contrib_{cr.name}"], errors="coerce").round(2)
            cols.append(("contrib", c["contrib"].format(label=cr.label), v))
        if f"fallback_{cr.name}" in gdf.columns:
            fb = _yes_no(gdf[f"fallback_{cr.name}"], lang)
            cols.append(("fb", c["fallback"].format(label=cr.label), fb))
        for group, header, values in cols:
            groups[group][header] = interleaved[header] = values.to_numpy()
    if not by_measure:
        return interleaved
    return {h: v for group in groups.values() for h, v in group.items()}


def criteria_table(scored: gpd.GeoDataFrame, *, lang: str = "de") -> pd.DataFrame:
    """Per plot (one row each, best first): rank, id, then the contribution (points) of
    every criterion, their raw values with unit, utilities (0–1) and fallback flags."""
    lang = check_lang(lang)
    c = _COLS[lang]
    gdf = _sorted(validate_scored(scored))
    out = pd.DataFrame(
        {c["rank"]: _int_column(gdf["rank"]), c["plot_id"]: gdf["plot_id"].astype(str).to_numpy()}
    )
    columns = _criteria_columns(gdf, lang, by_measure=True)
    return pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1) if columns else out


def _wide_table(gdf: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """Ranking plus raw/utility/contribution columns per criterion (for the CSV).

    ``gdf`` is sorted and validated.
    """
    out = ranking_table(gdf, lang=lang)
    columns = _criteria_columns(gdf, lang)
    return pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1) if columns else out


def _sheets(
    gdf: gpd.GeoDataFrame, lang: str, *, max_rows: int, full: Sequence[Path]
) -> list[Sheet]:
    """The sheets of the workbook; ``gdf`` sorted, cut to ``max_rows`` plots with a note."""
    t = TEXT[lang]
    top = gdf.iloc[:max_rows]
    ranking = ranking_table(top, lang=lang)
    criteria = criteria_table(top, lang=lang)
    names = ", ".join(p.name for p in full)
    points = 2 + sum(f"contrib_{cr.name}" in gdf.columns for cr in criteria_of(gdf, lang))
    main, blocks = config_frames(
        run_of(gdf), criteria_of(gdf, lang), lang, rows=(len(top), len(gdf))
    )
    sheets = [
        Sheet(t["sheet_ranking"], ranking, key_columns=2, wrap_columns=_wrap(ranking, lang)),
        Sheet(t["sheet_criteria"], criteria, key_columns=2, max_width=14, print_columns=points),
        Sheet(t["sheet_config"], main, blocks=blocks, wrap_columns=WRAP[lang], max_width=50),
    ]
    if len(top) < len(gdf):
        code = "tables_xlsx_cut" if full else "tables_xlsx_cut_nofile"
        shown, total = (format_number(n, lang, 0) for n in (len(top), len(gdf)))
        note = message(code, lang, shown=shown, total=total, paths=names)
        frame = pd.DataFrame({message("tables_note_sheet", lang): [note]})
        sheets.insert(
            0,
            Sheet(
                message("tables_note_sheet", lang),
                frame,
                max_width=100,
                wrap_columns=tuple(frame.columns),
            ),
        )
    return sheets


def _wrap(frame: pd.DataFrame, lang: str) -> tuple[str, ...]:
    c = _COLS[lang]
    return tuple(h for h in (c["missing_criteria"], c["exclusion_reason"]) if h in frame.columns)


def export_tables(
    scored: gpd.GeoDataFrame,
    xlsx_path: str | os.PathLike[str] | None = None,
    csv_path: str | os.PathLike[str] | None = None,
    *,
    lang: str = "de",
    csv_format: Literal["excel-de", "plain"] = "excel-de",
    xlsx_max_rows: int = XLSX_MAX_ROWS,
    full_table_paths: Sequence[str | os.PathLike[str]] = (),
) -> dict[str, Path]:
    """Write the score tables as an Excel workbook and/or a CSV file (atomically).

    Parameters
    ----------
    scored
        Scored frame (output of ``handwerkgeo.scoring.score_plots``). Not modified.
    xlsx_path
        Workbook with the sheets "Rangfolge", "Kriterien" and "Konfiguration und Quellen"
        (English names with ``lang="en"``), set up to print.
    csv_path
        Ranking with the per-criterion breakdown in one table, every plot.
    lang
        ``"de"`` (default) or ``"en"`` headers.
    csv_format
        ``"excel-de"`` (default): UTF-8 with BOM, ``;`` separator, decimal comma — opens
        correctly in German Excel. ``"plain"``: UTF-8, ``,`` separator, decimal point.
    xlsx_max_rows
        Plots in the workbook at most (default :data:`XLSX_MAX_ROWS`); with more plots it
        holds the best ones and a first sheet "Hinweis" naming the full table's files.
    full_table_paths
        Further files holding every plot (GeoPackage, GeoParquet), named in that note
        beside the CSV.

    Returns
    -------
    dict
        ``{"xlsx": path, "csv": path}`` for the files written.

    Raises
    ------
    ConfigError
        If neither path is given, or ``csv_format``/``lang``/``xlsx_max_rows`` is invalid.

    Examples
    --------
    >>> export_tables(scored, "bewertung.xlsx", "bewertung.csv")  # doctest: +SKIP
    {'xlsx': PosixPath('bewertung.xlsx'), 'csv': PosixPath('bewertung.csv')}
    """
    lang = check_lang(lang)
    if xlsx_path is None and csv_path is None:
        msg = "export_tables needs xlsx_path and/or csv_path; neither was given."
        raise ConfigError(msg)
    if csv_format not in ("excel-de", "plain"):
        msg = f"csv_format={csv_format!r} is not supported; use 'excel-de' or 'plain'."
        raise ConfigError(msg)
    if not 1 <= xlsx_max_rows < 1_048_576:
        msg = f"xlsx_max_rows={xlsx_max_rows!r}: give a number of plots from 1 to 1,048,575."
        raise ConfigError(msg)
    gdf = _sorted(validate_scored(scored))
    out: dict[str, Path] = {}
    if csv_path is not None:
        out["csv"] = write_csv(_wide_table(gdf, lang), csv_path, german=csv_format == "excel-de")
    if xlsx_path is not None:
        full = [Path(p) for p in ([csv_path] if csv_path is not None else [])]
        full += [Path(p) for p in full_table_paths]
        if len(gdf) > xlsx_max_rows and not full:
            logger.warning(
                "the workbook holds the best %d of %d plots; write the CSV for all of them",
                xlsx_max_rows,
                len(gdf),
            )
        sheets = _sheets(gdf, lang, max_rows=xlsx_max_rows, full=full)
        out["xlsx"] = write_xlsx(xlsx_path, sheets)
    logger.info("tables written: %s (%d plots)", ", ".join(str(p) for p in out.values()), len(gdf))
    return out
