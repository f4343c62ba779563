"""Splitting a connected region of grid cells into contiguous parts of bounded area.

Used by the site search (:func:`handwerkgeo.search.candidate_sites`): a merged region of
good cells larger than the maximum site area is cut into candidate sites. Cells are given
by index into an adjacency matrix (cells sharing an edge), their centroids and areas.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["absorb_fragments", "components", "split_region"]


def components(adj: csr_matrix, part: np.ndarray) -> list[np.ndarray]:
    """The connected parts of the cells ``part`` (indices into ``adj``)."""
    n, labels = connected_components(adj[part][:, part], directed=False)
    return [part[labels == i] for i in range(n)]


def split_region(
    part: np.ndarray, xy: np.ndarray, area: np.ndarray, adj: csr_matrix, max_area_m2: float
) -> list[np.ndarray]:
    """Split one connected region into contiguous parts of at most ``max_area_m2``.

    Recursive bisection: a part larger than the maximum is cut across its longer extent
    (cell centroids sorted along that axis) where the cumulated area reaches
    ``floor(k / 2) / k`` of its area, ``k = ceil(area / max)`` — so that the parts come out
    close to the maximum, not much smaller. Each half is split into its connected parts
    again, so every part is contiguous. A single cell larger than the maximum stays one part.
    """
    out, stack = [], [part]
    while stack:
        part = stack.pop()
        total = float(area[part].sum())
        if total <= max_area_m2 or len(part) == 1:
            out.append(part)
            continue
        k = math.ceil(total / max_area_m2)
        pts = xy[part]
        axis = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
        order = np.lexsort((pts[:, 1 - axis], pts[:, axis]))
        cum = np.cumsum(area[part][order])
        cut = int(np.searchsorted(cum, (k // 2) / k * total, side="left")) + 1
        cut = min(max(cut, 1), len(part) - 1)
        for half in (part[order[:cut]], part[order[cut:]]):
            stack.extend(components(adj, half))
    return absorb_fragments(out, area, adj, max_area_m2)


def absorb_fragments(
    parts: list[np.ndarray], area: np.ndarray, adj: csr_matrix, max_area_m2: float
) -> list[np.ndarray]:
    """Merge parts below half the maximum into their smallest neighbour that stays ≤ max.

    Cutting a region can leave slivers (a half falling apart into pieces); a neighbouring
    part takes them in as long as the two together do not exceed the maximum, so the sites
    come out close to the maximum size and every site stays contiguous.
    """
    owner = np.full(adj.shape[0], -1, dtype=np.int64)
    for i, part in enumerate(parts):
        owner[part] = i
    merged: list[np.ndarray | None] = list(parts)
    sizes = [float(area[p].sum()) for p in parts]
    changed = True
    while changed:
        changed = False
        for i in sorted(range(len(merged)), key=lambda k: sizes[k]):
            cells = merged[i]
            if cells is None or sizes[i] >= max_area_m2 / 2:
                continue
            near = {int(j) for j in owner[adj[cells].indices]} - {i, -1}
            fits = [j for j in near if sizes[i] + sizes[j] <= max_area_m2]
            if not fits:
                continue
            j = min(fits, key=lambda k: (sizes[k], k))
            merged[j] = np.concatenate([merged[j], cells])
            owner[cells] = j
            sizes[j] += sizes[i]
            merged[i], sizes[i] = None, math.inf
            changed = True
    return [m for m in merged if m is not None]
