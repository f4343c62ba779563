"""Read a planner's vector file without writing beside it, with the CRS the file declares.

Every reader of a GIS file that a planner passes in (zoning plans, ALKIS, context layers)
goes through :func:`read_vector`:

* **no sidecar files**: GDAL's GML driver writes a ``.gfs`` schema file next to the input
  unless told not to; it is opened with ``WRITE_GFS=NO`` (and ``DOWNLOAD_SCHEMA=NO``, so no
  network access either). Input folders may be read-only; nothing is written into them.
* **CRS as German data write it**: a GML file whose ``srsName`` GDAL does not understand
  (the AdV names of XPlanung and ALKIS, ``urn:adv:crs:ETRS89_UTM32``) gets its CRS from
  :func:`handwerkgeo.crs_names.resolve_crs`, so that the file's own CRS is used.
* CSV files with ``x``/``y``, ``lon``/``lat`` or a ``WKT`` column become points or shapes.

Examples
--------
>>> import geopandas as gpd, tempfile, pathlib
>>> from shapely.geometry import Point
>>> path = pathlib.Path(tempfile.mkdtemp()) / "p.geojson"
>>> gpd.GeoDataFrame(geometry=[Point(6.78, 51.22)], crs="EPSG:4326").to_file(path)
>>> file_crs(path).to_epsg()
4326
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyproj

from handwerkgeo.crs_names import resolve_crs
from handwerkgeo.errors import DataSourceError, NoCrsError

__all__ = ["file_crs", "gml_srs_names", "open_options", "read_vector"]

logger = logging.getLogger(__name__)

_GML = {".gml", ".xml"}
_OSM = {".osm", ".pbf"}
_PARQUET = {".parquet", ".geoparquet"}
_GEOJSON = {".geojson", ".json"}

#: GDAL open options that keep GDAL from writing next to (or downloading for) the input.
_GML_OPTIONS = {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"}
_CSV_OPTIONS = {
    "X_POSSIBLE_NAMES": "x,lon,lng,longitude,rechtswert,ostwert,easting",
    "Y_POSSIBLE_NAMES": "y,lat,latitude,hochwert,nordwert,northing",
    "GEOM_POSSIBLE_NAMES": "wkt,geometry,geom,the_geom",
    "KEEP_GEOM_COLUMNS": "NO",
    "AUTODETECT_TYPE": "YES",
}

_SRS_NAME = re.compile(rb'srsName\s*=\s*["\']([^"\']+)["\']')


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def open_options(path: str | os.PathLike[str]) -> dict[str, str]:
    """GDAL open options for reading ``path`` without writing beside it."""
    suffix = _suffix(Path(path))
    if suffix in _GML:
        return dict(_GML_OPTIONS)
    if suffix == ".csv":
        return dict(_CSV_OPTIONS)
    return {}


def gml_srs_names(path: str | os.PathLike[str]) -> list[str]:
    """The distinct ``srsName`` values of a GML file, in order of appearance."""
    found: dict[str, None] = {}
    with Path(path).open("rb") as fh:
        tail = b""
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            for m in _SRS_NAME.finditer(tail + chunk):
                found.setdefault(m.group(1).decode("utf-8", "replace").strip(), None)
            tail = chunk[-300:]
    return list(found)


def _gml_declared_crs(path: Path) -> pyproj.CRS | None:
    """The CRS named by the ``srsName``s of a GML file (one CRS; mixed ones are an error)."""
    names = gml_srs_names(path)
    if not names:
        return None
    crss: dict[int | str, tuple[str, pyproj.CRS]] = {}
    for name in names:
        try:
            crs = resolve_crs(name)
        except NoCrsError as exc:
            msg = f"{path.name}: srsName {name!r} is not a CRS handwerkgeo knows. {exc}"
            raise NoCrsError(msg) from exc
        crss.setdefault(crs.to_epsg() or crs.to_wkt(), (name, crs))
    if len(crss) > 1:
        listed = ", ".join(name for name, _ in crss.values())
        msg = (
            f"{path.name} mixes several CRSs ({listed}); handwerkgeo reads one CRS per "
            "file. Export the plan in one CRS (e.g. EPSG:25832)."
        )
        raise NoCrsError(msg)
    return next(iter(crss.values()))[1]


def _declares_crs(path: Path) -> bool:
    """Whether a GeoJSON file names its CRS (a ``"crs"`` member, as QGIS and GDAL write for
    projected data, before the features)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    before = head.split(b'"features"', 1)[0]
    return b'"crs"' in before


def file_crs(path: str | os.PathLike[str], *, layer: str | int | None = None) -> pyproj.CRS | None:
    """The CRS a file declares itself, or ``None`` if it declares none.

    OSM files (``.osm``, ``.pbf``) are always WGS 84. GML files are asked for their
    ``srsName`` where GDAL cannot read it (the AdV names). A GeoJSON file without a ``"crs"``
    member declares none (RFC 7946 makes it WGS 84, which GDAL assumes when nothing else is
    given). Nothing is written beside the file.
    """
    import pyogrio

    p = Path(path)
    suffix = _suffix(p)
    if suffix in _OSM:
        return pyproj.CRS.from_epsg(4326)
    if suffix in _PARQUET:
        crs = gpd.read_parquet(p).crs
        return pyproj.CRS.from_user_input(crs) if crs is not None else None
    if suffix in _GEOJSON and not _declares_crs(p):
        return None  # WGS 84 by RFC 7946, but not declared: a CRS given for the file wins
    try:
        info = pyogrio.read_info(p, layer=layer, **open_options(p))
    except Exception as exc:  # pyogrio raises several types for broken files
        msg = f"cannot read {p}: {exc}. Check the file and the layer name."
        raise DataSourceError(msg) from exc
    if info.get("crs"):
        return pyproj.CRS.from_user_input(info["crs"])
    if suffix in _GML:
        return _gml_declared_crs(p)
    return None


def read_vector(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    what: str = "vector",
    **kwargs: Any,
) -> gpd.GeoDataFrame:
    """Read a vector file (GML, GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV) safely.

    Parameters
    ----------
    path
        The file.
    layer
        Layer of a multi-layer file.
    what
        What the file is, for error messages (``"XPlanung"``, ``"landuse layer"``).
    **kwargs
        Further arguments of :func:`geopandas.read_file` (e.g. ``columns``).

    Returns
    -------
    geopandas.GeoDataFrame
        As read; its CRS is the file's own (from ``srsName`` for GML where GDAL cannot tell),
        ``None`` if the file declares none.

    Raises
    ------
    DataSourceError
        If the file does not exist or cannot be read.
    NoCrsError
        If a GML ``srsName`` is no CRS handwerkgeo knows, or a file mixes CRSs.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{what} file {p} does not exist; check the path."
        raise DataSourceError(msg)
    suffix = _suffix(p)
    if suffix in _PARQUET:
        return gpd.read_parquet(p)
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio", **open_options(p), **kwargs)
    except Exception as exc:  # pyogrio raises several types for broken files
        msg = f"cannot read {what} file {p}: {exc}. Check the file and the layer name."
        raise DataSourceError(msg) from exc
    if gdf.crs is None and suffix in _GML:
        crs = _gml_declared_crs(p)
        if crs is not None:
            logger.info("%s: CRS %s from its srsName", p.name, crs.to_string())
            gdf = gdf.set_crs(crs)
    return gdf
