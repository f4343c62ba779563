"""Tests for handwerkgeo.network, checked against networkx Dijkstra."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon, box

from handwerkgeo import network as nw
from handwerkgeo.errors import (
    InvalidGeometryError,
    MissingColumnError,
    NoCrsError,
    UnexpectedCrsError,
    ValidationError,
)

X0, Y0 = 340_000.0, 5_680_000.0


def _pts(xy, crs="EPSG:25832"):
    return gpd.GeoSeries([Point(x, y) for x, y in xy], crs=crs)


# --- prepare_network ----------------------------------------------------------------------


def test_prepare_network_symmetric_min_parallel_and_components():
    G = nx.MultiDiGraph(crs="EPSG:25832")
    for i, x in enumerate([0.0, 10.0, 20.0, 500.0, 510.0]):
        G.add_node(100 + i, x=x, y=0.0)
    G.add_edge(100, 101, length=10.0)
    G.add_edge(101, 100, length=12.0)  # longer parallel edge the other way
    G.add_edge(100, 101, length=11.0)
    G.add_edge(101, 102, length=10.0)  # one-way in the graph, walkable both ways
    G.add_edge(102, 102, length=3.0)  # self-loop: dropped
    G.add_edge(103, 104, length=0.0)  # small second component, zero-length edge
    full = nw.prepare_network(G, largest_component=False)
    assert full.n_nodes == 5
    assert (full.csr != full.csr.T).nnz == 0
    assert full.csr[0, 1] == 10.0 and full.csr[1, 0] == 10.0
    assert full.csr[2, 2] == 0 and full.csr.nnz == 6  # 3 node pairs × 2, explicit zero kept
    assert full.n_edges == 3
    net = nw.prepare_network(G)
    assert net.n_nodes == 3
    assert net.node_ids.tolist() == [100, 101, 102]
    assert net.xy[:, 0].tolist() == [0.0, 10.0, 20.0]
    assert net.crs == "EPSG:25832"
    assert "3 nodes" in repr(net)
    with pytest.raises(AttributeError):
        net.crs = "EPSG:4326"  # frozen


def test_zero_length_edge_is_routable():
    G = nx.MultiDiGraph(crs="EPSG:25832")
    G.add_nodes_from(
        [(1, {"x": 0.0, "y": 0.0}), (2, {"x": 0.0, "y": 0.0}), (3, {"x": 5.0, "y": 0})]
    )
    G.add_edge(1, 2, length=0.0)
    G.add_edge(2, 3, length=5.0)
    net = nw.prepare_network(G)
    assert net.n_nodes == 3  # one component thanks to the explicit zero
    r = nw.nearest(net, _pts([(5, 0)]), _pts([(0, 0)]))
    assert r["dist_m"].iloc[0] == 5.0


def test_prepare_network_errors():
    G = nx.MultiDiGraph()
    G.add_node(1, x=0.0, y=0.0)
    with pytest.raises(NoCrsError):
        nw.prepare_network(G)
    G.graph["crs"] = "EPSG:4326"
    with pytest.raises(UnexpectedCrsError, match="project_graph"):
        nw.prepare_network(G)
    G.graph["crs"] = "EPSG:25832"
    G.add_node(2)  # no coordinates
    G.add_edge(1, 2)  # no length
    with pytest.raises(ValidationError) as err:
        nw.prepare_network(G)
    assert len(err.value.problems) == 2
    with pytest.raises(ValidationError, match="node_ids for 2"):
        nw.Network(np.array([1]), np.zeros((2, 2)), sparse.csr_array((2, 2)))


# --- snap ---------------------------------------------------------------------------------


def test_snap_points_and_polygons(grid_graph):
    net = nw.prepare_network(grid_graph)
    # an L-shaped plot whose centroid lies outside it; representative point lies inside
    ell = Polygon(
        [(X0, Y0), (X0 + 300, Y0), (X0 + 300, Y0 + 20), (X0 + 20, Y0 + 20), (X0 + 20, Y0 + 300),
         (X0, Y0 + 300)]
    )  # fmt: skip
    geoms = gpd.GeoSeries(
        [Point(X0 + 10, Y0 + 5), box(X0 + 180, Y0 + 180, X0 + 220, Y0 + 220), ell],
        index=["a", "b", "c"],
        crs="EPSG:25832",
    )
    s = nw.snap(net, geoms, max_snap_m=8)
    assert s.index.tolist() == ["a", "b", "c"]
    assert s.loc["a", "node"] == 0
    assert s.loc["a", "snap_m"] == pytest.approx(np.hypot(10, 5))
    assert not s.loc["a", "snapped"]
    rep = geoms.iloc[1].representative_point()
    node = s.loc["b", "node"]
    assert s.loc["b", "snap_m"] == pytest.approx(rep.distance(Point(net.xy[node])))
    assert ell.contains(Point(net.xy[s.loc["c", "node"]])) or s.loc["c", "snap_m"] < 150
    with pytest.raises(InvalidGeometryError, match="missing or empty"):
        nw.snap(net, gpd.GeoSeries([Point(X0, Y0), None], crs="EPSG:25832"))
    with pytest.raises(UnexpectedCrsError):
        nw.snap(net, _pts([(6.78, 51.2)], crs="EPSG:4326"))


# --- nearest / k_nearest / count_within on the grid --------------------------------------


def _nx_lengths(graph, net, node_pos):
    return nx.single_source_dijkstra_path_length(graph, net.node_ids[node_pos], weight="length")


def test_nearest_small_cases(grid_graph):
    net = nw.prepare_network(grid_graph)
    stops = _pts([(X0 + 500, Y0 + 500), (X0 + 100, Y0 + 3)])
    plots = _pts([(X0, Y0 + 4), (X0 + 500, Y0 + 470), (X0 - 2000, Y0)])
    r = nw.nearest(net, plots, stops, max_snap_m=500, circuity=1.3)
    assert r["target_idx"].tolist() == [1, 0, 1]
    assert r["dist_m"].iloc[0] == pytest.approx(4 + 100 + 3)
    assert r["dist_m"].iloc[1] == pytest.approx(30)
    assert r["fallback"].tolist() == [False, False, True]
    assert r["dist_m"].iloc[2] == pytest.approx(np.hypot(2100, 3) * 1.3)
    assert r["snap_m"].iloc[2] == pytest.approx(2000)


def test_off_network_target_nearer_is_flagged(grid_graph):
    net = nw.prepare_network(grid_graph)
    # target 0 on the network far away; target 1 beside the grid but > max_snap_m away
    stops = _pts([(X0 + 500, Y0 + 500), (X0 - 120, Y0)])
    plots = _pts([(X0, Y0), (X0 + 480, Y0 + 500)])
    r = nw.nearest(net, plots, stops, max_snap_m=100, circuity=1.3)
    assert r["target_idx"].tolist() == [1, 0]
    assert r["fallback"].tolist() == [True, False]
    assert r["dist_m"].iloc[0] == pytest.approx(120 * 1.3)
    assert r["dist_m"].iloc[1] == pytest.approx(20)
    # no on-network target at all
    only_off = nw.nearest(net, plots, _pts([(X0 - 120, Y0)]), max_snap_m=100)
    assert only_off["fallback"].all()


def test_parameter_errors(grid_graph):
    net = nw.prepare_network(grid_graph)
    p = _pts([(X0, Y0)])
    with pytest.raises(ValueError, match="circuity"):
        nw.nearest(net, p, p, circuity=0.9)
    with pytest.raises(ValueError, match="max_snap_m"):
        nw.nearest(net, p, p, max_snap_m=-1)
    with pytest.raises(ValidationError, match="empty"):
        nw.nearest(net, p, gpd.GeoSeries([], crs="EPSG:25832"))
    with pytest.raises(ValueError, match="k must"):
        nw.k_nearest(net, p, p, k=0)
    with pytest.raises(ValueError, match="radius_m"):
        nw.count_within(net, p, p, radius_m=np.nan)
    with pytest.raises(MissingColumnError):
        nw.count_within(net, p, gpd.GeoDataFrame(geometry=p), weights="jobs")
    with pytest.raises(ValidationError, match="weights"):
        nw.count_within(net, p, p, weights=[np.nan])


coords = st.tuples(st.floats(-700, 1200), st.floats(-700, 1200))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    origins=st.lists(coords, min_size=1, max_size=12),
    targets=st.lists(st.tuples(st.floats(0, 500), st.floats(0, 500)), min_size=1, max_size=6),
    max_snap=st.floats(5, 400),
)
def test_property_snap_added_and_fallback_exact(grid_graph, origins, targets, max_snap):
    """All targets on the grid: fallback iff the origin is off the network; otherwise the
    distance is origin snap + networkx distance + target snap, for the nearest target."""
    net = nw.prepare_network(grid_graph)
    o = _pts([(X0 + x, Y0 + y) for x, y in origins])
    t = _pts([(X0 + x, Y0 + y) for x, y in targets])
    # targets inside the grid are ≤ 71 m from a node: always on the network if max_snap ≥ 71
    t_snap = nw.snap(net, t, max_snap_m=max_snap)
    o_snap = nw.snap(net, o, max_snap_m=max_snap)
    r = nw.nearest(net, o, t, max_snap_m=max_snap, circuity=1.3)
    if t_snap["snapped"].all():
        assert (r["fallback"] == ~o_snap["snapped"]).all()
    t_on = t_snap["snapped"].to_numpy()
    t_xy = t.get_coordinates().to_numpy()
    for i in range(len(o)):
        assert r["snap_m"].iloc[i] == pytest.approx(o_snap["snap_m"].iloc[i])
        line = np.hypot(*(t_xy - o.get_coordinates().iloc[i].to_numpy()).T) * 1.3
        if not o_snap["snapped"].iloc[i]:
            assert r["fallback"].iloc[i]
            assert r["dist_m"].iloc[i] == pytest.approx(line.min())
            continue
        lengths = _nx_lengths(grid_graph, net, o_snap["node"].iloc[i])
        network_best = min(
            (
                o_snap["snap_m"].iloc[i] + lengths[net.node_ids[n]] + s
                for n, s, ok in zip(t_snap["node"], t_snap["snap_m"], t_on, strict=True)
                if ok
            ),
            default=np.inf,
        )
        line_best = line[~t_on].min() if (~t_on).any() else np.inf
        assert r["fallback"].iloc[i] == (line_best < network_best)
        assert r["dist_m"].iloc[i] == pytest.approx(min(network_best, line_best), abs=1e-9)


def test_k_nearest_count_pairs_on_grid(grid_graph):
    net = nw.prepare_network(grid_graph)
    stops = _pts([(X0 + 100 * i, Y0) for i in range(6)])
    plots = _pts([(X0, Y0 + 10), (X0 + 240, Y0), (X0 + 5000, Y0)], crs="EPSG:25832")
    kn = nw.k_nearest(net, plots, stops, k=3, cutoff_m=310, max_snap_m=100)
    assert kn[["dist_m_1", "dist_m_2", "dist_m_3"]].iloc[0].tolist() == [10, 110, 210]
    assert kn[["target_idx_1", "target_idx_2", "target_idx_3"]].iloc[0].tolist() == [0, 1, 2]
    assert kn["n_found"].tolist() == [3, 3, 0]
    assert kn["fallback"].tolist() == [False, False, False]  # plot 3: nothing within 310 m
    assert kn["target_idx_1"].isna().iloc[2] and np.isnan(kn["dist_m_1"].iloc[2])
    # plot 2 snaps to (X0 + 200, Y0) at 40 m
    assert kn["dist_m_1"].iloc[1] == pytest.approx(40)
    assert kn[["dist_m_2", "dist_m_3"]].iloc[1].tolist() == [140, 140]

    cnt = nw.count_within(net, plots, stops, radius_m=210, max_snap_m=100)
    assert cnt["count"].tolist() == [3, 3, 0]
    assert cnt["fallback"].tolist() == [False, False, True]
    w = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=stops.index)
    ws = nw.count_within(net, plots, stops, radius_m=210, max_snap_m=100, weights=w)
    assert ws["weighted_sum"].tolist() == [6.0, 2 + 3 + 4, 0.0]

    far = nw.count_within(net, plots, stops, radius_m=5000 * 1.3, max_snap_m=100)
    assert far["count"].iloc[2] == 6 and far["fallback"].iloc[2]

    pairs = nw.pairs_within(net, plots, stops, limit_m=210, max_snap_m=100)
    assert pairs.groupby("origin_idx").size().to_dict() == {0: 3, 1: 3}
    assert pairs.groupby("origin_idx")["dist_m"].apply(lambda s: s.is_monotonic_increasing).all()


# --- the real central network against networkx -------------------------------------------


def _reference_graph(graph, net):
    """networkx graph of the kept component, undirected like the Network."""
    return nx.MultiGraph(graph.subgraph(net.node_ids.tolist()))


@pytest.fixture(scope="module")
def real_case(central_graph, central_network, mirror_stops):
    net = central_network
    rng = np.random.default_rng(42)
    (minx, miny), (maxx, maxy) = net.xy.min(axis=0), net.xy.max(axis=0)
    n = 1200
    plots = gpd.GeoDataFrame(
        {"plot_id": [f"p{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs="EPSG:25832",
        index=pd.RangeIndex(1000, 1000 + n),
    )
    H = _reference_graph(central_graph, net)
    o_snap = nw.snap(net, plots)
    t_snap = nw.snap(net, mirror_stops)
    return net, plots, H, o_snap, t_snap


@pytest.mark.mirror
def test_real_network_shape(central_network, mirror_stops):
    assert central_network.n_nodes == 58_642
    assert len(mirror_stops) == 630
    snap = nw.snap(central_network, mirror_stops, max_snap_m=300)
    assert snap["snapped"].sum() == 247  # as in the domain brief


@pytest.mark.mirror
def test_nearest_matches_networkx_on_real_network(real_case, mirror_stops):
    net, plots, H, o_snap, t_snap = real_case
    circuity = 1.3
    got = nw.nearest(net, plots, mirror_stops, max_snap_m=500, circuity=circuity)
    assert got.index.equals(plots.index)

    # networkx: multi-source Dijkstra from every on-network stop, the stop's snap entering
    # as the length of an edge from a virtual source to its node
    on = t_snap["snapped"].to_numpy()
    R = nx.MultiDiGraph(H)
    sources = []
    for j in np.flatnonzero(on):
        R.add_edge(
            ("stop", j), net.node_ids[t_snap["node"].iloc[j]], length=t_snap["snap_m"].iloc[j]
        )
        sources.append(("stop", j))
    lengths = nx.multi_source_dijkstra_path_length(R, sources, weight="length")
    o_on = o_snap["snapped"].to_numpy()
    net_d = (
        np.array([lengths[net.node_ids[n]] for n in o_snap["node"]], dtype=float)
        + o_snap["snap_m"].to_numpy()
    )
    t_xy = mirror_stops.get_coordinates().to_numpy()
    o_xy = plots.get_coordinates().to_numpy()
    line_off = cKDTree(t_xy[~on]).query(o_xy)[0] * circuity
    line_all = cKDTree(t_xy).query(o_xy)[0] * circuity
    expected = np.where(o_on, np.minimum(net_d, line_off), line_all)
    expected_fallback = ~o_on | (line_off < net_d)
    np.testing.assert_array_equal(got["fallback"].to_numpy(), expected_fallback)
    np.testing.assert_allclose(got["dist_m"].to_numpy(), expected, rtol=0, atol=0.01)
    assert (~got["fallback"]).sum() > 900  # most plots are measured over the network
    assert got["fallback"].sum() > 0  # and the fallback is exercised

    # independent check of the argmin: full single-source searches from 15 plots
    stop_nodes = net.node_ids[t_snap["node"].to_numpy()]
    for i in np.flatnonzero(~got["fallback"].to_numpy())[:15]:
        from_plot = nx.single_source_dijkstra_path_length(
            H, net.node_ids[o_snap["node"].iloc[i]], weight="length"
        )
        totals = np.array(
            [from_plot[n] + s for n, s in zip(stop_nodes, t_snap["snap_m"], strict=True)]
        )
        totals[~on] = np.inf
        assert got["target_idx"].iloc[i] == np.argmin(totals)
        assert got["dist_m"].iloc[i] == pytest.approx(
            totals.min() + o_snap["snap_m"].iloc[i], abs=0.01
        )


@pytest.mark.mirror
def test_k_nearest_and_count_within_match_networkx(real_case, mirror_stops):
    net, plots, H, o_snap, t_snap = real_case
    k, cutoff, radius = 3, 1500.0, 800.0
    on_rows = np.flatnonzero(o_snap["snapped"].to_numpy())
    sample = plots.iloc[on_rows[:25]]
    kn = nw.k_nearest(net, sample, mirror_stops, k=k, cutoff_m=cutoff)
    cnt = nw.count_within(net, sample, mirror_stops, radius_m=radius)
    t_xy = mirror_stops.get_coordinates().to_numpy()
    on = t_snap["snapped"].to_numpy()
    stop_nodes = net.node_ids[t_snap["node"].to_numpy()]
    for row, label in enumerate(sample.index):
        s_o = o_snap.loc[label, "snap_m"]
        from_plot = nx.single_source_dijkstra_path_length(
            H, net.node_ids[o_snap.loc[label, "node"]], cutoff=cutoff, weight="length"
        )
        totals = np.array(
            [
                from_plot.get(n, np.inf) + s + s_o
                for n, s in zip(stop_nodes, t_snap["snap_m"], strict=True)
            ]
        )
        line = np.hypot(*(t_xy - sample.get_coordinates().iloc[row].to_numpy()).T) * 1.3
        totals = np.where(on, totals, line)
        order = np.argsort(totals, kind="stable")
        exp = totals[order][:k]
        exp = np.where(exp <= cutoff, exp, np.nan)
        got = kn.loc[label, [f"dist_m_{i + 1}" for i in range(k)]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, exp, atol=0.01, equal_nan=True)
        n_found = int(np.isfinite(exp).sum())
        assert kn.loc[label, "n_found"] == n_found
        assert kn.loc[label, "fallback"] == bool((~on[order[:n_found]]).any())
        assert cnt.loc[label, "count"] == int((totals <= radius).sum())
        assert cnt.loc[label, "fallback"] == bool(((totals <= radius) & ~on).any())


@pytest.mark.mirror
def test_pairs_within_consistent_with_count(real_case, mirror_stops):
    net, plots, _H, _o, _t = real_case
    pairs = nw.pairs_within(net, plots, mirror_stops, limit_m=800)
    cnt = nw.count_within(net, plots, mirror_stops, radius_m=800)
    per_origin = np.bincount(pairs["origin_idx"], minlength=len(plots))
    np.testing.assert_array_equal(per_origin, cnt["count"].to_numpy())
    near = nw.nearest(net, plots, mirror_stops)
    first = pairs.groupby("origin_idx")["dist_m"].min()
    np.testing.assert_allclose(
        near["dist_m"].to_numpy()[first.index.to_numpy()], first.to_numpy(), atol=1e-9
    )


# --- multi_measure: one shared search, the same results as the four functions -------------


def _separate(net, origins, targets, *, k, cutoff_m, radius_m, limit_m, weights=None, **kw):
    return {
        "nearest": nw.nearest(net, origins, targets, **kw),
        "k_nearest": nw.k_nearest(net, origins, targets, k=k, cutoff_m=cutoff_m, **kw),
        "count_within": nw.count_within(
            net, origins, targets, radius_m=radius_m, weights=weights, **kw
        ),
        "pairs_within": nw.pairs_within(net, origins, targets, limit_m=limit_m, **kw),
    }


def _assert_same_as_separate(net, origins, targets, **params):
    expected = _separate(net, origins, targets, **params)
    got = nw.multi_measure(net, origins, targets, **params)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(getattr(got, name), frame, check_exact=True)
    unsorted = nw.multi_measure(net, origins, targets, sort_pairs=False, **params).pairs_within
    key = ["origin_idx", "target_idx"]
    pd.testing.assert_frame_equal(
        unsorted.sort_values(key, ignore_index=True),
        expected["pairs_within"].sort_values(key, ignore_index=True),
        check_exact=True,
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    origins=st.lists(coords, min_size=1, max_size=15),
    targets=st.lists(coords, min_size=1, max_size=8),
    limits=st.lists(
        st.sampled_from([0.0, 90.0, 100.0, 150.0, 210.0, 400.0, 1000.0]), min_size=3, max_size=3
    ),
    k=st.integers(1, 4),
    max_snap=st.sampled_from([30.0, 100.0, 500.0]),
    weighted=st.booleans(),
)
def test_multi_measure_equals_separate_functions(
    grid_graph, origins, targets, limits, k, max_snap, weighted
):
    """Bit-identical to the four functions, for any limits in any order: the grid's whole
    metre distances give many ties (order of equal distances, prefix cut at a limit)."""
    net = nw.prepare_network(grid_graph)
    o = _pts([(X0 + x, Y0 + y) for x, y in origins])
    # a repeated target: two targets at the same place, equal distances to all origins
    t = _pts([(X0 + x, Y0 + y) for x, y in [*targets, targets[0]]])
    weights = np.linspace(0.1, 7.3, len(t)) if weighted else None
    cutoff_m, radius_m, limit_m = limits
    _assert_same_as_separate(
        net,
        o,
        t,
        k=k,
        cutoff_m=cutoff_m,
        radius_m=radius_m,
        limit_m=limit_m,
        weights=weights,
        max_snap_m=max_snap,
        circuity=1.3,
    )


def test_multi_measure_skips_and_errors(grid_graph):
    net = nw.prepare_network(grid_graph)
    stops = _pts([(X0 + 100 * i, Y0) for i in range(6)])
    plots = _pts([(X0, Y0 + 10), (X0 + 240, Y0)])
    only = nw.multi_measure(net, plots, stops, k=None, radius_m=None, limit_m=None)
    assert only.k_nearest is None and only.count_within is None and only.pairs_within is None
    pd.testing.assert_frame_equal(only.nearest, nw.nearest(net, plots, stops))
    some = nw.multi_measure(net, plots, stops, k=2, cutoff_m=300, radius_m=None, limit_m=None)
    assert some.count_within is None and some.pairs_within is None
    pd.testing.assert_frame_equal(
        some.k_nearest, nw.k_nearest(net, plots, stops, k=2, cutoff_m=300)
    )
    with pytest.raises(ValueError, match="k must"):
        nw.multi_measure(net, plots, stops, k=0)
    with pytest.raises(ValueError, match="cutoff_m"):
        nw.multi_measure(net, plots, stops, cutoff_m=-1)
    with pytest.raises(ValueError, match="radius_m"):
        nw.multi_measure(net, plots, stops, radius_m=np.inf)
    with pytest.raises(ValueError, match="limit_m"):
        nw.multi_measure(net, plots, stops, limit_m=np.nan)
    with pytest.raises(ValueError, match="weights"):
        nw.multi_measure(net, plots, stops, radius_m=None, weights=np.ones(6))
    with pytest.raises(ValidationError, match="weights"):
        nw.multi_measure(net, plots, stops, weights=[np.nan] * 6)


def test_multi_measure_sums_weights_in_the_same_order(grid_graph):
    """Weighted counts add the targets in the same order as count_within (target order,
    not distance order), so that float sums are identical: 0.1 + 0.2 + 0.3 differs from
    0.3 + 0.2 + 0.1 in the last bit."""
    net = nw.prepare_network(grid_graph)
    stops = _pts([(X0 + 200, Y0), (X0 + 100, Y0), (X0, Y0)])  # farthest first
    plots = _pts([(X0, Y0)])
    weights = [0.1, 0.2, 0.3]
    got = nw.multi_measure(net, plots, stops, radius_m=250, weights=weights)
    expected = nw.count_within(net, plots, stops, radius_m=250, weights=weights)
    assert got.count_within["weighted_sum"].iloc[0] == expected["weighted_sum"].iloc[0]
    assert expected["weighted_sum"].iloc[0] == (0.0 + 0.1 + 0.2) + 0.3
    assert got.pairs_within["target_idx"].tolist() == [2, 1, 0]


@pytest.mark.mirror
def test_multi_measure_equals_separate_functions_on_real_network(real_case, mirror_stops):
    """The transit parameters (k 3 within 2 km, 800 m count, pairs within 1 km) and other
    limits, on 1,200 plots and the 630 stops (many of them off the network)."""
    net, plots, _H, _o, _t = real_case
    weights = np.arange(len(mirror_stops), dtype=float) / 7
    for params in (
        {"k": 3, "cutoff_m": 2000.0, "radius_m": 800.0, "limit_m": 1000.0},
        {"k": 5, "cutoff_m": 600.0, "radius_m": 1500.0, "limit_m": 300.0, "weights": weights},
    ):
        _assert_same_as_separate(net, plots, mirror_stops, **params)


def test_k_nearest_mixes_network_and_straight_line_targets_in_distance_order(grid_graph):
    """Off-network targets (straight line × circuity) merge into an origin's k nearest by
    distance; the result equals a brute-force ranking of every candidate."""
    net = nw.prepare_network(grid_graph)
    rng = np.random.default_rng(7)
    graph = nx.Graph(grid_graph)
    for _ in range(15):
        o_xy = rng.uniform(-50, 550, (40, 2)) + np.array([X0, Y0])
        t_xy = rng.uniform(-600, 1100, (12, 2)) + np.array([X0, Y0])  # many off the grid
        o, t = _pts(o_xy), _pts(t_xy)
        k, cutoff = 3, 700.0
        r = nw.k_nearest(net, o, t, k=k, cutoff_m=cutoff, max_snap_m=60.0, circuity=1.3)
        o_snap, t_snap = nw.snap(net, o), nw.snap(net, t)
        t_on = (t_snap["snap_m"] <= 60.0).to_numpy()
        for i in range(len(o)):
            line = np.hypot(*(t_xy - o_xy[i]).T) * 1.3
            if o_snap["snap_m"].iloc[i] > 60.0:
                cands = sorted((d, 1, j) for j, d in enumerate(line) if d <= cutoff)
            else:
                lengths = _nx_lengths(graph, net, o_snap["node"].iloc[i])
                start = o_snap["snap_m"].iloc[i]
                net_d = [
                    start + lengths[net.node_ids[n]] + sn
                    for n, sn in zip(t_snap["node"], t_snap["snap_m"], strict=True)
                ]
                cands = sorted(
                    (d, 0 if t_on[j] else 1, j)
                    for j, d in enumerate(np.where(t_on, net_d, line))
                    if d <= cutoff
                )
            best = cands[:k]
            got = [r[f"dist_m_{q + 1}"].iloc[i] for q in range(len(best))]
            assert got == pytest.approx([d for d, _, _ in best], abs=1e-9), i
            assert [r[f"target_idx_{q + 1}"].iloc[i] for q in range(len(best))] == [
                j for _, _, j in best
            ], i
            assert r["n_found"].iloc[i] == len(best)
            assert r["fallback"].iloc[i] == any(line_flag for _, line_flag, _ in best)
