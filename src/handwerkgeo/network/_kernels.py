"""Compiled (numba) graph searches behind the node-level fields of :mod:`handwerkgeo.network`.

Private to :mod:`handwerkgeo.network`. Every kernel works on the CSR arrays of a
:class:`~handwerkgeo.network.Network` (``indptr``, ``indices``, ``data``; explicit zeros are
zero-length edges, as in :mod:`scipy.sparse.csgraph`) and starts its searches at *sources*
given as ``(node, initial distance)``: a target at its network node with its snapping
distance, so that a distance is ``target snap + network distance`` summed in the same order
as :func:`scipy.sparse.csgraph.dijkstra` from a virtual target node does.

- :func:`k_labels`: a k-label multi-source Dijkstra: for every node the ``k`` nearest
  distinct sources (ordered by distance, then source position), within ``limit``.
- :func:`bounded_sums`: one Dijkstra search limited to ``limit`` from every source, summing
  the sources' weight rows at every node reached (counts per category within R).
- :func:`bounded_reach`: the same searches, returning the (node, source, distance) triples
  at the nodes asked for.
- :func:`chains`: the chains of degree-2 nodes between the other nodes ("junctions"), from
  which :mod:`handwerkgeo.network._junctions` builds the graph its counting searches run
  on (most nodes of an OSM street graph are vertices inside a street).

The kernels are compiled on first use and cached on disk (``cache=True``), so later
processes load them in a fraction of a second; importing this module compiles nothing.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["bounded_reach", "bounded_sums", "chains", "k_labels"]


@nb.njit(inline="always")
def _before(hd: np.ndarray, ht: np.ndarray, i: int, j: int) -> bool:
    return hd[i] < hd[j] or (hd[i] == hd[j] and ht[i] < ht[j])


@nb.njit(inline="always")
def _swap(hd: np.ndarray, ht: np.ndarray, hn: np.ndarray, i: int, j: int) -> None:
    hd[i], hd[j] = hd[j], hd[i]
    ht[i], ht[j] = ht[j], ht[i]
    hn[i], hn[j] = hn[j], hn[i]


@nb.njit(cache=True, nogil=True)
def _grow(a: np.ndarray, size: int) -> np.ndarray:
    b = np.empty(2 * len(a), a.dtype)
    b[:size] = a[:size]
    return b


@nb.njit(cache=True, nogil=True)
def _push(hd, ht, hn, size, d, t, v):
    i = size
    hd[i] = d
    ht[i] = t
    hn[i] = v
    while i > 0:
        p = (i - 1) >> 1
        if _before(hd, ht, i, p):
            _swap(hd, ht, hn, i, p)
            i = p
        else:
            break
    return size + 1


@nb.njit(cache=True, nogil=True)
def _pop(hd, ht, hn, size):
    size -= 1
    hd[0] = hd[size]
    ht[0] = ht[size]
    hn[0] = hn[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and _before(hd, ht, c + 1, c):
            c += 1
        if _before(hd, ht, c, i):
            _swap(hd, ht, hn, i, c)
            i = c
        else:
            break
    return size


@nb.njit(cache=True, nogil=True)
def k_labels(indptr, indices, data, src_node, src_d0, k, limit):
    """``(dist (n, k), source (n, k), found (n,))``: the k nearest sources of every node.

    Labels are settled in the order (distance, source position); a node takes at most one
    label per source and at most ``k`` labels, and a full node is not searched through
    (its ``k`` sources are at least as near to everything behind it). Distances ``> limit``
    are not followed. Empty label slots hold ``inf`` / ``-1``.
    """
    n = len(indptr) - 1
    dist = np.full((n, k), np.inf)
    src = np.full((n, k), -1, np.int64)
    found = np.zeros(n, np.int64)
    cap = max(1024, 2 * len(src_node))
    hd = np.empty(cap)
    ht = np.empty(cap, np.int64)
    hn = np.empty(cap, np.int64)
    size = 0
    for s in range(len(src_node)):
        if src_d0[s] <= limit:
            size = _push(hd, ht, hn, size, src_d0[s], s, src_node[s])
    while size > 0:
        d = hd[0]
        s = ht[0]
        v = hn[0]
        size = _pop(hd, ht, hn, size)
        c = found[v]
        if c >= k:
            continue
        seen = False
        for j in range(c):
            if src[v, j] == s:
                seen = True
                break
        if seen:
            continue
        dist[v, c] = d
        src[v, c] = s
        found[v] = c + 1
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if found[u] >= k:
                continue
            nd = d + data[e]
            if nd > limit:
                continue
            if size == len(hd):
                hd = _grow(hd, size)
                ht = _grow(ht, size)
                hn = _grow(hn, size)
            size = _push(hd, ht, hn, size, nd, s, u)
    return dist, src, found


@nb.njit(cache=True, nogil=True)
def _search(indptr, indices, data, v0, d0, limit, dist, done, touched, hd, ht, hn):
    """One Dijkstra search from ``v0`` (initial distance ``d0``) limited to ``limit``.

    Fills ``touched[:m]`` with the settled nodes in settling order (``dist`` holds their
    distances) and returns ``(m, hd, ht, hn)`` (the heap arrays may have grown). The caller
    resets ``dist``/``done`` of ``touched[:m_all]`` afterwards (see :func:`_reset`).
    """
    m = 0
    n_all = 0
    size = _push(hd, ht, hn, 0, d0, 0, v0)
    dist[v0] = d0
    while size > 0:
        d = hd[0]
        v = hn[0]
        size = _pop(hd, ht, hn, size)
        if done[v]:
            continue
        done[v] = True
        touched[m] = v
        m += 1
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            nd = d + data[e]
            if nd <= limit and nd < dist[u]:
                dist[u] = nd
                if size == len(hd):
                    hd = _grow(hd, size)
                    ht = _grow(ht, size)
                    hn = _grow(hn, size)
                size = _push(hd, ht, hn, size, nd, 0, u)
        n_all += 1
    return m, hd, ht, hn


@nb.njit(cache=True, nogil=True)
def _reset(indptr, indices, touched, m, dist, done):
    # settled nodes and their neighbours are the only ones whose distance was set
    for i in range(m):
        v = touched[i]
        done[v] = False
        dist[v] = np.inf
        for e in range(indptr[v], indptr[v + 1]):
            dist[indices[e]] = np.inf


@nb.njit(cache=True, nogil=True)
def bounded_sums(indptr, indices, data, src_node, src_d0, limit, weights):
    """``(n, c)`` sums of ``weights[s]`` over the sources ``s`` within ``limit`` of each node."""
    n = len(indptr) - 1
    out = np.zeros((n, weights.shape[1]))
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    hd = np.empty(1024)
    ht = np.zeros(1024, np.int64)
    hn = np.empty(1024, np.int64)
    for s in range(len(src_node)):
        if src_d0[s] > limit:
            continue
        m, hd, ht, hn = _search(
            indptr, indices, data, src_node[s], src_d0[s], limit, dist, done, touched, hd, ht, hn
        )
        w = weights[s]
        for i in range(m):
            row = out[touched[i]]
            for c in range(len(w)):
                row[c] += w[c]
        _reset(indptr, indices, touched, m, dist, done)
    return out


@nb.njit(cache=True, nogil=True)
def bounded_reach(indptr, indices, data, src_node, src_d0, limit, wanted):
    """``(node, source, dist)`` for every source within ``limit`` of every ``wanted`` node."""
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    hd = np.empty(1024)
    ht = np.zeros(1024, np.int64)
    hn = np.empty(1024, np.int64)
    cap = 1024
    o_node = np.empty(cap, np.int64)
    o_src = np.empty(cap, np.int64)
    o_d = np.empty(cap)
    size = 0
    for s in range(len(src_node)):
        if src_d0[s] > limit:
            continue
        m, hd, ht, hn = _search(
            indptr, indices, data, src_node[s], src_d0[s], limit, dist, done, touched, hd, ht, hn
        )
        for i in range(m):
            v = touched[i]
            if wanted[v]:
                if size == len(o_node):
                    o_node = _grow(o_node, size)
                    o_src = _grow(o_src, size)
                    o_d = _grow(o_d, size)
                o_node[size] = v
                o_src[size] = s
                o_d[size] = dist[v]
                size += 1
        _reset(indptr, indices, touched, m, dist, done)
    return o_node[:size], o_src[:size], o_d[:size]


# --------------------------------------------------------------------------------------
# chains of degree-2 nodes: most nodes of an OSM street graph are vertices inside a street
# (69 % in central Düsseldorf); the counting searches of _junctions run a heap only over
# the other nodes ("junctions").


@nb.njit(cache=True, nogil=True)
def _walk(indptr, indices, data, is_junction, a, e, out_nodes, out_w, pos):
    """Walk from junction ``a`` along edge ``e`` to the next junction.

    Writes the interior nodes to ``out_nodes[pos:]`` and the edge lengths (one more than
    the interior nodes) to ``out_w[pos + chain index:]``; returns (end junction, interior
    count).
    """
    prev = a
    v = indices[e]
    w = data[e]
    m = 0
    out_w[pos] = w
    while not is_junction[v]:
        out_nodes[pos + m] = v
        m += 1
        # the other neighbour of a degree-2 node
        e0 = indptr[v]
        nxt = indices[e0]
        w = data[e0]
        if nxt == prev:
            nxt = indices[e0 + 1]
            w = data[e0 + 1]
        prev = v
        v = nxt
        out_w[pos + m] = w
    return v, m


@nb.njit(cache=True, nogil=True)
def _chains_from(indptr, indices, data, is_junction, node_chain, a, c_a, c_b, c_ptr, c_wptr,
                 c_nodes, c_w, tmp_nodes, tmp_w, counts):  # fmt: skip
    """Add the chains that start at junction ``a`` and were not walked from their other end."""
    for e in range(indptr[a], indptr[a + 1]):
        first = indices[e]
        if not is_junction[first] and node_chain[first] >= 0:
            continue  # chain already walked from its other end
        if is_junction[first] and first < a:
            continue  # direct edge, taken from the smaller end
        b, m = _walk(indptr, indices, data, is_junction, a, e, tmp_nodes, tmp_w, 0)
        c, n_int, n_w = counts[0], counts[1], counts[2]
        c_a[c] = a
        c_b[c] = b
        for i in range(m):
            c_nodes[n_int + i] = tmp_nodes[i]
            node_chain[tmp_nodes[i]] = c
        for i in range(m + 1):
            c_w[n_w + i] = tmp_w[i]
        c_ptr[c + 1] = n_int + m
        c_wptr[c + 1] = n_w + m + 1
        counts[0] = c + 1
        counts[1] = n_int + m
        counts[2] = n_w + m + 1


@nb.njit(cache=True, nogil=True)
def chains(indptr, indices, data):
    """The junction graph: chains of degree-2 nodes between junctions.

    Returns ``(is_junction, c_a, c_b, c_ptr, c_nodes, c_wptr, c_w, j_ptr, j_chain, j_dir,
    node_chain, node_pos)``: chain ``c`` runs from junction ``c_a[c]`` to ``c_b[c]`` over
    the interior nodes ``c_nodes[c_ptr[c]:c_ptr[c + 1]]`` with the edge lengths
    ``c_w[c_wptr[c]:c_wptr[c + 1]]`` (one more than interior nodes); ``j_chain`` /
    ``j_dir`` list per junction (CSR ``j_ptr``) its chains and whether it is their ``a``
    (0) or ``b`` (1) end; ``node_chain`` / ``node_pos`` give each interior node's chain and
    position (-1 for junctions).
    """
    n = len(indptr) - 1
    deg = indptr[1:] - indptr[:-1]
    is_junction = deg != 2
    node_chain = np.full(n, -1, np.int64)
    n_edges = len(indices)
    # at most one chain per directed edge out of a junction
    c_a = np.empty(n_edges + n, np.int64)
    c_b = np.empty(n_edges + n, np.int64)
    c_ptr = np.zeros(n_edges + n + 1, np.int64)
    c_wptr = np.zeros(n_edges + n + 1, np.int64)
    c_nodes = np.empty(n, np.int64)
    c_w = np.empty(n + n_edges + 1, np.float64)
    tmp_nodes = np.empty(n, np.int64)
    tmp_w = np.empty(n + 1, np.float64)
    counts = np.zeros(3, np.int64)  # chains, interior nodes, lengths written
    for a in range(n):
        if is_junction[a]:
            _chains_from(indptr, indices, data, is_junction, node_chain, a, c_a, c_b, c_ptr,
                         c_wptr, c_nodes, c_w, tmp_nodes, tmp_w, counts)  # fmt: skip
    # cycles of degree-2 nodes without any junction: make one node of each a junction
    for v in range(n):
        if not is_junction[v] and node_chain[v] < 0:
            is_junction[v] = True
            _chains_from(indptr, indices, data, is_junction, node_chain, v, c_a, c_b, c_ptr,
                         c_wptr, c_nodes, c_w, tmp_nodes, tmp_w, counts)  # fmt: skip
    n_chain, n_int, n_w = counts[0], counts[1], counts[2]
    node_pos = np.full(n, -1, np.int64)
    for c in range(n_chain):
        for i in range(c_ptr[c], c_ptr[c + 1]):
            node_pos[c_nodes[i]] = i - c_ptr[c]
    # chains per junction
    j_cnt = np.zeros(n + 1, np.int64)
    for c in range(n_chain):
        j_cnt[c_a[c] + 1] += 1
        j_cnt[c_b[c] + 1] += 1
    j_ptr = np.cumsum(j_cnt)
    fill = j_ptr[:-1].copy()
    j_chain = np.empty(2 * n_chain, np.int64)
    j_dir = np.empty(2 * n_chain, np.int64)
    for c in range(n_chain):
        j_chain[fill[c_a[c]]] = c
        j_dir[fill[c_a[c]]] = 0
        fill[c_a[c]] += 1
        j_chain[fill[c_b[c]]] = c
        j_dir[fill[c_b[c]]] = 1
        fill[c_b[c]] += 1
    return (
        is_junction, c_a[:n_chain].copy(), c_b[:n_chain].copy(), c_ptr[: n_chain + 1].copy(),
        c_nodes[:n_int].copy(), c_wptr[: n_chain + 1].copy(), c_w[:n_w].copy(), j_ptr, j_chain,
        j_dir, node_chain, node_pos,
    )  # fmt: skip
