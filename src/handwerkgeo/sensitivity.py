"""Robustness of a ranking to the weights: Monte Carlo perturbation and one-at-a-time.

A ranking for a council paper must come with its robustness (DOMAIN.md). Both analyses
keep the utilities and exclusions of the base run fixed and vary only the weights, scoring
exactly as :func:`handwerkgeo.scoring.score_raw` does (weights renormalised over the
criteria with data, ties broken by ``plot_id``).

:func:`monte_carlo` draws ``runs`` weight vectors w·(1 + ε), ε ~ U(−spread, spread)
(``distribution="uniform"``) or N(0, (spread/2)²) clipped at −1 (``"normal"``), and reports
per plot the probability of being in the top N and rank percentiles. It is vectorised: the
utilities matrix U (n × c, missing = 0 with mask M) times the weights W (c × runs) gives
scores (U·W) / (M·W) for a chunk of runs at once; ranks come from one stable argsort per
run. Excluded plots are never ranked (NaN).

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

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import pandas as pd

from handwerkgeo.config import ScoringConfig, default_config

__all__ = ["monte_carlo", "one_at_a_time"]

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
    from handwerkgeo.scoring import _plot_ids

    ok = ~scored["excluded"].to_numpy(dtype=bool) & ~np.isnan(u).all(axis=1)
    pos = np.flatnonzero(ok)
    codes = pd.factorize(pd.Index(_plot_ids(scored)[pos]), sort=True)[0]
    return pos[np.argsort(codes, kind="stable")]


def _draw(
    rng: np.random.Generator, w: np.ndarray, runs: int, spread: float, distribution: str
) -> np.ndarray:
    if distribution == "uniform":
        eps = rng.uniform(-spread, spread, size=(runs, len(w)))
    else:
        eps = np.clip(rng.normal(0.0, spread / 2.0, size=(runs, len(w))), -1.0, None)
    return w[None, :] * (1.0 + eps)


def monte_carlo(
    scored_or_raw: pd.DataFrame,
    config: ScoringConfig | None = None,
    *,
    runs: int = 1000,
    spread: float = 0.25,
    top_n: int = 10,
    seed: int = 0,
    distribution: Literal["uniform", "normal"] = "uniform",
    chunk_runs: int = 16,
    n_jobs: int = 2,
) -> pd.DataFrame:
    """Monte Carlo weight perturbation: how stable is each plot's rank?

    Parameters
    ----------
    scored_or_raw
        A scored frame (:func:`~handwerkgeo.scoring.score_plots`) or raw values
        (:func:`~handwerkgeo.scoring.compute_raw`), which are scored first.
    config
        The configuration of the base run; default the packaged default.
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
        Runs scored at once per thread (memory about n × chunk_runs × 40 bytes each); the
        ranks of all runs are kept as uint32 (runs × n × 4 bytes: 400 MB for 1,000 runs
        × 100,000 plots).
    n_jobs
        Threads (numpy sorts release the GIL); 1 runs serially. Results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        On the input index: ``p_top_<N>`` (share of runs in the top N), ``rank_p05``,
        ``rank_p50``, ``rank_p95`` (rank percentiles), ``rank_mean``; NaN for excluded
        plots. ``attrs`` holds ``runs``, ``spread``, ``seed``, ``distribution``,
        ``seconds``.
    """
    config = config or default_config()
    if runs < 1 or not 0 <= spread < 1 or top_n < 1 or chunk_runs < 1 or n_jobs < 1:
        msg = (
            "monte_carlo needs runs >= 1, 0 <= spread < 1, top_n >= 1, chunk_runs >= 1 and "
            f"n_jobs >= 1; got runs={runs}, spread={spread}, top_n={top_n}, "
            f"chunk_runs={chunk_runs}, n_jobs={n_jobs}"
        )
        raise ValueError(msg)
    if distribution not in ("uniform", "normal"):
        msg = f"distribution must be 'uniform' or 'normal', not {distribution!r}"
        raise ValueError(msg)
    t0 = time.perf_counter()
    scored, names = _base(scored_or_raw, config)
    u = scored[[f"u_{k}" for k in names]].to_numpy(dtype=float, na_value=np.nan)
    pos = _eligible_sorted(scored, u)
    m = len(pos)
    w = np.array([config.criteria[k].weight for k in names], dtype=float)
    mask_t = np.ascontiguousarray((~np.isnan(u[pos])).T.astype(float))  # c × m
    um_t = np.ascontiguousarray(np.nan_to_num(u[pos]).T) * mask_t
    weights = _draw(np.random.default_rng(seed), w, runs, spread, distribution)

    # Plots are in plot_id order, so a stable sort breaks ties by plot_id as score_raw
    # does. Ties under random weights need identical utility rows; without such rows the
    # faster unstable sort gives the same ranks.
    # (identical rows give identical hashes; a rare false alarm only costs speed)
    probe = np.random.default_rng(12345).random((2, len(names)))
    row_hash = probe[0] @ um_t + probe[1] @ mask_t
    dup = m > 1 and len(np.unique(row_hash)) < m
    sort_kind: Literal["stable", "quicksort"] = "stable" if dup else "quicksort"
    bits = (mask_t.T > 0) @ (1 << np.arange(len(names), dtype=np.int64))
    uniq_bits, pattern_of = np.unique(bits, return_inverse=True)
    patterns_t = ((uniq_bits[None, :] >> np.arange(len(names))[:, None]) & 1).astype(float)
    ranks = np.empty((runs, m), dtype=np.uint32)
    ramp = np.arange(1, m + 1, dtype=np.uint32)

    starts = list(range(0, runs, chunk_runs))

    def rank_runs(worker: int) -> None:
        # buffers allocated once per thread: fresh large arrays per chunk cost page faults
        num = np.empty((chunk_runs, m))
        den = np.empty((chunk_runs, m))
        for start in starts[worker::n_jobs]:
            wc = weights[start : start + chunk_runs]  # b × c
            b = len(wc)
            s, d = num[:b], den[:b]
            np.matmul(wc, um_t, out=s)
            # the denominator depends only on the pattern of criteria with data
            np.take(wc @ patterns_t, pattern_of, axis=1, out=d)
            with np.errstate(invalid="ignore", divide="ignore"):
                np.divide(s, d, out=s)
            np.negative(s, out=s)
            s[~np.isfinite(s)] = np.inf  # no weight with data: last
            for j in range(b):
                ranks[start + j][np.argsort(s[j], kind=sort_kind)] = ramp

    workers = min(n_jobs, len(starts))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(rank_runs, range(workers)))
    elif starts:
        rank_runs(0)

    n = len(scored)
    res = np.full((n, 5), np.nan)
    if m:
        step = max(1, 4_000_000 // runs)

        def stats(a: int) -> None:
            block = ranks[:, a : a + step]
            res[pos[a : a + step], 0] = (block <= top_n).mean(axis=0)
            res[pos[a : a + step], 1:4] = _quantiles(block, (0.05, 0.5, 0.95)).T
            res[pos[a : a + step], 4] = block.mean(axis=0, dtype=np.float64)

        blocks = range(0, m, step)
        if n_jobs > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                list(pool.map(stats, blocks))
        else:
            for a in blocks:
                stats(a)
    out = pd.DataFrame(
        res,
        index=scored_or_raw.index,
        columns=[f"p_top_{top_n}", "rank_p05", "rank_p50", "rank_p95", "rank_mean"],
    )
    seconds = time.perf_counter() - t0
    out.attrs = {
        "runs": runs,
        "spread": spread,
        "seed": seed,
        "distribution": distribution,
        "top_n": top_n,
        "seconds": seconds,
    }
    logger.info(
        "Monte Carlo: %d runs × %d ranked plot(s), ±%.0f %% %s, %.2f s",
        runs,
        m,
        100 * spread,
        distribution,
        seconds,
    )
    return out


def _quantiles(block: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles along axis 0 with linear interpolation (numpy's default), via partition."""
    n = block.shape[0]
    h = [(n - 1) * q for q in qs]
    lo = [int(np.floor(x)) for x in h]
    hi = [min(int(np.ceil(x)), n - 1) for x in h]
    part = np.partition(block, sorted(set(lo + hi)), axis=0)
    out = np.empty((len(qs), block.shape[1]))
    for i, (x, a, b) in enumerate(zip(h, lo, hi, strict=True)):
        va = part[a].astype(float)
        out[i] = va + (x - a) * (part[b].astype(float) - va)
    return out


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
