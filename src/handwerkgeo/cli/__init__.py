"""Command-line interface ``handwerkgeo`` (typer). The only place that configures logging.

Each command group lives in its own module of this package and is registered here.
Options shared by several commands are defined once in :mod:`handwerkgeo.cli._options`;
errors are handled once, by the root group (:mod:`handwerkgeo.cli._errors`: exit code 1
for bad input or data, 2 for usage, 70 for a bug). Command modules import the heavy
libraries (geopandas, the scoring engine) inside the command bodies, so that
``handwerkgeo --help`` stays fast.
"""

from __future__ import annotations

import gc
import logging

import typer

from handwerkgeo import __version__
from handwerkgeo.cli._errors import EXIT_CODES_HELP, VERBOSE_KEY, HandwerkgeoGroup

__all__ = ["app", "main"]

#: Collections of the middle generation between two full collections (Python: 10).
FULL_GC_EVERY = 100

app = typer.Typer(
    name="handwerkgeo",
    cls=HandwerkgeoGroup,
    help="Site scoring for Handwerkerhöfe in Düsseldorf.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"handwerkgeo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        help="More log output (-v info, -vv debug); -v also shows the traceback of an error.",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Show the version and exit.",
    ),
) -> None:
    ctx.meta[VERBOSE_KEY] = verbose
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


# --- command groups (one module each) -------------------------------------------------
from handwerkgeo.cli.data import data_app  # noqa: E402

app.add_typer(data_app, name="data")

from handwerkgeo.cli.register import register_app  # noqa: E402

app.add_typer(register_app, name="register")

from handwerkgeo.cli.plots import plots_app  # noqa: E402

app.add_typer(plots_app, name="plots")

from handwerkgeo.cli.score import config_app, score_command  # noqa: E402

app.add_typer(config_app, name="config")
app.command("score")(score_command)

from handwerkgeo.cli.maps import map_command  # noqa: E402

app.command("map")(map_command)

from handwerkgeo.cli.search import search_command  # noqa: E402

app.command("search")(search_command)

from handwerkgeo.cli.demo import demo_command  # noqa: E402

app.command("demo")(demo_command)


def main() -> None:
    """Entry point of the ``handwerkgeo`` console script."""
    # Full collections (over every object loaded: pandas, geopandas, the prepared context)
    # cost ~0.07 s each and a 100-plot score run triggered 3 of them: one per 100 young
    # collections instead of per 10 (the young generations are collected as before).
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_GC_EVERY)
    try:
        app()
    finally:
        # The process ends now: spare the interpreter's exit the garbage-collector passes
        # over everything loaded (~0.25 s after a score run: the prepared context, the
        # network, pandas/geopandas). Files are written and closed before a command
        # returns, stdout/stderr are still flushed at exit, exit codes are unchanged.
        gc.freeze()
