"""The package installs, and its two dependency lists agree."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import handwerkgeo

REPO = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {_name(r) for r in pyproject["project"]["dependencies"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda: set[str] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda |= {_name(d) for d in dep.get("pip", [])}
        elif _name(dep) not in {"python", "pip"}:
            conda.add(_name(dep))
    assert conda == runtime, (
        f"only in environment.yml: {sorted(conda - runtime)}; "
        f"only in pyproject.toml: {sorted(runtime - conda)}"
    )


def test_version_matches_metadata() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert handwerkgeo.__version__ == pyproject["project"]["version"]


def test_cli_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "handwerkgeo", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"handwerkgeo {handwerkgeo.__version__}"


def test_import_has_no_side_effects() -> None:
    code = "import logging, handwerkgeo; import sys; sys.exit(len(logging.getLogger().handlers))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_top_level_api_is_lazy_and_complete() -> None:
    code = (
        "import sys, handwerkgeo as h; "
        "assert 'handwerkgeo.scoring' not in sys.modules; "
        "import handwerkgeo.scoring as s; assert h.score_plots is s.score_plots; "
        "missing = [n for n in h.__all__ if not hasattr(h, n)]; "
        "assert not missing, missing"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
