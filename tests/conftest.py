"""Shared fixtures: tiny synthetic frames in EPSG:25832 and the real data mirror."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path | None:
    env = os.environ.get("HANDWERKGEO_DATA_MIRROR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "duesseldorf")
    for c in candidates:
        if (c / "README.md").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The read-only Düsseldorf data mirror; skips (or fails in CI) when absent."""
    m = _mirror()
    if m is None:
        if os.environ.get("HANDWERKGEO_REQUIRE_MIRROR"):
            pytest.fail("HANDWERKGEO_REQUIRE_MIRROR is set but the data mirror was not found")
        pytest.skip("Düsseldorf data mirror not found (set HANDWERKGEO_DATA_MIRROR)")
    return m


# --- street network fixtures (sources.osm, network, criteria.accessibility) -----------


@pytest.fixture(scope="session")
def central_ways(mirror: Path):
    """The 16,666 OSM ways of the central street extract, EPSG:25832."""
    from handwerkgeo.sources.osm import read_osm_ways

    folder = mirror / "osm" / "strassennetz_zentrum"
    return read_osm_ways(sorted(folder.glob("level_*.json")))


@pytest.fixture(scope="session")
def central_graph(central_ways):
    """Walking graph of the central extract, every vertex a node."""
    from handwerkgeo.sources.osm import graph_from_ways

    return graph_from_ways(central_ways)


@pytest.fixture(scope="session")
def central_network(central_graph):
    """Network (largest component) of the central extract."""
    from handwerkgeo.network import prepare_network

    return prepare_network(central_graph)


@pytest.fixture(scope="session")
def mirror_stops(mirror: Path):
    """The 630 VRR stops read directly from the mirror JSON (stop_id, platform_count), 25832."""
    import json

    import geopandas as gpd
    import pandas as pd

    with open(mirror / "oepnv" / "stops-duesseldorf.json", encoding="utf-8") as f:
        raw = pd.DataFrame(json.load(f)["stops"])
    frame = pd.DataFrame(
        {"stop_id": raw["id"], "name": raw["name"], "platform_count": raw["platformCount"]}
    )
    points = gpd.points_from_xy(raw["lon"], raw["lat"])
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326").to_crs("EPSG:25832")


@pytest.fixture
def grid_graph():
    """A 6 × 6 street grid with 100 m blocks in EPSG:25832 (origin 340000/5680000)."""
    import networkx as nx
    from shapely.geometry import LineString

    x0, y0, step, n = 340_000.0, 5_680_000.0, 100.0, 6
    G = nx.MultiDiGraph(crs="EPSG:25832")
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=x0 + i * step, y=y0 + j * step)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + (j + dj)
                    for u, v in ((a, b), (b, a)):
                        geom = LineString(
                            [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
                        )
                        G.add_edge(u, v, length=step, geometry=geom)
    return G


# --- fetched data and the loaded scoring context (integration tests) -----------------


@pytest.fixture(scope="session")
def fetched_data_dir(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with every layer fetched from the mirror (once per session)."""
    from handwerkgeo.fetch import fetch

    data_dir = tmp_path_factory.mktemp("data")
    fetch(mirror=mirror, data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="session")
def duesseldorf_context(fetched_data_dir: Path):
    """The full scoring context loaded from the fetched Düsseldorf data (once per session)."""
    from handwerkgeo.context import load_context

    return load_context(fetched_data_dir)


# --- a throwaway PostgreSQL/PostGIS cluster for the register's PostGIS backend ---------------

_PG_BIN = Path("/usr/lib/postgresql/15/bin")
_POSTGIS = Path("/usr/share/postgresql/15/extension/postgis.control")


def _pg_missing() -> str | None:
    if not (_PG_BIN / "initdb").is_file():
        return f"PostgreSQL 15 is not installed ({_PG_BIN}); run `make sysdeps`"
    if not _POSTGIS.is_file():
        return "PostGIS for PostgreSQL 15 is not installed; run `make sysdeps`"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgis]')"
    return None


@pytest.fixture(scope="session")
def postgis_server():
    """URL of a PostgreSQL 15 + PostGIS cluster started for this test session.

    initdb in a temporary folder, a free port, the unix socket in that folder (no TCP),
    trust authentication; stopped and removed at the end. As root, the server runs as the
    unprivileged ``postgres`` user (PostgreSQL refuses to run as root).
    """
    import shutil
    import socket
    import subprocess
    import tempfile

    missing = _pg_missing()
    if missing:
        if os.environ.get("HANDWERKGEO_REQUIRE_POSTGIS"):
            pytest.fail(missing)
        pytest.skip(missing)
    root = Path(tempfile.mkdtemp(prefix="handwerkgeo-pg-"))
    as_user: list[str] = []
    if os.getuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)

    run(str(_PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--locale=C")  # fmt: skip
    opts = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off"
    run(str(_PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l",
        str(root / "server.log"), "start")  # fmt: skip
    try:
        yield f"postgresql://postgres@/postgres?host={root}&port={port}"
    finally:
        subprocess.run(
            [*as_user, str(_PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["gpkg", "postgis"])
def register_at(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Where a test's site register lives: a GeoPackage, or a fresh schema in PostGIS.

    With PostGIS the change reports go to the working directory, so it is ``tmp_path``.
    """
    if request.param == "gpkg":
        return tmp_path / "sites.gpkg"
    url = request.getfixturevalue("postgis_server")
    monkeypatch.chdir(tmp_path)
    return f"{url}&schema=t_{os.urandom(6).hex()}"


#: Debian's chromium, never a downloaded browser; flags that keep it from calling home
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian chromium driven by Playwright (fails in CI when missing, skips elsewhere)."""
    if not CHROMIUM.exists():
        if os.environ.get("HANDWERKGEO_REQUIRE_MIRROR"):
            pytest.fail("/usr/bin/chromium is missing; install it with `make sysdeps`")
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
