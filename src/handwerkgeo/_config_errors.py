"""Planner-readable messages for pydantic validation errors of the scoring configuration.

Every problem becomes one line with its key path (``criteria.transit.breakpoints[1]``),
the bad value and what is allowed; :mod:`handwerkgeo.config` raises them together as one
:class:`~handwerkgeo.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pydantic

__all__ = ["format_validation_errors"]


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def format_validation_errors(
    exc: pydantic.ValidationError, source: str, allowed_keys: Mapping[str, Sequence[str]]
) -> str:
    """One message listing every problem of ``exc`` with its key path.

    ``allowed_keys`` names the keys allowed at the top level (``top``), under ``filters``
    and in a criterion (``criterion``), for the "unknown key (a typo?)" lines.
    """
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _loc_path(loc)
        kind = err["type"]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            if len(loc) == 1:
                allowed = allowed_keys["top"]
            elif loc[0] == "filters":
                allowed = allowed_keys["filters"]
            else:
                allowed = allowed_keys["criterion"]
            lines.append(f"{path}: unknown key (a typo?); allowed keys here: {', '.join(allowed)}")
            continue
        if kind == "missing":
            lines.append(f"{path}: required key is missing")
            continue
        if kind == "value_error":
            # our own messages already show the bad value; one line per problem
            for line in msg.split("\n"):
                if not loc:
                    lines.append(line)
                elif line.startswith(("[", ".")):
                    lines.append(f"{path}{line}")
                else:
                    lines.append(f"{path}: {line}")
            continue
        shown = repr(err.get("input"))
        if len(shown) > 100:
            shown = shown[:97] + "..."
        lines.append(f"{path}: {msg} (got {shown})")
    body = "\n".join(f"  - {line}" for line in lines)
    return f"{source}: {len(lines)} problem(s) in the scoring configuration:\n{body}"
