"""The real city boundary: inside/outside agrees with shapely on the dissolved Stadtteile."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from handwerkgeo.boundary import TOLERANCE_M, CityBoundary, load_city_boundary


@pytest.fixture(scope="module")
def city(fetched_data_dir) -> CityBoundary:
    boundary = load_city_boundary(fetched_data_dir)
    assert boundary is not None
    return boundary


@pytest.fixture(scope="module")
def dissolved(city):
    return city.quarters.union_all()


@pytest.mark.mirror
def test_planner_examples(city) -> None:
    """Hellerhof (inside the Stadtteil polygon) is in, a plot in Neuss 4.9 km out is not."""
    pts = gpd.GeoSeries(
        shapely.points([[354_196, 5_666_438], [336_500, 5_673_000]]), crs="EPSG:25832"
    )
    got = city.locate(pts)
    assert got["inside"].tolist() == [True, False]
    assert got.loc[1, "distance_m"] == pytest.approx(4928, abs=5)
    assert got.loc[1, "direction"] == "W"
    assert got.loc[1, "nearest_stadtteil"] != ""


@pytest.mark.mirror
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_inside_agrees_with_shapely(city, dissolved, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = dissolved.bounds
    n = 2_000
    x = rng.uniform(x0 - 2_000, x1 + 2_000, n)
    y = rng.uniform(y0 - 2_000, y1 + 2_000, n)
    # points near the boundary too: jitter boundary vertices by a few tolerances
    ring = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(dissolved)[0]))
    pick = ring[rng.integers(0, len(ring), 500)]
    x = np.concatenate([x, pick[:, 0] + rng.normal(0, 2 * TOLERANCE_M, 500)])
    y = np.concatenate([y, pick[:, 1] + rng.normal(0, 2 * TOLERANCE_M, 500)])
    pts = shapely.points(x, y)
    got = city.locate(gpd.GeoSeries(pts, crs="EPSG:25832"))["inside"].to_numpy()
    ref_in = shapely.contains_xy(dissolved, x, y)
    ref_dist = shapely.distance(dissolved, pts)
    # inside by shapely -> inside; farther out than the tolerance band -> outside
    assert got[ref_in].all()
    far = ~ref_in & (ref_dist > TOLERANCE_M + 1e-6)
    assert not got[far].any()
    # within the band outside the boundary: inside (the documented tolerance)
    band = ~ref_in & (ref_dist <= TOLERANCE_M - 1e-6)
    assert got[band].all()


def test_missing_and_empty_geometries_are_not_inside() -> None:
    quarters = gpd.GeoDataFrame(
        {"stadtteil_name": ["A"]}, geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:25832"
    )
    city = CityBoundary.from_stadtteile(quarters)
    got = city.locate(gpd.GeoSeries([None, shapely.Point(), shapely.Point(5, 5)], crs="EPSG:25832"))
    assert got["inside"].tolist() == [False, False, True]
    assert np.isnan(got["distance_m"].iloc[0])
