"""The central Düsseldorf street extract of the data mirror (GeoJSON ways by cycling level of
traffic stress): :func:`read_osm_ways` and :func:`graph_from_ways`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from handwerkgeo import __version__
from handwerkgeo.crs import CRS, check_crs, to_canonical
from handwerkgeo.errors import ConfigError, DataSourceError, ValidationError
from handwerkgeo.fetch import layer_paths
from handwerkgeo.sources.osm.graph import PathLike

__all__ = [
    "graph_from_ways",
    "read_osm_ways",
]

logger = logging.getLogger(__name__)


_LEVEL_RE = re.compile(r"level[_-]?([0-4])\b", re.IGNORECASE)


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
