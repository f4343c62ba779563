"""Tests for handwerkgeo.criteria.accessibility."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from handwerkgeo.criteria import accessibility as acc
from handwerkgeo.errors import MissingColumnError, UnexpectedCrsError, ValidationError
from handwerkgeo.network import prepare_network, snap

X0, Y0 = 340_000.0, 5_680_000.0


@pytest.fixture
def line_network():
    """A 2 km straight street, nodes every 100 m, along y = Y0."""
    G = nx.MultiDiGraph(crs="EPSG:25832")
    G.add_nodes_from((i, {"x": X0 + 100.0 * i, "y": Y0}) for i in range(21))
    for i in range(20):
        G.add_edge(i, i + 1, length=100.0)
    return prepare_network(G)


def _plots(xy, **cols):
    return gpd.GeoDataFrame(
        {"plot_id": [f"p{i}" for i in range(len(xy))], **cols},
        geometry=[Point(X0 + x, Y0 + y) for x, y in xy],
        crs="EPSG:25832",
        index=pd.Index([10 * (i + 1) for i in range(len(xy))]),
    )


def _stops(xs, categories=None, platforms=None):
    data = {"stop_id": [f"s{i}" for i in range(len(xs))]}
    if categories is not None:
        data["stop_category"] = categories
    if platforms is not None:
        data["platform_count"] = platforms
    return gpd.GeoDataFrame(data, geometry=[Point(X0 + x, Y0) for x in xs], crs="EPSG:25832")


def test_transit_classes_follow_table(line_network):
    # one stop per category at x = 0; plots at distances on the street
    for cat, row in acc.TRANSIT_CLASS_TABLE.items():
        stops = _stops([0.0], categories=[cat])
        plots = _plots([(300, 0), (500, 0), (700, 0), (1000, 0), (1100, 0)])
        r = acc.transit_access(plots, line_network, stops)
        assert r["transit_class"].tolist() == [*row, "F"]
        assert r["transit_quality"].tolist() == [acc.TRANSIT_QUALITY[c] for c in [*row, "F"]]
        assert r.index.equals(plots.index)


def test_best_class_over_all_stops_not_only_nearest(line_network):
    stops = _stops([100.0, 700.0], categories=[5, 1])
    plots = _plots([(0, 0), (0, 30)])
    r = acc.transit_access(plots, line_network, stops, k=2, radius_m=500)
    assert r["stop_id_nearest"].tolist() == ["s0", "s0"]
    assert r["stop_category_nearest"].tolist() == [5, 5]
    assert r["stop_walk_m"].tolist() == [100.0, 130.0]
    assert r["transit_class"].tolist() == ["B", "B"]  # category 1 at 700/730 m
    assert r["stops2_mean_walk_m"].tolist() == [400.0, 430.0]
    assert r["stops_within_500m"].tolist() == [1, 1]
    assert r["snap_m"].tolist() == [0.0, 30.0]
    assert not r["fallback"].any()
    expected_cols = [
        "stop_walk_m",
        "stop_id_nearest",
        "stop_category_nearest",
        "stops2_mean_walk_m",
        "stops_within_500m",
        "transit_class",
        "transit_quality",
        "snap_m",
        "fallback",
    ]
    assert list(r.columns) == expected_cols


def test_transit_categories_from_platforms_and_table_override(line_network):
    stops = _stops([0.0, 1500.0], platforms=[31, 1])
    plots = _plots([(200, 0), (1400, 0)])
    r = acc.transit_access(plots, line_network, stops)
    assert r["stop_category_nearest"].tolist() == [1, 5]
    assert r["transit_class"].tolist() == ["A", "D"]
    table = {1: ("B", "C", "D", "E"), 5: ("F", "F", "F", "F")}
    r2 = acc.transit_access(plots, line_network, stops, class_table=table)
    assert r2["transit_class"].tolist() == ["B", "F"]
    # stop_category wins; missing categories are filled from platform_count
    stops["stop_category"] = [np.nan, 2]
    r3 = acc.transit_access(plots, line_network, stops)
    assert r3["stop_category_nearest"].tolist() == [1, 2]


def test_stop_category_from_platforms():
    got = acc.stop_category_from_platforms(pd.Series([31, 10, 9, 5, 4, 3, 2, 1, 0, None]))
    assert got.tolist()[:8] == [1, 1, 2, 2, 3, 3, 4, 5]
    assert got.isna().tolist()[8:] == [True, True]


def test_transit_access_errors(line_network):
    plots = _plots([(0, 0)])
    with pytest.raises(MissingColumnError, match="stop_id"):
        acc.transit_access(plots, line_network, _stops([0.0], [1]).drop(columns="stop_id"))
    with pytest.raises(MissingColumnError, match="platform_count"):
        acc.transit_access(plots, line_network, _stops([0.0]))
    with pytest.raises(ValidationError, match="stop category"):
        acc.transit_access(plots, line_network, _stops([0.0], [7]))
    with pytest.raises(ValidationError, match="A–F"):
        acc.transit_access(plots, line_network, _stops([0.0], [1]), class_table={1: "ABCX"})
    with pytest.raises(ValidationError, match="one per band"):
        acc.transit_access(plots, line_network, _stops([0.0], [1]), class_table={1: "AB"})
    with pytest.raises(UnexpectedCrsError):
        acc.transit_access(plots.to_crs(4326), line_network, _stops([0.0], [1]))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.floats(0, 1500), min_size=1, max_size=10),
    along=st.floats(0, 2000),
    max_snap=st.floats(10, 600),
)
def test_property_fallback_exactly_off_network_and_snap_added(
    line_network, offsets, along, max_snap
):
    """Plots beside the street: fallback iff farther than max_snap_m; else the snap is added."""
    stops = _stops([1000.0], categories=[3])
    xs = np.full(len(offsets), along)
    plots = _plots(list(zip(xs, offsets, strict=True)))
    r = acc.transit_access(plots, line_network, stops, max_snap_m=max_snap)
    s = snap(line_network, plots, max_snap_m=max_snap)
    np.testing.assert_array_equal(r["fallback"].to_numpy(), ~s["snapped"].to_numpy())
    node_x = line_network.xy[s["node"].to_numpy(), 0] - X0
    expected_on = s["snap_m"].to_numpy() + np.abs(node_x - 1000.0)
    expected_off = np.hypot(along - 1000.0, np.asarray(offsets)) * 1.3
    expected = np.where(s["snapped"], expected_on, expected_off)
    np.testing.assert_allclose(r["stop_walk_m"].to_numpy(), expected, atol=1e-6)
    dist = acc.network_distance_to(plots, line_network, stops, max_snap_m=max_snap)
    np.testing.assert_allclose(dist["dist_m"].to_numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(dist["fallback"].to_numpy(), ~s["snapped"].to_numpy())


def test_network_distance_to_columns(line_network):
    junctions = gpd.GeoDataFrame(geometry=[Point(X0 + 2000, Y0)], crs="EPSG:25832")
    plots = _plots([(0, 20), (500, 0)])
    r = acc.network_distance_to(plots, line_network, junctions)
    assert list(r.columns) == ["dist_m", "snap_m", "fallback"]
    assert r["dist_m"].tolist() == [2020.0, 1500.0]
    assert r.index.equals(plots.index)


def test_distance_to_lines_matches_shapely_loop():
    rng = np.random.default_rng(3)
    lines = gpd.GeoDataFrame(
        geometry=[LineString(rng.uniform(0, 5000, (4, 2)) + np.array([X0, Y0])) for _ in range(30)],
        crs="EPSG:25832",
    )
    polys = [
        box(X0 + x, Y0 + y, X0 + x + 40, Y0 + y + 60) for x, y in rng.uniform(0, 5000, (50, 2))
    ]
    plots = gpd.GeoDataFrame(
        {"plot_id": [f"q{i}" for i in range(50)]},
        geometry=[*polys[:45], *[Point(X0 + 10 * i, Y0) for i in range(5)]],
        crs="EPSG:25832",
        index=pd.RangeIndex(100, 150),
    )
    got = acc.distance_to_lines(plots, lines, name="cycle_dist_m")
    expected = [min(g.distance(line) for line in lines.geometry) for g in plots.geometry]
    np.testing.assert_allclose(got.to_numpy(), expected, atol=1e-9)
    assert got.name == "cycle_dist_m" and got.index.equals(plots.index)
    with pytest.raises(UnexpectedCrsError):
        acc.distance_to_lines(plots, lines.to_crs(4326))


def test_customer_potential_matches_loop():
    rng = np.random.default_rng(4)
    pop = gpd.GeoDataFrame(
        {"einwohner": rng.integers(1000, 40000, 12).astype(float)},
        geometry=[
            *[Point(X0 + x, Y0 + y) for x, y in rng.uniform(-8000, 8000, (8, 2))],
            *[
                box(X0 + x, Y0 + y, X0 + x + 900, Y0 + y + 500)
                for x, y in rng.uniform(0, 5000, (4, 2))
            ],
        ],
        crs="EPSG:25832",
    )
    plots = _plots([tuple(p) for p in rng.uniform(0, 6000, (40, 2))])
    raw = acc.customer_potential(plots, pop, pop_col="einwohner", normalise=False)
    beta = np.log(2) / 3000.0
    expected = []
    for g in plots.geometry:
        total = 0.0
        for p, geom in zip(pop["einwohner"], pop.geometry, strict=True):
            c = geom if geom.geom_type == "Point" else geom.centroid
            total += p * np.exp(-beta * g.distance(c))
        expected.append(total)
    np.testing.assert_allclose(raw.to_numpy(), expected, rtol=1e-12)
    assert raw.name == "customer_potential" and raw.index.equals(plots.index)
    norm = acc.customer_potential(plots, pop, pop_col="einwohner")
    assert norm.max() == pytest.approx(1.0)
    np.testing.assert_allclose(norm.to_numpy(), raw.to_numpy() / raw.max())
    ref = acc.customer_potential(plots, pop, pop_col="einwohner", normalise=2 * raw.max())
    assert ref.max() == pytest.approx(0.5)
    half = acc.customer_potential(
        plots, pop, pop_col="einwohner", half_distance_m=1000, normalise=False
    )
    assert (half < raw).all()


def test_customer_potential_errors():
    pop = gpd.GeoDataFrame(
        {"population": [100.0, np.nan, -5.0]}, geometry=[Point(X0, Y0)] * 3, crs="EPSG:25832"
    )
    plots = _plots([(0, 0)])
    with pytest.raises(ValidationError) as err:
        acc.customer_potential(plots, pop)
    assert "2 rows" in str(err.value)
    with pytest.raises(MissingColumnError, match="pop_col"):
        acc.customer_potential(plots, pop, pop_col="residents")
    with pytest.raises(ValueError, match="half_distance_m"):
        acc.customer_potential(plots, pop.iloc[:1], half_distance_m=0)
    with pytest.raises(ValueError, match="normalise"):
        acc.customer_potential(plots, pop.iloc[:1], normalise=-1.0)


@pytest.mark.mirror
def test_transit_access_real(central_network, mirror_stops):
    rng = np.random.default_rng(7)
    (minx, miny), (maxx, maxy) = central_network.xy.min(axis=0), central_network.xy.max(axis=0)
    n = 2000
    plots = gpd.GeoDataFrame(
        {"plot_id": [f"r{i}" for i in range(n)]},
        geometry=[
            box(x, y, x + 60, y + 50)
            for x, y in zip(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n), strict=True)
        ],
        crs="EPSG:25832",
    )
    r = acc.transit_access(plots, central_network, mirror_stops)
    assert r.index.equals(plots.index)
    assert set(r["transit_class"]) <= set("ABCDEF")
    assert r["transit_quality"].between(0, 1).all()
    assert r["stop_id_nearest"].str.startswith("de:05111:").all()
    on = ~r["fallback"]
    assert (r.loc[on, "stop_walk_m"] >= r.loc[on, "snap_m"]).all()
    # the k-mean is never below the nearest distance, counts are non-negative
    m = r["stops3_mean_walk_m"].notna()
    assert (r.loc[m, "stops3_mean_walk_m"] >= r.loc[m, "stop_walk_m"] - 1e-9).all()
    assert (r["stops_within_800m"] >= 0).all()
    # plots next to Düsseldorf Hbf (31 platforms, category 1) are class A
    hbf = mirror_stops.loc[mirror_stops["platform_count"] == 31]
    near_hbf = gpd.GeoDataFrame(
        {"plot_id": ["hbf"]}, geometry=hbf.geometry.buffer(40).to_numpy(), crs="EPSG:25832"
    )
    assert (
        acc.transit_access(near_hbf, central_network, mirror_stops)["transit_class"].iloc[0] == "A"
    )
