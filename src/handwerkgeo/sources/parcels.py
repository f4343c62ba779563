"""Cadastral parcels (Flurstücke) from NRW "ALKIS vereinfacht", and plots made of them.

The NRW ALKIS vereinfacht WFS (feature type ``ave:Flurstueck``, EPSG:25832, licence
dl-de/zero-2.0) publishes each parcel with ``flstkennz`` (Flurstückskennzeichen), ``flaeche``
(official area in m²), ``lagebeztxt`` (address/location text) and ``tntxt`` (actual use as
text, e.g. ``"Industrie- und Gewerbefläche 2345 m²"``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from handwerkgeo._validate import check_geometries, find_column, parse_numbers
from handwerkgeo.crs import CRS, check_crs, to_canonical
from handwerkgeo.errors import (
    DuplicateIdError,
    MissingColumnError,
    ValidationError,
)
from handwerkgeo.sources.vector import read_vector

__all__ = ["PARCEL_COLUMNS", "parcels_to_plots", "read_alkis_parcels"]

logger = logging.getLogger(__name__)

#: Canonical columns of a parcel frame (other attributes of the source are kept after them).
PARCEL_COLUMNS = [
    "parcel_id",
    "area_official_m2",
    "address",
    "tntxt",
    "area_m2",
    "area_diff_pct",
]

_GAP_TOLERANCE_M = 0.05


def read_alkis_parcels(
    path: str | os.PathLike[str],
    *,
    crs: object | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read ALKIS vereinfacht parcels (``ave:Flurstueck``) from GML, GeoJSON or GeoPackage.

    Parameters
    ----------
    path
        WFS GetFeature response or download (GML), or a GeoJSON/GeoPackage export.
    crs
        CRS to assume when the file has none (or to override a wrong label).
    layer
        Layer of a multi-layer file (e.g. ``"Flurstueck"``).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:25832, one row per parcel: ``parcel_id`` (str, the ``flstkennz`` as given),
        ``area_official_m2`` (float, from ``flaeche``; text values are read as German
        numbers: ``"1.234,5"`` and ``"1.000"`` = 1000),
        ``address`` (``lagebeztxt``), ``tntxt``, ``area_m2`` (from the geometry),
        ``area_diff_pct`` (geometry vs official area, %), the other attributes, geometry.
        Invalid polygons are repaired with :func:`shapely.make_valid` (logged); exact
        duplicates (same id and geometry, as WFS paging can produce) are removed (logged).

    Raises
    ------
    handwerkgeo.errors.MissingColumnError
        If there is no ``flstkennz`` column.
    handwerkgeo.errors.DuplicateIdError
        If one ``flstkennz`` has different geometries.
    handwerkgeo.errors.DataSourceError
        If the file cannot be read.
    """
    p = Path(path)
    # no .gfs beside the file; an AdV srsName (urn:adv:crs:ETRS89_UTM32) is the file's CRS
    raw = read_vector(p, layer=layer, what="parcel")
    id_col = find_column(raw.columns, ["flstkennz"])
    if id_col is None:
        msg = (
            f"{p.name} has no 'flstkennz' column (ALKIS vereinfacht ave:Flurstueck). "
            f"Columns found: {', '.join(map(str, raw.columns))}. Download the layer "
            "'Flurstueck' of the ALKIS vereinfacht WFS."
        )
        raise MissingColumnError(msg)
    gdf = raw.reset_index(drop=True)
    geoms, issues, notes = check_geometries(gdf.geometry, allow_points=False, repair=True)
    for note in notes:
        logger.warning("%s: %s", p.name, note)
    if issues:
        bad_rows = sorted({i.pos for i in issues})
        listed = "; ".join(f"row {i.pos + 1}: {i.reason}" for i in issues[:10])
        logger.warning(
            "%s: %d parcel(s) without a usable polygon are left out (%s)",
            p.name,
            len(bad_rows),
            listed,
        )
    gdf = gdf.set_geometry(geoms)
    keep = np.ones(len(gdf), dtype=bool)
    keep[[i.pos for i in issues]] = False
    gdf = gdf[keep]
    ids = gdf[id_col].astype(object).map(lambda x: None if pd.isna(x) else str(x).strip())
    if ids.isna().any():
        logger.warning(
            "%s: %d parcel(s) without flstkennz are left out", p.name, int(ids.isna().sum())
        )
        gdf, ids = gdf[ids.notna()], ids[ids.notna()]
    gdf = gdf.assign(_id=ids.to_numpy(), _wkb=shapely.to_wkb(gdf.geometry.to_numpy()))
    exact = gdf.duplicated(["_id", "_wkb"])
    if exact.any():
        logger.warning(
            "%s: %d exact duplicate parcel(s) removed (same flstkennz and geometry)",
            p.name,
            int(exact.sum()),
        )
        gdf = gdf[~exact]
    dup = gdf["_id"].duplicated(keep=False)
    if dup.any():
        values = sorted(set(gdf.loc[dup, "_id"]))
        msg = (
            f"{p.name}: {len(values)} flstkennz occur with different geometries: "
            f"{', '.join(values[:20])}{' …' if len(values) > 20 else ''}. Download the "
            "parcels again (one version per parcel) or remove the outdated rows."
        )
        raise DuplicateIdError(msg)
    area_col = find_column(gdf.columns, ["flaeche", "amtlicheflaeche"])
    addr_col = find_column(gdf.columns, ["lagebeztxt"])
    tn_col = find_column(gdf.columns, ["tntxt"])
    official = np.full(len(gdf), np.nan)
    if area_col is not None:
        values = gdf[area_col].tolist()
        # ALKIS is German: text areas use a decimal comma, and "1.000" groups thousands
        german = any(
            isinstance(x, str) and ("," in x or re.fullmatch(r"\s*\d{1,3}(\.\d{3})+\s*", x))
            for x in values
        )
        official, bad = parse_numbers(values, decimal="," if german else ".")
        if bad.any():
            logger.warning(
                "%s: %d 'flaeche' value(s) are not numbers and were left empty: %s",
                p.name,
                int(bad.sum()),
                ", ".join(map(repr, gdf.loc[bad, area_col].tolist()[:10])),
            )
    else:
        logger.warning("%s: no 'flaeche' column; area_official_m2 is empty", p.name)
    drop = [c for c in (id_col, area_col, addr_col, "_id", "_wkb") if c is not None]
    rest = pd.DataFrame(gdf.drop(columns=[*drop, gdf.geometry.name]))
    rest = rest.drop(columns=[c for c in PARCEL_COLUMNS if c in rest.columns and c != "tntxt"])
    out = gpd.GeoDataFrame(
        {
            "parcel_id": gdf["_id"].to_numpy(dtype=object),
            "area_official_m2": official,
            "address": _text(gdf[addr_col]) if addr_col else [None] * len(gdf),
            "tntxt": _text(gdf[tn_col]) if tn_col else [None] * len(gdf),
            **{c: rest[c].to_numpy() for c in rest.columns if c != "tntxt"},
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    out = to_canonical(out, crs=crs, name=p.name).reset_index(drop=True)
    area = out.geometry.area.to_numpy()
    diff = np.divide(
        (area - official) * 100.0,
        official,
        out=np.full(len(out), np.nan),
        where=np.isfinite(official) & (official > 0),
    )
    out.insert(4, "area_m2", area)
    out.insert(5, "area_diff_pct", diff)
    large = np.flatnonzero(np.abs(np.nan_to_num(diff)) > 5)
    if len(large):
        logger.warning(
            "%s: %d parcel(s) whose geometry area differs by more than 5 %% from 'flaeche' "
            "(e.g. %s); check the CRS and the geometry",
            p.name,
            len(large),
            ", ".join(out["parcel_id"].iloc[large[:5]]),
        )
    logger.info("%s: %d parcel(s), source CRS %s", p.name, len(out), out.attrs.get("source_crs"))
    return out


def _text(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(x) or not str(x).strip() else str(x).strip() for x in series]


def parcels_to_plots(
    parcels: gpd.GeoDataFrame,
    ids: Iterable[str] | None = None,
    *,
    merge_adjacent: bool = False,
    min_shared_edge_m: float = 1.0,
) -> gpd.GeoDataFrame:
    """Turn selected parcels into candidate plots.

    Parameters
    ----------
    parcels
        Output of :func:`read_alkis_parcels` (EPSG:25832, ``parcel_id``). Not modified.
    ids
        ``parcel_id`` values to use; ``None`` uses all parcels.
    merge_adjacent
        Merge selected parcels that share a boundary of at least ``min_shared_edge_m``
        (directly or through a chain of neighbours) into one plot. Gaps up to 5 cm between
        neighbours (digitising noise) are closed.
    min_shared_edge_m
        Minimum shared boundary length for two parcels to count as adjacent; parcels that
        only touch at a corner are not merged.

    Returns
    -------
    geopandas.GeoDataFrame
        Plots per docs/design.md: ``plot_id`` (the ``parcel_id``, or the sorted ids of the
        merged parcels joined with ``"+"``), ``parcel_ids`` (comma-separated),
        ``n_parcels``, ``address`` and ``tntxt`` (distinct values joined with ``"; "``),
        ``area_official_m2`` (sum), ``area_m2`` (geometry), ``is_point`` (False), geometry.

    Raises
    ------
    handwerkgeo.errors.MissingColumnError
        If ``parcels`` has no ``parcel_id``.
    handwerkgeo.errors.ValidationError
        If requested ids are not in ``parcels`` (all of them are listed).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["a", "b", "c"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(50, 0, 60, 10)],
    ...     crs="EPSG:25832")
    >>> parcels_to_plots(parcels, merge_adjacent=True)["plot_id"].tolist()
    ['a+b', 'c']
    """
    check_crs(parcels, name="parcels")
    if "parcel_id" not in parcels.columns:
        msg = (
            "parcels need a 'parcel_id' column; read them with read_alkis_parcels(). "
            f"Columns found: {', '.join(map(str, parcels.columns))}."
        )
        raise MissingColumnError(msg)
    frame = parcels.copy()
    frame["parcel_id"] = frame["parcel_id"].astype(str)
    if ids is not None:
        wanted = [str(i) for i in ids]
        known = set(frame["parcel_id"])
        missing = [i for i in dict.fromkeys(wanted) if i not in known]
        if missing:
            problems = [
                f"parcel id {i!r} is not among the {len(frame)} parcels. Fix: check the "
                "flstkennz as written by ALKIS (leading zeros, trailing '_' padding)."
                for i in missing
            ]
            raise ValidationError("parcels_to_plots", problems)
        frame = frame[frame["parcel_id"].isin(set(wanted))]
    frame = frame.reset_index(drop=True)
    n = len(frame)
    if merge_adjacent and n > 1:
        labels = _adjacent_groups(frame.geometry.to_numpy(), min_shared_edge_m)
    else:
        labels = np.arange(n)
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for g in pd.unique(labels):
        part = frame[labels == g].sort_values("parcel_id")
        pids = part["parcel_id"].tolist()
        geom = part.geometry.iloc[0] if len(part) == 1 else _merge(part.geometry.to_numpy())
        rows.append(
            {
                "plot_id": "+".join(pids),
                "parcel_ids": ",".join(pids),
                "n_parcels": len(pids),
                "address": _join(part, "address"),
                "tntxt": _join(part, "tntxt"),
                "area_official_m2": (
                    part["area_official_m2"].sum(min_count=len(part))
                    if "area_official_m2" in part.columns
                    else np.nan
                ),
            }
        )
        geoms.append(geom)
    plots = gpd.GeoDataFrame(
        pd.DataFrame(
            rows,
            columns=[
                "plot_id",
                "parcel_ids",
                "n_parcels",
                "address",
                "tntxt",
                "area_official_m2",
            ],
        ),
        geometry=gpd.GeoSeries(geoms, crs=CRS).to_numpy(),
        crs=CRS,
    )
    plots["area_official_m2"] = plots["area_official_m2"].astype(float)
    plots["n_parcels"] = plots["n_parcels"].astype("int64")
    plots.insert(len(plots.columns) - 1, "area_m2", plots.geometry.area.astype(float))
    plots.insert(len(plots.columns) - 1, "is_point", False)
    logger.info(
        "%d parcel(s) → %d plot(s)%s", n, len(plots), " (adjacent merged)" if merge_adjacent else ""
    )
    return plots


def _adjacent_groups(geoms: np.ndarray, min_shared_edge_m: float) -> np.ndarray:
    """Connected components of parcels sharing at least ``min_shared_edge_m`` of boundary."""
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    grown = shapely.buffer(geoms, _GAP_TOLERANCE_M)
    a, b = tree.query(grown, predicate="intersects")
    sel = a < b
    a, b = a[sel], b[sel]
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[a]), grown[b]))
    # the boundary strip inside the neighbour's tolerance band is ~ the shared edge length
    ok = shared >= min_shared_edge_m
    graph = coo_matrix((np.ones(int(ok.sum())), (a[ok], b[ok])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _merge(geoms: np.ndarray) -> Any:
    merged = shapely.union_all(geoms)
    if merged.geom_type == "Polygon":
        return merged
    closed = shapely.buffer(
        shapely.buffer(merged, _GAP_TOLERANCE_M, join_style="mitre"),
        -_GAP_TOLERANCE_M,
        join_style="mitre",
    )
    return closed if closed.geom_type == "Polygon" else merged


def _join(part: pd.DataFrame, col: str) -> str | None:
    if col not in part.columns:
        return None
    values = [str(x) for x in part[col].tolist() if not pd.isna(x) and str(x).strip()]
    return "; ".join(dict.fromkeys(values)) or None
