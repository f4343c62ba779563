"""ALKIS parcels and plots made from parcels."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from handwerkgeo.errors import (
    DuplicateIdError,
    MissingColumnError,
    UnexpectedCrsError,
    ValidationError,
)
from handwerkgeo.sources.parcels import PARCEL_COLUMNS, parcels_to_plots, read_alkis_parcels
from handwerkgeo.sources.plots import validate_plots

FIXTURES = Path(__file__).parent / "fixtures"
X0, Y0 = 350_000.0, 5_677_000.0


def test_read_alkis_parcels_gml():
    parcels = read_alkis_parcels(FIXTURES / "alkis_flurstueck.gml")
    assert list(parcels.columns[:6]) == PARCEL_COLUMNS
    assert parcels["parcel_id"].tolist() == [
        "05111200100123______",
        "05111200100124______",
        "05111200100125______",
    ]
    assert parcels["area_official_m2"].tolist() == [1000.0, 1000.0, 2500.0]
    assert parcels["area_m2"].tolist() == pytest.approx([1000.0, 1000.0, 2500.0])
    assert parcels["area_diff_pct"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert parcels["address"].tolist()[0] == "Teststraße 1"
    assert parcels["tntxt"].tolist()[2] == "Wohnbaufläche 2500 m²"
    assert "gemarkung" in parcels.columns  # other attributes are kept
    assert parcels.crs.to_epsg() == 25832
    assert not list(FIXTURES.glob("*.gfs"))


def _geojson(tmp_path: Path, **cols) -> Path:
    n = len(next(iter(cols.values())))
    gdf = gpd.GeoDataFrame(
        cols,
        geometry=[box(X0 + i * 40, Y0, X0 + i * 40 + 40, Y0 + 25) for i in range(n)],
        crs=25832,
    )
    path = tmp_path / "flurstuecke.geojson"
    gdf.to_crs(4326).to_file(path)
    return path


def test_german_area_strings_and_area_difference(tmp_path, caplog):
    path = _geojson(
        tmp_path,
        FLSTKENNZ=["A", "B", "C"],
        flaeche=["1.000", "1.234,5", "unbekannt"],
        lagebeztxt=["Weg 1", None, "Weg 3"],
    )
    with caplog.at_level(logging.WARNING):
        parcels = read_alkis_parcels(path)
    assert parcels["area_official_m2"].tolist()[:2] == [1000.0, 1234.5]
    assert parcels["area_official_m2"].isna().tolist() == [False, False, True]
    assert parcels["area_m2"].tolist() == pytest.approx([1000.0] * 3, rel=1e-6)
    assert parcels.loc[1, "area_diff_pct"] == pytest.approx((1000 - 1234.5) / 1234.5 * 100, 1e-4)
    assert parcels["address"].isna().tolist() == [False, True, False]
    assert parcels.loc[2, "address"] == "Weg 3"
    assert "'unbekannt'" in caplog.text
    assert "differs by more than 5 %" in caplog.text


def test_missing_flstkennz(tmp_path):
    path = _geojson(tmp_path, kennz=["A"])
    with pytest.raises(MissingColumnError, match="Columns found: kennz"):
        read_alkis_parcels(path)


def test_exact_duplicates_removed_conflicting_duplicates_raise(tmp_path, caplog):
    gdf = gpd.GeoDataFrame(
        {"flstkennz": ["A", "A", "B"], "flaeche": [1000, 1000, 1000]},
        geometry=[box(X0, Y0, X0 + 40, Y0 + 25)] * 2 + [box(X0 + 40, Y0, X0 + 80, Y0 + 25)],
        crs=25832,
    )
    path = tmp_path / "dup.gpkg"
    gdf.to_file(path)
    with caplog.at_level(logging.WARNING):
        parcels = read_alkis_parcels(path)
    assert parcels["parcel_id"].tolist() == ["A", "B"]
    assert "1 exact duplicate" in caplog.text
    gdf.iloc[[2], gdf.columns.get_loc("flstkennz")] = "A"
    gdf.to_file(path)
    with pytest.raises(DuplicateIdError, match="A"):
        read_alkis_parcels(path)


@pytest.fixture
def parcels() -> gpd.GeoDataFrame:
    """a|b share a 25 m edge; c touches b only at a corner; d is far away; e touches d."""
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["a", "b", "c", "d", "e"],
            "area_official_m2": [1000.0, 1000.0, 400.0, 900.0, 900.0],
            "address": ["Weg 1", "Weg 1", "Weg 5", "Allee 2", None],
            "tntxt": ["Gewerbe", "Gewerbe", "Wohnen", "Gewerbe", "Gewerbe"],
        },
        geometry=[
            box(X0, Y0, X0 + 40, Y0 + 25),
            box(X0 + 40, Y0, X0 + 80, Y0 + 25),
            box(X0 + 80, Y0 + 25, X0 + 100, Y0 + 45),
            box(X0 + 500, Y0, X0 + 530, Y0 + 30),
            box(X0 + 530.02, Y0, X0 + 560, Y0 + 30),  # 2 cm digitising gap to d
        ],
        crs=25832,
    )


def test_parcels_to_plots_one_per_parcel(parcels):
    before = parcels.copy()
    plots = parcels_to_plots(parcels, ["b", "a"])
    assert plots["plot_id"].tolist() == ["a", "b"]
    assert plots["is_point"].tolist() == [False, False]
    assert plots["area_m2"].tolist() == pytest.approx([1000.0, 1000.0])
    assert parcels.equals(before)


def test_parcels_to_plots_merges_adjacent_only(parcels):
    plots = parcels_to_plots(parcels, merge_adjacent=True)
    assert plots["plot_id"].tolist() == ["a+b", "c", "d+e"]
    assert plots["n_parcels"].tolist() == [2, 1, 2]
    assert plots["address"].tolist() == ["Weg 1", "Weg 5", "Allee 2"]
    assert plots["area_official_m2"].tolist() == [2000.0, 400.0, 1800.0]
    assert (plots.geom_type == "Polygon").all()  # the 2 cm gap is closed
    assert plots["area_m2"].tolist() == pytest.approx([2000.0, 400.0, 1800.0], rel=1e-3)
    report = validate_plots(plots, name="from parcels")
    assert report.ok, report.messages


def test_parcels_to_plots_reports_unknown_ids(parcels):
    with pytest.raises(ValidationError) as info:
        parcels_to_plots(parcels, ["a", "x", "y"])
    assert len(info.value.problems) == 2
    assert "'x'" in info.value.problems[0] and "leading zeros" in info.value.problems[0]


def test_parcels_to_plots_checks_input(parcels):
    with pytest.raises(UnexpectedCrsError):
        parcels_to_plots(parcels.to_crs(4326))
    with pytest.raises(MissingColumnError, match="parcel_id"):
        parcels_to_plots(parcels.drop(columns="parcel_id"))
