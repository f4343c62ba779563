"""The site register in PostgreSQL/PostGIS: same tables, same guarantees as the GeoPackage.

``--register postgresql://user@host:5432/db?schema=standorte`` (``schema`` defaults to
``handwerkgeo_register``; the other URL parts are libpq's). On first use the schema is
created with the tables of :mod:`handwerkgeo.register` — ``plots`` (MultiPolygon, EPSG:25832),
``plot_points`` (Point), ``scores``, ``runs``, ``rejects``, ``register_info`` (layout
version) and the views ``ranking`` / ``ranking_points`` (in PostGIS's ``geometry_columns``,
so QGIS lists them) — and the ``postgis`` extension if missing.

Guarantees: a run is ONE transaction (a killed writer's transaction is rolled back by the
server); writers are serialised by a session-level advisory lock keyed by the schema (a
second writer waits ``wait_s`` and then fails naming the holder's pid and host, from
``pg_stat_activity``); rows go in with ``COPY``; every value is a query parameter
(identifiers through :mod:`psycopg.sql`), never built into the SQL text. Change reports go
to ``./<database>-<schema>.reports`` in the working directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo._io import now_iso
from handwerkgeo.crs import CRS
from handwerkgeo.errors import RegisterLayoutError, RegisterLockedError, ValidationError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "PG_TYPES",
    "PgSession",
    "compose",
    "ident",
    "is_url",
    "pg_parts",
    "table_types",
]

DEFAULT_SCHEMA = "handwerkgeo_register"
PG_TYPES = {"BOOLEAN": "boolean", "INTEGER": "bigint", "REAL": "double precision", "TEXT": "text"}
_BACK = {"boolean": "BOOLEAN", "bigint": "INTEGER", "integer": "INTEGER"}
_BACK |= {"double precision": "REAL", "text": "TEXT"}


def is_url(path: object) -> bool:
    """Whether ``path`` names a PostgreSQL register."""
    return isinstance(path, str) and path.startswith(("postgresql://", "postgres://"))


def pg_parts(url: str) -> tuple[str, str, str]:
    """libpq connection URL (without ``schema``), schema, and a label without password."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", DEFAULT_SCHEMA)
    conninfo = urlunsplit(parts._replace(query=urlencode(query)))
    netloc = parts.netloc.split("@")[-1]
    user = parts.netloc.split("@")[0].split(":")[0] if "@" in parts.netloc else ""
    label = f"postgresql://{user + '@' if user else ''}{netloc}{parts.path}?schema={schema}"
    return conninfo, schema, label


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the installation
        msg = (
            "a PostgreSQL register needs psycopg 3: pip install 'handwerkgeo[postgis]' "
            "(or pip install 'psycopg[binary]')"
        )
        raise ValidationError("--register", [msg]) from exc
    return psycopg


def _app_name() -> str:
    return f"handwerkgeo pid {os.getpid()} on host {socket.gethostname()}"[:63]


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection to the register's database (application_name names this process)."""
    pg = _psycopg()
    conninfo, _, label = pg_parts(url)
    try:
        return pg.connect(conninfo, autocommit=autocommit, application_name=_app_name())
    except pg.OperationalError as exc:
        msg = f"cannot connect to the PostgreSQL register {label}: {exc}".strip()
        raise ValidationError(label, [msg]) from exc


def _one(con: psycopg.Connection[Any], q: Any, params: Any = None) -> Any:
    row = con.execute(q, params).fetchone()
    return None if row is None else row[0]


def ident(*names: str) -> Any:
    from psycopg import sql

    return sql.Identifier(*names)


def compose(text: str, **ids: Any) -> Any:
    from psycopg import sql

    return sql.SQL(text).format(**ids)


# --- schema ----------------------------------------------------------------------------------


def lock_key(schema: str) -> int:
    """The advisory lock key of a register schema (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"handwerkgeo register {schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _holder(con: psycopg.Connection[Any], key: int) -> str:
    row = con.execute(
        "SELECT a.application_name, a.pid, a.backend_start, a.client_addr FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        "AND l.granted AND l.classid::bigint = %s AND l.objid::bigint = %s",
        ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
    ).fetchone()
    if row is None:
        return "holder unknown"
    app, pid, start, addr = row
    return f"{app or 'a client'}, server process {pid} from {addr or 'local socket'} since {start}"


@contextlib.contextmanager
def pg_lock(url: str, wait_s: float) -> Iterator[None]:
    """Hold the register's advisory lock (released by the server when this process dies)."""
    _, schema, label = pg_parts(url)
    key = lock_key(schema)
    con = connect(url, autocommit=True)
    try:
        deadline = time.monotonic() + max(float(wait_s), 0.0)
        while not _one(con, "SELECT pg_try_advisory_lock(%s)", (key,)):
            if time.monotonic() >= deadline:
                msg = (
                    f"the site register {label} is being written by another process "
                    f"({_holder(con, key)}). Waited {wait_s:g} s. Wait until it has "
                    "finished, or pass --wait SECONDS (wait_s=...) to wait longer. The lock "
                    "is a PostgreSQL advisory lock, released as soon as that process ends."
                )
                raise RegisterLockedError(msg)
            time.sleep(0.1)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                con.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        con.close()


def table_types(con: psycopg.Connection[Any], schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return {r[0]: _BACK.get(r[1], "TEXT" if r[1] != "USER-DEFINED" else "GEOMETRY") for r in rows}


def schema_version(url: str) -> int | None:
    """The layout version of the register, ``None`` when the schema has no register."""
    _, schema, _ = pg_parts(url)
    with connect(url, autocommit=True) as con:
        exists = _one(con, "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".register_info',))
        if not exists:
            return None
        q = compose("SELECT MAX(layout_version) FROM {t}", t=ident(schema, "register_info"))
        return int(_one(con, q))


def check(url: str, layout: int) -> None:
    """Refuse a schema without a register, or one of another layout."""
    _, schema, label = pg_parts(url)
    version = schema_version(url)
    if version is None:
        msg = (
            f"the site register {label} does not exist (no schema {schema} with a register). "
            f"Create it by adding plots: handwerkgeo register add PLOTS.gpkg --register {label}"
        )
        raise ValidationError(label, [msg])
    if version != layout:
        msg = f"the site register {label} has layout {version}; this handwerkgeo reads {layout}"
        raise RegisterLayoutError(msg)


def create(url: str, tables: dict[str, dict[str, str]], layout: int, note: str) -> None:
    """Create the schema, its tables and views in one transaction (no-op when present)."""
    _, schema, _ = pg_parts(url)
    with connect(url) as con, con.transaction():
        con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        con.execute(compose("CREATE SCHEMA IF NOT EXISTS {s}", s=ident(schema)))
        if _one(con, "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".register_info',)):
            return
        for table, cols in tables.items():
            defs = [compose("{c} " + _pg_type(t), c=ident(c)) for c, t in cols.items()]
            if table in ("plots", "plot_points"):
                gtype = "MultiPolygon" if table == "plots" else "Point"
                epsg = int(str(CRS).split(":")[1])
                defs = [compose("fid bigserial PRIMARY KEY"), *defs]
                defs.append(compose(f"geom geometry({gtype}, {epsg})"))
            from psycopg import sql

            con.execute(
                compose(
                    "CREATE TABLE {t} ({d})", t=ident(schema, table), d=sql.SQL(", ").join(defs)
                )
            )
        for table in ("plots", "plot_points"):
            con.execute(compose("CREATE INDEX ON {t} (plot_id)", t=ident(schema, table)))
            con.execute(compose("CREATE INDEX ON {t} USING gist (geom)", t=ident(schema, table)))
        con.execute(compose("CREATE INDEX ON {t} (plot_id, run_seq)", t=ident(schema, "scores")))
        con.execute(compose("CREATE INDEX ON {t} (run_seq)", t=ident(schema, "scores")))
        con.execute(compose("CREATE INDEX ON {t} (run_id)", t=ident(schema, "rejects")))
        con.execute(
            compose(
                "CREATE TABLE {t} (layout_version integer, created_at text, notes text)",
                t=ident(schema, "register_info"),
            )
        )
        con.execute(
            compose("INSERT INTO {t} VALUES (%s, %s, %s)", t=ident(schema, "register_info")),
            (layout, now_iso(), note),
        )
        create_views(con, schema)


def _pg_type(kind: str) -> str:
    return {"str": "text", "bool": "boolean", "float64": "double precision"}.get(kind, "bigint")


# --- views -----------------------------------------------------------------------------------

_RANK = (
    "CASE WHEN NOT COALESCE(excluded, false) AND score_total IS NOT NULL THEN ROW_NUMBER() "
    "OVER (PARTITION BY (NOT COALESCE(excluded, false) AND score_total IS NOT NULL) "
    'ORDER BY score_total DESC, plot_id COLLATE "C") END'
)
_PLOT_HIDDEN = ("fid", "geom", "geom_hash", "attr_hash", "valid_to", "active")
_SCORE_HIDDEN = ("plot_id", "plot_version", "rank", "run_seq")


def _latest_sql(schema: str, upto: bool) -> Any:
    cond = "WHERE run_seq <= %(upto)s " if upto else ""
    return compose(
        "SELECT DISTINCT ON (plot_id) * FROM {t} " + cond + "ORDER BY plot_id, run_seq DESC",
        t=ident(schema, "scores"),
    )


def create_views(con: psycopg.Connection[Any], schema: str) -> None:
    """(Re)create the ranking views over the current columns."""
    from psycopg import sql

    scols = [c for c in table_types(con, schema, "scores") if c not in _SCORE_HIDDEN]
    for view, table in (("ranking", "plots"), ("ranking_points", "plot_points")):
        pcols = [c for c in table_types(con, schema, table) if c not in _PLOT_HIDDEN]
        sel = [sql.SQL("p.fid"), sql.SQL("p.geom")]
        sel += [compose("p.{c}", c=ident(c)) for c in pcols]
        sel += [sql.SQL("r.rank_now::bigint AS rank")]
        sel += [compose("r.{c}", c=ident(c)) for c in scols if c not in pcols]
        con.execute(compose("DROP VIEW IF EXISTS {v}", v=ident(schema, view)))
        con.execute(
            sql.SQL(
                "CREATE VIEW {v} AS WITH latest AS ({latest}), ranked AS "
                "(SELECT latest.*, {rank} AS rank_now FROM latest) SELECT {sel} FROM {t} p "
                "JOIN ranked r ON r.plot_id = p.plot_id AND r.plot_version = p.plot_version "
                "WHERE p.active"
            ).format(
                v=ident(schema, view),
                latest=_latest_sql(schema, False),
                rank=sql.SQL(_RANK),
                sel=sql.SQL(", ").join(sel),
                t=ident(schema, table),
            )
        )


# --- reading ---------------------------------------------------------------------------------


def _frame(cur: Any) -> pd.DataFrame:
    names = [d.name for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    return pd.DataFrame.from_records(rows, columns=names)


class PgSession:
    """Read access to a PostgreSQL register; the methods of :mod:`._state`'s functions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = pg_parts(url)[1]
        self.con = connect(url, autocommit=True)

    def close(self) -> None:
        self.con.close()

    def types(self, table: str) -> dict[str, str]:
        return table_types(self.con, self.schema, table)

    def query(self, q: Any, params: Any = None) -> pd.DataFrame:
        return _frame(self.con.execute(q, params))

    def table(self, table: str, where: Any = None, params: Any = None) -> pd.DataFrame:
        from psycopg import sql

        cols = [c for c in self.types(table) if c != "fid"]
        q = sql.SQL("SELECT {c} FROM {t}").format(
            c=sql.SQL(", ").join(ident(c) for c in cols), t=ident(self.schema, table)
        )
        if where is not None:
            q = q + sql.SQL(" WHERE ") + where
        return self.query(q, params)

    def plot_tables(
        self, *, active_only: bool = False, ids: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """Plot versions of both geometry tables (like ``storage.read_plot_tables``)."""
        from psycopg import sql

        from handwerkgeo.register.storage import arrange_plots, typed_frame

        frames = []
        for table in ("plots", "plot_points"):
            types = self.types(table)
            cols = [c for c in types if c not in ("fid", "geom")]
            q = sql.SQL("SELECT {c}, ST_AsBinary(geom) AS geom FROM {t} WHERE true").format(
                c=sql.SQL(", ").join(ident(c) for c in cols), t=ident(self.schema, table)
            )
            if active_only:
                q = q + sql.SQL(" AND active")
            if ids is not None:
                q = q + sql.SQL(" AND plot_id = ANY(%(ids)s)")
            df = self.query(q + sql.SQL(" ORDER BY fid"), {"ids": list(ids or [])})
            blobs = [None if b is None else bytes(b) for b in df.pop("geom")]
            geoms = shapely.from_wkb(np.asarray(blobs, dtype=object)) if blobs else []
            if table == "plots" and len(df):
                arr = np.asarray(geoms, dtype=object)
                one = (shapely.get_num_geometries(arr) == 1) & (shapely.get_type_id(arr) == 6)
                geoms = np.where(one, shapely.get_geometry(arr, 0), arr)
            frames.append(gpd.GeoDataFrame(typed_frame(df, types), geometry=list(geoms), crs=CRS))
        return arrange_plots(frames)

    # the functions of handwerkgeo.register._state, for PostgreSQL

    def current_hashes(self) -> pd.DataFrame:
        from psycopg import sql

        q = sql.SQL(" UNION ALL ").join(
            compose(
                "SELECT plot_id, plot_version, geom_hash, attr_hash, first_seen FROM {t} "
                "WHERE active",
                t=ident(self.schema, t),
            )
            for t in ("plots", "plot_points")
        )
        df = self.query(q)
        df["plot_version"] = pd.to_numeric(df["plot_version"]).astype("int64")
        return df

    def current_plots(self, ids: Sequence[str] | None = None) -> gpd.GeoDataFrame:
        return self.plot_tables(active_only=True, ids=None if ids is None else list(ids))

    def latest_rows(
        self, *, ids: Sequence[str] | None = None, upto_seq: int | None = None
    ) -> pd.DataFrame:
        from psycopg import sql

        from handwerkgeo.register.storage import typed_frame

        q = _latest_sql(self.schema, upto_seq is not None)
        if ids is not None:
            q = sql.SQL("SELECT * FROM ({q}) x WHERE plot_id = ANY(%(ids)s)").format(q=q)
        df = self.query(q, {"upto": upto_seq, "ids": list(ids or [])})
        return typed_frame(df, self.types("scores"))

    def state_ranks(self, upto_seq: int) -> pd.DataFrame:
        from psycopg import sql

        from handwerkgeo.register.storage import typed_frame

        q = sql.SQL(
            "WITH latest AS ({latest}) SELECT plot_id, plot_version, score_total, excluded, "
            "exclusion_reason, {rank} AS rank FROM latest"
        ).format(latest=_latest_sql(self.schema, True), rank=sql.SQL(_RANK))
        df = self.query(q, {"upto": int(upto_seq)})
        types = {"excluded": "BOOLEAN", "score_total": "REAL", "rank": "INTEGER"}
        return typed_frame(df, types | {"plot_version": "INTEGER"})

    def run_rows(self, seq: int) -> pd.DataFrame:
        from psycopg import sql

        from handwerkgeo.register.storage import typed_frame

        df = self.table("scores", sql.SQL("run_seq = %s"), (int(seq),))
        return typed_frame(df, self.types("scores"))

    def plot_names(self, ids: Sequence[str]) -> pd.Series:
        from psycopg import sql

        if "name" not in self.types("plots"):
            return pd.Series(dtype=object)
        q = sql.SQL(" UNION ALL ").join(
            compose(
                "SELECT plot_id, name FROM {t} WHERE active AND plot_id = ANY(%(ids)s)",
                t=ident(self.schema, t),
            )
            for t in ("plots", "plot_points")
        )
        df = self.query(q, {"ids": list(ids)})
        return df.drop_duplicates("plot_id").set_index("plot_id")["name"]

    def read_tables(self, layers: Sequence[str], run_id: str | None) -> dict[str, pd.DataFrame]:
        """The tables of :func:`handwerkgeo.register.storage.read_register`."""
        from psycopg import sql

        from handwerkgeo.register.storage import typed_frame

        out: dict[str, pd.DataFrame] = {}
        for layer in layers:
            if layer == "plots":
                out[layer] = self.plot_tables()
                continue
            where = sql.SQL("run_id = %s") if run_id is not None and layer != "runs" else None
            df = self.table(layer, where, (run_id,) if where is not None else None)
            out[layer] = typed_frame(df, self.types(layer))
        return out
