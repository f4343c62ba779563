"""Features of OSM XML (``.osm``) and PBF (``.osm.pbf``) files chosen by tag, not by layer.

GDAL's OSM driver splits a file into the layers ``points`` (tagged nodes), ``lines``,
``multilinestrings``, ``multipolygons`` and ``other_relations``; reading "the file" gives
its first layer, the tagged nodes — bus stops and crossings would become motorway junctions.
:func:`read_osm_features` picks the features of one kind by their tags instead:

================== ============================ =========================================
kind               OSM features                 tag
================== ============================ =========================================
motorway_junctions nodes                        ``highway=motorway_junction``
main_roads         ways                         ``highway`` in :data:`MAIN_ROAD_CLASSES`
landuse            closed ways, multipolygons   ``landuse=*``
================== ============================ =========================================

A file without a feature of the kind asked for is an error that says what the file holds
(features per GDAL layer and the most frequent ``highway``/``landuse`` values).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from handwerkgeo.crs import CRS, to_canonical
from handwerkgeo.errors import ConfigError, DataSourceError
from handwerkgeo.sources.osm.graph import PathLike
from handwerkgeo.sources.osm.pbf import MAIN_ROAD_CLASSES, read_pbf_features

__all__ = ["OSM_FEATURE_KINDS", "osm_file_summary", "read_osm_features"]

logger = logging.getLogger(__name__)

#: kind -> (GDAL layer, tag, description for messages)
OSM_FEATURE_KINDS: dict[str, tuple[str, str, str]] = {
    "motorway_junctions": ("points", "highway", "nodes with highway=motorway_junction"),
    "main_roads": (
        "lines",
        "highway",
        f"ways with highway={'/'.join(MAIN_ROAD_CLASSES)}",
    ),
    "landuse": ("multipolygons", "landuse", "areas with landuse=*"),
}

_COLUMNS = {
    "motorway_junctions": ["osmid", "osm_type", "name", "ref", "highway"],
    "landuse": ["osmid", "osm_type", "name", "landuse"],
    "main_roads": ["osmid", "osm_type", "name", "ref", "highway"],
}

_GDAL_LAYERS = ("points", "lines", "multilinestrings", "multipolygons", "other_relations")


def _is_pbf(path: Path) -> bool:
    return path.name.lower().endswith(".pbf")


@contextlib.contextmanager
def _gdal_tmpdir() -> Iterator[None]:
    """GDAL's OSM driver may spill its node index to a temporary file in the current
    directory; point it to the system temporary directory instead. Files whose node ids
    are not sorted (JOSM saves new nodes with negative ids) need the generic index."""
    import pyogrio

    options = {"CPL_TMPDIR": tempfile.gettempdir(), "OSM_USE_CUSTOM_INDEXING": "NO"}
    old = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def _read_gdal_layer(path: Path, layer: str, *, geometry: bool = True) -> pd.DataFrame:
    """One GDAL layer of an OSM file; rings OSM leaves unclosed become missing geometries."""
    import pyogrio

    try:
        with _gdal_tmpdir(), warnings.catch_warnings():
            # GDAL warns about every unclosed ring of a clipped extract; they are dropped
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.read_dataframe(
                path, layer=layer, read_geometry=geometry, on_invalid="ignore"
            )
    except Exception as exc:  # pyogrio raises several types for broken files
        msg = f"cannot read layer {layer!r} of OSM file {path}: {exc}"
        raise DataSourceError(msg) from exc


def osm_file_summary(path: PathLike) -> str:
    """What an OSM file holds: features per GDAL layer and the main ``highway``/``landuse``
    values (for error messages)."""
    p = Path(path)
    parts = []
    tags: dict[str, Counter[str]] = {"highway": Counter(), "landuse": Counter()}
    for layer in _GDAL_LAYERS:
        try:
            frame = _read_gdal_layer(p, layer, geometry=False)
        except DataSourceError:
            continue
        parts.append(f"{layer} {len(frame)}")
        for tag, counter in tags.items():
            if tag in frame.columns:
                counter.update(frame[tag].dropna().astype(str).tolist())
    text = "features per GDAL layer: " + (", ".join(parts) or "none")
    for tag, counter in tags.items():
        if counter:
            top = ", ".join(f"{tag}={v} ({n})" for v, n in counter.most_common(8))
            text += f"; {top}"
    return text


def _from_xml(p: Path, kind: str) -> gpd.GeoDataFrame:
    layer, tag, _ = OSM_FEATURE_KINDS[kind]
    raw = _read_gdal_layer(p, layer)
    raw = raw[~(raw.geometry.isna() | raw.geometry.is_empty)]
    if tag not in raw.columns:
        keep = pd.Series(False, index=raw.index)
    elif kind == "motorway_junctions":
        keep = raw[tag] == "motorway_junction"
    elif kind == "main_roads":
        keep = raw[tag].isin(MAIN_ROAD_CLASSES)
    else:
        keep = raw[tag].notna() & (raw[tag].astype(str).str.strip() != "")
    raw = raw[keep.fillna(False).to_numpy(dtype=bool)]
    if layer == "multipolygons":
        way = raw["osm_way_id"] if "osm_way_id" in raw.columns else pd.Series(None, raw.index)
        rel = raw["osm_id"]
        osmid = rel.where(rel.notna(), way)
        osm_type = ["relation" if pd.notna(r) else "way" for r in rel]
    else:
        osmid = raw["osm_id"]
        osm_type = ["node" if layer == "points" else "way"] * len(raw)
    cols: dict[str, object] = {
        "osmid": pd.to_numeric(osmid, errors="coerce").astype("int64").to_numpy(),
        "osm_type": pd.array(osm_type, dtype="string"),
    }
    for c in _COLUMNS[kind][2:]:
        values = raw[c] if c in raw.columns else pd.Series(pd.NA, index=raw.index)
        cols[c] = values.astype("string").to_numpy()
    out = gpd.GeoDataFrame(cols, geometry=raw.geometry.to_numpy(), crs=raw.crs or "EPSG:4326")
    out = to_canonical(out, name=f"{kind} of {p.name}")
    out.attrs["rejects"] = []
    return out


def read_osm_features(
    path: PathLike,
    *,
    kind: Literal["motorway_junctions", "landuse", "main_roads"],
) -> gpd.GeoDataFrame:
    """Features of one kind from an OSM XML or PBF file, chosen by tag, in EPSG:25832.

    Parameters
    ----------
    path
        ``.osm`` (OSM XML, read with GDAL's OSM driver) or ``.osm.pbf`` (read with pyrosm).
    kind
        ``"motorway_junctions"``, ``"main_roads"`` or ``"landuse"`` (see module docs).

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :func:`handwerkgeo.sources.osm.read_pbf_features`.

    Raises
    ------
    DataSourceError
        If the file is missing, unreadable, or holds no feature of that kind (the message
        says what the file holds).

    Examples
    --------
    >>> import pyrosm
    >>> j = read_osm_features(pyrosm.get_data("test_pbf"), kind="motorway_junctions")
    >>> len(j), j.crs.to_epsg()
    (3, 25832)
    """
    if kind not in OSM_FEATURE_KINDS:
        msg = f"kind must be one of {list(OSM_FEATURE_KINDS)}, got {kind!r}."
        raise ConfigError(msg)
    p = Path(path)
    if not p.is_file():
        msg = f"OSM file {p} does not exist."
        raise DataSourceError(msg)
    out = read_pbf_features(p, kind=kind) if _is_pbf(p) else _from_xml(p, kind)
    if out.empty:
        msg = (
            f"{p.name} holds no {OSM_FEATURE_KINDS[kind][2]} (asked for {kind}); it holds "
            f"{osm_file_summary(p)}. Give a file with such features (an extract of "
            "the area that keeps these tags)."
        )
        raise DataSourceError(msg)
    logger.info("read_osm_features: %d %s from %s, %s", len(out), kind, p.name, CRS)
    return out
