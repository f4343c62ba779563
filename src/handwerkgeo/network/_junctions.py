"""Counting searches over the junction graph: sums of source weights within a distance.

Private to :mod:`handwerkgeo.network`. Most nodes of an OSM street graph are vertices inside
a street (degree 2; 69 % in central Düsseldorf). :func:`junction_graph` turns the chains of
:func:`handwerkgeo.network._kernels.chains` into a compact graph over the other nodes (the
*junctions*, numbered ``0 … J-1``) whose edges carry the chain length and, per chain, the
distance of every interior node from either end (running sums from that end).
:func:`junction_sums` runs one Dijkstra search limited to ``limit`` from every source over
that graph only — the heap and the distance array hold junctions, not nodes — and finds the
interior nodes a search reaches on each chain from the distances of the chain's ends, so that
one search costs about the number of junctions it reaches. The reached interior nodes are
added as ranges to a difference array, summed once at the end.

Distances are sums of edge lengths in metres (float64): a chain's running sums are added to
the distance of its end, so they can differ from a node-by-node search in the last bit; a
count changes only where a distance equals ``limit`` to within about 1e-12 m.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from handwerkgeo.network._kernels import chains

__all__ = ["junction_graph", "junction_sums"]


@nb.njit(cache=True)
def _orient(deg, c_a, c_b):
    """Per chain: its kept ends (``b`` = -1 where a dead end is folded into the chain) and
    whether it is walked backwards (a dead end at its ``a`` end)."""
    n_chain = len(c_a)
    end_a = c_a.copy()
    end_b = c_b.copy()
    flip = np.zeros(n_chain, np.bool_)
    for c in range(n_chain):
        dead_a, dead_b = deg[c_a[c]] == 1, deg[c_b[c]] == 1
        if dead_b and not dead_a:
            end_b[c] = -1
        elif dead_a and not dead_b:
            end_a[c] = c_b[c]
            end_b[c] = -1
            flip[c] = True
    return end_a, end_b, flip


@nb.njit(cache=True)
def _layout(kc, end_b, flip):
    """Interior nodes (a folded dead end last) and running sums from either end.

    ``kc`` is the tuple of :func:`~handwerkgeo.network._kernels.chains`; edge ``i`` of an
    oriented chain leads from interior ``i - 1`` (end ``a`` for ``i = 0``) to interior ``i``
    (end ``b`` after the last). Returns ``(c_ptr, c_nodes, cum_a, cum_b, total_a, total_b)``.
    """
    c_a, c_b, old_ptr, old_nodes, c_wptr, c_w = kc[1], kc[2], kc[3], kc[4], kc[5], kc[6]
    n_chain = len(c_a)
    c_ptr = np.zeros(n_chain + 1, np.int64)
    for c in range(n_chain):
        c_ptr[c + 1] = c_ptr[c] + old_ptr[c + 1] - old_ptr[c] + (1 if end_b[c] < 0 else 0)
    c_nodes = np.empty(c_ptr[n_chain], np.int64)
    cum_a = np.empty(c_ptr[n_chain])
    cum_b = np.empty(c_ptr[n_chain])
    total_a = np.zeros(n_chain)
    total_b = np.zeros(n_chain)
    for c in range(n_chain):
        o0, m0 = old_ptr[c], old_ptr[c + 1] - old_ptr[c]
        base, w0 = c_ptr[c], c_wptr[c]
        m = c_ptr[c + 1] - base
        folded = end_b[c] < 0
        for i in range(m0):
            c_nodes[base + i] = old_nodes[o0 + (m0 - 1 - i if flip[c] else i)]
        if folded:
            c_nodes[base + m - 1] = c_a[c] if flip[c] else c_b[c]
        s = 0.0
        for i in range(m):
            s += c_w[w0 + (m0 - i if flip[c] else i)]
            cum_a[base + i] = s
        total_a[c] = s if folded else s + c_w[w0 + m0]
        s = 0.0
        for i in range(m - 1, -1, -1):
            if not folded or i < m - 1:
                s += c_w[w0 + (m0 - (i + 1) if flip[c] else i + 1)]
            cum_b[base + i] = s
        total_b[c] = s + c_w[w0 + (m0 if flip[c] else 0)]
    return c_ptr, c_nodes, cum_a, cum_b, total_a, total_b


@nb.njit(cache=True)
def _adjacency(jid, end_a, end_b, total_a, total_b):
    """Per junction (CSR ``a_ptr``): ``a_to`` (-1 for a folded dead end), ``a_len``,
    ``a_chain``, ``a_rev``."""
    n_j = int(jid.max()) + 1 if len(jid) else 0
    n_chain = len(end_a)
    a_ptr = np.zeros(n_j + 1, np.int64)
    for c in range(n_chain):
        a_ptr[jid[end_a[c]] + 1] += 1
        if end_b[c] >= 0:
            a_ptr[jid[end_b[c]] + 1] += 1
    a_ptr = np.cumsum(a_ptr)
    fill = a_ptr[:-1].copy()
    a_to = np.empty(a_ptr[-1], np.int64)
    a_len = np.empty(a_ptr[-1])
    a_chain = np.empty(a_ptr[-1], np.int64)
    a_rev = np.empty(a_ptr[-1], np.int64)
    for c in range(n_chain):
        ja = jid[end_a[c]]
        jb = jid[end_b[c]] if end_b[c] >= 0 else -1
        e = fill[ja]
        fill[ja] += 1
        a_to[e], a_len[e], a_chain[e], a_rev[e] = jb, total_a[c], c, 0
        if jb >= 0:
            e = fill[jb]
            fill[jb] += 1
            a_to[e], a_len[e], a_chain[e], a_rev[e] = ja, total_b[c], c, 1
    return a_ptr, a_to, a_len, a_chain, a_rev


@nb.njit(cache=True)
def junction_graph(indptr, indices, data):
    """The junction graph of a symmetric CSR graph (arrays of ``scipy.sparse``).

    Junctions are the nodes of degree other than 2, except dead ends (degree 1), which are
    folded into their chain as its last interior node (a chain with one end). Returns a tuple
    ``(jid, j_node, a_ptr, a_to, a_len, a_chain, a_rev, c_ptr, c_nodes, cum_a, cum_b,
    node_chain, node_pos, c_ja, c_jb, a_base, a_m)``: ``jid`` the junction number of every node (-1
    inside a chain), ``j_node`` the node of every junction; per junction (CSR ``a_ptr``) its
    chains ``a_chain`` leading to junction ``a_to`` (-1: a dead end) over ``a_len`` metres,
    ``a_rev`` 1 where the junction is the chain's ``b`` end; chain ``c`` has the interior
    nodes ``c_nodes[c_ptr[c]:c_ptr[c + 1]]`` (from ``a`` to ``b``) at distances ``cum_a``
    from ``a`` and ``cum_b`` from ``b`` (from the last interior node where ``b`` is folded);
    ``node_chain`` / ``node_pos`` locate interior nodes; ``c_ja`` / ``c_jb`` are the
    junction numbers of the chain's ends (``c_jb`` -1 where folded); ``a_base`` / ``a_m``
    repeat ``c_ptr[a_chain]`` and the chain's interior count per adjacency entry.
    """
    kc = chains(indptr, indices, data)
    n = len(indptr) - 1
    deg = indptr[1:] - indptr[:-1]
    end_a, end_b, flip = _orient(deg, kc[1], kc[2])
    is_junction = kc[0].copy()
    for c in range(len(end_a)):
        if end_b[c] < 0:
            is_junction[kc[1][c] if flip[c] else kc[2][c]] = False
    jid = np.full(n, -1, np.int64)
    n_j = 0
    for v in range(n):
        if is_junction[v]:
            jid[v] = n_j
            n_j += 1
    j_node = np.flatnonzero(is_junction).astype(np.int64)
    c_ptr, c_nodes, cum_a, cum_b, total_a, total_b = _layout(kc, end_b, flip)
    a_ptr, a_to, a_len, a_chain, a_rev = _adjacency(jid, end_a, end_b, total_a, total_b)
    node_chain = np.full(n, -1, np.int64)
    node_pos = np.full(n, -1, np.int64)
    c_ja = np.empty(len(end_a), np.int64)
    c_jb = np.full(len(end_a), -1, np.int64)
    for c in range(len(end_a)):
        c_ja[c] = jid[end_a[c]]
        if end_b[c] >= 0:
            c_jb[c] = jid[end_b[c]]
        for i in range(c_ptr[c], c_ptr[c + 1]):
            node_chain[c_nodes[i]] = c
            node_pos[c_nodes[i]] = i - c_ptr[c]
    a_base = c_ptr[a_chain]
    a_m = c_ptr[a_chain + 1] - a_base
    return (jid, j_node, a_ptr, a_to, a_len, a_chain, a_rev, c_ptr, c_nodes, cum_a, cum_b,
            node_chain, node_pos, c_ja, c_jb, a_base, a_m)  # fmt: skip


@nb.njit(inline="always")
def _push(hd, hn, size, d, v):
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if hd[p] <= d:
            break
        hd[i] = hd[p]
        hn[i] = hn[p]
        i = p
    hd[i] = d
    hn[i] = v
    return size + 1


@nb.njit(inline="always")
def _pop(hd, hn, size):
    size -= 1
    d = hd[size]
    v = hn[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        best = c
        bd = hd[c]
        end = min(c + 4, size)
        for q in range(c + 1, end):
            if hd[q] < bd:
                bd = hd[q]
                best = q
        if bd >= d:
            break
        hd[i] = bd
        hn[i] = hn[best]
        i = best
    hd[i] = d
    hn[i] = v
    return size


@nb.njit(inline="always")
def _reach_from_end(cum, base, m, d, limit, rev):
    """How many interior nodes of a chain (``m``, running sums ``cum``) lie within
    ``limit`` of the end at distance ``d`` (``rev``: the ``b`` end)."""
    k = 0
    while k < m:
        i = base + (m - 1 - k if rev else k)
        if d + cum[i] > limit:
            break
        k += 1
    return k


@nb.njit(inline="always")
def _range_add(diff, lo, hi, w):
    if hi > lo:
        for col in range(len(w)):
            diff[lo, col] += w[col]
            diff[hi, col] -= w[col]


@nb.njit(cache=True, nogil=True)
def _own_start(g, v0, d0, limit):
    """A source inside chain ``c``: the interior positions ``lo..hi`` it reaches along its
    own chain and the distances at the chain's ends (``inf`` beyond ``limit``)."""
    c_ptr, cum_a, cum_b, node_chain, node_pos = g[7], g[9], g[10], g[11], g[12]
    c = node_chain[v0]
    base = c_ptr[c]
    m = c_ptr[c + 1] - base
    p = node_pos[v0]
    lo = p
    while lo > 0 and d0 + (cum_a[base + p] - cum_a[base + lo - 1]) <= limit:
        lo -= 1
    hi = p
    while hi < m - 1 and d0 + (cum_b[base + p] - cum_b[base + hi + 1]) <= limit:
        hi += 1
    end_a = d0 + cum_a[base + p]
    end_b = d0 + cum_b[base + p]
    return c, lo, hi, end_a if end_a <= limit else np.inf, end_b if end_b <= limit else np.inf


@nb.njit(cache=True, nogil=True)
def _seed(g, ws, v0, d0, limit):
    """Start a search at node ``v0`` (distance ``d0``): push its junction, or walk its own
    chain and push the chain's ends. Returns ``(heap size, touched chains, own, lo, hi)``."""
    dist, reach, touched, hd, hn = ws[0], ws[3], ws[4], ws[5], ws[6]
    jid = g[0]
    if jid[v0] >= 0:
        dist[jid[v0]] = d0
        return _push(hd, hn, 0, d0, jid[v0]), 0, -1, 0, -1
    own, lo, hi, end_a, end_b = _own_start(g, v0, d0, limit)
    touched[0] = own
    reach[2 * own] = 0
    reach[2 * own + 1] = 0
    size = 0
    for end, de in ((g[13][own], end_a), (g[14][own], end_b)):
        if end >= 0 and de < dist[end]:
            dist[end] = de
            size = _push(hd, hn, size, de, end)
    return size, 1, own, lo, hi


@nb.njit(cache=True, nogil=True)
def _settle(g, ws, size, nt, limit):
    """Dijkstra over the junctions from the heap; every chain at a settled junction records
    how many of its interior nodes are reached from that end. Returns ``(settled, nt)``."""
    dist, done, settled, reach, touched, hd, hn = ws
    a_ptr, a_to, a_len, a_chain, a_rev = g[2], g[3], g[4], g[5], g[6]
    cum_a, cum_b, a_base, a_m = g[9], g[10], g[15], g[16]
    n_set = 0
    while size > 0:
        d = hd[0]
        u = hn[0]
        size = _pop(hd, hn, size)
        if done[u]:
            continue
        done[u] = True
        settled[n_set] = u
        n_set += 1
        for e in range(a_ptr[u], a_ptr[u + 1]):
            rev = a_rev[e]
            nd = d + a_len[e]
            m = a_m[e]
            if nd <= limit:
                k = m
                t = a_to[e]
                if t >= 0 and nd < dist[t]:
                    dist[t] = nd
                    size = _push(hd, hn, size, nd, t)
            else:
                k = _reach_from_end(cum_b if rev else cum_a, a_base[e], m, d, limit, rev)
            if k == 0:
                continue
            c = a_chain[e]
            if reach[2 * c] < 0:
                touched[nt] = c
                nt += 1
                reach[2 * c] = 0
                reach[2 * c + 1] = 0
            if k > reach[2 * c + rev]:
                reach[2 * c + rev] = k
    return n_set, nt


@nb.njit(cache=True, nogil=True)
def _add(g, ws, counts, own_range, w, out_j, diff):
    """Add ``w`` at the settled junctions (``out_j``) and the reached interior ranges
    (``diff``), and reset the workspace for the next search."""
    dist, done, settled, reach, touched = ws[0], ws[1], ws[2], ws[3], ws[4]
    c_ptr = g[7]
    n_set, nt = counts
    own, lo, hi = own_range
    for i in range(n_set):
        u = settled[i]
        row = out_j[u]
        for col in range(len(w)):
            row[col] += w[col]
        # every junction given a distance (<= limit) was pushed, hence settled
        done[u] = False
        dist[u] = np.inf
    for i in range(nt):
        c = touched[i]
        base = c_ptr[c]
        m = c_ptr[c + 1] - base
        pa, pb = reach[2 * c], reach[2 * c + 1]
        reach[2 * c] = -1
        reach[2 * c + 1] = -1
        if c == own:
            # the union of [0, pa), [lo, hi] and [m - pb, m): three sorted ranges
            r0, r1 = 0, pa
            for q0, q1 in ((lo, hi + 1), (m - pb, m)):
                if q0 <= r1:
                    r1 = max(r1, q1)
                else:
                    _range_add(diff, base + r0, base + r1, w)
                    r0, r1 = q0, q1
            _range_add(diff, base + r0, base + r1, w)
        elif pa + pb >= m:
            _range_add(diff, base, base + m, w)
        else:
            _range_add(diff, base, base + pa, w)
            _range_add(diff, base + m - pb, base + m, w)


@nb.njit(cache=True, nogil=True)
def _part(g, sources, limit, first, step, out_j, diff):
    """Searches from the sources ``first::step`` (``sources`` = node, initial distance,
    weight row): junction sums into ``out_j``, interior ranges into the difference array
    ``diff`` (indexed like ``c_nodes``)."""
    src_node, src_d0, weights = sources
    n_j = len(g[1])
    n_chain = len(g[7]) - 1
    # a junction enters the heap at most once per chain end it is reached over (+ 2 seeds)
    cap = len(g[3]) + 2
    # distance, settled?, settled list, interior nodes reached from end a / b of each chain
    # (2c, 2c + 1; -1: chain untouched), touched chains, heap
    ws = (
        np.full(n_j, np.inf), np.zeros(n_j, np.bool_), np.empty(n_j, np.int64),
        np.full(2 * n_chain, -1, np.int64), np.empty(n_chain + 1, np.int64),
        np.empty(cap), np.empty(cap, np.int64),
    )  # fmt: skip
    for s in range(first, len(src_node), step):
        if src_d0[s] > limit:
            continue
        size, nt, own, lo, hi = _seed(g, ws, src_node[s], src_d0[s], limit)
        counts = _settle(g, ws, size, nt, limit)
        _add(g, ws, counts, (own, lo, hi), weights[s], out_j, diff)


@nb.njit(parallel=True, cache=True)
def junction_sums(g, src_node, src_d0, limit, weights, parts):
    """``(n, c)`` sums of ``weights[s]`` over the sources ``s`` within ``limit`` of each node.

    ``g`` is the tuple of :func:`junction_graph`; a source is ``(node, initial
    distance)``. The sources are split into ``parts`` run in parallel (numba threads); each
    part sums into its own arrays, added up at the end (integer counts stay exact).
    """
    jid, j_node, c_nodes = g[0], g[1], g[8]
    n = len(jid)
    ncol = weights.shape[1]
    n_int = len(c_nodes)
    parts = max(1, min(parts, len(src_node)))
    outs = np.zeros((parts, len(j_node), ncol))
    diffs = np.zeros((parts, n_int + 1, ncol))
    for p in nb.prange(parts):  # part p takes every parts-th source: balanced over the city
        _part(g, (src_node, src_d0, weights), limit, p, parts, outs[p], diffs[p])
    out = np.zeros((n, ncol))
    out_j = outs.sum(axis=0)
    for j in range(len(j_node)):
        out[j_node[j]] = out_j[j]
    diff = diffs.sum(axis=0)
    acc = np.zeros(ncol)
    for i in range(n_int):
        for col in range(ncol):
            acc[col] += diff[i, col]
            out[c_nodes[i], col] += acc[col]
    return out
