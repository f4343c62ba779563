"""What a run reads from the register and the one transaction in which it writes.

Reads touch only what a run needs: the hashes of the current plot versions (no
geometries), the plots it recomputes, the latest score rows of a few plots, and the
ranks of the state at a run (three columns, ranked in SQL). :func:`write_run` writes the
run's changes — superseded versions closed, new versions, score rows, rejects, the run
row — in one SQLite transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from handwerkgeo._geom import to_multipolygons
from handwerkgeo._io import now_iso
from handwerkgeo.errors import RegisterLockedError
from handwerkgeo.register import _sqlite as sq
from handwerkgeo.register._postgis import PgSession
from handwerkgeo.register._styles import style_layers
from handwerkgeo.register._views import (
    RANK_SQL,
    UPDATE_CURRENT,
    create_views,
    extend_rank_numbers,
    latest_scores_sql,
)
from handwerkgeo.register.storage import (
    POINT_TABLE,
    RUN_COLS,
    Register,
    pause_point,
    read_plot_tables,
    typed_frame,
)

__all__ = [
    "RunWrite",
    "all_plots",
    "current_hashes",
    "current_plots",
    "ensure_hash_index",
    "insert_plots",
    "latest_rows",
    "plot_names",
    "plot_versions",
    "rank_rows",
    "reader",
    "run_rows",
    "sample_ids",
    "scored_versions",
    "state_ranks",
    "write_run",
]

_PLOT_TABLES = ("plots", POINT_TABLE)


@contextlib.contextmanager
def reader(reg: Register) -> Iterator[Any]:
    """A read connection to the register (rolls back what a killed writer left).

    For a PostgreSQL register it is a :class:`~._postgis.PgSession`, whose methods the
    functions below call instead.
    """
    con = PgSession(reg.url) if reg.url else sq.connect(reg.path)
    try:
        yield con
    finally:
        con.close()


def _in(ids: Sequence[str]) -> str:
    return ", ".join("?" for _ in ids)


def current_hashes(
    con: sqlite3.Connection,
    *,
    ids: Sequence[str] | None = None,
    geom_hashes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """plot_id, plot_version, geom_hash, attr_hash, first_seen of the current versions.

    With ``ids`` and/or ``geom_hashes`` (a listing's) only the current versions a listing
    can touch — same id or same geometry — found through the indexes on ``plot_id`` and
    ``geom_hash``: a listing of 100 plots does not read the hashes of 100,000.
    """
    near = ids is not None or geom_hashes is not None
    id_list = [] if ids is None else [str(i) for i in ids]
    hash_list = [] if geom_hashes is None else [str(h) for h in geom_hashes]
    if isinstance(con, PgSession):
        df = con.current_hashes()
        if near:
            keep = df["plot_id"].isin(id_list) | df["geom_hash"].isin(hash_list)
            df = df.loc[keep.to_numpy()].reset_index(drop=True)
        return df
    where = "active"
    if near:
        tid = _temp_ids(con, id_list)
        th = _temp_ids(con, hash_list, table="hashes_wanted")
        where += f" AND (plot_id IN (SELECT id FROM {tid}) OR geom_hash IN (SELECT id FROM {th}))"
    sql = " UNION ALL ".join(
        f"SELECT plot_id, plot_version, geom_hash, attr_hash, first_seen FROM {sq.quote(t)} "
        f"WHERE {where}"
        for t in _PLOT_TABLES
    )
    df = sq.read_frame(con, sql)
    df["plot_version"] = pd.to_numeric(df["plot_version"]).astype("int64")
    return df


def plot_versions(con: sqlite3.Connection) -> pd.DataFrame:
    """plot_id and plot_version of every current version (no hashes, no geometry)."""
    if isinstance(con, PgSession):
        return con.current_hashes()[["plot_id", "plot_version"]]
    sql = " UNION ALL ".join(
        f"SELECT plot_id, plot_version FROM {sq.quote(t)} WHERE active" for t in _PLOT_TABLES
    )
    df = sq.read_frame(con, sql)
    df["plot_version"] = pd.to_numeric(df["plot_version"]).astype("int64")
    return df


def scored_versions(
    reg: Register, current: pd.DataFrame, new_rows: pd.DataFrame | None, scored: pd.Series
) -> pd.DataFrame:
    """plot_id → plot_version of the scored plots: from the current versions the listing
    touched (``current``) and the new ones, else (every plot scored) of every plot."""
    parts = [current[["plot_id", "plot_version"]]]
    if new_rows is not None:
        parts.append(new_rows[["plot_id", "plot_version"]])
    versions = pd.concat(parts)
    if not scored.isin(versions["plot_id"]).all():  # every plot scored (not incremental)
        with reader(reg) as con:
            parts[0] = plot_versions(con)
        versions = pd.concat(parts)
    return versions


def sample_ids(con: sqlite3.Connection, exclude: set[str], n: int = 3) -> list[str]:
    """Up to ``n`` plot ids with stored scores, not in ``exclude``, spread over the sorted ids.

    SQLite: read by offset on the primary key of ``current_scores`` (no scan of all ids).
    """
    if isinstance(con, PgSession):
        ids = np.sort(con.current_hashes()["plot_id"].astype(str).to_numpy())
        ids = ids[~np.isin(ids, list(exclude))]
        spread = np.unique(np.linspace(0, len(ids) - 1, num=min(n, len(ids))).astype(int))
        return [str(x) for x in ids[spread]] if len(ids) else []
    temp = _temp_ids(con, sorted(exclude), table="ids_excluded")
    base = f"FROM current_scores WHERE plot_id NOT IN (SELECT id FROM {temp})"
    total = int(con.execute(f"SELECT COUNT(*) {base}").fetchone()[0])
    if not total:
        return []
    spread = np.unique(np.linspace(0, total - 1, num=min(n, total)).astype(int))
    sql = f"SELECT plot_id {base} ORDER BY plot_id LIMIT 1 OFFSET ?"
    return [str(con.execute(sql, (int(k),)).fetchone()[0]) for k in spread]


def ensure_hash_index(con: sqlite3.Connection) -> None:
    """Index ``geom_hash`` of both plot tables (registers made before it get it once)."""
    for t in _PLOT_TABLES:
        name = sq.quote(f"{t}_geom_hash")
        con.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {sq.quote(t)} (geom_hash)")


def current_plots(con: sqlite3.Connection, ids: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Current versions (all, or of ``ids``) with geometry and attributes."""
    if isinstance(con, PgSession):
        return con.current_plots(ids)
    if ids is None:
        return read_plot_tables(con, "active")
    ids = list(ids)
    if not ids:
        return read_plot_tables(con, "0")
    temp = _temp_ids(con, ids)
    return read_plot_tables(con, f"active AND plot_id IN (SELECT id FROM {temp})")


def all_plots(con: Any) -> gpd.GeoDataFrame:
    """Every plot version (current and superseded) with geometry and attributes."""
    if isinstance(con, PgSession):
        return con.plot_tables()
    return read_plot_tables(con)


def _temp_ids(con: sqlite3.Connection, ids: Sequence[str], table: str = "ids_wanted") -> str:
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY)")
    con.execute(f"DELETE FROM {table}")
    con.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?)", ((str(i),) for i in ids))
    return f"temp.{table}"


def latest_rows(
    con: sqlite3.Connection, *, ids: Sequence[str] | None = None, upto_seq: int | None = None
) -> pd.DataFrame:
    """Each plot's latest score row (of runs up to ``upto_seq``), for ``ids`` or all plots."""
    if isinstance(con, PgSession):
        return con.latest_rows(ids=ids, upto_seq=upto_seq)
    sql = latest_scores_sql("?" if upto_seq is not None else None)
    params: list[Any] = [] if upto_seq is None else [int(upto_seq)]
    if ids is not None:
        temp = _temp_ids(con, list(ids))
        sql = f"SELECT * FROM ({sql}) WHERE plot_id IN (SELECT id FROM {temp})"
    types = sq.table_columns(con, "scores")
    return typed_frame(sq.read_frame(con, sql, params), types)


def state_ranks(con: sqlite3.Connection, upto_seq: int) -> pd.DataFrame:
    """plot_id, plot_version, score_total, excluded, exclusion_reason, rank after a run."""
    if isinstance(con, PgSession):
        return con.state_ranks(upto_seq)
    last = con.execute("SELECT MAX(seq) FROM runs").fetchone()[0]
    if last is not None and int(upto_seq) >= int(last):  # the current state: no join
        df = _columnar(
            con,
            "SELECT plot_id, plot_version, score_total, excluded, exclusion_reason "
            "FROM current_scores",
        )
        df = typed_frame(df, {"excluded": "BOOLEAN", "score_total": "REAL"})
        df["rank"] = rank_rows(df["score_total"], df["excluded"], df["plot_id"])
        df["plot_version"] = pd.to_numeric(df["plot_version"]).astype("int64")
        return df
    sql = (
        f"WITH latest AS ({latest_scores_sql('?')}) SELECT plot_id, plot_version, "
        f"score_total, excluded, exclusion_reason, {RANK_SQL} AS rank FROM latest"
    )
    df = sq.read_frame(con, sql, (int(upto_seq),))
    types = {"excluded": "BOOLEAN", "score_total": "REAL", "rank": "INTEGER"}
    return typed_frame(df, types | {"plot_version": "INTEGER"})


def _columnar(con: sqlite3.Connection, sql: str) -> pd.DataFrame:
    """Rows of a query on the register's file read column-wise (GDAL's Arrow stream: about
    six times faster than Python tuples for 100,000 rows); the connection's rows otherwise."""
    path = next((r[2] for r in con.execute("PRAGMA database_list") if r[1] == "main"), "")
    if not path:  # an in-memory or temporary database: only this connection sees it
        return sq.read_frame(con, sql)
    _meta, table = pyogrio.read_arrow(path, sql=sql)
    return table.to_pandas()


def rank_rows(score: pd.Series, excluded: pd.Series, plot_id: pd.Series) -> pd.Series:
    """Ranks by the engine's rule: not excluded with a score, score descending, then id."""
    ok = ~excluded.fillna(False).astype(bool).to_numpy() & np.isfinite(
        score.astype(float).to_numpy()
    )
    rank = pd.Series(pd.NA, index=score.index, dtype="Int64")
    if ok.any():
        frame = pd.DataFrame({"s": score.astype(float), "id": plot_id.astype(str)}).loc[ok]
        order = frame.sort_values(["s", "id"], ascending=[False, True], kind="stable").index
        rank.loc[order] = np.arange(1, len(order) + 1)
    return rank


# --- writing a run ---------------------------------------------------------------------------


@dataclass
class RunWrite:
    """The changes of one run."""

    close_ids: list[str]
    new_plots: gpd.GeoDataFrame | None
    scores: pd.DataFrame
    rejects: pd.DataFrame
    run: dict[str, Any]
    started: str


def _srs(con: sqlite3.Connection, table: str) -> int:
    row = con.execute(
        "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
    ).fetchone()
    return int(row[0])


def _write_plots(con: sqlite3.Connection, w: RunWrite) -> bool:
    """Close superseded versions and insert the new ones; whether columns were added."""
    if w.close_ids:
        temp = _temp_ids(con, w.close_ids)
        for t in _PLOT_TABLES:
            con.execute(
                f"UPDATE {sq.quote(t)} SET active = 0, valid_to = ? "
                f"WHERE active AND plot_id IN (SELECT id FROM {temp})",
                (w.started,),
            )
    if w.new_plots is None or w.new_plots.empty:
        return False
    return insert_plots(con, w.new_plots)


def insert_plots(con: sqlite3.Connection, plots: gpd.GeoDataFrame) -> bool:
    """Insert plot versions: polygons (as MultiPolygon) into ``plots``, points into
    ``plot_points``; whether columns were added."""
    attrs = pd.DataFrame(plots.drop(columns=plots.geometry.name))
    added = [bool(sq.add_columns(con, t, attrs)) for t in _PLOT_TABLES]
    geoms = to_multipolygons(np.asarray(plots.geometry.array, dtype=object))
    points = shapely.get_type_id(geoms) == 0
    for table, mask in (("plots", ~points), (POINT_TABLE, points)):
        if mask.any():
            blobs = sq.encode_geometries(geoms[mask], _srs(con, table))
            sq.insert_rows(con, table, attrs.loc[mask], blobs=blobs)
            _extend_extent(con, table, geoms[mask])
    return any(added)


def _extend_extent(con: sqlite3.Connection, table: str, geoms: np.ndarray) -> None:
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    con.execute(
        "UPDATE gpkg_contents SET min_x = MIN(COALESCE(min_x, ?), ?), "
        "min_y = MIN(COALESCE(min_y, ?), ?), max_x = MAX(COALESCE(max_x, ?), ?), "
        "max_y = MAX(COALESCE(max_y, ?), ?) WHERE table_name = ?",
        (x0, x0, y0, y0, x1, x1, y1, y1, table),
    )


def write_run(reg: Register, w: RunWrite) -> None:
    """Write one run's changes in ONE transaction (see :mod:`handwerkgeo.register._sqlite`)."""
    if reg.url:
        from handwerkgeo.register._postgis_write import write_run_pg

        write_run_pg(reg.url, w)
        return
    try:
        _write_gpkg(reg, w)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
            raise
        msg = (
            f"the site register {reg.path} could not be written: another program keeps it "
            f"open in a transaction ({exc}); e.g. QGIS editing a layer of it. Save or close "
            "the edits there and run again; nothing was changed."
        )
        raise RegisterLockedError(msg) from exc


def _write_gpkg(reg: Register, w: RunWrite) -> None:
    with sq.transaction(reg.path) as con:
        pause_point("begun")
        ensure_hash_index(con)
        added = _write_plots(con, w)
        pause_point("plots_written")
        added = bool(sq.add_columns(con, "scores", w.scores)) or added
        sq.insert_rows(con, "scores", w.scores)
        con.execute(UPDATE_CURRENT, (int(w.run["seq"]),))
        pause_point("scores_written")
        sq.insert_rows(con, "rejects", w.rejects)
        w.run["finished_at"] = now_iso(timespec="milliseconds")
        sq.insert_rows(con, "runs", pd.DataFrame([w.run]).astype(RUN_COLS))
        if added:
            create_views(con)
            style_layers(con, w.run)  # aliases and map tips for the new columns
        else:
            extend_rank_numbers(con, int(w.run["n_plots"]) or None)
        stamp = now_iso(timespec="milliseconds").replace("+00:00", "Z")
        con.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
        pause_point("before_commit")
    pause_point("committed")


def run_rows(con: sqlite3.Connection, seq: int) -> pd.DataFrame:
    """The score rows a run stored."""
    if isinstance(con, PgSession):
        return con.run_rows(seq)
    types = sq.table_columns(con, "scores")
    df = sq.read_frame(con, "SELECT * FROM scores WHERE run_seq = ?", (int(seq),))
    return typed_frame(df, types)


def plot_names(con: sqlite3.Connection, ids: Sequence[str]) -> pd.Series:
    """``name`` of the current version of each of ``ids`` (empty when plots have no name)."""
    if isinstance(con, PgSession):
        return con.plot_names(ids)
    if "name" not in sq.table_columns(con, "plots"):
        return pd.Series(dtype=object)
    temp = _temp_ids(con, list(ids))
    sql = " UNION ALL ".join(
        f"SELECT plot_id, name FROM {sq.quote(t)} WHERE active AND plot_id IN "
        f"(SELECT id FROM {temp})"
        for t in _PLOT_TABLES
    )
    df = sq.read_frame(con, sql)
    return df.drop_duplicates("plot_id").set_index("plot_id")["name"]
