"""Land-use mix, jobs–housing and social indicators against independent references."""

from __future__ import annotations

import math

import geopandas as gpd
import momepy
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shapely.geometry import Point, box

from handwerkgeo.criteria.mix import (
    MIX_CLASSES,
    bezirk_class_shares,
    gini_simpson,
    hill_number,
    jobs_housing_ratio,
    landuse_mix,
    plot_bezirk,
    realnutzung_class,
    shannon_entropy,
    social_indicator,
)
from handwerkgeo.errors import MissingColumnError

CRS = "EPSG:25832"
shares_st = arrays(float, st.integers(2, 9), elements=st.floats(0, 1000, allow_nan=False)).filter(
    lambda a: a.sum() > 1e-6
)


@settings(max_examples=80, deadline=None)
@given(shares_st)
def test_entropy_matches_scipy(p: np.ndarray) -> None:
    k = len(p)
    expected = scipy.stats.entropy(p) / math.log(k)
    assert shannon_entropy(p, k=k) == pytest.approx(expected, abs=1e-12)
    assert shannon_entropy(p) == pytest.approx(expected, abs=1e-12)
    # fixed K of a larger classification lowers the value by ln k / ln K
    assert shannon_entropy(p, k=12) == pytest.approx(expected * math.log(k) / math.log(12))


@settings(max_examples=80, deadline=None)
@given(shares_st)
def test_gini_simpson_and_hill_direct_formulas(p: np.ndarray) -> None:
    q = p / p.sum()
    assert gini_simpson(p) == pytest.approx(1 - np.sum(q**2))
    pos = q[q > 0]
    assert hill_number(p, 0) == pytest.approx(len(pos))
    assert hill_number(p, 2) == pytest.approx(1 / np.sum(pos**2))
    assert hill_number(p, 1) == pytest.approx(math.exp(scipy.stats.entropy(q)))
    assert hill_number(p, 0.5) == pytest.approx(np.sum(pos**0.5) ** 2)


def test_indices_match_momepy_on_categorical_counts() -> None:
    rng = np.random.default_rng(1)
    values = pd.Series(rng.choice(list("abcde"), size=200, p=[0.4, 0.3, 0.15, 0.1, 0.05]))
    counts = values.value_counts().reindex(list("abcde"), fill_value=0).to_numpy()
    h = momepy.shannon_diversity(values, categorical=True, categories=list("abcde"))
    assert shannon_entropy(counts, k=5) * math.log(5) == pytest.approx(h)
    simpson = momepy.simpson_diversity(values, categorical=True)
    assert gini_simpson(counts) == pytest.approx(1 - simpson)


def test_rows_vectorised_and_empty_rows_nan() -> None:
    m = np.array([[1, 1, 0], [0, 0, 0], [2, 0, 0]], dtype=float)
    h = shannon_entropy(m, k=3)
    assert h[0] == pytest.approx(math.log(2) / math.log(3))
    assert np.isnan(h[1]) and h[2] == 0.0
    assert np.isnan(gini_simpson(m)[1])


def test_realnutzung_labels() -> None:
    assert realnutzung_class("Wohnbauflächen") == "residential"
    assert realnutzung_class("Gemischte Bauflächen") == "mixed"
    assert realnutzung_class("Flächen für den Gemeinbedarf") == "community"
    assert realnutzung_class("Wasserflächen") == "water"
    assert realnutzung_class("Einwohner") is None


@pytest.fixture
def two_bezirke() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"bezirk_code": ["01", "02"]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=CRS,
    )


@pytest.fixture
def shares() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bezirk_code": ["01", "02"],
            "Wohnbauflächen": [60.0, 20.0],
            "Gewerbliche Bauflächen": [10.0, 40.0],
            "Gemischte Bauflächen": [10.0, 0.0],
            "Grünflächen": [20.0, 40.0],
            "Einwohner": [1000, 2000],
        }
    )


def test_landuse_mix_polygons_within_radius(two_bezirke, shares) -> None:
    plots = gpd.GeoDataFrame(
        {"plot_id": ["a", "b"]},
        geometry=[Point(50, 50).buffer(10), Point(5000, 5000).buffer(10)],
        crs=CRS,
    )
    landuse = gpd.GeoDataFrame(
        {"zone_category": ["WA", "GE", "UNKNOWN"]},
        geometry=[box(-500, -500, 50, 500), box(50, -500, 600, 500), box(-500, 500, 600, 900)],
        crs=CRS,
    )
    out = landuse_mix(plots, landuse, radius_m=100, bezirke=two_bezirke, bezirk_shares=shares)
    # plot a: buffer split half WA half GE (UNKNOWN out of reach) -> two equal classes
    assert out.loc[0, "mix_source"] == "landuse_100m"
    assert out.loc[0, "mix_shannon"] == pytest.approx(math.log(2) / math.log(len(MIX_CLASSES)))
    assert out.loc[0, "mix_gini_simpson"] == pytest.approx(0.5, abs=1e-6)
    # plot b: no polygons, no Bezirk -> no data
    assert out.loc[1, "mix_source"] == "" and np.isnan(out.loc[1, "mix_shannon"])


def test_landuse_mix_from_bezirk_shares(two_bezirke, shares) -> None:
    plots = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(1500, 10)], crs=CRS, index=[7, 9])
    out = landuse_mix(plots, bezirke=two_bezirke, bezirk_shares=shares)
    assert list(out.index) == [7, 9]
    assert (out["mix_source"] == "bezirk").all()
    p = np.array([0.6, 0.1, 0.1, 0.2])
    expected = scipy.stats.entropy(p) / math.log(len(MIX_CLASSES))
    assert out.loc[7, "mix_shannon"] == pytest.approx(expected)


def test_bezirk_class_shares_long_format() -> None:
    long = pd.DataFrame(
        {
            "bezirk_code": ["1", "1", "2"],
            "category": ["Wohnbauflächen", "Verkehrsflächen", "Wohnbauflächen"],
            "share_pct": [50, 50, 100],
        }
    )
    t = bezirk_class_shares(long)
    assert t.loc["01", "residential"] == 0.5 and t.loc["01", "transport"] == 0.5
    assert t.loc["02", "residential"] == 1.0
    with pytest.raises(MissingColumnError, match="bezirk_code"):
        bezirk_class_shares(pd.DataFrame({"x": [1]}))


def test_jobs_housing_and_social(two_bezirke, shares) -> None:
    plots = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(1500, 10), Point(-900, -900)], crs=CRS)
    r = jobs_housing_ratio(plots, bezirke=two_bezirke, bezirk_shares=shares)
    j = np.array([0.1 + 0.05, 0.4]) / np.array([0.6, 0.2])
    city = (0.15 + 0.4) / (0.6 + 0.2)
    assert r.iloc[0] == pytest.approx(j[0] / city)
    assert r.iloc[1] == pytest.approx(j[1] / city)
    assert np.isnan(r.iloc[2])
    ind = pd.DataFrame(
        {"bezirk_code": ["01", "02"], "sgb2_share": [5.0, 20.0], "population": [3000, 1000]}
    )
    s = social_indicator(plots, bezirke=two_bezirke, bezirk_indicators=ind)
    city = (5 * 3000 + 20 * 1000) / 4000
    assert s.iloc[0] == pytest.approx(5 / city) and s.iloc[1] == pytest.approx(20 / city)
    with pytest.raises(MissingColumnError, match="SGB II"):
        social_indicator(plots, bezirke=two_bezirke, bezirk_indicators=ind[["bezirk_code"]])


def test_plot_bezirk_outside_is_missing(two_bezirke) -> None:
    plots = gpd.GeoDataFrame(geometry=[Point(500, 500), Point(99999, 0)], crs=CRS)
    codes = plot_bezirk(plots, two_bezirke)
    assert codes.iloc[0] == "01" and pd.isna(codes.iloc[1])


def test_city_values_from_attrs_win(two_bezirke, shares) -> None:
    plots = gpd.GeoDataFrame(geometry=[Point(10, 10)], crs=CRS)
    ind = pd.DataFrame(
        {"sgb2_share": [0.05, 0.20]}, index=pd.Index(["01", "02"], name="bezirk_code")
    )
    ind.attrs["city"] = {"sgb2_share": 0.10}
    assert social_indicator(plots, bezirke=two_bezirke, bezirk_indicators=ind).iloc[0] == (
        pytest.approx(0.5)
    )
    wide = pd.DataFrame(
        {
            "landuse_residential": [0.6, 0.2],
            "landuse_commercial": [0.1, 0.4],
            "landuse_agri_forest": [0.3, 0.4],
        },
        index=pd.Index(["01", "02"], name="bezirk_code"),
    )
    wide.attrs["city"] = {
        "landuse_residential": 0.5,
        "landuse_commercial": 0.25,
        "landuse_agri_forest": 0.25,
    }
    r = jobs_housing_ratio(plots, bezirke=two_bezirke, bezirk_shares=wide)
    assert r.iloc[0] == pytest.approx((0.1 / 0.6) / (0.25 / 0.5))


def test_plot_in_boundary_gap_gets_nearest_bezirk(two_bezirke) -> None:
    plots = gpd.GeoDataFrame(geometry=[box(2010, 10, 2100, 100), box(5000, 0, 5010, 10)], crs=CRS)
    codes = plot_bezirk(plots, two_bezirke)
    assert codes.iloc[0] == "02" and pd.isna(codes.iloc[1])


def test_sgb2_share_preferred_over_counts(two_bezirke) -> None:
    plots = gpd.GeoDataFrame(geometry=[Point(10, 10)], crs=CRS)
    ind = pd.DataFrame(
        {"bezirk_code": ["01", "02"], "sgb2_persons": [100, 900], "sgb2_share": [0.1, 0.3]}
    )
    s = social_indicator(plots, bezirke=two_bezirke, bezirk_indicators=ind, weight_column=None)
    assert s.iloc[0] == pytest.approx(0.1 / 0.2)


def test_precomputed_bezirk_codes_give_the_same_results(two_bezirke, shares) -> None:
    plots = gpd.GeoDataFrame(
        geometry=[Point(10, 10), Point(1500, 10), Point(-900, -900), box(990, 0, 1004, 10)],
        crs=CRS,
        index=[3, 1, 2, 8],
    )
    codes = plot_bezirk(plots, two_bezirke)
    assert codes.tolist()[:2] == ["01", "02"] and pd.isna(codes.iloc[2])
    ind = pd.DataFrame(
        {"bezirk_code": ["01", "02"], "sgb2_share": [5.0, 20.0], "population": [3000, 1000]}
    )
    pd.testing.assert_frame_equal(
        landuse_mix(plots, bezirk_shares=shares, bezirk_codes=codes),
        landuse_mix(plots, bezirke=two_bezirke, bezirk_shares=shares),
    )
    pd.testing.assert_series_equal(
        jobs_housing_ratio(plots, bezirk_shares=shares, bezirk_codes=codes),
        jobs_housing_ratio(plots, bezirke=two_bezirke, bezirk_shares=shares),
    )
    pd.testing.assert_series_equal(
        social_indicator(plots, bezirk_indicators=ind, bezirk_codes=codes),
        social_indicator(plots, bezirke=two_bezirke, bezirk_indicators=ind),
    )
    # the given codes are used as they are (not looked up again)
    swapped = pd.Series(["02", "01", None, "02"], index=plots.index)
    r = jobs_housing_ratio(plots, bezirk_shares=shares, bezirk_codes=swapped)
    direct = jobs_housing_ratio(plots, bezirke=two_bezirke, bezirk_shares=shares)
    assert r.loc[3] == direct.loc[1] and r.loc[1] == direct.loc[3]


def test_bezirk_codes_must_match_the_plots(two_bezirke, shares) -> None:
    plots = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(1500, 10)], crs=CRS)
    codes = plot_bezirk(plots, two_bezirke)
    with pytest.raises(ValueError, match=r"plots\.index"):
        jobs_housing_ratio(plots, bezirk_shares=shares, bezirk_codes=codes.iloc[:1])
    with pytest.raises(ValueError, match=r"plots\.index"):
        jobs_housing_ratio(plots, bezirk_shares=shares, bezirk_codes=codes.to_numpy())
    with pytest.raises(ValueError, match="bezirke="):
        jobs_housing_ratio(plots, bezirk_shares=shares)
    ind = pd.DataFrame({"bezirk_code": ["01", "02"], "sgb2_share": [5.0, 20.0]})
    with pytest.raises(ValueError, match="bezirke="):
        social_indicator(plots, bezirk_indicators=ind)
