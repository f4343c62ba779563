"""The configuration of a scored run as readable tables (the "Konfiguration und Quellen" sheet).

One row per criterion — key, label, weight, unit, utility function (breakpoints ``x → u``
or the category table), parameters and data source — then the run (hash, version, time),
the hard filters and the data sources with licences. Nothing is a block of JSON or YAML:
the full YAML stays in the GeoPackage (``run_metadata``) and ``handwerkgeo config show``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from handwerkgeo.export._labels import OSM_ATTRIBUTION, TEXT, Criterion, attribution_lines

__all__ = ["config_frames"]

_HEAD = {
    "de": {
        "key": "Schlüssel",
        "label": "Kriterium",
        "weight": "Gewicht",
        "unit": "Einheit",
        "utility": "Nutzenfunktion (Wert → Nutzen 0–1)",
        "params": "Parameter",
        "source": "Datenquelle",
        "item": "Angabe",
        "value": "Wert",
        "filter": "Filter",
        "licence": "Lizenz",
        "attribution": "Namensnennung",
        "run": "Bewertungslauf",
        "filters": "Ausschlussfilter",
        "by_zone": "nach Gebietsart",
        "name": "Konfiguration (Name)",
        "rows": "Flächen in dieser Arbeitsmappe",
        "of": "von",
    },
    "en": {
        "key": "Key",
        "label": "Criterion",
        "weight": "Weight",
        "unit": "Unit",
        "utility": "Utility function (value → utility 0–1)",
        "params": "Parameters",
        "source": "Data source",
        "item": "Item",
        "value": "Value",
        "filter": "Filter",
        "licence": "Licence",
        "attribution": "Attribution",
        "run": "Scoring run",
        "filters": "Exclusion filters",
        "by_zone": "by zone",
        "name": "Configuration (name)",
        "rows": "Plots in this workbook",
        "of": "of",
    },
}

#: Columns of the criteria table whose text wraps.
WRAP = {lang: (h["utility"], h["params"], h["source"], h["value"]) for lang, h in _HEAD.items()}


def _g(x: Any, lang: str) -> str:
    """A number as short as exact: ``2.500``, ``0,3`` (German) or ``2,500``, ``0.3``."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    x = float(x)
    text = format(int(x), ",") if x.is_integer() and abs(x) < 1e15 else format(x, ",g")
    if lang == "de":
        text = text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    return text


def _value(x: Any, lang: str) -> str:
    if isinstance(x, bool):
        return TEXT[lang]["yes"] if x else TEXT[lang]["no"]
    if isinstance(x, int | float):
        return _g(x, lang)
    if isinstance(x, list | tuple):
        return ", ".join(_value(v, lang) for v in x)
    if isinstance(x, Mapping):
        return ", ".join(f"{k}: {_value(v, lang)}" for k, v in x.items())
    return "" if x is None else str(x)


def _breakpoints(points: Any, lang: str) -> str:
    return "; ".join(f"{_g(x, lang)} → {_g(u, lang)}" for x, u in points or [])


def _utility(spec: Mapping[str, Any], lang: str) -> str:
    parts = []
    if spec.get("breakpoints"):
        parts.append(_breakpoints(spec["breakpoints"], lang))
    if spec.get("table"):
        parts.append("; ".join(f"{k}: {_g(v, lang)}" for k, v in spec["table"].items()))
    for zone, points in (spec.get("breakpoints_by_zone") or {}).items():
        parts.append(f"{_HEAD[lang]['by_zone']} {zone}: {_breakpoints(points, lang)}")
    return " | ".join(parts)


def _params(spec: Mapping[str, Any], lang: str) -> str:
    items = dict(spec.get("params") or {})
    for key in ("kind", "layer", "filter"):
        if spec.get(key):
            items[key] = spec[key]
    return "; ".join(f"{k} = {_value(v, lang)}" for k, v in items.items())


def _criteria(run: Mapping[str, Any], crits: list[Criterion], lang: str) -> pd.DataFrame:
    h = _HEAD[lang]
    specs = (run.get("config") or {}).get("criteria") or {}
    rows = []
    for cr in crits:
        spec = dict(specs.get(cr.name) or {})
        rows.append(
            {
                h["key"]: cr.name,
                h["label"]: cr.label,
                h["weight"]: cr.weight,
                h["unit"]: cr.unit,
                h["utility"]: _utility(spec, lang),
                h["params"]: _params(spec, lang),
                h["source"]: str(spec.get("source") or ""),
            }
        )
    columns = [h[k] for k in ("key", "label", "weight", "unit", "utility", "params", "source")]
    return pd.DataFrame(rows, columns=columns)


def _sources(run: Mapping[str, Any], lang: str) -> pd.DataFrame:
    h = _HEAD[lang]
    rows = [
        {
            h["source"]: str(s.get("name", "")),
            h["licence"]: str(s.get("licence", "")),
            h["attribution"]: str(s.get("attribution", "")),
        }
        for s in run.get("sources") or []
        if isinstance(s, dict)
    ]
    lines = attribution_lines(dict(run), lang)
    if lines and lines[-1] == OSM_ATTRIBUTION:  # OSM-derived data without the notice
        rows.append(
            {h["source"]: "OpenStreetMap", h["licence"]: "ODbL 1.0", h["attribution"]: lines[-1]}
        )
    return pd.DataFrame(rows, columns=[h["source"], h["licence"], h["attribution"]])


def config_frames(
    run: Mapping[str, Any], crits: list[Criterion], lang: str, *, rows: tuple[int, int]
) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
    """The criteria table and the titled tables below it (run, filters, sources).

    ``rows`` is (plots in the workbook, plots scored).
    """
    h = _HEAD[lang]
    t = TEXT[lang]
    config = run.get("config") or {}
    shown, total = rows
    meta = pd.DataFrame(
        {
            h["item"]: [t["config_hash"], h["name"], t["version"], t["scored_at"], h["rows"]],
            h["value"]: [
                str(run.get("config_hash", "")),
                str(config.get("name", "")),
                str(run.get("version", "")),
                str(run.get("scored_at", "")),
                f"{_g(shown, lang)} {h['of']} {_g(total, lang)}",
            ],
        }
    )
    filters = pd.DataFrame(
        {
            h["filter"]: list((config.get("filters") or {}).keys()),
            h["value"]: [_value(v, lang) for v in (config.get("filters") or {}).values()],
        }
    )
    blocks = [(h["run"], meta), (h["filters"], filters), (t["sources"], _sources(run, lang))]
    return _criteria(run, crits, lang), blocks
