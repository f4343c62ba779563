"""The offline base map and readable symbols, checked in headless Debian Chromium.

Every request that does not go to the page's own file is blocked and recorded; the tests
assert that none was made. Screenshots are written to ``HANDWERKGEO_ARTIFACTS`` when set,
else to pytest's temporary folder (never into the repository).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from test_export_maps import make_scored

from handwerkgeo.crs import CRS
from handwerkgeo.export.basemap import BaseMap, load_base_map
from handwerkgeo.export.maps import export_map
from handwerkgeo.export.overlays import MapOverlay

pytestmark = pytest.mark.browser

BUDGET_BYTES = 3_500_000


@pytest.fixture(scope="session")
def base_map(fetched_data_dir: Path) -> BaseMap:
    return load_base_map(fetched_data_dir)


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    env = os.environ.get("HANDWERKGEO_ARTIFACTS")
    out = Path(env) if env else tmp_path / "artefacts"
    out.mkdir(parents=True, exist_ok=True)
    return out


def city_grid(base: BaseMap, cell_m: float = 100.0) -> gpd.GeoSeries:
    """Square cells over the city (Stadtteile), clipped to it: the whole-city search grid."""
    assert base.stadtteile is not None
    city = shapely.union_all(base.stadtteile.geometry.to_numpy())
    minx, miny, maxx, maxy = city.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, cell_m), np.arange(miny, maxy, cell_m))
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    shapely.prepare(city)
    cells = shapely.intersection(cells[shapely.intersects(city, cells)], city)
    cells = cells[shapely.area(cells) > 1.0]
    return gpd.GeoSeries(cells, crs=CRS)


def thirty_plots(base: BaseMap) -> gpd.GeoDataFrame:
    """30 plots: dense clusters in Lierenfeld and Rath (8 each, 60–120 m apart), the rest
    spread over other Stadtteile."""
    assert base.stadtteile is not None
    st = base.stadtteile.set_index("stadtteil_name")
    centres = []
    for name in ("Lierenfeld", "Rath"):
        p = st.geometry[name].representative_point()
        centres += [(p.x + (k % 4) * 90.0, p.y + (k // 4) * 70.0) for k in range(8)]
    others = [n for n in st.index if n not in ("Lierenfeld", "Rath")][:14]
    centres += [(g.x, g.y) for g in st.geometry[others].representative_point()]
    scored = make_scored(30)
    geoms = [shapely.box(x - 25, y - 25, x + 25, y + 25) for x, y in centres]
    return scored.set_geometry(gpd.GeoSeries(geoms, index=scored.index, crs=CRS))


class Page:
    """A map opened from file:// with every other request blocked and recorded."""

    def __init__(self, browser: Any, path: Path, size: tuple[int, int] = (1300, 850)) -> None:
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.hwgReady === true || window.hwgError", timeout=60_000)
        self.page.wait_for_timeout(300)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def zoom(self, z: int, lat: float = 51.2254, lon: float = 6.7763) -> None:
        self.page.evaluate(f"void hwg.map.setView([{lat}, {lon}], {z}, {{animate: false}})")
        self.page.wait_for_timeout(400)

    def box(self, selector: str) -> dict[str, float]:
        b = self.page.locator(selector).first.bounding_box()
        assert b is not None, selector
        return b


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _scale_and_attribution_apart(page: Page) -> None:
    scale = page.box(".leaflet-control-scale")
    attribution = page.box(".leaflet-control-attribution")
    assert scale["width"] > 0 and attribution["width"] > 0
    assert not _overlap(scale, attribution), (scale, attribution)


@pytest.fixture(scope="module")
def city_map(
    tmp_path_factory: pytest.TempPathFactory, base_map: BaseMap
) -> tuple[Path, gpd.GeoDataFrame]:
    cells = city_grid(base_map)
    scored = make_scored(len(cells)).set_geometry(cells.set_axis(range(len(cells))).to_numpy())
    path = tmp_path_factory.mktemp("citymap") / "search_map.html"
    export_map(scored, path, base_map=base_map, top_n=0, title="Standortsuche – ganze Stadt")
    return path, scored


def test_whole_city_search_map_draws_the_base_map_offline(
    browser: Any, city_map: tuple[Path, gpd.GeoDataFrame], artefacts: Path
) -> None:
    path, scored = city_map
    assert len(scored) > 20_000
    assert path.stat().st_size <= BUDGET_BYTES, path.stat().st_size
    page = Page(browser, path)
    try:
        assert page.page.evaluate("document.documentElement.lang") == "de"
        stats = page.page.evaluate("hwg.baseStats()")
        # city scale: every main road drawn, the finer classes wait for their zoom level
        assert stats["main"]["drawn"] == stats["main"]["lines"] > 1_000
        assert stats["street"]["drawn"] == 0 and stats["minor"]["drawn"] == 0
        assert page.page.locator(".leaflet-hwgBase-pane canvas").count() >= 1
        bezirk_labels = page.page.locator(".hwg-label-bz:visible").count()
        assert bezirk_labels == 10
        _scale_and_attribution_apart(page)
        page.page.screenshot(path=str(artefacts / "search_map_city.png"))
        page.zoom(15)
        stats = page.page.evaluate("hwg.baseStats()")
        assert stats["street"]["drawn"] > 3_000 and stats["minor"]["drawn"] > 3_000
        assert page.page.locator(".hwg-label-bz:visible").count() == 0
        assert page.page.locator(".hwg-label-st:visible").count() >= 1
        page.page.screenshot(path=str(artefacts / "search_map_z15.png"))
        assert page.blocked == []
        assert page.errors == []
    finally:
        page.page.close()


@pytest.mark.parametrize("size", [(1300, 850), (760, 560)])
def test_scale_bar_and_attribution_never_overlap(
    browser: Any, city_map: tuple[Path, gpd.GeoDataFrame], size: tuple[int, int]
) -> None:
    page = Page(browser, city_map[0], size)
    try:
        _scale_and_attribution_apart(page)
        assert page.blocked == []
    finally:
        page.page.close()


def test_thirty_plots_keep_their_colour_and_legible_labels(
    browser: Any, base_map: BaseMap, tmp_path: Path, artefacts: Path
) -> None:
    plots = thirty_plots(base_map)
    path = export_map(plots, tmp_path / "top30.html", base_map=base_map, top_n=30)
    page = Page(browser, path)
    try:
        assert page.page.evaluate("document.documentElement.lang") == "de"
        labels = page.page.locator(".hwg-rank")
        n = labels.count()
        ranked = int(plots["rank"].notna().sum())
        assert n == min(30, ranked) >= 25
        boxes = [labels.nth(i).bounding_box() for i in range(n)]
        assert all(b is not None for b in boxes)
        for i in range(n):
            for j in range(i + 1, n):
                assert not _overlap(boxes[i], boxes[j]), (i, j, boxes[i], boxes[j])  # type: ignore[arg-type]
        # no label lies on the centre of a top plot: the score colour stays visible
        centres = page.page.evaluate(
            """hwg.data.top.map(function (i, k) {
                 var p = hwg.data.topPt[k];
                 var c = hwg.map.latLngToContainerPoint([p[1] / 1e5, p[0] / 1e5]);
                 return [c.x, c.y];
               })"""
        )
        for x, y in centres:
            for b in boxes:
                inside = b["x"] <= x <= b["x"] + b["width"] and b["y"] <= y <= b["y"] + b["height"]  # type: ignore[index]
                assert not inside, (x, y, b)
        assert page.page.locator(".hwg-leader:visible").count() >= 1  # crowded: leader lines
        _scale_and_attribution_apart(page)
        page.page.screenshot(path=str(artefacts / "top30_city.png"))
        # zoomed into the Lierenfeld cluster the labels stay apart as well
        lat, lon = page.page.evaluate(
            "(function(){var p = hwg.data.topPt[0]; return [p[1] / 1e5, p[0] / 1e5];})()"
        )
        page.zoom(16, lat, lon)
        boxes = [
            b
            for b in (labels.nth(i).bounding_box() for i in range(n))
            if b is not None and 0 <= b["x"] <= 1300 and 0 <= b["y"] <= 850
        ]
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                assert not _overlap(boxes[i], boxes[j])
        page.page.screenshot(path=str(artefacts / "top30_zoomed.png"))
        # a rank label opens the score card
        labels.first.click()
        assert page.page.locator(".hwg-card").count() == 1
        assert page.blocked == []
        assert page.errors == []
    finally:
        page.page.close()


def test_english_map_and_overlay_layer(browser: Any, base_map: BaseMap, tmp_path: Path) -> None:
    plots = thirty_plots(base_map).head(6)
    sites = gpd.GeoDataFrame(
        {"site_id": ["S-001", "S-002"], "area_ha": ["1,2", "0,8"]},
        geometry=[plots.geometry.iloc[0].buffer(80), plots.geometry.iloc[3].buffer(60)],
        crs=CRS,
    )
    overlay = MapOverlay(
        "Candidate sites", sites, label_column="site_id", card_columns=[("area_ha", "ha")]
    )
    path = export_map(
        plots, tmp_path / "en.html", base_map=base_map, top_n=3, lang="en", overlays=[overlay]
    )
    assert '<html lang="en"' in path.read_text(encoding="utf-8")
    page = Page(browser, path)
    try:
        assert page.page.evaluate("document.documentElement.lang") == "en"
        texts = page.page.locator(".hwg-rank").all_inner_texts()
        assert "S-001" in texts and "S-002" in texts
        assert page.page.get_by_text("Candidate sites").count() == 1  # in the layer control
        assert page.blocked == []
        assert page.errors == []
    finally:
        page.page.close()
