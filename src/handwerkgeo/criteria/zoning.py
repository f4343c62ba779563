"""Zoning criteria: suitability of a plot's zone and its distance to housing.

The zone of a plot comes first from its own ``zoning`` attribute (parsed into the
``zone_category`` vocabulary of docs/design.md by
:func:`handwerkgeo.sources.zoning.parse_zoning_label`), else from the zoning layer polygon
that overlaps it most (:func:`handwerkgeo.sources.zoning.zoning_for_plots`). The
suitability of each category is policy and lives in the scoring configuration
(``criteria.zoning.table``).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> plots = gpd.GeoDataFrame({"zoning": ["GE"]}, geometry=[box(0, 0, 50, 50)], crs="EPSG:25832")
>>> zoning_suitability(plots, table={"GE": 1.0}).loc[0, "suitability"]
np.float64(1.0)
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo.crs import check_crs
from handwerkgeo.sources.zoning import parse_zoning_label, zoning_for_plots

__all__ = ["RESIDENTIAL_ZONES", "distance_to_residential", "zoning_suitability"]

logger = logging.getLogger(__name__)

#: Zone categories that count as housing for the noise buffer (TA Lärm residential limits).
RESIDENTIAL_ZONES: frozenset[str] = frozenset({"WS", "WR", "WA", "WB", "FNP_W"})


def _largest_overlap(plots: gpd.GeoDataFrame, zoning: gpd.GeoDataFrame) -> pd.DataFrame:
    """zone_category and zone_source of the zoning polygon overlapping each plot most."""
    res = zoning_for_plots(plots, zoning)
    out = pd.DataFrame(index=plots.index)
    out["zone_category"] = res["zone_category"].reindex(plots.index).fillna("UNKNOWN")
    src = res["zone_source"] if "zone_source" in res else pd.Series("", index=res.index)
    out["zone_source"] = src.reindex(plots.index).fillna("")
    return out


def zoning_suitability(
    plots: gpd.GeoDataFrame,
    zoning: gpd.GeoDataFrame | None = None,
    *,
    table: Mapping[str, float],
) -> pd.DataFrame:
    """Zone category, where it came from, and its suitability for a craft yard.

    Parameters
    ----------
    plots
        Plots in EPSG:25832, optionally with a ``zoning`` attribute (``"GE"``,
        ``"Gewerbegebiet"``, XPlanung code …).
    zoning
        Zoning / land-use polygons with ``zone_category`` (and ``zone_source``); used for
        plots without a parseable ``zoning`` attribute.
    table
        Suitability (0–1) per zone category, from ``criteria.zoning.table`` of the config.
        Categories not in the table (e.g. ``UNKNOWN``) get NaN = no data.

    Returns
    -------
    pandas.DataFrame
        ``zone_category`` (``UNKNOWN`` when unknown), ``zone_source`` (``plot`` for the
        plot's own attribute, the layer's source otherwise, ``""`` for none) and
        ``suitability`` on ``plots.index``.
    """
    check_crs(plots, name="plots")
    cat = pd.Series("UNKNOWN", index=plots.index, dtype=object)
    src = pd.Series("", index=plots.index, dtype=object)
    if "zoning" in plots.columns:
        labels = plots["zoning"]
        given = labels.notna() & (labels.astype(str).str.strip() != "")
        parsed = {lab: parse_zoning_label(lab) for lab in pd.unique(labels[given])}
        cat[given] = labels[given].map(parsed)
        src[given & (cat != "UNKNOWN")] = "plot"
        bad = given & (cat == "UNKNOWN")
        if bad.any():
            logger.warning(
                "%d plot(s) have a zoning label that is not a known zone (e.g. %r); "
                "the zoning layer is used for them if given",
                int(bad.sum()),
                labels[bad].iloc[0],
            )
    todo = cat == "UNKNOWN"
    if zoning is not None and len(zoning) and todo.any():
        check_crs(zoning, name="zoning layer")
        layer = _largest_overlap(plots[todo.to_numpy()], zoning)
        cat[todo] = layer["zone_category"]
        src[todo] = layer["zone_source"]
    suit = cat.map(lambda c: table.get(c, np.nan)).astype(float)
    return pd.DataFrame({"zone_category": cat, "zone_source": src, "suitability": suit})


def distance_to_residential(
    plots: gpd.GeoDataFrame,
    zoning_or_residential: gpd.GeoDataFrame,
    *,
    categories: Collection[str] = RESIDENTIAL_ZONES,
) -> pd.Series:
    """Straight-line distance from each plot to the nearest residential area (m).

    Parameters
    ----------
    zoning_or_residential
        A zoning layer with ``zone_category`` (filtered to ``categories``) or a layer whose
        every geometry is housing (residential zones or buildings).
    categories
        Zone categories counted as housing; default :data:`RESIDENTIAL_ZONES`.

    Returns
    -------
    pandas.Series
        ``dist_residential_m`` on ``plots.index``: 0 when touching or overlapping housing,
        NaN when the layer holds no housing at all.
    """
    check_crs(plots, name="plots")
    check_crs(zoning_or_residential, name="residential layer")
    res = zoning_or_residential
    if "zone_category" in res.columns:
        res = res[res["zone_category"].isin(list(categories))]
    res = res[~res.geometry.is_empty & res.geometry.notna()]
    out = np.full(len(plots), np.nan)
    if len(res) and len(plots):
        geoms = plots.geometry.to_numpy()
        idx, dist = res.sindex.nearest(geoms, return_all=False, return_distance=True)
        out[idx[0]] = dist
    return pd.Series(out, index=plots.index, name="dist_residential_m")
