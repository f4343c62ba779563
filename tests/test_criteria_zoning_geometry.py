"""Plot geometry measures and zoning suitability / distance to housing."""

from __future__ import annotations

import math

import geopandas as gpd
import momepy
import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box

from handwerkgeo.criteria.geometry import compactness, narrowest_width, plot_area
from handwerkgeo.criteria.zoning import distance_to_residential, zoning_suitability
from handwerkgeo.errors import NoCrsError, UnexpectedCrsError

CRS = "EPSG:25832"
L_SHAPE = Polygon([(0, 0), (100, 0), (100, 20), (20, 20), (20, 100), (0, 100)])


@pytest.fixture
def plots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"plot_id": ["rect", "L", "pt", "multi"], "area_m2": [np.nan, np.nan, 3000.0, np.nan]},
        geometry=[
            box(0, 0, 100, 40),
            L_SHAPE,
            Point(10, 10),
            MultiPolygon([box(0, 0, 10, 10), box(100, 0, 130, 30)]),
        ],
        crs=CRS,
        index=[10, 11, 12, 13],
    )


def test_area_uses_column_for_points(plots) -> None:
    a = plot_area(plots)
    assert list(a.index) == [10, 11, 12, 13]
    assert a[10] == 4000 and a[11] == pytest.approx(100 * 20 + 20 * 80)
    assert a[12] == 3000 and a[13] == 1000


def test_compactness_is_polsby_popper_and_matches_momepy(plots) -> None:
    c = compactness(plots)
    assert c[10] == pytest.approx(4 * math.pi * 4000 / 280**2)
    poly = plots[plots.geom_type != "Point"]
    ref = momepy.square_compactness(poly) * math.pi / 4
    np.testing.assert_allclose(c[poly.index].to_numpy(), ref.to_numpy())
    assert np.isnan(c[12])
    circle = gpd.GeoDataFrame(geometry=[Point(0, 0).buffer(50, 256)], crs=CRS)
    assert compactness(circle).iloc[0] == pytest.approx(1.0, abs=1e-3)


def test_narrowest_width(plots) -> None:
    w = narrowest_width(plots)
    assert w[10] == pytest.approx(40, abs=1)
    # L-shape with 20 m wings: inscribed circle at the corner is wider than 20 m but far
    # below the 100 m bounding box
    assert 20 <= w[11] < 30
    assert np.isnan(w[12])
    assert w[13] == pytest.approx(30, abs=1)


def test_geometry_checks_crs(plots) -> None:
    with pytest.raises(UnexpectedCrsError):
        plot_area(plots.to_crs(4326))
    with pytest.raises(NoCrsError):
        compactness(plots.set_crs(None, allow_override=True))


def test_input_not_mutated(plots) -> None:
    before = plots.copy()
    plot_area(plots), compactness(plots), narrowest_width(plots)
    zoning_suitability(plots, table={"GE": 1.0})
    assert plots.equals(before)


TABLE = {"GE": 1.0, "MU": 0.8, "WA": 0.0}


def test_zoning_from_plot_attribute_then_layer() -> None:
    plots = gpd.GeoDataFrame(
        {"zoning": ["GE", None, "MU", "nonsense", None]},
        geometry=[
            box(0, 0, 10, 10),
            box(100, 0, 140, 10),
            box(0, 0, 1, 1),
            box(300, 0, 310, 10),
            Point(205, 5),
        ],
        crs=CRS,
    )
    layer = gpd.GeoDataFrame(
        {"zone_category": ["WA", "GE", "MI"], "zone_source": ["xplanung_bplan"] * 3},
        geometry=[box(100, 0, 130, 10), box(130, 0, 200, 10), box(200, 0, 400, 10)],
        crs=CRS,
    )
    out = zoning_suitability(plots, layer, table=TABLE)
    assert list(out.columns) == ["zone_category", "zone_source", "suitability"]
    assert out["zone_category"].tolist() == ["GE", "WA", "MU", "MI", "MI"]
    assert out["zone_source"].tolist() == [
        "plot",
        "xplanung_bplan",
        "plot",
        "xplanung_bplan",
        "xplanung_bplan",
    ]
    assert out["suitability"].iloc[0] == 1.0 and out["suitability"].iloc[1] == 0.0
    assert np.isnan(out["suitability"].iloc[3])  # MI not in this table -> no data


def test_zoning_without_any_information() -> None:
    plots = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=CRS)
    out = zoning_suitability(plots, table=TABLE)
    assert out.loc[0, "zone_category"] == "UNKNOWN" and np.isnan(out.loc[0, "suitability"])


def test_distance_to_residential() -> None:
    plots = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10), box(150, 0, 160, 10), Point(1000, 5)], crs=CRS
    )
    zoning = gpd.GeoDataFrame(
        {"zone_category": ["WA", "GE", "WR"]},
        geometry=[box(50, 0, 100, 10), box(0, 0, 1000, 10), box(5, 5, 20, 20)],
        crs=CRS,
    )
    d = distance_to_residential(plots, zoning)
    assert d.iloc[0] == 0.0  # overlaps the WR polygon
    assert d.iloc[1] == pytest.approx(50)
    assert d.iloc[2] == pytest.approx(900)
    # a layer of buildings without categories: every geometry is housing
    d2 = distance_to_residential(plots, zoning[["geometry"]].iloc[[0]])
    assert d2.iloc[0] == pytest.approx(40)
    none = distance_to_residential(plots, zoning[zoning.zone_category == "GE"])
    assert none.isna().all()
