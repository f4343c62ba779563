"""Collect-all-problems validation: problems, rejects table, report, and raising.

Readers find *every* problem of an input first (missing columns, duplicate ids, invalid
geometries, bad areas, coordinates outside Düsseldorf …), then either raise one error that
lists them all or return the usable rows together with a rejects table. The planner fixes
the file once, not ten times.

Row numbers in messages and in the rejects table are what the planner sees: for CSV and
XLSX the spreadsheet line (header = line 1, first data row = line 2; the readers pass them
as ``row_numbers``), for GIS files the 1-based feature number.

A :class:`RowIssue` with a ``code`` is rendered in German or English at the edge
(:meth:`ValidationReport.rejects_table`) through :func:`handwerkgeo.messages.message`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo._geom import polygonal_part
from handwerkgeo._text import normalize_key
from handwerkgeo.errors import (
    ConfigError,
    DuplicateIdError,
    EncodingError,
    HandwerkgeoError,
    InputFileError,
    InvalidGeometryError,
    MissingColumnError,
    NoCrsError,
    OutsideAreaError,
    ValidationError,
)
from handwerkgeo.messages import message

__all__ = [
    "REJECT_COLUMNS",
    "Problem",
    "RowIssue",
    "ValidationReport",
    "build_report",
    "check_geometries",
    "duplicate_issues",
    "find_column",
    "normalize_key",
    "parse_numbers",
    "raise_for_report",
]

logger = logging.getLogger(__name__)

#: Columns of every rejects table.
REJECT_COLUMNS = ["row", "plot_id", "reason", "fix"]

#: Problem kind → error class raised when it is the only kind of problem.
_ERROR_OF_KIND: dict[str, type[HandwerkgeoError]] = {
    "missing_column": MissingColumnError,
    "duplicate_id": DuplicateIdError,
    "invalid_geometry": InvalidGeometryError,
    "empty_geometry": InvalidGeometryError,
    "geometry_type": InvalidGeometryError,
    "no_crs": NoCrsError,
    "encoding": EncodingError,
    "outside_city": OutsideAreaError,
    "corrupt_file": InputFileError,
}

#: Kinds that concern the whole file: no row of it can be used while they remain.
FATAL_KINDS = frozenset(
    {"missing_column", "no_crs", "encoding", "empty_file", "unreadable", "corrupt_file"}
)

_MAX_LISTED = 10


@dataclass(frozen=True)
class Problem:
    """One kind of problem of an input, with the rows it concerns and how to fix it.

    Attributes
    ----------
    kind
        Machine-readable kind, e.g. ``"duplicate_id"``, ``"invalid_geometry"``,
        ``"no_crs"``, ``"outside_city"``.
    message
        What is wrong, naming rows and ids.
    fix
        What the user should do.
    rows
        1-based row numbers concerned (empty for file-level problems).
    """

    kind: str
    message: str
    fix: str
    rows: tuple[int, ...] = ()

    @property
    def fatal(self) -> bool:
        """Whether the problem concerns the whole file (no row is usable)."""
        return self.kind in FATAL_KINDS

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}"


@dataclass(frozen=True)
class RowIssue:
    """A problem of one row: ``pos`` is the 0-based position in the input table.

    ``reason`` and ``fix`` are English; with ``code`` (and ``fix_code``) the sentences of
    :mod:`handwerkgeo.messages` filled with ``values`` give them in every language.
    """

    pos: int
    kind: str
    reason: str
    fix: str
    code: str = ""
    fix_code: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def coded(cls, pos: int, kind: str, code: str, fix_code: str, **values: Any) -> RowIssue:
        """An issue whose English reason and fix come from the message table."""
        return cls(
            pos,
            kind,
            message(code, "en", **values),
            message(fix_code, "en", **values),
            code=code,
            fix_code=fix_code,
            values=values,
        )

    def text(self, lang: str = "en") -> tuple[str, str]:
        """``(reason, fix)`` in ``lang`` (English where the issue has no code)."""
        reason = message(self.code, lang, **self.values) if self.code else self.reason
        fix = message(self.fix_code, lang, **self.values) if self.fix_code else self.fix
        return reason, fix


@dataclass
class ValidationReport:
    """Result of validating an input.

    Attributes
    ----------
    name
        What was validated (file name).
    usable
        The rows that passed, in canonical form (EPSG:25832). Empty when a file-level
        problem (no CRS, missing id column, unreadable file …) prevents any use.
    rejects
        One row per rejected input row: ``row`` (1-based), ``plot_id``, ``reason``, ``fix``.
    problems
        Every problem found, grouped by kind.
    notes
        Remarks that do not reject anything (repaired geometries, inferred CRS …).
    n_rows
        Number of rows read from the input.
    """

    name: str
    usable: gpd.GeoDataFrame
    rejects: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_rows: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    row_numbers: list[int] | None = None
    columns: dict[str, Any] = field(default_factory=dict)

    def rejects_table(self, lang: str = "de") -> pd.DataFrame:
        """The rejects with reasons and fixes in ``lang``; German headers for ``"de"``.

        Columns ``Zeile``, ``Flächen-ID``, ``Grund``, ``Abhilfe`` (English: ``row``,
        ``plot_id``, ``reason``, ``fix``); rows as in :attr:`rejects`.
        """
        by_row: dict[int, list[RowIssue]] = {}
        for issue in self.issues:
            by_row.setdefault(issue.pos, []).append(issue)
        texts = {pos: [i.text(lang) for i in items] for pos, items in by_row.items()}
        table = self.rejects.copy()
        positions = sorted(by_row)
        if len(positions) == len(table):
            table["reason"] = ["; ".join(r for r, _ in texts[p]) for p in positions]
            table["fix"] = ["; ".join(dict.fromkeys(f for _, f in texts[p])) for p in positions]
        if lang == "de":
            table = table.rename(
                columns={
                    "row": "Zeile",
                    "plot_id": "Flächen-ID",
                    "reason": "Grund",
                    "fix": "Abhilfe",
                }
            )
        return table

    @property
    def ok(self) -> bool:
        """``True`` when there is no problem: every row is usable."""
        return not self.problems

    @property
    def fatal(self) -> bool:
        """``True`` when a file-level problem makes the whole input unusable."""
        return any(p.fatal for p in self.problems)

    @property
    def messages(self) -> list[str]:
        """The problems as plain lines (what is wrong, then the fix)."""
        return [str(p) for p in self.problems]

    def summary(self) -> str:
        """One line: rows read, usable, rejected, problems."""
        return (
            f"{self.name}: {self.n_rows} row(s) read, {len(self.usable)} usable, "
            f"{len(self.rejects)} rejected, {len(self.problems)} problem(s)"
        )


def find_column(columns: Iterable[object], candidates: Sequence[str]) -> str | None:
    """Return the first column whose normalised name equals a normalised candidate.

    Candidates are tried in order, so the first candidate wins over later ones.

    Examples
    --------
    >>> find_column(["ID", "Fläche"], ["plot_id", "id"])
    'ID'
    """
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(normalize_key(c), str(c))
    for cand in candidates:
        hit = by_key.get(normalize_key(cand))
        if hit is not None:
            return hit
    return None


_GERMAN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_ENGLISH_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$")
_COMMA_DECIMAL = re.compile(r"^[+-]?[\d.]*,\d+$")


def detect_decimal(values: Iterable[object]) -> str:
    """Return ``","`` if any text value uses a decimal comma, else ``"."``.

    ``"1.234,5"`` and ``"12,5"`` count as decimal commas; ``"1,234"`` alone is ambiguous
    and does not.
    """
    for v in values:
        if isinstance(v, str):
            s = re.sub(r"[\s\u00a0\u202f']", "", v)
            if _COMMA_DECIMAL.match(s) and not _ENGLISH_THOUSANDS.match(s):
                return ","
    return "."


def _number_text(s: str, decimal: str) -> str | None:
    """Text with ``.`` as the only decimal separator, or ``None`` if a comma is ambiguous."""
    if "," in s and "." in s:  # both: the last one is the decimal separator
        if s.rfind(",") > s.rfind("."):
            return s.replace(".", "").replace(",", ".")
        return s.replace(",", "")
    if "," in s:
        if decimal == ",":
            return s.replace(",", ".")
        if _ENGLISH_THOUSANDS.match(s):
            return s.replace(",", "")
        return None
    if decimal == "," and _GERMAN_THOUSANDS.match(s):
        return s.replace(".", "")
    return s


def _parse_number(v: object, decimal: str) -> float | None:
    """One value as a float (NaN when missing), or ``None`` when it cannot be read."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return np.nan
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    s = re.sub(r"[\s\u00a0\u202f']", "", str(v))
    s = re.sub(r"(m2|m²|qm|sqm)$", "", s, flags=re.IGNORECASE)
    if not s:
        return np.nan
    text = _number_text(s, decimal)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_numbers(
    values: Iterable[object], *, decimal: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers written in German or English style.

    Parameters
    ----------
    values
        Numbers or text such as ``"1.234,5"``, ``"1234.5"``, ``"38 757"``, ``"2500 m²"``.
    decimal
        Decimal separator, ``","`` or ``"."``. ``None`` detects it from the values
        (:func:`detect_decimal`). With ``","`` a dot only groups thousands
        (``"2.500"`` → 2500); with ``"."`` a comma only groups thousands.

    Returns
    -------
    tuple of numpy.ndarray
        ``(numbers, bad)``: floats (NaN for missing or unreadable values) and a boolean
        mask of values that were present but could not be read.

    Examples
    --------
    >>> nums, bad = parse_numbers(["1.234,5", "12,5", "", "abc"])
    >>> nums[:2].tolist(), bad.tolist()
    ([1234.5, 12.5], [False, False, False, True])
    """
    vals = list(values)
    if decimal is None:
        decimal = detect_decimal(vals)
    if decimal not in {",", "."}:
        msg = f"decimal must be ',' or '.', got {decimal!r}"
        raise ConfigError(msg)
    out = np.full(len(vals), np.nan)
    bad = np.zeros(len(vals), dtype=bool)
    for i, v in enumerate(vals):
        number = _parse_number(v, decimal)
        if number is None:
            bad[i] = True
        else:
            out[i] = number
    return out, bad


def describe_rows(rows: Sequence[int], labels: Sequence[str] | None = None) -> str:
    """``"rows 3, 5 and 7"``, listing at most ten and saying how many more."""
    items = [
        f"{r} ({labels[k]})" if labels is not None and labels[k] else str(r)
        for k, r in enumerate(rows)
    ]
    shown = items[:_MAX_LISTED]
    more = len(items) - len(shown)
    text = ", ".join(shown)
    if more:
        text += f" and {more} more"
    return ("row " if len(items) == 1 else "rows ") + text


def check_geometries(
    geoms: gpd.GeoSeries,
    *,
    allow_points: bool = True,
    repair: bool = False,
) -> tuple[gpd.GeoSeries, list[RowIssue], list[str]]:
    """Check geometries for emptiness, type and validity.

    Parameters
    ----------
    geoms
        The geometries, positionally aligned with the input rows.
    allow_points
        Accept ``Point`` geometries (coordinate listings).
    repair
        Repair invalid polygons with :func:`shapely.make_valid` (keeping the polygonal
        part) instead of rejecting them; each repair is reported in the notes.

    Returns
    -------
    tuple
        ``(geoms, issues, notes)``: the (possibly repaired, 2D) geometries, one issue per
        bad row, and notes about repairs.
    """
    arr = np.asarray(geoms.array, dtype=object)
    arr = np.asarray(shapely.force_2d(arr), dtype=object)
    issues: list[RowIssue] = []
    notes: list[str] = []
    missing = shapely.is_missing(arr)
    empty = ~missing & shapely.is_empty(arr)
    types = np.where(missing | empty, -1, shapely.get_type_id(arr))
    for pos in np.flatnonzero(missing | empty):
        issues.append(
            RowIssue.coded(
                int(pos),
                "empty_geometry",
                "reject_missing_geometry" if missing[pos] else "reject_empty_geometry",
                "fix_missing_geometry",
            )
        )
    polygonal = np.isin(types, [3, 6])  # Polygon, MultiPolygon
    point = types == 0
    wrong = ~(missing | empty) & ~polygonal & ~(point & allow_points)
    for pos in np.flatnonzero(wrong):
        gtype = shapely.get_type_id(arr[pos])
        name = arr[pos].geom_type
        if gtype in (1, 2, 5):
            fix = (
                "plots must be areas: close the outline into a polygon or export the polygon layer"
            )
        elif gtype == 0:
            fix = "this input expects plot outlines (polygons), not points"
        elif gtype == 4:
            fix = "give one point per row, not a MultiPoint"
        else:
            fix = "give one Polygon or MultiPolygon per plot"
        issues.append(RowIssue(int(pos), "geometry_type", f"geometry is a {name}", fix))
    check = np.flatnonzero(polygonal)
    if len(check):
        valid = shapely.is_valid(arr[check])
        for pos in check[~valid]:
            reason = shapely.is_valid_reason(arr[pos])
            if repair:
                fixed = polygonal_part(shapely.make_valid(arr[pos]))
                if fixed is not None:
                    arr[pos] = fixed
                    notes.append(
                        f"row {pos + 1}: invalid geometry ({reason}) repaired with "
                        "shapely.make_valid; check the repaired outline"
                    )
                    continue
            issues.append(
                RowIssue.coded(
                    int(pos),
                    "invalid_geometry",
                    "reject_invalid_geometry",
                    "fix_invalid_geometry",
                    detail=reason,
                )
            )
    out = gpd.GeoSeries(arr, index=geoms.index, crs=geoms.crs)
    return out, issues, notes


def duplicate_issues(
    ids: pd.Series, *, what: str = "plot_id", row_numbers: Sequence[int] | None = None
) -> list[RowIssue]:
    """One issue per row whose id occurs more than once (all occurrences are rejected).

    ``row_numbers`` (one per row) are the numbers the messages use; default position + 1.
    """
    present = ids.notna() & (ids.astype("string").str.len() > 0)
    dup = ids[present].duplicated(keep=False)
    issues: list[RowIssue] = []
    if not dup.any():
        return issues
    positions = np.flatnonzero(present.to_numpy())[dup.to_numpy()]
    values = ids.to_numpy()
    rows_of: dict[str, list[int]] = {}
    for pos in positions:
        number = int(pos) + 1 if row_numbers is None else int(row_numbers[pos])
        rows_of.setdefault(str(values[pos]), []).append(number)
    for pos in positions:
        value = str(values[pos])
        others = ", ".join(str(r) for r in rows_of[value])
        if what == "plot_id":
            issues.append(
                RowIssue.coded(
                    int(pos),
                    "duplicate_id",
                    "reject_duplicate_id",
                    "fix_duplicate_id",
                    value=value,
                    count=len(rows_of[value]),
                    rows=others,
                )
            )
            continue
        issues.append(
            RowIssue(
                int(pos),
                "duplicate_id",
                f"{what} {value!r} occurs {len(rows_of[value])} times (rows {others})",
                f"give each plot a unique {what}",
            )
        )
    return issues


def build_report(
    name: str,
    frame: gpd.GeoDataFrame,
    *,
    ids: Sequence[object] | None,
    row_issues: Sequence[RowIssue],
    file_problems: Sequence[Problem] = (),
    notes: Sequence[str] = (),
    row_offset_note: str = "",
    row_numbers: Sequence[int] | None = None,
) -> ValidationReport:
    """Assemble a :class:`ValidationReport` from row issues and file-level problems.

    Rows with at least one issue go into the rejects table (one line per row, reasons
    joined with ``"; "``); the other rows are usable unless a file-level problem is fatal.
    Problems are grouped by kind, each naming its rows. ``row_numbers`` (one per row of
    ``frame``) are the numbers reported, e.g. spreadsheet lines; default position + 1,
    and the messages then say "row", else "line".
    """
    n = len(frame)
    numbers = [p + 1 for p in range(n)] if row_numbers is None else [int(r) for r in row_numbers]
    word = "row" if row_numbers is None else "line"
    id_text = ["" if ids is None else _id_text(ids[i]) for i in range(n)]
    by_pos: dict[int, list[RowIssue]] = {}
    for issue in row_issues:
        by_pos.setdefault(issue.pos, []).append(issue)
    rejects = pd.DataFrame(
        {
            "row": pd.Series([numbers[p] for p in sorted(by_pos)], dtype="int64"),
            "plot_id": pd.Series([id_text[p] for p in sorted(by_pos)], dtype="string"),
            "reason": pd.Series(
                ["; ".join(i.reason for i in by_pos[p]) for p in sorted(by_pos)], dtype="string"
            ),
            "fix": pd.Series(
                ["; ".join(dict.fromkeys(i.fix for i in by_pos[p])) for p in sorted(by_pos)],
                dtype="string",
            ),
        },
        columns=REJECT_COLUMNS,
    )
    problems = list(file_problems)
    kinds: dict[str, list[RowIssue]] = {}
    for issue in row_issues:
        kinds.setdefault(issue.kind, []).append(issue)
    for kind, issues in kinds.items():
        issues = sorted(issues, key=lambda i: i.pos)
        details = [
            f"{word} {numbers[i.pos]}{_label(id_text[i.pos])}: {i.reason}"
            for i in issues[:_MAX_LISTED]
        ]
        more = len(issues) - len(details)
        text = f"{_KIND_TITLE.get(kind, kind)} in {len(issues)} row(s){row_offset_note}: " + (
            "; ".join(details)
        )
        if more:
            text += f"; and {more} more (see the rejects table)"
        fixes = "; ".join(dict.fromkeys(i.fix for i in issues))
        problems.append(
            Problem(kind, text + ".", fixes + ".", tuple(sorted({numbers[i.pos] for i in issues})))
        )
    fatal = any(p.fatal for p in problems)
    keep = np.ones(n, dtype=bool)
    if by_pos:
        keep[list(by_pos)] = False
    usable = frame.iloc[0:0] if fatal else frame.iloc[np.flatnonzero(keep)]
    usable = usable.reset_index(drop=True)
    return ValidationReport(
        name=name,
        usable=usable,
        rejects=rejects,
        problems=problems,
        notes=list(notes),
        n_rows=n,
        issues=list(row_issues),
        row_numbers=None if row_numbers is None else numbers,
    )


_KIND_TITLE = {
    "duplicate_id": "duplicate plot ids",
    "missing_id": "missing plot ids",
    "invalid_geometry": "invalid geometries",
    "empty_geometry": "missing or empty geometries",
    "geometry_type": "wrong geometry types",
    "missing_area": "points without plot area",
    "bad_area": "unusable area values",
    "outside_city": "coordinates outside Düsseldorf",
}


def _label(id_text: str) -> str:
    return f" (plot_id {id_text!r})" if id_text else ""


def _id_text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value)


def raise_for_report(report: ValidationReport) -> None:
    """Raise one error listing every problem of ``report``; do nothing when it is ok.

    When all problems are of kinds that map to one specific error (e.g. only duplicate
    ids → :class:`~handwerkgeo.errors.DuplicateIdError`), that error is raised; otherwise
    :class:`~handwerkgeo.errors.ValidationError`. Either carries ``.problems`` (list of
    str) and ``.rejects`` (the rejects table).
    """
    if report.ok:
        return
    lines = report.messages
    classes = [_ERROR_OF_KIND.get(p.kind) for p in report.problems]
    first = classes[0]
    err: HandwerkgeoError
    if first is not None and all(c is first for c in classes):
        body = "\n".join(f"  - {line}" for line in lines)
        err = first(f"{report.name}: {len(lines)} problem(s) found:\n{body}")
        err.problems = lines  # type: ignore[attr-defined]
        err.rejects = report.rejects  # type: ignore[attr-defined]
        err.name = report.name  # type: ignore[attr-defined]
    else:
        err = ValidationError(report.name, lines, report.rejects)
    raise err
