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
from scipy.spatial import cKDTree

from handwerkgeo.errors import MissingColumnError, ParameterError, ValidationError
from handwerkgeo.network import fields
from handwerkgeo.network.graph import Network
from handwerkgeo.network.snapping import Geoms, Sides

logger = logging.getLogger(__name__)

#: Weights of the targets in a count: a column of the targets, a Series or values in order.
Weights: TypeAlias = str | Sequence[float] | np.ndarray | pd.Series | None


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

    One limited search from every distinct target start (compiled kernel); only nodes in
    ``nodes_of_interest`` (sorted, unique) are returned, sorted by node, then by distance if
    ``by_distance``, then by target.
    """
    if len(t_node) == 0 or len(nodes_of_interest) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    stored = fields.stored_reach(network, t_node, t_snap, limit_m)
    if stored is None:
        node, target, d = fields.reach_pairs(network, t_node, t_snap, limit_m, nodes_of_interest)
    else:  # a prepared field of every node: take the entries of these nodes
        start = stored.indptr[nodes_of_interest]
        length = stored.indptr[nodes_of_interest + 1] - start
        owner, pos = expand(start, length)
        node = nodes_of_interest[owner]
        target = stored.target[pos].astype(np.int64)
        d = stored.dist[pos]
        keep = d <= limit_m
        node, target, d = node[keep], target[keep], d[keep]
        if by_distance:  # a field's entries are by node, distance, target already
            return node, target, d
    order = np.lexsort((target, d, node)) if by_distance else np.lexsort((target, node))
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


def search(
    network: Network,
    s: Sides,
    limit_m: float,
    *,
    by_distance: bool,
    skip: np.ndarray | None = None,
) -> Reached | None:
    """One limited search from the on-network targets (``None`` if there is nothing to route).

    ``skip`` (bool per origin): origins whose nodes need not be reported (their ranges are
    empty unless another origin shares the node).
    """
    on = s.on_targets
    o_node = s.o_node[s.o_on]
    if len(on) == 0 or len(o_node) == 0:
        return None
    wanted = o_node if skip is None else s.o_node[s.o_on & ~skip]
    node, target, d = reach(
        network, s.t_node[on], s.t_snap[on], limit_m, np.unique(wanted), by_distance=by_distance
    )
    start = np.searchsorted(node, o_node, side="left")
    length = np.searchsorted(node, o_node, side="right") - start
    return Reached(limit_m, by_distance, target, d, start, length)


def search_k(network: Network, s: Sides, k: int, limit_m: float) -> Reached | None:
    """The ``k`` nearest on-network targets within ``limit_m`` of every on-network origin.

    From the node field of :func:`handwerkgeo.network.fields.k_field` (one k-label search,
    whatever the number of origins); the same entries, in the same order, as the first
    ``k`` of :func:`search` ``(by_distance=True)``.
    """
    on = s.on_targets
    o_node = s.o_node[s.o_on]
    if len(on) == 0 or len(o_node) == 0:
        return None
    f = fields.k_field(network, s.t_node[on], s.t_snap[on], k=k, limit_m=limit_m)
    nodes = np.unique(o_node)
    found = f.found[nodes]
    keep = np.arange(f.dist.shape[1])[None, :] < found[:, None]
    d = f.dist[nodes][keep]
    target = f.target[nodes][keep]
    first = np.r_[0, np.cumsum(found)[:-1]]
    pos = np.searchsorted(nodes, o_node)
    return Reached(float(limit_m), True, target, d, first[pos], found[pos])


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
    presorted = False  # the network pairs already by origin, then distance
    on = s.on_targets
    o_rows = np.flatnonzero(s.o_on)
    if reached is None:
        reached = (
            search(network, s, limit_m, by_distance=False)
            if first_k is None
            else search_k(network, s, first_k, limit_m)
        )
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
        else:  # ranges in origin order, each by distance: adding the origin's snap keeps it
            presorted = reached.by_distance
        rows_p.append(rows)
        targets_p.append(on[target])
        dists_p.append(dist)
        lines_p.append(np.zeros(len(rows), dtype=bool))
    line_sets = [(np.flatnonzero(~s.o_on), np.arange(len(s.t_xy)))]
    if len(s.off_targets):
        line_sets.append((o_rows, s.off_targets))
    # with first_k, a straight-line pair not nearer than an origin's k-th network pair
    # cannot be among its first k (the network pairs come first among equals)
    kth = _kth(rows_p[0], dists_p[0], len(s.o_xy), first_k) if presorted and first_k else None
    for rows, pool in line_sets:
        if len(rows) == 0 or len(pool) == 0:
            continue
        i, j, dist = _line_pairs(s, rows, pool, limit_m / circuity * (1 + 1e-12), first_k)
        dist = dist * circuity
        keep = dist <= limit_m
        if kth is not None:
            keep &= dist < kth[rows[i]]
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
        by = _by_origin_distance(row, dist, len(rows_p[0]) if presorted else -1)
        if by is not None:
            row, target, dist, line = row[by], target[by], dist[by], line[by]
    if first_k is not None:
        rank = rank_in_group(row)
        keep = rank < first_k
        row, target, dist, line = row[keep], target[keep], dist[keep], line[keep]
    return row, target, dist, line


def _line_pairs(
    s: Sides, rows: np.ndarray, pool: np.ndarray, reach_line: float, first_k: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin position in ``rows``, target position in ``pool``, straight line) pairs
    within ``reach_line``; with ``first_k`` only the ``k`` nearest of each origin."""
    if first_k is None:
        pairs = cKDTree(s.o_xy[rows]).sparse_distance_matrix(
            cKDTree(s.t_xy[pool]), max_distance=reach_line, output_type="ndarray"
        )
        return pairs["i"], pairs["j"], pairs["v"]
    kk = min(first_k, len(pool))
    d_line, j = cKDTree(s.t_xy[pool]).query(
        s.o_xy[rows], k=[*range(1, kk + 1)], distance_upper_bound=reach_line, workers=-1
    )
    i = np.repeat(np.arange(len(rows)), kk)
    d_line, j = d_line.ravel(), j.ravel()
    hit = np.isfinite(d_line)
    return i[hit], j[hit], d_line[hit]


def _kth(row: np.ndarray, dist: np.ndarray, n_o: int, k: int) -> np.ndarray:
    """Per origin the ``k``-th distance of pairs sorted by origin and distance (inf if
    fewer than ``k``)."""
    count = np.bincount(row, minlength=n_o)
    first = np.r_[0, np.cumsum(count)[:-1]]
    kth = np.full(n_o, np.inf)
    full = count >= k
    kth[full] = dist[first[full] + k - 1]
    return kth


def _by_origin_distance(row: np.ndarray, dist: np.ndarray, n_sorted: int) -> np.ndarray | None:
    """The order by origin, then distance (equal ones as given), like
    ``np.lexsort((dist, row))``; ``None`` if already so.

    ``n_sorted`` ≥ 0: the first ``n_sorted`` pairs are already in that order; then only the
    origins that have later pairs are sorted, and merged back in by origin (a stable sort
    of two sorted runs).
    """
    if n_sorted < 0:
        return np.lexsort((dist, row))
    if n_sorted == len(row):
        return None
    affected = np.zeros(int(row.max()) + 1, dtype=bool)
    affected[row[n_sorted:]] = True
    mixed = affected[row]
    idx = np.flatnonzero(mixed)
    idx = idx[np.lexsort((dist[idx], row[idx]))]
    merged = np.concatenate([np.flatnonzero(~mixed), idx])
    return merged[np.argsort(row[merged], kind="stable")]


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
        field = fields.nearest_field(network, s.t_node[on], s.t_snap[on])
        o = np.flatnonzero(s.o_on)
        reached = np.isfinite(field.dist[s.o_node[o]])
        o = o[reached]
        dist[o] = field.dist[s.o_node[o]] + s.o_snap[o]
        tidx[o] = on[field.target[s.o_node[o]]]

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
    # unweighted counts of origins at their node (snap 0) come from the node field
    at_node = None
    on = s.on_targets
    if w is None and reached is None and len(on):
        at_node = s.o_on & (s.o_snap == 0)
        if at_node.any():
            reached = search(network, s, radius_m, by_distance=False, skip=at_node)
        else:
            at_node = None
    row, target, _dist, line = all_pairs(
        network, s, radius_m, circuity, sort=False, reached=reached, target_order=w is not None
    )
    fallback = ~s.o_on | (np.bincount(row[line], minlength=n_o) > 0)
    if w is None:
        col, values = "count", np.bincount(row, minlength=n_o).astype(np.int64)
        if at_node is not None:
            field = fields.count_field(network, s.t_node[on], s.t_snap[on], limit_m=radius_m)
            values[at_node] = (
                np.bincount(row[line], minlength=n_o)[at_node] + field[s.o_node[at_node]]
            )
    else:
        col, values = "weighted_sum", np.bincount(row, weights=w[target], minlength=n_o)
    log_fallback(f"count_within({radius_m:g} m)", fallback, s)
    return pd.DataFrame({col: values, "snap_m": s.o_snap, "fallback": fallback}, index=s.o_index)
