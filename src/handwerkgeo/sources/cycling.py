"""The city's base cycling network (Basisradwegenetz Düsseldorf).

Published as GeoJSON in CRS84 (longitude/latitude) with 3-D coordinates (z = 0) and one
attribute ``NaviNetz`` (all null in the 2020 copy). The reader drops z, reprojects to
EPSG:25832 and adds the length of each feature.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import shapely

from handwerkgeo.crs import raise_if_outside, to_canonical
from handwerkgeo.fetch import layer_paths

__all__ = ["read_cycling_network"]

logger = logging.getLogger(__name__)

_LINEAR = {"LineString", "MultiLineString"}


def read_cycling_network(
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read the base cycling network as 2-D lines in EPSG:25832.

    Parameters
    ----------
    path
        The network file (GeoJSON or any line layer pyogrio reads, with a CRS). ``None``
        reads the fetched layer ``cycling_network``.
    data_dir
        Data directory when ``path`` is ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per usable feature, in the file's order, with ``segment_id`` (int, the
        feature's position in the file), the file's attributes in lower case (``navinetz``),
        ``length_m`` (metres, in EPSG:25832) and a 2-D (Multi)LineString ``geometry``.
        Features without geometry or with a non-linear one are not returned; they are listed
        in ``attrs["rejects"]`` (``segment_id`` and ``reason``) and logged as a warning.
        ``attrs["source_crs"]`` holds the file's CRS.

    Raises
    ------
    NoCrsError, OutsideAreaError
        For a file without CRS or whose coordinates are not in Düsseldorf.

    Examples
    --------
    >>> net = read_cycling_network()  # doctest: +SKIP
    >>> round(net["length_m"].sum() / 1000)  # doctest: +SKIP
    688
    """
    src = Path(path) if path is not None else layer_paths("cycling_network", data_dir)[0]
    raw = gpd.read_file(src, engine="pyogrio")
    name = f"cycling network {src}"
    raw = raw.rename(columns={c: str(c).lower() for c in raw.columns if c != "geometry"})
    raw.insert(0, "segment_id", range(len(raw)))

    geoms = raw.geometry
    empty = geoms.isna() | geoms.is_empty
    wrong = ~empty & ~geoms.geom_type.isin(sorted(_LINEAR))
    rejects = [
        {"segment_id": int(i), "reason": "missing or empty geometry"}
        for i in raw.loc[empty, "segment_id"]
    ] + [
        {"segment_id": int(i), "reason": f"not a line ({t})"}
        for i, t in zip(raw.loc[wrong, "segment_id"], geoms[wrong].geom_type, strict=True)
    ]
    if rejects:
        logger.warning(
            "%s: %d feature(s) cannot be used and are left out: %s",
            name,
            len(rejects),
            "; ".join(f"{r['segment_id']}: {r['reason']}" for r in rejects),
        )
    keep = raw.loc[~(empty | wrong)].copy()
    keep = keep.set_geometry(shapely.force_2d(keep.geometry.to_numpy()), crs=raw.crs)
    out = to_canonical(keep, name=name)
    source_crs = out.attrs["source_crs"]
    raise_if_outside(out.geometry, name=name)
    out["length_m"] = out.geometry.length
    cols = [c for c in out.columns if c not in {"length_m", out.geometry.name}]
    out = out[[*cols, "length_m", out.geometry.name]].reset_index(drop=True)
    out.attrs = {
        "source_crs": source_crs,
        "source_path": str(src),
        "rejects": rejects,
    }
    logger.info(
        "read %d cycling network features (%.1f km) from %s",
        len(out),
        out["length_m"].sum() / 1000,
        src,
    )
    return out
