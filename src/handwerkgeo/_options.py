"""Options objects: many keyword options as one frozen dataclass, old keyword calls kept.

Public functions with many options take ``options=`` (a frozen dataclass) and still accept
the options as keywords (``export_map(scored, path, top_n=5)``); :func:`merge_options`
maps those keywords onto the dataclass and names any unknown one. For type checkers and
IDEs the keywords are declared by a ``TypedDict`` beside each dataclass (``**kwargs:
Unpack[MapKwargs]``); a test checks that both list the same fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeVar

from handwerkgeo.errors import OptionError

__all__ = ["merge_options"]

T = TypeVar("T")


def merge_options(cls: type[T], options: T | None, kwargs: Mapping[str, object], *, func: str) -> T:
    """``options`` (default ``cls()``) with the fields given in ``kwargs`` replaced.

    Raises
    ------
    ConfigError
        Naming every keyword that is not a field of ``cls`` and the fields there are.

    Examples
    --------
    >>> @dataclasses.dataclass(frozen=True)
    ... class Opts:
    ...     top_n: int = 10
    ...     lang: str = "de"
    >>> merge_options(Opts, None, {"top_n": 3}, func="f")
    Opts(top_n=3, lang='de')
    >>> merge_options(Opts, Opts(lang="en"), {"colour": "red"}, func="f")
    Traceback (most recent call last):
    ...
    handwerkgeo.errors.OptionError: f() got unknown option(s) colour; known options: top_n, lang
    """
    if not dataclasses.is_dataclass(cls):  # pragma: no cover - programming error
        msg = f"{cls!r} is not a dataclass"
        raise OptionError(msg)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        msg = (
            f"{func}() got unknown option(s) {', '.join(unknown)}; "
            f"known options: {', '.join(names)}"
        )
        raise OptionError(msg)
    base = cls() if options is None else options
    if not isinstance(base, cls):
        msg = f"{func}(): options must be a {cls.__name__}, not {type(base).__name__}"
        raise OptionError(msg)
    return dataclasses.replace(base, **kwargs) if kwargs else base
