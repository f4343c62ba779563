"""Reader of GTFS feeds (zip or folder): tables, stops, active services and departures per
stop.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo.crs import to_canonical
from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    DuplicateIdError,
    EncodingError,
    MissingColumnError,
)
from handwerkgeo.sources.transit.modes import PathLike, mode_from_route_type

__all__ = [
    "GTFS_REQUIRED",
    "active_services",
    "departures_per_stop",
    "gtfs_stops",
    "read_gtfs",
]

logger = logging.getLogger(__name__)


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

#: Id columns of stop_times, kept as categories of text.
_ID_COLUMNS = ("trip_id", "stop_id")

#: Columns holding GTFS ids (text), in any table.
_IDS = ("trip_id", "service_id", "stop_id", "route_id", "parent_station", "agency_id")

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
        # ids are text (GTFS "ID" type): read as strings, then stored as categories of
        # strings; dtype="category" would infer int categories from numeric ids ("1490")
        # that never match the text ids of trips.txt
        dtypes: dict[str, Any] = {c: "string" for c in cols if c != "stop_sequence"}
        st = _read_table(src, "stop_times", GTFS_REQUIRED["stop_times"], usecols=cols, dtype=dtypes)
        for c in _ID_COLUMNS:
            st[c] = _text_ids(st[c]).astype("category")
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


def _text_ids(values: pd.Series) -> pd.Series:
    """GTFS ids as plain text (``1490``, ``1490.0``-free): ints, categories of ints and
    strings all become the same strings, so that joins across tables match."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    out = values.astype("string").str.strip()
    return out.astype(object).where(out.notna(), "")


def _feed(path_or_feed: PathLike | Mapping[str, pd.DataFrame]) -> Mapping[str, pd.DataFrame]:
    """The tables of a feed, with every id column as text (a frame built by hand may hold
    numeric ids)."""
    if not isinstance(path_or_feed, Mapping):
        return read_gtfs(path_or_feed)
    feed = dict(path_or_feed)
    for table, frame in feed.items():
        if not isinstance(frame, pd.DataFrame):
            continue
        ids = [c for c in _IDS if c in frame.columns and not _is_text_ids(frame[c])]
        if ids:
            frame = frame.copy()
            for c in ids:
                frame[c] = _text_ids(frame[c])
                if table == "stop_times":
                    frame[c] = frame[c].astype("category")
            feed[table] = frame
    return feed


def _is_text_ids(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.categories.dtype == object or pd.api.types.is_string_dtype(
            values.cat.categories.dtype
        )
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


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
    deps = deps.merge(run, on="trip_id", how="left")
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
        mapped = deps["stop_id"].map(parent)  # all NaN (float) for a feed without parents
        deps["stop_id"] = deps["stop_id"].where(mapped.isna(), mapped.astype(object))
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
    if services and out.empty:
        msg = (
            f"GTFS feed: {len(services)} service(s) run on {day.isoformat()} "
            f"({', '.join(sorted(services)[:5])}{' …' if len(services) > 5 else ''}; "
            f"{len(run)} trip(s) in trips.txt), but no departure was found for that day. "
            "Check that trips.txt and stop_times.txt use the same trip_ids and that the "
            "trips have at least two stop_times."
        )
        raise DataSourceError(msg)
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
