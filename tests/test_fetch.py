"""Fetching data: manifest, mirror copy, downloads (local HTTP server), checksums, provenance."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from handwerkgeo import fetch as hf
from handwerkgeo.errors import DataSourceError

BODY = b"id,name\n1,Altstadt\n2,Carlstadt\n" * 100
BODY_SHA = hashlib.sha256(BODY).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/good.csv":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/truncated.csv":
            # announces more bytes than it sends, then closes the connection
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY) * 2))
            self.end_headers()
            self.wfile.write(BODY)
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_error(404, "Not Found")

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(autouse=True)
def _no_mirror_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI sets HANDWERKGEO_DATA_MIRROR; these tests choose their mirror (or none) themselves."""
    monkeypatch.delenv("HANDWERKGEO_DATA_MIRROR", raising=False)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _manifest(tmp_path: Path, url: str | None, sha: str = BODY_SHA) -> hf.Manifest:
    spec = {
        "version": 1,
        "layers": {
            "demo": {
                "title": "Demo table",
                "publisher": "Test",
                "url": url,
                "landing_page": "https://example.org/demo",
                "licence": "dl-de/zero-2.0",
                "attribution": "Test, dl-de/zero-2.0",
                "files": [{"path": "demo/table.csv", "sha256": sha}],
            }
        },
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return hf.load_manifest(path)


def _raw_files(data_dir: Path) -> list[str]:
    raw = data_dir / "raw"
    return sorted(
        str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file() and p.name != ".fetch.lock"
    )


# --- manifest -----------------------------------------------------------------------------

DESIGN_LAYERS = {
    "stadtteile",
    "bezirk_profiles",
    "population_migration",
    "population_2012_2024",
    "population_forecast_2035",
    "population_projection",
    "primary_pupils",
    "households_sozialraum",
    "vrr_stops",
    "vrr_lines",
    "schools",
    "osm_streets_central",
    "osm_main_roads_city",
    "cycling_network",
}


def test_shipped_manifest_lists_the_design_layers() -> None:
    m = hf.load_manifest()
    assert set(m.layers) == DESIGN_LAYERS
    for layer in m.layers.values():
        assert layer.licence and layer.attribution and layer.landing_page
        for entry in layer.files:
            # every file can be got somehow: a URL, or a landing page for a manual download
            assert layer.download_url(entry) or layer.landing_page.startswith("https://")
    osm = m.layer("osm_streets_central")
    assert osm.attribution == "© OpenStreetMap contributors"
    assert osm.licence == "ODbL 1.0"
    assert len(osm.files) == 5
    roads = m.layer("osm_main_roads_city")
    assert roads.licence == "ODbL 1.0" and roads.attribution == "© OpenStreetMap contributors"
    assert "no highway class" in roads.title
    assert [e.path for e in roads.files] == ["osm/hauptstrassen_stadt/level_4.json"]


def test_manifest_hashes_match_the_mirror(mirror: Path) -> None:
    for layer in hf.load_manifest().layers.values():
        for entry in layer.files:
            path = mirror / entry.path
            assert path.is_file(), entry.path
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256, entry.path


def test_unknown_layer_is_named() -> None:
    with pytest.raises(DataSourceError, match=r"unknown data layer 'nope'.*stadtteile"):
        hf.load_manifest().layer("nope")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"sha256": "abc"}, "sha256"),
        ({"path": "../outside.csv"}, "relative"),
    ],
)
def test_bad_manifest_is_rejected(tmp_path: Path, change: dict[str, str], match: str) -> None:
    spec = {
        "version": 1,
        "layers": {
            "demo": {
                "title": "t",
                "publisher": "p",
                "url": None,
                "landing_page": "https://example.org",
                "licence": "l",
                "attribution": "a",
                "files": [{"path": "a.csv", "sha256": BODY_SHA, **change}],
            }
        },
    }
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(DataSourceError, match=match):
        hf.load_manifest(path)


# --- downloads ----------------------------------------------------------------------------


def test_download_good_file(tmp_path: Path, server: str) -> None:
    man = _manifest(tmp_path, f"{server}/good.csv")
    data = tmp_path / "data"
    out = hf.fetch(data_dir=data, manifest=man, mirror=None, timeout_s=10)
    assert [r["action"] for r in out] == ["downloaded"]
    target = data / "raw" / "demo" / "table.csv"
    assert target.read_bytes() == BODY
    prov = json.loads((data / "raw" / "provenance.json").read_text(encoding="utf-8"))
    rec = prov["files"]["demo/table.csv"]
    assert rec["source"] == f"{server}/good.csv"
    assert rec["source_type"] == "url"
    assert rec["sha256"] == BODY_SHA
    assert rec["bytes"] == len(BODY)
    assert rec["licence"] == "dl-de/zero-2.0"
    assert rec["retrieved_at"].endswith("Z")
    assert _raw_files(data) == ["demo/table.csv", "provenance.json"]


def test_download_404_names_landing_page_and_target(tmp_path: Path, server: str) -> None:
    man = _manifest(tmp_path, f"{server}/missing.csv")
    data = tmp_path / "data"
    with pytest.raises(DataSourceError) as err:
        hf.fetch(data_dir=data, manifest=man, mirror=None, timeout_s=10)
    text = str(err.value)
    assert "'demo'" in text and "demo/table.csv" in text
    assert "HTTP 404" in text
    assert "https://example.org/demo" in text
    assert str(data / "raw" / "demo" / "table.csv") in text
    assert _raw_files(data) == []


def test_download_unreachable(tmp_path: Path, server: str) -> None:
    # a port nobody listens on (the fixture's server is up, so take another one)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    man = _manifest(tmp_path, f"http://127.0.0.1:{port}/good.csv")
    data = tmp_path / "data"
    with pytest.raises(DataSourceError, match=r"download from .* failed.*by hand"):
        hf.fetch(data_dir=data, manifest=man, mirror=None, timeout_s=5)
    assert _raw_files(data) == []


def test_download_wrong_checksum_writes_nothing(tmp_path: Path, server: str) -> None:
    wrong = "0" * 64
    man = _manifest(tmp_path, f"{server}/good.csv", sha=wrong)
    data = tmp_path / "data"
    with pytest.raises(DataSourceError) as err:
        hf.fetch(data_dir=data, manifest=man, mirror=None, timeout_s=10)
    text = str(err.value)
    assert f"expected sha256 {wrong}" in text and f"got {BODY_SHA}" in text
    assert "Nothing was written" in text
    assert _raw_files(data) == []


def test_interrupted_download_leaves_nothing(tmp_path: Path, server: str) -> None:
    man = _manifest(tmp_path, f"{server}/truncated.csv")
    data = tmp_path / "data"
    with pytest.raises(DataSourceError, match="nothing was written"):
        hf.fetch(data_dir=data, manifest=man, mirror=None, timeout_s=10)
    assert _raw_files(data) == []


def test_interrupted_download_keeps_the_good_old_file(tmp_path: Path, server: str) -> None:
    good = _manifest(tmp_path, f"{server}/good.csv")
    data = tmp_path / "data"
    hf.fetch(data_dir=data, manifest=good, mirror=None, timeout_s=10)
    bad = _manifest(tmp_path, f"{server}/truncated.csv")
    with pytest.raises(DataSourceError):
        hf.fetch(data_dir=data, manifest=bad, mirror=None, force=True, timeout_s=10)
    assert (data / "raw" / "demo" / "table.csv").read_bytes() == BODY
    assert _raw_files(data) == ["demo/table.csv", "provenance.json"]


def test_landing_page_only_tells_where_to_put_the_file(tmp_path: Path) -> None:
    man = _manifest(tmp_path, None)
    data = tmp_path / "data"
    with pytest.raises(DataSourceError) as err:
        hf.fetch(data_dir=data, manifest=man, mirror=None)
    text = str(err.value)
    assert "only the landing page https://example.org/demo" in text
    assert str(data / "raw" / "demo" / "table.csv") in text
    # the user follows the advice: the file placed by hand is verified and recorded
    target = data / "raw" / "demo" / "table.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(BODY)
    out = hf.fetch(data_dir=data, manifest=man, mirror=None)
    assert out[0]["action"] == "up to date"
    rec = hf.read_provenance(data)["files"]["demo/table.csv"]
    assert rec["source_type"] == "manual"
    assert rec["sha256"] == BODY_SHA


def test_env_mirror_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "demo").mkdir(parents=True)
    (mirror / "demo" / "table.csv").write_bytes(BODY)
    monkeypatch.setenv("HANDWERKGEO_DATA_MIRROR", str(mirror))
    out = hf.fetch(data_dir=tmp_path / "data", manifest=_manifest(tmp_path, None))
    assert out[0]["action"] == "copied"
    assert out[0]["source"] == str(mirror / "demo" / "table.csv")


def test_mirror_missing_file_is_named(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = tmp_path / "data"
    with pytest.raises(DataSourceError) as err:
        hf.fetch(data_dir=data, manifest=_manifest(tmp_path, None), mirror=mirror)
    text = str(err.value)
    assert "demo/table.csv is missing from the data mirror" in text
    assert str(mirror / "demo" / "table.csv") in text
    assert _raw_files(data) == []


def test_mirror_corrupt_file_is_rejected(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "demo").mkdir(parents=True)
    (mirror / "demo" / "table.csv").write_bytes(BODY[:-1])
    data = tmp_path / "data"
    with pytest.raises(DataSourceError, match="checksum mismatch"):
        hf.fetch(data_dir=data, manifest=_manifest(tmp_path, None), mirror=mirror)
    assert _raw_files(data) == []


def test_missing_mirror_directory(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        hf.fetch(data_dir=tmp_path, manifest=_manifest(tmp_path, None), mirror=tmp_path / "x")


# --- real mirror --------------------------------------------------------------------------


def test_fetch_from_real_mirror(mirror: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    layers = ["stadtteile", "osm_streets_central", "schools"]
    out = hf.fetch(mirror=mirror, data_dir=data, layers=layers)
    assert len(out) == 7
    assert {r["action"] for r in out} == {"copied"}
    prov = hf.read_provenance(data)
    assert set(prov["files"]) == {r["path"] for r in out}
    man = hf.load_manifest()
    for r in out:
        rec = prov["files"][r["path"]]
        target = data / "raw" / r["path"]
        assert target.is_file()
        assert rec["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
        assert rec["bytes"] == target.stat().st_size
        assert rec["source"] == str(mirror / r["path"])
        assert rec["layer"] == r["layer"]
        assert rec["licence"] == man.layer(r["layer"]).licence
        assert rec["attribution"] == man.layer(r["layer"]).attribution
    assert prov["files"]["osm/strassennetz_zentrum/level_0.json"]["attribution"] == (
        "© OpenStreetMap contributors"
    )
    # idempotent: the second run rewrites neither the files nor the provenance record
    before = {p: p.stat().st_mtime_ns for p in (data / "raw").rglob("*") if p.is_file()}
    out2 = hf.fetch(mirror=mirror, data_dir=data, layers=layers)
    assert {r["action"] for r in out2} == {"up to date"}
    after = {p: p.stat().st_mtime_ns for p in (data / "raw").rglob("*") if p.is_file()}
    assert after == before
    # force copies again
    out3 = hf.fetch(mirror=mirror, data_dir=data, layers=["schools"], force=True)
    assert [r["action"] for r in out3] == ["copied"]


def test_layer_paths_and_info(mirror: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with pytest.raises(DataSourceError, match="handwerkgeo data fetch --layer stadtteile"):
        hf.layer_paths("stadtteile", data)
    hf.fetch(mirror=mirror, data_dir=data, layers=["stadtteile", "cycling_network", "vrr_stops"])
    paths = hf.layer_paths("stadtteile", data)
    assert paths == [data / "raw" / "grenzen" / "Stadtteilgrenzen_Duesseldorf_2021_ETRS89.geojson"]
    info = hf.layer_info(data).set_index("name")
    assert len(info) == len(DESIGN_LAYERS)
    assert info.loc["stadtteile", "features"] == 50
    assert info.loc["stadtteile", "crs"] == "EPSG:4647"
    assert info.loc["cycling_network", "features"] == 619
    assert info.loc["vrr_stops", "features"] == 630
    assert info.loc["vrr_stops", "crs"] == "EPSG:4326 (declared)"
    assert info.loc["schools", "fetched"] == 0
    assert info["features"].isna().loc["schools"]


# --- command line -------------------------------------------------------------------------


def test_cli_fetch_and_info(mirror: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    runner = CliRunner()
    data = tmp_path / "data"
    args = ["data", "fetch", "--mirror", str(mirror), "--data-dir", str(data)]
    res = runner.invoke(app, [*args, "--layer", "stadtteile", "--layer", "cycling_network"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0].split() == [
        "copied",
        "stadtteile",
        "grenzen/Stadtteilgrenzen_Duesseldorf_2021_ETRS89.geojson",
    ]
    assert lines[-1] == "2 file(s): 2 copied"
    res = runner.invoke(app, [*args, "--layer", "stadtteile"])
    assert res.stdout.startswith("up to date  stadtteile")

    res = runner.invoke(app, ["data", "info", "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    row = next(ln for ln in res.stdout.splitlines() if ln.startswith("| stadtteile "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:5] == ["stadtteile", "1", "50", "EPSG:4647", "dl-de/zero-2.0"]
    assert "not (fully) fetched" in res.stdout

    res = runner.invoke(app, ["data", "info", "--json", "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    records = {r["name"]: r for r in json.loads(res.stdout)}
    assert records["cycling_network"]["features"] == 619
    assert records["schools"]["features"] is None
    assert records["osm_streets_central"]["attribution"] == "© OpenStreetMap contributors"


def test_cli_fetch_failure_exit_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    empty = tmp_path / "mirror"
    empty.mkdir()
    res = CliRunner().invoke(
        app,
        [
            "data",
            "fetch",
            "--mirror",
            str(empty),
            "--data-dir",
            str(tmp_path / "d"),
            "--layer",
            "schools",
        ],
    )
    assert res.exit_code == 1
    assert "schulen/schulen.csv is missing from the data mirror" in res.stderr
    assert res.stdout == ""
    res = CliRunner().invoke(app, ["data", "fetch", "--layer", "nope", "--mirror", str(empty)])
    assert res.exit_code == 1
    assert "unknown data layer 'nope'" in res.stderr


def test_cli_subprocess(mirror: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "handwerkgeo", "data", "fetch", "--layer", "schools"]
    env = {**os.environ, "HANDWERKGEO_DATA_MIRROR": str(mirror), "HANDWERKGEO_DATA_DIR": str(data)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == ["copied", "schools", "schulen/schulen.csv"]
    assert (data / "raw" / "schulen" / "schulen.csv").is_file()
    assert (data / "raw" / "provenance.json").is_file()


@pytest.mark.parametrize("crs", ["urn:adv:crs:ETRS89_UTM32", "EPSG::4647", "4326"])
def test_manifest_layer_crs_in_german_spellings(tmp_path: Path, crs: str) -> None:
    spec = {
        "version": 1,
        "layers": {
            "demo": {
                "title": "t",
                "publisher": "p",
                "url": None,
                "landing_page": "https://example.org",
                "licence": "l",
                "attribution": "a",
                "crs": crs,
                "files": [{"path": "a.csv", "sha256": BODY_SHA}],
            }
        },
    }
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert hf.load_manifest(path).layer("demo").crs == crs
    spec["layers"]["demo"]["crs"] = "urn:adv:crs:ETRS89_UTM99"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(DataSourceError, match="ETRS89_UTM99"):
        hf.load_manifest(path)
