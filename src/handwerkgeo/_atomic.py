"""Atomic file helpers: write to a temporary file in the target's directory, fsync, replace.

A reader (or a crash at any moment) sees either the old file or the new one, never a half
written file: :func:`os.replace` is atomic on POSIX and Windows when source and target are
on the same file system, which holds because the temporary file lives beside the target.
Temporary files are named ``.<target name>.tmp-<pid>-<random><suffix>`` so that
:func:`clean_stale_temps` can remove the leftovers of a killed process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from handwerkgeo.errors import OutputPathError

__all__ = [
    "atomic_replace_file",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_file",
    "clean_stale_temps",
    "fsync_dir",
    "fsync_file",
    "temp_path_beside",
]

logger = logging.getLogger(__name__)

#: Files SQLite may create beside a database while it is open.
_SQLITE_SIDECARS = ("-journal", "-wal", "-shm")


def temp_path_beside(target: str | os.PathLike[str], *, suffix: str | None = None) -> Path:
    """Return an unused temporary path in the directory of ``target``.

    Parameters
    ----------
    target
        The file that will eventually be replaced.
    suffix
        File suffix of the temporary file; default the suffix of ``target`` (GDAL picks the
        driver from it, so a GeoPackage temp file must end in ``.gpkg``).

    Examples
    --------
    >>> p = temp_path_beside("/tmp/reg.gpkg")
    >>> p.name.startswith(".reg.gpkg.tmp-"), p.suffix
    (True, '.gpkg')
    """
    target = Path(target)
    suffix = target.suffix if suffix is None else suffix
    token = secrets.token_hex(4)
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{token}{suffix}")


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file's content to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory entry (after a rename) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _writable(path: Path) -> bool:
    mode = path.stat().st_mode
    return bool(mode & 0o222) and os.access(path, os.W_OK)


def check_output_file(
    path: str | os.PathLike[str], *, suffixes: tuple[str, ...] = (), option: str = "--out"
) -> Path:
    """Refuse an output path that cannot be written, before any work is done.

    Checks the file ending (when ``suffixes`` are given), that ``path`` is not a folder,
    that its nearest existing parent is a folder and writable (a missing folder is created
    by the writers), and that an existing file is not read-only. Write permission is judged
    by the mode bits too: a file or folder without any write bit is read-only even for
    an administrator.

    Raises
    ------
    OutputPathError
        Naming the option, the path, what is wrong and the fix.

    Examples
    --------
    >>> import tempfile
    >>> check_output_file(tempfile.mkdtemp(), suffixes=(".gpkg",))
    Traceback (most recent call last):
    ...
    handwerkgeo.errors.OutputPathError: --out ... is a folder; give a file name ending in .gpkg inside it, e.g. .../result.gpkg
    """  # noqa: E501
    p = Path(path)
    ending = "/".join(suffixes)
    if p.is_dir():
        name = f"result{suffixes[0]}" if suffixes else "result"
        msg = (
            f"{option} {p} is a folder; give a file name"
            f"{f' ending in {ending}' if ending else ''} inside it, e.g. {p / name}"
        )
        raise OutputPathError(msg)
    if suffixes and p.suffix.lower() not in suffixes:
        msg = f"{option} must end in {ending}, not {p.name!r}"
        raise OutputPathError(msg)
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        msg = f"{option} {p}: {parent} is a file, not a folder; choose another path"
        raise OutputPathError(msg)
    if not _writable(parent):
        msg = (
            f"{option} {p}: the folder {parent} is not writable; choose a writable folder "
            f"or make it writable (chmod u+w {parent})"
        )
        raise OutputPathError(msg)
    if p.is_file() and not _writable(p):
        msg = f"{option} {p} exists and is read-only; choose another name or make it writable"
        raise OutputPathError(msg)
    return p


def _remove_with_sidecars(path: Path) -> None:
    for p in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDECARS)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file beside it, fsync, replace).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "a.bin", b"xyz").read_bytes()
    b'xyz'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_beside(path)
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove_with_sidecars(tmp)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; see :func:`atomic_write_bytes`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.txt", "Grüße").read_text(encoding="utf-8")
    'Grüße'
    """
    return atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_replace_file(
    target: str | os.PathLike[str],
    *,
    copy_existing: bool = True,
) -> Iterator[Path]:
    """Build a new version of ``target`` in a temporary copy, then replace it atomically.

    On entry ``target`` is copied (when it exists and ``copy_existing``) to a temporary file
    in the same directory, whose path is yielded. The caller modifies that copy (e.g. adds
    rows to a GeoPackage with pyogrio). When the block ends without an exception the copy is
    fsynced and moved over ``target`` with :func:`os.replace`, and the directory is fsynced.
    On an exception the copy (and any SQLite journal beside it) is deleted and ``target`` is
    untouched. A process killed inside the block leaves ``target`` as it was and a stale
    temporary file, removed by :func:`clean_stale_temps`.

    Parameters
    ----------
    target
        The file to replace.
    copy_existing
        Start from a copy of ``target``; ``False`` starts from no file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = atomic_write_text(d / "f.txt", "old")
    >>> with atomic_replace_file(d / "f.txt") as tmp:
    ...     _ = tmp.write_text(tmp.read_text() + " and new")
    >>> (d / "f.txt").read_text()
    'old and new'
    """
    target = Path(target)
    tmp = temp_path_beside(target)
    try:
        if copy_existing and target.exists():
            shutil.copyfile(target, tmp)
            shutil.copymode(target, tmp)  # the new version keeps the old one's permissions
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        _remove_with_sidecars(tmp)
        raise


def clean_stale_temps(target: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files of ``target`` left behind by killed processes.

    Call this only while holding the writer's lock: a running writer's temporary file has
    the same name pattern.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    target = Path(target)
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for p in target.parent.glob(f".{target.name}.tmp-*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        removed.append(p)
    if removed:
        logger.info("removed %d stale temporary file(s) of %s", len(removed), target)
    return removed
