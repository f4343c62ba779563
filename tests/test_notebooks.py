"""The planner notebooks: committed clean, run top to bottom with papermill, reproduce the library.

Each notebook is copied into a temporary working folder and executed there with papermill
(kernel ``python3`` — the interpreter running the tests), with ``DATA_DIR`` pointing to data
fetched once per session from the mirror and ``OUTPUT_DIR`` inside the working folder. A
notebook fails its test on any exception, when it takes two minutes or longer, or when it
writes anywhere but ``OUTPUT_DIR``.
"""

from __future__ import annotations

import ast
import importlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = (
    "01_standortsuche",
    "02_flaechen_bewerten",
    "03_ratsvorlage_export",
    "04_neue_flaechen_nachbewerten",
)
MAX_SECONDS = 120.0
EXAMPLE_PLOTS = files("handwerkgeo") / "data" / "example_plots.geojson"
CHANGED_WEIGHTS = {"ownership": 0, "transit": 40}


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _defaults(nb: nbformat.NotebookNode, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The values the parameters cell assigns (without HANDWERKGEO_DATA_DIR set)."""
    monkeypatch.delenv("HANDWERKGEO_DATA_DIR", raising=False)
    namespace: dict[str, Any] = {}
    exec(_code_cells(nb)[0].source, namespace)
    return namespace


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


# --- the committed notebooks (no kernel) --------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_committed_clean_with_parameters_cell(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    code = _code_cells(nb)
    assert all(c.execution_count is None and c.outputs == [] for c in code)
    assert code[0].metadata.get("tags") == ["parameters"]
    params = _defaults(nb, monkeypatch)
    assert params["DATA_DIR"] == "../data"
    assert params["CONFIG"] is None
    assert params["OUTPUT_DIR"] == f"outputs/{name}"
    monkeypatch.setenv("HANDWERKGEO_DATA_DIR", "/somewhere/else")
    namespace: dict[str, Any] = {}
    exec(code[0].source, namespace)
    assert namespace["DATA_DIR"] == "/somewhere/else"


def test_notebook_specific_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    search = _defaults(_read("01_standortsuche"), monkeypatch)
    assert (search["CELL_M"], search["BEZIRK"], search["STADTTEIL"]) == (100, None, None)
    assert search["QUANTILE"] == 0.95
    scoring = _defaults(_read("02_flaechen_bewerten"), monkeypatch)
    assert scoring["WEIGHTS"] == {} and scoring["PLOTS"] is None


@pytest.mark.parametrize("name", NAMES)
def test_only_public_api_is_imported(name: str) -> None:
    """Every ``from handwerkgeo… import name`` names a public module and an exported name."""
    for cell in _code_cells(_read(name)):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("handwerkgeo"):
                module = node.module or ""
                assert not any(part.startswith("_") for part in module.split(".")), module
                exported = getattr(importlib.import_module(module), "__all__", None)
                for alias in node.names:
                    if exported is not None and module != "handwerkgeo":
                        assert alias.name in exported, f"{name}: {module}.{alias.name}"


# --- executing the notebooks ---------------------------------------------------------------


@dataclass
class Executed:
    """One executed notebook: its output folder, the executed notebook and the time taken."""

    output_dir: Path
    notebook: nbformat.NotebookNode
    seconds: float


@pytest.fixture(scope="session")
def notebook_data(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory fetched once from the mirror and prepared (``data prepare``), shared
    by every notebook run: the notebooks then only read it."""
    from handwerkgeo.fetch import fetch
    from handwerkgeo.prepared import prepare_context

    data_dir = tmp_path_factory.mktemp("notebook-data")
    fetch(mirror=mirror, data_dir=data_dir)
    prepare_context(data_dir)
    return data_dir


def _execute(
    source: Path, work: Path, parameters: dict[str, Any]
) -> tuple[nbformat.NotebookNode, float]:
    """Run ``source`` from a copy in ``work`` (the kernel's working folder) with papermill."""
    import papermill as pm

    work.mkdir(parents=True, exist_ok=True)
    copy = work / source.name
    shutil.copy(source, copy)
    executed = work.parent / f"{work.name}-executed.ipynb"
    start = time.perf_counter()
    nb = pm.execute_notebook(
        str(copy),
        str(executed),
        parameters=parameters,
        cwd=str(work),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
    )
    return nb, time.perf_counter() - start


@pytest.fixture(scope="session")
def run_notebook(
    notebook_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Executed]:
    """Execute a notebook (cached per name and parameters) and check where it wrote."""
    cache: dict[tuple[str, str], Executed] = {}

    def run(name: str, **parameters: Any) -> Executed:
        key = (name, repr(sorted(parameters.items())))
        if key in cache:
            return cache[key]
        work = tmp_path_factory.mktemp(name)
        output_dir = work / "out"  # not the default, so a run ignoring OUTPUT_DIR fails
        data_before = _snapshot(notebook_data)
        nb, seconds = _execute(
            NOTEBOOKS / f"{name}.ipynb",
            work,
            {"DATA_DIR": str(notebook_data), "OUTPUT_DIR": str(output_dir), **parameters},
        )
        assert seconds < MAX_SECONDS, f"{name} took {seconds:.0f} s (limit {MAX_SECONDS:.0f} s)"
        outside = [
            p
            for p in work.rglob("*")
            if p.is_file() and p != work / f"{name}.ipynb" and output_dir not in p.parents
        ]
        assert not outside, f"{name} wrote outside OUTPUT_DIR: {outside}"
        assert _snapshot(notebook_data) == data_before, f"{name} changed the data directory"
        cache[key] = Executed(output_dir=output_dir, notebook=nb, seconds=seconds)
        return cache[key]

    return run


EXPECTED_FILES = {
    "01_standortsuche": [
        "eignungsflaeche_karte.html",
        "eignungsflaeche.png",
        "suchraeume.csv",
        "suchraeume.gpkg",
    ],
    "02_flaechen_bewerten": ["ranking.csv", "konfiguration.yaml", "szenarien.csv", "szenarien.png"],
    "03_ratsvorlage_export": [
        "karte.html",
        "karte_druck.png",
        "karte_druck.pdf",
        "bewertung.xlsx",
        "bewertung.csv",
        "bewertung.gpkg",
        "steckbriefe/index.html",
        "konfiguration.yaml",
        "quellen_und_gewichte.md",
    ],
    "04_neue_flaechen_nachbewerten": [
        "standortregister.gpkg",
        "neue_meldungen.geojson",
        "rangverschiebung.png",
    ],
}


@pytest.mark.mirror
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name: str, run_notebook: Callable[..., Executed]) -> None:
    result = run_notebook(name)
    code = _code_cells(result.notebook)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert all(c.execution_count is not None for c in code), "a cell was not executed"
    missing = [f for f in EXPECTED_FILES[name] if not (result.output_dir / f).is_file()]
    assert not missing, f"{name} did not write {missing}"
    assert any("image/png" in o.get("data", {}) for o in code[-1].outputs), (
        f"{name} does not end with a figure"
    )


@pytest.mark.mirror
@pytest.mark.slow
def test_council_package_states_configuration_and_sources(
    run_notebook: Callable[..., Executed],
) -> None:
    from handwerkgeo.config import load_config

    out = run_notebook("03_ratsvorlage_export").output_dir
    text = (out / "quellen_und_gewichte.md").read_text(encoding="utf-8")
    assert load_config().hash in text
    assert "Lizenz" in text and "OpenStreetMap" in text
    assert load_config(out / "konfiguration.yaml").hash == load_config().hash
    profiles = sorted((out / "steckbriefe").glob("*.pdf"))
    assert len(profiles) == 5  # PROFILE_TOP_N


@pytest.mark.mirror
@pytest.mark.slow
def test_register_notebook_scores_only_new_plots(
    run_notebook: Callable[..., Executed], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handwerkgeo.config import load_config
    from handwerkgeo.register import read_register

    out = run_notebook("04_neue_flaechen_nachbewerten").output_dir
    params = _defaults(_read("04_neue_flaechen_nachbewerten"), monkeypatch)
    reg = read_register(out / "standortregister.gpkg", layers=("runs", "rejects"))
    runs = reg["runs"]
    assert runs["kind"].tolist() == ["add", "add", "rescore"]
    n_examples = int(runs["n_new"].iloc[0])
    second = runs.iloc[1]
    assert (second["n_new"], second["n_scored"], second["n_duplicates"]) == (2, 2, 1)
    assert second["n_plots"] == n_examples + 2
    assert reg["rejects"]["plot_id"].tolist() == ["NEU-03"]
    assert runs["config_hash"].iloc[2] == load_config().with_weights(params["WEIGHT_CHANGE"]).hash
    assert runs["n_scored"].iloc[2] == n_examples + 2


def _ranking(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"plot_id": str})
    table["rank"] = table["rank"].astype("Int64")
    return table.set_index("plot_id").sort_index()


@pytest.mark.mirror
@pytest.mark.slow
def test_weights_parameter_reproduces_library_ranking(
    run_notebook: Callable[..., Executed], notebook_data: Path
) -> None:
    """WEIGHTS set through papermill changes the ranking exactly as score_plots does."""
    from handwerkgeo.config import load_config
    from handwerkgeo.context import load_context
    from handwerkgeo.scoring import score_plots
    from handwerkgeo.sources.plots import read_plots

    default = run_notebook("02_flaechen_bewerten")
    changed = run_notebook("02_flaechen_bewerten", WEIGHTS=CHANGED_WEIGHTS)
    base = load_config()
    config = base.with_weights(CHANGED_WEIGHTS)
    assert load_config(changed.output_dir / "konfiguration.yaml").hash == config.hash

    context = load_context(notebook_data)
    plots = read_plots(str(EXAMPLE_PLOTS))
    for run, cfg in ((default, base), (changed, config)):
        got = _ranking(run.output_dir / "ranking.csv")
        want = score_plots(plots, cfg, context=context).set_index("plot_id").sort_index()
        assert got.index.tolist() == want.index.tolist()
        pd.testing.assert_series_equal(got["rank"], want["rank"], check_names=False)
        assert got["excluded"].tolist() == want["excluded"].tolist()
        pd.testing.assert_series_equal(
            got["score_total"], want["score_total"].astype(float), check_names=False, rtol=1e-12
        )

    before = _ranking(default.output_dir / "ranking.csv")["rank"]
    after = _ranking(changed.output_dir / "ranking.csv")["rank"]
    assert not before.equals(after), "changing the weights did not change the ranking"
    # transit counts four times as much and ownership not at all: the ranking follows transit
    # more closely and ownership less closely than before
    scored = score_plots(plots, base, context=context).set_index("plot_id").sort_index()
    ranked = before.notna()

    def agreement(rank: pd.Series, column: str) -> float:
        return float(
            (-rank[ranked].astype(float)).corr(scored.loc[ranked, column], method="spearman")
        )

    assert agreement(after, "u_transit") > agreement(before, "u_transit")
    assert agreement(after, "u_ownership") < agreement(before, "u_ownership")


# --- the setup cell and the kernel ---------------------------------------------------------


def _setup_only(name: str, folder: Path) -> Path:
    """A copy of notebook ``name`` cut after its data setup cell."""
    nb = _read(name)
    cut = next(i for i, c in enumerate(nb.cells) if "fehlende_datenebenen(DATA_DIR)" in c.source)
    nb.cells = nb.cells[: cut + 1]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.mirror
def test_setup_cell_fetches_missing_data_from_mirror(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handwerkgeo.fetch import layer_paths, load_manifest

    monkeypatch.setenv("HANDWERKGEO_DATA_MIRROR", str(mirror))
    data_dir = tmp_path / "data"
    source = _setup_only("01_standortsuche", tmp_path / "src")
    _execute(source, tmp_path / "work", {"DATA_DIR": str(data_dir), "OUTPUT_DIR": "out"})
    for layer in load_manifest().layers:
        assert all(p.is_file() for p in layer_paths(layer, data_dir))
    assert (tmp_path / "work" / "out").is_dir()


def test_setup_cell_without_data_or_mirror_explains_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.delenv("HANDWERKGEO_DATA_MIRROR", raising=False)
    source = _setup_only("02_flaechen_bewerten", tmp_path / "src")
    params = {"DATA_DIR": str(tmp_path / "empty"), "OUTPUT_DIR": "out"}
    with pytest.raises(PapermillExecutionError) as info:
        _execute(source, tmp_path / "work", params)
    assert info.value.ename == "DataSourceError"
    assert "HANDWERKGEO_DATA_MIRROR" in info.value.evalue
    assert "handwerkgeo data fetch" in info.value.evalue
    assert not (tmp_path / "empty").exists()


def test_kernel_is_this_environment(tmp_path: Path) -> None:
    """kernel_name="python3" starts the interpreter of this virtualenv, not another Python."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)")]
    )
    NotebookClient(
        nb, kernel_name="python3", timeout=60, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    kernel_prefix = nb.cells[0].outputs[0]["text"].strip()
    assert os.path.realpath(kernel_prefix) == os.path.realpath(sys.prefix)
