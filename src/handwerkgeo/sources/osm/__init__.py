"""Street networks and features from OpenStreetMap, as osmnx-compatible graphs in EPSG:25832.

Three inputs are read:

* the central Düsseldorf street extract of the data mirror (GeoJSON ways split by cycling
  level of traffic stress, ``osm/strassennetz_zentrum/level_0..4.json``):
  :func:`read_osm_ways` and :func:`graph_from_ways`;
* OSM XML files (``.osm``), through :func:`osmnx.graph_from_xml`: :func:`graph_from_osm_xml`;
* OSM PBF extracts (e.g. Geofabrik's "Regierungsbezirk Düsseldorf"), through pyrosm:
  :func:`graph_from_pbf` and :func:`read_pbf_features`;
* the whole-city arterial roads of the data mirror (``osm/hauptstrassen_stadt/level_4.json``):
  :func:`read_main_roads`;
* motorway junctions, main roads and land use of OSM XML or PBF files, chosen by tag:
  :func:`read_osm_features`.

Every graph is a :class:`networkx.MultiDiGraph` in the form osmnx uses: graph attribute
``crs`` (``"EPSG:25832"``), node attributes ``x``, ``y`` (metres, EPSG:25832) and ``lon``,
``lat`` (WGS 84), edge attributes ``osmid``, ``name`` (when the way has one), ``length``
(metres) and ``geometry`` (a LineString from ``u`` to ``v``). ``osmnx`` functions such as
:func:`osmnx.graph_to_gdfs` and :func:`osmnx.plot_graph` work on them, and
:func:`handwerkgeo.network.prepare_network` turns them into a routable network.

Edge lengths are measured in EPSG:25832, the CRS in which snapping distances and
straight-line fallbacks are measured too, so that every distance of an analysis has the
same yardstick. In Düsseldorf (6.68–6.94° E, 2–2.3° west of the zone's central meridian)
the UTM scale factor is 0.99985–0.99992: projected lengths are 0.008–0.015 % shorter than
geodesic lengths (at most 1.5 cm per 100 m).

Modules: :mod:`.ways` (the mirror's GeoJSON ways), :mod:`.osm_xml`, :mod:`.pbf`,
:mod:`.features` and
:mod:`.graph` (shared graph helpers). Every public name is importable from
``handwerkgeo.sources.osm``.
"""

from __future__ import annotations

# type aliases and constants of the old single module, kept importable
from handwerkgeo.sources.osm.features import (
    OSM_FEATURE_KINDS,
    osm_file_summary,
    read_osm_features,
)
from handwerkgeo.sources.osm.graph import PathLike as PathLike
from handwerkgeo.sources.osm.graph import graph_to_frames
from handwerkgeo.sources.osm.main_roads import MAIN_ROADS_LAYER, read_main_roads
from handwerkgeo.sources.osm.osm_xml import graph_from_osm_xml
from handwerkgeo.sources.osm.pbf import (
    MAIN_ROAD_CLASSES,
    PBF_NETWORK_TYPES,
    graph_from_pbf,
    read_pbf_features,
)
from handwerkgeo.sources.osm.ways import graph_from_ways, read_osm_ways

__all__ = [
    "MAIN_ROADS_LAYER",
    "MAIN_ROAD_CLASSES",
    "OSM_FEATURE_KINDS",
    "PBF_NETWORK_TYPES",
    "graph_from_osm_xml",
    "graph_from_pbf",
    "graph_from_ways",
    "graph_to_frames",
    "osm_file_summary",
    "read_main_roads",
    "read_osm_features",
    "read_osm_ways",
    "read_pbf_features",
]
