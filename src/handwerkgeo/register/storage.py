"""Storage of the site register: its GeoPackage layers, the writer's lock, atomic writes.

The layers and their columns are described in :mod:`handwerkgeo.register`. Reading is
plain pyogrio; rows are appended to the attribute tables with :mod:`sqlite3` inside a
temporary copy of the register that :func:`handwerkgeo._atomic.atomic_replace_file` moves
over it, so a crash at any moment leaves the previous register intact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import re
import socket
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from handwerkgeo._atomic import atomic_replace_file, atomic_write_text
from handwerkgeo._io import now_iso
from handwerkgeo.crs import CRS
from handwerkgeo.errors import RegisterLockedError, ValidationError
from handwerkgeo.register._fs import check_writable, disk_full_guard, real_path

__all__ = [
    "LAYERS",
    "PLOT_META",
    "REJECT_COLS",
    "RUN_COLS",
    "Register",
    "append_table",
    "check_register",
    "empty_frame",
    "init_register",
    "pause_point",
    "read_register",
    "register_lock",
    "run_row",
    "write_plots_layer",
]

logger = logging.getLogger(__name__)

#: The layers of a site register, in the order they are created.
LAYERS = ("plots", "scores", "runs", "rejects")

#: Columns the register adds to each plot; input attributes must not use these names.
PLOT_META = (
    "plot_version",
    "geom_hash",
    "attr_hash",
    "first_seen",
    "last_changed",
    "valid_to",
    "active",
    "source_file",
)
RUN_COLS: dict[str, str] = {
    "run_id": "str",
    "seq": "int64",
    "kind": "str",
    "started_at": "str",
    "finished_at": "str",
    "version": "str",
    "config_hash": "str",
    "config_yaml": "str",
    "engine": "str",
    "n_plots": "int64",
    "n_scored": "int64",
    "n_new": "int64",
    "n_changed": "int64",
    "n_unchanged": "int64",
    "n_rejected": "int64",
    "n_duplicates": "int64",
    "input_file": "str",
    "input_sha256": "str",
    "data_checksums": "str",
    "previous_run_id": "str",
    "score_columns": "str",
}
REJECT_COLS: dict[str, str] = {
    "run_id": "str",
    "source_file": "str",
    "row": "Int64",
    "plot_id": "str",
    "reason": "str",
}
_SCORE_BASE: dict[str, str] = {
    "run_id": "str",
    "plot_id": "str",
    "plot_version": "int64",
    "score_total": "float64",
    "rank": "Int64",
    "excluded": "bool",
    "exclusion_reason": "str",
    "coverage": "float64",
    "missing_criteria": "str",
}
_RUN_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")

#: Environment variables of the crash-safety test hook (see :func:`pause_point`).
_PAUSE_AT = "HANDWERKGEO_REGISTER_PAUSE_AT"
_PAUSE_FILE = "HANDWERKGEO_REGISTER_PAUSE_FILE"
_PAUSE_S = "HANDWERKGEO_REGISTER_PAUSE_S"


# --- the register and its lock ---------------------------------------------------------------


@dataclass(frozen=True)
class Register:
    """Paths of a site register.

    Examples
    --------
    >>> r = Register.at("/tmp/sites.gpkg")
    >>> r.lock_path.name, r.reports_dir.name
    ('sites.gpkg.lock', 'sites.gpkg.reports')
    """

    path: Path

    @classmethod
    def at(cls, path: str | os.PathLike[str] | Register) -> Register:
        """The register at ``path`` (nothing is opened or created)."""
        if isinstance(path, Register):
            return path
        # symlinks followed: the real file is locked, copied and replaced, never the link
        return cls(real_path(path))

    @property
    def lock_path(self) -> Path:
        """The lock file beside the register."""
        return self.path.with_name(self.path.name + ".lock")

    @property
    def holder_path(self) -> Path:
        """JSON file naming the process that holds the lock."""
        return self.path.with_name(self.path.name + ".lock.holder")

    @property
    def reports_dir(self) -> Path:
        """Directory of the per-run change reports."""
        return self.path.with_name(self.path.name + ".reports")

    def exists(self) -> bool:
        """Whether the register file exists."""
        return self.path.is_file()


@contextlib.contextmanager
def register_lock(
    register: str | os.PathLike[str] | Register, *, wait_s: float = 0
) -> Iterator[None]:
    """Hold the writer's lock of a register.

    The lock is an OS-level lock on ``<register>.lock`` (:mod:`filelock`): it is released
    when the process ends, even by ``kill -9``. While held, ``<register>.lock.holder`` names
    the process (pid, host, start time, command).

    Parameters
    ----------
    register
        The register.
    wait_s
        Seconds to wait for another writer to finish; 0 fails at once.

    Raises
    ------
    RegisterFolderMissingError, RegisterReadOnlyError, RegisterDiskFullError
        Before the lock is taken, if the register cannot be written (see
        :func:`handwerkgeo.register._fs.check_writable`).
    RegisterLockedError
        If another process still holds the lock after ``wait_s`` seconds.
    """
    reg = Register.at(register)
    check_writable(reg.path)
    lock = filelock.FileLock(str(reg.lock_path), timeout=max(float(wait_s), 0.0))
    try:
        lock.acquire()
    except filelock.Timeout:
        holder = _read_holder(reg)
        msg = (
            f"the site register {reg.path} is being written by another process ({holder}). "
            f"Waited {wait_s:g} s. Wait until it has finished, or pass --wait SECONDS "
            "(wait_s=...) to wait longer. The lock is held by the operating system and is "
            "released as soon as that process ends."
        )
        raise RegisterLockedError(msg) from None
    try:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": now_iso(timespec="milliseconds"),
            "command": " ".join(sys.argv)[:300],
        }
        with disk_full_guard(reg.path):
            atomic_write_text(reg.holder_path, json.dumps(info))
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            reg.holder_path.unlink()
        lock.release()


def _read_holder(reg: Register) -> str:
    try:
        h = json.loads(reg.holder_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return f"holder unknown; lock file {reg.lock_path}"
    return (
        f"pid {h.get('pid')} on host {h.get('host')}, started {h.get('started')}, "
        f"command {h.get('command')!r}"
    )


def pause_point(phase: str) -> None:
    """Crash-safety test hook: pause (or mark) at a named phase of the write.

    When the environment variable ``HANDWERKGEO_REGISTER_PAUSE_AT`` equals ``phase``, the
    pid is written to the file named by ``HANDWERKGEO_REGISTER_PAUSE_FILE`` and the process
    sleeps ``HANDWERKGEO_REGISTER_PAUSE_S`` seconds (default 3600), so that a test can kill
    it exactly there. Phases: ``locked``, ``copied``, ``plots_written``, ``scores_written``,
    ``before_replace``, ``replaced``. Unset in normal use.
    """
    if os.environ.get(_PAUSE_AT) != phase:
        return
    marker = os.environ.get(_PAUSE_FILE)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {phase}\n", encoding="utf-8")
    time.sleep(float(os.environ.get(_PAUSE_S, "3600")))


# --- creating and reading --------------------------------------------------------------------


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def _empty_plots() -> gpd.GeoDataFrame:
    cols = {"plot_id": "str", "plot_version": "int64", "geom_hash": "str", "attr_hash": "str"}
    cols |= {"first_seen": "str", "last_changed": "str", "valid_to": "str", "active": "bool"}
    cols |= {"source_file": "str"}
    return gpd.GeoDataFrame(empty_frame(cols), geometry=gpd.GeoSeries([], crs=CRS))


def write_plots_layer(path: Path, plots: gpd.GeoDataFrame) -> None:
    pyogrio.write_dataframe(
        plots, path, layer="plots", driver="GPKG", geometry_type="Unknown", promote_to_multi=False
    )


def init_register(path: str | os.PathLike[str] | Register) -> Register:
    """Create an empty site register with its four layers (no-op if it already exists).

    Parameters
    ----------
    path
        Path of the GeoPackage, e.g. ``sites.gpkg``.

    Returns
    -------
    Register

    Raises
    ------
    ValidationError
        If ``path`` exists but is not a site register.

    Examples
    --------
    >>> import tempfile, pathlib, pyogrio
    >>> reg = init_register(pathlib.Path(tempfile.mkdtemp()) / "sites.gpkg")
    >>> sorted(pyogrio.list_layers(reg.path)[:, 0].tolist())
    ['plots', 'rejects', 'runs', 'scores']
    """
    reg = Register.at(path)
    if reg.exists():
        check_register(reg)
        return reg
    with (
        register_lock(reg),
        disk_full_guard(reg.path),
        atomic_replace_file(reg.path, copy_existing=False) as tmp,
    ):
        if reg.exists():  # created meanwhile by another process
            return reg
        write_plots_layer(tmp, _empty_plots())
        pyogrio.write_dataframe(empty_frame(_SCORE_BASE), tmp, layer="scores", driver="GPKG")
        pyogrio.write_dataframe(empty_frame(RUN_COLS), tmp, layer="runs", driver="GPKG")
        pyogrio.write_dataframe(empty_frame(REJECT_COLS), tmp, layer="rejects", driver="GPKG")
    logger.info("created site register %s", reg.path)
    return reg


def check_register(reg: Register) -> None:
    if not reg.exists():
        msg = (
            f"the site register {reg.path} does not exist. Create it by adding plots: "
            f"handwerkgeo register add PLOTS.gpkg --register {reg.path}"
        )
        raise ValidationError(str(reg.path), [msg])
    try:
        layers = set(pyogrio.list_layers(reg.path)[:, 0].tolist())
    except pyogrio.errors.DataSourceError as exc:
        msg = f"it cannot be opened as a GeoPackage ({exc}); pass the path of a site register"
        raise ValidationError(str(reg.path), [msg]) from exc
    missing = [layer for layer in LAYERS if layer not in layers]
    if missing:
        msg = (
            f"it is not a site register: layer(s) {', '.join(missing)} missing (a register "
            f"has the layers {', '.join(LAYERS)}). Pass another path or a new file name"
        )
        raise ValidationError(str(reg.path), [msg])


def _fix_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    if "rank" in df.columns:
        df["rank"] = df["rank"].astype("Int64")
    for col in ("plot_version", "seq", "row"):
        if col in df.columns:
            df[col] = df[col].astype("Int64" if df[col].isna().any() else "int64")
    return df


def read_register(
    path: str | os.PathLike[str] | Register,
    *,
    layers: tuple[str, ...] = LAYERS,
    run_id: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the layers of a site register.

    Parameters
    ----------
    path
        The register.
    layers
        Which layers to read.
    run_id
        Read only the ``scores`` and ``rejects`` rows of this run.

    Returns
    -------
    dict of str to DataFrame
        ``plots`` is a GeoDataFrame in EPSG:25832; ``scores.rank`` is ``Int64``.
    """
    reg = Register.at(path)
    check_register(reg)
    where = None
    if run_id is not None:
        _check_run_id(run_id)
        where = f"run_id = '{run_id}'"
    out: dict[str, pd.DataFrame] = {}
    for layer in layers:
        if layer not in LAYERS:
            msg = f"a site register has no layer {layer!r}; it has {', '.join(LAYERS)}"
            raise ValidationError(str(reg.path), [msg])
        w = where if layer in ("scores", "rejects") else None
        if layer == "plots":
            df = pyogrio.read_dataframe(reg.path, layer=layer, where=w)
            if df.crs is None:
                df = df.set_crs(CRS)
        else:
            df = pyogrio.read_dataframe(reg.path, layer=layer, where=w, read_geometry=False)
            df = pd.DataFrame(df)
        out[layer] = _fix_dtypes(df)
    if "runs" in out:
        out["runs"] = out["runs"].sort_values("seq", kind="stable").reset_index(drop=True)
    return out


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID_RE.match(str(run_id)):
        msg = f"{run_id!r} is not a run id (like 20260101T120000Z-1a2b3c); see `register show`"
        raise ValidationError("run_id", [msg])


def _sql_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def append_table(path: Path, layer: str, df: pd.DataFrame) -> None:
    """Append rows to a non-spatial table of the GeoPackage, adding new columns first.

    Attribute tables of a GeoPackage are plain SQLite tables, so rows are inserted by
    column name with :mod:`sqlite3` (GDAL's append matches fields by position).
    """
    if df.empty:
        return
    cols = [str(c) for c in df.columns]
    rows = zip(*(map(_sql_value, df[c].astype(object).tolist()) for c in df.columns), strict=True)
    con = sqlite3.connect(path)
    try:
        with con:
            have = {r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')}
            for col in cols:
                if col not in have:
                    con.execute(f'ALTER TABLE "{layer}" ADD COLUMN "{col}" {_sql_type(df[col])}')
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" for _ in cols)
            con.executemany(f'INSERT INTO "{layer}" ({names}) VALUES ({marks})', rows)
    finally:
        con.close()


def _sql_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(s):
        return "INTEGER"
    if pd.api.types.is_float_dtype(s):
        return "REAL"
    return "TEXT"


def run_row(runs: pd.DataFrame, run_id: str, path: Path) -> pd.Series:
    hit = runs.loc[runs["run_id"] == run_id]
    if hit.empty:
        known = ", ".join(runs["run_id"].tail(5)) or "none"
        msg = f"run {run_id} is not in the register; latest runs: {known}"
        raise ValidationError(str(path), [msg])
    return hit.iloc[0]
