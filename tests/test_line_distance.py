"""Plot-to-line-network distances: the compiled grid search and the GEOS index against brute force.

``distance_to_lines`` must equal shapely's exact ``distance`` (the tolerance is 1 mm; in
practice the results are identical), for outlines near, touching, crossing and containing
lines, with holes and several parts, and on the real cycling network and main roads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from handwerkgeo.criteria import _line_kernel, _lines
from handwerkgeo.criteria import accessibility as acc

X0, Y0 = 340_000.0, 5_670_000.0
SRC = Path(__file__).resolve().parents[1] / "src"


def _brute(geoms, lines) -> np.ndarray:
    """The exact distance to the whole network, one plot at a time (GEOS ``distance``)."""
    network = shapely.union_all(np.asarray(lines)) if len(lines) > 1 else lines[0]
    return np.array([shapely.distance(g, network) for g in geoms])


def _both(parts, geoms) -> tuple[np.ndarray, np.ndarray]:
    parts = shapely.get_parts(np.asarray(parts, dtype=object))
    geoms = np.asarray(geoms, dtype=object)
    return (
        _lines.outline_distances(parts, geoms, kernel=True),
        _lines.outline_distances(parts, geoms, kernel=False),
    )


def _rotated_rects(rng, n, bounds, size=(20.0, 160.0)) -> np.ndarray:
    x0, y0, x1, y1 = bounds
    cx, cy = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    w, h = rng.uniform(*size, n), rng.uniform(*size, n)
    a = rng.uniform(0, np.pi, n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    dx, dy = corners[None, :, 0] * w[:, None], corners[None, :, 1] * h[:, None]
    cos, sin = np.cos(a)[:, None], np.sin(a)[:, None]
    xy = np.stack([cx[:, None] + dx * cos - dy * sin, cy[:, None] + dx * sin + dy * cos], -1)
    return shapely.polygons(xy)


def _touching_and_crossing(rng, lines, n) -> list:
    """Plots with a corner on a line vertex (touch), around a vertex (cross), around a
    whole segment (contain), and a ring around a vertex (the line runs through the hole)."""
    coords = shapely.get_coordinates(np.asarray(lines))
    pick = coords[rng.choice(len(coords), n, replace=False)]
    out = []
    for i, (x, y) in enumerate(pick):
        kind = i % 4
        if kind == 0:
            out.append(box(x, y, x + 30, y + 25))
        elif kind == 1:
            out.append(box(x - 12, y - 9, x + 15, y + 11))
        elif kind == 2:
            out.append(box(x - 400, y - 400, x + 400, y + 400))
        else:
            out.append(
                Polygon(
                    box(x - 60, y - 60, x + 60, y + 60).exterior,
                    [box(x - 5, y - 5, x + 5, y + 5).exterior.coords],
                )
            )
    return out


def test_edge_cases_equal_shapely():
    lines = [
        LineString([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100)]),
        LineString([(X0 + 500, Y0), (X0 + 500, Y0), (X0 + 700, Y0 + 50)]),  # repeated vertex
        LineString([(X0 - 50, Y0 + 300), (X0 + 900, Y0 + 300)]),
        LineString([(X0 + 2080, Y0 + 300), (X0 + 2120, Y0 + 300)]),  # inside a hole
    ]
    plots = [
        box(X0 + 10, Y0 + 10, X0 + 50, Y0 + 50),  # near, not touching
        box(X0 + 100, Y0 + 20, X0 + 130, Y0 + 40),  # touches the line along an edge
        box(X0 + 90, Y0 - 10, X0 + 110, Y0 + 10),  # crosses at a corner of the line
        box(X0 + 200, Y0 + 250, X0 + 400, Y0 + 350),  # the line crosses the plot
        box(X0 - 100, Y0 - 100, X0 + 1000, Y0 + 400),  # contains every line
        Polygon(  # the last line lies inside the hole: 30 m to the hole's edge, not 0
            box(X0 + 2000, Y0 + 200, X0 + 2200, Y0 + 400).exterior,
            [box(X0 + 2050, Y0 + 250, X0 + 2150, Y0 + 350).exterior.coords],
        ),
        MultiPolygon(
            [box(X0 + 5000, Y0, X0 + 5010, Y0 + 10), box(X0 + 600, Y0 + 100, X0 + 620, Y0 + 120)]
        ),
        box(X0 - 30_000, Y0 - 20_000, X0 - 29_990, Y0 - 19_990),  # far outside the grid
        box(X0 + 100, Y0 + 100, X0 + 120, Y0 + 130),  # a corner on the line's end point
    ]
    kernel, geos = _both(lines, plots)
    expected = _brute(plots, lines)
    np.testing.assert_allclose(kernel, expected, rtol=0, atol=1e-3)
    np.testing.assert_allclose(geos, expected, rtol=0, atol=1e-3)
    assert kernel[[1, 2, 3, 4, 8]].tolist() == [0.0] * 5
    assert expected[5] == kernel[5] == 30.0


def test_random_outlines_equal_shapely_bit_for_bit():
    rng = np.random.default_rng(12)
    lines = [
        LineString(rng.uniform(0, 4000, (rng.integers(2, 30), 2)) + np.array([X0, Y0]))
        for _ in range(40)
    ]
    plots = _rotated_rects(rng, 400, (X0 - 500, Y0 - 500, X0 + 4500, Y0 + 4500))
    plots = np.concatenate([plots, _touching_and_crossing(rng, lines, 40)])
    kernel, geos = _both(lines, plots)
    expected = _brute(plots, lines)
    np.testing.assert_allclose(kernel, expected, rtol=0, atol=1e-3)
    assert (kernel == 0).sum() == (expected == 0).sum() >= 30
    np.testing.assert_array_equal(kernel, geos)  # the same formulas as GEOS: identical


def test_points_and_non_line_targets_go_to_geos():
    lines = [LineString([(X0, Y0), (X0 + 100, Y0)]), Point(X0 + 50, Y0 + 500)]
    plots = [box(X0 + 40, Y0 + 450, X0 + 60, Y0 + 480), Point(X0 + 50, Y0 + 10)]
    kernel, geos = _both(lines, plots)
    np.testing.assert_allclose(kernel, [20.0, 10.0])
    np.testing.assert_allclose(geos, [20.0, 10.0])
    mixed = [box(X0 + 40, Y0 + 20, X0 + 60, Y0 + 30), Point(X0 + 50, Y0 + 10)]
    kernel, _ = _both(lines[:1], mixed)  # polygons by the kernel, the point by GEOS
    np.testing.assert_allclose(kernel, [20.0, 10.0])


def test_the_kernel_is_chosen_for_many_plots(monkeypatch):
    calls = []
    original = _line_kernel.nearest_segment_distances

    def counting(segments, polygons):
        calls.append(len(polygons))
        return original(segments, polygons)

    monkeypatch.setattr(_line_kernel, "nearest_segment_distances", counting)
    monkeypatch.setattr(_lines, "KERNEL_MIN_PLOTS", 5)
    rng = np.random.default_rng(5)
    plots = gpd.GeoDataFrame(
        geometry=_rotated_rects(rng, 6, (X0, Y0, X0 + 1000, Y0 + 1000)), crs="EPSG:25832"
    )
    roads = gpd.GeoSeries([LineString([(X0, Y0), (X0 + 1000, Y0 + 900)])], crs="EPSG:25832")
    got = acc.distance_to_lines(plots, roads)
    assert calls == [6]
    np.testing.assert_allclose(got, _brute(plots.geometry, roads.to_numpy()), atol=1e-3)


def test_a_small_batch_does_not_start_numba(tmp_path):
    code = (
        "import sys, geopandas as gpd\n"
        "from shapely.geometry import LineString, box\n"
        "from handwerkgeo.criteria.accessibility import distance_to_lines\n"
        f"p = gpd.GeoDataFrame(geometry=[box({X0}, {Y0}, {X0} + 10, {Y0} + 10)] * 100, crs=25832)\n"
        f"r = gpd.GeoSeries([LineString([({X0}, {Y0} + 30), ({X0} + 50, {Y0} + 30)])], crs=25832)\n"
        "d = distance_to_lines(p, r)\n"
        "print(float(d.max()), 'numba' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert out.stdout.split() == ["20.0", "False"]


@pytest.mark.parametrize("layer", ["cycling", "main_roads"])
def test_real_networks_equal_shapely(duesseldorf_context, layer):
    lines = duesseldorf_context.layer(layer)
    if lines is None:
        pytest.skip(f"no {layer} layer in the fetched data")
    geoms = lines.geometry.to_numpy()
    rng = np.random.default_rng(2026)
    plots = _rotated_rects(rng, 300, lines.total_bounds)
    plots = np.concatenate([plots, _touching_and_crossing(rng, geoms, 60)])
    frame = gpd.GeoDataFrame(geometry=plots, crs="EPSG:25832")
    parts = shapely.get_parts(geoms)
    kernel = _lines.outline_distances(parts, plots, kernel=True)
    expected = _brute(plots, geoms)
    np.testing.assert_allclose(kernel, expected, rtol=0, atol=1e-3)
    assert (kernel == 0).sum() == (expected == 0).sum() >= 45
    np.testing.assert_array_equal(acc.distance_to_lines(frame, lines).to_numpy(), kernel)
