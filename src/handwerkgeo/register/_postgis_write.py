"""One register run written to PostgreSQL/PostGIS in ONE transaction, rows with ``COPY``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from handwerkgeo._geom import to_multipolygons
from handwerkgeo._io import now_iso
from handwerkgeo.crs import CRS
from handwerkgeo.register import _sqlite as sq
from handwerkgeo.register._postgis import (
    PG_TYPES,
    compose,
    connect,
    create_views,
    ident,
    pg_parts,
    table_types,
)
from handwerkgeo.register.storage import POINT_TABLE, RUN_COLS, pause_point

if TYPE_CHECKING:
    import psycopg

    from handwerkgeo.register._state import RunWrite

__all__ = ["write_run_pg"]

_PLOT_TABLES = ("plots", POINT_TABLE)


def _add_columns(con: psycopg.Connection[Any], schema: str, table: str, df: pd.DataFrame) -> bool:
    have = table_types(con, schema, table)
    added = False
    for col in df.columns:
        if str(col) not in have:
            kind = PG_TYPES[sq.sql_type(df[col])]
            con.execute(
                compose(
                    "ALTER TABLE {t} ADD COLUMN {c} " + kind, t=ident(schema, table), c=ident(col)
                )
            )
            added = True
    return added


def _copy(
    con: psycopg.Connection[Any],
    schema: str,
    table: str,
    df: pd.DataFrame,
    geoms: np.ndarray | None = None,
) -> None:
    """Rows of ``df`` (and hex EWKB geometries) with one ``COPY … FROM STDIN``."""
    from psycopg import sql

    if df.empty:
        return
    cols = [str(c) for c in df.columns]
    values = [[sq.sql_value(v) for v in df[c].astype(object).tolist()] for c in df.columns]
    if geoms is not None:
        srid = int(str(CRS).split(":")[1])
        cols.append("geom")
        values.append(
            list(shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True))
        )
    q = sql.SQL("COPY {t} ({c}) FROM STDIN").format(
        t=ident(schema, table), c=sql.SQL(", ").join(ident(c) for c in cols)
    )
    with con.cursor() as cur, cur.copy(q) as cp:
        for row in zip(*values, strict=True):
            cp.write_row(row)


def _write_plots(con: psycopg.Connection[Any], schema: str, w: RunWrite) -> bool:
    for t in _PLOT_TABLES:
        if w.close_ids:
            con.execute(
                compose(
                    "UPDATE {t} SET active = false, valid_to = %s "
                    "WHERE active AND plot_id = ANY(%s)",
                    t=ident(schema, t),
                ),
                (w.started, list(w.close_ids)),
            )
    if w.new_plots is None or w.new_plots.empty:
        return False
    plots = w.new_plots
    attrs = pd.DataFrame(plots.drop(columns=plots.geometry.name))
    added = [_add_columns(con, schema, t, attrs) for t in _PLOT_TABLES]
    geoms = to_multipolygons(np.asarray(plots.geometry.array, dtype=object))
    points = shapely.get_type_id(geoms) == 0
    for table, mask in (("plots", ~points), (POINT_TABLE, points)):
        if mask.any():
            _copy(con, schema, table, attrs.loc[mask], geoms[mask])
    return any(added)


def write_run_pg(url: str, w: RunWrite) -> None:
    """Write one run's changes in ONE PostgreSQL transaction."""
    schema = pg_parts(url)[1]
    with connect(url) as con, con.transaction():
        pause_point("begun")
        added = _write_plots(con, schema, w)
        pause_point("plots_written")
        added = _add_columns(con, schema, "scores", w.scores) or added
        _copy(con, schema, "scores", w.scores)
        pause_point("scores_written")
        _copy(con, schema, "rejects", w.rejects)
        w.run["finished_at"] = now_iso(timespec="milliseconds")
        _copy(con, schema, "runs", pd.DataFrame([w.run]).astype(RUN_COLS))
        if added:
            create_views(con, schema)
        pause_point("before_commit")
    pause_point("committed")
