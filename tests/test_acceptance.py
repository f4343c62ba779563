"""Acceptance tests: regressions found while exercising the planner workflows end to end.

Each test pins one bug found in acceptance testing with awkward, hand-made inputs.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

# --- site search: merging adjacent cells -------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "cell_m"),
    [("hex", 100.0), ("hex", 75.0), ("square", 33.3), ("square", 100.0)],
)
def test_all_good_cells_of_a_compact_area_merge_into_one_site(shape: str, cell_m: float) -> None:
    """Neighbouring grid cells share their edge exactly, so equal good cells form one site.

    Hexagon vertices (and square edges for fractional cell sizes) were computed per cell,
    so neighbours were 1e-10 m apart, did not intersect, and one site came out as several.
    """
    from handwerkgeo.search import candidate_cells, merge_cells

    area = box(346_013.7, 5_676_021.3, 347_511.9, 5_677_233.1)
    cells = candidate_cells(area, cell_m=cell_m, shape=shape, min_cell_share=0.0)  # type: ignore[arg-type]
    surface = cells.assign(score_total=90.0, excluded=False)
    sites = merge_cells(surface, threshold=50.0, min_area_m2=0.0)
    assert len(sites) == 1
    assert sites["n_cells"].iloc[0] == len(cells)
    assert sites["area_m2"].iloc[0] == pytest.approx(area.area, rel=1e-9)
    assert isinstance(sites, gpd.GeoDataFrame)
