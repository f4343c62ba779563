"""Soak test of the Dask engine: run the Dask tests many times in a row under CPU load.

Starts one busy-loop process per CPU (the load generator, so that both cores of the
development machine are saturated), then runs ``pytest tests/test_scale.py`` ``--runs``
times in a row, each in a fresh interpreter, and stops at the first failure unless
``--keep-going`` is given. Prints one line per run and, last, one JSON line::

    {"runs": 50, "passed": 50, "failed": 0, "load_processes": 2, "wall_s": ...,
     "loadavg_1m_at_end": ..., "first_failure": null}

This is the check for the "lost dependencies" race of ``compute_raw_dask`` (scattered
context reused under one content-hash key): before the fix it failed on the second call
with the same context, more often under load. Not part of CI: it takes several minutes.

Usage::

    python benchmarks/dask_soak.py [--runs 50] [--load N] [-k EXPR] [--keep-going]
    python benchmarks/dask_soak.py -k "dask and not real_engine"   # test-double tests only

``-k "dask and not real_engine"`` leaves out the one test that loads the real Düsseldorf
context (most of the time of a run under load); the race was in the test-double tests.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _burn(stop: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    x = 0
    while not stop.is_set():
        for i in range(100_000):
            x ^= i * i


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--load", type=int, default=os.cpu_count() or 2, help="busy processes")
    ap.add_argument("-k", default="dask", help="pytest -k expression (default: dask)")
    ap.add_argument("--keep-going", action="store_true")
    args = ap.parse_args(argv)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # run the clean-up below (a background job ignores SIGINT)

    signal.signal(signal.SIGTERM, _stop)
    stop = mp.Event()
    burners = [mp.Process(target=_burn, args=(stop,), daemon=True) for _ in range(args.load)]
    for p in burners:
        p.start()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    cmd = [
        sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_scale.py"),
        "-q", "-p", "no:cacheprovider", "-k", args.k,
    ]  # fmt: skip
    passed = failed = 0
    first_failure: dict[str, object] | None = None
    t0 = time.perf_counter()
    try:
        for i in range(1, args.runs + 1):
            t = time.perf_counter()
            res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            tail = (res.stdout.strip().splitlines() or [""])[-1]
            ok = res.returncode == 0
            passed += ok
            failed += not ok
            print(f"run {i:3d}: {'ok ' if ok else 'FAIL'} {time.perf_counter() - t:6.1f} s  "
                  f"load {os.getloadavg()[0]:.2f}  {tail}", flush=True)  # fmt: skip
            if not ok:
                first_failure = first_failure or {"run": i, "output": res.stdout[-4000:]}
                if not args.keep_going:
                    break
    finally:
        stop.set()
        for p in burners:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    summary = {
        "runs": passed + failed,
        "passed": passed,
        "failed": failed,
        "load_processes": args.load,
        "wall_s": round(time.perf_counter() - t0, 1),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "first_failure": first_failure,
    }
    print(json.dumps(summary))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
