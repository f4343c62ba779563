"""Errors raised by handwerkgeo.

Every error derives from :class:`HandwerkgeoError` *and* from the matching built-in
exception, so ``except ValueError`` keeps working for callers that do not know this
package. Messages name the input, what was expected, what was found, and the fix.

Which class to raise
--------------------
class                      also a                 for
=========================  =====================  ==========================================
``NoCrsError``             ``ValueError``         input without a CRS
``UnexpectedCrsError``     ``ValueError``         input in another CRS than EPSG:25832
``OutsideAreaError``       ``ValueError``         coordinates outside Düsseldorf
``MissingColumnError``     ``KeyError``           a required column is missing
``InvalidGeometryError``   ``ValueError``         missing, empty, invalid geometries
``DuplicateIdError``       ``ValueError``         ids that must be unique are not
``ValidationError``        ``ValueError``         several problems of one input, listed
``EncodingError``          ``UnicodeError``       a text file no supported encoding reads
``ConfigError``            ``ValueError``         a scoring configuration is invalid
``OptionError``            ``ValueError``,        an unknown option or a wrongly typed
                           ``TypeError``          options value
``OptionError``                 ``ValueError``,   an unknown option or a wrongly typed
                                ``TypeError``     options value
``ParameterError``         ``ValueError``         a function argument has a bad value
``ArgumentTypeError``      ``TypeError``          a function argument has the wrong type
``OutputPathError``        ``ValueError``         an output path cannot be used
``UsageError``             ``ValueError``         options that contradict each other
``DataSourceError``        ``OSError``            a data file is missing, corrupt, offline
``RegisterError``          ``RuntimeError``       the site register cannot do this now
``RegisterLockedError``    ``RuntimeError``       another process writes the register
``StaleRegisterError``     ``RuntimeError``       config or data changed since the last run
``AmbiguousColumnError``   ``ValueError``         two input columns fit one meaning
=========================  =====================  ==========================================
=======
==============================  ================  =========================================
class                           also a            for
==============================  ================  =========================================
``NoCrsError``                  ``ValueError``    input without a CRS
``UnexpectedCrsError``          ``ValueError``    input in another CRS than EPSG:25832
``OutsideAreaError``            ``ValueError``    coordinates outside Düsseldorf
``MissingColumnError``          ``KeyError``      a required column is missing
``InvalidGeometryError``        ``ValueError``    missing, empty, invalid geometries
``DuplicateIdError``            ``ValueError``    ids that must be unique are not
``ValidationError``             ``ValueError``    several problems of one input, listed
``EncodingError``               ``UnicodeError``  a text file no supported encoding reads
``ConfigError``                 ``ValueError``    a scoring configuration is invalid
``OptionError``                 ``ValueError``,   an unknown option or a wrongly typed
                                ``TypeError``     options value
``ParameterError``              ``ValueError``    a function argument has a bad value
``ArgumentTypeError``           ``TypeError``     a function argument has the wrong type
``OutputPathError``             ``ValueError``    an output path cannot be used
``UsageError``                  ``ValueError``    options that contradict each other
``DataSourceError``             ``OSError``       a data file is missing, corrupt, offline
``RegisterError``               ``RuntimeError``  the site register cannot do this now
``RegisterLockedError``         ``RuntimeError``  another process writes the register
``StaleRegisterError``          ``RuntimeError``  config or data changed since the last run
``RegisterReadOnlyError``       ``RuntimeError``  register file or its folder is read-only
``RegisterFolderMissingError``  ``RuntimeError``  the register's folder does not exist
``RegisterDiskFullError``       ``RuntimeError``  no space left to write the register
``RegisterLayoutError``         ``RuntimeError``  register of an older layout: migrate it
``AllRowsRejectedError``        ``ValueError``    no row of a listing can be used
``InputFileError``              ``ValueError``    an input file is corrupt or encrypted
``AmbiguousColumnError``        ``ValueError``    two input columns fit one meaning
==============================  ================  =========================================

The command-line interface turns every :class:`HandwerkgeoError` into one message and
exit code 1, :class:`UsageError` into exit code 2 (see ``handwerkgeo --help``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AllRowsRejectedError",
    "AmbiguousColumnError",
    "ArgumentTypeError",
    "ConfigError",
    "DataSourceError",
    "DuplicateIdError",
    "EncodingError",
    "HandwerkgeoError",
    "InputFileError",
    "InvalidGeometryError",
    "MissingColumnError",
    "NoCrsError",
    "OptionError",
    "OutputPathError",
    "OutsideAreaError",
    "ParameterError",
    "RegisterDiskFullError",
    "RegisterError",
    "RegisterFolderMissingError",
    "RegisterLayoutError",
    "RegisterLockedError",
    "RegisterReadOnlyError",
    "StaleRegisterError",
    "UnexpectedCrsError",
    "UsageError",
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


class ParameterError(HandwerkgeoError, ValueError):
    """A function argument has a value outside what is allowed (e.g. a negative distance)."""


class ArgumentTypeError(HandwerkgeoError, TypeError):
    """A function argument has the wrong type (e.g. a DataFrame where a GeoDataFrame is needed)."""


class AmbiguousColumnError(HandwerkgeoError, ValueError):
    """Two input columns could both be the same canonical column (name both)."""


class OptionError(ConfigError, TypeError):
    """An option that does not exist, or an options value of the wrong type.

    Both a :class:`ConfigError` (a ``ValueError``) and a ``TypeError``, as Python raises
    for an unknown keyword argument.
    """


class OutputPathError(HandwerkgeoError, ValueError):
    """An output path cannot be used: wrong file ending, or a folder where a file is needed."""


class UsageError(HandwerkgeoError, ValueError):
    """A command or function was called with options that contradict each other.

    The command-line interface exits with code 2 for it, as for an unknown option.
    """


class RegisterError(HandwerkgeoError, RuntimeError):
    """The site register cannot do what was asked in its current state."""


class RegisterLockedError(RegisterError):
    """Another process is writing the site register."""


class StaleRegisterError(RegisterError):
    """The configuration or the data changed since the register's latest run.

    Adding plots incrementally would mix scores of two configurations; re-score first.
    """


class RegisterReadOnlyError(RegisterError):
    """The site register, or the folder it is in, cannot be written (read-only)."""


class RegisterFolderMissingError(RegisterError):
    """The folder of the site register does not exist (a typo in the path?)."""


class RegisterDiskFullError(RegisterError):
    """No space left on the device of the site register; the register is unchanged."""


class RegisterLayoutError(RegisterError):
    """The site register was written in another layout (older or newer handwerkgeo)."""


class InputFileError(HandwerkgeoError, ValueError):
    """An input file cannot be opened: corrupt (e.g. a truncated workbook) or encrypted."""


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


class AllRowsRejectedError(ValidationError):
    """No row of a listing can be used; every row is listed with its reason in ``rejects``."""
