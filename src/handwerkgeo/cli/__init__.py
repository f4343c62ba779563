"""Command-line interface ``handwerkgeo`` (typer). The only place that configures logging.

Each command group lives in its own module of this package and is registered here.
"""

from __future__ import annotations

import logging

import typer

from handwerkgeo import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="handwerkgeo",
    help="Site scoring for Handwerkerhöfe in Düsseldorf.",
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
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-v info, -vv debug)."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Show the version and exit.",
    ),
) -> None:
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
    app()
