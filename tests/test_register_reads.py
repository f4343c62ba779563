"""What an ``add`` run reads from the register (issue #12): only what the listing touches.

The hashes of the plots with the listing's ids or geometries (not of every plot), the
unchanged plots that check a run by offset, the current ranks column-wise, and the city
boundary from the run's own scoring context — each equal to what the full read gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from test_register import make_scorer, plots_frame

from handwerkgeo import register as reg_mod
from handwerkgeo.boundary import load_city_boundary
from handwerkgeo.register import _sqlite as sq
from handwerkgeo.register import _state
from handwerkgeo.register._views import RANK_SQL, latest_scores_sql
from handwerkgeo.register.incremental import Engine, check_sample, listing_reader
from handwerkgeo.register.storage import Register
from handwerkgeo.sources.plots import PlotReaderOptions


@pytest.fixture
def six(register_at, tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    reg_mod.add_plots(register_at, plots_frame(6), scorer=make_scorer(), data_dir=data)
    return Register.at(register_at)


def test_hashes_of_a_listing_are_those_of_the_plots_it_touches(six) -> None:
    with _state.reader(six) as con:
        full = _state.current_hashes(con).sort_values("plot_id").reset_index(drop=True)
        by_id, by_geom = str(full["plot_id"].iloc[0]), str(full["geom_hash"].iloc[3])
        got = _state.current_hashes(con, ids=[by_id, "not-registered"], geom_hashes=[by_geom])
        none = _state.current_hashes(con, ids=["not-registered"], geom_hashes=["0" * 64])
    want = full.loc[full["plot_id"].isin([by_id, str(full["plot_id"].iloc[3])])]
    got = got.sort_values("plot_id").reset_index(drop=True)
    assert list(got["plot_id"]) == list(want["plot_id"])
    for col in ("plot_version", "geom_hash", "attr_hash", "first_seen"):
        assert list(got[col]) == list(want[col]), col
    assert none.empty


def test_check_sample_by_offset_equals_the_sample_of_all_ids(six) -> None:
    with _state.reader(six) as con:
        ids = _state.current_hashes(con)["plot_id"]
        for exclude in (set(), {str(ids.iloc[0])}, set(map(str, ids.iloc[:5]))):
            assert _state.sample_ids(con, exclude) == check_sample(ids, exclude)
        assert _state.sample_ids(con, set(map(str, ids))) == []


def test_current_ranks_read_column_wise_equal_the_sql_ranking(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    reg = tmp_path / "sites.gpkg"
    reg_mod.add_plots(reg, plots_frame(6), scorer=make_scorer(), data_dir=data)
    reg_mod.add_plots(reg, plots_frame(3, start=10), scorer=make_scorer(), data_dir=data)
    con = sq.connect(reg)
    try:
        seq = con.execute("SELECT MAX(seq) FROM runs").fetchone()[0]
        got = _state.state_ranks(con, seq).set_index("plot_id")
        sql = f"WITH latest AS ({latest_scores_sql()}) SELECT plot_id, {RANK_SQL} AS r FROM latest"
        want = sq.read_frame(con, sql).set_index("plot_id")["r"]
    finally:
        con.close()
    assert len(got) == 9 and got["rank"].notna().any()
    assert got["rank"].astype("Int64").to_dict() == want.astype("Int64").to_dict()


def _engine(context, data_dir: Path, *, own: bool = True) -> Engine:
    return Engine(make_scorer(), None, lambda: context, "", data_dir=data_dir, own_context=own)


def test_boundary_from_the_runs_context_equals_the_loaded_one(
    duesseldorf_context, fetched_data_dir: Path, tmp_path: Path
) -> None:
    opts = PlotReaderOptions(data_dir=fetched_data_dir)
    rd = listing_reader(_engine(duesseldorf_context, fetched_data_dir), opts)
    assert rd is not None and rd.boundary is not None and rd.data_dir == fetched_data_dir
    loaded = load_city_boundary(fetched_data_dir)
    assert loaded is not None
    assert shapely.equals_exact(rd.boundary.polygon, loaded.polygon, tolerance=0)
    assert list(rd.boundary.quarters["stadtteil_name"]) == list(loaded.quarters["stadtteil_name"])
    # a given boundary, a context the caller passed, another data folder: left alone
    given = PlotReaderOptions(boundary=loaded, data_dir=fetched_data_dir)
    assert listing_reader(_engine(duesseldorf_context, fetched_data_dir), given) is given
    assert listing_reader(_engine(duesseldorf_context, fetched_data_dir, own=False), opts) is opts
    assert listing_reader(_engine(duesseldorf_context, fetched_data_dir), None) is None  # ./data
    other = PlotReaderOptions(data_dir=tmp_path)
    assert listing_reader(_engine(duesseldorf_context, fetched_data_dir), other) is other


def test_a_context_that_fails_to_load_leaves_the_boundary_to_the_reader(tmp_path: Path) -> None:
    from handwerkgeo.errors import DataSourceError

    def broken():
        raise DataSourceError("the prepared context cannot be read")

    eng = Engine(make_scorer(), None, broken, "", data_dir=tmp_path, own_context=True)
    opts = PlotReaderOptions(data_dir=tmp_path)
    assert listing_reader(eng, opts) is opts
