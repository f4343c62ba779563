"""Published formats read right: CRS identifiers as German data write them (XPlanGML 4.1,
5.x, 6.0 srsName spellings), layer CRS vs the plots' --crs, OSM XML/PBF by tag, and no
writes beside the inputs. Every file here is built in tmp_path to the real schema."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from handwerkgeo.cli import app
from handwerkgeo.context import (
    ScoringContext,
    add_layer_files,
    parse_layer_options,
    read_context_layer,
    split_layer_path,
)
from handwerkgeo.crs import CRS, to_canonical
from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    InvalidGeometryError,
    NoCrsError,
    OutsideAreaError,
)
from handwerkgeo.sources import osm, zoning
from handwerkgeo.sources.transit import departures_per_stop, gtfs_stops, read_gtfs

# --- XPlanGML to the schemas of 4.1, 5.x and 6.0 ----------------------------------------

#: version -> (XPlanung namespace, GML namespace); XPlanGML 4.0 and later are GML 3.2
XPLAN_VERSIONS = {
    "4.1": ("http://www.xplanung.de/xplangml/4/1", "http://www.opengis.net/gml/3.2"),
    "5.1": ("http://www.xplanung.de/xplangml/5/1", "http://www.opengis.net/gml/3.2"),
    "5.4": ("http://www.xplanung.de/xplangml/5/4", "http://www.opengis.net/gml/3.2"),
    "6.0": ("http://www.xplanung.de/xplangml/6/0", "http://www.opengis.net/gml/3.2"),
}

# a GE area of 1000 m x 800 m in Lierenfeld, in EPSG:25832
GE_BOX = (346_500.0, 5_676_600.0, 347_500.0, 5_677_400.0)


def _xplan_gml(path: Path, version: str, srs_name: str, *, plan: str = "BP") -> Path:
    ns, gml = XPLAN_VERSIONS[version]
    x0, y0, x1, y1 = GE_BOX
    three_d = "*" in srs_name
    dim = 3 if three_d else 2

    def pos(x: float, y: float) -> str:
        return f"{x} {y} 0" if three_d else f"{x} {y}"

    ring = " ".join(pos(x, y) for x, y in [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
    feature, attr = (
        (
            "BP_BaugebietsTeilFlaeche",
            "<xplan:besondereArtDerBaulNutzung>1700</xplan:besondereArtDerBaulNutzung>",
        )
        if plan == "BP"
        else (
            "FP_BebauungsFlaeche",
            "<xplan:allgArtDerBaulNutzung>3000</xplan:allgArtDerBaulNutzung>",
        )
    )
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<xplan:XPlanAuszug xmlns:xplan="{ns}" xmlns:gml="{gml}"
    xmlns:xlink="http://www.w3.org/1999/xlink" gml:id="GML_1">
  <gml:boundedBy>
    <gml:Envelope srsName="{srs_name}" srsDimension="{dim}">
      <gml:lowerCorner>{pos(x0, y0)}</gml:lowerCorner>
      <gml:upperCorner>{pos(x1, y1)}</gml:upperCorner>
    </gml:Envelope>
  </gml:boundedBy>
  <gml:featureMember>
    <xplan:{feature} gml:id="GML_2">
      <xplan:ebene>0</xplan:ebene>
      <xplan:position>
        <gml:Polygon srsName="{srs_name}" gml:id="GML_3">
          <gml:exterior><gml:LinearRing>
            <gml:posList srsDimension="{dim}">{ring}</gml:posList>
          </gml:LinearRing></gml:exterior>
        </gml:Polygon>
      </xplan:position>
      <xplan:flaechenschluss>true</xplan:flaechenschluss>
      {attr}
    </xplan:{feature}>
  </gml:featureMember>
</xplan:XPlanAuszug>
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("version", "srs_name"),
    [
        ("4.1", "urn:adv:crs:ETRS89_UTM32"),  # the Hamburg case: NoCrsError before
        ("4.1", "urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH"),
        ("5.1", "EPSG:25832"),
        ("5.4", "urn:ogc:def:crs:EPSG::25832"),
        ("6.0", "http://www.opengis.net/def/crs/EPSG/0/25832"),
        ("6.0", "ADV:ETRS89_UTM32"),
    ],
)
def test_xplangml_srs_names(tmp_path: Path, version: str, srs_name: str) -> None:
    path = _xplan_gml(tmp_path / "plan.gml", version, srs_name)
    z = zoning.read_xplanung(path, plan="bplan")
    assert z["zone_category"].tolist() == ["GE"]
    assert z.crs == CRS and z.attrs["source_crs"] == "EPSG:25832"
    assert z.geometry.iloc[0].symmetric_difference(box(*GE_BOX)).area < 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.gml"]  # no .gfs


def test_xplangml_gauss_krueger_adv_name(tmp_path: Path) -> None:
    # an older plan in DHDN / 3-degree Gauss-Krueger zone 2, NRW realisation
    gk = gpd.GeoSeries([box(*GE_BOX)], crs=CRS).to_crs(31466).iloc[0].bounds
    path = _xplan_gml(tmp_path / "fnp.gml", "5.1", "urn:adv:crs:DE_DHDN_3GK2_NW177", plan="FP")
    text = path.read_text(encoding="utf-8")
    for a, b in zip(GE_BOX, gk, strict=True):
        text = text.replace(str(a), f"{b:.3f}")
    path.write_text(text, encoding="utf-8")
    z = zoning.read_xplanung(path, plan="fnp")
    assert z.attrs["source_crs"] == "EPSG:31466"
    assert z.geometry.iloc[0].centroid.distance(box(*GE_BOX).centroid) < 5


def test_unknown_srs_name_is_named(tmp_path: Path) -> None:
    path = _xplan_gml(tmp_path / "plan.gml", "4.1", "urn:adv:crs:ETRS89_UTM99")
    with pytest.raises(NoCrsError, match="urn:adv:crs:ETRS89_UTM99"):
        zoning.read_xplanung(path, plan="bplan")


def test_to_canonical_reads_german_crs_names() -> None:
    g = gpd.GeoDataFrame(geometry=[Point(346_500, 5_676_600)])
    for name in ("urn:adv:crs:ETRS89_UTM32", "25832", "urn:ogc:def:crs:EPSG::25832"):
        assert to_canonical(g, crs=name).geometry.iloc[0].equals(Point(346_500, 5_676_600))


# --- the layer's own CRS wins; the plots' --crs is the plots' only ------------------------


def _plots_csv(tmp_path: Path) -> Path:
    pts = gpd.GeoSeries([box(*GE_BOX).centroid, Point(346_700, 5_676_800)], crs=CRS)
    lonlat = pts.to_crs(4326)
    path = tmp_path / "plots.csv"
    pd.DataFrame(
        {"plot_id": ["A", "B"], "x": lonlat.x, "y": lonlat.y, "area_m2": [5000, 4000]}
    ).to_csv(path, index=False)
    return path


def test_plots_crs_does_not_override_a_layer_files_crs(tmp_path: Path) -> None:
    plan = _xplan_gml(tmp_path / "plan.gml", "4.1", "urn:adv:crs:ETRS89_UTM32")
    out = tmp_path / "out" / "scored.gpkg"
    res = CliRunner().invoke(
        app,
        [
            "score",
            str(_plots_csv(tmp_path)),
            "--crs",
            "EPSG:4326",
            "--layer",
            f"bplan={plan}",
            "--data-dir",
            str(tmp_path / "nodata"),
            "--no-network",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    scored = gpd.read_file(out, layer="scores")
    assert scored["raw_zoning"].tolist() == ["GE", "GE"]


def test_add_layer_files_default_crs_never_overrides(tmp_path: Path) -> None:
    path = tmp_path / "junctions.gpkg"
    gk = gpd.GeoSeries([Point(348_500, 5_676_900)], crs=CRS).to_crs(31466).iloc[0]
    gpd.GeoDataFrame(geometry=[gk], crs=31466).to_file(path)
    ctx = add_layer_files(ScoringContext(), {"motorway_junctions": path}, crs="EPSG:4326")
    assert ctx.motorway_junctions.geometry.iloc[0].distance(Point(348_500, 5_676_900)) < 0.01


def _csv_layer(tmp_path: Path) -> Path:
    path = tmp_path / "kitas.csv"
    pd.DataFrame(
        {"name": ["Kita A", "Kita B"], "x": [346_600, 347_100], "y": [5_676_700] * 2}
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("spelling", ["25832", "EPSG:25832", "urn:adv:crs:ETRS89_UTM32"])
def test_layer_crs_suffix(tmp_path: Path, spelling: str) -> None:
    path = _csv_layer(tmp_path)
    opts = parse_layer_options([f"kitas={path}@{spelling}"])
    assert split_layer_path(opts["kitas"]) == (str(path), spelling)
    ctx = add_layer_files(ScoringContext(), opts)
    kitas = ctx.layer("kitas")
    assert kitas.crs == CRS and kitas.geometry.iloc[0].equals(Point(346_600, 5_676_700))
    assert ctx.sources[0]["name"] == "kitas: kitas.csv"


def test_layer_without_crs_asks_for_one(tmp_path: Path) -> None:
    with pytest.raises(NoCrsError, match="CRS"):
        add_layer_files(ScoringContext(), parse_layer_options([f"kitas={_csv_layer(tmp_path)}"]))
    with pytest.raises(ConfigError, match="EPSG:25832"):
        parse_layer_options([f"kitas={_csv_layer(tmp_path)}@EPSG:nonsense"])


def test_cli_score_takes_layer_crs(tmp_path: Path) -> None:
    out = tmp_path / "out" / "scored.gpkg"
    res = CliRunner().invoke(
        app,
        [
            "score",
            str(_plots_csv(tmp_path)),
            "--crs",
            "4326",
            "--layer",
            f"main_roads={_roads_csv(tmp_path)}@urn:adv:crs:ETRS89_UTM32",
            "--data-dir",
            str(tmp_path / "nodata"),
            "--no-network",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    scored = gpd.read_file(out, layer="scores")
    assert scored["raw_main_road"].notna().all()
    assert scored["raw_main_road"].max() < 1000


def _roads_csv(tmp_path: Path) -> Path:
    path = tmp_path / "roads.csv"
    line = LineString([(346_000, 5_676_500), (348_000, 5_676_500)])
    pd.DataFrame({"name": ["Erkrather Str."], "WKT": [line.wkt]}).to_csv(path, index=False)
    return path


def test_layer_that_misses_the_city_is_an_error(tmp_path: Path) -> None:
    # metres labelled as WGS 84 (the GeoJSON default): reprojection gives inf
    metres = tmp_path / "flood.geojson"
    gpd.GeoDataFrame(geometry=[box(*GE_BOX)], crs=4326).to_file(metres)
    with pytest.raises(InvalidGeometryError, match="flood_areas"):
        read_context_layer("flood_areas", metres)
    munich = tmp_path / "protected.geojson"
    gpd.GeoDataFrame(geometry=[box(11.5, 48.1, 11.6, 48.2)], crs=4326).to_file(munich)
    with pytest.raises(OutsideAreaError, match="protected_areas"):
        read_context_layer("protected_areas", munich)


# --- OSM XML and PBF: features by tag, not by GDAL layer order ---------------------------

OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="JOSM">
  <bounds minlat="51.20" minlon="6.75" maxlat="51.24" maxlon="6.82"/>
  <node id="1" lat="51.2200" lon="6.7800" version="1">
    <tag k="highway" v="bus_stop"/><tag k="name" v="Oststraße"/></node>
  <node id="2" lat="51.2210" lon="6.7810" version="1"><tag k="highway" v="crossing"/></node>
  <node id="4" lat="51.2215" lon="6.7815" version="1"><tag k="highway" v="crossing"/></node>
  <node id="3" lat="51.2300" lon="6.8100" version="1">
    <tag k="highway" v="motorway_junction"/><tag k="ref" v="12"/><tag k="name" v="D-Test"/>
  </node>
  <node id="10" lat="51.2200" lon="6.7700" version="1"/>
  <node id="11" lat="51.2250" lon="6.7750" version="1"/>
  <node id="12" lat="51.2300" lon="6.7800" version="1"/>
  <node id="13" lat="51.2350" lon="6.7850" version="1"/>
  <node id="20" lat="51.2100" lon="6.7600" version="1"/>
  <node id="21" lat="51.2100" lon="6.7700" version="1"/>
  <node id="22" lat="51.2150" lon="6.7700" version="1"/>
  <node id="23" lat="51.2150" lon="6.7600" version="1"/>
  <way id="100" version="1"><nd ref="10"/><nd ref="11"/>
    <tag k="highway" v="primary"/><tag k="name" v="Corneliusstraße"/></way>
  <way id="101" version="1"><nd ref="11"/><nd ref="12"/><tag k="highway" v="residential"/></way>
  <way id="102" version="1"><nd ref="12"/><nd ref="13"/><tag k="highway" v="secondary_link"/></way>
  <way id="103" version="1"><nd ref="12"/><nd ref="3"/><tag k="highway" v="motorway"/></way>
  <way id="104" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>
  <way id="200" version="1">
    <nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="20"/></way>
  <relation id="300" version="1"><member type="way" ref="200" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="landuse" v="industrial"/></relation>
</osm>
"""


@pytest.fixture
def osm_xml(tmp_path: Path) -> Path:
    path = tmp_path / "extract.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    return path


def test_osm_xml_junctions_by_tag(osm_xml: Path) -> None:
    j = read_context_layer("motorway_junctions", osm_xml)
    assert j["osmid"].tolist() == [3]  # not the bus stop and the crossings (GDAL's "points")
    assert j["ref"].tolist() == ["12"] and j.crs == CRS


def test_osm_xml_main_roads_by_tag(osm_xml: Path) -> None:
    r = read_context_layer("main_roads", osm_xml)
    assert sorted(r["highway"]) == ["motorway", "primary", "secondary_link"]
    assert (r.geom_type == "LineString").all()


def test_osm_xml_landuse_by_tag(osm_xml: Path) -> None:
    lu = read_context_layer("landuse", osm_xml)
    assert lu["zone_label"].tolist() == ["landuse=industrial"]
    assert lu["zone_category"].tolist() == ["GE"]


def test_osm_file_without_the_kind_says_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "stops.osm"
    path.write_text(OSM_XML.replace('v="motorway_junction"', 'v="traffic_signals"'), "utf-8")
    with pytest.raises(DataSourceError, match=r"points 4.*highway=crossing \(2\)"):
        read_context_layer("motorway_junctions", path)


def test_pbf_by_tag() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    test_pbf = pyrosm.get_data("test_pbf")
    assert len(osm.read_osm_features(test_pbf, kind="motorway_junctions")) == 3
    with pytest.raises(OutsideAreaError, match="motorway_junctions"):  # not Düsseldorf
        read_context_layer("motorway_junctions", test_pbf)
    roads = osm.read_osm_features(test_pbf, kind="main_roads")
    assert set(roads["highway"]) == {"secondary", "motorway", "motorway_link"}
    with pytest.raises(DataSourceError, match=r"Helsinki.*points \d+.*highway=crossing"):
        osm.read_osm_features(pyrosm.get_data("helsinki_pbf"), kind="motorway_junctions")


# --- nothing is written beside the inputs ------------------------------------------------


def _gtfs_zip(path: Path) -> Path:
    files = {
        "agency.txt": "agency_name,agency_url,agency_timezone\nRheinbahn,https://x.org,Europe/Berlin\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,A,51.22,6.78\nS2,B,51.23,6.79\n",
        "routes.txt": "route_id,route_type\nR,3\n",
        "trips.txt": "route_id,service_id,trip_id\nR,WK,1\n",
        "stop_times.txt": "trip_id,stop_id,stop_sequence\n1,S1,1\n1,S2,2\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\nWK,1,1,1,1,1,0,0,20260101,20261231\n",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def _input_folder(folder: Path) -> None:
    folder.mkdir()
    _xplan_gml(folder / "bplan.gml", "4.1", "urn:adv:crs:ETRS89_UTM32")
    alkis = gpd.GeoDataFrame(
        {"nutzart": ["Industrie- und Gewerbefläche"]}, geometry=[box(*GE_BOX)], crs=CRS
    )
    alkis.to_file(folder / "alkis_nutzung.gml", driver="GML")
    for gfs in folder.glob("*.gfs"):
        gfs.unlink()
    areas = gpd.GeoDataFrame({"name": ["x"]}, geometry=[box(*GE_BOX)], crs=CRS)
    areas.to_file(folder / "flood.geojson", driver="GeoJSON")
    areas.to_file(folder / "protected.gpkg", driver="GPKG")
    areas.to_file(folder / "residential.shp")
    areas.to_parquet(folder / "areas.parquet")
    _csv_layer(folder)
    (folder / "extract.osm").write_text(OSM_XML, encoding="utf-8")
    _gtfs_zip(folder / "gtfs.zip")


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())


def test_reading_writes_nothing_beside_the_inputs(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    _input_folder(folder)
    before = _listing(folder)
    for f in folder.iterdir():
        f.chmod(0o444)
    folder.chmod(0o555)
    try:
        z = read_context_layer("bplan", folder / "bplan.gml")
        assert z["zone_category"].tolist() == ["GE"]
        lu = read_context_layer("landuse", folder / "alkis_nutzung.gml")
        assert lu["zone_source"].tolist() == ["alkis_nutzung"]
        assert len(read_context_layer("flood_areas", folder / "flood.geojson")) == 1
        assert len(read_context_layer("protected_areas", folder / "protected.gpkg")) == 1
        assert len(read_context_layer("residential", folder / "residential.shp")) == 1
        assert len(read_context_layer("areas", folder / "areas.parquet")) == 1
        assert len(read_context_layer("kitas", f"{folder / 'kitas.csv'}", crs=25832)) == 2
        assert len(read_context_layer("motorway_junctions", folder / "extract.osm")) == 1
        assert len(read_context_layer("main_roads", folder / "extract.osm")) == 3
        assert len(read_context_layer("landuse", folder / "extract.osm")) == 1
        feed = read_gtfs(folder / "gtfs.zip")
        assert int(departures_per_stop(feed, "2026-07-07")["departures"].sum()) == 1
        assert len(gtfs_stops(feed)) == 2
    finally:
        folder.chmod(stat.S_IRWXU)
        for f in folder.iterdir():
            f.chmod(0o644)
    # tests run as root, who may write into a 0555 folder: compare the listings as well
    assert _listing(folder) == before
    assert not any(p.suffix == ".gfs" for p in folder.iterdir())


def test_alkis_gml_as_landuse_writes_no_gfs(tmp_path: Path) -> None:
    # the landuse kind looks at the columns first; that look wrote a .gfs beside the file
    alkis = gpd.GeoDataFrame(
        {"nutzart": ["Industrie- und Gewerbefläche"]}, geometry=[box(*GE_BOX)], crs=CRS
    )
    alkis.to_file(tmp_path / "nutzung.gml", driver="GML")
    for gfs in tmp_path.glob("*.gfs"):
        gfs.unlink()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert read_context_layer("landuse", tmp_path / "nutzung.gml")["zone_category"].tolist() == [
        "GE"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


ALKIS_WFS = """<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"
    xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:ave="http://repository.gdi-de.org/schemas/adv/produkt/alkis-vereinfacht/2.0"
    numberMatched="1" numberReturned="1">
  <wfs:member>
    <ave:Flurstueck gml:id="DENW36AL1000abcdFL">
      <ave:idflurst>DENW36AL1000abcdFL</ave:idflurst>
      <ave:flstkennz>05323000100001______</ave:flstkennz>
      <ave:flaeche>800000</ave:flaeche>
      <ave:lagebeztxt>Erkrather Straße 1</ave:lagebeztxt>
      <ave:geometrie>
        <gml:Polygon gml:id="P1" srsName="urn:adv:crs:ETRS89_UTM32">
          <gml:exterior><gml:LinearRing><gml:posList srsDimension="2">
            346500 5676600 347500 5676600 347500 5677400 346500 5677400 346500 5676600
          </gml:posList></gml:LinearRing></gml:exterior>
        </gml:Polygon>
      </ave:geometrie>
    </ave:Flurstueck>
  </wfs:member>
</wfs:FeatureCollection>
"""


def test_alkis_wfs_gml_with_adv_srs_name(tmp_path: Path) -> None:
    from handwerkgeo.sources.parcels import read_alkis_parcels

    path = tmp_path / "flurstuecke.gml"
    path.write_text(ALKIS_WFS, encoding="utf-8")
    parcels = read_alkis_parcels(path)
    assert parcels["parcel_id"].tolist() == ["05323000100001______"]
    assert parcels.crs == CRS and parcels.attrs.get("source_crs", "EPSG:25832") == "EPSG:25832"
    assert parcels["area_m2"].iloc[0] == pytest.approx(800_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flurstuecke.gml"]


@pytest.mark.parametrize(
    "crs", ["urn:adv:crs:ETRS89_UTM32", "http://www.opengis.net/def/crs/EPSG/0/25832", "25832"]
)
def test_plots_crs_in_german_spellings(tmp_path: Path, crs: str) -> None:
    from handwerkgeo.sources.plots import read_plots

    path = tmp_path / "plots.csv"
    path.write_text("plot_id,x,y,area_m2\nA,346600,5676700,5000\n", encoding="utf-8")
    plots = read_plots(path, crs=crs)
    assert plots.geometry.iloc[0].equals(Point(346_600, 5_676_700))


def test_geojson_without_crs_member_takes_the_given_crs(tmp_path: Path) -> None:
    # metres in a GeoJSON without "crs" member (invalid by RFC 7946, common in practice)
    path = tmp_path / "areas.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Point", "coordinates": [346600, 5676700]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(InvalidGeometryError, match=r"areas\.geojson"):
        read_context_layer("kitas", path)  # WGS 84 assumed: not finite, named
    kitas = add_layer_files(ScoringContext(), {"kitas": f"{path}@25832"}).layer("kitas")
    assert kitas.geometry.iloc[0].equals(Point(346_600, 5_676_700))
    # a GeoJSON that names its CRS keeps it, whatever is given
    named = tmp_path / "named.geojson"
    gpd.GeoDataFrame(geometry=[Point(346_600, 5_676_700)], crs=CRS).to_file(named)
    kept = add_layer_files(ScoringContext(), {"kitas": f"{named}@4326"}).layer("kitas")
    assert kept.geometry.iloc[0].equals(Point(346_600, 5_676_700))


def test_plots_in_gml_with_an_adv_srs_name(tmp_path) -> None:
    """A plot listing as GML naming its CRS the AdV way (an NRW Gauß-Krüger realisation GDAL
    does not know) is read in that CRS (was: no CRS)."""
    from handwerkgeo.sources.plots import read_plots

    gml = tmp_path / "flaechen.gml"
    gml.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"
    xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:hwg="urn:example:hwg">
  <wfs:member>
    <hwg:Flaeche gml:id="f1">
      <hwg:plot_id>G-1</hwg:plot_id>
      <hwg:geom>
        <gml:Polygon gml:id="p1" srsName="urn:adv:crs:DE_DHDN_3GK2_NW177">
          <gml:exterior><gml:LinearRing><gml:posList srsDimension="2">
            2556550 5676860 2556630 5676860 2556630 5676920 2556550 5676920 2556550 5676860
          </gml:posList></gml:LinearRing></gml:exterior>
        </gml:Polygon>
      </hwg:geom>
    </hwg:Flaeche>
  </wfs:member>
</wfs:FeatureCollection>
""",
        encoding="utf-8",
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    plots = read_plots(gml)
    assert plots.crs.to_epsg() == 25832  # reprojected from EPSG:31466
    assert plots["plot_id"].tolist() == ["G-1"]
    assert plots["area_m2"].iloc[0] == pytest.approx(80 * 60, rel=0.01)
    assert plots.geometry.iloc[0].centroid.distance(Point(347040, 5677030)) < 50
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no .gfs beside the input
