"""Plot geometry criteria: area, compactness and narrowest width.

All functions take the plots frame (EPSG:25832) and return a :class:`pandas.Series` on its
index. Coordinate listings (points) have no shape: area comes from their ``area_m2`` column,
shape measures are NaN.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> plots = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 40)], crs="EPSG:25832")
>>> float(plot_area(plots).iloc[0])
4000.0
>>> round(float(narrowest_width(plots).iloc[0]), 1)
40.0
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo._geom import is_polygonal
from handwerkgeo.crs import check_crs

__all__ = ["compactness", "narrowest_width", "plot_area"]

logger = logging.getLogger(__name__)


def _polygonal(plots: gpd.GeoDataFrame) -> np.ndarray:
    return is_polygonal(plots.geometry)


def plot_area(plots: gpd.GeoDataFrame) -> pd.Series:
    """Area of each plot in m².

    The ``area_m2`` column wins where it holds a finite value (a listing's official area,
    e.g. ALKIS ``flaeche``); otherwise the polygon area is used. Points without
    ``area_m2`` get NaN.

    Parameters
    ----------
    plots
        Plots in EPSG:25832.

    Returns
    -------
    pandas.Series
        ``area_m2`` on ``plots.index``.
    """
    check_crs(plots, name="plots")
    poly = _polygonal(plots)
    geom_area = np.where(poly, shapely.area(np.asarray(plots.geometry.array)), np.nan)
    if "area_m2" in plots.columns:
        given = pd.to_numeric(plots["area_m2"], errors="coerce").to_numpy(dtype=float)
        area = np.where(np.isfinite(given), given, geom_area)
    else:
        area = geom_area
    return pd.Series(area, index=plots.index, name="area_m2", dtype=float)


def compactness(plots: gpd.GeoDataFrame) -> pd.Series:
    """Polsby-Popper compactness 4πA/P² (1 = circle, a square ≈ 0.785, strips → 0).

    Equals momepy's ``square_compactness`` × π/4. Points get NaN.

    Returns
    -------
    pandas.Series
        ``shape_compactness`` on ``plots.index``.
    """
    check_crs(plots, name="plots")
    poly = _polygonal(plots)
    geoms = np.asarray(plots.geometry.array)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 4.0 * np.pi * shapely.area(geoms) / shapely.length(geoms) ** 2
    value = np.where(poly, value, np.nan)
    return pd.Series(value, index=plots.index, name="shape_compactness", dtype=float)


def narrowest_width(plots: gpd.GeoDataFrame, *, tolerance_m: float = 0.5) -> pd.Series:
    """Narrowest width of each plot: twice the radius of its maximum inscribed circle (m).

    The diameter of the largest circle that fits inside the plot says how wide a building
    plus yard can be anywhere on it: a 100 × 40 m rectangle gives 40 m, an L-shaped plot of
    two 20 m wings gives about 20–28 m whatever its bounding box. (The short side of the
    minimum rotated rectangle would call the L-shape wide.) For a MultiPolygon it is the
    widest of its parts. Points get NaN.

    Parameters
    ----------
    plots
        Plots in EPSG:25832.
    tolerance_m
        Precision of the inscribed circle search in metres (GEOS).

    Returns
    -------
    pandas.Series
        ``shape_width_m`` on ``plots.index``.
    """
    check_crs(plots, name="plots")
    poly = _polygonal(plots)
    out = np.full(len(plots), np.nan)
    if poly.any():
        geoms = np.asarray(plots.geometry.array)[poly]
        lines = shapely.maximum_inscribed_circle(geoms, tolerance=tolerance_m)
        out[poly] = 2.0 * shapely.length(lines)
    return pd.Series(out, index=plots.index, name="shape_width_m", dtype=float)
