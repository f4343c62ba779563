"""The scoring engine as an injectable object: what the register and the Dask engine call.

:class:`Scorer` bundles the scoring functions (by default those of
:mod:`handwerkgeo.scoring`), so that :mod:`handwerkgeo.register` and :mod:`handwerkgeo.scale`
can score with handwerkgeo's engine or with a test double, without importing each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from handwerkgeo.errors import ConfigError

__all__ = ["Scorer", "ScorerLike", "resolve_scorer", "with_plots"]


# The engine's modules are imported on first use: a register scored by another Scorer (or a
# test double) never loads them.


def _default_load_config(path: str | os.PathLike[str] | None) -> Any:
    from handwerkgeo.config import load_config

    return load_config(path)


def _default_load_context(data_dir: str | os.PathLike[str] | None) -> Any:
    from handwerkgeo.context import load_context

    return load_context(data_dir)


def with_plots(plots: gpd.GeoDataFrame, raw: pd.DataFrame) -> gpd.GeoDataFrame:
    """The raw table with the plot columns, whether or not ``compute_raw`` returned them.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> plots = gpd.GeoDataFrame({"plot_id": ["a"]}, geometry=[Point(0, 0)])
    >>> list(with_plots(plots, pd.DataFrame({"raw_x": [1.0]})).columns)
    ['plot_id', 'geometry', 'raw_x']
    """
    if "plot_id" in raw.columns and "geometry" in raw.columns:
        return raw
    extra = [c for c in raw.columns if c not in plots.columns]
    return plots.join(raw[extra])


@dataclass(frozen=True)
class Scorer:
    """The scoring functions the register calls; :meth:`default` is handwerkgeo's engine.

    Either ``compute_raw`` and ``score_raw`` are given (then ``add`` computes criteria only
    for new and changed plots and re-ranks all plots globally with ``score_raw``), or only
    ``score_plots`` (then every run scores every plot).

    Attributes
    ----------
    compute_raw
        ``compute_raw(plots, context, config) -> DataFrame``: the plots with their raw
        criteria columns (``raw_<k>``, optional ``fallback_<k>``), aligned on the index.
    score_raw
        ``score_raw(raw, config) -> GeoDataFrame``: the scored frame (utilities,
        contributions, exclusions and global ranks) of the raw table.
    score_plots
        ``score_plots(plots, config, context=...) -> GeoDataFrame``; derived from the two
        above when not given.
    load_config
        ``load_config(path_or_None)`` → a configuration with ``.hash`` and ``.to_yaml()``.
    load_context
        ``load_context(data_dir_or_None)`` → the scoring context (network, layers).
    """

    compute_raw: Callable[[gpd.GeoDataFrame, Any, Any], pd.DataFrame] | None = None
    score_raw: Callable[[pd.DataFrame, Any], gpd.GeoDataFrame] | None = None
    score_plots: Callable[..., gpd.GeoDataFrame] | None = None
    load_config: Callable[[Any], Any] = _default_load_config
    load_context: Callable[[Any], Any] = _default_load_context

    @classmethod
    def default(cls) -> Scorer:
        """handwerkgeo's own engine (:mod:`handwerkgeo.scoring`), imported now."""
        from handwerkgeo import scoring

        return cls(
            compute_raw=scoring.compute_raw,
            score_raw=scoring.score_raw,
            score_plots=scoring.score_plots,
        )

    @property
    def incremental(self) -> bool:
        """Whether criteria can be computed for some plots and ranked with the others."""
        return self.compute_raw is not None and self.score_raw is not None

    def score(self, plots: gpd.GeoDataFrame, config: Any, context: Any) -> gpd.GeoDataFrame:
        """Score ``plots`` completely (single process)."""
        if self.score_plots is not None:
            return self.score_plots(plots, config, context=context)
        if self.compute_raw is None or self.score_raw is None:
            msg = "a Scorer needs compute_raw and score_raw, or score_plots"
            raise ConfigError(msg)
        return self.score_raw(with_plots(plots, self.compute_raw(plots, context, config)), config)


#: What the register and the Dask engine accept as ``scorer=``: a :class:`Scorer`, a
#: ``score_plots``-like callable, or ``None`` for handwerkgeo's engine.
ScorerLike = Scorer | Callable[..., gpd.GeoDataFrame] | None


def resolve_scorer(scorer: ScorerLike) -> Scorer:
    """``scorer`` as a :class:`Scorer`: ``None`` is the default engine, a callable is
    ``score_plots``.

    Raises
    ------
    ConfigError
        If ``scorer`` is neither (a ``ValueError``).
    """
    if scorer is None:
        return Scorer.default()
    if isinstance(scorer, Scorer):
        return scorer
    if callable(scorer):
        return Scorer(score_plots=scorer)
    msg = f"scorer must be a handwerkgeo.scorer.Scorer or a callable, not {type(scorer)!r}"
    raise ConfigError(msg)
