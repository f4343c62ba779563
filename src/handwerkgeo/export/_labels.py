"""Labels, number formatting and the scored-frame contract shared by all exporters.

Every exporter (map, figure, tables, profiles) shows the same words for the same things.
They live here, in German (default) and English, together with the helpers that read a
scored frame (see "Scored frame" in ``docs/design.md``): which criteria it has, its run
metadata, and the score card of one plot.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._colours import CLASS_BREAKS, CLASS_COLOURS, COLOUR_EXCLUDED, COLOUR_NO_DATA
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import ConfigError, MissingColumnError, ValidationError

__all__ = [
    "CLASS_BREAKS",
    "CLASS_COLOURS",
    "COLOUR_EXCLUDED",
    "COLOUR_NO_DATA",
    "CRITERIA",
    "LANGS",
    "OSM_ATTRIBUTION",
    "OWNER_WORDS",
    "TEXT",
    "Criterion",
    "attribution_lines",
    "attributions",
    "check_lang",
    "class_index",
    "credit_parts",
    "criteria_of",
    "format_number",
    "format_raw",
    "format_timestamp",
    "is_missing",
    "merge_sources",
    "run_of",
    "text",
    "validate_scored",
]

logger = logging.getLogger(__name__)

LANGS = ("de", "en")


OSM_ATTRIBUTION = "© OpenStreetMap contributors"

#: Default labels and units of the criteria; a run's own ``criteria`` metadata wins.
CRITERIA: dict[str, dict[str, str]] = {
    "plot_size": {"de": "Flächengröße", "en": "Plot size", "unit": "m²"},
    "plot_shape": {"de": "Flächenzuschnitt", "en": "Plot shape", "unit": ""},
    "zoning": {"de": "Planungsrecht (Eignung)", "en": "Zoning suitability", "unit": ""},
    "brownfield": {
        "de": "Brachfläche / gewerblich vorgenutzt",
        "en": "Brownfield / already commercial",
        "unit": "",
    },
    "noise_buffer": {"de": "Abstand zu Wohnnutzung", "en": "Noise buffer to housing", "unit": "m"},
    "motorway": {"de": "Autobahnanschluss", "en": "Motorway access", "unit": "m"},
    "main_road": {"de": "Hauptverkehrsstraße", "en": "Main-road access", "unit": "m"},
    "transit": {"de": "ÖPNV-Anbindung", "en": "Public transport", "unit": "m"},
    "cycling": {"de": "Radverkehrsnetz", "en": "Cycling network", "unit": "m"},
    "customer_potential": {"de": "Kundenpotenzial", "en": "Customer potential", "unit": ""},
    "landuse_mix": {"de": "Nutzungsmischung", "en": "Land-use mix", "unit": ""},
    "jobs_housing": {
        "de": "Verhältnis Arbeitsplätze/Wohnen",
        "en": "Jobs–housing balance",
        "unit": "",
    },
    "social_mix": {"de": "Soziale Mischung", "en": "Social mix", "unit": ""},
    "ownership": {"de": "Eigentum", "en": "Ownership", "unit": ""},
    "land_value": {"de": "Bodenrichtwert", "en": "Land value", "unit": "€/m²"},
}

#: User-facing words of the exports.
TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Standortbewertung Handwerkerhöfe Düsseldorf",
        "score_total": "Gesamtpunktzahl",
        "score_legend": "Gesamtpunktzahl (0–100)",
        "utility_legend": "Kriterienebenen: Nutzen (0–1)",
        "rank": "Rang",
        "of": "von",
        "excluded": "Ausgeschlossen",
        "excluded_legend": "ausgeschlossen",
        "no_data_legend": "keine Daten",
        "reason": "Grund",
        "coverage": "Datenabdeckung",
        "missing": "Fehlende Kriterien",
        "criterion": "Kriterium",
        "raw": "Wert",
        "utility": "Nutzen (0–1)",
        "contribution": "Beitrag (Punkte)",
        "weight": "Gewicht",
        "no_data": "keine Daten",
        "fallback": "Ersatzwert",
        "p_top": "Wahrscheinlichkeit Top {n}",
        "rank_range": "Rangspanne (5.–95. Perzentil)",
        "top_n": "Top {n}",
        "stadtteile": "Stadtteile",
        "stops": "Haltestellen",
        "cycling": "Radverkehrsnetz",
        "sources": "Datenquellen",
        "config_hash": "Konfiguration",
        "created": "Erstellt",
        "scored_at": "Bewertet",
        "version": "Version",
        "yes": "ja",
        "no": "nein",
        "plot": "Fläche",
        "plot_id": "Flächen-ID",
        "name": "Name",
        "stadtteil": "Stadtteil",
        "area": "Fläche (m²)",
        "not_drawn": "{n} Flächen ohne Geometrie nicht dargestellt",
        "score_layer": "Gesamtpunktzahl",
        "utility_layer": "Nutzen: {label}",
        "north": "N",
        "contributions_title": "Beiträge der Kriterien (Punkte)",
        "location": "Lage",
        "profile_title": "Standortsteckbrief",
        "index_title": "Standortsteckbriefe",
        "basemap": "Hintergrundkarte",
        "base_map": "Grundkarte (Straßen, Bezirke)",
        "locator": "Lage im Stadtgebiet",
        "dash_note": "– kein Wert (für dieses Kriterium liegen keine Daten vor)",
        "fallback_note": (
            "Ersatzwert: Entfernung als Luftlinie × Umwegfaktor geschätzt, weil die Fläche "
            "außerhalb des Straßennetzes liegt oder es dort keinen Weg gibt"
        ),
        "old_browser": "Dieser Browser ist zu alt für die Karte.",
        "page": "Seite",
        "sheet_ranking": "Rangfolge",
        "sheet_criteria": "Kriterien",
        "sheet_config": "Konfiguration und Quellen",
        "key": "Schlüssel",
        "value": "Wert",
        "licence": "Lizenz",
        "attribution": "Namensnennung",
        "source": "Quelle",
        "unit": "Einheit",
        "label": "Bezeichnung",
    },
    "en": {
        "title": "Site scoring for craft-business yards, Düsseldorf",
        "score_total": "Total score",
        "score_legend": "Total score (0–100)",
        "utility_legend": "Criterion layers: utility (0–1)",
        "rank": "Rank",
        "of": "of",
        "excluded": "Excluded",
        "excluded_legend": "excluded",
        "no_data_legend": "no data",
        "reason": "Reason",
        "coverage": "Data coverage",
        "missing": "Missing criteria",
        "criterion": "Criterion",
        "raw": "Value",
        "utility": "Utility (0–1)",
        "contribution": "Contribution (points)",
        "weight": "Weight",
        "no_data": "no data",
        "fallback": "fallback value",
        "p_top": "Probability of top {n}",
        "rank_range": "Rank range (5th–95th percentile)",
        "top_n": "Top {n}",
        "stadtteile": "Quarters (Stadtteile)",
        "stops": "Public-transport stops",
        "cycling": "Cycling network",
        "sources": "Data sources",
        "config_hash": "Configuration",
        "created": "Created",
        "scored_at": "Scored",
        "version": "Version",
        "yes": "yes",
        "no": "no",
        "plot": "Plot",
        "plot_id": "Plot ID",
        "name": "Name",
        "stadtteil": "Quarter",
        "area": "Area (m²)",
        "not_drawn": "{n} plots without geometry not drawn",
        "score_layer": "Total score",
        "utility_layer": "Utility: {label}",
        "north": "N",
        "contributions_title": "Criterion contributions (points)",
        "location": "Location",
        "profile_title": "Site profile",
        "index_title": "Site profiles",
        "basemap": "Basemap",
        "base_map": "Base map (streets, districts)",
        "locator": "Location in the city",
        "dash_note": "– no value (there is no data for this criterion)",
        "fallback_note": (
            "fallback value: distance estimated as straight line × detour factor, because "
            "the plot lies outside the street network or no path reaches it there"
        ),
        "old_browser": "This browser is too old for the map.",
        "page": "Page",
        "sheet_ranking": "Ranking",
        "sheet_criteria": "Criteria",
        "sheet_config": "Configuration and sources",
        "key": "Key",
        "value": "Value",
        "licence": "Licence",
        "attribution": "Attribution",
        "source": "Source",
        "unit": "Unit",
        "label": "Label",
    },
}

_REQUIRED = ("score_total", "rank", "excluded")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise :class:`ConfigError`."""
    if lang not in LANGS:
        msg = f"lang={lang!r} is not supported; use one of {', '.join(LANGS)}."
        raise ConfigError(msg)
    return lang


def text(key: str, lang: str, **kwargs: object) -> str:
    """The user-facing text ``key`` in ``lang``, formatted with ``kwargs``.

    Examples
    --------
    >>> text("p_top", "de", n=10)
    'Wahrscheinlichkeit Top 10'
    """
    s = TEXT[check_lang(lang)][key]
    return s.format(**kwargs) if kwargs else s


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return False


def format_number(value: object, lang: str = "de", decimals: int = 1) -> str:
    """Format a number with German (``1.234,5``) or English (``1,234.5``) separators.

    Missing values (``None``, NaN, ``pd.NA``) give ``"–"``.

    Examples
    --------
    >>> format_number(12345.678, "de", 1)
    '12.345,7'
    >>> format_number(0.5, "en", 2)
    '0.50'
    >>> format_number(float("nan"))
    '–'
    """
    if is_missing(value):
        return "–"
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "–"
    s = f"{x:,.{decimals}f}"
    if check_lang(lang) == "de":
        s = s.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    return s


#: Owner categories of the ``ownership`` criterion (see ``configs/plot_vocabulary.yaml``)
#: in the planner's words.
OWNER_WORDS = {
    "de": {
        "city": "städtisch (Landeshauptstadt)",
        "idr": "IDR (städtische Tochter)",
        "public": "öffentlich (Land, Bund, Bahn …)",
        "private": "privat",
    },
    "en": {
        "city": "city-owned",
        "idr": "IDR (city subsidiary)",
        "public": "other public owner",
        "private": "private",
    },
}


def format_raw(value: object, unit: str, lang: str = "de", *, criterion: str = "") -> str:
    """Format a raw criterion value with its unit; decimals follow the magnitude.

    Booleans show as ja/nein (yes/no), text is shown as it is, missing values as
    "keine Daten" (no data).

    Examples
    --------
    >>> format_raw(4520.3, "m²")
    '4.520 m²'
    >>> format_raw(True, "", "en")
    'yes'
    >>> format_raw("city", "", criterion="ownership")
    'städtisch (Landeshauptstadt)'
    """
    if is_missing(value):
        return text("no_data", lang)
    if isinstance(value, bool | np.bool_):
        return text("yes" if value else "no", lang)
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
        decimals = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
        s = format_number(x, lang, decimals)
    else:
        s = str(value)
        if criterion == "ownership":
            s = OWNER_WORDS.get(lang, OWNER_WORDS["de"]).get(s.strip().lower(), s)
    return f"{s} {unit}".strip()


@dataclass(frozen=True)
class Criterion:
    """One criterion as shown in the exports."""

    name: str
    label: str
    unit: str
    weight: float | None


def run_of(scored: pd.DataFrame) -> dict[str, Any]:
    """The run metadata of a scored frame, with every contract key present.

    Missing keys get empty defaults (``""``, ``{}``, ``[]``) and a DEBUG log line, so an
    export of a frame read without metadata still works.
    """
    run = dict(scored.attrs.get("run") or {})
    defaults: dict[str, Any] = {
        "config_hash": "",
        "config": {},
        "version": "",
        "scored_at": "",
        "criteria": {},
        "sources": [],
    }
    for key, value in defaults.items():
        if run.get(key) is None:
            logger.debug("scored.attrs['run'] has no %r; using an empty value", key)
            run[key] = value
    return run


def criteria_of(scored: pd.DataFrame, lang: str = "de") -> list[Criterion]:
    """The criteria of a scored frame in config order, with labels in ``lang``.

    The order is that of ``attrs["run"]["criteria"]``; criteria that only appear as
    ``u_<k>``/``raw_<k>``/``contrib_<k>`` columns follow in column order.
    """
    check_lang(lang)
    meta: Mapping[str, Any] = run_of(scored)["criteria"]
    names: list[str] = [
        k for k in meta if any(f"{p}_{k}" in scored.columns for p in ("u", "raw", "contrib"))
    ]
    for col in scored.columns:
        m = re.match(r"^(?:u|raw|contrib)_(.+)$", str(col))
        if m and m.group(1) not in names:
            names.append(m.group(1))
    out = []
    for k in names:
        info = dict(meta.get(k) or {})
        default = CRITERIA.get(k, {})
        label = info.get(f"label_{lang}") or default.get(lang) or k
        unit = info.get("unit")
        if unit is None:
            unit = default.get("unit", "")
        weight = info.get("weight")
        out.append(
            Criterion(
                name=k,
                label=str(label),
                unit=str(unit),
                weight=None if weight is None else float(weight),
            )
        )
    return out


def validate_scored(scored: object, *, name: str = "scored") -> gpd.GeoDataFrame:
    """Check that ``scored`` follows the scored-frame contract; return a copy.

    Raises
    ------
    ValidationError
        If ``scored`` is not a GeoDataFrame (a ``ValueError``).
    MissingColumnError
        Listing every missing required column.
    NoCrsError, UnexpectedCrsError
        If the frame is not in EPSG:25832.
    """
    if not isinstance(scored, gpd.GeoDataFrame):
        msg = (
            f"{name} must be a GeoDataFrame as returned by handwerkgeo.scoring.score_plots "
            f"or read_scored, got {type(scored).__name__}."
        )
        raise ValidationError(name, [msg])
    missing = [c for c in _REQUIRED if c not in scored.columns]
    if missing:
        msg = (
            f"{name} lacks the column(s) {', '.join(missing)} of a scored frame. "
            "Export the output of handwerkgeo.scoring.score_plots (or read_scored), "
            "not the input plots."
        )
        raise MissingColumnError(msg)
    check_crs(scored, name=name)
    out = scored.copy()
    out.attrs = dict(scored.attrs)
    if "plot_id" not in out.columns:
        out["plot_id"] = [str(i) for i in out.index]
    return out


def class_index(values: np.ndarray | pd.Series, scale: float = 100.0) -> np.ndarray:
    """Class (0–4) of each value on the fixed breaks 0-20-40-60-80-100; -1 for missing.

    ``scale`` is the top of the range: 100 for scores, 1 for utilities.

    Examples
    --------
    >>> class_index(np.array([0.0, 19.9, 20.0, 99.0, 100.0, np.nan])).tolist()
    [0, 0, 1, 4, 4, -1]
    """
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    idx = np.clip(np.floor(v / scale * 5.0), 0, 4)
    return np.where(np.isnan(v), -1, idx).astype(int)


def _sources(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s if isinstance(s, Mapping) else {"name": str(s)} for s in run.get("sources") or []]


def _uses_osm(run: Mapping[str, Any]) -> bool:
    """Whether a source is OpenStreetMap-derived (named OSM/OpenStreetMap or ODbL-licensed)."""
    for src in _sources(run):
        blob = " ".join(str(src.get(k) or "") for k in ("name", "licence", "attribution"))
        if re.search(r"openstreetmap|\bosm\b|odbl", blob, re.IGNORECASE):
            return True
    return False


def credit_parts(run: Mapping[str, Any], lang: str = "de", *, scored_at: bool = False) -> list[str]:
    """The credit line of printed outputs: creation time, config hash, version (and the
    time of scoring with ``scored_at=True``), each as ``label: value``."""
    t = TEXT[lang]
    parts = [f"{t['created']}: {format_timestamp(None, lang)}"]
    if run["config_hash"]:
        parts.append(f"{t['config_hash']}: {str(run['config_hash'])[:12]}")
    if run["version"]:
        parts.append(f"handwerkgeo {run['version']}")
    if scored_at and run["scored_at"]:
        parts.append(f"{t['scored_at']}: {format_timestamp(run['scored_at'], lang)}")
    return parts


#: One date format per output language: "06.12.2026, 17:05" / "2026-12-06 17:05".
_DATE_FORMAT = {"de": "%d.%m.%Y, %H:%M", "en": "%Y-%m-%d %H:%M"}


def format_timestamp(value: object, lang: str = "de") -> str:
    """A point in time in the one date format of ``lang``; ``None`` means now.

    ISO strings (as in ``attrs["run"]["scored_at"]``) are parsed and shown in local time;
    anything that cannot be read as a time is shown as it is.
    """
    if value is None:
        ts = _dt.datetime.now().astimezone()
    else:
        try:
            parsed = pd.Timestamp(str(value))
        except (ValueError, TypeError):
            return str(value)
        if pd.isna(parsed):
            return str(value)
        ts = parsed.to_pydatetime()
        if ts.tzinfo is not None:
            ts = ts.astimezone()
    return ts.strftime(_DATE_FORMAT.get(lang, _DATE_FORMAT["de"]))


def attribution_lines(run: Mapping[str, Any], lang: str = "de") -> list[str]:
    """One line per data source: ``name — licence — attribution``.

    "© OpenStreetMap contributors" is added whenever a source is OpenStreetMap-derived
    (its name, licence or attribution mentions OpenStreetMap, OSM or ODbL) and the
    attribution does not already say so.
    """
    check_lang(lang)
    lines = []
    for src in _sources(run):
        parts = [str(src.get(k) or "").strip() for k in ("name", "licence", "attribution")]
        lines.append(" — ".join(p for p in parts if p))
    if _uses_osm(run) and not any(OSM_ATTRIBUTION.lower() in ln.lower() for ln in lines):
        lines.append(OSM_ATTRIBUTION)
    return lines


def attributions(run: Mapping[str, Any]) -> list[str]:
    """Short attributions for a map's attribution line (each source's attribution, or its
    name when it gives none), with "© OpenStreetMap contributors" for OSM-derived data."""
    out: list[str] = []
    for src in _sources(run):
        a = str(src.get("attribution") or src.get("name") or "").strip()
        if a and a not in out:
            out.append(a)
    if _uses_osm(run) and not any(OSM_ATTRIBUTION.lower() in a.lower() for a in out):
        out.append(OSM_ATTRIBUTION)
    return out


def merge_sources(
    run: Mapping[str, Any], extra: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A copy of ``run`` whose ``sources`` also list ``extra`` (e.g. context layers drawn).

    Sources are deduplicated by name; ``extra`` entries need ``name``, ``licence`` and
    ``attribution``.
    """
    out = dict(run)
    seen = set()
    merged = []
    for src in [*_sources(run), *extra]:
        key = str(src.get("name") or src.get("attribution") or "")
        if key in seen:
            continue
        seen.add(key)
        merged.append(dict(src))
    out["sources"] = merged
    return out
