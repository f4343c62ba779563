"""Measurements several criteria share: nearest target, overlap share, network distance."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from handwerkgeo._geom import is_polygonal
from handwerkgeo.criteria import accessibility as acc
from handwerkgeo.network import Network

__all__ = ["DEFAULT_CIRCUITY", "nearest_distance", "overlap_share", "straight_nearest"]

#: Ratio network / straight-line distance assumed where no network is available.
DEFAULT_CIRCUITY = 1.3


def straight_nearest(
    plots: gpd.GeoDataFrame, targets: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance to, and position of, the nearest target of each plot.

    Measured from the plot geometry (0 inside or touching); ``-1`` / NaN where there is
    no target or no plot geometry.
    """
    dist = np.full(len(plots), np.nan)
    pos = np.full(len(plots), -1, dtype=np.int64)
    valid = np.flatnonzero((targets.geometry.notna() & ~targets.geometry.is_empty).to_numpy())
    if len(valid) and len(plots):
        sub = targets.iloc[valid]
        idx, d = sub.sindex.nearest(
            plots.geometry.to_numpy(), return_all=False, return_distance=True
        )
        dist[idx[0]] = d
        pos[idx[0]] = valid[idx[1]]
    return dist, pos


def nearest_distance(
    plots: gpd.GeoDataFrame,
    anchors: gpd.GeoDataFrame,
    network: Network | None,
    targets: gpd.GeoDataFrame,
    *,
    circuity: float,
    max_snap_m: float = 500.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the nearest target and the straight-line fallback flag of each plot.

    Over ``network`` from the plots' representative points (``anchors``) when there is a
    network; otherwise straight line from the plot geometry × ``circuity``, flagged.
    """
    if network is not None:
        res = acc.network_distance_to(
            anchors, network, targets, circuity=circuity, max_snap_m=max_snap_m
        )
        return res["dist_m"].to_numpy(), res["fallback"].to_numpy(dtype=bool)
    dist, _ = straight_nearest(plots, targets)
    return dist * circuity, np.isfinite(dist)


def overlap_share(plots: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    """Share of each plot's area inside ``layer``'s polygons (points: 1 inside, 0 outside).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> plots = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:25832")
    >>> layer = gpd.GeoDataFrame(geometry=[box(5, 0, 20, 10)], crs="EPSG:25832")
    >>> overlap_share(plots, layer).tolist()
    [0.5]
    """
    n = len(plots)
    share = np.zeros(n)
    if not len(layer) or not n:
        return share
    geoms = plots.geometry
    is_poly = is_polygonal(geoms)
    pos = gpd.GeoDataFrame({"_pos": np.arange(n)}, geometry=geoms.to_numpy(), crs=plots.crs)
    lay = gpd.GeoDataFrame(geometry=layer.geometry.to_numpy(), crs=layer.crs)
    lay = lay[is_polygonal(lay.geometry)]
    if not len(lay):
        return share
    if is_poly.any():
        dissolved = gpd.GeoDataFrame(geometry=[lay.union_all()], crs=lay.crs)
        pieces = gpd.overlay(pos[is_poly], dissolved, how="intersection", keep_geom_type=True)
        if len(pieces):
            a = pieces.geometry.area.groupby(pieces["_pos"].to_numpy()).sum()
            area = pos.geometry.area.to_numpy()
            share[a.index.to_numpy()] = a.to_numpy() / area[a.index.to_numpy()]
    if (~is_poly).any():
        hit = gpd.sjoin(pos[~is_poly], lay, predicate="intersects", how="inner")
        share[np.unique(hit["_pos"].to_numpy())] = 1.0
    return np.clip(share, 0.0, 1.0)
