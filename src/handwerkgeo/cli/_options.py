"""Command-line options shared by several commands, each defined once.

A command declares ``data_dir: DataDirOption = None`` and gets the same flag, type and
help text as every other command. Fixed choices are enums, so typer rejects a wrong value
(``--lang fr``) with exit code 2 before any work starts.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "ConfigOption",
    "CrsOption",
    "DataDirOption",
    "Engine",
    "EngineOption",
    "IdColOption",
    "Lang",
    "LangOption",
    "LayerOption",
    "crs_code",
    "out_option",
]

#: ``--layer KIND=PATH[@CRS]`` (repeatable): add a planner-supplied data layer to the
#: context; KIND is a known layer kind or the name a generic criterion reads
#: (``layer: NAME``); ``@CRS`` is the CRS of a file that declares none.
LayerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--layer",
        help="Add a data layer from a file, KIND=PATH or KIND=PATH@CRS (repeatable); KIND "
        "is one of bplan, fnp, zoning, landuse, motorway_junctions, main_roads, residential, "
        "protected_areas, flood_areas, or any NAME that a generic criterion of the "
        "configuration reads with `layer: NAME`. @CRS (e.g. @EPSG:25832, @25832, "
        "@urn:adv:crs:ETRS89_UTM32) is for a file without its own CRS; a file's own CRS "
        "always wins, and --crs applies to the plots only (e.g. --layer bplan=bplan.gpkg "
        "--layer motorway_junctions=nrw.osm.pbf --layer kitas=kitas.csv@25832).",
    ),
]


class Lang(StrEnum):
    """Languages of tables, maps, figures and reports."""

    de = "de"
    en = "en"


class Engine(StrEnum):
    """Where the register scores: this process or a Dask cluster."""

    single = "single"
    dask = "dask"


def crs_code(value: str | None) -> str | None:
    """A CRS as given on the command line: a bare EPSG number becomes ``EPSG:<number>``.

    Examples
    --------
    >>> crs_code("25832"), crs_code(" EPSG:4647 "), crs_code(None)
    ('EPSG:25832', 'EPSG:4647', None)
    """
    if value is None:
        return None
    text = value.strip()
    return f"EPSG:{text}" if text.isdigit() else text


def out_option(help_text: str) -> Any:
    """The ``--out``/``-o`` option; what is written there differs per command."""
    return typer.Option("--out", "-o", help=help_text)


#: ``--data-dir``: where the fetched data lives.
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory with the fetched layers (default: $HANDWERKGEO_DATA_DIR or ./data).",
    ),
]

#: ``--config``: a scoring configuration file.
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Scoring configuration YAML (default: the packaged one)."),
]

#: ``--lang de|en``.
LangOption = Annotated[
    Lang,
    typer.Option("--lang", help="Language of the written tables, maps and reports."),
]

#: ``--crs``: CRS of plot coordinates, normalised by :func:`crs_code`.
CrsOption = Annotated[
    str | None,
    typer.Option(
        "--crs",
        callback=crs_code,
        help="CRS of the plot coordinates, e.g. 25832 or EPSG:4647 (needed when the file "
        "has none; overrides a wrong label).",
    ),
]

#: ``--id-col``: the column with the plot ids.
IdColOption = Annotated[
    str | None,
    typer.Option("--id-col", help="Column with the plot ids (default: plot_id, id or flstkennz)."),
]

#: ``--engine single|dask``.
EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="single: this process; dask: a Dask cluster (scale-out)."),
]
