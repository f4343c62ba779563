"""``handwerkgeo register``: keep a site register of listed plots and re-score it in batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from handwerkgeo._atomic import check_output_file
from handwerkgeo.cli._options import (
    AreaColOption,
    ColumnOption,
    ConfigOption,
    CrsOption,
    DataDirOption,
    EncodingOption,
    Engine,
    EngineOption,
    IdColOption,
    Lang,
    LangOption,
    SepOption,
    SheetOption,
    VocabularyOption,
    out_option,
    plot_reader_options,
)

__all__ = ["register_app"]

register_app = typer.Typer(
    help="Site register: add listed plots, re-score them in batch, show the runs.",
    no_args_is_help=True,
)

RegisterOpt = Annotated[
    str,
    typer.Option(
        "--register",
        help="The site register: a GeoPackage file, or a PostgreSQL/PostGIS database "
        "(postgresql://user@host/db?schema=name); created by `add`.",
    ),
]
MapOpt = Annotated[
    bool, typer.Option("--map", help="Also write an offline map of the run (karte.html).")
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", help="Seconds to wait while another process writes the register (0: fail)."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", help="Local Dask workers (--engine dask; default: CPUs)."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Address of an existing Dask scheduler (tcp://host:8786)."),
]


def _config(path: Path | None) -> Any:
    if path is None:
        return None
    from handwerkgeo.config import load_config

    return load_config(path)


def _report(rep: Any) -> None:
    import pandas as pd

    if rep.no_op:
        typer.echo(rep.message)
    else:
        typer.echo(
            f"run {rep.run_id} ({rep.kind}): {rep.n_plots} plots ranked, {rep.n_scored} scored "
            f"(new {rep.n_new}, changed {rep.n_changed}, unchanged {rep.n_unchanged}), "
            f"{rep.n_rejected} rejected"
        )
        typer.echo(f"change report: {rep.reports_dir}")
        if rep.map_path is not None:
            typer.echo(f"map: {rep.map_path}")
    if rep.n_rejected:
        typer.echo(f"{rep.n_rejected} row(s) rejected:", err=True)
        for r in rep.rejects.head(50).itertuples():
            row = "" if pd.isna(r.row) else f"row {r.row}, "
            typer.echo(f"  {row}plot {r.plot_id}: {r.reason}", err=True)
        if rep.n_rejected > 50:
            typer.echo(f"  … and {rep.n_rejected - 50} more (see the rejects layer)", err=True)
    if rep.rejects_file is not None:
        typer.echo(f"rejected rows: {rep.rejects_file}")


@register_app.command("add")
def add_command(
    new_plots: Annotated[Path, typer.Argument(help="Plots file (GeoPackage, GeoJSON, CSV …).")],
    register: RegisterOpt,
    config: ConfigOption = None,
    sheet: SheetOption = None,
    id_col: IdColOption = None,
    column: ColumnOption = None,
    crs: CrsOption = None,
    sep: SepOption = None,
    encoding: EncodingOption = None,
    area_col: AreaColOption = None,
    vocabulary: VocabularyOption = None,
    data_dir: DataDirOption = None,
    rescore_if_stale: Annotated[
        bool,
        typer.Option(
            "--rescore",
            help="If the config or the data changed since the latest run, re-score every plot "
            "in this run (default: refuse and ask for `register rescore`).",
        ),
    ] = False,
    make_map: MapOpt = False,
    wait: WaitOpt = 0.0,
    engine: EngineOption = Engine.single,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    lang: LangOption = Lang.de,
) -> None:
    """Add new or changed plots to the register and score them (ranks are global)."""
    from handwerkgeo.register import StaleRegisterError, add_plots

    reader = plot_reader_options(
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
    try:
        rep = add_plots(
            register,
            new_plots,
            config=_config(config),
            data_dir=data_dir,
            reader=reader,
            rescore_if_stale=rescore_if_stale,
            wait_s=wait,
            engine=engine.value,
            workers=workers,
            scheduler=scheduler,
            language=lang.value,
            make_map=make_map,
        )
    except StaleRegisterError as exc:
        if config is not None:
            # without --config, rescore would use the packaged default, not this file
            exc.add_note(f"Pass the same configuration to rescore: --config {config}")
        raise
    _report(rep)


@register_app.command("rescore")
def rescore_command(
    register: RegisterOpt,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    make_map: MapOpt = False,
    wait: WaitOpt = 0.0,
    engine: EngineOption = Engine.single,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    lang: LangOption = Lang.de,
) -> None:
    """Score every plot of the register again (after a change of config or data)."""
    from handwerkgeo.register import rescore

    rep = rescore(
        register,
        config=_config(config),
        data_dir=data_dir,
        wait_s=wait,
        engine=engine.value,
        workers=workers,
        scheduler=scheduler,
        language=lang.value,
        make_map=make_map,
    )
    _report(rep)


@register_app.command("show")
def show_command(register: RegisterOpt) -> None:
    """List the runs of the register (newest last)."""
    from handwerkgeo.register import Register, read_register

    tables = read_register(register, layers=("plots", "runs"))
    label = Register.at(register).label  # a database URL without its password
    runs = tables["runs"]
    plots = tables["plots"]
    n_active = int(plots["active"].astype(bool).sum())
    typer.echo(f"{label}: {n_active} plots (current versions), {len(runs)} run(s)")
    if runs.empty:
        return
    cols = ["seq", "run_id", "kind", "finished_at", "version", "config_hash", "engine"]
    cols += ["n_plots", "n_scored", "n_new", "n_changed", "n_rejected"]
    typer.echo(runs[cols].to_string(index=False))


@register_app.command("export")
def export_command(
    register: RegisterOpt,
    out: Annotated[
        Path,
        out_option(
            "The run's ranking with geometry: GeoParquet (.parquet, for DuckDB and BI tools) "
            "or GeoPackage (.gpkg, styled for QGIS)."
        ),
    ],
    run_id: Annotated[
        str | None, typer.Option("--run", help="Run to export (default: the latest).")
    ] = None,
    lang: LangOption = Lang.de,
) -> None:
    """Write the ranking of the latest run (or --run ID), every plot with its scores."""
    check_output_file(out, suffixes=(".parquet", ".gpkg"))
    from handwerkgeo.cli.maps import register_run

    scored = register_run(register, run_id)
    if out.suffix.lower() == ".parquet":
        from handwerkgeo.export.geoparquet import write_geoparquet

        write_geoparquet(scored, out)
    else:
        from handwerkgeo.scoring import write_scored

        write_scored(scored, out, lang=lang.value)
    run = scored.attrs["run"]["run_id"]
    typer.echo(f"{out}: {len(scored)} plot(s) of run {run}")


@register_app.command("migrate")
def migrate_command(register: RegisterOpt) -> None:
    """Convert a register of an older handwerkgeo to the current layout (once)."""
    from handwerkgeo.register import migrate_register

    backup = migrate_register(register)
    if backup is None:
        typer.echo(f"{register} is already in the current layout; nothing to do")
    else:
        typer.echo(f"{register} migrated to the current layout; the old file is {backup}")
