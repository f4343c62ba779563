"""Reader of XPlanung plans (B-Plan and FNP) in GML or GeoPackage."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd

from handwerkgeo._validate import find_column
from handwerkgeo.errors import ConfigError, DataSourceError, MissingColumnError
from handwerkgeo.sources.zoning._common import (
    ZoneRows,
    cell_values,
    finish_zoning,
    first_value,
    keep_polygons,
    label_text,
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
    "read_xplanung",
]


_XPLAN_LAYERS = {
    "bplan": ("BP_BaugebietsTeilFlaeche", "BP_BaugebietsTeilFlaechen", "BP_Baugebiet"),
    "fnp": ("FP_BebauungsFlaeche", "FP_BebauungsFlaechen"),
}


def _gml_feature_types(path: Path) -> list[str]:
    """XPlanung feature types present in a GML file (without letting GDAL write a .gfs)."""
    found: dict[str, None] = {}
    pattern = re.compile(rb"<(?:[\w.-]+:)?((?:BP|FP)_[A-Za-z]+)[\s>]")
    with path.open("rb") as fh:
        tail = b""
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            for m in pattern.finditer(tail + chunk):
                found.setdefault(m.group(1).decode(), None)
            tail = chunk[-200:]
    return list(found)


def _gml_layer(p: Path, plan: str | None) -> str:
    """The XPlanung Baugebiet/Bebauungsfläche layer of a GML file."""
    types = _gml_feature_types(p)
    wanted = [t for kind in ([plan] if plan else ["bplan", "fnp"]) for t in _XPLAN_LAYERS[kind]]
    hits = [t for t in wanted if t in types]
    if not hits:
        msg = (
            f"{p.name} holds no XPlanung Baugebiet layer (looked for "
            f"{', '.join(wanted)}; found {', '.join(types) or 'no BP_/FP_ features'}). "
            "Pass layer= with the layer holding the Baugebiete/Bauflächen."
        )
        raise DataSourceError(msg)
    return hits[0]


def _plan_kind(p: Path, plan: str | None, layer: str | int | None) -> str:
    """``"bplan"`` or ``"fnp"``: as given, or from the layer name (``BP_…``/``FP_…``)."""
    if plan is None:
        lname = str(layer or p.stem)
        if lname.upper().startswith("BP_"):
            plan = "bplan"
        elif lname.upper().startswith("FP_"):
            plan = "fnp"
        else:
            msg = (
                f"cannot tell whether {p.name} is a B-Plan or an FNP (layer {lname!r}); "
                "pass plan='bplan' or plan='fnp'."
            )
            raise DataSourceError(msg)
    if plan not in ("bplan", "fnp"):
        msg = f"plan must be 'bplan' or 'fnp', got {plan!r}"
        raise ConfigError(msg)
    return plan


def _sondernutzung(
    entry: ZoneEntry, table: str, label: str, so: Any, voc: ZoningVocabulary
) -> tuple[ZoneEntry, str, str]:
    """A Sondergebiet with a commercial ``sondernutzung`` (e.g. Hafengebiet)."""
    if entry.category != "SO" or so is None or "xplanung_sondernutzung" not in voc.tables:
        return entry, table, label
    for sv in so if isinstance(so, list | tuple) else [so]:
        if is_missing(sv):
            continue
        hit = voc.lookup("xplanung_sondernutzung", sv)
        if hit is not None:
            return hit, "xplanung_sondernutzung", f"{label} ({label_text(sv)})"
    return entry, table, label


def _classify(
    b: Any, a: Any, so: Any, voc: ZoningVocabulary, unmapped: Counter[str]
) -> tuple[ZoneEntry, str, str]:
    """Entry, vocabulary table and label of one feature from besondereArt / allgArt."""
    entry, table, label = None, "xplanung_besondere", ""
    if not is_missing(b):
        label = label_text(b)
        entry = voc.lookup("xplanung_besondere", b) or parse_label_entry(b, voc)
        if entry is None:
            unmapped[f"besondereArtDerBaulNutzung={label}"] += 1
    if entry is None and not is_missing(a):
        label = label or label_text(a)
        table = "xplanung_allgemein"
        entry = voc.lookup("xplanung_allgemein", a) or parse_label_entry(a, voc)
        if entry is None:
            unmapped[f"allgArtDerBaulNutzung={label_text(a)}"] += 1
    if entry is None:
        if is_missing(b) and is_missing(a):
            unmapped["(no allgArt/besondereArt)"] += 1
        entry, table = ZoneEntry("UNKNOWN", 0.0), "xplanung_besondere"
    return _sondernutzung(entry, table, label, so, voc)


def read_xplanung(
    path: str | os.PathLike[str],
    *,
    plan: Literal["bplan", "fnp"] | None = None,
    layer: str | int | None = None,
    crs: object | None = None,
    vocabulary: ZoningVocabulary | None = None,
) -> gpd.GeoDataFrame:
    """Read Baugebiete of a B-Plan or Bauflächen of an FNP in the XPlanung schema.

    Reads XPlanGML 4.1, 5.x and 6.0 (via GDAL's GML driver, writing no ``.gfs`` beside the
    file: layers ``BP_BaugebietsTeilFlaeche`` / ``FP_BebauungsFlaeche``; the CRS from the
    ``srsName`` in any spelling German plans use, also ``urn:adv:crs:ETRS89_UTM32``) and
    GeoPackage, GeoJSON, Shapefile or GeoParquet exports of those feature types with the
    attributes ``besondereArtDerBaulNutzung`` and/or ``allgArtDerBaulNutzung`` (codes such
    as ``1700`` or enumeration names such as ``"Gewerbegebiet"``) and optionally
    ``sondernutzung``.

    Parameters
    ----------
    path
        The file.
    plan
        ``"bplan"`` or ``"fnp"``; default from the layer name (``BP_…``/``FP_…``).
    layer
        Layer to read; default the XPlanung Baugebiet/Bebauungsfläche layer.
    crs
        CRS to assume when the file has none (or overriding a wrong label), in any spelling
        of :func:`handwerkgeo.crs_names.resolve_crs`.
    vocabulary
        Mapping tables; default the packaged ``zoning_vocabulary.yaml``.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical zoning columns (see module docstring), EPSG:25832. The category comes
        from ``besondereArtDerBaulNutzung`` (a Baugebiet, e.g. ``GE``); where that is
        missing from ``allgArtDerBaulNutzung`` (a Baufläche, e.g. ``FNP_G``).
        ``SondergebietSonst`` with a commercial ``sondernutzung`` (Hafengebiet) becomes
        ``SO_COMMERCIAL``.

    Raises
    ------
    handwerkgeo.errors.MissingColumnError
        If neither attribute exists (lists the columns found).
    handwerkgeo.errors.DataSourceError
        If the file cannot be read or the plan type cannot be determined.
    """
    voc = vocabulary or load_zoning_vocabulary()
    p = Path(path)
    if layer is None and p.suffix.lower() in {".gml", ".xml"} and p.is_file():
        layer = _gml_layer(p, plan)
    gdf = read_layer(p, layer=layer, what="XPlanung")
    kind = _plan_kind(p, plan, layer)
    source = f"xplanung_{kind}"
    gdf = keep_polygons(gdf, name=p.name)
    besondere_col = find_column(gdf.columns, ["besondereArtDerBaulNutzung"])
    allg_col = find_column(gdf.columns, ["allgArtDerBaulNutzung"])
    sonder_col = find_column(gdf.columns, ["sondernutzung", "sondernutzungen"])
    if besondere_col is None and allg_col is None:
        msg = (
            f"{p.name} has neither 'besondereArtDerBaulNutzung' nor 'allgArtDerBaulNutzung'. "
            f"Columns found: {', '.join(map(str, gdf.columns))}. Export the XPlanung "
            "attributes with the polygons, or read the layer with read_commercial_areas / "
            "a zoning column instead."
        )
        raise MissingColumnError(msg)
    n = len(gdf)
    bes = cell_values(gdf[besondere_col]) if besondere_col else [None] * n
    allg = cell_values(gdf[allg_col]) if allg_col else [None] * n
    son = cell_values(gdf[sonder_col]) if sonder_col else [None] * n
    rows = ZoneRows()
    for b, a, so in zip(bes, allg, son, strict=True):
        entry, table, label = _classify(first_value(b), first_value(a), so, voc, rows.unmapped)
        rows.add(entry, voc.confidence(table, entry, source), label)
    return finish_zoning(
        gdf,
        rows,
        source=source,
        crs=crs,
        name=p.name,
    )
