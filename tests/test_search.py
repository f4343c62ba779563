"""Candidate cells and merging of high-scoring cells into sites."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Polygon, box

from handwerkgeo.crs import CRS
from handwerkgeo.errors import HandwerkgeoError
from handwerkgeo.search import candidate_cells, merge_cells, search_area


def test_square_cells_tile_the_area_exactly() -> None:
    area = Polygon([(343_000, 5_677_000), (344_050, 5_677_000), (343_000, 5_678_030)])
    cells = candidate_cells(area, cell_m=100, min_cell_share=0.0)
    assert cells["plot_id"].is_unique
    assert cells.crs == CRS
    assert cells.geometry.area.sum() == pytest.approx(area.area, rel=1e-9)
    assert (cells["area_m2"] <= 100 * 100 + 1e-6).all()


def test_hex_cells_have_the_square_cell_area() -> None:
    area = box(343_000, 5_677_000, 345_000, 5_679_000)
    cells = candidate_cells(area, cell_m=100, shape="hex", clip=False)
    assert cells.geometry.area.iloc[0] == pytest.approx(10_000, rel=1e-9)
    # hexagons tile the plane: clipped hexagons cover the area exactly
    clipped = candidate_cells(area, cell_m=100, shape="hex", min_cell_share=0.0)
    assert clipped.geometry.area.sum() == pytest.approx(area.area, rel=1e-9)
    assert not clipped.geometry.overlaps(clipped.geometry.iloc[0]).any()


def test_bad_cell_size() -> None:
    with pytest.raises(HandwerkgeoError, match="cell_m"):
        candidate_cells(box(0, 0, 10, 10), cell_m=0)


def _surface(scores: np.ndarray) -> gpd.GeoDataFrame:
    cells = candidate_cells(box(343_000, 5_677_000, 343_500, 5_677_500), cell_m=100)
    cells = cells.sort_values(["grid_row", "grid_col"]).reset_index(drop=True)
    cells["score_total"] = scores.ravel()
    cells["excluded"] = False
    return cells


def test_merge_uses_edge_adjacency_only() -> None:
    s = np.zeros((5, 5))
    s[0, 0] = s[0, 1] = 80  # two cells side by side -> one site
    s[2, 2] = 90  # touches the next one only at a corner -> separate sites
    s[3, 3] = 70
    sites = merge_cells(_surface(s), threshold=60, min_area_m2=0)
    assert sorted(sites["n_cells"]) == [1, 1, 2]
    assert sites.iloc[0]["score_mean"] == 90  # best first
    assert sites["site_id"].tolist() == ["S-001", "S-002", "S-003"]
    two = sites[sites["n_cells"] == 2].iloc[0]
    assert two["area_m2"] == pytest.approx(20_000)
    assert two.geometry.geom_type == "Polygon"


def test_merge_respects_min_area_and_exclusion() -> None:
    s = np.zeros((5, 5))
    s[0, 0] = 80
    s[4, :] = 75
    surf = _surface(s)
    surf.loc[surf["score_total"] == 80, "excluded"] = True
    sites = merge_cells(surf, threshold=60, min_area_m2=20_000)
    assert len(sites) == 1
    assert sites.iloc[0]["n_cells"] == 5
    assert merge_cells(surf, threshold=99, min_area_m2=0).empty


def test_search_area_errors_list_valid_values() -> None:
    st = gpd.GeoDataFrame(
        {
            "stadtteil_code": ["011", "021"],
            "stadtteil_name": ["Altstadt", "Flingern-Süd"],
            "bezirk_code": ["01", "02"],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=CRS,
    )
    geom, label = search_area(st, stadtteil="flingern sued")
    assert label.startswith("Stadtteil Flingern-Süd") and geom.area == 1
    assert search_area(st, bezirk=2)[1] == "Stadtbezirk 2"
    assert search_area(st)[0].area == 2
    with pytest.raises(HandwerkgeoError, match="011 Altstadt"):
        search_area(st, stadtteil="Atlantis")
    with pytest.raises(HandwerkgeoError, match="01, 02"):
        search_area(st, bezirk=11)
