"""Candidate sites of the site search: the maximum site size, search areas, map and tables."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from handwerkgeo.errors import ConfigError
from handwerkgeo.search import SearchResult, candidate_cells, candidate_sites, merge_cells

X0, Y0 = 343_000.0, 5_677_000.0


def _surface(scores: np.ndarray, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """Square cells over a grid, row 0 at the bottom; ``scores[row, col]``; NaN = excluded."""
    rows, cols = scores.shape
    x0, y0 = np.ceil(X0 / cell_m) * cell_m, np.ceil(Y0 / cell_m) * cell_m  # on the grid
    cells = candidate_cells(box(x0, y0, x0 + cols * cell_m, y0 + rows * cell_m), cell_m=cell_m)
    cells = cells.sort_values(["grid_row", "grid_col"]).reset_index(drop=True)
    flat = scores.ravel()
    cells["score_total"] = np.nan_to_num(flat, nan=0.0)
    cells["excluded"] = np.isnan(flat)
    return cells


def _l_shaped() -> np.ndarray:
    """A 12 × 9 block of good cells (1 ha each) with a notch: one region of 73 ha."""
    s = np.full((9, 12), 80.0)
    s[:5, 5:] = np.nan
    s[7, 2] = 95.0  # one best cell
    return s


def test_oversize_region_is_a_search_area_split_into_contiguous_sites() -> None:
    surface = _surface(_l_shaped())
    good = surface[~surface["excluded"]]
    sites, areas = candidate_sites(surface, threshold=60, min_area_m2=2_500, max_area_m2=50_000)
    assert len(areas) == 1 and areas["search_area_id"].tolist() == ["SG-001"]
    assert areas["area_m2"].iloc[0] == pytest.approx(good.area.sum())
    assert areas["n_sites"].iloc[0] == len(sites)
    # every site at most 5 ha, contiguous (one polygon), part of the search area
    assert (sites["area_m2"] <= 50_000 + 1e-6).all()
    assert (sites.geometry.geom_type == "Polygon").all()
    assert (sites["search_area_id"] == "SG-001").all()
    # the sites tile the region: every good cell in exactly one site
    cells = [c for ids in sites["cell_ids"] for c in ids.split(",")]
    assert sorted(cells) == sorted(good["plot_id"])
    assert sites["area_m2"].sum() == pytest.approx(areas["area_m2"].iloc[0])
    assert shapely.union_all(sites.geometry.to_numpy()).equals_exact(
        areas.geometry.iloc[0], tolerance=0.01
    ) or shapely.symmetric_difference(
        shapely.union_all(sites.geometry.to_numpy()), areas.geometry.iloc[0]
    ).area == pytest.approx(0, abs=1)
    # close to the maximum, not crumbs: 73 ha need at least 15 sites; allow a few more
    assert 15 <= len(sites) <= 20
    # ids best first
    assert sites["site_id"].tolist() == [f"S-{i:03d}" for i in range(1, len(sites) + 1)]
    assert sites["score_mean"].is_monotonic_decreasing
    assert sites.attrs["search"] == {"threshold": 60.0, "max_site_m2": 50_000}


def test_small_regions_stay_whole_and_name_no_search_area() -> None:
    s = np.zeros((6, 6))
    s[0, 0:3] = 80  # 3 ha: one site
    s[4:6, 4:6] = 70  # 4 ha: one site
    sites, areas = candidate_sites(_surface(s), threshold=60, min_area_m2=0, max_area_m2=50_000)
    assert areas.empty
    assert sorted(sites["n_cells"]) == [3, 4]
    assert (sites["search_area_id"] == "").all()


def test_no_limit_merges_everything_as_before() -> None:
    surface = _surface(_l_shaped())
    sites, areas = candidate_sites(surface, threshold=60, min_area_m2=0, max_area_m2=None)
    assert len(sites) == 1 and areas.empty
    assert merge_cells(surface, threshold=60, min_area_m2=0)["n_cells"].tolist() == [73]


def test_a_cell_larger_than_the_maximum_is_only_a_search_area() -> None:
    s = np.zeros((3, 3))
    s[1, 1] = 90
    s[0, 0] = 85
    sites, areas = candidate_sites(
        _surface(s, cell_m=300.0), threshold=60, min_area_m2=0, max_area_m2=50_000
    )
    assert sites.empty  # no site could be as small as 5 ha
    assert len(areas) == 2 and (areas["n_sites"] == 0).all()


def test_split_respects_a_winding_region() -> None:
    """A U-shaped region: halves fall apart when cut; every site must stay contiguous."""
    s = np.full((10, 10), np.nan)
    s[:, 0:2] = 80
    s[:, 8:10] = 80
    s[0:2, :] = 80
    sites, areas = candidate_sites(_surface(s), threshold=60, min_area_m2=0, max_area_m2=30_000)
    assert len(areas) == 1
    assert (sites["area_m2"] <= 30_000 + 1e-6).all()
    assert (sites.geometry.geom_type == "Polygon").all()
    assert sites["n_cells"].sum() == int((~np.isnan(s)).sum())


def test_bad_maximum() -> None:
    with pytest.raises(ConfigError, match="positive"):
        candidate_sites(_surface(_l_shaped()), threshold=60, min_area_m2=0, max_area_m2=0)


def test_maximum_below_minimum_plot_area_is_refused_before_scoring() -> None:
    from handwerkgeo.search import site_search

    with pytest.raises(ConfigError, match=r"0\.1 ha.*minimum plot area"):
        site_search(max_site_ha=0.1, data_dir="/nonexistent")  # fails before loading data


# --- map layer, card and tables -------------------------------------------------------------


def _result(names: list[str] | None = None) -> SearchResult:
    surface = _surface(_l_shaped())
    sites, areas = candidate_sites(surface, threshold=60, min_area_m2=0, max_area_m2=50_000)
    names = names or ["Flingern Süd"] * len(sites)
    sites.insert(1, "stadtteil_name", (names * len(sites))[: len(sites)])
    areas.insert(1, "stadtteil_name", names[0])
    return SearchResult(surface, sites, 60.0, "Stadtbezirk 9", areas, 50_000.0)


def test_payload_cards_in_german_and_english() -> None:
    from handwerkgeo.export._sites import SiteLayer, site_payload

    res = _result(['<img src=x onerror="alert(1)">'])
    de = site_payload(res.sites, res.search_areas, lang="de")
    first = de["sites"][0]
    assert first["id"] == "S-001"
    assert de["text"]["siteTitle"] == "Standortvorschlag {id}"
    rows = dict(zip(de["text"]["siteRows"], first["v"], strict=True))
    assert rows["Fläche"].endswith(" ha") and rows["Teil von Suchgebiet"] == "SG-001"
    assert rows["Punktzahl (Ø der Zellen)"] == f"{res.sites['score_mean'].iloc[0]:.1f}".replace(
        ".", ","
    )
    assert "höchstens 5,0 ha" in de["text"]["siteNote"] and "≥ 60,0" in de["text"]["siteNote"]
    # values travel as text; the page sets them with textContent, never as HTML
    assert rows["Stadtteil"] == '<img src=x onerror="alert(1)">'
    script = inspect.getsource(SiteLayer)
    assert "textContent" in script and "innerHTML" not in script
    en = site_payload(res.sites, res.search_areas, lang="en")
    assert en["text"]["siteTitle"] == "Candidate site {id}"
    assert "at most 5.0 ha" in en["text"]["siteNote"]
    assert en["text"]["areaTitle"] == "Search area {id}"
    assert "split into" in en["areas"][0]["note"] and "S-001" in en["areas"][0]["note"]
    # Leaflet coordinates: [lat, lng] in Düsseldorf, the cells' collinear vertices dropped
    ring = first["ll"][0]
    lat, lng = ring[0]
    assert 51.0 < lat < 51.5 and 6.6 < lng < 7.0
    assert len(ring) <= 2 * res.sites["n_cells"].iloc[0] + 3


def test_export_map_draws_the_site_layers(tmp_path: Path) -> None:
    from test_export_maps import make_scored

    from handwerkgeo.export.maps import export_map

    res = _result()
    out = export_map(
        make_scored(5), tmp_path / "k.html", sites=res.sites, search_areas=res.search_areas
    )
    text = out.read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" id="hwg-sites-data">(.*?)</script>', text)
    assert data is not None
    payload = json.loads(data.group(1))
    assert [s["id"] for s in payload["sites"]] == res.sites["site_id"].tolist()
    # the layer control lists both layers (names JSON-encoded in the page)
    assert json.dumps(f"Standortvorschläge ({len(res.sites)})") in text
    assert json.dumps("Suchgebiete über 5,0 ha (1)") in text
    # without sites nothing of it is in the page
    plain = export_map(make_scored(5), tmp_path / "p.html").read_text(encoding="utf-8")
    assert "hwg-sites-data" not in plain


@pytest.mark.parametrize("lang", ["de", "en"])
def test_workbook_has_sites_search_areas_and_settings(tmp_path: Path, lang: str) -> None:
    from handwerkgeo.export._sites import write_search_workbook

    res = _result(["=HYPERLINK(1)"])
    path = write_search_workbook(res, tmp_path / "suche.xlsx", cell_m=100, lang=lang)
    book = pd.read_excel(path, sheet_name=None)
    names = (
        ["Standorte", "Suchgebiete", "Suche"]
        if lang == "de"
        else [
            "Sites",
            "Search areas",
            "Search",
        ]
    )
    assert list(book) == names
    sites = book[names[0]]
    area_col = "Fläche (ha)" if lang == "de" else "Area (ha)"
    assert len(sites) == len(res.sites)
    assert (sites[area_col] <= 5.0).all()
    assert sites.iloc[0, 0] == "S-001"
    assert not sites.astype(str).apply(lambda c: c.str.startswith("=")).any().any()
    assert len(book[names[1]]) == 1
    import openpyxl

    for ws in openpyxl.load_workbook(path).worksheets:  # every sheet prints
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows in ("1:1", "$1:$1"), ws.title
        assert ws.freeze_panes is not None and ws.auto_filter.ref, ws.title


def test_search_as_geoparquet_cells_sites_and_search_areas(tmp_path: Path) -> None:
    """``search --out suche.parquet``: cells, sites and search areas as three GeoParquet files
    that geopandas and pyarrow read back with their CRS and the 'geo' metadata."""
    import json

    import geopandas as gpd
    import pyarrow.parquet as pq

    from handwerkgeo.cli.search import write_search_parquet

    res = _result()
    written = write_search_parquet(res, tmp_path / "suche.parquet")
    names = [p.name for p in written]
    assert names == ["suche.parquet", "suche.sites.parquet", "suche.search_areas.parquet"]
    cells = gpd.read_parquet(written[0])
    assert len(cells) == len(res.surface) and cells.crs.to_epsg() == 25832
    sites = gpd.read_parquet(written[1])
    assert list(sites["site_id"]) == list(res.sites["site_id"])
    assert (sites["max_site_m2"] == 50_000.0).all() and (sites["threshold"] == 60.0).all()
    areas = gpd.read_parquet(written[2])
    assert len(areas) == len(res.search_areas)
    geo = json.loads(pq.read_schema(written[1]).metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
