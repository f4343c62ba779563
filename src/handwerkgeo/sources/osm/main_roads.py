"""The whole-city main roads of the data mirror: OSM arterial roads (cycling stress level 4).

The stressmap project (github.com/ckrey/stressmap, OSM of early 2020, © OpenStreetMap
contributors, ODbL 1.0) published every way of Düsseldorf that is still open to bikes
but carries heavy traffic (*level of traffic stress 4*) as ``level_4.json``: 1,614 ways,
215 km, the arterial roads (Münchener Str., Danziger Str., Südring, Kennedydamm …). The
file has no ``highway`` class; it is the city's main-road network as cycling stress sees
it, not a list of ``highway=primary/secondary``: motorways (closed to bikes) are not in it,
and a busy ``tertiary`` street may be. :func:`read_main_roads` reads it as the context layer
``main_roads``.
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import shapely

from handwerkgeo.crs import CITY_BOUNDS
from handwerkgeo.errors import DataSourceError
from handwerkgeo.fetch import layer_paths
from handwerkgeo.sources.osm.ways import read_osm_ways

__all__ = ["MAIN_ROADS_LAYER", "read_main_roads"]

logger = logging.getLogger(__name__)

#: Manifest layer of the whole-city main roads.
MAIN_ROADS_LAYER = "osm_main_roads_city"


def read_main_roads(
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read the whole-city OSM arterial roads as lines in EPSG:25832.

    Parameters
    ----------
    path
        A stressmap ``level_4.json`` (GeoJSON, WGS 84, ``id`` = ``way/NNN``, ``name``).
        ``None`` reads the fetched layer ``osm_main_roads_city``.
    data_dir
        Data directory when ``path`` is ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``way_id``, ``osmid``, ``name``, ``lts`` (4), geometry; only ways within
        Düsseldorf's bounding box with a 2 km margin (:data:`handwerkgeo.crs.CITY_BOUNDS`)
        — roads just across the border in Neuss, Meerbusch or Ratingen stay, as a site at
        the border may use them. ``attrs["rejects"]`` as in
        :func:`handwerkgeo.sources.osm.read_osm_ways`.

    Raises
    ------
    DataSourceError
        If the file is missing or unreadable, or no road lies in the city.

    Examples
    --------
    >>> roads = read_main_roads()  # doctest: +SKIP
    >>> round(roads.length.sum() / 1000)  # doctest: +SKIP
    208
    """
    src = path if path is not None else layer_paths(MAIN_ROADS_LAYER, data_dir)[0]
    ways = read_osm_ways({4: src})
    keep = ways.geometry.intersects(shapely.box(*CITY_BOUNDS))
    out = ways[keep.to_numpy()].reset_index(drop=True)
    out.attrs = dict(ways.attrs)
    if out.empty:
        msg = f"main roads file {src} has no road within Düsseldorf; is it the city's extract?"
        raise DataSourceError(msg)
    logger.info(
        "read_main_roads: %d of %d ways (%.0f km) in Düsseldorf's bounding box",
        len(out),
        len(ways),
        out.length.sum() / 1000,
    )
    return out
