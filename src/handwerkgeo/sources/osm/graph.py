"""Graph helpers shared by the OSM readers: finish an osmnx graph in EPSG:25832, and turn
a graph into node and edge frames.
"""

from __future__ import annotations

import os

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import shapely

from handwerkgeo.crs import CRS
from handwerkgeo.errors import DataSourceError, NoCrsError

__all__ = [
    "finish_graph",
    "graph_to_frames",
]


PathLike = str | os.PathLike[str]


def finish_graph(graph: nx.MultiDiGraph, *, name: str) -> nx.MultiDiGraph:
    """Project ``graph`` to EPSG:25832, add ``lon``/``lat``, edge geometries and lengths."""
    if "crs" not in graph.graph:
        msg = f"{name} has no 'crs' graph attribute; set G.graph['crs'] to its CRS."
        raise NoCrsError(msg)
    if graph.number_of_nodes() == 0:
        msg = f"{name} has no nodes: no way matched the network type in this area."
        raise DataSourceError(msg)
    src = pyproj.CRS.from_user_input(graph.graph["crs"])
    ids = list(graph.nodes)
    x = np.array([graph.nodes[i]["x"] for i in ids], dtype=float)
    y = np.array([graph.nodes[i]["y"] for i in ids], dtype=float)
    if src.is_geographic:
        lon, lat = x, y
    else:
        lon, lat = pyproj.Transformer.from_crs(src, "EPSG:4326", always_xy=True).transform(x, y)
    for i, lo, la in zip(ids, lon, lat, strict=True):
        graph.nodes[i]["lon"] = float(lo)
        graph.nodes[i]["lat"] = float(la)
    if not all("street_count" in d for _, d in graph.nodes(data=True)):
        nx.set_node_attributes(graph, ox.stats.count_streets_per_node(graph), "street_count")
    projected = ox.project_graph(graph, to_crs=CRS)
    projected.graph["crs"] = CRS

    # every edge gets a geometry from u to v, and its length in EPSG:25832
    edges = list(projected.edges(keys=True, data=True))
    geoms = np.empty(len(edges), dtype=object)
    missing = []
    for i, (_u, _v, _k, d) in enumerate(edges):
        g = d.get("geometry")
        if g is None:
            missing.append(i)
        else:
            geoms[i] = g
    if missing:
        coords = np.array(
            [
                [
                    (projected.nodes[edges[i][0]]["x"], projected.nodes[edges[i][0]]["y"]),
                    (projected.nodes[edges[i][1]]["x"], projected.nodes[edges[i][1]]["y"]),
                ]
                for i in missing
            ]
        )
        geoms[missing] = shapely.linestrings(coords)
    lengths = shapely.length(geoms)
    for (_u, _v, _k, d), g, ln in zip(edges, geoms, lengths, strict=True):
        d["geometry"] = g
        d["length"] = float(ln)
    return projected


def graph_to_frames(G: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:  # noqa: N803
    """Nodes and edges of a graph as GeoDataFrames (:func:`osmnx.graph_to_gdfs`).

    Parameters
    ----------
    G
        osmnx-compatible graph with a ``crs`` graph attribute.

    Returns
    -------
    nodes, edges
        ``nodes`` indexed by node id with ``x``, ``y`` (and ``lon``, ``lat``) and point
        geometry; ``edges`` indexed by ``(u, v, key)`` with the edge attributes and line
        geometry. Both in the graph's CRS.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:25832")
    >>> G.add_node(1, x=0.0, y=0.0)
    >>> G.add_node(2, x=3.0, y=4.0)
    >>> _ = G.add_edge(1, 2, length=5.0)
    >>> nodes, edges = graph_to_frames(G)
    >>> len(nodes), float(edges.geometry.length.iloc[0])
    (2, 5.0)
    """
    if "crs" not in G.graph:
        msg = "graph has no 'crs' graph attribute; set G.graph['crs'] (e.g. 'EPSG:25832')."
        raise NoCrsError(msg)
    nodes, edges = ox.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=True)
    return nodes, edges
