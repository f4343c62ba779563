"""Source manifest, fetching from the data mirror or the public URLs, checksums, provenance.

Every public data layer the toolkit reads is listed in the manifest
``handwerkgeo/data/sources.yaml`` (:mod:`handwerkgeo.manifest`) with its publisher, licence,
attribution, public location and the sha256 of each file. :func:`fetch` copies each file from
a local mirror of the public sources (``mirror=`` or ``HANDWERKGEO_DATA_MIRROR``) or downloads
it from its URL, verifies the checksum and moves it atomically to ``<data_dir>/raw/<path>``.
What was fetched, from where, when and under which licence is recorded in
``<data_dir>/raw/provenance.json``.

Readers find the fetched files with :func:`layer_paths`; :func:`layer_info` summarises them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import IO, Any

import pandas as pd
from filelock import FileLock, Timeout

from handwerkgeo import settings
from handwerkgeo._atomic import atomic_replace_file, atomic_write_text
from handwerkgeo._io import file_sha256, now_iso, to_iso
from handwerkgeo.errors import DataSourceError
from handwerkgeo.manifest import FileEntry, Layer, Manifest, load_manifest

__all__ = [
    "PROVENANCE_FILE",
    "FileEntry",
    "Layer",
    "Manifest",
    "fetch",
    "layer_info",
    "layer_paths",
    "load_manifest",
    "read_provenance",
]

logger = logging.getLogger(__name__)

#: Name of the provenance record inside ``<data_dir>/raw``.
PROVENANCE_FILE = "provenance.json"

_CHUNK = 1 << 16
_USER_AGENT = "handwerkgeo-data-fetch"
_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml"}


# --- provenance ---------------------------------------------------------------------------


def read_provenance(data_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Return the provenance record of ``<data_dir>/raw`` (empty when nothing was fetched).

    The record is ``{"files": {<relative path>: {layer, source, source_type, licence,
    attribution, retrieved_at, sha256, bytes}}, "updated_at": ...}``.
    """
    path = settings.raw_dir(data_dir) / PROVENANCE_FILE
    if not path.is_file():
        return {"files": {}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        msg = (
            f"the provenance record {path} cannot be read ({exc}). Delete it and run "
            "`handwerkgeo data fetch --force` to fetch and record every file again."
        )
        raise DataSourceError(msg) from exc
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        msg = f"the provenance record {path} has no 'files' mapping; delete it and fetch again"
        raise DataSourceError(msg)
    return record


# --- copying and downloading --------------------------------------------------------------


def _stream(src: IO[bytes], dst: IO[bytes], *, expected_bytes: int | None) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    for chunk in iter(lambda: src.read(_CHUNK), b""):
        dst.write(chunk)
        h.update(chunk)
        n += len(chunk)
    if expected_bytes is not None and n != expected_bytes:
        msg = f"transfer interrupted after {n} of {expected_bytes} bytes"
        raise OSError(msg)
    return h.hexdigest(), n


def _where_to_put(layer: Layer, entry: FileEntry, target: Path) -> str:
    return (
        f"Download it by hand from {layer.landing_page} (dataset {layer.title!r}), save it as "
        f"{target} and run `handwerkgeo data fetch` again (it verifies the checksum), or give "
        "a data mirror with --mirror DIR / HANDWERKGEO_DATA_MIRROR."
    )


def _transfer(
    layer: Layer, entry: FileEntry, target: Path, source: str, *, is_url: bool, timeout_s: float
) -> tuple[str, int]:
    """Copy or download ``source`` to ``target`` via a checked temporary file.

    The file is written beside ``target`` and moved over it only when its checksum is right
    (:func:`handwerkgeo._atomic.atomic_replace_file`); on any error nothing is written.
    """
    what = f"layer {layer.name!r}, file {entry.path}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_replace_file(target, copy_existing=False) as tmp:
        try:
            with tmp.open("wb") as fh:
                if is_url:
                    request = urllib.request.Request(source, headers={"User-Agent": _USER_AGENT})
                    with urllib.request.urlopen(request, timeout=timeout_s) as resp:
                        length = resp.headers.get("Content-Length")
                        expected = int(length) if length and length.isdigit() else None
                        digest, nbytes = _stream(resp, fh, expected_bytes=expected)
                else:
                    with open(source, "rb") as src:
                        digest, nbytes = _stream(src, fh, expected_bytes=None)
        except urllib.error.HTTPError as exc:
            msg = (
                f"{what}: download from {source} failed with HTTP {exc.code} {exc.reason}. "
                + _where_to_put(layer, entry, target)
            )
            raise DataSourceError(msg) from exc
        except (OSError, ValueError) as exc:
            # URLError, timeouts, refused connections, IncompleteRead, short transfers
            verb = "download from" if is_url else "copy from"
            msg = (
                f"{what}: {verb} {source} failed ({type(exc).__name__}: {exc}); nothing was "
                "written. "
                + (
                    _where_to_put(layer, entry, target)
                    if is_url
                    else "Check that the mirror is readable and try again."
                )
            )
            raise DataSourceError(msg) from exc
        if digest != entry.sha256:
            msg = (
                f"{what}: checksum mismatch for {source}: expected sha256 {entry.sha256}, got "
                f"{digest} ({nbytes} bytes). Nothing was written. The source file differs from "
                "the one this version of handwerkgeo was checked against (a newer release or a "
                "corrupted copy); get the published file from "
                f"{layer.landing_page}, or update the manifest only after checking the new file."
            )
            raise DataSourceError(msg)
    return digest, nbytes


def _fetch_one(
    layer: Layer,
    entry: FileEntry,
    *,
    raw: Path,
    mirror: Path | None,
    force: bool,
    timeout_s: float,
    previous: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Fetch one file. Returns (result, new provenance record or None if unchanged)."""
    target = raw / PurePosixPath(entry.path)
    if not force and target.is_file():
        digest = file_sha256(target)
        if digest == entry.sha256:
            stat = target.stat()
            result: dict[str, Any] = {
                "layer": layer.name,
                "path": entry.path,
                "target": str(target),
                "action": "up to date",
                "sha256": digest,
                "bytes": stat.st_size,
            }
            if previous is not None and previous.get("sha256") == digest:
                result["source"] = previous.get("source")
                return result, None
            # placed by hand (e.g. downloaded from the landing page): record it now
            mtime = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
            record = _record(
                layer,
                source=str(target),
                source_type="manual",
                digest=digest,
                nbytes=stat.st_size,
                retrieved_at=to_iso(mtime),
            )
            result["source"] = str(target)
            return result, record
        logger.info("%s has sha256 %s, expected %s: fetching again", target, digest, entry.sha256)

    if mirror is not None:
        source_path = mirror / PurePosixPath(entry.path)
        if not source_path.is_file():
            msg = (
                f"layer {layer.name!r}: file {entry.path} is missing from the data mirror "
                f"{mirror} (looked for {source_path}). Check the mirror path (--mirror / "
                "HANDWERKGEO_DATA_MIRROR), or fetch without a mirror to download from "
                f"{layer.download_url(entry) or layer.landing_page}."
            )
            raise DataSourceError(msg)
        digest, nbytes = _transfer(
            layer, entry, target, str(source_path), is_url=False, timeout_s=timeout_s
        )
        action, source, source_type = "copied", str(source_path), "mirror"
    else:
        url = layer.download_url(entry)
        if url is None:
            msg = (
                f"layer {layer.name!r}: file {entry.path} has no direct download address; "
                f"only the landing page {layer.landing_page} is known. "
                + _where_to_put(layer, entry, target)
            )
            raise DataSourceError(msg)
        digest, nbytes = _transfer(layer, entry, target, url, is_url=True, timeout_s=timeout_s)
        action, source, source_type = "downloaded", url, "url"

    record = _record(
        layer,
        source=source,
        source_type=source_type,
        digest=digest,
        nbytes=nbytes,
        retrieved_at=now_iso(),
    )
    result = {
        "layer": layer.name,
        "path": entry.path,
        "target": str(target),
        "action": action,
        "source": source,
        "sha256": digest,
        "bytes": nbytes,
    }
    return result, record


def _record(
    layer: Layer, *, source: str, source_type: str, digest: str, nbytes: int, retrieved_at: str
) -> dict[str, Any]:
    return {
        "layer": layer.name,
        "title": layer.title,
        "publisher": layer.publisher,
        "source": source,
        "source_type": source_type,
        "landing_page": layer.landing_page,
        "licence": layer.licence,
        "licence_url": layer.licence_url,
        "attribution": layer.attribution,
        "retrieved_at": retrieved_at,
        "sha256": digest,
        "bytes": nbytes,
    }


def _select(manifest: Manifest, layers: Iterable[str] | None) -> list[Layer]:
    if layers is None:
        return list(manifest.layers.values())
    names = list(dict.fromkeys(layers))
    return [manifest.layer(n) for n in names]


def fetch(
    *,
    mirror: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    layers: Iterable[str] | None = None,
    force: bool = False,
    timeout_s: float = 60,
    manifest: Manifest | str | os.PathLike[str] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Fetch the files of the source manifest into ``<data_dir>/raw`` and record provenance.

    Each file is copied from the mirror (if one is given or ``HANDWERKGEO_DATA_MIRROR`` is
    set) or downloaded from its URL into a temporary file beside the target, its sha256 is
    verified, and only then is it moved into place. A file already present with the right
    checksum is left alone unless ``force``. Failures do not stop the other files; after all
    files were tried, one :class:`DataSourceError` lists every failure.

    Parameters
    ----------
    mirror
        Local mirror of the public sources (same relative paths as the manifest). ``None``
        uses ``HANDWERKGEO_DATA_MIRROR``, and without it the public URLs.
    data_dir
        Data directory (see :mod:`handwerkgeo.settings`); files go to ``<data_dir>/raw``.
    layers
        Names of the layers to fetch; ``None`` fetches all.
    force
        Fetch again even when a file with the right checksum is present.
    timeout_s
        Network timeout per download, seconds.
    manifest
        A :class:`Manifest` or a manifest file; ``None`` uses the shipped manifest.
    progress
        Called with each file's result as soon as it is done.

    Returns
    -------
    list of dict
        One dict per file: ``layer``, ``path`` (relative), ``target``, ``action``
        (``"copied"``, ``"downloaded"`` or ``"up to date"``), ``source``, ``sha256``, ``bytes``.

    Raises
    ------
    DataSourceError
        Naming for each failed file the layer, the file, the cause and what to do.

    Examples
    --------
    >>> out = fetch(mirror="../shared/data/duesseldorf", layers=["schools"])  # doctest: +SKIP
    >>> [(r["action"], r["path"]) for r in out]  # doctest: +SKIP
    [('copied', 'schulen/schulen.csv')]
    """
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    selected = _select(man, layers)
    mirror_path = settings.mirror_dir(mirror)
    if mirror_path is not None and not mirror_path.is_dir():
        msg = (
            f"the data mirror {mirror_path} does not exist or is not a directory. Give the "
            "right path with --mirror DIR or HANDWERKGEO_DATA_MIRROR, or unset it to download "
            "from the public sources."
        )
        raise DataSourceError(msg)
    raw = settings.raw_dir(data_dir)
    raw.mkdir(parents=True, exist_ok=True)

    results: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = FileLock(str(raw / ".fetch.lock"), timeout=600)
    try:
        lock.acquire()
    except Timeout as exc:
        msg = (
            f"another `handwerkgeo data fetch` has been writing to {raw} for 10 minutes; wait "
            f"for it to finish, or delete {raw / '.fetch.lock'} if no fetch is running"
        )
        raise DataSourceError(msg) from exc
    with contextlib.ExitStack() as stack:
        stack.callback(lock.release)
        provenance = read_provenance(data_dir)
        files: dict[str, Any] = dict(provenance.get("files", {}))
        changed = False
        for layer in selected:
            for entry in layer.files:
                try:
                    result, record = _fetch_one(
                        layer,
                        entry,
                        raw=raw,
                        mirror=mirror_path,
                        force=force,
                        timeout_s=timeout_s,
                        previous=files.get(entry.path),
                    )
                except DataSourceError as exc:
                    logger.debug("fetch failed: %s", exc)
                    errors.append(str(exc))
                    continue
                logger.info("%s %s (%s)", result["action"], entry.path, layer.name)
                results.append(result)
                if record is not None:
                    files[entry.path] = record
                    changed = True
                if progress is not None:
                    progress(result)
        if changed:
            record_all = {"updated_at": now_iso(), "files": dict(sorted(files.items()))}
            atomic_write_text(
                raw / PROVENANCE_FILE, json.dumps(record_all, indent=2, ensure_ascii=False) + "\n"
            )
    if errors:
        if len(errors) == 1:
            raise DataSourceError(errors[0])
        lines = "\n".join(f"  - {e}" for e in errors)
        msg = f"{len(errors)} file(s) could not be fetched:\n{lines}"
        raise DataSourceError(msg)
    return results


# --- finding and describing fetched layers -------------------------------------------------


def layer_paths(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    manifest: Manifest | None = None,
) -> list[Path]:
    """Return the fetched files of layer ``name`` (in manifest order).

    Raises
    ------
    DataSourceError
        If the layer is unknown or any of its files has not been fetched.

    Examples
    --------
    >>> layer_paths("stadtteile")  # doctest: +SKIP
    [PosixPath('data/raw/grenzen/Stadtteilgrenzen_Duesseldorf_2021_ETRS89.geojson')]
    """
    man = manifest or load_manifest()
    layer = man.layer(name)
    raw = settings.raw_dir(data_dir)
    paths = [raw / PurePosixPath(e.path) for e in layer.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        listed = ", ".join(str(p) for p in missing)
        msg = (
            f"data layer {name!r} has not been fetched: missing {listed}. Run "
            f"`handwerkgeo data fetch --layer {name}` (with --data-dir {raw.parent} if that is "
            "not your default data directory), or pass the file path explicitly."
        )
        raise DataSourceError(msg)
    return paths


def _count_and_crs(path: Path, entry: FileEntry) -> tuple[int, str]:
    suffix = path.suffix.lower()
    if entry.records is not None:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = data.get(entry.records) if isinstance(data, dict) else None
        if not isinstance(records, list):
            msg = f"{path}: expected a JSON list under key {entry.records!r}"
            raise DataSourceError(msg)
        return len(records), ""
    if suffix in _VECTOR_SUFFIXES:
        import pyogrio

        info = pyogrio.read_info(path)
        return int(info["features"]), str(info["crs"] or "")
    if suffix in {".csv", ".txt"}:
        with path.open("rb") as fh:
            lines = [ln for ln in fh if ln.strip()]
        return max(len(lines) - 1, 0), ""
    if suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return sum(int(ws.max_row or 0) for ws in wb.worksheets), ""
        finally:
            wb.close()
    return 0, ""


def layer_info(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    manifest: Manifest | None = None,
) -> pd.DataFrame:
    """Summarise every layer of the manifest and what has been fetched of it.

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``name``, ``files`` (number in the manifest), ``fetched`` (number
        present in ``<data_dir>/raw``), ``features`` (vector features as read by
        ``pyogrio.read_info``; data rows of CSV/JSON tables; sheet rows of workbooks; ``<NA>``
        when not fetched), ``crs`` (as read from the files; a declared CRS of coordinate
        tables is marked "declared"), ``licence``, ``attribution``.

    Examples
    --------
    >>> info = layer_info()  # doctest: +SKIP
    >>> info.set_index("name").loc["stadtteile", "features"]  # doctest: +SKIP
    50
    """
    man = manifest or load_manifest()
    raw = settings.raw_dir(data_dir)
    rows = []
    for layer in man.layers.values():
        n_present = 0
        features = 0
        crs_seen: list[str] = []
        for entry in layer.files:
            path = raw / PurePosixPath(entry.path)
            if not path.is_file():
                continue
            n_present += 1
            try:
                count, crs = _count_and_crs(path, entry)
            except Exception as exc:  # report, do not hide: the row says what failed
                msg = f"layer {layer.name!r}: cannot read {path}: {exc}"
                raise DataSourceError(msg) from exc
            features += count
            if crs and crs not in crs_seen:
                crs_seen.append(crs)
        if n_present and not crs_seen and layer.crs:
            crs_seen.append(f"{layer.crs} (declared)")
        rows.append(
            {
                "name": layer.name,
                "files": len(layer.files),
                "fetched": n_present,
                "features": features if n_present else pd.NA,
                "crs": ", ".join(crs_seen),
                "licence": layer.licence,
                "attribution": layer.attribution,
            }
        )
    out = pd.DataFrame(rows)
    out["features"] = out["features"].astype("Int64")
    return out
