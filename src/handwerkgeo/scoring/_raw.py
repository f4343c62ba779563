"""Raw criterion values: one loop over the active criteria of the registry."""

from __future__ import annotations

import logging
import sys
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._ids import plot_ids
from handwerkgeo.config import ScoringConfig, default_config
from handwerkgeo.context import ScoringContext
from handwerkgeo.criteria import geometry as geo
from handwerkgeo.criteria import zoning as zon
from handwerkgeo.criteria._common import overlap_share
from handwerkgeo.criteria.base import CriterionResult, PlotInputs
from handwerkgeo.criteria.registry import criterion_spec
from handwerkgeo.crs import check_crs

__all__ = ["compute_raw"]

logger = logging.getLogger(__name__)

#: Criteria that look up the Stadtbezirk of every plot.
_BEZIRK_CRITERIA = frozenset({"jobs_housing", "social_mix"})


def _plot_inputs(
    plots: gpd.GeoDataFrame, context: ScoringContext, config: ScoringConfig
) -> PlotInputs:
    """The per-run inputs every criterion may share: area, zones, points, Bezirke."""
    table = config.criteria["zoning"].table if "zoning" in config.criteria else {}
    return PlotInputs(
        plots,
        area_m2=geo.plot_area(plots),
        zones=zon.zoning_suitability(plots, context.zoning, table=table or {}),
        bezirke=context.bezirke,
        share_bezirke=bool(_BEZIRK_CRITERIA & set(config.active_criteria())),
    )


def _evaluate(
    name: str, inputs: PlotInputs, context: ScoringContext, config: ScoringConfig
) -> CriterionResult:
    """Run one criterion, or report the layers it needs that the context lacks."""
    crit = config.criteria[name]
    spec = criterion_spec(name, crit)
    absent = [layer for layer in spec.layers if context.layer(layer) is None]
    if absent:
        return CriterionResult.no_data("missing_layers", layers=", ".join(absent))
    return spec.compute(inputs, context, crit)


def _store(out: pd.DataFrame, name: str, result: CriterionResult) -> None:
    """Write a criterion's raw values, fallback flags and helper columns into ``out``."""
    out[f"raw_{name}"] = result.raw if result.raw is not None else np.nan
    if result.fallback is not None:
        out[f"fallback_{name}"] = np.asarray(result.fallback, dtype=bool)
    for col, values in result.aux.items():
        out[col] = values


def _progress(items: list[str]) -> Any:
    """A progress bar over ``items`` (the notebook widget under IPython, like ``tqdm.auto``)."""
    if "IPython" in sys.modules:  # tqdm.auto: ~15 ms more to import; a widget only there
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(items, desc="criteria", unit="criterion")


def compute_raw(
    plots: gpd.GeoDataFrame,
    context: ScoringContext | None = None,
    config: ScoringConfig | None = None,
    *,
    show_progress: bool = False,
) -> pd.DataFrame:
    """Raw criterion values of every plot from the layers the context holds.

    A loop over the active criteria of ``config``: each is computed by its registry entry
    (:func:`handwerkgeo.criteria.registry.criterion_spec`, built-in or generic ``kind``)
    from one shared :class:`~handwerkgeo.criteria.base.PlotInputs`. Criteria whose data is
    not in the context get a NaN column; the reason is in ``attrs["missing_reasons"]``
    (``{criterion: reason}``, English) and ``attrs["missing_codes"]`` (``{criterion:
    reason code}``, see :mod:`handwerkgeo.messages`), and shows in the scored frame's
    ``missing_criteria``. Network distances fall back to straight line × circuity where
    the context has no network (``fallback_<k>`` is then True).

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (``plot_id``, geometry, ``area_m2``; optional ``zoning``,
        ``owner``, ``land_value_eur_m2``, ``brownfield``). Not modified.
    context
        Data layers (:func:`~handwerkgeo.context.load_context`); default an empty context
        (criteria from plot geometry and attributes only).
    config
        Which criteria are active and their parameters; default the packaged default.
    show_progress
        Show a progress bar over the criteria.

    Returns
    -------
    pandas.DataFrame
        On ``plots.index``: ``plot_id``, ``area_m2``, ``zone_category``, ``zone_source``,
        ``raw_<k>`` per active criterion, ``fallback_<k>`` for network criteria,
        ``aux_*`` helper columns, ``overlap_protected`` / ``overlap_flood`` when such layers
        are given.
    """
    check_crs(plots, name="plots")
    config = config or default_config()
    ctx = context if context is not None else ScoringContext()
    inputs = _plot_inputs(plots, ctx, config)
    out = pd.DataFrame(index=plots.index)
    out["plot_id"] = plot_ids(plots)
    out["area_m2"] = inputs.area_m2
    out["zone_category"] = inputs.zone_category
    out["zone_source"] = inputs.zone_source
    missing: dict[str, str] = {}
    codes: dict[str, str] = {}
    iterator: Any = list(config.active_criteria())
    if show_progress:
        iterator = _progress(iterator)
    for name in iterator:
        result = _evaluate(name, inputs, ctx, config)
        _store(out, name, result)
        if result.missing is not None:
            missing[name] = str(result.reason("en"))
            codes[name] = result.missing
        n_data = int(pd.notna(out[f"raw_{name}"]).sum())
        logger.info("criterion %s: data for %d of %d plot(s)", name, n_data, len(out))
    if ctx.protected_areas is not None:
        out["overlap_protected"] = overlap_share(plots, ctx.protected_areas)
    if ctx.flood_areas is not None:
        out["overlap_flood"] = overlap_share(plots, ctx.flood_areas)
    out.attrs["missing_reasons"] = missing
    out.attrs["missing_codes"] = codes
    out.attrs["sources"] = list(ctx.sources)
    for name, reason in missing.items():
        logger.info("criterion %s: %s", name, reason)
    return out
