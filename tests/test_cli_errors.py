"""The command line's error policy: one message and a documented exit code per kind of error.

0 success; 1 bad input or data (a HandwerkgeoError or an OSError), no traceback unless -v;
2 usage (typer's checks, errors.UsageError); 70 a bug (any other exception), with the
traceback. Checked once per exit path, through the real app.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handwerkgeo import errors
from handwerkgeo.cli import app
from handwerkgeo.cli._errors import EXIT_BUG, EXIT_INPUT, EXIT_USAGE, exit_code_of

SRC = Path(__file__).resolve().parents[1] / "src" / "handwerkgeo"

runner = CliRunner()


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text("- not\n- a mapping\n", encoding="utf-8")
    return path


def test_bad_input_exits_1_with_one_message_and_no_traceback(bad_config: Path) -> None:
    res = runner.invoke(app, ["config", "validate", str(bad_config)])
    assert res.exit_code == EXIT_INPUT
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "bad.yaml" in lines[0]
    assert res.stdout == ""


def test_verbose_shows_the_traceback(bad_config: Path) -> None:
    res = runner.invoke(app, ["-v", "config", "validate", str(bad_config)])
    assert res.exit_code == EXIT_INPUT
    assert "Traceback (most recent call last)" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("Error: ")  # message stays last


def test_os_error_is_bad_input(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import handwerkgeo.config

    def denied(path: object = None) -> None:
        raise PermissionError(13, "Permission denied", "/srv/config.yaml")

    monkeypatch.setattr(handwerkgeo.config, "load_config", denied)
    res = runner.invoke(app, ["config", "validate", str(tmp_path / "c.yaml")])
    assert res.exit_code == EXIT_INPUT
    assert "Error: Permission denied: /srv/config.yaml" in res.stderr
    assert "Traceback" not in res.output


def test_unexpected_exception_is_reported_as_a_bug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import handwerkgeo.config

    def broken(path: object = None) -> None:
        return 1 / 0  # type: ignore[return-value]

    monkeypatch.setattr(handwerkgeo.config, "load_config", broken)
    res = runner.invoke(app, ["config", "validate", str(tmp_path / "c.yaml")])
    assert res.exit_code == EXIT_BUG == 70
    assert "this is a bug in handwerkgeo, please report it" in res.stderr
    assert "Traceback (most recent call last)" in res.stderr
    assert "ZeroDivisionError" in res.stderr


def test_notes_added_by_a_command_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import handwerkgeo.config

    def fails(path: object = None) -> None:
        exc = errors.ConfigError("weights do not sum to 100")
        exc.add_note("Fix the weights in the file and run it again.")
        raise exc

    monkeypatch.setattr(handwerkgeo.config, "load_config", fails)
    res = runner.invoke(app, ["config", "show"])
    assert res.exit_code == EXIT_INPUT
    assert res.stderr.splitlines() == [
        "Error: weights do not sum to 100",
        "Fix the weights in the file and run it again.",
    ]


def test_usage_error_exits_2_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import handwerkgeo.context

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the search started")

    monkeypatch.setattr(handwerkgeo.context, "load_context", must_not_run)
    res = runner.invoke(app, ["search", "--bezirk", "1", "--stadtteil", "Flingern", "-o", "x.gpkg"])
    assert res.exit_code == EXIT_USAGE
    assert "either --bezirk or --stadtteil" in res.stderr
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    "args",
    [
        ["score", "plots.gpkg", "--out", "s.gpkg", "--lang", "fr"],
        ["map", "s.gpkg", "--lang", "fr"],
        ["demo", "--lang", "fr"],
        ["register", "add", "p.gpkg", "--register", "r.gpkg", "--lang", "fr"],
        ["register", "rescore", "--register", "r.gpkg", "--engine", "spark"],
        ["score", "plots.gpkg"],  # missing --out
        ["score", "plots.gpkg", "--out", "s.gpkg", "--no-such-option"],
    ],
)
def test_choices_and_usage_are_checked_before_any_work(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    import handwerkgeo.context
    import handwerkgeo.sources.plots

    calls: list[str] = []

    def record(*a: object, **k: object) -> None:
        calls.append("called")
        raise AssertionError("work started")

    monkeypatch.setattr(handwerkgeo.context, "load_context", record)
    monkeypatch.setattr(handwerkgeo.sources.plots, "read_plots", record)
    t0 = time.perf_counter()
    res = runner.invoke(app, args)
    assert res.exit_code == EXIT_USAGE, res.output
    assert calls == []
    assert time.perf_counter() - t0 < 5
    assert "Traceback" not in res.output


def test_lang_fr_names_the_choices() -> None:
    res = runner.invoke(app, ["score", "p.gpkg", "--out", "s.gpkg", "--lang", "fr"])
    assert res.exit_code == EXIT_USAGE
    text = re.sub(r"\s+", " ", res.stderr)
    assert "'fr'" in text and "'de'" in text and "'en'" in text


def test_wrong_output_ending_is_bad_input() -> None:
    res = runner.invoke(app, ["score", "p.gpkg", "--out", "s.shp"])
    assert res.exit_code == EXIT_INPUT
    assert "--out must end in .gpkg" in res.stderr


def test_exit_codes_are_documented_in_the_help() -> None:
    res = runner.invoke(app, ["--help"])
    text = re.sub(r"\s+", " ", res.output)
    assert res.exit_code == 0
    assert "Exit codes: 0 success; 1 bad input or data" in text
    assert "2 usage error" in text and "70 internal error" in text


def test_exit_code_of_each_error_class() -> None:
    assert exit_code_of(errors.UsageError("x")) == EXIT_USAGE
    assert exit_code_of(errors.ConfigError("x")) == EXIT_INPUT
    assert exit_code_of(errors.MissingColumnError("x")) == EXIT_INPUT
    assert exit_code_of(errors.DataSourceError("x")) == EXIT_INPUT
    assert exit_code_of(FileNotFoundError("x")) == EXIT_INPUT
    assert exit_code_of(ValueError("x")) == EXIT_BUG
    assert exit_code_of(KeyError("x")) == EXIT_BUG


def test_shared_options_are_defined_once() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((SRC / "cli").glob("*.py")))
    for flag in ("--data-dir", "--config", "--lang", "--crs", "--id-col", "--engine", "--out"):
        n = len(re.findall(rf'typer\.Option\(\s*"{flag}"', text))
        assert n == 1, f"{flag} is declared {n} times; use the one in cli/_options.py"


def test_help_does_not_import_the_engine() -> None:
    code = (
        "import sys\n"
        "from handwerkgeo.cli import app\n"
        "for args in (['--help'], ['score', '--help'], ['register', 'add', '--help']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in ('geopandas', 'pandas', 'shapely', 'scipy', "
        "'handwerkgeo.scoring') if m in sys.modules)\n"
        "sys.exit(f'imported for --help: {heavy}' if heavy else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
