"""``handwerkgeo search``: city-wide site search on a grid of candidate cells."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from handwerkgeo._atomic import check_output_file
from handwerkgeo.cli._options import ConfigOption, DataDirOption, LayerOption, out_option
from handwerkgeo.errors import UsageError

__all__ = ["search_command", "write_search"]

logger = logging.getLogger(__name__)


def write_search(result: object, path: Path, *, lang: str = "de") -> Path:
    """Write a :class:`~handwerkgeo.search.SearchResult` to one GeoPackage, atomically.

    Layers: ``scores`` (the scored cells, as :func:`handwerkgeo.scoring.write_scored`),
    ``run_metadata`` and ``sites`` (the merged candidate sites); ``scores`` and ``sites``
    carry QGIS styles in ``lang`` (:mod:`handwerkgeo._qgis_style`).
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
    try:
        tmp.unlink()
        write_scored(result.surface, tmp, lang=lang)  # type: ignore[attr-defined]
        sites = result.sites.copy()  # type: ignore[attr-defined]
        sites.attrs = {}
        sites["threshold"] = result.threshold  # type: ignore[attr-defined]
        write_layer(sites, tmp, "sites")
        add_styles(tmp, layer_styles(sites, "sites", geometry="polygon", lang=lang))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def search_command(
    out: Annotated[Path, out_option("Result GeoPackage (.gpkg).")],
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
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    map_path: Annotated[
        Path | None, typer.Option("--map", help="Also write an offline map of the result.")
    ] = None,
    layer: LayerOption = None,
) -> None:
    """Score a grid of candidate cells and merge the best adjacent cells into sites."""
    if bezirk is not None and stadtteil is not None:
        msg = "give either --bezirk or --stadtteil, not both"
        raise UsageError(msg)
    check_output_file(out, suffixes=(".gpkg",))  # before the search, not after it
    from handwerkgeo.config import load_config
    from handwerkgeo.context import add_layer_files, load_context, parse_layer_options
    from handwerkgeo.search import criteria_without_data, site_search

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
    )
    write_search(result, out)
    if map_path is not None:
        from handwerkgeo.export.maps import export_map

        export_map(
            result.surface,
            map_path,
            stadtteile=ctx.stadtteile,
            title=f"Standortsuche Handwerkerhöfe – {result.area_label} (ohne Daten: "
            + ", ".join(criteria_without_data(result.surface))
            + ")",
            top_n=0,
            extra_sources=list(ctx.sources),
        )
    typer.echo(
        f"{result.area_label}: {len(result.surface)} cells of {cell_m:g} m scored, "
        f"{len(result.sites)} candidate sites (cell score ≥ {result.threshold:.1f}) → {out}"
    )
    for _, site in result.sites.head(10).iterrows():
        typer.echo(
            f"  {site['site_id']}  {site.get('stadtteil_name', '')!s:<22} "
            f"{site['area_m2'] / 10_000:7.1f} ha  Ø {site['score_mean']:5.1f}"
        )
