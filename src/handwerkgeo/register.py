"""Site register: a GeoPackage of listed plots, every scoring run, its scores and its rejects.

The register is one GeoPackage (it opens in QGIS) with four layers:

``plots`` (spatial, EPSG:25832)
    One row per *version* of a plot: ``plot_id`` (stable), ``plot_version`` (1, 2, …),
    the geometry, every attribute of the input as its own column, ``geom_hash`` (sha256 of
    the WKB of the normalised geometry rounded to centimetres), ``attr_hash`` (sha256 of the
    canonical JSON of the non-empty attributes), ``first_seen`` (when the plot id was first
    registered), ``last_changed`` (when this version was registered), ``valid_to`` (when a
    newer version replaced it; empty for the current one), ``active`` (true for the current
    version of each plot: filter ``"active" = 1`` in QGIS) and ``source_file``.
``scores`` (table)
    One row per plot and run: ``run_id``, ``plot_id``, ``plot_version`` and every column of
    the scored frame that is not a plot attribute (``raw_*``, ``u_*``, ``contrib_*``,
    ``fallback_*``, ``score_total``, ``rank``, ``excluded``, ``exclusion_reason``,
    ``coverage``, ``missing_criteria``).
``runs`` (table)
    One row per run: ``run_id``, ``seq`` (1, 2, …), ``kind`` (``add``/``rescore``),
    ``started_at``, ``finished_at``, ``version`` (of handwerkgeo), ``config_hash``,
    ``config_yaml`` (the full configuration), ``engine``, ``n_plots`` (active plots ranked),
    ``n_scored`` (plots whose criteria were computed in this run), ``n_new``, ``n_changed``,
    ``n_unchanged``, ``n_rejected``, ``n_duplicates``, ``input_file``, ``input_sha256``,
    ``data_checksums`` (JSON ``{path: sha256}`` of every input data file) and
    ``previous_run_id``.
``rejects`` (table)
    ``run_id``, ``source_file``, ``row``, ``plot_id``, ``reason`` of every input row that was
    not registered (invalid, duplicate id, duplicate geometry).

Workflow: :func:`add_plots` validates a new listing, registers new and changed plots and
computes the criteria only for them, re-ranking all plots globally; :func:`rescore` scores
every plot again (after a change of the configuration or the data). Each run writes a change
report to ``<register>.reports/<run_id>/``. :func:`reproduce_run` re-scores the plots of an
old run with that run's stored configuration.

Safety: runs are idempotent (adding the same listing again is a no-op that records
nothing), atomic (the new register is built in a temporary copy beside it and moved over it
with :func:`os.replace`; a crash leaves the previous register intact) and serialised by a
lock file (``<register>.lock``); a second writer waits ``wait_s`` seconds and then raises
:class:`~handwerkgeo.errors.RegisterLockedError` naming the holder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import math
import os
import re
import secrets
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import filelock
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from handwerkgeo import settings
from handwerkgeo._atomic import (
    atomic_replace_file,
    atomic_write_bytes,
    atomic_write_text,
    clean_stale_temps,
)
from handwerkgeo._io import file_sha256, now_iso
from handwerkgeo.crs import CRS, to_canonical
from handwerkgeo.errors import (
    ConfigError,
    HandwerkgeoError,
    MissingColumnError,
    RegisterLockedError,
    ValidationError,
)
from handwerkgeo.export.tables import excel_safe
from handwerkgeo.scale import compute_raw_dask
from handwerkgeo.scorer import Scorer, resolve_scorer, with_plots

__all__ = [
    "LAYERS",
    "Register",
    "RunReport",
    "Scorer",
    "StaleRegisterError",
    "add_plots",
    "attr_hashes",
    "data_checksums",
    "geom_hashes",
    "init_register",
    "read_register",
    "read_run",
    "register_lock",
    "reproduce_run",
    "rescore",
    "write_change_report",
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
_SCORE_KEYS = ("run_id", "plot_id", "plot_version")
_RUN_COLS: dict[str, str] = {
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
_REJECT_COLS: dict[str, str] = {
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
_GEOM_TYPES = ("Polygon", "MultiPolygon", "Point")
#: Unchanged plots recomputed in an incremental run to check that stored criteria still hold.
_N_CHECK = 3
_RUN_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")

#: Environment variables of the crash-safety test hook (see :func:`_pause_point`).
_PAUSE_AT = "HANDWERKGEO_REGISTER_PAUSE_AT"
_PAUSE_FILE = "HANDWERKGEO_REGISTER_PAUSE_FILE"
_PAUSE_S = "HANDWERKGEO_REGISTER_PAUSE_S"


class StaleRegisterError(HandwerkgeoError, RuntimeError):
    """``add`` was asked to score incrementally, but the config or the data changed.

    Scores of an incremental run must be comparable with the stored ones, so ``add`` refuses
    and asks for a full ``rescore`` (or ``rescore_if_stale=True`` / ``--rescore``).
    """


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
        return cls(Path(path))

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


def _now() -> str:
    return now_iso(timespec="milliseconds")


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
    RegisterLockedError
        If another process still holds the lock after ``wait_s`` seconds.
    """
    reg = Register.at(register)
    reg.path.parent.mkdir(parents=True, exist_ok=True)
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
            "started": _now(),
            "command": " ".join(sys.argv)[:300],
        }
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


def _pause_point(phase: str) -> None:
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


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def _empty_plots() -> gpd.GeoDataFrame:
    cols = {"plot_id": "str", "plot_version": "int64", "geom_hash": "str", "attr_hash": "str"}
    cols |= {"first_seen": "str", "last_changed": "str", "valid_to": "str", "active": "bool"}
    cols |= {"source_file": "str"}
    return gpd.GeoDataFrame(_empty(cols), geometry=gpd.GeoSeries([], crs=CRS))


def _write_plots_layer(path: Path, plots: gpd.GeoDataFrame) -> None:
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
        _check_register(reg)
        return reg
    with register_lock(reg), atomic_replace_file(reg.path, copy_existing=False) as tmp:
        if reg.exists():  # created meanwhile by another process
            return reg
        _write_plots_layer(tmp, _empty_plots())
        pyogrio.write_dataframe(_empty(_SCORE_BASE), tmp, layer="scores", driver="GPKG")
        pyogrio.write_dataframe(_empty(_RUN_COLS), tmp, layer="runs", driver="GPKG")
        pyogrio.write_dataframe(_empty(_REJECT_COLS), tmp, layer="rejects", driver="GPKG")
    logger.info("created site register %s", reg.path)
    return reg


def _check_register(reg: Register) -> None:
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
    _check_register(reg)
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


# --- hashing and validation --------------------------------------------------------------


def geom_hashes(geoms: gpd.GeoSeries, *, grid_m: float = 0.01) -> pd.Series:
    """sha256 of the WKB of each normalised geometry rounded to ``grid_m`` (default 1 cm).

    Two geometries that differ only in vertex order, ring start or sub-centimetre noise get
    the same hash.

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> a = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    >>> b = Polygon([(10, 10.001), (0, 10), (0, 0), (10, 0)])  # other start, 1 mm off
    >>> h = geom_hashes(gpd.GeoSeries([a, b]))
    >>> bool(h[0] == h[1])
    True
    """
    arr = np.asarray(geoms.array)
    rounded = shapely.transform(arr, lambda xy: np.round(xy / grid_m) * grid_m)
    arr = shapely.normalize(rounded)
    wkb = shapely.to_wkb(arr, hex=False, output_dimension=2, byte_order=1)
    return pd.Series([hashlib.sha256(w).hexdigest() for w in wkb], index=geoms.index, dtype=str)


def _canon(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return None if math.isnan(f) else repr(f)
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def attr_hashes(plots: pd.DataFrame, *, exclude: tuple[str, ...] = ("plot_id",)) -> pd.Series:
    """sha256 of the canonical JSON of each row's non-empty attributes.

    Empty values (None, NaN) are left out, so a missing column and an empty value hash the
    same; numbers are compared as floats (``5`` equals ``5.0``).

    Examples
    --------
    >>> df = pd.DataFrame({"plot_id": ["a", "b"], "x": [5, 5], "y": [None, None]})
    >>> h = attr_hashes(df)
    >>> bool(h[0] == h[1]) and bool(h[0] == attr_hashes(df[["plot_id", "x"]])[0])
    True
    """
    cols = [c for c in plots.columns if c not in exclude and c != _geom_name(plots)]
    values = plots[cols].to_numpy(dtype=object)
    out = []
    for row in values:
        d = {c: v for c, v in zip(cols, (_canon(x) for x in row), strict=True) if v is not None}
        out.append(hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest())
    return pd.Series(out, index=plots.index, dtype=str)


def _geom_name(df: pd.DataFrame) -> str | None:
    return df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None


def data_checksums(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """sha256 of every input data file: from ``<data_dir>/raw/provenance.json`` when present.

    Without a provenance record every file under ``<data_dir>/raw`` is hashed. An absent
    data directory gives ``{}``.

    Returns
    -------
    dict of str to str
        ``{relative path: sha256}``, sorted by path.
    """
    raw = settings.raw_dir(data_dir)
    prov = raw / "provenance.json"
    if prov.is_file():
        from handwerkgeo.fetch import read_provenance

        files = read_provenance(data_dir).get("files", {})
        return {k: str(v.get("sha256", "")) for k, v in sorted(files.items())}
    if not raw.is_dir():
        return {}
    out = {}
    for p in sorted(raw.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            out[p.relative_to(raw).as_posix()] = file_sha256(p)
    return out


def _rejects_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return _empty(_REJECT_COLS).drop(columns="run_id")
    df = pd.DataFrame(rows, columns=[c for c in _REJECT_COLS if c != "run_id"])
    df["row"] = df["row"].astype("Int64")
    return df


def _validate_frame(
    gdf: gpd.GeoDataFrame,
    *,
    id_col: str | None,
    crs: object | None,
    name: str,
    rows: np.ndarray | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Valid plots (with their input ``_row``) and rejects of a plots GeoDataFrame.

    ``rows`` are the input row numbers of ``gdf``'s rows (default 1, 2, …; ``<NA>`` when
    unknown).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{name} must be a GeoDataFrame or the path of a plots file, not {type(gdf)!r}"
        raise TypeError(msg)
    out = to_canonical(gdf, crs=crs, name=name)
    col = id_col or "plot_id"
    if col not in out.columns:
        msg = (
            f"{name} has no id column {col!r}; columns are {list(out.columns)}. "
            "Pass id_col= (--id-col) naming the column with the plot ids."
        )
        raise MissingColumnError(msg)
    if col != "plot_id":
        out = out.drop(columns=["plot_id"], errors="ignore").rename(columns={col: "plot_id"})
    out = out.reset_index(drop=True)
    out["_row"] = pd.array(np.arange(1, len(out) + 1) if rows is None else rows, dtype="Int64")
    ids = out["plot_id"]
    geoms = out.geometry
    reasons = pd.Series("", index=out.index, dtype=object)
    reasons[ids.isna() | (ids.astype(str).str.strip() == "")] = "missing plot_id"
    empty = geoms.isna() | geoms.is_empty
    reasons[(reasons == "") & empty] = "missing or empty geometry"
    bad_type = ~empty & ~geoms.geom_type.isin(_GEOM_TYPES)
    reasons[(reasons == "") & bad_type] = "geometry is not a Polygon, MultiPolygon or Point"
    invalid = (reasons == "") & ~geoms.is_valid
    for i in np.flatnonzero(invalid.to_numpy()):
        reasons.iloc[i] = f"invalid geometry: {shapely.is_valid_reason(geoms.iloc[i])}"
    bad = (reasons != "").to_numpy()
    rejects = _rejects_frame(
        [
            {
                "source_file": name,
                "row": out["_row"].iloc[i],
                "plot_id": _str_or_none(ids.iloc[i]),
                "reason": reasons.iloc[i],
            }
            for i in np.flatnonzero(bad)
        ]
    )
    good = out.loc[~bad].copy()
    good["plot_id"] = good["plot_id"].astype(str)
    if "area_m2" not in good.columns:
        good["area_m2"] = good.geometry.area
    if "is_point" not in good.columns:
        good["is_point"] = (good.geometry.geom_type == "Point").to_numpy()
    return good, rejects


def _str_or_none(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _read_input(
    new_plots: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    id_col: str | None,
    crs: object | None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str, str]:
    """Valid plots (with ``_row``), rejects, source name and sha256 of the input."""
    if isinstance(new_plots, gpd.GeoDataFrame):
        name = "<GeoDataFrame>"
        good, rejects = _validate_frame(new_plots, id_col=id_col, crs=crs, name=name)
        return good, rejects, name, ""
    from handwerkgeo.sources.plots import read_plots

    path = Path(new_plots)
    plots = read_plots(path, crs=crs, id_col=id_col, on_invalid="reject")
    reader_rejects = plots.attrs.get("rejects")
    records: list[dict[str, Any]] = []
    if isinstance(reader_rejects, pd.DataFrame):
        reader_rejects = reader_rejects.to_dict("records")
    if reader_rejects:
        for r in reader_rejects:
            reason = str(r.get("reason") or "rejected by read_plots")
            if r.get("fix"):
                reason = f"{reason}; {r['fix']}"
            row = r.get("row")
            records.append(
                {
                    "source_file": path.name,
                    "row": None if row is None or pd.isna(row) else int(row),
                    "plot_id": _str_or_none(r.get("plot_id")),
                    "reason": reason,
                }
            )
    plots = plots.copy()
    plots.attrs = {}
    # read_plots renumbers the valid rows: their input row numbers are not known
    rows = np.full(len(plots), None, dtype=object)
    good, more = _validate_frame(plots, id_col=None, crs=None, name=path.name, rows=rows)
    rejects = _rejects_frame(records)
    if len(more):
        rejects = pd.concat([rejects, more], ignore_index=True)
    return good, rejects, path.name, file_sha256(path)


# --- one run --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RunReport:
    """What a run did. ``run_id`` is ``None`` for a no-op (nothing new; nothing recorded)."""

    register: Path
    kind: Literal["add", "rescore"]
    run_id: str | None
    n_plots: int = 0
    n_scored: int = 0
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_rejected: int = 0
    n_duplicates: int = 0
    rejects: pd.DataFrame = field(default_factory=lambda: _empty(_REJECT_COLS))
    reports_dir: Path | None = None
    map_path: Path | None = None
    message: str = ""

    @property
    def no_op(self) -> bool:
        """True when the run changed nothing and recorded nothing."""
        return self.run_id is None


def _new_run_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def _version() -> str:
    from handwerkgeo import __version__

    return __version__


def _current(plots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return plots.loc[plots["active"].astype(bool)]


def _scoring_input(versions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plots as the engine sees them: register columns dropped, sorted by plot_id."""
    out = versions.drop(columns=[c for c in PLOT_META if c in versions.columns])
    out = out.sort_values("plot_id", kind="stable").reset_index(drop=True)
    keep = [c for c in out.columns if c in ("plot_id", out.geometry.name) or out[c].notna().any()]
    return out[keep]


def _score_columns(scored: pd.DataFrame, plot_cols: list[str]) -> list[str]:
    geom = _geom_name(scored)
    return [c for c in scored.columns if c != geom and (c not in plot_cols or c == "plot_id")]


def _compute(
    scorer: Scorer,
    plots: gpd.GeoDataFrame,
    config: Any,
    context: Any,
    *,
    engine: str,
    dask_options: dict[str, Any],
) -> pd.DataFrame:
    if scorer.compute_raw is None:
        msg = "this scorer cannot compute raw criteria separately; pass a split Scorer"
        raise ConfigError(msg)
    if engine == "dask":
        raw = compute_raw_dask(plots, config, context=context, scorer=scorer, **dask_options)
    else:
        raw = scorer.compute_raw(plots, context, config)
    return with_plots(plots, raw)


def _score_run(
    scorer: Scorer,
    plots: gpd.GeoDataFrame,
    config: Any,
    *,
    context_fn: Callable[[], Any],
    to_compute: set[str] | None,
    previous_scores: pd.DataFrame | None,
    engine: str,
    dask_options: dict[str, Any],
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
        return _compute(
            scorer, subset, config, context_fn(), engine=engine, dask_options=dask_options
        )

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
                if not _same_values(checked[c], prev.loc[checked["plot_id"].to_numpy(), c])
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


def _same_values(a: pd.Series, b: pd.Series) -> bool:
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


def _append_table(path: Path, layer: str, df: pd.DataFrame) -> None:
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


def _run(
    reg: Register,
    *,
    kind: Literal["add", "rescore"],
    new_plots: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    config: Any,
    context: Any,
    scorer: Scorer | Callable[..., gpd.GeoDataFrame] | None,
    data_dir: str | os.PathLike[str] | None,
    id_col: str | None,
    crs: object | None,
    rescore_if_stale: bool,
    wait_s: float,
    engine: Literal["single", "dask"],
    dask_options: dict[str, Any],
    language: str,
    make_map: bool,
) -> RunReport:
    if engine not in ("single", "dask"):
        msg = f"engine must be 'single' or 'dask', not {engine!r}"
        raise ConfigError(msg)
    sc = resolve_scorer(scorer)
    config = config if config is not None else sc.load_config(None)
    checksums = json.dumps(data_checksums(data_dir), sort_keys=True)
    if new_plots is not None:
        good, rejects, source, input_sha = _read_input(new_plots, id_col=id_col, crs=crs)
        clash = sorted(set(good.columns) & set(PLOT_META))
        if clash:
            msg = (
                f"column(s) {', '.join(clash)} are reserved by the site register; rename them "
                "in the input"
            )
            raise ValidationError(source, [msg])
        good = good.assign(geom_hash=geom_hashes(good.geometry))
        good["attr_hash"] = attr_hashes(good.drop(columns=["_row", "geom_hash"]))
    else:
        good, rejects, source, input_sha = None, _rejects_frame([]), "", ""

    if not reg.exists():
        init_register(reg)
    cache: dict[str, Any] = {}

    def context_fn() -> Any:
        if context is not None:
            return context
        if "ctx" not in cache:
            cache["ctx"] = sc.load_context(data_dir)
        return cache["ctx"]

    with register_lock(reg, wait_s=wait_s):
        clean_stale_temps(reg.path)
        _pause_point("locked")
        started = _now()
        tables = read_register(reg, layers=("plots", "runs"))
        plots_table = gpd.GeoDataFrame(tables["plots"])
        runs = tables["runs"]
        latest = runs.iloc[-1] if len(runs) else None
        stale = latest is not None and (
            latest["config_hash"] != config.hash or latest["data_checksums"] != checksums
        )
        current = _current(plots_table)
        n_new = n_changed = n_unchanged = n_dup = 0
        changed_ids: set[str] = set()
        if good is not None:
            good, dup_rejects, classes = _classify(good, current, source)
            n_dup = len(dup_rejects)
            rejects = pd.concat([rejects, dup_rejects], ignore_index=True)
            n_new, n_changed, n_unchanged = (
                int((classes == k).sum()) for k in ("new", "changed", "same")
            )
            changed_ids = set(good.loc[classes.isin(["new", "changed"]), "plot_id"])
            if not changed_ids:
                msg = (
                    f"nothing new in {source}: {n_unchanged} plot(s) already registered "
                    f"unchanged, {len(rejects)} rejected; nothing recorded"
                )
                logger.info(msg)
                return RunReport(
                    reg.path, kind, None, n_unchanged=n_unchanged, n_rejected=len(rejects),
                    n_duplicates=n_dup, rejects=rejects, message=msg,
                )  # fmt: skip
            if stale and not rescore_if_stale:
                what = []
                if latest is not None and latest["config_hash"] != config.hash:
                    what.append(
                        f"the configuration changed (hash {config.hash[:12]} now, "
                        f"{str(latest['config_hash'])[:12]} in run {latest['run_id']})"
                    )
                if latest is not None and latest["data_checksums"] != checksums:
                    what.append("the input data files changed since the latest run")
                msg = (
                    f"cannot add plots to {reg.path} incrementally: {' and '.join(what)}, so "
                    "new scores would not be comparable with the stored ones. Run "
                    f"`handwerkgeo register rescore --register {reg.path}` first, or add with "
                    "--rescore (rescore_if_stale=True) to re-score every plot in this run."
                )
                raise StaleRegisterError(msg)
            fresh = good.loc[classes.isin(["new", "changed"]).to_numpy()]
            plots_table = _merge_versions(plots_table, fresh, started, source)
        elif current.empty:
            msg = (
                f"the site register {reg.path} holds no plots; add some first with "
                f"handwerkgeo register add PLOTS --register {reg.path}"
            )
            raise ValidationError(str(reg.path), [msg])

        versions = _current(plots_table)
        plots_in = _scoring_input(versions)
        previous_scores = None
        to_compute: set[str] | None = None
        if kind == "add" and latest is not None and not stale:
            previous_scores = read_register(reg, layers=("scores",), run_id=latest["run_id"])[
                "scores"
            ]
            to_compute = changed_ids
        scored, n_scored = _score_run(
            sc, plots_in, config, context_fn=context_fn, to_compute=to_compute,
            previous_scores=previous_scores, engine=engine, dask_options=dask_options,
        )  # fmt: skip
        run_id = _new_run_id()
        vmap = versions.set_index("plot_id")["plot_version"]
        score_cols = _score_columns(scored, [c for c in plots_in.columns if c != "plot_id"])
        scores = pd.DataFrame(scored[score_cols]).reset_index(drop=True)
        scores.insert(0, "run_id", run_id)
        scores.insert(2, "plot_version", vmap.loc[scores["plot_id"]].to_numpy().astype("int64"))
        run_row = {
            "run_id": run_id,
            "seq": int(runs["seq"].max()) + 1 if len(runs) else 1,
            "kind": kind,
            "started_at": started,
            "finished_at": "",
            "version": _version(),
            "config_hash": config.hash,
            "config_yaml": config.to_yaml(),
            "engine": engine,
            "n_plots": len(scored),
            "n_scored": n_scored,
            "n_new": n_new,
            "n_changed": n_changed,
            "n_unchanged": n_unchanged,
            "n_rejected": len(rejects),
            "n_duplicates": n_dup,
            "input_file": str(new_plots) if isinstance(new_plots, str | os.PathLike) else source,
            "input_sha256": input_sha,
            "data_checksums": checksums,
            "previous_run_id": "" if latest is None else str(latest["run_id"]),
            "score_columns": json.dumps([c for c in score_cols if c != "plot_id"]),
        }
        rej = rejects.copy()
        rej.insert(0, "run_id", run_id)
        with atomic_replace_file(reg.path) as tmp:
            _pause_point("copied")
            if good is not None:
                _write_plots_layer(tmp, plots_table)
            _pause_point("plots_written")
            _append_table(tmp, "scores", scores)
            _pause_point("scores_written")
            _append_table(tmp, "rejects", rej)
            run_row["finished_at"] = _now()
            _append_table(tmp, "runs", pd.DataFrame([run_row]).astype(_RUN_COLS))
            _pause_point("before_replace")
        _pause_point("replaced")
        logger.info(
            "%s run %s: %d plots ranked, %d scored, %d new, %d changed, %d rejected",
            kind, run_id, len(scored), n_scored, n_new, n_changed, len(rejects),
        )  # fmt: skip
    reports_dir = write_change_report(reg, run_id, language=language, rejects=rej)
    map_path = None
    if make_map:
        from handwerkgeo.export.maps import export_map

        map_path = reports_dir / "karte.html"
        export_map(scored, map_path)
    return RunReport(
        reg.path, kind, run_id, n_plots=len(scored), n_scored=n_scored, n_new=n_new,
        n_changed=n_changed, n_unchanged=n_unchanged, n_rejected=len(rejects),
        n_duplicates=n_dup, rejects=rejects, reports_dir=reports_dir, map_path=map_path,
        message=f"run {run_id}: {len(scored)} plots ranked, {n_scored} scored",
    )  # fmt: skip


def _classify(
    good: gpd.GeoDataFrame, current: gpd.GeoDataFrame, source: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.Series]:
    """Split input rows into new / changed / same; reject duplicates with a reason."""
    ids, gh, ah = good["plot_id"], good["geom_hash"], good["attr_hash"]
    reasons = pd.Series("", index=good.index, dtype=object)
    dup_id = ids.duplicated(keep=False)
    if dup_id.any():
        rows = (
            good.loc[dup_id].groupby("plot_id")["_row"].agg(lambda r: ", ".join(str(x) for x in r))
        )
        counts = ids[dup_id].map(ids.value_counts())
        reasons[dup_id] = [
            f"plot_id {p} occurs {c} times in the input (rows {rows[p]}); keep one row per plot"
            for p, c in zip(ids[dup_id], counts, strict=True)
        ]
    sub = good.loc[~dup_id]
    twin = sub["geom_hash"].duplicated(keep="first")
    if twin.any():
        first = sub.loc[~twin].drop_duplicates("geom_hash").set_index("geom_hash")["plot_id"]
        reasons[sub.index[twin]] = [
            f"same geometry as plot {first[h]} earlier in the input; if it is the same plot, "
            "keep one row"
            for h in sub.loc[twin, "geom_hash"]
        ]
    cur_geom = current.set_index("plot_id")["geom_hash"]
    cur_attr = current.set_index("plot_id")["attr_hash"]
    owner_of = current.drop_duplicates("geom_hash").set_index("geom_hash")["plot_id"]
    ok = (reasons == "").to_numpy()
    known = ids.isin(cur_geom.index).to_numpy()
    same = known & (ids.map(cur_geom) == gh).to_numpy() & (ids.map(cur_attr) == ah).to_numpy()
    owner = gh.map(owner_of)
    clash = (owner.notna() & (owner != ids)).to_numpy()
    other = owner.astype(object).to_numpy()
    changed_clash = ok & known & ~same & clash
    reasons[changed_clash] = [
        f"its new geometry equals that of registered plot {o}" for o in other[changed_clash]
    ]
    new_clash = ok & ~known & clash
    reasons[new_clash] = [
        f"same geometry as registered plot {o}; if it is the same plot, use plot_id {o}"
        for o in other[new_clash]
    ]
    classes = pd.Series("", index=good.index, dtype=object)
    classes[ok & same] = "same"
    classes[ok & known & ~same & ~clash] = "changed"
    classes[ok & ~known & ~clash] = "new"
    bad = (reasons != "").to_numpy()
    dup_rejects = _rejects_frame(
        [
            {"source_file": source, "row": r, "plot_id": str(p), "reason": why}
            for r, p, why in zip(good["_row"][bad], ids[bad], reasons[bad], strict=True)
        ]
    )
    if bad.any():
        logger.warning("%d duplicate plot(s) in %s rejected", int(bad.sum()), source)
    return good.loc[~bad], dup_rejects, classes.loc[~bad]


def _merge_versions(
    plots_table: gpd.GeoDataFrame, rows: gpd.GeoDataFrame, now: str, source: str
) -> gpd.GeoDataFrame:
    """New plot table: versions superseded by ``rows`` closed, ``rows`` appended."""
    table = plots_table.copy()
    rows = rows.drop(columns=["_row"])
    close = table["active"].astype(bool) & table["plot_id"].isin(rows["plot_id"])
    table.loc[close, "active"] = False
    table.loc[close, "valid_to"] = now
    prev_version = table.groupby("plot_id")["plot_version"].max()
    first_seen = table.groupby("plot_id")["first_seen"].min()
    rows["plot_version"] = rows["plot_id"].map(prev_version).fillna(0).astype("int64") + 1
    rows["first_seen"] = [now if pd.isna(v) else str(v) for v in rows["plot_id"].map(first_seen)]
    rows["last_changed"] = now
    rows["valid_to"] = ""
    rows["active"] = True
    rows["source_file"] = source
    geom = table.geometry.name
    if rows.geometry.name != geom:
        rows = rows.rename_geometry(geom)
    out = rows if table.empty else pd.concat([table, rows], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry=geom, crs=CRS)
    meta = [c for c in PLOT_META if c != "plot_version"]
    attrs = [c for c in out.columns if c not in ("plot_id", "plot_version", *meta, geom)]
    out = out[["plot_id", "plot_version", *attrs, *meta, geom]].reset_index(drop=True)
    out["active"] = out["active"].astype(bool)
    out["plot_version"] = out["plot_version"].astype("int64")
    return out


def add_plots(
    register: str | os.PathLike[str] | Register,
    new_plots: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    config: Any = None,
    context: Any = None,
    scorer: Scorer | Callable[..., gpd.GeoDataFrame] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    id_col: str | None = None,
    crs: object | None = None,
    rescore_if_stale: bool = False,
    wait_s: float = 0,
    engine: Literal["single", "dask"] = "single",
    workers: int | None = None,
    scheduler: str | None = None,
    npartitions: int | None = None,
    language: str = "de",
    make_map: bool = False,
) -> RunReport:
    """Register a listing of plots and score the new and changed ones.

    The listing is validated (files with :func:`handwerkgeo.sources.plots.read_plots`,
    ``on_invalid="reject"``); invalid rows, rows whose ``plot_id`` occurs more than once,
    and plots whose geometry equals another plot's (same ``geom_hash``) are not registered
    but recorded in ``rejects`` with a reason. A plot id not yet registered is *new*; a
    registered id with another geometry or other attributes is *changed* (a new version;
    ``last_changed`` set, the old version kept with ``active`` false); otherwise it is
    unchanged. Criteria are computed only for new and changed plots when the configuration
    hash and the data checksums equal those of the latest run; every plot is then ranked
    again globally. If nothing is new or changed the call is a no-op and records nothing.

    Parameters
    ----------
    register
        Path of the register; created when missing.
    new_plots
        Plots file (any format :func:`read_plots` reads) or a GeoDataFrame with ``plot_id``
        (or ``id_col``).
    config
        Scoring configuration (``.hash``, ``.to_yaml()``); ``None`` is the packaged default.
    context
        Scoring context; ``None`` loads it from ``data_dir`` when something is scored.
    scorer
        The scoring engine (see :class:`Scorer`); ``None`` is :mod:`handwerkgeo.scoring`.
    data_dir
        Data directory whose ``raw`` files are checksummed (see :func:`data_checksums`).
    id_col, crs
        Passed to the plots reader: id column and the CRS of files without one.
    rescore_if_stale
        When the configuration or the data changed since the latest run, re-score every
        plot in this run instead of raising :class:`StaleRegisterError`.
    wait_s
        Seconds to wait for another writer (0: fail at once).
    engine, workers, scheduler, npartitions
        ``"dask"`` computes criteria with :func:`handwerkgeo.scale.compute_raw_dask`.
    language
        Headers of the change report: ``"de"`` (default) or ``"en"``.
    make_map
        Also write an offline map of the run (``karte.html`` in the reports directory).

    Returns
    -------
    RunReport

    Raises
    ------
    StaleRegisterError
        If the configuration or the data changed and ``rescore_if_stale`` is false.
    RegisterLockedError
        If another process writes the register for longer than ``wait_s``.
    """
    return _run(
        Register.at(register), kind="add", new_plots=new_plots, config=config, context=context,
        scorer=scorer, data_dir=data_dir, id_col=id_col, crs=crs,
        rescore_if_stale=rescore_if_stale, wait_s=wait_s, engine=engine,
        dask_options={"npartitions": npartitions, "workers": workers, "scheduler": scheduler},
        language=language, make_map=make_map,
    )  # fmt: skip


def rescore(
    register: str | os.PathLike[str] | Register,
    *,
    config: Any = None,
    context: Any = None,
    scorer: Scorer | Callable[..., gpd.GeoDataFrame] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    wait_s: float = 0,
    engine: Literal["single", "dask"] = "single",
    workers: int | None = None,
    scheduler: str | None = None,
    npartitions: int | None = None,
    language: str = "de",
    make_map: bool = False,
) -> RunReport:
    """Score every active plot of the register again and record a ``rescore`` run.

    Use it after changing the configuration or fetching new data. Unlike :func:`add_plots`
    it always records a run (an explicit request, e.g. after a software update); with the
    same configuration and data the scores equal those of the previous run.

    Parameters are those of :func:`add_plots`.

    Returns
    -------
    RunReport
    """
    reg = Register.at(register)
    _check_register(reg)
    return _run(
        reg, kind="rescore", new_plots=None, config=config, context=context, scorer=scorer,
        data_dir=data_dir, id_col=None, crs=None, rescore_if_stale=True, wait_s=wait_s,
        engine=engine,
        dask_options={"npartitions": npartitions, "workers": workers, "scheduler": scheduler},
        language=language, make_map=make_map,
    )  # fmt: skip


# --- reading runs, reproducing them ----------------------------------------------------------


def _run_row(runs: pd.DataFrame, run_id: str, path: Path) -> pd.Series:
    hit = runs.loc[runs["run_id"] == run_id]
    if hit.empty:
        known = ", ".join(runs["run_id"].tail(5)) or "none"
        msg = f"run {run_id} is not in the register; latest runs: {known}"
        raise ValidationError(str(path), [msg])
    return hit.iloc[0]


def _run_plots(reg: Register, scores: pd.DataFrame) -> gpd.GeoDataFrame:
    """The plot versions scored in a run, as the engine saw them."""
    plots = read_register(reg, layers=("plots",))["plots"]
    keys = scores[["plot_id", "plot_version"]].astype({"plot_version": "int64"})
    return _scoring_input(plots.merge(keys, on=["plot_id", "plot_version"]))


def read_run(
    register: str | os.PathLike[str] | Register, run_id: str | None = None
) -> gpd.GeoDataFrame:
    """The scored frame of a run (latest when ``run_id`` is ``None``) from the register.

    Returns
    -------
    geopandas.GeoDataFrame
        The plot versions of the run with their stored scores, in ``plot_id`` order;
        ``attrs["run"]`` holds ``run_id``, ``config_hash``, ``config_yaml``, ``version``,
        ``scored_at`` and ``score_columns``.
    """
    reg = Register.at(register)
    runs = read_register(reg, layers=("runs",))["runs"]
    if run_id is None:
        if runs.empty:
            msg = "the register has no runs yet; add plots first"
            raise ValidationError(str(reg.path), [msg])
        run_id = str(runs["run_id"].iloc[-1])
    run = _run_row(runs, run_id, reg.path)
    scores = read_register(reg, layers=("scores",), run_id=run_id)["scores"]
    cols = [c for c in json.loads(run["score_columns"]) if c in scores.columns]
    versions = _run_plots(reg, scores)
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
    scorer: Scorer | Callable[..., gpd.GeoDataFrame] | None = None,
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
    run = _run_row(runs, run_id, reg.path)
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
    if run["version"] != _version():
        logger.warning("run %s was scored with handwerkgeo %s", run_id, run["version"])
    scores = read_register(reg, layers=("scores",), run_id=run_id)["scores"]
    plots = _run_plots(reg, scores)
    ctx = context if context is not None else sc.load_context(data_dir)
    return sc.score(plots, config, ctx)


# --- change reports --------------------------------------------------------------------------

_HEADERS_DE = {
    "plot_id": "Flächen-ID",
    "name": "Name",
    "change": "Änderung",
    "score_prev": "Punkte vorher",
    "score_now": "Punkte jetzt",
    "score_delta": "Punkte Differenz",
    "rank_prev": "Rang vorher",
    "rank_now": "Rang jetzt",
    "rank_move": "Rang verbessert um",
    "excluded_prev": "ausgeschlossen vorher",
    "excluded_now": "ausgeschlossen jetzt",
    "exclusion_reason": "Ausschlussgrund",
}
_CHANGE_DE = {
    "new": "neu",
    "changed": "Geometrie oder Angaben geändert (neue Version)",
    "newly_excluded": "neu ausgeschlossen",
    "readmitted": "wieder zugelassen",
    "score": "Punkte geändert",
    "rank": "Rang geändert",
}
_REJECT_HEADERS_DE = {
    "run_id": "Lauf",
    "source_file": "Quelldatei",
    "row": "Zeile",
    "plot_id": "Flächen-ID",
    "reason": "Grund",
}


def _change_table(
    now: pd.DataFrame, prev: pd.DataFrame | None, plots: pd.DataFrame
) -> pd.DataFrame:
    cur = now[["plot_id", "plot_version", "score_total", "rank", "excluded", "exclusion_reason"]]
    cur = cur.rename(
        columns={"score_total": "score_now", "rank": "rank_now", "excluded": "excluded_now"}
    )
    if prev is None or prev.empty:
        prev = pd.DataFrame(columns=["plot_id", "plot_version", "score_total", "rank", "excluded"])
    p = prev[["plot_id", "plot_version", "score_total", "rank", "excluded"]].rename(
        columns={
            "plot_version": "version_prev",
            "score_total": "score_prev",
            "rank": "rank_prev",
            "excluded": "excluded_prev",
        }
    )
    t = cur.merge(p, on="plot_id", how="left")
    t["rank_now"] = t["rank_now"].astype("Int64")
    t["rank_prev"] = t["rank_prev"].astype("Int64")
    t["score_delta"] = t["score_now"] - t["score_prev"].astype(float)
    t["rank_move"] = t["rank_prev"] - t["rank_now"]
    ex_prev = t["excluded_prev"].astype("boolean")
    ex_now = t["excluded_now"].astype(bool)
    new = t["version_prev"].isna().to_numpy()
    changed = ~new & (t["version_prev"].astype("Int64") != t["plot_version"]).fillna(False)
    was_ex = ex_prev.fillna(False).to_numpy(dtype=bool)
    is_ex = ex_now.to_numpy(dtype=bool)
    flags = {
        "new": new,
        "changed": changed.to_numpy(dtype=bool),
        "newly_excluded": ~new & is_ex & ~was_ex,
        "readmitted": ~new & ~is_ex & was_ex,
        "score": ~new & (t["score_delta"].abs() > 1e-9).fillna(False).to_numpy(dtype=bool),
        "rank": ~new & (t["rank_move"].fillna(0) != 0).to_numpy(dtype=bool),
    }
    names = list(flags)
    matrix = np.column_stack([flags[k] for k in names])
    labels = [",".join(n for n, f in zip(names, row, strict=True) if f) for row in matrix]
    t["change"] = labels
    t["excluded_prev"] = ex_prev
    if "name" in plots.columns:
        plot_names = plots.drop_duplicates("plot_id", keep="last").set_index("plot_id")["name"]
        t.insert(1, "name", t["plot_id"].map(plot_names))
    t = t.loc[t["change"] != ""]
    order = ["plot_id", *(["name"] if "name" in t.columns else []), "change", "score_prev"]
    order += ["score_now", "score_delta", "rank_prev", "rank_now", "rank_move"]
    order += ["excluded_prev", "excluded_now", "exclusion_reason"]
    t = t[order].sort_values(["rank_now", "plot_id"], na_position="last", kind="stable")
    return t.reset_index(drop=True)


def write_change_report(
    register: str | os.PathLike[str] | Register,
    run_id: str,
    *,
    language: str = "de",
    rejects: pd.DataFrame | None = None,
) -> Path:
    """Write the change report of a run as CSV and XLSX into ``<register>.reports/<run_id>/``.

    The report lists every plot that is new, changed, moved in rank, changed its score, or
    was newly excluded (or readmitted) compared with the previous run, plus the run's
    rejects. German headers by default (CSV with ``;`` and decimal comma, UTF-8 with BOM,
    as German Excel expects); ``language="en"`` gives English headers and plain CSV. The
    report is derived from the register and can be written again at any time.

    Returns
    -------
    pathlib.Path
        The run's reports directory (``aenderungen.csv``, ``aenderungen.xlsx``,
        ``abgelehnt.csv``; English names with ``language="en"``).
    """
    if language not in ("de", "en"):
        msg = f"language must be 'de' or 'en', not {language!r}"
        raise ConfigError(msg)
    reg = Register.at(register)
    run = _run_row(read_register(reg, layers=("runs",))["runs"], run_id, reg.path)
    now = read_register(reg, layers=("plots", "scores", "rejects"), run_id=run_id)
    prev_id = str(run["previous_run_id"]) if pd.notna(run["previous_run_id"]) else ""
    prev = read_register(reg, layers=("scores",), run_id=prev_id)["scores"] if prev_id else None
    table = _change_table(now["scores"], prev, now["plots"])
    rej = now["rejects"] if rejects is None else rejects
    rej = rej[[c for c in _REJECT_COLS if c in rej.columns]]
    de = language == "de"
    for c in ("score_prev", "score_now", "score_delta"):
        table[c] = table[c].astype(float).round(2)
    if de:
        yes_no = {True: "ja", False: "nein"}
        for c in ("excluded_prev", "excluded_now"):
            table[c] = table[c].map(lambda v: yes_no.get(v, "") if pd.notna(v) else "")
        table["change"] = table["change"].map(
            lambda s: ", ".join(_CHANGE_DE[x] for x in s.split(",") if x)
        )
        table = table.rename(columns=_HEADERS_DE)
        rej = rej.rename(columns=_REJECT_HEADERS_DE)
    # ids, names and reasons come from the listing: never let a spreadsheet evaluate them
    # (openpyxl even stores a text starting with "=" as a formula)
    table, rej = excel_safe(table), excel_safe(rej)
    out = reg.reports_dir / run_id
    out.mkdir(parents=True, exist_ok=True)
    csv_opts: dict[str, Any] = {"sep": ";", "decimal": ","} if de else {}
    stem, rstem = ("aenderungen", "abgelehnt") if de else ("changes", "rejects")
    enc = "utf-8-sig" if de else "utf-8"
    atomic_write_bytes(out / f"{stem}.csv", table.to_csv(index=False, **csv_opts).encode(enc))
    atomic_write_bytes(out / f"{rstem}.csv", rej.to_csv(index=False, **csv_opts).encode(enc))
    meta = pd.DataFrame(
        {
            ("Feld" if de else "field"): [
                "run_id", "kind", "started_at", "finished_at", "version", "config_hash",
                "n_plots", "n_scored", "n_new", "n_changed", "n_rejected", "previous_run_id",
            ],
        }
    )  # fmt: skip
    meta["Wert" if de else "value"] = [str(run[k]) for k in meta.iloc[:, 0]]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        table.to_excel(xw, sheet_name="Änderungen" if de else "Changes", index=False)
        rej.to_excel(xw, sheet_name="Abgelehnt" if de else "Rejects", index=False)
        meta.to_excel(xw, sheet_name="Lauf" if de else "Run", index=False)
    atomic_write_bytes(out / f"{stem}.xlsx", buf.getvalue())
    logger.info("change report of run %s written to %s", run_id, out)
    return out
