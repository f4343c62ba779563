"""GeoPackages open styled in QGIS and silently in Debian's GDAL (issue #14, items 1 and 2).

Every GeoPackage the project writes outside the register (``score`` with its rejects
layer, ``write_scored``, ``search``) is version 1.2 and carries a default QGIS style per
spatial layer in ``layer_styles``. Debian's ``ogrinfo`` (GDAL 3.6) must open each without a
warning; Debian's QGIS (``python3-qgis``, run as a subprocess with Debian's python3) must
load each spatial layer with its graduated renderer, German aliases and map tip, and
render it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from handwerkgeo._colours import CLASS_COLOURS, COLOUR_EXCLUDED, COLOUR_NO_DATA
from handwerkgeo._gpkg import GPKG_VERSION, add_styles, gpkg_version, write_layer
from handwerkgeo._qgis_style import layer_styles
from handwerkgeo.export._labels import class_index

HERE = Path(__file__).parent
OGRINFO = "/usr/bin/ogrinfo"
DEBIAN_PYTHON = "/usr/bin/python3"

#: ``layer_styles`` as QGIS 3.22 created it in a GeoPackage (saveStyleToDatabase, GDAL 3.6)
QGIS_LAYER_STYLES = (
    'CREATE TABLE "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)


def _qgis_available() -> bool:
    if not Path(DEBIAN_PYTHON).exists():
        return False
    res = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False
    )
    return res.returncode == 0


needs_qgis = pytest.mark.skipif(
    not _qgis_available(), reason="Debian's QGIS bindings (python3-qgis) are not installed"
)
needs_ogrinfo = pytest.mark.skipif(
    not Path(OGRINFO).exists(), reason="Debian's ogrinfo (gdal-bin) is not installed"
)


def _load_in_qgis(path: Path, *layers: str, png: Path | None = None) -> dict:
    """Load layers with Debian's QGIS (offscreen) and describe them (tests/qgis)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(path.parent)}
    args = [DEBIAN_PYTHON, str(HERE / "qgis" / "load_styled.py"), str(path), *layers]
    if png is not None:
        args += ["--png", str(png)]
    res = subprocess.run(args, capture_output=True, text=True, env=env, check=False, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def _spatial_tables(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
        return dict(rows.fetchall())


def _check_styled(path: Path, fields: dict[str, str], lang: str = "de") -> None:
    """A default style per spatial layer whose QML parses and names the layer's score field,
    with an SLD that parses, and a GeoPackage 1.2 that ogrinfo opens without a warning."""
    assert gpkg_version(path) == GPKG_VERSION == "1.2"
    spatial = _spatial_tables(path)
    assert set(fields) == set(spatial), spatial
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, styleSLD FROM layer_styles "
            "WHERE useAsDefault AND f_table_schema = ''"
        ).fetchall()
        count = con.execute(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'"
        ).fetchone()[0]
        assert count == con.execute("SELECT count(*) FROM layer_styles").fetchone()[0]
    by_table = {r[0]: r for r in rows}
    assert set(by_table) == set(spatial)  # one default style per spatial layer
    for table, field in fields.items():
        _, geom_col, qml, sld = by_table[table]
        assert geom_col == spatial[table]
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        renderer = root.find("renderer-v2")
        assert renderer is not None and renderer.get("type") == "graduatedSymbol"
        assert f'"{field}"' in renderer.get("attr", "")
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        german = {"Gesamtpunktzahl", "Mittlere Punktzahl"}
        english = {"Total score", "Mean score"}
        assert aliases[field] in (german if lang == "de" else english)
        assert ("Punkte" if lang == "de" else "points") in (root.findtext("mapTip") or "")
        assert ET.fromstring(sld.split("\n", 1)[1]).tag.endswith("StyledLayerDescriptor")
    if Path(OGRINFO).exists():
        res = subprocess.run(
            [OGRINFO, "-al", "-so", str(path)], capture_output=True, text=True, check=False
        )
        assert res.returncode == 0
        assert res.stderr == "", res.stderr
        assert "partially supported" not in res.stdout + res.stderr


# --- the layer_styles table, without data ------------------------------------------------------


def _frame() -> gpd.GeoDataFrame:
    """Scores on and around every class break, an excluded plot and one without data."""
    scores = [0.0, 19.99, 20.0, 39.9, 40.0, 60.0, 79.99, 80.0, 100.0, np.nan, 55.0]
    excluded = [False] * 10 + [True]
    return gpd.GeoDataFrame(
        {
            "plot_id": [f"P{i:02d}" for i in range(len(scores))],
            "name": ["Hafen 'Süd' <A&B>"] + [None] * (len(scores) - 1),
            "score_total": scores,
            "rank": pd.array(range(1, len(scores) + 1), dtype="Int64"),
            "excluded": excluded,
            "exclusion_reason": [""] * 10 + ["Gebietsart WA ausgeschlossen"],
            "coverage": [0.85] * len(scores),
            "raw_transit": [224.0] * len(scores),
            "u_transit": [0.5] * len(scores),
            "contrib_transit": [5.7] * len(scores),
        },
        geometry=[box(i * 100, 0, i * 100 + 80, 80) for i in range(len(scores))],
        crs="EPSG:25832",
    )


CRITERIA = {"transit": {"label_de": "ÖPNV-Anbindung", "label_en": "Public transport", "unit": "m"}}


def test_layer_styles_table_is_the_one_qgis_creates(tmp_path: Path) -> None:
    path = tmp_path / "s.gpkg"
    frame = _frame()
    write_layer(frame, path, "scores")
    assert add_styles(path, layer_styles(frame, "scores", criteria=CRITERIA)) == 2
    assert add_styles(path, layer_styles(frame, "scores", criteria=CRITERIA, lang="en")) == 2
    with sqlite3.connect(path) as con:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'layer_styles'").fetchone()
        contents = con.execute(
            "SELECT data_type, identifier, srs_id FROM gpkg_contents "
            "WHERE table_name = 'layer_styles'"
        ).fetchone()
        rows = con.execute(
            "SELECT styleName, useAsDefault, f_geometry_column FROM layer_styles ORDER BY id"
        ).fetchall()
        triggers = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
            "'layer_styles'"
        ).fetchone()[0]
    assert sql[0] == QGIS_LAYER_STYLES
    assert contents == ("attributes", "layer_styles", 0)
    assert triggers == 2  # OGR's feature count kept right, as for a table GDAL created
    # written twice: the second replaces the first, English is now the default
    assert sorted(rows) == [("handwerkgeo", 0, "geom"), ("handwerkgeo (en)", 1, "geom")]
    _check_styled(path, {"scores": "score_total"}, lang="en")


def test_styles_join_the_callers_transaction(tmp_path: Path) -> None:
    path = tmp_path / "s.gpkg"
    write_layer(_frame(), path, "scores")
    con = sqlite3.connect(path)
    try:
        add_styles(con, layer_styles(_frame(), "scores"))
        con.rollback()  # the caller's transaction fails: no table, no row, no contents entry
        assert not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'").fetchone()
        assert not con.execute(
            "SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
        add_styles(con, layer_styles(_frame(), "scores"))
        con.commit()
    finally:
        con.close()
    _check_styled(path, {"scores": "score_total"})


def test_plot_layers_without_score_get_a_single_symbol(tmp_path: Path) -> None:
    plots = gpd.GeoDataFrame(
        {"plot_id": ["A", "B"], "plot_version": [1, 2], "active": [True, False]},
        geometry=[Point(0, 0), Point(5, 5)],
        crs="EPSG:25832",
    )
    (style, english) = layer_styles(plots, "plot_points")
    root = ET.fromstring(style.qml.split("\n", 1)[1])
    assert root.find("renderer-v2").get("type") == "singleSymbol"
    assert root.find(".//symbol").get("type") == "marker"
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases == {
        "plot_id": "Flächen-ID",
        "plot_version": "Version der Fläche",
        "active": "Aktuell",
    }
    assert root.findtext("layerGeometryType") == "0"
    assert not english.default and "Plot ID" in english.qml
    # an empty layer (the register's at creation) needs its geometry named
    empty = plots.iloc[:0]
    (polygons, _) = layer_styles(empty, "plots", geometry="polygon")
    assert 'type="fill"' in polygons.qml


@needs_qgis
def test_qgis_classes_each_score_as_the_maps_do(tmp_path: Path) -> None:
    path = tmp_path / "classes.gpkg"
    frame = _frame()
    write_layer(frame, path, "scores")
    add_styles(path, layer_styles(frame, "scores", criteria=CRITERIA))
    info = _load_in_qgis(path, "scores")["scores"]
    assert info["valid"] and info["renderer"] == "graduatedSymbol"
    idx = class_index(frame["score_total"])
    expected = {
        pid: COLOUR_EXCLUDED if ex else COLOUR_NO_DATA if k < 0 else CLASS_COLOURS[k]
        for pid, ex, k in zip(frame["plot_id"], frame["excluded"], idx, strict=True)
    }
    assert info["feature_colours"] == expected
    labels = [c[0] for c in info["classes"]]
    assert labels == ["80–100", "60–80", "40–60", "20–40", "0–20", "ausgeschlossen", "keine Daten"]
    assert info["sld_rules"] == labels  # the SLD loads into QGIS as the same classes
    assert info["aliases"]["raw_transit"] == "ÖPNV-Anbindung: Wert (m)"
    tip = info["map_tip_first"]  # the name is quoted and escaped safely
    assert (
        "Hafen 'Süd' &lt;A&amp;B&gt; (P00)" in tip
        and "Rang 1" in tip
        and "224 m" in tip
        and "Punkte" in tip
    )


# --- what the commands write, on the real data ---------------------------------------------------


@pytest.fixture(scope="module")
def score_out(fetched_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``handwerkgeo score`` on the example plots plus a row outside the city (rejected)."""
    from handwerkgeo.cli.demo import EXAMPLE_PLOTS

    d = tmp_path_factory.mktemp("score")
    plots = gpd.read_file(Path(str(EXAMPLE_PLOTS)))
    outside = plots.iloc[[0]].to_crs("EPSG:25832").copy()
    outside["plot_id"] = "NEUSS-1"
    outside["geometry"] = [box(336_450, 5_672_950, 336_550, 5_673_050)]
    both = pd.concat([plots.to_crs("EPSG:25832"), outside], ignore_index=True)
    src = d / "flaechen.gpkg"
    both.to_file(src, layer="flaechen", engine="pyogrio")
    out = d / "bewertung.gpkg"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "handwerkgeo",
            "score",
            str(src),
            "--out",
            str(out),
            "--data-dir",
            str(fetched_data_dir),
            "--no-network",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 3, res.stderr  # scored, one row rejected
    return out


@pytest.fixture(scope="module")
def search_out(duesseldorf_context, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from handwerkgeo.cli.search import write_search
    from handwerkgeo.search import site_search

    result = site_search(context=duesseldorf_context, stadtteil="Flingern Sued", cell_m=100)
    return write_search(result, tmp_path_factory.mktemp("search") / "suche.gpkg")


@pytest.mark.mirror
def test_score_output_is_styled_and_silent_in_gdal_36(score_out: Path) -> None:
    with sqlite3.connect(score_out) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    assert {"scores", "run_metadata", "abgelehnt", "layer_styles"} <= tables
    _check_styled(score_out, {"scores": "score_total"})


@pytest.mark.mirror
def test_search_output_is_styled_and_silent_in_gdal_36(search_out: Path) -> None:
    _check_styled(
        search_out, {"scores": "score_total", "sites": "score_mean", "search_areas": "score_mean"}
    )


@pytest.mark.mirror
@needs_qgis
def test_qgis_loads_the_written_layers_styled(
    score_out: Path, search_out: Path, tmp_path: Path
) -> None:
    scored = _load_in_qgis(score_out, "scores")["scores"]
    png = tmp_path / "suche.png"
    search = _load_in_qgis(search_out, "scores", "sites", png=png)
    for info in (scored, search["scores"], search["sites"]):
        assert info["valid"] and info["renderer"] == "graduatedSymbol"
        assert info["map_tip"] and "Punkte" in info["map_tip_first"]
    assert scored["aliases"]["score_total"] == "Gesamtpunktzahl"
    assert scored["aliases"]["plot_id"] == "Flächen-ID"
    assert scored["feature_colours"]["EX-12"] == COLOUR_EXCLUDED  # the residential plot
    assert search["sites"]["aliases"]["score_mean"] == "Mittlere Punktzahl"
    # the rendered surface shows several classes of the scale
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    shown = {"#{:02x}{:02x}{:02x}".format(*p) for p in np.unique(pixels, axis=0)}
    assert len(shown & set(CLASS_COLOURS)) >= 2, shown & set(CLASS_COLOURS)


def test_a_city_wide_grid_is_drawn_with_hairlines() -> None:
    """A 100 m grid over the city (tens of thousands of cells) would be black with the
    plots' 0.26 mm outlines at city scale: its cells get faint hairlines instead."""
    n = 5001
    cells = gpd.GeoDataFrame(
        {"score_total": np.linspace(0, 100, n)},
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(n)],
        crs="EPSG:25832",
    )
    (grid, _) = layer_styles(cells, "scores")
    (plots, _) = layer_styles(cells.iloc[:13], "scores")
    assert '<prop k="outline_width" v="0" />' in grid.qml
    assert '<prop k="outline_width" v="0.26" />' in plots.qml
    assert '<prop k="outline_width" v="0" />' not in plots.qml


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    from handwerkgeo.errors import ParameterError
    from handwerkgeo.scoring import write_scored

    with pytest.raises(ParameterError, match=r"'fr'.*de, en"):
        layer_styles(_frame(), "scores", lang="fr")
    with pytest.raises(ParameterError):
        write_scored(_frame(), tmp_path / "s.gpkg", lang="fr")
    assert not (tmp_path / "s.gpkg").exists()  # nothing half-written


@needs_qgis
def test_a_spatial_view_styled_in_the_writers_transaction(tmp_path: Path) -> None:
    """What the register does with its latest ranking: a view over plots and scores,
    registered as a feature layer, styled inside the same sqlite3 transaction."""
    path = tmp_path / "register.gpkg"
    frame = _frame()
    plots = frame[["plot_id", "name", "geometry"]]
    write_layer(plots, path, "plots", geometry_type="MultiPolygon", promote_to_multi=True)
    write_layer(pd.DataFrame(frame.drop(columns=["geometry", "name"])), path, "scores")
    ranking = frame.drop(columns="geometry").iloc[:0]  # the view's columns, no rows needed
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE VIEW ranking AS SELECT p.fid AS fid, p.geom AS geom, p.plot_id, p.name, "
            "s.score_total, s.rank, s.excluded, s.exclusion_reason, s.coverage, s.raw_transit, "
            "s.u_transit, s.contrib_transit FROM plots p JOIN scores s USING (plot_id)"
        )
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
            "VALUES ('ranking', 'features', 'ranking', 25832)"
        )
        con.execute(
            "INSERT INTO gpkg_geometry_columns VALUES ('ranking', 'geom', 'MULTIPOLYGON', "
            "25832, 0, 0)"
        )
        styles = [
            *layer_styles(plots.iloc[:0], "plots", geometry="polygon"),
            *layer_styles(ranking, "ranking", geometry="polygon", criteria=CRITERIA),
        ]
        add_styles(con, styles)
        con.commit()
    finally:
        con.close()
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column FROM layer_styles WHERE useAsDefault"
        ).fetchall()
    assert sorted(rows) == [("plots", "geom"), ("ranking", "geom")]
    if Path(OGRINFO).exists():
        res = subprocess.run([OGRINFO, "-al", "-so", str(path)], capture_output=True, text=True)
        assert res.returncode == 0 and res.stderr == "", res.stderr
    info = _load_in_qgis(path, "ranking", "plots")
    assert info["ranking"]["valid"] and info["ranking"]["renderer"] == "graduatedSymbol"
    assert info["ranking"]["features"] == len(frame)
    assert info["ranking"]["aliases"]["score_total"] == "Gesamtpunktzahl"
    assert info["plots"]["renderer"] == "singleSymbol"
    assert info["plots"]["aliases"]["plot_id"] == "Flächen-ID"


@pytest.mark.mirror
def test_the_register_is_styled_in_its_own_transaction(
    fetched_data_dir: Path, tmp_path: Path
) -> None:
    """``register add``: every spatial layer of the register (plots, plot_points and the
    ranking views) has a default style; the views are classed on the score and name the
    run's criteria in German; GDAL 3.6 is silent and QGIS loads the ranking graduated."""
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    listing = gpd.GeoDataFrame(
        {"plot_id": ["A", "B", "C"], "area_m2": [4800.0, 7000.0, 6000.0]},
        geometry=[
            box(344_000, 5_675_000, 344_080, 5_675_060),
            box(346_500, 5_678_000, 346_600, 5_678_070),
            Point(345_200, 5_676_400),
        ],
        crs="EPSG:25832",
    )
    src, reg = tmp_path / "angebote.gpkg", tmp_path / "standorte.gpkg"
    listing.to_file(src)
    args = ["register", "add", str(src), "--register", str(reg)]
    res = CliRunner().invoke(app, [*args, "--data-dir", str(fetched_data_dir)])
    assert res.exit_code == 0, res.output
    with sqlite3.connect(reg) as con:
        spatial = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleQML FROM layer_styles WHERE useAsDefault"
        ).fetchall()
    assert set(spatial) == {"plots", "plot_points", "ranking", "ranking_points"}
    by_table = {r[0]: r for r in rows}
    assert set(by_table) == set(spatial)
    for table, (_, geom_col, qml) in by_table.items():
        assert geom_col == spatial[table]
        root = ET.fromstring(qml.split("\n", 1)[1])
        renderer = root.find("renderer-v2")
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        assert aliases["plot_id"] == "Flächen-ID"
        if table.startswith("ranking"):
            assert renderer is not None and renderer.get("type") == "graduatedSymbol"
            assert '"score_total"' in renderer.get("attr", "")
            assert aliases["score_total"] == "Gesamtpunktzahl"
            # criteria named as in the run's configuration, in German
            assert any("ÖPNV" in (name or "") for name in aliases.values()), aliases
        else:
            assert renderer is not None and renderer.get("type") == "singleSymbol"
    if Path(OGRINFO).exists():
        res_o = subprocess.run([OGRINFO, "-al", "-so", str(reg)], capture_output=True, text=True)
        assert res_o.returncode == 0 and res_o.stderr == "", res_o.stderr
    if _qgis_available():
        info = _load_in_qgis(reg, "ranking", "ranking_points", "plots")
        assert info["ranking"]["valid"] and info["ranking"]["renderer"] == "graduatedSymbol"
        assert info["ranking"]["features"] == 2 and info["ranking_points"]["features"] == 1
        assert info["plots"]["renderer"] == "singleSymbol"
