"""The prepared scoring context in data/processed: same results, stale or damaged files rebuilt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from handwerkgeo import prepared
from handwerkgeo.context import LAYER_NAMES, load_context

pytestmark = pytest.mark.mirror


@pytest.fixture(scope="module")
def data_dir(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fetched data directory of this module (its processed/ folder is written to)."""
    from handwerkgeo.fetch import fetch

    d = tmp_path_factory.mktemp("prepared-data")
    fetch(mirror=mirror, data_dir=d)
    return d


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records every build of the context from the sources."""
    calls: list[bool] = []
    original = prepared._build

    def counting(data_dir, network):
        calls.append(network)
        return original(data_dir, network)

    monkeypatch.setattr(prepared, "_build", counting)
    return calls


def _same_layers(a, b) -> None:
    for name in (*[n for n in LAYER_NAMES if n != "network"], *a.extra):
        left, right = a.layer(name), b.layer(name)
        assert (left is None) == (right is None), name
        if left is not None:
            pd.testing.assert_frame_equal(
                pd.DataFrame(left), pd.DataFrame(right), check_like=False, obj=name
            )
            assert getattr(left, "crs", None) == getattr(right, "crs", None), name
            assert left.attrs == right.attrs, name
    assert a.sources == b.sources


@pytest.mark.slow
def test_prepared_context_gives_the_same_scores(data_dir: Path, builds: list[bool]) -> None:
    from handwerkgeo.config import default_config
    from handwerkgeo.scoring import score_plots

    built = load_context(data_dir, cache=False)
    first = load_context(data_dir)  # builds and writes the prepared file
    assert builds == [True]
    assert prepared.cache_file(data_dir).is_file()
    loaded = load_context(data_dir)  # reads it
    assert builds == [True]
    _same_layers(built, loaded)
    net_a, net_b = built.network, loaded.network
    assert np.array_equal(net_a.node_ids, net_b.node_ids)
    assert np.array_equal(net_a.xy, net_b.xy)
    assert (net_a.csr != net_b.csr).nnz == 0
    kinds = sorted(key[0] for key in net_b.fields)
    assert kinds == ["k", "nearest", "reach"]

    from test_scoring_pin import _random_plots  # the pin's plot generator

    plots = _random_plots(built.stadtteile.union_all(), 400, seed=3)
    config = default_config()
    want = score_plots(plots, config, context=built)
    for ctx in (first, loaded):
        got = score_plots(plots, config, context=ctx)
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want))


def test_damaged_stale_and_other_version_files_are_rebuilt(
    data_dir: Path, builds: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = prepared.cache_file(data_dir, network=False)
    load_context(data_dir, network=False)
    assert path.is_file()
    n_builds = len(builds)
    good = path.read_bytes()
    load_context(data_dir, network=False)
    assert len(builds) == n_builds  # up to date: read, not built

    # a flipped byte in the middle, a truncated file, garbage
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    for content in (bytes(damaged), good[: len(good) // 3], b"not a cache"):
        path.write_bytes(content)
        ctx = load_context(data_dir, network=False)
        assert len(builds) == n_builds + 1, "a damaged file must be rebuilt, never used"
        n_builds += 1
        assert ctx.stops is not None and len(ctx.stops) > 0
        assert path.read_bytes() != content

    # another checksum of a fetched file: stale
    prov = data_dir / "raw" / "provenance.json"
    original = prov.read_text(encoding="utf-8")
    record = json.loads(original)
    first = sorted(record["files"])[0]
    record["files"][first]["sha256"] = "0" * 64
    prov.write_text(json.dumps(record), encoding="utf-8")
    try:
        load_context(data_dir, network=False)
        assert len(builds) == n_builds + 1
        n_builds += 1
    finally:
        prov.write_text(original, encoding="utf-8")
    load_context(data_dir, network=False)  # back to the original data: stale again
    assert len(builds) == n_builds + 1
    n_builds += 1

    # another package version
    monkeypatch.setattr(prepared, "_package_version", lambda: "999.0")
    load_context(data_dir, network=False)
    assert len(builds) == n_builds + 1
    load_context(data_dir, network=False)
    assert len(builds) == n_builds + 1  # written for that version, then read


def test_no_file_without_fetched_data_and_cache_false_reads_sources(
    tmp_path: Path, data_dir: Path, builds: list[bool]
) -> None:
    empty = tmp_path / "empty"
    (empty / "raw").mkdir(parents=True)
    ctx = load_context(empty, network=False)
    assert ctx.stops is None
    assert not prepared.cache_file(empty, network=False).exists()
    n = len(builds)
    load_context(data_dir, network=False, cache=False)
    assert len(builds) == n  # cache=False never touches the prepared file


def test_data_prepare_command(tmp_path: Path, data_dir: Path) -> None:
    from handwerkgeo.cli import app

    runner = CliRunner()
    empty = tmp_path / "empty"
    res = runner.invoke(app, ["data", "prepare", "--data-dir", str(empty)])
    assert res.exit_code == 1
    assert "data fetch" in res.output
    copy = tmp_path / "copy"
    shutil.copytree(data_dir / "raw", copy / "raw")
    res = runner.invoke(
        app, ["data", "prepare", "--data-dir", str(copy), "--no-network", "--lang", "en"]
    )
    assert res.exit_code == 0, res.output
    assert "prepared context written" in res.output
    assert prepared.cache_file(copy, network=False).is_file()
