"""Readers for the official statistics of Düsseldorf (Bezirk profiles, Stadtteil tables).

Every table of the Amt für Statistik und Wahlen is published in a human-formatted layout:
Excel sheets with a label column, numbers written as text with spaces as thousands
separators (``"38 757"``), German decimal commas (``"8,8"``) and the official signs for
special values. This module turns them into tidy, joinable frames with English column
names and records *why* a value is missing instead of dropping it.

Signs used by the city (legend printed at the foot of every Bezirk profile):

========  =================================================================  ============
sign      meaning                                                            read as
========  =================================================================  ============
``.``     value unknown or withheld (privacy, technical reasons)             NaN, suppressed
``x``     a value is not meaningful or not available for this cell           NaN, not suppressed
``-``     exactly zero (nothing there)                                       0.0
``0``     more than nothing but less than half of the unit shown             0.0
========  =================================================================  ============

Codes follow the project contract: Stadtteil ``"011"`` … ``"102"`` (three digits),
Stadtbezirk ``"01"`` … ``"10"`` (two digits). Unterbilk (032) and Hafen (033) are published
as one merged row in some tables; that row keeps the code ``"032/033"`` (see
:data:`MERGED_UNTERBILK_HAFEN`, :func:`merged_join_key`, :func:`combine_unterbilk_hafen` and
:func:`split_unterbilk_hafen`).

Modules: :mod:`._parse` (the one cell/number/file parser), :mod:`.codes` (Stadtteil codes),
:mod:`.profile_spec` + :mod:`.profiles` (Bezirk profile workbooks: declarative spec and
reader), :mod:`.indicators` (derived Bezirk indicators), :mod:`.population` (Stadtteil
tables), :mod:`.unterbilk_hafen` (the merged 032/033 row) and :mod:`.city` (city-wide
tables). Every public name is importable from ``handwerkgeo.sources.statistics``.
"""

from __future__ import annotations

from handwerkgeo._text import read_text

# type aliases and constants of the old single module, kept importable
from handwerkgeo.sources.statistics._parse import DashMeaning as DashMeaning
from handwerkgeo.sources.statistics._parse import PathLike as PathLike

# ``_parse_value``: the cell parser under its old name, for its tests
from handwerkgeo.sources.statistics._parse import parse_value as _parse_value  # noqa: F401
from handwerkgeo.sources.statistics.city import (
    read_households_sozialraum,
    read_population_projection,
)
from handwerkgeo.sources.statistics.codes import MERGED_UNTERBILK_HAFEN, STADTTEILE
from handwerkgeo.sources.statistics.indicators import bezirk_indicators, realnutzung_shares
from handwerkgeo.sources.statistics.population import (
    read_population_2012_2024,
    read_population_forecast_2035,
    read_population_migration,
    read_primary_pupils,
    read_stadtteil_population,
)
from handwerkgeo.sources.statistics.profile_spec import LANDUSE_CLASSES
from handwerkgeo.sources.statistics.profiles import read_bezirk_profiles
from handwerkgeo.sources.statistics.unterbilk_hafen import (
    combine_unterbilk_hafen,
    merged_join_key,
    split_unterbilk_hafen,
    unterbilk_hafen_shares,
)

__all__ = [
    "LANDUSE_CLASSES",
    "MERGED_UNTERBILK_HAFEN",
    "STADTTEILE",
    "bezirk_indicators",
    "combine_unterbilk_hafen",
    "merged_join_key",
    "read_bezirk_profiles",
    "read_households_sozialraum",
    "read_population_2012_2024",
    "read_population_forecast_2035",
    "read_population_migration",
    "read_population_projection",
    "read_primary_pupils",
    "read_stadtteil_population",
    "read_text",
    "realnutzung_shares",
    "split_unterbilk_hafen",
    "unterbilk_hafen_shares",
]
