"""Public transport: VRR extracts of the mirror and a hand-built GTFS feed."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from handwerkgeo.crs import to_canonical
from handwerkgeo.errors import DataSourceError, MissingColumnError
from handwerkgeo.sources.transit import (
    CATEGORY_TABLE,
    departures_per_stop,
    gtfs_stops,
    mode_from_route_type,
    read_gtfs,
    read_vrr_lines,
    read_vrr_patterns,
    read_vrr_stops,
    stop_service_level,
)

HBF = "de:05111:18235"

# --------------------------------------------------------------------------------------
# a small GTFS feed: 2 routes, weekday and weekend service, calendar_dates removal and
# addition, a parent station with two platforms, non-contiguous stop_sequence
# --------------------------------------------------------------------------------------

GTFS_FILES = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
    "A,Rheinbahn,https://example.org,Europe/Berlin\n",
    # with a UTF-8 byte-order mark, as some exporters write
    "stops.txt": "\ufeffstop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
    "STA,Hauptbahnhof,51.2203,6.7930,1,\n"
    "P1,Hauptbahnhof Gleis 1,51.2202,6.7929,0,STA\n"
    "P2,Hauptbahnhof Gleis 2,51.2204,6.7931,0,STA\n"
    "B,Oststraße,51.2230,6.7880,0,\n"
    "C,Worringer Platz,51.2260,6.7940,0,\n"
    "N,Generic node,,,3,STA\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,A,709,0\nR2,A,721,3\n",
    "trips.txt": "route_id,service_id,trip_id\nR1,WK,T1\nR1,WK,T2\nR2,WK,T3\nR2,WE,T4\nR1,EX,T5\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "T1,08:00:00,08:00:00,P1,1\nT1,08:05:00,08:05:00,B,5\nT1,08:10:00,08:10:00,C,10\n"
    "T2,09:00:00,09:00:00,C,1\nT2,09:05:00,09:05:00,B,2\nT2,09:10:00,09:10:00,P2,3\n"
    "T3,10:00:00,10:00:00,B,1\nT3,10:05:00,10:05:00,P2,2\n"
    "T4,11:00:00,11:00:00,P2,1\nT4,11:05:00,11:05:00,C,2\n"
    "T5,24:10:00,24:10:00,B,1\nT5,24:15:00,24:15:00,C,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\n"
    "WK,1,1,1,1,1,0,0,20260701,20261231\n"
    "WE,0,0,0,0,0,1,1,20260701,20261231\n",
    # 2026-07-06 (Monday): weekday service removed, weekend service added;
    # 2026-07-11 (Saturday): extra service EX added
    "calendar_dates.txt": "service_id,date,exception_type\n"
    "WK,20260706,2\nWE,20260706,1\nEX,20260711,1\n",
}


@pytest.fixture
def gtfs_zip(tmp_path: Path) -> Path:
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in GTFS_FILES.items():
            zf.writestr(f"gtfs/{name}", text.encode("utf-8"))  # files in a sub-folder
    return path


@pytest.fixture
def gtfs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "feed"
    folder.mkdir()
    for name, text in GTFS_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _deps(feed: object, date: str, **kw: object) -> dict[str, tuple[int, int, str]]:
    out = departures_per_stop(feed, date, **kw)  # type: ignore[arg-type]
    return {r.stop_id: (r.departures, r.n_routes, r.modes) for r in out.itertuples()}


def test_read_gtfs_tables_and_dtypes(gtfs_zip: Path) -> None:
    feed = read_gtfs(gtfs_zip)
    assert {
        "agency",
        "stops",
        "routes",
        "trips",
        "stop_times",
        "calendar",
        "calendar_dates",
    } <= set(feed)
    assert feed["stops"].columns[0] == "stop_id"  # BOM stripped
    st = feed["stop_times"]
    assert list(st.columns) == ["trip_id", "stop_id", "stop_sequence"]
    assert st["trip_id"].dtype == "category"
    assert st["stop_sequence"].dtype == "int32"
    assert len(st) == 12


def test_departures_weekday(gtfs_zip: Path) -> None:
    feed = read_gtfs(gtfs_zip)
    # Tuesday: T1, T2, T3 (WK). Last stops (T1 at C, T2 at P2, T3 at P2) do not count.
    assert _deps(feed, "2026-07-07") == {
        "STA": (1, 1, "tram"),
        "B": (3, 2, "bus,tram"),
        "C": (1, 1, "tram"),
    }


def test_departures_saturday(gtfs_zip: Path) -> None:
    feed = read_gtfs(gtfs_zip)
    assert _deps(feed, "20260704") == {"STA": (1, 1, "bus")}
    # Saturday with the extra service EX (trip after midnight still counts for this date)
    assert _deps(feed, "2026-07-11") == {"STA": (1, 1, "bus"), "B": (1, 1, "tram")}


def test_departures_exception_date(gtfs_zip: Path) -> None:
    feed = read_gtfs(gtfs_zip)
    # Monday 2026-07-06: WK removed (exception 2), WE added (exception 1)
    out = departures_per_stop(feed, "2026-07-06")
    assert out.attrs["n_services"] == 1
    assert _deps(feed, "2026-07-06") == {"STA": (1, 1, "bus")}


def test_departures_platforms_without_parent_aggregation(gtfs_dir: Path) -> None:
    assert _deps(gtfs_dir, "2026-07-07", aggregate_to_parent=False) == {
        "P1": (1, 1, "tram"),
        "B": (3, 2, "bus,tram"),
        "C": (1, 1, "tram"),
    }


def test_departures_frequency_based_trips(gtfs_dir: Path) -> None:
    # T3 runs every 20 minutes from 08:00 to 09:00: 3 runs instead of 1
    (gtfs_dir / "frequencies.txt").write_text(
        "trip_id,start_time,end_time,headway_secs\nT3,08:00:00,09:00:00,1200\n", encoding="utf-8"
    )
    assert _deps(gtfs_dir, "2026-07-07")["B"] == (5, 2, "bus,tram")


def test_departures_outside_feed_period_is_empty(gtfs_zip: Path) -> None:
    out = departures_per_stop(gtfs_zip, "2027-01-05")
    assert out.empty
    assert list(out.columns) == ["stop_id", "departures", "n_routes", "modes"]


def test_gtfs_stops_projected_and_rejects(gtfs_zip: Path) -> None:
    stops = gtfs_stops(gtfs_zip)
    assert stops.crs.to_epsg() == 25832
    assert set(stops["stop_id"]) == {"STA", "P1", "P2", "B", "C"}
    assert stops.attrs["rejects"] == [{"stop_id": "N", "reason": "no valid stop_lat/stop_lon"}]
    hbf = stops.set_index("stop_id").loc["P1"]
    assert hbf["parent_station"] == "STA"
    assert 343_000 < hbf.geometry.x < 346_000 and 5_676_000 < hbf.geometry.y < 5_680_000


def test_gtfs_missing_stop_times_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in GTFS_FILES.items():
            if name != "stop_times.txt":
                zf.writestr(name, text)
    with pytest.raises(DataSourceError, match=r"stop_times\.txt"):
        read_gtfs(path)


def test_gtfs_missing_column_names_file_and_column(gtfs_dir: Path) -> None:
    (gtfs_dir / "trips.txt").write_text("route_id,trip_id\nR1,T1\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match=r"trips\.txt.*service_id"):
        read_gtfs(gtfs_dir)


def test_gtfs_not_a_feed(tmp_path: Path) -> None:
    bad = tmp_path / "feed.zip"
    bad.write_text("not a zip")
    with pytest.raises(DataSourceError, match="neither a GTFS zip"):
        read_gtfs(bad)


@pytest.mark.parametrize(
    ("route_type", "mode"),
    [(0, "tram"), (1, "subway"), (2, "rail"), (3, "bus"), ("109", "rail"), (405, "monorail")],
)
def test_mode_from_route_type(route_type: object, mode: str) -> None:
    assert mode_from_route_type(route_type) == mode


# --------------------------------------------------------------------------------------
# stop categories on synthetic lines
# --------------------------------------------------------------------------------------


def _lines(*lines: tuple[str, str, int, list[str]]) -> dict[str, object]:
    return {
        "source": {"feedValidFrom": "20260701", "feedValidUntil": "20260710"},  # 10 days
        "lines": [
            {"id": lid, "name": lid, "mode": mode, "routeType": "3", "tripCount": n,
             "patterns": [{"directionId": "0", "tripCount": n, "stops": stops}]}
            for lid, mode, n, stops in lines
        ],
    }  # fmt: skip


def test_category_table_is_monotone() -> None:
    bounds = [row[0] for row in CATEGORY_TABLE]
    assert bounds == sorted(bounds)
    for col in (1, 2, 3):
        cats = [row[col] for row in CATEGORY_TABLE]
        assert cats == sorted(cats)
    assert all(row[1] <= row[2] <= row[3] for row in CATEGORY_TABLE)


def test_stop_service_level_categories_and_fallback() -> None:
    stops = pd.DataFrame(
        {"stop_id": ["rail", "bus", "mixed", "none"], "platform_count": [4, 2, 6, 12]},
        index=[10, 11, 12, 13],
    )
    before = stops.copy()
    # 10 days, days_per_trip 1 → departures/day = trips / 10; 18 h → interval = 2160 / d
    lines = _lines(
        ("S", "train", 2700, ["rail", "mixed"]),  # 270/day → 8 min: A → 1
        ("B", "bus", 1080, ["bus", "mixed"]),  # 108/day → 20 min: C → 5
    )
    out = stop_service_level(stops, lines, days_per_trip=1)
    pd.testing.assert_frame_equal(stops, before)
    assert list(out.index) == [10, 11, 12, 13]
    assert out.loc[10, "stop_category"] == 1
    assert out.loc[11, "stop_category"] == 5
    assert out.loc[11, "interval_min_est"] == pytest.approx(20.0)
    # mixed: rail alone gives A-1; all 378/day as group C → 5.7 min → 3; best is 1
    assert out.loc[12, "stop_category"] == 1
    assert out.loc[12, "category_group"] == "A"
    assert out.loc[12, "modes"] == "bus,train"
    assert out.loc[12, "best_mode"] == "train"
    assert out.loc[12, "n_lines"] == 2
    assert out.loc[12, "trip_count"] == 3780
    # a stop without line data: category from its 12 platforms, flagged
    assert out.loc[13, "service_source"] == "platform_count"
    assert out.loc[13, "stop_category"] == 2
    assert (out.loc[[10, 11, 12], "service_source"] == "vrr_lines").all()


def test_stop_service_level_combined_bus_lines_rank_better() -> None:
    stops = pd.DataFrame({"stop_id": ["a"], "platform_count": [2]})
    one = stop_service_level(stops, _lines(("B1", "bus", 1080, ["a"])), days_per_trip=1)
    four = stop_service_level(
        stops,
        _lines(*[(f"B{i}", "bus", 1080, ["a"]) for i in range(4)]),  # 5-min interval → 3
        days_per_trip=1,
    )
    assert one["stop_category"].iloc[0] == 5
    assert four["stop_category"].iloc[0] == 3


def test_stop_service_level_rejects_bad_calibration() -> None:
    stops = pd.DataFrame({"stop_id": ["a"]})
    with pytest.raises(ValueError, match="days_per_trip"):
        stop_service_level(stops, _lines(("B", "bus", 10, ["a"])), days_per_trip=11)


# --------------------------------------------------------------------------------------
# the real VRR extracts
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vrr(mirror: Path) -> tuple[Path, Path]:
    return mirror / "oepnv" / "stops-duesseldorf.json", mirror / "oepnv" / "lines-duesseldorf.json"


@pytest.fixture(scope="module")
def city(mirror: Path) -> gpd.GeoDataFrame:
    path = mirror / "grenzen" / "Stadtteilgrenzen_Duesseldorf_2021_ETRS89.geojson"
    return to_canonical(gpd.read_file(path))


def test_vrr_lines(vrr: tuple[Path, Path]) -> None:
    lines = read_vrr_lines(vrr[1])
    assert len(lines) == 137
    assert lines["n_patterns"].sum() == 870
    assert lines["mode"].value_counts().to_dict() == {
        "bus": 90,
        "train": 24,
        "stadtbahn": 14,
        "tram": 8,
        "rail-other": 1,
    }
    assert lines.attrs["source"]["feedValidFrom"] == "20260701"


def test_vrr_stops_with_service(vrr: tuple[Path, Path], city: gpd.GeoDataFrame) -> None:
    stops = read_vrr_stops(vrr[0], lines=vrr[1], boundary=city)
    assert len(stops) == 630
    assert stops.crs.to_epsg() == 25832
    assert stops["stop_id"].is_unique
    patterns = read_vrr_patterns(vrr[1])
    assert set(patterns["stop_id"]) <= set(stops["stop_id"])
    assert stops["outside_city"].sum() == 2
    assert stops.attrs["outside_city_method"] == "boundary"
    assert stops.attrs["feed_days"] == 184
    hbf = stops.set_index("stop_id").loc[HBF]
    assert hbf["name"] == "Düsseldorf Hbf"
    assert hbf["platform_count"] == 31
    assert hbf["stop_category"] == 1
    assert hbf["best_mode"] == "train"
    assert set(hbf["modes"].split(",")) == {"bus", "stadtbahn", "train", "tram"}
    assert (stops["service_source"] == "vrr_lines").all()
    assert stops["stop_category"].between(1, 5).all()
    # trip count of a stop = sum over the patterns serving it (independent recount)
    per_stop = (
        patterns.drop_duplicates(["line_id", "pattern_index", "stop_id"])
        .groupby("stop_id")["trip_count"]
        .sum()
    )
    pd.testing.assert_series_equal(
        stops.set_index("stop_id")["trip_count"].sort_index(),
        per_stop.sort_index().rename("trip_count"),
        check_names=False,
    )


def test_vrr_stops_sibling_lines_and_bbox(vrr: tuple[Path, Path]) -> None:
    stops = read_vrr_stops(vrr[0])  # lines found next to the stops file
    assert "stop_category" in stops
    assert stops.attrs["outside_city_method"] == "bbox"
    plain = read_vrr_stops(vrr[0], with_service=False)
    assert list(plain.columns) == ["stop_id", "name", "platform_count", "geometry", "outside_city"]


def test_vrr_stops_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        read_vrr_stops(tmp_path / "stops.json")


def test_vrr_default_paths_from_data_dir(vrr: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="data fetch"):
        read_vrr_stops(data_dir=tmp_path)
    raw = tmp_path / "raw" / "oepnv"
    raw.mkdir(parents=True)
    for f in vrr:
        shutil.copy(f, raw / f.name)
    assert read_vrr_stops(data_dir=tmp_path)["stop_category"].notna().all()


# --------------------------------------------------------------------------------------
# numeric ids, as in many US feeds: trip_id "1490" in trips.txt and stop_times.txt
# --------------------------------------------------------------------------------------


def _numeric_feed(tmp_path: Path, n_trips: int = 30) -> Path:
    """A feed to the GTFS schema whose trip, service, route and stop ids are all numbers."""
    stops = "stop_id,stop_code,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
    stops += "".join(f"{100 + i},{i},Stop {i},{51.22 + i / 1000},6.78,0,\n" for i in range(4))
    stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence,timepoint\n"
    trips = "route_id,service_id,trip_id,trip_headsign,direction_id\n"
    for t in range(n_trips):
        trip_id = 1490 + t
        trips += f"{7 + t % 2},{1 if t % 3 else 2},{trip_id},Downtown,0\n"
        for seq in range(4):
            hhmmss = f"{6 + t // 4:02d}:{(t % 4) * 15 + seq:02d}:00"
            stop_times += f"{trip_id},{hhmmss},{hhmmss},{100 + seq},{seq + 1},1\n"
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "1,Metro Transit,https://example.org,America/Chicago\n",
        "stops.txt": stops,
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "7,1,7,Seventh,3\n8,1,8,Eighth,0\n",
        "trips.txt": trips,
        "stop_times.txt": stop_times,
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\n1,1,1,1,1,1,0,0,20260101,20261231\n"
        "2,1,1,1,1,1,1,1,20260101,20261231\n",
    }
    path = tmp_path / "us_feed.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_numeric_trip_ids_give_departures(tmp_path: Path) -> None:
    feed = read_gtfs(_numeric_feed(tmp_path))
    assert feed["stop_times"]["trip_id"].cat.categories.tolist()[:2] == ["1490", "1491"]
    out = departures_per_stop(feed, "2026-07-07")  # a Tuesday: all 30 trips run
    # 30 trips x 3 departures (the last stop of each trip is an arrival only)
    assert int(out["departures"].sum()) == 90
    assert out["stop_id"].tolist() == ["100", "101", "102"]
    assert out.attrs["n_trips"] == 30
    # Saturday: only service 2 (every third trip: 10 trips)
    assert int(departures_per_stop(feed, "2026-07-11")["departures"].sum()) == 30


def test_numeric_ids_in_hand_built_frames(tmp_path: Path) -> None:
    feed = dict(read_gtfs(_numeric_feed(tmp_path)))
    # a feed built in Python with int ids in every table joins as well
    feed["trips"] = feed["trips"].astype({"trip_id": "int64", "service_id": "int64"})
    feed["calendar"] = feed["calendar"].astype({"service_id": "int64"})
    feed["stop_times"] = feed["stop_times"].astype({"trip_id": "int64"})
    assert int(departures_per_stop(feed, "2026-07-07")["departures"].sum()) == 90


def test_active_services_without_departures_is_an_error(tmp_path: Path) -> None:
    feed = dict(read_gtfs(_numeric_feed(tmp_path)))
    st = feed["stop_times"]
    feed["stop_times"] = st.assign(trip_id=("x" + st["trip_id"].astype(str)).astype("category"))
    with pytest.raises(DataSourceError, match=r"2026-07-07.*no departure"):
        departures_per_stop(feed, "2026-07-07")
