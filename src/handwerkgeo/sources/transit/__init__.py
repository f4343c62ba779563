"""Public transport: VRR stops and lines of Düsseldorf, and a general GTFS reader.

Two kinds of input:

- the two JSON extracts of the VRR GTFS feed in the data mirror
  (``stops-duesseldorf.json``: 630 stop places with a platform count;
  ``lines-duesseldorf.json``: 137 lines with their stop patterns and trip counts over the
  whole feed period) → :func:`read_vrr_stops`, :func:`read_vrr_lines`,
  :func:`read_vrr_patterns`, :func:`stop_service_level`;
- a real GTFS feed (zip or folder, e.g. VRR's "Soll-Fahrplandaten") →
  :func:`read_gtfs`, :func:`gtfs_stops`, :func:`departures_per_stop`, which apply the
  service calendar and give departures on one service date.

Stop categories follow the idea of the Swiss ÖV-Güteklassen (ARE): a stop's category
(1 best … 5) comes from the kind of transport and the interval between departures; see
:func:`stop_service_level` for the table.

Modules: :mod:`.modes` (modes and stop categories), :mod:`.vrr` (VRR extracts of the
mirror), :mod:`.gtfs` (GTFS feeds). Every public name is importable from
``handwerkgeo.sources.transit``.
"""

from __future__ import annotations

from handwerkgeo.sources.transit.gtfs import (
    GTFS_REQUIRED,
    active_services,
    departures_per_stop,
    gtfs_stops,
    read_gtfs,
)
from handwerkgeo.sources.transit.modes import (
    CATEGORY_TABLE,
    DAYS_PER_TRIP,
    MODE_GROUP,
    MODE_RANK,
    PLATFORM_CATEGORY,
    mode_from_route_type,
)

# type aliases and constants of the old single module, kept importable
from handwerkgeo.sources.transit.modes import PathLike as PathLike
from handwerkgeo.sources.transit.vrr import (
    read_vrr_lines,
    read_vrr_patterns,
    read_vrr_stops,
    stop_service_level,
)

__all__ = [
    "CATEGORY_TABLE",
    "DAYS_PER_TRIP",
    "GTFS_REQUIRED",
    "MODE_GROUP",
    "MODE_RANK",
    "PLATFORM_CATEGORY",
    "active_services",
    "departures_per_stop",
    "gtfs_stops",
    "mode_from_route_type",
    "read_gtfs",
    "read_vrr_lines",
    "read_vrr_patterns",
    "read_vrr_stops",
    "stop_service_level",
]
