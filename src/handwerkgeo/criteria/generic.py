"""Generic criteria: defined in the configuration alone, over any layer of the context.

A configuration entry with ``kind:`` is computed by one of the functions here, registered
in :data:`GENERIC_KINDS`; no code is needed for a new criterion of these kinds:

``network_distance``
    Walking network distance in m from the plot's representative point to the nearest
    feature of ``layer`` (``params``: ``circuity`` 1.3, ``max_snap_m`` 500); plots off the
    network, and every plot when the context has no network, get straight line ×
    circuity, flagged in ``fallback_<name>``.
``count_within``
    Number of features of ``layer`` within ``params.radius_m`` over the network
    (straight line × circuity ≤ radius without a network, flagged).
``overlap_share``
    Share 0..1 of the plot area inside the polygons of ``layer`` (points: 0 or 1).
``attribute``
    A plot column (``params.column``) read through the criterion's ``table``
    (categories) or ``breakpoints`` (numbers).

``filter:`` keeps the features of ``layer`` whose column equals a value or one of a list
(compared as text), e.g. ``filter: {form: Berufskolleg}``.

Examples
--------
A YAML entry (see ``docs/design.md``, "Criterion registry")::

    apprentice_access:
      kind: network_distance
      layer: schools
      filter: {form: Berufskolleg}
      weight: 4
      breakpoints: [[1000, 1.0], [3000, 0.3], [5000, 0.0]]
      ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo import network as nw
from handwerkgeo.criteria._common import DEFAULT_CIRCUITY, nearest_distance, overlap_share
from handwerkgeo.criteria.base import CriterionFunction, CriterionResult, PlotInputs
from handwerkgeo.errors import MissingColumnError

if TYPE_CHECKING:
    from handwerkgeo.config import CriterionConfig
    from handwerkgeo.context import ScoringContext

__all__ = [
    "GENERIC_KINDS",
    "attribute",
    "count_within",
    "filtered_layer",
    "network_distance",
    "overlap_share_of",
]


def filtered_layer(
    layer: gpd.GeoDataFrame, filters: Mapping[str, Any] | None, *, name: str = "layer"
) -> gpd.GeoDataFrame:
    """The features of ``layer`` whose columns match ``filters`` (value or list of values).

    Values are compared as text after stripping spaces, so ``1700`` matches ``"1700"``.

    Raises
    ------
    MissingColumnError
        If a filter names a column the layer does not have.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> schools = gpd.GeoDataFrame(
    ...     {"form": ["Berufskolleg", "Grundschule", "Gymnasium"]},
    ...     geometry=[Point(0, 0), Point(1, 0), Point(2, 0)], crs="EPSG:25832")
    >>> filtered_layer(schools, {"form": "Berufskolleg"})["form"].tolist()
    ['Berufskolleg']
    >>> len(filtered_layer(schools, {"form": ["Grundschule", "Gymnasium"]}))
    2
    """
    if not filters:
        return layer
    keep = np.ones(len(layer), dtype=bool)
    for column, wanted in filters.items():
        if column not in layer.columns:
            msg = (
                f"filter of {name}: the layer has no column {column!r} "
                f"(columns: {[c for c in layer.columns if c != layer.geometry.name]})"
            )
            raise MissingColumnError(msg)
        values = wanted if isinstance(wanted, list | tuple) else [wanted]
        text = layer[column].astype("string").str.strip()
        keep &= text.isin([str(v).strip() for v in values]).fillna(False).to_numpy(dtype=bool)
    return layer[keep]


def _targets(
    context: ScoringContext, crit: CriterionConfig
) -> tuple[gpd.GeoDataFrame | None, CriterionResult | None]:
    name = str(crit.layer)
    layer = context.layer(name)
    if layer is None:
        return None, CriterionResult.no_data("missing_layers", layers=name)
    targets = filtered_layer(layer, crit.filter, name=f"layer {name}")
    usable = targets.geometry.notna() & ~targets.geometry.is_empty
    if not usable.any():
        return None, CriterionResult.no_data(
            "no_matching_features", layer=name, filter=dict(crit.filter or {})
        )
    return targets[usable], None


def network_distance(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Walking network distance in m to the nearest feature of ``crit.layer``."""
    targets, missing = _targets(context, crit)
    if targets is None:
        return missing or CriterionResult.no_data("missing_layers", layers=str(crit.layer))
    dist, fallback = nearest_distance(
        plots.frame,
        plots.anchors,
        context.network,
        targets,
        circuity=float(crit.params.get("circuity", DEFAULT_CIRCUITY)),
        max_snap_m=float(crit.params.get("max_snap_m", 500.0)),
    )
    return CriterionResult(raw=plots.series(dist), fallback=fallback)


def count_within(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Number of features of ``crit.layer`` within ``params.radius_m`` over the network."""
    targets, missing = _targets(context, crit)
    if targets is None:
        return missing or CriterionResult.no_data("missing_layers", layers=str(crit.layer))
    radius = float(crit.params["radius_m"])
    circuity = float(crit.params.get("circuity", DEFAULT_CIRCUITY))
    if context.network is not None:
        res = nw.count_within(
            context.network,
            plots.anchors,
            targets,
            radius_m=radius,
            max_snap_m=float(crit.params.get("max_snap_m", 500.0)),
            circuity=circuity,
        )
        return CriterionResult(
            raw=plots.series(res["count"].to_numpy(dtype=float)),
            fallback=res["fallback"].to_numpy(dtype=bool),
        )
    anchors = plots.anchors
    ok = (anchors.geometry.notna() & ~anchors.geometry.is_empty).to_numpy()
    counts = np.full(len(anchors), np.nan)
    counts[ok] = 0.0
    if ok.any():
        pairs = targets.sindex.query(
            anchors.geometry[ok].to_numpy(), predicate="dwithin", distance=radius / circuity
        )
        np.add.at(counts, np.flatnonzero(ok)[pairs[0]], 1.0)
    return CriterionResult(raw=plots.series(counts), fallback=ok.copy())


def overlap_share_of(
    plots: PlotInputs, context: ScoringContext, crit: CriterionConfig
) -> CriterionResult:
    """Share 0..1 of the plot area inside the polygons of ``crit.layer``."""
    targets, missing = _targets(context, crit)
    if targets is None:
        return missing or CriterionResult.no_data("missing_layers", layers=str(crit.layer))
    share = overlap_share(plots.frame, targets)
    empty = (plots.frame.geometry.isna() | plots.frame.geometry.is_empty).to_numpy()
    return CriterionResult(raw=plots.series(np.where(empty, np.nan, share)))


def attribute(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig) -> CriterionResult:
    """The plot column ``params.column``: categories for a ``table``, else numbers."""
    column = str(crit.params["column"])
    if column not in plots.frame.columns:
        return CriterionResult.no_data("missing_plot_column", column=column)
    values = plots.frame[column]
    if crit.table is not None:
        return CriterionResult(raw=plots.series(values.to_numpy(dtype=object)))
    return CriterionResult(raw=pd.to_numeric(values, errors="coerce").astype(float))


#: Generic kinds: name → criterion function.
GENERIC_KINDS: dict[str, CriterionFunction] = {
    "network_distance": network_distance,
    "count_within": count_within,
    "overlap_share": overlap_share_of,
    "attribute": attribute,
}
