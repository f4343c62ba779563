"""Benchmark of the site register: ``register add`` of 100 new plots into a large register.

Builds a register of ``--plots`` (default 100,000) synthetic plots with the real engine
(one ``register add`` in this process, not timed as the target), then runs the CLI
``python -m handwerkgeo register add NEW.gpkg --register REG --data-dir DIR`` as a new
process for ``--new`` (default 100) new plots, ``--repeat`` times, and reports the wall
time including process start (the target is ≤ 2 s), the register's file size before and
after each run (growth per run must be O(new plots), not O(all plots)), the score rows the
run stored, and the size of its change report. The prepared context
(``data/processed``, :mod:`handwerkgeo.prepared`) must exist (``handwerkgeo data prepare``)
or the first run builds it.

Synthetic plots (seeded): squares of 25 × 25 m on a 30 m grid over 10 km × 10 km of
Düsseldorf (the new ones: 20 m, spread over the same area), with random ``zoning``.

Usage::

    python benchmarks/bench_register.py --data-dir /work/main/data [--plots 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely import box


def synthetic(
    n: int, *, start: int = 0, seed: int = 1, size_m: float = 25.0
) -> gpd.GeoDataFrame:
    """``n`` squares on a 30 m grid over central Düsseldorf (10 km × 10 km for 100,000)."""
    rng = np.random.default_rng(seed)
    side = max(int(np.ceil(np.sqrt(n))), 1)
    idx = np.arange(n)
    x0 = 341_000 + (idx % side) * 30.0 * (316 / side if n < 100_000 else 1)
    y0 = 5_671_500 + (idx // side) * 30.0 * (316 / side if n < 100_000 else 1)
    idx = idx + start
    return gpd.GeoDataFrame(
        {
            "plot_id": [f"b{i:07d}" for i in idx],
            "zoning": rng.choice(["GE", "GI", "MI", "MU"], size=n),
        },
        geometry=[box(x, y, x + size_m, y + size_m) for x, y in zip(x0, y0, strict=True)],
        crs="EPSG:25832",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    from handwerkgeo import register

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_register_"))
    reg = work / "register.gpkg"
    t0 = time.perf_counter()
    if not reg.exists():
        register.add_plots(reg, synthetic(args.plots), data_dir=args.data_dir)
    build_s = time.perf_counter() - t0
    results = []
    for i in range(args.repeat):
        listing = work / f"new_{i}.gpkg"
        new = synthetic(args.new, start=args.plots + i * args.new, seed=10 + i, size_m=20.0 - i)
        new.to_file(listing)
        size_before = reg.stat().st_size
        cmd = [sys.executable, "-m", "handwerkgeo", "register", "add", str(listing)]
        cmd += ["--register", str(reg), "--data-dir", str(args.data_dir)]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            sys.exit(f"register add failed: {res.stdout}\n{res.stderr}")
        runs = register.read_register(reg, layers=("runs",))["runs"]
        run_id = str(runs["run_id"].iloc[-1])
        report = reg.with_name(reg.name + ".reports") / run_id
        results.append(
            {
                "wall_s_incl_process_start": round(wall, 2),
                "file_growth_bytes": reg.stat().st_size - size_before,
                "score_rows_stored": int(runs["n_stored"].iloc[-1]),
                "n_plots_ranked": int(runs["n_plots"].iloc[-1]),
                "report_bytes": sum(p.stat().st_size for p in report.iterdir()),
            }
        )
    print(
        json.dumps(
            {
                "plots": args.plots,
                "new_per_run": args.new,
                "build_s": round(build_s, 1),
                "register_bytes": reg.stat().st_size,
                "runs": results,
                "load": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
