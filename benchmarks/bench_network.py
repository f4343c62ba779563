"""Benchmark the network accessibility measures on the real central street network.

Loads the OSM street extract of central Düsseldorf (layer ``osm_streets_central``) and the
VRR stops, builds the graph and the :class:`~handwerkgeo.network.Network` (timed), puts
``--plots`` synthetic point plots (seeded, uniform in the network's bounding box) on it and
times, with handwerkgeo's batched searches:

- nearest stop (:func:`~handwerkgeo.network.nearest`),
- 3 nearest stops within 2 km (:func:`~handwerkgeo.network.k_nearest`),
- stops within 800 m (:func:`~handwerkgeo.network.count_within`),
- everything of :func:`~handwerkgeo.criteria.accessibility.transit_access` (the three above
  plus the best transit class over all stops within 1 km);

and, for comparison, a per-plot networkx approach (one Dijkstra search from each plot,
limited to 2 km, then the stop distances read off) on ``--sample`` plots, **extrapolated**
linearly to all plots; pandana is timed too if it is importable. Peak memory: the
process's maximum resident set size and tracemalloc's peak during ``transit_access``.

Prints one JSON line. Usage::

    .venv/bin/python benchmarks/bench_network.py [--data-dir DIR | --mirror DIR]
        [--plots 100000] [--sample 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from handwerkgeo.criteria.accessibility import transit_access
from handwerkgeo.network import count_within, k_nearest, nearest, prepare_network, snap
from handwerkgeo.sources.osm import graph_from_ways, read_osm_ways

REPO = Path(__file__).resolve().parents[1]
STOPS = "oepnv/stops-duesseldorf.json"
WAYS = "osm/strassennetz_zentrum"


def _inputs(args: argparse.Namespace) -> tuple[list[Path], Path]:
    if args.data_dir:
        from handwerkgeo.fetch import layer_paths

        ways = layer_paths("osm_streets_central", args.data_dir)
        stops = layer_paths("vrr_stops", args.data_dir)[0]
        return ways, stops
    mirror = Path(
        args.mirror
        or os.environ.get("HANDWERKGEO_DATA_MIRROR", REPO.parent / "shared/data/duesseldorf")
    )
    return sorted((mirror / WAYS).glob("level_*.json")), mirror / STOPS


def _read_stops(path: Path) -> gpd.GeoDataFrame:
    with open(path, encoding="utf-8") as f:
        raw = pd.DataFrame(json.load(f)["stops"])
    frame = pd.DataFrame({"stop_id": raw["id"], "platform_count": raw["platformCount"]})
    geom = gpd.points_from_xy(raw["lon"], raw["lat"])
    return gpd.GeoDataFrame(frame, geometry=geom, crs="EPSG:4326").to_crs("EPSG:25832")


def _timed(fn, *a, **kw):
    start = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - start


def _networkx_per_plot(graph, net, plots, stops, cutoff_m: float, radius_m: float) -> float:
    """Seconds for a per-plot networkx approach (nearest, 3 nearest, count) on ``plots``."""
    o = snap(net, plots)
    t = snap(net, stops)
    on = t["snapped"].to_numpy()
    stop_nodes = net.node_ids[t["node"].to_numpy()[on]]
    stop_snap = t["snap_m"].to_numpy()[on]
    undirected = nx.Graph()
    for u, v, length in graph.edges(data="length"):
        if u != v and (not undirected.has_edge(u, v) or length < undirected[u][v]["length"]):
            undirected.add_edge(u, v, length=length)
    start = time.perf_counter()
    for node, s_o in zip(o["node"], o["snap_m"], strict=True):
        lengths = nx.single_source_dijkstra_path_length(
            undirected, net.node_ids[node], cutoff=cutoff_m, weight="length"
        )
        totals = np.array([lengths.get(n, np.inf) for n in stop_nodes]) + stop_snap + s_o
        totals.sort()
        _nearest, _three, _count = totals[0], totals[:3].mean(), int((totals <= radius_m).sum())
    return time.perf_counter() - start


def _pandana(net, plots, stops, cutoff_m: float) -> dict[str, object] | str:
    """Seconds for pandana's nearest 3 POIs (build, precompute, query), if importable."""
    try:
        import pandana
    except ImportError:
        return "not installed"
    from scipy import sparse

    try:
        start = time.perf_counter()
        coo = sparse.triu(net.csr, k=1).tocoo()
        pn = pandana.Network(
            pd.Series(net.xy[:, 0]),
            pd.Series(net.xy[:, 1]),
            pd.Series(coo.row),
            pd.Series(coo.col),
            pd.DataFrame({"length": coo.data}),
            twoway=True,
        )
        pn.precompute(cutoff_m)
        built = time.perf_counter() - start
        start = time.perf_counter()
        pn.set_pois("stops", cutoff_m, 3, stops.geometry.x, stops.geometry.y)
        pn.get_node_ids(plots.geometry.x, plots.geometry.y)
        pn.nearest_pois(cutoff_m, "stops", num_pois=3)
        return {
            "build_precompute_s": round(built, 3),
            "nearest3_s": round(time.perf_counter() - start, 3),
        }
    except Exception as exc:  # report, do not hide, an incompatible pandana
        return f"failed: {type(exc).__name__}: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--data-dir", help="handwerkgeo data dir with fetched layers")
    src.add_argument("--mirror", help="the Düsseldorf data mirror")
    parser.add_argument("--plots", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cutoff-m", type=float, default=2000.0)
    parser.add_argument("--radius-m", type=float, default=800.0)
    args = parser.parse_args()

    way_paths, stop_path = _inputs(args)
    result: dict[str, object] = {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "plots": args.plots,
    }
    ways, result["read_ways_s"] = _timed(read_osm_ways, way_paths)
    graph, result["graph_from_ways_s"] = _timed(graph_from_ways, ways)
    net, result["prepare_network_s"] = _timed(prepare_network, graph)
    result["ways"] = len(ways)
    result["graph_nodes"] = graph.number_of_nodes()
    result["network_nodes"] = net.n_nodes
    result["network_edges"] = net.n_edges
    stops = _read_stops(stop_path)
    result["stops"] = len(stops)

    rng = np.random.default_rng(args.seed)
    (minx, miny), (maxx, maxy) = net.xy.min(axis=0), net.xy.max(axis=0)
    plots = gpd.GeoDataFrame(
        {"plot_id": [f"b{i}" for i in range(args.plots)]},
        geometry=gpd.points_from_xy(
            rng.uniform(minx, maxx, args.plots), rng.uniform(miny, maxy, args.plots)
        ),
        crs="EPSG:25832",
    )

    _near, result["nearest_s"] = _timed(nearest, net, plots, stops)
    _, result["k_nearest_3_s"] = _timed(k_nearest, net, plots, stops, k=3, cutoff_m=args.cutoff_m)
    _, result["count_within_s"] = _timed(count_within, net, plots, stops, radius_m=args.radius_m)
    result["three_measures_s"] = round(
        result["nearest_s"] + result["k_nearest_3_s"] + result["count_within_s"], 3
    )
    tracemalloc.start()
    acc, result["transit_access_s"] = _timed(
        transit_access, plots, net, stops, cutoff_m=args.cutoff_m, radius_m=args.radius_m
    )
    result["transit_access_tracemalloc_peak_mb"] = round(
        tracemalloc.get_traced_memory()[1] / 2**20, 1
    )
    tracemalloc.stop()
    result["plots_fallback_share"] = round(float(acc["fallback"].mean()), 4)

    sample = plots.sample(min(args.sample, len(plots)), random_state=args.seed)
    per_sample = _networkx_per_plot(graph, net, sample, stops, args.cutoff_m, args.radius_m)
    result["networkx_per_plot_sample"] = len(sample)
    result["networkx_per_plot_sample_s"] = round(per_sample, 3)
    result["networkx_per_plot_extrapolated_s"] = round(per_sample / len(sample) * args.plots, 1)
    result["networkx_note"] = (
        "extrapolated linearly from the sample; per plot one Dijkstra limited to cutoff_m"
    )
    result["pandana"] = _pandana(net, plots, stops, args.cutoff_m)

    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    for key, value in list(result.items()):
        if isinstance(value, float):
            result[key] = round(value, 3)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
