"""Storage of the site register: its GeoPackage tables, the writer's lock, one transaction.

The tables are described in :mod:`handwerkgeo.register`. A run is written in ONE SQLite
transaction on the register file (:func:`handwerkgeo.register._sqlite.transaction`), so a
crash at any moment leaves the previous register or the new one, never a mix; a run adds
only what changed (new plot versions, the score rows of the plots it scored, its rejects
and its run row). Reading uses :mod:`sqlite3` as well (no GDAL needed).

Layout versions (table ``register_info``): 1 — the layout before 2026-12 (a full ranking per
run, one GEOMETRY layer); 2 — the current one. A register in layout 1 is refused with the
command that migrates it (:func:`handwerkgeo.register.migrate.migrate_register`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import filelock
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from handwerkgeo._atomic import atomic_replace_file, atomic_write_text
from handwerkgeo._io import now_iso
from handwerkgeo.crs import CRS
from handwerkgeo.errors import RegisterLayoutError, RegisterLockedError, ValidationError
from handwerkgeo.register import _postgis as pg
from handwerkgeo.register import _sqlite as sq
from handwerkgeo.register._fs import check_writable, disk_full_guard, real_path

__all__ = [
    "GPKG_LAYERS",
    "LAYERS",
    "LAYOUT_VERSION",
    "PLOT_META",
    "POINT_TABLE",
    "REJECT_COLS",
    "RUN_COLS",
    "Register",
    "arrange_plots",
    "check_register",
    "create_layers",
    "empty_frame",
    "init_register",
    "pause_point",
    "read_plot_tables",
    "read_register",
    "register_lock",
    "run_row",
    "typed_frame",
]

logger = logging.getLogger(__name__)

#: The tables of a site register as :func:`read_register` returns them (``plots`` joins the
#: polygon and the point layer).
LAYERS = ("plots", "scores", "runs", "rejects")
#: Polygon plots are stored as MultiPolygon in ``plots``, point plots in ``plot_points``.
POINT_TABLE = "plot_points"
#: Every layer of the GeoPackage: tables, then the spatial views of the latest ranking.
GPKG_LAYERS = ("plots", POINT_TABLE, "scores", "runs", "rejects", "register_info")
VIEWS = ("ranking", "ranking_points")
#: The layout written by this version (see the module docstring).
LAYOUT_VERSION = 2

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
    "n_stored": "int64",
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
    "run_seq": "int64",
    "plot_id": "str",
    "plot_version": "int64",
    "score_total": "float64",
    "rank": "Int64",
    "excluded": "bool",
    "exclusion_reason": "str",
    "coverage": "float64",
    "missing_criteria": "str",
}
_PLOT_BASE: dict[str, str] = {
    "plot_id": "str",
    "plot_version": "int64",
    "geom_hash": "str",
    "attr_hash": "str",
    "first_seen": "str",
    "last_changed": "str",
    "valid_to": "str",
    "active": "bool",
    "source_file": "str",
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
    #: ``postgresql://…`` for a register in PostgreSQL/PostGIS (:mod:`._postgis`); then
    #: ``path`` is ``./<database>-<schema>`` in the working directory (for the reports).
    url: str | None = None

    @classmethod
    def at(cls, path: str | os.PathLike[str] | Register) -> Register:
        """The register at ``path`` or URL (nothing is opened or created)."""
        if isinstance(path, Register):
            return path
        if pg.is_url(path):
            _, schema, label = pg.pg_parts(str(path))
            db = label.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "postgres"
            return cls(Path.cwd() / f"{db}-{schema}", url=str(path))
        # symlinks followed: the real file is locked, copied and replaced, never the link
        return cls(real_path(path))

    @property
    def label(self) -> str:
        """How messages name the register: its path, or its URL without password."""
        return pg.pg_parts(self.url)[2] if self.url else str(self.path)

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
        """Whether the register file (or the PostgreSQL schema's register) exists."""
        if self.url:
            return pg.schema_version(self.url) is not None
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
    if reg.url:
        with pg.pg_lock(reg.url, wait_s):
            yield
        return
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
    it exactly there. Phases: ``locked``, ``begun`` (the transaction is open),
    ``plots_written``, ``scores_written``, ``before_commit``, ``committed``. Unset in normal use.
    """
    if os.environ.get(_PAUSE_AT) != phase:
        return
    marker = os.environ.get(_PAUSE_FILE)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {phase}\n", encoding="utf-8")
    time.sleep(float(os.environ.get(_PAUSE_S, "3600")))


# --- creating --------------------------------------------------------------------------------


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def create_layers(tmp: Path) -> None:
    """The empty tables, made by GDAL (GeoPackage 1.3), then indexes, info row and views."""
    opts = {"VERSION": "1.3"}
    for table, gtype in (("plots", "MultiPolygon"), (POINT_TABLE, "Point")):
        gdf = gpd.GeoDataFrame(empty_frame(_PLOT_BASE), geometry=gpd.GeoSeries([], crs=CRS))
        pyogrio.write_dataframe(
            gdf, tmp, layer=table, driver="GPKG", geometry_type=gtype, dataset_options=opts
        )
    for table, cols in (("scores", _SCORE_BASE), ("runs", RUN_COLS), ("rejects", REJECT_COLS)):
        pyogrio.write_dataframe(empty_frame(cols), tmp, layer=table, driver="GPKG")
    info = pd.DataFrame(
        {"layout_version": [LAYOUT_VERSION], "created_at": [now_iso()], "notes": [_INFO_NOTE]}
    )
    pyogrio.write_dataframe(info, tmp, layer="register_info", driver="GPKG")
    con = sq.connect(tmp)
    try:
        with con:
            for table in ("plots", POINT_TABLE):
                q = sq.quote(table)
                con.execute(f"CREATE INDEX {sq.quote(table + '_plot_id')} ON {q} (plot_id)")
                con.execute(f"CREATE INDEX {sq.quote(table + '_geom_hash')} ON {q} (geom_hash)")
            con.execute("CREATE INDEX scores_plot_seq ON scores (plot_id, run_seq)")
            con.execute("CREATE INDEX scores_seq ON scores (run_seq)")
            con.execute("CREATE INDEX rejects_run ON rejects (run_id)")
            from handwerkgeo.register._styles import style_layers
            from handwerkgeo.register._views import create_views

            create_views(con)
            style_layers(con)
    finally:
        con.close()


_INFO_NOTE = (
    "handwerkgeo site register. Layers: plots (MultiPolygon), plot_points (Point), scores "
    "(rows of the plots each run scored), runs, rejects; views ranking / ranking_points: "
    "the latest score and current rank of every plot."
)


def init_register(path: str | os.PathLike[str] | Register) -> Register:
    """Create an empty site register (no-op if it already exists).

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
    RegisterLayoutError
        If ``path`` is a site register of an older layout (migrate it).

    Examples
    --------
    >>> import tempfile, pathlib, pyogrio
    >>> reg = init_register(pathlib.Path(tempfile.mkdtemp()) / "sites.gpkg")
    >>> sorted(pyogrio.list_layers(reg.path)[:, 0].tolist())[:5]
    ['layer_styles', 'plot_points', 'plots', 'ranking', 'ranking_points']
    """
    reg = Register.at(path)
    if reg.url:
        tables = {"plots": _PLOT_BASE, POINT_TABLE: _PLOT_BASE, "scores": _SCORE_BASE}
        tables |= {"runs": RUN_COLS, "rejects": REJECT_COLS}
        pg.create(reg.url, tables, LAYOUT_VERSION, _INFO_NOTE)
        return reg
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
        create_layers(tmp)
    logger.info("created site register %s", reg.path)
    return reg


# --- checking and reading --------------------------------------------------------------------


def _tables(con: sqlite3.Connection) -> set[str]:
    rows = con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    return {r[0] for r in rows}


def check_register(reg: Register) -> None:
    """Refuse a missing file, a file that is not a register, or a register of an old layout.

    Opening the register also rolls back what a killed writer left.
    """
    if reg.url:
        pg.check(reg.url, LAYOUT_VERSION)
        return
    if not reg.exists():
        msg = (
            f"the site register {reg.path} does not exist. Create it by adding plots: "
            f"handwerkgeo register add PLOTS.gpkg --register {reg.path}"
        )
        raise ValidationError(str(reg.path), [msg])
    try:
        con = sq.connect(reg.path)
        try:
            names = _tables(con)
            version = (
                con.execute("SELECT MAX(layout_version) FROM register_info").fetchone()[0]
                if "register_info" in names
                else None
            )
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        msg = f"it cannot be opened as a GeoPackage ({exc}); pass the path of a site register"
        raise ValidationError(str(reg.path), [msg]) from exc
    missing = [t for t in LAYERS if t not in names]
    if missing:
        msg = (
            f"it is not a site register: layer(s) {', '.join(missing)} missing (a register "
            f"has the layers {', '.join(GPKG_LAYERS)}). Pass another path or a new file name"
        )
        raise ValidationError(str(reg.path), [msg])
    if version is None or int(version) < LAYOUT_VERSION:
        msg = (
            f"the site register {reg.path} is in the layout of an older handwerkgeo "
            f"(layout {version or 1}; this version reads layout {LAYOUT_VERSION}, which "
            "stores only what each run changed and maps directly in QGIS). Migrate it once "
            f"with: handwerkgeo register migrate --register {reg.path} (the old file is kept "
            "as a backup beside it)."
        )
        raise RegisterLayoutError(msg)
    if int(version) > LAYOUT_VERSION:
        msg = (
            f"the site register {reg.path} has layout {version}, written by a newer "
            f"handwerkgeo; this version reads layout {LAYOUT_VERSION}. Update handwerkgeo."
        )
        raise RegisterLayoutError(msg)


def typed_frame(df: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Columns of a query converted by their declared SQLite types (BOOLEAN, INTEGER, REAL)."""
    out = df.copy()
    for col in out.columns:
        t = types.get(col, "")
        s = out[col]
        if t == "BOOLEAN":
            out[col] = s.astype("boolean") if s.isna().any() else s.astype(bool)
        elif t.startswith("INT") or col in ("rank", "row", "plot_version", "seq", "run_seq"):
            s = pd.to_numeric(s)
            out[col] = s.astype("Int64" if s.isna().any() or col in ("rank", "row") else "int64")
        elif t in ("REAL", "FLOAT", "DOUBLE"):
            out[col] = pd.to_numeric(s).astype("float64")
        elif s.dtype == object and s.isna().all() and t in ("TEXT", ""):
            out[col] = s.astype(object)
    return out


def read_plot_tables(
    con: sqlite3.Connection, where: str = "", params: tuple[object, ...] = ()
) -> gpd.GeoDataFrame:
    """Plot versions from both geometry tables (``where`` an SQL condition on their columns)."""
    frames = []
    for table in ("plots", POINT_TABLE):
        types = sq.table_columns(con, table)
        cols = [c for c in types if c not in ("fid", "geom")]
        sql = f"SELECT {', '.join(sq.quote(c) for c in [*cols, 'geom'])} FROM {sq.quote(table)}"
        df = sq.read_frame(con, f"{sql} {'WHERE ' + where if where else ''} ORDER BY fid", params)
        blobs = df.pop("geom").tolist()
        geoms = sq.decode_geometries(blobs) if blobs else np.array([], dtype=object)
        if table == "plots" and len(df):  # single-part MultiPolygons back to Polygons
            single = _single_parts(geoms)
            geoms = np.where(single[0], single[1], geoms)
        frames.append(gpd.GeoDataFrame(typed_frame(df, types), geometry=list(geoms), crs=CRS))
    return arrange_plots(frames)


def arrange_plots(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Polygon and point plot versions as one frame: id, version, attributes, register
    columns, geometry; in the order they were registered."""
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=CRS)
    meta = [c for c in PLOT_META if c != "plot_version"]
    attrs = [c for c in out.columns if c not in ("plot_id", "plot_version", *meta, "geometry")]
    out = out[["plot_id", "plot_version", *attrs, *meta, "geometry"]]
    order = np.lexsort((out["plot_version"].to_numpy(), out["last_changed"].astype(str)))
    out = out.iloc[order].reset_index(drop=True)
    out["active"] = out["active"].astype(bool)
    return out


def _single_parts(geoms: object) -> tuple[np.ndarray, np.ndarray]:
    """Which geometries are one-part multi-geometries, and their single part."""
    arr = np.asarray(geoms, dtype=object)
    n = shapely.get_num_geometries(arr)
    single = (n == 1) & (shapely.get_type_id(arr) == 6)
    part = shapely.get_geometry(arr, 0)
    return single, part


def read_register(
    path: str | os.PathLike[str] | Register,
    *,
    layers: tuple[str, ...] = LAYERS,
    run_id: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the tables of a site register.

    Parameters
    ----------
    path
        The register.
    layers
        Which tables to read (of :data:`LAYERS`).
    run_id
        Read only the ``scores`` and ``rejects`` rows of this run.

    Returns
    -------
    dict of str to DataFrame
        ``plots`` is a GeoDataFrame in EPSG:25832 (polygon and point plots, every version);
        ``scores`` holds the rows each run stored (the plots it scored), ``scores.rank``
        (``Int64``) is the rank at that run.
    """
    reg = Register.at(path)
    check_register(reg)
    if run_id is not None:
        _check_run_id(run_id)
    for layer in layers:
        if layer not in LAYERS:
            msg = f"a site register has no layer {layer!r}; it has {', '.join(LAYERS)}"
            raise ValidationError(str(reg.path), [msg])
    out: dict[str, pd.DataFrame] = {}
    if reg.url:
        ses = pg.PgSession(reg.url)
        try:
            out = ses.read_tables(layers, run_id)
        finally:
            ses.close()
        if "runs" in out:
            out["runs"] = out["runs"].sort_values("seq", kind="stable").reset_index(drop=True)
        return out
    con = sq.connect(reg.path)
    try:
        for layer in layers:
            if layer == "plots":
                out[layer] = read_plot_tables(con)
                continue
            types = sq.table_columns(con, layer)
            cols = ", ".join(sq.quote(c) for c in types if c != "fid")
            where = "WHERE run_id = ?" if run_id is not None and layer != "runs" else ""
            params = (run_id,) if where else ()
            df = sq.read_frame(con, f"SELECT {cols} FROM {sq.quote(layer)} {where}", params)
            out[layer] = typed_frame(df, types)
    finally:
        con.close()
    if "runs" in out:
        out["runs"] = out["runs"].sort_values("seq", kind="stable").reset_index(drop=True)
    return out


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID_RE.match(str(run_id)):
        msg = f"{run_id!r} is not a run id (like 20260101T120000Z-1a2b3c); see `register show`"
        raise ValidationError("run_id", [msg])


def run_row(runs: pd.DataFrame, run_id: str, path: Path) -> pd.Series:
    hit = runs.loc[runs["run_id"] == run_id]
    if hit.empty:
        known = ", ".join(runs["run_id"].tail(5)) or "none"
        msg = f"run {run_id} is not in the register; latest runs: {known}"
        raise ValidationError(str(path), [msg])
    return hit.iloc[0]
