"""Reader of commercial-area registers (Gewerbeflächen): zoning, status and brownfield
flags as planners write them.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd

from handwerkgeo._text import normalize_key, parse_yes_no
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
    parse_label_entry,
)

__all__ = [
    "read_commercial_areas",
]

logger = logging.getLogger(__name__)


_STATUS_COLUMNS = ("status", "verfuegbarkeit", "verfügbarkeit", "belegung", "vermarktungsstand",
                   "vermarktung", "nutzungsstatus", "flaechenstatus", "availability")  # fmt: skip

_ZONING_COLUMNS = ("zoning", "zone", "baugebiet", "gebietstyp", "gebietsart", "planungsrecht",
                   "festsetzung", "art_der_nutzung", "bauleitplanung")  # fmt: skip


def read_commercial_areas(
    path: str | os.PathLike[str],
    *,
    status_col: str | None = None,
    zoning_col: str | None = None,
    layer: str | int | None = None,
    crs: object | None = None,
    vocabulary: ZoningVocabulary | None = None,
) -> gpd.GeoDataFrame:
    """Commercial areas (Gewerbeflächen, Potenzialflächenkataster) with their status.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, GML or GeoParquet of polygons.
    status_col
        Column with the status (``"verfügbar"``, ``"reserviert"``, ``"belegt"`` …); default
        the first of ``status``, ``Verfügbarkeit``, ``Belegung``, ``Vermarktungsstand`` ….
    zoning_col
        Column with the zoning of each area (``"GE"``, ``"GI"``, ``"Gewerbegebiet"`` …);
        default the first of ``zoning``, ``Baugebiet``, ``Gebietstyp``, ``Planungsrecht`` ….
        Without one, areas get the vocabulary's ``commercial_areas_default_category``
        (``FNP_G``, gewerbliche Baufläche).
    layer, crs, vocabulary
        As in :func:`read_xplanung`.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical zoning columns plus ``status`` (``available``, ``reserved``, ``in_use``,
        ``unknown``) and ``status_label`` (the original text); a ``name`` column is kept
        when present. ``brownfield`` comes from a ``brownfield``/``brache`` column if any.

    Raises
    ------
    handwerkgeo.errors.MissingColumnError
        If no status column is found (lists the columns found).
    """
    voc = vocabulary or load_zoning_vocabulary()
    p = Path(path)
    gdf = read_layer(p, layer=layer, what="commercial areas")
    columns = ", ".join(map(str, gdf.columns))
    scol = (
        find_column(gdf.columns, [status_col])
        if status_col
        else find_column(gdf.columns, _STATUS_COLUMNS)
    )
    if scol is None:
        msg = (
            f"{p.name} has no status column"
            + (f" {status_col!r}" if status_col else f" (looked for {', '.join(_STATUS_COLUMNS)})")
            + f". Columns found: {columns}. Pass status_col= with the column that says "
            "whether an area is available, reserved or in use."
        )
        raise MissingColumnError(msg)
    zcol = (
        find_column(gdf.columns, [zoning_col])
        if zoning_col
        else find_column(gdf.columns, _ZONING_COLUMNS)
    )
    if zoning_col and zcol is None:
        msg = f"{p.name} has no zoning column {zoning_col!r}. Columns found: {columns}."
        raise MissingColumnError(msg)
    gdf = keep_polygons(gdf, name=p.name)
    statuses, status_labels = [], []
    rows = ZoneRows()
    unmapped = rows.unmapped
    unknown_status: Counter[str] = Counter()
    for sval in cell_values(gdf[scol]):
        text = "" if is_missing(sval) else str(sval).strip()
        st = voc.status.get(normalize_key(text), "unknown") if text else "unknown"
        if st == "unknown":
            unknown_status[text or "(empty)"] += 1
        statuses.append(st)
        status_labels.append(text)
    zvals = cell_values(gdf[zcol]) if zcol else [None] * len(gdf)
    for zval in zvals:
        entry: ZoneEntry | None
        if zcol is None:
            entry, table, label = ZoneEntry(voc.commercial_default), "labels", ""
        else:
            entry = parse_label_entry(zval, voc)
            label = "" if is_missing(zval) else str(zval).strip()
            table = "labels"
            if entry is None:
                unmapped[label or "(empty zoning)"] += 1
                entry = ZoneEntry("UNKNOWN", 0.0)
        rows.add(entry, voc.confidence(table, entry, "commercial_areas"), label)
    if unknown_status:
        listed = ", ".join(f"{k!r} ({n})" for k, n in unknown_status.most_common(15))
        logger.warning(
            "%s: %d area(s) with a status not in the vocabulary got status 'unknown': %s",
            p.name,
            sum(unknown_status.values()),
            listed,
        )
    bcol = find_column(gdf.columns, ["brownfield", "brache", "brachflaeche"])
    # a register's own brownfield column, not the zoning entry, says whether it is disused
    rows.brownfield = (
        [parse_yes_no(x) is True for x in cell_values(gdf[bcol])] if bcol else [False] * len(gdf)
    )
    extra: dict[str, Any] = {"status": statuses, "status_label": status_labels}
    ncol = find_column(gdf.columns, ["name", "bezeichnung", "flaechenname"])
    if ncol is not None:
        extra["name"] = [None if is_missing(x) else str(x) for x in cell_values(gdf[ncol])]
    out = finish_zoning(
        gdf,
        rows,
        source="commercial_areas",
        crs=crs,
        name=p.name,
        extra=extra,
    )
    out.attrs["unknown_status"] = dict(unknown_status)
    return out
