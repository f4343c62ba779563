"""The error policy of the command line, kept in one place.

Every command runs inside :meth:`HandwerkgeoGroup.invoke`, which turns an exception into
one message on stderr and an exit code:

=====  ==========================================================================
code   meaning
=====  ==========================================================================
0      success
1      bad input or data: a :class:`~handwerkgeo.errors.HandwerkgeoError` (or an
       ``OSError`` such as a file that cannot be written); one message, no traceback
       unless ``-v`` is given
2      usage: unknown option, invalid choice (``--lang fr``), missing argument,
       or a :class:`~handwerkgeo.errors.UsageError`
70     internal error: any other exception is a bug in handwerkgeo; the message says
       so and the traceback is always shown (``EX_SOFTWARE`` of ``sysexits.h``)
=====  ==========================================================================

Commands therefore do not catch errors themselves; they only add context a planner can
act on, with :meth:`BaseException.add_note` (notes are printed below the message).
"""

from __future__ import annotations

import traceback
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from handwerkgeo.errors import HandwerkgeoError, UsageError

__all__ = [
    "EXIT_BUG",
    "EXIT_CODES_HELP",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "VERBOSE_KEY",
    "HandwerkgeoGroup",
    "exit_code_of",
    "report",
]

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
#: ``score``: the usable rows were scored, some rows of the listing were rejected.
EXIT_PARTIAL = 3
EXIT_BUG = 70

#: Where the root callback keeps the ``-v`` count (in ``click.Context.meta``).
VERBOSE_KEY = "handwerkgeo.verbose"

#: Shown under ``handwerkgeo --help``.
EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 bad input or data (one message on stderr, -v adds the "
    "traceback); 2 usage error (unknown option, invalid choice, contradicting options); "
    "3 `score` scored the usable rows but rejected others (listed, written to "
    "<out>_abgelehnt.csv; --strict refuses instead); "
    "70 internal error (a bug in handwerkgeo: please report it with the traceback shown)."
)

_BUG_MESSAGE = (
    "this is a bug in handwerkgeo, please report it "
    "(https://github.com/handwerkgeo/handwerkgeo/issues) with the command you ran and "
    "the traceback below."
)


def exit_code_of(exc: BaseException) -> int:
    """The exit code for an exception that reached the command line (see module docstring)."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, HandwerkgeoError | OSError):
        return EXIT_INPUT
    return EXIT_BUG


def report(exc: BaseException, *, verbose: int = 0) -> int:
    """Print ``exc`` to stderr as the policy says and return its exit code."""
    code = exit_code_of(exc)
    if code == EXIT_BUG:
        typer.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
        typer.echo(f"Error: {_BUG_MESSAGE}", err=True)
        typer.echo("".join(traceback.format_exception(exc)).rstrip("\n"), err=True)
        return code
    if verbose:
        typer.echo("".join(traceback.format_exception(exc)).rstrip("\n"), err=True)
    typer.echo(f"Error: {_message(exc)}", err=True)
    for note in getattr(exc, "__notes__", ()):
        typer.echo(str(note), err=True)
    if code == EXIT_USAGE:
        typer.echo("Try 'handwerkgeo --help' or '<command> --help' for help.", err=True)
    return code


def _message(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, HandwerkgeoError) and exc.filename:
        text = f"{exc.strerror or text}: {exc.filename}"
    return text or type(exc).__name__


class HandwerkgeoGroup(TyperGroup):
    """The root command group: runs every command under the error policy."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # typer's own exits, usage errors and aborts keep their meaning
        except Exception as exc:  # the one place that decides what an error means
            code = report(exc, verbose=int(ctx.meta.get(VERBOSE_KEY, 0)))
            raise typer.Exit(code) from exc
