"""Runtime options: where data lives. No side effects on import.

The data directory is, in order: the ``data_dir`` argument, the environment variable
``HANDWERKGEO_DATA_DIR``, or ``./data`` in the current working directory. Raw files are in
``<data_dir>/raw``, derived files in ``<data_dir>/processed``. The data mirror (a local copy
of the public sources) is ``HANDWERKGEO_DATA_MIRROR``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "mirror_dir", "processed_dir", "raw_dir"]


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory (see module docstring)."""
    if path is not None:
        return Path(path)
    env = os.environ.get("HANDWERKGEO_DATA_DIR")
    return Path(env) if env else Path.cwd() / "data"


def raw_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Directory of fetched raw source files."""
    return data_dir(path) / "raw"


def processed_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Directory of derived files (caches)."""
    return data_dir(path) / "processed"


def mirror_dir(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The data mirror given as ``path`` or ``HANDWERKGEO_DATA_MIRROR``, or ``None``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("HANDWERKGEO_DATA_MIRROR")
    return Path(env) if env else None
