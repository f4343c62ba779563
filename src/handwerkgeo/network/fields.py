"""Node-level accessibility fields: per network node, computed once per target set.

A *field* holds, for every node of a :class:`~handwerkgeo.network.Network`, what the
measures need about one set of on-network targets (given as their nodes and snapping
distances): the nearest target and its distance, the ``k`` nearest, the number of targets
within a radius. Its cost depends on the network and the targets, never on the number of
plots; a plot then costs a snap and a lookup (plus its own snapping distance). Fields are
memoised on the network (:func:`memo`), so the measures of one scoring run — and of every
run on a loaded or cached context — share them.

The searches are compiled kernels (:mod:`handwerkgeo.network._kernels`, numba);
:func:`nearest_field` is one :func:`scipy.sparse.csgraph.dijkstra` ``min_only`` search.

Examples
--------
>>> import numpy as np
>>> from scipy import sparse
>>> from handwerkgeo.network import Network
>>> csr = sparse.csr_array(np.array([[0, 5.0, 0], [5.0, 0, 7.0], [0, 7.0, 0]]))
>>> net = Network(np.arange(3), np.array([[0.0, 0], [5, 0], [12, 0]]), csr)
>>> f = k_field(net, np.array([0, 2]), np.array([1.0, 0.0]), k=2, limit_m=100.0)
>>> f.dist.tolist()
[[1.0, 12.0], [6.0, 7.0], [0.0, 13.0]]
>>> count_field(net, np.array([0, 2]), np.array([1.0, 0.0]), limit_m=7.0).tolist()
[1, 2, 1]
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from scipy import sparse

from handwerkgeo.network.graph import Network

__all__ = [
    "Junctions",
    "KField",
    "NearestField",
    "ReachField",
    "count_field",
    "digest",
    "junctions",
    "k_field",
    "memo",
    "nearest_field",
    "reach_field",
    "reach_key",
    "reach_pairs",
    "snap_xy_memo",
    "spatial_order",
    "stored_reach",
]

T = TypeVar("T")

#: Fields memoised per network at most (oldest dropped first).
MEMO_SIZE = 64


def digest(*arrays: Any) -> str:
    """A short content hash of arrays and scalars (the key of a memoised field)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        arr = np.ascontiguousarray(a)
        h.update(str((arr.dtype.str, arr.shape)).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def memo(network: Network, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per ``key`` and network; later calls return the stored value."""
    store = network.fields
    if key in store:
        value: T = store[key]
        return value
    value = compute()
    if len(store) >= MEMO_SIZE:
        store.pop(next(iter(store)))
    store[key] = value
    return value


def _arrays(network: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        csr = network.csr
        return (
            np.asarray(csr.indptr, dtype=np.int64),
            np.asarray(csr.indices, dtype=np.int64),
            np.asarray(csr.data, dtype=np.float64),
        )

    return memo(network, ("csr-arrays",), build)


def snap_xy_memo(network: Network, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node and straight-line distance of each point (memoised by coordinates)."""
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)

    def query() -> tuple[np.ndarray, np.ndarray]:
        dist, node = network.tree.query(xy, workers=-1)
        return node.astype(np.int64), dist

    return memo(network, ("snap", digest(xy)), query)


@dataclass(frozen=True)
class NearestField:
    """Per node: distance to the nearest target (target snap + network) and its position."""

    dist: np.ndarray
    target: np.ndarray


def nearest_field(network: Network, t_node: np.ndarray, t_snap: np.ndarray) -> NearestField:
    """One ``min_only`` Dijkstra search from all targets (virtual nodes at their snap).

    ``target`` is the position in ``t_node`` of the target that reaches the node first, as
    :func:`scipy.sparse.csgraph.dijkstra` reports it (-1 where none is reachable).
    """

    def compute() -> NearestField:
        from scipy.sparse import csgraph  # imports scipy.linalg (~0.15 s): only to compute

        n, m = network.n_nodes, len(t_node)
        csr = network.csr
        indptr = np.r_[csr.indptr, csr.indptr[-1] + np.arange(1, m + 1)]
        indices = np.r_[csr.indices, t_node].astype(csr.indices.dtype, copy=False)
        graph = sparse.csr_array((np.r_[csr.data, t_snap], indices, indptr), shape=(n + m, n + m))
        d, _, src = csgraph.dijkstra(
            graph, directed=True, indices=n + np.arange(m), min_only=True, return_predecessors=True
        )
        d = d[:n]
        target = np.where(np.isfinite(d), src[:n] - n, -1).astype(np.int64)
        return NearestField(dist=d, target=target)

    return memo(network, ("nearest", digest(t_node, t_snap)), compute)


@dataclass(frozen=True)
class KField:
    """Per node the ``k`` nearest targets within ``limit_m``, by distance then position.

    ``dist`` ``(n, k)`` (``inf`` where fewer were found), ``target`` ``(n, k)`` (position in
    the targets, -1 where none), ``found`` ``(n,)``.
    """

    limit_m: float
    dist: np.ndarray
    target: np.ndarray
    found: np.ndarray


def k_field(
    network: Network, t_node: np.ndarray, t_snap: np.ndarray, *, k: int, limit_m: float
) -> KField:
    """The k nearest distinct targets of every node (one k-label multi-source Dijkstra)."""

    def compute() -> KField:
        from handwerkgeo.network import _kernels  # numba: imported only to compute

        indptr, indices, data = _arrays(network)
        d, t, found = _kernels.k_labels(
            indptr, indices, data, np.asarray(t_node, np.int64), np.asarray(t_snap, float),
            int(k), float(limit_m),
        )  # fmt: skip
        return KField(limit_m=float(limit_m), dist=d, target=t, found=found)

    return memo(network, ("k", digest(t_node, t_snap), int(k), float(limit_m)), compute)


def spatial_order(xy: np.ndarray) -> np.ndarray:
    """Positions of the points along a Z-order (Morton) curve: nearby points, nearby numbers."""
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    q = ((xy - lo) / np.where(span > 0, span, 1.0) * 65535).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return np.argsort(spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1)), kind="stable")


@dataclass(frozen=True)
class Junctions:
    """The junction graph of a network, its nodes renumbered along a Z-order curve (so that
    a search touches nearby memory); ``new[v]`` is the number of node ``v`` in ``graph``,
    ``old`` the inverse."""

    graph: tuple[np.ndarray, ...]
    new: np.ndarray
    old: np.ndarray


def junctions(network: Network) -> Junctions:
    """The :class:`Junctions` of the network (:func:`_junctions.junction_graph`, memoised)."""

    def build() -> Junctions:
        from handwerkgeo.network import _junctions  # numba: imported only to compute

        old = spatial_order(network.xy)
        new = np.empty_like(old)
        new[old] = np.arange(len(old))
        csr = sparse.csr_array(network.csr[old][:, old])
        csr.sort_indices()
        graph = _junctions.junction_graph(
            np.asarray(csr.indptr, np.int64), np.asarray(csr.indices, np.int64),
            np.asarray(csr.data, np.float64),
        )  # fmt: skip
        return Junctions(graph, new, old)

    return memo(network, ("junctions",), build)


def _sources(t_node: np.ndarray, t_snap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (node, snap) starts of the searches and the start of every target."""
    if len(t_node) == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)
    pairs = np.column_stack([np.asarray(t_node, float), np.asarray(t_snap, float)])
    uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
    return uniq[:, 0].astype(np.int64), uniq[:, 1].copy(), inv.ravel().astype(np.int64)


def count_field(
    network: Network, t_node: np.ndarray, t_snap: np.ndarray, *, limit_m: float
) -> np.ndarray:
    """Per node the number of targets with target snap + network distance ≤ ``limit_m``.

    One limited search from every distinct (node, snap) of the targets, each counting its
    targets at every node it reaches; the searches run over the junctions of the network
    only and find the reached nodes inside the chains of degree-2 nodes between them from
    the distances of the chain ends (:func:`_junctions.junction_sums`).
    """

    def compute() -> np.ndarray:
        import numba

        from handwerkgeo.network import _junctions  # numba: imported only to compute

        src_node, src_d0, start = _sources(t_node, t_snap)
        mult = np.bincount(start, minlength=len(src_node)).astype(float)[:, None]
        j = junctions(network)
        order = np.argsort(j.new[src_node], kind="stable")  # nearby searches one after another
        sums = _junctions.junction_sums(
            j.graph, j.new[src_node[order]], src_d0[order], float(limit_m), mult[order],
            numba.get_num_threads(),
        )  # fmt: skip
        return np.rint(sums[j.new, 0]).astype(np.int64)

    return memo(network, ("count", digest(t_node, t_snap), float(limit_m)), compute)


def reach_pairs(
    network: Network,
    t_node: np.ndarray,
    t_snap: np.ndarray,
    limit_m: float,
    wanted: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (node, target, distance ≤ limit) for the ``wanted`` nodes, unsorted.

    Distance = target snap + network distance, from one limited search per distinct
    (node, snap) of the targets.
    """
    from handwerkgeo.network import _kernels

    src_node, src_d0, start = _sources(t_node, t_snap)
    mask = np.zeros(network.n_nodes, dtype=bool)
    mask[wanted] = True
    indptr, indices, data = _arrays(network)
    node, src, d = _kernels.bounded_reach(
        indptr, indices, data, src_node, src_d0, float(limit_m), mask
    )
    # expand each start to the targets that share it (targets in position order)
    order = np.argsort(start, kind="stable")
    members = np.bincount(start, minlength=len(src_node))
    first = np.r_[0, np.cumsum(members)[:-1]]
    per = members[src]
    owner = np.repeat(np.arange(len(src)), per)
    offset = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
    target = order[first[src][owner] + offset]
    return node[owner], target.astype(np.int64), d[owner]


@dataclass(frozen=True)
class ReachField:
    """Per node, every target within ``limit_m`` (target snap + network distance).

    CSR by node: the entries of node ``v`` are ``indptr[v]:indptr[v + 1]`` of ``target``
    and ``dist``, sorted by distance, then target position.
    """

    limit_m: float
    indptr: np.ndarray
    target: np.ndarray
    dist: np.ndarray


def reach_field(
    network: Network, t_node: np.ndarray, t_snap: np.ndarray, *, limit_m: float
) -> ReachField:
    """The :class:`ReachField` of every node (memoised; its size is the number of
    (node, target) pairs within ``limit_m``, so use it for target sets of moderate size)."""

    def compute() -> ReachField:
        node, target, d = reach_pairs(network, t_node, t_snap, limit_m, np.arange(network.n_nodes))
        order = np.lexsort((target, d, node))
        counts = np.bincount(node, minlength=network.n_nodes)
        indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
        return ReachField(float(limit_m), indptr, target[order].astype(np.int32), d[order])

    return memo(network, reach_key(t_node, t_snap, limit_m), compute)


def reach_key(t_node: np.ndarray, t_snap: np.ndarray, limit_m: float) -> tuple[Any, ...]:
    """Memo key of a :class:`ReachField`."""
    return ("reach", digest(t_node, t_snap), float(limit_m))


def stored_reach(
    network: Network, t_node: np.ndarray, t_snap: np.ndarray, limit_m: float
) -> ReachField | None:
    """A memoised :class:`ReachField` of these targets covering ``limit_m``, if any."""
    key = digest(t_node, t_snap)
    best = None
    for k, value in network.fields.items():
        covers = k[0] == "reach" and k[1] == key and k[2] >= limit_m
        if covers and (best is None or k[2] < best.limit_m):
            best = value
    return best
