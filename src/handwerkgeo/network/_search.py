"""Limited multi-source Dijkstra searches from the targets, shared by the measures.

Private to :mod:`handwerkgeo.network`: the public functions are in
:mod:`handwerkgeo.network.measures`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from handwerkgeo.errors import MissingColumnError, ParameterError, ValidationError
from handwerkgeo.network.graph import Network
from handwerkgeo.network.snapping import Geoms, Sides

logger = logging.getLogger(__name__)

#: Upper bound on the cells of one dense block of search results (float64 → 128 MB).
BLOCK_CELLS = 16_000_000

#: Weights of the targets in a count: a column of the targets, a Series or values in order.
Weights: TypeAlias = str | Sequence[float] | np.ndarray | pd.Series | None


def augmented(network: Network, t_node: np.ndarray, t_snap: np.ndarray) -> sparse.csr_array:
    """The network plus one virtual node per target, joined to its node by its snap."""
    csr = network.csr
    n, m = network.n_nodes, len(t_node)
    indptr = np.r_[csr.indptr, csr.indptr[-1] + np.arange(1, m + 1)]
    indices = np.r_[csr.indices, t_node].astype(csr.indices.dtype, copy=False)
    data = np.r_[csr.data, t_snap]
    return sparse.csr_array((data, indices, indptr), shape=(n + m, n + m))


def reach(
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
    graph = augmented(network, t_node, t_snap)
    wanted = np.zeros(n + m, dtype=bool)
    wanted[nodes_of_interest] = True
    block = max(1, BLOCK_CELLS // (n + m))
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
class Reached:
    """The network part of one limited search, per on-network origin.

    ``target`` (position among ``Sides.on_targets``) and ``d`` (target snap + network
    distance ≤ ``limit_m``) are grouped by network node; ``start`` and ``length`` give,
    for every on-network origin (``np.flatnonzero(Sides.o_on)``, in order), the range of
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


def search(network: Network, s: Sides, limit_m: float, *, by_distance: bool) -> Reached | None:
    """One limited search from the on-network targets (``None`` if there is nothing to route)."""
    on = s.on_targets
    o_node = s.o_node[s.o_on]
    if len(on) == 0 or len(o_node) == 0:
        return None
    node, target, d = reach(
        network, s.t_node[on], s.t_snap[on], limit_m, np.unique(o_node), by_distance=by_distance
    )
    start = np.searchsorted(node, o_node, side="left")
    length = np.searchsorted(node, o_node, side="right") - start
    return Reached(limit_m, by_distance, target, d, start, length)


def expand(start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) pairs for the ranges start[i] : start[i] + length[i]."""
    owner = np.repeat(np.arange(len(start)), length)
    offsets = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    return owner, np.repeat(start, length) + offsets


def all_pairs(
    network: Network,
    s: Sides,
    limit_m: float,
    circuity: float,
    *,
    first_k: int | None = None,
    sort: bool = True,
    reached: Reached | None = None,
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
        reached = search(network, s, limit_m, by_distance=first_k is not None)
    elif reached.limit_m < limit_m or (first_k is not None and not reached.by_distance):
        msg = "the shared search does not cover this measure"
        raise RuntimeError(msg)
    if reached is not None:
        length = reached.lengths_within(limit_m)
        if first_k is not None:
            length = np.minimum(length, first_k)
        owner, pos = expand(reached.start, length)
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
        rank = rank_in_group(row)
        keep = rank < first_k
        row, target, dist, line = row[keep], target[keep], dist[keep], line[keep]
    return row, target, dist, line


def rank_in_group(sorted_keys: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each run of equal values of a sorted array."""
    if len(sorted_keys) == 0:
        return np.empty(0, dtype=np.int64)
    new = np.ones(len(sorted_keys), dtype=bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    idx = np.arange(len(sorted_keys))
    return idx - np.maximum.accumulate(np.where(new, idx, 0))


def log_fallback(what: str, fallback: np.ndarray, s: Sides) -> None:
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
# parameter checks and result frames of the measures


def nearest_frame(network: Network, s: Sides, circuity: float) -> pd.DataFrame:
    n_o = len(s.o_xy)
    dist = np.full(n_o, np.inf)
    tidx = np.full(n_o, -1, dtype=np.int64)
    on = s.on_targets
    if len(on) and s.o_on.any():
        graph = augmented(network, s.t_node[on], s.t_snap[on])
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
    log_fallback("nearest", fallback, s)
    return pd.DataFrame(
        {"dist_m": dist, "target_idx": tidx, "snap_m": s.o_snap, "fallback": fallback},
        index=s.o_index,
    )


def pairs_frame(
    network: Network,
    s: Sides,
    limit_m: float,
    circuity: float,
    reached: Reached | None = None,
    *,
    sort: bool = True,
) -> pd.DataFrame:
    row, target, dist, line = all_pairs(
        network, s, limit_m, circuity, reached=reached, sort=sort, target_order=sort
    )
    log_fallback(f"pairs_within({limit_m:g} m)", line, s)
    return pd.DataFrame({"origin_idx": row, "target_idx": target, "dist_m": dist, "fallback": line})


def check_limit(value: float, name: str) -> None:
    if not np.isfinite(value) or value < 0:
        msg = f"{name} must be a distance in metres >= 0, got {value!r}."
        raise ParameterError(msg)


def check_k(k: int) -> int:
    if int(k) != k or k < 1:
        msg = f"k must be a positive integer, got {k!r}."
        raise ParameterError(msg)
    return int(k)


def k_nearest_frame(
    network: Network,
    s: Sides,
    k: int,
    cutoff_m: float,
    circuity: float,
    reached: Reached | None = None,
) -> pd.DataFrame:
    n_o = len(s.o_xy)
    row, target, dist, line = all_pairs(network, s, cutoff_m, circuity, first_k=k, reached=reached)
    rank = rank_in_group(row)
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
    log_fallback(f"k_nearest(k={k}, cutoff={cutoff_m:g} m)", fallback, s)
    return pd.DataFrame(out, index=s.o_index)


def target_weights(targets: Geoms, weights: Weights) -> np.ndarray | None:
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
        raise ParameterError(msg)
    bad = ~np.isfinite(w)
    if bad.any():
        msg = (
            f"{int(bad.sum())} target weights are missing or not numbers (targets index "
            f"{list(targets.index[bad][:10])}); fill them (e.g. 0) or drop those targets."
        )
        raise ValidationError("weights", [msg])
    return w


def count_frame(
    network: Network,
    s: Sides,
    radius_m: float,
    w: np.ndarray | None,
    circuity: float,
    reached: Reached | None = None,
) -> pd.DataFrame:
    n_o = len(s.o_xy)
    row, target, _dist, line = all_pairs(
        network, s, radius_m, circuity, sort=False, reached=reached, target_order=w is not None
    )
    fallback = ~s.o_on | (np.bincount(row[line], minlength=n_o) > 0)
    if w is None:
        col, values = "count", np.bincount(row, minlength=n_o).astype(np.int64)
    else:
        col, values = "weighted_sum", np.bincount(row, weights=w[target], minlength=n_o)
    log_fallback(f"count_within({radius_m:g} m)", fallback, s)
    return pd.DataFrame({col: values, "snap_m": s.o_snap, "fallback": fallback}, index=s.o_index)
