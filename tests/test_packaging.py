"""The package installs, and its two dependency lists agree."""

from __future__ import annotations

import ast
import importlib.metadata
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


def test_every_imported_package_is_declared() -> None:
    """A third-party package imported anywhere in src/ is a runtime or optional dependency."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {_name(r) for r in pyproject["project"]["dependencies"]}
    for extra in pyproject["project"]["optional-dependencies"].values():
        declared |= {_name(r) for r in extra}
    imported: set[str] = set()
    for path in (REPO / "src" / "handwerkgeo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    imported -= {*sys.stdlib_module_names, "handwerkgeo"}
    dists = importlib.metadata.packages_distributions()
    undeclared = {
        name: dists.get(name)
        for name in sorted(imported)
        if not {_name(d) for d in dists.get(name, [name])} & declared
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


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


def test_top_level_api_lists_every_lazy_name_for_type_checkers() -> None:
    """``__all__`` is every lazy name and submodule, and the TYPE_CHECKING block imports them."""
    assert set(handwerkgeo.__all__) == {
        "__version__",
        "errors",
        "settings",
        *handwerkgeo._SUBMODULES,
        *handwerkgeo._LAZY,
    }
    tree = ast.parse(Path(handwerkgeo.__file__).read_text(encoding="utf-8"))
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    typed = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    expected = {name: "handwerkgeo" for name in handwerkgeo._SUBMODULES} | handwerkgeo._LAZY
    assert typed == expected


def test_import_does_not_load_geopandas() -> None:
    code = "import sys, handwerkgeo; sys.exit('geopandas' in sys.modules)"
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
