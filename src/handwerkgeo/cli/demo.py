"""``handwerkgeo demo``: the main job on the default Düsseldorf data.

Scores the packaged illustrative example plots and the whole city on a 100 m grid, runs
the weight-sensitivity analysis and writes the council package into one folder:
``map.html`` (offline), ``map.png``, ``scores.xlsx``, ``scores.csv``, ``scores.gpkg``,
``profiles/``, ``datenlage.md`` (council text block on data gaps), ``search.gpkg`` and
``search_map.html``.
"""

from __future__ import annotations

import logging
import time
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from handwerkgeo.cli._options import DataDirOption, Lang, LangOption, out_option

__all__ = ["EXAMPLE_PLOTS", "demo_command"]

logger = logging.getLogger(__name__)

#: The packaged illustrative example plots (project-authored, not official data).
EXAMPLE_PLOTS = files("handwerkgeo") / "data" / "example_plots.geojson"


def demo_command(
    out: Annotated[Path, out_option("Output folder.")] = Path("outputs"),
    data_dir: DataDirOption = None,
    cell_m: Annotated[float, typer.Option("--cell-m", help="Grid cell size in metres.")] = 100.0,
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs (sensitivity).")] = 1000,
    top: Annotated[int, typer.Option("--top", help="Top N for maps and sensitivity.")] = 5,
    lang: LangOption = Lang.de,
) -> None:
    """Score the example plots and the whole city; write maps, tables and profiles."""
    from handwerkgeo.cli.search import write_search
    from handwerkgeo.context import load_context
    from handwerkgeo.export.council import export_council_text
    from handwerkgeo.export.figures import export_figure
    from handwerkgeo.export.maps import export_map
    from handwerkgeo.export.profiles import export_profiles
    from handwerkgeo.export.tables import export_tables
    from handwerkgeo.scoring import decision_summary, score_plots, write_scored
    from handwerkgeo.search import criteria_without_data, site_search
    from handwerkgeo.sensitivity import monte_carlo
    from handwerkgeo.sources.plots import read_plots

    language = lang.value
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ctx = load_context(data_dir)
    t_ctx = time.perf_counter() - t0
    plots = read_plots(Path(str(EXAMPLE_PLOTS)))
    scored = score_plots(plots, context=ctx)
    sens = monte_carlo(scored, runs=runs, top_n=top, seed=0)
    for col in sens.columns:
        scored[col] = sens[col]
    sources = list(ctx.sources)
    write_scored(scored, out / "scores.gpkg")
    export_tables(scored, out / "scores.xlsx", out / "scores.csv", lang=language)
    export_council_text(scored, out / "datenlage.md", lang=language)
    export_map(
        scored,
        out / "map.html",
        top_n=top,
        lang=language,
        title="Beispielflächen für Handwerkerhöfe (illustrativ)"
        if language == "de"
        else "Example plots for Handwerkerhöfe (illustrative)",
        extra_sources=sources,
        stadtteile=ctx.stadtteile,
        stops=ctx.stops,
        cycling=ctx.cycling,
    )
    export_figure(
        scored,
        out / "map.png",
        stadtteile=ctx.stadtteile,
        top_n=top,
        lang=language,
        extra_sources=sources,
    )
    export_profiles(
        scored,
        out / "profiles",
        lang=language,
        stadtteile=ctx.stadtteile,
        extra_sources=sources,
    )
    t_plots = time.perf_counter() - t0 - t_ctx
    t1 = time.perf_counter()
    result = site_search(context=ctx, cell_m=cell_m)
    write_search(result, out / "search.gpkg")
    missing = ", ".join(criteria_without_data(result.surface, lang=language))
    title = (
        f"Standortsuche Handwerkerhöfe – Eignungsfläche Düsseldorf (ohne Daten: {missing})"
        if language == "de"
        else f"Site search for Handwerkerhöfe – suitability, Düsseldorf (no data: {missing})"
    )
    export_map(
        result.surface,
        out / "search_map.html",
        top_n=0,
        lang=language,
        stadtteile=ctx.stadtteile,
        title=title,
        extra_sources=sources,
    )
    t_search = time.perf_counter() - t1
    ranked = scored[~scored["excluded"]].sort_values("rank")
    typer.echo(f"Context loaded in {t_ctx:.1f} s; example plots done in {t_plots:.1f} s")
    config_hash = scored.attrs["run"]["config_hash"]
    typer.echo(f"Ranking of the {len(scored)} illustrative example plots (config {config_hash}):")
    p_col = f"p_top_{top}"
    for _, row in ranked.iterrows():
        typer.echo(
            f"  {int(row['rank']):>2}. {row['plot_id']}  {row['score_total']:5.1f}  "
            f"P(Top {top}) {row[p_col]:4.0%}  coverage {row['coverage']:.0%}  {row['name']}"
        )
    for _, row in scored[scored["excluded"]].iterrows():
        typer.echo(f"   –  {row['plot_id']}  excluded: {row['exclusion_reason']}")
    typer.echo(decision_summary(scored, language))
    typer.echo(
        f"Whole-city search: {len(result.surface)} cells of {cell_m:g} m, "
        f"{len(result.sites)} candidate sites (cell score ≥ {result.threshold:.1f}) "
        f"in {t_search:.1f} s"
    )
    typer.echo(f"Criteria without data in the city-wide search: {missing}")
    typer.echo(f"Outputs written to {out}/")
