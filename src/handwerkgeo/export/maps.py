"""Interactive score maps (Folium/Leaflet) as one self-contained HTML file.

The map shows the total score as a classed choropleth (five viridis classes on fixed
breaks 0-20-40-60-80-100; excluded plots grey), one toggleable layer per criterion
(utility 0–1, same classes), the top-N plots with their rank, optional context layers
(Stadtteile with names, stops, cycling network), a legend and a title block with the
date, the configuration hash and the data sources with licences and attribution.
Clicking a plot opens its score card (German by default).

Beneath it all lies the offline base map (:mod:`handwerkgeo.export.basemap`): streets by
road class and zoom, Stadtbezirk and Stadtteil boundaries with names, stops and the cycling
network, drawn from the fetched data without any tile server. The rank of a top plot is a
label beside the plot (with a leader line where plots crowd), so the plot's colour stays
visible; labels are placed so that they do not overlap. Extra layers (e.g. candidate sites)
are :class:`~handwerkgeo.export.overlays.MapOverlay` objects in ``MapOptions.overlays``.

Size discipline: the plots are not written as per-feature GeoJSON with per-feature styles
and popups. One compact JSON document holds the geometry (simplified in EPSG:25832,
reprojected to EPSG:4326 only here, quantised to 1e-5 degrees ≈ 1 m and delta-encoded)
and the score columns (column-wise, rounded). A small script (``templates/map.js``)
builds canvas-rendered Leaflet layers, styles and score cards from it in the browser,
escaping every value. A whole-city 100 m grid (~22,500 cells) stays well below 5 MB;
see ``benchmarks/bench_map.py`` and the README for measured numbers.

With ``offline=True`` (default) Leaflet is inlined from the installed folium-offline
package, so the file opens without any network access.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._atomic import atomic_write_text
from handwerkgeo._options import merge_options
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import MissingColumnError, ValidationError
from handwerkgeo.export._labels import (
    CLASS_BREAKS,
    CLASS_COLOURS,
    COLOUR_EXCLUDED,
    COLOUR_NO_DATA,
    OSM_ATTRIBUTION,
    OWNER_WORDS,
    TEXT,
    Criterion,
    attribution_lines,
    attributions,
    check_lang,
    criteria_of,
    format_timestamp,
    merge_sources,
    run_of,
    validate_scored,
)
from handwerkgeo.export._leaflet import COMPRESS_ABOVE_BYTES, HwgData, HwgLayer, HwgReady, Raw
from handwerkgeo.export._mapdata import (
    attribute_payload,
    bool_list,
    decision_payload,
    enc_feature,
    enc_lines,
    enc_point,
    enc_polygonal,
    lookup,
    num_list,
    raw_list,
    to_wgs84,
)
from handwerkgeo.export._offline import (
    LEAFLET_CSS_URL,
    LEAFLET_JS_URL,
    leaflet_assets,
    template_text,
)
from handwerkgeo.export._sites import add_site_layers
from handwerkgeo.export.basemap import BaseMap, base_map_payload
from handwerkgeo.export.overlays import MapOverlay, overlay_payload
from handwerkgeo.messages import message

if TYPE_CHECKING:
    from typing import Unpack

__all__ = [
    "COMPRESS_ABOVE_BYTES",
    "DEFAULT_MAX_POLYGONS",
    "MapKwargs",
    "MapOptions",
    "export_map",
    "map_payload",
]

logger = logging.getLogger(__name__)

#: Largest number of plots/cells drawn as vectors in one map (a 100 m city grid has ~22,500).
DEFAULT_MAX_POLYGONS = 60_000
_LARGE = 3_000  # above this many features, cells are drawn without outlines


# --- payload --------------------------------------------------------------------------------


def _texts(lang: str) -> dict[str, str]:
    return dict(TEXT[lang])


def _title_html(
    run: dict[str, Any],
    lang: str,
    title: str | None,
    attributions: Sequence[str],
    notes: Sequence[str],
) -> str:
    t = TEXT[lang]
    e = html.escape
    meta = [f"{e(t['created'])}: {e(format_timestamp(None, lang))}"]
    if run.get("scored_at"):
        meta.append(f"{e(t['scored_at'])}: {e(format_timestamp(run['scored_at'], lang))}")
    if run.get("config_hash"):
        meta.append(f"{e(t['config_hash'])}: <code>{e(str(run['config_hash'])[:12])}</code>")
    if run.get("version"):
        meta.append(f"{e(t['version'])}: {e(str(run['version']))}")
    parts = [
        f'<div class="hwg-h1">{e(title or t["title"])}</div>',
        f'<div class="hwg-meta">{" · ".join(meta)}</div>',
    ]
    parts += [f'<div class="hwg-note">{e(n)}</div>' for n in notes]
    if attributions:
        items = "".join(f"<li>{e(a)}</li>" for a in attributions)
        parts.append(f"<details><summary>{e(t['sources'])}</summary><ul>{items}</ul></details>")
    return "".join(parts)


def _context_payload(
    stadtteile: gpd.GeoDataFrame | None,
    stops: gpd.GeoDataFrame | None,
    cycling: gpd.GeoDataFrame | None,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    if stadtteile is not None and len(stadtteile):
        check_crs(stadtteile, name="stadtteile")
        if "stadtteil_name" not in stadtteile.columns:
            msg = (
                "stadtteile needs a 'stadtteil_name' column "
                "(read it with handwerkgeo's Stadtteile reader)."
            )
            raise MissingColumnError(msg)
        geo = to_wgs84(stadtteile.geometry, 10.0)
        labels = stadtteile.geometry.representative_point().to_crs("EPSG:4326")
        ctx["stadtteile"] = {
            "name": [("" if pd.isna(n) else str(n)) for n in stadtteile["stadtteil_name"]],
            "geom": [enc_polygonal(g) for g in geo],
            "label": [enc_point(p) for p in labels],
        }
    if stops is not None and len(stops):
        check_crs(stops, name="stops")
        pts = stops.geometry.representative_point().to_crs("EPSG:4326")
        names = stops["name"] if "name" in stops.columns else pd.Series([""] * len(stops))
        ctx["stops"] = {
            "name": [("" if pd.isna(n) else str(n)) for n in names],
            "xy": [enc_point(p) for p in pts],
        }
    if cycling is not None and len(cycling):
        check_crs(cycling, name="cycling")
        geo = to_wgs84(cycling.geometry, 5.0)
        lines: list[list[int]] = []
        for g in geo:
            lines.extend(enc_lines(g))
        ctx["cycling"] = {"lines": lines}
    return ctx


def _raw(gdf: gpd.GeoDataFrame, name: str, lang: str) -> pd.Series:
    """Raw values of a criterion; owner categories in the planner's words."""
    raw = gdf[f"raw_{name}"]
    if name != "ownership":
        return raw
    words = OWNER_WORDS[lang]
    return raw.map(lambda v: words.get(str(v).strip().lower(), v) if isinstance(v, str) else v)


@dataclass(frozen=True)
class MapOptions:
    """How a score map looks: every option of :func:`export_map` but the data layers.

    Attributes
    ----------
    top_n
        Number of best-ranked (not excluded) plots marked with their rank.
    lang
        ``"de"`` (default) or ``"en"`` for every label, legend and score card.
    offline
        Inline Leaflet (from folium-offline) so the file needs no network (default). With
        ``False`` Leaflet is linked from its CDN.
    basemap
        Optional raster tile layer beneath the offline base map: ``"osm"`` (OpenStreetMap,
        with its attribution), a folium/xyzservices name (``"CartoDB positron"``) or a URL
        template. ``None`` (default) draws no tiles: the offline base map
        (``base_map=``) is complete without them. Tiles need network access when viewed.
    basemap_attribution
        Attribution of a URL-template basemap (required by Leaflet for custom URLs).
    title
        Title of the map; default "Standortbewertung Handwerkerhöfe Düsseldorf".
    max_polygons
        Refuse frames with more features than this (they would make the file too large
        and slow); filter first, e.g. ``scored[scored["rank"] <= 5000]``.
    simplify_m
        Simplification tolerance in metres applied in EPSG:25832 before export.
    compress
        Compress the embedded data (zlib + base64, decoded by the browser); ``None``
        (default) compresses when it exceeds :data:`COMPRESS_ABOVE_BYTES`.
    extra_sources
        Sources of the context layers drawn ({name, licence, attribution} each), shown
        with the sources of the scoring run in the title block and attribution line.
    overlays
        Extra layers drawn above the scores (:class:`~handwerkgeo.export.overlays.MapOverlay`,
        e.g. candidate sites), each with labels, a card and its own layer-control entry.
    sites, search_areas
        Candidate sites and search areas of a site search
        (:func:`handwerkgeo.search.site_search`), drawn as their own labelled layers.
    """

    top_n: int = 10
    lang: str = "de"
    offline: bool = True
    basemap: str | None = None
    basemap_attribution: str | None = None
    title: str | None = None
    max_polygons: int = DEFAULT_MAX_POLYGONS
    simplify_m: float = 1.0
    compress: bool | None = None
    extra_sources: Sequence[Mapping[str, Any]] = ()
    overlays: Sequence[MapOverlay] = ()
    sites: gpd.GeoDataFrame | None = None
    search_areas: gpd.GeoDataFrame | None = None


class MapKwargs(TypedDict, total=False):
    """The fields of :class:`MapOptions` as keywords of :func:`export_map`."""

    top_n: int
    lang: str
    offline: bool
    basemap: str | None
    basemap_attribution: str | None
    title: str | None
    max_polygons: int
    simplify_m: float
    compress: bool | None
    extra_sources: Sequence[Mapping[str, Any]]
    overlays: Sequence[MapOverlay]
    sites: gpd.GeoDataFrame | None
    search_areas: gpd.GeoDataFrame | None


def map_payload(
    scored: gpd.GeoDataFrame,
    *,
    stadtteile: gpd.GeoDataFrame | None = None,
    stops: gpd.GeoDataFrame | None = None,
    cycling: gpd.GeoDataFrame | None = None,
    base_map: BaseMap | None = None,
    options: MapOptions | None = None,
    extra_attributions: Sequence[str] = (),
    **kwargs: Unpack[MapKwargs],
) -> dict[str, Any]:
    """The compact JSON document a map is drawn from (see the module docstring).

    Exposed for testing and for embedding the same data in other web pages. Parameters
    are those of :func:`export_map` (``top_n``, ``lang``, ``title``, ``simplify_m`` and
    ``extra_sources`` of the :class:`MapOptions` are used), plus ``extra_attributions``:
    attribution lines added to those of the sources.

    Returns
    -------
    dict
        JSON-serialisable; keys ``n``, ``crit``, ``score``, ``rank``, ``geom`` … and
        ``notes`` (human-readable lines on plots that could not be drawn).
    """
    opts = merge_options(MapOptions, options, kwargs, func="map_payload")
    lang = check_lang(opts.lang)
    top_n, title, simplify_m = opts.top_n, opts.title, opts.simplify_m
    extra_sources = [*opts.extra_sources, *(base_map.sources if base_map is not None else ())]
    if base_map is not None:  # the base map's quarters, stops and cycling unless given
        stadtteile = base_map.stadtteile if stadtteile is None else stadtteile
        stops = base_map.stops if stops is None else stops
        cycling = base_map.cycling if cycling is None else cycling
    gdf = validate_scored(scored)
    run = run_of(gdf)
    crits: list[Criterion] = criteria_of(gdf, lang)
    n = len(gdf)

    geo = to_wgs84(gdf.geometry, simplify_m)
    geom = [enc_feature(g) for g in geo]
    undrawn = [str(pid) for pid, g in zip(gdf["plot_id"], geom, strict=True) if g is None]
    notes = []
    if undrawn:
        shown = ", ".join(undrawn[:10]) + (" …" if len(undrawn) > 10 else "")
        notes.append(f"{TEXT[lang]['not_drawn'].format(n=len(undrawn))}: {shown}")
        logger.warning(
            "%d plot(s) have no polygon or point geometry and are not drawn on the map: %s",
            len(undrawn),
            shown,
        )

    rank = pd.to_numeric(gdf["rank"], errors="coerce")
    excluded = gdf["excluded"].fillna(False).astype(bool)
    reasons, reason_idx = lookup(
        gdf["exclusion_reason"]
        if "exclusion_reason" in gdf
        else pd.Series([""] * n, index=gdf.index)
    )
    missing, missing_idx = lookup(
        gdf["missing_criteria"]
        if "missing_criteria" in gdf
        else pd.Series([""] * n, index=gdf.index)
    )
    names = gdf["name"] if "name" in gdf.columns else None

    # top N: the best N ranks among drawable, not excluded plots
    order = rank.where(~excluded).to_numpy(dtype=float, na_value=np.nan)
    cand = [i for i in np.argsort(order, kind="stable") if not np.isnan(order[i])]
    top = [int(i) for i in cand[: max(int(top_n), 0)]]
    rep = gdf.geometry.iloc[top].representative_point().to_crs("EPSG:4326") if top else []
    top_pts = [enc_point(p) if not p.is_empty else None for p in rep]

    p_top = {}
    for col in gdf.columns:
        m = re.match(r"^p_top_(\d+)$", str(col))
        if m:
            p_top[m.group(1)] = num_list(gdf[col] * 100, 0)

    run_shown = merge_sources(run, extra_sources)
    lines = list(dict.fromkeys([*attribution_lines(run_shown, lang), *extra_attributions]))
    short = list(dict.fromkeys([*attributions(run_shown), *extra_attributions]))

    bounds = (
        geo.total_bounds if n and not geo.is_empty.all() else np.array([6.69, 51.12, 6.94, 51.35])
    )

    payload: dict[str, Any] = {
        "lang": lang,
        "text": {**_texts(lang), "attributes": message("attributes_label", lang)},
        "colours": {
            "classes": list(CLASS_COLOURS),
            "excluded": COLOUR_EXCLUDED,
            "noData": COLOUR_NO_DATA,
        },
        "breaks": list(CLASS_BREAKS),
        "large": n > _LARGE,
        "n": n,
        "nRanked": int(rank.notna().sum()),
        "crit": [{"k": c.name, "label": c.label, "unit": c.unit, "w": c.weight} for c in crits],
        "id": [str(x) for x in gdf["plot_id"]],
        "name": None if names is None else [None if pd.isna(x) else str(x) for x in names],
        "score": num_list(gdf["score_total"], 1),
        "rank": num_list(rank, 0),
        "excl": bool_list(excluded),
        "reasons": reasons,
        "reason": reason_idx,
        "cov": num_list(gdf["coverage"] * 100, 0) if "coverage" in gdf else None,
        "missingNames": missing,
        "missing": missing_idx,
        "pTop": p_top,
        "rp05": num_list(gdf["rank_p05"], 0) if "rank_p05" in gdf else None,
        "rp95": num_list(gdf["rank_p95"], 0) if "rank_p95" in gdf else None,
        **decision_payload(gdf, crits, lang),
        **attribute_payload(gdf, lang),
        "raw": {c.name: raw_list(_raw(gdf, c.name, lang)) for c in crits if f"raw_{c.name}" in gdf},
        # utilities as integer percent, contributions as integer tenths of points
        "u": {
            c.name: num_list(pd.to_numeric(gdf[f"u_{c.name}"], errors="coerce") * 100, 0)
            for c in crits
            if f"u_{c.name}" in gdf
        },
        "c": {
            c.name: num_list(pd.to_numeric(gdf[f"contrib_{c.name}"], errors="coerce") * 10, 0)
            for c in crits
            if f"contrib_{c.name}" in gdf
        },
        "fb": {
            c.name: bool_list(gdf[f"fallback_{c.name}"])
            for c in crits
            if f"fallback_{c.name}" in gdf
        },
        "geom": geom,
        "top": top,
        "topPt": top_pts,
        "ctx": _context_payload(stadtteile, stops, cycling),
        "base": None if base_map is None else base_map_payload(base_map),
        "overlays": [overlay_payload(o) for o in opts.overlays],
        "bounds": [[float(bounds[1]), float(bounds[0])], [float(bounds[3]), float(bounds[2])]],
        "titleHtml": _title_html(run, lang, title, lines, notes),
        "attributions": short,
        "notes": notes,
    }
    return payload


# --- public API -----------------------------------------------------------------------------


def _add_layers(
    m: folium.Map, payload: dict[str, Any], overlays: Sequence[MapOverlay], t: Mapping[str, str]
) -> None:
    """The map's layers in the layer control, in drawing order."""
    HwgLayer("score", None, t["score_layer"], show=True).add_to(m)
    for i, c in enumerate(payload["crit"]):
        if c["k"] in payload["u"]:
            HwgLayer("utility", i, t["utility_layer"].format(label=c["label"]), show=False).add_to(
                m
            )
    if payload["base"] is not None:
        HwgLayer("base", None, t["base_map"], show=True).add_to(m)
    for k, ov in enumerate(overlays):
        HwgLayer("overlay", k, ov.name, show=ov.show).add_to(m)
    if payload["top"]:
        HwgLayer("top", None, t["top_n"].format(n=len(payload["top"])), show=True).add_to(m)
    ctx = payload["ctx"]
    if "stadtteile" in ctx:
        HwgLayer("stadtteile", None, t["stadtteile"], show=True).add_to(m)
    if "cycling" in ctx:
        HwgLayer("cycling", None, t["cycling"], show=False).add_to(m)
    if "stops" in ctx:
        HwgLayer("stops", None, t["stops"], show=False).add_to(m)


def export_map(
    scored: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    stadtteile: gpd.GeoDataFrame | None = None,
    stops: gpd.GeoDataFrame | None = None,
    cycling: gpd.GeoDataFrame | None = None,
    base_map: BaseMap | None = None,
    options: MapOptions | None = None,
    **kwargs: Unpack[MapKwargs],
) -> Path:
    """Write an interactive score map as one HTML file.

    Parameters
    ----------
    scored
        Scored frame (output of ``handwerkgeo.scoring.score_plots``) in EPSG:25832. Not
        modified.
    path
        Output ``.html`` file; written atomically.
    stadtteile, stops, cycling
        Optional context layers in EPSG:25832: Stadtteile (``stadtteil_name``), stops
        (``name``), cycling network (lines).
    base_map
        The offline base map (:func:`handwerkgeo.export.basemap.load_base_map`): streets,
        Bezirke, and — where not given above — Stadtteile, stops and cycling network.
    options
        :class:`MapOptions`: top N, language, offline, basemap, title, size limits,
        compression and the sources of the context layers.
    **kwargs
        Fields of :class:`MapOptions` as keywords (``top_n=5``, ``lang="en"``,
        ``offline=False`` …), overriding ``options``.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    MissingColumnError, NoCrsError, UnexpectedCrsError
        If ``scored`` is not a scored frame in EPSG:25832.
    ValidationError
        If ``scored`` has more than ``max_polygons`` rows.
    ConfigError
        For an unknown keyword option or language.
    DataSourceError
        If ``offline=True`` and folium-offline is not installed.

    Examples
    --------
    >>> export_map(scored, "karte.html", stadtteile=stadtteile)  # doctest: +SKIP
    PosixPath('karte.html')
    """
    opts = merge_options(MapOptions, options, kwargs, func="export_map")
    lang = check_lang(opts.lang)
    max_polygons, basemap, basemap_attribution = (
        opts.max_polygons,
        "OpenStreetMap" if (opts.basemap or "").lower() == "osm" else opts.basemap,
        opts.basemap_attribution,
    )
    title, offline, compress = opts.title, opts.offline, opts.compress
    if len(scored) > max_polygons:
        raise ValidationError(
            "scored",
            [
                f"{len(scored)} plots/cells exceed max_polygons={max_polygons}; the map file "
                "would be too large to open quickly. Map a subset (e.g. the best-ranked "
                "cells) or raise max_polygons."
            ],
        )
    t = TEXT[lang]
    extra: list[str] = []
    if basemap is not None and (
        "openstreetmap" in basemap.lower() or "tile.osm" in basemap.lower()
    ):
        extra.append(OSM_ATTRIBUTION)
    if basemap_attribution:
        extra.append(basemap_attribution)
    payload = map_payload(
        scored,
        stadtteile=stadtteile,
        stops=stops,
        cycling=cycling,
        base_map=base_map,
        options=opts,
        extra_attributions=extra,
    )

    (s, w), (nth, e) = payload["bounds"]
    m = folium.Map(
        location=[(s + nth) / 2, (w + e) / 2],
        zoom_start=12,
        tiles=None,
        prefer_canvas=True,
        control_scale=False,  # metric-only scale bar added by the map script
    )
    page_title = html.escape(title or t["title"])
    fig = m.get_root()
    fig.title = page_title  # type: ignore[attr-defined]
    # Only Leaflet is needed (no jQuery, Bootstrap or icon fonts).
    if offline:
        js, css = leaflet_assets()
        m.default_js = []
        m.default_css = []
        fig.header.add_child(Raw(f"<style>{css}</style>"), name="leaflet_css")  # type: ignore[attr-defined]
        fig.header.add_child(Raw(f"<script>{js}</script>"), name="leaflet")  # type: ignore[attr-defined]
    else:
        m.default_js = [("leaflet", LEAFLET_JS_URL)]
        m.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    fig.header.add_child(Raw(f"<style>{template_text('map.css')}</style>"), name="hwg_css")  # type: ignore[attr-defined]
    fig.header.add_child(  # type: ignore[attr-defined]
        Raw(f"<script>{template_text('map_labels.js')}</script>"), name="hwg_labels_js"
    )
    fig.header.add_child(Raw(f"<script>{template_text('map.js')}</script>"), name="hwg_js")  # type: ignore[attr-defined]

    if basemap is not None:
        if offline:
            logger.warning(
                "a basemap was requested: the offline map needs network access to show it"
            )
        folium.TileLayer(
            basemap, attr=basemap_attribution, name=t["basemap"], overlay=False, control=False
        ).add_to(m)

    m.add_child(HwgData(payload, compress=compress, error_text=t["old_browser"]))
    _add_layers(m, payload, opts.overlays, t)
    add_site_layers(m, opts.sites, opts.search_areas, lang=lang)  # candidate sites of a site search
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.add_child(HwgReady())

    page = fig.render()
    page = re.sub(r"<html(?=[\s>])", f'<html lang="{lang}"', page, count=1)
    out = atomic_write_text(path, page)
    logger.info(
        "map written to %s: %d plots, %d criteria, %.1f MB, offline=%s",
        out,
        payload["n"],
        len(payload["crit"]),
        out.stat().st_size / 1e6,
        offline,
    )
    return out
