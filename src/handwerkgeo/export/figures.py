"""Print figures of the score map (PNG or PDF, A4 landscape) with matplotlib.

The figure shows the total score in five colour-blind-safe classes (viridis, fixed breaks
0-20-40-60-80-100; excluded plots grey), the top-N plots with their rank, optional
Stadtteile with names, a classed legend, a scale bar in metres (drawn from the EPSG:25832
coordinates, which are metres), a north arrow pointing to true north (UTM grid north
differs from it by about 1.7° in Düsseldorf), the title, and a footer with the date,
the configuration hash, the version and the data sources with licences and attribution.

matplotlib's object API (``matplotlib.figure.Figure``) is used, not ``pyplot``: no global
state, no GUI backend, safe in servers and notebooks.
"""

from __future__ import annotations

import io
import logging
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from pyproj import Transformer

from handwerkgeo._atomic import atomic_write_bytes
from handwerkgeo.crs import CRS, check_crs
from handwerkgeo.errors import ConfigError, MissingColumnError
from handwerkgeo.export._labels import (
    CLASS_BREAKS,
    CLASS_COLOURS,
    COLOUR_EXCLUDED,
    COLOUR_NO_DATA,
    TEXT,
    attribution_lines,
    check_lang,
    class_index,
    credit_parts,
    format_number,
    merge_sources,
    run_of,
    validate_scored,
)

__all__ = [
    "A4_LANDSCAPE_IN",
    "draw_map",
    "export_figure",
    "north_arrow",
    "render_figure",
    "scale_bar",
    "score_colours",
]

logger = logging.getLogger(__name__)

#: A4 landscape in inches.
A4_LANDSCAPE_IN = (11.69, 8.27)
_NICE_M = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000)


def score_colours(scored: pd.DataFrame) -> list[str]:
    """Fill colour of each plot: score class colour, grey if excluded, white if no score."""
    idx = class_index(scored["score_total"], 100.0)
    excluded = scored["excluded"].fillna(False).astype(bool).to_numpy()
    return [
        COLOUR_EXCLUDED if ex else (COLOUR_NO_DATA if k < 0 else CLASS_COLOURS[k])
        for k, ex in zip(idx, excluded, strict=True)
    ]


def scale_bar(ax: Axes, lang: str) -> None:
    """A two-segment black/white scale bar in metres at the lower left of ``ax``."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    length = max((n for n in _NICE_M if n <= target), default=_NICE_M[0])
    height = (y1 - y0) * 0.008
    bx = x0 + (x1 - x0) * 0.04
    by = y0 + (y1 - y0) * 0.04
    half = length / 2
    ax.add_patch(Rectangle((bx, by), half, height, facecolor="black", edgecolor="black", lw=0.6))
    ax.add_patch(
        Rectangle((bx + half, by), half, height, facecolor="white", edgecolor="black", lw=0.6)
    )

    def label(m: float) -> str:
        return (
            f"{format_number(m / 1000, lang, 1 if m % 1000 else 0)} km"
            if m >= 1000
            else f"{m:.0f} m"
        )

    for pos, m in ((0, 0.0), (length, float(length))):
        text = "0" if m == 0 else label(m)
        ax.text(
            bx + pos,
            by + height * 1.8,
            text,
            ha="center",
            va="bottom",
            fontsize=6,
            parse_math=False,
        )


def north_arrow(ax: Axes) -> None:
    """An arrow to true north in the upper right of ``ax`` (rotated from grid north)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    to_geo = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    lon, lat = to_geo.transform(cx, cy)
    nx, ny = to_utm.transform(lon, lat + 0.01)
    angle = math.atan2(nx - cx, ny - cy)  # clockwise from grid north
    size = min(x1 - x0, y1 - y0) * 0.09
    ax_x = x1 - (x1 - x0) * 0.05
    ax_y = y1 - (y1 - y0) * 0.12
    dx, dy = size * math.sin(angle), size * math.cos(angle)
    ax.add_patch(
        FancyArrow(
            ax_x,
            ax_y,
            dx,
            dy,
            width=size * 0.22,
            head_width=size * 0.55,
            head_length=size * 0.45,
            length_includes_head=True,
            color="black",
        )
    )
    ax.text(
        ax_x + dx * 1.15,
        ax_y + dy * 1.15,
        "N",
        ha="center",
        va="bottom",
        fontsize=10,
        weight="bold",
    )


def _footer(
    scored: gpd.GeoDataFrame, lang: str, extra_sources: Sequence[Mapping[str, Any]] = ()
) -> str:
    t = TEXT[lang]
    run = merge_sources(run_of(scored), extra_sources)
    parts = credit_parts(run, lang, scored_at=True)
    lines = attribution_lines(run, lang)
    text = " · ".join(parts)
    if lines:
        text += f"\n{t['sources']}: " + "; ".join(lines)
    return "\n".join(textwrap.fill(p, 190) for p in text.split("\n"))


def draw_map(
    ax: Axes,
    gdf: gpd.GeoDataFrame,
    *,
    stadtteile: gpd.GeoDataFrame | None,
    top_n: int,
    lang: str,
    label_stadtteile: bool = True,
    extent: tuple[float, float, float, float] | None = None,
) -> list[int]:
    """Draw plots (and context) on ``ax``; return the positions of the top-N plots."""
    drawable = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    if not drawable.all():
        logger.warning(
            "%d plot(s) without geometry are not drawn: %s",
            int((~drawable).sum()),
            ", ".join(map(str, gdf.loc[~drawable, "plot_id"].head(10))),
        )
    colours = np.array(score_colours(gdf), dtype=object)
    if extent is None:
        b = gdf.geometry[drawable].total_bounds if drawable.any() else np.array([0, 0, 1, 1])
        pad = max(b[2] - b[0], b[3] - b[1], 200.0) * 0.05
        extent = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
    if stadtteile is not None and len(stadtteile):
        check_crs(stadtteile, name="stadtteile")
        stadtteile.boundary.plot(
            ax=ax, color="#555555", linewidth=0.5, linestyle=(0, (3, 2)), zorder=3
        )
    sub = gdf[drawable]
    if len(sub):
        large = len(sub) > 3000
        sub.plot(
            ax=ax,
            color=list(colours[drawable]),
            edgecolor="none" if large else "#333333",
            linewidth=0 if large else 0.4,
            markersize=18,
            zorder=2,
        )
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    if (
        stadtteile is not None
        and len(stadtteile)
        and label_stadtteile
        and "stadtteil_name" in stadtteile
    ):
        pts = stadtteile.geometry.representative_point()
        for p, name in zip(pts, stadtteile["stadtteil_name"], strict=True):
            if (
                extent[0] <= p.x <= extent[2]
                and extent[1] <= p.y <= extent[3]
                and not pd.isna(name)
            ):
                ax.text(
                    p.x,
                    p.y,
                    str(name),
                    fontsize=5,
                    color="#333333",
                    ha="center",
                    va="center",
                    zorder=4,
                    parse_math=False,
                    clip_on=True,
                )
    rank = pd.to_numeric(gdf["rank"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    excluded = gdf["excluded"].fillna(False).astype(bool).to_numpy()
    order = [
        i
        for i in np.argsort(np.where(excluded, np.nan, rank), kind="stable")
        if not np.isnan(rank[i]) and not excluded[i] and drawable[i]
    ]
    top = order[: max(int(top_n), 0)]
    if top:
        pts = gdf.geometry.iloc[top].representative_point()
        outline = gdf.iloc[top]
        outline = outline[outline.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(outline):
            outline.boundary.plot(ax=ax, color="black", linewidth=1.2, zorder=5)
        for p, i in zip(pts, top, strict=True):
            ax.text(
                p.x,
                p.y,
                str(int(rank[i])),
                fontsize=6.5,
                weight="bold",
                ha="center",
                va="center",
                zorder=6,
                bbox={
                    "boxstyle": "circle,pad=0.25",
                    "facecolor": "white",
                    "edgecolor": "black",
                    "linewidth": 0.8,
                },
            )
    ax.set_aspect("equal")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
    return top


def _legend(ax: Axes, lang: str, top_n: int) -> None:
    t = TEXT[lang]
    handles: list[Patch | Line2D] = []
    for k in range(len(CLASS_COLOURS) - 1, -1, -1):
        lo, hi = CLASS_BREAKS[k], CLASS_BREAKS[k + 1]
        handles.append(
            Patch(facecolor=CLASS_COLOURS[k], edgecolor="#333333", label=f"{lo:.0f}–{hi:.0f}")
        )
    handles.append(
        Patch(facecolor=COLOUR_EXCLUDED, edgecolor="#333333", label=t["excluded_legend"])
    )
    handles.append(Patch(facecolor=COLOUR_NO_DATA, edgecolor="#333333", label=t["no_data_legend"]))
    if top_n > 0:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                markersize=9,
                markerfacecolor="white",
                markeredgecolor="black",
                linestyle="none",
                label=t["top_n"].format(n=top_n),
            )
        )
    ax.legend(
        handles=handles,
        title=t["score_legend"],
        loc="upper left",
        fontsize=8,
        title_fontsize=8.5,
        frameon=False,
    )
    ax.axis("off")


def render_figure(
    scored: gpd.GeoDataFrame,
    *,
    stadtteile: gpd.GeoDataFrame | None = None,
    top_n: int = 10,
    lang: str = "de",
    title: str | None = None,
    extra_sources: Sequence[Mapping[str, Any]] = (),
) -> Figure:
    """The A4-landscape figure as a matplotlib ``Figure`` (see :func:`export_figure`)."""
    lang = check_lang(lang)
    gdf = validate_scored(scored)
    fig = Figure(figsize=A4_LANDSCAPE_IN)
    fig.text(
        0.03,
        0.955,
        title or TEXT[lang]["title"],
        fontsize=15,
        weight="bold",
        va="top",
        parse_math=False,
    )
    ax = fig.add_axes((0.03, 0.1, 0.72, 0.8))
    top = draw_map(ax, gdf, stadtteile=stadtteile, top_n=top_n, lang=lang)
    scale_bar(ax, lang)
    north_arrow(ax)
    _legend(fig.add_axes((0.77, 0.45, 0.21, 0.45)), lang, len(top))
    fig.text(
        0.03,
        0.015,
        _footer(gdf, lang, extra_sources),
        fontsize=6,
        va="bottom",
        color="#333333",
        parse_math=False,
    )
    return fig


def export_figure(
    scored: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    stadtteile: gpd.GeoDataFrame | None = None,
    top_n: int = 10,
    lang: str = "de",
    title: str | None = None,
    dpi: int = 300,
    extra_sources: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Write the score map as a print figure (A4 landscape), PNG or PDF by file suffix.

    Parameters
    ----------
    scored
        Scored frame in EPSG:25832 (output of ``handwerkgeo.scoring.score_plots``).
    path
        ``.png`` or ``.pdf``; written atomically.
    stadtteile
        Optional Stadtteile (EPSG:25832, ``stadtteil_name``) drawn as context with names.
    top_n
        Number of best-ranked plots labelled with their rank.
    lang
        ``"de"`` (default) or ``"en"``.
    title
        Figure title; default "Standortbewertung Handwerkerhöfe Düsseldorf".
    dpi
        Resolution of PNG output (300 for print).
    extra_sources
        Sources of context layers ({name, licence, attribution}) added to the footer.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        If the suffix is not ``.png`` or ``.pdf``.
    MissingColumnError, NoCrsError, UnexpectedCrsError
        If ``scored`` (or ``stadtteile``) is not usable.

    Examples
    --------
    >>> export_figure(scored, "karte.pdf", stadtteile=stadtteile)  # doctest: +SKIP
    PosixPath('karte.pdf')
    """
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf"):
        msg = f"export_figure writes .png or .pdf files, got {str(path)!r}; change the file name."
        raise ConfigError(msg)
    if stadtteile is not None and "stadtteil_name" not in stadtteile.columns:
        msg = (
            "stadtteile needs a 'stadtteil_name' column "
            "(read it with handwerkgeo's Stadtteile reader)."
        )
        raise MissingColumnError(msg)
    fig = render_figure(
        scored,
        stadtteile=stadtteile,
        top_n=top_n,
        lang=lang,
        title=title,
        extra_sources=extra_sources,
    )
    buf = io.BytesIO()
    meta = (
        {"Title": title or TEXT[lang]["title"], "Creator": "handwerkgeo"} if fmt == "pdf" else None
    )
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    out = atomic_write_bytes(path, buf.getvalue())
    logger.info("figure written to %s (%s, %d dpi)", out, fmt, dpi)
    return out
