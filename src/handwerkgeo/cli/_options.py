"""Command-line options shared by several commands, each defined once.

A command declares ``data_dir: DataDirOption = None`` and gets the same flag, type and
help text as every other command. Fixed choices are enums, so typer rejects a wrong value
(``--lang fr``) with exit code 2 before any work starts.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict, Unpack

import typer

if TYPE_CHECKING:
    from handwerkgeo.sources.plots import PlotReaderOptions

__all__ = [
    "READER_OPTIONS",
    "ConfigOption",
    "CrsOption",
    "DataDirOption",
    "Engine",
    "EngineOption",
    "IdColOption",
    "Lang",
    "LangOption",
    "LayerOption",
    "ReaderArgs",
    "crs_code",
    "out_option",
    "plot_reader_options",
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


# --- the plot reader's options: one set for every command that reads a listing ----------


def _column_pairs(values: list[str] | None) -> list[str] | None:
    """Check ``--column CANONICAL=HEADER`` values (usage error, exit 2, when malformed)."""
    for value in values or ():
        canon, sep, header = value.partition("=")
        if not sep or not canon.strip() or not header.strip():
            msg = (
                "--column needs CANONICAL=HEADER, e.g. --column zoning=Planungsrecht; "
                f"got {value!r}"
            )
            raise typer.BadParameter(msg)
    return values


#: ``--sheet``: the sheet of a workbook (or the layer of a GeoPackage/GML) with the plots.
SheetOption = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        help="Sheet (XLSX) or layer (GeoPackage/GML) with the plots (default: the only "
        "sheet that holds plot rows).",
    ),
]

#: ``--column CANONICAL=HEADER`` (repeatable): say which column is which.
ColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        callback=_column_pairs,
        help="Which input column is which, CANONICAL=HEADER (repeatable), e.g. --column "
        "zoning=Planungsrecht; CANONICAL is plot_id, name, zoning, owner, area_m2, "
        "land_value_eur_m2 or brownfield. Wins over the vocabulary.",
    ),
]

#: ``--area-col``: the plot area column.
AreaColOption = Annotated[
    str | None,
    typer.Option(
        "--area-col", help="Column with the plot area in m² (same as --column area_m2=HEADER)."
    ),
]

#: ``--sep``: CSV separator.
SepOption = Annotated[str | None, typer.Option("--sep", help="CSV separator (default: detected).")]

#: ``--encoding``: CSV encoding.
EncodingOption = Annotated[
    str | None,
    typer.Option("--encoding", help="CSV encoding (default: UTF-8, UTF-8-BOM or cp1252)."),
]

#: ``--vocabulary``: a city's own plot vocabulary (headers, owner and yes/no words).
VocabularyOption = Annotated[
    Path | None,
    typer.Option(
        "--vocabulary",
        help="Plot vocabulary YAML (column headers, owner and yes/no words; default: the "
        "packaged configs/plot_vocabulary.yaml).",
    ),
]

#: Parameter name → option flag of the reader options every plot-reading command takes.
READER_OPTIONS = {
    "sheet": "--sheet",
    "id_col": "--id-col",
    "column": "--column",
    "crs": "--crs",
    "sep": "--sep",
    "encoding": "--encoding",
    "area_col": "--area-col",
    "vocabulary": "--vocabulary",
}


class ReaderArgs(TypedDict, total=False):
    """The reader options as a command receives them (names of :data:`READER_OPTIONS`)."""

    sheet: str | None
    id_col: str | None
    column: list[str] | None
    crs: str | None
    sep: str | None
    encoding: str | None
    area_col: str | None
    vocabulary: Path | None


def plot_reader_options(
    *, data_dir: Path | None = None, **given: Unpack[ReaderArgs]
) -> PlotReaderOptions:
    """The :class:`~handwerkgeo.sources.plots.PlotReaderOptions` of a command's reader options.

    ``data_dir`` gives the real city boundary (fetched Stadtteile). Rows that cannot be
    used are rejected (``on_invalid="reject"``): the command decides what to do with them.
    """
    from handwerkgeo.sources.plots import PlotReaderOptions

    columns: dict[str, str] = {}
    for value in given.get("column") or ():
        canon, _, header = value.partition("=")
        columns[canon.strip()] = header.strip()
    return PlotReaderOptions(
        crs=given.get("crs"),
        id_col=given.get("id_col"),
        on_invalid="reject",
        layer=given.get("sheet"),
        area_col=given.get("area_col"),
        sep=given.get("sep"),
        encoding=given.get("encoding"),
        columns=columns or None,
        data_dir=data_dir,
        vocabulary=given.get("vocabulary"),
    )
