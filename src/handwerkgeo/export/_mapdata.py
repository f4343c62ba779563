"""Compact encoding of a map's data: quantised, delta-encoded geometry and column lists.

Used by :mod:`handwerkgeo.export.maps` to build the JSON document the map script
(``templates/map.js``) draws from; see that module's docstring for the format.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.export._card import card_attributes, missing_labels
from handwerkgeo.export._labels import Criterion
from handwerkgeo.scoring import carried_columns, decision_note, decision_ready, decision_threshold

__all__ = [
    "attribute_payload",
    "bool_list",
    "decision_payload",
    "enc_coords",
    "enc_feature",
    "enc_lines",
    "enc_point",
    "enc_polygonal",
    "json_for_html",
    "lookup",
    "num_list",
    "raw_list",
    "to_wgs84",
]

_Q = 1e5  # quantisation: 1e-5 degrees ≈ 0.7 m (lon) × 1.1 m (lat) in Düsseldorf


# --- geometry encoding ----------------------------------------------------------------------


def enc_coords(coords: np.ndarray, *, ring: bool) -> list[int]:
    """Quantise to 1e-5 degrees and delta-encode: [x0, y0, dx1, dy1, ...] (lon, lat)."""
    a = np.asarray(coords, dtype=float)[:, :2]
    if ring and len(a) > 1:
        a = a[:-1]  # closing vertex is implied
    q = np.round(a * _Q).astype(np.int64)
    if len(q) > 1:
        q[1:] = np.diff(q, axis=0)
    return list(q.ravel().tolist())


def enc_polygonal(geom: Any) -> list[Any] | None:
    """Encode a (Multi)Polygon as a list of polygons, each a list of encoded rings."""
    if geom is None or geom.is_empty:
        return None
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    if not polys:
        return None
    out = []
    for p in polys:
        rings = [enc_coords(np.asarray(p.exterior.coords), ring=True)]
        rings += [enc_coords(np.asarray(r.coords), ring=True) for r in p.interiors]
        out.append(rings)
    return out


def enc_feature(geom: Any) -> list[Any] | None:
    """Polygons → list of polygons; Points → [x, y]; anything else → None."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Point":
        return enc_coords(np.asarray(geom.coords), ring=False)
    if geom.geom_type == "MultiPoint":
        return enc_coords(np.asarray(geom.centroid.coords), ring=False)
    return enc_polygonal(geom)


def enc_lines(geom: Any) -> list[list[int]]:
    if geom is None or geom.is_empty:
        return []
    parts = shapely.get_parts(
        shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
    )
    return [
        enc_coords(np.asarray(g.coords), ring=False)
        for g in parts
        if g.geom_type == "LineString" and len(g.coords) > 1
    ]


def to_wgs84(geoms: gpd.GeoSeries, simplify_m: float) -> gpd.GeoSeries:
    g = geoms
    if simplify_m > 0:
        g = g.simplify(simplify_m, preserve_topology=True)
    return g.to_crs("EPSG:4326")


def enc_point(pt: Any) -> list[int]:
    return [round(pt.x * _Q), round(pt.y * _Q)]


# --- column encoding ------------------------------------------------------------------------


def num_list(values: Any, decimals: int) -> list[float | int | None]:
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    r = np.round(v, decimals)
    if decimals == 0:
        return [None if np.isnan(x) else int(x) for x in r]
    return [None if np.isnan(x) else float(x) for x in r]


def raw_list(values: pd.Series) -> list[Any]:
    """Raw criterion values: numbers rounded by magnitude, booleans, text; NaN → None."""
    if pd.api.types.is_bool_dtype(values):
        return [None if pd.isna(x) else bool(x) for x in values]
    if pd.api.types.is_numeric_dtype(values):
        v = values.to_numpy(dtype=float, na_value=np.nan)
        out: list[Any] = []
        for x in v:
            if np.isnan(x):
                out.append(None)
            elif abs(x) >= 100:
                out.append(round(float(x)))
            else:
                out.append(round(float(x), 3))
        return out
    res: list[Any] = []
    for x in values:
        if x is None or (not isinstance(x, str | bool | np.bool_) and pd.isna(x)):
            res.append(None)
        elif isinstance(x, bool | np.bool_):
            res.append(bool(x))
        elif isinstance(x, int | float | np.integer | np.floating):
            res.append(round(float(x), 3))
        else:
            res.append(str(x))
    return res


def lookup(values: pd.Series) -> tuple[list[str], list[int]]:
    """Dictionary-encode strings: (unique values with "" first, index per row)."""
    s = values.astype(object).where(values.notna(), "").map(str)
    uniq = ["", *sorted(set(s) - {""})]
    pos = {u: i for i, u in enumerate(uniq)}
    return uniq, [pos[x] for x in s]


def bool_list(values: pd.Series) -> list[int]:
    return [1 if (not pd.isna(x) and bool(x)) else 0 for x in values]


def json_for_html(obj: Any) -> str:
    """JSON safe to embed in ``<script type="application/json">`` (no ``<`` at all)."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return s.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# --- what the planner must see besides the score ----------------------------------------------


def decision_payload(gdf: gpd.GeoDataFrame, crits: list[Criterion], lang: str) -> dict[str, Any]:
    """The "nicht entscheidungsreif" line of each plot, dictionary-encoded.

    ``warnings`` holds the distinct lines ("" first), ``warn`` the index per plot (0 for a
    plot ready for a decision). Every missing criterion is listed, never shortened.
    """
    ready = decision_ready(gdf).to_numpy()
    threshold = decision_threshold(gdf)
    cov = (
        pd.to_numeric(gdf["coverage"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if "coverage" in gdf
        else np.full(len(gdf), np.nan)
    )
    missing = gdf["missing_criteria"] if "missing_criteria" in gdf else pd.Series("", gdf.index)
    lines = pd.Series("", index=gdf.index, dtype=object)
    for i in np.flatnonzero(~ready).tolist():
        labels = missing_labels({"missing_criteria": missing.iloc[i]}, crits)
        c = 0.0 if np.isnan(cov[i]) else float(cov[i])
        lines.iloc[i] = decision_note(c, threshold, labels, lang)
    warnings, warn = lookup(lines)
    return {"warnings": warnings, "warn": warn}


def attribute_payload(gdf: gpd.GeoDataFrame, lang: str) -> dict[str, Any]:
    """The planner's carried columns as display text per plot (``None`` for empty cells)."""
    keys = carried_columns(gdf)
    values: dict[str, list[str | None]] = {k: [] for k in keys}
    for rec in gdf[keys].to_dict("records") if keys else []:
        shown = dict(card_attributes(rec, keys, lang))
        for k in keys:
            values[k].append(shown.get(k))
    return {"attrKeys": keys, "attrs": values}
