"""Measure the offline score map on a whole-city 100 m grid: file size and time to ready.

A square 100 m grid over the bounds of Düsseldorf's Stadtteile, clipped to the city, gets
synthetic scores for all 15 criteria (plus a dozen larger "plots"), is exported with
:func:`handwerkgeo.export.maps.export_map` with the offline base map
(:func:`handwerkgeo.export.basemap.load_base_map`: streets, Bezirke, Stadtteile, stops,
cycling network) and, for comparison, without it, and opened in headless Debian Chromium
from ``file://`` with every network request blocked. Reported:

- export time (Python), file size with and without the base map (budget: 3.5 MB with it),
- time to ready: from navigation start until the map script has built and added its layers
  (``window.hwgReadyAt``) and until the canvas has painted (``window.hwgPaintedAt``).

Usage::

    .venv/bin/python benchmarks/bench_map.py [--mirror DIR] [--data-dir DIR] [--cell-m 100]
        [--runs 3]

Needs the data mirror (``HANDWERKGEO_DATA_MIRROR`` or ``../shared/data/duesseldorf``) and
``/usr/bin/chromium``; the base map is read from ``--data-dir`` (fetched data) or, without
it, fetched from the mirror into a temporary folder. Writes its maps to
``benchmarks/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.crs import CRS
from handwerkgeo.export.basemap import BaseMap, load_base_map
from handwerkgeo.export.maps import export_map

REPO = Path(__file__).resolve().parents[1]
CRITERIA = {
    "plot_size": 10,
    "plot_shape": 4,
    "zoning": 10,
    "brownfield": 5,
    "noise_buffer": 6,
    "motorway": 10,
    "main_road": 5,
    "transit": 10,
    "cycling": 5,
    "customer_potential": 10,
    "landuse_mix": 5,
    "jobs_housing": 3,
    "social_mix": 2,
    "ownership": 8,
    "land_value": 7,
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def city_grid(mirror: Path, cell_m: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Stadtteile in EPSG:25832 and square cells over their bounds, clipped to the city."""
    path = mirror / "grenzen" / "Stadtteilgrenzen_Duesseldorf_2021_ETRS89.geojson"
    st = gpd.read_file(path)  # EPSG:4647 (zone-prefixed eastings)
    st = st.to_crs(CRS)
    st = gpd.GeoDataFrame(
        {
            "stadtteil_code": st["Stadtteil"].astype(int).map("{:03d}".format),
            "stadtteil_name": st["Name"].astype(str),
        },
        geometry=st.geometry,
        crs=CRS,
    )
    city = shapely.union_all(st.geometry.to_numpy())
    minx, miny, maxx, maxy = city.bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    shapely.prepare(city)
    cells = cells[shapely.intersects(city, cells)]
    cells = shapely.intersection(cells, city)
    grid = gpd.GeoDataFrame(geometry=cells, crs=CRS)
    grid = grid[grid.geometry.area > 1.0].reset_index(drop=True)
    return st, grid


def synthetic_scored(geoms: gpd.GeoSeries, seed: int = 0) -> gpd.GeoDataFrame:
    """A frame following the scored-frame contract with random but plausible values."""
    rng = np.random.default_rng(seed)
    n = len(geoms)
    w = np.array(list(CRITERIA.values()), dtype=float)
    u = np.clip(rng.normal(0.55, 0.25, size=(n, len(w))), 0, 1)
    u[rng.uniform(size=u.shape) < 0.05] = np.nan
    has = ~np.isnan(u)
    contrib = np.where(has, 100 * u * w / (has * w).sum(axis=1)[:, None], 0.0)
    df = pd.DataFrame({"plot_id": [f"C{i:06d}" for i in range(n)]})
    for j, k in enumerate(CRITERIA):
        df[f"raw_{k}"] = np.where(has[:, j], rng.uniform(0, 5000, n), np.nan)
        df[f"u_{k}"] = u[:, j]
        df[f"contrib_{k}"] = contrib[:, j]
    df["score_total"] = contrib.sum(axis=1)
    df["excluded"] = rng.uniform(size=n) < 0.15
    df["exclusion_reason"] = np.where(df["excluded"], "Wohngebiet (WA)", "")
    df["coverage"] = (has * w).sum(axis=1) / w.sum()
    df["missing_criteria"] = [
        ",".join(k for j, k in enumerate(CRITERIA) if not has[i, j]) for i in range(n)
    ]
    r = df["score_total"].where(~df["excluded"]).rank(ascending=False, method="first")
    df["rank"] = pd.array([pd.NA if np.isnan(x) else int(x) for x in r], dtype="Int64")
    out = gpd.GeoDataFrame(df, geometry=geoms.to_numpy(), crs=CRS)
    out.attrs["run"] = {
        "config_hash": "benchmark",
        "config": {},
        "version": "bench",
        "scored_at": "",
        "criteria": {k: {"weight": v} for k, v in CRITERIA.items()},
        "sources": [
            {
                "name": "Stadtteilgrenzen Düsseldorf 2021",
                "licence": "dl-de/zero-2.0",
                "attribution": "Landeshauptstadt Düsseldorf",
            }
        ],
    }
    return out


def time_to_ready(html: Path, runs: int) -> list[tuple[float, float]]:
    """(ready ms, painted ms) from navigation start, one pair per fresh page load."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route(
                "**/*",
                lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort(),
            )
            page.goto(html.as_uri(), wait_until="commit")
            page.wait_for_function("window.hwgPaintedAt !== undefined", timeout=60_000)
            ready, painted = page.evaluate("[window.hwgReadyAt, window.hwgPaintedAt]")
            out.append((float(ready), float(painted)))
            page.close()
        browser.close()
    return out


def _base_map(data_dir: str | None, mirror: Path) -> BaseMap:
    t0 = time.perf_counter()
    if data_dir is None:
        from handwerkgeo.fetch import fetch

        data_dir = tempfile.mkdtemp(prefix="hwg-bench-data-")
        fetch(mirror=mirror, data_dir=data_dir)
    base = load_base_map(data_dir)
    n = 0 if base.streets is None else len(base.streets)
    print(f"base map loaded in {time.perf_counter() - t0:.1f} s: {n} street lines")
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_mirror = os.environ.get("HANDWERKGEO_DATA_MIRROR") or str(
        REPO.parent / "shared" / "data" / "duesseldorf"
    )
    parser.add_argument("--mirror", default=default_mirror)
    parser.add_argument("--data-dir", default=None, help="fetched data (default: fetch)")
    parser.add_argument("--cell-m", type=float, default=100.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    st, grid = city_grid(Path(args.mirror), args.cell_m)
    rng = np.random.default_rng(1)
    centres = grid.geometry.iloc[rng.choice(len(grid), 12, replace=False)].centroid
    plots = gpd.GeoSeries(centres.buffer(45, cap_style="square"), crs=CRS)
    geoms = pd.concat([grid.geometry, plots], ignore_index=True)
    scored = synthetic_scored(gpd.GeoSeries(geoms, crs=CRS))
    print(
        f"cells: {len(grid)} ({args.cell_m:.0f} m) + 12 plots; "
        f"city area {st.area.sum() / 1e6:.1f} km²"
    )

    results = REPO / "benchmarks" / "results"
    plain = export_map(scored, results / "bench_map_plain.html", stadtteile=st)
    print(f"without base map: file size {plain.stat().st_size / 1e6:.2f} MB")
    base = _base_map(args.data_dir, Path(args.mirror))
    t0 = time.perf_counter()
    html = export_map(scored, results / "bench_map.html", base_map=base)
    t_export = time.perf_counter() - t0
    size_mb = html.stat().st_size / 1e6
    print(f"with base map: export {t_export:.2f} s, file size {size_mb:.2f} MB ({html})")
    if not Path("/usr/bin/chromium").exists():
        print("no /usr/bin/chromium: time to ready not measured")
        return
    times = time_to_ready(html, args.runs)
    ready = [r for r, _ in times]
    painted = [p for _, p in times]
    print(
        f"time to ready (layers added), median of {args.runs}: {statistics.median(ready):.0f} ms "
        f"(min {min(ready):.0f}, max {max(ready):.0f})"
    )
    print(
        f"time to first paint of the canvas, median: {statistics.median(painted):.0f} ms "
        f"(min {min(painted):.0f}, max {max(painted):.0f})"
    )


if __name__ == "__main__":
    main()
