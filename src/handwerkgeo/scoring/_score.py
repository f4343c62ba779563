"""score_plots: prepare the plots, compute raw values, score them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from handwerkgeo.config import ScoringConfig, default_config
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import (
    ArgumentTypeError,
    DuplicateIdError,
    MissingColumnError,
    ValidationError,
)
from handwerkgeo.scoring._aggregate import FIXED_COLUMNS, SCORE_PREFIXES, score_raw
from handwerkgeo.scoring._raw import compute_raw

if TYPE_CHECKING:
    from handwerkgeo.context import ScoringContext

__all__ = ["score_plots"]

logger = logging.getLogger(__name__)

#: Columns compute_raw adds besides the per-criterion ones (replaced on re-scoring).
_RAW_EXTRA = ("zone_category", "zone_source", "overlap_protected", "overlap_flood")


def _prepare_plots(plots: gpd.GeoDataFrame, id_col: str | None) -> gpd.GeoDataFrame:
    if not isinstance(plots, gpd.GeoDataFrame):
        msg = f"plots must be a GeoDataFrame, not {type(plots).__name__}"
        raise ArgumentTypeError(msg)
    check_crs(plots, name="plots")
    out = plots.copy()
    drop = [c for c in out.columns if c.startswith(SCORE_PREFIXES) or c in FIXED_COLUMNS]
    drop += [c for c in _RAW_EXTRA if c in out.columns]
    drop += [c for c in out.columns if c.startswith(("p_top_", "rank_p"))]
    out = out.drop(columns=drop)
    if id_col is not None:
        if id_col not in out.columns:
            msg = f"id column {id_col!r} not in the plots (columns: {list(out.columns)})"
            raise MissingColumnError(msg)
        out["plot_id"] = out[id_col].astype(str)
    elif "plot_id" not in out.columns:
        logger.warning("plots have no 'plot_id' column; using the index as plot_id")
        out["plot_id"] = out.index.astype(str)
    else:
        out["plot_id"] = out["plot_id"].astype(str)
    dup = out["plot_id"][out["plot_id"].duplicated(keep=False)]
    if len(dup):
        msg = (
            f"plot_id must be unique, but {dup.nunique()} value(s) occur more than once "
            f"(e.g. {sorted(dup.unique())[:5]}); give each plot its own id or pass id_col="
        )
        raise DuplicateIdError(msg)
    return out


def score_plots(
    plots: gpd.GeoDataFrame,
    config: ScoringConfig | None = None,
    *,
    context: ScoringContext | None = None,
    raw: pd.DataFrame | None = None,
    id_col: str | None = None,
    show_progress: bool = False,
) -> gpd.GeoDataFrame:
    """Score plots for a Handwerkerhof: the "Scored frame" of docs/design.md.

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (see :func:`handwerkgeo.sources.plots.read_plots`). Not modified;
        score columns of an earlier run are replaced.
    config
        Scoring configuration; default the packaged default.
    context
        Data layers; default none (geometry and plot attributes only).
    raw
        Precomputed :func:`compute_raw` output on ``plots.index`` (skips computing).
    id_col
        Column holding the plot id when it is not ``plot_id``.
    show_progress
        Show a progress bar while computing criteria.

    Returns
    -------
    geopandas.GeoDataFrame
        Plot columns and geometry, ``raw_<k>``/``u_<k>``/``contrib_<k>``/``fallback_<k>``,
        ``score_total``, ``rank``, ``excluded``, ``exclusion_reason`` (German),
        ``exclusion_reason_en``, ``coverage``, ``missing_criteria``, ``decision_ready``,
        ``decision_reason``, ``decision_reason_en``; ``attrs["run"]``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> plots = gpd.GeoDataFrame(
    ...     {"plot_id": ["a", "b"], "zoning": ["GE", "WA"], "owner": ["city", "private"]},
    ...     geometry=[box(0, 0, 100, 60), box(200, 0, 300, 60)], crs="EPSG:25832")
    >>> s = score_plots(plots)
    >>> s[["plot_id", "rank", "excluded"]].values.tolist()
    [['a', 1, False], ['b', <NA>, True]]
    >>> s.loc[1, "exclusion_reason"]
    'Gebietsart WA (Allgemeines Wohngebiet) ausgeschlossen'
    """
    config = config or default_config()
    base = _prepare_plots(plots, id_col)
    if raw is None:
        raw = compute_raw(base, context, config, show_progress=show_progress)
    elif not raw.index.equals(base.index):
        msg = "raw must be aligned on plots.index (compute it with compute_raw(plots, ...))"
        raise ValidationError("raw", [msg])
    extra = [c for c in raw.columns if c not in base.columns]
    joined = base.join(raw[extra])
    joined.attrs = dict(raw.attrs)
    scored = score_raw(joined, config)
    if context is not None:
        scored.attrs["run"]["sources"] = [dict(s) for s in context.sources]
    if plots.attrs.get("carried") is not None:  # the reader's list of the planner's columns
        scored.attrs["run"]["carried"] = [str(c) for c in plots.attrs["carried"]]
    return scored
