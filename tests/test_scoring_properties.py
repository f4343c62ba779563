"""Properties of the scoring model that must hold for any data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from handwerkgeo.config import default_config
from handwerkgeo.scoring import score_raw, utility
from handwerkgeo.sensitivity import monte_carlo

CFG = default_config()
NUMERIC = {
    "plot_size": (0.0, 20_000.0),
    "plot_shape": (0.0, 100.0),
    "brownfield": (0.0, 1.0),
    "noise_buffer": (0.0, 300.0),
    "motorway": (0.0, 15_000.0),
    "main_road": (0.0, 1_000.0),
    "transit": (0.0, 2_000.0),
    "cycling": (0.0, 1_500.0),
    "customer_potential": (0.0, 1.0),
    "landuse_mix": (0.0, 1.0),
    "jobs_housing": (0.0, 3.0),
    "social_mix": (0.0, 2.0),
    "land_value": (0.0, 500.0),
}
ZONES = ["GE", "MU", "MI", "GI", "WA", "MK", "UNKNOWN"]
OWNERS = ["city", "idr", "public", "private", None]


@st.composite
def raw_frames(draw: st.DrawFn, min_size: int = 1, max_size: int = 12) -> pd.DataFrame:
    n = draw(st.integers(min_size, max_size))
    data: dict[str, object] = {
        "plot_id": [f"p{i:02d}" for i in draw(st.permutations(range(n)))],
        "zone_category": draw(st.lists(st.sampled_from(ZONES), min_size=n, max_size=n)),
        "raw_ownership": draw(st.lists(st.sampled_from(OWNERS), min_size=n, max_size=n)),
        "aux_transit_stop_category": draw(
            st.lists(st.sampled_from([1.0, 3.0, 5.0, np.nan]), min_size=n, max_size=n)
        ),
    }
    for name, (lo, hi) in NUMERIC.items():
        values = st.one_of(st.floats(lo, hi), st.just(float("nan")))
        data[f"raw_{name}"] = draw(st.lists(values, min_size=n, max_size=n))
    frame = pd.DataFrame(data)
    frame["area_m2"] = frame["raw_plot_size"]
    frame["raw_zoning"] = frame["zone_category"].where(frame["zone_category"] != "UNKNOWN")
    return frame


@settings(max_examples=60, deadline=None)
@given(raw_frames(), st.sampled_from(sorted(NUMERIC)), st.data())
def test_raising_a_utility_never_lowers_the_score(raw, name, data) -> None:
    i = data.draw(st.integers(0, len(raw) - 1))
    x = raw.loc[i, f"raw_{name}"]
    assume(np.isfinite(x))
    lo, hi = NUMERIC[name]
    x_new = data.draw(st.floats(lo, hi))
    bp = CFG.criteria[name].breakpoints
    if name == "noise_buffer":
        bp = (CFG.criteria[name].breakpoints_by_zone or {}).get(raw.loc[i, "zone_category"], bp)
    u_old, u_new = utility(x, bp), utility(x_new, bp)
    if name == "social_mix" and CFG.social_mix_policy == "favour_low_sgb2":
        u_old, u_new = -u_old, -u_new
    if u_new < u_old:  # move the other way: from x_new to x raises the utility
        x, x_new = x_new, x
    before, after = raw.copy(), raw.copy()
    before.loc[i, f"raw_{name}"] = x
    after.loc[i, f"raw_{name}"] = x_new
    if name == "plot_size":
        before.loc[i, "area_m2"], after.loc[i, "area_m2"] = x, x_new
    s0 = score_raw(before, CFG).loc[i, "score_total"]
    s1 = score_raw(after, CFG).loc[i, "score_total"]
    assert s1 >= s0 - 1e-9


@settings(max_examples=40, deadline=None)
@given(raw_frames(), st.floats(0.01, 100.0))
def test_scaling_all_weights_changes_nothing(raw, factor) -> None:
    scaled = CFG.with_weights({k: c.weight * factor for k, c in CFG.criteria.items()})
    a, b = score_raw(raw, CFG), score_raw(raw, scaled)
    np.testing.assert_allclose(a["score_total"], b["score_total"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a["coverage"], b["coverage"], rtol=1e-12)
    assert a["excluded"].tolist() == b["excluded"].tolist()
    # same order up to floating-point ties
    sa = a.dropna(subset=["rank"]).sort_values("rank")["score_total"].to_numpy()
    sb = b.dropna(subset=["rank"]).sort_values("rank")["score_total"].to_numpy()
    np.testing.assert_allclose(sa, sb, rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(raw_frames())
def test_excluded_never_ranked_and_ranks_are_1_to_n(raw) -> None:
    s = score_raw(raw, CFG)
    ranked = s["rank"].notna()
    assert (ranked == ~s["excluded"]).all()
    assert sorted(s.loc[ranked, "rank"].tolist()) == list(range(1, int(ranked.sum()) + 1))
    assert (s.loc[s["excluded"], "exclusion_reason"] != "").all()
    assert (s.loc[~s["excluded"], "exclusion_reason"] == "").all()
    small = raw["area_m2"] < CFG.filters.min_area_m2
    wrong_zone = raw["zone_category"].isin(CFG.filters.excluded_zones)
    assert s.loc[small | wrong_zone, "excluded"].all()
    # better score, better rank
    r = s[ranked].sort_values("rank")
    assert (np.diff(r["score_total"].to_numpy()) <= 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(raw_frames())
def test_score_is_sum_of_contributions_and_coverage_is_weight_share(raw) -> None:
    s = score_raw(raw, CFG)
    names = list(CFG.active_criteria())
    contrib = s[[f"contrib_{k}" for k in names]].to_numpy()
    u = s[[f"u_{k}" for k in names]].to_numpy()
    w = np.array([CFG.criteria[k].weight for k in names])
    has = ~np.isnan(u)
    scored = has.any(axis=1)
    np.testing.assert_allclose(s["score_total"][scored], contrib[scored].sum(axis=1), atol=1e-9)
    assert np.isnan(s["score_total"][~scored]).all()
    assert ((s["score_total"][scored] >= -1e-9) & (s["score_total"][scored] <= 100 + 1e-9)).all()
    assert (contrib[~has] == 0).all()
    np.testing.assert_allclose(s["coverage"], (has * w).sum(axis=1) / w.sum())
    missing = [",".join(k for k, h in zip(names, row, strict=True) if not h) for row in has]
    assert s["missing_criteria"].tolist() == missing


def test_coverage_when_one_criterion_is_nan() -> None:
    raw = pd.DataFrame(
        {"plot_id": ["a", "b"], "raw_plot_size": [9000.0, 9000.0], "raw_transit": [100.0, np.nan]}
    )
    s = score_raw(raw, CFG)
    w = CFG.weights
    assert s.loc[0, "coverage"] == pytest.approx((w["plot_size"] + w["transit"]) / sum(w.values()))
    assert s.loc[1, "coverage"] == pytest.approx(w["plot_size"] / sum(w.values()))
    assert s.loc[1, "missing_criteria"].split(",")[:2] == ["plot_shape", "zoning"]
    assert "transit" in s.loc[1, "missing_criteria"]
    assert s.loc[1, "score_total"] == pytest.approx(100.0)


@settings(max_examples=15, deadline=None)
@given(raw_frames(min_size=2), st.integers(0, 2**32 - 1))
def test_monte_carlo_same_seed_same_result(raw, seed) -> None:
    a = monte_carlo(raw, CFG, runs=30, seed=seed, top_n=2, chunk_runs=7)
    b = monte_carlo(raw, CFG, runs=30, seed=seed, top_n=2, chunk_runs=30, n_jobs=1)
    pd.testing.assert_frame_equal(a, b)
    s = score_raw(raw, CFG)
    assert a.loc[s["excluded"]].isna().all().all()
