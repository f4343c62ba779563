"""``handwerkgeo score`` outputs at any size: GeoParquet, cut workbooks, full CSV."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_export_maps import make_scored
from typer.testing import CliRunner

from handwerkgeo.cli import app
from handwerkgeo.errors import MissingColumnError, OutputPathError
from handwerkgeo.export.geoparquet import write_geoparquet


def _plots(tmp_path: Path) -> Path:
    src = resources.files("handwerkgeo") / "data" / "example_plots.geojson"
    path = tmp_path / "in" / "angebote.geojson"
    path.parent.mkdir()
    path.write_bytes(src.read_bytes())
    return path


def _score(tmp_path: Path, out: Path, *extra: str) -> None:
    args = ["score", str(_plots(tmp_path)), "--out", str(out)]
    args += ["--data-dir", str(tmp_path / "d"), "--no-network", *extra]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output


def test_score_writes_geoparquet_that_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "out" / "bewertung.parquet"
    _score(tmp_path, out)
    frame = gpd.read_parquet(out)
    assert len(frame) == 13 and frame.crs.to_epsg() == 25832
    assert {"plot_id", "score_total", "rank", "coverage"} <= set(frame.columns)
    assert frame.attrs["run"]["config_hash"]  # the run travels with the file
    geo = json.loads(pq.read_schema(out).metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    assert geo["version"].startswith("1.")
    # the tables beside it: every plot in the CSV, the workbook names the GeoParquet
    table = pd.read_csv(out.with_suffix(".csv"), sep=";", decimal=",", encoding="utf-8-sig")
    assert len(table) == 13
    assert openpyxl.load_workbook(out.with_suffix(".xlsx")).sheetnames[0] == "Rangfolge"
    assert not (tmp_path / "out" / "bewertung.gpkg").exists()


def test_score_cuts_the_workbook_and_names_the_full_tables(tmp_path: Path) -> None:
    out = tmp_path / "s.gpkg"
    _score(tmp_path, out, "--xlsx-max-rows", "5", "--lang", "en")
    wb = openpyxl.load_workbook(out.with_suffix(".xlsx"))
    assert wb.sheetnames == ["Note", "Ranking", "Criteria", "Configuration and sources"]
    note = wb["Note"]["A2"].value
    assert "the best 5 of 13 plots" in note and "s.csv, s.gpkg" in note
    assert wb["Ranking"].max_row == 6 and wb["Criteria"].max_row == 6
    csv = pd.read_csv(out.with_suffix(".csv"), sep=";", decimal=",", encoding="utf-8-sig")
    assert len(csv) == 13 and csv.columns[0] == "Rank"  # German Excel CSV, English headers
    assert len(gpd.read_file(out, layer="scores")) == 13


def test_cli_default_is_the_tables_default() -> None:
    from handwerkgeo.cli import score
    from handwerkgeo.export import tables

    assert score.XLSX_MAX_ROWS == tables.XLSX_MAX_ROWS == 10_000


def test_write_geoparquet_keeps_the_frame_and_refuses_bad_calls(tmp_path: Path) -> None:
    scored = make_scored(7)
    scored.attrs["run"]["when"] = pd.Timestamp("2026-12-06")  # not JSON: kept as text
    before = scored.copy()
    path = write_geoparquet(scored, tmp_path / "s.parquet")
    back = gpd.read_parquet(path)
    pd.testing.assert_index_equal(back.index, scored.index)
    assert back["rank"].tolist() == scored["rank"].tolist()
    assert back.geometry.equals(scored.geometry)
    assert back.attrs["run"]["when"] == "2026-12-06 00:00:00"
    pd.testing.assert_frame_equal(pd.DataFrame(scored), pd.DataFrame(before))
    with pytest.raises(OutputPathError, match=r"\.parquet"):
        write_geoparquet(scored, tmp_path / "s.gpkg")
    with pytest.raises(MissingColumnError, match="geometry"):
        write_geoparquet(pd.DataFrame({"a": [1]}), tmp_path / "x.parquet")  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.parquet"]  # no leftovers


def test_duckdb_reads_the_geoparquet(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = write_geoparquet(make_scored(5), tmp_path / "s.parquet")
    rows = duckdb.sql(
        f"SELECT plot_id, rank FROM read_parquet('{path}') WHERE rank IS NOT NULL ORDER BY rank"
    ).fetchall()
    assert rows[0] == ("P000", 1)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin not installed")
def test_gdal_reads_the_geoparquet_where_it_can(tmp_path: Path) -> None:
    import subprocess

    formats = subprocess.run(["ogrinfo", "--formats"], capture_output=True, text=True).stdout
    if "Parquet" not in formats:
        pytest.skip("this GDAL has no (Geo)Parquet driver (Debian's GDAL 3.6 has none)")
    path = write_geoparquet(make_scored(5), tmp_path / "s.parquet")
    res = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "Feature Count: 5" in res.stdout
