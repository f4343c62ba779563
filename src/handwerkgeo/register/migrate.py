"""Migrating a site register of layout 1 (before 2026-12) to the current layout.

Layout 1 kept a full ranking per run in ``scores`` and every plot in one GEOMETRY layer.
:func:`migrate_register` writes the same content in the current layout — polygon plots in
``plots`` (MultiPolygon), point plots in ``plot_points``, the score rows with their run's
``seq``, runs (``n_stored`` = the rows each run stored), rejects, the ranking views —
into a new file that replaces the old one atomically; the old file is kept beside it as
``<register>.layout1.bak``. Old runs read back (:func:`~handwerkgeo.register.read_run`)
exactly as before.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from handwerkgeo._atomic import atomic_replace_file
from handwerkgeo.crs import CRS
from handwerkgeo.errors import RegisterLayoutError, ValidationError
from handwerkgeo.register import _sqlite as sq
from handwerkgeo.register._state import insert_plots
from handwerkgeo.register._styles import style_layers
from handwerkgeo.register._views import UPDATE_CURRENT, create_views
from handwerkgeo.register.storage import (
    LAYERS,
    RUN_COLS,
    Register,
    check_register,
    create_layers,
    register_lock,
)

__all__ = ["migrate_register"]

logger = logging.getLogger(__name__)


def _old_tables(path: Path) -> dict[str, pd.DataFrame]:
    layers = set(pyogrio.list_layers(path)[:, 0].tolist())
    missing = [t for t in LAYERS if t not in layers]
    if missing:
        msg = f"it is not a site register: layer(s) {', '.join(missing)} missing"
        raise ValidationError(str(path), [msg])
    out: dict[str, pd.DataFrame] = {}
    plots = pyogrio.read_dataframe(path, layer="plots")
    out["plots"] = plots if plots.crs is not None else plots.set_crs(CRS)
    for t in ("scores", "runs", "rejects"):
        out[t] = pd.DataFrame(pyogrio.read_dataframe(path, layer=t, read_geometry=False))
    return out


def migrate_register(path: str | os.PathLike[str] | Register) -> Path | None:
    """Rewrite a layout-1 register in the current layout; the backup's path.

    Returns ``None`` when the register is already in the current layout.

    Raises
    ------
    ValidationError
        If ``path`` is not a site register.
    RegisterLockedError
        If another process writes the register.
    """
    reg = Register.at(path)
    try:
        check_register(reg)
        return None
    except RegisterLayoutError:
        pass
    with register_lock(reg):
        old = _old_tables(reg.path)
        runs = old["runs"]
        seq = dict(zip(runs["run_id"], pd.to_numeric(runs["seq"]).astype("int64"), strict=True))
        scores = old["scores"].copy()
        scores.insert(1, "run_seq", scores["run_id"].map(seq).astype("int64"))
        counts = scores.groupby("run_id").size()
        runs = runs.assign(n_stored=runs["run_id"].map(counts).fillna(0).astype("int64"))
        runs = runs.reindex(columns=[*RUN_COLS, *[c for c in runs if c not in RUN_COLS]])
        backup = reg.path.with_name(reg.path.name + ".layout1.bak")
        shutil.copy2(reg.path, backup)
        with atomic_replace_file(reg.path, copy_existing=False) as tmp:
            create_layers(tmp)
            with sq.transaction(tmp) as con:
                insert_plots(con, gpd.GeoDataFrame(old["plots"]))
                for table, df in (("scores", scores), ("runs", runs), ("rejects", old["rejects"])):
                    sq.add_columns(con, table, df)
                    sq.insert_rows(con, table, df)
                create_views(con)
                style_layers(con)
                con.execute(UPDATE_CURRENT, (0,))
        shutil.copymode(backup, reg.path)
    logger.info("migrated %s to the current layout; the old file is %s", reg.path, backup)
    return backup
