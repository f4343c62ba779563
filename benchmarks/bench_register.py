"""Benchmark of the site register: ``register add`` of 100 new plots into a large register.

Builds a register of ``--plots`` (default 100,000) synthetic plots with the real engine
(one ``register add`` in this process, not timed as the target), then runs the CLI
``python -m handwerkgeo register add NEW.gpkg --register REG --data-dir DIR`` as a new
process for ``--new`` (default 100) new plots, ``--repeat`` times, and reports the wall
time including process start (the target is ≤ 2 s), the register's file size before and
after each run (growth per run must be O(new plots), not O(all plots)), the score rows the
run stored, the size of its change report, and the CPU time of the process (user + system;
the wall time minus it is mostly waiting for a core on a loaded machine). The prepared context
(``data/processed``, :mod:`handwerkgeo.prepared`) must exist (``handwerkgeo data prepare``)
or the first run builds it. A register made before the ``geom_hash`` index gets it in its
first run (one-time cost; use ``--workdir`` with a register that already had a run to time
the steady state). Prints the median wall and CPU time of the runs.

Synthetic plots (seeded): squares of 25 × 25 m on a 30 m grid over 10 km × 10 km of
Düsseldorf (the new ones: 20 m or less, spread over 4 km × 4 km of the centre), with
random ``zoning``.

Usage::

    python benchmarks/bench_register.py --data-dir /work/main/data [--plots 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely import box


def synthetic(n: int, *, start: int = 0, seed: int = 1, size_m: float = 25.0) -> gpd.GeoDataFrame:
    """``n`` squares on a 30 m grid over central Düsseldorf (10 km × 10 km for 100,000)."""
    rng = np.random.default_rng(seed)
    side = max(int(np.ceil(np.sqrt(n))), 1)
    idx = np.arange(n)
    if n >= 10_000:  # the register: a 30 m grid from the south-west corner
        x0, y0 = 341_000 + (idx % side) * 30.0, 5_671_500 + (idx // side) * 30.0
    else:  # new listings: spread over the centre (inside the city boundary)
        step = 4_000 / side
        x0, y0 = 343_500 + (idx % side) * step, 5_674_500 + (idx // side) * step
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
    ap.add_argument("--workdir", type=Path, default=None, help="keeps (and reuses) the register")
    ap.add_argument("--first-id", type=int, default=None, help="first new plot id (reruns)")
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
        first = args.plots if args.first_id is None else args.first_id
        shift = 3.0 * i + 7.0 + (first - args.plots) / 10_000
        new = synthetic(args.new, start=first + i * args.new, seed=10 + i, size_m=20.0 - i)
        new = new.set_geometry(new.translate(xoff=shift, yoff=shift))
        new.to_file(listing)
        size_before = reg.stat().st_size
        cmd = [sys.executable, "-m", "handwerkgeo", "register", "add", str(listing)]
        cmd += ["--register", str(reg), "--data-dir", str(args.data_dir)]
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        if res.returncode != 0:
            sys.exit(f"register add failed: {res.stdout}\n{res.stderr}")
        runs = register.read_register(reg, layers=("runs",))["runs"]
        run_id = str(runs["run_id"].iloc[-1])
        report = reg.with_name(reg.name + ".reports") / run_id
        results.append(
            {
                "wall_s_incl_process_start": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "load_1min": round(os.getloadavg()[0], 2),
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
                "median_wall_s": round(
                    statistics.median(r["wall_s_incl_process_start"] for r in results), 2
                ),
                "median_cpu_s": round(statistics.median(r["cpu_s"] for r in results), 2),
                "load": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
