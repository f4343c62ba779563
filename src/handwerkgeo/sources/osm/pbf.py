"""OSM PBF extracts (e.g. Geofabrik's "Regierungsbezirk Düsseldorf") through pyrosm (the
optional ``osm`` extra): :func:`graph_from_pbf` and :func:`read_pbf_features`.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import pandas as pd

from handwerkgeo.crs import CRS, to_canonical
from handwerkgeo.errors import ConfigError, DataSourceError
from handwerkgeo.sources.osm.graph import PathLike, finish_graph

__all__ = [
    "MAIN_ROAD_CLASSES",
    "PBF_NETWORK_TYPES",
    "graph_from_pbf",
    "read_pbf_features",
]

logger = logging.getLogger(__name__)


#: Network types of :func:`graph_from_pbf` (pyrosm's names).
PBF_NETWORK_TYPES = ("walking", "cycling", "driving", "all")

#: Road classes of the ``main_roads`` features of :func:`read_pbf_features`: the roads a
#: heavy goods vehicle may use to reach a site, with their ramps (``*_link``), which are
#: where a site connects to them.
MAIN_ROAD_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
)


def _open_pbf(path: PathLike, bounding_box: Any = None) -> Any:
    try:
        import pyrosm
    except ImportError as exc:  # optional dependency, extra "osm"
        msg = "reading OSM PBF files needs pyrosm: pip install 'handwerkgeo[osm]'."
        raise DataSourceError(msg) from exc
    path = Path(path)
    if not path.is_file():
        msg = f"OSM PBF file {path} does not exist."
        raise DataSourceError(msg)
    try:
        return pyrosm.OSM(str(path), bounding_box=bounding_box)
    except Exception as exc:
        msg = f"cannot open OSM PBF file {path}: {exc}"
        raise DataSourceError(msg) from exc


def graph_from_pbf(
    path: PathLike,
    *,
    network_type: Literal["walking", "driving", "cycling", "all"] = "walking",
    bounding_box: Any = None,
    simplify: bool = True,
    retain_all: bool = False,
) -> nx.MultiDiGraph:
    """Read a street network from an OSM PBF extract with pyrosm.

    Parameters
    ----------
    path
        ``.osm.pbf`` file, e.g. Geofabrik's ``duesseldorf-regbez-latest.osm.pbf``.
    network_type
        pyrosm network type: ``"walking"`` (edges in both directions), ``"cycling"``,
        ``"driving"`` (one-way streets one way) or ``"all"``.
    bounding_box
        Optional area to read, in WGS 84: ``[minlon, minlat, maxlon, maxlat]`` or a
        shapely (Multi)Polygon (pyrosm's ``bounding_box``). Cropping early saves memory
        on regional extracts.
    simplify
        Merge chains of degree-2 nodes into single edges (pyrosm's simplification).
    retain_all
        Keep every connected component, not only the largest.

    Returns
    -------
    networkx.MultiDiGraph
        Projected to EPSG:25832, osmnx-compatible (see module docstring).

    Raises
    ------
    DataSourceError
        If pyrosm is missing, the file cannot be read or holds no matching ways.

    Examples
    --------
    >>> import pyrosm
    >>> G = graph_from_pbf(pyrosm.get_data("test_pbf"), network_type="driving")
    >>> G.graph["crs"]
    'EPSG:25832'
    """
    if network_type not in PBF_NETWORK_TYPES:
        msg = f"network_type must be one of {list(PBF_NETWORK_TYPES)}, got {network_type!r}."
        raise ConfigError(msg)
    osm = _open_pbf(path, bounding_box)
    with _quiet_empty():
        result = osm.get_network(nodes=True, network_type=network_type)
    if result is None or result[1] is None or len(result[1]) == 0:
        msg = f"OSM PBF file {path} has no {network_type} ways in the requested area."
        raise DataSourceError(msg)
    nodes, edges = result
    graph = osm.to_graph(
        nodes,
        edges,
        graph_type="networkx",
        network_type=network_type,
        retain_all=retain_all,
        simplify=simplify,
        osmnx_compatible=True,
        progress=False,
    )
    projected = finish_graph(graph, name=str(path))
    logger.info(
        "graph_from_pbf: %s (%s): %d nodes, %d edges, %s",
        Path(path).name,
        network_type,
        projected.number_of_nodes(),
        projected.number_of_edges(),
        CRS,
    )
    return projected


@contextlib.contextmanager
def _quiet_empty() -> Iterator[None]:
    """Silence pyrosm's 'Could not find any OSM data' warning; emptiness is handled here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Could not find any OSM data")
        yield


_FEATURE_COLUMNS = {
    "motorway_junctions": ["osmid", "osm_type", "name", "ref", "highway"],
    "landuse": ["osmid", "osm_type", "name", "landuse"],
    "main_roads": ["osmid", "osm_type", "name", "ref", "highway"],
}

_FEATURE_GEOMS = {
    "motorway_junctions": ("Point",),
    "landuse": ("Polygon", "MultiPolygon"),
    "main_roads": ("LineString", "MultiLineString"),
}


def read_pbf_features(
    path: PathLike,
    *,
    kind: Literal["motorway_junctions", "landuse", "main_roads"],
    bounding_box: Any = None,
) -> gpd.GeoDataFrame:
    """Read one kind of feature from an OSM PBF extract, in EPSG:25832.

    Parameters
    ----------
    path
        ``.osm.pbf`` file.
    kind
        ``"motorway_junctions"``: ``highway=motorway_junction`` nodes (motorway exits;
        ``ref`` is the exit number). ``"landuse"``: ``landuse=*`` areas (ways and
        multipolygon relations). ``"main_roads"``: ways with ``highway`` in
        :data:`MAIN_ROAD_CLASSES` (``motorway``, ``trunk``, ``primary``, ``secondary`` and
        their ``*_link`` ramps).
    bounding_box
        Optional area to read, in WGS 84 (see :func:`graph_from_pbf`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``osmid`` (int), ``osm_type`` (``node``/``way``/``relation``), ``name``,
        and ``ref`` + ``highway`` (junctions, roads) or ``landuse``; geometry. Empty (with
        these columns) when the extract has no such feature. Features of another geometry
        type (e.g. a landuse tagged on a node) are not returned; they are listed with a
        ``reason`` in ``attrs["rejects"]``.

    Examples
    --------
    >>> import pyrosm
    >>> j = read_pbf_features(pyrosm.get_data("test_pbf"), kind="motorway_junctions")
    >>> j.crs.to_epsg(), j["highway"].unique().tolist()
    (25832, ['motorway_junction'])
    """
    if kind not in _FEATURE_COLUMNS:
        msg = f"kind must be one of {list(_FEATURE_COLUMNS)}, got {kind!r}."
        raise ConfigError(msg)
    osm = _open_pbf(path, bounding_box)
    with _quiet_empty():
        if kind == "motorway_junctions":
            raw = osm.get_data_by_custom_criteria(
                custom_filter={"highway": ["motorway_junction"]},
                filter_type="keep",
                keep_nodes=True,
                keep_ways=False,
                keep_relations=False,
            )
        elif kind == "landuse":
            raw = osm.get_landuse()
        else:
            raw = osm.get_data_by_custom_criteria(
                custom_filter={"highway": list(MAIN_ROAD_CLASSES)},
                filter_type="keep",
                keep_nodes=False,
                keep_ways=True,
                keep_relations=False,
            )
    columns = _FEATURE_COLUMNS[kind]
    if raw is None or len(raw) == 0:
        logger.info("read_pbf_features: no %s in %s", kind, Path(path).name)
        empty = gpd.GeoDataFrame(
            {c: pd.Series(dtype="int64" if c == "osmid" else "string") for c in columns},
            geometry=gpd.GeoSeries([], crs=CRS),
            crs=CRS,
        )
        empty.attrs["rejects"] = []
        return empty
    frame = raw.rename(columns={"id": "osmid"})
    for c in columns:
        if c not in frame.columns:
            frame[c] = pd.NA
    ok_geom = frame.geom_type.isin(_FEATURE_GEOMS[kind]).to_numpy()
    ok_geom = ok_geom & ~frame.geometry.is_empty.to_numpy()
    rejects = pd.DataFrame(
        {
            "osmid": frame["osmid"][~ok_geom].to_numpy(),
            "reason": [
                f"{kind} expects {'/'.join(_FEATURE_GEOMS[kind])}, got {t}"
                for t in frame.geom_type[~ok_geom]
            ],
        }
    )
    if len(rejects):
        logger.warning(
            "read_pbf_features: %d %s features of another geometry type left out "
            "(see attrs['rejects'])",
            len(rejects),
            kind,
        )
    frame = frame[ok_geom]
    out = gpd.GeoDataFrame(
        {c: frame[c].astype("int64" if c == "osmid" else "string").to_numpy() for c in columns},
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )
    out = to_canonical(out, name=f"{kind} of {Path(path).name}")
    out.attrs["rejects"] = rejects.to_dict("records")
    logger.info("read_pbf_features: %d %s from %s, %s", len(out), kind, Path(path).name, CRS)
    return out
