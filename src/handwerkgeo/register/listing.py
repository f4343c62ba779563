"""A listing of plots on its way into the register: validation, hashes, new/changed/same.

A listing (a plots file or a GeoDataFrame) is validated row by row; rows that cannot be
registered become *rejects* with a reason. Each plot gets a ``geom_hash`` and an
``attr_hash``, which decide whether it is new, changed (a new version) or unchanged
compared with the register's current versions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo import settings
from handwerkgeo._io import file_sha256
from handwerkgeo.crs import CRS, to_canonical
from handwerkgeo.errors import MissingColumnError, ValidationError
from handwerkgeo.register.storage import PLOT_META, REJECT_COLS, empty_frame
from handwerkgeo.sources.plots import PlotReaderOptions, read_plots

__all__ = [
    "attr_hashes",
    "classify",
    "data_checksums",
    "geom_hashes",
    "geom_name",
    "new_versions",
    "read_listing",
    "rejects_frame",
]

logger = logging.getLogger(__name__)

_GEOM_TYPES = ("Polygon", "MultiPolygon", "Point")


def geom_hashes(geoms: gpd.GeoSeries, *, grid_m: float = 0.01) -> pd.Series:
    """sha256 of the WKB of each normalised geometry rounded to ``grid_m`` (default 1 cm).

    Two geometries that differ only in vertex order, ring start or sub-centimetre noise get
    the same hash.

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> a = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    >>> b = Polygon([(10, 10.001), (0, 10), (0, 0), (10, 0)])  # other start, 1 mm off
    >>> h = geom_hashes(gpd.GeoSeries([a, b]))
    >>> bool(h[0] == h[1])
    True
    """
    arr = np.asarray(geoms.array)
    rounded = shapely.transform(arr, lambda xy: np.round(xy / grid_m) * grid_m)
    arr = shapely.normalize(rounded)
    wkb = shapely.to_wkb(arr, hex=False, output_dimension=2, byte_order=1)
    return pd.Series([hashlib.sha256(w).hexdigest() for w in wkb], index=geoms.index, dtype=str)


def _canon(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return None if math.isnan(f) else repr(f)
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def attr_hashes(plots: pd.DataFrame, *, exclude: tuple[str, ...] = ("plot_id",)) -> pd.Series:
    """sha256 of the canonical JSON of each row's non-empty attributes.

    Empty values (None, NaN) are left out, so a missing column and an empty value hash the
    same; numbers are compared as floats (``5`` equals ``5.0``).

    Examples
    --------
    >>> df = pd.DataFrame({"plot_id": ["a", "b"], "x": [5, 5], "y": [None, None]})
    >>> h = attr_hashes(df)
    >>> bool(h[0] == h[1]) and bool(h[0] == attr_hashes(df[["plot_id", "x"]])[0])
    True
    """
    cols = [c for c in plots.columns if c not in exclude and c != geom_name(plots)]
    values = plots[cols].to_numpy(dtype=object)
    out = []
    for row in values:
        d = {c: v for c, v in zip(cols, (_canon(x) for x in row), strict=True) if v is not None}
        out.append(hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest())
    return pd.Series(out, index=plots.index, dtype=str)


def geom_name(df: pd.DataFrame) -> str | None:
    return df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None


def data_checksums(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """sha256 of every input data file: from ``<data_dir>/raw/provenance.json`` when present.

    Without a provenance record every file under ``<data_dir>/raw`` is hashed. An absent
    data directory gives ``{}``.

    Returns
    -------
    dict of str to str
        ``{relative path: sha256}``, sorted by path.
    """
    raw = settings.raw_dir(data_dir)
    prov = raw / "provenance.json"
    if prov.is_file():
        from handwerkgeo.fetch import read_provenance  # pydantic: only when there is one

        files = read_provenance(data_dir).get("files", {})
        return {k: str(v.get("sha256", "")) for k, v in sorted(files.items())}
    if not raw.is_dir():
        return {}
    out = {}
    for p in sorted(raw.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            out[p.relative_to(raw).as_posix()] = file_sha256(p)
    return out


def rejects_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return empty_frame(REJECT_COLS).drop(columns="run_id")
    df = pd.DataFrame(rows, columns=[c for c in REJECT_COLS if c != "run_id"])
    df["row"] = df["row"].astype("Int64")
    return df


def _validate_frame(
    gdf: gpd.GeoDataFrame,
    *,
    id_col: str | None,
    crs: object | None,
    name: str,
    rows: np.ndarray | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Valid plots (with their input ``_row``) and rejects of a plots GeoDataFrame.

    ``rows`` are the input row numbers of ``gdf``'s rows (default 1, 2, …; ``<NA>`` when
    unknown).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{name} must be a GeoDataFrame or the path of a plots file, not {type(gdf)!r}"
        raise ValidationError(name, [msg])
    out = to_canonical(gdf, crs=crs, name=name)
    col = id_col or "plot_id"
    if col not in out.columns:
        msg = (
            f"{name} has no id column {col!r}; columns are {list(out.columns)}. "
            "Pass id_col= (--id-col) naming the column with the plot ids."
        )
        raise MissingColumnError(msg)
    if col != "plot_id":
        out = out.drop(columns=["plot_id"], errors="ignore").rename(columns={col: "plot_id"})
    out = out.reset_index(drop=True)
    out["_row"] = pd.array(np.arange(1, len(out) + 1) if rows is None else rows, dtype="Int64")
    ids = out["plot_id"]
    geoms = out.geometry
    reasons = pd.Series("", index=out.index, dtype=object)
    reasons[ids.isna() | (ids.astype(str).str.strip() == "")] = "missing plot_id"
    empty = geoms.isna() | geoms.is_empty
    reasons[(reasons == "") & empty] = "missing or empty geometry"
    bad_type = ~empty & ~geoms.geom_type.isin(_GEOM_TYPES)
    reasons[(reasons == "") & bad_type] = "geometry is not a Polygon, MultiPolygon or Point"
    invalid = (reasons == "") & ~geoms.is_valid
    for i in np.flatnonzero(invalid.to_numpy()):
        reasons.iloc[i] = f"invalid geometry: {shapely.is_valid_reason(geoms.iloc[i])}"
    bad = (reasons != "").to_numpy()
    rejects = rejects_frame(
        [
            {
                "source_file": name,
                "row": out["_row"].iloc[i],
                "plot_id": _str_or_none(ids.iloc[i]),
                "reason": reasons.iloc[i],
            }
            for i in np.flatnonzero(bad)
        ]
    )
    good = out.loc[~bad].copy()
    good["plot_id"] = good["plot_id"].astype(str)
    if "area_m2" not in good.columns:
        good["area_m2"] = good.geometry.area
    if "is_point" not in good.columns:
        good["is_point"] = (good.geometry.geom_type == "Point").to_numpy()
    return good, rejects


def _str_or_none(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def read_listing(
    new_plots: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    id_col: str | None,
    crs: object | None,
    reader: PlotReaderOptions | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str, str]:
    """Valid plots (with ``_row``), rejects, source name and sha256 of the input.

    ``reader`` holds the other options of the plots reader; ``id_col`` and ``crs``
    override its fields when given.
    """
    if isinstance(new_plots, gpd.GeoDataFrame):
        name = "<GeoDataFrame>"
        good, rejects = _validate_frame(new_plots, id_col=id_col, crs=crs, name=name)
        return good, rejects, name, ""
    path = Path(new_plots)
    given = {k: x for k, x in (("crs", crs), ("id_col", id_col)) if x is not None}
    plots = read_plots(path, reader, on_invalid="reject", **given)  # type: ignore[arg-type]
    reader_rejects = plots.attrs.get("rejects")
    records: list[dict[str, Any]] = []
    if isinstance(reader_rejects, pd.DataFrame):
        reader_rejects = reader_rejects.to_dict("records")
    if reader_rejects:
        for r in reader_rejects:
            reason = str(r.get("reason") or "rejected by read_plots")
            if r.get("fix"):
                reason = f"{reason}; {r['fix']}"
            row = r.get("row")
            records.append(
                {
                    "source_file": path.name,
                    "row": None if row is None or pd.isna(row) else int(row),
                    "plot_id": _str_or_none(r.get("plot_id")),
                    "reason": reason,
                }
            )
    plots = plots.copy()
    plots.attrs = {}
    # read_plots renumbers the valid rows: their input row numbers are not known
    rows = np.full(len(plots), None, dtype=object)
    good, more = _validate_frame(plots, id_col=None, crs=None, name=path.name, rows=rows)
    rejects = rejects_frame(records)
    if len(more):
        rejects = pd.concat([rejects, more], ignore_index=True)
    return good, rejects, path.name, file_sha256(path)


def classify(
    good: gpd.GeoDataFrame, current: gpd.GeoDataFrame, source: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.Series]:
    """Split input rows into new / changed / same; reject duplicates with a reason."""
    ids, gh, ah = good["plot_id"], good["geom_hash"], good["attr_hash"]
    reasons = pd.Series("", index=good.index, dtype=object)
    dup_id = ids.duplicated(keep=False)
    if dup_id.any():
        rows = (
            good.loc[dup_id].groupby("plot_id")["_row"].agg(lambda r: ", ".join(str(x) for x in r))
        )
        counts = ids[dup_id].map(ids.value_counts())
        reasons[dup_id] = [
            f"plot_id {p} occurs {c} times in the input (rows {rows[p]}); keep one row per plot"
            for p, c in zip(ids[dup_id], counts, strict=True)
        ]
    sub = good.loc[~dup_id]
    twin = sub["geom_hash"].duplicated(keep="first")
    if twin.any():
        first = sub.loc[~twin].drop_duplicates("geom_hash").set_index("geom_hash")["plot_id"]
        reasons[sub.index[twin]] = [
            f"same geometry as plot {first[h]} earlier in the input; if it is the same plot, "
            "keep one row"
            for h in sub.loc[twin, "geom_hash"]
        ]
    cur_geom = current.set_index("plot_id")["geom_hash"]
    cur_attr = current.set_index("plot_id")["attr_hash"]
    owner_of = current.drop_duplicates("geom_hash").set_index("geom_hash")["plot_id"]
    ok = (reasons == "").to_numpy()
    known = ids.isin(cur_geom.index).to_numpy()
    same = known & (ids.map(cur_geom) == gh).to_numpy() & (ids.map(cur_attr) == ah).to_numpy()
    owner = gh.map(owner_of)
    clash = (owner.notna() & (owner != ids)).to_numpy()
    other = owner.astype(object).to_numpy()
    changed_clash = ok & known & ~same & clash
    reasons[changed_clash] = [
        f"its new geometry equals that of registered plot {o}" for o in other[changed_clash]
    ]
    new_clash = ok & ~known & clash
    reasons[new_clash] = [
        f"same geometry as registered plot {o}; if it is the same plot, use plot_id {o}"
        for o in other[new_clash]
    ]
    classes = pd.Series("", index=good.index, dtype=object)
    classes[ok & same] = "same"
    classes[ok & known & ~same & ~clash] = "changed"
    classes[ok & ~known & ~clash] = "new"
    bad = (reasons != "").to_numpy()
    dup_rejects = rejects_frame(
        [
            {"source_file": source, "row": r, "plot_id": str(p), "reason": why}
            for r, p, why in zip(good["_row"][bad], ids[bad], reasons[bad], strict=True)
        ]
    )
    if bad.any():
        logger.warning("%d duplicate plot(s) in %s rejected", int(bad.sum()), source)
    return good.loc[~bad], dup_rejects, classes.loc[~bad]


def new_versions(
    current: pd.DataFrame, rows: gpd.GeoDataFrame, now: str, source: str
) -> gpd.GeoDataFrame:
    """The new plot versions of ``rows`` (new plots: version 1) with the register's columns.

    ``current`` holds plot_id, plot_version and first_seen of the current versions.
    """
    rows = rows.drop(columns=["_row"]).copy()
    prev = current.drop_duplicates("plot_id").set_index("plot_id")
    version = rows["plot_id"].map(prev["plot_version"])
    rows["plot_version"] = version.fillna(0).astype("int64").to_numpy() + 1
    first = rows["plot_id"].map(prev["first_seen"])
    rows["first_seen"] = [now if pd.isna(v) else str(v) for v in first]
    rows["last_changed"] = now
    rows["valid_to"] = ""
    rows["active"] = True
    rows["source_file"] = source
    geom = rows.geometry.name
    meta = [c for c in PLOT_META if c != "plot_version"]
    attrs = [c for c in rows.columns if c not in ("plot_id", "plot_version", *meta, geom)]
    out = rows[["plot_id", "plot_version", *attrs, *meta, geom]].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=geom, crs=CRS)
