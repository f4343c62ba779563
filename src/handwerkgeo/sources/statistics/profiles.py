"""Reader of the Stadtbezirksprofile workbooks (one Excel sheet per Stadtbezirk).

The layout is located from the header cells, sections from their headings, indicators
through the declarative tables of :mod:`~handwerkgeo.sources.statistics.profile_spec`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from handwerkgeo.errors import (
    DataSourceError,
    DuplicateIdError,
)
from handwerkgeo.sources.statistics._parse import (
    PathLike,
    clean_label,
    layer_files,
    parse_date,
    parse_value,
)
from handwerkgeo.sources.statistics.profile_spec import (
    LANDUSE_CLASSES,
    REQUIRED,
    UNIT_FROM_LABEL,
    indicator_id,
    section_for,
)

__all__ = [
    "read_bezirk_profiles",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Layout:
    header_row: int
    unit_row: int
    label_col: int
    bezirk_code: str
    columns: tuple[tuple[int, str, str], ...]  # (column, scope, "count"/"percent")


def _cell_name(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _find_layout(grid: list[list[Any]], where: str) -> _Layout:
    """Locate the header rows ('Stadtbezirk N' | 'Düsseldorf insgesamt', 'Anzahl' | '%')."""
    for r, row in enumerate(grid[:20]):
        bezirk_col = city_col = None
        bezirk_no = None
        for c, v in enumerate(row):
            if not isinstance(v, str):
                continue
            text = clean_label(v)
            if m := re.match(r"(?i)^Stadtbezirk\s*0?(\d{1,2})$", text):
                bezirk_col, bezirk_no = c, int(m.group(1))
            elif re.search(r"(?i)düsseldorf|stadt insgesamt|gesamtstadt", text):
                city_col = c
        if bezirk_col is None or city_col is None or r + 1 >= len(grid):
            continue
        heads = sorted([(bezirk_col, "bezirk"), (city_col, "city")])
        units = grid[r + 1]
        cols: list[tuple[int, str, str]] = []
        for c, v in enumerate(units):
            label = clean_label(v) if v is not None else ""
            kind = {"anzahl": "count", "%": "percent", "in %": "percent"}.get(label.lower())
            if kind is None:
                continue
            scope = None
            for hc, hs in heads:
                if hc <= c:
                    scope = hs
            if scope is None:
                continue
            cols.append((c, scope, kind))
        kinds = {(s, k) for _, s, k in cols}
        expected = {
            ("bezirk", "count"),
            ("bezirk", "percent"),
            ("city", "count"),
            ("city", "percent"),
        }
        if kinds != expected or len(cols) != 4:
            msg = (
                f"{where}: found the header in row {r + 1} but the unit row {r + 2} does not "
                "have 'Anzahl' and '%' under both the Stadtbezirk and the city "
                f"(found {sorted(kinds)}). The layout of the profile has changed."
            )
            raise DataSourceError(msg)
        label_col = min(bezirk_col, city_col) - 1
        if label_col < 0:
            msg = f"{where}: no label column left of the value columns (header row {r + 1})."
            raise DataSourceError(msg)
        return _Layout(
            header_row=r,
            unit_row=r + 1,
            label_col=label_col,
            bezirk_code=f"{bezirk_no:02d}",
            columns=tuple(cols),
        )
    msg = (
        f"{where}: no header row with 'Stadtbezirk N' and 'Düsseldorf insgesamt' in the first "
        "20 rows. Is this a Stadtbezirksprofil workbook of the Amt für Statistik und Wahlen?"
    )
    raise DataSourceError(msg)


def _is_blank_row(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


@dataclass
class _SheetState:
    """What the parser knows while walking down a profile sheet."""

    where: str
    file: str
    layout: _Layout
    records: list[dict[str, Any]] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # records awaiting their 'Quelle' line
    section: str = ""
    topic: str = "other"
    triggers: list[tuple[str, str]] = field(default_factory=list)
    heading_date: pd.Timestamp | None = None

    def apply_triggers(self, label: str) -> None:
        """Switch the topic on sub-headings and labels such as 'Im Alter von …'."""
        for pattern, t in self.triggers:
            if re.search(pattern, label):
                self.topic = t


def _row_cells(grid: list[list[Any]], r: int, layout: _Layout) -> tuple[str, dict[int, Any]]:
    """The cleaned label and the non-blank value cells of row ``r``."""
    row = grid[r]
    raw_label = row[layout.label_col] if layout.label_col < len(row) else None
    label = clean_label(raw_label) if raw_label is not None else ""
    values = {
        c: row[c]
        for c, _, _ in layout.columns
        if c < len(row)
        and row[c] is not None
        and not (isinstance(row[c], str) and not row[c].strip())
    }
    return label, values


def _read_text_row(state: _SheetState, label: str, r: int, grid: list[list[Any]]) -> None:
    """A row with a label and no values: source line, legend, section heading or sub-heading."""
    if label.startswith("Quelle"):
        date = parse_date(label) or state.heading_date
        for i in state.pending:
            state.records[i]["source"] = label.removeprefix("Quelle:").strip()
            state.records[i]["reference_date"] = date
        state.pending = []
        return
    if re.match(r"^(x|-|\.|0 bzw\.)\s+=", label) or label.startswith(("*", "Erläuterung")):
        return
    next_blank = r + 1 >= len(grid) or _is_blank_row(grid[r + 1])
    found = section_for(label)
    if next_blank and found is not None:
        state.section = label
        state.topic, state.triggers = found
        state.heading_date = parse_date(label)
    elif next_blank and len(label) < 80:
        state.section, state.topic, state.triggers = label, "other", []
        state.heading_date = parse_date(label)
        logger.info("%s: unknown section %r in row %d", state.where, label, r + 1)
    else:
        state.apply_triggers(label)


def _unit_for(kind: str, label: str) -> str:
    if kind == "percent":
        return "percent"
    for pattern, u in UNIT_FROM_LABEL:
        if re.search(pattern, label):
            return u
    return "count"


def _read_value_row(state: _SheetState, label: str, r: int, values: dict[int, Any]) -> None:
    """A row with a label and values: one record per value cell (Bezirk/city, count/%)."""
    state.apply_triggers(label)
    for c, scope, kind in state.layout.columns:
        if c not in values:
            continue
        cell = _cell_name(r + 1, c + 1)
        value, status = parse_value(values[c], where=f"{state.where}, cell {cell}")
        unit = _unit_for(kind, label)
        state.records.append(
            {
                "bezirk_code": state.layout.bezirk_code,
                "scope": scope,
                "section": state.section,
                "topic": state.topic,
                "indicator": label,
                "indicator_id": indicator_id(state.topic, label, unit),
                "value": value,
                "unit": unit,
                "reference_date": state.heading_date,
                "suppressed": status == "suppressed",
                "value_status": status,
                "source": "",
                "file": state.file,
                "cell": cell,
            }
        )
        state.pending.append(len(state.records) - 1)


def _parse_profile_sheet(grid: list[list[Any]], *, file: str, sheet: str) -> pd.DataFrame:
    where = f"{file}, sheet {sheet!r}"
    layout = _find_layout(grid, where)
    state = _SheetState(where=where, file=file, layout=layout)
    for r in range(layout.unit_row + 1, len(grid)):
        label, values = _row_cells(grid, r, layout)
        if not label and values:
            cells = ", ".join(_cell_name(r + 1, c + 1) for c in values)
            msg = f"{where}: value(s) in {cells} have no label in the label column."
            raise DataSourceError(msg)
        if label and not values:
            _read_text_row(state, label, r, grid)
        elif label:
            _read_value_row(state, label, r, values)
    df = pd.DataFrame.from_records(state.records)
    _check_required(df, layout, where, grid)
    return df


def _check_required(df: pd.DataFrame, layout: _Layout, where: str, grid: list[list[Any]]) -> None:
    problems = []
    for key, label in REQUIRED.items():
        for scope in ("bezirk", "city"):
            hit = df[(df["indicator_id"] == key) & (df["scope"] == scope)]
            if len(hit) == 1:
                continue
            if len(hit) > 1:
                cells = ", ".join(hit["cell"])
                problems.append(f"{label!r} ({scope}) occurs {len(hit)} times: {cells}")
                continue
            # find the label cell to say precisely what is wrong
            rows = [
                r + 1
                for r in range(layout.unit_row + 1, len(grid))
                if layout.label_col < len(grid[r])
                and grid[r][layout.label_col] is not None
                and clean_label(grid[r][layout.label_col]).startswith(label.split(" (")[0])
            ]
            unit = "%" if key.startswith("landuse_") or key == "sgb2_share" else "Anzahl"
            col = next(
                c for c, s, k in layout.columns if s == scope and (k == "percent") == (unit == "%")
            )
            if rows:
                cells = ", ".join(_cell_name(r, col + 1) for r in rows)
                problems.append(
                    f"{label!r} found in row(s) {rows} but no usable '{unit}' value for the "
                    f"{scope} in {cells}"
                )
            else:
                col_letter = _cell_name(1, layout.label_col + 1)[:-1]
                problems.append(
                    f"expected a row labelled {label!r} in column {col_letter} "
                    f"(rows {layout.unit_row + 2}–{len(grid)}); not found"
                )
    if problems:
        lines = "; ".join(problems)
        msg = (
            f"{where}: {len(problems)} expected indicator(s) missing: {lines}. "
            "The profile layout has changed; check the labels against the published workbook."
        )
        raise DataSourceError(msg)


def _profile_files(
    path: PathLike | Sequence[PathLike] | None, data_dir: PathLike | None
) -> list[Path]:
    if path is None:
        files = layer_files("bezirk_profiles", data_dir)
    elif isinstance(path, str | os.PathLike):
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.glob("*.xlsx") if not f.name.startswith("~$"))
            if not files:
                msg = f"{p} holds no .xlsx workbooks (expected Stadtbezirk01.xlsx … 10)."
                raise DataSourceError(msg)
        else:
            files = [p]
    else:
        files = [Path(f) for f in path]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        msg = f"Bezirk profile workbook(s) not found: {missing}. Run `handwerkgeo data fetch`."
        raise DataSourceError(msg)
    return files


def read_bezirk_profiles(
    path: PathLike | Sequence[PathLike] | None = None,
    *,
    data_dir: PathLike | None = None,
) -> pd.DataFrame:
    """Read the Stadtbezirksprofile workbooks into one tidy table.

    Each workbook shows one Stadtbezirk and the whole city side by side (columns
    ``Anzahl`` and ``%`` for each). The layout is located from its header cells
    ("Stadtbezirk N", "Düsseldorf insgesamt", "Anzahl", "%"), not from fixed cell
    addresses; sections are found from their headings and every block's reference date
    from its "Quelle: … Stand: dd.mm.yyyy" line.

    Parameters
    ----------
    path
        A folder with ``StadtbezirkNN.xlsx``, one workbook, or a list of workbooks.
        ``None`` reads the fetched layer ``bezirk_profiles``.
    data_dir
        Data directory for ``path=None`` (see :mod:`handwerkgeo.settings`).

    Returns
    -------
    pandas.DataFrame
        One row per Bezirk × scope × indicator × unit, columns:

        - ``bezirk_code``: ``"01"`` … ``"10"`` (from the sheet header, checked against
          the file name);
        - ``scope``: ``"bezirk"`` or ``"city"`` (the "Düsseldorf insgesamt" columns);
        - ``section``: German section heading; ``topic``: English topic (``employees``,
          ``unemployment``, ``population``, ``age_groups``, ``foreigners``,
          ``migration_background``, ``migration_flows``, ``relocations``,
          ``natural_change``, ``schools``, ``pupils``, ``land_use``, ``health``,
          ``buildings``, ``dwellings``, ``households``, ``sgb2``, ``sgb12``,
          ``housing_benefit``, ``kitas``, ``youth_centres``, ``elderly_care``, ``cars``,
          ``elections``);
        - ``indicator``: German label as in the sheet, whitespace-normalised;
        - ``indicator_id``: stable English id for the indicators scoring uses
          (``population_total``, ``employees_residence``, ``unemployed``,
          ``unemployment_rate``, ``sgb2_persons``, ``sgb2_share`` (percent of the
          population under 65), ``dwellings``, ``landuse_*`` shares, age groups …),
          ``None`` for the rest;
        - ``value`` (float; NaN for ``.`` and ``x``; 0 for ``-``), ``unit``
          (``count``, ``percent``, ``ha``, ``years``, ``per_resident``,
          ``persons_per_household``);
        - ``reference_date`` (Timestamp or NaT where the sheet gives none);
        - ``suppressed`` (True for ``.``), ``value_status`` (``value``, ``zero``,
          ``suppressed``, ``not_available``);
        - ``source`` (the "Quelle" text), ``file`` and ``cell`` (e.g. ``"B25"``) to trace
          every number back to the workbook.

    Raises
    ------
    DataSourceError
        If a workbook is missing, its header cannot be found, a value cannot be read
        (the message names file, sheet and cell), or an indicator scoring needs is
        missing (named with the label searched for).
    DuplicateIdError
        If two workbooks describe the same Stadtbezirk.

    Examples
    --------
    >>> profiles = read_bezirk_profiles("data/raw/statistik/stadtbezirksprofile")  # doctest: +SKIP
    >>> pop = profiles.query("indicator_id == 'population_total'")  # doctest: +SKIP
    >>> pop = pop[pop["scope"] == "bezirk"]  # doctest: +SKIP
    >>> pop["value"].sum()  # doctest: +SKIP
    644280.0
    """
    files = _profile_files(path, data_dir)
    frames = []
    seen: dict[str, str] = {}
    for f in files:
        try:
            wb = load_workbook(f, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for corrupt files
            msg = f"cannot open {f.name} as an Excel workbook: {exc}. Fetch it again."
            raise DataSourceError(msg) from exc
        try:
            sheet_errors = []
            parsed = None
            for ws in wb.worksheets:
                grid = [list(row) for row in ws.iter_rows(values_only=True)]
                try:
                    parsed = _parse_profile_sheet(grid, file=f.name, sheet=ws.title)
                    break
                except DataSourceError as exc:
                    if "no header row" not in str(exc):
                        raise
                    sheet_errors.append(str(exc))
            if parsed is None:
                msg = "; ".join(sheet_errors) or f"{f.name}: the workbook has no sheets."
                raise DataSourceError(msg)
        finally:
            wb.close()
        code = parsed["bezirk_code"].iloc[0]
        if (m := re.search(r"(\d{1,2})\D*$", f.stem)) and f"{int(m.group(1)):02d}" != code:
            msg = (
                f"{f.name}: the file name says Stadtbezirk {int(m.group(1))} but the sheet "
                f"header says Stadtbezirk {int(code)}. Rename the file or check its content."
            )
            raise DataSourceError(msg)
        if code in seen:
            msg = f"Stadtbezirk {code} appears twice: {seen[code]} and {f.name}."
            raise DuplicateIdError(msg)
        seen[code] = f.name
        frames.append(parsed)
        logger.debug("read %s: %d values", f.name, len(parsed))
    out = pd.concat(frames, ignore_index=True)
    out["reference_date"] = pd.to_datetime(out["reference_date"])
    out = out.sort_values(["bezirk_code", "scope"], kind="stable")
    out = out.reset_index(drop=True)
    _check_landuse_sums(out)
    logger.info(
        "read %d Bezirk profiles: %d values (%d suppressed)",
        len(files),
        len(out),
        int(out["suppressed"].sum()),
    )
    return out


def _check_landuse_sums(profiles: pd.DataFrame) -> None:
    lu = profiles[profiles["indicator_id"].isin(list(LANDUSE_CLASSES))]
    sums = lu.groupby(["bezirk_code", "scope"])["value"].sum()
    bad = sums[(sums - 100).abs() > 0.5]
    for (code, scope), total in bad.items():
        logger.warning(
            "Realnutzung shares of Stadtbezirk %s (%s) sum to %.2f %%, not 100 %%",
            code,
            scope,
            total,
        )
