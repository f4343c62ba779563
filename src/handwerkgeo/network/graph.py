"""The routable :class:`Network` and :func:`prepare_network`, which builds it from a graph."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from handwerkgeo.crs import CRS
from handwerkgeo.errors import NoCrsError, UnexpectedCrsError, ValidationError

if TYPE_CHECKING:  # networkx and pyproj cost ~0.2 s to import; loading a network needs neither
    import networkx as nx

__all__ = ["Network", "prepare_network"]

logger = logging.getLogger(__name__)


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
    fields
        Memo of the node-level fields computed on this network
        (:mod:`handwerkgeo.network.fields`), filled as measures run.

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
    fields: dict[Any, Any] = field(init=False, repr=False, default_factory=dict)

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
        if self.crs != CRS and not _same_crs(self.crs, CRS):
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


def _same_crs(a: Any, b: Any) -> bool:
    import pyproj

    return bool(pyproj.CRS.from_user_input(a) == pyproj.CRS.from_user_input(b))


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
    from scipy.sparse import csgraph

    crs = G.graph.get("crs")
    if crs is None:
        msg = (
            "graph has no 'crs' graph attribute. Build it with handwerkgeo.sources.osm or "
            f"set G.graph['crs'] = '{CRS}' if its x/y are EPSG:25832 metres."
        )
        raise NoCrsError(msg)
    if not _same_crs(crs, CRS):
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
