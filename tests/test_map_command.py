"""``handwerkgeo map`` on a site register, and the register's ``--map`` on the same path.

A register after two runs, holding polygon and point plots: the map command draws the
latest run (or ``--run ID``) with the council outputs of a scored file; bad input (not a
register, unknown run) is one clear line and exit code 1.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from handwerkgeo.cli import app

pytestmark = pytest.mark.mirror


def _listing() -> gpd.GeoDataFrame:
    """Five rectangles and one point plot (with its area) in Düsseldorf-Lierenfeld."""
    geoms: list[Any] = [
        box(350_000 + i * 200, 5_680_000, 350_000 + i * 200 + 50 + 10 * i, 5_680_060)
        for i in range(5)
    ]
    geoms.append(Point(351_500, 5_680_030))
    g = gpd.GeoDataFrame(
        {
            "plot_id": [f"p{i}" for i in range(6)],
            "name": [f"Fläche {i}" for i in range(6)],
            "zoning": ["GE", "MI", "WA", "GE", "MU", "GI"],
        },
        geometry=geoms,
        crs="EPSG:25832",
    )
    g["area_m2"] = g.geometry.area.where(g.geometry.geom_type == "Polygon", 3_000.0)
    return g


def _payload(html: Path) -> dict[str, Any]:
    """The map's embedded data document (plain JSON or deflate + base64)."""
    text = html.read_text(encoding="utf-8")
    m = re.search(r'<script [^>]*id="hwg-data" data-encoding="([^"]+)"[^>]*>(.*?)</script>', text)
    assert m is not None
    enc, body = m.groups()
    if enc == "deflate-base64":
        body = zlib.decompress(base64.b64decode(body)).decode("utf-8")
    return json.loads(body)


@pytest.fixture(scope="module")
def register(fetched_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A register after two runs (4 plots, then all 6); the second run with --map."""
    folder = tmp_path_factory.mktemp("register_map")
    listing = _listing()
    first, second = folder / "angebote_1.gpkg", folder / "angebote_2.gpkg"
    listing.iloc[:4].to_file(first)
    listing.to_file(second)
    reg = folder / "standorte.gpkg"
    base = ["register", "add", "--register", str(reg), "--data-dir", str(fetched_data_dir)]
    runner = CliRunner()
    res1 = runner.invoke(app, [*base[:2], str(first), *base[2:]])
    assert res1.exit_code == 0, res1.output
    res2 = runner.invoke(app, [*base[:2], str(second), *base[2:], "--map"])
    assert res2.exit_code == 0, res2.output
    runs = re.findall(r"run (\S+) \(add\)", res1.output + res2.output)
    map_line = re.search(r"map: (\S+)", res2.output)
    assert len(runs) == 2 and map_line is not None
    return {"reg": reg, "runs": runs, "data": fetched_data_dir, "run_map": Path(map_line[1])}


def test_map_of_a_register_writes_the_council_outputs(register: dict, tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    args = ["map", str(register["reg"]), "--out", str(out), "--xlsx", str(tmp_path / "x.xlsx")]
    args += ["--profiles", str(tmp_path / "steckbriefe"), "--png", str(tmp_path / "x.png")]
    res = CliRunner().invoke(app, [*args, "--data-dir", str(register["data"])])
    assert res.exit_code == 0, res.output
    for name in ("x.html", "x.xlsx", "x.png", "steckbriefe/index.html"):
        assert (tmp_path / name).is_file(), name
    payload = _payload(out)
    # the latest run: all six plots, polygons and the point plot drawn
    assert sorted(payload["id"]) == [f"p{i}" for i in range(6)]
    assert all(g is not None for g in payload["geom"])
    # context: Stadtteile with names, and the sources of the drawn layers
    assert len(payload["ctx"]["stadtteile"]["name"]) > 40
    assert any("Düsseldorf" in a for a in payload["attributions"])
    # the offline base map beneath: whole-city main roads and Bezirke, OSM attributed
    assert len(payload["base"]["streets"]["main"]) > 1000
    assert len(payload["base"]["bezirke"]["name"]) == 10
    assert any("OpenStreetMap" in a for a in payload["attributions"])
    assert "tile.openstreetmap.org" not in out.read_text(encoding="utf-8")
    # criteria labelled from the run's own configuration, with weights
    assert payload["crit"] and all(c["w"] is not None for c in payload["crit"])
    ranking = pd.read_excel(tmp_path / "x.xlsx", sheet_name=0)
    assert len(ranking) == 6


def test_map_of_an_earlier_run(register: dict, tmp_path: Path) -> None:
    out = tmp_path / "erster.html"
    args = ["map", str(register["reg"]), "--run", register["runs"][0], "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--no-context", "--lang", "en"])
    assert res.exit_code == 0, res.output
    payload = _payload(out)
    assert sorted(payload["id"]) == ["p0", "p1", "p2", "p3"]
    assert payload["lang"] == "en"


def test_register_map_uses_the_same_export_path(register: dict) -> None:
    """``register add --map`` writes the map with Stadtteile and their sources, too."""
    payload = _payload(register["run_map"])
    assert sorted(payload["id"]) == [f"p{i}" for i in range(6)]
    assert len(payload["ctx"]["stadtteile"]["name"]) > 40
    assert len(payload["base"]["streets"]["main"]) > 1000
    assert any("Düsseldorf" in a for a in payload["attributions"])


def test_print_figure_paper_and_tiles_from_the_command_line(register: dict, tmp_path: Path) -> None:
    """``--paper A3 --orientation portrait`` sizes the PDF; ``--tiles osm`` adds tiles."""
    pdf, out = tmp_path / "a3.pdf", tmp_path / "t.html"
    args = ["map", str(register["reg"]), "--out", str(out), "--pdf", str(pdf), "--tiles", "osm"]
    args += ["--paper", "A3", "--orientation", "portrait", "--data-dir", str(register["data"])]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    box_ = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert box_ is not None
    # A3 portrait: 297 mm x 420 mm = 841.9 pt x 1190.6 pt
    assert abs(float(box_[1]) - 841.9) < 2 and abs(float(box_[2]) - 1190.6) < 2
    assert "tile.openstreetmap.org" in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, [*args[:4], "--paper", "A5"])
    assert bad.exit_code == 2


def test_register_export_as_geoparquet_and_geopackage(register: dict, tmp_path: Path) -> None:
    """``register export``: the latest run's ranking with geometry for DuckDB/BI (GeoParquet)
    and QGIS (styled GeoPackage); ``--run`` an earlier run."""
    import json
    import sqlite3

    import pyarrow.parquet as pq

    runner = CliRunner()
    out = tmp_path / "ranking.parquet"
    res = runner.invoke(app, ["register", "export", "--register", str(register["reg"]),
                              "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    latest = gpd.read_parquet(out)
    assert sorted(latest["plot_id"]) == [f"p{i}" for i in range(6)]
    assert latest.crs.to_epsg() == 25832 and latest["rank"].notna().any()
    assert json.loads(pq.read_schema(out).metadata[b"geo"])["primary_column"] == "geometry"
    gpkg = tmp_path / "erster.gpkg"
    args = ["register", "export", "--register", str(register["reg"]), "--out", str(gpkg)]
    res = runner.invoke(app, [*args, "--run", register["runs"][0]])
    assert res.exit_code == 0, res.output
    first = gpd.read_file(gpkg, layer="scores")
    assert sorted(first["plot_id"]) == ["p0", "p1", "p2", "p3"]
    with sqlite3.connect(gpkg) as con:
        assert con.execute("SELECT count(*) FROM layer_styles WHERE useAsDefault").fetchone()[0]
    bad = runner.invoke(app, [*args[:4], "--out", str(tmp_path / "x.shp")])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_bad_map_input_is_one_clear_line(register: dict, tmp_path: Path) -> None:
    runner = CliRunner()
    out = ["--out", str(tmp_path / "k.html")]
    res = runner.invoke(app, ["map", str(register["reg"]), "--run", "20990101T000000Z-0", *out])
    assert res.exit_code == 1
    assert "20990101T000000Z-0" in res.output and register["runs"][1] in res.output
    assert "Traceback" not in res.output
    plots = tmp_path / "angebote.gpkg"
    _listing().to_file(plots)
    res = runner.invoke(app, ["map", str(plots), *out])
    assert res.exit_code == 1
    assert "neither a scored GeoPackage" in res.output and "site register" in res.output
    res = runner.invoke(app, ["map", str(plots), "--run", register["runs"][0], *out])
    assert res.exit_code == 1 and "not a site register" in res.output
    junk = tmp_path / "kaputt.gpkg"
    junk.write_text("not a geopackage", encoding="utf-8")
    res = runner.invoke(app, ["map", str(junk), *out])
    assert res.exit_code == 1 and "kaputt.gpkg" in res.output
    res = runner.invoke(app, ["map", str(tmp_path / "fehlt.gpkg"), *out])
    assert res.exit_code == 1 and "file not found" in res.output
    assert not (tmp_path / "k.html").exists()
