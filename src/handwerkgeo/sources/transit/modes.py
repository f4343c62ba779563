"""Transport modes and stop categories shared by the VRR and GTFS readers.

Mode names, their rank and group, and the category table that turns a mode group and a
service interval into a stop category (1 best … 5).
"""

from __future__ import annotations

import math
import os

__all__ = [
    "CATEGORY_TABLE",
    "DAYS_PER_TRIP",
    "GROUP_INDEX",
    "MODE_GROUP",
    "MODE_RANK",
    "PLATFORM_CATEGORY",
    "mode_from_route_type",
    "mode_group",
    "mode_rank",
    "stop_category_for",
]


PathLike = str | os.PathLike[str]

#: Rank of a mode for ``best_mode`` (lower is better): rail > Stadtbahn/subway > other
#: rail-bound (monorail such as the airport SkyTrain) > tram > bus > others.
MODE_RANK: dict[str, int] = {
    "train": 1,
    "rail": 1,
    "stadtbahn": 2,
    "subway": 2,
    "metro": 2,
    "rail-other": 3,
    "monorail": 3,
    "tram": 4,
    "bus": 5,
    "trolleybus": 5,
    "coach": 5,
    "ferry": 6,
    "cable_tram": 6,
    "aerial_lift": 6,
    "funicular": 6,
    "taxi": 7,
}

#: Mode group of the category table: A rail, B Stadtbahn/subway/monorail, C tram/bus/other.
MODE_GROUP: dict[str, str] = {
    "train": "A",
    "rail": "A",
    "stadtbahn": "B",
    "subway": "B",
    "metro": "B",
    "rail-other": "B",
    "monorail": "B",
}

#: Stop category by mean interval between departures (minutes, upper bounds exclusive)
#: and mode group: (max_interval_min, category A, category B, category C).
CATEGORY_TABLE: tuple[tuple[float, int, int, int], ...] = (
    (5.0, 1, 1, 2),
    (10.0, 1, 2, 3),
    (20.0, 2, 3, 4),
    (40.0, 3, 4, 5),
    (60.0, 4, 5, 5),
    (math.inf, 5, 5, 5),
)

#: Fallback category from the number of platforms when a stop has no line data:
#: (minimum platform count, category), first match wins.
PLATFORM_CATEGORY: tuple[tuple[int, int], ...] = ((10, 2), (6, 3), (3, 4), (0, 5))

GROUP_INDEX = {"A": 1, "B": 2, "C": 3}

#: Default mean number of service days of one distinct GTFS trip in the VRR lines
#: extract (a calibration; see :func:`stop_service_level`).
DAYS_PER_TRIP = 30.0


def mode_from_route_type(route_type: object) -> str:
    """Name the mode of a GTFS ``route_type`` (basic or extended Google/HVT codes).

    Examples
    --------
    >>> [mode_from_route_type(t) for t in (0, 1, 2, 3, "106", 109, 405, 700)]
    ['tram', 'subway', 'rail', 'bus', 'rail', 'rail', 'monorail', 'bus']
    """
    try:
        t = int(str(route_type).strip())
    except ValueError:
        return "other"
    basic = {
        0: "tram",
        1: "subway",
        2: "rail",
        3: "bus",
        4: "ferry",
        5: "cable_tram",
        6: "aerial_lift",
        7: "funicular",
        11: "trolleybus",
        12: "monorail",
    }
    if t in basic:
        return basic[t]
    if 100 <= t < 200:
        return "rail"
    if t == 200 or 200 <= t < 300:
        return "coach"
    if t == 405:
        return "monorail"
    if 400 <= t < 500:
        return "subway"
    if 700 <= t < 800:
        return "bus"
    if t == 800:
        return "trolleybus"
    if 900 <= t < 1000:
        return "tram"
    if 1000 <= t < 1300:
        return "ferry"
    if 1300 <= t < 1400:
        return "aerial_lift"
    if 1400 <= t < 1500:
        return "funicular"
    if 1500 <= t < 1600:
        return "taxi"
    return "other"


def mode_rank(mode: str) -> int:
    return MODE_RANK.get(mode, 8)


def mode_group(mode: str) -> str:
    return MODE_GROUP.get(mode, "C")


def stop_category_for(group: str, interval_min: float) -> int:
    col = GROUP_INDEX[group]
    for row in CATEGORY_TABLE:
        if interval_min < row[0]:
            return int(row[col])
    return 5
