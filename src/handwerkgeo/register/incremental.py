"""Scoring a register run: only new and changed plots when the stored criteria still hold.

An ``add`` run computes the raw criteria of the new and changed plots (and of a few
unchanged ones, to check that the engine's criteria do not depend on the batch), reuses
the stored criteria of the other plots, and ranks all plots together. When anything does
not fit, every plot is computed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo.errors import ConfigError
from handwerkgeo.register.listing import geom_name
from handwerkgeo.register.storage import PLOT_META
from handwerkgeo.scale import DaskOptions, compute_raw_dask
from handwerkgeo.scorer import Scorer, with_plots

__all__ = ["current_versions", "same_values", "score_columns", "score_run", "scoring_input"]

logger = logging.getLogger(__name__)

#: Unchanged plots recomputed in an incremental run to check that stored criteria still hold.
_N_CHECK = 3


def current_versions(plots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The current (``active``) version of each plot of the register's plots layer."""
    return plots.loc[plots["active"].astype(bool)]


def scoring_input(versions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plots as the engine sees them: register columns dropped, sorted by plot_id."""
    out = versions.drop(columns=[c for c in PLOT_META if c in versions.columns])
    out = out.sort_values("plot_id", kind="stable").reset_index(drop=True)
    keep = [c for c in out.columns if c in ("plot_id", out.geometry.name) or out[c].notna().any()]
    return out[keep]


def score_columns(scored: pd.DataFrame, plot_cols: list[str]) -> list[str]:
    """Columns of a scored frame stored in the ``scores`` layer: all but plot attributes."""
    geom = geom_name(scored)
    return [c for c in scored.columns if c != geom and (c not in plot_cols or c == "plot_id")]


def _compute(
    scorer: Scorer,
    plots: gpd.GeoDataFrame,
    config: Any,
    context: Any,
    *,
    engine: str,
    dask: DaskOptions,
) -> pd.DataFrame:
    if scorer.compute_raw is None:
        msg = "this scorer cannot compute raw criteria separately; pass a split Scorer"
        raise ConfigError(msg)
    if engine == "dask":
        raw = compute_raw_dask(plots, config, context=context, scorer=scorer, options=dask)
    else:
        raw = scorer.compute_raw(plots, context, config)
    return with_plots(plots, raw)


def score_run(
    scorer: Scorer,
    plots: gpd.GeoDataFrame,
    config: Any,
    *,
    context_fn: Callable[[], Any],
    to_compute: set[str] | None,
    previous_scores: pd.DataFrame | None,
    engine: str,
    dask: DaskOptions,
) -> tuple[gpd.GeoDataFrame, int]:
    """Score ``plots``; compute criteria only for the ``to_compute`` ids when possible.

    Returns the scored frame and the number of plots whose criteria were computed.
    """
    score_raw = scorer.score_raw
    if score_raw is None or scorer.compute_raw is None:
        if engine == "dask":
            msg = "engine='dask' needs a Scorer with compute_raw and score_raw"
            raise ConfigError(msg)
        return scorer.score(plots, config, context_fn()), len(plots)

    def compute(subset: gpd.GeoDataFrame) -> pd.DataFrame:
        return _compute(scorer, subset, config, context_fn(), engine=engine, dask=dask)

    if to_compute is not None and previous_scores is not None and len(to_compute) < len(plots):
        todo = plots["plot_id"].isin(to_compute).to_numpy()
        prev = previous_scores.set_index("plot_id")
        old_ids = plots.loc[~todo, "plot_id"].to_numpy()
        # recompute a few unchanged plots with the new ones: their stored criteria must come
        # out the same, else the engine's criteria depend on the batch and all are computed
        spread = np.unique(np.linspace(0, len(old_ids) - 1, num=min(_N_CHECK, len(old_ids))))
        check = plots["plot_id"].isin(np.sort(old_ids)[spread.astype(int)]).to_numpy()
        raw_new = compute(plots.loc[todo | check])
        raw_cols = [c for c in raw_new.columns if c not in plots.columns]
        if set(raw_cols) <= set(prev.columns) and pd.Index(old_ids).isin(prev.index).all():
            checked = raw_new.loc[check[todo | check]]
            drift = [
                c
                for c in raw_cols
                if not same_values(checked[c], prev.loc[checked["plot_id"].to_numpy(), c])
            ]
            if not drift:
                reused = plots.loc[~todo].copy()
                for c in raw_cols:
                    reused[c] = pd.array(prev.loc[old_ids, c].to_numpy(), dtype=raw_new[c].dtype)
                raw = pd.concat([raw_new.loc[~check[todo | check]], reused]).loc[plots.index]
                logger.info(
                    "computed criteria for %d new or changed plot(s), reused them for %d",
                    int(todo.sum()),
                    len(old_ids),
                )
                return score_raw(raw, config), int(todo.sum())
            logger.warning(
                "criteria %s of the scoring engine change with the set of plots scored "
                "together (e.g. normalised by the batch maximum), so stored values cannot be "
                "reused: computing criteria for every plot",
                ", ".join(drift),
            )
        else:
            logger.info("stored raw criteria incomplete; computing criteria for every plot")
    return score_raw(compute(plots), config), len(plots)


def same_values(a: pd.Series, b: pd.Series) -> bool:
    """Whether two columns of criteria values agree (NaN equals NaN)."""
    x, y = np.asarray(a), np.asarray(b)
    if x.dtype.kind in "fiub" and y.dtype.kind in "fiub":
        return bool(
            np.allclose(x.astype(float), y.astype(float), rtol=1e-9, atol=0, equal_nan=True)
        )
    return bool(
        (
            pd.Series(x).fillna("").astype(str).to_numpy()
            == pd.Series(y).fillna("").astype(str).to_numpy()
        ).all()
    )
