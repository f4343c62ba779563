"""The prepared scoring context: every layer, the street network and its node fields in one file.

Loading the context from the fetched files takes seconds (reading the sources, building the
street network from 16,666 OSM ways); a scoring run that only needs the result pays it in
every process. :func:`load_prepared` keeps the result in ``<data_dir>/processed/`` —
the layers (GeoParquet), the street network as CSR arrays (the KD-tree is rebuilt from
the node coordinates), and the node fields of the stops that :func:`~handwerkgeo.criteria.
accessibility.transit_access` reads (nearest stop, 3 nearest within 2 km, every stop within
1 km of every node; :func:`handwerkgeo.network.prepare_fields`) — and loads it in a fraction
of a second.

The file is an uncompressed ``.npz`` (no pickle) written atomically, keyed by

- the checksums of the fetched files (``<data_dir>/raw/provenance.json``),
- whether the network is included, and the parameters of the prepared fields
  (:data:`FIELD_SPEC`, the defaults of the transit criterion),
- the package version and the cache format (:data:`FORMAT`).

A file with another key, or one that cannot be read or whose content digest does not match
(a truncated or corrupted file), is never used: the context is built from the sources and
the file written again. ``handwerkgeo data prepare`` builds it ahead; :func:`load_context`
builds it on first use.

Examples
--------
>>> cache_file("/tmp/data", network=True).name
'context-network.npz'
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from handwerkgeo import settings
from handwerkgeo._atomic import atomic_write_bytes
from handwerkgeo.context import LAYER_NAMES
from handwerkgeo.errors import DataSourceError

if TYPE_CHECKING:
    from handwerkgeo.context import ScoringContext

__all__ = ["FIELD_SPEC", "FORMAT", "cache_file", "cache_key", "load_prepared", "prepare_context"]

logger = logging.getLogger(__name__)

#: Version of the file layout; a change makes older files stale.
FORMAT = 2

#: Node fields prepared for the stops (keywords of :func:`handwerkgeo.network.prepare_fields`):
#: the defaults of :func:`handwerkgeo.criteria.accessibility.transit_access` (3 nearest
#: within 2,000 m; stops within 800 m and transit classes up to 1,000 m).
FIELD_SPEC: dict[str, Any] = {"k": 3, "cutoff_m": 2000.0, "limit_m": 1000.0, "max_snap_m": 500.0}


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("handwerkgeo")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def cache_file(data_dir: str | os.PathLike[str] | None = None, *, network: bool = True) -> Path:
    """Path of the prepared context in ``<data_dir>/processed``."""
    name = "context-network.npz" if network else "context-no-network.npz"
    return settings.processed_dir(data_dir) / name


def cache_key(data_dir: str | os.PathLike[str] | None = None, *, network: bool = True) -> dict:
    """What the prepared context depends on (see module docstring)."""
    from handwerkgeo.fetch import read_provenance

    files = read_provenance(data_dir)["files"]
    return {
        "format": FORMAT,
        "version": _package_version(),
        "network": bool(network),
        "fields": FIELD_SPEC if network else None,
        "files": {path: rec.get("sha256") for path, rec in sorted(files.items())},
    }


# --- writing ------------------------------------------------------------------------------


def _frame_bytes(frame: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """A layer as Parquet bytes (geometry as WKB) and how to read it back."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    # attrs carry data too (e.g. the city-wide shares of bezirk_shares); JSON or no cache
    info: dict[str, Any] = {"geometry": None, "crs": None, "attrs": json.dumps(frame.attrs)}
    table = pd.DataFrame(frame)
    table.attrs = {}
    if isinstance(frame, gpd.GeoDataFrame) and frame.active_geometry_name in frame.columns:
        name = frame.active_geometry_name
        info["geometry"] = name
        info["crs"] = None if frame.crs is None else frame.crs.to_string()
        table[name] = shapely.to_wkb(np.asarray(frame.geometry.array))
    buf = io.BytesIO()
    table.to_parquet(buf)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8), info


def _content_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.blake2b(digest_size=20)
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str((arr.dtype.str, arr.shape)).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _field_arrays(network: Any) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The fields memoised on the network (nearest, k nearest, reach), as JSON and arrays."""
    records: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {}
    for key, value in network.fields.items():
        if key[0] not in ("nearest", "k", "reach"):
            continue
        i = len(records)
        names = [f.name for f in dataclasses.fields(value)]
        scalars: dict[str, Any] = {}
        array_names: list[str] = []
        record = {"key": list(key), "kind": type(value).__name__, "scalars": scalars,
                  "arrays": array_names}  # fmt: skip
        for name in names:
            v = getattr(value, name)
            if isinstance(v, np.ndarray):
                arrays[f"field{i}_{name}"] = v
                array_names.append(name)
            else:
                scalars[name] = v
        records.append(record)
    return records, arrays


def _to_arrays(context: ScoringContext, key: dict) -> dict[str, np.ndarray]:
    meta: dict[str, Any] = {"key": key, "layers": [], "extra": [], "sources": list(context.sources)}
    arrays: dict[str, np.ndarray] = {}
    for name in (n for n in LAYER_NAMES if n != "network"):
        layer = getattr(context, name)
        if layer is not None:
            arrays[f"layer_{name}"], info = _frame_bytes(layer)
            meta["layers"].append([name, info])
    for name, layer in context.extra.items():
        arrays[f"extra_{name}"], info = _frame_bytes(layer)
        meta["extra"].append([name, info])
    net = context.network
    if net is not None:
        arrays.update(
            net_node_ids=np.asarray(net.node_ids, dtype=np.int64),
            net_xy=net.xy,
            net_indptr=np.asarray(net.csr.indptr),
            net_indices=np.asarray(net.csr.indices),
            net_data=np.asarray(net.csr.data),
        )
        meta["fields"], field_arrays = _field_arrays(net)
        arrays.update(field_arrays)
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8)
    digest = _content_digest(arrays)
    arrays["digest"] = np.frombuffer(digest.encode(), dtype=np.uint8)
    return arrays


def _write(path: Path, context: ScoringContext, key: dict) -> None:
    net = context.network
    if net is not None and np.asarray(net.node_ids).dtype == object:
        logger.info("prepared context not written: network node ids are not integers")
        return
    try:
        arrays = _to_arrays(context, key)
    except TypeError as exc:  # a layer's attrs that JSON cannot hold
        logger.info("prepared context not written: %s", exc)
        return
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    logger.info("prepared context written: %s (%.1f MB)", path, path.stat().st_size / 1e6)


# --- reading ------------------------------------------------------------------------------


def _read_frame(data: np.ndarray, info: dict[str, Any], crs_cache: dict[str, Any]) -> Any:
    import geopandas as gpd
    import pandas as pd
    import pyproj
    import shapely

    table = pd.read_parquet(io.BytesIO(data.tobytes()))
    table.attrs = json.loads(info["attrs"])
    name = info["geometry"]
    if name is None:
        return table
    crs = info["crs"]
    if crs is not None and crs not in crs_cache:  # one CRS object for all layers (fast)
        crs_cache[crs] = pyproj.CRS.from_user_input(crs)
    geoms = gpd.array.from_shapely(
        shapely.from_wkb(table[name].to_numpy()), crs=None if crs is None else crs_cache[crs]
    )
    table[name] = geoms  # same column position
    out = gpd.GeoDataFrame(table, geometry=name)
    out.attrs = json.loads(info["attrs"])
    return out


def _restore_fields(net: Any, meta: dict, z: Any) -> None:
    from handwerkgeo.network import fields as nf

    kinds = {c.__name__: c for c in (nf.NearestField, nf.KField, nf.ReachField)}
    for i, record in enumerate(meta.get("fields", [])):
        values = dict(record["scalars"])
        for name in record["arrays"]:
            values[name] = z[f"field{i}_{name}"]
        net.fields[tuple(record["key"])] = kinds[record["kind"]](**values)


def _read(path: Path, key: dict) -> ScoringContext | None:
    """The prepared context at ``path`` if it is intact and has ``key``; else ``None``."""
    if not path.is_file():
        return None
    try:
        raw = io.BytesIO(path.read_bytes())  # the file is closed whatever its content
        with np.load(raw, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        logger.warning("prepared context %s cannot be read (%s); building it again", path, exc)
        return None
    stored = arrays.pop("digest", np.empty(0, np.uint8)).tobytes().decode(errors="replace")
    if "meta" not in arrays or _content_digest(arrays) != stored:
        logger.warning("prepared context %s is damaged (digest mismatch); building it again", path)
        return None
    try:
        meta = json.loads(arrays["meta"].tobytes())
    except ValueError as exc:
        logger.warning("prepared context %s has no readable header (%s)", path, exc)
        return None
    if not isinstance(meta, dict) or meta.get("key") != json.loads(json.dumps(key, default=str)):
        logger.info("prepared context %s is stale (data, settings or version changed)", path)
        return None
    try:
        return _decode(arrays, meta)
    except (KeyError, ValueError, TypeError, OSError) as exc:  # e.g. written by other code
        logger.warning("prepared context %s cannot be decoded (%r); building it again", path, exc)
        return None


def _decode(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> ScoringContext:
    from scipy import sparse

    from handwerkgeo.context import ScoringContext
    from handwerkgeo.network import Network

    crs_cache: dict[str, Any] = {}
    layers = {
        name: _read_frame(arrays[f"layer_{name}"], info, crs_cache) for name, info in meta["layers"]
    }
    extra = {
        name: _read_frame(arrays[f"extra_{name}"], info, crs_cache) for name, info in meta["extra"]
    }
    net = None
    if "net_xy" in arrays:
        n = len(arrays["net_xy"])
        csr = sparse.csr_array(
            (arrays["net_data"], arrays["net_indices"], arrays["net_indptr"]), shape=(n, n)
        )
        net = Network(node_ids=arrays["net_node_ids"], xy=arrays["net_xy"], csr=csr)
        _restore_fields(net, meta, arrays)
    return ScoringContext(
        network=net,
        **layers,
        extra=extra,
        sources=tuple(meta["sources"]),
    )


# --- public -------------------------------------------------------------------------------


def _build(data_dir: str | os.PathLike[str] | None, network: bool) -> ScoringContext:
    from handwerkgeo.context import load_context
    from handwerkgeo.network import prepare_fields

    context = load_context(data_dir, network=network, cache=False)
    if context.network is not None and context.stops is not None:
        prepare_fields(context.network, context.stops, **FIELD_SPEC)
    return context


def load_prepared(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    network: bool = True,
    rebuild: bool = False,
) -> ScoringContext:
    """The scoring context from the prepared file, built and written first if needed.

    Parameters
    ----------
    data_dir
        Data directory (default ``HANDWERKGEO_DATA_DIR`` or ``./data``).
    network
        Include the street network (see :func:`handwerkgeo.context.load_context`).
    rebuild
        Build from the sources and write the file even if an up-to-date one exists.

    Returns
    -------
    ScoringContext
        The same layers, network and results as :func:`handwerkgeo.context.load_context`
        with ``cache=False``.
    """
    key = cache_key(data_dir, network=network)
    path = cache_file(data_dir, network=network)
    if not key["files"]:  # nothing fetched: nothing worth keeping
        return _build(data_dir, network)
    if not rebuild:
        context = _read(path, key)
        if context is not None:
            logger.info("prepared context loaded from %s", path)
            return context
    context = _build(data_dir, network)
    try:
        _write(path, context, key)
    except OSError as exc:  # a read-only data folder: score anyway
        logger.warning("prepared context not written to %s: %s", path, exc)
    return context


def prepare_context(
    data_dir: str | os.PathLike[str] | None = None, *, network: bool = True
) -> Path:
    """Build the prepared context from the fetched files and write it; return its path.

    Raises
    ------
    DataSourceError
        When nothing has been fetched into ``data_dir`` or the file cannot be written.
    """
    key = cache_key(data_dir, network=network)
    path = cache_file(data_dir, network=network)
    if not key["files"]:
        msg = (
            f"nothing has been fetched into {settings.raw_dir(data_dir)}; run "
            "`handwerkgeo data fetch` first, then `handwerkgeo data prepare`."
        )
        raise DataSourceError(msg)
    context = _build(data_dir, network)
    try:
        _write(path, context, key)
    except OSError as exc:
        msg = f"the prepared context cannot be written to {path}: {exc}"
        raise DataSourceError(msg) from exc
    return path
