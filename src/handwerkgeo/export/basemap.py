"""The offline base map: streets, cycling network, stops and quarter boundaries.

Every map of handwerkgeo (the interactive HTML map, the search map, the register's map, the
print figure and the locator of each site profile) draws the same base map, built only from
data that ``handwerkgeo data fetch`` has already saved — no tile server, no network:

- **streets** in three classes (``road_class``), shown by zoom level in the HTML map:
  ``main`` — the whole-city arterial roads (``osm_main_roads_city``, OSM ways of cycling
  stress level 4), from zoom 10; ``street`` — the central street network's ways of stress
  level 2–3, from zoom 13; ``minor`` — its quiet streets and paths (level 0–1), from zoom 15;
- the **cycling network** (Basisradwegenetz; an optional layer, off by default),
- **stops** of public transport (VRR),
- **Stadtteil and Stadtbezirk boundaries with their names** (Bezirk names at city scale,
  Stadtteil names from zoom 12).

OSM-derived layers carry "© OpenStreetMap contributors" in the map's attribution through
their source entries (``sources``).

The CLI builds one with :func:`load_base_map` (from the data directory or an already loaded
:class:`~handwerkgeo.context.ScoringContext`) and passes it to the exporters
(``export_map(..., base_map=bm)``, ``export_figure(..., base_map=bm)``,
``export_profiles(..., base_map=bm)``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo.crs import CRS, check_crs
from handwerkgeo.errors import HandwerkgeoError
from handwerkgeo.export._mapdata import enc_lines, enc_point, enc_polygonal, to_wgs84

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from handwerkgeo.context import ScoringContext

__all__ = [
    "ROAD_CLASSES",
    "BaseMap",
    "base_map_payload",
    "draw_base_map",
    "load_base_map",
    "street_classes",
]

logger = logging.getLogger(__name__)

#: Street classes of the base map: smallest zoom level at which the HTML map draws them.
ROAD_CLASSES: dict[str, int] = {"main": 10, "street": 13, "minor": 15}

#: Source-manifest layers a base map draws from.
_BASE_LAYERS = (
    "stadtteile",
    "vrr_stops",
    "cycling_network",
    "osm_main_roads_city",
    "osm_streets_central",
)


@dataclass(frozen=True)
class BaseMap:
    """The layers of the offline base map (all optional, EPSG:25832).

    Attributes
    ----------
    streets
        Lines with ``road_class`` (``main``/``street``/``minor``) and ``name``.
    cycling
        Cycling network lines.
    stops
        Public-transport stops (points, ``name``).
    stadtteile, bezirke
        Quarter polygons with ``stadtteil_name`` / ``bezirk_name``.
    sources
        ``{name, layer, licence, attribution}`` of each source drawn.
    """

    streets: gpd.GeoDataFrame | None = None
    cycling: gpd.GeoDataFrame | None = None
    stops: gpd.GeoDataFrame | None = None
    stadtteile: gpd.GeoDataFrame | None = None
    bezirke: gpd.GeoDataFrame | None = None
    sources: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("streets", "cycling", "stops", "stadtteile", "bezirke"):
            gdf = getattr(self, name)
            if gdf is not None:
                check_crs(gdf, name=f"base map {name}")

    @property
    def is_empty(self) -> bool:
        """``True`` when no layer was found (nothing fetched)."""
        return all(
            getattr(self, n) is None or not len(getattr(self, n))
            for n in ("streets", "cycling", "stops", "stadtteile", "bezirke")
        )


def street_classes(
    main_roads: gpd.GeoDataFrame | None, central_ways: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    """One street layer with ``road_class`` from the city's main roads and central ways.

    Central ways of stress level 4 that are also whole-city main roads (same ``way_id``)
    are kept once. Returns ``None`` when neither layer is given.
    """
    parts = []
    seen: set[str] = set()
    if main_roads is not None and len(main_roads):
        check_crs(main_roads, name="main_roads")
        parts.append(_classed(main_roads, np.full(len(main_roads), "main", dtype=object)))
        if "way_id" in main_roads:
            seen = set(main_roads["way_id"].astype(str))
    if central_ways is not None and len(central_ways):
        check_crs(central_ways, name="central_ways")
        ways = central_ways
        if seen and "way_id" in ways:
            ways = ways[~ways["way_id"].astype(str).isin(seen)]
        lts = pd.to_numeric(ways.get("lts", pd.Series(1, index=ways.index)), errors="coerce")
        cls = np.where(lts >= 4, "main", np.where(lts >= 2, "street", "minor")).astype(object)
        parts.append(_classed(ways, cls))
    if not parts:
        return None
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=CRS)


def _classed(gdf: gpd.GeoDataFrame, cls: np.ndarray) -> gpd.GeoDataFrame:
    names = gdf["name"] if "name" in gdf else pd.Series(None, index=gdf.index, dtype=object)
    return gpd.GeoDataFrame(
        {"road_class": cls, "name": names.to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=CRS
    )


@lru_cache(maxsize=4)
def _central_ways(data_dir: str) -> gpd.GeoDataFrame | None:
    from handwerkgeo.sources.osm import read_osm_ways

    try:
        return read_osm_ways(data_dir=data_dir)
    except (HandwerkgeoError, OSError) as exc:  # a layer not fetched is left out
        logger.info("base map without the central street network: %s", exc)
        return None


def load_base_map(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    context: ScoringContext | None = None,
) -> BaseMap:
    """The base map from the fetched data (layers not fetched are left out, with a log line).

    Parameters
    ----------
    data_dir
        Data directory (default ``HANDWERKGEO_DATA_DIR`` or ``./data``).
    context
        An already loaded scoring context: its Stadtteile, Bezirke, stops, cycling network
        and main roads are used instead of reading them again. The central street network
        is read from ``data_dir`` (once per process).

    Returns
    -------
    BaseMap
    """
    from handwerkgeo.context import load_context
    from handwerkgeo.fetch import load_manifest
    from handwerkgeo.settings import data_dir as resolve

    ctx = context if context is not None else load_context(data_dir, network=False)
    ways = _central_ways(str(Path(resolve(data_dir)).resolve()))
    streets = street_classes(ctx.main_roads, ways)
    loaded = {s.get("layer"): s for s in ctx.sources}
    sources: list[Mapping[str, Any]] = [
        loaded[name] for name in _BASE_LAYERS if name in loaded and name != "osm_streets_central"
    ]
    if ways is not None:
        layer = load_manifest().layers["osm_streets_central"]
        sources.append(
            {
                "name": layer.title,
                "layer": "osm_streets_central",
                "licence": layer.licence,
                "attribution": layer.attribution,
            }
        )
    return BaseMap(
        streets=streets,
        cycling=ctx.cycling,
        stops=ctx.stops,
        stadtteile=ctx.stadtteile,
        bezirke=ctx.bezirke,
        sources=tuple(sources),
    )


# --- HTML map ---------------------------------------------------------------------------------


def _named_polygons(gdf: gpd.GeoDataFrame, column: str, simplify_m: float) -> dict[str, Any]:
    geo = to_wgs84(gdf.geometry, simplify_m)
    labels = gdf.geometry.representative_point().to_crs("EPSG:4326")
    names = gdf[column] if column in gdf else pd.Series("", index=gdf.index)
    return {
        "name": [("" if pd.isna(n) else str(n)) for n in names],
        "geom": [enc_polygonal(g) for g in geo],
        "label": [enc_point(p) for p in labels],
    }


def base_map_payload(base: BaseMap, *, simplify_m: float = 3.0) -> dict[str, Any]:
    """The base map's streets and Bezirke as compact JSON for the map script.

    Streets are simplified by ``simplify_m`` metres, quantised to 1e-5 degrees and
    delta-encoded, one list of lines per road class (drawn as one canvas polyline each).
    Stadtteile, stops and the cycling network go through the map's context layers.

    Returns
    -------
    dict
        ``{"streets": {class: [line, …]}, "minZoom": {class: z}, "bezirke": {…}}``.
    """
    out: dict[str, Any] = {"streets": {}, "minZoom": dict(ROAD_CLASSES)}
    if base.streets is not None and len(base.streets):
        geo = to_wgs84(base.streets.geometry, simplify_m)
        classes = base.streets["road_class"].to_numpy()
        for cls in ROAD_CLASSES:
            lines: list[list[int]] = []
            for g in geo[classes == cls]:
                lines.extend(enc_lines(g))
            if lines:
                out["streets"][cls] = lines
    if base.bezirke is not None and len(base.bezirke):
        out["bezirke"] = _named_polygons(base.bezirke, "bezirk_name", 20.0)
    return out


# --- print figures ----------------------------------------------------------------------------

_STREET_STYLE = {  # colour, linewidth (pt) in print
    "main": ("#8c8c8c", 0.9),
    "street": ("#b0b0b0", 0.45),
    "minor": ("#c8c8c8", 0.25),
}


def draw_base_map(
    ax: Axes,
    base: BaseMap,
    extent: tuple[float, float, float, float],
    *,
    detail: bool | None = None,
) -> None:
    """Draw the base map beneath the plots on a matplotlib ``ax`` (EPSG:25832 axes).

    Streets of class ``street``/``minor`` are drawn only for extents up to 6 km across
    (``detail=None``) or as asked; Bezirk boundaries in grey, stops as small dots when the
    extent is up to 4 km across. Quarter names are left to the caller (it places them so
    that none is cut at the frame).
    """
    from shapely.geometry import box

    span = max(extent[2] - extent[0], extent[3] - extent[1])
    detailed = span <= 6_000 if detail is None else detail
    frame = box(*extent)
    if base.streets is not None and len(base.streets):
        near = base.streets.iloc[base.streets.sindex.query(frame)]
        for cls in ("minor", "street", "main"):
            if cls != "main" and not detailed:
                continue
            sub = near[near["road_class"] == cls]
            if len(sub):
                colour, width = _STREET_STYLE[cls]
                sub.plot(ax=ax, color=colour, linewidth=width, zorder=1.2)
    if base.bezirke is not None and len(base.bezirke):
        base.bezirke.boundary.plot(ax=ax, color="#7a7a7a", linewidth=0.9, zorder=1.4)
    if base.stops is not None and len(base.stops) and span <= 4_000:
        pts = base.stops.iloc[base.stops.sindex.query(frame)]
        if len(pts):
            pts.plot(ax=ax, color="#444444", markersize=2.5, zorder=1.5)
