"""Street networks and features from OpenStreetMap, as osmnx-compatible graphs in EPSG:25832.

Three inputs are read:

* the central Düsseldorf street extract of the data mirror (GeoJSON ways split by cycling
  level of traffic stress, ``osm/strassennetz_zentrum/level_0..4.json``):
  :func:`read_osm_ways` and :func:`graph_from_ways`;
* OSM XML files (``.osm``), through :func:`osmnx.graph_from_xml`: :func:`graph_from_osm_xml`;
* OSM PBF extracts (e.g. Geofabrik's "Regierungsbezirk Düsseldorf"), through pyrosm:
  :func:`graph_from_pbf` and :func:`read_pbf_features`.

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
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from handwerkgeo.crs import CRS, check_crs, to_canonical
from handwerkgeo.errors import ConfigError, DataSourceError, NoCrsError, ValidationError

__all__ = [
    "graph_from_osm_xml",
    "graph_from_pbf",
    "graph_from_ways",
    "graph_to_frames",
    "read_osm_ways",
    "read_pbf_features",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

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

#: Network types of :func:`graph_from_pbf` (pyrosm's names).
PBF_NETWORK_TYPES = ("walking", "cycling", "driving", "all")

#: Road classes of the ``main_roads`` features of :func:`read_pbf_features`.
MAIN_ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary")

_LEVEL_RE = re.compile(r"level[_-]?([0-4])\b", re.IGNORECASE)


# --------------------------------------------------------------------------------------
# GeoJSON ways of the central Düsseldorf extract


def _level_of(path: Path) -> int:
    match = _LEVEL_RE.search(path.stem)
    if match is None:
        msg = (
            f"cannot tell the level of traffic stress of {path}: its name should contain "
            "'level_0' … 'level_4' as in the published extract. Pass a mapping "
            "{level: path} instead, e.g. read_osm_ways({0: 'a.json', 1: 'b.json'})."
        )
        raise DataSourceError(msg)
    return int(match.group(1))


def read_osm_ways(
    paths: Sequence[PathLike] | Mapping[int, PathLike] | None = None,
    *,
    data_dir: PathLike | None = None,
) -> gpd.GeoDataFrame:
    """Read the OSM street extract of central Düsseldorf, one row per way.

    The extract (published with github.com/ckrey/stressmap, OSM of May 2020, © OpenStreetMap
    contributors, ODbL) comes as five GeoJSON files ``level_0.json`` … ``level_4.json`` of
    WGS 84 LineStrings; the file a way is in is its cycling *level of traffic stress*
    (0 = car-free … 4 = heavy traffic).

    Parameters
    ----------
    paths
        The GeoJSON files, each named ``…level_N…``, or a mapping ``{level: path}``.
        ``None`` reads the fetched layer ``osm_streets_central`` of ``data_dir``.
    data_dir
        Data directory for the default paths (see :mod:`handwerkgeo.settings`).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:25832, columns ``way_id`` (``"way/NNN"``), ``osmid`` (int), ``name``
        (``<NA>`` for unnamed ways), ``lts`` (int 0–4), geometry (LineString).
        MultiLineStrings are split into their parts (same attributes). Rows without a
        usable line (missing, empty or not a line) are not returned; they are listed with
        a ``reason`` in ``attrs["rejects"]`` and counted in a log warning.
        ``attrs["source_crs"]`` is the CRS of the files.

    Raises
    ------
    DataSourceError
        If a file is missing, unreadable, or its level cannot be told from its name.

    Examples
    --------
    >>> ways = read_osm_ways(data_dir="data")  # doctest: +SKIP
    >>> ways["lts"].value_counts().sort_index().tolist()  # doctest: +SKIP
    [491, 7471, 3944, 4247, 513]
    """
    if paths is None:
        from handwerkgeo.fetch import layer_paths

        items = [(_level_of(p), p) for p in layer_paths("osm_streets_central", data_dir)]
    elif isinstance(paths, Mapping):
        items = [(int(k), Path(v)) for k, v in paths.items()]
    elif isinstance(paths, (str, os.PathLike)):
        items = [(_level_of(Path(paths)), Path(paths))]
    else:
        items = [(_level_of(Path(p)), Path(p)) for p in paths]
    if not items:
        msg = "read_osm_ways got no files; pass the level_0..4.json paths or run `data fetch`."
        raise DataSourceError(msg)

    frames = []
    for level, path in items:
        if not Path(path).is_file():
            msg = f"OSM ways file {path} does not exist. Run `handwerkgeo data fetch`."
            raise DataSourceError(msg)
        try:
            frame = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several types for a corrupt file
            msg = f"cannot read OSM ways file {path}: {exc}"
            raise DataSourceError(msg) from exc
        if frame.crs is None:
            frame = frame.set_crs("EPSG:4326")  # RFC 7946: GeoJSON is WGS 84
        frame["lts"] = level
        frame["source_file"] = Path(path).name
        frames.append(frame)
    raw = pd.concat(frames, ignore_index=True)
    if "id" not in raw.columns:
        msg = "OSM ways files have no 'id' property ('way/NNN'); is this the stressmap extract?"
        raise DataSourceError(msg)
    if "name" not in raw.columns:
        raw["name"] = pd.NA
    raw = gpd.GeoDataFrame(raw, geometry="geometry", crs=frames[0].crs)

    geom = raw.geometry
    missing = geom.isna().to_numpy() | geom.is_empty.to_numpy()
    not_line = ~missing & ~geom.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    osmid = pd.to_numeric(
        raw["id"].astype("string").str.extract(r"(\d+)$", expand=False), errors="coerce"
    )
    bad_id = osmid.isna().to_numpy()
    reasons = np.select(
        [missing, not_line, bad_id],
        ["missing or empty geometry", "geometry is not a line", "id is not 'way/NNN'"],
        default="",
    )
    rejects = pd.DataFrame(
        {
            "source_file": raw["source_file"],
            "way_id": raw["id"],
            "reason": reasons,
        }
    )[reasons != ""]
    if len(rejects):
        logger.warning(
            "read_osm_ways: %d of %d ways have no usable line and are left out (see "
            "attrs['rejects']): %s",
            len(rejects),
            len(raw),
            rejects["reason"].value_counts().to_dict(),
        )
    keep = reasons == ""
    out = gpd.GeoDataFrame(
        {
            "way_id": raw["id"].astype("string")[keep].to_numpy(),
            "osmid": osmid[keep].astype("int64").to_numpy(),
            "name": raw["name"].astype("string")[keep].to_numpy(),
            "lts": raw["lts"][keep].astype("int64").to_numpy(),
        },
        geometry=raw.geometry[keep].to_numpy(),
        crs=raw.crs,
    )
    out = out.explode(index_parts=False, ignore_index=True)
    out = to_canonical(out, name="OSM ways")
    out.attrs["rejects"] = rejects.reset_index(drop=True).to_dict("records")
    logger.info("read_osm_ways: %d ways from %d files, in %s", len(out), len(items), CRS)
    return out


def graph_from_ways(
    ways: gpd.GeoDataFrame,
    *,
    split_at: Literal["every_vertex", "shared_vertices"] = "every_vertex",
) -> nx.MultiDiGraph:
    """Build a routable walking graph from OSM ways that meet at shared vertices.

    The ways of the extract cross and join at vertices in the middle of lines, not only at
    their ends, so they are split there. Nodes are keyed by exact coordinate: two vertices
    are one node when their coordinates are bit-for-bit equal. Every edge exists in both
    directions (walking network).

    Parameters
    ----------
    ways
        Lines in EPSG:25832 with ``osmid`` (or ``way_id``) and optional ``name`` and
        ``lts`` columns, e.g. from :func:`read_osm_ways`. Not modified.
    split_at
        ``"every_vertex"`` (default): every vertex is a node and every segment an edge.
        ``"shared_vertices"``: nodes are only the way ends and the vertices shared with
        another way (or visited twice by the same way); an edge runs between consecutive
        nodes along a way and keeps the intermediate vertices in its geometry. Both
        graphs give the same shortest-path lengths between their common nodes; the first
        has more nodes to snap to (finer snapping), the second ~2.5× fewer nodes.

    Returns
    -------
    networkx.MultiDiGraph
        Graph attributes ``crs`` (``"EPSG:25832"``) and ``created_with``; node ids are
        integers ``0..n-1`` in coordinate order, with ``x``, ``y``, ``lon``, ``lat``;
        edges with ``osmid``, ``name`` (named ways only), ``lts`` (when given),
        ``length`` (metres, EPSG:25832), ``geometry`` (from ``u`` to ``v``), ``oneway``
        (False) and ``reversed``. Parallel edges (two ways along the same segment) are
        kept with keys 0, 1, …; consecutive repeated vertices are dropped.

    Raises
    ------
    NoCrsError, UnexpectedCrsError
        If ``ways`` is not in EPSG:25832.
    ValidationError
        If geometries are missing or not lines, or neither ``osmid`` nor ``way_id`` is
        present.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> ways = gpd.GeoDataFrame(
    ...     {"osmid": [1, 2]},
    ...     geometry=[LineString([(0, 0), (10, 0), (20, 0)]), LineString([(10, -5), (10, 0)])],
    ...     crs="EPSG:25832",
    ... )
    >>> G = graph_from_ways(ways, split_at="shared_vertices")
    >>> G.number_of_nodes(), G.number_of_edges()
    (4, 6)
    """
    check_crs(ways, name="ways")
    if split_at not in ("every_vertex", "shared_vertices"):
        msg = f"split_at must be 'every_vertex' or 'shared_vertices', got {split_at!r}."
        raise ConfigError(msg)
    problems = []
    geom = ways.geometry
    bad = geom.isna().to_numpy() | geom.is_empty.to_numpy()
    bad |= ~geom.geom_type.isin(["LineString"]).to_numpy()
    if bad.any():
        labels = list(ways.index[bad][:10])
        problems.append(
            f"{int(bad.sum())} geometries are missing, empty or not LineStrings "
            f"(index {labels}{' …' if bad.sum() > 10 else ''}); explode MultiLineStrings "
            "and drop empty rows first"
        )
    if "osmid" in ways.columns:
        osmid = pd.to_numeric(ways["osmid"], errors="coerce")
    elif "way_id" in ways.columns:
        osmid = pd.to_numeric(
            ways["way_id"].astype("string").str.extract(r"(\d+)$", expand=False),
            errors="coerce",
        )
    else:
        problems.append("ways need an 'osmid' (int) or 'way_id' ('way/NNN') column")
        osmid = None
    if osmid is not None and osmid.isna().any():
        problems.append(f"{int(osmid.isna().sum())} ways have no numeric OSM id")
    if problems or osmid is None:
        raise ValidationError("ways", problems)
    if len(ways) == 0:
        msg = "ways is empty; there is no street network to build."
        raise ValidationError("ways", [msg])

    xy, way_of = shapely.get_coordinates(geom.to_numpy(), return_index=True)
    # drop consecutive repeated vertices within a way
    same_way = way_of[1:] == way_of[:-1]
    repeat = np.zeros(len(xy), dtype=bool)
    repeat[1:] = same_way & np.all(xy[1:] == xy[:-1], axis=1)
    xy, way_of = xy[~repeat], way_of[~repeat]

    node_xy, node_of = np.unique(xy, axis=0, return_inverse=True)
    node_of = node_of.ravel()
    first = np.ones(len(xy), dtype=bool)
    first[1:] = way_of[1:] != way_of[:-1]
    last = np.ones(len(xy), dtype=bool)
    last[:-1] = way_of[:-1] != way_of[1:]

    if split_at == "every_vertex":
        is_node = np.ones(len(xy), dtype=bool)
    else:
        counts = np.bincount(node_of, minlength=len(node_xy))
        is_node = first | last | (counts[node_of] > 1)

    # Expand: a node vertex inside a way ends one piece and starts the next, so it is
    # duplicated; pieces are then runs of rows with the same piece id.
    dup = is_node & ~first & ~last
    rows = np.repeat(np.arange(len(xy)), 1 + dup.astype(np.int64))
    starts = first[rows].copy()
    second_copy = np.zeros(len(rows), dtype=bool)
    second_copy[1:] = rows[1:] == rows[:-1]
    starts |= second_copy
    piece = np.cumsum(starts) - 1
    n_pieces = int(piece[-1]) + 1 if len(piece) else 0
    piece_len = np.bincount(piece, minlength=n_pieces)
    single = piece_len < 2  # a way of one distinct vertex makes no edge
    pxy = xy[rows]
    seg = np.hypot(*(pxy[1:] - pxy[:-1]).T)
    same_piece = piece[1:] == piece[:-1]
    length = np.bincount(piece[:-1][same_piece], weights=seg[same_piece], minlength=n_pieces)
    first_row = np.flatnonzero(starts)
    last_row = np.r_[first_row[1:] - 1, len(rows) - 1]
    geoms = shapely.linestrings(pxy[~single[piece]], indices=piece[~single[piece]])
    keep = ~single
    u = node_of[rows[first_row]][keep]
    v = node_of[rows[last_row]][keep]
    length = length[keep]
    way_idx = way_of[rows[first_row]][keep]
    if single.any():
        logger.info("graph_from_ways: %d ways with one distinct vertex ignored", single.sum())

    osmid_arr = osmid.to_numpy(dtype="int64")[way_idx]
    names = (
        ways["name"].astype("string").to_numpy(dtype=object, na_value=None)[way_idx]
        if "name" in ways.columns
        else np.full(len(way_idx), None, dtype=object)
    )
    lts = ways["lts"].to_numpy()[way_idx] if "lts" in ways.columns else None

    # both directions; keys number parallel edges per (u, v)
    uu = np.r_[u, v]
    vv = np.r_[v, u]
    all_geoms = np.r_[geoms, shapely.reverse(geoms)]
    rev = np.r_[np.zeros(len(u), dtype=bool), np.ones(len(u), dtype=bool)]
    order = np.lexsort((np.arange(len(uu)), vv, uu))
    keys = np.empty(len(uu), dtype=np.int64)
    su, sv = uu[order], vv[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (su[1:] != su[:-1]) | (sv[1:] != sv[:-1])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    keys[order] = np.arange(len(order)) - group_start

    lonlat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(
        node_xy[:, 0], node_xy[:, 1]
    )
    from handwerkgeo import __version__

    graph = nx.MultiDiGraph(crs=CRS, created_with=f"handwerkgeo {__version__}", simplified=False)
    # osmnx's street_count: physical streets at a node, a self-loop counting twice
    street_count = np.bincount(np.r_[u, v], minlength=len(node_xy))
    used = np.flatnonzero(street_count)
    graph.add_nodes_from(
        (
            int(i),
            {
                "x": float(x),
                "y": float(y),
                "lon": float(lo),
                "lat": float(la),
                "street_count": int(c),
            },
        )
        for i, x, y, lo, la, c in zip(
            used,
            node_xy[used, 0],
            node_xy[used, 1],
            lonlat[0][used],
            lonlat[1][used],
            street_count[used],
            strict=True,
        )
    )
    n = len(u)

    def _attrs(i: int) -> dict[str, Any]:
        j = i % n
        d: dict[str, Any] = {
            "osmid": int(osmid_arr[j]),
            "length": float(length[j]),
            "geometry": all_geoms[i],
            "oneway": False,
            "reversed": bool(rev[i]),
        }
        if names[j] is not None:
            d["name"] = names[j]
        if lts is not None:
            d["lts"] = int(lts[j])
        return d

    graph.add_edges_from((int(uu[i]), int(vv[i]), int(keys[i]), _attrs(i)) for i in range(len(uu)))
    logger.info(
        "graph_from_ways: %d ways -> %d nodes, %d directed edges (split at %s), %s",
        len(ways),
        len(used),
        len(uu),
        split_at.replace("_", " "),
        CRS,
    )
    return graph


# --------------------------------------------------------------------------------------
# helpers for osmnx / pyrosm graphs


def _finish_graph(graph: nx.MultiDiGraph, *, name: str) -> nx.MultiDiGraph:
    """Project ``graph`` to EPSG:25832, add ``lon``/``lat``, edge geometries and lengths."""
    import osmnx as ox

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


# --------------------------------------------------------------------------------------
# OSM XML


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
    import osmnx as ox

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
    projected = _finish_graph(graph, name=str(path))
    logger.info(
        "graph_from_osm_xml: %s (%s): %d nodes, %d edges, %s",
        path.name,
        network_type,
        projected.number_of_nodes(),
        projected.number_of_edges(),
        CRS,
    )
    return projected


# --------------------------------------------------------------------------------------
# OSM PBF (pyrosm)


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
    projected = _finish_graph(graph, name=str(path))
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
        ``motorway``, ``trunk``, ``primary``, ``secondary`` (no ``*_link`` ramps).
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


# --------------------------------------------------------------------------------------


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
    import osmnx as ox

    if "crs" not in G.graph:
        msg = "graph has no 'crs' graph attribute; set G.graph['crs'] (e.g. 'EPSG:25832')."
        raise NoCrsError(msg)
    nodes, edges = ox.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=True)
    return nodes, edges
