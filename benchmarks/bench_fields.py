"""Node-level accessibility fields and the prepared context, side by side, in one run.

Three parts (medians of ``--runs`` runs; ``uptime`` load recorded before and after):

A) The network anchors of ``shared/bench/bench_network_anchors.py`` on the project's own
   central street network (``load_context``: 58,642 nodes): ``--plots`` plot points uniform
   in the network's convex hull, the VRR stops within 300 m of a node, ``--landuse``
   synthetic land-use points in 8 categories on the edges (all snapped to their node once).

   - T1 nearest stop, T2 the 3 nearest stops (plot snap + network), T3 stops within R and
     the Shannon entropy (ln) of the land-use categories within R of the plot's node.
   - (f) handwerkgeo's public API (``nearest``, ``k_nearest``, ``count_within`` per
     category, ``criteria.mix.shannon_entropy``) with its node fields cleared before every
     run (so every run computes them: "cold" fields, compiled kernels already loaded);
     (b) networkx ``multi_source_dijkstra_path_length`` (T1); (c) a plain
     ``scipy.sparse.csgraph.dijkstra`` script (T1 ``min_only``, T2 full rows from every
     stop node, T3 limited rows from every target node); (d) pandana if importable
     (optional, AGPL, never a dependency).
   - Checked against networkx on the first ``--check`` plots (T1/T2: single-source
     Dijkstra from the plot's node; T3: ``ego_graph`` of radius R): max abs error in m,
     counts that differ.
   - Per run: wall time (``total``) and the CPU time of the process over it (``cpu``, all
     threads), so that a run slowed down by other processes on the machine shows as
     ``cpu`` well below ``total`` × the cores the implementation uses.

B) Scoring ``--score-plots`` synthetic plots (``bench_scoring.synthetic_plots``) with all
   criteria with data, in a fresh process, from the prepared context (warm cache): wall
   time of ``load_context`` (reading ``data/processed``), of ``score_plots`` and peak RSS
   of ``score_plots`` (VmHWM reset before it).

C) A new process that scores 100 plots: ``python -c`` importing handwerkgeo, loading the
   prepared context, reading 100 plots (GeoParquet) and scoring them; wall time of the
   whole process including start-up (and its CPU time, ``cpu_s``).

Usage::

    python benchmarks/bench_fields.py [--data-dir DIR] [--plots 100000] [--runs 3]

The last line of output is one JSON line with all figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
CRS = "EPSG:25832"
LU_PROBS = np.array([0.25, 0.20, 0.15, 0.12, 0.10, 0.08, 0.06, 0.04])


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def entropy(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, float)
    tot = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / tot
        h = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1)
    h[tot[:, 0] == 0] = 0.0
    return h


# --- A) workload ------------------------------------------------------------------------


def workload(net: Any, stops: Any, n_plots: int, n_lu: int, seed: int) -> dict[str, Any]:
    import shapely
    from scipy import sparse

    xy = net.xy
    hull = shapely.convex_hull(shapely.multipoints(xy))
    shapely.prepare(hull)
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = hull.bounds
    px: list[np.ndarray] = []
    py: list[np.ndarray] = []
    while sum(len(a) for a in px) < n_plots:
        x, y = rng.uniform(minx, maxx, 2 * n_plots), rng.uniform(miny, maxy, 2 * n_plots)
        ok = shapely.contains_xy(hull, x, y)
        px.append(x[ok])
        py.append(y[ok])
    plot_xy = np.column_stack([np.concatenate(px)[:n_plots], np.concatenate(py)[:n_plots]])
    sxy = shapely.get_coordinates(stops.geometry.to_numpy())
    sd, sn = net.tree.query(sxy)
    stop_node = sn[sd <= 300.0]
    coo = sparse.triu(net.csr, k=1).tocoo()
    eu, ev, el = coo.row, coo.col, coo.data
    rng = np.random.default_rng(seed + 1)
    e = rng.choice(len(el), size=n_lu, p=el / el.sum())
    t = rng.uniform(0, 1, n_lu)
    lx = xy[eu[e], 0] + t * (xy[ev[e], 0] - xy[eu[e], 0])
    ly = xy[eu[e], 1] + t * (xy[ev[e], 1] - xy[eu[e], 1])
    lu_cat = rng.choice(8, size=n_lu, p=LU_PROBS / LU_PROBS.sum())
    _, lu_node = net.tree.query(np.column_stack([lx, ly]))
    return {
        "plot_xy": plot_xy,
        "stop_node": stop_node.astype(np.int64),
        "lu_node": lu_node.astype(np.int64),
        "lu_cat": lu_cat,
        "edges": (eu, ev, el),
    }


def impl_handwerkgeo(net: Any, w: dict[str, Any], radius: float) -> dict[str, Any]:
    import geopandas as gpd

    from handwerkgeo import network as hn
    from handwerkgeo.criteria.mix import shannon_entropy

    big = 1e9
    xy = net.xy
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    plots = gpd.GeoSeries(gpd.points_from_xy(w["plot_xy"][:, 0], w["plot_xy"][:, 1]), crs=CRS)
    stops = gpd.GeoSeries(gpd.points_from_xy(*xy[w["stop_node"]].T), crs=CRS)
    lu = [
        gpd.GeoSeries(gpd.points_from_xy(*xy[w["lu_node"][w["lu_cat"] == c]].T), crs=CRS)
        for c in range(8)
    ]
    times["prep"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    t1 = hn.nearest(net, plots, stops, max_snap_m=big)["dist_m"].to_numpy()
    times["T1"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    r2 = hn.k_nearest(net, plots, stops, k=3, cutoff_m=big, max_snap_m=big)
    t2 = r2[["dist_m_1", "dist_m_2", "dist_m_3"]].to_numpy()
    times["T2"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    node = hn.snap(net, plots, max_snap_m=big)["node"].to_numpy()
    origins = gpd.GeoSeries(gpd.points_from_xy(*xy[node].T), crs=CRS)
    cnt = hn.count_within(net, origins, stops, radius_m=radius, max_snap_m=big)["count"]
    lu_cnt = np.column_stack(
        [hn.count_within(net, origins, g, radius_m=radius, max_snap_m=big)["count"] for g in lu]
    )
    h = shannon_entropy(lu_cnt, k=8) * np.log(8)
    times["T3"] = time.perf_counter() - t0
    return {"T1": t1, "T2": t2, "T3_count": cnt.to_numpy(float),
            "T3_entropy": np.where(np.isnan(h), 0.0, h), "times": times}  # fmt: skip


def _scipy_graph(net: Any) -> Any:
    from scipy import sparse

    return sparse.csr_array(net.csr)


def impl_scipy(net: Any, w: dict[str, Any], radius: float) -> dict[str, Any]:
    from scipy.sparse.csgraph import dijkstra

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    graph = _scipy_graph(net)
    snap, nn = net.tree.query(w["plot_xy"])
    up, inv = np.unique(nn, return_inverse=True)
    s_nodes, s_mult = np.unique(w["stop_node"], return_counts=True)
    times["prep"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    t1 = snap + dijkstra(graph, indices=s_nodes, min_only=True)[nn]
    times["T1"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    dm = dijkstra(graph, indices=s_nodes)
    dp = np.repeat(dm[:, up], s_mult, axis=0)
    del dm
    k3 = np.sort(np.partition(dp, 2, axis=0)[:3], axis=0)
    t2 = snap[:, None] + k3.T[inv]
    times["T2"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    dm = dijkstra(graph, indices=s_nodes, limit=radius)
    stop_cnt = (radius >= dm).T.astype(np.float32) @ s_mult.astype(np.float32)
    del dm
    l_nodes, l_inv = np.unique(w["lu_node"], return_inverse=True)
    cat_m = np.zeros((len(l_nodes), 8), np.float32)
    np.add.at(cat_m, (l_inv, w["lu_cat"]), 1.0)
    lu_cnt = np.zeros((net.n_nodes, 8), np.float32)
    for s in range(0, len(l_nodes), 512):
        dm = dijkstra(graph, indices=l_nodes[s : s + 512], limit=radius)
        lu_cnt += (radius >= dm).T.astype(np.float32) @ cat_m[s : s + 512]
    times["T3"] = time.perf_counter() - t0
    return {"T1": t1, "T2": t2, "T3_count": stop_cnt[nn].astype(float),
            "T3_entropy": entropy(lu_cnt[nn]), "times": times}  # fmt: skip


def impl_networkx(net: Any, w: dict[str, Any], radius: float) -> dict[str, Any]:
    import networkx as nx

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    eu, ev, el = w["edges"]
    g = nx.Graph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(zip(eu.tolist(), ev.tolist(), el.tolist(), strict=True))
    snap, nn = net.tree.query(w["plot_xy"])
    times["prep"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    d = nx.multi_source_dijkstra_path_length(g, set(w["stop_node"].tolist()))
    dist = np.fromiter((d[i] for i in range(net.n_nodes)), float, net.n_nodes)
    t1 = snap + dist[nn]
    times["T1"] = time.perf_counter() - t0
    return {"T1": t1, "times": times}


def impl_pandana(net: Any, w: dict[str, Any], radius: float) -> dict[str, Any]:
    import pandana
    import pandas as pd

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    eu, ev, el = w["edges"]
    xy = net.xy
    pn = pandana.Network(pd.Series(xy[:, 0]), pd.Series(xy[:, 1]), pd.Series(eu),
                         pd.Series(ev), pd.DataFrame({"length": el}), twoway=True)  # fmt: skip
    nid = pn.get_node_ids(pd.Series(w["plot_xy"][:, 0]), pd.Series(w["plot_xy"][:, 1]))
    nid = nid.to_numpy()
    snap = np.hypot(*(w["plot_xy"] - xy[nid]).T)
    sx, sy = xy[w["stop_node"]].T
    pn.set_pois("stops", maxdist=5000, maxitems=3, x_col=pd.Series(sx), y_col=pd.Series(sy))
    pn.precompute(radius)
    times["prep"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    t1 = snap + pn.nearest_pois(5000, "stops", num_pois=1, max_distance=np.nan)[1].to_numpy()[nid]
    times["T1"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = pn.nearest_pois(5000, "stops", num_pois=3, max_distance=np.nan)
    t2 = snap[:, None] + r[[1, 2, 3]].to_numpy()[nid]
    times["T2"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pn.set(pd.Series(w["stop_node"]), name="stops")
    cnt = pn.aggregate(radius, type="count", decay="flat", name="stops").to_numpy()[nid]
    lu_cnt = np.zeros((8, net.n_nodes))
    for c in range(8):
        pn.set(pd.Series(w["lu_node"][w["lu_cat"] == c]), name=f"lu{c}")
        lu_cnt[c] = pn.aggregate(radius, type="count", decay="flat", name=f"lu{c}").to_numpy()
    times["T3"] = time.perf_counter() - t0
    return {"T1": t1, "T2": t2, "T3_count": cnt.astype(float),
            "T3_entropy": entropy(lu_cnt.T[nid]), "times": times}  # fmt: skip


def reference(net: Any, w: dict[str, Any], radius: float, n: int) -> dict[str, np.ndarray]:
    """networkx per plot on the first ``n`` plots (the correctness check)."""
    import networkx as nx

    eu, ev, el = w["edges"]
    g = nx.Graph()
    g.add_weighted_edges_from(zip(eu.tolist(), ev.tolist(), el.tolist(), strict=True))
    snap, nn = net.tree.query(w["plot_xy"][:n])
    stops = w["stop_node"].tolist()
    mult = Counter(stops)
    t2 = np.zeros((n, 3))
    cnt = np.zeros(n)
    lu_counts = np.zeros((n, 8))
    lu_at: dict[int, list[int]] = {}
    for node, c in zip(w["lu_node"].tolist(), w["lu_cat"].tolist(), strict=True):
        lu_at.setdefault(node, []).append(c)
    for i, node in enumerate(nn.tolist()):
        d = nx.single_source_dijkstra_path_length(g, node, weight="weight")
        t2[i] = snap[i] + np.sort([d[s] for s in stops])[:3]
        near = [x for x, dx in d.items() if dx <= radius]
        cnt[i] = sum(mult.get(x, 0) for x in near)
        for x in near:
            for c in lu_at.get(x, ()):
                lu_counts[i, c] += 1
    return {"T1": t2[:, 0], "T2": t2, "T3_count": cnt, "T3_entropy": entropy(lu_counts)}


def check(out: dict[str, Any], ref: dict[str, np.ndarray]) -> dict[str, Any]:
    n = len(ref["T1"])
    res: dict[str, Any] = {}
    for key in ("T1", "T2", "T3_count", "T3_entropy"):
        if key in out:
            diff = np.abs(np.asarray(out[key])[:n] - ref[key])
            res[key] = {"max_abs": float(diff.max()), "n_diff": int((diff > 1e-6).sum())}
    return res


def part_a(args: argparse.Namespace) -> dict[str, Any]:
    from handwerkgeo.context import load_context

    ctx = load_context(args.data_dir)
    net = ctx.network
    w = workload(net, ctx.stops, args.plots, args.landuse, args.seed)
    impls = {"f_handwerkgeo": impl_handwerkgeo, "b_networkx": impl_networkx, "c_scipy": impl_scipy}
    try:
        import pandana  # noqa: F401

        impls["d_pandana"] = impl_pandana
    except ImportError:
        pass
    t0 = time.perf_counter()
    ref = reference(net, w, args.radius, args.check)
    res: dict[str, Any] = {
        "nodes": net.n_nodes,
        "stops": len(w["stop_node"]),
        "plots": args.plots,
        "landuse": args.landuse,
        "radius_m": args.radius,
        "reference_s": time.perf_counter() - t0,
        "check_plots": args.check,
    }
    impl_hwg = impls["f_handwerkgeo"]
    impl_hwg(net, w, args.radius)  # loads the compiled kernels once (not timed)
    for name, fn in impls.items():
        runs = []
        for _ in range(args.runs):
            net.fields.clear()
            load0 = _load()
            c0 = time.process_time()
            t0 = time.perf_counter()
            out = fn(net, w, args.radius)
            total = time.perf_counter() - t0
            cpu = time.process_time() - c0  # all threads: cpu / total = cores it got
            runs.append({"total": total, "cpu": cpu, **out["times"], "load": load0})
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "load"}
        res[name] = {"median_s": med, "runs": runs, "check": check(out, ref)}
        print(name, json.dumps(med), json.dumps(res[name]["check"]), flush=True)
    return res


# --- B, C) scoring from the prepared context ---------------------------------------------

_SCORE_CHILD = """
import json, time, sys
t0 = time.perf_counter()
sys.path.insert(0, {bench!r})
from pathlib import Path
from handwerkgeo.context import load_context
from handwerkgeo.config import load_config
from handwerkgeo.scoring import score_plots
import geopandas as gpd
t1 = time.perf_counter()
ctx = load_context({data!r})
t2 = time.perf_counter()
plots = gpd.read_parquet({plots!r})
Path('/proc/self/clear_refs').write_text('5')
t3 = time.perf_counter()
out = score_plots(plots, load_config(), context=ctx)
t4 = time.perf_counter()
hwm = [int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0]
print(json.dumps({{"import_s": t1 - t0, "load_context_s": t2 - t1, "score_s": t4 - t3,
                  "score_peak_rss_mb": hwm, "n": len(out), "cpu_s": time.process_time()}}))
"""


def part_bc(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from bench_scoring import synthetic_plots

    from handwerkgeo.context import load_context

    ctx = load_context(args.data_dir)  # builds the prepared file if missing
    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, key in ((args.score_plots, "b_score_warm_cache"), (100, "c_new_process_100")):
            path = Path(tmp) / f"plots-{n}.parquet"
            synthetic_plots(ctx, n, seed=args.seed).to_parquet(path)
            code = _SCORE_CHILD.format(bench=str(HERE), data=str(args.data_dir), plots=str(path))
            runs = []
            for _ in range(args.runs):
                load0 = _load()
                t0 = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True,
                    env=dict(os.environ),
                )  # fmt: skip
                wall = time.perf_counter() - t0
                rec = json.loads(proc.stdout.strip().splitlines()[-1])
                runs.append({"process_wall_s": wall, **rec, "load": load0})
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "load"}
            res[key] = {"median": med, "runs": runs}
            print(key, json.dumps(med), flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--landuse", type=int, default=20_000)
    ap.add_argument("--radius", type=float, default=800.0)
    ap.add_argument("--check", type=int, default=100, help="plots checked against networkx")
    ap.add_argument("--score-plots", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--parts", default="a,bc")
    args = ap.parse_args()
    from handwerkgeo.settings import data_dir

    args.data_dir = data_dir(args.data_dir)
    result: dict[str, Any] = {"load_start": Path("/proc/loadavg").read_text().strip()}
    if "a" in args.parts.split(","):
        result["a_network"] = part_a(args)
    if "bc" in args.parts.split(","):
        result["bc_scoring"] = part_bc(args)
    result["load_end"] = Path("/proc/loadavg").read_text().strip()
    print(json.dumps(result, default=float))


if __name__ == "__main__":
    main()
