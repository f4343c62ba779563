"""Stadtteile and Stadtbezirke: CRS, name repairs, codes, areas; real data and broken inputs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from handwerkgeo.errors import (
    MissingColumnError,
    NoCrsError,
    OutsideAreaError,
    ValidationError,
)
from handwerkgeo.fetch import fetch
from handwerkgeo.sources.quarters import NAME_REPAIRS, read_stadtbezirke, read_stadtteile

FILE = "grenzen/Stadtteilgrenzen_Duesseldorf_2021_ETRS89.geojson"


@pytest.fixture(scope="module")
def stadtteile(mirror: Path):
    return read_stadtteile(mirror / FILE)


@pytest.fixture(scope="module")
def bezirke(mirror: Path):
    return read_stadtbezirke(mirror / FILE)


def test_stadtteile_real(stadtteile) -> None:
    st = stadtteile
    assert len(st) == 50
    assert list(st.columns) == [
        "stadtteil_code",
        "stadtteil_name",
        "bezirk_code",
        "area_m2",
        "geometry",
    ]
    assert st.crs.to_epsg() == 25832
    assert st.attrs["source_crs"] == "EPSG:4647"
    minx, miny, maxx, maxy = st.total_bounds
    # zone prefix removed: eastings around 340 000, not 32 340 000
    assert 330_000 < minx < maxx < 365_000
    assert 5_660_000 < miny < maxy < 5_700_000
    assert st["area_m2"].sum() / 1e6 == pytest.approx(217.4, abs=1.0)
    assert st["area_m2"].to_numpy() == pytest.approx(st.geometry.area.to_numpy())
    assert st.geometry.is_valid.all()


def test_stadtteile_codes(stadtteile) -> None:
    codes = stadtteile["stadtteil_code"]
    assert codes.is_unique
    assert codes.str.fullmatch(r"\d{3}").all()
    assert codes.iloc[0] == "011" and codes.iloc[-1] == "102"
    assert stadtteile["bezirk_code"].str.fullmatch(r"\d{2}").all()
    assert sorted(stadtteile["bezirk_code"].unique()) == [f"{i:02d}" for i in range(1, 11)]
    # the first two digits of a Stadtteil code are its Stadtbezirk
    assert (codes.str[:2] == stadtteile["bezirk_code"]).all()
    altstadt = stadtteile.set_index("stadtteil_code").loc["011"]
    assert altstadt["stadtteil_name"] == "Altstadt"
    assert altstadt["bezirk_code"] == "01"


def test_stadtteile_names_repaired(stadtteile) -> None:
    names = stadtteile.set_index("stadtteil_code")["stadtteil_name"]
    assert not names.str.contains("\ufffd").any()
    assert names["021"] == "Flingern Süd"
    assert names["023"] == "Düsseltal"
    assert names["043"] == "Lörick"
    assert names["064"] == "Mörsenbroich"
    assert stadtteile.attrs["repaired_names"] == sorted(NAME_REPAIRS)


def test_stadtbezirke_real(bezirke, stadtteile) -> None:
    bz = bezirke
    assert len(bz) == 10
    assert list(bz["bezirk_code"]) == [f"{i:02d}" for i in range(1, 11)]
    assert bz.loc[0, "bezirk_name"] == "Stadtbezirk 1"
    assert bz.crs.to_epsg() == 25832
    assert bz.attrs["source_crs"] == "EPSG:4647"
    assert bz["area_m2"].sum() / 1e6 == pytest.approx(217.4, abs=1.0)
    # each Bezirk's area equals the sum of its Stadtteile (dissolve lost nothing)
    per_bezirk = stadtteile.groupby("bezirk_code")["area_m2"].sum()
    assert bz.set_index("bezirk_code")["area_m2"].to_numpy() == pytest.approx(
        per_bezirk.to_numpy(), rel=1e-6
    )
    assert "011" in bz.loc[0, "stadtteil_codes"].split(",")
    assert "Altstadt" in bz.loc[0, "stadtteile"]
    assert sum(len(c.split(",")) for c in bz["stadtteil_codes"]) == 50


def test_read_from_fetched_default(mirror: Path, tmp_path: Path) -> None:
    fetch(mirror=mirror, data_dir=tmp_path, layers=["stadtteile"])
    st = read_stadtteile(data_dir=tmp_path)
    assert len(st) == 50
    assert st.attrs["source_path"].startswith(str(tmp_path))


# --- deliberately broken inputs ----------------------------------------------------------


def _write(tmp_path: Path, features: list[dict], crs: str | None) -> Path:
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    path = tmp_path / "st.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


def _feature(bezirk: int, stadtteil: int, name: str, x0: float, y0: float) -> dict:
    ring = [[x0, y0], [x0 + 1000, y0], [x0 + 1000, y0 + 1000], [x0, y0 + 1000], [x0, y0]]
    return {
        "type": "Feature",
        "properties": {"Stadtbezir": bezirk, "Stadtteil": stadtteil, "Name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


EPSG4647 = "urn:ogc:def:crs:EPSG::4647"


def test_tiny_4647_file_is_reprojected(tmp_path: Path) -> None:
    path = _write(tmp_path, [_feature(1, 11, "Altstadt", 32_344_000, 5_677_000)], EPSG4647)
    st = read_stadtteile(path)
    assert st.total_bounds[0] == pytest.approx(344_000, abs=1)
    assert st["area_m2"].iloc[0] == pytest.approx(1e6, rel=1e-6)


def test_unknown_broken_name_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, [_feature(1, 11, "Altst\ufffddt", 32_344_000, 5_677_000)], EPSG4647)
    with pytest.raises(ValidationError, match="U\\+FFFD"):
        read_stadtteile(path)


def test_bad_codes_all_reported(tmp_path: Path) -> None:
    feats = [
        _feature(1, 11, "Altstadt", 32_344_000, 5_677_000),
        _feature(2, 11, "Doppelt", 32_346_000, 5_677_000),  # duplicate, wrong Bezirk
        _feature(1, 999, "Falsch", 32_348_000, 5_677_000),
    ]
    with pytest.raises(ValidationError) as err:
        read_stadtteile(_write(tmp_path, feats, EPSG4647))
    text = str(err.value)
    assert "999" in text and "more than once" in text and "belongs to Stadtbezirk 01" in text
    assert len(err.value.problems) == 3


def test_missing_column(tmp_path: Path) -> None:
    f = _feature(1, 11, "Altstadt", 32_344_000, 5_677_000)
    del f["properties"]["Stadtbezir"]
    with pytest.raises(MissingColumnError, match="Stadtbezir"):
        read_stadtteile(_write(tmp_path, [f], EPSG4647))


def test_no_crs(tmp_path: Path) -> None:
    path = tmp_path / "st.gpkg"
    frame = gpd.GeoDataFrame(
        {"Stadtbezir": [1], "Stadtteil": [11], "Name": ["Altstadt"]},
        geometry=[shapely.box(344_000, 5_677_000, 345_000, 5_678_000)],
    )
    with warnings.catch_warnings():  # writing a file without CRS is the point here
        warnings.simplefilter("ignore", UserWarning)
        frame.to_file(path, engine="pyogrio")
    with pytest.raises(NoCrsError, match="no coordinate reference system"):
        read_stadtteile(path)


def test_4647_coordinates_labelled_25832_are_caught(tmp_path: Path) -> None:
    feats = [_feature(1, 11, "Altstadt", 32_344_000, 5_677_000)]
    path = _write(tmp_path, feats, "urn:ogc:def:crs:EPSG::25832")
    with pytest.raises(OutsideAreaError, match="outside Düsseldorf"):
        read_stadtteile(path)


def test_invalid_geometry_repaired(tmp_path: Path) -> None:
    x0, y0 = 32_344_000, 5_677_000
    bowtie = [[x0, y0], [x0 + 1000, y0 + 1000], [x0 + 1000, y0], [x0, y0 + 1000], [x0, y0]]
    f = _feature(1, 11, "Altstadt", x0, y0)
    f["geometry"]["coordinates"] = [bowtie]
    st = read_stadtteile(_write(tmp_path, [f], EPSG4647))
    assert st.geometry.is_valid.all()
    assert st.attrs["repaired_geometries"] == ["011"]
    assert st["area_m2"].iloc[0] == pytest.approx(500_000, rel=1e-6)


def test_metres_in_a_geojson_without_crs_are_caught(tmp_path: Path) -> None:
    # GeoJSON without a crs member means WGS 84; metre coordinates then cannot be right
    path = _write(tmp_path, [_feature(1, 11, "Altstadt", 344_000, 5_677_000)], None)
    with pytest.raises(OutsideAreaError):
        read_stadtteile(path)
