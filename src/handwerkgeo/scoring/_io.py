"""GeoPackage round trip of a scored frame, with the run metadata beside it."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from handwerkgeo.config import ScoringConfig
from handwerkgeo.errors import DataSourceError, ValidationError

__all__ = ["read_scored", "write_scored"]

logger = logging.getLogger(__name__)


def write_scored(
    scored: gpd.GeoDataFrame, path: str | os.PathLike[str], *, lang: str = "de"
) -> Path:
    """Write a scored frame to a GeoPackage atomically.

    Layer ``scores`` holds the frame (its index in column ``source_index``); the
    non-spatial table ``run_metadata`` holds key/value rows: ``config_yaml``,
    ``config_hash``, ``version``, ``scored_at``, ``criteria`` and ``sources`` (JSON) and
    ``run`` (the complete ``attrs["run"]`` as JSON). The file is a GeoPackage 1.2
    (:mod:`handwerkgeo._gpkg`) whose ``layer_styles`` table gives ``scores`` the classed
    colour scale of the maps, field aliases and the score card as map tip in QGIS, in
    ``lang`` by default (the other language beside it). The file is built beside ``path``
    and moved over it with :func:`os.replace`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from handwerkgeo._atomic import atomic_replace_file
    from handwerkgeo._gpkg import add_styles, write_layer
    from handwerkgeo._qgis_style import layer_styles

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        msg = f"write_scored writes a GeoPackage; give a path ending in .gpkg, not {path.name}"
        raise ValidationError("output path", [msg])
    if not path.parent.is_dir():
        msg = f"the folder {path.parent} does not exist; create it first"
        raise DataSourceError(msg)
    run = dict(scored.attrs.get("run", {}))
    geometry = scored.geometry.name  # once: each access deep-copies the run attributes
    frame = scored.copy()
    frame.attrs = {}
    frame.insert(0, "source_index", frame.index.astype(str))
    frame = frame.reset_index(drop=True)
    if "rank" in frame:
        frame["rank"] = frame["rank"].astype("Int64")
    config_yaml = ""
    if run.get("config"):
        config_yaml = ScoringConfig.from_dict(run["config"], source="attrs['run']").to_yaml()
    meta = pd.DataFrame(
        {
            "key": [
                "config_yaml",
                "config_hash",
                "version",
                "scored_at",
                "criteria",
                "sources",
                "index_dtype",
                "dtypes",
                "run",
            ],
            "value": [
                config_yaml,
                str(run.get("config_hash", "")),
                str(run.get("version", "")),
                str(run.get("scored_at", "")),
                json.dumps(run.get("criteria", {}), ensure_ascii=False),
                json.dumps(run.get("sources", []), ensure_ascii=False),
                str(scored.index.dtype),
                json.dumps({c: str(t) for c, t in scored.dtypes.items() if c != geometry}),
                json.dumps(run, ensure_ascii=False, default=str),
            ],
        }
    )
    with atomic_replace_file(path, copy_existing=False) as tmp:
        write_layer(frame, tmp, "scores")
        write_layer(meta, tmp, "run_metadata")
        criteria = run.get("criteria") or {}
        add_styles(tmp, layer_styles(frame, "scores", criteria=criteria, lang=lang))
    logger.info("wrote %d scored plot(s) to %s", len(scored), path)
    return path


def read_scored(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read a GeoPackage written by :func:`write_scored`, restoring index and ``attrs["run"]``.

    Raises
    ------
    DataSourceError
        If the file is missing or has no ``scores`` layer.
    """
    import pyogrio

    path = Path(path)
    if not path.is_file():
        msg = f"scored file {path} not found"
        raise DataSourceError(msg)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    if "scores" not in layers:
        msg = f"{path} has no 'scores' layer (layers: {sorted(layers)}); write it with write_scored"
        raise DataSourceError(msg)
    frame = gpd.read_file(path, layer="scores", engine="pyogrio")
    run: dict[str, Any] = {}
    index_dtype = ""
    dtypes: dict[str, str] = {}
    if "run_metadata" in layers:
        meta = pyogrio.read_dataframe(path, layer="run_metadata")
        kv = dict(zip(meta["key"], meta["value"], strict=True))
        run = json.loads(kv.get("run") or "{}")
        index_dtype = kv.get("index_dtype", "")
        dtypes = json.loads(kv.get("dtypes") or "{}")
    if "source_index" in frame:
        idx = frame.pop("source_index")
        if index_dtype.startswith("int"):
            idx = idx.astype("int64")
        frame.index = pd.Index(idx.to_numpy(), name=None)
    for col, dtype in dtypes.items():
        if col in frame.columns and str(frame[col].dtype) != dtype:
            try:
                frame[col] = frame[col].astype(dtype)
            except (TypeError, ValueError):
                logger.debug("column %s kept as %s (was %s)", col, frame[col].dtype, dtype)
    if "rank" in frame:
        frame["rank"] = frame["rank"].astype("Int64")
    for col in ("excluded", *[c for c in frame.columns if c.startswith("fallback_")]):
        if col in frame and not frame[col].isna().any():
            frame[col] = frame[col].astype(bool)
    for col in ("exclusion_reason", "exclusion_reason_en", "missing_criteria"):
        if col in frame:
            frame[col] = frame[col].fillna("")
    frame.attrs = {"run": run}
    return frame
