"""Machinery shared by the zoning readers: read a layer, keep its polygons, add the
canonical zoning columns.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo._geom import polygonal_part
from handwerkgeo.crs import to_canonical
from handwerkgeo.sources.vector import read_vector
from handwerkgeo.sources.zoning.vocabulary import ZoneEntry, is_missing, label_key

__all__ = [
    "ZoneRows",
    "cell_values",
    "finish_zoning",
    "first_value",
    "keep_polygons",
    "label_text",
    "read_layer",
]

logger = logging.getLogger(__name__)


def read_layer(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    what: str,
) -> gpd.GeoDataFrame:
    """Read a zoning file without writing beside it, in the CRS the file declares
    (:func:`handwerkgeo.sources.vector.read_vector`)."""
    return read_vector(path, layer=layer, what=what)


def keep_polygons(gdf: gpd.GeoDataFrame, *, name: str) -> gpd.GeoDataFrame:
    """Keep polygonal features; log what was left out and repair invalid ones."""
    geoms = gdf.geometry
    missing = geoms.isna() | geoms.is_empty
    poly = geoms.geom_type.isin(["Polygon", "MultiPolygon"]) & ~missing
    dropped = (~poly).sum()
    if dropped:
        kinds = Counter(geoms[~poly & ~missing].geom_type.tolist())
        kinds_text = ", ".join(f"{k} {v}" for k, v in kinds.items())
        logger.warning(
            "%s: %d of %d feature(s) are not polygons and cannot carry zoning "
            "(empty %d%s); they are left out",
            name,
            dropped,
            len(gdf),
            int(missing.sum()),
            f", {kinds_text}" if kinds_text else "",
        )
    out = gdf[poly].copy()
    invalid = ~out.geometry.is_valid
    if invalid.any():
        logger.warning(
            "%s: %d invalid polygon(s) repaired with shapely.make_valid", name, int(invalid.sum())
        )
        fixed = shapely.make_valid(np.asarray(out.geometry[invalid].array, dtype=object))
        out.loc[invalid, out.geometry.name] = [polygonal_part(g) for g in fixed]
        out = out[~(out.geometry.isna() | out.geometry.is_empty)]
    return out


@dataclass
class ZoneRows:
    """The canonical zoning columns of a layer, collected feature by feature."""

    categories: list[str] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    brownfield: list[bool] = field(default_factory=list)
    #: values not in the vocabulary (became ``UNKNOWN``), with their counts
    unmapped: Counter[str] = field(default_factory=Counter)

    def add(self, entry: ZoneEntry, confidence: float, label: str) -> None:
        """Append one feature's category, confidence, label and brownfield flag."""
        self.categories.append(entry.category)
        self.confidence.append(confidence)
        self.labels.append(label)
        self.brownfield.append(entry.brownfield)


def finish_zoning(
    gdf: gpd.GeoDataFrame,
    rows: ZoneRows,
    *,
    source: str | Iterable[str],
    crs: object | None,
    name: str,
    extra: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """The canonical zoning frame in EPSG:25832; logs what became ``UNKNOWN``."""
    unmapped = rows.unmapped
    cols: dict[str, Any] = {
        "zone_category": list(rows.categories),
        "zone_source": [source] * len(gdf) if isinstance(source, str) else list(source),
        "zone_confidence": np.asarray(rows.confidence, dtype=float),
        "zone_label": list(rows.labels),
        "brownfield": np.asarray(rows.brownfield, dtype=bool),
    }
    cols.update(extra or {})
    out = gpd.GeoDataFrame(cols, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    out = to_canonical(out, crs=crs, name=name).reset_index(drop=True)
    out.attrs["unmapped"] = dict(unmapped)
    if unmapped:
        listed = ", ".join(f"{k!r} ({n})" for k, n in unmapped.most_common(15))
        logger.warning(
            "%s: %d feature(s) with %d value(s) not in the zoning vocabulary became UNKNOWN: "
            "%s. Add them to configs/zoning_vocabulary.yaml if they have a meaning.",
            name,
            sum(unmapped.values()),
            len(unmapped),
            listed,
        )
    logger.info(
        "%s: %d zoning polygon(s), categories %s, source CRS %s",
        name,
        len(out),
        dict(Counter(out["zone_category"])),
        out.attrs.get("source_crs"),
    )
    return out


def cell_values(series: pd.Series) -> list[Any]:
    """Values of a column; GDAL list fields (numpy arrays / lists) become lists."""
    out: list[Any] = []
    for x in series.tolist():
        if isinstance(x, np.ndarray):
            x = x.tolist()
        out.append(x)
    return out


def first_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def label_text(value: Any) -> str:
    if is_missing(value) if not isinstance(value, list | tuple) else not value:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(label_text(x) for x in value)
    key = label_key(value)
    return key if key.isdigit() else str(value).strip()
