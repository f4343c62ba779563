"""Errors raised by handwerkgeo.

Every error derives from :class:`HandwerkgeoError` *and* from the matching built-in
exception, so ``except ValueError`` keeps working for callers that do not know this
package. Messages name the input, what was expected, what was found, and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ConfigError",
    "DataSourceError",
    "DuplicateIdError",
    "EncodingError",
    "HandwerkgeoError",
    "InvalidGeometryError",
    "MissingColumnError",
    "NoCrsError",
    "OutsideAreaError",
    "RegisterLockedError",
    "UnexpectedCrsError",
    "ValidationError",
]


class HandwerkgeoError(Exception):
    """Base class of every error raised on purpose by handwerkgeo."""


class NoCrsError(HandwerkgeoError, ValueError):
    """An input has no coordinate reference system and none was given with ``crs=``."""


class UnexpectedCrsError(HandwerkgeoError, ValueError):
    """An input is in a different CRS than the analysis expects (EPSG:25832)."""


class OutsideAreaError(HandwerkgeoError, ValueError):
    """Coordinates fall outside Düsseldorf after reprojection (e.g. swapped lon/lat)."""


class MissingColumnError(HandwerkgeoError, KeyError):
    """A required column is missing from an input table."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class InvalidGeometryError(HandwerkgeoError, ValueError):
    """Geometries are invalid, empty or of the wrong type."""


class DuplicateIdError(HandwerkgeoError, ValueError):
    """Identifiers that must be unique occur more than once."""


class EncodingError(HandwerkgeoError, UnicodeError):
    """A text file cannot be decoded in any supported encoding."""


class ConfigError(HandwerkgeoError, ValueError):
    """A scoring configuration is invalid: names the key, the bad value and what is allowed."""


class DataSourceError(HandwerkgeoError, OSError):
    """A data source is missing, corrupt or unreachable."""


class RegisterLockedError(HandwerkgeoError, RuntimeError):
    """Another process is writing the site register."""


class ValidationError(HandwerkgeoError, ValueError):
    """An input has one or more problems; all of them are listed together.

    Parameters
    ----------
    name
        What was validated (a file name or a description).
    problems
        One human-readable line per problem, each saying what to fix.
    rejects
        Optional table of the rows that cannot be used, with a ``reason`` column.
    """

    def __init__(
        self,
        name: str,
        problems: Sequence[str],
        rejects: Any = None,
    ) -> None:
        self.name = name
        self.problems = list(problems)
        self.rejects = rejects
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{name}: {len(self.problems)} problem(s) found:\n{lines}")
