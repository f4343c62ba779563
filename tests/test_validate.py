"""Collect-all validation helpers: numbers, names, geometries, reports, errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from handwerkgeo._validate import (
    Problem,
    RowIssue,
    ValidationReport,
    build_report,
    check_geometries,
    duplicate_issues,
    find_column,
    normalize_key,
    parse_numbers,
    raise_for_report,
)
from handwerkgeo.errors import (
    DuplicateIdError,
    InvalidGeometryError,
    MissingColumnError,
    NoCrsError,
    ValidationError,
)


@pytest.mark.parametrize(
    ("value", "decimal", "expected"),
    [
        ("1.234,5", None, 1234.5),
        ("12,5", None, 12.5),
        ("1234.5", None, 1234.5),
        ("1,234.5", None, 1234.5),
        ("1,234", ".", 1234.0),
        ("2.500", ",", 2500.0),
        ("2.500", ".", 2.5),
        ("1.234.567", ",", 1234567.0),
        ("38 757", None, 38757.0),
        ("38\u00a0757", None, 38757.0),
        ("2500 m²", None, 2500.0),
        ("3200qm", None, 3200.0),
        ("-5", None, -5.0),
        (3200, None, 3200.0),
        (12.5, None, 12.5),
    ],
)
def test_parse_numbers(value, decimal, expected):
    nums, bad = parse_numbers([value], decimal=decimal)
    assert nums[0] == pytest.approx(expected)
    assert not bad[0]


@pytest.mark.parametrize("value", ["abc", "12,5,3", "1,5", True, "zwei"])
def test_parse_numbers_flags_unreadable_values(value):
    nums, bad = parse_numbers([value], decimal=".")
    assert np.isnan(nums[0])
    assert bad[0]


@pytest.mark.parametrize("value", [None, "", "  ", float("nan"), pd.NA])
def test_parse_numbers_missing_is_not_bad(value):
    nums, bad = parse_numbers([value])
    assert np.isnan(nums[0]) and not bad[0]


def test_parse_numbers_detects_decimal_comma_from_the_column():
    nums, _ = parse_numbers(["2.500", "12,5"])
    assert nums.tolist() == [2500.0, 12.5]


def test_parse_numbers_rejects_unknown_decimal():
    with pytest.raises(ValueError, match="decimal"):
        parse_numbers(["1"], decimal=";")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Fläche [m²]", "flaechem2"),
        ("FLAECHE_M2", "flaechem2"),
        ("Größe", "groesse"),
        ("Straße", "strasse"),
        ("plot_id", "plotid"),
    ],
)
def test_normalize_key(name, key):
    assert normalize_key(name) == key


def test_find_column_prefers_candidate_order():
    cols = ["ID", "plot_id", "Fläche"]
    assert find_column(cols, ["plot_id", "id"]) == "plot_id"
    assert find_column(cols, ["flaeche"]) == "Fläche"
    assert find_column(cols, ["area"]) is None


def test_check_geometries_classifies_every_problem():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    geoms = gpd.GeoSeries(
        [box(0, 0, 1, 1), None, Polygon(), LineString([(0, 0), (1, 1)]), bowtie, Point(1, 2),
         MultiPoint([(0, 0), (1, 1)])],
        crs=25832,
    )  # fmt: skip
    out, issues, notes = check_geometries(geoms)
    by_pos = {i.pos: i for i in issues}
    assert set(by_pos) == {1, 2, 3, 4, 6}
    assert by_pos[1].kind == "empty_geometry" and "missing" in by_pos[1].reason
    assert by_pos[2].kind == "empty_geometry" and "empty" in by_pos[2].reason
    assert by_pos[3].kind == "geometry_type" and "polygon" in by_pos[3].fix
    assert by_pos[4].kind == "invalid_geometry" and "Self-intersection" in by_pos[4].reason
    assert by_pos[6].kind == "geometry_type" and "MultiPoint" in by_pos[6].fix
    assert not notes
    assert out.crs == geoms.crs


def test_check_geometries_repair_and_points_flag():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    geoms = gpd.GeoSeries([bowtie, Point(0, 0)])
    out, issues, notes = check_geometries(geoms, allow_points=False, repair=True)
    assert [i.pos for i in issues] == [1]
    assert out.iloc[0].is_valid and out.iloc[0].area == pytest.approx(0.5)
    assert len(notes) == 1 and "row 1" in notes[0]


def test_check_geometries_drops_z():
    out, issues, _ = check_geometries(gpd.GeoSeries([Point(1, 2, 3)]))
    assert not issues and not out.iloc[0].has_z


def test_duplicate_issues_lists_all_rows():
    issues = duplicate_issues(pd.Series(["a", "b", "a", None, "a"]))
    assert [i.pos for i in issues] == [0, 2, 4]
    assert "occurs 3 times (rows 1, 3, 5)" in issues[0].reason


def _frame(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"plot_id": [f"P{i}" for i in range(n)]},
        geometry=[box(i, 0, i + 1, 1) for i in range(n)],
        crs=25832,
    )


def test_build_report_splits_usable_and_rejects():
    frame = _frame(4)
    issues = [
        RowIssue(1, "duplicate_id", "dup", "make unique"),
        RowIssue(1, "bad_area", "area", "fix area"),
        RowIssue(3, "bad_area", "area", "fix area"),
    ]
    report = build_report("t", frame, ids=frame["plot_id"].tolist(), row_issues=issues)
    assert report.usable["plot_id"].tolist() == ["P0", "P2"]
    assert report.rejects["row"].tolist() == [2, 4]
    assert report.rejects.loc[0, "reason"] == "dup; area"
    assert report.rejects.loc[0, "fix"] == "make unique; fix area"
    assert not report.ok and not report.fatal
    assert {p.kind for p in report.problems} == {"duplicate_id", "bad_area"}
    assert "4 row(s) read, 2 usable, 2 rejected" in report.summary()


def test_build_report_fatal_problem_leaves_nothing_usable():
    frame = _frame(2)
    report = build_report(
        "t",
        frame,
        ids=None,
        row_issues=[],
        file_problems=[Problem("no_crs", "no CRS.", "give crs=")],
    )
    assert report.fatal and len(report.usable) == 0
    assert report.messages == ["no CRS. Fix: give crs="]


def _report(*kinds: str) -> ValidationReport:
    problems = [Problem(k, f"{k} problem.", f"fix {k}", (1,)) for k in kinds]
    return ValidationReport("f.gpkg", _frame(0), pd.DataFrame(), problems)


@pytest.mark.parametrize(
    ("kinds", "error"),
    [
        (("duplicate_id",), DuplicateIdError),
        (("invalid_geometry", "empty_geometry", "geometry_type"), InvalidGeometryError),
        (("missing_column", "missing_column"), MissingColumnError),
        (("no_crs",), NoCrsError),
        (("duplicate_id", "no_crs"), ValidationError),
        (("bad_area",), ValidationError),
    ],
)
def test_raise_for_report_picks_the_specific_error(kinds, error):
    with pytest.raises(error) as info:
        raise_for_report(_report(*kinds))
    assert info.value.problems == [f"{k} problem. Fix: fix {k}" for k in kinds]
    assert isinstance(info.value.rejects, pd.DataFrame)
    assert str(info.value).startswith(f"f.gpkg: {len(kinds)} problem(s) found")
    if error is not ValidationError:
        assert not isinstance(info.value, ValidationError)


def test_raise_for_report_ok_does_nothing():
    raise_for_report(_report())
