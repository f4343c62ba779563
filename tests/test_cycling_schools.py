"""Cycling network and schools: real data from the mirror and deliberately broken inputs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from handwerkgeo.errors import DuplicateIdError, MissingColumnError, NoCrsError
from handwerkgeo.fetch import fetch
from handwerkgeo.sources.cycling import read_cycling_network
from handwerkgeo.sources.quarters import normalise_name, read_stadtteile
from handwerkgeo.sources.schools import read_schools

CYCLING = "radverkehr/basisradwegenetzduesseldorf.geojson"
SCHOOLS = "schulen/schulen.csv"
STADTTEILE = "grenzen/Stadtteilgrenzen_Duesseldorf_2021_ETRS89.geojson"


@pytest.fixture(scope="module")
def stadtteile(mirror: Path) -> gpd.GeoDataFrame:
    return read_stadtteile(mirror / STADTTEILE)


# --- cycling ---------------------------------------------------------------------------------


def test_cycling_network_real(mirror: Path) -> None:
    net = read_cycling_network(mirror / CYCLING)
    assert len(net) == 619
    assert net.crs.to_epsg() == 25832
    assert net.attrs["source_crs"] == "EPSG:4326"
    assert net.attrs["rejects"] == []
    assert not net.geometry.has_z.any()
    assert set(net.geom_type) <= {"LineString", "MultiLineString"}
    assert net["length_m"].sum() / 1000 == pytest.approx(688, abs=5)
    assert net["length_m"].to_numpy() == pytest.approx(net.geometry.length.to_numpy())
    assert net["segment_id"].is_unique
    minx, _, maxx, _ = net.total_bounds
    assert 330_000 < minx < maxx < 365_000


def test_cycling_network_independent_length(mirror: Path) -> None:
    # reference: geodesic length on the ellipsoid of the raw lon/lat lines (pyproj.Geod)
    import pyproj

    raw = gpd.read_file(mirror / CYCLING)
    geod = pyproj.Geod(ellps="GRS80")
    ref = sum(geod.geometry_length(shapely.force_2d(g)) for g in raw.geometry) / 1000
    net = read_cycling_network(mirror / CYCLING)
    # UTM scale error in Düsseldorf is below 0.05 %
    assert net["length_m"].sum() / 1000 == pytest.approx(ref, rel=5e-4)


def _lines_file(tmp_path: Path, features: list[dict], crs: bool = True) -> Path:
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    path = tmp_path / "net.geojson"
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


def test_cycling_bad_features_are_reported(tmp_path: Path, caplog) -> None:
    line = {
        "type": "Feature",
        "properties": {"NaviNetz": None},
        "geometry": {"type": "LineString", "coordinates": [[6.78, 51.22, 0], [6.79, 51.22, 0]]},
    }
    nogeom = {"type": "Feature", "properties": {"NaviNetz": None}, "geometry": None}
    point = {
        "type": "Feature",
        "properties": {"NaviNetz": None},
        "geometry": {"type": "Point", "coordinates": [6.78, 51.22]},
    }
    with caplog.at_level("WARNING"):
        net = read_cycling_network(_lines_file(tmp_path, [line, nogeom, point]))
    assert list(net["segment_id"]) == [0]
    assert net.attrs["rejects"] == [
        {"segment_id": 1, "reason": "missing or empty geometry"},
        {"segment_id": 2, "reason": "not a line (Point)"},
    ]
    assert "2 feature(s) cannot be used" in caplog.text
    # 0.01° of longitude at 51.22° N ≈ 697 m
    assert net["length_m"].iloc[0] == pytest.approx(697, abs=3)


def test_cycling_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "net.gpkg"
    frame = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(344_000, 5_677_000), (345_000, 5_677_000)])]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame.to_file(path, engine="pyogrio")
    with pytest.raises(NoCrsError):
        read_cycling_network(path)


# --- schools ---------------------------------------------------------------------------------


def test_schools_real(mirror: Path, stadtteile: gpd.GeoDataFrame) -> None:
    schools = read_schools(mirror / SCHOOLS, stadtteile=stadtteile)
    assert len(schools) == 185
    assert schools.crs.to_epsg() == 25832
    assert schools.attrs["rejects"] == []
    for col in [
        "id",
        "name",
        "form",
        "operator",
        "address",
        "postcode",
        "stadtteil",
        "bezirk",
        "stadtteil_code_geom",
        "stadtteil_mismatch",
    ]:
        assert col in schools.columns
    assert schools["id"].is_unique
    assert (schools.geom_type == "Point").all()
    assert schools["stadtteil_code_geom"].notna().all()
    assert schools["form"].value_counts()["Grundschule"] == 91
    assert schools["postcode"].str.fullmatch(r"\d{5}").all()
    assert schools["bezirk"].str.fullmatch(r"\d{2}").all()
    # about 5 schools near quarter borders disagree with the polygons
    mismatch = schools["stadtteil_mismatch"]
    assert 3 <= mismatch.sum() <= 8
    # independent check of the join: each point lies in the polygon of its assigned code
    polys = stadtteile.set_index("stadtteil_code").geometry
    for code, pt in zip(schools["stadtteil_code_geom"], schools.geometry, strict=True):
        assert polys[code].covers(pt)
    # disagreement is real, not a spelling difference
    for given, found in schools.loc[mismatch, ["stadtteil", "stadtteil_name_geom"]].itertuples(
        index=False
    ):
        assert normalise_name(given) != normalise_name(found)
    # the given Bezirk agrees with the polygons (the disagreements are within a Bezirk or not)
    assert (
        schools["bezirk_code_geom"]
        == stadtteile.set_index("stadtteil_code")
        .loc[schools["stadtteil_code_geom"], "bezirk_code"]
        .to_numpy()
    ).all()


def test_schools_from_fetched_defaults(mirror: Path, tmp_path: Path) -> None:
    fetch(mirror=mirror, data_dir=tmp_path, layers=["schools", "stadtteile"])
    schools = read_schools(data_dir=tmp_path)
    assert len(schools) == 185


HEADER = "id,name,form,traeger,strasse,plz,stadtteil,bezirk,lon,lat\n"


def test_schools_bad_rows_reported(tmp_path: Path, stadtteile: gpd.GeoDataFrame) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        HEADER
        + "1,A,Grundschule,Stadt Düsseldorf,Weg 1,40213,Altstadt,1,6.7735,51.2265\n"
        + "2,B,Grundschule,Stadt Düsseldorf,Weg 2,40213,Altstadt,1,,51.2265\n"
        + "3,C,Grundschule,Stadt Düsseldorf,Weg 3,40213,Altstadt,1,51.2265,6.7735\n",
        encoding="utf-8",
    )
    schools = read_schools(path, stadtteile=stadtteile)
    assert list(schools["id"]) == ["1"]
    assert schools.loc[0, "stadtteil_code_geom"] == "011"
    assert not schools.loc[0, "stadtteil_mismatch"]
    reasons = {r["id"]: r["reason"] for r in schools.attrs["rejects"]}
    assert reasons["2"].startswith("lon/lat missing")
    assert "swapped" in reasons["3"]


def test_schools_duplicate_ids(tmp_path: Path, stadtteile: gpd.GeoDataFrame) -> None:
    path = tmp_path / "s.csv"
    row = "7,A,Grundschule,Stadt Düsseldorf,Weg 1,40213,Altstadt,1,6.7735,51.2265\n"
    path.write_text(HEADER + row + row, encoding="utf-8")
    with pytest.raises(DuplicateIdError, match="7"):
        read_schools(path, stadtteile=stadtteile)


def test_schools_missing_column(tmp_path: Path, stadtteile: gpd.GeoDataFrame) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,name,lon,lat\n1,A,6.77,51.22\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="traeger"):
        read_schools(path, stadtteile=stadtteile)


def test_schools_windows_1252(tmp_path: Path, stadtteile: gpd.GeoDataFrame) -> None:
    path = tmp_path / "s.csv"
    text = HEADER + "1,Schule Lörick,Grundschule,Stadt,Weg 1,40547,Lörick,4,6.7315,51.2485\n"
    path.write_bytes(text.encode("cp1252"))
    schools = read_schools(path, stadtteile=stadtteile)
    assert schools.loc[0, "name"] == "Schule Lörick"
