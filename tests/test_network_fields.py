"""Node-level fields of handwerkgeo.network: the compiled searches against networkx."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from scipy import sparse
from shapely.geometry import Point

from handwerkgeo import network as nw
from handwerkgeo.network import _junctions, _kernels, fields


def _random_graph(rng: np.random.Generator, trial: int):
    """Small graphs with chains, pure cycles, trees (dead ends), zero-length edges and several
    components."""
    n = int(rng.integers(2, 40))
    edges: set[tuple[int, int]] = set()
    if trial % 3 == 0:  # a path, sometimes closed to a cycle without junctions
        edges.update((i, i + 1) for i in range(n - 1))
        if n > 2 and rng.random() < 0.5:
            edges.add((0, n - 1))
    elif trial % 3 == 1:  # a tree: dead ends, chains ending in them, junctions of degree 3+
        edges.update((int(rng.integers(0, i)), i) for i in range(1, n))
    for _ in range(int(rng.integers(0, n // (3 if trial % 3 == 1 else 1) + 1))):
        a, b = (int(x) for x in rng.integers(0, n, 2))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    if not edges:
        edges.add((0, 1))
    u = np.array([e[0] for e in edges])
    v = np.array([e[1] for e in edges])
    ties = trial % 2 == 1  # integer-like lengths: many exact ties
    w = rng.choice([0.0, 1.0, 2.5, 10.0, 7.25], len(u)) if ties else rng.uniform(0, 10, len(u))
    csr = sparse.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    csr.sort_indices()
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    return n, csr, G


def _arrays(csr):
    return csr.indptr.astype(np.int64), csr.indices.astype(np.int64), csr.data.astype(float)


def test_counts_over_the_junction_graph_equal_plain_searches_and_networkx() -> None:
    rng = np.random.default_rng(3)
    for trial in range(200):
        n, csr, G = _random_graph(rng, trial)
        indptr, indices, data = _arrays(csr)
        m = int(rng.integers(1, 6))
        src = rng.integers(0, n, m)
        d0 = rng.choice([0.0, 1.0, 3.3], m)
        weights = rng.integers(0, 3, (m, 2)).astype(float)
        limit = float(rng.choice([0.0, 2.5, 5.0, 12.0, 30.0]))
        plain = _kernels.bounded_sums(indptr, indices, data, src, d0, limit, weights)
        graph = _junctions.junction_graph(indptr, indices, data)
        for parts in (1, 2):
            junction = _junctions.junction_sums(graph, src, d0, limit, weights, parts)
            assert np.array_equal(plain, junction), (trial, parts)
        want = np.zeros((n, 2))
        for s in range(m):
            reach = nx.single_source_dijkstra_path_length(G, int(src[s]), weight="weight")
            for node, d in reach.items():
                if d0[s] + d <= limit:
                    want[node] += weights[s]
        assert np.array_equal(plain, want), trial


def test_k_labels_equal_networkx_with_ties_broken_by_target_position() -> None:
    rng = np.random.default_rng(5)
    for trial in range(150):
        n, csr, G = _random_graph(rng, trial)
        indptr, indices, data = _arrays(csr)
        m = int(rng.integers(1, 7))
        t_node = rng.integers(0, n, m)
        t_snap = rng.choice([0.0, 1.0, 2.5], m)
        k = int(rng.integers(1, 4))
        limit = float(rng.choice([5.0, 12.0, 1e9]))
        dist, target, found = _kernels.k_labels(indptr, indices, data, t_node, t_snap, k, limit)
        lengths = [
            nx.single_source_dijkstra_path_length(G, int(t), weight="weight") for t in t_node
        ]
        for v in range(n):
            cands = sorted(
                (t_snap[t] + lengths[t][v], t)
                for t in range(m)
                if v in lengths[t] and t_snap[t] + lengths[t][v] <= limit
            )[:k]
            assert found[v] == len(cands), (trial, v)
            got = list(
                zip(dist[v, : found[v]].tolist(), target[v, : found[v]].tolist(), strict=True)
            )
            assert [t for _, t in got] == [t for _, t in cands], (trial, v)
            assert np.allclose([d for d, _ in got], [d for d, _ in cands], atol=1e-9)


@pytest.fixture
def line_network():
    G = nx.MultiDiGraph(crs="EPSG:25832")
    G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(12)])
    for i in range(11):
        G.add_edge(i, i + 1, length=100.0)
    G.add_edge(3, 20, length=50.0)  # a side street: node 3 is a junction
    G.nodes[20].update(x=300.0, y=50.0)
    return nw.prepare_network(G)


def _pts(xy):
    return gpd.GeoSeries([Point(x, y) for x, y in xy], crs="EPSG:25832")


def test_counts_at_nodes_and_off_nodes_agree(line_network) -> None:
    stops = _pts([(100.0 * i, 0.0) for i in (1, 2, 2, 5, 9)] + [(300.0, 50.0)])
    at_nodes = _pts([(100.0 * i, 0.0) for i in range(12)])
    near_nodes = _pts([(100.0 * i, 1e-9) for i in range(12)])  # snap > 0: pairs path
    a = nw.count_within(line_network, at_nodes, stops, radius_m=250)["count"].to_numpy()
    b = nw.count_within(line_network, near_nodes, stops, radius_m=250.0 + 1e-6)
    assert a.tolist() == b["count"].tolist()
    G = nx.Graph()
    coo = sparse.triu(line_network.csr).tocoo()
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    stop_nodes = nw.snap(line_network, stops)["node"].tolist()
    want = []
    for i in range(12):
        origin = int(nw.snap(line_network, at_nodes)["node"].iloc[i])
        d = nx.single_source_dijkstra_path_length(G, origin, weight="weight")
        want.append(sum(1 for t in stop_nodes if d.get(t, np.inf) <= 250))
    assert a.tolist() == want
    assert a.tolist()[:6] == [3, 4, 4, 5, 4, 2]  # node 5: the stop at 500 m, and 200 + 50 m


def test_prepared_fields_change_no_result(line_network, grid_graph) -> None:
    net = nw.prepare_network(grid_graph)
    rng = np.random.default_rng(1)
    x0, y0 = net.xy.min(axis=0)
    x1, y1 = net.xy.max(axis=0)
    plots = _pts(np.column_stack([rng.uniform(x0, x1, 300), rng.uniform(y0, y1, 300)]))
    stops = _pts(np.column_stack([rng.uniform(x0, x1, 25), rng.uniform(y0, y1, 25)]))
    before = nw.multi_measure(net, plots, stops, k=3, radius_m=300, limit_m=400)
    net.fields.clear()
    nw.prepare_fields(net, stops, k=3, cutoff_m=2000.0, limit_m=400.0)
    kinds = sorted({key[0] for key in net.fields})
    assert {"nearest", "k", "reach"} <= set(kinds)
    after = nw.multi_measure(net, plots, stops, k=3, radius_m=300, limit_m=400)
    for name in ("nearest", "k_nearest", "count_within", "pairs_within"):
        left, right = getattr(before, name), getattr(after, name)
        assert left.equals(right), name


def test_fields_are_computed_once_per_target_set(line_network, monkeypatch) -> None:
    calls = []
    original = _kernels.k_labels

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(_kernels, "k_labels", counting)
    stops = _pts([(100.0, 0.0), (900.0, 0.0)])
    plots = _pts([(0.0, 5.0), (450.0, 0.0)])
    first = nw.k_nearest(line_network, plots, stops, k=2)
    second = nw.k_nearest(line_network, _pts([(1000.0, 3.0)]), stops, k=2)
    assert len(calls) == 1
    assert first["dist_m_1"].tolist() == [105.0, 350.0]
    assert second["target_idx_1"].tolist() == [1]
    key = ("k", fields.digest(*_snap(line_network, stops)), 2, 2000.0)
    assert key in line_network.fields


def _snap(net, geoms):
    node, snap = fields.snap_xy_memo(net, np.column_stack([geoms.x, geoms.y]))
    return node, snap
