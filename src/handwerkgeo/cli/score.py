"""``handwerkgeo score`` and ``handwerkgeo config …``: score plots, show and check configs."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from handwerkgeo._atomic import check_output_file
from handwerkgeo.cli._errors import EXIT_INPUT, EXIT_PARTIAL
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
    LayerOption,
    SepOption,
    SheetOption,
    VocabularyOption,
    out_option,
    plot_reader_options,
)

__all__ = ["config_app", "score_command"]

logger = logging.getLogger(__name__)

#: Default of ``--xlsx-max-rows``: handwerkgeo.export.tables.XLSX_MAX_ROWS, written here so
#: that ``score --help`` does not import pandas (a test checks both agree).
XLSX_MAX_ROWS = 10_000

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
    out: Annotated[
        Path,
        out_option(
            "Output GeoPackage (.gpkg) or GeoParquet (.parquet); XLSX and CSV written beside it."
        ),
    ],
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
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse (exit 1) when any row of the listing is rejected, instead of scoring "
            "the usable rows (exit 3).",
        ),
    ] = False,
    xlsx_max_rows: Annotated[
        int,
        typer.Option(
            "--xlsx-max-rows",
            min=1,
            max=1_048_575,
            help="Plots in the XLSX at most: with more, it holds the best ones and a note "
            "(the CSV and --out hold every plot).",
        ),
    ] = XLSX_MAX_ROWS,
) -> None:
    """Score candidate plots and write the scored GeoPackage or GeoParquet (+ XLSX and CSV).

    The CSV and ``--out`` hold every plot; the XLSX (set up to print) holds at most
    ``--xlsx-max-rows`` plots (default 10,000), the best ones, with a note saying so.

    Rows that cannot be used (outside the city, no id, bad geometry …) are rejected with
    their reason: the usable rows are scored, the rejected ones listed, written to the
    layer ``abgelehnt`` of the GeoPackage and to ``<out>_abgelehnt.csv`` (English:
    ``rejected``), and the exit code is 3. ``--strict`` refuses instead (exit 1). Rows
    read = rows scored + rows rejected.
    """
    # every output checked before the work starts (a folder, the wrong ending, read-only)
    check_output_file(out, suffixes=(".gpkg", ".parquet"))
    for beside in (out.with_suffix(".xlsx"), out.with_suffix(".csv")):
        check_output_file(beside, option="--out (table beside it)")

    from handwerkgeo.cli._listing import column_table, reject_lines, run_info
    from handwerkgeo.config import load_config
    from handwerkgeo.context import parse_layer_options
    from handwerkgeo.messages import localized, message
    from handwerkgeo.scoring import decision_summary
    from handwerkgeo.sources.plots import check_plots

    lg = lang.value
    cfg = load_config(config)
    layer_files = parse_layer_options(layer)  # before the slow part: bad options fail fast
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
    report = check_plots(plots, opts)
    _refuse_unusable(report, strict=strict, lang=lg, file=plots)
    scored, raw_attrs = _score(report.usable, cfg, data_dir, network=network, layers=layer_files)
    if sensitivity_runs:
        from handwerkgeo.sensitivity import monte_carlo

        mc = monte_carlo(scored, cfg, runs=sensitivity_runs, top_n=top, seed=seed)
        for col in mc.columns:
            scored[col] = mc[col]
        scored.attrs["run"]["sensitivity"] = dict(mc.attrs)
    out.parent.mkdir(parents=True, exist_ok=True)  # only now: a failed run leaves nothing
    if out.suffix.lower() == ".parquet":
        written = _write_parquet(scored, report, out, lang=lg, max_rows=xlsx_max_rows)
    else:
        written = _write(scored, report, out, lang=lg, max_rows=xlsx_max_rows)

    n_ranked = int(scored["rank"].notna().sum())
    typer.echo(
        message(
            "score_summary",
            lg,
            n_rows=report.n_rows,
            n_scored=len(scored),
            n_ranked=n_ranked,
            n_excluded=int(scored["excluded"].sum()),
            n_rejected=len(report.rejects),
            config=cfg.name,
            hash=cfg.hash,
        )
    )
    typer.echo(decision_summary(scored, lg))  # filters.decision_coverage (#10)
    if len(report.rejects):
        typer.echo(message("score_rejected", lg, n_rejected=len(report.rejects), path=written[-1]))
        for line in reject_lines(report.rejects_table(lg), limit=20):
            typer.echo(line)
    for note in report.notes:
        typer.echo(f"{message('check_note', lg)}: {localized(note, lg)}")
    for line in column_table(report.columns, cfg, lang=lg, run=run_info(scored, raw_attrs)):
        typer.echo(line)
    _print_top(scored, top=top, lang=lg)
    typer.echo(message("score_wrote", lg, paths=", ".join(str(p) for p in written)))
    if len(report.rejects):
        raise typer.Exit(EXIT_PARTIAL)


def _refuse_unusable(report: Any, *, strict: bool, lang: str, file: Path) -> None:
    """Raise for file-level problems; exit 1 under ``--strict`` or with no usable row."""
    from handwerkgeo import _validate as v
    from handwerkgeo.cli._listing import reject_lines
    from handwerkgeo.messages import message

    if report.fatal:
        v.raise_for_report(report)
    n_rejected = len(report.rejects)
    if not (strict and n_rejected) and len(report.usable):
        return
    text = (
        message("score_strict", lang, n_rejected=n_rejected)
        if strict and n_rejected
        else message("score_nothing_usable", lang, file=file.name)
    )
    typer.echo(text, err=True)
    for line in reject_lines(report.rejects_table(lang), limit=20):
        typer.echo(line, err=True)
    raise typer.Exit(EXIT_INPUT)


def _score(
    frame: Any, cfg: Any, data_dir: Path | None, *, network: bool, layers: Any
) -> tuple[Any, dict[str, Any]]:
    """The scored frame and the attributes of its raw criteria (missing reasons, codes).

    ``--crs`` is the plots' CRS only; a layer file without CRS gets one by KIND=PATH@CRS.
    """
    from handwerkgeo.context import add_layer_files, load_context
    from handwerkgeo.scoring import compute_raw, score_plots

    ctx = load_context(data_dir, network=network)
    ctx = add_layer_files(ctx, layers)
    raw = compute_raw(frame, ctx, cfg, show_progress=True)
    scored = score_plots(frame, cfg, context=ctx, raw=raw)
    return scored, dict(raw.attrs)


def _write(scored: Any, report: Any, out: Path, *, lang: str, max_rows: int) -> list[Path]:
    """GeoPackage (+ rejects layer), XLSX, CSV and the rejects CSV; the paths written."""
    from handwerkgeo._atomic import atomic_replace_file, atomic_write_bytes
    from handwerkgeo._gpkg import write_layer
    from handwerkgeo.messages import message
    from handwerkgeo.scoring import write_scored
    from handwerkgeo.spreadsheet import csv_bytes, safe_frame

    write_scored(scored, out, lang=lang)
    # planner tables beside the GeoPackage: German headers, CSV for German Excel
    # (BOM, ';', decimal comma), formula-like text neutralised (export.tables)
    _tables(scored, out, lang=lang, max_rows=max_rows)
    written = [out, out.with_suffix(".xlsx"), out.with_suffix(".csv")]
    if len(report.rejects):
        table = report.rejects_table(lang)
        with atomic_replace_file(out) as tmp:
            write_layer(safe_frame(table), tmp, message("layer_rejects", lang))
        path = out.with_name(f"{out.stem}_{message('file_rejects_csv', lang)}")
        atomic_write_bytes(path, csv_bytes(table, german=lang == "de"))
        written.append(path)
    return written


def _tables(scored: Any, out: Path, *, lang: str, max_rows: int) -> None:
    """XLSX (the best ``max_rows`` plots, printable) and CSV (every plot) beside ``out``."""
    from handwerkgeo.export.tables import export_tables

    xlsx, csv = out.with_suffix(".xlsx"), out.with_suffix(".csv")
    export_tables(scored, xlsx, csv, lang=lang, xlsx_max_rows=max_rows, full_table_paths=[out])


def _write_parquet(scored: Any, report: Any, out: Path, *, lang: str, max_rows: int) -> list[Path]:
    """GeoParquet, XLSX, CSV and the rejects CSV; the paths written."""
    from handwerkgeo._atomic import atomic_write_bytes
    from handwerkgeo.export.geoparquet import write_geoparquet
    from handwerkgeo.messages import message
    from handwerkgeo.spreadsheet import csv_bytes

    write_geoparquet(scored, out)
    _tables(scored, out, lang=lang, max_rows=max_rows)
    written = [out, out.with_suffix(".xlsx"), out.with_suffix(".csv")]
    if len(report.rejects):
        path = out.with_name(f"{out.stem}_{message('file_rejects_csv', lang)}")
        atomic_write_bytes(path, csv_bytes(report.rejects_table(lang), german=lang == "de"))
        written.append(path)
    return written


def _print_top(scored: Any, *, top: int, lang: str) -> None:
    from handwerkgeo.messages import message

    ranked = scored[scored["rank"].notna()].sort_values("rank").head(top)
    ranked.attrs = {}  # else every row of iterrows deep-copies the run attributes
    typer.echo(message("score_top", lang, n=len(ranked)))
    p_col = f"p_top_{top}"

    def num(x: float, fmt: str) -> str:  # German decimal comma and "69 %"
        text = format(x, fmt)
        return text.replace(".", ",").replace("%", " %") if lang == "de" else text

    for _, row in ranked.iterrows():
        label = f" {row['name']}" if "name" in row and isinstance(row["name"], str) else ""
        extra = f"  P(top {top}) {num(row[p_col], '.0%')}" if p_col in row else ""
        typer.echo(
            "  "
            + message(
                "score_top_row",
                lang,
                rank=f"{int(row['rank']):>3}",
                plot=f"{row['plot_id']}{label}",
                score=num(row["score_total"], ".1f"),
                coverage=num(row["coverage"], ".0%"),
            )
            + extra
        )
    excluded = scored[scored["excluded"].astype(bool)]
    if len(excluded):
        typer.echo(message("score_excluded_list", lang))
        reason_col = "exclusion_reason_en" if lang == "en" else "exclusion_reason"
        for _, row in excluded.head(top).iterrows():
            label = f" {row['name']}" if "name" in row and isinstance(row["name"], str) else ""
            typer.echo(f"  {row['plot_id']}{label}: {row[reason_col]}")
