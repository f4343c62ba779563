"""Candidate plot reader: every format, every broken input, and the `plots check` CLI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box
from typer.testing import CliRunner

from handwerkgeo.cli import app
from handwerkgeo.errors import (
    DuplicateIdError,
    EncodingError,
    HandwerkgeoError,
    InvalidGeometryError,
    MissingColumnError,
    NoCrsError,
    OutsideAreaError,
    ValidationError,
)
from handwerkgeo.sources.plots import check_plots, read_plots, validate_plots

X0, Y0 = 344_000.0, 5_679_000.0  # Düsseldorf, EPSG:25832


@pytest.fixture
def plots_gdf() -> gpd.GeoDataFrame:
    """Three plots in Düsseldorf (EPSG:25832) with attributes as planners give them."""
    return gpd.GeoDataFrame(
        {
            "plot_id": ["P1", "P2", "P3"],
            "name": ["Rather Straße", "Höherweg", "Königsberger Straße"],
            "zoning": ["GE", "MU", "1700"],
        },
        geometry=[
            box(X0, Y0, X0 + 50, Y0 + 60),
            box(X0 + 200, Y0, X0 + 300, Y0 + 45.5),
            Polygon([(X0, Y0 + 300), (X0 + 80, Y0 + 300), (X0 + 40, Y0 + 390)]),
        ],
        crs="EPSG:25832",
    )


def _csv_wkt(gdf: gpd.GeoDataFrame, path: Path, sep: str = ",") -> None:
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["wkt"] = gdf.geometry.to_wkt()
    df.to_csv(path, sep=sep, index=False)


def _xlsx_wkt(gdf: gpd.GeoDataFrame, path: Path) -> None:
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["WKT"] = gdf.geometry.to_wkt()
    df.to_excel(path, index=False)


WRITERS: dict[str, tuple[str, Callable[[gpd.GeoDataFrame, Path], None], dict]] = {
    "gpkg": ("plots.gpkg", lambda g, p: g.to_file(p, layer="plots"), {}),
    "geojson": ("plots.geojson", lambda g, p: g.to_file(p), {}),
    "geojson_4326": ("plots.geojson", lambda g, p: g.to_crs(4326).to_file(p), {}),
    "shp": ("plots.shp", lambda g, p: g.to_file(p), {}),
    "geoparquet": ("plots.parquet", lambda g, p: g.to_parquet(p), {}),
    "csv_wkt": ("plots.csv", _csv_wkt, {"crs": "EPSG:25832"}),
    "csv_wkt_semicolon": (
        "plots.csv",
        lambda g, p: _csv_wkt(g, p, sep=";"),
        {"crs": "EPSG:25832"},
    ),
    "xlsx_wkt": ("plots.xlsx", _xlsx_wkt, {"crs": "EPSG:25832"}),
    "gml": ("plots.gml", lambda g, p: g.to_file(p, driver="GML"), {}),
}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_round_trips(fmt, plots_gdf, tmp_path):
    filename, write, kwargs = WRITERS[fmt]
    path = tmp_path / filename
    write(plots_gdf, path)
    plots = read_plots(path, **kwargs)
    assert plots.crs.to_epsg() == 25832
    assert plots["plot_id"].tolist() == ["P1", "P2", "P3"]
    np.testing.assert_allclose(plots["area_m2"], plots_gdf.area, rtol=1e-7)
    assert plots["area_m2"].tolist() == pytest.approx([3000.0, 4550.0, 3600.0], rel=1e-7)
    assert not plots["is_point"].any()
    assert plots["name"].tolist() == plots_gdf["name"].tolist()  # umlauts survive
    assert list(plots.columns[:1]) == ["plot_id"]
    assert list(plots.columns[-3:]) == ["area_m2", "is_point", "geometry"]


def test_output_follows_design_contract(plots_gdf, tmp_path):
    path = tmp_path / "plots.gpkg"
    plots_gdf.to_file(path)
    plots = read_plots(path)
    assert plots["plot_id"].map(type).eq(str).all()
    assert plots["area_m2"].dtype == float
    assert plots["is_point"].dtype == bool
    assert plots.attrs["source_crs"] == "EPSG:25832"
    assert plots["zoning"].tolist() == ["GE", "MU", "1700"]


def test_caller_frame_is_not_modified(plots_gdf):
    before = plots_gdf.copy()
    report = validate_plots(plots_gdf, name="frame")
    assert report.ok
    pd.testing.assert_frame_equal(plots_gdf, before)


# --- deliberately broken inputs -----------------------------------------------------------


def _no_prj(g, tmp):
    path = tmp / "noprj.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        g.set_crs(None, allow_override=True).to_file(path)
    assert not path.with_suffix(".prj").exists()
    return path


def _metres_labelled_4326(g, tmp):
    path = tmp / "wrong_label.geojson"
    g.set_crs(4326, allow_override=True).to_file(path)
    return path


def _swapped_lonlat(g, tmp):
    pts = g.geometry.centroid.to_crs(4326)
    path = tmp / "swapped.csv"
    pd.DataFrame({"id": g["plot_id"], "lon": pts.y, "lat": pts.x, "area_m2": g.area}).to_csv(
        path, index=False
    )
    return path


def _duplicate_ids(g, tmp):
    path = tmp / "dups.gpkg"
    g.assign(plot_id=["P1", "P1", "P3"]).to_file(path)
    return path


def _missing_id(g, tmp):
    path = tmp / "noid.geojson"
    g.drop(columns="plot_id").to_file(path)
    return path


def _self_intersecting(g, tmp):
    bowtie = Polygon([(X0, Y0), (X0 + 50, Y0 + 50), (X0 + 50, Y0), (X0, Y0 + 50)])
    path = tmp / "bowtie.gpkg"
    g.assign(geometry=[bowtie, *g.geometry[1:]]).to_file(path)
    return path


def _empty_geometry(g, tmp):
    path = tmp / "empty_geom.csv"
    df = pd.DataFrame({"plot_id": g["plot_id"], "wkt": g.geometry.to_wkt()})
    df.loc[1, "wkt"] = ""
    df.to_csv(path, index=False)
    return path


def _empty_file(g, tmp):
    path = tmp / "empty.csv"
    path.write_bytes(b"")
    return path


def _header_only(g, tmp):
    path = tmp / "header.csv"
    path.write_text("plot_id;wkt\n", encoding="utf-8")
    return path


def _bad_encoding(g, tmp):
    path = tmp / "bad.csv"
    path.write_bytes(b"plot_id;name;wkt\nP1;Stra\x81e\x8d;POINT (1 2)\n")
    return path


def _points_without_area(g, tmp):
    path = tmp / "points.csv"
    pts = g.geometry.centroid.to_crs(4326)
    pd.DataFrame({"plot_id": g["plot_id"], "lon": pts.x, "lat": pts.y}).to_csv(path, index=False)
    return path


def _line(g, tmp):
    path = tmp / "line.geojson"
    line = LineString([(X0, Y0), (X0 + 100, Y0 + 100)])
    g.assign(geometry=[line, *g.geometry[1:]]).to_file(path)
    return path


def _xy_in_degrees(g, tmp):
    path = tmp / "degrees.csv"
    pts = g.geometry.centroid.to_crs(4326)
    pd.DataFrame({"id": g["plot_id"], "x": pts.x, "y": pts.y, "area_m2": 3000}).to_csv(
        path, index=False
    )
    return path


def _two_layers(g, tmp):
    path = tmp / "two.gpkg"
    g.to_file(path, layer="plots")
    g.to_file(path, layer="other")
    return path


def _bad_point_areas(g, tmp):
    path = tmp / "areas.csv"
    path.write_text(
        "plot_id;Rechtswert;Hochwert;Fläche\n"
        "A;344100;5679100;zweitausend\n"
        "B;344200;5679200;-5\n"
        "C;344300;5679300;2.500\n",
        encoding="utf-8",
    )
    return path


BROKEN = [
    # (case, writer, kwargs, expected error, words the message must contain)
    ("no_crs_shapefile", _no_prj, {}, NoCrsError, ["no coordinate reference system", "--crs"]),
    (
        "4326_label_on_metres",
        _metres_labelled_4326,
        {},
        OutsideAreaError,
        ["not longitude/latitude", "crs='EPSG:25832'"],
    ),
    ("swapped_lonlat", _swapped_lonlat, {}, OutsideAreaError, ["swapped", "exchange"]),
    ("duplicate_ids", _duplicate_ids, {}, DuplicateIdError, ["'P1' occurs 2 times", "unique"]),
    ("missing_id_column", _missing_id, {}, MissingColumnError, ["Columns found", "--id-col"]),
    (
        "self_intersection",
        _self_intersecting,
        {},
        InvalidGeometryError,
        ["Self-intersection", "repair=True"],
    ),
    (
        "empty_geometry",
        _empty_geometry,
        {"crs": 25832},
        InvalidGeometryError,
        ["geometry is missing", "draw the plot outline"],
    ),
    ("empty_file", _empty_file, {}, ValidationError, ["contains no plots", "saved completely"]),
    ("header_only", _header_only, {"crs": 25832}, ValidationError, ["0 rows", "exported"]),
    ("bad_encoding", _bad_encoding, {}, EncodingError, ["cp1252", "UTF-8"]),
    (
        "points_without_area_column",
        _points_without_area,
        {},
        MissingColumnError,
        ["no plot-area column", "area_m2"],
    ),
    ("line_geometry", _line, {}, InvalidGeometryError, ["LineString", "polygon"]),
    ("xy_in_degrees", _xy_in_degrees, {}, NoCrsError, ["look like degrees", "EPSG:4326"]),
    ("two_layers", _two_layers, {}, ValidationError, ["several layers", "layer="]),
    (
        "bad_point_areas",
        _bad_point_areas,
        {},
        ValidationError,
        ["'zweitausend'", "not a number", "not positive"],
    ),
]


@pytest.mark.parametrize(
    ("writer", "kwargs", "error", "words"),
    [b[1:] for b in BROKEN],
    ids=[b[0] for b in BROKEN],
)
def test_broken_input_raises_with_fix(writer, kwargs, error, words, plots_gdf, tmp_path):
    path = writer(plots_gdf, tmp_path)
    with pytest.raises(error) as info:
        read_plots(path, **kwargs)
    text = str(info.value)
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    assert "Fix:" in text
    assert isinstance(info.value.problems, list) and info.value.problems


def test_all_problems_are_collected_before_raising(plots_gdf, tmp_path):
    bowtie = Polygon([(X0, Y0), (X0 + 50, Y0 + 50), (X0 + 50, Y0), (X0, Y0 + 50)])
    bad = gpd.GeoDataFrame(
        {"plot_id": ["P1", "P1", "P3", "P4", "P5"]},
        geometry=[
            box(X0, Y0, X0 + 50, Y0 + 50),
            box(X0 + 100, Y0, X0 + 150, Y0 + 50),
            bowtie,
            box(0, 0, 50, 50),  # far outside Düsseldorf
            box(X0 + 500, Y0, X0 + 560, Y0 + 50),
        ],
        crs="EPSG:25832",
    )
    path = tmp_path / "many.gpkg"
    bad.to_file(path)
    with pytest.raises(ValidationError) as info:
        read_plots(path)
    err = info.value
    kinds = " ".join(err.problems)
    assert "duplicate plot ids" in kinds
    assert "invalid geometries" in kinds
    assert "outside Düsseldorf" in kinds
    assert err.rejects["row"].tolist() == [1, 2, 3, 4]
    assert err.rejects["plot_id"].tolist() == ["P1", "P1", "P3", "P4"]
    assert err.rejects["fix"].str.len().gt(0).all()


def test_reject_mode_returns_usable_rows_and_rejects(plots_gdf, tmp_path, caplog):
    path = _duplicate_ids(plots_gdf, tmp_path)
    with caplog.at_level(logging.WARNING, logger="handwerkgeo.sources.plots"):
        plots = read_plots(path, on_invalid="reject")
    assert plots["plot_id"].tolist() == ["P3"]
    assert isinstance(plots.attrs["rejects"], list)
    rejects = pd.DataFrame(plots.attrs["rejects"])
    assert rejects["row"].tolist() == [1, 2]
    assert rejects["reason"].str.contains("occurs 2 times").all()
    assert "2 of 3 plot row(s) rejected" in caplog.text


def test_reject_mode_still_raises_on_file_level_problems(plots_gdf, tmp_path):
    with pytest.raises(NoCrsError):
        read_plots(_no_prj(plots_gdf, tmp_path), on_invalid="reject")


def test_on_invalid_must_be_known(plots_gdf, tmp_path):
    with pytest.raises(ValueError, match="on_invalid"):
        read_plots(_duplicate_ids(plots_gdf, tmp_path), on_invalid="drop")


def test_crs_argument_fixes_missing_and_wrong_labels(plots_gdf, tmp_path):
    plots = read_plots(_no_prj(plots_gdf, tmp_path), crs="EPSG:25832")
    assert plots.attrs["source_crs"] == "EPSG:25832"
    np.testing.assert_allclose(plots["area_m2"], plots_gdf.area)
    relabelled = read_plots(_metres_labelled_4326(plots_gdf, tmp_path), crs=25832)
    np.testing.assert_allclose(relabelled.total_bounds, plots_gdf.total_bounds)


def test_repair_fixes_self_intersection_and_reports_it(plots_gdf, tmp_path, caplog):
    path = _self_intersecting(plots_gdf, tmp_path)
    report = check_plots(path, repair=True)
    assert report.ok
    assert any("repaired with shapely.make_valid" in n for n in report.notes)
    plots = read_plots(path, repair=True)
    assert plots.geometry.is_valid.all()
    assert plots.loc[0, "area_m2"] == pytest.approx(1250.0)  # two triangles of the bowtie


def test_cp1252_csv_with_umlauts(tmp_path):
    path = tmp_path / "cp1252.csv"
    text2 = "plot_id;Name;Fläche;wkt\nA;Königsallee Süd;3200;POINT (344100 5679100)\n"
    path.write_bytes(text2.encode("cp1252"))
    report = check_plots(path, crs=25832)
    assert report.ok, report.messages
    assert report.usable.loc[0, "name"] == "Königsallee Süd"
    assert report.usable.loc[0, "area_m2"] == 3200.0
    assert any("cp1252" in n for n in report.notes)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_unicode_encodings(encoding, tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(
        "plot_id;Name;flaeche;lon;lat\nA;Düsseltal;1.500;6,7950;51,2390\n".encode(encoding)
    )
    plots = read_plots(path)
    assert plots.columns[0] == "plot_id"
    assert plots.loc[0, "name"] == "Düsseltal"
    assert plots.loc[0, "area_m2"] == 1500.0
    assert plots.loc[0, "is_point"]


def test_semicolon_csv_with_decimal_commas(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text(
        "ID;Rechtswert;Hochwert;Fläche (m²);Bodenwert €/m²;PLZ\n"
        "7;344.100,5;5.679.100,25;1.234,5;12,50;04103\n"
        "8;344200;5679200;2.500;180;40210\n",
        encoding="utf-8",
    )
    plots = read_plots(path, crs="EPSG:25832")
    assert plots["plot_id"].tolist() == ["7", "8"]
    assert plots["area_m2"].tolist() == [1234.5, 2500.0]
    assert plots["Bodenwert €/m²"].tolist() == [12.5, 180.0]
    assert plots["PLZ"].tolist() == ["04103", "40210"]  # leading zero: stays text
    assert plots.geometry.x.tolist() == pytest.approx([344100.5, 344200.0])
    assert plots.geometry.y.tolist() == pytest.approx([5679100.25, 5679200.0])


def test_xlsx_with_rechtswert_hochwert_infers_25832_loudly(tmp_path, caplog):
    path = tmp_path / "liste.xlsx"
    pd.DataFrame(
        {
            "Nr": ["A1", "A2"],
            "Rechtswert": [344100.0, 344250.0],
            "Hochwert": [5679100.0, 5679300.0],
            "Grundstücksfläche": [3200, "4.100,5"],
        }
    ).to_excel(path, index=False)
    with caplog.at_level(logging.WARNING):
        report = check_plots(path, id_col="Nr")
    assert report.ok, report.messages
    assert report.usable["area_m2"].tolist() == [3200.0, 4100.5]
    assert report.usable["is_point"].all()
    assert "fits only EPSG:25832" in caplog.text
    assert any("EPSG:25832" in n for n in report.notes)


@pytest.mark.parametrize(
    ("x", "epsg"),
    [(344_100.0, 25832), (32_344_100.0, 4647), (2_557_000.0, 31466)],
)
def test_xy_window_inference(x, epsg, tmp_path):
    path = tmp_path / "xy.csv"
    path.write_text(f"plot_id,x,y,area_m2\nA,{x},5679100,3000\n", encoding="utf-8")
    plots = read_plots(path)
    assert plots.attrs["source_crs"] == f"EPSG:{epsg}"
    assert not plots.geometry.is_empty.any()


def test_xy_outside_every_window_needs_crs(tmp_path):
    path = tmp_path / "xy.csv"
    path.write_text("plot_id,x,y,area_m2\nA,760000,5680000,3000\n", encoding="utf-8")
    with pytest.raises(NoCrsError, match="does not identify one"):
        read_plots(path)


def test_point_listing_with_area_is_kept_as_points(plots_gdf, tmp_path):
    pts = plots_gdf.geometry.centroid.to_crs(4326)
    path = tmp_path / "points.csv"
    pd.DataFrame(
        {"plot_id": plots_gdf["plot_id"], "Lat": pts.y, "Lon": pts.x, "area_m2": [3000, 4550, 3600]}
    ).to_csv(path, index=False)
    plots = read_plots(path)
    assert plots["is_point"].all()
    assert (plots.geom_type == "Point").all()
    assert plots["area_m2"].tolist() == [3000.0, 4550.0, 3600.0]
    assert plots.attrs["source_crs"] == "EPSG:4326"
    np.testing.assert_allclose(
        np.c_[plots.geometry.x, plots.geometry.y],
        np.c_[plots_gdf.centroid.x, plots_gdf.centroid.y],
        atol=1e-3,
    )


def test_point_listing_with_explicit_area_column(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("id,lon,lat,Groesse_qm\nA,6.79,51.24,3100\n", encoding="utf-8")
    with pytest.raises(MissingColumnError):
        read_plots(path)
    plots = read_plots(path, area_col="Groesse_qm")
    assert plots.loc[0, "area_m2"] == 3100.0


def test_unknown_id_and_area_columns_are_reported(plots_gdf, tmp_path):
    path = tmp_path / "p.gpkg"
    plots_gdf.to_file(path)
    with pytest.raises(MissingColumnError) as info:  # one kind of problem: specific error
        read_plots(path, id_col="Nummer", area_col="Fläche")
    assert len(info.value.problems) == 2
    text = str(info.value)
    assert "no id column 'Nummer'" in text
    assert "no area column 'Fläche'" in text
    assert "plot_id, name, zoning" in text


def test_stated_area_is_kept_and_compared(plots_gdf, tmp_path):
    path = tmp_path / "p.gpkg"
    plots_gdf.assign(area_m2=[3000.0, 9999.0, 3600.0]).to_file(path)
    report = check_plots(path)
    assert report.ok
    assert report.usable["area_m2"].tolist() == pytest.approx([3000.0, 4550.0, 3600.0])
    assert report.usable["area_stated_m2"].tolist() == [3000.0, 9999.0, 3600.0]
    assert any("differs by more than 5 %" in n for n in report.notes)


def test_missing_file():
    with pytest.raises(HandwerkgeoError, match="does not exist"):
        read_plots("/nonexistent/plots.gpkg")


def test_wkt_that_cannot_be_read(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        'plot_id,wkt\nA,"POLYGON ((344000 5679000, 344050 5679000, 344050 5679050, '
        '344000 5679000))"\nB,"POLYGON ((1 2, 3"\n',
        encoding="utf-8",
    )
    report = check_plots(path, crs=25832)
    assert report.rejects["row"].tolist() == [3]  # spreadsheet line: header is line 1
    assert "cannot be read" in report.rejects.loc[0, "reason"]
    assert report.usable["plot_id"].tolist() == ["A"]


# --- CLI -----------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_ok_exit_0(plots_gdf, tmp_path):
    path = tmp_path / "ok.gpkg"
    plots_gdf.to_file(path)
    result = runner.invoke(app, ["plots", "check", str(path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "3 usable, 0 rejected" in result.output
    assert "OK" in result.output


def test_cli_problems_exit_1_with_rows_and_fixes(plots_gdf, tmp_path):
    path = _duplicate_ids(plots_gdf, tmp_path)
    result = runner.invoke(app, ["plots", "check", str(path), "--lang", "en"])
    assert result.exit_code == 1
    assert "row 1 (plot_id 'P1')" in result.output
    assert "row 2 (plot_id 'P1')" in result.output
    assert "→ give each plot a unique plot_id" in result.output
    assert "1 usable, 2 rejected" in result.output
    german = runner.invoke(app, ["plots", "check", str(path)])
    assert "Zeile 1 (Flächen-ID 'P1'): Flächen-ID 'P1' kommt 2-mal vor" in german.output
    assert "1 verwendbar, 2 abgelehnt" in german.output


def test_cli_crs_option_and_file_level_problem(plots_gdf, tmp_path):
    path = _no_prj(plots_gdf, tmp_path)
    result = runner.invoke(app, ["plots", "check", str(path)])
    assert result.exit_code == 1
    assert "PROBLEM" in result.output and "--crs 25832" in result.output
    result = runner.invoke(app, ["plots", "check", str(path), "--crs", "25832"])
    assert result.exit_code == 0, result.output


def test_cli_id_and_area_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Nr;lon;lat;Groesse\nA;6,79;51,24;3100\n", encoding="utf-8")
    result = runner.invoke(
        app, ["plots", "check", str(path), "--id-col", "Nr", "--area-col", "Groesse"]
    )
    assert result.exit_code == 0, result.output


def test_cli_missing_file():
    result = runner.invoke(app, ["plots", "check", "/nonexistent/x.gpkg"])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_point_geometry_in_gis_file(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"plot_id": ["A"], "flaeche": [2800.0]},
        geometry=[Point(X0, Y0)],
        crs=25832,
    )
    path = tmp_path / "pts.gpkg"
    gdf.to_file(path)
    plots = read_plots(path)
    assert plots.loc[0, "is_point"]
    assert plots.loc[0, "area_m2"] == 2800.0


def test_reader_options_object_and_keywords_agree(tmp_path):
    from handwerkgeo.sources.plots import PlotOptionError, PlotReaderOptions

    path = tmp_path / "p.csv"
    path.write_text("Nr;Rechtswert;Hochwert;Fläche\nA;344500;5679500;3.200,5\n", encoding="utf-8")
    opts = PlotReaderOptions(crs=25832, id_col="Nr")
    by_options = read_plots(path, opts)
    by_keywords = read_plots(path, crs=25832, id_col="Nr")
    assert by_options.equals(by_keywords)
    assert read_plots(path, opts, sep=";").equals(by_keywords)  # keywords override
    assert check_plots(path, opts).ok
    with pytest.raises(TypeError, match="colour"):
        read_plots(path, opts, colour="red")
    with pytest.raises(HandwerkgeoError, match="crs="):
        read_plots(path, 25832)  # a CRS passed positionally
    with pytest.raises(PlotOptionError):
        check_plots(path, idcol="Nr")
    with pytest.raises(ValueError, match="on_invalid"):
        PlotReaderOptions(on_invalid="drop")
