"""Accessibility criteria: public transport, network distance to targets, lines, customers.

Every function takes the plots frame (EPSG:25832, see ``docs/design.md``) and returns a
Series or DataFrame on ``plots.index``. Network distances come from
:mod:`handwerkgeo.network` (one batched Dijkstra search per target set); plots farther
than ``max_snap_m`` from the network are measured by straight line × ``circuity`` and
flagged ``fallback=True``.

Transit quality classes
-----------------------
:func:`transit_access` rates public transport with the idea of the Swiss
"ÖV-Güteklassen" (ARE 2022): a stop *category* (1 best … 5, from mode and service level)
and the walking distance band to the stop give a class A (best) … F. The default table
(:data:`TRANSIT_CLASS_TABLE`, bands :data:`TRANSIT_BANDS_M`)::

    category   ≤300 m   ≤500 m   ≤750 m   ≤1000 m
       1         A        A        B        C
       2         A        B        C        D
       3         B        C        D        E
       4         C        D        E        F
       5         D        E        F        F

A plot gets the best class over *all* stops within 1,000 m, not only the nearest stop
(a tram stop at 600 m beats a bus stop at 100 m). Beyond 1,000 m the class is F. The
numeric quality for the scoring utility is A 1.0, B 0.8, C 0.6, D 0.4, E 0.2, F 0.0
(:data:`TRANSIT_QUALITY`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.criteria._lines import outline_distances
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import (
    ConfigError,
    InvalidGeometryError,
    MissingColumnError,
    ValidationError,
)
from handwerkgeo.network import Network, multi_measure, nearest

if TYPE_CHECKING:
    from typing import Unpack

__all__ = [
    "TRANSIT_BANDS_M",
    "TRANSIT_CLASS_TABLE",
    "TRANSIT_QUALITY",
    "SnapKwargs",
    "customer_potential",
    "distance_to_lines",
    "network_distance_to",
    "stop_category_from_platforms",
    "transit_access",
]

logger = logging.getLogger(__name__)

#: Upper limits of the walking-distance bands of the transit classes, in metres.
TRANSIT_BANDS_M: tuple[float, ...] = (300.0, 500.0, 750.0, 1000.0)

#: Transit class per stop category (1 best … 5) and distance band (see module docstring).
TRANSIT_CLASS_TABLE: dict[int, tuple[str, str, str, str]] = {
    1: ("A", "A", "B", "C"),
    2: ("A", "B", "C", "D"),
    3: ("B", "C", "D", "E"),
    4: ("C", "D", "E", "F"),
    5: ("D", "E", "F", "F"),
}

#: Numeric quality (0–1) of each transit class, for the scoring utility.
TRANSIT_QUALITY: dict[str, float] = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2, "F": 0.0}

_CLASSES = "ABCDEF"


class SnapKwargs(TypedDict, total=False):
    """Straight-line fallback of the network measures (see :func:`handwerkgeo.network.nearest`).

    ``max_snap_m``: plots or targets farther from the network are measured by straight line
    × ``circuity`` (ratio of network to straight-line distance).
    """

    max_snap_m: float
    circuity: float


def stop_category_from_platforms(platform_count: pd.Series) -> pd.Series:
    """Rough stop category (1 best … 5) from the number of platforms of a stop place.

    Used only when a stops table has no ``stop_category`` (from service data: modes and
    trips). Platforms are a proxy of importance: ≥10 platforms → 1 (main station),
    5–9 → 2 (major interchange), 3–4 → 3, 2 → 4 (ordinary stop, both directions),
    1 → 5.

    Parameters
    ----------
    platform_count
        Platforms per stop (positive integers).

    Returns
    -------
    pandas.Series
        ``stop_category`` (Int64; ``<NA>`` where the count is missing or < 1).

    Examples
    --------
    >>> stop_category_from_platforms(pd.Series([31, 6, 3, 2, 1])).tolist()
    [1, 2, 3, 4, 5]
    """
    pc = pd.to_numeric(platform_count, errors="coerce").to_numpy(dtype=float)
    cat = np.select([pc >= 10, pc >= 5, pc >= 3, pc >= 2, pc >= 1], [1, 2, 3, 4, 5], 0)
    return pd.Series(
        pd.arrays.IntegerArray(cat.astype(np.int64), cat == 0),
        index=platform_count.index,
        name="stop_category",
    )


def _class_matrix(class_table: Mapping[int, Sequence[str]] | None) -> dict[int, np.ndarray]:
    table = TRANSIT_CLASS_TABLE if class_table is None else class_table
    problems = []
    out: dict[int, np.ndarray] = {}
    for cat, row in table.items():
        letters = [str(x).strip().upper() for x in row]
        if len(letters) != len(TRANSIT_BANDS_M):
            problems.append(
                f"category {cat}: {len(letters)} classes given, one per band "
                f"{TRANSIT_BANDS_M} m expected"
            )
            continue
        bad = [x for x in letters if x not in _CLASSES]
        if bad:
            problems.append(f"category {cat}: classes {bad} are not in A–F")
            continue
        out[int(cat)] = np.array([_CLASSES.index(x) for x in letters], dtype=np.int64)
    if problems:
        raise ValidationError("class_table", problems)
    return out


def _stop_categories(stops: gpd.GeoDataFrame, known: Sequence[int]) -> np.ndarray:
    if "stop_category" in stops.columns:
        cat = pd.to_numeric(stops["stop_category"], errors="coerce")
        if "platform_count" in stops.columns and cat.isna().any():
            cat = cat.fillna(stop_category_from_platforms(stops["platform_count"]).astype(float))
    elif "platform_count" in stops.columns:
        logger.info("transit_access: stops have no stop_category; derived from platform_count")
        cat = stop_category_from_platforms(stops["platform_count"]).astype(float)
    else:
        msg = (
            "stops need a 'stop_category' column (1 best … 5, from service data) or a "
            "'platform_count' column to derive it; read stops with "
            "handwerkgeo.sources.transit."
        )
        raise MissingColumnError(msg)
    values = cat.to_numpy(dtype=float)
    bad = ~np.isin(values, list(known))
    if bad.any():
        ids = stops["stop_id"].to_numpy()[bad][:10].tolist()
        msg = (
            f"{int(bad.sum())} stops have no stop category in {sorted(known)} (stop_id "
            f"{ids}); fix stop_category/platform_count or extend class_table."
        )
        raise ValidationError("stops", [msg])
    return values.astype(np.int64)


def transit_access(
    plots: gpd.GeoDataFrame,
    network: Network,
    stops: gpd.GeoDataFrame,
    *,
    k: int = 3,
    radius_m: float = 800.0,
    cutoff_m: float = 2000.0,
    class_table: Mapping[int, Sequence[str]] | None = None,
    **snap: Unpack[SnapKwargs],
) -> pd.DataFrame:
    """Walking access to public transport for every plot.

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (polygons are measured from their representative point).
    network
        Walking network (:func:`handwerkgeo.network.prepare_network`).
    stops
        Stops in EPSG:25832 with ``stop_id`` and ``stop_category`` (1 best … 5) or
        ``platform_count`` (see :func:`stop_category_from_platforms`).
    **snap
        ``max_snap_m`` (default 500) and ``circuity`` (default 1.3): plots or stops
        farther than ``max_snap_m`` from the network are measured by straight line ×
        ``circuity`` (:class:`SnapKwargs`).
    k
        Number of nearest stops averaged in ``stops{k}_mean_walk_m``.
    radius_m
        Radius of the stop count.
    cutoff_m
        Search limit for the ``k`` nearest stops; the mean is NaN when fewer than ``k``
        stops lie within it.
    class_table
        Overrides :data:`TRANSIT_CLASS_TABLE`: ``{category: (class ≤300 m, ≤500 m,
        ≤750 m, ≤1000 m)}``, classes ``"A"`` … ``"F"``.

    Returns
    -------
    pandas.DataFrame
        On ``plots.index``: ``stop_walk_m`` (to the nearest stop, incl. snapping),
        ``stop_id_nearest``, ``stop_category_nearest``, ``stops{k}_mean_walk_m``,
        ``stops_within_{radius}m``, ``transit_class`` (A–F, best over all stops within
        1,000 m), ``transit_quality`` (0–1), ``snap_m`` (plot to network), ``fallback``
        (True if any of these used a straight-line distance).

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 100.0 * i, "y": 0.0}) for i in range(12)])
    >>> for i in range(11):
    ...     _ = G.add_edge(i, i + 1, length=100.0)
    >>> stops = gpd.GeoDataFrame(
    ...     {"stop_id": ["bus", "tram"], "stop_category": [5, 2]},
    ...     geometry=[Point(100, 0), Point(600, 0)], crs="EPSG:25832")
    >>> plots = gpd.GeoDataFrame({"plot_id": ["p1"]}, geometry=[Point(0, 0)], crs="EPSG:25832")
    >>> r = transit_access(plots, prepare_network(G), stops)
    >>> r.loc[0, "stop_id_nearest"], float(r.loc[0, "stop_walk_m"]), r.loc[0, "transit_class"]
    ('bus', 100.0, 'C')
    """
    check_crs(plots, name="plots")
    check_crs(stops, name="stops")
    if "stop_id" not in stops.columns:
        msg = "stops need a 'stop_id' column; read them with handwerkgeo.sources.transit."
        raise MissingColumnError(msg)
    table = _class_matrix(class_table)
    category = _stop_categories(stops, list(table))
    # nearest, k nearest, count within radius_m and all stops within the last band: one
    # snapping and one shared limited search (the same values as the four functions)
    measures = multi_measure(
        network,
        plots,
        stops,
        k=k,
        cutoff_m=cutoff_m,
        radius_m=radius_m,
        limit_m=TRANSIT_BANDS_M[-1],
        sort_pairs=False,
        max_snap_m=snap.get("max_snap_m", 500.0),
        circuity=snap.get("circuity", 1.3),
    )
    near, kn, cnt, pairs = (
        measures.nearest,
        measures.k_nearest,
        measures.count_within,
        measures.pairs_within,
    )
    if kn is None or cnt is None or pairs is None:  # all four were requested above
        msg = "multi_measure returned no result for a requested measure"
        raise RuntimeError(msg)

    n = len(plots)
    band = np.searchsorted(np.asarray(TRANSIT_BANDS_M), pairs["dist_m"].to_numpy(), side="left")
    cat_of_pair = category[pairs["target_idx"].to_numpy()]
    lookup = np.full((max(table) + 1, len(TRANSIT_BANDS_M)), len(_CLASSES) - 1)
    for cat, row in table.items():
        lookup[cat] = row
    cls = lookup[cat_of_pair, band]
    origin = pairs["origin_idx"].to_numpy()
    line = pairs["fallback"].to_numpy()
    worst = len(_CLASSES) - 1
    best_net = np.full(n, worst)
    best_line = np.full(n, worst)
    np.minimum.at(best_net, origin[~line], cls[~line])
    np.minimum.at(best_line, origin[line], cls[line])
    best = np.minimum(best_net, best_line)
    class_fallback = best_line < best_net

    dists = kn[[f"dist_m_{i + 1}" for i in range(k)]].to_numpy()
    mean_k = np.where(kn["n_found"].to_numpy() == k, dists.mean(axis=1), np.nan)
    tidx = near["target_idx"].to_numpy()
    letters = np.array(list(_CLASSES))[best]
    radius_label = f"{radius_m:g}"
    out = pd.DataFrame(
        {
            "stop_walk_m": near["dist_m"].to_numpy(),
            "stop_id_nearest": stops["stop_id"].astype("string").to_numpy()[tidx],
            "stop_category_nearest": category[tidx],
            f"stops{k}_mean_walk_m": mean_k,
            f"stops_within_{radius_label}m": cnt["count"].to_numpy(),
            "transit_class": letters,
            "transit_quality": np.array([TRANSIT_QUALITY[c] for c in _CLASSES])[best],
            "snap_m": near["snap_m"].to_numpy(),
            "fallback": (
                near["fallback"].to_numpy()
                | kn["fallback"].to_numpy()
                | cnt["fallback"].to_numpy()
                | class_fallback
            ),
        },
        index=plots.index,
    )
    out["stop_id_nearest"] = out["stop_id_nearest"].astype("string")
    logger.info(
        "transit_access: %d plots, %d stops; classes %s; %d plots with straight-line fallback",
        n,
        len(stops),
        out["transit_class"].value_counts().sort_index().to_dict(),
        int(out["fallback"].sum()),
    )
    return out


def network_distance_to(
    plots: gpd.GeoDataFrame,
    network: Network,
    targets: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_snap_m: float = 500.0,
    circuity: float = 1.3,
) -> pd.DataFrame:
    """Network distance from every plot to the nearest target (e.g. motorway junction).

    Parameters
    ----------
    plots
        Plots in EPSG:25832.
    network
        The network to measure on (a drive network for motorway access).
    targets
        Target geometries in EPSG:25832 (e.g. from
        :func:`handwerkgeo.sources.osm.read_pbf_features` with
        ``kind="motorway_junctions"``).
    max_snap_m, circuity
        Straight-line fallback (see :func:`handwerkgeo.network.nearest`).

    Returns
    -------
    pandas.DataFrame
        On ``plots.index``: ``dist_m``, ``snap_m``, ``fallback``.

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(i, {"x": 1000.0 * i, "y": 0.0}) for i in range(5)])
    >>> for i in range(4):
    ...     _ = G.add_edge(i, i + 1, length=1000.0)
    >>> junctions = gpd.GeoSeries([Point(4000, 0)], crs="EPSG:25832")
    >>> plots = gpd.GeoDataFrame(geometry=[Point(0, 20)], crs="EPSG:25832")
    >>> network_distance_to(plots, prepare_network(G), junctions)["dist_m"].tolist()
    [4020.0]
    """
    check_crs(plots, name="plots")
    check_crs(targets, name="targets")
    res = nearest(network, plots, targets, max_snap_m=max_snap_m, circuity=circuity)
    return res[["dist_m", "snap_m", "fallback"]]


def distance_to_lines(
    plots: gpd.GeoDataFrame,
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    name: str = "line_dist_m",
) -> pd.Series:
    """Straight-line distance from every plot to the nearest line feature.

    For the cycling network or main roads. The distance is measured from the plot's
    geometry (0 where a plot touches, crosses or contains a line), exactly as shapely's
    ``distance``, from the lines cut into their segments: for many polygons by a compiled
    search over a grid of the segments, otherwise by nearest queries on a GEOS spatial
    index of the segments (see :func:`handwerkgeo.criteria._lines.outline_distances`).

    Parameters
    ----------
    plots
        Plots in EPSG:25832.
    lines
        Line features in EPSG:25832 (any geometry type works).
    name
        Name of the returned Series.

    Returns
    -------
    pandas.Series
        Distance in metres on ``plots.index``; NaN for plots without geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> plots = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:25832")
    >>> roads = gpd.GeoSeries([LineString([(0, 30), (50, 30)])], crs="EPSG:25832")
    >>> distance_to_lines(plots, roads).tolist()
    [20.0]
    """
    check_crs(plots, name="plots")
    check_crs(lines, name="lines")
    line_geoms = lines.geometry if isinstance(lines, gpd.GeoDataFrame) else lines
    usable = ~(line_geoms.isna() | line_geoms.is_empty)
    if not usable.any():
        msg = "lines has no geometries; there is nothing to measure a distance to."
        raise InvalidGeometryError(msg)
    parts = shapely.get_parts(np.asarray(line_geoms[usable].array))
    parts = parts[~shapely.is_empty(parts)]
    arr = np.asarray(plots.geometry.array)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if (~ok).any():
        logger.warning(
            "distance_to_lines: %d plots without geometry get NaN (index %s)",
            int((~ok).sum()),
            list(plots.index[~ok][:10]),
        )
    dist = np.full(len(plots), np.nan)
    if ok.any():
        dist[np.flatnonzero(ok)] = outline_distances(parts, arr[ok])
    return pd.Series(dist, index=plots.index, name=name)


def customer_potential(
    plots: gpd.GeoDataFrame,
    population: gpd.GeoDataFrame,
    *,
    pop_col: str = "population",
    half_distance_m: float = 3000.0,
    normalise: bool | float = True,
) -> pd.Series:
    """Gravity potential of customers around every plot.

    ``A_i = Σ_j P_j · exp(−d_ij · ln 2 / half_distance_m)``: a resident at
    ``half_distance_m`` counts half, at twice that distance a quarter. ``d_ij`` is the
    straight-line distance from the plot's representative point to the population point
    (polygons: their centroid, e.g. the 50 Stadtteile). The plots × population distance
    matrix is computed densely in blocks of at most ~4 million cells (100,000 plots × 50
    Stadtteile is 5 million cells, about 0.1 s).

    Parameters
    ----------
    plots
        Plots in EPSG:25832.
    population
        Points or polygons in EPSG:25832 with a population column.
    pop_col
        Population column (non-negative numbers).
    half_distance_m
        Distance at which a resident counts half.
    normalise
        ``True``: divide by the maximum over ``plots`` (the best plot gets 1). A number:
        divide by that reference (e.g. the city-wide maximum, so that scores of different
        batches are comparable). ``False``: raw potential in persons.

    Returns
    -------
    pandas.Series
        ``customer_potential`` on ``plots.index``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pop = gpd.GeoDataFrame({"population": [1000]}, geometry=[Point(0, 0)], crs="EPSG:25832")
    >>> plots = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(3000, 0)], crs="EPSG:25832")
    >>> customer_potential(plots, pop, normalise=False).tolist()
    [1000.0, 500.0]
    """
    check_crs(plots, name="plots")
    check_crs(population, name="population")
    if pop_col not in population.columns:
        msg = (
            f"population has no column {pop_col!r} (columns: {list(population.columns)}); "
            "pass pop_col=... naming the column with the number of residents."
        )
        raise MissingColumnError(msg)
    if not np.isfinite(half_distance_m) or half_distance_m <= 0:
        msg = f"half_distance_m must be a positive distance in metres, got {half_distance_m!r}."
        raise ConfigError(msg)
    pop = pd.to_numeric(population[pop_col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pop) | (pop < 0)
    pgeom = np.asarray(population.geometry.array)
    bad_geom = shapely.is_missing(pgeom) | shapely.is_empty(pgeom)
    problems = []
    if bad.any():
        problems.append(
            f"{int(bad.sum())} rows have no non-negative number in {pop_col!r} (index "
            f"{list(population.index[bad][:10])})"
        )
    if bad_geom.any():
        problems.append(
            f"{int(bad_geom.sum())} rows have no geometry (index "
            f"{list(population.index[bad_geom][:10])})"
        )
    if problems:
        raise ValidationError("population", problems)
    is_point = shapely.get_type_id(pgeom) == 0
    pts = pgeom.copy()
    pts[~is_point] = shapely.centroid(pgeom[~is_point])
    pxy = shapely.get_coordinates(pts)

    arr = np.asarray(plots.geometry.array)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if (~ok).any():
        logger.warning(
            "customer_potential: %d plots without geometry get NaN (index %s)",
            int((~ok).sum()),
            list(plots.index[~ok][:10]),
        )
    opts = arr[ok].copy()
    not_point = shapely.get_type_id(opts) != 0
    opts[not_point] = shapely.point_on_surface(opts[not_point])
    oxy = shapely.get_coordinates(opts)

    beta = np.log(2.0) / half_distance_m
    values = np.empty(len(oxy))
    block = max(1, 4_000_000 // max(1, len(pxy)))
    for start in range(0, len(oxy), block):
        sl = slice(start, start + block)
        d = np.hypot(
            oxy[sl, 0:1] - pxy[None, :, 0],
            oxy[sl, 1:2] - pxy[None, :, 1],
        )
        values[sl] = np.exp(-beta * d) @ pop
    potential = np.full(len(plots), np.nan)
    potential[ok] = values
    if normalise is True:
        ref = np.nanmax(potential) if ok.any() else np.nan
    elif normalise is False:
        ref = 1.0
    else:
        ref = float(normalise)
        if not np.isfinite(ref) or ref <= 0:
            msg = f"normalise must be True, False or a positive reference, got {normalise!r}."
            raise ConfigError(msg)
    if ref == 0:
        logger.warning("customer_potential: all plots have zero potential; not normalised")
        ref = 1.0
    return pd.Series(potential / ref, index=plots.index, name="customer_potential")
