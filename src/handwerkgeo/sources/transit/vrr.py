"""Readers of the VRR JSON extracts in the data mirror: lines, stop patterns, stops and
their service level.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
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
from handwerkgeo.fetch import layer_paths
from handwerkgeo.sources.transit.modes import (
    DAYS_PER_TRIP,
    PLATFORM_CATEGORY,
    PathLike,
    mode_from_route_type,
    mode_group,
    mode_rank,
    stop_category_for,
)

__all__ = [
    "read_vrr_lines",
    "read_vrr_patterns",
    "read_vrr_stops",
    "stop_service_level",
]

logger = logging.getLogger(__name__)


def _layer_file(path: PathLike | None, layer: str, data_dir: PathLike | None) -> Path:
    if path is None:
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


def _patterns_of(
    lines_json_or_path: PathLike | Mapping[str, Any] | pd.DataFrame,
) -> tuple[pd.DataFrame, str]:
    """The stop patterns (read or checked) and a name for messages."""
    if isinstance(lines_json_or_path, pd.DataFrame):
        patterns = lines_json_or_path
        need = ["line_id", "mode", "pattern_index", "trip_count", "stop_id"]
        missing = [c for c in need if c not in patterns.columns]
        if missing:
            msg = f"patterns frame lacks {missing}; pass read_vrr_patterns() output."
            raise MissingColumnError(msg)
        return patterns, "patterns"
    name = (
        Path(lines_json_or_path).name
        if isinstance(lines_json_or_path, str | os.PathLike)
        else "lines JSON"
    )
    return read_vrr_patterns(lines_json_or_path), name


def _best_category(trips_by_group: pd.Series, scale: float, minutes: float) -> tuple[int, str]:
    """Best category of a stop over its mode groups, each rated with all better groups."""
    best = (6, "")
    cumulative = 0.0
    for g in ("A", "B", "C"):
        cumulative += float(trips_by_group[g])
        if trips_by_group[g] <= 0:
            continue
        per_day = cumulative * scale
        cat = stop_category_for(g, minutes / (per_day / 2.0))
        if cat < best[0]:
            best = (cat, g)
    return best


def _platform_fallback(out: pd.DataFrame, stops: pd.DataFrame, fallback: pd.Series) -> None:
    """Categories from the platform count for stops without line data (in place)."""
    if not fallback.any():
        return
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
        ", ".join(map(str, out.loc[fallback, "stop_id"].head(10))),
    )


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
    patterns, name = _patterns_of(lines_json_or_path)
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
    per_pattern = per_pattern.assign(group=per_pattern["mode"].map(mode_group))
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
        best_mode=("mode", lambda m: min(set(m), key=lambda x: (mode_rank(x), x))),
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

    best = [
        _best_category(by_group.loc[sid], scale, minutes) if ok else (pd.NA, "")
        for sid, ok in zip(ids, has_lines, strict=True)
    ]
    out["category_group"] = [g for _, g in best]
    out["stop_category"] = pd.array([c for c, _ in best], dtype="Int64")
    out["service_source"] = np.where(has_lines, "vrr_lines", "platform_count")
    _platform_fallback(out, stops, ~has_lines)
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
