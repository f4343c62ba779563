"""``handwerkgeo search``: city-wide site search on a grid of candidate cells."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from handwerkgeo._atomic import check_output_file
from handwerkgeo.cli._options import (
    ConfigOption,
    DataDirOption,
    Lang,
    LangOption,
    LayerOption,
    out_option,
)
from handwerkgeo.errors import UsageError

__all__ = ["search_command", "write_search", "write_search_parquet"]

logger = logging.getLogger(__name__)


def _site_layers(res: Any) -> list[tuple[str, Any]]:
    """``sites`` and ``search_areas`` (possibly empty) with the search's ``threshold`` and
    ``max_site_m2`` as columns, as every search output stores them."""
    areas = res.search_areas if res.search_areas is not None else res.sites.iloc[:0]
    out = []
    for name, frame in (("sites", res.sites), ("search_areas", areas)):
        frame = frame.copy()
        frame.attrs = {}
        frame["threshold"] = res.threshold
        frame["max_site_m2"] = res.max_site_m2
        out.append((name, frame))
    return out


def write_search(result: object, path: Path, *, lang: str = "de") -> Path:
    """Write a :class:`~handwerkgeo.search.SearchResult` to one GeoPackage, atomically.

    Layers: ``scores`` (the scored cells, as :func:`handwerkgeo.scoring.write_scored`),
    ``run_metadata``, ``sites`` (the candidate sites, each at most the maximum site area)
    and ``search_areas`` (merged regions above it, which the sites split; may be empty).
    Both carry the search's ``threshold`` and ``max_site_m2`` as columns.
    The spatial layers carry QGIS styles in ``lang`` (:mod:`handwerkgeo._qgis_style`).
    """
    import os
    import tempfile

    from handwerkgeo._gpkg import add_styles, write_layer
    from handwerkgeo._qgis_style import layer_styles
    from handwerkgeo.scoring import write_scored

    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    res: Any = result
    try:
        tmp.unlink()
        write_scored(res.surface, tmp, lang=lang)
        for layer, frame in _site_layers(res):
            write_layer(frame, tmp, layer)
            add_styles(tmp, layer_styles(frame, layer, geometry="polygon", lang=lang))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_search_parquet(result: object, path: Path) -> list[Path]:
    """Write a :class:`~handwerkgeo.search.SearchResult` as GeoParquet files, each atomically.

    ``path`` gets the scored cells; ``NAME.sites.parquet`` and ``NAME.search_areas.parquet``
    beside it the candidate sites and the search areas (with the search's ``threshold`` and
    ``max_site_m2``). Returns the files written.
    """
    from handwerkgeo.export.geoparquet import write_geoparquet

    res: Any = result
    path = Path(path)
    written = [write_geoparquet(res.surface, path)]
    for name, frame in _site_layers(res):
        written.append(write_geoparquet(frame, path.with_name(f"{path.stem}.{name}.parquet")))
    return written


def search_command(
    out: Annotated[
        Path,
        out_option(
            "Result GeoPackage (.gpkg: layers scores, sites, search_areas) or GeoParquet "
            "(.parquet: the cells; sites and search areas in NAME.sites.parquet and "
            "NAME.search_areas.parquet beside it)."
        ),
    ],
    bezirk: Annotated[
        str | None, typer.Option("--bezirk", help="Search one Stadtbezirk (1–10).")
    ] = None,
    stadtteil: Annotated[
        str | None, typer.Option("--stadtteil", help="Search one Stadtteil (name or code).")
    ] = None,
    cell_m: Annotated[float, typer.Option("--cell-m", help="Cell size in metres.")] = 100.0,
    hexagons: Annotated[bool, typer.Option("--hex", help="Hexagonal instead of square cells.")] = (
        False
    ),
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Minimum cell score for candidate sites (0–100)."),
    ] = None,
    quantile: Annotated[
        float,
        typer.Option("--quantile", help="Without --threshold: this quantile of cell scores."),
    ] = 0.95,
    max_site_ha: Annotated[
        float,
        typer.Option(
            "--max-site-ha",
            min=0.0,
            help="Largest candidate site in hectares; larger merged regions become search "
            "areas split into sites of at most this size (0: no limit).",
        ),
    ] = 5.0,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    map_path: Annotated[
        Path | None, typer.Option("--map", help="Also write an offline map of the result.")
    ] = None,
    xlsx: Annotated[
        Path | None,
        typer.Option("--xlsx", help="Also write the sites and search areas as a workbook."),
    ] = None,
    layer: LayerOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Score a grid of candidate cells and merge the best adjacent cells into sites."""
    if bezirk is not None and stadtteil is not None:
        msg = "give either --bezirk or --stadtteil, not both"
        raise UsageError(msg)
    check_output_file(out, suffixes=(".gpkg", ".parquet"))  # before the search, not after it
    if map_path is not None:
        check_output_file(map_path, suffixes=(".html", ".htm"), option="--map")
    if xlsx is not None:
        check_output_file(xlsx, suffixes=(".xlsx",), option="--xlsx")
    from handwerkgeo.config import load_config
    from handwerkgeo.context import add_layer_files, load_context, parse_layer_options
    from handwerkgeo.search import site_search

    language = lang.value
    cfg = load_config(config)
    ctx = add_layer_files(load_context(data_dir), parse_layer_options(layer))
    result = site_search(
        context=ctx,
        config=cfg,
        bezirk=bezirk,
        stadtteil=stadtteil,
        cell_m=cell_m,
        shape="hex" if hexagons else "square",
        threshold=threshold,
        quantile=quantile,
        max_site_ha=max_site_ha or None,
        lang=language,
    )
    if out.suffix.lower() == ".parquet":
        write_search_parquet(result, out)
    else:
        write_search(result, out, lang=language)
    if xlsx is not None:
        from handwerkgeo.export._sites import write_search_workbook

        write_search_workbook(result, xlsx, cell_m=cell_m, lang=language)
    if map_path is not None:
        _write_map(result, map_path, ctx, language, data_dir)
    _summary(result, out, cell_m, language)


def _write_map(result: Any, path: Path, ctx: Any, lang: str, data_dir: Path | None) -> None:
    from handwerkgeo.export.basemap import load_base_map
    from handwerkgeo.export.maps import export_map
    from handwerkgeo.messages import message
    from handwerkgeo.search import criteria_without_data

    title = message("search_map_title", lang, area=result.area_label)
    missing = criteria_without_data(result.surface, lang=lang)
    if missing:
        title += f" ({message('search_map_missing', lang, missing=', '.join(missing))})"
    export_map(
        result.surface,
        path,
        stadtteile=ctx.stadtteile,
        base_map=load_base_map(data_dir, context=ctx),
        title=title,
        top_n=0,
        lang=lang,
        extra_sources=list(ctx.sources),
        sites=result.sites,
        search_areas=result.search_areas,
    )


def _summary(result: Any, out: Path, cell_m: float, lang: str) -> None:
    from handwerkgeo.messages import message

    def num(x: float, digits: int = 1) -> str:
        text = f"{x:.{digits}f}"
        return text.replace(".", ",") if lang == "de" else text

    max_m2 = result.max_site_m2
    n_areas = 0 if result.search_areas is None else len(result.search_areas)
    typer.echo(
        message(
            "search_summary",
            lang,
            area=result.area_label,
            n_cells=len(result.surface),
            cell_m=f"{cell_m:g}",
            n_sites=len(result.sites),
            threshold=num(result.threshold),
            max=message("search_setting_no_limit", lang) if max_m2 is None else num(max_m2 / 1e4),
            n_areas=n_areas,
            out=out,
        )
    )
    for _, site in result.sites.head(10).iterrows():
        area = site.get("search_area_id") or ""
        typer.echo(
            f"  {site['site_id']}  {site.get('stadtteil_name', '')!s:<22} "
            f"{num(site['area_m2'] / 10_000):>7} ha  Ø {num(site['score_mean']):>5}  {area}"
        )
