"""Reader of OSM ``landuse`` polygons (GeoJSON/GeoPackage export or a PBF extract)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from handwerkgeo.errors import DataSourceError, MissingColumnError
from handwerkgeo.sources.zoning._common import (
    ZoneRows,
    cell_values,
    finish_zoning,
    keep_polygons,
    read_layer,
)
from handwerkgeo.sources.zoning.vocabulary import (
    ZoneEntry,
    ZoningVocabulary,
    is_missing,
    load_zoning_vocabulary,
)

__all__ = [
    "read_osm_landuse",
]


def read_osm_landuse(
    path_or_gdf: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    layer: str | int | None = None,
    crs: object | None = None,
    vocabulary: ZoningVocabulary | None = None,
) -> gpd.GeoDataFrame:
    """Land use from OpenStreetMap (``landuse=*``, else ``natural=*`` / ``leisure=*``).

    Parameters
    ----------
    path_or_gdf
        A GeoDataFrame (e.g. from ``osmnx.features_from_place(..., tags={"landuse": True})``
        or ``pyrosm.OSM(...).get_landuse()``), a GeoJSON/GeoPackage extract, or an
        ``.osm.pbf`` file (read with pyrosm, the ``osm`` extra) or an OSM XML file (``.osm``;
        its ``landuse=*`` areas, see :func:`handwerkgeo.sources.osm.read_osm_features`).
    layer, crs, vocabulary
        As in :func:`read_xplanung`.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical zoning columns with ``zone_source="osm_landuse"`` and ``zone_label``
        like ``"landuse=industrial"``. OSM maps what is on the ground, not the legal zoning:
        confidences are 0.5 or lower (see the vocabulary). ``landuse=brownfield`` gives
        ``UNKNOWN`` with ``brownfield=True``.

    Raises
    ------
    handwerkgeo.errors.MissingColumnError
        If there is no ``landuse``, ``natural`` or ``leisure`` column.
    """
    voc = vocabulary or load_zoning_vocabulary()
    if isinstance(path_or_gdf, gpd.GeoDataFrame):
        gdf, name = path_or_gdf.copy(), "OSM landuse frame"
    else:
        p = Path(path_or_gdf)
        name = p.name
        if p.name.lower().endswith(".pbf"):
            gdf = _read_pbf_landuse(p)
        elif p.suffix.lower() == ".osm":
            from handwerkgeo.sources.osm import read_osm_features

            # by tag, not GDAL's first layer (the tagged nodes)
            gdf = read_osm_features(p, kind="landuse")
        else:
            gdf = read_layer(p, layer=layer, what="OSM landuse")
    if isinstance(gdf.index, pd.MultiIndex):
        gdf = gdf.reset_index()
    keys = [("landuse", "osm_landuse"), ("natural", "osm_natural"), ("leisure", "osm_leisure")]
    present = [(k, t) for k, t in keys if k in gdf.columns and t in voc.tables]
    if not any(k == "landuse" for k, _ in present) and not present:
        msg = (
            f"{name} has no 'landuse', 'natural' or 'leisure' column. Columns found: "
            f"{', '.join(map(str, gdf.columns))}. Download the OSM features with these tags."
        )
        raise MissingColumnError(msg)
    gdf = keep_polygons(gdf, name=name)
    rows = ZoneRows()
    unmapped = rows.unmapped
    columns = {k: cell_values(gdf[k]) for k, _ in present}
    for i in range(len(gdf)):
        entry, table, label = None, "osm_landuse", ""
        for k, t in present:
            val = columns[k][i]
            if is_missing(val):
                continue
            label = label or f"{k}={val}"
            hit = voc.lookup(t, val)
            if hit is not None:
                entry, table, label = hit, t, f"{k}={val}"
                break
            unmapped[f"{k}={val}"] += 1
            break
        if entry is None:
            if not label:
                unmapped["(no landuse/natural/leisure tag)"] += 1
            entry = ZoneEntry("UNKNOWN", 0.0)
        rows.add(entry, voc.confidence(table, entry, "osm_landuse"), label)
    return finish_zoning(
        gdf,
        rows,
        source="osm_landuse",
        crs=crs,
        name=name,
    )


def _read_pbf_landuse(path: Path) -> gpd.GeoDataFrame:
    try:
        from pyrosm import OSM
    except ImportError as exc:
        msg = (
            "reading .osm.pbf files needs pyrosm: pip install 'handwerkgeo[osm]', or convert "
            "the extract to GeoPackage (e.g. with osmium or QGIS) first."
        )
        raise DataSourceError(msg) from exc
    landuse = OSM(str(path)).get_landuse()
    if landuse is None or len(landuse) == 0:
        msg = f"{path.name} contains no landuse=* features."
        raise DataSourceError(msg)
    return landuse
