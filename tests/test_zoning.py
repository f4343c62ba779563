"""Zoning vocabulary, zoning readers and the plot × zoning overlay."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from shapely.geometry import LineString, Point, Polygon, box

from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    MissingColumnError,
    UnexpectedCrsError,
)
from handwerkgeo.sources.zoning import (
    ZONE_CATEGORIES,
    ZONE_COLUMNS,
    load_zoning_vocabulary,
    parse_zoning_label,
    read_alkis_nutzung,
    read_commercial_areas,
    read_osm_landuse,
    read_xplanung,
    zoning_for_plots,
)

FIXTURES = Path(__file__).parent / "fixtures"
X0, Y0 = 350_000.0, 5_677_000.0
VOCAB = Path(__file__).parents[1] / "src/handwerkgeo/configs/zoning_vocabulary.yaml"


# --- vocabulary ----------------------------------------------------------------------------


def test_packaged_vocabulary_is_valid_and_complete():
    voc = load_zoning_vocabulary()
    for table, entries in voc.tables.items():
        assert entries, table
        for entry in entries.values():
            assert entry.category in ZONE_CATEGORIES
    # every XPlanung Baugebiet code of XP_BesondereArtDerBaulNutzung is mapped
    for code in ["1000", "1100", "1200", "1300", "1400", "1500", "1550", "1600", "1700", "1800",
                 "2000", "2100", "3000", "4000", "9999"]:  # fmt: skip
        assert voc.lookup("xplanung_besondere", code) is not None, code
    assert set(voc.status.values()) == {"available", "reserved", "in_use"}


def test_every_mapping_line_names_its_source():
    text = VOCAB.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    lines = text.splitlines()
    for table in raw["tables"].values():
        for key in table["values"]:
            line = next(ln for ln in lines if ln.strip().startswith((f'"{key}":', f"{key}:")))
            assert "#" in line, f"mapping {key!r} has no source comment"


@pytest.mark.parametrize(
    ("code", "category"),
    [(1000, "WS"), (1100, "WR"), (1200, "WA"), (1300, "WB"), (1400, "MD"), (1500, "MI"),
     (1550, "MU"), (1600, "MK"), (1700, "GE"), (1800, "GI"), (2100, "SO")],
)  # fmt: skip
def test_xplanung_besondere_codes(code, category):
    voc = load_zoning_vocabulary()
    assert voc.lookup("xplanung_besondere", code).category == category
    assert voc.lookup("xplanung_besondere", f"{code}.0").category == category


@pytest.mark.parametrize(
    ("code", "category"), [(1000, "FNP_W"), (2000, "FNP_M"), (3000, "FNP_G"), (4000, "FNP_S")]
)
def test_fnp_allgemeine_art(code, category):
    assert load_zoning_vocabulary().lookup("xplanung_allgemein", code).category == category


def _write_vocab(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(VOCAB.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "voc.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r["tables"]["labels"]["values"].update({"XY": "GEWERBE"}), "unknown category"),
        (lambda r: r["tables"]["osm_landuse"].update({"confidence": 1.5}), "from 0 to 1"),
        (
            lambda r: r["tables"]["labels"]["values"].update({"Gewerbe gebiet": "GI"}),
            "duplicates another key",
        ),
        (lambda r: r["status"].update({"sold": ["weg"]}), "unknown status"),
        (lambda r: r["tables"].pop("alkis_nutzung"), "missing table"),
        (lambda r: r["source_confidence"].update({"bplan": 1.0}), "unknown zone_source"),
    ],
)
def test_vocabulary_errors_name_the_problem(tmp_path, change, words):
    with pytest.raises(ConfigError, match=words):
        load_zoning_vocabulary(_write_vocab(tmp_path, change))


def test_vocabulary_duplicate_yaml_keys_are_rejected(tmp_path):
    path = tmp_path / "dup.yaml"
    text = VOCAB.read_text(encoding="utf-8").replace(
        '      "1100": WR', '      "1100": WR\n      "1100": GE', 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key '1100'"):
        load_zoning_vocabulary(path)


# --- labels --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("GE", "GE"), ("ge", "GE"), ("Gewerbegebiet", "GE"), ("1700", "GE"), (1700, "GE"),
        (1700.0, "GE"), ("GE 2", "GE"), ("GE-1", "GE"), ("GEe", "GE"), ("GI", "GI"),
        ("Industriegebiet", "GI"), ("MU", "MU"), ("Urbanes Gebiet", "MU"), ("urbanes gebiet", "MU"),
        ("MI", "MI"), ("Mischgebiet", "MI"), ("MK", "MK"), ("WA", "WA"), ("AllgWohngebiet", "WA"),
        ("Allgemeines Wohngebiet", "WA"), ("ReinesWohngebiet", "WR"), ("WR", "WR"),
        ("SO", "SO"), ("SO Klinik", "SO"), ("SO Handwerk", "SO_COMMERCIAL"),
        ("Sondergebiet Gewerbe und Logistik", "SO_COMMERCIAL"), ("SO_COMMERCIAL", "SO_COMMERCIAL"),
        ("Gewerbliche Baufläche", "FNP_G"), ("GewerblicheBauflaeche", "FNP_G"), ("G", "FNP_G"),
        ("FNP_M", "FNP_M"), ("Grünfläche", "GREEN"), ("Wald", "FOREST"),
        ("GE/GI", "UNKNOWN"), ("Gewerbe?", "UNKNOWN"), ("", "UNKNOWN"), (None, "UNKNOWN"),
        (float("nan"), "UNKNOWN"), ("12345", "UNKNOWN"),
    ],
)  # fmt: skip
def test_parse_zoning_label(label, category):
    assert parse_zoning_label(label) == category


# --- XPlanung --------------------------------------------------------------------------------


def test_read_xplanung_gml_fixture():
    z = read_xplanung(FIXTURES / "xplan_bplan_54.gml")
    assert list(z.columns) == [*ZONE_COLUMNS, "geometry"]
    assert z["zone_category"].tolist() == ["GE", "MU", "SO_COMMERCIAL"]
    assert z["zone_source"].unique().tolist() == ["xplanung_bplan"]
    assert z["zone_confidence"].tolist() == [1.0, 1.0, 1.0]
    assert z["zone_label"].tolist() == ["1700", "1550", "2100 (1800)"]
    assert z.crs.to_epsg() == 25832
    assert z.area.tolist() == pytest.approx([10_000.0] * 3)
    assert not list(FIXTURES.glob("*.gfs")), "GDAL must not write .gfs files next to inputs"


def test_read_xplanung_gml_missing_layer_is_explained():
    with pytest.raises(DataSourceError, match="FP_BebauungsFlaeche"):
        read_xplanung(FIXTURES / "xplan_bplan_54.gml", plan="fnp")


def _fnp(tmp_path: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {
            "allgArtDerBaulNutzung": [3000, 2000, 1000, 9999, None],
            "besondereArtDerBaulNutzung": [None, None, None, None, "Gewerbegebiet"],
        },
        geometry=[box(X0 + i * 100, Y0, X0 + i * 100 + 100, Y0 + 100) for i in range(5)],
        crs=25832,
    )
    path = tmp_path / "FP_BebauungsFlaeche.gpkg"
    gdf.to_file(path, layer="FP_BebauungsFlaeche")
    return path


def test_read_xplanung_fnp_export(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        z = read_xplanung(_fnp(tmp_path))
    assert z["zone_category"].tolist() == ["FNP_G", "FNP_M", "FNP_W", "UNKNOWN", "GE"]
    assert z["zone_source"].unique().tolist() == ["xplanung_fnp"]
    # FNP confidence capped at 0.7; 9999 "SonstigeBauflaeche" maps to UNKNOWN with 0
    assert z["zone_confidence"].tolist() == [0.7, 0.7, 0.7, 0.0, 0.7]
    assert z["zone_label"].tolist() == ["3000", "2000", "1000", "9999", "Gewerbegebiet"]


def test_read_xplanung_geojson_needs_plan(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"besondereArtDerBaulNutzung": ["1700", "1234"]},
        geometry=[box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 10, Y0, X0 + 20, Y0 + 10)],
        crs=25832,
    )
    path = tmp_path / "plan.geojson"
    gdf.to_crs(4326).to_file(path)
    with pytest.raises(DataSourceError, match="plan='bplan'"):
        read_xplanung(path)
    z = read_xplanung(path, plan="bplan")
    assert z["zone_category"].tolist() == ["GE", "UNKNOWN"]
    assert z.attrs["unmapped"] == {"besondereArtDerBaulNutzung=1234": 1}
    assert z.attrs["source_crs"] == "EPSG:4326"
    assert z.area.tolist() == pytest.approx([100.0, 100.0], rel=1e-6)


def test_read_xplanung_without_attributes(tmp_path):
    path = tmp_path / "BP_x.geojson"
    gpd.GeoDataFrame({"foo": [1]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(path)
    with pytest.raises(MissingColumnError, match="Columns found: foo"):
        read_xplanung(path)


# --- OSM ------------------------------------------------------------------------------------


def test_read_osm_landuse_frame(caplog):
    osm = gpd.GeoDataFrame(
        {
            "landuse": ["industrial", "brownfield", "residential", None, "quarry", "foo", "forest"],
            "leisure": [None, None, None, "park", None, None, None],
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(6)] + [Point(0, 0)],
        index=pd.MultiIndex.from_tuples([("way", i) for i in range(7)], names=["element", "id"]),
        crs=25832,
    )
    before = osm.copy()
    with caplog.at_level(logging.WARNING):
        z = read_osm_landuse(osm)
    pd.testing.assert_frame_equal(osm, before)
    assert z["zone_category"].tolist() == ["GE", "UNKNOWN", "WA", "GREEN", "UNKNOWN", "UNKNOWN"]
    assert z["brownfield"].tolist() == [False, True, False, False, False, False]
    assert z["zone_label"].tolist()[:4] == [
        "landuse=industrial",
        "landuse=brownfield",
        "landuse=residential",
        "leisure=park",
    ]
    assert (z["zone_confidence"] <= 0.5).all()
    assert z.attrs["unmapped"] == {"landuse=foo": 1}
    assert "not polygons" in caplog.text  # the forest point is reported, not silently lost
    assert "'landuse=foo' (1)" in caplog.text


def test_read_osm_landuse_pbf_end_to_end():
    pyrosm = pytest.importorskip("pyrosm")
    z = read_osm_landuse(pyrosm.get_data("test_pbf"))
    assert len(z) > 0 and z.crs.to_epsg() == 25832
    assert {"GE", "WA", "AGRICULTURE"} <= set(z["zone_category"])
    assert z["zone_source"].eq("osm_landuse").all()


def test_read_osm_landuse_needs_tags():
    with pytest.raises(MissingColumnError, match="landuse"):
        read_osm_landuse(gpd.GeoDataFrame({"name": ["x"]}, geometry=[box(0, 0, 1, 1)], crs=25832))


# --- ALKIS -----------------------------------------------------------------------------------


def test_read_alkis_nutzung_gml():
    z = read_alkis_nutzung(FIXTURES / "alkis_nutzung.gml")
    assert z["zone_category"].tolist() == ["GE", "WA", "MI", "UNKNOWN"]
    assert z["zone_source"].eq("alkis_nutzung").all()
    assert z["zone_confidence"].tolist() == [0.6, 0.6, 0.6, 0.0]
    assert z.attrs["unmapped"] == {"Testnutzung ohne Zuordnung": 1}


@pytest.mark.parametrize(
    ("nutzart", "category"),
    [
        ("Industrie- und Gewerbefläche", "GE"),
        ("Wohnbaufläche", "WA"),
        ("Fläche gemischter Nutzung", "MI"),
        ("Fläche besonderer funktionaler Prägung", "COMMUNITY"),
        ("Sport-, Freizeit- und Erholungsfläche", "GREEN"),
        ("Wald", "FOREST"),
        ("Fließgewässer", "WATER"),
        ("Stehendes Gewässer", "WATER"),
        ("Straßenverkehr", "TRANSPORT"),
        ("Bahnverkehr", "TRANSPORT"),
        ("Landwirtschaft", "AGRICULTURE"),
    ],
)
def test_alkis_nutzart_mapping(tmp_path, nutzart, category):
    path = tmp_path / "n.geojson"
    gpd.GeoDataFrame({"nutzart": [nutzart]}, geometry=[box(0, 0, 1, 1)], crs=25832).to_file(path)
    assert read_alkis_nutzung(path)["zone_category"].tolist() == [category]


def test_read_alkis_nutzung_needs_nutzart(tmp_path):
    path = tmp_path / "n.geojson"
    gpd.GeoDataFrame({"art": ["Wald"]}, geometry=[box(0, 0, 1, 1)], crs=25832).to_file(path)
    with pytest.raises(MissingColumnError, match="nutzart"):
        read_alkis_nutzung(path)


# --- commercial areas --------------------------------------------------------------------------


def test_read_commercial_areas(tmp_path, caplog):
    gdf = gpd.GeoDataFrame(
        {
            "Bezeichnung": ["Rath Nord", "Lierenfeld", "Reisholz", "Heerdt"],
            "Verfügbarkeit": ["sofort verfügbar", "Reserviert", "belegt", "in Prüfung"],
            "Baugebiet": ["GE", "GI", None, "MU"],
            "Brache": ["ja", "nein", None, "x"],
        },
        geometry=[box(X0 + i * 100, Y0, X0 + i * 100 + 90, Y0 + 90) for i in range(4)],
        crs=25832,
    )
    path = tmp_path / "gewerbeflaechen.gpkg"
    gdf.to_file(path)
    with caplog.at_level(logging.WARNING):
        z = read_commercial_areas(path)
    assert z["status"].tolist() == ["available", "reserved", "in_use", "unknown"]
    assert z["status_label"].tolist()[3] == "in Prüfung"
    assert z["zone_category"].tolist() == ["GE", "GI", "UNKNOWN", "MU"]
    assert z["zone_confidence"].tolist() == [0.6, 0.6, 0.0, 0.6]
    assert z["brownfield"].tolist() == [True, False, False, True]
    assert z["name"].tolist() == ["Rath Nord", "Lierenfeld", "Reisholz", "Heerdt"]
    assert "'in Prüfung' (1)" in caplog.text


def test_read_commercial_areas_default_category_and_status_col(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"stand": ["frei", "vergeben"]},
        geometry=[box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 20, Y0, X0 + 30, Y0 + 10)],
        crs=25832,
    )
    path = tmp_path / "potenzial.geojson"
    gdf.to_file(path)
    with pytest.raises(MissingColumnError, match="status_col="):
        read_commercial_areas(path)
    z = read_commercial_areas(path, status_col="stand")
    assert z["zone_category"].tolist() == ["FNP_G", "FNP_G"]
    assert z["status"].tolist() == ["available", "in_use"]


# --- zoning_for_plots ---------------------------------------------------------------------------


@pytest.fixture
def zoning() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "zone_category": ["GE", "WA", "GE", "MU"],
            "zone_source": ["xplanung_bplan", "xplanung_bplan", "osm_landuse", "xplanung_fnp"],
            "zone_confidence": [1.0, 1.0, 0.5, 0.7],
        },
        geometry=[
            box(0, 0, 40, 100),
            box(40, 0, 100, 100),
            box(100, 0, 130, 100),
            box(200, 0, 300, 100),
        ],
        crs=25832,
    )


def test_zoning_for_plots_largest_overlap(zoning):
    plots = gpd.GeoDataFrame(
        {"plot_id": ["a", "b", "c", "d", "e"]},
        geometry=[
            box(10, 10, 60, 20),  # 30 GE, 20 WA → GE
            box(30, 10, 110, 20),  # GE 10 + GE 10 (two polygons) = 20 < WA 60 → WA
            box(90, 10, 140, 20),  # WA 10, GE 30 (osm), none 10 → GE from osm
            box(500, 500, 510, 510),  # nothing
            Point(250, 50),  # inside MU
        ],
        index=[10, 11, 12, 13, 14],
        crs=25832,
    )
    res = zoning_for_plots(plots, zoning)
    assert list(res.index) == [10, 11, 12, 13, 14]
    assert list(res.columns) == ["zone_category", "zone_source", "zone_confidence", "overlap_share"]
    assert res["zone_category"].tolist() == ["GE", "WA", "GE", "UNKNOWN", "MU"]
    assert res["zone_source"].tolist() == [
        "xplanung_bplan",
        "xplanung_bplan",
        "osm_landuse",
        "",
        "xplanung_fnp",
    ]
    assert res["overlap_share"].tolist() == pytest.approx([0.6, 0.75, 0.6, 0.0, 1.0])
    assert res.loc[13, "zone_confidence"] != res.loc[13, "zone_confidence"]  # NaN


def test_zoning_for_plots_sums_pieces_of_one_category():
    zoning = gpd.GeoDataFrame(
        {"zone_category": ["GE", "GE", "MI"]},
        geometry=[box(0, 0, 30, 10), box(30, 0, 60, 10), box(60, 0, 100, 10)],
        crs=25832,
    )
    plots = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 10)], crs=25832)
    res = zoning_for_plots(plots, zoning)
    assert res.loc[0, "zone_category"] == "GE"  # 30 + 30 > 40
    assert res.loc[0, "overlap_share"] == pytest.approx(0.6)


def test_zoning_for_plots_matches_geopandas_overlay():
    rng = np.random.default_rng(7)
    cats = np.array(["GE", "MI", "WA", "GI"])
    zones = gpd.GeoDataFrame(
        {"zone_category": cats[rng.integers(0, 4, 100)]},
        geometry=[box(x, y, x + 50, y + 50) for x in range(0, 500, 50) for y in range(0, 500, 50)],
        crs=25832,
    )
    plots = gpd.GeoDataFrame(
        {"plot_id": [str(i) for i in range(60)]},
        geometry=[
            box(x, y, x + w, y + h)
            for x, y, w, h in zip(
                rng.uniform(0, 400, 60),
                rng.uniform(0, 400, 60),
                rng.uniform(20, 120, 60),
                rng.uniform(20, 120, 60),
                strict=True,
            )
        ],
        crs=25832,
    )
    res = zoning_for_plots(plots, zones)
    ref = gpd.overlay(plots, zones, how="intersection", keep_geom_type=True)
    ref["a"] = ref.area
    per = ref.groupby(["plot_id", "zone_category"])["a"].sum().reset_index()
    best = per.sort_values(["plot_id", "a", "zone_category"], ascending=[True, False, True])
    best = best.drop_duplicates("plot_id").set_index("plot_id")
    expected_cat = best.loc[plots["plot_id"], "zone_category"].to_numpy()
    expected_share = (best.loc[plots["plot_id"], "a"] / plots.area.to_numpy()).to_numpy()
    assert res["zone_category"].tolist() == expected_cat.tolist()
    np.testing.assert_allclose(res["overlap_share"], expected_share)


def test_zoning_for_plots_checks_crs_and_columns(zoning):
    plots = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(UnexpectedCrsError):
        zoning_for_plots(plots, zoning)
    with pytest.raises(MissingColumnError):
        zoning_for_plots(plots.set_crs(25832, allow_override=True), zoning[["geometry"]])


def test_zoning_for_plots_handles_invalid_zoning_and_empty_plots(zoning):
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    z = gpd.GeoDataFrame({"zone_category": ["GE"]}, geometry=[bowtie], crs=25832)
    plots = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), LineString([(0, 0), (1, 1)])], crs=25832)
    res = zoning_for_plots(plots, z)
    assert res["zone_category"].tolist() == ["GE", "UNKNOWN"]
    assert res.loc[0, "overlap_share"] == pytest.approx(0.5)
    empty = zoning_for_plots(plots.iloc[0:0], zoning)
    assert len(empty) == 0 and "zone_category" in empty.columns


def test_readers_feed_zoning_for_plots():
    z = read_xplanung(FIXTURES / "xplan_bplan_54.gml")
    plots = gpd.GeoDataFrame(
        {"plot_id": ["p"]}, geometry=[box(X0 + 50, Y0 + 10, X0 + 180, Y0 + 90)], crs=25832
    )
    res = zoning_for_plots(plots, z)
    assert res.loc[0, "zone_category"] == "MU"  # 80 m of MU vs 50 m of GE
    assert res.loc[0, "zone_confidence"] == 1.0
