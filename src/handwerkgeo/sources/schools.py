"""School sites of Düsseldorf (school master data, Open Data Düsseldorf).

The CSV has the columns ``id,name,form,traeger,strasse,plz,stadtteil,bezirk,lon,lat`` with
WGS 84 longitude/latitude. The Stadtteil given in the file disagrees with the boundary
polygons for a few schools near quarter borders; the reader therefore assigns every school
to a Stadtteil by a spatial join (``stadtteil_code_geom``) and flags the disagreements. Trust
the geometry.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._text import read_text
from handwerkgeo.crs import CRS, check_crs, outside_city
from handwerkgeo.errors import DuplicateIdError, MissingColumnError
from handwerkgeo.fetch import layer_paths
from handwerkgeo.sources.quarters import normalise_name, read_stadtteile

__all__ = ["read_schools"]

logger = logging.getLogger(__name__)

_COLUMNS = {
    "id": "id",
    "name": "name",
    "form": "form",
    "traeger": "operator",
    "strasse": "address",
    "plz": "postcode",
    "stadtteil": "stadtteil",
    "bezirk": "bezirk",
}


def read_schools(
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    stadtteile: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Read the school sites as points in EPSG:25832, assigned to Stadtteile by geometry.

    Parameters
    ----------
    path
        The schools CSV. ``None`` reads the fetched layer ``schools``.
    data_dir
        Data directory when ``path`` (or ``stadtteile``) is ``None``.
    stadtteile
        Stadtteile as returned by :func:`handwerkgeo.sources.quarters.read_stadtteile`;
        ``None`` reads the fetched ones.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per usable record, in file order, with ``id`` (str), ``name``, ``form``
        (e.g. ``"Grundschule"``), ``operator`` (Träger), ``address``, ``postcode`` (str),
        ``stadtteil`` (name as given), ``bezirk`` (as given, as a two-digit code ``"01"`` …),
        ``stadtteil_code_geom``, ``stadtteil_name_geom`` and ``bezirk_code_geom`` (from the
        Stadtteil polygon the point lies in; missing outside the city), ``stadtteil_mismatch``
        (the given Stadtteil differs from the polygon's, compared without case, umlaut and
        hyphen differences) and a Point ``geometry``.
        Records without usable coordinates are left out and listed in ``attrs["rejects"]``
        (``id`` and ``reason``) and logged as a warning; ``attrs["source_crs"]`` is
        ``"EPSG:4326"``.

    Raises
    ------
    MissingColumnError
        If a required column is missing.
    DuplicateIdError
        If an id occurs more than once.

    Examples
    --------
    >>> schools = read_schools()  # doctest: +SKIP
    >>> int(schools["stadtteil_mismatch"].sum())  # doctest: +SKIP
    5
    """
    src = Path(path) if path is not None else layer_paths("schools", data_dir)[0]
    name = f"schools file {src}"
    df = pd.read_csv(io.StringIO(read_text(src)), dtype=str, keep_default_na=False)
    df.columns = [str(c).strip().lower() for c in df.columns]
    required = [*_COLUMNS, "lon", "lat"]
    missing = [c for c in required if c not in df.columns]
    if missing:
        msg = (
            f"{name} lacks the column(s) {', '.join(missing)}; expected "
            f"{', '.join(required)}. Found: {', '.join(df.columns)}"
        )
        raise MissingColumnError(msg)
    df = df.apply(lambda s: s.str.strip())
    dup = df.loc[df["id"].duplicated(keep=False), "id"]
    if len(dup):
        msg = (
            f"{name}: the id(s) {', '.join(sorted(set(dup)))} occur more than once; "
            "every school record needs its own id"
        )
        raise DuplicateIdError(msg)

    lon = pd.to_numeric(df["lon"].str.replace(",", ".", regex=False), errors="coerce")
    lat = pd.to_numeric(df["lat"].str.replace(",", ".", regex=False), errors="coerce")
    reasons = pd.Series("", index=df.index, dtype=object)
    reasons[lon.isna() | lat.isna()] = "lon/lat missing or not a number"
    swapped = lon.between(50, 53) & lat.between(5, 8)
    reasons[swapped & (reasons == "")] = "lon and lat look swapped (lon ≈ 51, lat ≈ 6.8)"
    out_of_range = ~lon.between(-180, 180) | ~lat.between(-90, 90)
    reasons[out_of_range & (reasons == "")] = "lon/lat outside the valid range"
    bad = reasons != ""
    rejects = [
        {"id": str(i), "reason": str(r)}
        for i, r in zip(df.loc[bad, "id"], reasons[bad], strict=True)
    ]
    if rejects:
        logger.warning(
            "%s: %d record(s) without usable coordinates are left out: %s",
            name,
            len(rejects),
            "; ".join(f"id {r['id']}: {r['reason']}" for r in rejects),
        )

    good = df.loc[~bad]
    out = gpd.GeoDataFrame(
        good[list(_COLUMNS)].rename(columns=_COLUMNS),
        geometry=gpd.points_from_xy(lon[~bad], lat[~bad]),
        crs="EPSG:4326",
    ).to_crs(CRS)
    bz = pd.to_numeric(out["bezirk"], errors="coerce")
    out["bezirk"] = [f"{int(b):02d}" if pd.notna(b) else pd.NA for b in bz]

    if stadtteile is None:
        stadtteile = read_stadtteile(data_dir=data_dir)
    check_crs(stadtteile, name="stadtteile")
    joined = gpd.sjoin(
        out[[out.geometry.name]],
        stadtteile[["stadtteil_code", "stadtteil_name", "bezirk_code", "geometry"]],
        how="left",
        predicate="intersects",
    )
    # a point exactly on a border touches two polygons: take the lower code, deterministically
    joined = joined.sort_values("stadtteil_code", na_position="last")
    joined = joined[~joined.index.duplicated(keep="first")].reindex(out.index)
    out["stadtteil_code_geom"] = joined["stadtteil_code"]
    out["stadtteil_name_geom"] = joined["stadtteil_name"]
    out["bezirk_code_geom"] = joined["bezirk_code"]
    out["stadtteil_mismatch"] = np.array(
        [
            pd.notna(geom) and normalise_name(given) != normalise_name(geom)
            for given, geom in zip(out["stadtteil"], out["stadtteil_name_geom"], strict=True)
        ],
        dtype=bool,
    )
    outside = out["stadtteil_code_geom"].isna().to_numpy()
    if outside.any():
        far = outside & outside_city(out.geometry)
        logger.warning(
            "%s: %d school(s) lie in no Stadtteil (%d far outside the city): ids %s",
            name,
            int(outside.sum()),
            int(far.sum()),
            ", ".join(out.loc[outside, "id"]),
        )
    cols = [c for c in out.columns if c != out.geometry.name]
    out = out[[*cols, out.geometry.name]].reset_index(drop=True)
    out.attrs = {"source_crs": "EPSG:4326", "source_path": str(src), "rejects": rejects}
    logger.info(
        "read %d schools from %s; %d with a Stadtteil differing from the polygon's",
        len(out),
        src,
        int(np.asarray(out["stadtteil_mismatch"]).sum()),
    )
    return out
