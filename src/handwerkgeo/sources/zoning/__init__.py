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

Modules: :mod:`.vocabulary` (categories, YAML tables, labels), :mod:`.xplanung`,
:mod:`.alkis`, :mod:`.osm_landuse`, :mod:`.commercial` (registers), :mod:`.overlay`
(plots × zoning); :mod:`._common` holds the reader machinery they share. Every public
name is importable from ``handwerkgeo.sources.zoning``.
"""

from __future__ import annotations

from handwerkgeo.sources.zoning.alkis import (
    read_alkis_nutzung,
)
from handwerkgeo.sources.zoning.commercial import (
    read_commercial_areas,
)
from handwerkgeo.sources.zoning.osm_landuse import (
    read_osm_landuse,
)
from handwerkgeo.sources.zoning.overlay import (
    zoning_for_plots,
)
from handwerkgeo.sources.zoning.vocabulary import (
    STATUS_VALUES,
    ZONE_CATEGORIES,
    ZONE_COLUMNS,
    ZoneEntry,
    ZoningVocabulary,
    load_zoning_vocabulary,
    parse_zoning_label,
)
from handwerkgeo.sources.zoning.xplanung import (
    read_xplanung,
)

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
