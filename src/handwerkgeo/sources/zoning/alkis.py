"""Reader of the ALKIS tatsächliche Nutzung (actual land use) layer."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from handwerkgeo._validate import find_column
from handwerkgeo.errors import MissingColumnError
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
    "read_alkis_nutzung",
]


def read_alkis_nutzung(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    crs: object | None = None,
    vocabulary: ZoningVocabulary | None = None,
) -> gpd.GeoDataFrame:
    """Actual land use from NRW "ALKIS vereinfacht" (feature type ``ave:Nutzung``).

    Parameters
    ----------
    path
        GML (WFS GetFeature response or download) or GeoJSON/GeoPackage with the
        attribute ``nutzart`` (e.g. ``"Industrie- und Gewerbefläche"``).
    layer, crs, vocabulary
        As in :func:`read_xplanung`.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical zoning columns with ``zone_source="alkis_nutzung"``; ``zone_label`` is the
        ``nutzart``. ALKIS says how land is used today, not what the plan allows
        (confidence 0.6).

    Raises
    ------
    handwerkgeo.errors.MissingColumnError
        If there is no ``nutzart`` column.
    """
    voc = vocabulary or load_zoning_vocabulary()
    p = Path(path)
    gdf = read_layer(p, layer=layer, what="ALKIS Nutzung")
    col = find_column(gdf.columns, ["nutzart"])
    if col is None:
        msg = (
            f"{p.name} has no 'nutzart' column (ALKIS vereinfacht ave:Nutzung). Columns found: "
            f"{', '.join(map(str, gdf.columns))}. Download the layer 'Nutzung' "
            "(ave:Nutzung) of the ALKIS vereinfacht WFS."
        )
        raise MissingColumnError(msg)
    gdf = keep_polygons(gdf, name=p.name)
    rows = ZoneRows()
    unmapped = rows.unmapped
    for val in cell_values(gdf[col]):
        entry = None if is_missing(val) else voc.lookup("alkis_nutzung", val)
        if entry is None:
            unmapped[str(val) if not is_missing(val) else "(empty nutzart)"] += 1
            entry = ZoneEntry("UNKNOWN", 0.0)
        label = "" if is_missing(val) else str(val)
        rows.add(entry, voc.confidence("alkis_nutzung", entry, "alkis_nutzung"), label)
    return finish_zoning(
        gdf,
        rows,
        source="alkis_nutzung",
        crs=crs,
        name=p.name,
    )
