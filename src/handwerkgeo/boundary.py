"""Inside or outside Düsseldorf: the real city boundary, not a rectangle.

The boundary is the union of the 50 Stadtteil polygons (``sources.quarters``), with the
digitising slivers between neighbouring quarters closed (interior rings smaller than
:data:`SLIVER_M2`; Düsseldorf has no enclaves). A plot counts as *inside* when its
representative point (:func:`shapely.point_on_surface`; a point plot is its own point)
lies inside the boundary or at most ``tolerance_m`` outside it (default
:data:`TOLERANCE_M`: a plot on the boundary line, or digitised a few metres off a
neighbouring cadastre, is still a Düsseldorf plot). An outside plot is described by how
far outside it lies, the compass direction from the boundary, and the nearest Stadtteil.

The test is vectorised: a bounding-box pre-filter, :func:`shapely.contains_xy` on the
prepared boundary, and a distance only for the points that are not inside. 100,000 plots
take well under a second.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> quarters = gpd.GeoDataFrame(
...     {"stadtteil_code": ["011"], "stadtteil_name": ["Altstadt"]},
...     geometry=[box(0, 0, 1000, 1000)], crs="EPSG:25832")
>>> b = CityBoundary.from_stadtteile(quarters, tolerance_m=10)
>>> pts = gpd.GeoSeries([Point(500, 500), Point(1005, 500), Point(-3000, 500)], crs=25832)
>>> b.locate(pts)[["inside", "distance_m", "direction", "nearest_stadtteil"]].values.tolist()
[[True, 0.0, '', ''], [True, 5.0, 'E', 'Altstadt'], [False, 3000.0, 'W', 'Altstadt']]
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.crs import CRS, check_crs
from handwerkgeo.errors import MissingColumnError

__all__ = [
    "COMPASS",
    "SLIVER_M2",
    "TOLERANCE_M",
    "CityBoundary",
    "load_city_boundary",
]

logger = logging.getLogger(__name__)

#: Plots at most this far outside the boundary still count as inside (metres).
TOLERANCE_M = 25.0

#: Holes in the dissolved Stadtteile smaller than this (m²) are digitising slivers.
SLIVER_M2 = 10_000.0

#: Eight compass points, clockwise from north (codes; the words are in ``messages``).
COMPASS: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _close_slivers(geom: Any, max_hole_m2: float) -> Any:
    parts = shapely.get_parts(geom)
    kept = []
    for part in parts:
        holes = [r for r in part.interiors if shapely.Polygon(r).area >= max_hole_m2]
        kept.append(shapely.Polygon(part.exterior, holes))
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def _segments(*geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two-point segments of every ring of ``geoms``, and the position of their geometry."""
    segs, owner = [], []
    for i, geom in enumerate(geoms):
        rings = shapely.get_rings(shapely.get_parts(geom))
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            if len(xy) < 2:
                continue
            segs.append(shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)))
            owner.append(np.full(len(xy) - 1, i, dtype=np.int64))
    return np.concatenate(segs), np.concatenate(owner)


def _compass(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Compass code of the direction (dx east, dy north); ``""`` where both are 0."""
    angle = np.degrees(np.arctan2(dx, dy)) % 360.0  # 0 = north, clockwise
    sector = np.floor((angle + 22.5) / 45.0).astype(int) % 8
    out = np.asarray(COMPASS, dtype=object)[sector]
    out[(dx == 0) & (dy == 0)] = ""
    return out


@dataclass(frozen=True)
class CityBoundary:
    """The city boundary (EPSG:25832) and the quarters to name the nearest one.

    Attributes
    ----------
    polygon
        The dissolved boundary (Polygon or MultiPolygon), prepared for fast tests.
    quarters
        Stadtteile with ``stadtteil_name`` (for "nearest Stadtteil").
    tolerance_m
        Plots at most this far outside still count as inside.
    """

    polygon: Any
    quarters: gpd.GeoDataFrame
    tolerance_m: float = TOLERANCE_M

    @classmethod
    def from_stadtteile(
        cls, stadtteile: gpd.GeoDataFrame, *, tolerance_m: float = TOLERANCE_M
    ) -> CityBoundary:
        """Dissolve Stadtteil polygons into the boundary (slivers closed)."""
        check_crs(stadtteile, name="Stadtteile")
        if "stadtteil_name" not in stadtteile.columns:
            msg = (
                "the Stadtteile need a 'stadtteil_name' column "
                f"(columns: {list(stadtteile.columns)}); read them with "
                "sources.quarters.read_stadtteile"
            )
            raise MissingColumnError(msg)
        polygon = _close_slivers(stadtteile.union_all(), SLIVER_M2)
        shapely.prepare(polygon)
        quarters = stadtteile[["stadtteil_name", stadtteile.geometry.name]].reset_index(drop=True)
        return cls(polygon=polygon, quarters=quarters, tolerance_m=float(tolerance_m))

    @cached_property
    def _city_segment_geoms(self) -> np.ndarray:
        return _segments(self.polygon)[0]

    @cached_property
    def _city_segments(self) -> shapely.STRtree:
        return shapely.STRtree(self._city_segment_geoms)

    @cached_property
    def _quarter_index(self) -> tuple[shapely.STRtree, np.ndarray]:
        segs, owner = _segments(*np.asarray(self.quarters.geometry.array, dtype=object))
        return shapely.STRtree(segs), owner

    def _nearest_quarter(self, pts: np.ndarray, todo: np.ndarray) -> np.ndarray:
        """Name of the Stadtteil nearest to each point of ``todo`` (``""`` elsewhere)."""
        names = self.quarters["stadtteil_name"].to_numpy(dtype=object)
        segs, owner = self._quarter_index
        quarter = np.full(len(pts), -1, dtype=np.int64)
        rest = np.flatnonzero(todo)
        if len(rest):
            idx = segs.query_nearest(pts[rest], all_matches=False)
            quarter[rest[idx[0]]] = owner[idx[1]]
        out = np.full(len(pts), "", dtype=object)
        out[quarter >= 0] = names[quarter[quarter >= 0]]
        return out

    def locate(self, geoms: gpd.GeoSeries) -> pd.DataFrame:
        """Where each geometry lies relative to the city.

        Parameters
        ----------
        geoms
            Geometries in EPSG:25832 (missing or empty geometries give NaN/``""``).

        Returns
        -------
        pandas.DataFrame
            On ``geoms.index``: ``inside`` (bool; within the boundary or at most
            ``tolerance_m`` outside), ``distance_m`` (0 inside, else metres from the
            boundary), ``direction`` (compass code from the nearest boundary point, ``""``
            inside the boundary), ``nearest_stadtteil``.
        """
        check_crs(geoms, name="geometries")
        arr = np.asarray(geoms.array if hasattr(geoms, "array") else geoms, dtype=object)
        n = len(arr)
        ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
        pts = np.full(n, None, dtype=object)
        pts[ok] = shapely.point_on_surface(arr[ok])
        x = np.full(n, np.nan)
        y = np.full(n, np.nan)
        x[ok] = shapely.get_x(pts[ok])
        y[ok] = shapely.get_y(pts[ok])

        minx, miny, maxx, maxy = shapely.bounds(self.polygon)
        maybe = ok & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
        within = np.zeros(n, dtype=bool)
        within[maybe] = shapely.contains_xy(self.polygon, x[maybe], y[maybe])

        dist = np.where(ok, 0.0, np.nan)
        direction = np.full(n, "", dtype=object)
        out_idx = np.flatnonzero(ok & ~within)
        if len(out_idx):
            p = pts[out_idx]
            idx, d = self._city_segments.query_nearest(p, return_distance=True, all_matches=False)
            dist[out_idx[idx[0]]] = d
            seg = self._city_segment_geoms[idx[1]]
            near = shapely.get_coordinates(shapely.shortest_line(seg, p[idx[0]]))
            start, end = near[0::2], near[1::2]  # [boundary point, plot point] per plot
            direction[out_idx[idx[0]]] = _compass(end[:, 0] - start[:, 0], end[:, 1] - start[:, 1])
        nearest = self._nearest_quarter(pts, ok & ~within)
        inside = ok & (within | (dist <= self.tolerance_m))
        return pd.DataFrame(
            {
                "inside": inside,
                "distance_m": dist,
                "direction": direction,
                "nearest_stadtteil": nearest,
            },
            index=getattr(geoms, "index", None),
        )


def load_city_boundary(
    data_dir: str | os.PathLike[str] | None = None, *, tolerance_m: float = TOLERANCE_M
) -> CityBoundary | None:
    """The boundary from the fetched Stadtteile, or ``None`` when they are not fetched.

    Callers fall back to the bounding box of :data:`handwerkgeo.crs.CITY_BOUNDS` and say
    so (``handwerkgeo data fetch`` brings the Stadtteile).
    """
    from handwerkgeo.errors import DataSourceError
    from handwerkgeo.sources.quarters import read_stadtteile

    try:
        stadtteile = read_stadtteile(data_dir=data_dir)
    except (DataSourceError, FileNotFoundError) as exc:
        logger.info("city boundary not available (%s); using the bounding box", exc)
        return None
    if stadtteile.crs is not None and not stadtteile.crs.equals(CRS):
        stadtteile = stadtteile.to_crs(CRS)
    return CityBoundary.from_stadtteile(stadtteile, tolerance_m=tolerance_m)
