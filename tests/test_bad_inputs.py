"""The bad-input catalogue: every kind of hostile or unlucky listing, through the real CLI.

Each kind of input (tests/_bad_inputs.py, files generated at test time) goes through
``plots check``, ``score`` and ``register add`` and must end in one of four outcomes:

- ``ok``: every row usable / scored (rows in = rows scored);
- ``rejects``: some rows rejected with a reason — ``plots check`` exits 1 listing them,
  ``score`` ranks the usable rows, writes the rejects beside its output and exits 3,
  ``register add`` records the usable rows and the rejects (rows in = rows scored + rows
  rejected, for both);
- ``all_rejected``: no row usable — ``score`` exits 1 ("no usable row") and writes
  nothing, ``register add`` exits 1 (AllRowsRejectedError) with the rejects written beside
  the register;
- ``fatal``: a file-level problem — every command exits 1 with one message naming it.

``register add`` uses the test-double scorer of tests/test_register.py and ``score`` the
real engine on the context loaded once without the street network (``--no-network``), so
the whole catalogue stays fast. Plus: every table writer fed the OWASP payloads, and output
paths refused before any work.
"""

from __future__ import annotations

import csv
import io
import re
import stat
from pathlib import Path

import pytest
from _bad_inputs import GENERATORS, WITH_CRS
from test_register import make_scorer
from test_spreadsheet import PAYLOADS, _dangerous
from typer.testing import CliRunner

from handwerkgeo.cli import app

runner = CliRunner()

#: kind -> (outcome, pattern every command's output must match).
KINDS: dict[str, tuple[str, str]] = {
    "good_gpkg": ("ok", ""),
    "good_csv_wkt": ("ok", ""),
    "good_xlsx": ("ok", ""),
    "gauss_krueger": ("ok", "EPSG:31466"),
    "german_numbers": ("ok", ""),
    "lonlat_points": ("ok", ""),
    "cp1252": ("ok", "decoded as cp1252"),
    "mixed_encoding": ("ok", r"decoded as utf-8\+cp1252"),
    "formula_ids": ("ok", ""),
    "formula_payloads": ("ok", ""),
    "bad_wkt": ("rejects", "cannot be read"),
    "bowtie": ("rejects", "Self-intersection"),
    "duplicate_ids": ("rejects", "occurs 2 times"),
    "empty_geometry": ("rejects", "geometry is empty"),
    "lines_not_polygons": ("rejects", "LineString"),
    "missing_ids": ("rejects", "no plot id"),
    "nan_coordinates": ("rejects", "geometry is missing"),
    "outside_city": ("rejects", r"outside the city boundary|außerhalb der Stadtgrenze"),
    "all_geometries_broken": ("all_rejected", "geometry is empty"),
    "swapped_axes": ("all_rejected", r"look swapped"),
    "point_far_away_geojson": (
        "all_rejected",
        r"outside the city boundary|außerhalb der Stadtgrenze",
    ),
    "binary_as_csv": ("fatal", "is not text in UTF-8"),
    "utf16_no_bom": ("fatal", "is not text in UTF-8"),
    "blank_lines_only": ("fatal", "contains no plots"),
    "empty_file": ("fatal", r"the file is empty \(0 bytes\)"),
    "empty_geojson": ("fatal", "contains no plots"),
    "header_only": ("fatal", "contains no plots"),
    "header_only_xlsx": ("fatal", "contains no plots"),
    "corrupt_xlsx": ("fatal", r"kaputt\.xlsx cannot be opened as a workbook: the file is trunc"),
    "encrypted_xlsx": ("fatal", r"passwort\.xlsx cannot be opened .* password-protected"),
    "xlsx_is_text": ("fatal", r"text\.xlsx cannot be opened .* not an XLSX file"),
    "zip_without_workbook": ("fatal", r"holds no workbook"),
    "missing_crs_shp": ("fatal", "no coordinate reference system"),
    "missing_crs_xy": ("fatal", "without a CRS"),
    "missing_geometry_columns": ("fatal", "has no geometry"),
    "missing_id_column": ("fatal", "no plot id column"),
    "points_without_area": ("fatal", "no plot-area column"),
    "truncated_csv": ("fatal", "not a well-formed table"),
    "truncated_geojson": ("fatal", r"abgeschnitten\.geojson could not be read"),
    "truncated_gpkg": ("fatal", r"abgeschnitten\.gpkg could not be read"),
    "wrong_extension": ("fatal", r"plots\.docx could not be read"),
}
#: ``ok`` kinds also scored with the real engine (the others are scored by register add).
SCORED = {"good_gpkg", "gauss_krueger", "mixed_encoding", "formula_payloads"}

CASES = [
    pytest.param(kind, cmd, id=f"{kind}-{cmd}")
    for kind in KINDS
    for cmd in ("check", "score", "register")
    if not (cmd == "score" and KINDS[kind][0] == "ok" and kind not in SCORED)
]


def test_catalogue_is_complete() -> None:
    assert set(KINDS) == set(GENERATORS)
    assert len(CASES) >= 60


@pytest.fixture(scope="module")
def fast_context(fetched_data_dir: Path):
    """The real scoring context without the street network, loaded once."""
    from handwerkgeo.context import load_context

    return load_context(fetched_data_dir, network=False)


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch, fast_context) -> None:
    import handwerkgeo.context
    from handwerkgeo.scorer import Scorer

    monkeypatch.setattr(handwerkgeo.context, "load_context", lambda *a, **k: fast_context)
    monkeypatch.setattr(Scorer, "default", staticmethod(make_scorer))


def _summary(text: str) -> tuple[int, int, int]:
    m = re.search(r"Summary: (\d+) row\(s\) read, (\d+) usable, (\d+) rejected", text)
    assert m, text
    return int(m[1]), int(m[2]), int(m[3])


def _run(kind: str, cmd: str, d: Path, fetched_data_dir: Path):
    path, n_rows = GENERATORS[kind](d)
    crs = ["--crs", "EPSG:25832"] if kind in WITH_CRS else []
    # plots check and score speak German by default; the patterns here are English
    if cmd == "check":
        args = ["plots", "check", str(path), *crs, "--lang", "en"]
        args += ["--data-dir", str(fetched_data_dir)]  # the real city boundary, as after fetch
    elif cmd == "score":
        args = ["score", str(path), "--out", str(d / "out" / "s.gpkg"), *crs, "--lang", "en"]
        args += ["--data-dir", str(fetched_data_dir), "--no-network"]
    else:
        args = ["register", "add", str(path), "--register", str(d / "reg" / "r.gpkg"), *crs]
        args += ["--data-dir", str(fetched_data_dir)]
        (d / "reg").mkdir()
    return runner.invoke(app, args), path, n_rows


@pytest.mark.parametrize(("kind", "cmd"), CASES)
def test_bad_input(kind: str, cmd: str, tmp_path: Path, engines, fetched_data_dir: Path) -> None:
    outcome, pattern = KINDS[kind]
    d = tmp_path / "in"
    d.mkdir()
    res, path, n_rows = _run(kind, cmd, d, fetched_data_dir)
    text = res.stdout + res.stderr
    assert "Traceback" not in text
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    if cmd == "check" or outcome != "ok":
        assert re.search(pattern, text, flags=re.S), text
    if cmd == "check":
        n_read, usable, rejected = _summary(res.stdout)
        if outcome == "ok":
            assert res.exit_code == 0 and (n_read, usable, rejected) == (n_rows, n_rows, 0)
        elif outcome in ("rejects", "all_rejected"):
            assert res.exit_code == 1 and "NOT OK" in res.stdout
            assert n_read == n_rows == usable + rejected and rejected > 0
            assert (usable == 0) == (outcome == "all_rejected")
        else:
            assert res.exit_code == 1 and "NOT USABLE" in res.stdout and usable == 0
        return
    if outcome == "ok":
        assert res.exit_code == 0, text
        if cmd == "score":
            assert f"{n_rows} row(s) read: {n_rows} scored" in res.stdout
        else:
            m = re.search(r"(\d+) scored \(new \d+.*\), (\d+) rejected", res.stdout)
            assert m and (int(m[1]), int(m[2])) == (n_rows, 0), res.stdout
        return
    if outcome == "rejects" and cmd == "score":
        assert res.exit_code == 3, text  # scored with rejected rows
        m = re.search(r"(\d+) row\(s\) read: (\d+) scored .*?, (\d+) rejected", res.stdout)
        assert m and int(m[1]) == n_rows == int(m[2]) + int(m[3]) and int(m[3]) > 0, text
        assert (d / "out" / "s_rejected.csv").is_file()
        return
    if outcome == "all_rejected" and cmd == "score":
        assert res.exit_code == 1, text
        assert f"no usable row in {path.name}" in res.stderr
        assert not (d / "out").exists()
        return
    if outcome == "rejects" and cmd == "register":
        assert res.exit_code == 0, text
        m = re.search(r"(\d+) scored \(new \d+.*\), (\d+) rejected", res.stdout)
        assert m and int(m[1]) + int(m[2]) == n_rows and int(m[2]) > 0, res.stdout
        assert f"{m[2]} row(s) rejected" in res.stderr  # listed with their reasons
        return
    # a named error: exit 1, one "Error:" message naming the file; nothing written
    assert res.exit_code == 1, text
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and path.name in errors[0], res.stderr
    assert not (d / "out").exists()
    if cmd == "register":
        assert not (d / "reg" / "r.gpkg").exists()
        if outcome == "all_rejected":
            assert f"none of its {n_rows} row(s) can be used" in res.stderr
            (rejects,) = (d / "reg" / "r.gpkg.reports").glob("abgelehnt-*.csv")
            rows = list(csv.reader(io.StringIO(rejects.read_text("utf-8-sig")), delimiter=";"))
            assert len(rows) == 1 + n_rows


# --- every table writer, fed the OWASP payloads through the real entry points ---------------


def _cells_of(path: Path) -> list[list[str]]:
    """Every row of a written CSV (csv module) or of every sheet of an XLSX (openpyxl)."""
    if path.suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        delim = ";" if text.split("\r\n", 1)[0].count(";") else ","
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    from openpyxl import load_workbook

    wb = load_workbook(path)
    rows = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name}!{cell.coordinate} is a formula"
            rows.append(["" if c.value is None else str(c.value) for c in row])
    return rows


def _check_written(path: Path, n_payload_rows: int | None = None) -> None:
    rows = _cells_of(path)
    bad = [(i, cell) for i, row in enumerate(rows) for cell in row if _dangerous(cell)]
    assert not bad, f"{path.name}: unsafe cells {bad[:5]}"
    if n_payload_rows is not None:  # rows never split: header + one line per plot
        assert len(rows) == 1 + n_payload_rows, f"{path.name}: {len(rows)} rows"
        width = {len(r) for r in rows}
        assert len(width) == 1, f"{path.name}: rows of different widths {width}"

    def norm(text: str) -> str:  # XML (XLSX) turns CR and CRLF into LF
        return text.replace("\r\n", "\n").replace("\r", "\n")

    found = norm("\x00".join(c for row in rows for c in row))
    for payload in PAYLOADS:  # nothing lost: each payload is there (behind an apostrophe)
        assert norm(payload).strip() in found, payload


def test_every_writer_neutralises_payloads(tmp_path: Path, engines, fetched_data_dir: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    listing, n = GENERATORS["formula_payloads"](d)
    out = tmp_path / "score" / "s.gpkg"
    res = runner.invoke(
        app,
        ["score", str(listing), "--out", str(out), "--data-dir", str(fetched_data_dir),
         "--no-network"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    _check_written(out.with_suffix(".csv"), n)
    _check_written(out.with_suffix(".xlsx"))
    m = tmp_path / "map"
    res = runner.invoke(
        app,
        ["map", str(out), "--out", str(m / "k.html"), "--xlsx", str(m / "t.xlsx"),
         "--csv", str(m / "t.csv"), "--no-context"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    _check_written(m / "t.csv", n)
    _check_written(m / "t.xlsx")
    res = runner.invoke(
        app,
        ["map", str(out), "--out", str(m / "k2.html"), "--csv", str(m / "plain.csv"),
         "--csv-plain", "--no-context"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    _check_written(m / "plain.csv", n)
    reg = tmp_path / "reg" / "r.gpkg"
    reg.parent.mkdir()
    res = runner.invoke(
        app, ["register", "add", str(listing), "--register", str(reg),
              "--data-dir", str(fetched_data_dir)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    (report,) = (reg.parent / "r.gpkg.reports").iterdir()
    _check_written(report / "aenderungen.csv", n)
    _check_written(report / "aenderungen.xlsx")


def test_rejects_file_neutralises_payloads(tmp_path: Path, engines) -> None:
    lines = "".join(f'"{p}";POLYGON EMPTY\r\n' for p in PAYLOADS if '"' not in p)
    listing = tmp_path / "bad.csv"
    listing.write_text("plot_id;wkt\r\n" + lines, encoding="utf-8", newline="")
    reg = tmp_path / "r.gpkg"
    res = runner.invoke(
        app, ["register", "add", str(listing), "--register", str(reg), "--crs", "EPSG:25832"]
    )
    assert res.exit_code == 1, res.output
    (rejects,) = (tmp_path / "r.gpkg.reports").glob("abgelehnt-*.csv")
    rows = _cells_of(rejects)
    assert not [c for r in rows for c in r if _dangerous(c)]


# --- output paths refused before the work starts ----------------------------------------------


@pytest.mark.parametrize("where", ["folder", "suffix", "read_only_folder", "parent_is_file"])
def test_score_output_path_refused_at_once(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handwerkgeo.sources.plots as plots_mod

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the plots were read before the output path was checked")

    monkeypatch.setattr(plots_mod, "read_plots", no_work)
    listing, _ = GENERATORS["good_gpkg"](tmp_path)
    out = {
        "folder": tmp_path,
        "suffix": tmp_path / "s.csv",
        "read_only_folder": tmp_path / "ro" / "s.gpkg",
        "parent_is_file": listing / "s.gpkg",
    }[where]
    if where == "read_only_folder":
        out.parent.mkdir()
        out.parent.chmod(0o555)
    try:
        res = runner.invoke(app, ["score", str(listing), "--out", str(out)])
    finally:
        if where == "read_only_folder":
            out.parent.chmod(stat.S_IRWXU)
    assert res.exit_code == 1, res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and errors[0].startswith("Error: --out"), res.stderr
    assert "Traceback" not in res.output


# --- mixed encodings: never garbled ------------------------------------------------------------


def test_mixed_encoding_keeps_umlauts_in_every_output(
    tmp_path: Path, engines, fetched_data_dir: Path
) -> None:
    listing, n = GENERATORS["mixed_encoding"](tmp_path)
    check = runner.invoke(
        app, ["plots", "check", str(listing), "--crs", "EPSG:25832", "--lang", "en"]
    )
    assert check.exit_code == 0
    assert "decoded as utf-8+cp1252" in check.stdout and "file line(s) 4" in check.stdout
    out = tmp_path / "o" / "s.gpkg"
    res = runner.invoke(
        app,
        ["score", str(listing), "--out", str(out), "--crs", "EPSG:25832",
         "--data-dir", str(fetched_data_dir), "--no-network"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    text = out.with_suffix(".csv").read_text("utf-8-sig")
    assert text.count("Lörick") == n and "LÃ¶rick" not in text


def test_explicit_encoding_names_the_first_line_that_does_not_fit(tmp_path: Path) -> None:
    listing, _ = GENERATORS["mixed_encoding"](tmp_path)
    res = runner.invoke(
        app, ["plots", "check", str(listing), "--crs", "EPSG:25832", "--encoding", "utf-8"]
    )
    assert res.exit_code == 1
    assert "utf-8: line 4, byte 0xf6" in res.stdout
