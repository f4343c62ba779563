"""``handwerkgeo plots …``: check candidate plot files before scoring them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handwerkgeo.cli._options import CrsOption, IdColOption

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
    crs: CrsOption = None,
    id_col: IdColOption = None,
    area_col: Annotated[
        str | None,
        typer.Option("--area-col", help="Column with the plot area in m² (for point listings)."),
    ] = None,
    layer: Annotated[
        str | None,
        typer.Option("--layer", help="Layer (GeoPackage/GML) or sheet (XLSX) with the plots."),
    ] = None,
    sep: Annotated[
        str | None, typer.Option("--sep", help="CSV separator (default: detected).")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="CSV encoding (default: UTF-8, UTF-8-BOM or cp1252)."),
    ] = None,
) -> None:
    """Check a plot file and list every problem with its row and the fix.

    Exit code 0 when every row is usable, 1 otherwise.
    """
    from handwerkgeo.sources.plots import check_plots

    report = check_plots(
        file, crs=crs, id_col=id_col, layer=layer, area_col=area_col, sep=sep, encoding=encoding
    )

    typer.echo(f"Checking {file}")
    file_level = [p for p in report.problems if not p.rows]
    for p in file_level:
        typer.echo(f"  PROBLEM {p.message}")
        typer.echo(f"          fix: {p.fix}")
    for rec in report.rejects.itertuples(index=False):
        ident = f" (plot_id {rec.plot_id!r})" if rec.plot_id else ""
        typer.echo(f"  row {rec.row}{ident}: {rec.reason}")
        typer.echo(f"          fix: {rec.fix}")
    for note in report.notes:
        typer.echo(f"  note: {note}")
    usable = len(report.usable)
    rejected = len(report.rejects)
    typer.echo(
        f"Summary: {report.n_rows} row(s) read, {usable} usable, {rejected} rejected, "
        f"{len(file_level)} file-level problem(s)."
    )
    if report.ok:
        typer.echo("OK: every row is usable.")
        return
    if report.fatal:
        typer.echo("NOT USABLE: fix the file-level problems above first.")
    else:
        typer.echo(
            "NOT OK: fix the rejected rows (handwerkgeo score refuses the file until then), "
            "or register only the usable rows with handwerkgeo register add (the rejected "
            "rows are recorded with their reason)."
        )
    raise typer.Exit(1)
