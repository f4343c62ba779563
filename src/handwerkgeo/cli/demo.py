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
from typing import Annotated, Any

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
    from handwerkgeo.export._sites import write_search_workbook
    from handwerkgeo.export.basemap import load_base_map
    from handwerkgeo.export.council import export_council_text
    from handwerkgeo.export.figures import export_figure
    from handwerkgeo.export.maps import export_map
    from handwerkgeo.export.profiles import export_profiles
    from handwerkgeo.export.tables import export_tables
    from handwerkgeo.messages import message
    from handwerkgeo.scoring import score_plots, write_scored
    from handwerkgeo.search import criteria_without_data, site_search
    from handwerkgeo.sensitivity import monte_carlo
    from handwerkgeo.sources.plots import read_plots

    language = lang.value
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ctx = load_context(data_dir)
    base = load_base_map(data_dir, context=ctx)
    t_ctx = time.perf_counter() - t0
    plots = read_plots(Path(str(EXAMPLE_PLOTS)))
    scored = score_plots(plots, context=ctx)
    sens = monte_carlo(scored, runs=runs, top_n=top, seed=0)
    for col in sens.columns:
        scored[col] = sens[col]
    sources = list(ctx.sources)
    write_scored(scored, out / "scores.gpkg", lang=language)
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
        base_map=base,
    )
    export_figure(
        scored,
        out / "map.png",
        stadtteile=ctx.stadtteile,
        base_map=base,
        top_n=top,
        lang=language,
        extra_sources=sources,
    )
    export_profiles(
        scored,
        out / "profiles",
        lang=language,
        stadtteile=ctx.stadtteile,
        base_map=base,
        extra_sources=sources,
    )
    t_plots = time.perf_counter() - t0 - t_ctx
    t1 = time.perf_counter()
    result = site_search(context=ctx, cell_m=cell_m)
    write_search(result, out / "search.gpkg", lang=language)
    write_search_workbook(result, out / "search.xlsx", cell_m=cell_m, lang=language)
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
        base_map=base,
        title=title,
        extra_sources=sources,
        sites=result.sites,  # the candidate sites as their own labelled layer
        search_areas=result.search_areas,
    )
    t_search = time.perf_counter() - t1
    _print_summary(scored, result, language, top=top, cell_m=cell_m, missing=missing)
    typer.echo(
        message(
            "demo_times",
            language,
            t_ctx=_num(t_ctx, ".1f", language),
            t_plots=_num(t_plots, ".1f", language),
            t_search=_num(t_search, ".1f", language),
        )
    )
    typer.echo(message("demo_written", language, out=out))


def _num(x: float, fmt: str, lang: str) -> str:
    """A number as planners read it: decimal comma and "85 %" in German."""
    text = format(x, fmt)
    return text.replace(".", ",").replace("%", " %") if lang == "de" else text


def _print_summary(
    scored: Any, result: Any, lang: str, *, top: int, cell_m: float, missing: str
) -> None:
    """Ranking of the example plots, excluded plots, decision readiness, city-wide search."""
    from handwerkgeo.messages import message
    from handwerkgeo.scoring import decision_summary

    ranked = scored[~scored["excluded"]].sort_values("rank")
    config_hash = scored.attrs["run"]["config_hash"]
    typer.echo(message("demo_ranking", lang, n=len(scored), config=config_hash))
    p_col = f"p_top_{top}"
    for _, row in ranked.iterrows():
        typer.echo(
            message(
                "demo_row",
                lang,
                rank=f"{int(row['rank']):>2}",
                plot=row["plot_id"],
                score=_num(row["score_total"], "5.1f", lang),
                top=top,
                p_top=_num(row[p_col], "4.0%", lang),
                coverage=_num(row["coverage"], ".0%", lang),
                name=row["name"],
            )
        )
    reason = "exclusion_reason_en" if lang == "en" else "exclusion_reason"
    for _, row in scored[scored["excluded"]].iterrows():
        typer.echo(message("demo_excluded", lang, plot=row["plot_id"], reason=row[reason]))
    typer.echo(decision_summary(scored, lang))
    typer.echo(
        message(
            "demo_search",
            lang,
            n_cells=f"{len(result.surface):,}".replace(",", "." if lang == "de" else ","),
            cell_m=f"{cell_m:g}",
            n_sites=len(result.sites),
            threshold=_num(result.threshold, ".1f", lang),
        )
    )
    typer.echo(message("demo_search_missing", lang, missing=missing))
