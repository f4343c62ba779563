"""Safe spreadsheet cells and CSV files for every table handwerkgeo writes.

Plot names, remarks and ids come from planners' listings and may hold anything. A text
cell that a spreadsheet would read as a formula (``=HYPERLINK(…)``, ``+1``, ``-1+1``,
``@SUM(…)``, also behind a leading TAB, CR, LF or spaces, and the full-width ``＝＋－＠``)
is neutralised with a leading apostrophe (OWASP "CSV injection"), and CSV is written
through the :mod:`csv` module with RFC 4180 quoting and CRLF line ends, so a CR or LF
inside a field can never split a row. Every XLSX and CSV writer of the package goes
through :func:`safe_frame` and :func:`csv_bytes` — or, for tables of any size, through
:func:`write_csv` and :func:`write_xlsx`, which stream to the file (constant memory per row)
and write it atomically:

- :func:`write_csv` converts the columns with Arrow (numbers with a decimal comma for German
  Excel) and writes them in batches: 100,000 rows × 60 columns in well under a second.
  Every text field is quoted (RFC 4180; Excel and LibreOffice read quoted numbers as
  numbers).
- :func:`write_xlsx` writes :class:`Sheet` tables with XlsxWriter in constant-memory mode,
  each with a print setup: A4 landscape, fit to one page wide (as many pages high as
  needed), the header row repeated on every page, frozen header row (and key columns),
  an auto filter, the sheet name and page numbers in the footer. It refuses a table over
  Excel's limit of 1,048,576 rows (callers cut tables first, see
  :mod:`handwerkgeo.export.tables`).

Examples
--------
>>> [safe_cell(v) for v in ["=1+1", "\\t=1+1", " @SUM(A1)", "Lörick", "-", 5]]
["'=1+1", "'\\t=1+1", "' @SUM(A1)", 'Lörick', "'-", 5]
>>> csv_bytes(pd.DataFrame({"a": ["x\\r=1+1", "\\r=1+1"]}), german=False).decode()
'a\\r\\n"x\\r=1+1"\\r\\n"\\'\\r=1+1"\\r\\n'
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from handwerkgeo.errors import ParameterError

__all__ = [
    "EXCEL_MAX_ROWS",
    "FORMULA_STARTS",
    "Sheet",
    "csv_bytes",
    "safe_cell",
    "safe_frame",
    "write_csv",
    "write_xlsx",
]

#: Rows of an Excel worksheet (header included).
EXCEL_MAX_ROWS = 1_048_576

#: First characters (after leading white space) that make a spreadsheet cell a formula.
FORMULA_STARTS: frozenset[str] = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_LEADING = " \t\r\n\u00a0\u3000"


def safe_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe if a spreadsheet would take it as a formula.

    Non-text values are returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    if value[0] in "\t\r\n" or value.lstrip(_LEADING)[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and the column names) made safe."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(safe_cell)
    out.columns = [safe_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _fmt(value: Any, german: bool) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        text = repr(float(value))
        return text.replace(".", ",") if german else text
    return value


def csv_bytes(frame: pd.DataFrame, *, german: bool = True) -> bytes:
    """The frame as safe CSV: German Excel (``;``, decimal comma, UTF-8 with BOM) or plain.

    Cells are neutralised with :func:`safe_cell`; fields holding the separator, a quote,
    CR or LF are quoted; rows end in CRLF.
    """
    safe = safe_frame(frame)
    buf = io.StringIO()
    writer = csv.writer(
        buf, delimiter=";" if german else ",", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writerow([str(c) for c in safe.columns])
    columns = [safe[c].to_numpy(dtype=object) for c in safe.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([_fmt(v, german) for v in row])
    text = buf.getvalue()
    return ("\ufeff" + text).encode("utf-8") if german else text.encode("utf-8")


# --- tables of any size: streaming CSV and XLSX ---------------------------------------


def _text_field(value: Any, german: bool, specials: str) -> str | None:
    """A text cell as a CSV field: made safe, quoted when it holds ``specials``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(safe_cell(value)) if isinstance(value, str) else str(_fmt(value, german))
    if any(ch in text for ch in specials):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_column(values: pd.Series, german: bool, specials: str) -> Any:
    """One column as Arrow strings in CSV form (``None`` = empty field)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.dtype.kind
    if kind == "f" and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        text = pc.cast(pa.array(values.to_numpy(), from_pandas=True), pa.string())
        return pc.replace_substring(text, ".", ",") if german else text
    if kind in "iu":  # numpy or nullable whole numbers: never quoted, never a decimal point
        return pc.cast(pa.array(values, type=pa.int64(), from_pandas=True), pa.string())
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return _csv_text(pa.array(values, type=pa.string(), from_pandas=True), specials)
    cells = values.to_numpy(dtype=object)
    return pa.array([_text_field(v, german, specials) for v in cells], pa.string())


def _csv_text(text: Any, specials: str) -> Any:
    """Arrow strings made safe (:func:`safe_cell`) and quoted where needed, in C++."""
    import pyarrow as pa
    import pyarrow.compute as pc

    first = pc.utf8_slice_codeunits(pc.utf8_ltrim(text, characters=_LEADING), 0, 1)
    formula = pc.or_(
        pc.is_in(first, value_set=pa.array(sorted(FORMULA_STARTS))),
        pc.is_in(pc.utf8_slice_codeunits(text, 0, 1), value_set=pa.array(["\t", "\r", "\n"])),
    )
    text = pc.if_else(formula, pc.binary_join_element_wise("'", text, ""), text)
    pattern = "[" + "".join("\\" + ch if ch in "\\]^-" else ch for ch in specials) + "]"
    quote = pc.match_substring_regex(text, pattern)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(quote, quoted, text)


def write_csv(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    german: bool = True,
    batch_rows: int = 50_000,
) -> Path:
    """Write ``frame`` as safe CSV of any length, in batches, atomically; return ``path``.

    The same file as :func:`csv_bytes` (``german=True``: UTF-8 with BOM, ``;`` and a
    decimal comma; ``german=False``: UTF-8, ``,`` and a decimal point; text neutralised with
    :func:`safe_cell` and quoted only when it holds the separator, a quote, CR or LF;
    missing values empty; rows end in CRLF), with numbers as the shortest exact decimal
    (``98``, ``0,25``), built column by column with Arrow: 100,000 rows × 60 columns in
    about a second, a million rows in constant memory per batch.
    """
    import pyarrow.compute as pc

    from handwerkgeo._atomic import atomic_replace_file

    sep = ";" if german else ","
    specials = sep + '"\r\n'
    head = io.StringIO()
    csv.writer(head, delimiter=sep, lineterminator="\r\n").writerow(
        [str(safe_cell(str(c))) for c in frame.columns]
    )
    with atomic_replace_file(path, copy_existing=False) as tmp, open(tmp, "wb") as f:
        f.write((("\ufeff" if german else "") + head.getvalue()).encode("utf-8"))
        for start in range(0, len(frame), batch_rows):
            part = frame.iloc[start : start + batch_rows]
            cols = [_csv_column(part.iloc[:, i], german, specials) for i in range(part.shape[1])]
            if not cols:
                continue
            rows = pc.binary_join_element_wise(
                *cols, sep, null_handling="replace", null_replacement=""
            )
            f.write(("\r\n".join(rows.to_pylist()) + "\r\n").encode("utf-8"))
    return Path(path)


@dataclass(frozen=True)
class Sheet:
    """One worksheet of :func:`write_xlsx`: a table, optionally followed by titled tables.

    Parameters
    ----------
    name
        Sheet name (cut to Excel's 31 characters).
    frame
        The main table; its header row is frozen, filtered and repeated on every page.
    blocks
        Further ``(title, table)`` pairs written below the main table (e.g. sources).
    key_columns
        Columns left of the freeze line (e.g. rank and id stay visible when scrolling).
    wrap_columns
        Columns whose text wraps (long text: reasons, utility functions, sources).
    max_width
        Widest column (characters); wrapped columns get exactly this width, and longer
        text wraps in any column.
    print_columns
        Print only the first ``print_columns`` columns (e.g. rank, id and the points per
        criterion of a sheet too wide to read on paper); ``None`` prints all.
    """

    name: str
    frame: pd.DataFrame
    blocks: Sequence[tuple[str, pd.DataFrame]] = ()
    key_columns: int = 0
    wrap_columns: Sequence[str] = field(default_factory=tuple)
    max_width: float = 30.0
    print_columns: int | None = None


def _cell_values(values: pd.Series) -> list[Any]:
    """Python values for the cells: ``None`` for missing, ints for whole-number columns.

    Line breaks in text become LF (what XML makes of CR and CRLF anyway; XlsxWriter would
    write a CR as ``_x000D_``, which not every reader decodes).
    """
    if _is_numpy_number(values) and values.dtype.kind == "f":
        arr = values.to_numpy()
        return [v if math.isfinite(v) else None for v in arr.tolist()]
    if values.dtype.kind in "iub" and not values.hasnans:
        return values.to_numpy().tolist()
    out = values.astype(object).to_numpy().tolist()
    return [
        None
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
        else v.replace("\r\n", "\n").replace("\r", "\n")
        if isinstance(v, str) and "\r" in v
        else v
        for v in out
    ]


def _widths(sheet: Sheet) -> list[float]:
    """Column widths (characters) from the headers and the first rows of every table."""
    widths: list[float] = []
    for frame in (sheet.frame, *(b for _, b in sheet.blocks)):
        for c, header in enumerate(frame.columns):
            sample = [len(str(v)) for v in _cell_values(frame.iloc[:200, c]) if v is not None]
            longest = max([*sample, *(len(w) for w in str(header).split())], default=8)
            width = min(max(longest + 2, 8), sheet.max_width)
            if str(header) in sheet.wrap_columns:
                width = sheet.max_width
            if c < len(widths):
                widths[c] = max(widths[c], width)
            else:
                widths.append(width)
    return widths


def _lines(values: Sequence[Any], widths: list[float], cols: Sequence[int]) -> int:
    """Text lines of the tallest wrapped cell of a row (at most 20)."""
    lines = 1
    for c in cols:
        v = values[c]
        if isinstance(v, str) and len(v) > widths[c] - 2:
            lines = max(lines, math.ceil(len(v) / max(widths[c] - 2, 1)) + v.count("\n"))
    return min(lines, 20)


def _fit_height(
    ws: Any, row: int, values: Sequence[Any], widths: list[float], cols: list[int]
) -> None:
    """Row height for wrapped text (LibreOffice does not grow rows when it opens a file)."""
    lines = _lines(values, widths, cols)
    if lines > 1:
        ws.set_row(row, 15 * lines)


def _is_numpy_number(values: pd.Series) -> bool:
    """A plain numpy number column (:func:`_cell_values` gives numbers and ``None`` only)."""
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        return False
    return values.dtype.kind == "f" or (values.dtype.kind in "iu" and not values.hasnans)


def _write_cell(ws: Any, r: int, c: int, v: Any, fmt: Any) -> None:
    if isinstance(v, str):
        ws.write_string(r, c, v, fmt)
    elif isinstance(v, bool | np.bool_):
        ws.write_string(r, c, str(bool(v)))
    elif isinstance(v, int | float | np.integer | np.floating) and math.isfinite(v):
        ws.write_number(r, c, v)
    else:
        ws.write_string(r, c, str(safe_cell(str(v))))


@dataclass
class _Table:
    """A table made ready for writing: safe headers, cell values, wrapping columns."""

    headers: list[str]
    columns: list[list[Any]]
    numeric: list[bool]
    wrapping: list[int]


def _table(frame: pd.DataFrame, widths: list[float], wrap: set[int]) -> _Table:
    """:func:`safe_frame` of ``frame`` as cell values, with the columns whose text wraps.

    Only text columns that can be longer than their column are checked for wrapping.
    """
    safe = safe_frame(frame)
    columns = [_cell_values(safe[c]) for c in safe.columns]
    numeric = [_is_numpy_number(safe[c]) for c in safe.columns]
    longest = [
        0 if numeric[c] else max((len(v) for v in col if isinstance(v, str)), default=0)
        for c, col in enumerate(columns)
    ]
    wrapping = [c for c in range(len(columns)) if c in wrap or longest[c] > widths[c] - 2]
    return _Table([str(c) for c in safe.columns], columns, numeric, wrapping)


def _write_table(ws: Any, row: int, frame: pd.DataFrame, formats: dict[str, Any]) -> int:
    """Header and rows of ``frame`` from ``row`` on, cell by cell; the next free row."""
    widths = formats["widths"]
    table = _table(frame, widths, formats.get("wrap_cols", set()))
    _fit_height(ws, row, table.headers, widths, list(range(len(table.headers))))
    ws.write_row(row, 0, table.headers, formats["head"])
    text_fmt = [formats["wrap"] if c in table.wrapping else None for c in range(len(widths))]
    for r, values in enumerate(zip(*table.columns, strict=True), start=row + 1):
        if table.wrapping:
            _fit_height(ws, r, values, widths, table.wrapping)
        for c, v in enumerate(values):
            if v is None:
                continue
            if table.numeric[c]:
                ws.write_number(r, c, v)
            else:
                _write_cell(ws, r, c, v, text_fmt[c])
    return row + 1 + len(frame)


# --- the main table of a sheet as SpreadsheetML rows, written straight into the file ----
#
# XlsxWriter writes every cell through several Python calls (about 5 s for 10,000 rows ×
# 75 columns). The main table's rows are therefore built here, column by column, in exactly
# the form XlsxWriter gives them in constant-memory mode (inline strings, the column's
# style, control characters as ``_xHHHH_``), and put into the sheet XML after XlsxWriter
# has written everything else (header row, blocks, styles, print setup, defined names).
# Numbers are written as the shortest exact decimal (Arrow in C++; ``repr`` in text columns).

_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EDGE_SPACE = re.compile(r"^\s|\s$")
#: Deflate level of the sheets with spliced rows: 1 takes about a third of the time of
#: XlsxWriter's 6 for a file some 15-35 % larger (2.7 → 3.7 MB for 10,000 scored plots).
_DEFLATE_LEVEL = 1
_DIMENSION = re.compile(r'<dimension ref="[A-Z]+1(?::([A-Z]+)([0-9]+))?"/>')


def _number_xml(v: Any) -> str:
    if isinstance(v, float | np.floating):
        text = repr(float(v))
        return text[:-2] if text.endswith(".0") else text
    return str(int(v))


def _string_xml(ref: str, style: int, text: str) -> str:
    """An inline string cell as XlsxWriter writes it."""
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", _ESCAPED.sub(r"_x005F\1", text))
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _cell_xml(v: Any, ref: str, top: int, text_style: int | None) -> str:
    """One cell of a text (object) column, typed as :func:`_write_cell` types it."""
    if isinstance(v, str):
        return _string_xml(ref, top if text_style is None else text_style, v)
    if isinstance(v, bool | np.bool_):
        return _string_xml(ref, top, str(bool(v)))
    if isinstance(v, int | float | np.integer | np.floating) and math.isfinite(v):
        return f'<c r="{ref}" s="{top}"><v>{_number_xml(v)}</v></c>'
    text = str(safe_cell(str(v)))
    return _string_xml(ref, top, text)


def _column_xml(
    table: _Table, c: int, rows: list[str], styles: tuple[int, int | None]
) -> list[str]:
    """The cells of column ``c`` for the rows ``rows`` (``""`` for an empty cell)."""
    from xlsxwriter.utility import xl_col_to_name

    letter = xl_col_to_name(c)
    top, text_style = styles
    values = table.columns[c]
    if table.numeric[c]:  # shortest exact decimals, converted in C++ by Arrow
        import pyarrow as pa
        import pyarrow.compute as pc

        pre, mid = f'<c r="{letter}', f'" s="{top}"><v>'
        texts = pc.cast(pa.array(values), pa.string()).to_pylist()
        return [
            "" if v is None else pre + r + mid + v + "</v></c>"
            for v, r in zip(texts, rows, strict=True)
        ]
    return [
        "" if v is None else _cell_xml(v, letter + r, top, text_style)
        for v, r in zip(values, rows, strict=True)
    ]


def _rows_xml(
    table: _Table, widths: list[float], styles: tuple[int, int], chunk: int = 20_000
) -> Iterator[str]:
    """``<row>`` elements of the table's data (Excel rows 2, 3, …) in chunks.

    Yields the XML of each chunk.
    """
    top, wrap = styles
    n = len(table.columns[0]) if table.columns else 0
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        rows = [str(r) for r in range(start + 2, stop + 2)]
        part = _Table(table.headers, [col[start:stop] for col in table.columns], table.numeric, [])
        cells = [
            _column_xml(part, c, rows, (top, wrap if c in table.wrapping else None))
            for c in range(len(table.columns))
        ]
        lines = []
        for i, row_cells in enumerate(zip(*cells, strict=True)):
            body = "".join(row_cells)
            if not body:
                continue
            height = ""
            if table.wrapping:
                lines_ = _lines([col[i] for col in part.columns], widths, table.wrapping)
                if lines_ > 1:
                    height = f' ht="{15 * lines_}" customHeight="1"'
            lines.append(f'<row r="{rows[i]}"{height}>{body}</row>')
        yield "".join(lines)


def _last_row(table: _Table) -> int:
    """The last Excel row of the table's data that holds a value (1: the header only)."""
    for i in range(len(table.columns[0]) - 1, -1, -1) if table.columns else ():
        if any(col[i] is not None for col in table.columns):
            return i + 2
    return 1


def _splice(
    head: str, table: _Table, widths: list[float], styles: tuple[int, int]
) -> Iterator[bytes]:
    """The sheet XML ``head`` with the table's data rows put in after its header row."""
    from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

    match = _DIMENSION.search(head)
    if match is None:
        msg = "XlsxWriter wrote no <dimension> element"
        raise RuntimeError(msg)
    row, col = xl_cell_to_rowcol((match.group(1) or "A") + (match.group(2) or "1"))
    end = xl_rowcol_to_cell(max(row, _last_row(table) - 1), max(col, len(table.columns) - 1))
    head = head[: match.start()] + f'<dimension ref="A1:{end}"/>' + head[match.end() :]
    cut = head.index("</row>", head.index("<sheetData>")) + len("</row>")
    yield head[:cut].encode("utf-8")
    for xml in _rows_xml(table, widths, styles):
        yield xml.encode("utf-8")
    yield head[cut:].encode("utf-8")


def _rewrite(source: io.BytesIO, target: Path, tables: dict[str, Any]) -> None:
    """Copy the workbook ``source`` to ``target``, the data rows spliced into its sheets."""
    with (
        zipfile.ZipFile(source) as src,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=_DEFLATE_LEVEL) as dst,
    ):
        for info in src.infolist():
            if info.filename not in tables:
                dst.writestr(info, src.read(info))
                continue
            head = src.read(info).decode("utf-8")
            with dst.open(info.filename, "w", force_zip64=True) as out:
                for part in _splice(head, *tables[info.filename]):
                    out.write(part)


def _print_setup(ws: Any, sheet: Sheet, n_rows: int, n_cols: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many high as needed
    ws.repeat_rows(0)
    ws.freeze_panes(1, sheet.key_columns)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&L&A&R&P / &N")  # sheet name, page of pages
    if n_cols:
        ws.autofilter(0, 0, max(n_rows, 1), n_cols - 1)
    if sheet.print_columns is not None and n_cols:
        ws.print_area(0, 0, max(n_rows, 1), min(sheet.print_columns, n_cols) - 1)


def write_xlsx(path: str | os.PathLike[str], sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` to an Excel workbook that prints well, atomically; return ``path``.

    XlsxWriter (``constant_memory``) writes the workbook without the main tables' data
    rows, which are then built column by column and streamed into the sheets (several times
    faster than cell by cell); every cell goes through :func:`safe_frame`, and text is
    always written as text (never as a formula or link).

    Raises
    ------
    ParameterError
        If a sheet holds more rows than Excel allows (:data:`EXCEL_MAX_ROWS`).
    """
    import xlsxwriter

    from handwerkgeo._atomic import atomic_replace_file

    for sheet in sheets:
        rows = 1 + len(sheet.frame) + sum(len(b) + 3 for _, b in sheet.blocks)
        if rows > EXCEL_MAX_ROWS:
            msg = (
                f"sheet {sheet.name!r} would have {rows:,} rows, more than Excel's "
                f"{EXCEL_MAX_ROWS:,}; write the full table as CSV and cut the sheet"
            )
            raise ParameterError(msg)
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    skeleton = io.BytesIO()
    wb = xlsxwriter.Workbook(skeleton, options)
    head = wb.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8E8E8", "bottom": 1}
    )
    title = wb.add_format({"bold": True, "font_size": 12})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    top = wb.add_format({"valign": "top"})
    # style numbers for the spliced cells (XlsxWriter numbers a format when it is first used)
    styles = (head._get_xf_index(), top._get_xf_index(), wrap._get_xf_index())[1:]
    tables: dict[str, Any] = {}
    for number, sheet in enumerate(sheets, start=1):
        ws = wb.add_worksheet(sheet.name[:31])
        frame = sheet.frame
        widths = _widths(sheet)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width, top)  # every cell aligned to the top
        _print_setup(ws, sheet, len(frame), frame.shape[1])
        wrap_cols = {i for i, h in enumerate(frame.columns) if str(h) in sheet.wrap_columns}
        table = _table(frame, widths, wrap_cols)
        _fit_height(ws, 0, table.headers, widths, list(range(len(table.headers))))
        ws.write_row(0, 0, table.headers, head)  # the data rows follow in _rewrite
        if table.headers and len(frame):
            tables[f"xl/worksheets/sheet{number}.xml"] = (table, widths)
        row = 1 + len(frame)
        formats = {"head": head, "wrap": wrap, "wrap_cols": set(), "widths": widths}
        for block_title, block in sheet.blocks:
            ws.write_string(row + 1, 0, str(safe_cell(block_title)), title)
            row = _write_table(ws, row + 2, block, formats)
    wb.close()
    tables = {name: (*value, styles) for name, value in tables.items()}
    with atomic_replace_file(path, copy_existing=False) as tmp:
        _rewrite(skeleton, Path(tmp), tables)
    return Path(path)
