"""Crash safety and locking of the site register, with real processes.

A writer process is started with ``python -c``; the register's test hook
(``HANDWERKGEO_REGISTER_PAUSE_AT``) makes it pause at a named phase of its transaction,
where the test kills it with SIGKILL. The register file must be byte-for-byte intact (the
transaction keeps its pages in memory until COMMIT), pass SQLite's integrity check, open
with pyogrio, and accept the next run (which rolls back the killed writer's journal).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from handwerkgeo import register as reg_mod
from handwerkgeo.errors import RegisterLockedError

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from test_register import make_scorer, plots_frame  # noqa: E402

SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_register import make_scorer, plots_frame
from handwerkgeo import register
rep = register.add_plots(
    {reg!r}, plots_frame({n}), scorer=make_scorer(), data_dir={data!r}, wait_s={wait}
)
print("RUN", rep.run_id, rep.n_new, flush=True)
"""


def start_writer(
    reg: Path,
    data: Path,
    n: int,
    *,
    pause_at: str | None = None,
    pause_s: float = 3600,
    marker: Path | None = None,
    wait: float = 0,
) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if pause_at:
        env["HANDWERKGEO_REGISTER_PAUSE_AT"] = pause_at
        env["HANDWERKGEO_REGISTER_PAUSE_S"] = str(pause_s)
        env["HANDWERKGEO_REGISTER_PAUSE_FILE"] = str(marker)
    code = SCRIPT.format(tests=str(TESTS), reg=str(reg), n=n, data=str(data), wait=wait)
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, proc: subprocess.Popen[str], timeout_s: float = 120) -> None:
    end = time.monotonic() + timeout_s
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"writer ended early: {proc.communicate()}")
        if time.monotonic() > end:
            kill(proc)
            pytest.fail("writer did not reach the pause point")
        time.sleep(0.02)


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the writer and close its pipes."""
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def snapshot(reg: Path | str) -> object:
    """The register's content: the file's bytes, or (PostGIS) every table."""
    if isinstance(reg, Path):
        return reg.read_bytes()
    tables = reg_mod.read_register(reg)
    out = {}
    for name, df in tables.items():
        df = pd.DataFrame(df)
        if "geometry" in df.columns:
            df["geometry"] = [g.wkt for g in df["geometry"]]
        out[name] = df.to_json()
    return out


def check_intact(reg: Path | str) -> None:
    if not isinstance(reg, Path):
        tables = reg_mod.read_register(reg)
        assert set(tables) == set(reg_mod.LAYERS)
        return
    con = sqlite3.connect(reg)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    assert set(reg_mod.LAYERS) <= set(pyogrio.list_layers(reg)[:, 0])
    for layer in reg_mod.LAYERS:
        pyogrio.read_dataframe(reg, layer=layer, read_geometry=layer == "plots")


@pytest.fixture
def setup(tmp_path: Path, register_at: Path | str) -> tuple[Path | str, Path]:
    """A register (GeoPackage or PostGIS) with one run of 4 plots, and a data folder."""
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    (data / "raw" / "stops.csv").write_text("id\n1\n", encoding="utf-8")
    reg = register_at
    reg_mod.add_plots(reg, plots_frame(4), scorer=make_scorer(), data_dir=data)
    return reg, data


@pytest.mark.parametrize(
    "phase", ["locked", "begun", "plots_written", "scores_written", "before_commit"]
)
def test_kill_during_write_leaves_previous_register(
    setup: tuple[Path, Path], tmp_path: Path, phase: str
) -> None:
    reg, data = setup
    before = snapshot(reg)
    marker = tmp_path / "paused"
    proc = start_writer(reg, data, 6, pause_at=phase, marker=marker)
    wait_for(marker, proc)
    kill(proc)
    assert proc.returncode == -signal.SIGKILL
    if isinstance(reg, Path):
        assert reg.read_bytes() == before  # the file untouched before COMMIT
    journal = Path(f"{reg}-journal")  # may be left by the killed writer (GeoPackage)
    assert not list(tmp_path.glob(".sites.gpkg.tmp-*"))  # no copy of the register, ever
    reg_mod.read_register(reg)  # opening rolls the journal back
    assert snapshot(reg) == before  # the previous register
    check_intact(reg)
    # the next run succeeds, cleans up and records exactly one more run
    rep = reg_mod.add_plots(reg, plots_frame(6), scorer=make_scorer(), data_dir=data)
    assert rep.n_new == 2 and rep.n_scored == 2
    assert not list(tmp_path.glob(".sites.gpkg.tmp-*")) and not journal.exists()
    check_intact(reg)
    assert len(reg_mod.read_register(reg)["runs"]) == 2


def test_kill_after_replace_keeps_the_new_register(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    reg, data = setup
    marker = tmp_path / "paused"
    proc = start_writer(reg, data, 6, pause_at="committed", marker=marker)
    wait_for(marker, proc)
    kill(proc)
    check_intact(reg)
    runs = reg_mod.read_register(reg)["runs"]
    assert len(runs) == 2  # the run was committed; only its report is missing
    run_id = runs["run_id"].iloc[-1]
    assert not (reg_mod.Register.at(reg).reports_dir / run_id).exists()
    assert (reg_mod.write_change_report(reg, run_id) / "aenderungen.csv").is_file()
    again = reg_mod.add_plots(reg, plots_frame(6), scorer=make_scorer(), data_dir=data)
    assert again.no_op


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", [0.0, 0.05, 0.2])
def test_kill_at_random_moments_of_a_large_write(
    setup: tuple[Path, Path], tmp_path: Path, delay_s: float
) -> None:
    """No pause: the writer is killed while pyogrio/SQLite are writing 8,000 plots."""
    reg, data = setup
    before = snapshot(reg)
    marker = tmp_path / "begun"
    proc = start_writer(reg, data, 8_000, pause_at="begun", pause_s=0, marker=marker)
    wait_for(marker, proc)
    time.sleep(delay_s)
    kill(proc)
    n_runs = len(reg_mod.read_register(reg, layers=("runs",))["runs"])  # rolls back
    check_intact(reg)
    if n_runs == 1:
        assert snapshot(reg) == before
    else:  # the writer finished before the kill: the new register is complete
        assert n_runs == 2
    rep = reg_mod.add_plots(reg, plots_frame(8_001), scorer=make_scorer(), data_dir=data)
    assert not rep.no_op
    check_intact(reg)
    assert not list(tmp_path.glob(".sites.gpkg.tmp-*"))


def test_second_writer_fails_at_once_naming_the_holder(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    reg, data = setup
    marker = tmp_path / "paused"
    holder = start_writer(reg, data, 6, pause_at="locked", pause_s=4, marker=marker)
    wait_for(marker, holder)
    t0 = time.monotonic()
    with pytest.raises(RegisterLockedError, match=f"pid {holder.pid} on host") as info:
        reg_mod.add_plots(reg, plots_frame(8), scorer=make_scorer(), data_dir=data)
    assert time.monotonic() - t0 < 2  # --wait 0 fails at once
    assert "--wait" in str(info.value)
    # with --wait the second writer waits for the first and then runs
    waiter = start_writer(reg, data, 8, wait=60)
    out_holder, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err
    out_waiter, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert out_holder.split()[-1] == "2" and out_waiter.split()[-1] == "2"  # 6 then 8 plots
    runs = reg_mod.read_register(reg)["runs"]
    assert runs["n_plots"].tolist() == [4, 6, 8]
    if isinstance(reg, Path):
        assert not reg.with_name("sites.gpkg.lock.holder").exists()


def test_waiting_writer_gives_up_after_wait(setup: tuple[Path, Path], tmp_path: Path) -> None:
    reg, data = setup
    marker = tmp_path / "paused"
    holder = start_writer(reg, data, 6, pause_at="locked", pause_s=3600, marker=marker)
    try:
        wait_for(marker, holder)
        t0 = time.monotonic()
        with pytest.raises(RegisterLockedError, match="Waited 1 s"):
            reg_mod.add_plots(reg, plots_frame(8), scorer=make_scorer(), data_dir=data, wait_s=1)
        assert 0.9 < time.monotonic() - t0 < 5
    finally:
        kill(holder)
    # the killed holder's lock is released by the OS
    assert reg_mod.add_plots(reg, plots_frame(8), scorer=make_scorer(), data_dir=data).n_new == 4
