"""Snapping origins and targets to their nearest network node.

:func:`snap` is the public function; :class:`Sides` and :func:`snap_sides` snap the origins
and targets of one measure together and are shared by the searches of
:mod:`handwerkgeo.network.measures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.crs import check_crs
from handwerkgeo.errors import InvalidGeometryError, ParameterError, ValidationError
from handwerkgeo.network.fields import snap_xy_memo
from handwerkgeo.network.graph import Network

__all__ = ["Geoms", "Sides", "snap", "snap_sides"]

#: Origins or targets: a GeoSeries or a GeoDataFrame in EPSG:25832.
Geoms: TypeAlias = gpd.GeoSeries | gpd.GeoDataFrame


def points(geoms: Geoms, *, name: str) -> tuple[np.ndarray, pd.Index]:
    """Coordinates of the point of each geometry that is snapped and measured from."""
    check_crs(geoms, name=name)
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    arr = np.asarray(series.array)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    if missing.any():
        labels = list(series.index[missing][:10])
        msg = (
            f"{int(missing.sum())} geometries of {name} are missing or empty (index "
            f"{labels}{' …' if missing.sum() > 10 else ''}); distances need a location. "
            "Remove or fix these rows first (the plot readers list them as rejects)."
        )
        raise InvalidGeometryError(msg)
    is_point = shapely.get_type_id(arr) == 0
    pts = arr.copy()
    if (~is_point).any():
        pts[~is_point] = shapely.point_on_surface(arr[~is_point])
    return shapely.get_coordinates(pts), series.index


def snap_xy(network: Network, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node and distance of each point (memoised on the network by coordinates)."""
    return snap_xy_memo(network, xy)


def snap(network: Network, geoms: Geoms, *, max_snap_m: float = 500.0) -> pd.DataFrame:
    """Snap geometries to their nearest network node.

    Parameters
    ----------
    network
        The network.
    geoms
        GeoSeries or GeoDataFrame in EPSG:25832. Points are snapped as they are, other
        geometries from their representative point (a point on the geometry).
    max_snap_m
        Largest straight-line distance to the network that counts as "on the network".

    Returns
    -------
    pandas.DataFrame
        On ``geoms.index``: ``node`` (int, position in the network, see
        ``network.node_ids``), ``snap_m`` (straight-line distance in metres), ``snapped``
        (``snap_m <= max_snap_m``).

    Raises
    ------
    InvalidGeometryError
        If geometries are missing or empty.

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from shapely.geometry import Point
    >>> from handwerkgeo.network import prepare_network
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_nodes_from([(1, {"x": 0.0, "y": 0.0}), (2, {"x": 100.0, "y": 0.0})])
    >>> _ = G.add_edge(1, 2, length=100.0)
    >>> pts = gpd.GeoSeries([Point(90, 30), Point(0, 900)], crs="EPSG:25832")
    >>> snap(prepare_network(G), pts).round(1).to_dict("list")
    {'node': [1, 0], 'snap_m': [31.6, 900.0], 'snapped': [True, False]}
    """
    xy, index = points(geoms, name="geometries")
    node, dist = snap_xy(network, xy)
    return pd.DataFrame({"node": node, "snap_m": dist, "snapped": dist <= max_snap_m}, index=index)


def check_params(max_snap_m: float, circuity: float) -> None:
    if not np.isfinite(max_snap_m) or max_snap_m < 0:
        msg = f"max_snap_m must be a distance in metres >= 0, got {max_snap_m!r}."
        raise ParameterError(msg)
    if not np.isfinite(circuity) or circuity < 1:
        msg = (
            f"circuity must be >= 1 (network distance / straight line; 1.3 is typical for "
            f"walking in a city), got {circuity!r}."
        )
        raise ParameterError(msg)


@dataclass
class Sides:
    """Origins and targets snapped, with their points."""

    o_xy: np.ndarray
    o_node: np.ndarray
    o_snap: np.ndarray
    o_on: np.ndarray
    o_index: pd.Index
    t_xy: np.ndarray
    t_node: np.ndarray
    t_snap: np.ndarray
    t_on: np.ndarray

    @property
    def on_targets(self) -> np.ndarray:
        return np.flatnonzero(self.t_on)

    @property
    def off_targets(self) -> np.ndarray:
        return np.flatnonzero(~self.t_on)


def snap_sides(
    network: Network, origins: Geoms, targets: Geoms, max_snap_m: float, circuity: float
) -> Sides:
    check_params(max_snap_m, circuity)
    o_xy, o_index = points(origins, name="origins")
    t_xy, _ = points(targets, name="targets")
    if len(t_xy) == 0:
        msg = "targets is empty; there is nothing to measure a distance to."
        raise ValidationError("targets", [msg])
    o_node, o_snap = snap_xy(network, o_xy)
    t_node, t_snap = snap_xy(network, t_xy)
    return Sides(
        o_xy, o_node, o_snap, o_snap <= max_snap_m, o_index, t_xy, t_node, t_snap,
        t_snap <= max_snap_m,
    )  # fmt: skip
