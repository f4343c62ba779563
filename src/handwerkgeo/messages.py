"""Every sentence a planner reads, in German and English, keyed by a reason code.

The engine (scoring, search, register, readers) returns *codes* and values; the text is
made here, at the edge, by :func:`message`. One table, :data:`MESSAGES`, holds the
templates (``str.format`` fields); a city that wants other wording changes it here only.

Examples
--------
>>> message("no_criterion_data", "de")
'keine Kriterien mit Daten'
>>> message("no_criterion_data", "en")
'no criterion has data'
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["LANGS", "MESSAGES", "Lang", "message"]

Lang = Literal["de", "en"]

#: Languages every message exists in.
LANGS: tuple[str, ...] = ("de", "en")

#: reason code -> (German template, English template).
MESSAGES: dict[str, tuple[str, str]] = {
    # --- scoring: exclusions and coverage --------------------------------------------
    # numbers arrive formatted for the language (scoring._aggregate.number)
    "no_criterion_data": ("keine Kriterien mit Daten", "no criterion has data"),
    "excluded_area": (
        "Fläche {area} m² kleiner als Mindestfläche {minimum} m²",
        "area {area} m² below minimum {minimum} m²",
    ),
    "excluded_zone": (
        "Gebietsart {zone} ({zone_name}) ausgeschlossen",
        "zone {zone} ({zone_name}) excluded",
    ),
    "excluded_protected_area": ("{share} % im Schutzgebiet", "{share} % in protected area"),
    "excluded_flood_area": ("{share} % im Überschwemmungsgebiet", "{share} % in flood area"),
    "excluded_low_coverage": (
        "nur {coverage} % der Gewichte mit Daten (Minimum {minimum} %)",
        "only {coverage} % of the weight has data (minimum {minimum} %)",
    ),
    # --- scoring: why a criterion has no data (CriterionResult.missing) ---------------
    "missing_layers": (
        "keine Daten: Ebene(n) {layers} nicht im Bewertungskontext",
        "no data: layer(s) {layers} not in the scoring context",
    ),
    "missing_plot_column": (
        "keine Daten: die Flächen haben keine Spalte '{column}'",
        "no data: plots have no '{column}' column",
    ),
    "no_polygon_plots": (
        "keine Daten: keine Flächen als Polygone (Punkte haben keinen Zuschnitt)",
        "no data: no polygon plots (points have no shape)",
    ),
    "no_zoning_data": (
        "keine Daten: weder Attribut zur Gebietsart noch Planungsebene",
        "no data: no zoning attribute and no zoning layer",
    ),
    "no_brownfield_data": (
        "keine Daten: keine Spalte 'brownfield' und keine Ebene der tatsächlichen Nutzung",
        "no data: no 'brownfield' column and no land-use layer",
    ),
    "no_matching_features": (
        "keine Daten: Ebene {layer} hat keine Objekte mit {filter}",
        "no data: layer {layer} has no features matching {filter}",
    ),
    # --- search ------------------------------------------------------------------------
    "search_area_city": ("Düsseldorf", "Düsseldorf"),
    "search_area_bezirk": ("Stadtbezirk {number}", "Stadtbezirk {number}"),
    "search_area_stadtteil": ("Stadtteil {name} ({number})", "Stadtteil {name} ({number})"),
    "search_area_custom": ("Suchgebiet", "search area"),
    # --- register ----------------------------------------------------------------------
    # --- readers -----------------------------------------------------------------------
}


def message(code: str, lang: str = "de", **values: Any) -> str:
    """The sentence for ``code`` in ``lang`` (``"de"`` or ``"en"``), filled with ``values``.

    Raises
    ------
    KeyError
        For an unknown code (a programming error: every code the engine emits is in
        :data:`MESSAGES`, a test checks it).
    """
    de, en = MESSAGES[code]
    template = en if lang == "en" else de
    return template.format(**values)
