"""``handwerkgeo map``: council-ready outputs from a scored GeoPackage.

Writes the interactive offline map and, on request, the print figure (PNG/PDF), the
tables (XLSX/CSV) and the site profiles. Stadtteile, stops and the cycling network are
drawn as context when they have been fetched (``handwerkgeo data fetch``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from handwerkgeo._atomic import check_output_file
from handwerkgeo.cli._options import DataDirOption, Lang, LangOption, out_option
from handwerkgeo.errors import OutputPathError

__all__ = ["context_layers", "map_command"]

logger = logging.getLogger(__name__)


#: context layers drawn on the map: ScoringContext attribute -> source-manifest layer
_DRAWN = {"stadtteile": "stadtteile", "stops": "vrr_stops", "cycling": "cycling_network"}


def context_layers(
    data_dir: Path | None,
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The fetched layers drawn as map context, with the source entry of each.

    Reads through :func:`handwerkgeo.context.load_context` (without the street network);
    layers not fetched are skipped with a log line.

    Returns
    -------
    tuple
        ``({"stadtteile": gdf, "stops": gdf, "cycling": gdf}, sources)`` with only the
        layers found, and per layer its source entry (name, licence, attribution).
    """
    from handwerkgeo.context import load_context

    ctx = load_context(data_dir, network=False)
    by_layer = {s.get("layer"): s for s in ctx.sources}
    layers: dict[str, Any] = {}
    sources: dict[str, dict[str, str]] = {}
    for key, layer in _DRAWN.items():
        gdf = getattr(ctx, key)
        if gdf is None:
            continue
        layers[key] = gdf
        if layer in by_layer:
            src = by_layer[layer]
            sources[key] = {k: src[k] for k in ("name", "licence", "attribution")}
    return layers, sources


#: file endings each output option accepts
_ENDINGS = {
    "out": (".html", ".htm"),
    "png": (".png",),
    "pdf": (".pdf",),
    "xlsx": (".xlsx",),
    "csv": (".csv", ".txt"),
}


def _check_endings(**paths: Path | None) -> None:
    """Refuse output paths with the wrong file ending before anything is written."""
    wrong = [
        f"--{opt} {path.name!r} (expected {'/'.join(_ENDINGS[opt])})"
        for opt, path in paths.items()
        if path is not None and path.suffix.lower() not in _ENDINGS[opt]
    ]
    if wrong:
        msg = f"file name with the wrong ending: {'; '.join(wrong)}"
        raise OutputPathError(msg)
    for opt, path in paths.items():
        if path is not None:
            check_output_file(path, option=f"--{opt}")


def _read_scored(path: Path) -> Any:
    from handwerkgeo.scoring import read_scored

    return read_scored(path)


def map_command(
    scored_path: Annotated[
        Path, typer.Argument(metavar="SCORED.gpkg", help="Scored GeoPackage (handwerkgeo score).")
    ],
    out: Annotated[Path, out_option("Interactive map (.html).")] = Path("karte.html"),
    top: Annotated[int, typer.Option("--top", min=0, help="Mark the best N plots.")] = 10,
    lang: LangOption = Lang.de,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline/--online",
            help="Inline Leaflet (works without internet, default) or link it from its CDN.",
        ),
    ] = True,
    png: Annotated[Path | None, typer.Option("--png", help="Print figure, A4 PNG.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Print figure, A4 PDF.")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Tables as Excel workbook.")] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Table as CSV for German Excel (; and 1,5).")
    ] = None,
    csv_plain: Annotated[
        bool, typer.Option("--csv-plain", help="Write the CSV with , and 1.5 instead.")
    ] = False,
    profiles: Annotated[
        Path | None, typer.Option("--profiles", help="Folder for site profiles (top N).")
    ] = None,
    data_dir: DataDirOption = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of map and figure.")] = None,
    no_context: Annotated[
        bool, typer.Option("--no-context", help="Do not draw Stadtteile, stops, cycling.")
    ] = False,
) -> None:
    """Write the offline score map and, on request, figures, tables and site profiles."""
    _check_endings(out=out, png=png, pdf=pdf, xlsx=xlsx, csv=csv)
    from handwerkgeo.export.figures import export_figure
    from handwerkgeo.export.maps import export_map
    from handwerkgeo.export.profiles import export_profiles
    from handwerkgeo.export.tables import export_tables

    language = lang.value
    scored = _read_scored(scored_path)
    ctx, sources = ({}, {}) if no_context else context_layers(data_dir)
    st_sources = [sources["stadtteile"]] if "stadtteile" in sources else []
    written = [
        export_map(
            scored,
            out,
            top_n=top,
            lang=language,
            offline=offline,
            title=title,
            extra_sources=list(sources.values()),
            **ctx,
        )
    ]
    for fig_path in (png, pdf):
        if fig_path is not None:
            written.append(
                export_figure(
                    scored,
                    fig_path,
                    stadtteile=ctx.get("stadtteile"),
                    top_n=top,
                    lang=language,
                    title=title,
                    extra_sources=st_sources,
                )
            )
    if xlsx is not None or csv is not None:
        res = export_tables(
            scored, xlsx, csv, lang=language, csv_format="plain" if csv_plain else "excel-de"
        )
        written.extend(res.values())
    if profiles is not None:
        res_p = export_profiles(
            scored,
            profiles,
            lang=language,
            stadtteile=ctx.get("stadtteile"),
            top_n=top,
            extra_sources=st_sources,
        )
        written.append(res_p["index"])
    for path in written:
        typer.echo(str(path))
