"""Reading plot files of every supported format into a plain table (or GeoDataFrame).

File-level problems (unreadable, empty, wrong sheet or layer, undecodable text) are
returned as :class:`handwerkgeo._validate.Problem`, never raised, so that the report can
list them with everything else.
"""

from __future__ import annotations

import io
import logging
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from handwerkgeo import _validate as v
from handwerkgeo._text import ENCODING_FIX, MIXED_ENCODING, DecodedText, decode_lines
from handwerkgeo.errors import EncodingError
from handwerkgeo.messages import Note
from handwerkgeo.sources.vector import file_crs

__all__ = [
    "empty_problem",
    "read_any",
    "strip_table",
    "workbook_problem",
]

logger = logging.getLogger(__name__)


_TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}

_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}

_PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}


def read_any(
    path: Path,
    *,
    layer: str | int | None,
    sep: str | None,
    encoding: str | None,
    decimal: str | None,
) -> tuple[pd.DataFrame | None, list[v.Problem], dict[str, Any]]:
    """Read any supported file; file-level problems are returned, not raised."""
    meta: dict[str, Any] = {"notes": []}
    if path.is_file() and path.stat().st_size == 0:
        return None, [empty_problem(path.name, "the file is empty (0 bytes)")], meta
    suffix = path.suffix.lower()
    try:
        if suffix in _TABLE_SUFFIXES:
            return _read_csv(path, sep=sep, encoding=encoding, decimal=decimal, meta=meta)
        if suffix in _EXCEL_SUFFIXES:
            damaged = workbook_problem(path)
            if damaged is not None:
                return None, [damaged], meta
            return _read_excel(path, layer=layer, meta=meta)
        if suffix in _PARQUET_SUFFIXES:
            try:
                return gpd.read_parquet(path), [], meta
            except ValueError as exc:
                if "geo" not in str(exc).lower():
                    raise
                return pd.read_parquet(path), [], meta
        return _read_vector(path, layer=layer, encoding=encoding, meta=meta)
    except (zipfile.BadZipFile, KeyError) as exc:  # a workbook damaged inside its zip
        return None, [_corrupt(path, f"its zip archive is damaged ({exc})")], meta
    except (OSError, ValueError, pyogrio.errors.DataSourceError) as exc:
        problem = v.Problem(
            "unreadable",
            f"{path.name} could not be read: {exc}",
            "check that the file is complete and in one of the supported formats "
            "(GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV, XLSX)",
        )
        return None, [problem], meta


def _is_plot_sheet(frame: pd.DataFrame) -> bool:
    """A sheet with plot rows: its header names a geometry (WKT or coordinate columns)."""
    from handwerkgeo.sources.plots.geometry import coordinate_columns, wkt_column

    table = strip_table(frame)
    if table.empty:
        return False
    return wkt_column(table.columns) is not None or coordinate_columns(table.columns) is not None


def _read_excel(
    path: Path, *, layer: str | int | None, meta: dict[str, Any]
) -> tuple[pd.DataFrame | None, list[v.Problem], dict[str, Any]]:
    """The sheet named by ``layer``, else the only sheet holding plot rows.

    A workbook with a cover sheet (title, text) and one data sheet needs no ``--sheet``;
    with several candidate sheets or none, the problem names every sheet.
    """
    with pd.ExcelFile(path) as book:
        sheets = [str(n) for n in book.sheet_names]
        listed = ", ".join(repr(n) for n in sheets)
        if isinstance(layer, str) and layer not in sheets:
            problem = v.Problem(
                "unreadable",
                f"{path.name} has no sheet {layer!r}; its sheets are {listed}",
                "name one of these sheets with --sheet (Python: layer=)",
            )
            return None, [problem], meta
        if layer is not None or len(sheets) == 1:
            frame = pd.read_excel(book, sheet_name=layer if layer is not None else 0, dtype=object)
        else:
            frames = {n: pd.read_excel(book, sheet_name=n, dtype=object) for n in sheets}
            plot_sheets = [n for n, f in frames.items() if _is_plot_sheet(f)]
            if len(plot_sheets) != 1:
                found = (
                    "none of them has a geometry (WKT or coordinate columns)"
                    if not plot_sheets
                    else f"{', '.join(repr(n) for n in plot_sheets)} all hold plot rows"
                )
                problem = v.Problem(
                    "unreadable",
                    f"{path.name} has the sheets {listed}; {found}.",
                    "name the sheet with the plots with --sheet (Python: layer=)",
                )
                return None, [problem], meta
            frame = frames[plot_sheets[0]]
            meta["notes"].append(
                Note("note_sheet_chosen", file=path.name, sheet=plot_sheets[0], sheets=listed)
            )
    table = strip_table(frame)
    meta["lines"] = [int(i) + 2 for i in table.attrs.pop("source_index", range(len(table)))]
    return table, [], meta


#: First bytes of an OLE2 compound file: an encrypted (password-protected) workbook, or .xls.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORKBOOK_FIX = (
    "open it in Excel and save it again as .xlsx (Excel workbook) without a password "
    "(Datei > Informationen > Arbeitsmappe schützen > Mit Kennwort verschlüsseln: leeren), "
    "or export the plots as CSV"
)


def _corrupt(path: Path, what: str) -> v.Problem:
    return v.Problem(
        "corrupt_file", f"{path} cannot be opened as a workbook: {what}", _WORKBOOK_FIX
    )


def workbook_problem(path: Path) -> v.Problem | None:
    """A ``corrupt_file`` problem when ``path`` is no readable XLSX (damaged or encrypted).

    An XLSX file is a zip archive. Excel stores a password-protected workbook as an
    encrypted OLE container instead (as it stores an old ``.xls``), which no reader can
    open without the password.
    """
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        what = "it is password-protected (encrypted), or an old .xls workbook renamed to .xlsx"
        return _corrupt(path, what)
    if not head.startswith(b"PK"):
        return _corrupt(path, "it is not an XLSX file (no zip archive inside)")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        return _corrupt(path, f"the file is truncated or damaged ({exc})")
    if "xl/workbook.xml" not in names:
        return _corrupt(path, "the zip archive holds no workbook (xl/workbook.xml)")
    return None


def _read_vector(
    path: Path, *, layer: str | int | None, encoding: str | None, meta: dict[str, Any]
) -> tuple[pd.DataFrame | None, list[v.Problem], dict[str, Any]]:
    gml = path.suffix.lower() in {".gml", ".xml"}
    options: dict[str, Any] = {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"} if gml else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = gpd.read_file(path, layer=layer, encoding=encoding, **options)
    if gml and frame.crs is None:
        # an srsName GDAL does not know (AdV: urn:adv:crs:ETRS89_UTM32 …): crs_names knows it
        declared = file_crs(path, layer=layer)
        if declared is not None:
            frame = frame.set_crs(declared)
    for w in caught:
        text = str(w.message)
        if layer is None and "More than one layer found" in text:
            names = text.split(":", 1)[-1].split(". Specify")[0].strip()
            problem = v.Problem(
                "unreadable",
                f"{path.name} has several layers ({names}).",
                "say which layer holds the plots: layer='…' in Python or --layer on the "
                "command line",
            )
            return None, [problem], meta
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return frame, [], meta


def _read_csv(
    path: Path,
    *,
    sep: str | None,
    encoding: str | None,
    decimal: str | None,
    meta: dict[str, Any],
) -> tuple[pd.DataFrame | None, list[v.Problem], dict[str, Any]]:
    raw = path.read_bytes()
    decoded, problem = _decode(raw, encoding=encoding, name=path.name)
    if problem is not None or decoded is None:
        return None, [problem] if problem is not None else [], meta
    text, used = decoded.text, decoded.encoding
    meta["encoding"] = used
    meta["notes"].append(_encoding_note(path.name, decoded))
    if used not in ("utf-8-sig", encoding):
        logger.info("%s: decoded as %s", path.name, used)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        return None, [empty_problem(path.name, "the file holds no text")], meta
    if sep is None:
        counts = {s: first.count(s) for s in (";", ",", "\t", "|")}
        sep = max(counts, key=lambda s: counts[s]) if max(counts.values()) else ","
    if decimal is None and sep == ";":
        decimal = ","
    meta["decimal"] = decimal
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            # keep blank lines (dropped below) so that row positions stay file lines,
            # unless the file starts with blank lines before its header
            skip_blank_lines=not text.lstrip("\ufeff").splitlines()[0].strip(),
        )
    except pd.errors.ParserError as exc:
        problem = v.Problem(
            "unreadable",
            f"{path.name} is not a well-formed table with separator {sep!r}: {exc}",
            "check that every line has the same number of fields and that text with "
            "the separator in it (e.g. WKT) is in double quotes; or pass sep=",
        )
        return None, [problem], meta
    table = strip_table(frame)
    meta["lines"] = [int(i) + 2 for i in table.attrs.pop("source_index", range(len(table)))]
    return table, [], meta


def _decode(
    raw: bytes, *, encoding: str | None, name: str
) -> tuple[DecodedText | None, v.Problem | None]:
    """Decode CSV bytes with :func:`decode_lines`; return (decoded text, problem)."""
    try:
        decoded = decode_lines(raw, name=name, encoding=encoding)
    except EncodingError as exc:
        message = str(exc).removesuffix(ENCODING_FIX).rstrip()
        return None, v.Problem("encoding", message, ENCODING_FIX)
    return decoded, None


def _encoding_note(name: str, decoded: DecodedText) -> Note:
    """The note saying how a text file was decoded (every line that needed the fallback)."""
    if decoded.encoding != MIXED_ENCODING:
        label = {"utf-8-sig": "UTF-8", "cp1252": "cp1252 (Windows)"}.get(
            decoded.encoding, decoded.encoding
        )
        return Note("note_decoded_as", file=name, encoding=label)
    lines = decoded.fallback_lines
    shown = ", ".join(str(n) for n in lines[:10]) + (" …" if len(lines) > 10 else "")
    return Note("note_decoded_mixed", file=name, encoding=MIXED_ENCODING, n=len(lines), lines=shown)


def strip_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop empty rows and unnamed empty columns; ``attrs["source_index"]`` keeps the
    0-based data-row position of every kept row (for spreadsheet line numbers)."""
    frame = frame.dropna(how="all")
    frame.columns = [str(c).strip() for c in frame.columns]
    keep = [c for c in frame.columns if not (c.startswith("Unnamed:") and frame[c].isna().all())]
    source_index = [int(i) for i in frame.index]
    out = frame[keep].reset_index(drop=True)
    out.attrs["source_index"] = source_index
    return out


def empty_problem(name: str, what: str) -> v.Problem:
    return v.Problem(
        "empty_file",
        f"{name} contains no plots: {what}.",
        "check that the right file was given and that it was saved completely",
    )
