"""Robustness of a ranking to the weights: Monte Carlo perturbation and one-at-a-time.

A ranking for a council paper must come with its robustness (DOMAIN.md). Both analyses
keep the utilities and exclusions of the base run fixed and vary only the weights, scoring
exactly as :func:`handwerkgeo.scoring.score_raw` does (weights renormalised over the
criteria with data, ties broken by ``plot_id``).

:func:`monte_carlo` draws ``runs`` weight vectors w·(1 + ε), ε ~ U(−spread, spread)
(``distribution="uniform"``) or N(0, (spread/2)²) clipped at −1 (``"normal"``), and reports
per plot the probability of being in the top N and rank percentiles. It is vectorised: the
utilities matrix U (n × c, missing = 0 with mask M) times the weights W (c × runs) gives
scores (U·W) / (M·W) for a chunk of runs at once; each run is ranked by one sort of 64-bit
keys (score bits above, a code of the plot_id order below): equal scores come out in
plot_id order, and plots whose scores differ by less than the dropped bits are re-sorted
exactly. The ranks are kept in 16 + k bits per plot
and run (k = bits beyond 16 that the number of plots needs); the percentiles are exact order
statistics from a sort over the runs per block of plots. Excluded plots are never ranked
(NaN).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from handwerkgeo.scoring import score_plots
>>> plots = gpd.GeoDataFrame(
...     {"plot_id": ["a", "b"], "zoning": ["GE", "MI"], "owner": ["city", "private"]},
...     geometry=[box(0, 0, 100, 60), box(200, 0, 300, 60)], crs="EPSG:25832")
>>> mc = monte_carlo(score_plots(plots), runs=200, top_n=1)
>>> mc["p_top_1"].tolist()
[1.0, 0.0]
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

import numpy as np
import pandas as pd

from handwerkgeo._ids import plot_ids
from handwerkgeo.config import ScoringConfig, default_config
from handwerkgeo.errors import ValidationError

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["MonteCarloKwargs", "MonteCarloOptions", "monte_carlo", "one_at_a_time"]

logger = logging.getLogger(__name__)


def _base(frame: pd.DataFrame, config: ScoringConfig) -> tuple[pd.DataFrame, list[str]]:
    """The scored frame (scoring ``frame`` first when it holds only raw values)."""
    from handwerkgeo.scoring import score_raw

    names = list(config.active_criteria())
    if not all(f"u_{k}" in frame.columns for k in names) or "excluded" not in frame.columns:
        frame = score_raw(frame, config)
    return frame, names


def _eligible_sorted(scored: pd.DataFrame, u: np.ndarray) -> np.ndarray:
    """Positions of rankable plots, ordered by plot_id (the tie-break of the ranking)."""
    ok = ~scored["excluded"].to_numpy(dtype=bool) & ~np.isnan(u).all(axis=1)
    pos = np.flatnonzero(ok)
    codes = pd.factorize(pd.Index(plot_ids(scored)[pos]), sort=True)[0]
    return pos[np.argsort(codes, kind="stable")]


def _draw(
    rng: np.random.Generator, w: np.ndarray, runs: int, spread: float, distribution: str
) -> np.ndarray:
    if distribution == "uniform":
        eps = rng.uniform(-spread, spread, size=(runs, len(w)))
    else:
        eps = np.clip(rng.normal(0.0, spread / 2.0, size=(runs, len(w))), -1.0, None)
    return w[None, :] * (1.0 + eps)


@dataclass(frozen=True)
class MonteCarloOptions:
    """Options of :func:`monte_carlo` (all have defaults; pass them as keywords, too).

    Attributes
    ----------
    runs
        Number of weight draws.
    spread
        Relative perturbation of each weight (0.25 = ±25 %).
    top_n
        N of the ``p_top_<N>`` column.
    seed
        Random seed; the same seed gives identical results.
    distribution
        ``"uniform"`` (ε ~ U(−spread, spread)) or ``"normal"`` (ε ~ N(0, spread/2)).
    chunk_runs
        Runs scored at once per thread (memory about n × chunk_runs × 16 bytes each); the
        ranks of all runs are kept in 2 bytes plus one bit per bit beyond 16 that the
        number of ranked plots needs (runs × n × 17 / 8 bytes: 212 MB for 1,000 runs ×
        100,000 plots).
    n_jobs
        Threads (numpy sorts release the GIL); 1 runs serially. Results do not depend on it.

    Raises
    ------
    ValidationError
        Listing every value out of range.
    """

    runs: int = 1000
    spread: float = 0.25
    top_n: int = 10
    seed: int = 0
    distribution: Literal["uniform", "normal"] = "uniform"
    chunk_runs: int = 16
    n_jobs: int = 2

    def __post_init__(self) -> None:
        problems = []
        if self.runs < 1 or not 0 <= self.spread < 1 or self.top_n < 1:
            problems.append(
                "monte_carlo needs runs >= 1, 0 <= spread < 1 and top_n >= 1; got "
                f"runs={self.runs}, spread={self.spread}, top_n={self.top_n}"
            )
        if self.chunk_runs < 1 or self.n_jobs < 1:
            problems.append(
                f"chunk_runs and n_jobs must be >= 1; got chunk_runs={self.chunk_runs}, "
                f"n_jobs={self.n_jobs}"
            )
        if self.distribution not in ("uniform", "normal"):
            problems.append(
                f"distribution must be 'uniform' or 'normal', not {self.distribution!r}"
            )
        if problems:
            raise ValidationError("Monte Carlo options", problems)


class MonteCarloKwargs(TypedDict, total=False):
    """:class:`MonteCarloOptions` as keyword arguments of :func:`monte_carlo`."""

    runs: int
    spread: float
    top_n: int
    seed: int
    distribution: Literal["uniform", "normal"]
    chunk_runs: int
    n_jobs: int


def monte_carlo(
    scored_or_raw: pd.DataFrame,
    config: ScoringConfig | None = None,
    *,
    options: MonteCarloOptions | None = None,
    **kwargs: Unpack[MonteCarloKwargs],
) -> pd.DataFrame:
    """Monte Carlo weight perturbation: how stable is each plot's rank?

    Parameters
    ----------
    scored_or_raw
        A scored frame (:func:`~handwerkgeo.scoring.score_plots`) or raw values
        (:func:`~handwerkgeo.scoring.compute_raw`), which are scored first.
    config
        The configuration of the base run; default the packaged default.
    options
        :class:`MonteCarloOptions`; keywords (``runs=``, ``spread=``, ``top_n=``,
        ``seed=``, ``distribution=``, ``chunk_runs=``, ``n_jobs=``) replace single fields.

    Returns
    -------
    pandas.DataFrame
        On the input index: ``p_top_<N>`` (share of runs in the top N), ``rank_p05``,
        ``rank_p50``, ``rank_p95`` (rank percentiles), ``rank_mean``; NaN for excluded
        plots. ``attrs`` holds ``runs``, ``spread``, ``seed``, ``distribution``,
        ``top_n``, ``seconds``.

    Raises
    ------
    ValidationError
        For options out of range (a ``ValueError``).
    """
    opts = dataclasses.replace(options or MonteCarloOptions(), **kwargs)
    config = config or default_config()
    t0 = time.perf_counter()
    scored, names = _base(scored_or_raw, config)
    u = scored[[f"u_{k}" for k in names]].to_numpy(dtype=float, na_value=np.nan)
    pos = _eligible_sorted(scored, u)
    w = np.array([config.criteria[k].weight for k in names], dtype=float)
    weights = _draw(np.random.default_rng(opts.seed), w, opts.runs, opts.spread, opts.distribution)
    state = _RankState.build(u[pos], weights, opts.chunk_runs)
    _rank_all(state, opts.n_jobs)
    res = np.full((len(scored), 5), np.nan)
    if state.m:
        _rank_statistics(state, res, pos, opts)
    out = pd.DataFrame(
        res,
        index=scored_or_raw.index,
        columns=[f"p_top_{opts.top_n}", "rank_p05", "rank_p50", "rank_p95", "rank_mean"],
    )
    seconds = time.perf_counter() - t0
    out.attrs = {
        "runs": opts.runs,
        "spread": opts.spread,
        "seed": opts.seed,
        "distribution": opts.distribution,
        "top_n": opts.top_n,
        "seconds": seconds,
    }
    logger.info(
        "Monte Carlo: %d runs × %d ranked plot(s), ±%.0f %% %s, %.2f s",
        opts.runs,
        state.m,
        100 * opts.spread,
        opts.distribution,
        seconds,
    )
    return out


@dataclass
class _RankState:
    """Inputs and outputs of ranking every Monte Carlo run (see the module docstring).

    Each run is ranked by one sort of 64-bit integer keys: the bit pattern of the score
    (for scores >= 0 it orders like the score) with its low bits replaced by a code of
    the plot's position (last - position, positions in plot_id order), so that the keys
    sorted ascending give the order from the last rank: plots with equal scores come in
    reverse plot_id order, i.e. they are ranked in plot_id order. Plots whose keys
    agree above the code bits but whose scores differ (within ~1e-11 of each other)
    are then put in exact (score, plot_id) order, as score_raw ranks them.
    The rank − 1 of every plot in every run is kept in (16 + n_low) bits: the high 16
    bits in ``high`` (uint16), each lower bit packed 8 to a byte in ``low_bits``.
    """

    weights: np.ndarray  # runs × c
    um_t: np.ndarray  # c × m utilities (0 without data)
    patterns_t: np.ndarray  # c × patterns of criteria with data
    pattern_of: np.ndarray  # pattern of each plot
    chunk_runs: int
    m: int
    low: int
    n_low: int
    high: np.ndarray
    low_bits: np.ndarray

    @classmethod
    def build(cls, u: np.ndarray, weights: np.ndarray, chunk_runs: int) -> _RankState:
        m, c = u.shape
        runs = len(weights)
        mask_t = np.ascontiguousarray((~np.isnan(u)).T.astype(float))  # c × m
        um_t = np.ascontiguousarray(np.nan_to_num(u).T) * mask_t
        # Scores are >= 0 (utilities 0..1, weights >= 0); +0.0 for -0.0 keeps zeros equal.
        um_t += 0.0
        bits_pat = (mask_t.T > 0) @ (1 << np.arange(c, dtype=np.int64))
        uniq_bits, pattern_of = np.unique(bits_pat, return_inverse=True)
        patterns_t = ((uniq_bits[None, :] >> np.arange(c)[:, None]) & 1).astype(float)
        n_low = max(0, (m - 1).bit_length() - 16)
        return cls(
            weights=weights,
            um_t=um_t,
            patterns_t=patterns_t,
            pattern_of=pattern_of,
            chunk_runs=chunk_runs,
            m=m,
            low=(1 << max(1, (m - 1).bit_length())) - 1,
            n_low=n_low,
            high=np.empty((runs, m), dtype=np.uint16),
            low_bits=np.empty((n_low, runs, (m + 7) // 8), dtype=np.uint8),
        )


def _rank_all(state: _RankState, n_jobs: int) -> None:
    """Rank every run into ``state.high`` / ``state.low_bits``, in ``n_jobs`` threads."""
    starts = list(range(0, len(state.weights), state.chunk_runs))
    workers = min(n_jobs, len(starts))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda w: _rank_runs(state, starts[w::workers]), range(workers)))
    elif starts:
        _rank_runs(state, starts)


def _rank_runs(state: _RankState, starts: Sequence[int]) -> None:
    """Rank the chunks of runs beginning at ``starts`` (one thread's share)."""
    m, low, last, n_low = state.m, state.low, state.m - 1, state.n_low
    codes = np.arange(last, -1, -1, dtype=np.int64)  # by position
    down = np.arange(m - 1, -1, -1, dtype=np.int64)  # rank − 1 of the ascending keys
    high_down = (down >> n_low).astype(np.uint16)
    low_down = [((down >> k) & 1).astype(bool) for k in range(n_low)]
    # buffers allocated once per thread: fresh large arrays per chunk cost page faults
    num = np.empty((state.chunk_runs, m))
    den = np.empty((state.chunk_runs, m))
    xor = np.empty(max(m - 1, 0), dtype=np.uint64)
    close = np.empty(max(m - 1, 0), dtype=bool)
    bit_row = np.empty(m, dtype=bool)
    for start in starts:
        wc = state.weights[start : start + state.chunk_runs]  # b × c
        b = len(wc)
        s, d = num[:b], den[:b]
        np.matmul(wc, state.um_t, out=s)
        # the denominator depends only on the pattern of criteria with data
        den_of_pattern = wc @ state.patterns_t
        for j in range(b):
            np.take(den_of_pattern[j], state.pattern_of, out=d[j])
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(s, d, out=s)
        if not den_of_pattern.all():  # no weight with data (0/0): last
            s[np.isnan(s)] = -1.0
        keys = s.view(np.int64)
        for j in range(b):
            order = d[j].view(np.int64)
            np.bitwise_and(keys[j], ~low, out=order)
            np.bitwise_or(order, codes, out=order)
            order.sort()
            # neighbours with equal high bits: their xor (unsigned) is at most `low`
            ou = order.view(np.uint64)
            np.bitwise_xor(ou[1:], ou[:-1], out=xor)
            np.less_equal(xor, np.uint64(low), out=close)
            if close.any():
                _resolve_close(order, keys[j], close, low, last)
            np.bitwise_and(order, low, out=order)
            np.subtract(last, order, out=order)  # positions
            row = state.high[start + j]
            row.fill(0)  # first writes in order: fresh pages in random order are slow
            row[order] = high_down
            for k in range(n_low):
                bit_row[order] = low_down[k]
                state.low_bits[k, start + j] = np.packbits(bit_row)


def _rank_statistics(
    state: _RankState, res: np.ndarray, pos: np.ndarray, opts: MonteCarloOptions
) -> None:
    """p_top_N, rank percentiles and mean into ``res`` (rows ``pos``), exact order statistics.

    Blocks of plots × all runs (about 4 MB) are sorted along the runs.
    """
    runs = len(state.weights)
    step = max(8, 1_000_000 // runs // 8 * 8)
    h = [(runs - 1) * q for q in (0.05, 0.5, 0.95)]

    def stats(a: int) -> None:
        block = state.high[:, a : a + step].T.astype(np.uint32)  # plots × runs
        if state.n_low:
            block <<= state.n_low
            width = block.shape[0]
            for k in range(state.n_low):
                packed = state.low_bits[k, :, a // 8 : (a + width + 7) // 8]
                block |= np.unpackbits(packed, axis=1, count=width).T.astype(np.uint32) << k
        block += 1
        block.sort(axis=1)
        rows = pos[a : a + step]
        res[rows, 0] = np.count_nonzero(block <= opts.top_n, axis=1) / runs
        for i, x in enumerate(h):  # linear interpolation, numpy's default method
            lo = int(np.floor(x))
            va = block[:, lo].astype(float)
            vb = block[:, min(int(np.ceil(x)), runs - 1)].astype(float)
            res[rows, 1 + i] = va + (x - lo) * (vb - va)
        res[rows, 4] = block.sum(axis=1, dtype=np.float64) / runs

    blocks = range(0, state.m, step)
    if opts.n_jobs > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(max_workers=opts.n_jobs) as pool:
            list(pool.map(stats, blocks))
    else:
        for a in blocks:
            stats(a)


def _resolve_close(
    order: np.ndarray, keys: np.ndarray, close: np.ndarray, low: int, last: int
) -> None:
    """Put groups of sorted packed keys with equal high bits in exact order (in place).

    ``order`` holds the keys of one run, sorted ascending: the high bits from ``keys``
    (indexed by plot position), in the ``low`` bits the code ``last - position``.
    ``close[i]`` flags entries ``i`` and ``i + 1`` with equal high bits. Where all keys of
    such a group are equal, the codes already give the plot_id order; groups that hold
    different keys are re-sorted by full key, then code (so that plots with equal scores
    keep the plot_id order).
    """
    at = np.flatnonzero(close)
    differ = keys[last - (order[at] & low)] != keys[last - (order[at + 1] & low)]
    if not differ.any():
        return
    first = np.ones(len(order), dtype=bool)
    first[1:] = ~close
    group = np.cumsum(first)
    sel = np.flatnonzero(np.isin(group, group[at[differ]]))
    code = order[sel] & low
    # groups are contiguous and their keys lie in disjoint increasing intervals, so one
    # sort of all selected entries keeps every group in its place
    order[sel] = code[np.lexsort((code, keys[last - code]))]


def _ranks_for(um: np.ndarray, mask: np.ndarray, w: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (um @ w) / (mask @ w)
    s = np.where(np.isfinite(s), s, -np.inf)
    r = np.empty(len(s), dtype=np.int64)
    r[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
    return r


def one_at_a_time(
    raw_or_scored: pd.DataFrame,
    config: ScoringConfig | None = None,
    *,
    factors: Sequence[float] = (0.5, 0.75, 1.25, 1.5),
    top_n: int = 10,
) -> pd.DataFrame:
    """Change one criterion's weight at a time and measure how the ranking moves.

    Parameters
    ----------
    raw_or_scored
        Raw values or a scored frame (as for :func:`monte_carlo`).
    config
        The base configuration.
    factors
        Multipliers applied to each criterion's weight in turn.
    top_n
        Size of the top group compared.

    Returns
    -------
    pandas.DataFrame
        One row per criterion and factor: ``criterion``, ``factor``, ``weight``,
        ``weight_new``, ``spearman_rho`` (ranks vs the base run), ``top_overlap``
        (share of the base top N still in the top N), ``max_rank_shift``,
        ``mean_abs_rank_shift``, ``top1_changed``.
    """
    config = config or default_config()
    scored, names = _base(raw_or_scored, config)
    u = scored[[f"u_{k}" for k in names]].to_numpy(dtype=float, na_value=np.nan)
    pos = _eligible_sorted(scored, u)
    m = len(pos)
    w = np.array([config.criteria[k].weight for k in names], dtype=float)
    mask = (~np.isnan(u[pos])).astype(float)
    um = np.nan_to_num(u[pos]) * mask
    base = _ranks_for(um, mask, w)
    n_top = min(top_n, m)
    base_top = base <= n_top
    rows = []
    for j, name in enumerate(names):
        for f in factors:
            w2 = w.copy()
            w2[j] = w[j] * f
            r = _ranks_for(um, mask, w2)
            d = (r - base).astype(float)
            rho = 1.0 - 6.0 * float(np.sum(d**2)) / (m * (m**2 - 1)) if m > 1 else np.nan
            rows.append(
                {
                    "criterion": name,
                    "factor": float(f),
                    "weight": float(w[j]),
                    "weight_new": float(w2[j]),
                    "spearman_rho": rho,
                    "top_overlap": float((base_top & (r <= n_top)).sum() / n_top)
                    if n_top
                    else np.nan,
                    "max_rank_shift": int(np.abs(d).max()) if m else 0,
                    "mean_abs_rank_shift": float(np.abs(d).mean()) if m else 0.0,
                    "top1_changed": bool(m and np.argmin(r) != np.argmin(base)),
                }
            )
    return pd.DataFrame(rows)
