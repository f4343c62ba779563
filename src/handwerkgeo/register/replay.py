"""Reading register runs back, and reproducing them with their stored configuration."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from handwerkgeo import __version__
from handwerkgeo.crs import CRS
from handwerkgeo.errors import ConfigError, ValidationError
from handwerkgeo.register._state import all_plots, latest_rows, reader
from handwerkgeo.register.incremental import rank_rows, scoring_input
from handwerkgeo.register.listing import data_checksums
from handwerkgeo.register.storage import Register, read_register, run_row
from handwerkgeo.scorer import ScorerLike, resolve_scorer

__all__ = ["package_version", "read_run", "reproduce_run", "run_state"]

logger = logging.getLogger(__name__)


def package_version() -> str:
    """The installed version of handwerkgeo (recorded with every run)."""
    return __version__


def run_state(reg: Register, run: pd.Series) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The plot versions of the register after a run, and their score rows then.

    A run stores only the plots it scored; the state after run ``seq`` is each plot's latest
    score row of runs up to ``seq``, ranked again by the engine's rule.
    """
    with reader(reg) as con:
        scores = latest_rows(con, upto_seq=int(run["seq"]))
        plots = all_plots(con)
    scores = scores.sort_values("plot_id", kind="stable").reset_index(drop=True)
    scores["rank"] = rank_rows(scores["score_total"], scores["excluded"], scores["plot_id"])
    keys = scores[["plot_id", "plot_version"]].astype({"plot_version": "int64"})
    return scoring_input(plots.merge(keys, on=["plot_id", "plot_version"])), scores


def read_run(
    register: str | os.PathLike[str] | Register, run_id: str | None = None
) -> gpd.GeoDataFrame:
    """The scored frame of the register after a run (latest when ``run_id`` is ``None``).

    Returns
    -------
    geopandas.GeoDataFrame
        Every plot version current after the run with its score row then (stored by that
        run or an earlier one) and its rank then, in ``plot_id`` order; ``attrs["run"]``
        holds ``run_id``, ``config_hash``, ``config_yaml``, ``version``, ``scored_at`` and
        ``score_columns``.
    """
    reg = Register.at(register)
    runs = read_register(reg, layers=("runs",))["runs"]
    if run_id is None:
        if runs.empty:
            msg = "the register has no runs yet; add plots first"
            raise ValidationError(str(reg.path), [msg])
        run_id = str(runs["run_id"].iloc[-1])
    run = run_row(runs, run_id, reg.path)
    versions, scores = run_state(reg, run)
    cols = [c for c in json.loads(run["score_columns"]) if c in scores.columns]
    out = versions.merge(scores[["plot_id", *cols]], on="plot_id", how="left")
    out = gpd.GeoDataFrame(out, geometry=versions.geometry.name, crs=CRS)
    out.attrs["run"] = {
        "run_id": run_id,
        "config_hash": run["config_hash"],
        "config_yaml": run["config_yaml"],
        "version": run["version"],
        "scored_at": run["finished_at"],
        "score_columns": cols,
    }
    return out


def reproduce_run(
    register: str | os.PathLike[str] | Register,
    run_id: str,
    *,
    context: Any = None,
    scorer: ScorerLike = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Re-score the plot versions of run ``run_id`` with that run's stored configuration.

    The result equals the stored scores (:func:`read_run`) when the data files and the
    package version are those of the run; a warning is logged when they differ.

    Returns
    -------
    geopandas.GeoDataFrame
        A freshly scored frame (same plots, in ``plot_id`` order).

    Raises
    ------
    ConfigError
        If the stored configuration no longer loads to the same hash (the configuration
        model changed).
    """
    reg = Register.at(register)
    sc = resolve_scorer(scorer)
    runs = read_register(reg, layers=("runs",))["runs"]
    run = run_row(runs, run_id, reg.path)
    with tempfile.TemporaryDirectory() as d:
        cfg_path = Path(d) / "config.yaml"
        cfg_path.write_text(str(run["config_yaml"]), encoding="utf-8")
        config = sc.load_config(cfg_path)
    if config.hash != run["config_hash"]:
        msg = (
            f"the configuration stored with run {run_id} loads to hash {config.hash[:12]}, "
            f"but the run recorded {str(run['config_hash'])[:12]}: the configuration model "
            f"changed since. Install handwerkgeo {run['version']} to reproduce this run."
        )
        raise ConfigError(msg)
    if json.dumps(data_checksums(data_dir), sort_keys=True) != run["data_checksums"]:
        logger.warning("data files differ from those of run %s; results may differ", run_id)
    if run["version"] != package_version():
        logger.warning("run %s was scored with handwerkgeo %s", run_id, run["version"])
    plots, _ = run_state(reg, run)
    ctx = context if context is not None else sc.load_context(data_dir)
    return sc.score(plots, config, ctx)
