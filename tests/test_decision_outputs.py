"""Issue #10, items 5 and 6: loud gaps and the planner's own columns in every output.

A plot whose coverage is below ``filters.decision_coverage`` (default 0.6) is flagged
"nicht entscheidungsreif" in the scored frame, the XLSX/CSV tables, the map card, the site
profiles (HTML and PDF), the council text block and the ``score`` run summary; the name and
the carried columns (``Gemarkung``, ``Flur``, ``Bemerkung``) reach tables, map and profiles.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from handwerkgeo.config import default_config, load_config
from handwerkgeo.errors import ConfigError
from handwerkgeo.export.council import council_text, export_council_text
from handwerkgeo.export.maps import export_map, map_payload
from handwerkgeo.export.profiles import export_profiles
from handwerkgeo.export.tables import export_tables, ranking_table
from handwerkgeo.scoring import (
    carried_columns,
    decision_ready,
    decision_summary,
    read_scored,
    score_plots,
    write_scored,
)

#: The criteria without data for plot B-2 when scored without context, in config order.
MISSING_B = (
    "brownfield",
    "noise_buffer",
    "motorway",
    "main_road",
    "transit",
    "cycling",
    "customer_potential",
    "landuse_mix",
    "jobs_housing",
    "social_mix",
    "ownership",
    "land_value",
    "apprentice_access",
)
BEMERKUNG = "Zufahrt über Bügelstraße; Altlastenverdacht | prüfen"


def planner_plots() -> gpd.GeoDataFrame:
    """Three plots as a planner lists them: names and remarks with umlauts, own columns."""
    return gpd.GeoDataFrame(
        {
            "plot_id": ["A-1", "B-2", "C-3"],
            "name": ["Gewerbehof Südpark", "Brache Grünstraße", None],
            "Gemarkung": ["Holthausen", "Oberbilk", "Düsseltal"],
            "Flur": [12, 3, 7],
            "Bemerkung": [BEMERKUNG, "Eigentümerin prüft Verkauf", None],
            "zoning": ["GE", "GI", "WA"],
            "owner": ["city", None, "private"],
            "brownfield": [True, None, False],
            "land_value_eur_m2": [250.0, None, 300.0],
        },
        geometry=[
            box(346_000, 5_678_000, 346_100, 5_678_060),
            box(346_500, 5_678_500, 346_600, 5_678_600),
            box(345_000, 5_677_000, 345_090, 5_677_080),
        ],
        crs="EPSG:25832",
    )


@pytest.fixture(scope="module")
def low() -> gpd.GeoDataFrame:
    """Scored without context: coverage 42 % (A-1, C-3) and 23 % (B-2), default 0.6."""
    return score_plots(planner_plots())


@pytest.fixture(scope="module")
def mixed() -> gpd.GeoDataFrame:
    """decision_coverage 0.4: A-1 and C-3 ready, B-2 (23 %) not."""
    cfg = default_config().with_updates(filters={"decision_coverage": 0.4})
    return score_plots(planner_plots(), cfg)


# --- configuration and engine ---------------------------------------------------------------


def test_decision_coverage_default_documented_and_validated() -> None:
    assert default_config().filters.decision_coverage == 0.6
    text = (Path(__file__).parents[1] / "src/handwerkgeo/configs/default.yaml").read_text("utf-8")
    assert re.search(r"^  decision_coverage: 0\.6$", text, re.MULTILINE)
    assert "nicht entscheidungsreif" in text
    for bad in (1.5, -0.1, "viel", float("nan")):
        with pytest.raises(ConfigError, match="decision_coverage"):
            default_config().with_updates(filters={"decision_coverage": bad})


def test_decision_coverage_from_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(default_config().with_updates(filters={"decision_coverage": 0.25}).to_yaml())
    cfg = load_config(path)
    assert cfg.filters.decision_coverage == 0.25
    assert score_plots(planner_plots(), cfg)["decision_ready"].tolist() == [True, False, True]


def test_scored_frame_flags_low_coverage(low, mixed) -> None:
    assert low["decision_ready"].tolist() == [False, False, False]
    assert low["decision_reason"].iloc[1] == (
        "nicht entscheidungsreif: nur 23 % der Gewichte mit Daten (Schwelle 60 %)"
    )
    assert low["decision_reason_en"].iloc[0] == (
        "not ready for a decision: only 42 % of the weight has data (threshold 60 %)"
    )
    # still ranked: the flag warns, it does not exclude
    assert low["rank"].tolist()[:2] == [1, 2]
    assert mixed["decision_ready"].tolist() == [True, False, True]
    assert mixed["decision_reason"].tolist()[0] == "" and mixed["decision_reason"].iloc[1]


def test_coverage_exactly_at_the_threshold_is_ready(low) -> None:
    cov = float(low["coverage"].iloc[0])  # 0.4230769… (11 of 26 weight units)
    cfg = default_config().with_updates(filters={"decision_coverage": round(cov, 12)})
    assert score_plots(planner_plots(), cfg)["decision_ready"].tolist() == [True, False, True]


def test_decision_summary_and_fallback_without_the_column(low, mixed) -> None:
    assert decision_summary(low) == "3 von 3 Flächen nicht entscheidungsreif (Abdeckung < 60 %)"
    assert decision_summary(mixed, "en") == (
        "1 of 3 plots not ready for a decision (coverage < 40 %)"
    )
    # a frame scored before the column existed: judged from coverage and the run's threshold
    old = mixed.drop(columns=["decision_ready", "decision_reason", "decision_reason_en"])
    old.attrs = mixed.attrs
    assert decision_ready(old).tolist() == [True, False, True]
    old.attrs = {}  # no run metadata: the default threshold
    assert decision_ready(old).tolist() == [False, False, False]


def test_carried_columns_are_the_planners_own(low) -> None:
    assert carried_columns(low) == ["Gemarkung", "Flur", "Bemerkung"]
    # a reader's record wins (kept through scoring in attrs["run"]["carried"])
    plots = planner_plots()
    plots.attrs["carried"] = ["Bemerkung"]
    assert carried_columns(score_plots(plots)) == ["Bemerkung"]


def test_scored_geopackage_round_trip_keeps_the_flag(tmp_path: Path, mixed) -> None:
    back = read_scored(write_scored(mixed, tmp_path / "s.gpkg"))
    assert back["decision_ready"].astype(bool).tolist() == [True, False, True]
    assert carried_columns(back) == ["Gemarkung", "Flur", "Bemerkung"]


# --- tables -----------------------------------------------------------------------------------


def test_xlsx_has_entscheidungsreif_name_and_carried_columns(tmp_path: Path, mixed) -> None:
    path = export_tables(mixed, xlsx_path=tmp_path / "t.xlsx")["xlsx"]
    ws = openpyxl.load_workbook(path)["Rangfolge"]
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    by_id = {r["Flächen-ID"]: r for r in rows}
    assert head.index("Entscheidungsreif") == head.index("Gesamtpunktzahl") + 1
    assert {k: by_id[k]["Entscheidungsreif"] for k in by_id} == {
        "A-1": "ja",
        "B-2": "nein",
        "C-3": "ja",
    }
    assert by_id["A-1"]["Name"] == "Gewerbehof Südpark"
    assert by_id["A-1"]["Gemarkung"] == "Holthausen" and by_id["C-3"]["Gemarkung"] == "Düsseltal"
    assert by_id["A-1"]["Bemerkung"] == BEMERKUNG
    assert by_id["B-2"]["Flur"] == 3
    # rank: integers, empty for the excluded plot
    assert [r["Rang"] for r in rows] == [1, 2, None]
    assert all(isinstance(r["Rang"], int) for r in rows[:2])
    # missing criteria in full
    assert by_id["B-2"]["Fehlende Kriterien"].count(",") == 12
    assert "…" not in by_id["B-2"]["Fehlende Kriterien"]


@pytest.mark.parametrize(
    ("fmt", "sep", "encoding"), [("excel-de", ";", "utf-8-sig"), ("plain", ",", "utf-8")]
)
def test_csv_rank_is_an_integer_and_carried_columns_are_there(
    tmp_path: Path, mixed, fmt: str, sep: str, encoding: str
) -> None:
    path = export_tables(mixed, csv_path=tmp_path / "t.csv", csv_format=fmt)["csv"]  # type: ignore[arg-type]
    text = path.read_bytes().decode(encoding)
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    assert table["Rang"].tolist() == ["1", "2", ""]
    assert table["Entscheidungsreif"].tolist() == ["ja", "nein", "ja"]
    assert table["Bemerkung"].tolist()[0] == BEMERKUNG
    assert table["Gemarkung"].tolist() == ["Holthausen", "Oberbilk", "Düsseltal"]
    assert table["Flur"].tolist() == ["12", "3", "7"]
    assert text.lstrip("\ufeff").splitlines()[1].startswith(f"1{sep}A-1{sep}")


def test_english_tables_say_ready_for_a_decision(mixed) -> None:
    df = ranking_table(mixed, lang="en")
    assert df["Ready for a decision"].tolist() == ["yes", "no", "yes"]


# --- the score command: a run where coverage is low says so ------------------------------------


def test_low_coverage_run_says_so_in_the_summary_and_the_xlsx(tmp_path: Path) -> None:
    """Done-when of #10: the run summary counts the plots, the XLSX marks them."""
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    listing = tmp_path / "angebote.gpkg"
    planner_plots().to_file(listing, driver="GPKG")
    out = tmp_path / "bewertung.gpkg"
    res = CliRunner().invoke(
        app,
        [
            *("score", str(listing), "--out", str(out)),
            *("--data-dir", str(tmp_path / "leer"), "--no-network"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "3 von 3 Flächen nicht entscheidungsreif (Abdeckung < 60 %)" in res.output
    ws = openpyxl.load_workbook(out.with_suffix(".xlsx"))["Rangfolge"]
    head = [c.value for c in ws[1]]
    col = head.index("Entscheidungsreif")
    assert [r[col].value for r in ws.iter_rows(min_row=2)] == ["nein", "nein", "nein"]
    assert "Bemerkung" in head and "Gemarkung" in head
    res_en = CliRunner().invoke(
        app,
        [
            *("score", str(listing), "--out", str(tmp_path / "en.gpkg"), "--lang", "en"),
            *("--data-dir", str(tmp_path / "leer"), "--no-network"),
        ],
    )
    assert "3 of 3 plots not ready for a decision (coverage < 60 %)" in res_en.output


# --- map card -------------------------------------------------------------------------------------


def _embedded_data(html: str) -> dict:
    m = re.search(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', html, re.DOTALL)
    assert m, "no embedded data"
    body = m.group(1)
    try:
        return json.loads(body)
    except json.JSONDecodeError:  # compressed: base64 of zlib
        import base64

        return json.loads(zlib.decompress(base64.b64decode(body)).decode("utf-8"))


def test_map_card_data_has_warning_and_carried_columns(tmp_path: Path, low) -> None:
    payload = map_payload(low)
    assert payload["attrKeys"] == ["Gemarkung", "Flur", "Bemerkung"]
    assert payload["attrs"]["Bemerkung"] == [BEMERKUNG, "Eigentümerin prüft Verkauf", None]
    assert payload["attrs"]["Flur"] == ["12", "3", "7"]
    warn = [payload["warnings"][k] for k in payload["warn"]]
    assert all(w.startswith("Nicht entscheidungsreif: Datenabdeckung") for w in warn)
    assert "Schwelle 60 %" in warn[1] and "Bodenwert" in warn[1] and "…" not in warn[1]
    assert payload["text"]["attributes"] == "Angaben aus der Liste"
    html = export_map(low, tmp_path / "karte.html").read_text("utf-8")
    data = _embedded_data(html)
    assert data["attrs"]["Gemarkung"] == ["Holthausen", "Oberbilk", "Düsseltal"]
    assert data["name"][:2] == ["Gewerbehof Südpark", "Brache Grünstraße"]
    assert "hwg-warn" in html  # the card script draws the warning line


def test_map_card_ready_plots_have_no_warning(mixed) -> None:
    payload = map_payload(mixed, lang="en")
    assert payload["warn"][0] == 0 and payload["warn"][2] == 0
    assert payload["warnings"][payload["warn"][1]].startswith("Not ready for a decision")


# --- profiles ----------------------------------------------------------------------------------


def test_profile_title_warning_attributes_and_missing_in_full(tmp_path: Path, mixed) -> None:
    res = export_profiles(mixed, tmp_path / "steckbriefe", pdf=False)
    pages = {p.stem: p.read_text("utf-8") for p in res["html"]}
    a, b, c = pages["A-1"], pages["B-2"], pages["C-3"]
    assert "<h1>Standortsteckbrief: Gewerbehof Südpark (A-1)</h1>" in a
    assert "<h1>Standortsteckbrief: C-3</h1>" in c  # no name: the id
    assert 'class="warn"' in b and 'class="warn"' not in a
    warning = re.search(r'<div class="warn"[^>]*>(.*?)</div>', b, re.DOTALL).group(1)
    assert warning.startswith("Nicht entscheidungsreif: Datenabdeckung 23 % (Schwelle 40 %)")
    assert "Bodenwert" in warning and "Eigentum" in warning and "…" not in warning
    assert "Angaben aus der Liste" in a
    assert "<th>Gemarkung</th><td>Holthausen</td>" in a
    assert "Zufahrt über Bügelstraße; Altlastenverdacht | prüfen" in a
    assert "<th>Flur</th><td>12</td>" in a
    index = (tmp_path / "steckbriefe" / "index.html").read_text("utf-8")
    assert "Entscheidungsreif" in index


def test_profile_pdf_lists_the_missing_criteria_in_full(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        if os.environ.get("HANDWERKGEO_REQUIRE_MIRROR"):
            pytest.fail("pdftotext is missing; install poppler-utils with `make sysdeps`")
        pytest.skip("pdftotext (poppler-utils) not installed")
    plots = planner_plots()
    plots.loc[1, "name"] = "Brache Grünstraße " + "mit sehr langer Bezeichnung " * 4
    scored = score_plots(plots)
    res = export_profiles(scored, tmp_path / "p", top_n=2)
    pdf = next(p for p in res["pdf"] if p.stem == "B-2")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    labels = [default_config().criteria[k].label_de for k in MISSING_B]
    warning = (
        "Nicht entscheidungsreif: Datenabdeckung 23 % (Schwelle 60 %). Es fehlen: "
        + ", ".join(labels)
    )
    assert warning in flat  # every missing criterion, in one piece, nothing cut
    assert "Holthausen" not in flat and "Oberbilk" in flat and "Eigentümerin prüft Verkauf" in flat


# --- council text -----------------------------------------------------------------------------


def test_council_text_counts_and_lists_every_missing_criterion(tmp_path: Path, mixed) -> None:
    text = council_text(mixed)
    assert text.startswith("## Datenlage und Entscheidungsreife\n")
    assert "1 von 3 Flächen nicht entscheidungsreif (Abdeckung < 40 %)." in text
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and "---" not in ln]
    assert rows[0].startswith("| Rang | Fläche | Datenabdeckung | Entscheidungsreif |")
    b = next(r for r in rows if "(B-2)" in r)
    assert b.startswith("| 2 | Brache Grünstraße (B-2) | 23 % | nein |")
    labels = [s.strip() for s in b.split(" | ")[-1].rstrip(" |").split(",")]
    assert labels == [default_config().criteria[k].label_de for k in MISSING_B]
    c = next(r for r in rows if "C-3" in r)
    assert c.startswith("| – | C-3 |")
    path = export_council_text(mixed, tmp_path / "datenlage.md", lang="en")
    en = path.read_text("utf-8")
    assert "1 of 3 plots not ready for a decision (coverage < 40 %)." in en


def test_council_text_without_gaps() -> None:
    cfg = default_config()
    data = cfg.to_dict()
    keep = ("plot_size", "plot_shape")
    data["criteria"] = {k: v for k, v in data["criteria"].items() if k in keep}
    scored = score_plots(planner_plots(), type(cfg).from_dict(data, source="test"))
    assert scored["decision_ready"].all()
    text = council_text(scored)
    assert "0 von 3 Flächen nicht entscheidungsreif" in text
    assert "Für alle 3 Flächen liegen zu allen Kriterien Daten vor." in text


def test_a_table_cell_cannot_break_the_council_table(mixed) -> None:
    frame = mixed.copy()
    frame.loc[1, "name"] = "Fläche | mit\nZeilenumbruch"
    row = next(r for r in council_text(frame).splitlines() if "(B-2)" in r)
    assert "Fläche \\| mit Zeilenumbruch (B-2)" in row
    assert np.sum([ch == "|" for ch in row.replace("\\|", "")]) == 6


# --- map card in a real browser ---------------------------------------------------------------


@pytest.mark.browser
def _open_card(page, index: int) -> str:
    """Open plot ``index``'s card as a click on it does (Leaflet's click event on the layer).

    Pixel hit-testing of the canvas is covered by tests/test_browser.py; here the card's
    content matters, and a deferred re-fit of the view under load moved plots away from
    the clicked pixel.
    """
    page.page.evaluate(
        """(i) => {
            var lyr = hwg.layers.score.getLayers().find(l => l.options.hwgIndex === i);
            document.querySelectorAll(".leaflet-popup").forEach((e) => e.remove());
            lyr.fire("click", {latlng: lyr.getBounds().getCenter()}, true);
        }""",
        index,
    )
    page.page.wait_for_selector(".leaflet-popup-content", timeout=20_000)
    return str(page.page.inner_text(".leaflet-popup-content"))


def test_clicked_card_shows_title_warning_and_listing_columns(tmp_path: Path, mixed) -> None:
    from test_browser import ARTIFACTS, Opened

    pytest.importorskip("playwright")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    path = export_map(mixed, tmp_path / "karte.html", top_n=0)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = Opened(b, path)
        try:
            card_b = _open_card(page, 1)
            ARTIFACTS.mkdir(exist_ok=True)
            page.page.screenshot(path=str(ARTIFACTS / "map_card_not_ready.png"))
            # close B's card and drop its faded element at once (no fade wait under load)
            page.page.evaluate(
                "hwg.map.closePopup();"
                "document.querySelectorAll('.leaflet-popup').forEach((e) => e.remove())"
            )
            card_a = _open_card(page, 0)
            assert page.console_errors == [] and page.blocked == []
        finally:
            page.close()
            b.close()
    assert card_b.startswith("Brache Grünstraße (B-2)")
    assert "Nicht entscheidungsreif: Datenabdeckung 23 % (Schwelle 40 %). Es fehlen:" in card_b
    assert "Erreichbarkeit für Auszubildende" in card_b.split("Es fehlen:")[1].split("\n")[0]
    assert "Angaben aus der Liste" in card_b
    assert re.search(r"Gemarkung\s+Oberbilk", card_b)
    assert re.search(r"Bemerkung\s+Eigentümerin prüft Verkauf", card_b)
    assert card_a.startswith("Gewerbehof Südpark (A-1)")
    assert "Nicht entscheidungsreif" not in card_a
    assert re.search(r"Bemerkung\s+Zufahrt über Bügelstraße; Altlastenverdacht \| prüfen", card_a)
