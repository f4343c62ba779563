"""Scoring a register run: only new and changed plots when the stored scores still hold.

An ``add`` run scores the new and changed plots (and a few unchanged ones, to check that
the engine's criteria and utilities do not depend on the batch); the other plots keep
their stored rows and all plots are ranked together. When anything does not fit, every
plot is scored again.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo import settings
from handwerkgeo.boundary import CityBoundary
from handwerkgeo.crs import CRS
from handwerkgeo.errors import ConfigError, HandwerkgeoError
from handwerkgeo.register._state import (
    current_plots,
    latest_rows,
    rank_rows,
    reader,
    sample_ids,
    state_ranks,
)
from handwerkgeo.register.listing import geom_name
from handwerkgeo.register.storage import PLOT_META, Register
from handwerkgeo.scale import DaskOptions, compute_raw_dask
from handwerkgeo.scorer import Scorer, with_plots
from handwerkgeo.sources.plots import PlotReaderOptions

__all__ = [
    "Changes",
    "Engine",
    "Scored",
    "check_sample",
    "current_versions",
    "listing_reader",
    "rank_rows",
    "same_values",
    "score_all",
    "score_changes",
    "score_columns",
    "score_fresh",
    "scoring_input",
]

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


def score_all(
    scorer: Scorer,
    plots: gpd.GeoDataFrame,
    config: Any,
    *,
    context_fn: Callable[[], Any],
    engine: str,
    dask: DaskOptions,
) -> gpd.GeoDataFrame:
    """Score every plot of ``plots`` (criteria computed for all, ranked together)."""
    if scorer.score_raw is None or scorer.compute_raw is None:
        if engine == "dask":
            msg = "engine='dask' needs a Scorer with compute_raw and score_raw"
            raise ConfigError(msg)
        return scorer.score(plots, config, context_fn())
    raw = _compute(scorer, plots, config, context_fn(), engine=engine, dask=dask)
    return scorer.score_raw(raw, config)


def score_fresh(
    scorer: Scorer,
    versions: gpd.GeoDataFrame,
    check_ids: list[str],
    previous: pd.DataFrame,
    config: Any,
    *,
    context_fn: Callable[[], Any],
    engine: str,
    dask: DaskOptions,
) -> gpd.GeoDataFrame | None:
    """Score new and changed plots alone; ``None`` when that is not the same as in full.

    ``versions`` holds the new and changed plot versions plus the current versions of
    ``check_ids``, unchanged plots whose stored rows (``previous``) must come out the same:
    their raw criteria and their scores (all but the rank). Otherwise the engine's
    criteria or utilities depend on the batch (e.g. normalised by the batch maximum) and
    every plot has to be scored together. Returns the scored new and changed plots; their
    ``rank`` is only within this batch.
    """
    if scorer.score_raw is None or scorer.compute_raw is None:
        return None
    plots = scoring_input(versions)
    raw = _compute(scorer, plots, config, context_fn(), engine=engine, dask=dask)
    scored = scorer.score_raw(raw, config)
    is_check = scored["plot_id"].isin(check_ids).to_numpy()
    prev = previous.set_index("plot_id")
    if not pd.Index(check_ids).isin(prev.index).all():
        logger.info("stored rows incomplete; scoring every plot")
        return None
    checked = pd.DataFrame(scored.loc[is_check])  # plain columns: 3 rows, many criteria
    skip = {"plot_id", "plot_version", "rank", "run_id", "run_seq"}
    cols = [c for c in prev.columns if c not in skip and c in checked.columns]
    stored = prev.loc[checked["plot_id"].to_numpy()]
    drift = [c for c in cols if not same_values(checked[c], stored[c])]
    if drift:
        logger.warning(
            "criteria %s of the scoring engine change with the set of plots scored "
            "together (e.g. normalised by the batch maximum), so stored values cannot be "
            "reused: computing criteria for every plot",
            ", ".join(drift),
        )
        return None
    logger.info("computed criteria for %d new or changed plot(s)", int((~is_check).sum()))
    return scored.loc[~is_check]


def check_sample(ids: pd.Series, exclude: set[str]) -> list[str]:
    """Up to three unchanged plot ids, spread over the sorted ids, to check a run with."""
    old = np.sort(ids[~ids.isin(exclude)].astype(str).to_numpy())
    if not len(old):
        return []
    spread = np.unique(np.linspace(0, len(old) - 1, num=min(_N_CHECK, len(old))).astype(int))
    return [str(x) for x in old[spread]]


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


# --- one run's scoring -----------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """What scores a run: the engine, its configuration, a lazily loaded context, the data
    checksums, and how criteria are computed (``"single"`` or ``"dask"``)."""

    scorer: Scorer
    config: Any
    context_fn: Callable[[], Any]
    checksums: str
    engine: str = "single"
    dask: DaskOptions = field(default_factory=DaskOptions)
    data_dir: str | os.PathLike[str] | None = None
    own_context: bool = False


def listing_reader(eng: Engine, opts: PlotReaderOptions | None) -> PlotReaderOptions | None:
    """The plots reader's options with the city boundary taken from the run's context.

    When the run loads the scoring context itself (the prepared cache of ``data_dir``) and
    the reader would load the boundary from the same data directory, the boundary is built
    from the context's Stadtteile — the same file, already read — instead of reading and
    dissolving them again. Otherwise ``opts`` unchanged.
    """
    rd = opts if opts is not None else PlotReaderOptions()
    if not eng.own_context or rd.boundary is not None:
        return opts
    if settings.data_dir(rd.data_dir).resolve() != settings.data_dir(eng.data_dir).resolve():
        return opts
    try:
        quarters = getattr(eng.context_fn(), "stadtteile", None)
    except (HandwerkgeoError, OSError) as exc:  # the reader loads the boundary; scoring says why
        logger.info("city boundary not taken from the scoring context: %s", exc)
        return opts
    if quarters is None or "stadtteil_name" not in quarters.columns or not len(quarters):
        return opts
    if quarters.crs is not None and not quarters.crs.equals(CRS):
        quarters = quarters.to_crs(CRS)
    return dataclasses.replace(rd, boundary=CityBoundary.from_stadtteile(quarters))


@dataclass(frozen=True)
class Changes:
    """What a run changes: new plot versions, the ids they replace or add, the hashes of
    the current versions the listing touches, the latest run's ``seq`` when the run may be
    incremental, and the ranks after it (:func:`._state.state_ranks`) when already read."""

    new_rows: gpd.GeoDataFrame | None
    changed_ids: set[str]
    current: pd.DataFrame
    incremental_from: int | None
    before: pd.DataFrame | None = None


@dataclass
class Scored:
    """Scored plots to store (``rank`` global), the plot columns, how many plots are ranked,
    and (incremental runs) the ranks of every plot after the run, as state_ranks gives them."""

    frame: gpd.GeoDataFrame
    plot_cols: list[str]
    n_plots: int
    after: pd.DataFrame | None = None


def _named(gdf: gpd.GeoDataFrame, geom: str) -> gpd.GeoDataFrame:
    return gdf if gdf.geometry.name == geom else gdf.rename_geometry(geom)


def _plot_cols(versions: pd.DataFrame) -> list[str]:
    return [c for c in versions.columns if c not in PLOT_META and c != "plot_id"]


def _score_incremental(reg: Register, eng: Engine, ch: Changes) -> Scored | None:
    assert ch.new_rows is not None and ch.incremental_from is not None
    with reader(reg) as con:
        check_ids = sample_ids(con, ch.changed_ids, _N_CHECK)
        check = current_plots(con, check_ids)
        previous = latest_rows(con, ids=check_ids)
    versions = gpd.GeoDataFrame(
        pd.concat([ch.new_rows, _named(check, ch.new_rows.geometry.name)]),
        geometry=ch.new_rows.geometry.name,
        crs=ch.new_rows.crs,
    )
    scored = score_fresh(
        eng.scorer, versions, check_ids, previous, eng.config,
        context_fn=eng.context_fn, engine=eng.engine, dask=eng.dask,
    )  # fmt: skip
    if scored is None:
        return None
    before = ch.before
    if before is None:
        with reader(reg) as con:
            before = state_ranks(con, ch.incremental_from)
    cols = ["plot_id", "plot_version", "score_total", "excluded", "exclusion_reason"]
    others = before.loc[~before["plot_id"].isin(ch.changed_ids), cols]
    mine = pd.DataFrame(scored[[c for c in cols if c != "plot_version"]]).assign(
        plot_version=scored["plot_id"].map(ch.new_rows.set_index("plot_id")["plot_version"])
    )
    after = pd.concat([others, mine[cols]], ignore_index=True)
    after["rank"] = rank_rows(after["score_total"], after["excluded"], after["plot_id"])
    scored = scored.copy()
    scored["rank"] = pd.array(after["rank"].iloc[len(others) :].to_numpy(), dtype="Int64")
    return Scored(scored, _plot_cols(versions), len(after), after)


def score_changes(reg: Register, eng: Engine, ch: Changes) -> Scored:
    """Score a run: the new and changed plots alone when possible, else every plot."""
    if ch.incremental_from is not None and ch.new_rows is not None:
        got = _score_incremental(reg, eng, ch)
        if got is not None:
            return got
    with reader(reg) as con:
        versions = current_plots(con)
    if ch.new_rows is not None:
        keep = versions.loc[~versions["plot_id"].isin(ch.changed_ids)]
        geom = ch.new_rows.geometry.name
        versions = gpd.GeoDataFrame(
            pd.concat([_named(keep, geom), ch.new_rows], ignore_index=True),
            geometry=geom,
            crs=ch.new_rows.crs,
        )
    plots_in = scoring_input(versions)
    scored = score_all(
        eng.scorer, plots_in, eng.config,
        context_fn=eng.context_fn, engine=eng.engine, dask=eng.dask,
    )  # fmt: skip
    return Scored(scored, _plot_cols(plots_in), len(scored))
