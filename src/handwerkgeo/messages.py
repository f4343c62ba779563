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
    "register_nothing_new": (
        "nichts Neues in {source}: {n_unchanged} Fläche(n) bereits unverändert registriert, "
        "{n_rejected} abgelehnt; nichts gespeichert",
        "nothing new in {source}: {n_unchanged} plot(s) already registered unchanged, "
        "{n_rejected} rejected; nothing recorded",
    ),
    "register_run_done": (
        "Lauf {run_id}: {n_plots} Flächen gereiht, {n_scored} bewertet",
        "run {run_id}: {n_plots} plots ranked, {n_scored} scored",
    ),
    # change report: files, sheets and column headers (English: the column names)
    "register_file_changes": ("aenderungen", "changes"),
    "register_file_rejects": ("abgelehnt", "rejects"),
    "register_sheet_changes": ("Änderungen", "Changes"),
    "register_sheet_rejects": ("Abgelehnt", "Rejects"),
    "register_sheet_run": ("Lauf", "Run"),
    "register_meta_field": ("Feld", "field"),
    "register_meta_value": ("Wert", "value"),
    "register_col_plot_id": ("Flächen-ID", "plot_id"),
    "register_col_name": ("Name", "name"),
    "register_col_change": ("Änderung", "change"),
    "register_col_score_prev": ("Punkte vorher", "score_prev"),
    "register_col_score_now": ("Punkte jetzt", "score_now"),
    "register_col_score_delta": ("Punkte Differenz", "score_delta"),
    "register_col_rank_prev": ("Rang vorher", "rank_prev"),
    "register_col_rank_now": ("Rang jetzt", "rank_now"),
    "register_col_rank_move": ("Rang verbessert um", "rank_move"),
    "register_col_excluded_prev": ("ausgeschlossen vorher", "excluded_prev"),
    "register_col_excluded_now": ("ausgeschlossen jetzt", "excluded_now"),
    "register_col_exclusion_reason": ("Ausschlussgrund", "exclusion_reason"),
    "register_col_run_id": ("Lauf", "run_id"),
    "register_col_source_file": ("Quelldatei", "source_file"),
    "register_col_row": ("Zeile", "row"),
    "register_col_reason": ("Grund", "reason"),
    # change report: kinds of change (English: the codes), joined by register_change_sep
    "register_change_new": ("neu", "new"),
    "register_change_changed": ("Geometrie oder Angaben geändert (neue Version)", "changed"),
    "register_change_newly_excluded": ("neu ausgeschlossen", "newly_excluded"),
    "register_change_readmitted": ("wieder zugelassen", "readmitted"),
    "register_change_score": ("Punkte geändert", "score"),
    "register_change_rank": ("Rang geändert", "rank"),
    "register_change_sep": (", ", ","),
    "register_yes": ("ja", "yes"),
    "register_no": ("nein", "no"),
    # --- readers -----------------------------------------------------------------------
    # --- data prepare ------------------------------------------------------------------
    "data_prepared": (
        "Vorbereiteter Kontext geschrieben: {path} ({size} MB, {seconds} s)",
        "prepared context written: {path} ({size} MB, {seconds} s)",
    ),
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
