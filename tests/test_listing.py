"""Issue #10: a planner's own listing ranks right (reader and CLI side).

A listing built like the one from the Liegenschaftsamt: an XLSX workbook with a cover sheet
and a data sheet, German headers (``Flurstück``, ``Gemarkung``, ``Bezeichnung``,
``Fläche (m²)`` with decimal commas, ``Rechtswert``/``Hochwert``, ``Planungsrecht``,
``Eigentümer``, ``Bemerkung`` with umlauts) and German values.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import typer
from shapely.geometry import Point, box
from typer.testing import CliRunner

from handwerkgeo._text import parse_yes_no, yes_no_words
from handwerkgeo.boundary import CityBoundary
from handwerkgeo.cli import app
from handwerkgeo.cli._options import READER_OPTIONS
from handwerkgeo.errors import AmbiguousColumnError
from handwerkgeo.messages import MESSAGES, message, message_values
from handwerkgeo.sources.plots import check_plots, read_plots
from handwerkgeo.sources.zoning import parse_zoning_label
from handwerkgeo.vocabulary import load_plot_vocabulary

HEADERS = [
    "Flurstück",
    "Gemarkung",
    "Bezeichnung",
    "Fläche (m²)",
    "Rechtswert",
    "Hochwert",
    "Planungsrecht",
    "Eigentümer",
    "Bemerkung",
]

#: (id, Gemarkung, Bezeichnung, Fläche, E, N, Planungsrecht, Eigentümer, Bemerkung)
ROWS = [
    ("05-0001", "Benrath", "Hellerhof Süd", "4.200,5", 354196, 5666438, "GE", "städtisch",
     "Zufahrt über Straße"),
    ("05-0002", "Neuss", "Neuss Hafen", "3.100", 336500, 5673000, "GI", "privat", "in Neuss"),
    ("05-0003", "Derendorf", "Derendorf Wohnen", "2.800", 345500, 5679500, "WA", "privat",
     "Wohngebiet"),
    ("05-0004", "Lörick", "Lörick Villen", "3.500", 341600, 5680400, "WR", "Stadt",
     "reines Wohngebiet"),
    ("05-0005", "Reisholz", "Reisholz Gewerbe", "5.000", 351200, 5671800, "GI", "privat",
     "Brache, Übergabe 2027"),
]  # fmt: skip


def make_listing(path: Path, rows=ROWS, headers=HEADERS, *, cover: bool = True) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    first = wb.active
    if cover:
        first.title = "Deckblatt"
        first["A1"] = "Flächenliste Handwerkerhöfe"
        first["A3"] = "Liegenschaftsamt, Stand März 2026 – bitte vertraulich behandeln."
        data = wb.create_sheet("Flächen")
    else:
        data = first
        data.title = "Flächen"
    data.append(list(headers))
    for row in rows:
        data.append(list(row))
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def listing(tmp_path_factory) -> Path:
    return make_listing(tmp_path_factory.mktemp("listing") / "Flächenliste.xlsx")


# --- 1. the real city boundary --------------------------------------------------------------


def test_hellerhof_accepted_neuss_rejected_with_its_distance(listing, fetched_data_dir):
    report = check_plots(listing, data_dir=fetched_data_dir)
    assert report.columns["boundary"] == "stadtteile"
    assert "05-0001" in report.usable["plot_id"].tolist()  # Hellerhof: outside the old box
    assert report.rejects["plot_id"].tolist() == ["05-0002"]
    assert report.rejects["row"].tolist() == [3]  # spreadsheet line: header 1, Hellerhof 2
    de = report.rejects_table("de")
    assert list(de.columns) == ["Zeile", "Flächen-ID", "Grund", "Abhilfe"]
    assert de.loc[0, "Grund"] == (
        "liegt 4,9 km außerhalb der Stadtgrenze (westlich, nächster Stadtteil: Hamm; "
        "bei 336500.0, 5673000.0 in EPSG:25832)"
    )
    en = report.rejects_table("en").loc[0, "reason"]
    assert en == (
        "lies 4.9 km outside the city boundary (west, nearest Stadtteil: Hamm; "
        "at 336500.0, 5673000.0 in EPSG:25832)"
    )
    # the distance is the real one: shapely on the dissolved Stadtteile
    from handwerkgeo.sources.quarters import read_stadtteile

    city = read_stadtteile(data_dir=fetched_data_dir).to_crs(25832).union_all()
    assert city.distance(Point(336500, 5673000)) == pytest.approx(4900, abs=50)
    assert city.contains(Point(354196, 5666438))


def test_without_stadtteile_the_box_is_used_and_the_notes_say_so(listing, tmp_path):
    report = check_plots(listing, data_dir=tmp_path / "empty")
    assert report.columns["boundary"] == "bounding box"
    assert any("Stadtteile not fetched" in n and "bounding box" in n for n in report.notes)


def test_a_given_boundary_is_used(listing):
    boundary = CityBoundary.from_stadtteile(
        gpd.GeoDataFrame(
            {"stadtteil_name": ["Mitte"]},
            geometry=[box(340_000, 5_670_000, 350_000, 5_682_000)],
            crs=25832,
        )
    )
    report = check_plots(listing, boundary=boundary)
    # Hellerhof (354 196) and Reisholz (351 200) lie east of this box
    rejected = dict(zip(report.rejects["plot_id"], report.rejects["reason"], strict=True))
    assert set(rejected) == {"05-0001", "05-0002", "05-0005"}
    assert "(south-east, nearest Stadtteil: Mitte;" in rejected["05-0001"]  # corner


# --- 2./3. column and value vocabularies ----------------------------------------------------


def test_german_columns_and_values_become_canonical(listing, fetched_data_dir):
    report = check_plots(listing, data_dir=fetched_data_dir)
    cols = report.columns
    assert cols["mapping"] == {
        "plot_id": "Flurstück",
        "name": "Bezeichnung",
        "zoning": "Planungsrecht",
        "owner": "Eigentümer",
        "area_m2": "Fläche (m²)",
    }
    assert cols["carried"] == ["Gemarkung", "Bemerkung"]
    plots = report.usable.set_index("plot_id")
    assert plots.loc["05-0001", "name"] == "Hellerhof Süd"
    assert plots.loc["05-0001", "owner"] == "city"  # städtisch
    assert plots.loc["05-0004", "owner"] == "city"  # Stadt
    assert plots.loc["05-0003", "owner"] == "private"
    assert plots.loc["05-0001", "area_m2"] == 4200.5  # decimal comma
    assert plots.loc["05-0005", "Bemerkung"] == "Brache, Übergabe 2027"
    assert plots.attrs["columns"] == cols


def test_wr_wa_are_excluded_and_stadtisch_ranks_as_city(listing, fetched_data_dir):
    from handwerkgeo.config import default_config
    from handwerkgeo.scoring import score_plots

    plots = read_plots(listing, data_dir=fetched_data_dir, on_invalid="reject")
    scored = score_plots(plots).set_index("plot_id")
    for pid, zone in (("05-0003", "WA"), ("05-0004", "WR")):
        assert scored.loc[pid, "excluded"]
        assert f"Gebietsart {zone}" in scored.loc[pid, "exclusion_reason"]
        assert pd.isna(scored.loc[pid, "rank"])
    table = default_config().criteria["ownership"].table
    assert scored.loc["05-0001", "u_ownership"] == table["city"]
    assert scored.loc["05-0005", "u_ownership"] == table["private"]
    assert scored.loc["05-0001", "zone_category"] == "GE"
    assert scored.loc[["05-0001", "05-0005"], "rank"].notna().all()


def test_explicit_column_wins_and_ambiguity_names_both(tmp_path):
    headers = ["Nr", "Lage", "Bemerkung", "Gebiet", "Rechtswert", "Hochwert", "Fläche"]
    rows = [("1", "Am Hafen 3", "GE", "GI", 346000, 5678000, "3000")]
    path = make_listing(tmp_path / "l.xlsx", rows, headers, cover=False)
    plots = read_plots(path, columns={"zoning": "Bemerkung"}, crs=25832)
    assert plots.loc[0, "zoning"] == "GE"
    assert plots.loc[0, "name"] == "Am Hafen 3"  # Lage: the name of the second tier
    assert "Gebiet" in plots.columns  # not in the vocabulary: carried
    both = ["Flurstück", "Flurstückskennzeichen", "Rechtswert", "Hochwert", "Fläche"]
    path = make_listing(tmp_path / "a.xlsx", [("1", "2", 346000, 5678000, "1")], both, cover=False)
    with pytest.raises(AmbiguousColumnError) as err:
        check_plots(path, crs=25832)
    assert "'Flurstück'" in str(err.value) and "'Flurstückskennzeichen'" in str(err.value)
    # saying which one resolves it; the other is carried
    plots = read_plots(path, crs=25832, id_col="Flurstückskennzeichen")
    assert plots.loc[0, "plot_id"] == "2" and plots.loc[0, "Flurstück"] == 1


def test_unknown_values_are_listed_once_per_column(tmp_path):
    headers = ["Flurstück", "Rechtswert", "Hochwert", "Fläche", "Eigentümer", "Brachfläche"]
    rows = [
        ("1", 346000, 5678000, "3000", "Erbengemeinschaft", "ja"),
        ("2", 346100, 5678100, "3000", "Erbengemeinschaft", "x"),
        ("3", 346200, 5678200, "3000", "LHD", "vielleicht"),
        ("4", 346300, 5678300, "3000", "Kirche", "nein"),
    ]
    path = make_listing(tmp_path / "l.xlsx", rows, headers, cover=False)
    report = check_plots(path, crs=25832)
    assert report.ok  # unknown values reject nothing: they are "no data"
    unknown = report.columns["unknown"]
    assert unknown["owner"] == {
        "header": "Eigentümer",
        "count": 3,
        "n_values": 4,
        "values": ["Erbengemeinschaft", "Kirche"],
    }
    assert unknown["brownfield"]["values"] == ["vielleicht"]
    notes = [n for n in report.notes if "'Eigentümer'" in n]
    assert len(notes) == 1 and "plot_vocabulary.yaml" in notes[0] and "city:" in notes[0]
    plots = report.usable
    assert plots["owner"].tolist() == [None, None, "city", None]
    assert plots["brownfield"].tolist() == [True, True, pd.NA, False]


def test_one_yes_no_table_for_the_package():
    vocab = load_plot_vocabulary()
    assert yes_no_words() == (vocab.yes, vocab.no)
    assert {"ja", "x", "wahr", "1", "vorhanden"} <= vocab.yes
    assert {"nein", "0", "falsch"} <= vocab.no
    assert [parse_yes_no(w) for w in ["Ja", "X", "wahr", "vorhanden", "nein", "egal"]] == [
        True,
        True,
        True,
        True,
        False,
        None,
    ]


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("GE", "GE"),
        ("GEe", "GE"),
        ("GE-E", "GE"),
        ("Gewerbegebiet", "GE"),
        ("eingeschr. Gewerbegebiet", "GE"),
        ("GE (§ 8 BauNVO)", "GE"),
        ("GI", "GI"),
        ("Industriegebiet", "GI"),
        ("MI", "MI"),
        ("Mischgebiet (MI)", "MI"),
        ("MU", "MU"),
        ("Urbanes Gebiet", "MU"),
        ("MK", "MK"),
        ("WA", "WA"),
        ("allgemeines Wohngebiet", "WA"),
        ("WR", "WR"),
        ("SO Handwerk", "SO_COMMERCIAL"),
        ("SO Einzelhandel", "SO"),
        ("Gewerbliche Bauflächen", "FNP_G"),
        ("gewerbl. Baufläche", "FNP_G"),
        ("Wohnbauflächen", "FNP_W"),
        ("Fläche für Gemeinbedarf", "COMMUNITY"),
        ("1700", "GE"),
        (1700, "GE"),
        ("GE (WA)", "UNKNOWN"),  # parts disagree: not guessed
        ("Gewerbe", "UNKNOWN"),
    ],
)
def test_zoning_spellings_of_planners(label, category):
    assert parse_zoning_label(label) == category


# --- rows: spreadsheet lines; sheets --------------------------------------------------------


def test_csv_rows_are_file_lines_even_after_blank_lines(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "Flurstück;Rechtswert;Hochwert;Fläche\n1;346000;5678000;3000\n\n2;346100;5678100;0\n",
        encoding="utf-8",
    )
    report = check_plots(path, crs=25832)
    assert report.rejects["row"].tolist() == [4]
    assert "line 4" in report.problems[0].message


def test_workbook_without_a_single_plot_sheet_names_the_sheets(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    for name in ("A", "B"):
        ws = wb.active if name == "A" else wb.create_sheet(name)
        ws.title = name
        ws.append(["id", "x", "y", "Fläche"])
        ws.append(["1", 346000, 5678000, 100])
    wb.save(tmp_path / "two.xlsx")
    report = check_plots(tmp_path / "two.xlsx", crs=25832)
    assert report.fatal
    assert "'A', 'B' all hold plot rows" in report.problems[0].message
    assert "--sheet" in report.problems[0].fix
    assert len(check_plots(tmp_path / "two.xlsx", crs=25832, layer="B").usable) == 1


# --- CLI: the same reader options on every command that reads plots -------------------------

READING_COMMANDS = (("plots", "check"), ("score",), ("register", "add"))


def _command(path: tuple[str, ...]):
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return cmd


def test_every_command_that_reads_plots_has_the_same_reader_options():
    seen = {}
    for path in READING_COMMANDS:
        params = {p.name: p for p in _command(path).params}
        missing = set(READER_OPTIONS) - set(params)
        assert not missing, f"{' '.join(path)} lacks {sorted(missing)}"
        seen[path] = {
            name: (tuple(params[name].opts), params[name].help, params[name].multiple)
            for name in READER_OPTIONS
        }
        assert all(seen[path][n][0] == (flag,) for n, flag in READER_OPTIONS.items())
    first = seen[READING_COMMANDS[0]]
    assert all(opts == first for opts in seen.values())
    assert "--data-dir" in {o for p in _command(("plots", "check")).params for o in p.opts}


def test_malformed_column_option_is_a_usage_error(listing):
    res = CliRunner().invoke(app, ["plots", "check", str(listing), "--column", "zoning"])
    assert res.exit_code == 2
    assert "CANONICAL=HEADER" in res.output


def test_plots_check_prints_the_column_table(listing, fetched_data_dir):
    args = ["plots", "check", str(listing), "--data-dir", str(fetched_data_dir)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1  # Neuss is rejected
    out = res.output
    assert "Zeile 3 (Flächen-ID '05-0002'): liegt 4,9 km außerhalb der Stadtgrenze" in out
    assert "Planungsrecht → zoning → Planungsrecht (zoning)" in out
    assert "Eigentümer → owner → Eigentum (ownership)" in out
    assert "Mitgeführt (in Tabellen, nicht bewertet): Gemarkung, Bemerkung" in out
    assert "Bodenwert (land_value): keine Daten" in out
    en = CliRunner().invoke(app, [*args, "--lang", "en"]).output
    assert "Planungsrecht → zoning → Zoning suitability (zoning)" in en
    assert "Carried (in the tables, not scored): Gemarkung, Bemerkung" in en


def test_score_ranks_usable_rows_and_writes_the_rejects(listing, fetched_data_dir, tmp_path):
    out = tmp_path / "res" / "bewertung.gpkg"
    args = ["score", str(listing), "--out", str(out), "--data-dir", str(fetched_data_dir)]
    res = CliRunner().invoke(app, [*args, "--no-network"])
    assert res.exit_code == 3, res.output
    text = res.output
    assert "5 Zeile(n) gelesen: 4 bewertet (2 gereiht, 2 ausgeschlossen), 1 abgelehnt" in text
    assert "Kriterien ohne Daten" in text and "Planungsrecht → zoning" in text
    assert "Gebietsart WR (Reines Wohngebiet) ausgeschlossen" in text
    scored = gpd.read_file(out, layer="scores")
    rejects_layer = gpd.read_file(out, layer="abgelehnt")
    csv = pd.read_csv(out.with_name("bewertung_abgelehnt.csv"), sep=";", encoding="utf-8-sig")
    assert len(scored) + len(csv) == len(ROWS)  # rows in = rows scored + rows rejected
    assert len(rejects_layer) == 1
    assert csv.loc[0, "Zeile"] == 3 and "außerhalb der Stadtgrenze" in csv.loc[0, "Grund"]
    assert set(scored["name"]) >= {"Hellerhof Süd", "Lörick Villen"}
    # English: rejected.csv and English reasons
    out_en = tmp_path / "en" / "scores.gpkg"
    args_en = ["score", str(listing), "--out", str(out_en), "--data-dir", str(fetched_data_dir)]
    res = CliRunner().invoke(app, [*args_en, "--no-network", "--lang", "en"])
    assert res.exit_code == 3
    assert "5 row(s) read: 4 scored (2 ranked, 2 excluded), 1 rejected" in res.output
    en = pd.read_csv(out_en.with_name("scores_rejected.csv"))
    assert "outside the city boundary (west" in en.loc[0, "reason"]
    # --strict refuses and writes nothing
    out_strict = tmp_path / "strict" / "s.gpkg"
    args_strict = ["score", str(listing), "--out", str(out_strict), "--strict", "--no-network"]
    res = CliRunner().invoke(app, [*args_strict, "--data-dir", str(fetched_data_dir)])
    assert res.exit_code == 1
    assert not out_strict.exists()


def test_score_reports_a_column_of_only_unknown_values(tmp_path):
    headers = ["Flurstück", "Rechtswert", "Hochwert", "Fläche", "Eigentümer"]
    rows = [("1", 346000, 5678000, "3000", "Kirche"), ("2", 346100, 5678100, "3000", "Bahn")]
    path = make_listing(tmp_path / "l.xlsx", rows, headers, cover=False)
    out = tmp_path / "o" / "s.gpkg"
    res = CliRunner().invoke(
        app,
        ["score", str(path), "--out", str(out), "--data-dir", str(tmp_path / "d"), "--no-network"],
    )
    assert res.exit_code == 0, res.output
    assert (
        "Eigentum (ownership): keine Daten: Spalte 'Eigentümer' enthält nur unbekannte Werte "
        "('Kirche', 'Bahn')" in res.output
    )


# --- messages -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [c for c in MESSAGES if c.startswith(("missing_", "no_"))])
def test_no_data_reasons_translate_back(code):
    de, en = MESSAGES[code]
    values = {name: f"v{i}" for i, name in enumerate(sorted(_fields(en)))}
    text = message(code, "en", **values)
    assert message_values(code, text) == values
    assert message(code, "de", **values) == de.format(**values)


def _fields(template: str) -> set[str]:
    import string

    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_compass_words_exist_for_every_direction():
    from handwerkgeo.boundary import COMPASS

    for code in COMPASS:
        assert message(f"compass_{code}", "de").endswith("lich")
        assert message(f"compass_{code}", "en")
    assert np.all([f"compass_{c}" in MESSAGES for c in COMPASS])
