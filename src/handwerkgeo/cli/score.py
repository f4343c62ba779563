"""``handwerkgeo score`` and ``handwerkgeo config …``: score plots, show and check configs."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from handwerkgeo._atomic import check_output_file
from handwerkgeo.cli._options import (
    ConfigOption,
    CrsOption,
    DataDirOption,
    IdColOption,
    Lang,
    LangOption,
    LayerOption,
    out_option,
)

__all__ = ["config_app", "score_command"]

logger = logging.getLogger(__name__)

config_app = typer.Typer(
    name="config",
    help="Scoring configurations: show the default or a file, validate a file.",
    no_args_is_help=True,
)


@config_app.command("show")
def show_command(
    config: ConfigOption = None,
    resolved: Annotated[
        bool,
        typer.Option(
            "--resolved", help="Print the validated values (no comments) instead of the file."
        ),
    ] = False,
) -> None:
    """Print a scoring configuration (YAML) and its hash."""
    from handwerkgeo.config import load_config

    cfg = load_config(config)
    if resolved:
        text = cfg.to_yaml()
    elif config is None:
        text = (resources.files("handwerkgeo") / "configs" / "default.yaml").read_text("utf-8")
    else:
        text = config.read_text("utf-8")
    typer.echo(text.rstrip("\n"))
    typer.echo(f"# config {cfg.name!r}, hash {cfg.hash}")


@config_app.command("validate")
def validate_command(
    config: Annotated[Path, typer.Argument(help="The YAML scoring configuration to check.")],
) -> None:
    """Check a scoring configuration; exit 0 when valid, 1 with every problem listed."""
    from handwerkgeo.config import load_config

    cfg = load_config(config)
    active = cfg.active_criteria()
    typer.echo(
        f"OK: {config} is valid — config {cfg.name!r}, hash {cfg.hash}, "
        f"{len(active)} active criteria, weights sum to {sum(cfg.weights.values()):g}"
    )


def score_command(
    plots: Annotated[
        Path,
        typer.Argument(help="Plot file: GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV or XLSX."),
    ],
    out: Annotated[Path, out_option("Output GeoPackage (.gpkg; XLSX and CSV written beside it).")],
    config: ConfigOption = None,
    id_col: IdColOption = None,
    crs: CrsOption = None,
    data_dir: DataDirOption = None,
    network: Annotated[
        bool,
        typer.Option(
            "--network/--no-network",
            help="Build the street network for walking distances (else straight line × 1.3).",
        ),
    ] = True,
    sensitivity_runs: Annotated[
        int,
        typer.Option(
            "--sensitivity-runs", min=0, help="Monte Carlo weight runs (0 = no sensitivity)."
        ),
    ] = 0,
    top: Annotated[
        int, typer.Option("--top", min=1, help="N of the top-N list and of p_top_N.")
    ] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the sensitivity runs.")] = 0,
    lang: LangOption = Lang.de,
    layer: LayerOption = None,
) -> None:
    """Score candidate plots and write the scored GeoPackage (+ CSV)."""
    # every output checked before the work starts (a folder, the wrong ending, read-only)
    check_output_file(out, suffixes=(".gpkg",))
    for beside in (out.with_suffix(".xlsx"), out.with_suffix(".csv")):
        check_output_file(beside, option="--out (table beside it)")

    from handwerkgeo.config import load_config
    from handwerkgeo.context import add_layer_files, load_context, parse_layer_options
    from handwerkgeo.export.tables import export_tables
    from handwerkgeo.scoring import score_plots, write_scored
    from handwerkgeo.sensitivity import monte_carlo
    from handwerkgeo.sources.plots import read_plots

    cfg = load_config(config)
    frame = read_plots(plots, crs=crs, id_col=id_col)
    ctx = load_context(data_dir, network=network)
    ctx = add_layer_files(ctx, parse_layer_options(layer), crs=crs)
    scored = score_plots(frame, cfg, context=ctx, show_progress=True)
    if sensitivity_runs:
        mc = monte_carlo(scored, cfg, runs=sensitivity_runs, top_n=top, seed=seed)
        for col in mc.columns:
            scored[col] = mc[col]
        scored.attrs["run"]["sensitivity"] = dict(mc.attrs)
    out.parent.mkdir(parents=True, exist_ok=True)  # only now: a failed run leaves nothing
    write_scored(scored, out)
    # planner tables beside the GeoPackage: German headers, CSV for German Excel
    # (BOM, ';', decimal comma), formula-like text neutralised (export.tables)
    export_tables(scored, out.with_suffix(".xlsx"), out.with_suffix(".csv"), lang=lang.value)

    ranked = scored[scored["rank"].notna()].sort_values("rank").head(top)
    typer.echo(
        f"Scored {len(scored)} plot(s) with config {cfg.name!r} (hash {cfg.hash}): "
        f"{int(scored['rank'].notna().sum())} ranked, {int(scored['excluded'].sum())} excluded."
    )
    missing = scored.attrs["run"].get("missing_reasons", {})
    if missing:
        typer.echo("Criteria without data (counted as missing, weights renormalised):")
        for name, reason in missing.items():
            typer.echo(f"  {name}: {reason}")
    typer.echo(f"Top {len(ranked)}:")
    p_col = f"p_top_{top}"
    for _, row in ranked.iterrows():
        label = f" {row['name']}" if "name" in row and isinstance(row["name"], str) else ""
        extra = f"  P(top {top}) {row[p_col]:.0%}" if p_col in row else ""
        typer.echo(
            f"  {int(row['rank']):>3}. {row['plot_id']}{label}: {row['score_total']:.1f} "
            f"points, coverage {row['coverage']:.0%}{extra}"
        )
    typer.echo(f"Wrote {out}, {out.with_suffix('.xlsx')} and {out.with_suffix('.csv')}")
