"""Benchmark of the Dask engine (handwerkgeo.scale) against the single-process engine.

Scores N synthetic plots (seeded rectangles over Düsseldorf's extent) with

* the single-process engine (``score_raw(compute_raw(plots))``), and
* :func:`handwerkgeo.scale.score_plots_dask` on a LocalCluster of 1 and 2 worker processes,

each in a fresh subprocess, and prints one JSON line per run: wall time, peak memory of
the main process and of every worker (max RSS), and whether the result equals the
single-process one.

``--scorer real`` (default) scores with handwerkgeo.scoring and the context loaded from
``--data-dir`` (run ``handwerkgeo data fetch`` first). ``--scorer synthetic`` uses a
vectorised stand-in for the criteria (plot area,
nearest of 5,000 stops and stops within 800 m via a KD-tree), so that the run measures the
engine (partitioning, scattering the context, gathering, global ranking) at 1 M plots on a
2-core machine, without the cost of the real criteria.

Usage::

    python benchmarks/bench_scale.py --n 1000000 --data-dir data
    python benchmarks/bench_scale.py --n 1000000 --scorer synthetic
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

BOUNDS = (340_000.0, 5_670_000.0, 357_000.0, 5_690_000.0)


@dataclass(frozen=True)
class SynthConfig:
    """Synthetic scoring configuration (weights of the three stand-in criteria)."""

    w_area: float = 40.0
    w_stop: float = 40.0
    w_density: float = 20.0
    min_area_m2: float = 2500.0

    def to_yaml(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.to_yaml().encode()).hexdigest()[:12]


def synth_context(seed: int = 1) -> cKDTree:
    rng = np.random.default_rng(seed)
    xy = np.column_stack(
        [rng.uniform(BOUNDS[0], BOUNDS[2], 5000), rng.uniform(BOUNDS[1], BOUNDS[3], 5000)]
    )
    return cKDTree(xy)


def synth_compute_raw(plots: gpd.GeoDataFrame, context: cKDTree, config: Any) -> pd.DataFrame:
    xy = shapely.get_coordinates(shapely.centroid(np.asarray(plots.geometry.array)))
    dist, _ = context.query(xy)
    within = context.query_ball_point(xy, 800.0, return_length=True)
    return pd.DataFrame(
        {"raw_area": plots.geometry.area.to_numpy(), "raw_stop": dist, "raw_density": within},
        index=plots.index,
    )


def synth_score_raw(raw: pd.DataFrame, config: SynthConfig) -> pd.DataFrame:
    out = raw.copy()
    u = {
        "area": ((out["raw_area"] - 1000) / 9000).clip(0, 1),
        "stop": (1 - out["raw_stop"] / 1500).clip(0, 1),
        "density": (out["raw_density"] / 10).clip(0, 1),
    }
    total = 0.0
    for k, w in (("area", config.w_area), ("stop", config.w_stop), ("density", config.w_density)):
        out[f"u_{k}"] = u[k]
        out[f"contrib_{k}"] = w * u[k]
        total = total + out[f"contrib_{k}"]
    out["score_total"] = total
    exc = (out["raw_area"] < config.min_area_m2).to_numpy()
    out["excluded"] = exc
    order = np.lexsort((out["plot_id"].to_numpy(), -out["score_total"].to_numpy()))
    order = order[~exc[order]]
    rank = np.full(len(out), -1, dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    out["rank"] = pd.array(np.where(rank > 0, rank, 0), dtype="Int64").copy()
    out.loc[exc, "rank"] = pd.NA
    return out


def synthetic_plots(n: int, seed: int = 42) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(BOUNDS[0], BOUNDS[2], n)
    y = rng.uniform(BOUNDS[1], BOUNDS[3], n)
    w = rng.uniform(20, 150, n)
    h = rng.uniform(30, 90, n)
    geoms = shapely.box(x, y, x + w, y + h)
    g = gpd.GeoDataFrame(
        {"plot_id": [f"b{i:07d}" for i in range(n)]}, geometry=geoms, crs="EPSG:25832"
    )
    g["area_m2"] = g.area
    g["is_point"] = False
    return g


def _scorer(kind: str, data_dir: str | None) -> tuple[Any, Any, Any]:
    from handwerkgeo.scorer import Scorer

    if kind == "synthetic":
        sc = Scorer(compute_raw=synth_compute_raw, score_raw=synth_score_raw)
        return sc, SynthConfig(), synth_context()
    from handwerkgeo.config import load_config
    from handwerkgeo.context import load_context

    return Scorer.default(), load_config(), load_context(data_dir)


def _reset_peak_rss() -> None:
    """Reset this process's peak RSS (Linux: ``5`` into ``/proc/self/clear_refs``).

    Dask's worker processes are forked from a process holding the plots, and would
    otherwise report that process's peak as their own.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    """Peak resident memory of this process since the last reset, in MB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in this process (called in a fresh subprocess)."""
    from handwerkgeo import scale
    from handwerkgeo.scorer import with_plots

    plots = synthetic_plots(args.n)
    sc, config, context = _scorer(args.scorer, args.data_dir)
    result: dict[str, Any] = {"engine": args.engine, "n_plots": args.n, "scorer": args.scorer}
    rss_before = _peak_rss_mb()
    t0 = time.perf_counter()
    if args.engine == "single":
        scored = sc.score_raw(with_plots(plots, sc.compute_raw(plots, context, config)), config)
        result.update(workers=0, seconds=round(time.perf_counter() - t0, 2))
    else:
        with scale.dask_client(workers=args.workers, processes=True) as client:
            client.run(_reset_peak_rss)
            t0 = time.perf_counter()
            raw = scale.compute_raw_dask(
                plots,
                config,
                context=context,
                scorer=sc,
                client=client,
                npartitions=args.npartitions,
            )
            scored = sc.score_raw(with_plots(plots, raw), config)
            seconds = time.perf_counter() - t0
            worker_rss = client.run(_peak_rss_mb)
        result.update(
            workers=args.workers,
            npartitions=args.npartitions or 4 * args.workers,
            seconds=round(seconds, 2),
            peak_rss_mb_per_worker=[round(v, 1) for v in worker_rss.values()],
        )
    result["peak_rss_mb_main"] = round(_peak_rss_mb(), 1)
    result["rss_mb_after_data"] = round(rss_before, 1)
    result["checksum"] = hashlib.sha256(
        pd.util.hash_pandas_object(scored[["plot_id", "score_total", "rank"]], index=False)
        .to_numpy()
        .tobytes()
    ).hexdigest()[:16]
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="number of synthetic plots")
    p.add_argument("--scorer", choices=["synthetic", "real"], default="real")
    p.add_argument("--data-dir", default=None, help="data directory for --scorer real")
    p.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    p.add_argument("--npartitions", type=int, default=None)
    p.add_argument("--engine", choices=["single", "dask"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.engine:  # child process: one measurement
        args.workers = args.workers[0] if isinstance(args.workers, list) else args.workers
        print(json.dumps(run_one(args)), flush=True)
        return
    runs = [("single", 0), *(("dask", w) for w in args.workers)]
    results = []
    for engine, workers in runs:
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--engine",
            engine,
            "--n",
            str(args.n),
            "--scorer",
            args.scorer,
            "--workers",
            str(max(workers, 1)),
        ]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        if args.npartitions:
            cmd += ["--npartitions", str(args.npartitions)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        line = json.loads(out.strip().splitlines()[-1])
        results.append(line)
    reference = results[0]["checksum"]
    for r in results:
        r["equal_to_single"] = r["checksum"] == reference
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
