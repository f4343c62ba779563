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
:func:`multi_measure` computes all four with one snapping and one shared limited search
(same results).

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
    "Measures",
    "Network",
    "count_within",
    "k_nearest",
    "multi_measure",
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
    in ``nodes_of_interest`` are returned, sorted by node, then by distance if
    ``by_distance``, then by target.
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
        hit = np.isfinite(dist)
        hit &= wanted[None, :]
        flat = np.flatnonzero(hit)  # row-major: by target, then node
        t_rel, node = np.divmod(flat, n + m)
        parts_node.append(node)
        parts_t.append(t_rel + start)
        parts_d.append(dist.reshape(-1)[flat])
    node = np.concatenate(parts_node).astype(np.int64)
    target = np.concatenate(parts_t).astype(np.int64)
    d = np.concatenate(parts_d)
    order = np.lexsort((d, node)) if by_distance else np.argsort(node, kind="stable")
    return node[order], target[order], d[order]


@dataclass
class _Reached:
    """The network part of one limited search, per on-network origin.

    ``target`` (position among ``_Sides.on_targets``) and ``d`` (target snap + network
    distance ≤ ``limit_m``) are grouped by network node; ``start`` and ``length`` give,
    for every on-network origin (``np.flatnonzero(_Sides.o_on)``, in order), the range of
    its node. With ``by_distance`` each range is sorted by distance (then target), so that
    the entries within a smaller limit are a prefix of it; otherwise by target.
    """

    limit_m: float
    by_distance: bool
    target: np.ndarray
    d: np.ndarray
    start: np.ndarray
    length: np.ndarray

    def lengths_within(self, limit_m: float) -> np.ndarray:
        """Per origin, how many entries of its range lie within ``limit_m``."""
        if limit_m >= self.limit_m:
            return self.length
        if not self.by_distance:
            msg = "a search sorted by node only cannot be cut to a smaller limit"
            raise RuntimeError(msg)
        within = np.zeros(len(self.d) + 1, dtype=np.int64)
        np.cumsum(self.d <= limit_m, out=within[1:])
        return within[self.start + self.length] - within[self.start]


def _search(network: Network, s: _Sides, limit_m: float, *, by_distance: bool) -> _Reached | None:
    """One limited search from the on-network targets (``None`` if there is nothing to route)."""
    on = s.on_targets
    o_node = s.o_node[s.o_on]
    if len(on) == 0 or len(o_node) == 0:
        return None
    node, target, d = _reach(
        network, s.t_node[on], s.t_snap[on], limit_m, np.unique(o_node), by_distance=by_distance
    )
    start = np.searchsorted(node, o_node, side="left")
    length = np.searchsorted(node, o_node, side="right") - start
    return _Reached(limit_m, by_distance, target, d, start, length)


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
    reached: _Reached | None = None,
    target_order: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (origin row, target, distance ≤ limit, straight-line?) pair.

    Network pairs for on-network origins and targets (one limited search from all
    targets, or the shared search ``reached`` with a limit ≥ ``limit_m`` sorted by
    distance); straight line × circuity for off-network origins (to every target) and
    from on-network origins to off-network targets. Sorted by origin, then distance,
    when ``sort`` or ``first_k``; with ``first_k`` only the first ``k`` per origin.

    Without ``first_k`` the network pairs of an origin come in target order, as from a
    search of exactly ``limit_m`` (so that sums over them and the order of equal
    distances do not depend on whether the search was shared); ``target_order=False``
    skips that reordering where the order cannot matter (plain counts).
    """
    rows_p, targets_p, dists_p, lines_p = [], [], [], []
    on = s.on_targets
    o_rows = np.flatnonzero(s.o_on)
    if reached is None:
        reached = _search(network, s, limit_m, by_distance=first_k is not None)
    elif reached.limit_m < limit_m or (first_k is not None and not reached.by_distance):
        msg = "the shared search does not cover this measure"
        raise RuntimeError(msg)
    if reached is not None:
        length = reached.lengths_within(limit_m)
        if first_k is not None:
            length = np.minimum(length, first_k)
        owner, pos = _expand(reached.start, length)
        rows = o_rows[owner]
        dist = reached.d[pos] + s.o_snap[rows]
        keep = dist <= limit_m
        rows, target, dist = rows[keep], reached.target[pos[keep]], dist[keep]
        if first_k is None and reached.by_distance and target_order:
            order = np.argsort(target, kind="stable")
            rows, target, dist = rows[order], target[order], dist[order]
        rows_p.append(rows)
        targets_p.append(on[target])
        dists_p.append(dist)
        lines_p.append(np.zeros(len(rows), dtype=bool))
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
    return _nearest_frame(network, s, circuity)


def _nearest_frame(network: Network, s: _Sides, circuity: float) -> pd.DataFrame:
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
    return _pairs_frame(network, s, limit_m, circuity)


def _pairs_frame(
    network: Network,
    s: _Sides,
    limit_m: float,
    circuity: float,
    reached: _Reached | None = None,
    *,
    sort: bool = True,
) -> pd.DataFrame:
    row, target, dist, line = _pairs(
        network, s, limit_m, circuity, reached=reached, sort=sort, target_order=sort
    )
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
    k = _check_k(k)
    _check_limit(cutoff_m, "cutoff_m")
    s = _sides(network, origins, targets, max_snap_m, circuity)
    return _k_nearest_frame(network, s, k, cutoff_m, circuity)


def _check_k(k: int) -> int:
    if int(k) != k or k < 1:
        msg = f"k must be a positive integer, got {k!r}."
        raise ValueError(msg)
    return int(k)


def _k_nearest_frame(
    network: Network,
    s: _Sides,
    k: int,
    cutoff_m: float,
    circuity: float,
    reached: _Reached | None = None,
) -> pd.DataFrame:
    n_o = len(s.o_xy)
    row, target, dist, line = _pairs(network, s, cutoff_m, circuity, first_k=k, reached=reached)
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
    return _count_frame(network, s, radius_m, w, circuity)


def _count_frame(
    network: Network,
    s: _Sides,
    radius_m: float,
    w: np.ndarray | None,
    circuity: float,
    reached: _Reached | None = None,
) -> pd.DataFrame:
    n_o = len(s.o_xy)
    row, target, _dist, line = _pairs(
        network, s, radius_m, circuity, sort=False, reached=reached, target_order=w is not None
    )
    fallback = ~s.o_on | (np.bincount(row[line], minlength=n_o) > 0)
    if w is None:
        col, values = "count", np.bincount(row, minlength=n_o).astype(np.int64)
    else:
        col, values = "weighted_sum", np.bincount(row, weights=w[target], minlength=n_o)
    _log_fallback(f"count_within({radius_m:g} m)", fallback, s)
    return pd.DataFrame({col: values, "snap_m": s.o_snap, "fallback": fallback}, index=s.o_index)


# --------------------------------------------------------------------------------------
# several measures from one search


@dataclass(frozen=True)
class Measures:
    """Results of :func:`multi_measure`, each exactly as the function of its name returns it.

    Attributes
    ----------
    nearest
        As :func:`nearest`.
    k_nearest
        As :func:`k_nearest`; ``None`` if not requested.
    count_within
        As :func:`count_within`; ``None`` if not requested.
    pairs_within
        As :func:`pairs_within`; ``None`` if not requested.
    """

    nearest: pd.DataFrame
    k_nearest: pd.DataFrame | None = None
    count_within: pd.DataFrame | None = None
    pairs_within: pd.DataFrame | None = None


def multi_measure(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    k: int | None = 3,
    cutoff_m: float = 2000.0,
    radius_m: float | None = 800.0,
    weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    limit_m: float | None = 1000.0,
    sort_pairs: bool = True,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> Measures:
    """:func:`nearest`, :func:`k_nearest`, :func:`count_within` and :func:`pairs_within` at once.

    The results are the same as those of the four functions called one by one with the
    same parameters, value for value, but origins and targets are snapped once and the
    three limited measures share one Dijkstra search from every target, limited to the
    largest of ``cutoff_m``, ``radius_m`` and ``limit_m``: its (node, target, distance)
    triples are sorted by node and distance once, and each measure takes, per node, the
    prefix within its own limit. :func:`nearest` remains its own (cheap, ``min_only``)
    search. Used by :func:`handwerkgeo.criteria.accessibility.transit_access`.

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    k, cutoff_m
        As in :func:`k_nearest`; ``k=None`` skips it.
    radius_m, weights
        As in :func:`count_within`; ``radius_m=None`` skips it.
    limit_m
        As in :func:`pairs_within`; ``None`` skips it.
    sort_pairs
        ``False`` returns the same pairs as :func:`pairs_within`, but not sorted (faster
        where only per-origin aggregates of the pairs are needed).
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`.

    Returns
    -------
    Measures
        ``nearest``, ``k_nearest``, ``count_within``, ``pairs_within`` frames (``None``
        for a skipped measure).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(10)])
    >>> for i in range(9):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(100.0 * i, 0) for i in (1, 3, 8)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0)], crs="EPSG:25832")
    >>> m = multi_measure(prepare_network(G), plots, stops, k=2, radius_m=250, limit_m=500)
    >>> m.nearest["dist_m"].tolist(), m.k_nearest["dist_m_2"].tolist()
    ([100.0], [300.0])
    >>> m.count_within["count"].tolist(), m.pairs_within["target_idx"].tolist()
    ([1], [0, 1])
    """
    w = None
    if k is not None:
        k = _check_k(k)
        _check_limit(cutoff_m, "cutoff_m")
    if radius_m is not None:
        _check_limit(radius_m, "radius_m")
        w = _weights(targets, weights)
    elif weights is not None:
        msg = "weights are for the count within radius_m; pass radius_m too (or no weights)."
        raise ValueError(msg)
    if limit_m is not None:
        _check_limit(limit_m, "limit_m")
    s = _sides(network, origins, targets, max_snap_m, circuity)
    near = _nearest_frame(network, s, circuity)
    limits = [lim for lim in (radius_m, limit_m) if lim is not None]
    if k is not None:
        limits.append(cutoff_m)
    if not limits:
        return Measures(nearest=near)
    reached = _search(network, s, max(limits), by_distance=True)
    return Measures(
        nearest=near,
        k_nearest=(
            None
            if k is None
            else _k_nearest_frame(network, s, k, cutoff_m, circuity, reached=reached)
        ),
        count_within=(
            None
            if radius_m is None
            else _count_frame(network, s, radius_m, w, circuity, reached=reached)
        ),
        pairs_within=(
            None
            if limit_m is None
            else _pairs_frame(network, s, limit_m, circuity, reached, sort=sort_pairs)
        ),
    )
