"""Tests for handwerkgeo.sources.osm: stressmap ways, OSM XML, PBF (pyrosm), frames."""

from __future__ import annotations

import json
import time
from collections import Counter

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import pytest
from shapely.geometry import LineString, Point

from handwerkgeo.errors import DataSourceError, UnexpectedCrsError, ValidationError
from handwerkgeo.network import prepare_network
from handwerkgeo.sources import osm

pyrosm = pytest.importorskip("pyrosm")


def _write_geojson(path, features):
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features
        ],
    }
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


# --- stressmap ways ---------------------------------------------------------------------


@pytest.mark.mirror
def test_read_osm_ways_real(central_ways):
    ways = central_ways
    assert len(ways) == 16_666
    assert ways.crs.to_epsg() == 25832
    assert ways.attrs["source_crs"] == "EPSG:4326"
    assert list(ways.columns) == ["way_id", "osmid", "name", "lts", "geometry"]
    assert ways["lts"].value_counts().sort_index().tolist() == [491, 7471, 3944, 4247, 513]
    assert ways["way_id"].str.startswith("way/").all()
    assert ways["way_id"].is_unique
    assert (ways.geom_type == "LineString").all()
    assert len(ways.attrs["rejects"]) == 0
    # Rheinalleetunnel is way/8114390 at level 0
    row = ways.loc[ways["osmid"] == 8114390].iloc[0]
    assert row["name"] == "Rheinalleetunnel" and row["lts"] == 0


def test_read_osm_ways_levels_rejects_and_errors(tmp_path):
    line = {"type": "LineString", "coordinates": [[6.78, 51.22], [6.781, 51.22]]}
    multi = {
        "type": "MultiLineString",
        "coordinates": [[[6.78, 51.23], [6.781, 51.23]], [[6.79, 51.23], [6.791, 51.23]]],
    }
    a = _write_geojson(
        tmp_path / "level_2.json",
        [({"id": "way/1", "name": "A-Straße"}, line), ({"id": "way/2", "name": None}, multi)],
    )
    b = _write_geojson(
        tmp_path / "streets.json",
        [({"id": "way/3"}, line), ({"id": "way/4"}, None), ({"id": "node/x"}, line)],
    )
    ways = osm.read_osm_ways([a])
    assert ways["lts"].tolist() == [2, 2, 2]  # the MultiLineString is split into 2 rows
    assert ways["osmid"].tolist() == [1, 2, 2]
    assert ways.loc[0, "name"] == "A-Straße"
    with pytest.raises(DataSourceError, match="level_0"):
        osm.read_osm_ways([b])
    got = osm.read_osm_ways({4: b})
    assert got["osmid"].tolist() == [3]
    rejects = got.attrs["rejects"]
    assert [r["reason"] for r in rejects] == ["missing or empty geometry", "id is not 'way/NNN'"]
    with pytest.raises(DataSourceError, match="does not exist"):
        osm.read_osm_ways([tmp_path / "level_1.json"])


def _ways(lines, **cols):
    return gpd.GeoDataFrame(
        {"osmid": list(range(1, len(lines) + 1)), **cols},
        geometry=[LineString(c) for c in lines],
        crs="EPSG:25832",
    )


def test_graph_from_ways_splits_at_shared_interior_vertices():
    # way 1 runs through (10, 0), where way 2 ends; way 3 touches itself at (30, 0)
    ways = _ways(
        [
            [(0, 0), (10, 0), (20, 0)],
            [(10, -5), (10, 0)],
            [(20, 0), (30, 0), (30, 10), (25, 5), (30, 0)],
        ],
        name=["Hauptstraße", None, "Ring"],
        lts=[3, 1, 2],
    )
    for split_at, n_nodes in (("every_vertex", 7), ("shared_vertices", 5)):
        G = osm.graph_from_ways(ways, split_at=split_at)
        assert G.number_of_nodes() == n_nodes
        assert G.graph["crs"] == "EPSG:25832"
        ox.convert.validate_graph(G)
        by_xy = {(d["x"], d["y"]): n for n, d in G.nodes(data=True)}
        mid = by_xy[(10.0, 0.0)]
        assert G.nodes[mid]["street_count"] == 3
        # both directions, with lengths equal to geometry lengths in metres
        for u, v, d in G.edges(data=True):
            assert G.has_edge(v, u)
            assert d["length"] == pytest.approx(d["geometry"].length)
            assert d["geometry"].coords[0] == (G.nodes[u]["x"], G.nodes[u]["y"])
            assert d["geometry"].coords[-1] == (G.nodes[v]["x"], G.nodes[v]["y"])
        dist = nx.single_source_dijkstra_path_length(G, by_xy[(10.0, -5.0)], weight="length")
        assert dist[by_xy[(0.0, 0.0)]] == pytest.approx(15.0)
        assert dist[by_xy[(30.0, 0.0)]] == pytest.approx(25.0)
        names = {d.get("name") for _, _, d in G.edges(data=True)}
        assert names == {"Hauptstraße", None, "Ring"}
        assert {d["lts"] for _, _, d in G.edges(data=True)} == {1, 2, 3}


def test_graph_from_ways_parallel_edges_and_repeated_vertices():
    ways = _ways([[(0, 0), (0, 0), (10, 0)], [(10, 0), (0, 0)]])
    G = osm.graph_from_ways(ways)
    assert G.number_of_nodes() == 2
    assert G.number_of_edges() == 4  # two ways × two directions
    u, v = sorted(G.nodes)
    assert sorted(G[u][v]) == [0, 1]
    assert {d["osmid"] for d in G[u][v].values()} == {1, 2}


def test_graph_from_ways_rejects_bad_input():
    ways = _ways([[(0, 0), (1, 0)]])
    with pytest.raises(UnexpectedCrsError):
        osm.graph_from_ways(ways.to_crs(4326))
    bad = ways.copy()
    bad.loc[1] = [2, Point(0, 0)]
    with pytest.raises(ValidationError, match="not LineStrings"):
        osm.graph_from_ways(bad)
    with pytest.raises(ValidationError, match="osmid"):
        osm.graph_from_ways(ways.drop(columns="osmid"))
    with pytest.raises(ValueError, match="split_at"):
        osm.graph_from_ways(ways, split_at="ends")


@pytest.mark.mirror
def test_graph_from_ways_real_counts_and_lengths(central_ways):
    start = time.perf_counter()
    G = osm.graph_from_ways(central_ways)
    elapsed = time.perf_counter() - start
    assert elapsed < 10  # ~2.5 s on the build machine; generous for a loaded CI runner
    assert G.number_of_nodes() == 60_390  # distinct vertices of the extract
    U = nx.Graph(G)
    components = sorted(nx.connected_components(U), key=len, reverse=True)
    assert len(components) == 178
    largest = U.subgraph(components[0])
    assert largest.number_of_nodes() == 58_642  # as in the domain brief
    degree = Counter(d for _, d in largest.degree())
    assert degree[2] == 40_480  # as in the domain brief
    ox.convert.validate_graph(G)

    # edge lengths: projected (EPSG:25832) segment lengths; their ratio to the geodesic
    # length is the UTM point scale factor there (0.99988–0.99992 in central Düsseldorf)
    geod = pyproj.Geod(ellps="GRS80")
    utm = pyproj.Proj("EPSG:25832")
    edges = list(G.edges(data=True))
    rng = np.random.default_rng(1)
    for i in rng.choice(len(edges), 500, replace=False):
        u, v, d = edges[i]
        a, b = G.nodes[u], G.nodes[v]
        assert d["length"] == pytest.approx(np.hypot(a["x"] - b["x"], a["y"] - b["y"]), abs=1e-9)
        geodesic = geod.inv(a["lon"], a["lat"], b["lon"], b["lat"])[2]
        scale = utm.get_factors((a["lon"] + b["lon"]) / 2, (a["lat"] + b["lat"]) / 2)
        assert d["length"] / geodesic == pytest.approx(scale.meridional_scale, abs=1e-6)
        assert 0.99988 < d["length"] / geodesic < 0.99992


@pytest.mark.mirror
def test_shared_vertex_graph_same_distances(central_ways, central_graph):
    H = osm.graph_from_ways(central_ways, split_at="shared_vertices")
    assert H.number_of_nodes() == 23_472
    # node ids are shared: the compact graph's nodes are a subset with equal coordinates
    assert set(H.nodes) <= set(central_graph.nodes)
    full = prepare_network(central_graph)
    compact = prepare_network(H)
    assert compact.n_nodes == 22_975
    from scipy.sparse.csgraph import dijkstra

    pos_full = {n: i for i, n in enumerate(full.node_ids)}
    rng = np.random.default_rng(2)
    src = rng.choice(compact.n_nodes, 3, replace=False)
    d_compact = dijkstra(compact.csr, indices=src)
    d_full = dijkstra(full.csr, indices=[pos_full[compact.node_ids[s]] for s in src])
    cols = [pos_full[n] for n in compact.node_ids]
    np.testing.assert_allclose(d_compact, d_full[:, cols], atol=1e-6)


# --- OSM XML ------------------------------------------------------------------------------

_OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="handwerkgeo-test">
  <node id="1" lat="51.2200" lon="6.7800"/>
  <node id="2" lat="51.2210" lon="6.7800"/>
  <node id="3" lat="51.2220" lon="6.7800">
    <tag k="highway" v="motorway_junction"/><tag k="ref" v="12"/>
  </node>
  <node id="4" lat="51.2230" lon="6.7800"/>
  <node id="5" lat="51.2220" lon="6.7820"/>
  <node id="6" lat="51.2210" lon="6.7820"/>
  <node id="7" lat="51.2200" lon="6.7820"/>
  <node id="8" lat="51.2200" lon="6.7840"/>
  <way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="motorway"/><tag k="oneway" v="yes"/></way>
  <way id="101"><nd ref="3"/><nd ref="5"/>
    <tag k="highway" v="motorway_link"/><tag k="oneway" v="yes"/></way>
  <way id="102"><nd ref="5"/><nd ref="6"/><nd ref="7"/>
    <tag k="highway" v="primary"/><tag k="name" v="Südring"/></way>
  <way id="103"><nd ref="6"/><nd ref="2"/><tag k="highway" v="footway"/></way>
  <way id="104"><nd ref="7"/><nd ref="8"/>
    <tag k="highway" v="service"/><tag k="access" v="private"/></way>
</osm>
"""


def test_graph_from_osm_xml(tmp_path):
    path = tmp_path / "small.osm"
    path.write_text(_OSM_XML, encoding="utf-8")

    walk = osm.graph_from_osm_xml(path, network_type="walk")
    highways = {d["highway"] for _, _, d in walk.edges(data=True)}
    assert highways == {"primary", "footway"}  # no motorway, no private service road
    assert walk.graph["crs"] == "EPSG:25832"
    ox.convert.validate_graph(walk)
    for u, v, d in walk.edges(data=True):
        assert walk.has_edge(v, u)  # walking: both directions
        assert d["length"] == pytest.approx(d["geometry"].length)
    assert walk.nodes[6]["lon"] == pytest.approx(6.782)
    assert walk.nodes[6]["lat"] == pytest.approx(51.221)
    x, y = pyproj.Transformer.from_crs(4326, 25832, always_xy=True).transform(6.782, 51.221)
    assert (walk.nodes[6]["x"], walk.nodes[6]["y"]) == pytest.approx((x, y))
    # primary segment 5-6 is 0.001° of latitude ≈ 111.2 m
    assert walk[5][6][0]["length"] == pytest.approx(111.2, abs=0.2)

    drive = osm.graph_from_osm_xml(path, network_type="drive")
    assert drive.nodes[3]["highway"] == "motorway_junction"
    assert drive.nodes[3]["ref"] == "12"
    assert drive.has_edge(1, 3) and not drive.has_edge(3, 1)  # one-way motorway
    assert "footway" not in {d["highway"] for _, _, d in drive.edges(data=True)}

    with pytest.raises(DataSourceError, match="does not exist"):
        osm.graph_from_osm_xml(tmp_path / "missing.osm")
    with pytest.raises(ValueError, match="network_type"):
        osm.graph_from_osm_xml(path, network_type="boat")


def test_graph_from_osm_xml_no_matching_ways(tmp_path):
    path = tmp_path / "rail.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="51.22" lon="6.78"/>'
        '<node id="2" lat="51.23" lon="6.78"/><way id="1"><nd ref="1"/><nd ref="2"/>'
        '<tag k="railway" v="rail"/></way></osm>',
        encoding="utf-8",
    )
    with pytest.raises(DataSourceError, match="no ways of network type"):
        osm.graph_from_osm_xml(path)


# --- PBF (pyrosm) -------------------------------------------------------------------------


def _bundled(name: str):
    from pathlib import Path

    path = Path(pyrosm.get_data(name))
    assert path.is_file()  # bundled with pyrosm: no download
    return path


@pytest.mark.parametrize("network_type", ["walking", "driving"])
def test_graph_from_pbf_helsinki(network_type):
    G = osm.graph_from_pbf(_bundled("helsinki_pbf"), network_type=network_type)
    assert G.graph["crs"] == "EPSG:25832"
    ox.convert.validate_graph(G)
    node = next(iter(G.nodes(data=True)))[1]
    assert 24.8 < node["lon"] < 25.1 and 60.1 < node["lat"] < 60.3
    for _, _, d in list(G.edges(data=True))[:200]:
        assert d["length"] == pytest.approx(d["geometry"].length)
        assert "osmid" in d
    oneway = [d["oneway"] for _, _, d in G.edges(data=True)]
    if network_type == "walking":
        assert not any(oneway)
    else:
        assert any(oneway)
    net = prepare_network(G)
    assert net.n_nodes > 100


def test_graph_from_pbf_errors(tmp_path):
    with pytest.raises(DataSourceError, match="does not exist"):
        osm.graph_from_pbf(tmp_path / "missing.osm.pbf")
    with pytest.raises(ValueError, match="network_type"):
        osm.graph_from_pbf(_bundled("test_pbf"), network_type="walk")


def test_read_pbf_features():
    junctions = osm.read_pbf_features(_bundled("test_pbf"), kind="motorway_junctions")
    assert len(junctions) == 3
    assert junctions.crs.to_epsg() == 25832
    assert (junctions.geom_type == "Point").all()
    assert set(junctions["highway"]) == {"motorway_junction"}
    assert set(junctions["ref"]) == {"77", "78"}

    none = osm.read_pbf_features(_bundled("helsinki_pbf"), kind="motorway_junctions")
    assert len(none) == 0
    assert list(none.columns) == ["osmid", "osm_type", "name", "ref", "highway", "geometry"]
    assert none.crs.to_epsg() == 25832

    landuse = osm.read_pbf_features(_bundled("helsinki_pbf"), kind="landuse")
    assert len(landuse) > 100
    assert landuse.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert landuse["landuse"].notna().all()
    assert {"residential", "commercial"} <= set(landuse["landuse"])

    roads = osm.read_pbf_features(_bundled("helsinki_pbf"), kind="main_roads")
    assert len(roads) > 100
    assert set(roads["highway"]) <= set(osm.MAIN_ROAD_CLASSES)
    assert "primary_link" in set(roads["highway"])  # ramps are where sites connect
    assert roads.geom_type.isin(["LineString", "MultiLineString"]).all()
    with pytest.raises(ValueError, match="kind"):
        osm.read_pbf_features(_bundled("test_pbf"), kind="buildings")


def test_graph_to_frames_roundtrip(grid_graph):
    nodes, edges = osm.graph_to_frames(grid_graph)
    assert len(nodes) == 36 and len(edges) == grid_graph.number_of_edges()
    assert nodes.crs.to_epsg() == 25832 and edges.crs.to_epsg() == 25832
    assert list(edges.index.names) == ["u", "v", "key"]
    back = ox.graph_from_gdfs(nodes, edges)
    assert back.number_of_edges() == grid_graph.number_of_edges()
    G = grid_graph.copy()
    del G.graph["crs"]
    from handwerkgeo.errors import NoCrsError

    with pytest.raises(NoCrsError):
        osm.graph_to_frames(G)


@pytest.mark.mirror
def test_whole_city_main_roads_feed_the_context(fetched_data_dir):
    from handwerkgeo.context import load_context
    from handwerkgeo.crs import CITY_BOUNDS

    roads = osm.read_main_roads(data_dir=fetched_data_dir)
    assert roads.crs.to_epsg() == 25832 and (roads["lts"] == 4).all()
    assert 1_500 < len(roads) <= 1_614
    assert 190_000 < roads.length.sum() < 216_000  # 215 km published, a few outside the box
    minx, _miny, _maxx, maxy = roads.total_bounds
    assert minx < CITY_BOUNDS[0] + 3_000 and maxy > CITY_BOUNDS[3] - 3_000  # whole city
    ctx = load_context(fetched_data_dir, network=False)
    assert ctx.main_roads is not None and len(ctx.main_roads) == len(roads)
    assert any(s["layer"] == "osm_main_roads_city" for s in ctx.sources)
