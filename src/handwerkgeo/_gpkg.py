"""Writing GeoPackages that every GDAL in use reads without a warning, with QGIS styles.

One helper for every GeoPackage the project writes:

- :func:`write_layer` writes a frame with pyogrio as GeoPackage version
  :data:`GPKG_VERSION` (1.2). The GDAL of pyogrio's wheels (3.12) writes 1.4 by default,
  and GDAL 3.6 — what Debian 12 and its QGIS 3.22 use — warns "may only be partially
  supported" on every open of a 1.4 file (1.2 and 1.3 open silently). 1.2 is what GDAL 3.6
  itself writes by default and what every GDAL since 2.2 reads; nothing this project
  writes needs 1.3 or 1.4.
- :func:`add_styles` stores QGIS layer styles in the ``layer_styles`` table, created
  exactly as QGIS 3.22 creates it through GDAL (the same columns, the ``gpkg_contents`` row
  as an attributes table, the ``gpkg_ogr_contents`` row and its feature-count triggers; QGIS
  registers no extension for it). It works on a path or on an open :mod:`sqlite3`
  connection, so a writer can add the styles inside its own transaction.

QGIS loads the row of a table whose ``useAsDefault`` is true as the layer's default style
(it matches ``f_table_schema = ''``, ``f_table_name`` and ``f_geometry_column``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handwerkgeo.errors import DataSourceError

__all__ = [
    "GPKG_VERSION",
    "LayerStyle",
    "add_styles",
    "geometry_column",
    "gpkg_version",
    "write_layer",
]

#: GeoPackage version written (dataset creation option VERSION of GDAL's GPKG driver).
GPKG_VERSION = "1.2"

#: ``layer_styles`` as QGIS 3.22 (through GDAL 3.6) creates it.
_CREATE_STYLES = (
    'CREATE TABLE "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)
_COUNT_TRIGGERS = (
    'CREATE TRIGGER "trigger_insert_feature_count_layer_styles" AFTER INSERT ON '
    '"layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 '
    "WHERE lower(table_name) = lower('layer_styles'); END",
    'CREATE TRIGGER "trigger_delete_feature_count_layer_styles" AFTER DELETE ON '
    '"layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 '
    "WHERE lower(table_name) = lower('layer_styles'); END",
)
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


@dataclass(frozen=True)
class LayerStyle:
    """One QGIS style of one table of a GeoPackage (a row of ``layer_styles``).

    ``geometry_column`` ``None`` means: look it up in ``gpkg_geometry_columns`` (``""`` for
    a table without geometry). A new default style of a table replaces the table's rows of
    the same ``name`` and clears ``useAsDefault`` on its others.
    """

    table: str
    qml: str
    sld: str = ""
    name: str = "handwerkgeo"
    description: str = ""
    default: bool = True
    geometry_column: str | None = None


def write_layer(frame: Any, path: str | os.PathLike[str], layer: str, **kwargs: Any) -> Path:
    """Write ``frame`` as ``layer`` of the GeoPackage ``path`` (created as version 1.2).

    A new file is created as :data:`GPKG_VERSION`; a layer added to an existing file keeps
    that file's version. ``kwargs`` go to :func:`pyogrio.write_dataframe` (``append``,
    ``geometry_type``, ``promote_to_multi`` …).
    """
    import pyogrio

    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        options = dict(kwargs.pop("dataset_options", None) or {})
        options.setdefault("VERSION", GPKG_VERSION)
        kwargs["dataset_options"] = options
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", **kwargs)
    return path


def gpkg_version(target: str | os.PathLike[str] | sqlite3.Connection) -> str:
    """The GeoPackage version of a file, e.g. ``"1.2"`` (from ``PRAGMA user_version``)."""
    with _connection(target) as con:
        (user_version,) = con.execute("PRAGMA user_version").fetchone()
    return f"{user_version // 10000}.{user_version // 100 % 100}"


def geometry_column(con: sqlite3.Connection, table: str) -> str:
    """The geometry column of ``table`` (``""`` for an attributes table)."""
    row = con.execute(
        "SELECT column_name FROM gpkg_geometry_columns WHERE lower(table_name) = lower(?)",
        (table,),
    ).fetchone()
    return "" if row is None else str(row[0])


def add_styles(
    target: str | os.PathLike[str] | sqlite3.Connection, styles: Iterable[LayerStyle]
) -> int:
    """Store ``styles`` in the ``layer_styles`` table of a GeoPackage; the rows written.

    ``target`` is the path of a GeoPackage (committed here, in one transaction) or an open
    :mod:`sqlite3` connection to one (the caller commits, e.g. together with its own rows;
    a transaction is begun if none is open, so a rollback takes the table away again).
    The table is created on first use as QGIS creates it.
    """
    n = 0
    with _connection(target) as con:
        if not con.in_transaction:  # sqlite3 opens none before CREATE TABLE by itself
            con.execute("BEGIN")
        _ensure_table(con)
        for style in styles:
            _insert(con, style)
            n += 1
    return n


@contextmanager
def _connection(
    target: str | os.PathLike[str] | sqlite3.Connection,
) -> Iterator[sqlite3.Connection]:
    if isinstance(target, sqlite3.Connection):
        yield target
        return
    path = Path(target)
    if not path.is_file():
        msg = f"GeoPackage {path} not found"
        raise DataSourceError(msg)
    con = sqlite3.connect(path)
    try:
        with con:  # one transaction: committed on success, rolled back on error
            yield con
    finally:
        con.close()


def _ensure_table(con: sqlite3.Connection) -> None:
    exists = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_styles'"
    ).fetchone()
    if exists:
        return
    con.execute(_CREATE_STYLES)
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        f"last_change, srs_id) VALUES ('layer_styles', 'attributes', 'layer_styles', '', "
        f"{_NOW}, 0)"
    )
    has_counts = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_ogr_contents'"
    ).fetchone()
    if has_counts:
        con.execute(
            "INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES ('layer_styles', 0)"
        )
        for trigger in _COUNT_TRIGGERS:
            con.execute(trigger)


def _insert(con: sqlite3.Connection, style: LayerStyle) -> None:
    geom = style.geometry_column
    if geom is None:
        geom = geometry_column(con, style.table)
    con.execute(
        "DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
        (style.table, style.name),
    )
    if style.default:
        con.execute(
            "UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (style.table,)
        )
    con.execute(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
        "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
        f"ui, update_time) VALUES ('', '', ?, ?, ?, ?, ?, ?, ?, '', NULL, {_NOW})",
        (
            style.table,
            geom,
            style.name,
            style.qml,
            style.sld,
            int(style.default),
            style.description,
        ),
    )
