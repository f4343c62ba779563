"""Zoning and land-use layers: XPlanung (B-Plan, FNP), OSM landuse, ALKIS Nutzung, registers.

Every reader returns polygons in EPSG:25832 with the canonical zoning columns of
docs/design.md:

- ``zone_category``: project vocabulary (``GE``, ``MU``, ``FNP_G``, ``GREEN`` … ``UNKNOWN``);
- ``zone_source``: ``xplanung_bplan``, ``xplanung_fnp``, ``osm_landuse``,
  ``alkis_nutzung``, ``commercial_areas`` (``plot`` for a plot's own attribute);
- ``zone_confidence``: 0–1, how far the category can be trusted as *legal* zoning;
- ``zone_label``: the original value (code or text) the category came from;
- ``brownfield``: ``True`` where the source says the land is disused (OSM
  ``landuse=brownfield``, a register's brownfield flag);
- ``status`` (commercial-area registers only): ``available``, ``reserved``, ``in_use``,
  ``unknown``.

The mapping tables live in ``configs/zoning_vocabulary.yaml`` (with the source of every
mapping). Values missing there become ``UNKNOWN``: they are counted, logged as a warning
and listed in ``attrs["unmapped"]`` — never dropped. Non-polygon features (points, lines)
cannot carry zoning; they are counted and logged, and invalid polygons are repaired with
:func:`shapely.make_valid` (also logged).
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from handwerkgeo._geom import polygonal_part
from handwerkgeo._text import normalize_key, parse_yes_no
from handwerkgeo._validate import find_column
from handwerkgeo.crs import CRS, check_crs, to_canonical
from handwerkgeo.errors import ConfigError, DataSourceError, MissingColumnError

__all__ = [
    "STATUS_VALUES",
    "ZONE_CATEGORIES",
    "ZONE_COLUMNS",
    "ZoneEntry",
    "ZoningVocabulary",
    "load_zoning_vocabulary",
    "parse_zoning_label",
    "read_alkis_nutzung",
    "read_commercial_areas",
    "read_osm_landuse",
    "read_xplanung",
    "zoning_for_plots",
]

logger = logging.getLogger(__name__)

#: The project's zoning vocabulary (docs/design.md).
ZONE_CATEGORIES: tuple[str, ...] = (
    "WS", "WR", "WA", "WB", "MD", "MI", "MU", "MK", "GE", "GI", "SO", "SO_COMMERCIAL",
    "FNP_G", "FNP_M", "FNP_W", "FNP_S",
    "GREEN", "FOREST", "WATER", "AGRICULTURE", "TRANSPORT", "COMMUNITY", "UNKNOWN",
)  # fmt: skip

#: Status values of commercial-area layers.
STATUS_VALUES: tuple[str, ...] = ("available", "reserved", "in_use", "unknown")

#: Canonical columns of every zoning layer (commercial areas add ``status``).
ZONE_COLUMNS = ["zone_category", "zone_source", "zone_confidence", "zone_label", "brownfield"]

_ZONE_SOURCES = ("xplanung_bplan", "xplanung_fnp", "osm_landuse", "alkis_nutzung",
                 "commercial_areas", "plot")  # fmt: skip

_STATUS_COLUMNS = ("status", "verfuegbarkeit", "verfügbarkeit", "belegung", "vermarktungsstand",
                   "vermarktung", "nutzungsstatus", "flaechenstatus", "availability")  # fmt: skip
_ZONING_COLUMNS = ("zoning", "zone", "baugebiet", "gebietstyp", "gebietsart", "planungsrecht",
                   "festsetzung", "art_der_nutzung", "bauleitplanung")  # fmt: skip
_ABBREVIATION = re.compile(r"^(ws|wr|wa|wb|mdw|md|mi|mu|mk|gee|ge|gie|gi|so)[\s\-_.]*\d*[a-z]?$")
_CODE = re.compile(r"^\s*[+]?(\d+)(\.0+)?\s*$")


@dataclass(frozen=True)
class ZoneEntry:
    """One mapping of a source value: category, confidence (``None`` = table's), brownfield."""

    category: str
    confidence: float | None = None
    brownfield: bool = False


@dataclass(frozen=True)
class ZoningVocabulary:
    """The loaded and checked ``zoning_vocabulary.yaml``.

    Attributes
    ----------
    tables
        ``{table: {normalised key: ZoneEntry}}``.
    table_confidence
        Default confidence of each table.
    source_confidence
        Upper bound of the confidence per ``zone_source``.
    status
        ``{normalised status text: status}``.
    so_commercial_keywords
        Words that make a Sondergebiet label ``SO_COMMERCIAL``.
    commercial_default
        Category of commercial-area polygons without a zoning column.
    path
        Where the vocabulary was read from.
    """

    tables: Mapping[str, Mapping[str, ZoneEntry]]
    table_confidence: Mapping[str, float]
    source_confidence: Mapping[str, float]
    status: Mapping[str, str]
    so_commercial_keywords: tuple[str, ...]
    commercial_default: str
    path: str

    def lookup(self, table: str, value: object) -> ZoneEntry | None:
        """The entry of ``value`` in ``table`` (codes and texts normalised), or ``None``."""
        return self.tables[table].get(_key(value))

    def confidence(self, table: str, entry: ZoneEntry, source: str) -> float:
        """Confidence of an entry: its own or its table's, capped by the source's."""
        conf = entry.confidence if entry.confidence is not None else self.table_confidence[table]
        return float(min(conf, self.source_confidence.get(source, 1.0)))


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            msg = (
                f"duplicate key {key!r} in the zoning vocabulary "
                f"(line {key_node.start_mark.line + 1}); each value may be mapped only once"
            )
            raise ConfigError(msg)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _key(value: object) -> str:
    """Normalised lookup key: integral numbers as digits, texts via normalize_key."""
    if isinstance(value, bool | np.bool_):
        return normalize_key(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return str(int(value)) if np.isfinite(value) and float(value).is_integer() else ""
    text = str(value)
    m = _CODE.match(text)
    if m:
        return str(int(m.group(1)))
    return normalize_key(text)


def load_zoning_vocabulary(path: str | os.PathLike[str] | None = None) -> ZoningVocabulary:
    """Load and check the zoning vocabulary.

    Parameters
    ----------
    path
        A YAML file in the format of the packaged ``configs/zoning_vocabulary.yaml``;
        ``None`` loads the packaged one (cached).

    Returns
    -------
    ZoningVocabulary

    Raises
    ------
    handwerkgeo.errors.ConfigError
        Naming the table and key of an unknown category, a confidence outside 0–1, a
        duplicate key (also after normalisation, e.g. ``"Fläche"`` and ``"Flaeche"``), or
        an unknown status.

    Examples
    --------
    >>> voc = load_zoning_vocabulary()
    >>> voc.lookup("xplanung_besondere", 1700).category
    'GE'
    """
    if path is None:
        return _default_vocabulary()
    return _load_vocabulary(Path(path))


@lru_cache(maxsize=1)
def _default_vocabulary() -> ZoningVocabulary:
    ref = resources.files("handwerkgeo") / "configs" / "zoning_vocabulary.yaml"
    with resources.as_file(ref) as p:
        return _load_vocabulary(Path(p))


def _load_vocabulary(path: Path) -> ZoningVocabulary:
    where = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except OSError as exc:
        msg = f"cannot read the zoning vocabulary {where}: {exc}"
        raise ConfigError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"the zoning vocabulary {where} is not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        msg = f"the zoning vocabulary {where} needs a mapping 'tables'"
        raise ConfigError(msg)
    allowed = set(ZONE_CATEGORIES)
    declared = raw.get("categories")
    if declared is not None and set(declared) != allowed:
        msg = (
            f"{where}: 'categories' must list exactly the design vocabulary "
            f"{', '.join(ZONE_CATEGORIES)}; differences: {sorted(set(declared) ^ allowed)}"
        )
        raise ConfigError(msg)

    def conf(value: object, ctx: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            msg = f"{where}: {ctx} confidence must be a number from 0 to 1, got {value!r}"
            raise ConfigError(msg)
        return float(value)

    tables: dict[str, dict[str, ZoneEntry]] = {}
    table_conf: dict[str, float] = {}
    for tname, table in raw["tables"].items():
        if not isinstance(table, dict) or not isinstance(table.get("values"), dict):
            msg = f"{where}: table {tname!r} needs 'confidence' and a mapping 'values'"
            raise ConfigError(msg)
        table_conf[tname] = conf(table.get("confidence"), f"table {tname!r}:")
        entries: dict[str, ZoneEntry] = {}
        for k, spec in table["values"].items():
            ctx = f"table {tname!r}, key {k!r}:"
            if isinstance(spec, str):
                entry = ZoneEntry(spec)
            elif isinstance(spec, dict) and "category" in spec:
                unknown = set(spec) - {"category", "confidence", "brownfield"}
                if unknown:
                    msg = f"{where}: {ctx} unknown field(s) {sorted(unknown)}"
                    raise ConfigError(msg)
                c = spec.get("confidence")
                entry = ZoneEntry(
                    str(spec["category"]),
                    None if c is None else conf(c, ctx),
                    bool(spec.get("brownfield", False)),
                )
            else:
                msg = f"{where}: {ctx} must be a category or {{category: …, confidence: …}}"
                raise ConfigError(msg)
            if entry.category not in allowed:
                msg = (
                    f"{where}: {ctx} unknown category {entry.category!r}; "
                    f"allowed: {', '.join(ZONE_CATEGORIES)}"
                )
                raise ConfigError(msg)
            nk = _key(k)
            if nk in entries:
                msg = f"{where}: {ctx} duplicates another key of the table after normalisation"
                raise ConfigError(msg)
            entries[nk] = entry
        tables[tname] = entries
    required = {"xplanung_besondere", "xplanung_allgemein", "labels", "osm_landuse",
                "alkis_nutzung"}  # fmt: skip
    missing = required - set(tables)
    if missing:
        msg = f"{where}: missing table(s) {sorted(missing)}"
        raise ConfigError(msg)
    source_conf = {
        str(k): conf(val, f"source_confidence {k!r}:")
        for k, val in (raw.get("source_confidence") or {}).items()
    }
    bad_sources = set(source_conf) - set(_ZONE_SOURCES)
    if bad_sources:
        msg = f"{where}: unknown zone_source(s) {sorted(bad_sources)}; allowed: {_ZONE_SOURCES}"
        raise ConfigError(msg)
    status: dict[str, str] = {}
    for st, values in (raw.get("status") or {}).items():
        if st not in STATUS_VALUES:
            msg = f"{where}: unknown status {st!r}; allowed: {', '.join(STATUS_VALUES)}"
            raise ConfigError(msg)
        for val in values:
            nk = normalize_key(val)
            if nk in status and status[nk] != st:
                msg = f"{where}: status text {val!r} is listed under two statuses"
                raise ConfigError(msg)
            status[nk] = st
    default = str(raw.get("commercial_areas_default_category", "FNP_G"))
    if default not in allowed:
        msg = f"{where}: commercial_areas_default_category {default!r} is not a category"
        raise ConfigError(msg)
    keywords = tuple(normalize_key(w) for w in raw.get("so_commercial_keywords") or ())
    return ZoningVocabulary(
        tables=tables,
        table_confidence=table_conf,
        source_confidence=source_conf,
        status=status,
        so_commercial_keywords=keywords,
        commercial_default=default,
        path=where,
    )


# --- labels ---------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float | np.floating) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _parse_label(value: object, voc: ZoningVocabulary) -> ZoneEntry | None:
    """Entry for a free label (abbreviation, long name, XPlanung code or category)."""
    if _is_missing(value):
        return None
    key = _key(value)
    if key.isdigit():
        return voc.tables["xplanung_besondere"].get(key)
    entry = voc.tables["labels"].get(key)
    if entry is not None:
        return entry
    for cat in ZONE_CATEGORIES:
        if key == normalize_key(cat):
            return ZoneEntry(cat)
    text = str(value).strip().casefold()
    if text.startswith(("so ", "so-", "so_", "sondergebiet")):
        rest = normalize_key(text)
        if any(word in rest for word in voc.so_commercial_keywords):
            return ZoneEntry("SO_COMMERCIAL")
        return ZoneEntry("SO")
    m = _ABBREVIATION.match(text)
    if m:
        return voc.tables["labels"].get(_key(m.group(1)))
    return None


def parse_zoning_label(value: object, *, vocabulary: ZoningVocabulary | None = None) -> str:
    """The ``zone_category`` of a plot's own zoning attribute.

    Accepts BauNVO abbreviations (``"GE"``, ``"GI"``, ``"MU"``, also numbered zones like
    ``"GE 2"`` or ``"GEe"``), German long names (``"Gewerbegebiet"``, ``"Urbanes Gebiet"``),
    FNP designations (``"Gewerbliche Baufläche"``, ``"G"``), XPlanung
    ``besondereArtDerBaulNutzung`` codes (``"1700"``, ``1700``) and enumeration names
    (``"Gewerbegebiet"``, ``"AllgWohngebiet"``), Sondergebiet labels (``"SO Handwerk"`` →
    ``SO_COMMERCIAL``) and the categories themselves. Anything else, and missing values,
    give ``"UNKNOWN"``; ambiguous labels such as ``"GE/GI"`` are not guessed.

    Examples
    --------
    >>> [parse_zoning_label(x) for x in ["GE", "Gewerbegebiet", "1700", "GI", "MU 1", None]]
    ['GE', 'GE', 'GE', 'GI', 'MU', 'UNKNOWN']
    """
    voc = vocabulary or load_zoning_vocabulary()
    entry = _parse_label(value, voc)
    return entry.category if entry is not None else "UNKNOWN"


# --- shared reader machinery ---------------------------------------------------------------


def _read(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    what: str,
) -> gpd.GeoDataFrame:
    p = Path(path)
    if not p.is_file():
        msg = f"{what} file {p} does not exist; check the path."
        raise DataSourceError(msg)
    options: dict[str, Any] = {}
    if p.suffix.lower() in {".gml", ".xml"}:
        options = {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"}
    if p.suffix.lower() in {".parquet", ".geoparquet"}:
        return gpd.read_parquet(p)
    try:
        return gpd.read_file(p, layer=layer, **options)
    except Exception as exc:  # pyogrio raises several types for broken files
        msg = f"cannot read {what} file {p}: {exc}. Check the file and the layer name."
        raise DataSourceError(msg) from exc


def _polygons(gdf: gpd.GeoDataFrame, *, name: str) -> gpd.GeoDataFrame:
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


def _finish(
    gdf: gpd.GeoDataFrame,
    *,
    categories: Iterable[str],
    source: str | Iterable[str],
    confidence: Iterable[float],
    labels: Iterable[str],
    brownfield: Iterable[bool],
    unmapped: Counter[str],
    crs: object | None,
    name: str,
    extra: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    cols: dict[str, Any] = {
        "zone_category": list(categories),
        "zone_source": [source] * len(gdf) if isinstance(source, str) else list(source),
        "zone_confidence": np.asarray(list(confidence), dtype=float),
        "zone_label": list(labels),
        "brownfield": np.asarray(list(brownfield), dtype=bool),
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


def _values(series: pd.Series) -> list[Any]:
    """Values of a column; GDAL list fields (numpy arrays / lists) become lists."""
    out: list[Any] = []
    for x in series.tolist():
        if isinstance(x, np.ndarray):
            x = x.tolist()
        out.append(x)
    return out


def _first(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _label_text(value: Any) -> str:
    if _is_missing(value) if not isinstance(value, list | tuple) else not value:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(_label_text(x) for x in value)
    key = _key(value)
    return key if key.isdigit() else str(value).strip()


# --- XPlanung ------------------------------------------------------------------------------

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


def read_xplanung(
    path: str | os.PathLike[str],
    *,
    plan: Literal["bplan", "fnp"] | None = None,
    layer: str | int | None = None,
    crs: object | None = None,
    vocabulary: ZoningVocabulary | None = None,
) -> gpd.GeoDataFrame:
    """Read Baugebiete of a B-Plan or Bauflächen of an FNP in the XPlanung schema.

    Reads XPlanGML 5.x/6.x (via GDAL's GML driver: layers ``BP_BaugebietsTeilFlaeche`` /
    ``FP_BebauungsFlaeche``) and GeoPackage, GeoJSON, Shapefile or GeoParquet exports of
    those feature types with the attributes ``besondereArtDerBaulNutzung`` and/or
    ``allgArtDerBaulNutzung`` (codes such as ``1700`` or enumeration names such as
    ``"Gewerbegebiet"``) and optionally ``sondernutzung``.

    Parameters
    ----------
    path
        The file.
    plan
        ``"bplan"`` or ``"fnp"``; default from the layer name (``BP_…``/``FP_…``).
    layer
        Layer to read; default the XPlanung Baugebiet/Bebauungsfläche layer.
    crs
        CRS to assume when the file has none (or overriding a wrong label).
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
        layer = hits[0]
    gdf = _read(p, layer=layer, what="XPlanung")
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
    source = f"xplanung_{plan}"
    gdf = _polygons(gdf, name=p.name)
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
    bes = _values(gdf[besondere_col]) if besondere_col else [None] * n
    allg = _values(gdf[allg_col]) if allg_col else [None] * n
    son = _values(gdf[sonder_col]) if sonder_col else [None] * n
    cats, confs, labels, brown = [], [], [], []
    unmapped: Counter[str] = Counter()
    for b, a, s in zip(bes, allg, son, strict=True):
        b, a = _first(b), _first(a)
        entry, table, label = None, "xplanung_besondere", ""
        if not _is_missing(b):
            label = _label_text(b)
            entry = voc.lookup("xplanung_besondere", b) or _parse_label(b, voc)
            if entry is None:
                unmapped[f"besondereArtDerBaulNutzung={label}"] += 1
        if entry is None and not _is_missing(a):
            label = label or _label_text(a)
            table = "xplanung_allgemein"
            entry = voc.lookup("xplanung_allgemein", a) or _parse_label(a, voc)
            if entry is None:
                unmapped[f"allgArtDerBaulNutzung={_label_text(a)}"] += 1
        if entry is None:
            if _is_missing(b) and _is_missing(a):
                unmapped["(no allgArt/besondereArt)"] += 1
            entry, table = ZoneEntry("UNKNOWN", 0.0), "xplanung_besondere"
        if entry.category == "SO" and s is not None and "xplanung_sondernutzung" in voc.tables:
            for sv in s if isinstance(s, list | tuple) else [s]:
                if _is_missing(sv):
                    continue
                hit = voc.lookup("xplanung_sondernutzung", sv)
                if hit is not None:
                    entry, table = hit, "xplanung_sondernutzung"
                    label = f"{label} ({_label_text(sv)})"
                    break
        cats.append(entry.category)
        confs.append(voc.confidence(table, entry, source))
        labels.append(label)
        brown.append(entry.brownfield)
    return _finish(
        gdf,
        categories=cats,
        source=source,
        confidence=confs,
        labels=labels,
        brownfield=brown,
        unmapped=unmapped,
        crs=crs,
        name=p.name,
    )


# --- OSM ------------------------------------------------------------------------------------


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
        ``.osm.pbf`` file (read with pyrosm, the ``osm`` extra).
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
        else:
            gdf = _read(p, layer=layer, what="OSM landuse")
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
    gdf = _polygons(gdf, name=name)
    cats, confs, labels, brown = [], [], [], []
    unmapped: Counter[str] = Counter()
    columns = {k: _values(gdf[k]) for k, _ in present}
    for i in range(len(gdf)):
        entry, table, label = None, "osm_landuse", ""
        for k, t in present:
            val = columns[k][i]
            if _is_missing(val):
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
        cats.append(entry.category)
        confs.append(voc.confidence(table, entry, "osm_landuse"))
        labels.append(label)
        brown.append(entry.brownfield)
    return _finish(
        gdf,
        categories=cats,
        source="osm_landuse",
        confidence=confs,
        labels=labels,
        brownfield=brown,
        unmapped=unmapped,
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


# --- ALKIS ----------------------------------------------------------------------------------


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
    gdf = _read(p, layer=layer, what="ALKIS Nutzung")
    col = find_column(gdf.columns, ["nutzart"])
    if col is None:
        msg = (
            f"{p.name} has no 'nutzart' column (ALKIS vereinfacht ave:Nutzung). Columns found: "
            f"{', '.join(map(str, gdf.columns))}. Download the layer 'Nutzung' "
            "(ave:Nutzung) of the ALKIS vereinfacht WFS."
        )
        raise MissingColumnError(msg)
    gdf = _polygons(gdf, name=p.name)
    cats, confs, labels, brown = [], [], [], []
    unmapped: Counter[str] = Counter()
    for val in _values(gdf[col]):
        entry = None if _is_missing(val) else voc.lookup("alkis_nutzung", val)
        if entry is None:
            unmapped[str(val) if not _is_missing(val) else "(empty nutzart)"] += 1
            entry = ZoneEntry("UNKNOWN", 0.0)
        cats.append(entry.category)
        confs.append(voc.confidence("alkis_nutzung", entry, "alkis_nutzung"))
        labels.append("" if _is_missing(val) else str(val))
        brown.append(entry.brownfield)
    return _finish(
        gdf,
        categories=cats,
        source="alkis_nutzung",
        confidence=confs,
        labels=labels,
        brownfield=brown,
        unmapped=unmapped,
        crs=crs,
        name=p.name,
    )


# --- commercial areas -------------------------------------------------------------------------


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
    gdf = _read(p, layer=layer, what="commercial areas")
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
    gdf = _polygons(gdf, name=p.name)
    statuses, status_labels, cats, confs, labels = [], [], [], [], []
    unmapped: Counter[str] = Counter()
    unknown_status: Counter[str] = Counter()
    for sval in _values(gdf[scol]):
        text = "" if _is_missing(sval) else str(sval).strip()
        st = voc.status.get(normalize_key(text), "unknown") if text else "unknown"
        if st == "unknown":
            unknown_status[text or "(empty)"] += 1
        statuses.append(st)
        status_labels.append(text)
    zvals = _values(gdf[zcol]) if zcol else [None] * len(gdf)
    for zval in zvals:
        entry: ZoneEntry | None
        if zcol is None:
            entry, table, label = ZoneEntry(voc.commercial_default), "labels", ""
        else:
            entry = _parse_label(zval, voc)
            label = "" if _is_missing(zval) else str(zval).strip()
            table = "labels"
            if entry is None:
                unmapped[label or "(empty zoning)"] += 1
                entry = ZoneEntry("UNKNOWN", 0.0)
        cats.append(entry.category)
        confs.append(voc.confidence(table, entry, "commercial_areas"))
        labels.append(label)
    if unknown_status:
        listed = ", ".join(f"{k!r} ({n})" for k, n in unknown_status.most_common(15))
        logger.warning(
            "%s: %d area(s) with a status not in the vocabulary got status 'unknown': %s",
            p.name,
            sum(unknown_status.values()),
            listed,
        )
    bcol = find_column(gdf.columns, ["brownfield", "brache", "brachflaeche"])
    brown = [parse_yes_no(x) is True for x in _values(gdf[bcol])] if bcol else [False] * len(gdf)
    extra: dict[str, Any] = {"status": statuses, "status_label": status_labels}
    ncol = find_column(gdf.columns, ["name", "bezeichnung", "flaechenname"])
    if ncol is not None:
        extra["name"] = [None if _is_missing(x) else str(x) for x in _values(gdf[ncol])]
    out = _finish(
        gdf,
        categories=cats,
        source="commercial_areas",
        confidence=confs,
        labels=labels,
        brownfield=brown,
        unmapped=unmapped,
        crs=crs,
        name=p.name,
        extra=extra,
    )
    out.attrs["unknown_status"] = dict(unknown_status)
    return out


# --- plots × zoning -------------------------------------------------------------------------


def zoning_for_plots(plots: gpd.GeoDataFrame, zoning: gpd.GeoDataFrame) -> pd.DataFrame:
    """Zoning of each plot: the category with the largest overlap (points: containing polygon).

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (polygons and/or points).
    zoning
        A zoning layer in EPSG:25832 with ``zone_category`` (and ideally ``zone_source``,
        ``zone_confidence``), e.g. from :func:`read_xplanung`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``plots``: ``zone_category`` (``UNKNOWN`` where nothing overlaps),
        ``zone_source`` (``""`` there), ``zone_confidence`` (NaN there) and
        ``overlap_share`` (share of the plot area covered by the winning category; 1 for
        points inside a polygon, 0 where nothing overlaps). Overlap areas of several
        polygons of the same category are summed; source and confidence are those of the
        largest piece. For points inside several polygons the most confident one wins.

    Raises
    ------
    handwerkgeo.errors.NoCrsError, handwerkgeo.errors.UnexpectedCrsError
        If either frame is not in EPSG:25832.
    handwerkgeo.errors.MissingColumnError
        If ``zoning`` has no ``zone_category``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_category": ["GE", "WA"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:25832")
    >>> p = gpd.GeoDataFrame(geometry=[box(2, 0, 14, 10)], crs="EPSG:25832")
    >>> zoning_for_plots(p, z)[["zone_category", "overlap_share"]].round(3).values.tolist()
    [['GE', 0.667]]
    """
    check_crs(plots, name="plots")
    check_crs(zoning, name="zoning")
    if "zone_category" not in zoning.columns:
        msg = (
            "the zoning layer has no 'zone_category' column; read it with a handwerkgeo "
            f"zoning reader (read_xplanung, read_osm_landuse, …). Columns: {list(zoning.columns)}"
        )
        raise MissingColumnError(msg)
    n = len(plots)
    cat = np.full(n, "UNKNOWN", dtype=object)
    src = np.full(n, "", dtype=object)
    conf = np.full(n, np.nan)
    share = np.zeros(n)
    zg = np.asarray(zoning.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(zg) | shapely.is_empty(zg))
    usable = zg.copy()
    usable[~ok] = None
    invalid = ok & ~shapely.is_valid(usable)
    if invalid.any():
        zg = zg.copy()
        zg[invalid] = shapely.make_valid(zg[invalid])
    zcat = zoning["zone_category"].astype(object).to_numpy()
    zsrc = (
        zoning["zone_source"].astype(object).to_numpy()
        if "zone_source" in zoning.columns
        else np.full(len(zoning), "", dtype=object)
    )
    zconf = (
        zoning["zone_confidence"].to_numpy(dtype=float)
        if "zone_confidence" in zoning.columns
        else np.full(len(zoning), np.nan)
    )
    pg = np.asarray(plots.geometry.array, dtype=object)
    if n == 0 or not ok.any():
        return _zone_frame(plots.index, cat, src, conf, share)
    usable = zg.copy()
    usable[~ok] = None
    tree = shapely.STRtree(usable)
    types = shapely.get_type_id(pg)
    poly = np.flatnonzero(np.isin(types, [3, 6]))
    pts = np.flatnonzero(types == 0)
    if len(poly):
        pi, zi = tree.query(pg[poly], predicate="intersects")
        pi = poly[pi]
        area = shapely.area(shapely.intersection(pg[pi], zg[zi]))
        pieces = pd.DataFrame(
            {"p": pi, "cat": zcat[zi], "src": zsrc[zi], "conf": zconf[zi], "area": area}
        )
        pieces = pieces[pieces["area"] > 0]
        if len(pieces):
            per_cat = pieces.groupby(["p", "cat"], sort=False)["area"].sum().reset_index()
            best = per_cat.sort_values(["p", "area", "cat"], ascending=[True, False, True])
            best = best.drop_duplicates("p")
            largest = pieces.sort_values("area", ascending=False).drop_duplicates(["p", "cat"])
            best = best.merge(largest[["p", "cat", "src", "conf"]], on=["p", "cat"], how="left")
            idx = best["p"].to_numpy()
            cat[idx] = best["cat"].to_numpy()
            src[idx] = best["src"].to_numpy()
            conf[idx] = best["conf"].to_numpy(dtype=float)
            plot_area = shapely.area(pg[idx])
            share[idx] = np.divide(
                best["area"].to_numpy(), plot_area, out=np.zeros(len(idx)), where=plot_area > 0
            )
    if len(pts):
        pi, zi = tree.query(pg[pts], predicate="within")
        if len(pi):
            hits = pd.DataFrame({"p": pts[pi], "cat": zcat[zi], "src": zsrc[zi], "conf": zconf[zi]})
            hits = hits.sort_values(["p", "conf"], ascending=[True, False], na_position="last")
            hits = hits.drop_duplicates("p")
            idx = hits["p"].to_numpy()
            cat[idx] = hits["cat"].to_numpy()
            src[idx] = hits["src"].to_numpy()
            conf[idx] = hits["conf"].to_numpy(dtype=float)
            share[idx] = 1.0
    logger.info(
        "zoning for %d plot(s): %d without any zoning polygon (%s)",
        n,
        int((cat == "UNKNOWN").sum()),
        CRS,
    )
    return _zone_frame(plots.index, cat, src, conf, share)


def _zone_frame(
    index: pd.Index, cat: np.ndarray, src: np.ndarray, conf: np.ndarray, share: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zone_category": pd.Series(cat, index=index, dtype=object),
            "zone_source": pd.Series(src, index=index, dtype=object),
            "zone_confidence": pd.Series(conf, index=index, dtype=float),
            "overlap_share": pd.Series(share, index=index, dtype=float),
        }
    )
