"""Benchmark of the Monte Carlo weight sensitivity (``handwerkgeo.sensitivity.monte_carlo``).

Synthetic raw values for ``--plots`` plots (seeded) with all 15 criteria of the default
configuration and the data gaps of the real run: noise buffer, motorway and main road
without data (as in the fetched layers), cycling missing for 30 %, land value for 40 %,
brownfield for 10 %; jobs–housing and social mix take one of ten Stadtbezirk values.
The plots are scored with ``score_raw`` first (not timed); then ``monte_carlo`` runs
``--runs`` times ±25 % uniform with ``--n-jobs`` threads.

Peak memory is the resident-set high-water mark during the call, reset before it by
writing ``5`` to ``/proc/self/clear_refs`` (Linux; else the process peak so far).
``--compare MODULE_FILE`` also runs ``monte_carlo`` from another copy of the module (for
example the previous version from ``git show``) and checks that both give identical frames.

Usage::

    python benchmarks/bench_sensitivity.py [--plots 100000] [--runs 1000] [--seed 1]
        [--n-jobs 2] [--repeat 1] [--duplicates] [--compare OLD_SENSITIVITY_PY]

Prints one line per call and, as the last line, one JSON line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import time
from typing import Any

import numpy as np
import pandas as pd

from handwerkgeo.config import default_config
from handwerkgeo.scoring import score_raw
from handwerkgeo.sensitivity import monte_carlo


def _status_kb(key: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def raw_frame(n: int, seed: int, *, duplicates: bool = False) -> pd.DataFrame:
    """Seeded raw values of all criteria with the data gaps of the real run."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(2500, 15000, n)
    bezirk = rng.integers(0, 10, n)

    def gaps(values: np.ndarray, share: float) -> np.ndarray:
        return np.where(rng.random(n) < share, np.nan, values)

    raw = pd.DataFrame(
        {
            "plot_id": [f"p{i:06d}" for i in range(n)],
            "area_m2": area,
            "zone_category": rng.choice(["GE", "GI", "MI", "MU", "SO", "FNP_G", "WA"], n),
            "raw_plot_size": area,
            "raw_plot_shape": rng.uniform(10, 90, n),
            "raw_brownfield": gaps(rng.integers(0, 2, n).astype(float), 0.1),
            "raw_transit": rng.uniform(0, 1500, n),
            "raw_cycling": gaps(rng.uniform(0, 1200, n), 0.3),
            "raw_customer_potential": rng.uniform(0.05, 1.0, n),
            "raw_landuse_mix": rng.uniform(0, 1, n),
            "raw_jobs_housing": rng.uniform(0.3, 2.5, 10)[bezirk],
            "raw_social_mix": rng.uniform(0.4, 1.8, 10)[bezirk],
            "raw_ownership": rng.choice(["city", "idr", "public", "private"], n),
            "raw_land_value": gaps(rng.uniform(60, 600, n), 0.4),
        }
    )
    raw["raw_zoning"] = raw["zone_category"]
    if duplicates:  # coarse values: many plots share all their utilities
        for col in ("raw_transit", "raw_cycling", "raw_customer_potential", "raw_land_value"):
            raw[col] = (raw[col] / 200).round() * 200
        raw["raw_landuse_mix"] = raw["raw_landuse_mix"].round(1)
        raw["raw_plot_shape"] = raw["raw_plot_shape"].round(-1)
        raw["raw_plot_size"] = raw["raw_plot_size"].round(-3)
    return raw


def _load(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("sensitivity_compare", path)
    if spec is None or spec.loader is None:
        msg = f"cannot import {path}"
        raise SystemExit(msg)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn: Any, scored: pd.DataFrame, **kwargs: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run ``fn`` once; wall and CPU seconds, peak resident memory, load average."""
    rss0 = _status_kb("VmRSS") or 0.0
    scoped = _reset_hwm()
    load0 = os.getloadavg()[0]
    t, c = time.perf_counter(), time.process_time()
    out = fn(scored, **kwargs)
    rec = {
        "seconds": round(time.perf_counter() - t, 3),
        "cpu_seconds": round(time.process_time() - c, 3),
    }
    hwm = _status_kb("VmHWM") if scoped else None
    if hwm is not None:
        peak = hwm / 1024
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rec["peak_rss_mb"] = round(peak, 1)
    rec["rss_growth_mb"] = round(max(0.0, peak - rss0 / 1024), 1)
    rec["load_avg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    return out, rec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plots", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--duplicates", action="store_true")
    parser.add_argument("--compare", default=None)
    args = parser.parse_args()

    config = default_config()
    scored = score_raw(raw_frame(args.plots, args.seed, duplicates=args.duplicates), config)
    kwargs = {"config": config, "runs": args.runs, "n_jobs": args.n_jobs}
    result: dict[str, Any] = {
        "plots": args.plots,
        "ranked": int(scored["rank"].notna().sum()),
        "runs": args.runs,
        "n_jobs": args.n_jobs,
        "duplicates": args.duplicates,
        "current": [],
    }
    impls = [("current", monte_carlo)]
    if args.compare:
        impls.append(("compare", _load(args.compare).monte_carlo))
        result["compare"] = []
    outs: dict[str, pd.DataFrame] = {}
    for _ in range(args.repeat):
        for name, fn in impls:
            out, rec = timed(fn, scored, **kwargs)
            outs[name] = out
            result[name].append(rec)
            print(f"{name:<8} {rec}", flush=True)
    if args.compare:
        a, b = outs["current"], outs["compare"]
        a.attrs, b.attrs = {}, {}
        result["identical"] = bool(a.equals(b))
        diff = (a != b) & ~(a.isna() & b.isna())
        result["differing_cells"] = {k: int(v) for k, v in diff.sum().items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
