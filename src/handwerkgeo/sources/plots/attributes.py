"""Plot attributes: ids, areas (stated or from the geometry) and numeric text columns."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo import _validate as v
from handwerkgeo._text import normalize_key
from handwerkgeo.sources.plots.columns import AREA_COLUMNS, ID_COLUMNS

__all__ = [
    "collect_areas",
    "collect_ids",
    "numeric_columns",
]


def numeric_columns(
    attrs: pd.DataFrame, *, skip: set[str | None], decimal: str | None
) -> pd.DataFrame:
    """Turn text columns whose every value is a number into numbers (German or English).

    Columns with leading zeros (``"0421"``, postcodes, keys) stay text.
    """
    out = attrs.copy()
    for col in out.columns:
        if col in skip or pd.api.types.is_numeric_dtype(out[col]):
            continue
        values = out[col].tolist()
        texts = [str(x).strip() for x in values if isinstance(x, str) and str(x).strip()]
        if not texts or any(re.match(r"^[+-]?0\d", t) for t in texts):
            continue
        nums, bad = v.parse_numbers(values, decimal=decimal)
        if bad.any():
            continue
        finite = nums[~np.isnan(nums)]
        if len(finite) and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            out[col] = pd.array([None if np.isnan(x) else int(x) for x in nums], dtype="Int64")
        else:
            out[col] = nums
    return out


def collect_ids(
    attrs: pd.DataFrame,
    *,
    id_col: str | None,
    name: str,
    row_numbers: list[int] | None = None,
) -> tuple[list[str | None], str | None, list[v.RowIssue], list[v.Problem]]:
    n = len(attrs)
    available = ", ".join(map(str, attrs.columns)) or "none"
    if id_col is not None:
        col = id_col if id_col in attrs.columns else v.find_column(attrs.columns, [id_col])
        if col is None:
            problem = v.Problem(
                "missing_column",
                f"{name} has no id column {id_col!r}. Columns found: {available}.",
                "pass the name of the column that identifies each plot (id_col= / --id-col)",
            )
            return [None] * n, None, [], [problem]
    else:
        col = v.find_column(attrs.columns, ID_COLUMNS)
        if col is None:
            problem = v.Problem(
                "missing_column",
                f"{name} has no plot id column (looked for {', '.join(ID_COLUMNS)}). "
                f"Columns found: {available}.",
                "add a column 'plot_id' with a unique id per plot, or name the id column "
                "with id_col= (Python) / --id-col (command line)",
            )
            return [None] * n, None, [], [problem]
    ids = [_id_to_text(x) for x in attrs[col].tolist()]
    issues = [
        v.RowIssue.coded(pos, "missing_id", "reject_missing_id", "fix_missing_id", column=col)
        for pos, value in enumerate(ids)
        if value is None
    ]
    issues += v.duplicate_issues(
        pd.Series(ids, dtype=object), what="plot_id", row_numbers=row_numbers
    )
    return ids, col, issues, []


def _id_to_text(value: object) -> str | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def _area_column(
    attrs: pd.DataFrame, *, area_col: str | None, id_source: str | None, name: str
) -> tuple[str | None, list[v.Problem]]:
    """The area column: the one named, or the first of :data:`AREA_COLUMNS`."""
    if area_col is None:
        candidates = [c for c in attrs.columns if c != id_source]
        return v.find_column(candidates, AREA_COLUMNS), []
    col = area_col if area_col in attrs.columns else v.find_column(attrs.columns, [area_col])
    if col is not None:
        return col, []
    available = ", ".join(map(str, attrs.columns)) or "none"
    problem = v.Problem(
        "missing_column",
        f"{name} has no area column {area_col!r}. Columns found: {available}.",
        "pass the name of the column with the plot area in m² (area_col= / --area-col)",
    )
    return None, [problem]


def _point_area_issues(
    stated: np.ndarray, point_rows: np.ndarray, *, col: str, skip: set[int]
) -> list[v.RowIssue]:
    """Points need a positive stated area."""
    issues = []
    for pos in point_rows:
        if pos in skip:
            continue
        if np.isnan(stated[pos]):
            issues.append(
                v.RowIssue.coded(
                    int(pos), "missing_area", "reject_missing_area", "fix_missing_area", column=col
                )
            )
        elif stated[pos] <= 0:
            issues.append(
                v.RowIssue.coded(
                    int(pos),
                    "bad_area",
                    "reject_nonpositive_area",
                    "fix_bad_area",
                    value=f"{stated[pos]:g}",
                )
            )
    return issues


def _zero_area_issues(
    geom_area: np.ndarray, is_point: np.ndarray, *, skip: set[int]
) -> list[v.RowIssue]:
    """Polygons need an area."""
    return [
        v.RowIssue(
            int(pos),
            "bad_area",
            "polygon has zero area",
            "draw the plot outline with at least three distinct corners",
        )
        for pos in np.flatnonzero(~is_point)
        if pos not in skip and not np.isnan(geom_area[pos]) and geom_area[pos] <= 0
    ]


def _stated_vs_geometry(
    attrs: pd.DataFrame,
    col: str,
    stated: np.ndarray,
    geom_area: np.ndarray,
    is_point: np.ndarray,
) -> tuple[list[str], pd.DataFrame]:
    """Note polygons whose stated area differs from the geometry; tidy an ``area_m2`` column."""
    notes = []
    poly = ~is_point & ~np.isnan(stated) & (geom_area > 0)
    diff = np.zeros(len(attrs))
    diff[poly] = np.abs(stated[poly] - geom_area[poly]) / geom_area[poly]
    off = np.flatnonzero(poly & (diff > 0.05))
    if len(off):
        notes.append(
            f"{len(off)} polygon(s) whose stated area ({col!r}) differs by more than "
            f"5 % from the geometry: {v.describe_rows([int(p) + 1 for p in off])}; "
            "area_m2 is taken from the geometry"
        )
    if normalize_key(col) == "aream2":
        if len(off):
            attrs = attrs.rename(columns={col: "area_stated_m2"})
        else:
            attrs = attrs.drop(columns=[col])
    return notes, attrs


def collect_areas(
    attrs: pd.DataFrame,
    projected: gpd.GeoSeries | None,
    *,
    is_point: np.ndarray,
    skip: set[int],
    area_col: str | None,
    id_source: str | None,
    decimal: str | None,
    name: str,
) -> tuple[np.ndarray, list[v.RowIssue], list[v.Problem], list[str], pd.DataFrame]:
    """``area_m2`` of every row: stated for points, from the geometry for polygons."""
    n = len(attrs)
    issues: list[v.RowIssue] = []
    notes: list[str] = []
    attrs = attrs.copy()
    col, problems = _area_column(attrs, area_col=area_col, id_source=id_source, name=name)
    stated = np.full(n, np.nan)
    if col is not None:
        stated, bad = v.parse_numbers(attrs[col].tolist(), decimal=decimal)
        issues += [
            v.RowIssue.coded(
                int(pos),
                "bad_area",
                "reject_bad_area",
                "fix_bad_area",
                value=attrs[col].iloc[pos],
                column=col,
            )
            for pos in np.flatnonzero(bad)
            if is_point[pos] or pos in skip
        ]
    point_rows = np.flatnonzero(is_point)
    if len(point_rows) and col is None and area_col is None:
        available = ", ".join(map(str, attrs.columns)) or "none"
        problems.append(
            v.Problem(
                "missing_column",
                f"{name} lists {len(point_rows)} plot(s) as points but has no plot-area "
                f"column (looked for {', '.join(AREA_COLUMNS[:6])} …). Columns found: "
                f"{available}.",
                "add a column 'area_m2' with each plot's area in m² (or name it with "
                "area_col= / --area-col), or give plot outlines (polygons) instead",
            )
        )
    geom_area = np.full(n, np.nan)
    if projected is not None:
        geom_area = projected.area.to_numpy(dtype=float, na_value=np.nan)
    area = np.where(is_point, stated, geom_area)
    if col is not None:
        bad_rows = {i.pos for i in issues}
        issues += _point_area_issues(stated, point_rows, col=col, skip=skip | bad_rows)
    if projected is not None:
        issues += _zero_area_issues(geom_area, is_point, skip=skip)
    if col is not None and projected is not None:
        notes, attrs = _stated_vs_geometry(attrs, col, stated, geom_area, is_point)
    elif col is not None and normalize_key(col) == "aream2":
        attrs = attrs.drop(columns=[col])
    return area, issues, problems, notes, attrs
