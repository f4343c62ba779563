"""The site register at the edges of the file system (issue #15).

Symlinked registers, read-only files and folders, a missing folder, a full disk (on a
small tmpfs when the test may mount one, else simulated) and a listing whose rows are all
rejected: each a named error, exit code 1 on the command line, the register untouched and
no temporary file left.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from test_register import make_scorer, plots_frame
from typer.testing import CliRunner

from handwerkgeo import register as reg_mod
from handwerkgeo.errors import (
    AllRowsRejectedError,
    RegisterDiskFullError,
    RegisterError,
    RegisterFolderMissingError,
    RegisterLockedError,
    RegisterReadOnlyError,
)
from handwerkgeo.register import storage

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def add(reg: Path, plots: gpd.GeoDataFrame, data_dir: Path, **kw):
    return reg_mod.add_plots(reg, plots, scorer=make_scorer(), data_dir=data_dir, **kw)


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


@pytest.fixture
def made(tmp_path: Path) -> tuple[Path, Path]:
    """A register with one run of 3 plots, and a data folder."""
    data = tmp_path / "data"
    data.mkdir()
    reg = tmp_path / "regs" / "sites.gpkg"
    reg.parent.mkdir()
    add(reg, plots_frame(3), data)
    return reg, data


# --- symlinks ----------------------------------------------------------------------------------


def test_register_through_a_symlink_updates_the_real_file(made, tmp_path: Path) -> None:
    reg, data = made
    link = tmp_path / "link.gpkg"
    link.symlink_to(reg)
    rep = add(link, plots_frame(2, start=3), data)
    assert link.is_symlink() and os.readlink(link) == str(reg)  # the link stays a link
    assert rep.register == reg.resolve()
    runs = reg_mod.read_register(reg)["runs"]
    assert len(runs) == 2 and runs["run_id"].iloc[-1] == rep.run_id
    # lock and reports beside the real file, never beside the link
    assert not (tmp_path / "link.gpkg.lock").exists()
    assert not (tmp_path / "link.gpkg.reports").exists()
    assert (reg.parent / "sites.gpkg.reports" / str(rep.run_id)).is_dir()


def test_two_links_to_one_register_lock_each_other(made, tmp_path: Path) -> None:
    reg, _ = made
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    a.symlink_to(reg)
    b.symlink_to(a)  # a chain of links
    with (
        storage.register_lock(a),
        pytest.raises(RegisterLockedError),
        storage.register_lock(b, wait_s=0),
    ):
        pass


# --- read-only file or folder, missing folder --------------------------------------------------


@contextlib.contextmanager
def mode(path: Path, m: int) -> Iterator[None]:
    old = stat.S_IMODE(path.stat().st_mode)
    path.chmod(m)
    try:
        yield
    finally:
        path.chmod(old)


def test_read_only_register_file_is_refused_and_kept(made) -> None:
    reg, data = made
    before = reg.read_bytes()
    with mode(reg, 0o444):
        with pytest.raises(RegisterReadOnlyError, match=r"read-only \(mode 0444\).*chmod u\+w"):
            add(reg, plots_frame(2, start=3), data)
        assert stat.S_IMODE(reg.stat().st_mode) == 0o444  # not replaced by a 0644 file
    assert reg.read_bytes() == before
    assert temps(reg.parent) == []


def test_read_only_register_folder_is_refused(made) -> None:
    reg, data = made
    before = reg.read_bytes()
    with (
        mode(reg.parent, 0o555),
        pytest.raises(RegisterReadOnlyError, match=r"folder .* is read-only"),
    ):
        add(reg, plots_frame(2, start=3), data)
    assert reg.read_bytes() == before
    assert temps(reg.parent) == []


def test_register_keeps_its_permissions(made) -> None:
    reg, data = made
    reg.chmod(0o640)
    add(reg, plots_frame(2, start=3), data)
    assert stat.S_IMODE(reg.stat().st_mode) == 0o640


def test_missing_register_folder_is_an_error_not_created(tmp_path: Path) -> None:
    reg = tmp_path / "typo" / "sites.gpkg"
    with pytest.raises(RegisterFolderMissingError, match="mkdir -p"):
        add(reg, plots_frame(2), tmp_path)
    assert not reg.parent.exists()


# --- disk full ---------------------------------------------------------------------------------


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_during_the_write_simulated(made, monkeypatch: pytest.MonkeyPatch) -> None:
    from handwerkgeo.register import _sqlite

    reg, data = made
    before = reg.read_bytes()
    monkeypatch.setattr(_sqlite, "insert_rows", _enospc)
    with pytest.raises(RegisterDiskFullError, match="Free some space"):
        add(reg, plots_frame(2, start=3), data)
    assert reg.read_bytes() == before
    assert temps(reg.parent) == []


def test_disk_full_writing_the_change_report_says_the_run_is_recorded(
    made, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handwerkgeo.register import runs

    reg, data = made
    monkeypatch.setattr(runs, "write_change_report", _enospc)
    with pytest.raises(RegisterDiskFullError, match=r"was recorded .* change report"):
        add(reg, plots_frame(2, start=3), data)
    assert len(reg_mod.read_register(reg)["runs"]) == 2


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted in tmp_path (needs root and a kernel that allows it)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if not IS_ROOT:
        pytest.skip("mounting a tmpfs needs root; the full disk is simulated in other tests")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path, leave: int) -> None:
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "filler.bin", "wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))


@pytest.mark.parametrize("leave_kb", [8, 150])  # nothing left; room for a few rows
@pytest.mark.parametrize("preflight", [True, False])
def test_disk_full_on_a_small_tmpfs(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch, leave_kb: int, preflight: bool
) -> None:
    reg = small_disk / "sites.gpkg"
    add(reg, plots_frame(3), small_disk)
    before = reg.read_bytes()
    _fill(small_disk, leave_kb * 1024)
    if not preflight:  # as if the disk filled up after the check: the write itself fails
        monkeypatch.setattr(storage, "check_writable", lambda path: None)
        if leave_kb == 150:  # a run writes in place: room for its rows is enough
            add(reg, plots_frame(30, start=3), small_disk)
            assert len(reg_mod.read_register(reg)["runs"]) == 2
            return
    with pytest.raises(RegisterDiskFullError, match="the register is unchanged"):
        add(reg, plots_frame(30, start=3), small_disk)
    assert reg.read_bytes() == before
    assert temps(small_disk) == []
    assert len(reg_mod.read_register(reg)["runs"]) == 1


# --- every row rejected ------------------------------------------------------------------------


def _bad_listing(path: Path, n: int = 3) -> Path:
    rows = "".join(f"b{i};POLYGON EMPTY\r\n" for i in range(n))
    path.write_text("plot_id;wkt\r\n" + rows, encoding="utf-8")
    return path


def test_all_rows_rejected_fails_and_writes_the_rejects_beside(made, tmp_path: Path) -> None:
    reg, data = made
    before = reg.read_bytes()
    listing = _bad_listing(tmp_path / "alle_falsch.csv")
    with pytest.raises(AllRowsRejectedError, match="none of its 3 row") as info:
        reg_mod.add_plots(reg, listing, scorer=make_scorer(), data_dir=data, crs="EPSG:25832")
    assert len(info.value.rejects) == 3
    assert reg.read_bytes() == before  # nothing recorded
    files = sorted((reg.parent / "sites.gpkg.reports").glob("abgelehnt-*.csv"))
    assert len(files) == 1
    rows = list(csv.reader(io.StringIO(files[0].read_text("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][:2] == ["Quelldatei", "Zeile"] and len(rows) == 1 + 3
    assert str(files[0]) in str(info.value)


def test_all_rows_rejected_on_a_new_register_creates_no_register(tmp_path: Path) -> None:
    reg = tmp_path / "neu.gpkg"
    with pytest.raises(AllRowsRejectedError):
        reg_mod.add_plots(
            reg, _bad_listing(tmp_path / "l.csv"), scorer=make_scorer(), data_dir=tmp_path,
            crs="EPSG:25832",
        )  # fmt: skip
    assert not reg.exists()
    assert len(list((tmp_path / "neu.gpkg.reports").glob("abgelehnt-*.csv"))) == 1


def test_all_rows_rejected_exits_1_on_the_command_line(
    made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handwerkgeo.cli import app
    from handwerkgeo.scorer import Scorer

    reg, data = made
    monkeypatch.setattr(Scorer, "default", staticmethod(make_scorer))
    listing = _bad_listing(tmp_path / "l.csv", n=2)
    res = CliRunner().invoke(
        app, ["register", "add", str(listing), "--register", str(reg), "--crs", "EPSG:25832",
              "--data-dir", str(data)],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "none of its 2 row(s) can be used" in res.stderr
    assert "Traceback" not in res.output


def test_unchanged_listing_with_rejects_writes_them_to_a_file(made, tmp_path: Path) -> None:
    reg, data = made
    good = plots_frame(3)
    bad = gpd.GeoDataFrame({"plot_id": ["x1"]}, geometry=[None], crs=good.crs)
    listing = gpd.GeoDataFrame(gpd.pd.concat([good, bad], ignore_index=True), crs=good.crs)
    rep = add(reg, listing, data)
    assert rep.no_op and rep.n_rejected == 1
    assert rep.rejects_file is not None and rep.rejects_file.is_file()
    assert "x1" in rep.rejects_file.read_text("utf-8-sig")


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ("ro_file", RegisterReadOnlyError),
        ("ro_folder", RegisterReadOnlyError),
        ("missing_folder", RegisterFolderMissingError),
    ],
)
def test_register_errors_exit_1_without_traceback(
    made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str, error: type
) -> None:
    from handwerkgeo.cli import app
    from handwerkgeo.scorer import Scorer

    reg, data = made
    monkeypatch.setattr(Scorer, "default", staticmethod(make_scorer))
    listing = tmp_path / "l.gpkg"
    plots_frame(2, start=5).to_file(listing)
    target = reg
    ctx: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if setup == "ro_file":
        ctx = mode(reg, 0o444)
    elif setup == "ro_folder":
        ctx = mode(reg.parent, 0o555)
    else:
        target = tmp_path / "nope" / "sites.gpkg"
    assert issubclass(error, RegisterError)
    with ctx:
        res = CliRunner().invoke(
            app, ["register", "add", str(listing), "--register", str(target),
                  "--data-dir", str(data)],
        )  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert res.stderr.startswith("Error: ")
    assert temps(reg.parent) == []


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_another_program_holding_a_write_transaction_is_a_clear_error(
    made, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program that keeps the GeoPackage locked (QGIS editing it) makes the run fail with
    RegisterLockedError after SQLite's wait, the register unchanged."""
    import sqlite3

    from handwerkgeo.register import _sqlite

    reg, data = made
    before = reg.read_bytes()
    real_connect = sqlite3.connect
    monkeypatch.setattr(
        _sqlite.sqlite3, "connect", lambda *a, **k: real_connect(*a, **{**k, "timeout": 0.2})
    )
    other = real_connect(reg, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as an editing program does
    try:
        with pytest.raises(RegisterLockedError, match="another program keeps it open"):
            add(reg, plots_frame(2, start=3), data)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert reg.read_bytes() == before
    assert len(reg_mod.read_register(reg)["runs"]) == 1
