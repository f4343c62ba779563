"""``handwerkgeo plots …``: check candidate plot files before scoring them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handwerkgeo.cli._options import (
    AreaColOption,
    ColumnOption,
    ConfigOption,
    CrsOption,
    DataDirOption,
    EncodingOption,
    IdColOption,
    Lang,
    LangOption,
    SepOption,
    SheetOption,
    VocabularyOption,
    plot_reader_options,
)

__all__ = ["check", "plots_app"]

plots_app = typer.Typer(
    name="plots",
    help="Candidate plot files: check them before scoring.",
    no_args_is_help=True,
)


@plots_app.command("check")
def check(
    file: Annotated[
        Path,
        typer.Argument(help="Plot file: GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV or XLSX."),
    ],
    sheet: SheetOption = None,
    id_col: IdColOption = None,
    column: ColumnOption = None,
    crs: CrsOption = None,
    sep: SepOption = None,
    encoding: EncodingOption = None,
    area_col: AreaColOption = None,
    vocabulary: VocabularyOption = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Check a plot file: every problem with its line and the fix, and the columns used.

    Rows are numbered as spreadsheet lines for CSV/XLSX (header = line 1) and as feature
    numbers for GIS files. Exit code 0 when every row is usable, 1 otherwise.
    """
    from handwerkgeo.cli._listing import column_table, reject_lines
    from handwerkgeo.config import load_config
    from handwerkgeo.messages import localized, message
    from handwerkgeo.sources.plots import check_plots

    opts = plot_reader_options(
        data_dir=data_dir,
        sheet=sheet,
        id_col=id_col,
        column=column,
        crs=crs,
        sep=sep,
        encoding=encoding,
        area_col=area_col,
        vocabulary=vocabulary,
    )
    report = check_plots(file, opts)
    lg = lang.value
    typer.echo(message("check_heading", lg, file=file))
    file_level = [p for p in report.problems if not p.rows]
    for p in file_level:
        typer.echo(f"  {message('check_problem', lg)} {p.message}")
        typer.echo(f"          → {p.fix}")
    for line in reject_lines(report.rejects_table(lg), limit=len(report.rejects) or 1):
        typer.echo(line)
    for note in report.notes:
        typer.echo(f"  {message('check_note', lg)}: {localized(note, lg)}")
    if report.columns:
        for line in column_table(report.columns, load_config(config), lang=lg):
            typer.echo(line)
    typer.echo(
        message(
            "check_summary",
            lg,
            n_rows=report.n_rows,
            usable=len(report.usable),
            rejected=len(report.rejects),
            problems=len(file_level),
        )
    )
    if report.ok:
        typer.echo(message("check_ok", lg))
        return
    typer.echo(message("check_not_usable" if report.fatal else "check_not_ok", lg))
    raise typer.Exit(1)
