"""The zoning vocabulary: canonical categories and columns, the YAML mapping tables, labels.

The mapping tables live in ``configs/zoning_vocabulary.yaml`` (with the source of every
mapping); :func:`load_zoning_vocabulary` reads and checks them, :func:`parse_zoning_label`
maps one value as a planner writes it to a category.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from handwerkgeo._text import normalize_key
from handwerkgeo.errors import ConfigError

__all__ = [
    "STATUS_VALUES",
    "ZONE_CATEGORIES",
    "ZONE_COLUMNS",
    "ZONE_SOURCES",
    "ZoneEntry",
    "ZoningVocabulary",
    "default_vocabulary",
    "is_missing",
    "label_key",
    "load_zoning_vocabulary",
    "parse_label_entry",
    "parse_zoning_label",
]


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

ZONE_SOURCES = ("xplanung_bplan", "xplanung_fnp", "osm_landuse", "alkis_nutzung",
                 "commercial_areas", "plot")  # fmt: skip

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
        return self.tables[table].get(label_key(value))

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


def label_key(value: object) -> str:
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
        return default_vocabulary()
    return _load_vocabulary(Path(path))


@lru_cache(maxsize=1)
def default_vocabulary() -> ZoningVocabulary:
    ref = resources.files("handwerkgeo") / "configs" / "zoning_vocabulary.yaml"
    with resources.as_file(ref) as p:
        return _load_vocabulary(Path(p))


def _read_yaml(path: Path) -> dict[str, Any]:
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
    declared = raw.get("categories")
    if declared is not None and set(declared) != set(ZONE_CATEGORIES):
        msg = (
            f"{where}: 'categories' must list exactly the design vocabulary "
            f"{', '.join(ZONE_CATEGORIES)}; differences: "
            f"{sorted(set(declared) ^ set(ZONE_CATEGORIES))}"
        )
        raise ConfigError(msg)
    return raw


def _confidence(value: object, where: str, ctx: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        msg = f"{where}: {ctx} confidence must be a number from 0 to 1, got {value!r}"
        raise ConfigError(msg)
    return float(value)


def _entry(spec: object, where: str, ctx: str) -> ZoneEntry:
    """One value of a table: a category, or ``{category, confidence, brownfield}``."""
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
            None if c is None else _confidence(c, where, ctx),
            bool(spec.get("brownfield", False)),
        )
    else:
        msg = f"{where}: {ctx} must be a category or {{category: …, confidence: …}}"
        raise ConfigError(msg)
    if entry.category not in ZONE_CATEGORIES:
        msg = (
            f"{where}: {ctx} unknown category {entry.category!r}; "
            f"allowed: {', '.join(ZONE_CATEGORIES)}"
        )
        raise ConfigError(msg)
    return entry


def _table(tname: str, table: object, where: str) -> tuple[dict[str, ZoneEntry], float]:
    """The entries of one table by normalised key, and the table's confidence."""
    if not isinstance(table, dict) or not isinstance(table.get("values"), dict):
        msg = f"{where}: table {tname!r} needs 'confidence' and a mapping 'values'"
        raise ConfigError(msg)
    confidence = _confidence(table.get("confidence"), where, f"table {tname!r}:")
    entries: dict[str, ZoneEntry] = {}
    for k, spec in table["values"].items():
        ctx = f"table {tname!r}, key {k!r}:"
        entry = _entry(spec, where, ctx)
        nk = label_key(k)
        if nk in entries:
            msg = f"{where}: {ctx} duplicates another key of the table after normalisation"
            raise ConfigError(msg)
        entries[nk] = entry
    return entries, confidence


def _source_confidence(raw: Mapping[str, Any], where: str) -> dict[str, float]:
    source_conf = {
        str(k): _confidence(val, where, f"source_confidence {k!r}:")
        for k, val in (raw.get("source_confidence") or {}).items()
    }
    bad_sources = set(source_conf) - set(ZONE_SOURCES)
    if bad_sources:
        msg = f"{where}: unknown zone_source(s) {sorted(bad_sources)}; allowed: {ZONE_SOURCES}"
        raise ConfigError(msg)
    return source_conf


def _status(raw: Mapping[str, Any], where: str) -> dict[str, str]:
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
    return status


def _load_vocabulary(path: Path) -> ZoningVocabulary:
    where = str(path)
    raw = _read_yaml(path)
    tables: dict[str, dict[str, ZoneEntry]] = {}
    table_conf: dict[str, float] = {}
    for tname, table in raw["tables"].items():
        tables[tname], table_conf[tname] = _table(tname, table, where)
    required = {"xplanung_besondere", "xplanung_allgemein", "labels", "osm_landuse",
                "alkis_nutzung"}  # fmt: skip
    missing = required - set(tables)
    if missing:
        msg = f"{where}: missing table(s) {sorted(missing)}"
        raise ConfigError(msg)
    source_conf = _source_confidence(raw, where)
    status = _status(raw, where)
    default = str(raw.get("commercial_areas_default_category", "FNP_G"))
    if default not in ZONE_CATEGORIES:
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


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float | np.floating) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_label_entry(value: object, voc: ZoningVocabulary) -> ZoneEntry | None:
    """Entry for a free label (abbreviation, long name, XPlanung code or category).

    A label with a remark in parentheses (``"Mischgebiet (MI)"``, ``"GE (§ 8 BauNVO)"``)
    is read from its parts: the known parts must agree, else it is not guessed.
    """
    if is_missing(value):
        return None
    entry = _plain_label_entry(value, voc)
    text = str(value)
    if entry is not None or "(" not in text:
        return entry
    outer, _, rest = text.partition("(")
    inner = rest.split(")", 1)[0]
    outer_entry = _plain_label_entry(outer, voc) if outer.strip() else None
    inner_entry = _plain_label_entry(inner, voc) if inner.strip() else None
    found = [e for e in (outer_entry, inner_entry) if e is not None]
    if not found or len({e.category for e in found}) > 1:
        return None
    return found[0]


def _plain_label_entry(value: object, voc: ZoningVocabulary) -> ZoneEntry | None:
    key = label_key(value)
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
        return voc.tables["labels"].get(label_key(m.group(1)))
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
    entry = parse_label_entry(value, voc)
    return entry.category if entry is not None else "UNKNOWN"
