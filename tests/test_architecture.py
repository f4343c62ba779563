"""Gates that keep the package's shape (issue #9): one-way imports, small files, short functions.

Read from the source with :mod:`ast` (nothing is imported), so a failure names the file
and line to change.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from handwerkgeo import errors

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = SRC / "handwerkgeo"

#: Most lines a file in src/ may have (the style guide says ~600).
MAX_LINES = 650


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_nodes(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: not in functions, not under TYPE_CHECKING."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_time_nodes(node.body)
            yield from _import_time_nodes(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    if isinstance(child, ast.ExceptHandler):
                        yield from _import_time_nodes(child.body)
                    elif isinstance(child, ast.stmt):
                        yield from _import_time_nodes([child])


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, path: Path, known: set[str]
) -> Iterator[tuple[str, str | None]]:
    """(imported package module, imported name or None) for one import statement."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == "handwerkgeo":
                yield alias.name, None
        return
    source = _absolute(node, module, path.name == "__init__.py")
    if source.split(".")[0] != "handwerkgeo":
        return
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        yield (sub, None) if sub in known else (source, alias.name)


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_time_nodes(tree.body):
            for target, _name in _targets(node, module, path, known):
                if target in known and target != module:
                    graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_one_cycle(graph, sorted(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A concrete cycle a → b → … → a inside one strongly connected component."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}
    while True:
        nxt = sorted(graph[path[-1]] & members)
        back = [n for n in nxt if n == start]
        if back and len(path) > 1:
            return [*path, start]
        fresh = [n for n in nxt if n not in seen]
        if not fresh:
            return [*path, start]
        path.append(fresh[0])
        seen.add(fresh[0])


# --- (a) no import cycle --------------------------------------------------------------


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package() -> None:
    cycles = _cycles(_import_graph())
    shown = "\n".join(" → ".join(c) for c in cycles)
    assert not cycles, (
        f"import cycles between modules of handwerkgeo (imports run at import time):\n{shown}"
    )


def test_import_graph_sees_the_known_edges() -> None:
    graph = _import_graph()
    assert "handwerkgeo.errors" in graph["handwerkgeo.network.graph"]
    assert "handwerkgeo.network.measures" in graph["handwerkgeo.network"]
    # imports inside functions do not count: the CLI imports the engine lazily
    assert not any(m.startswith("handwerkgeo.scoring") for m in graph["handwerkgeo.cli.score"])


# --- (b) no private name imported across modules ----------------------------------------


def _private_imports(only: tuple[str, ...] | None = None) -> list[str]:
    modules = _modules()
    known = set(modules)
    found = []
    for module, path in modules.items():
        rel = path.relative_to(REPO).as_posix()
        if only is not None and not rel.startswith(only):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            for target, name in _targets(node, module, path, known):
                private = name is not None and name.startswith("_") and not name.startswith("__")
                if private and target != module:
                    found.append(f"{rel}:{node.lineno}: from {target} import {name}")
    return found


def test_no_private_import_across_modules() -> None:
    found = _private_imports()
    assert not found, "private names imported from another module (make them public or "
    "move them to a shared _util-style module):\n" + "\n".join(found)


# --- (c) files a newcomer can hold in mind ----------------------------------------------


def _long_files(only: tuple[str, ...] | None = None) -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if only is not None and not rel.startswith(only):
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            found.append(f"{rel}: {n} lines")
    return found


def test_no_file_over_650_lines() -> None:
    found = _long_files()
    assert not found, f"files over {MAX_LINES} lines (split by concern):\n" + "\n".join(found)


# --- (d) short functions, few arguments ---------------------------------------------------


def _ruff(*paths: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed")
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "C901,PLR0913", *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_complexity_and_arguments() -> None:
    res = _ruff("src")
    assert res.returncode == 0, res.stdout + res.stderr


# --- layers: imports go one way (docs/design.md, "Layers") ---------------------------------

#: top-level module or package of handwerkgeo -> layer; a module imports only from its own
#: layer or the ones below (smaller numbers)
LAYERS = {
    **dict.fromkeys(
        [
            "errors",
            "settings",
            "crs",
            "crs_names",
            "messages",
            "_atomic",
            "_io",
            "_options",
            "_text",
            "_ids",
            "_geom",
            "_validate",
            "spreadsheet",
            "_regions",
            "_colours",
            "_gpkg",
            "_qgis_style",
        ],
        0,
    ),
    **dict.fromkeys(["fetch", "manifest", "sources", "vocabulary", "boundary"], 1),
    **dict.fromkeys(["network", "criteria", "config", "_config_errors", "context", "prepared"], 2),
    **dict.fromkeys(["scoring", "scorer", "search", "sensitivity"], 3),
    **dict.fromkeys(["export", "register", "scale"], 4),
    "cli": 5,
    "__main__": 5,
}


def _layer_violations() -> list[str]:
    modules = _modules()
    known = set(modules)
    found = []
    for module, path in modules.items():
        parts = module.split(".")
        if len(parts) == 1:
            continue  # handwerkgeo/__init__.py exposes the API lazily
        if parts[1] not in LAYERS:
            found.append(f"{module}: not in the LAYERS table of this test (add it)")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):  # every import, also inside functions
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target, _name in _targets(node, module, path, known):
                top = target.split(".")[1] if "." in target else None
                if top in LAYERS and LAYERS[top] > LAYERS[parts[1]]:
                    found.append(
                        f"{path.relative_to(REPO).as_posix()}:{node.lineno}: {module} (layer "
                        f"{LAYERS[parts[1]]}) imports {target} (layer {LAYERS[top]})"
                    )
    return found


def test_imports_go_down_the_layers() -> None:
    found = sorted(set(_layer_violations()))
    assert not found, "imports against the layers of docs/design.md:\n" + "\n".join(found)


# --- the error classes keep their promise ---------------------------------------------------


def test_every_error_is_a_handwerkgeo_error_and_a_builtin() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    assert all(inspect.isclass(c) for c in classes)
    for cls in classes:
        assert issubclass(cls, errors.HandwerkgeoError), cls
        if cls is errors.HandwerkgeoError:
            continue
        builtins_ = [b for b in cls.__mro__ if b.__module__ == "builtins"]
        assert set(builtins_) - {Exception, BaseException, object}, (
            f"{cls.__name__} must also derive from the matching built-in (ValueError, …)"
        )
