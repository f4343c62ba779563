"""Geometry helpers shared by the readers: one "polygonal part" of a repaired geometry.

:func:`shapely.make_valid` may turn an invalid polygon into a ``GeometryCollection`` of
polygons plus stray boundary lines or points; every reader keeps only the (multi)polygon
part, through :func:`polygonal_part`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

__all__ = [
    "POLYGONAL_TYPES",
    "is_polygonal",
    "polygonal_part",
    "to_multipolygons",
]

#: Geometry types that count as an area.
POLYGONAL_TYPES: tuple[str, ...] = ("Polygon", "MultiPolygon")


def is_polygonal(geoms: Any) -> np.ndarray:
    """Mask of the non-empty Polygons and MultiPolygons among ``geoms`` (vectorised).

    Examples
    --------
    >>> from shapely import Point, Polygon
    >>> is_polygonal([Polygon([(0, 0), (1, 0), (1, 1)]), Point(0, 0), None, Polygon()]).tolist()
    [True, False, False, False]
    """
    arr = np.asarray(getattr(geoms, "array", geoms), dtype=object)
    return np.isin(shapely.get_type_id(arr), (3, 6)) & ~shapely.is_empty(arr)


def polygonal_part(geom: Any) -> Any:
    """The (multi)polygon part of a geometry, or ``None`` if it has none.

    Polygons and multipolygons are returned unchanged; the polygons of a collection are
    unioned; missing or empty geometries and geometries without an area give ``None``.

    Examples
    --------
    >>> from shapely import GeometryCollection, LineString, Polygon
    >>> square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    >>> polygonal_part(GeometryCollection([square, LineString([(0, 0), (2, 2)])])).wkt
    'POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))'
    >>> polygonal_part(LineString([(0, 0), (2, 2)])) is None
    True
    """
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in POLYGONAL_TYPES:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL_TYPES]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return None if merged.is_empty else merged


def to_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with every Polygon made a one-part MultiPolygon (other types unchanged).

    A layer declared MultiPolygon (the register's ``plots``) then holds one geometry type.
    """
    polys = shapely.get_type_id(geoms) == 3
    if polys.any():
        geoms = geoms.copy()
        geoms[polys] = shapely.multipolygons(geoms[polys], indices=np.arange(int(polys.sum())))
    return geoms
