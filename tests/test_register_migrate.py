"""Registers of layout 1 (a full ranking per run, one GEOMETRY layer): a clear error, and
``register migrate`` converting them so that every old run reads back the same."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from handwerkgeo import register as reg_mod
from handwerkgeo.errors import RegisterLayoutError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_register import make_scorer, plots_frame


def _listing(n: int) -> gpd.GeoDataFrame:
    polys = plots_frame(n)
    polys["area_m2"] = polys.area
    pts = gpd.GeoDataFrame(
        {"plot_id": ["q1"], "name": ["Punkt"], "area_m2": [8000.0]},
        geometry=[Point(345_100, 5_680_500)],
        crs="EPSG:25832",
    )
    return pd.concat([polys, pts], ignore_index=True)


def _layout1(new: Path, old: Path) -> None:
    """Write the content of register ``new`` as layout 1 to ``old`` (as older versions did)."""
    t = reg_mod.read_register(new)
    runs = t["runs"].drop(columns=["n_stored"])
    scores = []
    for run_id in runs["run_id"]:  # a full ranking per run
        state = reg_mod.read_run(new, run_id)
        cols = ["plot_id", *state.attrs["run"]["score_columns"]]
        rows = pd.DataFrame(state[cols]).assign(run_id=run_id)
        vers = t["plots"].merge(state[["plot_id", "geometry"]], on=["plot_id", "geometry"])
        rows["plot_version"] = rows["plot_id"].map(vers.set_index("plot_id")["plot_version"])
        scores.append(rows)
    plots = t["plots"]
    pyogrio.write_dataframe(plots, old, layer="plots", geometry_type="Unknown")
    for name, df in (("scores", pd.concat(scores)), ("runs", runs), ("rejects", t["rejects"])):
        pyogrio.write_dataframe(df, old, layer=name, driver="GPKG")


def test_old_layout_is_refused_then_migrated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    new, old = tmp_path / "new.gpkg", tmp_path / "old.gpkg"
    first = reg_mod.add_plots(new, _listing(3), scorer=make_scorer(), data_dir=data)
    second = reg_mod.add_plots(new, _listing(5), scorer=make_scorer(), data_dir=data)
    _layout1(new, old)
    with pytest.raises(RegisterLayoutError, match="register migrate --register"):
        reg_mod.read_register(old)
    with pytest.raises(RegisterLayoutError, match="layout 1"):
        reg_mod.add_plots(old, _listing(6), scorer=make_scorer(), data_dir=data)
    backup = reg_mod.migrate_register(old)
    assert backup is not None and backup.is_file()
    assert reg_mod.migrate_register(old) is None  # already current
    for run in (first, second):
        a, b = reg_mod.read_run(new, run.run_id), reg_mod.read_run(old, run.run_id)
        cols = ["plot_id", *a.attrs["run"]["score_columns"], "geometry"]
        pd.testing.assert_frame_equal(pd.DataFrame(a[cols]), pd.DataFrame(b[cols]))
    con = sqlite3.connect(old)
    gtypes = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    con.close()
    assert gtypes["plots"] == "MULTIPOLYGON" and gtypes["plot_points"] == "POINT"
    rep = reg_mod.add_plots(old, _listing(6), scorer=make_scorer(), data_dir=data)
    assert (rep.n_new, rep.n_scored, rep.n_plots) == (1, 1, 7)
