"""The one canonical CRS of handwerkgeo and checks at the boundary.

Düsseldorf's official CRS is ETRS89 / UTM zone 32N, EPSG:25832. Every loader reprojects
into it and records the source CRS; every public analysis function calls
:func:`check_crs` and raises on anything else. Folium needs EPSG:4326, which happens only
at export.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from handwerkgeo.crs_names import resolve_crs
from handwerkgeo.errors import (
    InvalidGeometryError,
    NoCrsError,
    OutsideAreaError,
    UnexpectedCrsError,
)

__all__ = [
    "CITY_BOUNDS",
    "CRS",
    "KNOWN_CRS",
    "check_crs",
    "outside_city",
    "raise_if_outside",
    "raise_if_unusable",
    "to_canonical",
]

#: The canonical CRS: ETRS89 / UTM zone 32N.
CRS = "EPSG:25832"

#: CRSs met in Düsseldorf data, with a note for error messages.
KNOWN_CRS = {
    "EPSG:25832": "ETRS89 / UTM 32N (official, canonical)",
    "EPSG:4647": "ETRS89 / UTM 32N with zone prefix 32 in the easting (x ≈ 32 340 000)",
    "EPSG:31466": "DHDN / Gauß-Krüger zone 2 (older municipal data, x ≈ 2 550 000)",
    "EPSG:4326": "WGS 84 longitude/latitude (GPS, OSM, GTFS)",
    "EPSG:32632": "WGS 84 / UTM 32N (what osmnx and estimate_utm_crs() pick)",
}

#: Bounding box of Düsseldorf in EPSG:25832 with a 2 km margin (minx, miny, maxx, maxy).
CITY_BOUNDS = (336_000.0, 5_667_000.0, 361_000.0, 5_694_000.0)


def _epsg_label(crs: object) -> str:
    try:
        epsg = pyproj.CRS.from_user_input(crs).to_epsg()
    except pyproj.exceptions.CRSError:
        return str(crs)
    return f"EPSG:{epsg}" if epsg else str(crs)


def to_canonical(
    gdf: gpd.GeoDataFrame,
    *,
    crs: object | None = None,
    name: str = "input",
) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in EPSG:25832, recording the source CRS.

    Parameters
    ----------
    gdf
        Input frame. It is not modified.
    crs
        CRS to assume when ``gdf`` has none (e.g. ``"EPSG:31466"``), in any spelling of
        :func:`handwerkgeo.crs_names.resolve_crs` (``25832``, ``urn:ogc:def:crs:EPSG::25832``,
        ``urn:adv:crs:ETRS89_UTM32`` …). If ``gdf`` has a CRS and ``crs`` differs, ``crs``
        wins: it declares what the coordinates really are (for files that carry a wrong CRS
        label). Callers that read a file the planner did not label themselves (context
        layers) pass ``crs`` only for files without a CRS.
    name
        Name of the input for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Reprojected copy; ``attrs["source_crs"]`` holds the source CRS label.

    Raises
    ------
    NoCrsError
        If the frame has no CRS and none is given.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(6.78, 51.22)], crs="EPSG:4326")
    >>> out = to_canonical(g)
    >>> out.crs.to_epsg(), out.attrs["source_crs"]
    (25832, 'EPSG:4326')
    """
    if crs is not None:
        out = gdf.copy()
        if isinstance(crs, str | int | pyproj.CRS):
            crs = resolve_crs(crs)
        out = out.set_crs(crs, allow_override=True)
    elif gdf.crs is None:
        known = "; ".join(f"{k} ({v})" for k, v in KNOWN_CRS.items())
        msg = (
            f"{name} has no coordinate reference system (CRS). "
            f"Say which CRS its coordinates are in, e.g. crs='EPSG:25832' in Python or "
            f"--crs 25832 on the command line. CRSs used for Düsseldorf data: {known}. "
            "Never assume EPSG:4326."
        )
        raise NoCrsError(msg)
    else:
        out = gdf.copy()
    source = _epsg_label(out.crs)
    out = out.to_crs(CRS)
    out.attrs["source_crs"] = source
    return out


def check_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "input") -> None:
    """Raise unless ``gdf`` is in the canonical CRS EPSG:25832.

    Raises
    ------
    NoCrsError
        If it has no CRS.
    UnexpectedCrsError
        If it has another CRS.
    """
    if gdf.crs is None:
        msg = (
            f"{name} has no CRS; handwerkgeo analyses need {CRS}. "
            "Load it with a handwerkgeo reader or call handwerkgeo.crs.to_canonical(gdf, crs=...)."
        )
        raise NoCrsError(msg)
    if pyproj.CRS.from_user_input(gdf.crs) != pyproj.CRS.from_user_input(CRS):
        msg = (
            f"{name} is in {_epsg_label(gdf.crs)}, but handwerkgeo analyses need {CRS}. "
            f"Reproject first: gdf.to_crs('{CRS}') or handwerkgeo.crs.to_canonical(gdf)."
        )
        raise UnexpectedCrsError(msg)


def outside_city(geoms: gpd.GeoSeries) -> np.ndarray:
    """Boolean mask of geometries whose centre lies outside Düsseldorf's bounding box.

    ``geoms`` must be in EPSG:25832. Used to detect swapped lon/lat or a wrong CRS label.
    """
    check_crs(geoms, name="geometries")
    b = geoms.bounds
    cx = ((b["minx"] + b["maxx"]) / 2).to_numpy()
    cy = ((b["miny"] + b["maxy"]) / 2).to_numpy()
    minx, miny, maxx, maxy = CITY_BOUNDS
    inside = (cx >= minx) & (cx <= maxx) & (cy >= miny) & (cy <= maxy)
    return ~inside


def raise_if_outside(geoms: gpd.GeoSeries, *, name: str = "input") -> None:
    """Raise :class:`OutsideAreaError` if *all* geometries lie outside Düsseldorf."""
    mask = outside_city(geoms)
    if len(mask) and mask.all():
        msg = (
            f"all {len(mask)} geometries of {name} lie outside Düsseldorf after reprojection "
            f"to {CRS}. Check the CRS (a file labelled EPSG:4326 may hold EPSG:25832 "
            "metres, or longitude and latitude may be swapped)."
        )
        raise OutsideAreaError(msg)


def raise_if_unusable(geoms: gpd.GeoSeries, *, name: str = "input") -> None:
    """Raise if geometries in EPSG:25832 are not finite or *all* lie outside Düsseldorf.

    A wrong CRS label turns coordinates into ``inf`` on reprojection (metres labelled as
    WGS 84) or moves them far away; either must stop the run, not become "no data".

    Raises
    ------
    InvalidGeometryError
        If a coordinate is ``inf`` or ``NaN``.
    OutsideAreaError
        If every geometry lies outside Düsseldorf's bounding box.
    """
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    coords = shapely.get_coordinates(np.asarray(geoms.array, dtype=object))
    bad = int((~np.isfinite(coords).all(axis=1)).sum())
    if bad:
        msg = (
            f"{name}: {bad} coordinate(s) are not finite after reprojection to {CRS} "
            "(inf/NaN): the CRS given for the file does not fit its coordinates. Check the "
            "file's CRS (for a file without one: --layer KIND=PATH@EPSG:25832)."
        )
        raise InvalidGeometryError(msg)
    raise_if_outside(geoms, name=name)
