"""Spatial views of the site register: the latest score and current rank of every plot.

``ranking`` (MultiPolygon, the polygon plots) and ``ranking_points`` (Point, the plots
listed as points) are SQL views registered in ``gpkg_contents`` and
``gpkg_geometry_columns`` as feature layers (GDAL's "spatial views"), so QGIS and ogrinfo
list them as layers; they are computed when read, never stored, so a run writes nothing
for them. Each holds the current version of each plot with the score row of the latest run
that scored it, and ``rank`` over ALL current plots (both layers) by the engine's rule:
plots not excluded and with a score, by ``score_total`` descending, ties by ``plot_id``.
The views are recreated (same name, same registration) when a run adds columns.
"""

from __future__ import annotations

import sqlite3

from handwerkgeo.register import _sqlite as sq

__all__ = [
    "CURRENT_SCORES",
    "RANK_SQL",
    "UPDATE_CURRENT",
    "create_views",
    "extend_rank_numbers",
    "latest_scores_sql",
]

#: SQL expression of the rank among the rows of a query with score_total and excluded.
RANK_SQL = (
    "CASE WHEN COALESCE(excluded, 0) = 0 AND score_total IS NOT NULL THEN ROW_NUMBER() OVER ("
    "PARTITION BY (COALESCE(excluded, 0) = 0 AND score_total IS NOT NULL) "
    "ORDER BY score_total DESC, plot_id) END"
)

_VIEWS = {"ranking": ("plots", "MULTIPOLYGON"), "ranking_points": ("plot_points", "POINT")}
_PLOT_HIDDEN = ("fid", "geom", "geom_hash", "attr_hash", "valid_to", "active")
_SCORE_HIDDEN = ("plot_id", "plot_version", "rank", "run_seq")


#: Each plot's latest score row is kept in ``current_scores`` (plot_id → run_seq and the
#: columns a ranking needs), updated by every run for the rows it stored: O(changes).
CURRENT_SCORES = (
    "CREATE TABLE IF NOT EXISTS current_scores (plot_id TEXT PRIMARY KEY, plot_version "
    "INTEGER, run_seq INTEGER, score_total REAL, excluded BOOLEAN, exclusion_reason TEXT)"
)
UPDATE_CURRENT = (
    "INSERT OR REPLACE INTO current_scores (plot_id, plot_version, run_seq, score_total, "
    "excluded, exclusion_reason) SELECT plot_id, plot_version, run_seq, score_total, excluded, "
    "exclusion_reason FROM scores WHERE run_seq >= ? ORDER BY run_seq"
)


def latest_scores_sql(upto_seq: str | None = None) -> str:
    """Query of each plot's latest score row (of runs up to ``upto_seq``, an SQL parameter)."""
    if not upto_seq:
        return (
            "SELECT s.* FROM current_scores c JOIN scores s "
            "ON s.plot_id = c.plot_id AND s.run_seq = c.run_seq"
        )
    cond = f"WHERE run_seq <= {upto_seq}"
    return (
        "SELECT s.* FROM scores s JOIN (SELECT plot_id, MAX(run_seq) AS m FROM scores "
        f"{cond} GROUP BY plot_id) l ON s.plot_id = l.plot_id AND s.run_seq = l.m"
    )


def _view_sql(con: sqlite3.Connection, view: str, table: str) -> str:
    plot_cols = [c for c in sq.table_columns(con, table) if c not in _PLOT_HIDDEN]
    score_cols = [c for c in sq.table_columns(con, "scores") if c not in _SCORE_HIDDEN]
    sel = ["p.fid AS OGC_FID", "p.geom AS geom"]
    sel += [f"p.{sq.quote(c)} AS {sq.quote(c)}" for c in plot_cols]
    sel += ["n.n AS rank"]  # through an INTEGER column: GDAL and QGIS type it as integer
    sel += [f"r.{sq.quote(c)} AS {sq.quote(c)}" for c in score_cols if c not in plot_cols]
    return (
        f"CREATE VIEW {sq.quote(view)} AS WITH latest AS ({latest_scores_sql()}), "
        f"ranked AS (SELECT latest.*, {RANK_SQL} AS rank_now FROM latest) "
        f"SELECT {', '.join(sel)} FROM {sq.quote(table)} p JOIN ranked r "
        "ON r.plot_id = p.plot_id AND r.plot_version = p.plot_version "
        "LEFT JOIN rank_numbers n ON n.n = r.rank_now WHERE p.active"
    )


def extend_rank_numbers(con: sqlite3.Connection, need: int | None = None) -> None:
    """Make ``rank_numbers`` (1 … number of plots) long enough for every rank.

    ``need``: the number of current plots when the caller knows it (a run: the plots it
    ranked), else counted (a scan of both plot tables).
    """
    con.execute("CREATE TABLE IF NOT EXISTS rank_numbers (n INTEGER PRIMARY KEY)")
    have = con.execute("SELECT COALESCE(MAX(n), 0) FROM rank_numbers").fetchone()[0]
    if need is None:
        need = con.execute(
            "SELECT (SELECT COUNT(*) FROM plots WHERE active) "
            "+ (SELECT COUNT(*) FROM plot_points WHERE active)"
        ).fetchone()[0]
    con.executemany(
        "INSERT INTO rank_numbers VALUES (?)", ((i,) for i in range(have + 1, need + 1))
    )


def create_views(con: sqlite3.Connection) -> None:
    """(Re)create the ranking views and register them as GeoPackage feature layers."""
    con.execute(CURRENT_SCORES)
    extend_rank_numbers(con)
    for view, (table, gtype) in _VIEWS.items():
        con.execute(f"DROP VIEW IF EXISTS {sq.quote(view)}")
        con.execute(_view_sql(con, view, table))
        srs = con.execute(
            "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
        ).fetchone()[0]
        con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, srs_id) VALUES (?, 'features', ?, ?, ?)",
            (view, view, f"latest score and current rank of the plots in {table}", srs),
        )
        con.execute(
            "INSERT OR IGNORE INTO gpkg_geometry_columns (table_name, column_name, "
            "geometry_type_name, srs_id, z, m) VALUES (?, 'geom', ?, ?, 0, 0)",
            (view, gtype, srs),
        )
