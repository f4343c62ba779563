"""Exact distances from plot geometries to line networks (behind ``distance_to_lines``).

The lines are cut into their two-point segments (the distance to a line is the least over
its segments, and small segment boxes keep a spatial index selective). Two exact ways, equal
to shapely's ``distance`` (the same formulas as GEOS; on the real cycling network and main
roads with 100,000 plots: identical to the last bit):

- GEOS: ``STRtree.query_nearest`` on the segments, in blocks on all cores (GEOS releases
  the GIL). About 10–20 µs per plot and layer (100,000 plot outlines: 1.7–2.1 s CPU per
  layer); no start-up cost. Works for any geometry types.
- compiled: :mod:`handwerkgeo.criteria._line_kernel` (numba), a ring search over a grid of
  the segments measuring each candidate against the plot's edges. About 2–3 µs per plot
  and layer, but starting numba costs ~0.7 s once per process (import and first call), so
  it is used for :data:`KERNEL_MIN_PLOTS` or more (multi)polygon plots, or whenever numba
  already runs in the process (the network fields were computed here), and only when the
  targets are all lines.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import shapely

from handwerkgeo._geom import is_polygonal

__all__ = ["KERNEL_MIN_PLOTS", "outline_distances"]

#: (Multi)polygon plots from which :func:`outline_distances` uses the compiled kernel.
KERNEL_MIN_PLOTS = 40_000

#: Geometries per block of :func:`_nearest_distances` (blocks run in parallel threads).
_BLOCK = 10_000


def outline_distances(
    parts: np.ndarray, geoms: np.ndarray, *, kernel: bool | None = None
) -> np.ndarray:
    """Exact distance from every geometry to the nearest of the geometries ``parts``.

    ``parts`` are single (non-multi), non-empty geometries, usually LineStrings; ``geoms``
    non-empty geometries of any type. ``kernel`` forces (``True``) or forbids (``False``)
    the compiled kernel for the (multi)polygons; ``None`` chooses as the module docstring
    says. Targets that are not all lines always go to GEOS.
    """
    polygonal = is_polygonal(geoms)
    lines_only = bool(np.isin(shapely.get_type_id(parts), (1, 2)).all())
    if kernel is None:
        kernel = int(polygonal.sum()) >= KERNEL_MIN_PLOTS or "numba" in sys.modules
    if not (kernel and lines_only and polygonal.any()):
        return _nearest_distances(shapely.STRtree(_line_segments(parts)), geoms)
    from handwerkgeo.criteria import _line_kernel  # numba: imported only when used

    out = np.empty(len(geoms))
    segments = _line_kernel.line_segments(parts)
    out[polygonal] = _line_kernel.nearest_segment_distances(segments, geoms[polygonal])
    if not polygonal.all():
        rest = geoms[~polygonal]
        out[~polygonal] = _nearest_distances(shapely.STRtree(_line_segments(parts)), rest)
    return out


def _line_segments(parts: np.ndarray) -> np.ndarray:
    """Line parts split into their two-point segments; other geometry types kept whole."""
    is_line = np.isin(shapely.get_type_id(parts), (1, 2))  # LineString, LinearRing
    coords, which = shapely.get_coordinates(parts[is_line], return_index=True)
    same = which[1:] == which[:-1]
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    return np.concatenate([segments, parts[~is_line]])


def _nearest_distances(tree: shapely.STRtree, geoms: np.ndarray) -> np.ndarray:
    """Distance from every geometry to its nearest one in ``tree``.

    One ``query_nearest`` per block of :data:`_BLOCK` geometries; GEOS releases the GIL,
    so the blocks run on all cores.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(block: np.ndarray) -> np.ndarray:
        idx, d = tree.query_nearest(block, return_distance=True, all_matches=False)
        out = np.full(len(block), np.nan)
        out[idx[0]] = d
        return out

    blocks = [geoms[i : i + _BLOCK] for i in range(0, len(geoms), _BLOCK)]
    if len(blocks) == 1:
        return one(blocks[0])
    with ThreadPoolExecutor(max_workers=min(len(blocks), os.cpu_count() or 1)) as pool:
        return np.concatenate(list(pool.map(one, blocks)))
