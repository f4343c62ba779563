"""The site register's file system edges: real path, writable, enough space.

A register is written in place in one SQLite transaction (its rollback journal beside it),
with a lock file beside it; only its creation builds a new file and moves it into place. So
before the lock is taken and any work is done, :func:`check_writable` makes sure that the
folder exists and is writable, that the register file is not marked read-only, and that
there is room for the run; :func:`disk_full_guard` turns a full disk during the write into
:class:`~handwerkgeo.errors.RegisterDiskFullError` (the transaction is rolled back: the
register is unchanged).

Permissions are judged by the mode bits as well as by :func:`os.access`: an administrator
(root) may write anything, but a file or folder without any write bit has been made
read-only on purpose and is not replaced.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

from handwerkgeo.errors import (
    RegisterDiskFullError,
    RegisterFolderMissingError,
    RegisterReadOnlyError,
)

__all__ = ["check_writable", "disk_full_guard", "is_disk_full", "real_path", "space_needed"]

#: Room kept free for a run's new pages, its rollback journal and its change report.
_MARGIN = 1 << 20
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_FULL_TEXTS = ("no space left", "disk is full", "disk full", "quota exceeded")


def real_path(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute with every symlink followed (also a link to a new file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "real.gpkg").touch(); (d / "link.gpkg").symlink_to(d / "real.gpkg")
    >>> real_path(d / "link.gpkg") == (d / "real.gpkg").resolve()
    True
    """
    return Path(os.path.realpath(os.fspath(path)))


def _read_only(path: Path) -> bool:
    mode = path.stat().st_mode
    no_bits = not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    return no_bits or not os.access(path, os.W_OK)


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows
        return False


def space_needed(path: Path) -> int:
    """Bytes a run on the register at ``path`` needs free: a margin for the pages it adds and
    the rollback journal of the pages it changes (a run writes in place, no copy)."""
    size = path.stat().st_size if path.is_file() else 0
    return size // 20 + _MARGIN


def check_writable(path: Path) -> None:
    """Refuse before any work when the register at ``path`` (a real path) cannot be written.

    Raises
    ------
    RegisterFolderMissingError
        The folder does not exist.
    RegisterReadOnlyError
        The folder or the register file is read-only (or on a read-only file system).
    RegisterDiskFullError
        Less free space than :func:`space_needed`.
    """
    folder = path.parent
    if not folder.is_dir():
        msg = (
            f"the folder {folder} of the site register {path.name} does not exist. Check "
            f"the path, or create the folder first (mkdir -p {folder}) and run again."
        )
        raise RegisterFolderMissingError(msg)
    if _read_only_fs(folder) or _read_only(folder):
        msg = (
            f"the folder {folder} of the site register {path.name} is read-only: a run "
            "writes its journal and a lock file in that folder. Make the "
            f"folder writable (chmod u+w {folder}) or move the register to a writable "
            "folder and pass that path with --register. Nothing was changed."
        )
        raise RegisterReadOnlyError(msg)
    if path.is_file() and _read_only(path):
        mode = stat.S_IMODE(path.stat().st_mode)
        msg = (
            f"the site register {path} is read-only (mode {mode:04o}); it is not replaced. "
            f"Make it writable (chmod u+w {path}) if it should be updated, or copy it and "
            "pass the copy with --register. Nothing was changed."
        )
        raise RegisterReadOnlyError(msg)
    free = shutil.disk_usage(folder).free
    need = space_needed(path)
    if free < need:
        raise RegisterDiskFullError(_full_message(path, free, need))


def _full_message(path: Path, free: int, need: int) -> str:
    return (
        f"not enough space left on the device of the site register {path}: "
        f"{free / 1e6:.1f} MB free, a run needs about {need / 1e6:.1f} MB (for the run's "
        "new rows and its rollback journal). Free some space, or move the register "
        "to another disk and pass that path with --register; the register is unchanged."
    )


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) says the disk or quota is full."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
            return True
        if isinstance(e, sqlite3.OperationalError | OSError) or type(e).__module__.startswith(
            "pyogrio"
        ):
            text = str(e).lower()
            if any(t in text for t in _FULL_TEXTS):
                return True
        e = e.__cause__ or e.__context__
    return False


@contextlib.contextmanager
def disk_full_guard(path: Path) -> Iterator[None]:
    """Turn a full disk while writing the register at ``path`` into RegisterDiskFullError.

    GDAL does not always say "no space left": when a write fails and less than
    :func:`space_needed` is free afterwards, the failure is taken for a full disk too.
    """
    need = space_needed(path)
    try:
        yield
    except RegisterDiskFullError:
        raise
    except Exception as exc:
        free = shutil.disk_usage(path.parent).free
        if is_disk_full(exc) or free < need:
            raise RegisterDiskFullError(_full_message(path, free, need)) from exc
        raise
