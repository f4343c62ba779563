"""Benchmark of ``handwerkgeo score`` end to end, as a planner runs it, on synthetic plots.

Generates ``--plots`` seeded synthetic plots inside Düsseldorf (rotated rectangles of
2,500–15,000 m², centres uniform inside the real city boundary, with ``zoning``,
``owner``, ``land_value_eur_m2`` and ``brownfield`` attributes) into a GeoParquet file in a
temporary folder (never in the repository), then runs the command line
``python -m handwerkgeo score PLOTS --out OUT.gpkg --data-dir DIR`` ``--repeat`` times
under ``/usr/bin/time -v`` and reports, per run, the wall time and the peak resident
memory of the process (``Maximum resident set size``), its CPU time (user + system: on a
busy machine the wall time is longer, the CPU time is not), their medians, the sizes of the
outputs (GeoPackage, XLSX, CSV and — with ``--parquet`` — a GeoParquet written by a second
``score --out OUT.parquet`` run) and the machine's load (``os.getloadavg``).

The prepared scoring context (``handwerkgeo data prepare``) is built once before the
timed runs, so the runs measure scoring "from a warm cache" as a planner's second run does.

Usage::

    python benchmarks/bench_score_cli.py --data-dir /path/to/data [--plots 100000]
        [--repeat 3] [--parquet] [--keep DIR]

Prints one JSON line with all figures as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from bench_scoring import random_rectangles  # benchmarks/ is not a package

ZONINGS = ["GE", "GI", "MI", "MU", "MK", "WA", "SO", "unbekannt"]
OWNERS = ["Stadt", "privat", "Land", "Bund", "unbekannt"]


def synthetic_plots(data_dir: Path, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` seeded rectangular plots whose centres lie inside the real city boundary."""
    from handwerkgeo.crs import CRS
    from handwerkgeo.sources.quarters import read_stadtteile

    rng = np.random.default_rng(seed)
    city = shapely.union_all(read_stadtteile(data_dir=data_dir).to_crs(CRS).geometry.to_numpy())
    area = shapely.buffer(city, -150.0)  # the whole rectangle stays inside the city
    geoms = random_rectangles(area, n, rng)
    return gpd.GeoDataFrame(
        {
            "plot_id": [f"P{i:07d}" for i in range(n)],
            "name": [f"Fläche {i}" for i in range(n)],
            "zoning": rng.choice(ZONINGS, n),
            "owner": rng.choice(OWNERS, n),
            "land_value_eur_m2": rng.uniform(150.0, 900.0, n).round(),
            "brownfield": rng.random(n) < 0.3,
        },
        geometry=geoms,
        crs=CRS,
    )


def _time_v(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds, peak RSS (MB), exit code."""
    start = time.perf_counter()
    res = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", res.stderr)]
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(sum(cpu), 2),  # user + system: what the run costs on an idle machine
        "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
        "returncode": res.returncode,
        "stderr_tail": res.stderr.strip().splitlines()[-25:]
        if res.returncode not in (0, 3)
        else [],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parquet", action="store_true", help="also time --out x.parquet")
    ap.add_argument("--keep", type=Path, default=None, help="folder for the files (kept)")
    args = ap.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="hwg-bench-score-"))
    work.mkdir(parents=True, exist_ok=True)
    plots_file = work / f"plots_{args.plots}.parquet"
    t0 = time.perf_counter()
    if not plots_file.exists():
        synthetic_plots(args.data_dir, args.plots, args.seed).to_parquet(plots_file)
    gen_s = time.perf_counter() - t0
    env = dict(os.environ)
    hwg = [sys.executable, "-m", "handwerkgeo"]
    subprocess.run([*hwg, "data", "prepare", "--data-dir", str(args.data_dir)], env=env, check=True)

    result: dict[str, Any] = {
        "plots": args.plots,
        "generate_s": round(gen_s, 2),
        "load_before": os.getloadavg(),
        "cpu_count": os.cpu_count(),
    }
    runs = []
    out = work / "result.gpkg"
    for _ in range(args.repeat):
        cmd = [*hwg, "score", str(plots_file), "--out", str(out), "--data-dir", str(args.data_dir)]
        runs.append({**_time_v(cmd, env), "load_1min_after": round(os.getloadavg()[0], 2)})
    result["gpkg_runs"] = runs
    if runs:
        result["gpkg_median_wall_s"] = statistics.median(r["wall_s"] for r in runs)
        result["gpkg_median_peak_rss_mb"] = statistics.median(r["peak_rss_mb"] or 0 for r in runs)
        result["gpkg_median_cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
    result["sizes_mb"] = {
        p.name: round(p.stat().st_size / 1e6, 1)
        for p in (out, out.with_suffix(".xlsx"), out.with_suffix(".csv"))
        if p.exists()
    }
    if args.parquet:
        pq = work / "result.parquet"
        cmd = [*hwg, "score", str(plots_file), "--out", str(pq), "--data-dir", str(args.data_dir)]
        result["parquet_run"] = _time_v(cmd, env)
        if pq.exists():
            result["sizes_mb"][pq.name] = round(pq.stat().st_size / 1e6, 1)
    result["load_after"] = os.getloadavg()
    result["folder"] = str(work)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
