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

import re
import string
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["LANGS", "MESSAGES", "Lang", "Note", "Term", "localized", "message", "message_values"]

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
    # --- scoring: decision readiness (filters.decision_coverage) ----------------------
    "not_decision_ready": (
        "nicht entscheidungsreif: nur {coverage} % der Gewichte mit Daten (Schwelle {minimum} %)",
        "not ready for a decision: only {coverage} % of the weight has data "
        "(threshold {minimum} %)",
    ),
    "decision_summary": (
        "{n} von {total} Flächen nicht entscheidungsreif (Abdeckung < {minimum} %)",
        "{n} of {total} plots not ready for a decision (coverage < {minimum} %)",
    ),
    "decision_ready_label": ("Entscheidungsreif", "Ready for a decision"),
    "decision_warning": (
        "Nicht entscheidungsreif: Datenabdeckung {coverage} % (Schwelle {minimum} %). "
        "Es fehlen: {missing}",
        "Not ready for a decision: data coverage {coverage} % (threshold {minimum} %). "
        "Missing: {missing}",
    ),
    "decision_note_label": ("Hinweis Entscheidungsreife", "Decision note"),
    "attributes_label": ("Angaben aus der Liste", "Listing attributes"),
    # council-paper text block (export.council)
    "council_heading": ("Datenlage und Entscheidungsreife", "Data coverage and decision readiness"),
    "council_intro": (
        "Eine Fläche gilt als entscheidungsreif, wenn Kriterien mit mindestens {minimum} % des "
        "Gesamtgewichts Daten haben. Flächen darunter sind bewertet und gereiht, ihr Rang "
        "beruht aber nur auf den Kriterien mit Daten und kann sich deutlich ändern, sobald die "
        "fehlenden Daten vorliegen.",
        "A plot is ready for a decision when criteria holding at least {minimum} % of the "
        "total weight have data. Plots below that are scored and ranked, but their rank rests "
        "only on the criteria with data and can change markedly once the missing data arrive.",
    ),
    "council_no_gaps": (
        "Für alle {total} Flächen liegen zu allen Kriterien Daten vor.",
        "All {total} plots have data for every criterion.",
    ),
    "council_gaps_heading": (
        "Flächen mit fehlenden Kriterien ({n} von {total}):",
        "Plots with missing criteria ({n} of {total}):",
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
    # --- search: candidate sites and search areas (map layer, card, tables) -----------
    "site_layer": ("Standortvorschläge ({n})", "Candidate sites ({n})"),
    "search_area_layer": (
        "Suchgebiete über {max} ha ({n})",
        "Search areas above {max} ha ({n})",
    ),
    "site_card_title": ("Standortvorschlag {id}", "Candidate site {id}"),
    "site_card_stadtteil": ("Stadtteil", "Stadtteil"),
    "site_card_area": ("Fläche", "Area"),
    "site_card_score_mean": ("Punktzahl (Ø der Zellen)", "Score (mean of the cells)"),
    "site_card_score_max": ("Beste Zelle", "Best cell"),
    "site_card_cells": ("Zellen", "Cells"),
    "site_card_search_area": ("Teil von Suchgebiet", "Part of search area"),
    "site_card_note": (
        "Zusammengefasst aus benachbarten Zellen mit Punktzahl ≥ {threshold} "
        "(Ø flächengewichtet); höchstens {max} ha je Standort.",
        "Merged from adjacent cells scoring ≥ {threshold} (area-weighted mean); "
        "at most {max} ha per site.",
    ),
    "search_area_card_title": ("Suchgebiet {id}", "Search area {id}"),
    "search_area_card_note": (
        "Zusammenhängende Fläche guter Zellen, größer als {max} ha: geteilt in "
        "{n} Standortvorschläge ({sites}).",
        "Contiguous region of good cells larger than {max} ha: split into {n} candidate "
        "sites ({sites}).",
    ),
    "sites_sheet": ("Standorte", "Sites"),
    "search_areas_sheet": ("Suchgebiete", "Search areas"),
    "search_sheet": ("Suche", "Search"),
    "col_site_id": ("Standort", "Site"),
    "col_search_area_id": ("Suchgebiet", "Search area"),
    "col_stadtteil": ("Stadtteil", "Stadtteil"),
    "col_area_ha": ("Fläche (ha)", "Area (ha)"),
    "col_score_mean": ("Punktzahl (Ø)", "Score (mean)"),
    "col_score_max": ("Beste Zelle", "Best cell"),
    "col_n_cells": ("Zellen", "Cells"),
    "col_n_sites": ("Standorte", "Sites"),
    "col_cell_ids": ("Zellen (IDs)", "Cell ids"),
    "col_x": ("Rechtswert (EPSG:25832)", "Easting (EPSG:25832)"),
    "col_y": ("Hochwert (EPSG:25832)", "Northing (EPSG:25832)"),
    "col_setting": ("Einstellung", "Setting"),
    "col_value": ("Wert", "Value"),
    "search_setting_area": ("Suchraum", "Searched area"),
    "search_setting_cells": ("Zellen bewertet", "Cells scored"),
    "search_setting_cell_m": ("Zellgröße (m)", "Cell size (m)"),
    "search_setting_threshold": ("Mindestpunktzahl einer Zelle", "Minimum cell score"),
    "search_setting_max_site": ("Größte Standortfläche (ha)", "Largest site (ha)"),
    "search_setting_no_limit": ("ohne Grenze", "no limit"),
    "search_summary": (
        "{area}: {n_cells} Zellen à {cell_m} m bewertet, {n_sites} Standortvorschläge "
        "(Zellpunktzahl ≥ {threshold}, höchstens {max} ha), {n_areas} Suchgebiete → {out}",
        "{area}: {n_cells} cells of {cell_m} m scored, {n_sites} candidate sites "
        "(cell score ≥ {threshold}, at most {max} ha), {n_areas} search areas → {out}",
    ),
    "search_map_title": (
        "Standortsuche Handwerkerhöfe – {area}",
        "Site search for craft-business yards – {area}",
    ),
    "search_map_missing": ("ohne Daten: {missing}", "no data: {missing}"),
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
    # compass directions (codes of handwerkgeo.boundary.COMPASS) as adverbs
    "compass_N": ("nördlich", "north"),
    "compass_NE": ("nordöstlich", "north-east"),
    "compass_E": ("östlich", "east"),
    "compass_SE": ("südöstlich", "south-east"),
    "compass_S": ("südlich", "south"),
    "compass_SW": ("südwestlich", "south-west"),
    "compass_W": ("westlich", "west"),
    "compass_NW": ("nordwestlich", "north-west"),
    "reject_outside_boundary": (
        "liegt {distance} außerhalb der Stadtgrenze ({direction}, nächster Stadtteil: "
        "{stadtteil}; bei {x}, {y} in {crs})",
        "lies {distance_en} outside the city boundary ({direction}, nearest Stadtteil: "
        "{stadtteil}; at {x}, {y} in {crs})",
    ),
    "fix_outside_boundary": (
        "Koordinaten und KBS prüfen; Flächen müssen in Düsseldorf liegen",
        "check the coordinates and the CRS; plots must lie in Düsseldorf",
    ),
    "reject_outside_bbox": (
        "liegt außerhalb Düsseldorfs (bei {x}, {y} in {crs})",
        "lies outside Düsseldorf (at {x}, {y} in {crs})",
    ),
    "reject_missing_id": (
        "keine Flächen-ID in Spalte '{column}'",
        "no plot id in column '{column}'",
    ),
    "fix_missing_id": ("jeder Fläche eine ID geben", "give every plot an id"),
    "reject_duplicate_id": (
        "Flächen-ID '{value}' kommt {count}-mal vor (Zeilen {rows})",
        "plot_id '{value}' occurs {count} times (rows {rows})",
    ),
    "fix_duplicate_id": ("jeder Fläche eine eigene ID geben", "give each plot a unique plot_id"),
    "reject_missing_geometry": ("Geometrie fehlt", "geometry is missing"),
    "reject_empty_geometry": ("Geometrie ist leer", "geometry is empty"),
    "fix_missing_geometry": (
        "Umriss zeichnen (oder Koordinaten angeben) oder die Zeile löschen",
        "draw the plot outline (or give its coordinates) or delete the row",
    ),
    "reject_bad_coordinates": (
        "Koordinaten sind keine Zahlen: {x_col}={x!r}, {y_col}={y!r}",
        "coordinates are not numbers: {x_col}={x!r}, {y_col}={y!r}",
    ),
    "fix_bad_coordinates": (
        "Koordinaten als Zahlen schreiben (Dezimalkomma oder -punkt)",
        "write the coordinates as numbers (decimal comma or point)",
    ),
    "reject_invalid_geometry": (
        "ungültige Geometrie: {detail}",
        "invalid geometry: {detail}",
    ),
    "fix_invalid_geometry": (
        "Umriss im GIS reparieren (z. B. QGIS „Geometrien reparieren“) oder mit repair=True "
        "lesen (shapely.make_valid)",
        "fix the outline in a GIS (e.g. QGIS 'Fix geometries') or read with repair=True to "
        "apply shapely.make_valid",
    ),
    "reject_missing_area": (
        "Punkt ohne Flächengröße (Spalte '{column}' ist leer)",
        "point without plot area (column '{column}' is empty)",
    ),
    "fix_missing_area": ("Flächengröße in m² eintragen", "fill in the plot area in m²"),
    "reject_bad_area": (
        "Fläche {value!r} in Spalte '{column}' ist keine Zahl",
        "area {value!r} in column '{column}' is not a number",
    ),
    "reject_nonpositive_area": (
        "Flächengröße {value} m² ist nicht positiv",
        "plot area {value} m² is not positive",
    ),
    "fix_bad_area": (
        "Fläche in m² als Zahl schreiben, z. B. 3200 oder 3.200,5",
        "write the area in m² as a number, e.g. 3200 or 3.200,5",
    ),
    # reader notes and the column table of `plots check` / `score`
    "note_bbox_boundary": (
        "Stadtteile nicht geladen ({data_dir}): innen/außen nur nach dem umschließenden "
        "Rechteck Düsseldorfs entschieden; `handwerkgeo data fetch` lädt die Stadtgrenze",
        "Stadtteile not fetched ({data_dir}): inside/outside decided by Düsseldorf's "
        "bounding box only; `handwerkgeo data fetch` brings the city boundary",
    ),
    "note_unknown_values": (
        "Spalte '{header}' ({column}): {count} Zeile(n) mit unbekanntem Wert {values} — "
        "zählen als „keine Daten“. Erlaubt: {allowed}. Erweitern: {table}",
        "column '{header}' ({column}): {count} row(s) with an unknown value {values} — "
        "counted as no data. Allowed: {allowed}. Extend: {table}",
    ),
    "note_sheet_chosen": (
        "{file}: Blatt '{sheet}' gelesen, das einzige von {sheets} mit Flächenzeilen",
        "{file}: read sheet '{sheet}', the only one of {sheets} with plot rows",
    ),
    "note_crs_inferred": (
        "{file}: keine KBS angegeben; alle Werte von {x_col}/{y_col} passen nur zu {crs} um "
        "Düsseldorf ({x_col} {x_min}–{x_max}), daher {crs}. Mit --crs anders angeben.",
        "{file}: no CRS given; every {x_col}/{y_col} value fits only {crs} around Düsseldorf "
        "({x_col} {x_min}–{x_max}), so {crs} is used. Pass crs= to say otherwise.",
    ),
    "note_decoded_as": ("{file} als {encoding} gelesen", "{file} decoded as {encoding}"),
    "note_decoded_mixed": (
        "{file} als {encoding} gelesen: die Datei mischt zwei Kodierungen; {n} Zeile(n) sind "
        "kein UTF-8 und wurden als cp1252 (Windows) gelesen: Dateizeile(n) {lines}. Umlaute "
        "in diesen Zeilen prüfen und die Datei als UTF-8 speichern",
        "{file} decoded as {encoding}: the file mixes two encodings; {n} line(s) are not "
        "UTF-8 and were decoded as cp1252 (Windows): file line(s) {lines}. Check the "
        "umlauts in these lines, and save the file as UTF-8",
    ),
    "vocab_hint_owner": (
        "configs/plot_vocabulary.yaml, Abschnitt owners (Datei kopieren, Wort ergänzen, mit "
        "--vocabulary angeben)",
        "configs/plot_vocabulary.yaml, section owners (copy the file, add the word, pass it "
        "with --vocabulary)",
    ),
    "vocab_hint_yes_no": (
        "configs/plot_vocabulary.yaml, Abschnitt yes_no (mit --vocabulary angeben)",
        "configs/plot_vocabulary.yaml, section yes_no (pass it with --vocabulary)",
    ),
    "vocab_hint_zoning": (
        "configs/zoning_vocabulary.yaml, Tabelle labels",
        "configs/zoning_vocabulary.yaml, table labels",
    ),
    "vocab_hint_number": (
        "eine Zahl in €/m², z. B. 250 oder 1.250,5",
        "a number in €/m², e.g. 250 or 1.250,5",
    ),
    "columns_title": ("Verwendete Spalten:", "Columns used:"),
    "columns_feeds": ("{header} → {column} → {criteria}", "{header} → {column} → {criteria}"),
    "columns_role_id": ("Flächen-ID", "plot id"),
    "columns_role_name": ("Titel der Fläche", "title of the plot"),
    "columns_role_area": ("Flächengröße", "plot area"),
    "columns_role_geometry": ("Lage (Geometrie)", "location (geometry)"),
    "columns_carried": (
        "Mitgeführt (in Tabellen, nicht bewertet): {headers}",
        "Carried (in the tables, not scored): {headers}",
    ),
    "columns_no_data_title": (
        "Kriterien ohne Daten (zählen als fehlend, Gewichte neu verteilt):",
        "Criteria without data (counted as missing, weights renormalised):",
    ),
    "columns_only_unknown": (
        "keine Daten: Spalte '{header}' enthält nur unbekannte Werte ({values})",
        "no data: column '{header}' holds only unknown values ({values})",
    ),
    "columns_some_unknown": (
        "{count} Fläche(n) ohne Wert: unbekannte Werte in Spalte '{header}' ({values})",
        "{count} plot(s) without a value: unknown values in column '{header}' ({values})",
    ),
    "none": ("keine", "none"),
    # `plots check` and `score` run messages
    "check_heading": ("Prüfe {file}", "Checking {file}"),
    "check_problem": ("PROBLEM", "PROBLEM"),
    "check_note": ("Hinweis", "note"),
    "check_summary": (
        "Zusammenfassung: {n_rows} Zeile(n) gelesen, {usable} verwendbar, {rejected} "
        "abgelehnt, {problems} Problem(e) der ganzen Datei.",
        "Summary: {n_rows} row(s) read, {usable} usable, {rejected} rejected, {problems} "
        "file-level problem(s).",
    ),
    "check_ok": ("OK: jede Zeile ist verwendbar.", "OK: every row is usable."),
    "check_not_usable": (
        "NICHT VERWENDBAR: zuerst die Probleme der ganzen Datei oben beheben.",
        "NOT USABLE: fix the file-level problems above first.",
    ),
    "check_not_ok": (
        "NICHT OK: die abgelehnten Zeilen beheben, oder mit `handwerkgeo score` nur die "
        "verwendbaren Zeilen bewerten (die abgelehnten stehen in <Ausgabe>_abgelehnt.csv; "
        "--strict verweigert) bzw. mit `handwerkgeo register add` registrieren.",
        "NOT OK: fix the rejected rows, or score only the usable rows with `handwerkgeo "
        "score` (the rejected ones are written to <out>_rejected.csv; --strict refuses) or "
        "register them with `handwerkgeo register add`.",
    ),
    "score_summary": (
        "{n_rows} Zeile(n) gelesen: {n_scored} bewertet ({n_ranked} gereiht, {n_excluded} "
        "ausgeschlossen), {n_rejected} abgelehnt — Konfiguration {config!r} (Hash {hash}).",
        "{n_rows} row(s) read: {n_scored} scored ({n_ranked} ranked, {n_excluded} "
        "excluded), {n_rejected} rejected — config {config!r} (hash {hash}).",
    ),
    "score_rejected": (
        "{n_rejected} Zeile(n) abgelehnt und nicht bewertet (Liste: {path}; Exit-Code 3):",
        "{n_rejected} row(s) rejected and not scored (list: {path}; exit code 3):",
    ),
    "score_strict": (
        "--strict: {n_rejected} Zeile(n) abgelehnt, nichts bewertet; die Zeilen beheben "
        "oder ohne --strict nur die verwendbaren bewerten",
        "--strict: {n_rejected} row(s) rejected, nothing scored; fix the rows or score the "
        "usable ones without --strict",
    ),
    "score_nothing_usable": (
        "keine verwendbare Zeile in {file}",
        "no usable row in {file}",
    ),
    "score_top": ("Beste {n}:", "Top {n}:"),
    # --- demo ----------------------------------------------------------------------------
    "demo_ranking": (
        "Rangfolge der {n} illustrativen Beispielflächen (Konfiguration {config}):",
        "Ranking of the {n} illustrative example plots (config {config}):",
    ),
    "demo_row": (
        "  {rank}. {plot}  {score}  P(Top {top}) {p_top}  Abdeckung {coverage}  {name}",
        "  {rank}. {plot}  {score}  P(top {top}) {p_top}  coverage {coverage}  {name}",
    ),
    "demo_excluded": ("   –  {plot}  ausgeschlossen: {reason}", "   –  {plot}  excluded: {reason}"),
    "demo_search": (
        "Stadtweite Suche: {n_cells} Zellen à {cell_m} m, {n_sites} Standortvorschläge "
        "(Zellpunktzahl ≥ {threshold})",
        "Whole-city search: {n_cells} cells of {cell_m} m, {n_sites} candidate sites "
        "(cell score ≥ {threshold})",
    ),
    "demo_search_missing": (
        "Kriterien ohne Daten in der stadtweiten Suche: {missing}",
        "Criteria without data in the city-wide search: {missing}",
    ),
    "demo_times": (
        "Kontext geladen in {t_ctx} s, Beispielflächen in {t_plots} s, Suche in {t_search} s",
        "Context loaded in {t_ctx} s, example plots in {t_plots} s, search in {t_search} s",
    ),
    "demo_written": ("Ausgaben geschrieben nach {out}/", "Outputs written to {out}/"),
    "score_top_row": (
        "{rank}. {plot}: {score} Punkte, Abdeckung {coverage}",
        "{rank}. {plot}: {score} points, coverage {coverage}",
    ),
    "score_excluded_list": ("Ausgeschlossen:", "Excluded:"),
    "score_wrote": ("Geschrieben: {paths}", "Wrote {paths}"),
    "file_rejects_csv": ("abgelehnt.csv", "rejected.csv"),
    "layer_rejects": ("abgelehnt", "rejected"),
    # --- score tables: workbooks cut to Excel-sized tables (export.tables) -------------
    "tables_note_sheet": ("Hinweis", "Note"),
    "tables_xlsx_cut": (
        "Diese Arbeitsmappe enthält die besten {shown} von {total} Flächen; "
        "die vollständige Tabelle steht in: {paths}.",
        "This workbook holds the best {shown} of {total} plots; the full table is in: {paths}.",
    ),
    "tables_xlsx_cut_nofile": (
        "Diese Arbeitsmappe enthält die besten {shown} von {total} Flächen; "
        "die vollständige Tabelle wurde nicht geschrieben (als CSV ausgeben).",
        "This workbook holds the best {shown} of {total} plots; "
        "the full table was not written (write it as CSV).",
    ),
    # --- data prepare ------------------------------------------------------------------
    "data_prepared": (
        "Vorbereiteter Kontext geschrieben: {path} ({size} MB, {seconds} s)",
        "prepared context written: {path} ({size} MB, {seconds} s)",
    ),
    # --- QGIS styles in the GeoPackages: field aliases, legend, map tip (_qgis_style) -----
    # field_<column>: the alias QGIS shows for a column of the written layers
    "field_source_index": ("Zeile der Eingabe", "Input row"),
    "field_plot_id": ("Flächen-ID", "Plot ID"),
    "field_name": ("Name", "Name"),
    "field_stadtteil": ("Stadtteil", "Quarter (Stadtteil)"),
    "field_stadtteil_name": ("Stadtteil", "Quarter (Stadtteil)"),
    "field_area_m2": ("Fläche (m²)", "Area (m²)"),
    "field_is_point": ("Nur als Punkt gemeldet", "Point location only"),
    "field_zone_category": ("Gebietskategorie", "Zoning category"),
    "field_zone_source": ("Quelle Planungsrecht", "Zoning source"),
    "field_rank": ("Rang", "Rank"),
    "field_score_total": ("Gesamtpunktzahl", "Total score"),
    "field_excluded": ("Ausgeschlossen", "Excluded"),
    "field_exclusion_reason": ("Ausschlussgrund", "Exclusion reason (German)"),
    "field_exclusion_reason_en": ("Ausschlussgrund (englisch)", "Exclusion reason"),
    "field_coverage": ("Datenabdeckung (0–1)", "Data coverage (0–1)"),
    "field_missing_criteria": ("Fehlende Kriterien", "Missing criteria"),
    "field_decision_ready": ("Entscheidungsreif", "Ready for a decision"),
    "field_decision_reason": ("Hinweis Entscheidungsreife", "Decision note (German)"),
    "field_decision_reason_en": ("Hinweis Entscheidungsreife (englisch)", "Decision note"),
    "field_p_top": ("Wahrscheinlichkeit Top {n} (0–1)", "Probability of top {n} (0–1)"),
    "field_rank_p05": ("Rang 5. Perzentil", "Rank 5th percentile"),
    "field_rank_p50": ("Rang Median", "Rank median"),
    "field_rank_p95": ("Rang 95. Perzentil", "Rank 95th percentile"),
    "field_raw": ("{label}: Wert{unit}", "{label}: value{unit}"),
    "field_u": ("{label}: Nutzen (0–1)", "{label}: utility (0–1)"),
    "field_contrib": ("{label}: Beitrag (Punkte)", "{label}: contribution (points)"),
    "field_fallback": ("{label}: Ersatzwert", "{label}: fallback value"),
    "field_site_id": ("Standort-ID", "Site ID"),
    "field_n_cells": ("Anzahl Zellen", "Number of cells"),
    "field_score_mean": ("Mittlere Punktzahl", "Mean score"),
    "field_score_max": ("Höchste Punktzahl", "Highest score"),
    "field_cell_ids": ("Zellen", "Cells"),
    "field_threshold": ("Schwelle der Suche (Punkte)", "Search threshold (points)"),
    "field_search_area_id": ("Suchraum-ID", "Search area ID"),
    "field_n_sites": ("Anzahl Standorte", "Number of sites"),
    "field_max_site_m2": ("Größte Standortfläche (m²)", "Largest site area (m²)"),
    "field_run_id": ("Lauf", "Run"),
    "field_plot_version": ("Version der Fläche", "Plot version"),
    "field_geom_hash": ("Prüfsumme Geometrie", "Geometry checksum"),
    "field_attr_hash": ("Prüfsumme Angaben", "Attribute checksum"),
    "field_first_seen": ("Zuerst erfasst", "First seen"),
    "field_last_changed": ("Zuletzt geändert", "Last changed"),
    "field_valid_to": ("Gültig bis", "Valid to"),
    "field_active": ("Aktuell", "Active"),
    "field_source_file": ("Quelldatei", "Source file"),
    "qgis_class_excluded": ("ausgeschlossen", "excluded"),
    "qgis_class_no_data": ("keine Daten", "no data"),
    "qgis_style_scores": (
        "{field} in fünf Klassen wie in den Karten von handwerkgeo",
        "{field} in five classes as in the maps of handwerkgeo",
    ),
    "qgis_style_plots": ("Flächen des Registers (handwerkgeo)", "Register plots (handwerkgeo)"),
    "qgis_tip_rank": ("Rang {rank}", "Rank {rank}"),
    "qgis_tip_points": ("{score} Punkte", "{score} points"),
    "qgis_tip_coverage": ("Datenabdeckung {coverage} %", "Data coverage {coverage} %"),
    "qgis_tip_criterion": ("Kriterium", "Criterion"),
    "qgis_tip_raw": ("Wert", "Value"),
    "qgis_tip_utility": ("Nutzen", "Utility"),
    "qgis_tip_contrib": ("Punkte", "Points"),
}


@dataclass(frozen=True)
class Term:
    """A value that is itself a message code, rendered in the language of the sentence.

    Examples
    --------
    >>> text = message("reject_outside_boundary", "de", distance="4,9 km",
    ...                direction=Term("compass_W"), stadtteil="Hamm", x="336500.0",
    ...                y="5673000.0", crs="EPSG:25832")
    >>> text.split(";")[0]
    'liegt 4,9 km außerhalb der Stadtgrenze (westlich, nächster Stadtteil: Hamm'
    >>> text.split("; ")[1]
    'bei 336500.0, 5673000.0 in EPSG:25832)'
    """

    code: str

    def __str__(self) -> str:
        return message(self.code, "en")


class Note(str):
    """A sentence that is English text everywhere and knows its code to be said in German.

    Reports keep plain strings (notes are compared, joined, logged as ``str``); the edge
    that writes for a planner calls :func:`localized`.

    Examples
    --------
    >>> n = Note("check_ok")
    >>> n, localized(n, "de")
    ('OK: every row is usable.', 'OK: jede Zeile ist verwendbar.')
    """

    code: str
    values: dict[str, Any]

    def __new__(cls, code: str, **values: Any) -> Note:
        note = super().__new__(cls, message(code, "en", **values))
        note.code = code
        note.values = values
        return note


def localized(text: str, lang: str = "de") -> str:
    """``text`` in ``lang`` when it is a :class:`Note`, else as it is (English)."""
    if isinstance(text, Note):
        return message(text.code, lang, **text.values)
    return str(text)


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
    filled = {k: message(v.code, lang) if isinstance(v, Term) else v for k, v in values.items()}
    return template.format(**filled)


def message_values(code: str, text: str, lang: str = "en") -> dict[str, str] | None:
    """The values that made ``text`` from the template of ``code`` in ``lang``, or ``None``.

    Turns a sentence stored in one language (e.g. the English "no data" reasons of a
    scored run) back into values, so that :func:`message` can say it in another.

    Examples
    --------
    >>> text = "no data: layer(s) stops not in the scoring context"
    >>> values = message_values("missing_layers", text)
    >>> message("missing_layers", "de", **values)
    'keine Daten: Ebene(n) stops nicht im Bewertungskontext'
    """
    de, en = MESSAGES[code]
    template = en if lang == "en" else de
    pattern, names = "", []
    for literal, name, _spec, conv in _FORMATTER.parse(template):
        pattern += re.escape(literal)
        if name is not None:
            names.append(name)
            pattern += f"(?P<{name}>.+?)" if conv != "r" else f"'(?P<{name}>.+?)'"
    found = re.fullmatch(pattern, text, flags=re.DOTALL)
    return None if found is None else found.groupdict()


_FORMATTER = string.Formatter()
