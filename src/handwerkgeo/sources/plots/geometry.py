"""Plot geometries: from WKT or coordinate columns, the CRS (never guessed silently) and
the check that every plot lies in Düsseldorf.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from handwerkgeo import _validate as v
from handwerkgeo.boundary import CityBoundary
from handwerkgeo.crs import CRS, outside_city, to_canonical
from handwerkgeo.crs_names import resolve_crs
from handwerkgeo.errors import NoCrsError
from handwerkgeo.messages import Note, Term
from handwerkgeo.sources.plots.columns import LONLAT_COLUMNS, WKT_COLUMNS, XY_COLUMNS, XY_WINDOWS

__all__ = [
    "coordinate_columns",
    "outside_issues",
    "project",
    "table_geometry",
    "wkt_column",
    "xy_window",
]

logger = logging.getLogger(__name__)


def _wkt_geometry(column: pd.Series, wkt_col: str) -> tuple[gpd.GeoSeries, list[v.RowIssue]]:
    """Geometries from a column of WKT, hex WKB, WKB bytes or shapely objects."""
    issues: list[v.RowIssue] = []
    geoms = []
    for pos, value in enumerate(column.tolist()):
        geom = None
        if isinstance(value, bytes):
            geom = shapely.from_wkb(value, on_invalid="ignore")
        elif isinstance(value, str) and value.strip():
            text = value.strip()
            if re.fullmatch(r"[0-9A-Fa-f]+", text):
                geom = shapely.from_wkb(text, on_invalid="ignore")
            else:
                geom = shapely.from_wkt(text, on_invalid="ignore")
            if geom is None:
                issues.append(
                    v.RowIssue(
                        pos,
                        "invalid_geometry",
                        f"geometry text in column {wkt_col!r} cannot be read: {_short(text)}",
                        "write the geometry as WKT, e.g. 'POLYGON ((x1 y1, x2 y2, x3 y3, x1 y1))'",
                    )
                )
        elif isinstance(value, shapely.Geometry):
            geom = value
        geoms.append(geom)
    return gpd.GeoSeries(geoms, crs=None), issues


def table_geometry(
    attrs: pd.DataFrame, *, name: str, crs: object | None, decimal: str | None
) -> tuple[
    gpd.GeoSeries | None,
    object | None,
    list[v.RowIssue],
    list[v.Problem],
    list[str],
    list[str],
]:
    """Build geometries from a WKT column or coordinate columns of a table."""
    issues: list[v.RowIssue] = []
    n = len(attrs)
    wkt_col = wkt_column(attrs.columns)
    if wkt_col is not None:
        geoms, issues = _wkt_geometry(attrs[wkt_col], wkt_col)
        return geoms, crs, issues, [], [], [wkt_col]

    found = coordinate_columns(attrs.columns)
    pair, lonlat = found if found is not None else (None, False)
    if pair is None:
        problem = v.Problem(
            "missing_column",
            f"{name} has no geometry: no WKT column ({', '.join(WKT_COLUMNS)}) and no "
            f"coordinate columns (lon/lat, x/y, Rechtswert/Hochwert). Columns found: "
            f"{', '.join(map(str, attrs.columns)) or 'none'}.",
            "add a WKT column with the plot outlines, or coordinate columns plus a "
            "plot-area column, or export the plots as GeoPackage/GeoJSON",
        )
        return None, crs, issues, [problem], [], []
    xcol, ycol = pair
    x, xbad = v.parse_numbers(attrs[xcol].tolist(), decimal=decimal)
    y, ybad = v.parse_numbers(attrs[ycol].tolist(), decimal=decimal)
    geoms = []
    for pos in range(n):
        if xbad[pos] or ybad[pos]:
            issues.append(
                v.RowIssue.coded(
                    pos,
                    "invalid_geometry",
                    "reject_bad_coordinates",
                    "fix_bad_coordinates",
                    x_col=xcol,
                    x=attrs[xcol].iloc[pos],
                    y_col=ycol,
                    y=attrs[ycol].iloc[pos],
                )
            )
            geoms.append(None)
        elif np.isnan(x[pos]) or np.isnan(y[pos]):
            geoms.append(None)
        else:
            geoms.append(shapely.Point(x[pos], y[pos]))
    series = gpd.GeoSeries(geoms, crs=None)
    problems: list[v.Problem] = []
    notes: list[str] = []
    table_crs: object | None = crs
    ok = ~(np.isnan(x) | np.isnan(y))
    if crs is None and lonlat:
        table_crs = "EPSG:4326"
    elif crs is None and ok.any():
        guess = xy_window(x[ok], y[ok])
        if guess is not None:
            table_crs = guess
            note = Note(
                "note_crs_inferred",
                file=name,
                x_col=xcol,
                y_col=ycol,
                crs=guess,
                x_min=f"{np.nanmin(x):.0f}",
                x_max=f"{np.nanmax(x):.0f}",
            )
            notes.append(note)
            logger.warning(note)
        else:
            degrees = bool((np.abs(x[ok]) <= 180).all() and (np.abs(y[ok]) <= 90).all())
            hint = (
                f"the values look like degrees: if {xcol} is the longitude and {ycol} the "
                "latitude, pass crs='EPSG:4326' (or rename the columns to lon/lat)"
                if degrees
                else "pass the CRS of the coordinates, e.g. crs='EPSG:25832' in Python or "
                "--crs 25832 on the command line (EPSG:4647 for eastings with the zone "
                "prefix 32, EPSG:31466 for Gauß-Krüger)"
            )
            problems.append(
                v.Problem(
                    "no_crs",
                    f"{name} gives coordinates in columns {xcol!r}/{ycol!r} without a CRS, "
                    f"and their range ({xcol} {np.nanmin(x[ok]):g}–{np.nanmax(x[ok]):g}) "
                    "does not identify one.",
                    hint,
                )
            )
    return series, table_crs, issues, problems, notes, []


def wkt_column(columns: Sequence[object]) -> str | None:
    """The column holding geometry text (:data:`WKT_COLUMNS`), or ``None``."""
    return v.find_column(columns, WKT_COLUMNS)


def coordinate_columns(columns: Sequence[object]) -> tuple[tuple[str, str], bool] | None:
    """The coordinate column pair and whether it is longitude/latitude, or ``None``."""
    for pairs, lonlat in ((LONLAT_COLUMNS, True), (XY_COLUMNS, False)):
        for a, b in pairs:
            xa = v.find_column(columns, [a])
            yb = v.find_column(columns, [b])
            if xa is not None and yb is not None:
                return (xa, yb), lonlat
    return None


def xy_window(x: np.ndarray, y: np.ndarray) -> str | None:
    hits = [
        label
        for label, (minx, miny, maxx, maxy) in XY_WINDOWS.items()
        if ((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)).all()
    ]
    return hits[0] if len(hits) == 1 else None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def project(
    geoms: gpd.GeoSeries,
    *,
    src_crs: object | None,
    skip: set[int],
    name: str,
    boundary: CityBoundary | None = None,
) -> tuple[gpd.GeoSeries | None, list[v.RowIssue], list[v.Problem], str | None]:
    """Reproject to EPSG:25832 and flag rows outside Düsseldorf.

    Inside/outside is decided against ``boundary`` (the real city boundary); without
    one, against the bounding box :data:`handwerkgeo.crs.CITY_BOUNDS`.
    """
    issues: list[v.RowIssue] = []
    arr = np.asarray(geoms.array, dtype=object)
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if skip:
        present[list(skip)] = False
    if src_crs is None:
        b = shapely.bounds(arr[present]) if present.any() else np.empty((0, 4))
        hint = ""
        if len(b):
            guess = xy_window(b[:, 0], b[:, 1])
            if guess:
                hint = f" The coordinates fit {guess} around Düsseldorf."
            elif (np.abs(b[:, [0, 2]]) <= 180).all() and (np.abs(b[:, [1, 3]]) <= 90).all():
                hint = " The coordinates look like longitude/latitude (EPSG:4326)."
        problem = v.Problem(
            "no_crs",
            f"{name} has no coordinate reference system (CRS), e.g. a Shapefile without "
            f".prj.{hint}",
            "say which CRS the coordinates are in: crs='EPSG:25832' in Python or --crs "
            "25832 on the command line (EPSG:4647 for eastings with zone prefix 32, "
            "EPSG:31466 for Gauß-Krüger, EPSG:4326 for longitude/latitude); never "
            "assume EPSG:4326",
        )
        return None, issues, [problem], None
    try:  # every spelling German data use: EPSG codes, OGC URNs/URLs, AdV names
        pcrs = resolve_crs(src_crs) if isinstance(src_crs, str | int) else pyproj.CRS(src_crs)
    except (pyproj.exceptions.CRSError, NoCrsError) as exc:
        problem = v.Problem(
            "no_crs",
            f"the CRS {src_crs!r} given for {name} is not a valid CRS ({exc}).",
            "give an EPSG code such as 'EPSG:25832' or 25832",
        )
        return None, issues, [problem], None
    work = arr.copy()
    if pcrs.is_geographic and present.any():
        idx = np.flatnonzero(present)
        b = shapely.bounds(arr[idx])
        bad = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
        label = _label(pcrs)
        for pos, row in zip(idx[bad], b[bad], strict=True):
            guess = xy_window(np.array([row[0]]), np.array([row[1]]))
            fix = (
                f"the numbers look like metres in {guess}: read the file with "
                f"crs='{guess}' (--crs {guess.split(':')[1]})"
                if guess
                else "read the file with the CRS its coordinates are really in (crs=…)"
            )
            issues.append(
                v.RowIssue(
                    int(pos),
                    "outside_city",
                    f"coordinates ({row[0]:.0f}, {row[1]:.0f}) are not longitude/latitude "
                    f"although the file is labelled {label}",
                    fix,
                )
            )
            work[pos] = None
            present[pos] = False
    frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(work), crs=pcrs)
    projected = to_canonical(frame, name=name).geometry
    source_label = _label(pcrs)
    if present.any():
        issues += outside_issues(projected, arr, np.flatnonzero(present), pcrs, boundary)
    return projected, issues, [], source_label


def _distance_text(metres: float, lang: str = "de") -> str:
    """``"4,9 km"`` / ``"1.234,5 km"`` / ``"850 m"`` (German); ``"1,234.5 km"`` (English)."""
    if metres >= 1000:
        text = f"{metres / 1000:,.1f} km"
        return text.translate(str.maketrans(",.", ".,")) if lang == "de" else text
    return f"{metres:,.0f} m".replace(",", "." if lang == "de" else ",")


def outside_issues(
    projected: gpd.GeoSeries,
    source: np.ndarray,
    idx: np.ndarray,
    pcrs: pyproj.CRS,
    boundary: CityBoundary | None,
) -> list[v.RowIssue]:
    """One issue per plot of ``idx`` outside the city (the boundary, else the box).

    An outside plot's reason says how far outside it lies, in which direction and which
    Stadtteil is nearest (the neighbouring municipality is not in the data: not guessed).
    A CRS hint (swapped longitude/latitude, other CRS) replaces the fix where it applies.
    """
    issues: list[v.RowIssue] = []
    label = _label(pcrs)
    if boundary is None:
        outside = idx[outside_city(projected.iloc[idx])]
        _, reasons, fixes = _outside_hints(source[outside], pcrs, label)
        generic = f"check the coordinates and the CRS ({label}); plots must lie in Düsseldorf"
        return [
            v.RowIssue(int(pos), "outside_city", reason, fix or generic)
            for pos, reason, fix in zip(outside, reasons, fixes, strict=True)
        ]
    where = boundary.locate(projected.iloc[idx].reset_index(drop=True))
    out = ~where["inside"].to_numpy()
    positions, _, fixes = _outside_hints(source[idx[out]], pcrs, label)
    rows = zip(idx[out], where[out].itertuples(index=False), fixes, positions, strict=True)
    for pos, rec, hint, (x, y) in rows:
        issue = v.RowIssue.coded(
            int(pos),
            "outside_city",
            "reject_outside_boundary",
            "fix_outside_boundary",
            distance=_distance_text(float(rec.distance_m)),
            distance_en=_distance_text(float(rec.distance_m), "en"),
            direction=Term(f"compass_{rec.direction}"),
            stadtteil=rec.nearest_stadtteil,
            # the position as given, in full, so that a planner can look it up
            x=x,
            y=y,
            crs=label,
        )
        if hint is not None:
            # a CRS hint (swapped lon/lat, another CRS) is the better fix (English only)
            issue = replace(issue, fix=hint, fix_code="")
        issues.append(issue)
    return issues


def _label(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


_SWAPPED_FIX = (
    "longitude and latitude look swapped: exchange the two coordinate columns "
    "(longitude ≈ 6.7–6.9, latitude ≈ 51.1–51.4 in Düsseldorf)"
)


def _window_guesses(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per point the one CRS whose Düsseldorf window holds it (:data:`XY_WINDOWS`), or ``""``."""
    labels = np.array(list(XY_WINDOWS), dtype=object)
    hits = np.stack(
        [(x >= x0) & (x <= x1) & (y >= y0) & (y <= y1) for x0, y0, x1, y1 in XY_WINDOWS.values()]
    )
    one = hits.sum(axis=0) == 1
    out = np.full(len(x), "", dtype=object)
    out[one] = labels[hits[:, one].argmax(axis=0)]
    return out


def _outside_hints(
    geoms: np.ndarray, pcrs: pyproj.CRS, label: str
) -> tuple[list[tuple[str, str]], list[str], list[str | None]]:
    """Position as given (x, y text in full), English reason and CRS hint (``None``: no
    better fix) per outside plot."""
    arr = np.asarray(geoms, dtype=object)
    if not len(arr):
        return [], [], []
    centre = shapely.centroid(arr)
    x, y = shapely.get_x(centre), shapely.get_y(centre)
    digits = 6 if pcrs.is_geographic else 1
    positions = [(f"{a:.{digits}f}", f"{b:.{digits}f}") for a, b in zip(x, y, strict=True)]
    reasons = [f"lies outside Düsseldorf (at {a}, {b} in {label})" for a, b in positions]
    fixes = np.full(len(arr), None, dtype=object)
    guesses = _window_guesses(x, y)
    other = (guesses != "") & (guesses != label)
    fixes[other] = [
        f"the coordinates fit {g}, not {label}: read the file with crs='{g}'"
        for g in guesses[other]
    ]
    if pcrs.is_geographic:
        swapped = gpd.GeoSeries(shapely.points(y, x), crs=pcrs).to_crs(CRS)
        fixes[~outside_city(swapped)] = _SWAPPED_FIX
    return positions, reasons, list(fixes)
