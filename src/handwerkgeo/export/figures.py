"""Print figures of the score map (PNG or PDF; A4 or A3, landscape or portrait).

The plots fill the frame with a margin, over the offline base map (streets, Bezirke,
:mod:`handwerkgeo.export.basemap`); a locator inset shows the frame within the whole city.
Rank labels sit beside their plots (the score colour stays visible), none over another and
none cut at the frame; quarter names are kept wholly inside the frame. The figure shows
the total score in five colour-blind-safe classes (viridis, fixed breaks
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from pyproj import Transformer

from handwerkgeo._atomic import atomic_write_bytes
from handwerkgeo._options import merge_options
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
from handwerkgeo.export._print_layout import (
    fit_extent,
    locator,
    paper_size,
    place_labels,
    quarter_labels,
)
from handwerkgeo.export.basemap import BaseMap, draw_base_map

if TYPE_CHECKING:
    from typing import Unpack

__all__ = [
    "A4_LANDSCAPE_IN",
    "FigureKwargs",
    "FigureOptions",
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
    ax_y = y1 - (y1 - y0) * 0.03 - size * 1.6  # arrow and "N" wholly inside the frame
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
    scored: gpd.GeoDataFrame,
    lang: str,
    extra_sources: Sequence[Mapping[str, Any]] = (),
    *,
    width: int = 190,
) -> str:
    t = TEXT[lang]
    run = merge_sources(run_of(scored), extra_sources)
    parts = credit_parts(run, lang, scored_at=True)
    lines = attribution_lines(run, lang)
    text = " · ".join(parts)
    if lines:
        text += f"\n{t['sources']}: " + "; ".join(lines)
    return "\n".join(textwrap.fill(p, width) for p in text.split("\n"))


def _drawable(gdf: gpd.GeoDataFrame) -> np.ndarray:
    drawable = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    if not drawable.all():
        logger.warning(
            "%d plot(s) without geometry are not drawn: %s",
            int((~drawable).sum()),
            ", ".join(map(str, gdf.loc[~drawable, "plot_id"].head(10))),
        )
    return drawable


def _axes_inches(ax: Axes) -> tuple[float, float]:
    fig = ax.get_figure()
    w, h = fig.get_size_inches() if fig is not None else (4.0, 4.0)  # type: ignore[union-attr]
    pos = ax.get_position()
    return (max(pos.width * w, 0.1), max(pos.height * h, 0.1))


def _top_order(gdf: gpd.GeoDataFrame, drawable: np.ndarray, top_n: int) -> list[int]:
    rank = pd.to_numeric(gdf["rank"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    excluded = gdf["excluded"].fillna(False).astype(bool).to_numpy()
    order = [
        int(i)
        for i in np.argsort(np.where(excluded, np.nan, rank), kind="stable")
        if not np.isnan(rank[i]) and not excluded[i] and drawable[i]
    ]
    return order[: max(int(top_n), 0)]


def _small_plots_as_dots(ax: Axes, sub: gpd.GeoDataFrame, colours: np.ndarray) -> None:
    """Plots smaller than ~1.5 mm on paper keep their score colour as a dot."""
    x0, x1 = ax.get_xlim()
    m_per_mm = (x1 - x0) / (_axes_inches(ax)[0] * 25.4)
    b = sub.geometry.bounds
    size = np.maximum(b["maxx"] - b["minx"], b["maxy"] - b["miny"]).to_numpy()
    poly = sub.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    small = poly & (size < 1.5 * m_per_mm)
    if small.any() and len(sub) <= 3000:
        pts = sub.geometry[small].representative_point()
        ax.scatter(
            pts.x,
            pts.y,
            s=14,
            c=list(colours[small]),
            edgecolors="black",
            linewidths=0.5,
            zorder=5.5,
        )


def draw_map(
    ax: Axes,
    gdf: gpd.GeoDataFrame,
    *,
    stadtteile: gpd.GeoDataFrame | None,
    top_n: int,
    lang: str,
    label_stadtteile: bool = True,
    extent: tuple[float, float, float, float] | None = None,
    base_map: BaseMap | None = None,
) -> list[int]:
    """Draw the base map, plots and quarter names on ``ax``; return the top-N positions.

    Without ``extent`` the plots fill the axes with a margin (the extent takes the aspect
    of the axes). Rank labels sit beside their plots (leader lines where plots crowd), never
    over another label and never cut at the frame; quarter names stay wholly inside it.
    """
    drawable = _drawable(gdf)
    colours = np.array(score_colours(gdf), dtype=object)
    if extent is None:
        b = gdf.geometry[drawable].total_bounds if drawable.any() else np.array([0, 0, 1, 1])
        extent = fit_extent(b, _axes_inches(ax))
    if stadtteile is None and base_map is not None:
        stadtteile = base_map.stadtteile
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_facecolor("#f3f1ec")
    if base_map is not None:
        draw_base_map(ax, base_map, extent)
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
    ax.apply_aspect()
    _small_plots_as_dots(ax, sub, colours[drawable])
    names = quarter_labels(ax, stadtteile, extent) if label_stadtteile else []
    top = _top_order(gdf, drawable, top_n)
    if top:
        rank = pd.to_numeric(gdf["rank"], errors="coerce")
        outline = gdf.iloc[top]
        outline = outline[outline.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(outline):
            outline.boundary.plot(ax=ax, color="black", linewidth=1.0, zorder=5)
        ax.set_xlim(extent[0], extent[2])
        ax.set_ylim(extent[1], extent[3])
        pts = gdf.geometry.iloc[top].representative_point()
        bounds = gdf.geometry.iloc[top].bounds
        sx = ax.transData.transform((1.0, 0.0))[0] - ax.transData.transform((0.0, 0.0))[0]
        halves = [
            ((r.maxx - r.minx) / 2 * sx, (r.maxy - r.miny) / 2 * sx) for r in bounds.itertuples()
        ]
        place_labels(
            ax,
            [(p.x, p.y) for p in pts],
            [str(int(rank.iloc[i])) for i in top],
            half_sizes=halves,
            avoid=names,
        )
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
                marker="s",
                markersize=8,
                markerfacecolor="white",
                markeredgecolor="black",
                linestyle="none",
                label=t["top_n"].format(n=top_n) + " – " + t["rank"],
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


@dataclass(frozen=True)
class FigureOptions:
    """How a print figure looks: every option of :func:`export_figure` but the data.

    Attributes
    ----------
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
    paper
        ``"A4"`` (default) or ``"A3"``.
    orientation
        ``"landscape"`` (default) or ``"portrait"``.
    locator
        Draw the locator inset (the whole city with the frame of the map) when the city's
        outline is known (Stadtteile or a base map).
    """

    top_n: int = 10
    lang: str = "de"
    title: str | None = None
    dpi: int = 300
    extra_sources: Sequence[Mapping[str, Any]] = ()
    paper: str = "A4"
    orientation: str = "landscape"
    locator: bool = True


class FigureKwargs(TypedDict, total=False):
    """The fields of :class:`FigureOptions` as keywords of :func:`export_figure`."""

    top_n: int
    lang: str
    title: str | None
    dpi: int
    extra_sources: Sequence[Mapping[str, Any]]
    paper: str
    orientation: str
    locator: bool


#: (map, legend, locator) axes and footer width per orientation, in figure fractions
_LAYOUT = {
    "landscape": ((0.03, 0.1, 0.72, 0.8), (0.77, 0.47, 0.21, 0.43), (0.785, 0.11, 0.19, 0.3)),
    "portrait": ((0.05, 0.3, 0.9, 0.6), (0.05, 0.075, 0.42, 0.2), (0.6, 0.085, 0.35, 0.18)),
}


def _above(
    box: tuple[float, float, float, float], bottom: float
) -> tuple[float, float, float, float]:
    """``box`` (x, y, w, h) with its bottom raised to ``bottom`` (top kept)."""
    x, y, w, h = box
    if y >= bottom:
        return box
    return (x, bottom, w, max(y + h - bottom, 0.05))


def _city(stadtteile: gpd.GeoDataFrame | None, base_map: BaseMap | None) -> gpd.GeoDataFrame | None:
    for layer in (
        stadtteile,
        None if base_map is None else base_map.stadtteile,
        None if base_map is None else base_map.bezirke,
    ):
        if layer is not None and len(layer):
            return gpd.GeoDataFrame(geometry=[layer.union_all()], crs=CRS)
    return None


def render_figure(
    scored: gpd.GeoDataFrame,
    *,
    stadtteile: gpd.GeoDataFrame | None = None,
    base_map: BaseMap | None = None,
    options: FigureOptions | None = None,
    **kwargs: Unpack[FigureKwargs],
) -> Figure:
    """The print figure as a matplotlib ``Figure`` (see :func:`export_figure`)."""
    opts = merge_options(FigureOptions, options, kwargs, func="render_figure")
    lang = check_lang(opts.lang)
    gdf = validate_scored(scored)
    size = paper_size(opts.paper, opts.orientation)
    fig = Figure(figsize=size)
    scale = size[0] / 11.69 if opts.orientation == "landscape" else size[0] / 8.27
    fig.text(
        0.03,
        1 - 0.35 / size[1],
        opts.title or TEXT[lang]["title"],
        fontsize=15 * scale,
        weight="bold",
        va="top",
        parse_math=False,
    )
    sources = [*opts.extra_sources, *(base_map.sources if base_map is not None else ())]
    footer = _footer(gdf, lang, sources, width=int(16 * size[0]))
    # the footer takes what it needs at the bottom; map and locator start above it
    footer_top = 0.015 + (footer.count("\n") + 1) * 6 * 1.25 / 72 / size[1]
    map_box, legend_box, locator_box = (
        _above(b, footer_top + 0.015) for b in _LAYOUT[opts.orientation]
    )
    ax = fig.add_axes(map_box)
    top = draw_map(ax, gdf, stadtteile=stadtteile, top_n=opts.top_n, lang=lang, base_map=base_map)
    scale_bar(ax, lang)
    north_arrow(ax)
    _legend(fig.add_axes(legend_box), lang, len(top))
    city = _city(stadtteile, base_map) if opts.locator else None
    if city is not None:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        locator(fig.add_axes(locator_box), city, (x0, y0, x1, y1), title=TEXT[lang]["locator"])
    fig.text(
        0.03,
        0.015,
        footer,
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
    base_map: BaseMap | None = None,
    options: FigureOptions | None = None,
    **kwargs: Unpack[FigureKwargs],
) -> Path:
    """Write the score map as a print figure (A4/A3, landscape/portrait), PNG or PDF.

    Parameters
    ----------
    scored
        Scored frame in EPSG:25832 (output of ``handwerkgeo.scoring.score_plots``).
    path
        ``.png`` or ``.pdf`` (by suffix); written atomically.
    stadtteile
        Optional Stadtteile (EPSG:25832, ``stadtteil_name``) drawn as context with names.
    base_map
        The offline base map (:func:`handwerkgeo.export.basemap.load_base_map`) drawn
        beneath the plots; its Stadtteile are used when ``stadtteile`` is not given.
    options
        :class:`FigureOptions` (top N, language, title, dpi, sources, paper, orientation,
        locator inset); its fields can also be given as keywords (``paper="A3"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        If the suffix is not ``.png`` or ``.pdf``, or for an unknown paper/orientation.
    MissingColumnError, NoCrsError, UnexpectedCrsError
        If ``scored`` (or ``stadtteile``) is not usable.

    Examples
    --------
    >>> export_figure(scored, "karte.pdf", base_map=bm, paper="A3")  # doctest: +SKIP
    PosixPath('karte.pdf')
    """
    opts = merge_options(FigureOptions, options, kwargs, func="export_figure")
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
    fig = render_figure(scored, stadtteile=stadtteile, base_map=base_map, options=opts)
    buf = io.BytesIO()
    title = opts.title or TEXT[check_lang(opts.lang)]["title"]
    meta = {"Title": title, "Creator": "handwerkgeo"} if fmt == "pdf" else None
    fig.savefig(buf, format=fmt, dpi=opts.dpi, metadata=meta)
    out = atomic_write_bytes(path, buf.getvalue())
    logger.info("figure written to %s (%s, %d dpi)", out, fmt, opts.dpi)
    return out
