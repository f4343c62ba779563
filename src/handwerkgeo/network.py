"""Walking-network distances from many plots to sets of targets, in one batch per target set.

A :class:`Network` is an immutable, array-based copy of a street graph: node coordinates in
EPSG:25832, a symmetric sparse matrix of edge lengths in metres, and a KD-tree of the nodes.
:func:`prepare_network` builds it from any osmnx-compatible graph (e.g.
:func:`handwerkgeo.sources.osm.graph_from_ways`).

How a distance is measured
--------------------------
Every origin (plot) and every target (stop, motorway junction, …) is *snapped* to its
nearest network node by straight line (:func:`snap`): points as they are, polygons and
lines from their representative point (:meth:`shapely.Geometry.representative_point`, a
point guaranteed to lie on the geometry; a centroid can fall outside an L-shaped plot).
The distance between an origin ``o`` and a target ``t`` is then::

    snap(o) + network distance(node(o), node(t)) + snap(t)

Origins or targets farther than ``max_snap_m`` from the network are not routed; for them
the straight-line distance × ``circuity`` is used and the result row is flagged
``fallback=True``. An origin's result uses a straight line when the origin is off the
network, when an off-network target (at straight line × circuity) is nearer than every
target reached over the network, or when no on-network target can be reached; the flag
says so for every row. Results never mix the two silently.

All searches are run by :func:`scipy.sparse.csgraph.dijkstra` from the *targets*, all at
once, over the whole graph — never one search per plot. Target snapping distances enter
the search exactly: each target becomes a virtual node joined to its network node by an
edge of its snapping length, so the search starts from the targets themselves.
:func:`nearest` is one ``min_only`` search; :func:`k_nearest` and :func:`count_within`
are one search limited to the cut-off distance from every target (in chunks that bound
memory), whose reached (node, target, distance) triples are then grouped per node.

Distances are undirected: one-way streets are walked both ways. For a drive network (e.g.
access to motorway junctions) this ignores one-way restrictions, which is a fair
approximation of access distances but not of driving routes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from handwerkgeo.crs import CRS, check_crs
from handwerkgeo.errors import (
    InvalidGeometryError,
    MissingColumnError,
    NoCrsError,
    UnexpectedCrsError,
    ValidationError,
)

__all__ = [
    "Network",
    "count_within",
    "k_nearest",
    "nearest",
    "pairs_within",
    "prepare_network",
    "snap",
]

logger = logging.getLogger(__name__)

#: Upper bound on the cells of one dense block of search results (float64 → 128 MB).
_BLOCK_CELLS = 16_000_000

Geoms: TypeAlias = gpd.GeoSeries | gpd.GeoDataFrame


@dataclass(frozen=True, eq=False)
class Network:
    """An immutable routable network in EPSG:25832.

    Parameters
    ----------
    node_ids
        Graph node id of each network node; position ``i`` is row/column ``i`` of ``csr``.
    xy
        ``(n, 2)`` node coordinates in metres, EPSG:25832.
    csr
        Symmetric ``(n, n)`` sparse matrix of edge lengths in metres (the shortest of any
        parallel edges; explicit zeros are zero-length edges).
    crs
        Always ``"EPSG:25832"``.

    Attributes
    ----------
    tree
        :class:`scipy.spatial.cKDTree` of ``xy``, built once when the network is created.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> csr = sparse.csr_array(np.array([[0, 5.0], [5.0, 0]]))
    >>> net = Network(np.array([10, 11]), np.array([[0.0, 0.0], [5.0, 0.0]]), csr)
    >>> net.n_nodes, net.n_edges
    (2, 1)
    """

    node_ids: np.ndarray
    xy: np.ndarray
    csr: sparse.csr_array
    crs: str = CRS
    tree: cKDTree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        xy = np.asarray(self.xy, dtype=float)
        n = len(xy)
        problems = []
        if xy.ndim != 2 or xy.shape[1] != 2:
            problems.append(f"xy must have shape (n, 2), got {xy.shape}")
        if len(self.node_ids) != n:
            problems.append(f"{len(self.node_ids)} node_ids for {n} coordinates")
        if self.csr.shape != (n, n):
            problems.append(f"csr has shape {self.csr.shape}, expected ({n}, {n})")
        if pyproj.CRS.from_user_input(self.crs) != pyproj.CRS.from_user_input(CRS):
            problems.append(f"crs is {self.crs}, expected {CRS}")
        if problems:
            raise ValidationError("Network", problems)
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "tree", cKDTree(xy))

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.xy)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (node pairs joined by at least one edge)."""
        return int(sparse.triu(self.csr, k=1).nnz)

    def __repr__(self) -> str:
        return f"Network({self.n_nodes} nodes, {self.n_edges} edges, {self.crs})"


def prepare_network(G: nx.MultiDiGraph, *, largest_component: bool = True) -> Network:  # noqa: N803
    """Build a :class:`Network` from an osmnx-compatible graph in EPSG:25832.

    Parameters
    ----------
    G
        Graph with graph attribute ``crs`` (EPSG:25832), node attributes ``x``, ``y`` and
        edge attribute ``length`` in metres. Not modified. Directions are ignored: an edge
        ``u → v`` can be walked both ways.
    largest_component
        Keep only the largest connected component, so that every node reaches every
        other. With ``False`` unreachable targets fall back to straight lines (flagged).

    Returns
    -------
    Network

    Raises
    ------
    NoCrsError, UnexpectedCrsError
        If the graph has no CRS or another one than EPSG:25832 (project it first:
        ``osmnx.project_graph(G, to_crs="EPSG:25832")``).
    ValidationError
        If nodes lack coordinates or edges lack a finite, non-negative ``length``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(1, {"x": 0.0, "y": 0.0}), (2, {"x": 3.0, "y": 4.0})])
    >>> _ = G.add_edge(1, 2, length=5.0)
    >>> _ = G.add_edge(1, 2, length=7.0)
    >>> net = prepare_network(G)
    >>> float(net.csr[0, 1]), float(net.csr[1, 0])
    (5.0, 5.0)
    """
    crs = G.graph.get("crs")
    if crs is None:
        msg = (
            "graph has no 'crs' graph attribute. Build it with handwerkgeo.sources.osm or "
            f"set G.graph['crs'] = '{CRS}' if its x/y are EPSG:25832 metres."
        )
        raise NoCrsError(msg)
    if pyproj.CRS.from_user_input(crs) != pyproj.CRS.from_user_input(CRS):
        msg = (
            f"graph is in {crs}, but networks must be in {CRS}. Project it first: "
            f"osmnx.project_graph(G, to_crs='{CRS}')."
        )
        raise UnexpectedCrsError(msg)

    ids = np.array(list(G.nodes), dtype=object)
    problems: list[str] = []
    xs = np.fromiter((d.get("x", np.nan) for _, d in G.nodes(data=True)), float, len(ids))
    ys = np.fromiter((d.get("y", np.nan) for _, d in G.nodes(data=True)), float, len(ids))
    bad_xy = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad_xy.any():
        problems.append(
            f"{int(bad_xy.sum())} nodes have no finite x/y (e.g. {list(ids[bad_xy][:5])})"
        )
    if len(ids) == 0:
        problems.append("graph has no nodes")
    position = {node: i for i, node in enumerate(G.nodes)}
    edges = list(G.edges(data="length"))
    u = np.fromiter((position[e[0]] for e in edges), np.int64, len(edges))
    v = np.fromiter((position[e[1]] for e in edges), np.int64, len(edges))
    w = np.fromiter((np.nan if e[2] is None else e[2] for e in edges), float, len(edges))
    bad_w = ~np.isfinite(w) | (w < 0)
    if bad_w.any():
        examples = [edges[i][:2] for i in np.flatnonzero(bad_w)[:5]]
        problems.append(
            f"{int(bad_w.sum())} edges have no finite, non-negative 'length' in metres "
            f"(e.g. {examples}); add lengths with osmnx.distance.add_edge_lengths(G)"
        )
    if problems:
        raise ValidationError("graph", problems)

    loop = u == v
    u, v, w = u[~loop], v[~loop], w[~loop]
    rows = np.r_[u, v]
    cols = np.r_[v, u]
    vals = np.r_[w, w]
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    n = len(ids)
    csr = sparse.csr_array((vals[first], (rows[first], cols[first])), shape=(n, n))
    xy = np.column_stack([xs, ys])

    if largest_component and n:
        n_comp, labels = csgraph.connected_components(csr, directed=False)
        if n_comp > 1:
            biggest = np.argmax(np.bincount(labels))
            keep = np.flatnonzero(labels == biggest)
            csr = sparse.csr_array(csr[keep][:, keep])
            ids, xy = ids[keep], xy[keep]
            logger.info(
                "prepare_network: kept the largest of %d components (%d of %d nodes)",
                n_comp,
                len(keep),
                n,
            )
    try:
        node_ids = ids.astype(np.int64)
    except (TypeError, ValueError):
        node_ids = ids
    net = Network(node_ids=node_ids, xy=xy, csr=csr)
    logger.info("prepare_network: %r", net)
    return net


# --------------------------------------------------------------------------------------
# snapping


def _points(geoms: Geoms, *, name: str) -> tuple[np.ndarray, pd.Index]:
    """Coordinates of the point of each geometry that is snapped and measured from."""
    check_crs(geoms, name=name)
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    arr = np.asarray(series.array)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    if missing.any():
        labels = list(series.index[missing][:10])
        msg = (
            f"{int(missing.sum())} geometries of {name} are missing or empty (index "
            f"{labels}{' …' if missing.sum() > 10 else ''}); distances need a location. "
            "Remove or fix these rows first (the plot readers list them as rejects)."
        )
        raise InvalidGeometryError(msg)
    is_point = shapely.get_type_id(arr) == 0
    pts = arr.copy()
    if (~is_point).any():
        pts[~is_point] = shapely.point_on_surface(arr[~is_point])
    return shapely.get_coordinates(pts), series.index


def _snap_xy(network: Network, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    dist, node = network.tree.query(xy, workers=-1)
    return node.astype(np.int64), dist


def snap(network: Network, geoms: Geoms, *, max_snap_m: float = 500.0) -> pd.DataFrame:
    """Snap geometries to their nearest network node.

    Parameters
    ----------
    network
        The network.
    geoms
        GeoSeries or GeoDataFrame in EPSG:25832. Points are snapped as they are, other
        geometries from their representative point (a point on the geometry).
    max_snap_m
        Largest straight-line distance to the network that counts as "on the network".

    Returns
    -------
    pandas.DataFrame
        On ``geoms.index``: ``node`` (int, position in the network, see
        ``network.node_ids``), ``snap_m`` (straight-line distance in metres), ``snapped``
        (``snap_m <= max_snap_m``).

    Raises
    ------
    InvalidGeometryError
        If geometries are missing or empty.

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(1, {"x": 0.0, "y": 0.0}), (2, {"x": 100.0, "y": 0.0})])
    >>> _ = G.add_edge(1, 2, length=100.0)
    >>> pts = gpd.GeoSeries([Point(90, 30), Point(0, 900)], crs="EPSG:25832")
    >>> snap(prepare_network(G), pts).round(1).to_dict("list")
    {'node': [1, 0], 'snap_m': [31.6, 900.0], 'snapped': [True, False]}
    """
    xy, index = _points(geoms, name="geometries")
    node, dist = _snap_xy(network, xy)
    return pd.DataFrame({"node": node, "snap_m": dist, "snapped": dist <= max_snap_m}, index=index)


# --------------------------------------------------------------------------------------
# shared machinery


def _check_params(max_snap_m: float, circuity: float) -> None:
    if not np.isfinite(max_snap_m) or max_snap_m < 0:
        msg = f"max_snap_m must be a distance in metres >= 0, got {max_snap_m!r}."
        raise ValueError(msg)
    if not np.isfinite(circuity) or circuity < 1:
        msg = (
            f"circuity must be >= 1 (network distance / straight line; 1.3 is typical for "
            f"walking in a city), got {circuity!r}."
        )
        raise ValueError(msg)


def _augmented(network: Network, t_node: np.ndarray, t_snap: np.ndarray) -> sparse.csr_array:
    """The network plus one virtual node per target, joined to its node by its snap."""
    csr = network.csr
    n, m = network.n_nodes, len(t_node)
    indptr = np.r_[csr.indptr, csr.indptr[-1] + np.arange(1, m + 1)]
    indices = np.r_[csr.indices, t_node].astype(csr.indices.dtype, copy=False)
    data = np.r_[csr.data, t_snap]
    return sparse.csr_array((data, indices, indptr), shape=(n + m, n + m))


@dataclass
class _Sides:
    """Origins and targets snapped, with their points."""

    o_xy: np.ndarray
    o_node: np.ndarray
    o_snap: np.ndarray
    o_on: np.ndarray
    o_index: pd.Index
    t_xy: np.ndarray
    t_node: np.ndarray
    t_snap: np.ndarray
    t_on: np.ndarray

    @property
    def on_targets(self) -> np.ndarray:
        return np.flatnonzero(self.t_on)

    @property
    def off_targets(self) -> np.ndarray:
        return np.flatnonzero(~self.t_on)


def _sides(
    network: Network, origins: Geoms, targets: Geoms, max_snap_m: float, circuity: float
) -> _Sides:
    _check_params(max_snap_m, circuity)
    o_xy, o_index = _points(origins, name="origins")
    t_xy, _ = _points(targets, name="targets")
    if len(t_xy) == 0:
        msg = "targets is empty; there is nothing to measure a distance to."
        raise ValidationError("targets", [msg])
    o_node, o_snap = _snap_xy(network, o_xy)
    t_node, t_snap = _snap_xy(network, t_xy)
    return _Sides(
        o_xy, o_node, o_snap, o_snap <= max_snap_m, o_index, t_xy, t_node, t_snap,
        t_snap <= max_snap_m,
    )  # fmt: skip


def _reach(
    network: Network,
    t_node: np.ndarray,
    t_snap: np.ndarray,
    limit_m: float,
    nodes_of_interest: np.ndarray,
    *,
    by_distance: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (node, target, distance ≤ limit) with distance = target snap + network distance.

    One limited Dijkstra search from every target (in blocks bounding memory); only nodes
    in ``nodes_of_interest`` are returned, sorted by node (then by distance if
    ``by_distance``).
    """
    n, m = network.n_nodes, len(t_node)
    if m == 0 or len(nodes_of_interest) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    graph = _augmented(network, t_node, t_snap)
    wanted = np.zeros(n + m, dtype=bool)
    wanted[nodes_of_interest] = True
    block = max(1, _BLOCK_CELLS // (n + m))
    parts_node, parts_t, parts_d = [], [], []
    for start in range(0, m, block):
        sources = n + np.arange(start, min(m, start + block))
        dist = csgraph.dijkstra(graph, directed=True, indices=sources, limit=limit_m)
        t_rel, node = np.nonzero(np.isfinite(dist) & wanted[None, :])
        parts_node.append(node)
        parts_t.append(t_rel + start)
        parts_d.append(dist[t_rel, node])
    node = np.concatenate(parts_node).astype(np.int64)
    target = np.concatenate(parts_t).astype(np.int64)
    d = np.concatenate(parts_d)
    order = np.lexsort((d, node)) if by_distance else np.argsort(node, kind="stable")
    return node[order], target[order], d[order]


def _expand(start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) pairs for the ranges start[i] : start[i] + length[i]."""
    owner = np.repeat(np.arange(len(start)), length)
    offsets = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    return owner, np.repeat(start, length) + offsets


def _pairs(
    network: Network,
    s: _Sides,
    limit_m: float,
    circuity: float,
    *,
    first_k: int | None = None,
    sort: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (origin row, target, distance ≤ limit, straight-line?) pair.

    Network pairs for on-network origins and targets (one limited search from all
    targets); straight line × circuity for off-network origins (to every target) and
    from on-network origins to off-network targets. Sorted by origin, then distance,
    when ``sort`` or ``first_k``; with ``first_k`` only the first ``k`` per origin.
    """
    rows_p, targets_p, dists_p, lines_p = [], [], [], []
    on = s.on_targets
    o_rows = np.flatnonzero(s.o_on)
    if len(on) and len(o_rows):
        node, target, d = _reach(
            network,
            s.t_node[on],
            s.t_snap[on],
            limit_m,
            np.unique(s.o_node[o_rows]),
            by_distance=first_k is not None,
        )
        start = np.searchsorted(node, s.o_node[o_rows], side="left")
        length = np.searchsorted(node, s.o_node[o_rows], side="right") - start
        if first_k is not None:
            length = np.minimum(length, first_k)
        owner, pos = _expand(start, length)
        rows = o_rows[owner]
        dist = d[pos] + s.o_snap[rows]
        keep = dist <= limit_m
        rows_p.append(rows[keep])
        targets_p.append(on[target[pos[keep]]])
        dists_p.append(dist[keep])
        lines_p.append(np.zeros(int(keep.sum()), dtype=bool))
    line_sets = [(np.flatnonzero(~s.o_on), np.arange(len(s.t_xy)))]
    if len(s.off_targets):
        line_sets.append((o_rows, s.off_targets))
    for rows, pool in line_sets:
        if len(rows) == 0 or len(pool) == 0:
            continue
        reach_line = limit_m / circuity * (1 + 1e-12)
        if first_k is None:
            pairs = cKDTree(s.o_xy[rows]).sparse_distance_matrix(
                cKDTree(s.t_xy[pool]), max_distance=reach_line, output_type="ndarray"
            )
            i, j, d_line = pairs["i"], pairs["j"], pairs["v"]
        else:  # only the first k of each origin can matter
            kk = min(first_k, len(pool))
            d_line, j = cKDTree(s.t_xy[pool]).query(
                s.o_xy[rows], k=[*range(1, kk + 1)], distance_upper_bound=reach_line
            )
            i = np.repeat(np.arange(len(rows)), kk)
            d_line, j = d_line.ravel(), j.ravel()
            hit = np.isfinite(d_line)
            i, j, d_line = i[hit], j[hit], d_line[hit]
        dist = d_line * circuity
        keep = dist <= limit_m
        rows_p.append(rows[i[keep]])
        targets_p.append(pool[j[keep]])
        dists_p.append(dist[keep])
        lines_p.append(np.ones(int(keep.sum()), dtype=bool))
    if not rows_p:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0), np.empty(0, dtype=bool)
    row = np.concatenate(rows_p).astype(np.int64)
    target = np.concatenate(targets_p).astype(np.int64)
    dist = np.concatenate(dists_p)
    line = np.concatenate(lines_p)
    if sort or first_k is not None:
        order = np.lexsort((dist, row))
        row, target, dist, line = row[order], target[order], dist[order], line[order]
    if first_k is not None:
        rank = _rank_in_group(row)
        keep = rank < first_k
        row, target, dist, line = row[keep], target[keep], dist[keep], line[keep]
    return row, target, dist, line


def _rank_in_group(sorted_keys: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each run of equal values of a sorted array."""
    if len(sorted_keys) == 0:
        return np.empty(0, dtype=np.int64)
    new = np.ones(len(sorted_keys), dtype=bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    idx = np.arange(len(sorted_keys))
    return idx - np.maximum.accumulate(np.where(new, idx, 0))


# --------------------------------------------------------------------------------------
# nearest target


def nearest(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """Distance from every origin to its nearest target over the network.

    One multi-source Dijkstra search (``min_only``) from all targets at once.

    Parameters
    ----------
    network
        The network (:func:`prepare_network`).
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832 (e.g. plots and stops).
    max_snap_m
        Origins and targets farther than this from the network are measured by
        straight line × ``circuity`` (see module docstring).
    circuity
        Ratio network / straight-line distance assumed for the fallback.

    Returns
    -------
    pandas.DataFrame
        On ``origins.index``: ``dist_m`` (origin snap + network + target snap, or the
        straight-line fallback), ``target_idx`` (position of the nearest target in
        ``targets``), ``snap_m`` (origin snap distance), ``fallback`` (bool).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(4)])
    >>> for i in range(3):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> net = prepare_network(G)
    >>> plots = gpd.GeoSeries([Point(0, 10), Point(0, 2000)], crs="EPSG:25832")
    >>> stops = gpd.GeoSeries([Point(300, -5)], crs="EPSG:25832")
    >>> r = nearest(net, plots, stops)
    >>> r["dist_m"].round(1).tolist(), r["fallback"].tolist()
    ([315.0, 2635.5], [False, True])
    """
    s = _sides(network, origins, targets, max_snap_m, circuity)
    n_o = len(s.o_xy)
    dist = np.full(n_o, np.inf)
    tidx = np.full(n_o, -1, dtype=np.int64)
    on = s.on_targets
    if len(on) and s.o_on.any():
        graph = _augmented(network, s.t_node[on], s.t_snap[on])
        n = network.n_nodes
        d_node, _, src = csgraph.dijkstra(
            graph,
            directed=True,
            indices=n + np.arange(len(on)),
            min_only=True,
            return_predecessors=True,
        )
        o = np.flatnonzero(s.o_on)
        reached = np.isfinite(d_node[s.o_node[o]])
        o = o[reached]
        dist[o] = d_node[s.o_node[o]] + s.o_snap[o]
        tidx[o] = on[src[s.o_node[o]] - n]

    fallback = np.zeros(n_o, dtype=bool)
    # straight line × circuity: to every target for origins off the network or cut off
    # from all on-network targets; to off-network targets for the others
    alone = ~np.isfinite(dist)
    if alone.any():
        d_line, j = cKDTree(s.t_xy).query(s.o_xy[alone], workers=-1)
        dist[alone] = d_line * circuity
        tidx[alone] = j
        fallback[alone] = True
    off = s.off_targets
    if len(off) and (~alone).any():
        rows = np.flatnonzero(~alone)
        d_line, j = cKDTree(s.t_xy[off]).query(s.o_xy[rows], workers=-1)
        better = d_line * circuity < dist[rows]
        rows, j = rows[better], j[better]
        dist[rows] = d_line[better] * circuity
        tidx[rows] = off[j]
        fallback[rows] = True
    _log_fallback("nearest", fallback, s)
    return pd.DataFrame(
        {"dist_m": dist, "target_idx": tidx, "snap_m": s.o_snap, "fallback": fallback},
        index=s.o_index,
    )


def _log_fallback(what: str, fallback: np.ndarray, s: _Sides) -> None:
    logger.info(
        "%s: %d origins (%d off the network), %d targets (%d off the network); "
        "%d results use straight line x circuity",
        what,
        len(s.o_xy),
        int((~s.o_on).sum()),
        len(s.t_xy),
        int((~s.t_on).sum()),
        int(fallback.sum()),
    )


# --------------------------------------------------------------------------------------
# all targets within a distance; k nearest; counts


def pairs_within(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    limit_m: float,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """Every (origin, target) pair within ``limit_m``, in one batch.

    One Dijkstra search limited to ``limit_m`` from every target. Useful for measures
    that need all nearby targets at once (e.g. the best transit class within 1,000 m).

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    limit_m
        Largest distance (origin snap + network + target snap) to report.
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`.

    Returns
    -------
    pandas.DataFrame
        One row per pair, sorted by origin then distance: ``origin_idx`` and
        ``target_idx`` (positions in ``origins`` and ``targets``), ``dist_m``,
        ``fallback`` (True where the pair is measured by straight line × circuity).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(4)])
    >>> for i in range(3):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(300, 0), Point(100, 0)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0)], crs="EPSG:25832")
    >>> pairs_within(prepare_network(G), plots, stops, limit_m=250)["target_idx"].tolist()
    [1]
    """
    _check_limit(limit_m, "limit_m")
    s = _sides(network, origins, targets, max_snap_m, circuity)
    row, target, dist, line = _pairs(network, s, limit_m, circuity)
    _log_fallback(f"pairs_within({limit_m:g} m)", line, s)
    return pd.DataFrame({"origin_idx": row, "target_idx": target, "dist_m": dist, "fallback": line})


def _check_limit(value: float, name: str) -> None:
    if not np.isfinite(value) or value < 0:
        msg = f"{name} must be a distance in metres >= 0, got {value!r}."
        raise ValueError(msg)


def k_nearest(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    k: int = 3,
    cutoff_m: float = 2000.0,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """The ``k`` nearest targets of every origin within ``cutoff_m`` over the network.

    One Dijkstra search limited to ``cutoff_m`` from every target, all in one batch; the
    reached nodes are grouped and the ``k`` smallest distances kept per node.

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    k
        Number of nearest targets.
    cutoff_m
        Targets farther than this (total distance incl. both snaps) are not reported;
        raise it if too many origins have fewer than ``k`` targets (``n_found``). The run
        time grows with the area a search of this length covers.
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`.

    Returns
    -------
    pandas.DataFrame
        On ``origins.index``: ``dist_m_1`` … ``dist_m_k`` (ascending, NaN where fewer
        than ``k`` targets lie within ``cutoff_m``), ``target_idx_1`` …
        ``target_idx_k`` (position in ``targets``, Int64, ``<NA>`` where not found),
        ``n_found``, ``snap_m``, ``fallback`` (True if any of the reported distances is a
        straight-line fallback).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(4)])
    >>> for i in range(3):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(300, 0), Point(100, 0)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0)], crs="EPSG:25832")
    >>> r = k_nearest(prepare_network(G), plots, stops, k=2)
    >>> r[["dist_m_1", "dist_m_2"]].to_numpy().tolist(), r["target_idx_1"].tolist()
    ([[100.0, 300.0]], [1])
    """
    if int(k) != k or k < 1:
        msg = f"k must be a positive integer, got {k!r}."
        raise ValueError(msg)
    k = int(k)
    _check_limit(cutoff_m, "cutoff_m")
    s = _sides(network, origins, targets, max_snap_m, circuity)
    n_o = len(s.o_xy)
    row, target, dist, line = _pairs(network, s, cutoff_m, circuity, first_k=k)
    rank = _rank_in_group(row)
    best_d = np.full((n_o, k), np.nan)
    best_t = np.zeros((n_o, k), dtype=np.int64)
    found = np.zeros((n_o, k), dtype=bool)
    best_d[row, rank] = dist
    best_t[row, rank] = target
    found[row, rank] = True
    fallback = np.bincount(row[line], minlength=n_o) > 0
    out: dict[str, Any] = {}
    for i in range(k):
        out[f"dist_m_{i + 1}"] = best_d[:, i]
    for i in range(k):
        out[f"target_idx_{i + 1}"] = pd.arrays.IntegerArray(best_t[:, i], ~found[:, i])
    out["n_found"] = found.sum(axis=1)
    out["snap_m"] = s.o_snap
    out["fallback"] = fallback
    _log_fallback(f"k_nearest(k={k}, cutoff={cutoff_m:g} m)", fallback, s)
    return pd.DataFrame(out, index=s.o_index)


def _weights(
    targets: Geoms, weights: str | Sequence[float] | np.ndarray | pd.Series | None
) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        if not isinstance(targets, gpd.GeoDataFrame) or weights not in targets.columns:
            msg = f"weights column {weights!r} is not a column of targets."
            raise MissingColumnError(msg)
        w = pd.to_numeric(targets[weights], errors="coerce").to_numpy(dtype=float)
    elif isinstance(weights, pd.Series):
        w = pd.to_numeric(weights.reindex(targets.index), errors="coerce").to_numpy(float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (len(targets),):
        msg = f"weights has {w.size} values for {len(targets)} targets."
        raise ValueError(msg)
    bad = ~np.isfinite(w)
    if bad.any():
        msg = (
            f"{int(bad.sum())} target weights are missing or not numbers (targets index "
            f"{list(targets.index[bad][:10])}); fill them (e.g. 0) or drop those targets."
        )
        raise ValidationError("weights", [msg])
    return w


def count_within(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    radius_m: float = 800.0,
    weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """Number (or weighted sum) of targets within ``radius_m`` over the network.

    One Dijkstra search limited to ``radius_m`` from every target, in one batch. A
    target counts when origin snap + network distance + target snap ≤ ``radius_m``.

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    radius_m
        Walking radius in metres.
    weights
        Optional weight per target: a column name of ``targets``, a Series aligned on
        ``targets.index`` or an array in target order. ``None`` counts targets.
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`: off-network origins count every
        target within ``radius_m`` by straight line × circuity; on-network origins count
        off-network targets that way.

    Returns
    -------
    pandas.DataFrame
        On ``origins.index``: ``count`` (int) or, with ``weights``, ``weighted_sum``
        (float); ``snap_m``; ``fallback`` (True if the origin is off the network or any
        counted target was measured by straight line).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(10)])
    >>> for i in range(9):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(100.0 * i, 0) for i in range(10)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0), Point(450, 0)], crs="EPSG:25832")
    >>> count_within(prepare_network(G), plots, stops, radius_m=250)["count"].tolist()
    [3, 5]
    """
    _check_limit(radius_m, "radius_m")
    w = _weights(targets, weights)
    s = _sides(network, origins, targets, max_snap_m, circuity)
    n_o = len(s.o_xy)
    row, target, _dist, line = _pairs(network, s, radius_m, circuity, sort=False)
    fallback = ~s.o_on | (np.bincount(row[line], minlength=n_o) > 0)
    if w is None:
        col, values = "count", np.bincount(row, minlength=n_o).astype(np.int64)
    else:
        col, values = "weighted_sum", np.bincount(row, weights=w[target], minlength=n_o)
    _log_fallback(f"count_within({radius_m:g} m)", fallback, s)
    return pd.DataFrame({col: values, "snap_m": s.o_snap, "fallback": fallback}, index=s.o_index)
