"""The site register's GeoPackage as SQLite: geometry blobs, bulk inserts, queries, views.

Every write of a run happens in ONE SQLite transaction on the register file
(:func:`transaction`): rollback journal, ``BEGIN IMMEDIATE``, ``cache_spill`` off, so the
file itself is not touched before ``COMMIT`` and a killed writer leaves a journal that the
next opener rolls back — the previous state or the new one, never a mix. Rows go in with
``executemany`` (never row by row); geometries are encoded as GeoPackage binary (the
standard header with an envelope, then ISO WKB) in one vectorised pass.

The spatial index triggers GDAL creates call ``ST_IsEmpty`` / ``ST_MinX`` … ; a plain
:mod:`sqlite3` connection gets these functions from :func:`connect`.

All GeoPackage writes of the register are in this module (styles can be added here).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

__all__ = [
    "add_columns",
    "connect",
    "decode_geometries",
    "encode_geometries",
    "insert_rows",
    "quote",
    "sql_type",
    "sql_value",
    "table_columns",
    "transaction",
]

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_HEADER = struct.Struct("<2sBBi4d")


def quote(name: str) -> str:
    """``name`` as an SQL identifier (double quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


# --- GeoPackage geometry blobs ---------------------------------------------------------------


def encode_geometries(geoms: Any, srs_id: int) -> list[bytes | None]:
    """GeoPackage binary of each geometry (little endian, xy envelope), ``None`` for missing."""
    arr = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(arr)
    ok = ~shapely.is_missing(arr)
    if not ok.any():
        return out
    wkb = shapely.to_wkb(arr[ok], byte_order=1, output_dimension=2, flavor="iso")
    bounds = shapely.bounds(arr[ok])
    for i, w, (x0, y0, x1, y1) in zip(np.flatnonzero(ok), wkb, bounds, strict=True):
        out[i] = _HEADER.pack(b"GP", 0, 0x03, srs_id, x0, x1, y0, y1) + w
    return out


def _wkb(blob: bytes) -> bytes:
    n = _ENVELOPE_BYTES.get((blob[3] >> 1) & 0x07, 0)
    return bytes(blob[8 + n :])


def decode_geometries(blobs: Iterable[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage binary blobs (``None`` stays missing)."""
    wkb = [None if b is None else _wkb(b) for b in blobs]
    return shapely.from_wkb(np.asarray(wkb, dtype=object))


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    if blob is None or blob[3] & 0x10:
        return None
    if (blob[3] >> 1) & 0x07:
        x0, x1, y0, y1 = struct.unpack_from("<4d", blob, 8)
        return x0, x1, y0, y1
    b = shapely.bounds(shapely.from_wkb(_wkb(blob)))
    return float(b[0]), float(b[2]), float(b[1]), float(b[3])


def _st(i: int) -> Any:
    def f(blob: bytes | None) -> float | None:
        env = _envelope(blob)
        return None if env is None else env[i]

    return f


def _st_is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(bool(blob[3] & 0x10))


# --- connection and transaction --------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the register with the functions of GDAL's spatial index triggers.

    Opening it rolls back what a killed writer left (SQLite's hot journal).
    """
    con = sqlite3.connect(path, isolation_level=None, timeout=60)
    con.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, _st(i), deterministic=True)
    con.execute("PRAGMA journal_mode=DELETE")  # one file; the journal is removed on commit
    return con


@contextlib.contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction on the register: committed at the end, rolled back on error."""
    con = connect(path)
    try:
        # keep changed pages in memory until COMMIT: the file is untouched before it
        con.execute("PRAGMA cache_spill=OFF")
        con.execute("PRAGMA cache_size=-262144")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


# --- columns and rows ------------------------------------------------------------------------


def sql_value(value: Any) -> Any:
    """A Python value SQLite stores: None for missing, ISO text for dates, plain numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def sql_type(s: pd.Series) -> str:
    """The GeoPackage column type of a pandas column."""
    if pd.api.types.is_bool_dtype(s):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(s):
        return "INTEGER"
    if pd.api.types.is_float_dtype(s):
        return "REAL"
    return "TEXT"


def table_columns(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """``{column: declared type}`` of a table or view, in order."""
    return {r[1]: str(r[2]).upper() for r in con.execute(f"PRAGMA table_info({quote(table)})")}


def add_columns(con: sqlite3.Connection, table: str, df: pd.DataFrame) -> list[str]:
    """Add the columns of ``df`` that ``table`` lacks; the names added."""
    have = table_columns(con, table)
    added = []
    for col in df.columns:
        if str(col) not in have:
            con.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(col)} {sql_type(df[col])}")
            added.append(str(col))
    return added


def insert_rows(
    con: sqlite3.Connection,
    table: str,
    df: pd.DataFrame,
    *,
    blobs: Sequence[bytes | None] | None = None,
    geom_col: str = "geom",
) -> int:
    """Insert every row of ``df`` (and ``blobs`` as the geometry) in one ``executemany``."""
    if df.empty:
        return 0
    cols = [str(c) for c in df.columns]
    columns = [df[c].astype(object).tolist() for c in df.columns]
    values = [[sql_value(v) for v in col] for col in columns]
    if blobs is not None:
        cols.append(geom_col)
        values.append(list(blobs))
    names = ", ".join(quote(c) for c in cols)
    marks = ", ".join("?" for _ in cols)
    con.executemany(
        f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", zip(*values, strict=True)
    )
    return len(df)


def read_frame(con: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Rows of a query as a DataFrame (column names from the cursor)."""
    cur = con.execute(sql, tuple(params))
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    return pd.DataFrame.from_records(rows, columns=names)
