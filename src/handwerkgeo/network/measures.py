"""The measures: nearest target, k nearest, count and all pairs within a distance.

Each public function snaps its origins and targets (:mod:`handwerkgeo.network.snapping`)
and runs one batch of Dijkstra searches from the targets
(:mod:`handwerkgeo.network._search`); :func:`multi_measure` runs several measures from one
snapping and one shared search. How distances are measured is described in
:mod:`handwerkgeo.network`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict, Unpack

import pandas as pd

from handwerkgeo.errors import ArgumentTypeError, ParameterError
from handwerkgeo.network._search import (
    Weights,
    check_k,
    check_limit,
    count_frame,
    k_nearest_frame,
    nearest_frame,
    pairs_frame,
    search,
    target_weights,
)
from handwerkgeo.network.graph import Network
from handwerkgeo.network.snapping import Geoms, snap_sides

__all__ = [
    "MeasureKwargs",
    "MeasureOptions",
    "Measures",
    "count_within",
    "k_nearest",
    "multi_measure",
    "nearest",
    "pairs_within",
    "prepare_fields",
]


def nearest(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """Distance from every origin to its nearest target over the network.

    One multi-source Dijkstra search (``min_only``) from all targets at once.

    Parameters
    ----------
    network
        The network (:func:`prepare_network`).
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832 (e.g. plots and stops).
    max_snap_m
        Origins and targets farther than this from the network are measured by
        straight line × ``circuity`` (see module docstring).
    circuity
        Ratio network / straight-line distance assumed for the fallback.

    Returns
    -------
    pandas.DataFrame
        On ``origins.index``: ``dist_m`` (origin snap + network + target snap, or the
        straight-line fallback), ``target_idx`` (position of the nearest target in
        ``targets``), ``snap_m`` (origin snap distance), ``fallback`` (bool).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(4)])
    >>> for i in range(3):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> net = prepare_network(G)
    >>> plots = gpd.GeoSeries([Point(0, 10), Point(0, 2000)], crs="EPSG:25832")
    >>> stops = gpd.GeoSeries([Point(300, -5)], crs="EPSG:25832")
    >>> r = nearest(net, plots, stops)
    >>> r["dist_m"].round(1).tolist(), r["fallback"].tolist()
    ([315.0, 2635.5], [False, True])
    """
    s = snap_sides(network, origins, targets, max_snap_m, circuity)
    return nearest_frame(network, s, circuity)


def pairs_within(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    limit_m: float,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """Every (origin, target) pair within ``limit_m``, in one batch.

    One Dijkstra search limited to ``limit_m`` from every target. Useful for measures
    that need all nearby targets at once (e.g. the best transit class within 1,000 m).

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    limit_m
        Largest distance (origin snap + network + target snap) to report.
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`.

    Returns
    -------
    pandas.DataFrame
        One row per pair, sorted by origin then distance: ``origin_idx`` and
        ``target_idx`` (positions in ``origins`` and ``targets``), ``dist_m``,
        ``fallback`` (True where the pair is measured by straight line × circuity).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(4)])
    >>> for i in range(3):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(300, 0), Point(100, 0)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0)], crs="EPSG:25832")
    >>> pairs_within(prepare_network(G), plots, stops, limit_m=250)["target_idx"].tolist()
    [1]
    """
    check_limit(limit_m, "limit_m")
    s = snap_sides(network, origins, targets, max_snap_m, circuity)
    return pairs_frame(network, s, limit_m, circuity)


def k_nearest(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    k: int = 3,
    cutoff_m: float = 2000.0,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """The ``k`` nearest targets of every origin within ``cutoff_m`` over the network.

    One Dijkstra search limited to ``cutoff_m`` from every target, all in one batch; the
    reached nodes are grouped and the ``k`` smallest distances kept per node.

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    k
        Number of nearest targets.
    cutoff_m
        Targets farther than this (total distance incl. both snaps) are not reported;
        raise it if too many origins have fewer than ``k`` targets (``n_found``). The run
        time grows with the area a search of this length covers.
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`.

    Returns
    -------
    pandas.DataFrame
        On ``origins.index``: ``dist_m_1`` … ``dist_m_k`` (ascending, NaN where fewer
        than ``k`` targets lie within ``cutoff_m``), ``target_idx_1`` …
        ``target_idx_k`` (position in ``targets``, Int64, ``<NA>`` where not found),
        ``n_found``, ``snap_m``, ``fallback`` (True if any of the reported distances is a
        straight-line fallback).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(4)])
    >>> for i in range(3):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(300, 0), Point(100, 0)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0)], crs="EPSG:25832")
    >>> r = k_nearest(prepare_network(G), plots, stops, k=2)
    >>> r[["dist_m_1", "dist_m_2"]].to_numpy().tolist(), r["target_idx_1"].tolist()
    ([[100.0, 300.0]], [1])
    """
    k = check_k(k)
    check_limit(cutoff_m, "cutoff_m")
    s = snap_sides(network, origins, targets, max_snap_m, circuity)
    return k_nearest_frame(network, s, k, cutoff_m, circuity)


def count_within(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    *,
    radius_m: float = 800.0,
    weights: Weights = None,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """Number (or weighted sum) of targets within ``radius_m`` over the network.

    One Dijkstra search limited to ``radius_m`` from every target, in one batch. A
    target counts when origin snap + network distance + target snap ≤ ``radius_m``.

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    radius_m
        Walking radius in metres.
    weights
        Optional weight per target: a column name of ``targets``, a Series aligned on
        ``targets.index`` or an array in target order. ``None`` counts targets.
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`: off-network origins count every
        target within ``radius_m`` by straight line × circuity; on-network origins count
        off-network targets that way.

    Returns
    -------
    pandas.DataFrame
        On ``origins.index``: ``count`` (int) or, with ``weights``, ``weighted_sum``
        (float); ``snap_m``; ``fallback`` (True if the origin is off the network or any
        counted target was measured by straight line).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(10)])
    >>> for i in range(9):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(100.0 * i, 0) for i in range(10)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0), Point(450, 0)], crs="EPSG:25832")
    >>> count_within(prepare_network(G), plots, stops, radius_m=250)["count"].tolist()
    [3, 5]
    """
    check_limit(radius_m, "radius_m")
    w = target_weights(targets, weights)
    s = snap_sides(network, origins, targets, max_snap_m, circuity)
    return count_frame(network, s, radius_m, w, circuity)


@dataclass(frozen=True)
class Measures:
    """Results of :func:`multi_measure`, each exactly as the function of its name returns it.

    Attributes
    ----------
    nearest
        As :func:`nearest`.
    k_nearest
        As :func:`k_nearest`; ``None`` if not requested.
    count_within
        As :func:`count_within`; ``None`` if not requested.
    pairs_within
        As :func:`pairs_within`; ``None`` if not requested.
    """

    nearest: pd.DataFrame
    k_nearest: pd.DataFrame | None = None
    count_within: pd.DataFrame | None = None
    pairs_within: pd.DataFrame | None = None


@dataclass(frozen=True, kw_only=True)
class MeasureOptions:
    """Which measures :func:`multi_measure` computes, and their parameters.

    Every field has the default of the keyword of the same name of :func:`multi_measure`;
    see there.

    Examples
    --------
    >>> MeasureOptions(k=None, radius_m=500.0).limit_m
    1000.0
    """

    k: int | None = 3
    cutoff_m: float = 2000.0
    radius_m: float | None = 800.0
    weights: Weights = None
    limit_m: float | None = 1000.0
    sort_pairs: bool = True
    max_snap_m: float = 500.0
    circuity: float = 1.3


class MeasureKwargs(TypedDict, total=False):
    """The fields of :class:`MeasureOptions` as keywords of :func:`multi_measure`."""

    k: int | None
    cutoff_m: float
    radius_m: float | None
    weights: Weights
    limit_m: float | None
    sort_pairs: bool
    max_snap_m: float
    circuity: float


def multi_measure(
    network: Network,
    origins: Geoms,
    targets: Geoms,
    options: MeasureOptions | None = None,
    **overrides: Unpack[MeasureKwargs],
) -> Measures:
    """:func:`nearest`, :func:`k_nearest`, :func:`count_within` and :func:`pairs_within` at once.

    The results are the same as those of the four functions called one by one with the
    same parameters, value for value, but origins and targets are snapped once and the
    three limited measures share one Dijkstra search from every target, limited to the
    largest of ``cutoff_m``, ``radius_m`` and ``limit_m``: its (node, target, distance)
    triples are sorted by node and distance once, and each measure takes, per node, the
    prefix within its own limit. :func:`nearest` remains its own (cheap, ``min_only``)
    search. Used by :func:`handwerkgeo.criteria.accessibility.transit_access`.

    Parameters
    ----------
    network
        The network.
    origins, targets
        GeoSeries or GeoDataFrames in EPSG:25832.
    options
        The parameters below as one :class:`MeasureOptions`; keywords given as well
        override its fields (``multi_measure(net, o, t, opts, k=5)``).
    k, cutoff_m
        As in :func:`k_nearest`; ``k=None`` skips it.
    radius_m, weights
        As in :func:`count_within`; ``radius_m=None`` skips it.
    limit_m
        As in :func:`pairs_within`; ``None`` skips it.
    sort_pairs
        ``False`` returns the same pairs as :func:`pairs_within`, but not sorted (faster
        where only per-origin aggregates of the pairs are needed).
    max_snap_m, circuity
        Straight-line fallback as in :func:`nearest`.

    Raises
    ------
    ArgumentTypeError
        For a keyword that is not a field of :class:`MeasureOptions`.
    ParameterError
        For a negative or infinite distance, ``k < 1``, ``circuity < 1``, or ``weights``
        without ``radius_m``.

    Returns
    -------
    Measures
        ``nearest``, ``k_nearest``, ``count_within``, ``pairs_within`` frames (``None``
        for a skipped measure).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(10)])
    >>> for i in range(9):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoSeries([Point(100.0 * i, 0) for i in (1, 3, 8)], crs="EPSG:25832")
    >>> plots = gpd.GeoSeries([Point(0, 0)], crs="EPSG:25832")
    >>> m = multi_measure(prepare_network(G), plots, stops, k=2, radius_m=250, limit_m=500)
    >>> m.nearest["dist_m"].tolist(), m.k_nearest["dist_m_2"].tolist()
    ([100.0], [300.0])
    >>> m.count_within["count"].tolist(), m.pairs_within["target_idx"].tolist()
    ([1], [0, 1])
    >>> opts = MeasureOptions(k=2, radius_m=250, limit_m=500)
    >>> multi_measure(prepare_network(G), plots, stops, opts).count_within["count"].tolist()
    [1]
    """
    o = _options(options, overrides)
    k = None if o.k is None else check_k(o.k)
    w = None
    if k is not None:
        check_limit(o.cutoff_m, "cutoff_m")
    if o.radius_m is not None:
        check_limit(o.radius_m, "radius_m")
        w = target_weights(targets, o.weights)
    elif o.weights is not None:
        msg = "weights are for the count within radius_m; pass radius_m too (or no weights)."
        raise ParameterError(msg)
    if o.limit_m is not None:
        check_limit(o.limit_m, "limit_m")
    s = snap_sides(network, origins, targets, o.max_snap_m, o.circuity)
    near = nearest_frame(network, s, o.circuity)
    # the k nearest come from their own node field; counts and pairs share one search
    shared = [lim for lim in (o.radius_m, o.limit_m) if lim is not None]
    reached = search(network, s, max(shared), by_distance=True) if shared else None
    return Measures(
        nearest=near,
        k_nearest=(None if k is None else k_nearest_frame(network, s, k, o.cutoff_m, o.circuity)),
        count_within=(
            None
            if o.radius_m is None
            else count_frame(network, s, o.radius_m, w, o.circuity, reached=reached)
        ),
        pairs_within=(
            None
            if o.limit_m is None
            else pairs_frame(network, s, o.limit_m, o.circuity, reached, sort=o.sort_pairs)
        ),
    )


def _options(options: MeasureOptions | None, overrides: Mapping[str, Any]) -> MeasureOptions:
    """``options`` (default: :class:`MeasureOptions`) with the keywords ``overrides`` set."""
    base = MeasureOptions() if options is None else options
    if not isinstance(base, MeasureOptions):
        msg = f"options must be a MeasureOptions, not {type(base).__name__}."
        raise ArgumentTypeError(msg)
    allowed = [f.name for f in fields(MeasureOptions)]
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        msg = (
            f"multi_measure() got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(allowed)}."
        )
        raise ArgumentTypeError(msg)
    return replace(base, **overrides) if overrides else base


def prepare_fields(
    network: Network,
    targets: Geoms,
    *,
    k: int | None = 3,
    cutoff_m: float = 2000.0,
    limit_m: float | None = 1000.0,
    max_snap_m: float = 500.0,
) -> None:
    """Compute the node fields of ``targets`` now, so that later measures only look them up.

    The nearest target of every node, the ``k`` nearest within ``cutoff_m`` and every
    target within ``limit_m`` of every node (the field :func:`count_within`,
    :func:`pairs_within` and :func:`multi_measure` read for radii up to ``limit_m``) are
    memoised on ``network`` (``network.fields``) for the on-network targets at
    ``max_snap_m``. Results of the measures are the same with or without this call; the
    prepared scoring context (:mod:`handwerkgeo.prepared`) stores these fields on disk.
    """
    from handwerkgeo.network import fields as nf
    from handwerkgeo.network.snapping import points

    t_xy, _ = points(targets, name="targets")
    t_node, t_snap = nf.snap_xy_memo(network, t_xy)
    on = t_snap <= max_snap_m
    if not on.any():
        return
    node, snap = t_node[on], t_snap[on]
    nf.nearest_field(network, node, snap)
    if k is not None:
        nf.k_field(network, node, snap, k=check_k(k), limit_m=cutoff_m)
    if limit_m is not None:
        nf.reach_field(network, node, snap, limit_m=limit_m)
