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
- :func:`chains` and :func:`chain_sums`: :func:`bounded_sums` with the heap over the
  junctions only, walking the chains of degree-2 nodes between them (about half the time
  on an OSM street graph, where most nodes are vertices inside a street).

The kernels are compiled on first use and cached on disk (``cache=True``), so later
processes load them in a fraction of a second; importing this module compiles nothing.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["bounded_reach", "bounded_sums", "chain_sums", "chains", "k_labels"]


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
# (69 % in central Düsseldorf). The counting searches run a heap only over the other nodes
# ("junctions") and walk the chains between them, which gives the same sums of edge lengths
# in the same order as a search over every node.


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


@nb.njit(inline="always")
def _walk_len(c_w, w0, m, d, limit, reverse):
    """How many interior nodes a walk from one end reaches within ``limit`` (distance ``d``
    at the end), and the distance at the far end (``inf`` if beyond ``limit``)."""
    k = 0
    for i in range(m + 1):
        w = c_w[w0 + m - i] if reverse else c_w[w0 + i]
        d = d + w
        if d > limit:
            return k, np.inf
        if i < m:
            k += 1
    return k, d


@nb.njit(inline="always")
def _range_add(diff, base, r0, r1, w):
    if r1 > r0:
        for col in range(len(w)):
            diff[base + r0, col] += w[col]
            diff[base + r1, col] -= w[col]


@nb.njit(parallel=True, cache=True)
def chain_sums(indptr, graph, src_node, src_d0, limit, weights, parts):
    """As :func:`bounded_sums`, over the junction graph of :func:`chains` (same sums).

    The sources are split into ``parts`` run in parallel (numba threads, e.g.
    ``numba.get_num_threads()``); each part sums into its own arrays, added up at the end
    (integer counts stay exact).
    """
    n = len(indptr) - 1
    ncol = weights.shape[1]
    n_int = len(graph[4])
    parts = max(1, min(parts, len(src_node)))
    outs = np.zeros((parts, n, ncol))
    diffs = np.zeros((parts, n_int + 1, ncol))
    for p in nb.prange(parts):  # part p takes every parts-th source: balanced over the city
        _chain_part(indptr, graph, src_node, src_d0, limit, weights, p, parts, outs[p], diffs[p])
    out = outs.sum(axis=0)
    diff = diffs.sum(axis=0)
    c_nodes = graph[4]
    acc = np.zeros(ncol)
    for i in range(n_int):
        for col in range(ncol):
            acc[col] += diff[i, col]
            out[c_nodes[i], col] += acc[col]
    return out


@nb.njit(cache=True, nogil=True)
def _push_grow(hd, ht, hn, size, d, v):
    """Push ``(d, v)``, doubling the heap arrays when full; returns them and the size."""
    if size == len(hd):
        hd = _grow(hd, size)
        ht = _grow(ht, size)
        hn = _grow(hn, size)
    return hd, ht, hn, _push(hd, ht, hn, size, d, 0, v)


@nb.njit(cache=True, nogil=True)
def _own_walk(c_w, w0, m, p, d0, limit):
    """From interior position ``p`` of a chain, walk both ways within ``limit``.

    Returns ``(lo, hi, end_a, end_b)``: the interior positions reached and the distances
    at the ends (``inf`` where beyond ``limit``). Edge ``i`` joins interior ``i - 1`` and
    ``i`` (edge 0 starts at end a, edge ``m`` ends at end b).
    """
    d = d0
    lo = p
    end_a = np.inf
    for i in range(p, -1, -1):
        d = d + c_w[w0 + i]
        if d > limit:
            break
        if i > 0:
            lo = i - 1
        else:
            end_a = d
    d = d0
    hi = p
    end_b = np.inf
    for i in range(p + 1, m + 1):
        d = d + c_w[w0 + i]
        if d > limit:
            break
        if i < m:
            hi = i
        else:
            end_b = d
    return lo, hi, end_a, end_b


@nb.njit(cache=True, nogil=True)
def _junction_search(graph, limit, dist, done, settled, from_a, from_b, touched, heap):
    """Dijkstra over the junctions from the entries already in ``heap``.

    Settled junctions go to ``settled``; every chain at a settled junction records how
    many of its interior nodes the walk from that end reaches (``from_a`` / ``from_b``)
    and goes to ``touched``. Returns ``(n_settled, n_touched, heap)``.
    """
    c_a, c_b, c_ptr, c_wptr, c_w = graph[1], graph[2], graph[3], graph[5], graph[6]
    j_ptr, j_chain, j_dir = graph[7], graph[8], graph[9]
    hd, ht, hn, size = heap
    n_set = 0
    nt = 0
    while size > 0:
        d = hd[0]
        v = hn[0]
        size = _pop(hd, ht, hn, size)
        if done[v]:
            continue
        done[v] = True
        settled[n_set] = v
        n_set += 1
        for j in range(j_ptr[v], j_ptr[v + 1]):
            c = j_chain[j]
            rev = j_dir[j] == 1
            k, far = _walk_len(c_w, c_wptr[c], c_ptr[c + 1] - c_ptr[c], d, limit, rev)
            if from_a[c] < 0 and from_b[c] < 0:
                touched[nt] = c
                nt += 1
                from_a[c] = 0
                from_b[c] = 0
            if rev:
                from_b[c] = max(from_b[c], k)
                u = c_a[c]
            else:
                from_a[c] = max(from_a[c], k)
                u = c_b[c]
            if far < dist[u]:
                dist[u] = far
                hd, ht, hn, size = _push_grow(hd, ht, hn, size, far, u)
    return n_set, nt, (hd, ht, hn, size)


@nb.njit(cache=True, nogil=True)
def _add_chains(graph, touched, nt, own, lo, hi, from_a, from_b, w, out, diff):
    """Add ``w`` to the interior nodes reached on every touched chain (and reset them).

    Reached: the prefix from end a, the suffix from end b and, on the source's own chain
    ``own``, the stretch ``lo..hi`` walked from the source. Whole ranges go to the
    difference array ``diff``; the own chain is added node by node.
    """
    c_ptr, c_nodes = graph[3], graph[4]
    for t in range(nt):
        c = touched[t]
        m = c_ptr[c + 1] - c_ptr[c]
        base = c_ptr[c]
        pa = from_a[c]
        pb = from_b[c]
        from_a[c] = -1
        from_b[c] = -1
        if c == own:
            for i in range(m):
                if i < pa or lo <= i <= hi or i >= m - pb:
                    row = out[c_nodes[base + i]]
                    for col in range(len(w)):
                        row[col] += w[col]
        elif pa + pb >= m:
            _range_add(diff, base, 0, m, w)
        else:
            _range_add(diff, base, 0, pa, w)
            _range_add(diff, base, m - pb, m, w)


@nb.njit(cache=True, nogil=True)
def _chain_part(indptr, graph, src_node, src_d0, limit, weights, first, step, out, diff):
    """Searches from the sources ``first::step``: junction sums into ``out``, chain ranges
    into the difference array ``diff`` (indexed like ``c_nodes``)."""
    is_junction, c_a, c_b, c_ptr, c_wptr, c_w = (
        graph[0], graph[1], graph[2], graph[3], graph[5], graph[6]
    )  # fmt: skip
    j_ptr, j_chain, node_chain, node_pos = graph[7], graph[8], graph[10], graph[11]
    n = len(indptr) - 1
    n_chain = len(c_a)
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    settled = np.empty(n, np.int64)
    # per chain: interior nodes reached from the a end, from the b end (-1: chain untouched)
    from_a = np.full(n_chain, -1, np.int64)
    from_b = np.full(n_chain, -1, np.int64)
    touched = np.empty(n_chain + 1, np.int64)
    heap = (np.empty(1024), np.zeros(1024, np.int64), np.empty(1024, np.int64), 0)
    for s in range(first, len(src_node), step):
        d0 = src_d0[s]
        if d0 > limit:
            continue
        v0 = src_node[s]
        hd, ht, hn, size = heap
        own, lo, hi = -1, 0, -1
        if is_junction[v0]:
            dist[v0] = d0
            hd, ht, hn, size = _push_grow(hd, ht, hn, size, d0, v0)
        else:  # the source's own chain: walk both ways from its position
            own = node_chain[v0]
            m = c_ptr[own + 1] - c_ptr[own]
            lo, hi, end_a, end_b = _own_walk(c_w, c_wptr[own], m, node_pos[v0], d0, limit)
            for end, de in ((c_a[own], end_a), (c_b[own], end_b)):
                if de < dist[end]:
                    dist[end] = de
                    hd, ht, hn, size = _push_grow(hd, ht, hn, size, de, end)
        n_set, nt, heap = _junction_search(
            graph, limit, dist, done, settled, from_a, from_b, touched, (hd, ht, hn, size)
        )
        w = weights[s]
        for i in range(n_set):
            row = out[settled[i]]
            for col in range(len(w)):
                row[col] += w[col]
        if own >= 0 and from_a[own] < 0:
            touched[nt] = own
            nt += 1
            from_a[own] = 0
            from_b[own] = 0
        _add_chains(graph, touched, nt, own, lo, hi, from_a, from_b, w, out, diff)
        for i in range(n_set):  # reset the distances set by this search
            v = settled[i]
            done[v] = False
            dist[v] = np.inf
            for j in range(j_ptr[v], j_ptr[v + 1]):
                dist[c_a[j_chain[j]]] = np.inf
                dist[c_b[j_chain[j]]] = np.inf
        if own >= 0:
            dist[c_a[own]] = np.inf
            dist[c_b[own]] = np.inf
