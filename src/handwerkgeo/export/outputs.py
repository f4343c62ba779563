"""Council-ready outputs of one scored frame, written the same way from every entry point.

``handwerkgeo map`` (a scored GeoPackage, a search result or a site register) and the
register's ``--map`` both call :func:`export_outputs`: the interactive offline map with the
context layers (Stadtteile, stops, cycling network) and their sources, and on request the
print figure (PNG/PDF), the tables (XLSX/CSV) and the site profiles.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from handwerkgeo.errors import DataSourceError

__all__ = ["OutputOptions", "OutputPaths", "context_layers", "export_outputs", "layers_of"]

logger = logging.getLogger(__name__)

#: context layers drawn on the map: ScoringContext attribute -> source-manifest layer
_DRAWN = {"stadtteile": "stadtteile", "stops": "vrr_stops", "cycling": "cycling_network"}


@dataclass(frozen=True)
class OutputPaths:
    """Where each output goes (``None``: not written)."""

    map: Path | None = None
    png: Path | None = None
    pdf: Path | None = None
    xlsx: Path | None = None
    csv: Path | None = None
    profiles: Path | None = None


@dataclass(frozen=True)
class OutputOptions:
    """How the outputs look: best N marked, language, offline Leaflet, title, CSV format,
    paper size and orientation of the print figure, optional raster tiles on the map."""

    top_n: int = 10
    lang: str = "de"
    offline: bool = True
    title: str | None = None
    csv_plain: bool = False
    paper: str = "A4"
    orientation: str = "landscape"
    tiles: str | None = None
    tiles_attribution: str | None = None


def layers_of(context: Any) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The context layers of a loaded :class:`~handwerkgeo.context.ScoringContext` to draw.

    Returns
    -------
    tuple
        ``({"stadtteile": gdf, "stops": gdf, "cycling": gdf}, sources)`` with only the
        layers present, and per layer its source entry (name, licence, attribution).
    """
    by_layer = {s.get("layer"): s for s in getattr(context, "sources", ()) or ()}
    layers: dict[str, Any] = {}
    sources: dict[str, dict[str, str]] = {}
    for key, layer in _DRAWN.items():
        gdf = getattr(context, key, None)
        if not isinstance(gdf, gpd.GeoDataFrame):
            continue
        layers[key] = gdf
        if layer in by_layer:
            src = by_layer[layer]
            sources[key] = {k: src[k] for k in ("name", "licence", "attribution") if k in src}
    return layers, sources


def context_layers(
    data_dir: str | os.PathLike[str] | None,
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The fetched layers drawn as map context, with the source entry of each.

    Reads through :func:`handwerkgeo.context.load_context` (without the street network);
    layers not fetched are skipped. See :func:`layers_of`.
    """
    from handwerkgeo.context import load_context

    return layers_of(load_context(data_dir, network=False))


def _base_map(context: Any, data_dir: str | os.PathLike[str] | None) -> Any:
    """The offline base map from the loaded context (or the data folder); ``None`` if absent."""
    from handwerkgeo.export.basemap import load_base_map

    if context is not None and not hasattr(context, "main_roads"):
        return None  # not a scoring context (a stand-in): no base map to draw from
    try:
        return load_base_map(data_dir, context=context)
    except DataSourceError as exc:
        logger.warning("map drawn without the base map: %s", exc)
        return None


def export_outputs(
    scored: gpd.GeoDataFrame,
    paths: OutputPaths,
    options: OutputOptions | None = None,
    *,
    context: Any = None,
    data_dir: str | os.PathLike[str] | None = None,
    draw_context: bool = True,
    sites: gpd.GeoDataFrame | None = None,
    search_areas: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    """Write the map and the requested figures, tables and profiles of ``scored``.

    Parameters
    ----------
    scored
        A scored frame (:func:`handwerkgeo.scoring.score_plots`, ``read_scored`` or a
        register run read with :func:`handwerkgeo.register.read_run`).
    paths, options
        :class:`OutputPaths` and :class:`OutputOptions`.
    context
        A loaded scoring context whose Stadtteile, stops and cycling network are drawn;
        ``None`` loads them from ``data_dir``. A missing data folder draws no context
        (logged), it does not stop the outputs.
    draw_context
        ``False`` draws no context layers.
    sites, search_areas
        Candidate sites and search areas of a site search (their own map layers).

    Returns
    -------
    list of pathlib.Path
        The files written (for profiles: their index page).
    """
    from handwerkgeo.export.figures import export_figure
    from handwerkgeo.export.maps import export_map
    from handwerkgeo.export.profiles import export_profiles
    from handwerkgeo.export.tables import export_tables

    opts = options or OutputOptions()
    ctx: dict[str, Any] = {}
    sources: dict[str, dict[str, str]] = {}
    if draw_context:
        try:
            if context is None:  # loaded once, for the context layers and the base map
                from handwerkgeo.context import load_context

                context = load_context(data_dir, network=False)
            ctx, sources = layers_of(context)
        except DataSourceError as exc:
            logger.warning("map drawn without context layers: %s", exc)
    base = _base_map(context, data_dir) if draw_context and context is not None else None
    st_sources = [sources["stadtteile"]] if "stadtteile" in sources else []
    common = {"lang": opts.lang, "title": opts.title}
    written: list[Path] = []
    if paths.map is not None:
        written.append(
            export_map(
                scored,
                paths.map,
                top_n=opts.top_n,
                offline=opts.offline,
                extra_sources=list(sources.values()),
                sites=sites,
                search_areas=search_areas,
                base_map=base,
                basemap=opts.tiles,
                basemap_attribution=opts.tiles_attribution,
                **ctx,
                **common,  # type: ignore[arg-type]
            )
        )
    for fig_path in (paths.png, paths.pdf):
        if fig_path is not None:
            written.append(
                export_figure(
                    scored,
                    fig_path,
                    stadtteile=ctx.get("stadtteile"),
                    base_map=base,
                    top_n=opts.top_n,
                    extra_sources=st_sources,
                    paper=opts.paper,
                    orientation=opts.orientation,
                    **common,  # type: ignore[arg-type]
                )
            )
    if paths.xlsx is not None or paths.csv is not None:
        res = export_tables(
            scored,
            paths.xlsx,
            paths.csv,
            lang=opts.lang,
            csv_format="plain" if opts.csv_plain else "excel-de",
        )
        written.extend(res.values())
    if paths.profiles is not None:
        res_p = export_profiles(
            scored,
            paths.profiles,
            lang=opts.lang,
            stadtteile=ctx.get("stadtteile"),
            base_map=base,
            top_n=opts.top_n,
            extra_sources=st_sources,
        )
        written.append(res_p["index"])
    return written
