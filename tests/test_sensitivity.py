"""Monte Carlo and one-at-a-time weight sensitivity against a plain reference loop."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from handwerkgeo.config import default_config
from handwerkgeo.scoring import score_raw
from handwerkgeo.sensitivity import monte_carlo, one_at_a_time

CFG = default_config()


def _raw(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    raw = pd.DataFrame(
        {
            "plot_id": [f"x{i:05d}" for i in range(n)],
            "area_m2": rng.uniform(2000, 15000, n),
            "zone_category": rng.choice(["GE", "MU", "MI", "WA"], n),
            "raw_transit": rng.uniform(0, 1500, n),
            "raw_motorway": rng.uniform(0, 14000, n),
            "raw_cycling": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 1200, n)),
            "raw_landuse_mix": rng.uniform(0, 1, n),
            "raw_ownership": rng.choice(["city", "private", "public"], n),
        }
    )
    raw["raw_plot_size"] = raw["area_m2"]
    raw["raw_zoning"] = raw["zone_category"]
    return raw


def _reference(
    raw: pd.DataFrame, runs: int, spread: float, seed: int, top_n: int, normal: bool = False
):
    """Score every run with score_raw and a perturbed config (slow, obviously right)."""
    names = list(CFG.active_criteria())
    w = np.array([CFG.criteria[k].weight for k in names])
    rng = np.random.default_rng(seed)
    if normal:
        eps = np.clip(rng.normal(0.0, spread / 2, size=(runs, len(names))), -1.0, None)
    else:
        eps = rng.uniform(-spread, spread, size=(runs, len(names)))
    ranks = []
    for r in range(runs):
        cfg = CFG.with_weights(dict(zip(names, w * (1 + eps[r]), strict=True)))
        ranks.append(score_raw(raw, cfg)["rank"].to_numpy(dtype=float, na_value=np.nan))
    ranks = np.array(ranks)
    return pd.DataFrame(
        {
            f"p_top_{top_n}": (ranks <= top_n).mean(axis=0),
            "rank_p05": np.quantile(ranks, 0.05, axis=0),
            "rank_p50": np.quantile(ranks, 0.5, axis=0),
            "rank_p95": np.quantile(ranks, 0.95, axis=0),
            "rank_mean": ranks.mean(axis=0),
        },
        index=raw.index,
    )


def _assert_same(mc: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Equal up to rounding of the interpolated percentiles (any rank change fails)."""
    pd.testing.assert_frame_equal(mc, ref, check_dtype=False, rtol=1e-12, atol=0.0)


def test_matches_reference_loop() -> None:
    raw = _raw(40)
    mc = monte_carlo(raw, CFG, runs=25, spread=0.4, seed=7, top_n=5, chunk_runs=6)
    ref = _reference(raw, runs=25, spread=0.4, seed=7, top_n=5)
    excluded = score_raw(raw, CFG)["excluded"].to_numpy()
    assert excluded.any() and mc[excluded].isna().all().all()
    _assert_same(mc[~excluded], ref[~excluded])
    assert mc.attrs["runs"] == 25 and mc.attrs["seed"] == 7


def test_identical_plots_match_reference_loop() -> None:
    # copies of plots (identical utilities, so equal scores): ranked in plot_id order
    raw = _raw(30, seed=3)
    copies = raw.sample(30, replace=True, random_state=1).assign(
        plot_id=[f"c{i:02d}" for i in range(30)][::-1]
    )
    both = pd.concat([raw, copies], ignore_index=True)
    mc = monte_carlo(both, CFG, runs=30, spread=0.3, seed=2, top_n=8, chunk_runs=7)
    ref = _reference(both, runs=30, spread=0.3, seed=2, top_n=8)
    ok = score_raw(both, CFG)["rank"].notna().to_numpy()
    _assert_same(mc[ok], ref[ok])


def test_weights_clipped_to_zero_match_reference_loop() -> None:
    # normal draws clipped at -100 % give weights of exactly 0: plots that differ only in
    # such a criterion have equal scores in that run and are ranked in plot_id order
    raw = _raw(300, seed=8)
    mc = monte_carlo(raw, CFG, runs=40, spread=0.99, seed=3, distribution="normal")
    ref = _reference(raw, runs=40, spread=0.99, seed=3, top_n=10, normal=True)
    ok = score_raw(raw, CFG)["rank"].notna().to_numpy()
    _assert_same(mc[ok], ref[ok])


def test_many_plots_and_nearly_equal_scores_match_reference_loop() -> None:
    # Ranks above 65,536 are stored as 16 high bits plus packed low bits. Plots whose
    # scores differ by ~1e-13 (relative) share the high bits of their sort keys and are
    # ordered exactly afterwards: by score, and equal scores by plot_id (here the plot_ids
    # run against the scores). All plots have the same criteria with data: plots with
    # different criteria with data can tie in exact arithmetic (all utilities 1: score
    # 100), and then rounding orders them.
    raw = _raw(65_600, seed=4)
    raw["raw_cycling"] = raw["raw_cycling"].fillna(600.0)
    raw["zone_category"] = raw["raw_zoning"] = "GE"
    raw["area_m2"] = raw["raw_plot_size"] = raw["area_m2"] + 3000
    near = pd.concat([raw.iloc[[0]]] * 8, ignore_index=True)
    near["plot_id"] = [f"n{i}" for i in range(8)][::-1]
    near["raw_transit"] = 500.0 + 1e-9 * np.array([0, 0, 1, 1, 2, 2, 3, 3])
    both = pd.concat([raw, near], ignore_index=True)
    mc = monte_carlo(both, CFG, runs=3, seed=5, top_n=100)
    ref = _reference(both, runs=3, spread=0.25, seed=5, top_n=100)
    assert mc["rank_p95"].max() == len(both)
    _assert_same(mc, ref)
    near_p50 = mc["rank_p50"].to_numpy()[-8:]
    assert (near_p50[[1, 0, 3, 2, 5, 4, 7, 6]] == near_p50.min() + np.arange(8)).all()


def test_plots_without_weighted_data_in_a_run_rank_last() -> None:
    # normal draws are clipped at -100 %: a weight can be exactly 0 in some runs, and a plot
    # whose only data is that criterion has no score there (ranked last)
    raw = _raw(20, seed=6)
    lone = pd.DataFrame({"plot_id": ["a0"], "raw_social_mix": [1.5]})  # utility 1: best
    both = pd.concat([lone, raw], ignore_index=True)
    mc = monte_carlo(both, CFG, runs=300, spread=0.99, seed=1, top_n=1, distribution="normal")
    names = list(CFG.active_criteria())
    eps = np.random.default_rng(1).normal(0.0, 0.99 / 2, size=(300, len(names)))
    zero = int((eps[:, names.index("social_mix")] <= -1.0).sum())
    last = int(mc["rank_p50"].notna().sum())
    assert zero > 0
    assert mc.loc[0, "p_top_1"] == (300 - zero) / 300
    assert mc.loc[0, "rank_mean"] == pytest.approx((zero * last + 300 - zero) / 300, rel=1e-12)


def test_same_seed_same_result_other_seed_differs() -> None:
    raw = _raw(200, seed=1)
    a = monte_carlo(raw, CFG, runs=50, seed=3)
    b = monte_carlo(raw, CFG, runs=50, seed=3, n_jobs=1, chunk_runs=50)
    c = monte_carlo(raw, CFG, runs=50, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_no_spread_reproduces_base_ranks() -> None:
    raw = _raw(60, seed=2)
    base = score_raw(raw, CFG)["rank"].astype(float)
    mc = monte_carlo(raw, CFG, runs=10, spread=0.0, top_n=3)
    for col in ("rank_p05", "rank_p50", "rank_p95", "rank_mean"):
        pd.testing.assert_series_equal(mc[col], base, check_names=False)
    assert ((mc["p_top_3"] == 1.0) == (base <= 3)).all()


def test_ties_keep_plot_id_order() -> None:
    raw = pd.DataFrame({"plot_id": ["b", "a", "c"], "raw_plot_size": [9000.0] * 3})
    raw["area_m2"] = raw["raw_plot_size"]
    mc = monte_carlo(raw, CFG, runs=20, top_n=1)
    assert mc["rank_p50"].tolist() == [2.0, 1.0, 3.0]
    assert mc["p_top_1"].tolist() == [0.0, 1.0, 0.0]


def test_normal_distribution_and_bad_arguments() -> None:
    raw = _raw(30)
    mc = monte_carlo(raw, CFG, runs=20, distribution="normal")
    assert mc["p_top_10"].dropna().between(0, 1).all()
    with pytest.raises(ValueError, match="distribution"):
        monte_carlo(raw, CFG, distribution="beta")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="spread"):
        monte_carlo(raw, CFG, spread=1.5)


def test_accepts_scored_frame() -> None:
    raw = _raw(50)
    scored = score_raw(raw, CFG)
    pd.testing.assert_frame_equal(
        monte_carlo(scored, CFG, runs=15, seed=1), monte_carlo(raw, CFG, runs=15, seed=1)
    )


def test_one_at_a_time() -> None:
    raw = _raw(80, seed=5)
    oat = one_at_a_time(raw, CFG, factors=(1.0, 0.5, 2.0), top_n=10)
    assert set(oat["criterion"]) == set(CFG.active_criteria())
    same = oat[oat["factor"] == 1.0]
    assert (same["spearman_rho"] == 1.0).all() and (same["max_rank_shift"] == 0).all()
    assert (same["top_overlap"] == 1.0).all() and not same["top1_changed"].any()
    # Spearman against scipy for one scenario
    row = oat[(oat["criterion"] == "transit") & (oat["factor"] == 2.0)].iloc[0]
    base = score_raw(raw, CFG)
    new = score_raw(raw, CFG.with_weights({"transit": 2 * CFG.criteria["transit"].weight}))
    ok = base["rank"].notna()
    rho = scipy.stats.spearmanr(base.loc[ok, "rank"], new.loc[ok, "rank"]).statistic
    assert row["spearman_rho"] == pytest.approx(rho)
    shift = (base.loc[ok, "rank"] - new.loc[ok, "rank"]).abs()
    assert row["max_rank_shift"] == shift.max()
    assert row["weight_new"] == 2 * row["weight"]
    # criteria without data move nothing
    assert (oat.loc[oat["criterion"] == "social_mix", "max_rank_shift"] == 0).all()


@pytest.mark.slow
def test_monte_carlo_speed() -> None:
    raw = _raw(20_000, seed=9)
    scored = score_raw(raw, CFG)
    t = time.perf_counter()
    mc = monte_carlo(scored, CFG, runs=200)
    elapsed = time.perf_counter() - t
    assert mc["rank_p50"].notna().sum() == scored["rank"].notna().sum()
    assert elapsed < 30  # ~1 s on an idle 2-core machine
