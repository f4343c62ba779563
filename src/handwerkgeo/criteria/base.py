"""The contract every criterion follows: its inputs, its result and its registry entry.

A criterion is one module-level function with one signature::

    def transit(plots: PlotInputs, context: ScoringContext, crit: CriterionConfig)
        -> CriterionResult

``plots`` bundles the plots frame with the per-run inputs that several criteria share and
that are computed once (:class:`PlotInputs`: plot area, zone category, representative
points, the plot → Stadtbezirk lookup); ``crit`` is the criterion's entry of the scoring
configuration (weight, utility, ``params``, and for generic criteria ``layer`` and
``filter``). The function returns a :class:`CriterionResult`: the raw values on
``plots.index`` (physical units or categories; NaN = no data), optional straight-line
fallback flags and helper (``aux_*``) columns, or a "no data" reason *code* that
:func:`handwerkgeo.messages.message` turns into a sentence.

:class:`CriterionSpec` is the registry entry (see :mod:`handwerkgeo.criteria.registry`):
the function, the context layers it needs, its kind (continuous or categorical) and an
optional utility hook for criteria whose utility depends on more than their raw value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.criteria import mix
from handwerkgeo.messages import message

if TYPE_CHECKING:
    from handwerkgeo.config import CriterionConfig, ScoringConfig
    from handwerkgeo.context import ScoringContext

__all__ = [
    "CriterionFunction",
    "CriterionResult",
    "CriterionSpec",
    "PlotInputs",
    "UtilityHook",
]


@dataclass(frozen=True)
class CriterionResult:
    """What a criterion function returns.

    Attributes
    ----------
    raw
        Raw values on ``plots.index`` (``raw_<name>``); ``None`` when there is no data at
        all (the column is then NaN).
    fallback
        Per plot: True where a network distance was replaced by straight line × circuity
        (``fallback_<name>``); ``None`` for criteria that never fall back.
    aux
        Helper columns (name → values on ``plots.index``), written as given (names start
        with ``aux_``); e.g. the stop category the transit utility scales with.
    missing
        Reason code (a key of :data:`handwerkgeo.messages.MESSAGES`) why the criterion has
        no data for any plot, or ``None``.
    missing_values
        Values filling the reason's template (e.g. ``layers="stops"``).

    Examples
    --------
    >>> r = CriterionResult.no_data("missing_layers", layers="stops")
    >>> r.reason("en")
    'no data: layer(s) stops not in the scoring context'
    """

    raw: pd.Series | None = None
    fallback: np.ndarray | None = None
    aux: Mapping[str, Any] = field(default_factory=dict)
    missing: str | None = None
    missing_values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def no_data(cls, code: str, *, raw: pd.Series | None = None, **values: Any) -> CriterionResult:
        """A result without data (``raw`` may still hold an all-NaN column), with its reason."""
        return cls(raw=raw, missing=code, missing_values=values)

    def reason(self, lang: str = "en") -> str | None:
        """The "no data" sentence in ``lang``, or ``None`` when the criterion has data."""
        if self.missing is None:
            return None
        return message(self.missing, lang, **self.missing_values)


class PlotInputs:
    """The plots of one run with the inputs several criteria share, computed once.

    Parameters
    ----------
    frame
        Plots in EPSG:25832 (not modified).
    area_m2
        Plot area (:func:`handwerkgeo.criteria.geometry.plot_area`).
    zones
        ``zone_category`` and ``zone_source`` per plot
        (:func:`handwerkgeo.criteria.zoning.zoning_suitability`).
    bezirke
        Stadtbezirk polygons for :attr:`bezirk_codes` (``None`` when the context has none).
    share_bezirke
        Whether the Bezirk lookup is shared by several criteria (then the land-use mix uses
        it too instead of looking up only the plots without land-use polygons around).
    """

    def __init__(
        self,
        frame: gpd.GeoDataFrame,
        *,
        area_m2: pd.Series,
        zones: pd.DataFrame,
        bezirke: gpd.GeoDataFrame | None = None,
        share_bezirke: bool = False,
    ) -> None:
        self.frame = frame
        self.area_m2 = area_m2
        self.zone_category: pd.Series = zones["zone_category"].astype("str")
        self.zone_source: pd.Series = zones["zone_source"].astype("str")
        self.share_bezirke = share_bezirke
        self._bezirke = bezirke

    @property
    def index(self) -> pd.Index:
        """``frame.index``: every result is aligned on it."""
        return self.frame.index

    def series(self, values: object, *, dtype: Any = None) -> pd.Series:
        """``values`` as a Series on :attr:`index`."""
        return pd.Series(values, index=self.frame.index, dtype=dtype)

    @cached_property
    def anchors(self) -> gpd.GeoDataFrame:
        """The point each point-based criterion measures from.

        The representative point of a polygon; points, missing and empty geometries as
        given. Computed once for all criteria.
        """
        geoms = np.asarray(self.frame.geometry.array)
        pts = geoms.copy()
        poly = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        poly &= shapely.get_type_id(geoms) != 0
        pts[poly] = shapely.point_on_surface(geoms[poly])
        return gpd.GeoDataFrame(geometry=pts, index=self.frame.index, crs=self.frame.crs)

    @cached_property
    def bezirk_codes(self) -> pd.Series:
        """The Stadtbezirk of every plot, looked up once for all Bezirk criteria."""
        return mix.plot_bezirk(self.frame, self._bezirke)


#: A criterion function: ``(plots, context, crit) -> CriterionResult``.
CriterionFunction = Callable[["PlotInputs", "ScoringContext", "CriterionConfig"], CriterionResult]

#: A utility hook: ``(u, x, raw, crit, config) -> u`` adjusts the utilities ``u`` that the
#: breakpoints gave for the raw values ``x`` (columns of ``raw`` such as ``zone_category``
#: or ``aux_*`` are at hand).
UtilityHook = Callable[
    [np.ndarray, np.ndarray, pd.DataFrame, "CriterionConfig", "ScoringConfig"], np.ndarray
]


@dataclass(frozen=True)
class CriterionSpec:
    """A registry entry: how to compute one criterion and how to read its utility.

    Attributes
    ----------
    name
        Criterion name (the key in the configuration and of ``raw_<name>``).
    compute
        The criterion function.
    layers
        Context layers the criterion needs, all of them; when one is missing the engine
        reports "no data" without calling ``compute``.
    optional_layers
        Layers it uses when present (alternatives, or refinements).
    kind
        ``"continuous"`` (utility from breakpoints) or ``"categorical"`` (from a table).
    utility
        Optional hook adjusting the breakpoint utility (noise buffer by zone, social-mix
        policy, transit service level).
    lower_categories
        Compare categories lower-cased with the table (owner categories).
    """

    name: str
    compute: CriterionFunction
    layers: tuple[str, ...] = ()
    optional_layers: tuple[str, ...] = ()
    kind: Literal["continuous", "categorical"] = "continuous"
    utility: UtilityHook | None = None
    lower_categories: bool = False
