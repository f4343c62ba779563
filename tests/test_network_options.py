"""multi_measure takes its parameters as one MeasureOptions or as keywords: same results."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from shapely.geometry import Point

from handwerkgeo import network as nw
from handwerkgeo.errors import ArgumentTypeError, HandwerkgeoError, ParameterError


@pytest.fixture(scope="module")
def line() -> tuple[nw.Network, gpd.GeoSeries, gpd.GeoDataFrame]:
    G = nx.MultiDiGraph(crs="EPSG:25832")
    G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(12)])
    for i in range(11):
        G.add_edge(i, i + 1, length=100.0)
    plots = gpd.GeoSeries([Point(0, 5), Point(450, 0), Point(5_000, 0)], crs="EPSG:25832")
    stops = gpd.GeoDataFrame(
        {"w": [1.0, 2.0, 3.0, 4.0]},
        geometry=[Point(100, 0), Point(300, 0), Point(800, 0), Point(2_000, 900)],
        crs="EPSG:25832",
    )
    return nw.prepare_network(G), plots, stops


def _frames(m: nw.Measures) -> list[pd.DataFrame | None]:
    return [m.nearest, m.k_nearest, m.count_within, m.pairs_within]


def test_options_object_equals_keywords(line) -> None:
    net, plots, stops = line
    kw = {"k": 2, "cutoff_m": 900.0, "radius_m": 350.0, "weights": "w", "limit_m": 600.0}
    by_keywords = nw.multi_measure(net, plots, stops, **kw)
    by_options = nw.multi_measure(net, plots, stops, nw.MeasureOptions(**kw))
    for a, b in zip(_frames(by_keywords), _frames(by_options), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_keywords_override_the_options(line) -> None:
    net, plots, stops = line
    opts = nw.MeasureOptions(k=3, radius_m=None, limit_m=None)
    m = nw.multi_measure(net, plots, stops, opts, k=1)
    assert "dist_m_2" not in m.k_nearest.columns
    assert m.count_within is None and m.pairs_within is None
    assert opts.k == 3  # the options object is not changed


def test_defaults_are_the_keyword_defaults(line) -> None:
    net, plots, stops = line
    for a, b in zip(
        _frames(nw.multi_measure(net, plots, stops)),
        _frames(nw.multi_measure(net, plots, stops, nw.MeasureOptions())),
        strict=True,
    ):
        pd.testing.assert_frame_equal(a, b)


def test_unknown_keyword_is_a_type_error(line) -> None:
    net, plots, stops = line
    with pytest.raises(ArgumentTypeError, match="radius_metres") as err:
        nw.multi_measure(net, plots, stops, radius_metres=300)  # type: ignore[call-arg]
    assert isinstance(err.value, TypeError) and isinstance(err.value, HandwerkgeoError)
    with pytest.raises(ArgumentTypeError, match="MeasureOptions"):
        nw.multi_measure(net, plots, stops, {"k": 2})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "k must"),
        ({"cutoff_m": -1.0}, "cutoff_m"),
        ({"radius_m": float("inf")}, "radius_m"),
        ({"limit_m": float("nan")}, "limit_m"),
        ({"radius_m": None, "weights": "w"}, "weights"),
        ({"circuity": 0.5}, "circuity"),
        ({"max_snap_m": -5.0}, "max_snap_m"),
    ],
)
def test_bad_parameters_raise_parameter_error(line, kwargs, match) -> None:
    net, plots, stops = line
    with pytest.raises(ParameterError, match=match) as err:
        nw.multi_measure(net, plots, stops, **kwargs)
    assert isinstance(err.value, ValueError)


def test_weights_of_the_wrong_length_raise_parameter_error(line) -> None:
    net, plots, stops = line
    with pytest.raises(ParameterError, match="weights has 2 values for 4 targets"):
        nw.count_within(net, plots, stops, weights=[1.0, 2.0])
