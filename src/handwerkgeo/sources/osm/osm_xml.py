"""OSM XML files (``.osm``) through :func:`osmnx.graph_from_xml`: :func:`graph_from_osm_xml`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import osmnx as ox

from handwerkgeo.crs import CRS
from handwerkgeo.errors import ConfigError, DataSourceError
from handwerkgeo.sources.osm.graph import PathLike, finish_graph

__all__ = [
    "graph_from_osm_xml",
]

logger = logging.getLogger(__name__)


#: Way filters of the OSM XML reader, one list of ``(tag, regex)`` per network type: a way
#: is kept if it has a ``highway`` tag and, for every pair, the tag is absent or its value
#: does not match the regex (Overpass ``["tag"!~"regex"]``). Same filters as osmnx 2.1
#: sends to Overpass for these network types.
_XML_WAY_FILTERS: dict[str, list[tuple[str, str]]] = {
    "all": [
        ("area", "yes"),
        (
            "highway",
            "abandoned|construction|no|planned|platform|proposed|raceway|razed|rest_area|services",
        ),
    ],
    "walk": [
        ("area", "yes"),
        ("access", "private"),
        (
            "highway",
            "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
            "raceway|razed|rest_area|services",
        ),
        ("foot", "no"),
        ("service", "private"),
        ("sidewalk", "separate"),
        ("sidewalk:both", "separate"),
        ("sidewalk:left", "separate"),
        ("sidewalk:right", "separate"),
    ],
    "bike": [
        ("area", "yes"),
        ("access", "private"),
        (
            "highway",
            "abandoned|bus_guideway|construction|corridor|elevator|escalator|footway|motor|no|"
            "planned|platform|proposed|raceway|razed|rest_area|services|steps",
        ),
        ("bicycle", "no"),
        ("service", "private"),
    ],
    "drive": [
        ("area", "yes"),
        ("access", "private"),
        (
            "highway",
            "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
            "footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|"
            "service|services|steps|track",
        ),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "alley|driveway|emergency_access|parking|parking_aisle|private"),
    ],
}


def _way_passes(attrs: Mapping[str, Any], filters: Iterable[tuple[str, str]]) -> bool:
    if "highway" not in attrs:
        return False
    for tag, regex in filters:
        value = attrs.get(tag)
        if value is not None and re.search(regex, str(value)):
            return False
    return True


def graph_from_osm_xml(
    path: PathLike,
    *,
    network_type: Literal["walk", "bike", "drive", "all"] = "walk",
    simplify: bool = True,
    retain_all: bool = False,
) -> nx.MultiDiGraph:
    """Read a street network from an OSM XML file (``.osm``) with osmnx.

    Parameters
    ----------
    path
        OSM XML file, e.g. from an Overpass export or JOSM (not one written by osmnx).
    network_type
        Ways to keep, with the same tag filters that osmnx uses for Overpass queries:
        ``"walk"`` (no motorways or cycleways, no ``foot=no``; edges in both
        directions), ``"bike"``, ``"drive"`` (one-way streets one way) or ``"all"``.
    simplify
        Merge chains of degree-2 nodes into single edges (:func:`osmnx.simplify_graph`).
    retain_all
        Keep every connected component, not only the largest.

    Returns
    -------
    networkx.MultiDiGraph
        Projected to EPSG:25832; nodes keep osmnx's node tags (``highway``, ``ref``, …,
        e.g. ``highway="motorway_junction"``), ``lon`` and ``lat``; every edge has a
        ``geometry`` and a ``length`` in EPSG:25832 metres.

    Raises
    ------
    DataSourceError
        If the file is missing, unreadable, or no way matches ``network_type``.

    Examples
    --------
    >>> G = graph_from_osm_xml("extract.osm", network_type="drive")  # doctest: +SKIP
    """
    if network_type not in _XML_WAY_FILTERS:
        msg = f"network_type must be one of {sorted(_XML_WAY_FILTERS)}, got {network_type!r}."
        raise ConfigError(msg)
    path = Path(path)
    if not path.is_file():
        msg = f"OSM XML file {path} does not exist."
        raise DataSourceError(msg)
    filters = _XML_WAY_FILTERS[network_type]
    needed = {tag for tag, _ in filters} | {"highway", "name", "oneway", "junction"}
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved, *sorted(needed)]))
    try:
        graph = ox.graph_from_xml(
            path, bidirectional=network_type == "walk", simplify=False, retain_all=True
        )
    except Exception as exc:  # osmnx raises several types for malformed or empty files
        msg = f"cannot read a street network from OSM XML file {path}: {exc}"
        raise DataSourceError(msg) from exc
    finally:
        ox.settings.useful_tags_way = saved
    drop = [
        (u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if not _way_passes(d, filters)
    ]
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n, deg in graph.degree() if deg == 0])
    if graph.number_of_edges() == 0:
        msg = f"OSM XML file {path} has no ways of network type {network_type!r}."
        raise DataSourceError(msg)
    if simplify:
        graph = ox.simplify_graph(graph)
    if not retain_all:
        graph = ox.truncate.largest_component(graph, strongly=False)
    projected = finish_graph(graph, name=str(path))
    logger.info(
        "graph_from_osm_xml: %s (%s): %d nodes, %d edges, %s",
        path.name,
        network_type,
        projected.number_of_nodes(),
        projected.number_of_edges(),
        CRS,
    )
    return projected
