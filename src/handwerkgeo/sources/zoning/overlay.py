"""Plots × zoning: the zoning category of each plot from the best source covering it."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.crs import CRS, check_crs
from handwerkgeo.errors import MissingColumnError

__all__ = [
    "zoning_for_plots",
]

logger = logging.getLogger(__name__)


def zoning_for_plots(plots: gpd.GeoDataFrame, zoning: gpd.GeoDataFrame) -> pd.DataFrame:
    """Zoning of each plot: the category with the largest overlap (points: containing polygon).

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (polygons and/or points).
    zoning
        A zoning layer in EPSG:25832 with ``zone_category`` (and ideally ``zone_source``,
        ``zone_confidence``), e.g. from :func:`read_xplanung`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``plots``: ``zone_category`` (``UNKNOWN`` where nothing overlaps),
        ``zone_source`` (``""`` there), ``zone_confidence`` (NaN there) and
        ``overlap_share`` (share of the plot area covered by the winning category; 1 for
        points inside a polygon, 0 where nothing overlaps). Overlap areas of several
        polygons of the same category are summed; source and confidence are those of the
        largest piece. For points inside several polygons the most confident one wins.

    Raises
    ------
    handwerkgeo.errors.NoCrsError, handwerkgeo.errors.UnexpectedCrsError
        If either frame is not in EPSG:25832.
    handwerkgeo.errors.MissingColumnError
        If ``zoning`` has no ``zone_category``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_category": ["GE", "WA"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:25832")
    >>> p = gpd.GeoDataFrame(geometry=[box(2, 0, 14, 10)], crs="EPSG:25832")
    >>> zoning_for_plots(p, z)[["zone_category", "overlap_share"]].round(3).values.tolist()
    [['GE', 0.667]]
    """
    check_crs(plots, name="plots")
    check_crs(zoning, name="zoning")
    if "zone_category" not in zoning.columns:
        msg = (
            "the zoning layer has no 'zone_category' column; read it with a handwerkgeo "
            f"zoning reader (read_xplanung, read_osm_landuse, …). Columns: {list(zoning.columns)}"
        )
        raise MissingColumnError(msg)
    n = len(plots)
    cat = np.full(n, "UNKNOWN", dtype=object)
    src = np.full(n, "", dtype=object)
    conf = np.full(n, np.nan)
    share = np.zeros(n)
    zg = np.asarray(zoning.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(zg) | shapely.is_empty(zg))
    usable = zg.copy()
    usable[~ok] = None
    invalid = ok & ~shapely.is_valid(usable)
    if invalid.any():
        zg = zg.copy()
        zg[invalid] = shapely.make_valid(zg[invalid])
    zcat = zoning["zone_category"].astype(object).to_numpy()
    zsrc = (
        zoning["zone_source"].astype(object).to_numpy()
        if "zone_source" in zoning.columns
        else np.full(len(zoning), "", dtype=object)
    )
    zconf = (
        zoning["zone_confidence"].to_numpy(dtype=float)
        if "zone_confidence" in zoning.columns
        else np.full(len(zoning), np.nan)
    )
    pg = np.asarray(plots.geometry.array, dtype=object)
    if n == 0 or not ok.any():
        return _zone_frame(plots.index, cat, src, conf, share)
    usable = zg.copy()
    usable[~ok] = None
    tree = shapely.STRtree(usable)
    types = shapely.get_type_id(pg)
    poly = np.flatnonzero(np.isin(types, [3, 6]))
    pts = np.flatnonzero(types == 0)
    if len(poly):
        pi, zi = tree.query(pg[poly], predicate="intersects")
        pi = poly[pi]
        area = shapely.area(shapely.intersection(pg[pi], zg[zi]))
        pieces = pd.DataFrame(
            {"p": pi, "cat": zcat[zi], "src": zsrc[zi], "conf": zconf[zi], "area": area}
        )
        pieces = pieces[pieces["area"] > 0]
        if len(pieces):
            per_cat = pieces.groupby(["p", "cat"], sort=False)["area"].sum().reset_index()
            best = per_cat.sort_values(["p", "area", "cat"], ascending=[True, False, True])
            best = best.drop_duplicates("p")
            largest = pieces.sort_values("area", ascending=False).drop_duplicates(["p", "cat"])
            best = best.merge(largest[["p", "cat", "src", "conf"]], on=["p", "cat"], how="left")
            idx = best["p"].to_numpy()
            cat[idx] = best["cat"].to_numpy()
            src[idx] = best["src"].to_numpy()
            conf[idx] = best["conf"].to_numpy(dtype=float)
            plot_area = shapely.area(pg[idx])
            share[idx] = np.divide(
                best["area"].to_numpy(), plot_area, out=np.zeros(len(idx)), where=plot_area > 0
            )
    if len(pts):
        pi, zi = tree.query(pg[pts], predicate="within")
        if len(pi):
            hits = pd.DataFrame({"p": pts[pi], "cat": zcat[zi], "src": zsrc[zi], "conf": zconf[zi]})
            hits = hits.sort_values(["p", "conf"], ascending=[True, False], na_position="last")
            hits = hits.drop_duplicates("p")
            idx = hits["p"].to_numpy()
            cat[idx] = hits["cat"].to_numpy()
            src[idx] = hits["src"].to_numpy()
            conf[idx] = hits["conf"].to_numpy(dtype=float)
            share[idx] = 1.0
    logger.info(
        "zoning for %d plot(s): %d without any zoning polygon (%s)",
        n,
        int((cat == "UNKNOWN").sum()),
        CRS,
    )
    return _zone_frame(plots.index, cat, src, conf, share)


def _zone_frame(
    index: pd.Index, cat: np.ndarray, src: np.ndarray, conf: np.ndarray, share: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zone_category": pd.Series(cat, index=index, dtype=object),
            "zone_source": pd.Series(src, index=index, dtype=object),
            "zone_confidence": pd.Series(conf, index=index, dtype=float),
            "overlap_share": pd.Series(share, index=index, dtype=float),
        }
    )
