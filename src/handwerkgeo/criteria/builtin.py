"""The built-in criteria: one documented function per criterion, one signature.

Every function here is ``(plots, context, crit) -> CriterionResult`` (see
:mod:`handwerkgeo.criteria.base`) and is registered in
:data:`handwerkgeo.criteria.registry.REGISTRY`. They wrap the measures of the criterion
families (:mod:`~handwerkgeo.criteria.geometry`, :mod:`~handwerkgeo.criteria.zoning`,
:mod:`~handwerkgeo.criteria.accessibility`, :mod:`~handwerkgeo.criteria.mix`) and turn the
layers of the :class:`~handwerkgeo.context.ScoringContext` into raw values; the engine
(:func:`handwerkgeo.scoring.compute_raw`) checks the layers a criterion needs before
calling it. The utility hooks at the end adjust the breakpoint utility where it depends on
more than the raw value.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._text import parse_yes_no
from handwerkgeo.config import OWNER_CATEGORIES
from handwerkgeo.criteria import accessibility as acc
from handwerkgeo.criteria import geometry as geo
from handwerkgeo.criteria import mix
from handwerkgeo.criteria import zoning as zon
from handwerkgeo.criteria._common import (
    DEFAULT_CIRCUITY,
    nearest_distance,
    overlap_share,
    straight_nearest,
)
from handwerkgeo.criteria._utility import as_float, utility
from handwerkgeo.criteria.base import CriterionResult, PlotInputs
from handwerkgeo.errors import DataSourceError, MissingColumnError

if TYPE_CHECKING:
    from handwerkgeo.config import CriterionConfig, ScoringConfig
    from handwerkgeo.context import ScoringContext

__all__ = [
    "COMMERCIAL_USE",
    "brownfield",
    "customer_potential",
    "cycling",
    "jobs_housing",
    "land_value",
    "landuse_mix",
    "main_road",
    "motorway",
    "noise_buffer",
    "noise_buffer_utility",
    "ownership",
    "plot_shape",
    "plot_size",
    "social_mix",
    "social_mix_utility",
    "transit",
    "transit_utility",
    "zoning",
]

logger = logging.getLogger(__name__)

#: Zone categories counted as commercial actual use for the brownfield criterion.
COMMERCIAL_USE: frozenset[str] = frozenset({"GE", "GI", "SO_COMMERCIAL", "FNP_G"})


def _circuity(crit: CriterionConfig) -> float:
    return float(crit.params.get("circuity", DEFAULT_CIRCUITY))


def _layer(context: ScoringContext, name: str) -> Any:
    """A layer the criterion needs (compute_raw checks them first; direct calls may not)."""
    layer = context.layer(name)
    if layer is None:
        msg = f"this criterion needs the layer {name!r} in the scoring context"
        raise DataSourceError(msg)
    return layer


def _plot_column(plots: PlotInputs, column: str) -> CriterionResult:
    if column in plots.frame.columns:
        return CriterionResult(raw=plots.series(plots.frame[column].to_numpy()))
    return CriterionResult.no_data("missing_plot_column", column=column)


# --- plot geometry and attributes ---------------------------------------------------------


def plot_size(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """Plot area in m² (from the listing's ``area_m2`` or the geometry)."""
    return CriterionResult(raw=plots.area_m2)


def plot_shape(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Narrowest width in m (``params.measure: narrowest_width``) or compactness 0..1.

    Points have no shape: no data when no plot is a polygon.
    """
    if crit.params.get("measure", "narrowest_width") == "compactness":
        raw = geo.compactness(plots.frame)
    else:
        raw = geo.narrowest_width(plots.frame)
    if raw.isna().all():
        return CriterionResult.no_data("no_polygon_plots", raw=raw)
    return CriterionResult(raw=raw)


def zoning(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """Zone category (``zone_category``) of the plot, for the zoning table.

    ``UNKNOWN`` counts as no data unless the table rates it.
    """
    table = crit.table or {}
    known = (plots.zone_category != "UNKNOWN") | ("UNKNOWN" in table)
    raw = plots.zone_category.where(known).astype("str")
    if not known.any():
        return CriterionResult.no_data("no_zoning_data", raw=raw)
    return CriterionResult(raw=raw)


def brownfield(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Already commercial or brownfield: 1 yes, 0 no.

    From the plot's ``brownfield`` column (yes/no words read by
    :func:`handwerkgeo._text.parse_yes_no`; unknown words are no data), else from the
    share of the plot in commercial actual use of the ``landuse`` layer
    (``params.min_commercial_share``).
    """
    frame = plots.frame
    if "brownfield" in frame.columns:
        flags = [parse_yes_no(v) for v in frame["brownfield"].tolist()]
        values = np.array([np.nan if v is None else float(v) for v in flags], dtype=float)
    else:
        values = np.full(len(frame), np.nan)
    todo = np.isnan(values)
    landuse = context.landuse
    if todo.any() and landuse is not None and "zone_category" in landuse:
        sub = frame[todo]
        any_use = overlap_share(sub, landuse)
        com = overlap_share(sub, landuse[landuse["zone_category"].isin(list(COMMERCIAL_USE))])
        thr = float(crit.params.get("min_commercial_share", 0.5))
        values[todo] = np.where(any_use > 0, (com >= thr).astype(float), np.nan)
    raw = plots.series(values)
    if raw.isna().all():
        return CriterionResult.no_data("no_brownfield_data", raw=raw)
    return CriterionResult(raw=raw)


def ownership(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """Owner category from the plot's ``owner`` column, stripped and lower-cased.

    Owners outside :data:`handwerkgeo.config.OWNER_CATEGORIES` are logged and count as no data.
    """
    res = _plot_column(plots, "owner")
    if res.raw is None:
        return res
    raw = res.raw.astype("string").str.strip().str.lower()
    bad = raw.notna() & ~raw.isin(list(OWNER_CATEGORIES))
    if bad.any():
        logger.warning(
            "%d plot(s) have an unknown owner (e.g. %r); allowed: %s — counted as no data",
            int(bad.sum()),
            res.raw[bad].iloc[0],
            ", ".join(OWNER_CATEGORIES),
        )
    return CriterionResult(raw=raw.astype("str"))


def land_value(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Standard land value in €/m² from the plot's ``land_value_eur_m2`` column."""
    res = _plot_column(plots, "land_value_eur_m2")
    if res.raw is None:
        return res
    return CriterionResult(raw=pd.to_numeric(res.raw, errors="coerce"))


# --- zoning layers -------------------------------------------------------------------------


def noise_buffer(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Distance in m to the nearest residential zone.

    From the ``residential`` layer, else the ``zoning`` layer, else ``landuse``.
    """
    layer = next(
        (x for x in (context.residential, context.zoning, context.landuse) if x is not None), None
    )
    if layer is None:
        return CriterionResult.no_data("missing_layers", layers="residential")
    return CriterionResult(
        raw=plots.series(zon.distance_to_residential(plots.frame, layer).to_numpy())
    )


# --- accessibility -------------------------------------------------------------------------


def _network_distance(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig, targets: gpd.GeoDataFrame
) -> CriterionResult:
    dist, fallback = nearest_distance(
        plots.frame, plots.anchors, context.network, targets, circuity=_circuity(crit)
    )
    return CriterionResult(raw=plots.series(dist), fallback=fallback)


def motorway(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """Network distance in m to the nearest motorway junction (straight × circuity without
    a network, flagged)."""
    return _network_distance(plots, context, crit, _layer(context, "motorway_junctions"))


def main_road(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """Straight-line distance in m to the nearest road for heavy goods vehicles."""
    dist = acc.distance_to_lines(plots.frame, _layer(context, "main_roads"))
    return CriterionResult(raw=plots.series(dist.to_numpy(dtype=float)))


def cycling(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """Straight-line distance in m to the base cycling network."""
    dist = acc.distance_to_lines(plots.frame, _layer(context, "cycling"))
    return CriterionResult(raw=plots.series(dist.to_numpy(dtype=float)))


def transit(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """Walk in m to the nearest stop, with the stop category for the service factor.

    Over the network with :func:`~handwerkgeo.criteria.accessibility.transit_access`
    (also ``aux_transit_class`` and ``aux_stops_within_800m``); without a network straight
    line × circuity, flagged.
    """
    stops = _layer(context, "stops")
    circuity = _circuity(crit)
    aux: dict[str, np.ndarray] = {}
    if context.network is not None:
        res = acc.transit_access(plots.anchors, context.network, stops, circuity=circuity)
        raw = res["stop_walk_m"].to_numpy(dtype=float)
        fallback = res["fallback"].to_numpy(dtype=bool)
        if "stop_category_nearest" in res:
            aux["aux_transit_stop_category"] = pd.to_numeric(
                res["stop_category_nearest"], errors="coerce"
            ).to_numpy(dtype=float)
        for extra in ("transit_class", "stops_within_800m"):
            if extra in res:
                aux[f"aux_{extra}"] = res[extra].to_numpy()
    else:
        dist, pos = straight_nearest(plots.frame, stops)
        raw = dist * circuity
        fallback = np.isfinite(dist)
        if "stop_category" in stops.columns:
            cats = pd.to_numeric(stops["stop_category"], errors="coerce").to_numpy(float)
            aux["aux_transit_stop_category"] = np.where(pos >= 0, cats[pos], np.nan)
    return CriterionResult(raw=plots.series(raw), fallback=fallback, aux=aux)


def _population_layer(context: ScoringContext) -> tuple[gpd.GeoDataFrame, str]:
    pop = _layer(context, "population")
    col = next((c for c in ("population", "einwohner", "persons") if c in pop.columns), None)
    if col is None:
        msg = (
            f"the population layer has no 'population' column (columns: {list(pop.columns)}); "
            "use sources.statistics.read_stadtteil_population"
        )
        raise MissingColumnError(msg)
    if not isinstance(pop, gpd.GeoDataFrame) or pop.geometry.name not in pop.columns:
        if context.stadtteile is None or "stadtteil_code" not in pop.columns:
            msg = "population without geometry needs stadtteil_code and the Stadtteile layer"
            raise MissingColumnError(msg)
        pop = context.stadtteile[["stadtteil_code", "geometry"]].merge(
            pd.DataFrame(pop)[["stadtteil_code", col]], on="stadtteil_code", how="inner"
        )
    return pop, col


def customer_potential(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Gravity potential of residents, normalised to the city-wide maximum.

    The maximum is taken over the population points themselves (the best Stadtteil
    centre), not over this batch of plots: scores of different batches stay comparable.
    """
    pop, col = _population_layer(context)
    half = float(crit.params.get("half_distance_m", 3000.0))
    fn = acc.customer_potential
    centres = gpd.GeoDataFrame(geometry=pop.geometry.centroid.to_numpy(), crs=pop.crs)
    ref = float(np.nanmax(fn(centres, pop, pop_col=col, half_distance_m=half, normalise=False)))
    res = fn(
        plots.anchors, pop, pop_col=col, half_distance_m=half, normalise=ref if ref > 0 else True
    )
    return CriterionResult(raw=plots.series(np.asarray(res, dtype=float)))


# --- quarter mix ---------------------------------------------------------------------------


def landuse_mix(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Land-use mix (normalised Shannon or Gini-Simpson) around the plot or in its Bezirk."""
    has_poly = context.landuse is not None
    has_bez = context.bezirke is not None and context.bezirk_shares is not None
    if not (has_poly or has_bez):
        return CriterionResult.no_data("missing_layers", layers="landuse")
    res = mix.landuse_mix(
        plots.frame,
        context.landuse,
        radius_m=float(crit.params.get("radius_m", 800.0)),
        bezirke=context.bezirke,
        bezirk_shares=context.bezirk_shares,
        # shared with jobs–housing and social mix; otherwise landuse_mix looks the
        # Bezirke up only for plots without land-use polygons around them
        bezirk_codes=plots.bezirk_codes if has_bez and plots.share_bezirke else None,
    )
    col = "mix_gini_simpson" if crit.params.get("index") == "gini_simpson" else "mix_shannon"
    return CriterionResult(
        raw=plots.series(res[col].to_numpy()),
        aux={"aux_mix_source": res["mix_source"].to_numpy()},
    )


def jobs_housing(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Commercial to residential land of the Stadtbezirk relative to the city."""
    raw = mix.jobs_housing_ratio(
        plots.frame, bezirk_shares=context.bezirk_shares, bezirk_codes=plots.bezirk_codes
    )
    return CriterionResult(raw=plots.series(raw.to_numpy()))


def social_mix(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """SGB II share of the Stadtbezirk relative to the city."""
    raw = mix.social_indicator(
        plots.frame, bezirk_indicators=context.bezirk_indicators, bezirk_codes=plots.bezirk_codes
    )
    return CriterionResult(raw=plots.series(raw.to_numpy()))


# --- utility hooks -------------------------------------------------------------------------


def noise_buffer_utility(
    u: np.ndarray, x: np.ndarray, raw: pd.DataFrame, crit: CriterionConfig, config: ScoringConfig
) -> np.ndarray:
    """Utility by zone: ``breakpoints_by_zone`` replace the breakpoints in those zones."""
    if not crit.breakpoints_by_zone or "zone_category" not in raw:
        return u
    zones = raw["zone_category"].to_numpy(dtype=object)
    for zone, bp in crit.breakpoints_by_zone.items():
        m = zones == zone
        if m.any():
            u[m] = utility(x[m], bp)
    return u


def social_mix_utility(
    u: np.ndarray, x: np.ndarray, raw: pd.DataFrame, crit: CriterionConfig, config: ScoringConfig
) -> np.ndarray:
    """``favour_low_sgb2`` mirrors the utility (``1 - u``)."""
    return 1.0 - u if config.social_mix_policy == "favour_low_sgb2" else u


def transit_utility(
    u: np.ndarray, x: np.ndarray, raw: pd.DataFrame, crit: CriterionConfig, config: ScoringConfig
) -> np.ndarray:
    """Scale by ``params.service_factors`` of the nearest stop's category."""
    factors = crit.params.get("service_factors")
    if "aux_transit_stop_category" not in raw or not factors:
        return u
    cat = as_float(raw["aux_transit_stop_category"])
    f = np.ones(len(raw))
    for key, factor in factors.items():
        f[cat == float(key)] = float(factor)
    return u * f
