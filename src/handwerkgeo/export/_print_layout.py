"""Page layout of print figures: paper sizes, a map extent that fills its frame, labels that
are never cut at the frame or laid over each other, and the locator inset of the city.

Used by :mod:`handwerkgeo.export.figures` and :mod:`handwerkgeo.export.profiles`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely
from matplotlib.patches import Rectangle

from handwerkgeo.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure

__all__ = [
    "PAPER_IN",
    "fit_extent",
    "locator",
    "paper_size",
    "place_labels",
    "quarter_labels",
]

#: Paper sizes (portrait width, height) in inches.
PAPER_IN = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}


def paper_size(paper: str, orientation: str) -> tuple[float, float]:
    """(width, height) in inches of ``paper`` (A4/A3) in ``orientation``."""
    key = str(paper).upper()
    if key not in PAPER_IN or orientation not in ("portrait", "landscape"):
        msg = (
            f"paper must be one of {', '.join(PAPER_IN)} and orientation 'portrait' or "
            f"'landscape', got {paper!r} / {orientation!r}"
        )
        raise ConfigError(msg)
    w, h = PAPER_IN[key]
    return (w, h) if orientation == "portrait" else (h, w)


def fit_extent(
    bounds: Any,
    axes_in: tuple[float, float],
    *,
    margin: float = 0.08,
    min_m: float = 400,
) -> tuple[float, float, float, float]:
    """An extent around ``bounds`` with a margin, stretched to the aspect of the axes.

    The plots fill the frame (no half-empty page), with ``margin`` of the span free on
    every side; at least ``min_m`` metres across.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w = max(maxx - minx, min_m) * (1 + 2 * margin)
    h = max(maxy - miny, min_m) * (1 + 2 * margin)
    aspect = axes_in[0] / axes_in[1]
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _renderer(fig: Figure) -> RendererBase:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _overlaps(b: Any, others: list[Any]) -> bool:
    return any(b.overlaps(o) for o in others)


def quarter_labels(
    ax: Axes,
    quarters: gpd.GeoDataFrame | None,
    extent: tuple[float, float, float, float],
    *,
    column: str = "stadtteil_name",
    fontsize: float = 6.0,
) -> list[Any]:
    """Names of the quarters in the frame, each wholly inside it (never cut at the edge).

    A quarter only partly in the frame is labelled at a point of its visible part; a name
    that would reach over the frame is moved inwards. Returns the labels' display boxes.
    """
    if quarters is None or not len(quarters) or column not in quarters:
        return []
    frame = shapely.box(*extent)
    fig = ax.get_figure()
    renderer = _renderer(fig)  # type: ignore[arg-type]
    inside = ax.get_window_extent(renderer)
    boxes = []
    for geom, name in zip(quarters.geometry, quarters[column], strict=True):
        if geom is None or pd.isna(name) or not geom.intersects(frame):
            continue
        part = geom.intersection(frame)
        if part.is_empty or part.area < frame.area * 0.002:
            continue
        p = part.representative_point()
        txt = ax.text(
            p.x, p.y, str(name), fontsize=fontsize, color="#333333", ha="center", va="center",
            zorder=4, parse_math=False, clip_on=False,
        )  # fmt: skip
        bb = txt.get_window_extent(renderer)
        dx = max(inside.x0 + 2 - bb.x0, 0) - max(bb.x1 - inside.x1 + 2, 0)
        dy = max(inside.y0 + 2 - bb.y0, 0) - max(bb.y1 - inside.y1 + 2, 0)
        if dx or dy:
            x, y = ax.transData.transform((p.x, p.y))
            nx, ny = ax.transData.inverted().transform((x + dx, y + dy))
            txt.set_position((float(nx), float(ny)))
        boxes.append(txt.get_window_extent(renderer))
    return boxes


_ANGLES = (45, 135, -45, -135, 0, 180, 90, -90)


def _text_box(ann: Any, renderer: RendererBase, px_per_pt: float) -> Any:
    """The box of a label's text with its white frame, without the leader line."""
    from matplotlib.text import Text

    ann.update_positions(renderer)
    tb = Text.get_window_extent(ann, renderer)
    pad = 2.5 * px_per_pt
    return tb.from_extents(tb.x0 - pad, tb.y0 - pad, tb.x1 + pad, tb.y1 + pad)


_BOX = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "black", "linewidth": 0.6}
_LEADER = {"arrowstyle": "-", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 0}


def _candidate(
    ax: Axes, text: str, centre: Any, half: tuple[float, float], r: float, a: float, size: float
) -> Any:
    """A label at distance ``r`` (points) beyond the plot's edge in direction ``a`` (deg)."""
    c, s = math.cos(math.radians(a)), math.sin(math.radians(a))
    m = max(abs(c), abs(s))  # to the edge of the plot's box, corners included
    edge = ax.transData.inverted().transform(
        (centre[0] + half[0] * c / m, centre[1] + half[1] * s / m)
    )
    return ax.annotate(
        text, (float(edge[0]), float(edge[1])), xytext=(r * c, r * s),
        textcoords="offset points", fontsize=size, weight="bold", zorder=6,
        ha="left" if c > 0.3 else "right" if c < -0.3 else "center",
        va="bottom" if s > 0.3 else "top" if s < -0.3 else "center",
        annotation_clip=False, bbox=_BOX, arrowprops=None if r <= 2 else _LEADER,
    )  # fmt: skip


def _place_one(
    ax: Axes,
    text: str,
    centre: Any,
    half: tuple[float, float],
    avoid: list[Any],
    ctx: tuple[Any, Any, float, float],
) -> tuple[Any, Any] | None:
    renderer, frame, px_per_pt, size = ctx
    for r in (2, 8, 16, 26, 38, 52, 70):
        for a in _ANGLES:
            ann = _candidate(ax, text, centre, half, r, a, size)
            bb = _text_box(ann, renderer, px_per_pt)
            inside = frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0
            if inside and bb.y1 <= frame.y1 and not _overlaps(bb, avoid):
                return ann, bb
            ann.remove()
    return None


def place_labels(
    ax: Axes,
    points: Sequence[tuple[float, float]],
    texts: Sequence[str],
    *,
    half_sizes: Sequence[tuple[float, float]] | None = None,
    avoid: Sequence[Any] = (),
    fontsize: float = 7.0,
) -> list[Any]:
    """Rank labels beside their plots, none over another or over a plot, none cut at the
    frame; a label set apart is joined to the plot's edge by a leader line.

    Greedy placement in the given order (best rank first) at growing distances around
    each plot, in display coordinates; the boxes in ``avoid`` (e.g. quarter names) are
    kept free where possible. ``half_sizes`` are the plots' half extents in pixels.
    Returns the matplotlib annotations.
    """
    from matplotlib.transforms import Bbox

    renderer = _renderer(ax.get_figure())  # type: ignore[arg-type]
    px_per_pt = ax.get_figure().dpi / 72  # type: ignore[union-attr]
    ctx = (renderer, ax.get_window_extent(renderer), px_per_pt, fontsize)
    disp = [ax.transData.transform(p) for p in points]
    halves = [
        (max(hx, 3 * px_per_pt), max(hy, 3 * px_per_pt))
        for hx, hy in (half_sizes or [(0.0, 0.0)] * len(points))
    ]
    plots = [
        Bbox.from_extents(x - hx, y - hy, x + hx, y + hy)
        for (x, y), (hx, hy) in zip(disp, halves, strict=True)
    ]
    placed: list[Any] = []
    out = []
    for centre, half, text in zip(disp, halves, texts, strict=True):
        best = _place_one(ax, text, centre, half, [*placed, *plots, *avoid], ctx)
        if best is None and avoid:
            best = _place_one(ax, text, centre, half, [*placed, *plots], ctx)
        if best is None:  # nowhere free: on the plot, inside the frame
            ann = _candidate(ax, text, centre, (0.0, 0.0), 0, 0, fontsize)
            ann.set_horizontalalignment("center")
            best = (ann, _text_box(ann, renderer, px_per_pt))
        placed.append(best[1])
        out.append(best[0])
    return out


def locator(
    ax: Axes,
    city: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float],
    *,
    title: str,
    quarters: gpd.GeoDataFrame | None = None,
) -> None:
    """The whole city in small, with the frame of the main map as a red rectangle."""
    city.plot(ax=ax, facecolor="#f2f2f2", edgecolor="#777777", linewidth=0.4)
    if quarters is not None and len(quarters):
        quarters.boundary.plot(ax=ax, color="#bbbbbb", linewidth=0.2)
    x0, y0, x1, y1 = extent
    b = city.total_bounds
    span = max(b[2] - b[0], b[3] - b[1])
    # a frame smaller than a few per cent of the city is shown as a marker around it
    grow = max(0.0, span * 0.03 - (x1 - x0)) / 2
    ax.add_patch(
        Rectangle(
            (x0 - grow, y0 - grow),
            x1 - x0 + 2 * grow,
            y1 - y0 + 2 * grow,
            fill=False,
            edgecolor="#d62728",
            linewidth=1.2,
            zorder=5,
        )
    )
    pad = span * 0.03
    ax.set_xlim(min(b[0], x0) - pad, max(b[2], x1) + pad)
    ax.set_ylim(min(b[1], y0) - pad, max(b[3], y1) + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title, fontsize=7, loc="left", pad=2)
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
