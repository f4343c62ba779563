"""``handwerkgeo map``: council-ready outputs from a scored GeoPackage or a site register.

Writes the interactive offline map and, on request, the print figure (PNG/PDF), the
tables (XLSX/CSV) and the site profiles (:func:`handwerkgeo.export.outputs.export_outputs`).
The input is a scored GeoPackage (``handwerkgeo score``), a search result
(``handwerkgeo search``: its candidate sites are drawn, too) or a site register
(``handwerkgeo register``: its latest run, or ``--run ID``). Stadtteile, stops and the
cycling network are drawn as context when they have been fetched.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from handwerkgeo._atomic import check_output_file
from handwerkgeo.cli._options import DataDirOption, Lang, LangOption, out_option
from handwerkgeo.errors import InputFileError, OutputPathError

__all__ = ["context_layers", "map_command", "read_map_input"]

logger = logging.getLogger(__name__)

#: the layers that make a GeoPackage a site register (handwerkgeo.register)
_REGISTER_LAYERS = {"plots", "scores", "runs"}


def context_layers(data_dir: Path | None) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The fetched context layers and their sources.

    See :func:`handwerkgeo.export.outputs.context_layers`.
    """
    from handwerkgeo.export import outputs  # geopandas: not for --help

    return outputs.context_layers(data_dir)


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


def _layer_names(path: Path) -> set[str]:
    import pyogrio

    if not path.is_file():
        msg = f"{path}: file not found"
        raise InputFileError(msg)
    try:
        return {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # pyogrio raises DataSourceError subclasses of its own
        msg = f"{path}: not a GeoPackage that can be read ({exc})"
        raise InputFileError(msg) from exc


def register_run(path: Path | str, run_id: str | None) -> Any:
    """A register run as a scored frame, with the criteria of the run's configuration."""
    import yaml

    from handwerkgeo.config import ScoringConfig
    from handwerkgeo.register import read_run
    from handwerkgeo.scoring import criteria_info

    scored = read_run(path, run_id)
    run = dict(scored.attrs["run"])
    cfg = ScoringConfig.from_dict(
        yaml.safe_load(str(run.get("config_yaml") or "")) or {},
        source=f"configuration of run {run['run_id']}",
    )
    run["config"] = cfg.to_dict()
    run["config_name"] = cfg.name
    run["criteria"] = criteria_info(cfg)
    scored.attrs["run"] = run
    return scored


def read_map_input(path: Path, *, run_id: str | None = None) -> tuple[Any, Any, Any]:
    """The scored frame to map, with the candidate sites and search areas if any.

    A site register gives its latest run (or ``run_id``); a search result its cells and
    sites; any other file must be a scored GeoPackage.

    Raises
    ------
    InputFileError
        If the file is missing or not a GeoPackage.
    InputFileError
        Also if ``run_id`` is given for a file that is not a register.
    ValidationError
        If the register has no runs, or no run ``run_id``.
    """
    import pyogrio

    from handwerkgeo.scoring import read_scored

    layers = _layer_names(path)
    if layers >= _REGISTER_LAYERS:
        return register_run(path, run_id), None, None
    if run_id is not None:
        msg = (
            f"--run applies to a site register (layers plots, scores, runs); {path.name} has "
            f"the layers {', '.join(sorted(layers))}: it is not a site register"
        )
        raise InputFileError(msg)
    if "scores" not in layers:
        msg = (
            f"{path.name} is neither a scored GeoPackage (layer scores, from `handwerkgeo "
            "score` or `search`) nor a site register (layers plots, scores, runs); its "
            f"layers: {', '.join(sorted(layers))}"
        )
        raise InputFileError(msg)
    scored = read_scored(path)
    sites = areas = None
    if "sites" in layers:
        sites = pyogrio.read_dataframe(path, layer="sites")
        if "search_areas" in layers:
            areas = pyogrio.read_dataframe(path, layer="search_areas")
    return scored, sites, areas


class Paper(StrEnum):
    """Paper sizes of the print figure."""

    A4 = "A4"
    A3 = "A3"


class Orientation(StrEnum):
    """Orientations of the print figure."""

    landscape = "landscape"
    portrait = "portrait"


def map_command(
    scored_path: Annotated[
        Path,
        typer.Argument(
            metavar="SCORED.gpkg",
            help="Scored GeoPackage (handwerkgeo score / search) or site register.",
        ),
    ],
    out: Annotated[Path, out_option("Interactive map (.html).")] = Path("karte.html"),
    run_id: Annotated[
        str | None,
        typer.Option("--run", help="Run of a site register to map (default: the latest)."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="Mark the best N plots.")] = 10,
    lang: LangOption = Lang.de,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline/--online",
            help="Inline Leaflet (works without internet, default) or link it from its CDN.",
        ),
    ] = True,
    png: Annotated[Path | None, typer.Option("--png", help="Print figure as PNG.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Print figure as PDF.")] = None,
    paper: Annotated[
        Paper, typer.Option("--paper", help="Paper size of the print figure.")
    ] = Paper.A4,
    orientation: Annotated[
        Orientation, typer.Option("--orientation", help="Orientation of the print figure.")
    ] = Orientation.landscape,
    tiles: Annotated[
        str | None,
        typer.Option(
            "--tiles",
            help="Raster tiles beneath the offline base map: 'osm' or a tile URL template "
            "(needs internet when the map is viewed; default: none, fully offline).",
        ),
    ] = None,
    tiles_attribution: Annotated[
        str | None,
        typer.Option("--tiles-attribution", help="Attribution of a tile URL (required for URLs)."),
    ] = None,
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
    from handwerkgeo.export.outputs import OutputOptions, OutputPaths, export_outputs

    scored, sites, areas = read_map_input(scored_path, run_id=run_id)
    written = export_outputs(
        scored,
        OutputPaths(map=out, png=png, pdf=pdf, xlsx=xlsx, csv=csv, profiles=profiles),
        OutputOptions(
            top_n=top,
            lang=lang.value,
            offline=offline,
            title=title,
            csv_plain=csv_plain,
            paper=paper.value,
            orientation=orientation.value,
            tiles=tiles,
            tiles_attribution=tiles_attribution,
        ),
        data_dir=data_dir,
        draw_context=not no_context,
        sites=sites,
        search_areas=areas,
    )
    for path in written:
        typer.echo(str(path))
