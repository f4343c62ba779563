"""Candidate sites on the real Düsseldorf data: size limit, files, map in Chromium.

Whole-city search and ``search --bezirk 9`` (which produced a 141 ha "site" in Wersten
before sites had a maximum size); the map is opened in Debian Chromium with every request
outside the file blocked, and a screenshot is saved in the test's tmp folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest

from handwerkgeo.search import SearchResult, site_search

pytestmark = pytest.mark.mirror

MAX_M2 = 50_000.0  # the default maximum site size, 5 ha


@pytest.fixture(scope="module")
def city(duesseldorf_context: Any) -> SearchResult:
    return site_search(context=duesseldorf_context, cell_m=100)


@pytest.fixture(scope="module")
def city_files(
    city: SearchResult,
    duesseldorf_context: Any,
    fetched_data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    from handwerkgeo.cli.search import write_search
    from handwerkgeo.export.basemap import load_base_map
    from handwerkgeo.export.maps import export_map

    out = tmp_path_factory.mktemp("city_search")
    gpkg = write_search(city, out / "search.gpkg")
    html = export_map(
        city.surface,
        out / "search_map.html",
        stadtteile=duesseldorf_context.stadtteile,
        base_map=load_base_map(fetched_data_dir, context=duesseldorf_context),
        top_n=0,
        sites=city.sites,
        search_areas=city.search_areas,
    )
    return gpkg, html


def _assert_sites_within_max(gpkg: Path, max_m2: float = MAX_M2) -> pd.DataFrame:
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"scores", "run_metadata", "sites", "search_areas"} <= layers
    sites = pyogrio.read_dataframe(gpkg, layer="sites")
    assert len(sites) >= 1
    assert sites["site_id"].iloc[0] == "S-001"
    # the stored area and the geometry's own area: neither above the maximum
    assert (sites["area_m2"] <= max_m2 + 1e-6).all(), sites["area_m2"].max()
    assert (sites.geometry.area <= max_m2 + 1).all(), sites.geometry.area.max()
    assert (sites.geometry.geom_type == "Polygon").all()  # contiguous
    assert (sites["max_site_m2"] == max_m2).all()
    return sites


def test_whole_city_sites_are_at_most_5_ha(city: SearchResult, city_files: tuple) -> None:
    sites = _assert_sites_within_max(city_files[0])
    areas = pyogrio.read_dataframe(city_files[0], layer="search_areas")
    assert len(sites) == len(city.sites)
    # oversize regions are search areas, split into the sites that name them
    assert (areas["area_m2"] > MAX_M2).all()
    split = sites[sites["search_area_id"].fillna("") != ""]
    assert set(split["search_area_id"]) == set(areas["search_area_id"])
    for _, area in areas.iterrows():
        members = split[split["search_area_id"] == area["search_area_id"]]
        assert len(members) == area["n_sites"]
        assert members["area_m2"].sum() <= area["area_m2"] + 1e-6


def test_cli_search_bezirk_9_has_no_site_above_max(fetched_data_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    out, xlsx, html = tmp_path / "b9.gpkg", tmp_path / "b9.xlsx", tmp_path / "b9.html"
    args = ["search", "--bezirk", "9", "--data-dir", str(fetched_data_dir), "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--xlsx", str(xlsx), "--map", str(html)])
    assert res.exit_code == 0, res.output
    assert "Standortvorschläge" in res.output and "höchstens 5,0 ha" in res.output
    sites = _assert_sites_within_max(out)
    assert "Wersten" in set(sites["stadtteil_name"])  # the old 141 ha region, now split
    book = pd.read_excel(xlsx, sheet_name=None)
    assert list(book) == ["Standorte", "Suchgebiete", "Suche"]
    assert book["Standorte"]["Standort"].tolist() == sites["site_id"].tolist()
    assert (book["Standorte"]["Fläche (ha)"] <= 5.0).all()
    assert "hwg-sites-data" in html.read_text(encoding="utf-8")
    # a smaller maximum, in English
    out2 = tmp_path / "b9_2ha.gpkg"
    res = CliRunner().invoke(app, [*args[:-1], str(out2), "--max-site-ha", "2", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "candidate sites" in res.output and "at most 2.0 ha" in res.output
    _assert_sites_within_max(out2, 20_000.0)


def test_map_of_a_search_result_draws_its_sites(city_files: tuple, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    out = tmp_path / "karte.html"
    args = ["map", str(city_files[0]), "--out", str(out), "--top", "0", "--no-context"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "hwg-sites-data" in out.read_text(encoding="utf-8")


# --- the whole-city search map in Chromium -------------------------------------------------


@pytest.mark.browser
def test_city_search_map_shows_labelled_sites_with_cards(
    browser: Any,
    city_files: tuple,
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport={"width": 1300, "height": 850})
    blocked: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(city_files[1].as_uri())
    page.wait_for_function("window.hwgReady === true || window.hwgError", timeout=60_000)
    assert page.evaluate("window.hwgError || null") is None
    n_sites = page.evaluate("window.hwgSites.sites.getLayers().length")
    assert n_sites >= 1
    labels = page.locator(".hwg-site-label")
    assert labels.count() == n_sites
    # at the whole-city view the best site is labelled; overlapping labels give way
    first = page.locator(".hwg-site-label", has_text="S-001")
    assert first.count() == 1 and first.is_visible()
    assert page.locator(".hwg-site-label:visible").count() < n_sites
    # the offline base map beneath: every main road drawn at city scale, Bezirk names
    stats = page.evaluate("hwg.baseStats()")
    assert stats["main"]["drawn"] == stats["main"]["lines"] > 1_000
    assert page.locator(".hwg-label-bz:visible").count() == 10
    # scale bar and attribution never overlap
    scale = page.locator(".leaflet-control-scale").first.bounding_box()
    attribution = page.locator(".leaflet-control-attribution").first.bounding_box()
    assert scale is not None and attribution is not None
    assert (
        scale["x"] + scale["width"] <= attribution["x"]
        or attribution["x"] + attribution["width"] <= scale["x"]
        or scale["y"] + scale["height"] <= attribution["y"]
        or attribution["y"] + attribution["height"] <= scale["y"]
    ), (scale, attribution)
    assert page.evaluate("document.documentElement.lang") == "de"
    page.screenshot(path=str(tmp_path / "search_map_city.png"))
    # zoom to S-001 and click its label: the card opens
    page.evaluate(
        """() => {
            var s = window.hwgSites.sites.getLayers().find(l => l.options.hwgId === "S-001");
            hwg.map.setView(s.getBounds().getCenter(), 15, {animate: false});
        }"""
    )
    page.wait_for_timeout(300)
    first.click()
    page.wait_for_selector(".leaflet-popup-content", timeout=10_000)
    page.wait_for_timeout(300)  # the popup fades in
    card = page.inner_text(".leaflet-popup-content")
    assert "Standortvorschlag S-001" in card
    assert "Fläche" in card and " ha" in card and "Punktzahl" in card
    shot = tmp_path / "search_map_site_card.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert not blocked, blocked
    assert not errors, errors
    page.close()
