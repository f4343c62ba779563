"""Score tables for council papers: Excel workbook and CSV.

The workbook (German headers by default) has three sheets:

- "Rangfolge": one row per plot, best rank first (excluded plots last, with their reason),
  with total score, coverage, missing criteria and, when present, the robustness columns
  (``p_top_<N>``, rank percentiles);
- "Kriterien": per plot and criterion the raw value, utility and contribution;
- "Konfiguration und Quellen": configuration hash, version, time of scoring, weights,
  labels and units of the criteria, the configuration itself, and the data sources with
  licences and attribution.

The CSV holds the ranking with the criterion breakdown in one table. ``csv_format="excel-de"``
(default) writes what German Excel opens correctly by double-click: UTF-8 with BOM, ``;`` as
separator and a decimal comma. ``csv_format="plain"`` writes UTF-8 without BOM, ``,`` and a
decimal point (for scripts and other tools). Both end rows in CRLF and quote fields with
separators, quotes or line breaks; every cell of the workbook and the CSV goes through
:mod:`handwerkgeo.spreadsheet`, so no text from a listing can become a formula.
"""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._atomic import atomic_write_bytes
from handwerkgeo.errors import ConfigError
from handwerkgeo.export._labels import (
    OSM_ATTRIBUTION,
    TEXT,
    Criterion,
    attribution_lines,
    check_lang,
    criteria_of,
    run_of,
    validate_scored,
)
from handwerkgeo.scoring import carried_columns, decision_ready
from handwerkgeo.spreadsheet import csv_bytes, safe_frame

__all__ = ["criteria_table", "export_tables", "ranking_table"]

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
        "criterion": "Kriterium",
        "key": "Schlüssel",
        "label": "Bezeichnung",
        "unit": "Einheit",
        "weight": "Gewicht",
        "raw_value": "Wert",
        "utility": "Nutzen (0–1)",
        "contribution": "Beitrag (Punkte)",
        "fallback_flag": "Ersatzwert",
        "item": "Angabe",
        "value": "Wert",
        "source": "Quelle",
        "licence": "Lizenz",
        "attribution": "Namensnennung",
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
        "criterion": "Criterion",
        "key": "Key",
        "label": "Label",
        "unit": "Unit",
        "weight": "Weight",
        "raw_value": "Value",
        "utility": "Utility (0–1)",
        "contribution": "Contribution (points)",
        "fallback_flag": "Fallback value",
        "item": "Item",
        "value": "Value",
        "source": "Source",
        "licence": "Licence",
        "attribution": "Attribution",
    },
}


def _sorted(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    key = pd.to_numeric(gdf["rank"], errors="coerce").astype(float).fillna(np.inf)
    score = pd.to_numeric(gdf["score_total"], errors="coerce").astype(float).fillna(-np.inf)
    order = np.lexsort((-score.to_numpy(), key.to_numpy()))
    return gdf.iloc[order]


def _yes_no(values: pd.Series, lang: str) -> pd.Series:
    t = TEXT[lang]
    return values.map(lambda v: "" if pd.isna(v) else t["yes"] if bool(v) else t["no"])


def _raw_column(values: pd.Series, lang: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return _yes_no(values, lang)
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
        out[c["missing_criteria"]] = [_missing_labels(v, crits) for v in gdf["missing_criteria"]]
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


def criteria_table(scored: gpd.GeoDataFrame, *, lang: str = "de") -> pd.DataFrame:
    """Per plot and criterion: raw value with unit, utility, contribution (long format)."""
    lang = check_lang(lang)
    c = _COLS[lang]
    gdf = _sorted(validate_scored(scored))
    crits = criteria_of(gdf, lang)
    frames = []
    rank = _int_column(gdf["rank"])
    for cr in crits:
        part = pd.DataFrame(
            {
                c["rank"]: rank,
                c["plot_id"]: gdf["plot_id"].astype(str).to_numpy(),
                c["criterion"]: cr.label,
                c["key"]: cr.name,
                c["weight"]: cr.weight,
            }
        )
        raw = gdf.get(f"raw_{cr.name}")
        part[c["raw_value"]] = (
            _raw_column(raw, lang).astype(object).to_numpy() if raw is not None else None
        )
        part[c["unit"]] = cr.unit
        for key, col, decimals in (("utility", "u", 3), ("contribution", "contrib", 2)):
            v = gdf.get(f"{col}_{cr.name}")
            part[c[key]] = (
                pd.to_numeric(v, errors="coerce").round(decimals).to_numpy()
                if v is not None
                else np.nan
            )
        fb = gdf.get(f"fallback_{cr.name}")
        if fb is not None:
            part[c["fallback_flag"]] = _yes_no(fb, lang).to_numpy()
        frames.append(part)
    if not frames:
        return pd.DataFrame(columns=[c["rank"], c["plot_id"], c["criterion"]])
    out = pd.concat(frames, ignore_index=True)
    order = np.lexsort(
        (
            np.repeat(np.arange(len(crits)), len(gdf)),
            np.tile(np.arange(len(gdf)), len(crits)),
        )
    )
    return out.iloc[order].reset_index(drop=True)


def _wide_table(scored: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """Ranking plus raw/utility/contribution columns per criterion (for the CSV)."""
    c = _COLS[lang]
    gdf = _sorted(validate_scored(scored))
    crits = criteria_of(gdf, lang)
    out = ranking_table(gdf, lang=lang)
    for cr in crits:
        unit = f" ({cr.unit})" if cr.unit else ""
        if f"raw_{cr.name}" in gdf.columns:
            col = _raw_column(gdf[f"raw_{cr.name}"], lang)
            out[c["raw"].format(label=cr.label, unit=unit)] = col.to_numpy()
        if f"u_{cr.name}" in gdf.columns:
            u = pd.to_numeric(gdf[f"u_{cr.name}"], errors="coerce").round(3)
            out[c["u"].format(label=cr.label)] = u.to_numpy()
        if f"contrib_{cr.name}" in gdf.columns:
            v = pd.to_numeric(gdf[f"contrib_{cr.name}"], errors="coerce").round(2)
            out[c["contrib"].format(label=cr.label)] = v.to_numpy()
        if f"fallback_{cr.name}" in gdf.columns:
            fb = _yes_no(gdf[f"fallback_{cr.name}"], lang)
            out[c["fallback"].format(label=cr.label)] = fb.to_numpy()
    return out


def _config_tables(scored: gpd.GeoDataFrame, lang: str) -> list[tuple[str, pd.DataFrame]]:
    c = _COLS[lang]
    t = TEXT[lang]
    run = run_of(scored)
    crits = criteria_of(scored, lang)
    meta = pd.DataFrame(
        {
            c["item"]: [t["config_hash"], t["version"], t["scored_at"]],
            c["value"]: [str(run["config_hash"]), str(run["version"]), str(run["scored_at"])],
        }
    )
    weights = pd.DataFrame(
        {
            c["key"]: [cr.name for cr in crits],
            c["label"]: [cr.label for cr in crits],
            c["unit"]: [cr.unit for cr in crits],
            c["weight"]: [cr.weight for cr in crits],
        }
    )
    sources = pd.DataFrame(
        [
            {
                c["source"]: str((s or {}).get("name", "")),
                c["licence"]: str((s or {}).get("licence", "")),
                c["attribution"]: str((s or {}).get("attribution", "")),
            }
            for s in run["sources"]
            if isinstance(s, dict)
        ],
        columns=[c["source"], c["licence"], c["attribution"]],
    )
    lines = attribution_lines(run, lang)
    if lines and lines[-1] == OSM_ATTRIBUTION:  # OSM-derived data without the notice
        extra = pd.DataFrame(
            {
                c["source"]: ["OpenStreetMap"],
                c["licence"]: ["ODbL 1.0"],
                c["attribution"]: [OSM_ATTRIBUTION],
            }
        )
        sources = pd.concat([sources, extra], ignore_index=True)
    config = pd.DataFrame(
        {
            c["item"]: ["config (JSON)"],
            c["value"]: [json.dumps(run["config"], ensure_ascii=False, default=str, indent=1)],
        }
    )
    return [
        ("", meta),
        (c["weight"], weights),
        (t["sources"], sources),
        (t["config_hash"], config),
    ]


def _write_xlsx(scored: gpd.GeoDataFrame, lang: str) -> bytes:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    t = TEXT[lang]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        sheets = [
            (t["sheet_ranking"], safe_frame(ranking_table(scored, lang=lang))),
            (t["sheet_criteria"], safe_frame(criteria_table(scored, lang=lang))),
        ]
        for name, df in sheets:
            df.to_excel(xl, sheet_name=name, index=False, freeze_panes=(1, 0))
        cfg_name = t["sheet_config"][:31]
        row = 0
        for heading, df in _config_tables(scored, lang):
            if heading:
                safe_frame(pd.DataFrame({heading: []})).to_excel(
                    xl, sheet_name=cfg_name, index=False, startrow=row
                )
                row += 1
            safe_frame(df).to_excel(xl, sheet_name=cfg_name, index=False, startrow=row)
            row += len(df) + 2
        for ws in xl.book.worksheets:
            for col_cells in ws.columns:
                width = max(
                    (min(len(str(cell.value)), 60) for cell in col_cells if cell.value is not None),
                    default=8,
                )
                ws.column_dimensions[get_column_letter(col_cells[0].column)].width = max(
                    10, width + 2
                )
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws_cfg = xl.book[cfg_name]
        ws_cfg.freeze_panes = None
        for r in ws_cfg.iter_rows():
            for cell in r:
                if isinstance(cell.value, str) and "\n" in cell.value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    return buf.getvalue()


def _write_csv(scored: gpd.GeoDataFrame, lang: str, csv_format: str) -> bytes:
    return csv_bytes(_wide_table(scored, lang), german=csv_format == "excel-de")


def export_tables(
    scored: gpd.GeoDataFrame,
    xlsx_path: str | os.PathLike[str] | None = None,
    csv_path: str | os.PathLike[str] | None = None,
    *,
    lang: str = "de",
    csv_format: Literal["excel-de", "plain"] = "excel-de",
) -> dict[str, Path]:
    """Write the score tables as an Excel workbook and/or a CSV file (atomically).

    Parameters
    ----------
    scored
        Scored frame (output of ``handwerkgeo.scoring.score_plots``). Not modified.
    xlsx_path
        Workbook with the sheets "Rangfolge", "Kriterien" and "Konfiguration und Quellen"
        (English names with ``lang="en"``); header row frozen, column widths set.
    csv_path
        Ranking with the per-criterion breakdown in one table.
    lang
        ``"de"`` (default) or ``"en"`` headers.
    csv_format
        ``"excel-de"`` (default): UTF-8 with BOM, ``;`` separator, decimal comma — opens
        correctly in German Excel. ``"plain"``: UTF-8, ``,`` separator, decimal point.

    Returns
    -------
    dict
        ``{"xlsx": path, "csv": path}`` for the files written.

    Raises
    ------
    ConfigError
        If neither path is given, or ``csv_format``/``lang`` is unknown.

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
    gdf = validate_scored(scored)
    out: dict[str, Path] = {}
    if xlsx_path is not None:
        out["xlsx"] = atomic_write_bytes(xlsx_path, _write_xlsx(gdf, lang))
    if csv_path is not None:
        out["csv"] = atomic_write_bytes(csv_path, _write_csv(gdf, lang, csv_format))
    logger.info("tables written: %s (%d plots)", ", ".join(str(p) for p in out.values()), len(gdf))
    return out
