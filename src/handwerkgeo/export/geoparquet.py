"""GeoParquet output: scored plots, search cells or sites for DuckDB, QGIS and BI tools.

:func:`write_geoparquet` writes a GeoDataFrame as GeoParquet 1.x (geopandas: WKB geometry,
the ``geo`` metadata with the CRS as PROJJSON and the bounding box) atomically, with its
index, and the run metadata of a scored frame (``attrs["run"]``: configuration, hash,
version, sources) as JSON in the file's metadata (``PANDAS_ATTRS``), so that
:func:`geopandas.read_parquet` gives back the frame with ``attrs["run"]``. A GeoParquet
file holds any number of rows (a million scored plots in a few seconds).

Examples
--------
>>> write_geoparquet(scored, "bewertung.parquet")  # doctest: +SKIP
PosixPath('bewertung.parquet')
>>> import duckdb  # doctest: +SKIP
>>> duckdb.sql("SELECT plot_id, score_total FROM 'bewertung.parquet' LIMIT 3")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import geopandas as gpd

from handwerkgeo._atomic import atomic_replace_file
from handwerkgeo.errors import MissingColumnError, OutputPathError

__all__ = ["write_geoparquet"]

logger = logging.getLogger(__name__)


def write_geoparquet(frame: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to a GeoParquet file atomically; return ``path``.

    The frame is not modified. ``attrs`` are stored as JSON (values JSON cannot hold —
    dates, paths — as text).

    Raises
    ------
    OutputPathError
        If ``path`` does not end in ``.parquet`` or ``.geoparquet``.
    MissingColumnError
        If ``frame`` is not a GeoDataFrame with an active geometry column.
    """
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".geoparquet"):
        msg = f"{path} is not a GeoParquet file name; give a path ending in .parquet"
        raise OutputPathError(msg)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None:
        msg = "write_geoparquet needs a GeoDataFrame with a geometry column"
        raise MissingColumnError(msg)
    out = frame.copy(deep=False)
    out.attrs = json.loads(json.dumps(dict(frame.attrs), ensure_ascii=False, default=str))
    with atomic_replace_file(path, copy_existing=False) as tmp:
        out.to_parquet(tmp, compression="zstd")
    logger.info("wrote %d row(s) to %s", len(frame), path)
    return path
