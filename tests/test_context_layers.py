"""Planner-supplied context layers (--layer KIND=PATH): zoning plans, motorway junctions."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from handwerkgeo.cli import app
from handwerkgeo.context import (
    FILE_LAYERS,
    add_layer_files,
    parse_layer_options,
    read_context_layer,
)
from handwerkgeo.crs import CRS
from handwerkgeo.errors import HandwerkgeoError, MissingColumnError, NoCrsError
from handwerkgeo.scoring import read_scored, score_plots
from handwerkgeo.search import candidate_cells


def _zoning_file(tmp_path: Path, dx: float = 0.0, dy: float = 0.0) -> Path:
    # two B-Plan areas side by side, XPlanung attribute schema (GeoJSON export)
    z = gpd.GeoDataFrame(
        {"besondereArtDerBaulNutzung": [1700, 1200], "planName": ["GE-Plan", "WA-Plan"]},
        geometry=[
            box(346_500 + dx, 5_676_600 + dy, 347_500 + dx, 5_677_400 + dy),
            box(345_800 + dx, 5_676_600 + dy, 346_500 + dx, 5_677_400 + dy),
        ],
        crs=CRS,
    ).to_crs(4326)
    path = tmp_path / "bplan.geojson"
    z.to_file(path, driver="GeoJSON")
    return path


def _junctions_file(tmp_path: Path) -> Path:
    # written in Gauß-Krüger (EPSG:31466), as older municipal files are
    j = gpd.GeoDataFrame(
        {"name": ["AS Test-Ost", "AS Test-Süd"]},
        geometry=[Point(348_500, 5_676_900), Point(347_000, 5_674_000)],
        crs=CRS,
    ).to_crs(31466)
    path = tmp_path / "junctions.gpkg"
    j.to_file(path, driver="GPKG")
    return path


def _roads_csv(tmp_path: Path) -> Path:
    path = tmp_path / "roads.csv"
    path.write_text(
        'name,WKT\nErkrather Str.,"LINESTRING (347000 5675800, 349500 5675800)"\n',
        encoding="utf-8",
    )
    return path


def test_read_layers_in_the_canonical_crs(tmp_path: Path) -> None:
    z = read_context_layer("bplan", _zoning_file(tmp_path))
    assert z.crs == CRS
    assert sorted(z["zone_category"]) == ["GE", "WA"]
    j = read_context_layer("motorway_junctions", _junctions_file(tmp_path))
    assert j.crs == CRS
    assert j.geometry.iloc[0].distance(Point(348_500, 5_676_900)) < 0.01


def test_layer_errors_say_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(HandwerkgeoError, match="motorway_junctions"):
        read_context_layer("motorways", tmp_path / "x.gpkg")
    with pytest.raises(HandwerkgeoError, match="KIND=PATH"):
        parse_layer_options(["zoning"])
    assert parse_layer_options(["bplan=a.gpkg", "landuse = b.gpkg"]) == {
        "bplan": "a.gpkg",
        "landuse": "b.gpkg",
    }
    odd = gpd.GeoDataFrame({"kind": ["x"]}, geometry=[box(0, 0, 1, 1)], crs=CRS)
    odd.to_file(tmp_path / "odd.gpkg")
    with pytest.raises(MissingColumnError, match="nutzart"):
        read_context_layer("landuse", tmp_path / "odd.gpkg")
    gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=CRS).to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink()
    with pytest.raises(NoCrsError):
        read_context_layer("residential", tmp_path / "nocrs.shp")
    assert set(FILE_LAYERS) >= {"bplan", "fnp", "landuse", "motorway_junctions", "main_roads"}


def test_layers_feed_the_criteria(tmp_path: Path) -> None:
    from handwerkgeo.context import ScoringContext

    ctx = add_layer_files(
        ScoringContext(),
        {"bplan": _zoning_file(tmp_path), "motorway_junctions": _junctions_file(tmp_path)},
    )
    assert any("bplan.geojson" in s["name"] for s in ctx.sources)
    cells = candidate_cells(box(345_800, 5_676_600, 347_500, 5_677_400), cell_m=100)
    s = score_plots(cells, context=ctx).set_index("plot_id")
    # zoning from the plan: GE cells rated 1, WA cells excluded with the reason
    inside_ge = s[s.geometry.centroid.x > 346_500]
    inside_wa = s[s.geometry.centroid.x < 346_500]
    assert (inside_ge["raw_zoning"] == "GE").all() and not inside_ge["excluded"].any()
    assert inside_wa["excluded"].all()
    assert inside_wa["exclusion_reason"].str.contains("WA").all()
    # motorway: network missing -> straight line x circuity, flagged, never silent
    assert s["raw_motorway"].notna().all() and s["fallback_motorway"].all()
    junctions = [Point(348_500, 5_676_900), Point(347_000, 5_674_000)]
    # straight line from the plot (its outline) to the nearest junction, × circuity 1.3
    expected = [1.3 * min(g.distance(j) for j in junctions) for g in s.geometry]
    assert s["raw_motorway"].to_numpy() == pytest.approx(expected, abs=0.05)


@pytest.mark.mirror
def test_cli_search_with_layers(fetched_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.gpkg"
    res = CliRunner().invoke(
        app,
        [
            "search",
            "--stadtteil",
            "Lierenfeld",
            "--data-dir",
            str(fetched_data_dir),
            "--out",
            str(out),
            "--layer",
            # moved into Lierenfeld (around x 348 200, y 5 675 800)
            f"bplan={_zoning_file(tmp_path, dx=1_500, dy=-1_000)}",
            "--layer",
            f"motorway_junctions={_junctions_file(tmp_path)}",
            "--layer",  # a line file without CRS, given one after the @
            f"main_roads={_roads_csv(tmp_path)}@urn:adv:crs:ETRS89_UTM32",
        ],
    )
    assert res.exit_code == 0, res.output
    surface = read_scored(out)
    assert surface["raw_motorway"].notna().all()
    assert surface["raw_main_road"].max() < 2_500  # the road runs through Lierenfeld
    assert any(s["name"] == "main_roads: roads.csv" for s in surface.attrs["run"]["sources"])
    assert (surface["raw_zoning"] == "GE").sum() > 10
    assert surface.loc[surface["raw_zoning"] == "WA", "excluded"].all()
    assert any("junctions.gpkg" in s["name"] for s in surface.attrs["run"]["sources"])
    bad = CliRunner().invoke(
        app,
        ["search", "--data-dir", str(fetched_data_dir), "--out", str(out), "--layer", "x=y"],
    )
    assert bad.exit_code == 1 and "allowed" in bad.output
