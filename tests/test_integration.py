"""End to end on the real Düsseldorf data: example plots, site search, CLI, demo."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from handwerkgeo.cli.demo import EXAMPLE_PLOTS
from handwerkgeo.scoring import read_scored, score_plots
from handwerkgeo.search import criteria_without_data, site_search
from handwerkgeo.sources.plots import read_plots

pytestmark = pytest.mark.mirror


@pytest.fixture(scope="module")
def example_scored(duesseldorf_context):
    plots = read_plots(Path(str(EXAMPLE_PLOTS)))
    return score_plots(plots, context=duesseldorf_context)


def test_example_plots_are_labelled_illustrative() -> None:
    plots = gpd.read_file(Path(str(EXAMPLE_PLOTS)))
    assert len(plots) == 13
    assert plots["note"].str.contains("ILLUSTRATIVE").all()
    assert {"plot_id", "name", "zoning", "owner"} <= set(plots.columns)


def test_example_plots_scored_with_real_context(example_scored) -> None:
    s = example_scored
    # the packaged residential (WA) plot and the too-small plot are excluded with reasons
    ex = s.set_index("plot_id")
    assert ex.loc["EX-12", "excluded"] and "WA" in ex.loc["EX-12", "exclusion_reason"]
    assert ex.loc["EX-13", "excluded"] and "2.500" in ex.loc["EX-13", "exclusion_reason"]
    ranked = s[~s["excluded"]]
    assert sorted(ranked["rank"].astype(int)) == list(range(1, len(ranked) + 1))
    contrib = s[[c for c in s.columns if c.startswith("contrib_")]].sum(axis=1)
    pd.testing.assert_series_equal(contrib, s["score_total"], check_names=False, atol=1e-9)
    # data the mirror has: transit, cycling, customer potential, mix are present for all
    for k in ("transit", "cycling", "customer_potential", "landuse_mix"):
        assert s[f"raw_{k}"].notna().all(), k
    # Reisholz lies outside the central street network: fallback is flagged, not silent
    assert ex.loc["EX-01", "fallback_transit"]
    # the motorway criterion has no data in the mirror: reported as missing, never guessed
    assert s["raw_motorway"].isna().all()
    assert s["missing_criteria"].str.contains("motorway").all()
    assert (s["coverage"] < 1).all()


def test_whole_bezirk_search(duesseldorf_context) -> None:
    result = site_search(context=duesseldorf_context, bezirk=2, cell_m=100)
    surface, sites = result.surface, result.sites
    assert result.area_label == "Stadtbezirk 2"
    # Bezirk 2 (Flingern, Düsseltal) is about 7.3 km²: ~730 cells of 1 ha
    area = duesseldorf_context.stadtteile.query("bezirk_code == '02'").area.sum()
    assert surface.geometry.area.sum() == pytest.approx(area, rel=0.01)
    assert not sites.empty
    assert (sites["score_mean"] >= result.threshold - 1e-9).all()
    assert sites["area_m2"].min() >= 2_500
    # every site lies inside the Bezirk and is made of cells of the surface
    ids = set(surface["plot_id"])
    assert all(set(c.split(",")) <= ids for c in sites["cell_ids"])
    missing = criteria_without_data(surface)
    assert missing and all(isinstance(m, str) for m in missing)


def test_cli_search_writes_surface_and_sites(fetched_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "suche.gpkg"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "handwerkgeo",
            "search",
            "--stadtteil",
            "Flingern Sued",
            "--data-dir",
            str(fetched_data_dir),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "Flingern" in res.stdout
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"scores", "sites", "run_metadata"} <= layers
    surface = read_scored(out)
    assert surface.attrs["run"]["config_hash"]
    assert len(surface) > 50


def test_cli_search_unknown_stadtteil(fetched_data_dir: Path, tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "handwerkgeo",
            "search",
            "--stadtteil",
            "Atlantis",
            "--data-dir",
            str(fetched_data_dir),
            "--out",
            str(tmp_path / "x.gpkg"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1
    assert "Atlantis" in res.stderr and "Altstadt" in res.stderr
    assert not (tmp_path / "x.gpkg").exists()


@pytest.mark.slow
def test_demo_writes_the_council_package(fetched_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "handwerkgeo",
            "demo",
            "--data-dir",
            str(fetched_data_dir),
            "--out",
            str(out),
            "--runs",
            "200",
            "--cell-m",
            "250",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    for name in ("map.html", "map.png", "scores.xlsx", "scores.csv", "scores.gpkg"):
        assert (out / name).stat().st_size > 1000, name
    assert any((out / "profiles").iterdir())
    html = (out / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?https?:", html)
    assert "EX-01" in res.stdout and "ausgeschlossen" in res.stdout  # German by default
