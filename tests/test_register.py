"""Tests of the site register (handwerkgeo.register) with a test-double scorer.

The double (``double_*`` below) is a tiny deterministic engine with the interface of
handwerkgeo.scoring (compute_raw / score_raw) and a config with ``.hash``/``.to_yaml()``;
it is not the real scoring model. One end-to-end test at the bottom uses the real engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, Polygon, box

from handwerkgeo import register as reg_mod
from handwerkgeo.errors import ConfigError, MissingColumnError, NoCrsError, ValidationError
from handwerkgeo.register.incremental import current_versions, same_values, scoring_input

# --- the test double -------------------------------------------------------------------------

STOP = Point(345_000, 5_680_000)


@dataclass(frozen=True)
class DoubleConfig:
    """Test-double config: two weights and a minimum area."""

    w_area: float = 60.0
    w_dist: float = 40.0
    min_area_m2: float = 2500.0

    def to_yaml(self) -> str:
        d = {"w_area": self.w_area, "w_dist": self.w_dist, "min_area_m2": self.min_area_m2}
        return yaml.safe_dump(d, sort_keys=True)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.to_yaml().encode()).hexdigest()[:12]


def double_load_config(path: object = None) -> DoubleConfig:
    if path is None:
        return DoubleConfig()
    return DoubleConfig(**yaml.safe_load(Path(str(path)).read_text(encoding="utf-8")))


def double_compute_raw(plots: gpd.GeoDataFrame, context: Point, config: DoubleConfig):
    out = plots.copy()
    out["raw_area"] = plots["area_m2"].astype(float)
    out["raw_dist"] = plots.geometry.centroid.distance(context).to_numpy()
    return out


def double_score_raw(raw: pd.DataFrame, config: DoubleConfig) -> gpd.GeoDataFrame:
    out = raw.copy()
    u_area = ((out["raw_area"] - 1000) / 9000).clip(0, 1)
    u_dist = (1 - out["raw_dist"] / 5000).clip(0, 1)
    out["u_area"], out["u_dist"] = u_area, u_dist
    out["contrib_area"] = config.w_area * u_area
    out["contrib_dist"] = config.w_dist * u_dist
    out["score_total"] = out["contrib_area"] + out["contrib_dist"]
    exc = (out["raw_area"] < config.min_area_m2).to_numpy()
    out["excluded"] = exc
    out["exclusion_reason"] = np.where(exc, "area below minimum", "")
    out["coverage"] = 1.0
    out["missing_criteria"] = ""
    order = out.loc[~exc].sort_values(["score_total", "plot_id"], ascending=[False, True]).index
    rank = pd.Series(pd.NA, index=out.index, dtype="Int64")
    rank.loc[order] = np.arange(1, len(order) + 1)
    out["rank"] = rank
    return out


def make_scorer(calls: list[list[str]] | None = None) -> reg_mod.Scorer:
    """The test double as a Scorer; ``calls`` records the plot ids of each compute_raw."""

    def compute_raw(plots, context, config):
        if calls is not None:
            calls.append(sorted(plots["plot_id"]))
        return double_compute_raw(plots, context, config)

    return reg_mod.Scorer(
        compute_raw=compute_raw,
        score_raw=double_score_raw,
        load_config=double_load_config,
        load_context=lambda data_dir: STOP,
    )


def plots_frame(n: int, *, start: int = 0, dx: float = 0.0) -> gpd.GeoDataFrame:
    """``n`` rectangles east of the stop; plot p<i> has width 40 + 10 i m (area 2400 + 600 i)."""
    ids = [f"p{i}" for i in range(start, start + n)]
    geoms = [
        box(345_000 + i * 200 + dx, 5_680_000, 345_000 + i * 200 + 40 + 10 * i + dx, 5_680_060)
        for i in range(start, start + n)
    ]
    return gpd.GeoDataFrame(
        {"plot_id": ids, "name": [f"Fläche {i}" for i in range(start, start + n)]},
        geometry=geoms,
        crs="EPSG:25832",
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "raw" / "layer").mkdir(parents=True)
    (d / "raw" / "layer" / "stops.csv").write_text("id;x;y\n1;345000;5680000\n", encoding="utf-8")
    return d


@pytest.fixture
def reg(register_at: Path | str) -> Path | str:
    """The register: a GeoPackage, or a schema in PostGIS (the same tests run on both)."""
    return register_at


def gpkg_only(reg: Path | str) -> Path:
    """Skip a test that looks into the GeoPackage file itself when the register is PostGIS."""
    if not isinstance(reg, Path):
        pytest.skip("looks into the GeoPackage file")
    return reg


def add(reg: Path, plots, data_dir: Path, **kw):
    kw.setdefault("scorer", make_scorer())
    return reg_mod.add_plots(reg, plots, data_dir=data_dir, **kw)


SCORE_COLS = ["plot_id", "score_total", "rank", "excluded", "exclusion_reason", "raw_area"]


# --- creating and adding ---------------------------------------------------------------------


def test_init_register_creates_its_layers_and_is_idempotent(reg: Path) -> None:
    reg = gpkg_only(reg)
    reg_mod.init_register(reg)
    assert sorted(pyogrio.list_layers(reg)[:, 0]) == [
        "layer_styles", "plot_points", "plots", "ranking", "ranking_points", "register_info",
        "rejects", "runs", "scores",
    ]  # fmt: skip
    before = reg.read_bytes()
    reg_mod.init_register(reg)
    assert reg.read_bytes() == before


def test_init_register_refuses_other_geopackage(tmp_path: Path) -> None:
    other = tmp_path / "other.gpkg"
    plots_frame(1).to_file(other, layer="something")
    with pytest.raises(ValidationError, match="not a site register"):
        reg_mod.init_register(other)


def test_add_registers_and_scores_plots(reg: Path, data_dir: Path) -> None:
    rep = add(reg, plots_frame(4), data_dir)
    assert (rep.n_new, rep.n_scored, rep.n_plots, rep.no_op) == (4, 4, 4, False)
    t = reg_mod.read_register(reg)
    plots, scores, runs = t["plots"], t["scores"], t["runs"]
    assert plots.crs.to_epsg() == 25832
    assert list(plots["plot_id"]) == ["p0", "p1", "p2", "p3"]
    assert plots["active"].all() and (plots["plot_version"] == 1).all()
    assert (plots["first_seen"] == plots["last_changed"]).all()
    assert plots["geom_hash"].str.len().eq(64).all() and plots["attr_hash"].nunique() == 4
    assert "name" in plots.columns  # attributes kept as columns
    assert len(runs) == 1 and runs.loc[0, "kind"] == "add" and runs.loc[0, "n_scored"] == 4
    assert runs.loc[0, "config_hash"] == DoubleConfig().hash
    assert yaml.safe_load(runs.loc[0, "config_yaml"]) == yaml.safe_load(DoubleConfig().to_yaml())
    assert json.loads(runs.loc[0, "data_checksums"]) == {
        "layer/stops.csv": hashlib.sha256(
            (data_dir / "raw/layer/stops.csv").read_bytes()
        ).hexdigest()
    }
    assert set(scores["run_id"]) == {rep.run_id}
    assert scores["rank"].dtype == "Int64"
    # p0 has 2400 m² < 2500 m²: excluded, no rank
    p0 = scores.set_index("plot_id").loc["p0"]
    assert bool(p0["excluded"]) and pd.isna(p0["rank"])
    assert scores.set_index("plot_id")["rank"].dropna().sort_values().tolist() == [1, 2, 3]


def test_add_same_input_twice_is_a_no_op(reg: Path, data_dir: Path) -> None:
    add(reg, plots_frame(4), data_dir)
    before = reg.read_bytes() if isinstance(reg, Path) else None
    tables = reg_mod.read_register(reg)
    rep = add(reg, plots_frame(4), data_dir)
    assert rep.no_op and rep.run_id is None and rep.n_unchanged == 4
    if isinstance(reg, Path):
        assert reg.read_bytes() == before  # nothing written at all
    after = reg_mod.read_register(reg)
    for layer in reg_mod.LAYERS:
        pd.testing.assert_frame_equal(pd.DataFrame(after[layer]), pd.DataFrame(tables[layer]))


def test_vertex_order_and_millimetre_noise_are_not_a_change(reg: Path, data_dir: Path) -> None:
    add(reg, plots_frame(2, start=1), data_dir)
    moved = plots_frame(2, start=1)
    g = moved.geometry.iloc[0]
    xs, ys = g.exterior.coords.xy
    coords = list(zip(xs[::-1], ys[::-1], strict=True))[1:]  # reversed, other start
    moved.loc[0, "geometry"] = Polygon([(x + 0.001, y) for x, y in coords])
    assert add(reg, moved, data_dir).no_op


def test_incremental_add_scores_only_new_plots_but_ranks_globally(
    reg: Path, data_dir: Path
) -> None:
    calls: list[list[str]] = []
    add(reg, plots_frame(4), data_dir, scorer=make_scorer(calls))
    rep = add(reg, plots_frame(6), data_dir, scorer=make_scorer(calls))  # p4, p5 new
    assert calls[0] == ["p0", "p1", "p2", "p3"]
    # the new plots, plus three unchanged ones recomputed as a consistency check
    assert {"p4", "p5"} <= set(calls[1]) and len(calls[1]) == 2 + 3
    assert (rep.n_new, rep.n_unchanged, rep.n_scored, rep.n_plots) == (2, 4, 2, 6)
    runs = reg_mod.read_register(reg)["runs"]
    assert runs["n_scored"].tolist() == [4, 2] and runs["n_plots"].tolist() == [4, 6]
    # global ranks equal a full scoring of all six plots
    stored = reg_mod.read_run(reg, rep.run_id)
    full = make_scorer().score(
        scoring_input(current_versions(reg_mod.read_register(reg)["plots"])),
        DoubleConfig(),
        STOP,
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(stored[SCORE_COLS]), pd.DataFrame(full[SCORE_COLS]), check_dtype=False
    )
    assert stored.set_index("plot_id").loc["p5", "rank"] == 1  # the new plot ranks first


def test_batch_dependent_engine_is_detected_and_scored_in_full(reg: Path, data_dir: Path) -> None:
    """An engine whose raw criteria depend on the batch (here: divided by the batch maximum)
    cannot be scored incrementally; the register notices and computes every plot."""
    base = make_scorer()

    def relative_raw(plots, context, config):
        out = double_compute_raw(plots, context, config)
        out["raw_dist"] = out["raw_dist"] / out["raw_dist"].max() * 5000
        return out

    sc = reg_mod.Scorer(
        relative_raw, base.score_raw, load_config=base.load_config, load_context=base.load_context
    )
    add(reg, plots_frame(4), data_dir, scorer=sc)
    rep = add(reg, plots_frame(6), data_dir, scorer=sc)
    assert rep.n_scored == 6
    stored = reg_mod.read_run(reg, rep.run_id)
    full = sc.score(
        scoring_input(plots_frame(6).assign(area_m2=lambda d: d.area, is_point=False)),
        DoubleConfig(),
        STOP,
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(stored[SCORE_COLS]), pd.DataFrame(full[SCORE_COLS]), check_dtype=False
    )


def test_changed_plot_gets_a_new_version(reg: Path, data_dir: Path) -> None:
    first = add(reg, plots_frame(3), data_dir)
    changed = plots_frame(3)
    changed.loc[1, "geometry"] = box(345_200, 5_680_000, 345_300, 5_680_100)
    changed.loc[2, "name"] = "umbenannt"
    calls: list[list[str]] = []
    rep = add(reg, changed, data_dir, scorer=make_scorer(calls))
    assert (rep.n_changed, rep.n_new, rep.n_unchanged) == (2, 0, 1)
    assert calls == [["p0", "p1", "p2"]]  # p0 recomputed as the consistency check
    assert rep.n_scored == 2
    plots = reg_mod.read_register(reg)["plots"]
    p1 = plots.loc[plots["plot_id"] == "p1"].sort_values("plot_version")
    assert p1["plot_version"].tolist() == [1, 2]
    assert p1["active"].tolist() == [False, True]
    assert p1["valid_to"].iloc[0] == p1["last_changed"].iloc[1] != ""
    assert p1["first_seen"].nunique() == 1
    assert p1["last_changed"].iloc[1] > p1["last_changed"].iloc[0]
    # the old run still refers to the old version
    old = reg_mod.read_run(reg, first.run_id)
    assert old.set_index("plot_id").loc["p1", "raw_area"] == pytest.approx(3000.0)
    new = reg_mod.read_run(reg, rep.run_id)
    assert new.set_index("plot_id").loc["p1", "raw_area"] == pytest.approx(10_000.0)


def test_duplicates_are_rejected_with_a_reason(reg: Path, data_dir: Path) -> None:
    add(reg, plots_frame(2), data_dir)
    new = plots_frame(3, start=2)  # p2, p3, p4
    same_as_p0 = plots_frame(1).assign(plot_id="x0")  # geometry of registered p0
    twin = new.iloc[[0]].assign(plot_id="p2b")  # same geometry as p2 in the same input
    dup_id = plots_frame(1, start=9).assign(plot_id="p4")  # id p4 twice in the input
    listing = pd.concat([new, same_as_p0, twin, dup_id], ignore_index=True)
    rep = add(reg, listing, data_dir)
    assert rep.n_new == 2 and rep.n_duplicates == 4
    reasons = rep.rejects.set_index("row")["reason"]
    assert "same geometry as registered plot p0" in reasons[4]
    assert "same geometry as plot p2 earlier in the input" in reasons[5]
    assert "occurs 2 times" in reasons[3] and "occurs 2 times" in reasons[6]
    t = reg_mod.read_register(reg)
    assert sorted(t["plots"]["plot_id"]) == ["p0", "p1", "p2", "p3"]  # dups not added
    rej = t["rejects"]
    assert len(rej) == 4 and set(rej["run_id"]) == {rep.run_id}
    assert set(rej["plot_id"]) == {"x0", "p2b", "p4"}
    assert reg_mod.read_register(reg)["runs"]["n_duplicates"].tolist() == [0, 4]


def test_invalid_rows_are_rejected_not_dropped(reg: Path, data_dir: Path) -> None:
    listing = plots_frame(3)
    bowtie = Polygon(
        [(345_000, 5_680_000), (345_100, 5_680_100), (345_100, 5_680_000), (345_000, 5_680_100)]
    )
    listing.loc[1, "geometry"] = bowtie
    listing.loc[2, "plot_id"] = None
    rep = add(reg, listing, data_dir)
    assert rep.n_new == 1 and rep.n_rejected == 2
    reasons = dict(zip(rep.rejects["row"], rep.rejects["reason"], strict=True))
    assert reasons[2].startswith("invalid geometry: Self-intersection")
    assert reasons[3] == "missing plot_id"
    assert len(reg_mod.read_register(reg)["rejects"]) == 2


def test_input_errors_are_clear(reg: Path, data_dir: Path) -> None:
    with pytest.raises(NoCrsError, match="no coordinate reference system"):
        add(reg, plots_frame(2).set_crs(None, allow_override=True), data_dir)
    with pytest.raises(MissingColumnError, match="id_col"):
        add(reg, plots_frame(2).rename(columns={"plot_id": "nr"}), data_dir)
    rep = add(reg, plots_frame(2).rename(columns={"plot_id": "nr"}), data_dir, id_col="nr")
    assert rep.n_new == 2
    with pytest.raises(ValidationError, match="reserved"):
        add(reg, plots_frame(2, start=5).assign(active=1), data_dir)


def test_add_reprojects_other_crs(reg: Path, data_dir: Path) -> None:
    rep = add(reg, plots_frame(2).to_crs("EPSG:4326"), data_dir)
    assert rep.n_new == 2
    assert reg_mod.read_register(reg)["plots"].crs.to_epsg() == 25832


# --- stale config/data, rescore, reproduce ---------------------------------------------------


def test_add_refuses_when_config_changed_unless_asked(reg: Path, data_dir: Path) -> None:
    add(reg, plots_frame(3), data_dir)
    other = DoubleConfig(w_area=80, w_dist=20)
    with pytest.raises(
        reg_mod.StaleRegisterError, match=r"configuration changed.*register rescore"
    ):
        add(reg, plots_frame(4), data_dir, config=other)
    assert len(reg_mod.read_register(reg)["runs"]) == 1  # nothing recorded
    calls: list[list[str]] = []
    rep = add(
        reg,
        plots_frame(4),
        data_dir,
        config=other,
        rescore_if_stale=True,
        scorer=make_scorer(calls),
    )
    assert rep.n_scored == 4 and rep.n_new == 1 and len(calls[0]) == 4
    assert reg_mod.read_register(reg)["runs"]["config_hash"].iloc[-1] == other.hash


def test_add_refuses_when_data_changed(reg: Path, data_dir: Path) -> None:
    add(reg, plots_frame(3), data_dir)
    (data_dir / "raw" / "layer" / "stops.csv").write_text("id;x;y\n2;1;1\n", encoding="utf-8")
    with pytest.raises(reg_mod.StaleRegisterError, match="data files changed"):
        add(reg, plots_frame(4), data_dir)


def test_data_checksums_from_provenance(data_dir: Path) -> None:
    prov = {"files": {"layer/stops.csv": {"sha256": "ab" * 32}}, "updated_at": "x"}
    (data_dir / "raw" / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")
    assert reg_mod.data_checksums(data_dir) == {"layer/stops.csv": "ab" * 32}
    assert reg_mod.data_checksums(data_dir.parent / "nothing") == {}


def test_rescore_scores_everything_and_is_stable(reg: Path, data_dir: Path) -> None:
    first = add(reg, plots_frame(4), data_dir)
    calls: list[list[str]] = []
    rep = reg_mod.rescore(reg, scorer=make_scorer(calls), data_dir=data_dir)
    assert rep.kind == "rescore" and rep.n_scored == 4 and calls == [["p0", "p1", "p2", "p3"]]
    a, b = reg_mod.read_run(reg, first.run_id), reg_mod.read_run(reg, rep.run_id)
    pd.testing.assert_frame_equal(pd.DataFrame(a[SCORE_COLS]), pd.DataFrame(b[SCORE_COLS]))
    runs = reg_mod.read_register(reg)["runs"]
    assert runs["kind"].tolist() == ["add", "rescore"]
    assert runs["previous_run_id"].iloc[1] == first.run_id
    # a new config through rescore changes the scores, and add accepts it afterwards
    reg_mod.rescore(reg, scorer=make_scorer(), data_dir=data_dir, config=DoubleConfig(w_area=10))
    assert add(reg, plots_frame(5), data_dir, config=DoubleConfig(w_area=10)).n_scored == 1


def test_rescore_of_missing_or_empty_register(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        reg_mod.rescore(tmp_path / "none.gpkg", scorer=make_scorer(), data_dir=data_dir)
    reg_mod.init_register(tmp_path / "empty.gpkg")
    with pytest.raises(ValidationError, match="holds no plots"):
        reg_mod.rescore(tmp_path / "empty.gpkg", scorer=make_scorer(), data_dir=data_dir)


def test_reproduce_old_run_from_stored_config(reg: Path, data_dir: Path) -> None:
    cfg = DoubleConfig(w_area=70, w_dist=30, min_area_m2=3000)
    first = add(reg, plots_frame(4), data_dir, config=cfg)
    second = add(reg, plots_frame(6), data_dir, config=cfg)  # incremental
    changed = plots_frame(6)
    changed.loc[2, "geometry"] = box(345_400, 5_680_000, 345_500, 5_680_080)
    add(reg, changed, data_dir, config=cfg)
    reg_mod.rescore(reg, scorer=make_scorer(), data_dir=data_dir)  # default config now
    for run in (first, second):
        stored = reg_mod.read_run(reg, run.run_id)
        again = reg_mod.reproduce_run(reg, run.run_id, scorer=make_scorer(), data_dir=data_dir)
        cols = ["plot_id", *stored.attrs["run"]["score_columns"]]
        assert_geodataframe_equal(stored[[*cols, "geometry"]], again[[*cols, "geometry"]])
    # the first run's p2 is the old version (3600 m²), not the changed one
    assert reg_mod.read_run(reg, first.run_id).set_index("plot_id").loc["p2", "raw_area"] == 3600


def test_reproduce_refuses_config_that_loads_differently(reg: Path, data_dir: Path) -> None:
    rep = add(reg, plots_frame(2, start=1), data_dir)
    sc = make_scorer()
    drifting = reg_mod.Scorer(
        sc.compute_raw,
        sc.score_raw,
        load_config=lambda p: DoubleConfig(w_area=1),
        load_context=sc.load_context,
    )
    with pytest.raises(ConfigError, match="configuration model"):
        reg_mod.reproduce_run(reg, rep.run_id, scorer=drifting, data_dir=data_dir)
    with pytest.raises(ValidationError, match="not in the register"):
        reg_mod.reproduce_run(reg, "20000101T000000Z-abcdef", scorer=sc, data_dir=data_dir)


def test_plain_callable_scorer_scores_everything(reg: Path, data_dir: Path) -> None:
    full = make_scorer()
    calls: list[int] = []

    def score_plots(plots, config, *, context):
        calls.append(len(plots))
        return full.score(plots, config, context)

    def run(n: int) -> reg_mod.RunReport:
        return reg_mod.add_plots(
            reg,
            plots_frame(n),
            config=DoubleConfig(),
            context=STOP,
            scorer=score_plots,
            data_dir=data_dir,
        )

    run(3)
    assert run(4).n_scored == 4 and calls == [3, 4]


# --- change reports --------------------------------------------------------------------------


def test_change_report_lists_new_plots_rank_moves_and_new_exclusions(
    reg: Path, data_dir: Path
) -> None:
    add(reg, plots_frame(4), data_dir)
    listing = plots_frame(6)
    listing.loc[3, "geometry"] = box(345_600, 5_680_000, 345_620, 5_680_060)  # p3 now 1200 m²
    rep = add(reg, listing, data_dir)
    if isinstance(reg, Path):
        assert rep.reports_dir == reg.with_name("sites.gpkg.reports") / rep.run_id
    csv = pd.read_csv(
        rep.reports_dir / "aenderungen.csv", sep=";", decimal=",", encoding="utf-8-sig"
    )
    assert list(csv.columns[:3]) == ["Flächen-ID", "Name", "Änderung"]
    row = csv.set_index("Flächen-ID")
    assert row.loc["p5", "Änderung"] == "neu" and row.loc["p5", "Rang jetzt"] == 1
    assert "neu ausgeschlossen" in row.loc["p3", "Änderung"]
    assert row.loc["p3", "ausgeschlossen jetzt"] == "ja"
    assert row.loc["p2", "Rang vorher"] == 2 and row.loc["p2", "Rang jetzt"] == 3
    assert row.loc["p2", "Rang verbessert um"] == -1
    assert "p0" not in row.index  # excluded before and after, unchanged
    xlsx = pd.read_excel(rep.reports_dir / "aenderungen.xlsx", sheet_name=None)
    assert set(xlsx) == {"Änderungen", "Abgelehnt", "Lauf"}
    assert len(xlsx["Änderungen"]) == len(csv)
    import openpyxl

    wb = openpyxl.load_workbook(rep.reports_dir / "aenderungen.xlsx")
    for ws in wb.worksheets:  # every sheet prints: landscape, one page wide, header repeated
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert int(ws.page_setup.fitToHeight) == 0, ws.title
        assert ws.print_title_rows in ("1:1", "$1:$1"), ws.title
        assert ws.freeze_panes is not None and ws.auto_filter.ref, ws.title
    en = reg_mod.write_change_report(reg, rep.run_id, language="en")
    assert pd.read_csv(en / "changes.csv").columns[0] == "plot_id"


def test_make_map_calls_export_map(reg: Path, data_dir: Path) -> None:
    pytest.importorskip("handwerkgeo.export.maps")
    try:
        rep = add(reg, plots_frame(4), data_dir, make_map=True)
    except Exception as exc:  # the double's frame lacks what the real map needs
        pytest.skip(f"export_map needs a real scored frame: {exc}")
    assert rep.map_path is not None and rep.map_path.is_file()


# --- GDAL and QGIS compatibility -------------------------------------------------------------


def _ogrinfo() -> str:
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        if os.environ.get("HANDWERKGEO_REQUIRE_MIRROR"):
            pytest.fail("ogrinfo (Debian gdal-bin) is missing; run `make sysdeps`")
        pytest.skip("ogrinfo not installed (apt-get install gdal-bin)")
    return ogrinfo


def _with_points(n: int) -> gpd.GeoDataFrame:
    """``n`` rectangles and two plots listed as points (area given)."""
    pts = gpd.GeoDataFrame(
        {"plot_id": ["q1", "q2"], "name": ["Punkt 1", "Punkt 2"], "area_m2": [9000.0, 1000.0]},
        geometry=[Point(345_100, 5_680_500), Point(345_300, 5_680_500)],
        crs="EPSG:25832",
    )
    polys = plots_frame(n)
    polys["area_m2"] = polys.area
    return pd.concat([polys, pts], ignore_index=True)


def test_register_is_a_valid_geopackage_for_gdal(reg: Path, data_dir: Path) -> None:
    reg = gpkg_only(reg)
    add(reg, _with_points(4), data_dir)
    add(reg, _with_points(5), data_dir)
    con = sqlite3.connect(reg)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    gtypes = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    n_scores = con.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    con.close()
    assert contents == {
        "plots": "features",
        "plot_points": "features",
        "ranking": "features",
        "ranking_points": "features",
        "scores": "attributes",
        "runs": "attributes",
        "rejects": "attributes",
        "register_info": "attributes",
        "layer_styles": "attributes",  # the QGIS default styles of the spatial layers
    }
    assert gtypes == {
        "plots": "MULTIPOLYGON",
        "plot_points": "POINT",
        "ranking": "MULTIPOLYGON",
        "ranking_points": "POINT",
    }
    assert n_scores == 6 + 1  # the second run stored only its new plot
    out = subprocess.run(
        [_ogrinfo(), "-so", "-al", str(reg)], capture_output=True, text=True, check=True
    )
    assert "Warning" not in out.stderr and "ERROR" not in out.stderr, out.stderr
    layers = {
        block.split("\n", 1)[0].strip(): block for block in out.stdout.split("Layer name: ")[1:]
    }
    assert set(layers) == set(contents)
    for name, block in layers.items():  # one geometry type per spatial layer
        if name in gtypes:
            want = {"MULTIPOLYGON": "Multi Polygon", "POINT": "Point"}[gtypes[name]]
            assert f"Geometry: {want}" in block, block
    assert "Feature Count: 5" in layers["plots"] and "Feature Count: 2" in layers["plot_points"]
    assert (
        "Feature Count: 5" in layers["ranking"] and "Feature Count: 2" in layers["ranking_points"]
    )


def test_ranking_views_return_the_latest_scores(reg: Path, data_dir: Path) -> None:
    reg = gpkg_only(reg)
    add(reg, _with_points(4), data_dir)
    changed = _with_points(5)
    changed.loc[2, "geometry"] = box(345_400, 5_680_000, 345_500, 5_680_100)  # p2: 10,000 m²
    rep = add(reg, changed, data_dir)
    latest = reg_mod.read_run(reg, rep.run_id).set_index("plot_id")
    poly = pyogrio.read_dataframe(reg, layer="ranking").set_index("plot_id")
    pts = pyogrio.read_dataframe(reg, layer="ranking_points").set_index("plot_id")
    assert set(poly.geom_type) == {"MultiPolygon"} and set(pts.geom_type) == {"Point"}
    view = pd.concat([pd.DataFrame(poly), pd.DataFrame(pts)]).sort_index()
    assert list(view.index) == list(latest.index)  # every current plot once
    for col in ("score_total", "raw_area"):
        np.testing.assert_allclose(view[col], latest[col])
    assert view["rank"].astype("Int64").tolist() == latest["rank"].tolist()
    assert latest["rank"].notna().sum() == 5 and latest.loc["q1", "rank"] == 1
    assert view.loc["p2", "plot_version"] == 2 and view.loc["p2", "run_id"] == rep.run_id
    assert view.loc["p1", "run_id"] != rep.run_id  # unchanged: its row of the first run
    # ogrinfo reads the view with SQL like QGIS does
    sql = "SELECT plot_id, rank FROM ranking WHERE rank > 0 ORDER BY rank LIMIT 1"
    out = subprocess.run(
        [_ogrinfo(), str(reg), "-sql", sql], capture_output=True, text=True, check=True
    ).stdout
    assert f"plot_id (String) = {poly['rank'].astype(float).idxmin()}" in out
    assert "rank (Integer64) = " in out


# --- reading files with the real reader ------------------------------------------------------


def test_add_from_file_uses_read_plots(tmp_path: Path, reg: Path, data_dir: Path) -> None:
    pytest.importorskip("handwerkgeo.sources.plots")
    path = tmp_path / "angebote.gpkg"
    plots_frame(4).to_file(path, layer="plots")
    rep = add(reg, path, data_dir)
    assert rep.n_new == 4
    runs = reg_mod.read_register(reg)["runs"]
    assert runs.loc[0, "input_file"] == str(path)
    assert runs.loc[0, "input_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(reg_mod.read_register(reg)["plots"]["source_file"]) == {"angebote.gpkg"}
    assert add(reg, path, data_dir).no_op
    # rows the reader rejects are recorded with its reason
    bad = plots_frame(2, start=6)
    bad.loc[1, "geometry"] = Polygon(
        [(345_000, 5_680_000), (345_100, 5_680_100), (345_100, 5_680_000), (345_000, 5_680_100)]
    )
    bad_path = tmp_path / "mit_fehler.gpkg"
    bad.to_file(bad_path, layer="plots")
    rep = add(reg, bad_path, data_dir)
    assert rep.n_new == 1 and rep.n_rejected == 1
    rej = reg_mod.read_register(reg)["rejects"]
    assert rej["plot_id"].tolist() == ["p7"]
    assert rej["source_file"].tolist() == ["mit_fehler.gpkg"]
    assert "geometr" in rej["reason"].iloc[0].lower()


# --- end to end with the real engine ---------------------------------------------------------


def _real_engine_or_skip():
    try:
        from handwerkgeo import scoring
    except ImportError as exc:
        pytest.skip(f"handwerkgeo.scoring is not importable yet: {exc}")
    return scoring


@pytest.fixture(scope="module")
def real_engine(tmp_path_factory: pytest.TempPathFactory, mirror: Path):
    """The real engine with the context loaded from the data mirror (fetched once)."""
    scoring = _real_engine_or_skip()
    from handwerkgeo.config import load_config
    from handwerkgeo.context import load_context
    from handwerkgeo.fetch import fetch

    data = tmp_path_factory.mktemp("register_e2e") / "data"
    fetch(mirror=mirror, data_dir=data)
    return scoring, load_config(), load_context(data), data


def _listing() -> gpd.GeoDataFrame:
    listing = plots_frame(6, dx=5_000.0)  # in the city
    listing["zoning"] = ["GE", "MI", "WA", "GE", "MU", "GI"]
    return listing


def test_end_to_end_with_real_score_plots(tmp_path: Path, real_engine) -> None:
    scoring, config, context, data = real_engine
    listing = _listing()
    reg = tmp_path / "sites.gpkg"
    first = reg_mod.add_plots(reg, listing.iloc[:4], config=config, context=context, data_dir=data)
    second = reg_mod.add_plots(reg, listing, config=config, context=context, data_dir=data)
    assert (first.n_scored, second.n_plots, second.n_new) == (4, 6, 2)
    stored = reg_mod.read_run(reg, second.run_id)
    current = scoring_input(current_versions(reg_mod.read_register(reg)["plots"]))
    full = scoring.score_plots(current, config, context=context)
    cols = ["plot_id", *stored.attrs["run"]["score_columns"]]
    assert "score_total" in cols and any(c.startswith("raw_") for c in cols)
    pd.testing.assert_frame_equal(
        pd.DataFrame(stored[cols]), pd.DataFrame(full[cols]), check_dtype=False
    )
    again = reg_mod.reproduce_run(reg, first.run_id, context=context, data_dir=data)
    old = reg_mod.read_run(reg, first.run_id)
    pd.testing.assert_frame_equal(
        pd.DataFrame(old[cols]), pd.DataFrame(again[cols]), check_dtype=False
    )


def test_real_engine_scores_only_new_plots(tmp_path: Path, real_engine) -> None:
    """Incremental scoring needs raw criteria that depend on the plot alone
    (docs/design.md: raw_<k> in physical units), not on the other plots of the batch."""
    scoring, config, context, data = real_engine
    listing = _listing()
    whole = scoring.compute_raw(listing, context, config)
    raw_cols = [c for c in whole.columns if c.startswith("raw_")]
    drift = set()
    for part in (slice(0, 2), slice(2, 4), slice(4, 6)):
        alone = scoring.compute_raw(listing.iloc[part], context, config)
        drift |= {c for c in raw_cols if not same_values(whole[c].iloc[part], alone[c])}
    assert not drift, (
        f"handwerkgeo.scoring.compute_raw gives other values for {sorted(drift)} depending on "
        "which "
        "plots are scored together (customer_potential is divided by the batch maximum: "
        "call criteria.accessibility.customer_potential with normalise=False or a fixed "
        "reference). The register then has to re-score every plot, and the dask engine "
        "differs from the single-process one."
    )
    reg = tmp_path / "sites.gpkg"
    reg_mod.add_plots(reg, listing.iloc[:4], config=config, context=context, data_dir=data)
    rep = reg_mod.add_plots(reg, listing, config=config, context=context, data_dir=data)
    assert rep.n_scored == 2


def test_cli_add_show_and_locked_register(tmp_path: Path, real_engine) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    _, _, _, data = real_engine
    listing = tmp_path / "angebote.gpkg"
    _listing().to_file(listing)
    reg = tmp_path / "standorte.gpkg"
    runner = CliRunner()
    args = ["register", "add", str(listing), "--register", str(reg), "--data-dir", str(data)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "6 plots ranked, 6 scored" in res.output
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "nothing new" in res.output
    res = runner.invoke(app, ["register", "show", "--register", str(reg)])
    assert res.exit_code == 0 and "1 run(s)" in res.output
    with reg_mod.register_lock(reg):  # this process holds the lock: a CLI writer must fail
        res = runner.invoke(app, [*args, "--wait", "0"])
    assert res.exit_code == 1
    assert f"pid {os.getpid()}" in res.output and "--wait" in res.output


def test_cli_show_and_lock_on_a_postgis_register(
    postgis_server: str, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--register postgresql://…`` on the command line: the schema is found, runs listed,
    and a writer that finds the advisory lock taken exits 1 naming this process."""
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    monkeypatch.chdir(tmp_path)
    url = f"{postgis_server}&schema=cli_{os.urandom(4).hex()}"
    runner = CliRunner()
    res = runner.invoke(app, ["register", "show", "--register", url])
    assert res.exit_code == 1 and "does not exist" in res.output
    add(url, plots_frame(3), data_dir)
    res = runner.invoke(app, ["register", "show", "--register", url])
    assert res.exit_code == 0, res.output
    assert "3 plots (current versions), 1 run(s)" in res.output
    listing = tmp_path / "angebote.gpkg"
    plots_frame(2, start=3, dx=5_000.0).to_file(listing)
    with reg_mod.register_lock(url):
        res = runner.invoke(app, ["register", "add", str(listing), "--register", url])
    assert res.exit_code == 1
    assert f"pid {os.getpid()} on host" in res.output and "--wait" in res.output


def test_postgis_layers_have_one_geometry_type_and_the_view_ranks(
    postgis_server: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostGIS lists the tables and the ranking views in geometry_columns, one type each;
    the views give the current ranks."""
    import psycopg

    monkeypatch.chdir(tmp_path)
    schema = f"gc_{os.urandom(4).hex()}"
    url = f"{postgis_server}&schema={schema}"
    add(url, _with_points(4), data_dir)
    rep = add(url, _with_points(5), data_dir)
    conninfo = url.replace(f"&schema={schema}", "")
    with psycopg.connect(conninfo) as con:
        types = dict(
            con.execute(
                "SELECT f_table_name, type FROM geometry_columns WHERE f_table_schema = %s",
                (schema,),
            ).fetchall()
        )
        ranks = dict(
            con.execute(
                psycopg.sql.SQL(
                    "SELECT plot_id, rank FROM {a} UNION ALL SELECT plot_id, rank FROM {b}"
                ).format(
                    a=psycopg.sql.Identifier(schema, "ranking"),
                    b=psycopg.sql.Identifier(schema, "ranking_points"),
                )
            ).fetchall()
        )
    assert types == {
        "plots": "MULTIPOLYGON",
        "plot_points": "POINT",
        "ranking": "MULTIPOLYGON",
        "ranking_points": "POINT",
    }
    latest = reg_mod.read_run(url, rep.run_id).set_index("plot_id")["rank"]
    assert {k: (None if pd.isna(v) else int(v)) for k, v in latest.items()} == ranks
