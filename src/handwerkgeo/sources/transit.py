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
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo.crs import CRS, outside_city, to_canonical
from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    DuplicateIdError,
    EncodingError,
    MissingColumnError,
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

logger = logging.getLogger(__name__)

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

_GROUP_INDEX = {"A": 1, "B": 2, "C": 3}

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


def _rank(mode: str) -> int:
    return MODE_RANK.get(mode, 8)


def _group(mode: str) -> str:
    return MODE_GROUP.get(mode, "C")


def _category(group: str, interval_min: float) -> int:
    col = _GROUP_INDEX[group]
    for row in CATEGORY_TABLE:
        if interval_min < row[0]:
            return int(row[col])
    return 5


# --------------------------------------------------------------------------------------
# VRR JSON extracts
# --------------------------------------------------------------------------------------


def _layer_file(path: PathLike | None, layer: str, data_dir: PathLike | None) -> Path:
    if path is None:
        from handwerkgeo.fetch import layer_paths  # lazy: fetch imports the manifest

        files = layer_paths(layer, data_dir)
        if len(files) != 1:
            msg = f"layer {layer!r} has {len(files)} files; pass path= explicitly."
            raise DataSourceError(msg)
        p = Path(files[0])
    else:
        p = Path(path)
    if not p.is_file():
        msg = f"{p} does not exist. Run `handwerkgeo data fetch` or pass the right path."
        raise DataSourceError(msg)
    return p


def _load_json(path: Path, key: str) -> dict[str, Any]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = (
            f"{path.name} is not UTF-8 ({exc.reason} at byte {exc.start}); JSON must be "
            "UTF-8. Download the file again."
        )
        raise EncodingError(msg) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path.name} is not valid JSON ({exc.msg}, line {exc.lineno}). Fetch it again."
        raise DataSourceError(msg) from None
    if not isinstance(obj, dict) or not isinstance(obj.get(key), list):
        msg = (
            f"{path.name}: expected an object with a list {key!r} "
            f"({{'source': {{…}}, '{key}': [...]}}); found "
            f"{sorted(obj) if isinstance(obj, dict) else type(obj).__name__}."
        )
        raise DataSourceError(msg)
    return obj


def _lines_obj(lines: PathLike | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    if isinstance(lines, Mapping):
        if not isinstance(lines.get("lines"), list):
            msg = "lines must be the parsed lines JSON ({'source': {...}, 'lines': [...]})."
            raise DataSourceError(msg)
        return dict(lines), "lines JSON"
    p = Path(lines)
    if not p.is_file():
        msg = f"{p} does not exist. Run `handwerkgeo data fetch` or pass the right path."
        raise DataSourceError(msg)
    return _load_json(p, "lines"), p.name


def _feed_days(source: Mapping[str, Any], name: str) -> int:
    start = source.get("feedValidFrom") or source.get("validFrom")
    end = source.get("feedValidUntil") or source.get("validUntil")
    if not start or not end:
        msg = (
            f"{name}: the source block gives no feed period (feedValidFrom/feedValidUntil); "
            "pass feed_days= (number of days the trip counts cover)."
        )
        raise DataSourceError(msg)
    d0 = dt.datetime.strptime(str(start), "%Y%m%d").date()
    d1 = dt.datetime.strptime(str(end), "%Y%m%d").date()
    days = (d1 - d0).days + 1
    if days <= 0:
        msg = f"{name}: feed period {start}…{end} is empty."
        raise DataSourceError(msg)
    return days


def read_vrr_patterns(lines: PathLike | Mapping[str, Any]) -> pd.DataFrame:
    """Expand the VRR lines JSON into one row per line × pattern × stop.

    Parameters
    ----------
    lines
        Path of ``lines-duesseldorf.json`` or its parsed content.

    Returns
    -------
    pandas.DataFrame
        ``line_id``, ``line_name``, ``mode``, ``route_type``, ``pattern_index`` (0-based
        within the line), ``direction_id``, ``headsign``, ``trip_count`` (trips of the
        pattern over the whole feed period), ``stop_sequence`` (0-based), ``stop_id``.
        ``attrs["source"]`` is the JSON's source block.
    """
    obj, name = _lines_obj(lines)
    rows = []
    problems = []
    for i, line in enumerate(obj["lines"]):
        lid = line.get("id")
        if not lid:
            problems.append(f"line #{i + 1} has no 'id'")
            continue
        mode = str(line.get("mode") or mode_from_route_type(line.get("routeType")))
        for j, pat in enumerate(line.get("patterns") or []):
            tc = pat.get("tripCount")
            if not isinstance(tc, int | float) or tc < 0:
                problems.append(f"line {lid} pattern #{j + 1}: tripCount {tc!r} is not a count")
                continue
            for k, sid in enumerate(pat.get("stops") or []):
                rows.append(
                    (lid, line.get("name"), mode, str(line.get("routeType")), j,
                     str(pat.get("directionId")), pat.get("headsign") or "", int(tc), k, sid)
                )  # fmt: skip
    if problems:
        msg = f"{name}: {len(problems)} problem(s): " + "; ".join(problems[:10])
        raise DataSourceError(msg)
    cols = [
        "line_id",
        "line_name",
        "mode",
        "route_type",
        "pattern_index",
        "direction_id",
        "headsign",
        "trip_count",
        "stop_sequence",
        "stop_id",
    ]
    out = pd.DataFrame.from_records(rows, columns=cols)
    out.attrs["source"] = dict(obj.get("source") or {})
    return out


def read_vrr_lines(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Read the VRR lines of Düsseldorf: one row per line.

    Parameters
    ----------
    path
        ``lines-duesseldorf.json``; ``None`` reads the fetched layer ``vrr_lines``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        ``line_id``, ``name``, ``long_name``, ``mode`` (as in the file: ``bus``, ``tram``,
        ``stadtbahn``, ``train``, ``rail-other``), ``route_type`` (GTFS code as string),
        ``agency_id``, ``agency``, ``color``, ``trip_count`` (distinct GTFS trips over the
        whole feed period, no calendar applied — a relative frequency, not departures
        per day), ``n_patterns``, ``n_stops`` (distinct stops served in Düsseldorf).
        ``attrs["source"]`` is the file's source block (feed version, validity, hashes).

    Raises
    ------
    DataSourceError
        If the file is missing or not in the expected structure.
    DuplicateIdError
        If a line id occurs twice.

    Examples
    --------
    >>> lines = read_vrr_lines("data/raw/oepnv/lines-duesseldorf.json")  # doctest: +SKIP
    >>> lines["mode"].value_counts()["bus"]  # doctest: +SKIP
    90
    """
    p = _layer_file(path, "vrr_lines", data_dir)
    obj = _load_json(p, "lines")
    records = []
    for line in obj["lines"]:
        patterns = line.get("patterns") or []
        stops = {s for pat in patterns for s in pat.get("stops") or []}
        records.append(
            {
                "line_id": line.get("id"),
                "name": line.get("name"),
                "long_name": line.get("longName") or "",
                "mode": str(line.get("mode") or mode_from_route_type(line.get("routeType"))),
                "route_type": str(line.get("routeType")),
                "agency_id": line.get("agencyId"),
                "agency": line.get("agencyName"),
                "color": line.get("color"),
                "trip_count": int(line.get("tripCount") or 0),
                "n_patterns": len(patterns),
                "n_stops": len(stops),
            }
        )
    out = pd.DataFrame.from_records(records)
    if out.empty:
        msg = f"{p.name} lists no lines."
        raise DataSourceError(msg)
    if out["line_id"].isna().any():
        msg = f"{p.name}: {int(out['line_id'].isna().sum())} line(s) have no id."
        raise DataSourceError(msg)
    dup = out["line_id"].duplicated(keep=False)
    if dup.any():
        msg = f"{p.name}: line ids occur twice: {sorted(out.loc[dup, 'line_id'].unique())}."
        raise DuplicateIdError(msg)
    out.attrs["source"] = dict(obj.get("source") or {})
    logger.info("read %s: %d lines, %d patterns", p.name, len(out), int(out["n_patterns"].sum()))
    return out


def stop_service_level(
    stops: pd.DataFrame,
    lines_json_or_path: PathLike | Mapping[str, Any] | pd.DataFrame,
    *,
    days_per_trip: float = DAYS_PER_TRIP,
    feed_days: int | None = None,
    service_hours: float = 18.0,
) -> pd.DataFrame:
    """Service level and stop category of each stop from the VRR line patterns.

    **Trips.** ``trip_count`` of a stop is the sum of ``tripCount`` over the patterns
    that serve it (a pattern counted once even if it passes the stop twice). The lines
    file counts *distinct GTFS trips* of the feed period (2026-07-01 … 2026-12-31, 184
    days, read from the file's source block) *without applying the calendar*: one trip
    id runs on every day its service calendar allows. ``trip_count`` is therefore a
    relative frequency, not a number of departures.

    **Estimated departures per day.** To place stops on the Swiss interval scale, the
    counts are converted with ``days_per_trip``, the mean number of service days of one
    distinct trip: ``departures_per_day_est = trip_count × days_per_trip / feed_days``
    (a mean over all days, weekends included). The extract does not contain the
    calendar, so ``days_per_trip`` is a calibration: the airport SkyTrain runs one daily
    timetable on all 184 days (332 trips per direction ≈ every 3.8 minutes), while lines
    with separate Monday–Friday, Saturday and Sunday timetables in school-term and
    holiday versions have 20–70 service days per trip. The default 30 puts
    Düsseldorf's trunk Stadtbahn and S-Bahn stops near their 10- and 20-minute Takt.
    ``days_per_trip=1`` gives the plain ``trip_count / feed_days``, which is far too low
    for this file (Düsseldorf Hbf would get 144 departures a day). For real numbers use
    a GTFS feed with :func:`departures_per_stop`, which applies the calendar. The mean
    interval assumes an operating day of ``service_hours`` and departures split over
    two directions: ``interval_min_est = service_hours × 60 / (departures_per_day_est / 2)``.

    **Categories** (after the Swiss ÖV-Güteklassen stop categories, ARE 2011; 1 best):

    =====================  ==========  ================================  ================
    mean interval          A: rail     B: Stadtbahn / U-Bahn / monorail  C: tram, bus, …
    =====================  ==========  ================================  ================
    < 5 min                1           1                                 2
    5 – < 10 min           1           2                                 3
    10 – < 20 min          2           3                                 4
    20 – < 40 min          3           4                                 5
    40 – < 60 min          4           5                                 5
    ≥ 60 min               5           5                                 5
    =====================  ==========  ================================  ================

    Modes of the lines file: ``train`` (S-Bahn, RE/RB) → A; ``stadtbahn`` and
    ``rail-other`` (the SkyTrain monorail) → B; ``tram``, ``bus`` and anything else → C.
    For each mode group present at a stop, the interval is computed from the
    departures of that group *and all better groups* (so a stop with frequent buses and
    a rare train is rated on all its departures as C, and on its trains alone as A); the
    stop takes the best of these categories (``category_group`` says which).
    A stop without line data gets its category from its platform count
    (≥ 10 → 2, 6–9 → 3, 3–5 → 4, else 5) and ``service_source = "platform_count"``.

    Parameters
    ----------
    stops
        Frame with ``stop_id`` (and ``platform_count`` for the fallback). Not modified.
    lines_json_or_path
        ``lines-duesseldorf.json`` (path or parsed) or the output of
        :func:`read_vrr_patterns`.
    days_per_trip
        Mean service days of one distinct trip (see above); at most ``feed_days``.
    feed_days
        Days covered by the trip counts; default from the file's feed validity.
    service_hours
        Operating hours per day for the interval (default 18: 05:00–23:00).

    Returns
    -------
    pandas.DataFrame
        Aligned on ``stops.index``: ``stop_id``, ``trip_count``,
        ``departures_per_day_est``, ``interval_min_est``, ``n_lines``, ``modes``
        (comma-separated, alphabetical, e.g. ``"bus,tram"``), ``best_mode``,
        ``category_group`` (``A``/``B``/``C``), ``stop_category`` (1–5, Int64),
        ``service_source`` (``vrr_lines`` or ``platform_count``). ``attrs`` records
        ``feed_days``, ``days_per_trip`` and ``service_hours``.

    Examples
    --------
    >>> stops = pd.DataFrame({"stop_id": ["s1"], "platform_count": [2]})
    >>> lines = {"source": {"feedValidFrom": "20260701", "feedValidUntil": "20260710"},
    ...          "lines": [{"id": "L1", "name": "U1", "mode": "stadtbahn", "routeType": "1",
    ...                     "patterns": [{"tripCount": 180, "stops": ["s1", "s2"]}]}]}
    >>> sl = stop_service_level(stops, lines, days_per_trip=10)
    >>> sl[["departures_per_day_est", "interval_min_est", "stop_category"]].values.tolist()
    [[180.0, 12.0, 3]]
    """
    if "stop_id" not in stops.columns:
        msg = "stops needs a 'stop_id' column (use read_vrr_stops(with_service=False))."
        raise MissingColumnError(msg)
    if service_hours <= 0 or service_hours > 24:
        msg = f"service_hours must be in (0, 24], not {service_hours}."
        raise ConfigError(msg)
    if isinstance(lines_json_or_path, pd.DataFrame):
        patterns = lines_json_or_path
        need = ["line_id", "mode", "pattern_index", "trip_count", "stop_id"]
        missing = [c for c in need if c not in patterns.columns]
        if missing:
            msg = f"patterns frame lacks {missing}; pass read_vrr_patterns() output."
            raise MissingColumnError(msg)
        name = "patterns"
    else:
        patterns = read_vrr_patterns(lines_json_or_path)
        name = (
            Path(lines_json_or_path).name
            if isinstance(lines_json_or_path, str | os.PathLike)
            else "lines JSON"
        )
    if feed_days is None:
        feed_days = _feed_days(patterns.attrs.get("source", {}), name)
    if feed_days <= 0:
        msg = f"feed_days must be positive, not {feed_days}."
        raise ConfigError(msg)
    if not 0 < days_per_trip <= feed_days:
        msg = f"days_per_trip must be in (0, feed_days={feed_days}], not {days_per_trip}."
        raise ConfigError(msg)
    scale = days_per_trip / feed_days

    per_pattern = patterns.drop_duplicates(["line_id", "pattern_index", "stop_id"])
    per_pattern = per_pattern.assign(group=per_pattern["mode"].map(_group))
    trips = per_pattern.groupby("stop_id")["trip_count"].sum()
    by_group = per_pattern.pivot_table(
        index="stop_id", columns="group", values="trip_count", aggfunc="sum", fill_value=0
    )
    for g in ("A", "B", "C"):
        if g not in by_group:
            by_group[g] = 0
    line_info = per_pattern.groupby("stop_id").agg(
        n_lines=("line_id", "nunique"),
        modes=("mode", lambda m: ",".join(sorted(set(m)))),
        best_mode=("mode", lambda m: min(set(m), key=lambda x: (_rank(x), x))),
    )

    minutes = service_hours * 60.0
    out = pd.DataFrame(index=stops.index)
    out["stop_id"] = stops["stop_id"].to_numpy()
    ids = out["stop_id"]
    out["trip_count"] = ids.map(trips).fillna(0).astype("int64")
    has_lines = ids.isin(trips.index) & (out["trip_count"] > 0)
    out["departures_per_day_est"] = out["trip_count"] * scale
    with np.errstate(divide="ignore"):
        out["interval_min_est"] = np.where(
            out["departures_per_day_est"] > 0,
            minutes / (out["departures_per_day_est"] / 2.0),
            np.inf,
        )
    out["n_lines"] = ids.map(line_info["n_lines"]).fillna(0).astype("int64")
    out["modes"] = ids.map(line_info["modes"]).fillna("")
    out["best_mode"] = ids.map(line_info["best_mode"]).fillna("")

    categories = []
    groups = []
    for sid, ok in zip(ids, has_lines, strict=True):
        if not ok:
            categories.append(pd.NA)
            groups.append("")
            continue
        row = by_group.loc[sid]
        best = (6, "")
        cumulative = 0.0
        for g in ("A", "B", "C"):
            cumulative += float(row[g])
            if row[g] <= 0:
                continue
            per_day = cumulative * scale
            cat = _category(g, minutes / (per_day / 2.0))
            if cat < best[0]:
                best = (cat, g)
        categories.append(best[0])
        groups.append(best[1])
    out["category_group"] = groups
    out["stop_category"] = pd.array(categories, dtype="Int64")
    out["service_source"] = np.where(has_lines, "vrr_lines", "platform_count")

    fallback = ~has_lines
    if fallback.any():
        if "platform_count" not in stops.columns:
            msg = (
                f"{int(fallback.sum())} stop(s) have no line data and stops has no "
                "'platform_count' column for the fallback category."
            )
            raise MissingColumnError(msg)
        pc = stops.loc[fallback, "platform_count"]
        out.loc[fallback, "stop_category"] = [
            next(c for lo, c in PLATFORM_CATEGORY if (0 if pd.isna(n) else n) >= lo) for n in pc
        ]
        logger.warning(
            "%d stop(s) have no line data; category from platform count: %s",
            int(fallback.sum()),
            ", ".join(map(str, ids[fallback].head(10))),
        )
    unknown = sorted(set(per_pattern["stop_id"]) - set(ids))
    if unknown:
        logger.warning(
            "%d stop id(s) of the lines are not in the stops table, e.g. %s",
            len(unknown),
            unknown[:5],
        )
    out.attrs["feed_days"] = feed_days
    out.attrs["days_per_trip"] = days_per_trip
    out.attrs["service_hours"] = service_hours
    out.attrs["unknown_line_stops"] = unknown
    return out


def read_vrr_stops(
    path: PathLike | None = None,
    *,
    data_dir: PathLike | None = None,
    lines: PathLike | Mapping[str, Any] | pd.DataFrame | None = None,
    with_service: bool = True,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    days_per_trip: float = DAYS_PER_TRIP,
    service_hours: float = 18.0,
) -> gpd.GeoDataFrame:
    """Read the VRR stop places of Düsseldorf with their service level.

    Parameters
    ----------
    path
        ``stops-duesseldorf.json``; ``None`` reads the fetched layer ``vrr_stops``.
    data_dir
        Data directory for ``path=None`` (and for ``lines=None``).
    lines
        Lines JSON (path or parsed) or :func:`read_vrr_patterns` output. ``None``: the
        fetched layer ``vrr_lines`` when ``path`` is ``None``, else
        ``lines-duesseldorf.json`` next to ``path``.
    with_service
        Join the service level of :func:`stop_service_level` (default True).
    boundary
        City area (e.g. :func:`handwerkgeo.sources.quarters.read_stadtteile`) to flag stops
        outside it; any CRS. Without it the coarse bounding box
        :data:`handwerkgeo.crs.CITY_BOUNDS` (2 km margin) is used, which does not catch
        stops just across the border.
    days_per_trip, service_hours
        Calibration of the estimated departures and interval (see
        :func:`stop_service_level`).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:25832 points: ``stop_id`` (DHID, e.g. ``de:05111:18235``), ``name``,
        ``platform_count``, ``outside_city`` (bool), and with service ``trip_count``,
        ``departures_per_day_est``, ``interval_min_est``, ``n_lines``, ``modes``, ``best_mode``,
        ``category_group``, ``stop_category`` (1–5), ``service_source``.
        ``attrs``: ``source`` (the JSON's source block), ``source_crs`` (EPSG:4326),
        ``outside_city_method`` (``boundary`` or ``bbox``), ``rejects`` (list of
        ``{row, stop_id, reason}`` for records without usable coordinates),
        ``feed_days``, ``days_per_trip``, ``service_hours``.

    Raises
    ------
    DataSourceError
        If a file is missing or malformed.
    DuplicateIdError
        If a stop id occurs twice.

    Examples
    --------
    >>> stops = read_vrr_stops("data/raw/oepnv/stops-duesseldorf.json")  # doctest: +SKIP
    >>> stops.set_index("name").loc["Düsseldorf Hbf", "stop_category"]  # doctest: +SKIP
    1
    """
    p = _layer_file(path, "vrr_stops", data_dir)
    obj = _load_json(p, "stops")
    records = []
    rejects = []
    for i, s in enumerate(obj["stops"]):
        lat, lon = s.get("lat"), s.get("lon")
        ok = isinstance(lat, int | float) and isinstance(lon, int | float)
        ok = ok and -90 <= lat <= 90 and -180 <= lon <= 180
        if not s.get("id") or not ok:
            reason = "no id" if not s.get("id") else f"no valid lat/lon ({lat!r}, {lon!r})"
            rejects.append({"row": i + 1, "stop_id": s.get("id"), "reason": reason})
            continue
        pc = s.get("platformCount")
        records.append(
            {
                "stop_id": str(s["id"]),
                "name": s.get("name") or "",
                "platform_count": int(pc) if isinstance(pc, int | float) else pd.NA,
                "lon": float(lon),
                "lat": float(lat),
            }
        )
    df = pd.DataFrame.from_records(records)
    if df.empty:
        msg = f"{p.name} lists no usable stops ({len(rejects)} rejected)."
        raise DataSourceError(msg)
    dup = df["stop_id"].duplicated(keep=False)
    if dup.any():
        msg = f"{p.name}: stop ids occur twice: {sorted(df.loc[dup, 'stop_id'].unique())[:10]}."
        raise DuplicateIdError(msg)
    df["platform_count"] = df["platform_count"].astype("Int64")
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(df["lon"], df["lat"]),
        crs="EPSG:4326",
    )
    gdf = to_canonical(gdf, name=p.name)
    if boundary is not None:
        area = to_canonical(
            boundary
            if isinstance(boundary, gpd.GeoDataFrame)
            else gpd.GeoDataFrame(geometry=boundary),
            name="boundary",
        )
        city = area.union_all()
        gdf["outside_city"] = ~gdf.geometry.within(city)
        method = "boundary"
    else:
        gdf["outside_city"] = outside_city(gdf.geometry)
        method = "bbox"
    if with_service:
        if lines is None:
            if path is None:
                lines = _layer_file(None, "vrr_lines", data_dir)
            else:
                sibling = p.with_name("lines-duesseldorf.json")
                if not sibling.is_file():
                    msg = (
                        f"no lines file given and {sibling} does not exist; pass lines=… "
                        "or with_service=False."
                    )
                    raise DataSourceError(msg)
                lines = sibling
        service = stop_service_level(
            gdf, lines, days_per_trip=days_per_trip, service_hours=service_hours
        )
        for c in service.columns:
            if c != "stop_id":
                gdf[c] = service[c]
        for key in ("feed_days", "days_per_trip", "service_hours"):
            gdf.attrs[key] = service.attrs[key]
    gdf.attrs["source"] = dict(obj.get("source") or {})
    gdf.attrs["source_path"] = str(p)
    gdf.attrs["outside_city_method"] = method
    gdf.attrs["rejects"] = rejects  # list of {row, stop_id, reason}; plain data keeps
    # pandas operations working (a DataFrame in attrs breaks concat/groupby)
    if rejects:
        logger.warning("%s: %d stop(s) rejected (see attrs['rejects'])", p.name, len(rejects))
    logger.info(
        "read %s: %d stops in %s, %d outside the city (%s)",
        p.name,
        len(gdf),
        CRS,
        int(gdf["outside_city"].sum()),
        method,
    )
    return gdf


# --------------------------------------------------------------------------------------
# GTFS
# --------------------------------------------------------------------------------------

#: Required GTFS files and the columns handwerkgeo needs from each.
GTFS_REQUIRED: dict[str, tuple[str, ...]] = {
    "agency": ("agency_name",),
    "stops": ("stop_id",),
    "routes": ("route_id", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "stop_id", "stop_sequence"),
}
_CALENDAR_COLUMNS = (
    "service_id",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "start_date",
    "end_date",
)
_CALENDAR_DATES_COLUMNS = ("service_id", "date", "exception_type")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Source:
    """Files of a GTFS feed in a zip or a folder, found by base name."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self.members: dict[str, str] = {}
        if self.path.is_dir():
            for f in self.path.iterdir():
                if f.suffix == ".txt":
                    self.members[f.stem] = str(f)
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except zipfile.BadZipFile as exc:
                msg = f"{self.path.name} is neither a GTFS zip nor a folder: {exc}."
                raise DataSourceError(msg) from exc
            for info in self._zip.infolist():
                base = Path(info.filename).name
                if base.endswith(".txt") and not base.startswith("."):
                    self.members.setdefault(base[:-4], info.filename)
        else:
            msg = f"GTFS feed {self.path} does not exist."
            raise DataSourceError(msg)

    def has(self, table: str) -> bool:
        return table in self.members

    def open(self, table: str) -> io.BufferedIOBase:
        if self._zip is not None:
            return self._zip.open(self.members[table])  # type: ignore[return-value]
        return open(self.members[table], "rb")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_table(
    src: _Source,
    table: str,
    required: Sequence[str],
    *,
    usecols: Sequence[str] | None = None,
    dtype: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    fname = f"{table}.txt"
    with src.open(table) as fh:
        header_bytes = fh.readline()
    try:
        header = header_bytes.decode("utf-8-sig").strip().split(",")
    except UnicodeDecodeError:
        msg = f"{src.path.name}: {fname} is not UTF-8 (GTFS requires UTF-8)."
        raise EncodingError(msg) from None
    header = [h.strip().strip('"').strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        msg = (
            f"{src.path.name}: {fname} lacks required column(s) {missing}; its header is "
            f"{header}. Is this a valid GTFS feed?"
        )
        raise MissingColumnError(msg)
    cols = None
    if usecols is not None:
        cols = [c for c in usecols if c in header]
    with src.open(table) as fh:
        try:
            df = pd.read_csv(
                fh,
                encoding="utf-8-sig",
                dtype=dtype or str,
                usecols=(lambda c: c.strip() in cols) if cols is not None else None,
                keep_default_na=False,
                skipinitialspace=True,
            )
        except UnicodeDecodeError:
            msg = f"{src.path.name}: {fname} is not UTF-8 (GTFS requires UTF-8)."
            raise EncodingError(msg) from None
        except ValueError as exc:
            msg = f"{src.path.name}: cannot read {fname}: {exc}."
            raise DataSourceError(msg) from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_gtfs(
    path: PathLike,
    *,
    stop_times_columns: Sequence[str] = ("trip_id", "stop_id", "stop_sequence"),
) -> dict[str, pd.DataFrame]:
    """Read a GTFS feed (zip or folder) into data frames.

    Reads ``agency``, ``stops``, ``routes``, ``trips``, ``stop_times`` (required),
    ``calendar`` and/or ``calendar_dates`` (at least one required) and ``frequencies``
    (optional). Files may sit in a sub-folder of the zip; a UTF-8 byte-order mark is
    accepted. ``stop_times`` (5 M rows for VRR) is read with only the columns needed for
    departure counts, ids as ``category`` and ``stop_sequence`` as ``int32``; add
    ``"departure_time"`` to ``stop_times_columns`` if you need times.

    Parameters
    ----------
    path
        GTFS zip or folder.
    stop_times_columns
        Columns of ``stop_times.txt`` to read (the three required ones are always read).

    Returns
    -------
    dict[str, pandas.DataFrame]
        One frame per table (all columns as strings, except ``stop_times``); missing
        optional tables are absent from the dict. ``feed["_path"]`` is not set; the
        path is in ``feed["stops"].attrs["gtfs_path"]``.

    Raises
    ------
    DataSourceError
        If the feed or a required file is missing (the message names the file).
    MissingColumnError
        If a required column is missing (named, with the file and its header).
    EncodingError
        If a file is not UTF-8.

    Examples
    --------
    >>> feed = read_gtfs("data/raw/gtfs/vrr.zip")  # doctest: +SKIP
    >>> sorted(feed)  # doctest: +SKIP
    ['agency', 'calendar', 'calendar_dates', 'routes', 'stop_times', 'stops', 'trips']
    """
    src = _Source(path)
    try:
        missing = [f"{t}.txt" for t in GTFS_REQUIRED if not src.has(t)]
        if not (src.has("calendar") or src.has("calendar_dates")):
            missing.append("calendar.txt or calendar_dates.txt")
        if missing:
            msg = (
                f"GTFS feed {src.path.name} lacks required file(s): {', '.join(missing)}. "
                f"Found: {sorted(f'{m}.txt' for m in src.members) or 'no .txt files'}."
            )
            raise DataSourceError(msg)
        feed: dict[str, pd.DataFrame] = {}
        for table, required in GTFS_REQUIRED.items():
            if table == "stop_times":
                continue
            feed[table] = _read_table(src, table, required)
        cols = list(dict.fromkeys([*GTFS_REQUIRED["stop_times"], *stop_times_columns]))
        dtypes: dict[str, Any] = {"trip_id": "category", "stop_id": "category"}
        dtypes.update({c: "string" for c in cols if c not in dtypes and c != "stop_sequence"})
        st = _read_table(src, "stop_times", GTFS_REQUIRED["stop_times"], usecols=cols, dtype=dtypes)
        seq = pd.to_numeric(st["stop_sequence"], errors="coerce")
        if seq.isna().any():
            bad = int(seq.isna().sum())
            msg = (
                f"{src.path.name}: stop_times.txt has {bad} row(s) without a numeric stop_sequence."
            )
            raise DataSourceError(msg)
        st["stop_sequence"] = seq.astype("int32")
        feed["stop_times"] = st
        if src.has("calendar"):
            feed["calendar"] = _read_table(src, "calendar", _CALENDAR_COLUMNS)
        if src.has("calendar_dates"):
            feed["calendar_dates"] = _read_table(src, "calendar_dates", _CALENDAR_DATES_COLUMNS)
        if src.has("frequencies"):
            feed["frequencies"] = _read_table(
                src, "frequencies", ("trip_id", "start_time", "end_time", "headway_secs")
            )
    finally:
        src.close()
    feed["stops"].attrs["gtfs_path"] = str(path)
    logger.info(
        "read GTFS %s: %d stops, %d routes, %d trips, %d stop times",
        Path(path).name,
        len(feed["stops"]),
        len(feed["routes"]),
        len(feed["trips"]),
        len(feed["stop_times"]),
    )
    return feed


def _feed(path_or_feed: PathLike | Mapping[str, pd.DataFrame]) -> Mapping[str, pd.DataFrame]:
    if isinstance(path_or_feed, Mapping):
        return path_or_feed
    return read_gtfs(path_or_feed)


def gtfs_stops(path_or_feed: PathLike | Mapping[str, pd.DataFrame]) -> gpd.GeoDataFrame:
    """Stops of a GTFS feed as points in EPSG:25832.

    Parameters
    ----------
    path_or_feed
        GTFS zip/folder or the dict of :func:`read_gtfs`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``stop_id``, ``name``, ``location_type`` (0 stop/platform, 1 station, 2 entrance,
        3 generic node, 4 boarding area), ``parent_station`` (``""`` if none),
        ``platform_code``, geometry. Rows without coordinates (allowed by GTFS for
        location types 3 and 4) are left out and listed in ``attrs["rejects"]`` (list of
        ``{stop_id, reason}``).

    Examples
    --------
    >>> gtfs_stops("data/raw/gtfs/vrr.zip").crs.to_epsg()  # doctest: +SKIP
    25832
    """
    feed = _feed(path_or_feed)
    stops = feed["stops"]
    missing = [c for c in ("stop_id", "stop_lat", "stop_lon") if c not in stops.columns]
    if missing:
        msg = f"stops.txt lacks column(s) {missing}; cannot place stops on the map."
        raise MissingColumnError(msg)
    df = pd.DataFrame(
        {
            "stop_id": stops["stop_id"].astype(str),
            "name": stops.get("stop_name", pd.Series("", index=stops.index)).fillna(""),
            "location_type": pd.to_numeric(
                stops.get("location_type", pd.Series("0", index=stops.index)).replace("", "0"),
                errors="coerce",
            )
            .fillna(0)
            .astype("int8"),
            "parent_station": stops.get("parent_station", pd.Series("", index=stops.index))
            .fillna("")
            .astype(str),
            "platform_code": stops.get("platform_code", pd.Series("", index=stops.index))
            .fillna("")
            .astype(str),
        }
    )
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce")
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce")
    ok = lat.between(-90, 90) & lon.between(-180, 180)
    rejects = [
        {"stop_id": sid, "reason": "no valid stop_lat/stop_lon"} for sid in df.loc[~ok, "stop_id"]
    ]
    df = df.loc[ok]
    dup = df["stop_id"].duplicated(keep=False)
    if dup.any():
        msg = f"stops.txt: stop_id occurs twice: {sorted(df.loc[dup, 'stop_id'].unique())[:10]}."
        raise DuplicateIdError(msg)
    gdf = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs="EPSG:4326"
    ).reset_index(drop=True)
    gdf = to_canonical(gdf, name="stops.txt")
    gdf.attrs["rejects"] = rejects
    return gdf


def _gtfs_date(value: str | dt.date | pd.Timestamp) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = str(value).strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    msg = f"date {value!r} is not a date (use 'YYYY-MM-DD', 'YYYYMMDD' or datetime.date)."
    raise ConfigError(msg)


def active_services(feed: Mapping[str, pd.DataFrame], date: str | dt.date) -> set[str]:
    """Service ids running on ``date``: calendar weekday and range, then calendar_dates.

    ``exception_type`` 1 adds a service on that date, 2 removes it.
    """
    day = _gtfs_date(date)
    key = day.strftime("%Y%m%d")
    services: set[str] = set()
    cal = feed.get("calendar")
    if cal is not None and len(cal):
        weekday = _WEEKDAYS[day.weekday()]
        start = cal["start_date"].str.strip()
        end = cal["end_date"].str.strip()
        on = (cal[weekday].str.strip() == "1") & (start <= key) & (end >= key)
        services = set(cal.loc[on, "service_id"])
    cd = feed.get("calendar_dates")
    if cd is not None and len(cd):
        today = cd[cd["date"].str.strip() == key]
        kind = today["exception_type"].str.strip()
        bad = today.loc[~kind.isin(["1", "2"]), "exception_type"].unique()
        if len(bad):
            msg = f"calendar_dates.txt: exception_type must be 1 or 2, found {list(bad)}."
            raise DataSourceError(msg)
        services |= set(today.loc[kind == "1", "service_id"])
        services -= set(today.loc[kind == "2", "service_id"])
    return services


def _seconds(hms: pd.Series) -> pd.Series:
    parts = hms.str.strip().str.split(":", expand=True).astype(float)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def departures_per_stop(
    feed: PathLike | Mapping[str, pd.DataFrame],
    date: str | dt.date,
    *,
    aggregate_to_parent: bool = True,
) -> pd.DataFrame:
    """Departures per stop on one service date.

    A departure is a ``stop_times`` row of a trip running that day, except the last stop
    of each trip (where it only arrives). Trips are running when their ``service_id`` is
    active: ``calendar`` weekday flag set and ``start_date ≤ date ≤ end_date``, then
    ``calendar_dates`` exceptions (1 added, 2 removed). Trips of ``frequencies.txt``
    count once per run (``ceil((end − start) / headway)`` per window). Times after
    24:00 belong to the trip's service date, as GTFS defines.

    Parameters
    ----------
    feed
        GTFS zip/folder or the dict of :func:`read_gtfs`.
    date
        Service date (``"2026-07-06"``, ``"20260706"`` or ``datetime.date``).
    aggregate_to_parent
        Count platforms (stops with a ``parent_station``) under their parent station
        (default True), so a station with several platforms is one row.

    Returns
    -------
    pandas.DataFrame
        ``stop_id``, ``departures`` (int), ``n_routes``, ``modes`` (comma-separated,
        alphabetical), sorted by ``stop_id``; only stops with at least one departure.
        ``attrs``: ``date``, ``n_services``, ``n_trips``.

    Examples
    --------
    >>> deps = departures_per_stop("data/raw/gtfs/vrr.zip", "2026-09-15")  # doctest: +SKIP
    """
    fd = _feed(feed)
    day = _gtfs_date(date)
    services = active_services(fd, day)
    trips = fd["trips"]
    run = trips[trips["service_id"].isin(services)][["trip_id", "route_id"]]
    st = fd["stop_times"]
    st = st[st["trip_id"].isin(run["trip_id"])]
    cols = ["trip_id", "stop_id", "stop_sequence"]
    st = st[cols].copy()
    st["trip_id"] = st["trip_id"].astype(str)
    st["stop_id"] = st["stop_id"].astype(str)
    last = st.groupby("trip_id")["stop_sequence"].transform("max")
    deps = st[st["stop_sequence"] < last]
    deps = deps.merge(run.astype({"trip_id": str}), on="trip_id", how="left")
    weight = pd.Series(1, index=deps.index, dtype="int64")
    freq = fd.get("frequencies")
    if freq is not None and len(freq):
        f = freq.copy()
        span = _seconds(f["end_time"]) - _seconds(f["start_time"])
        head = pd.to_numeric(f["headway_secs"], errors="coerce")
        if (head <= 0).any() or head.isna().any():
            msg = "frequencies.txt: headway_secs must be a positive number."
            raise DataSourceError(msg)
        f["runs"] = np.ceil(span.clip(lower=0) / head).astype("int64")
        runs = f.groupby("trip_id")["runs"].sum()
        weight = deps["trip_id"].map(runs).fillna(1).astype("int64")
    deps = deps.assign(_w=weight.to_numpy())
    if aggregate_to_parent and "parent_station" in fd["stops"].columns:
        parent = fd["stops"].set_index("stop_id")["parent_station"].fillna("").astype(str)
        parent = parent[parent.str.strip() != ""]
        deps["stop_id"] = deps["stop_id"].map(parent).fillna(deps["stop_id"])
    rtype = fd["routes"].set_index("route_id")["route_type"]
    deps["mode"] = deps["route_id"].map(rtype).map(mode_from_route_type)
    if deps.empty:
        out = pd.DataFrame({"stop_id": [], "departures": [], "n_routes": [], "modes": []})
        out = out.astype({"departures": "int64", "n_routes": "int64"})
    else:
        out = (
            deps.groupby("stop_id")
            .agg(
                departures=("_w", "sum"),
                n_routes=("route_id", "nunique"),
                modes=("mode", lambda m: ",".join(sorted(set(m.dropna())))),
            )
            .reset_index()
            .sort_values("stop_id")
            .reset_index(drop=True)
        )
    out.attrs["date"] = day.isoformat()
    out.attrs["n_services"] = len(services)
    out.attrs["n_trips"] = len(run)
    logger.info(
        "departures on %s: %d services, %d trips, %d stops",
        day.isoformat(),
        len(services),
        len(run),
        len(out),
    )
    return out
