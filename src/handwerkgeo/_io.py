"""One clock and one file checksum for every module that records when and what it read.

Atomic writes live in :mod:`handwerkgeo._atomic`; this module holds the two other small
helpers of file bookkeeping, so that the register, the data fetcher and the scoring run
information agree on the format of a timestamp and of a checksum.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Literal

__all__ = ["file_sha256", "now_iso", "to_iso"]

Timespec = Literal["seconds", "milliseconds"]


def to_iso(moment: dt.datetime, *, timespec: Timespec = "seconds") -> str:
    """``moment`` in UTC as ISO 8601 with a ``Z`` suffix.

    Examples
    --------
    >>> to_iso(dt.datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=dt.UTC))
    '2026-01-02T03:04:05Z'
    >>> to_iso(dt.datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=dt.UTC), timespec="milliseconds")
    '2026-01-02T03:04:05.678Z'
    """
    return moment.astimezone(dt.UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def now_iso(*, timespec: Timespec = "seconds") -> str:
    """The current time in UTC as ISO 8601 with a ``Z`` suffix (see :func:`to_iso`).

    Examples
    --------
    >>> s = now_iso(timespec="milliseconds")
    >>> s.endswith("Z"), len(s)
    (True, 24)
    """
    return to_iso(dt.datetime.now(dt.UTC), timespec=timespec)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's content as hex (:func:`hashlib.file_digest`, read in chunks).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
