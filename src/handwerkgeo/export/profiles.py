"""Site profiles (Standortsteckbriefe): one page per plot, HTML and PDF, plus an index.

Each profile shows the plot's name and key facts (rank, score, Stadtteil, area), a
location map of the plot and the scored plots around it, the score card (total, rank,
coverage, robustness, exclusion reason) and per criterion the raw value, utility and
contribution, with a horizontal bar chart of the contributions against the most a
criterion can give. Images are inline PNG (base64): the HTML files need nothing else.
Every value is HTML-escaped (Jinja2 autoescape).

The PDF renders the same content on one A4 page with matplotlib (``PdfPages``), so no
HTML-to-PDF engine is needed.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from handwerkgeo._atomic import atomic_write_bytes, atomic_write_text
from handwerkgeo._options import merge_options
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import MissingColumnError, ValidationError
from handwerkgeo.export._card import plot_title, score_card
from handwerkgeo.export._labels import (
    CLASS_COLOURS,
    COLOUR_NO_DATA,
    TEXT,
    Criterion,
    attribution_lines,
    check_lang,
    class_index,
    credit_parts,
    criteria_of,
    format_number,
    merge_sources,
    run_of,
    validate_scored,
)
from handwerkgeo.export._offline import template_text
from handwerkgeo.export._profile_pdf import pdf_header, pdf_page, shorten
from handwerkgeo.export.basemap import BaseMap
from handwerkgeo.export.figures import draw_map, north_arrow, scale_bar
from handwerkgeo.messages import message
from handwerkgeo.scoring import carried_columns, decision_ready, decision_threshold

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["ProfileKwargs", "ProfileOptions", "export_profiles", "profile_filename"]

logger = logging.getLogger(__name__)


def profile_filename(plot_id: object, taken: set[str] | None = None) -> str:
    """A safe file stem for a plot id (letters, digits, ``-``, ``_``), unique within ``taken``.

    Examples
    --------
    >>> profile_filename("Flur 12/3 <a>")
    'Flur_12_3__a_'
    """
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", str(plot_id))[:80] or "plot"
    if taken is None:
        return stem
    candidate, k = stem, 2
    while candidate.lower() in taken:
        candidate = f"{stem}-{k}"
        k += 1
    taken.add(candidate.lower())
    return candidate


def _png(fig: Figure, dpi: int = 150) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _location(
    ax: Axes,
    gdf: gpd.GeoDataFrame,
    i: int,
    stadtteile: gpd.GeoDataFrame | None,
    context_m: float,
    lang: str,
    base_map: BaseMap | None = None,
) -> None:
    geom = gdf.geometry.iloc[i]
    if geom is None or geom.is_empty:
        ax.text(0.5, 0.5, TEXT[lang]["no_data"], ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    minx, miny, maxx, maxy = geom.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx, maxy - miny) / 2 + context_m
    extent = (cx - half, cy - half, cx + half, cy + half)
    near = gdf.iloc[gdf.sindex.query(geom.buffer(context_m * 1.5))]
    st = None
    if stadtteile is not None and len(stadtteile):
        st = stadtteile.iloc[stadtteile.sindex.query(geom.buffer(context_m * 2))]
    draw_map(ax, near, stadtteile=st, top_n=0, lang=lang, extent=extent, base_map=base_map)
    target = gdf.iloc[[i]]
    if geom.geom_type in ("Point", "MultiPoint"):
        target.plot(
            ax=ax, facecolor="none", edgecolor="#d62728", markersize=120, linewidth=2, zorder=7
        )
    else:
        target.boundary.plot(ax=ax, color="#d62728", linewidth=2.2, zorder=7)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_xlabel("")
    ax.set_ylabel("")
    scale_bar(ax, lang)
    north_arrow(ax)


def _bars(ax: Axes, row: pd.Series, crits: list[Criterion], lang: str) -> None:
    t = TEXT[lang]
    labels = [c.label if len(c.label) <= 38 else c.label[:37] + "…" for c in crits]
    contrib = np.array(
        [pd.to_numeric(row.get(f"contrib_{c.name}"), errors="coerce") for c in crits], dtype=float
    )
    util = np.array(
        [pd.to_numeric(row.get(f"u_{c.name}"), errors="coerce") for c in crits], dtype=float
    )
    weights = np.array([np.nan if c.weight is None else c.weight for c in crits], dtype=float)
    y = np.arange(len(crits))[::-1]
    if np.isfinite(weights).all() and weights.sum() > 0:
        ax.barh(y, 100 * weights / weights.sum(), color="#e6e6e6", edgecolor="none", height=0.7)
    colours = [COLOUR_NO_DATA if k < 0 else CLASS_COLOURS[k] for k in class_index(util, 1.0)]
    ax.barh(
        y, np.nan_to_num(contrib), color=colours, edgecolor="#333333", linewidth=0.4, height=0.7
    )
    for yy, v, u in zip(y, contrib, util, strict=True):
        text = t["no_data"] if np.isnan(u) else format_number(v, lang, 1)
        ax.text(np.nan_to_num(v) + 0.2, yy, text, va="center", fontsize=6.5, parse_math=False)
    ax.set_yticks(y, labels, fontsize=7)
    for lab in ax.get_yticklabels():
        lab.set_parse_math(False)
    ax.set_xlabel(t["contributions_title"], fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    top = np.nanmax(
        np.r_[
            np.nan_to_num(contrib), 100 * weights / np.nansum(weights) if np.nansum(weights) else 1
        ]
    )
    ax.set_xlim(0, float(top) * 1.25 + 0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _stadtteil_names(gdf: gpd.GeoDataFrame, stadtteile: gpd.GeoDataFrame | None) -> list[str]:
    if stadtteile is None or not len(stadtteile):
        return [""] * len(gdf)
    pts = gpd.GeoDataFrame(geometry=gdf.geometry.representative_point(), crs=gdf.crs)
    pts = pts.reset_index(drop=True)
    joined = gpd.sjoin(
        pts, stadtteile[["stadtteil_name", "geometry"]], how="left", predicate="within"
    )
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    return ["" if pd.isna(v) else str(v) for v in joined["stadtteil_name"]]


def _footer(run: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    parts = credit_parts(run, lang)
    lines = attribution_lines(run, lang)
    if lines:
        parts.append(f"{t['sources']}: " + "; ".join(lines))
    return " · ".join(parts)


@dataclass(frozen=True)
class ProfileOptions:
    """What :func:`export_profiles` writes.

    Attributes
    ----------
    lang
        ``"de"`` (default) or ``"en"``.
    pdf
        Also write a one-page A4 PDF per plot (rendered with matplotlib).
    top_n
        Only the best ``top_n`` ranked plots; ``None`` (default) profiles every plot.
    max_profiles
        Refuse to write more profiles than this (a city grid has thousands of cells).
    context_m
        Radius of the surroundings on the location map, in metres.
    extra_sources
        Sources of context layers ({name, licence, attribution}) added to the footer.
    """

    lang: str = "de"
    pdf: bool = True
    top_n: int | None = None
    max_profiles: int = 500
    context_m: float = 400.0
    extra_sources: Sequence[Mapping[str, Any]] = ()


class ProfileKwargs(TypedDict, total=False):
    """The fields of :class:`ProfileOptions` as keywords of :func:`export_profiles`."""

    lang: str
    pdf: bool
    top_n: int | None
    max_profiles: int
    context_m: float
    extra_sources: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class _Job:
    """What every profile of one export shares."""

    gdf: gpd.GeoDataFrame
    crits: list[Criterion]
    lang: str
    n_ranked: int
    quarters: list[str]
    stadtteile: gpd.GeoDataFrame | None
    base_map: BaseMap | None
    opts: ProfileOptions
    template: jinja2.Template
    footer: str
    out: Path
    carried: list[str]
    threshold: float


def _profile_order(gdf: gpd.GeoDataFrame, rank: pd.Series, opts: ProfileOptions) -> list[int]:
    """Row positions to profile, best first; refuses more than ``max_profiles``."""
    order = list(
        np.lexsort(
            (
                -pd.to_numeric(gdf["score_total"], errors="coerce").fillna(-1).to_numpy(),
                rank.fillna(np.inf).to_numpy(),
            )
        )
    )
    if opts.top_n is not None:
        order = [i for i in order if not np.isnan(rank.iloc[i])][: max(int(opts.top_n), 0)]
    if len(order) > opts.max_profiles:
        raise ValidationError(
            "scored",
            [
                f"{len(order)} profiles would be written, more than "
                f"max_profiles={opts.max_profiles}. Pass top_n (e.g. top_n=50) or raise "
                "max_profiles."
            ],
        )
    return order


def _meta(row: pd.Series, quarter: str, lang: str) -> list[tuple[str, str]]:
    """Key facts of a plot: id, Stadtteil, area, coordinates."""
    t = TEXT[lang]
    geom = row.geometry
    area = row.get("area_m2")
    if (area is None or pd.isna(area)) and geom is not None and not geom.is_empty:
        area = geom.area
    meta: list[tuple[str, str]] = [(t["plot_id"], str(row["plot_id"]))]
    if quarter:
        meta.append((t["stadtteil"], quarter))
    if area is not None and not pd.isna(area) and float(area) > 0:
        meta.append((t["area"], format_number(area, lang, 0)))
    if geom is not None and not geom.is_empty:
        p = geom.representative_point()
        meta.append(("ETRS89/UTM32 (EPSG:25832)", f"E {p.x:,.0f} · N {p.y:,.0f}".replace(",", " ")))
    return meta


def _exclusion(row: pd.Series) -> tuple[bool, str | None]:
    """Whether the plot is excluded, and why (``None`` when it is not)."""
    excluded = bool(row.get("excluded")) if not pd.isna(row.get("excluded")) else False
    if not excluded:
        return False, None
    reason = row.get("exclusion_reason")
    return True, "" if reason is None or pd.isna(reason) else str(reason)


def _write_profile(job: _Job, i: int, stem: str) -> tuple[Path, Path | None, bool]:
    """Write the HTML (and PDF) profile of row ``i``; (html, pdf or None, excluded)."""
    lang, crits, gdf = job.lang, job.crits, job.gdf
    row = gdf.iloc[i]
    card = score_card(
        row,
        crits,
        lang,
        n_ranked=job.n_ranked,
        attributes=job.carried,
        threshold=job.threshold,
    )
    weights = {c.name: c.weight for c in crits}
    for r in card["rows"]:
        w = weights.get(r["name"])
        r["weight"] = (
            "–" if w is None else format_number(w, lang, 0 if float(w).is_integer() else 1)
        )
    meta = _meta(row, job.quarters[i], lang)
    excluded, reason_s = _exclusion(row)

    def draw_location(ax: Axes) -> None:
        _location(ax, gdf, i, job.stadtteile, job.opts.context_m, lang, job.base_map)

    def draw_bars(ax: Axes) -> None:
        _bars(ax, row, crits, lang)

    fig_loc = Figure(figsize=(3.6, 3.4))
    draw_location(fig_loc.add_axes((0.02, 0.02, 0.96, 0.96)))
    height = 0.28 * max(len(crits), 1) + 0.8
    fig_bars = Figure(figsize=(7.0, height))
    draw_bars(fig_bars.add_axes((0.34, 0.6 / height, 0.6, 1 - 0.75 / height)))
    html_text = job.template.render(
        lang=lang,
        t=TEXT[lang],
        card=card,
        meta=meta,
        excluded_reason=reason_s,
        attributes_label=message("attributes_label", lang),
        location_png=_png(fig_loc),
        bars_png=_png(fig_bars),
        any_fallback=any(r["fallback"] for r in card["rows"]),
        any_dash=any("–" in (r["utility"], r["contribution"]) for r in card["rows"]),
        footer=job.footer,
    )
    html_path = atomic_write_text(job.out / f"{stem}.html", html_text)
    if not job.opts.pdf:
        return html_path, None, excluded
    crit_rows = [
        [
            shorten(r["label"], 40, "…"),
            r["weight"],
            r["raw"] + (" *" if r["fallback"] else ""),
            r["utility"],
            r["contribution"],
        ]
        for r in card["rows"]
    ]
    head = pdf_header(card, meta, reason_s, lang)
    data = pdf_page(card, head, draw_location, draw_bars, crit_rows, job.footer, lang)
    return html_path, atomic_write_bytes(job.out / f"{stem}.pdf", data), excluded


def export_profiles(
    scored: gpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    *,
    stadtteile: gpd.GeoDataFrame | None = None,
    base_map: BaseMap | None = None,
    options: ProfileOptions | None = None,
    **kwargs: Unpack[ProfileKwargs],
) -> dict[str, Any]:
    """Write one site profile (Standortsteckbrief) per plot and an ``index.html``.

    Parameters
    ----------
    scored
        Scored frame in EPSG:25832 (output of ``handwerkgeo.scoring.score_plots``).
    out_dir
        Folder for ``index.html``, ``<plot_id>.html`` and ``<plot_id>.pdf``; created
        when missing. Every file is written atomically.
    stadtteile
        Optional Stadtteile (EPSG:25832, ``stadtteil_name``): names the plot's Stadtteil
        and draws boundaries on the location map.
    base_map
        The offline base map (:func:`handwerkgeo.export.basemap.load_base_map`) beneath
        the location map: streets, stops and Bezirk boundaries around the plot. Its
        Stadtteile are used when ``stadtteile`` is not given.
    options
        :class:`ProfileOptions` (language, PDF, top N, limit, map radius, sources).
    **kwargs
        Fields of :class:`ProfileOptions` as keywords (``lang="en"``, ``pdf=False``,
        ``top_n=10``, ``max_profiles=``, ``context_m=``, ``extra_sources=``), overriding
        ``options``.

    Returns
    -------
    dict
        ``index`` (path of index.html), ``html`` and ``pdf`` (lists of paths).

    Raises
    ------
    ValidationError
        If more than ``max_profiles`` profiles would be written.
    ConfigError
        For an unknown keyword option or language.

    Examples
    --------
    >>> export_profiles(scored, "steckbriefe", top_n=10)  # doctest: +SKIP
    """
    opts = merge_options(ProfileOptions, options, kwargs, func="export_profiles")
    lang = check_lang(opts.lang)
    t = TEXT[lang]
    gdf = validate_scored(scored).reset_index(drop=True)
    if stadtteile is None and base_map is not None:
        stadtteile = base_map.stadtteile
    if stadtteile is not None:
        check_crs(stadtteile, name="stadtteile")
        if "stadtteil_name" not in stadtteile.columns:
            msg = "stadtteile needs a 'stadtteil_name' column (read it with handwerkgeo's reader)."
            raise MissingColumnError(msg)
    run = run_of(gdf)
    rank = pd.to_numeric(gdf["rank"], errors="coerce").astype(float)
    order = _profile_order(gdf, rank, opts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    sources = [*opts.extra_sources, *(base_map.sources if base_map is not None else ())]
    footer = _footer(merge_sources(run, sources), lang)
    job = _Job(
        gdf=gdf,
        crits=criteria_of(gdf, lang),
        lang=lang,
        n_ranked=int(rank.notna().sum()),
        quarters=_stadtteil_names(gdf, stadtteile),
        stadtteile=stadtteile,
        base_map=base_map,
        opts=opts,
        template=env.from_string(template_text("profile.html.j2")),
        footer=footer,
        out=out,
        carried=carried_columns(gdf),
        threshold=decision_threshold(gdf),
    )
    ready = decision_ready(gdf)
    taken: set[str] = {"index"}
    written_html: list[Path] = []
    written_pdf: list[Path] = []
    entries = []
    for i in order:
        row = gdf.iloc[i]
        stem = profile_filename(row["plot_id"], taken)
        html_path, pdf_path, excluded = _write_profile(job, i, stem)
        written_html.append(html_path)
        if pdf_path is not None:
            written_pdf.append(pdf_path)
        entries.append(
            {
                "rank": "–" if np.isnan(rank.iloc[i]) else str(int(rank.iloc[i])),
                "plot_id": str(row["plot_id"]),
                "name": plot_title(row) if "name" in gdf.columns else "",
                "score": format_number(row.get("score_total"), lang, 1),
                "excluded": t["yes"] if excluded else "",
                "ready": "" if ready.iloc[i] else t["no"],
                "html": f"{stem}.html",
                "pdf": None if pdf_path is None else pdf_path.name,
            }
        )
    meta_index = f"{t['config_hash']}: {str(run['config_hash'])[:12]}" if run["config_hash"] else ""
    tpl_index = env.from_string(template_text("profiles_index.html.j2"))
    index = atomic_write_text(
        out / "index.html",
        tpl_index.render(
            lang=lang,
            t=t,
            title=t["title"],
            meta=meta_index,
            entries=entries,
            footer=footer,
            ready_label=message("decision_ready_label", lang),
        ),
    )
    if not opts.pdf:
        logger.info("profiles: PDF output switched off (pdf=False)")
    logger.info("%d site profiles written to %s", len(written_html), out)
    return {"index": index, "html": written_html, "pdf": written_pdf}
