"""Candidate plots: read them from the formats planners use, and validate everything.

Supported inputs (see the README section "Supported input formats"):

- GeoPackage, GeoJSON, Shapefile (with or without ``.prj``), GML, FlatGeobuf — through
  GDAL (pyogrio);
- GeoParquet (and plain Parquet with a WKT or coordinate column);
- CSV and XLSX with a WKT column (``wkt``, ``geometry``, ``geom``) or coordinate columns
  (``lon``/``lat``, ``x``/``y``, ``Rechtswert``/``Hochwert`` …, case-insensitive).

CSV files may be ``;``-, ``,``-, tab- or ``|``-separated, use German decimal commas
(``"1.234,5"``) and be encoded as UTF-8, UTF-8 with BOM, UTF-16 with BOM or cp1252.

CRS rules (never guessed silently):

- a GIS file's own CRS is used; ``crs=`` overrides it (for files with a wrong label);
- a GIS file without CRS (e.g. a Shapefile without ``.prj``) needs ``crs=``;
- ``lon``/``lat`` columns mean EPSG:4326 (the names say so); ``crs=`` overrides;
- ``x``/``y`` or ``Rechtswert``/``Hochwert`` need ``crs=``, unless *every* value lies in
  the Düsseldorf window of exactly one CRS used there: 6-digit eastings 300 000–400 000
  with northings 5 630 000–5 730 000 → EPSG:25832; eastings with zone prefix
  32 300 000–32 400 000 → EPSG:4647; Gauß-Krüger eastings 2 500 000–2 600 000 →
  EPSG:31466. The choice is logged as a warning and recorded in the report notes.

Point listings (coordinates instead of outlines) are usable only with a plot-area column
(m²); they are kept as points with ``is_point=True``.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from handwerkgeo import _validate as v
from handwerkgeo._text import ENCODING_FIX, decode_text
from handwerkgeo.crs import CRS, outside_city, to_canonical
from handwerkgeo.errors import ConfigError, DataSourceError, EncodingError

__all__ = [
    "AREA_COLUMNS",
    "ID_COLUMNS",
    "check_plots",
    "read_plots",
    "validate_plots",
]

logger = logging.getLogger(__name__)

#: Column names taken as the plot id, in order of preference (case-insensitive).
ID_COLUMNS = ("plot_id", "id", "flstkennz")

#: Column names taken as the plot area in m² (case-insensitive, umlauts spelled either way).
AREA_COLUMNS = (
    "area_m2",
    "flaeche_m2",
    "fläche_m2",
    "flaeche",
    "fläche",
    "flaeche_qm",
    "flaeche_in_m2",
    "grundstuecksflaeche",
    "grundstuecksflaeche_m2",
    "grundstücksfläche",
    "plot_area_m2",
    "plot_area",
    "area",
    "area_sqm",
    "groesse_m2",
    "größe_m2",
    "groesse",
    "größe",
)

#: Column names holding geometry text (WKT, or hex WKB).
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "geometrie")

#: Coordinate column pairs that mean longitude/latitude (EPSG:4326).
LONLAT_COLUMNS = (
    ("lon", "lat"),
    ("lng", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("länge", "breite"),
    ("laengengrad", "breitengrad"),
    ("geo_laenge", "geo_breite"),
)

#: Coordinate column pairs in projected units (CRS from ``crs=`` or the value range).
XY_COLUMNS = (
    ("x", "y"),
    ("rechtswert", "hochwert"),
    ("ostwert", "nordwert"),
    ("easting", "northing"),
    ("rw", "hw"),
    ("x_coord", "y_coord"),
    ("utm_x", "utm_y"),
    ("east", "north"),
)

#: Düsseldorf windows (minx, miny, maxx, maxy) of the projected CRSs met there.
_XY_WINDOWS = {
    "EPSG:25832": (300_000.0, 5_630_000.0, 400_000.0, 5_730_000.0),
    "EPSG:4647": (32_300_000.0, 5_630_000.0, 32_400_000.0, 5_730_000.0),
    "EPSG:31466": (2_500_000.0, 5_630_000.0, 2_600_000.0, 5_730_000.0),
}

_TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}

OnInvalid = Literal["raise", "reject"]


def read_plots(
    path: str | os.PathLike[str],
    crs: object | None = None,
    id_col: str | None = None,
    *,
    on_invalid: OnInvalid = "raise",
    layer: str | int | None = None,
    area_col: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    """Read candidate plots from a file and validate them.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, GML, GeoParquet, CSV or XLSX file.
    crs
        CRS of the coordinates (``"EPSG:25832"``, ``25832`` …). Required when the file
        has none; overrides the file's own label when given.
    id_col
        Column with the plot ids; default the first of ``plot_id``, ``id``, ``flstkennz``.
    on_invalid
        ``"raise"``: raise one error listing every problem. ``"reject"``: return the
        usable rows with the rejected ones in ``attrs["rejects"]`` (a list of records with
        ``row``, ``plot_id``, ``reason``, ``fix``; ``pandas.DataFrame(plots.attrs["rejects"])``
        makes a table of it) and log a warning with the count.
        File-level problems (no CRS, no id column, unreadable file) raise in both modes.
    layer
        Layer of a multi-layer file (GeoPackage, GML) or sheet of an XLSX file.
    area_col
        Column with the plot area in m² (required for point listings); default the
        first of :data:`AREA_COLUMNS`.
    sep
        CSV separator; default detected from the header line.
    encoding
        Text encoding of CSV (or Shapefile ``.dbf``); default: UTF-8, UTF-8 with BOM,
        UTF-16 with BOM or cp1252, whichever decodes the file.
    decimal
        Decimal separator of text numbers (``","`` or ``"."``); default ``","`` for
        ``;``-separated CSV files and otherwise detected from the values.
    repair
        Repair invalid polygons with :func:`shapely.make_valid` instead of rejecting
        them (each repair is logged).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:25832: ``plot_id`` (str, unique), the other attributes of the input,
        ``area_m2`` (float; from the geometry for polygons, from the area column for
        points), ``is_point`` (bool), ``geometry``. ``attrs["source_crs"]`` names the
        CRS of the input.

    Raises
    ------
    handwerkgeo.errors.ValidationError
        Listing every problem (``.problems``; ``.rejects`` with one line per bad row).
        When all problems are of one kind the specific error is raised instead:
        :class:`~handwerkgeo.errors.NoCrsError`,
        :class:`~handwerkgeo.errors.MissingColumnError`,
        :class:`~handwerkgeo.errors.DuplicateIdError`,
        :class:`~handwerkgeo.errors.InvalidGeometryError`,
        :class:`~handwerkgeo.errors.OutsideAreaError` or
        :class:`~handwerkgeo.errors.EncodingError` (with the same attributes).
    handwerkgeo.errors.DataSourceError
        If the file does not exist.

    Notes
    -----
    ``attrs["rejects"]`` holds plain records (a list of dicts), as in every handwerkgeo
    reader: plain data keeps ``pd.concat`` and ``groupby`` working on the result.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "plots.csv").write_text(
    ...     "id;Rechtswert;Hochwert;Fläche\\nA;344500;5679500;3.200,5\\n", encoding="utf-8"
    ... )
    >>> plots = read_plots(d / "plots.csv", crs="EPSG:25832")
    >>> plots.loc[0, "plot_id"], float(plots.loc[0, "area_m2"]), bool(plots.loc[0, "is_point"])
    ('A', 3200.5, True)
    """
    if on_invalid not in ("raise", "reject"):
        msg = f"on_invalid must be 'raise' or 'reject', got {on_invalid!r}"
        raise ConfigError(msg)
    report = check_plots(
        path,
        crs=crs,
        id_col=id_col,
        layer=layer,
        area_col=area_col,
        sep=sep,
        encoding=encoding,
        decimal=decimal,
        repair=repair,
    )
    if report.problems and (on_invalid == "raise" or report.fatal):
        v.raise_for_report(report)
    plots = report.usable
    if on_invalid == "reject":
        plots.attrs["rejects"] = report.rejects.to_dict("records")
        if len(report.rejects):
            logger.warning(
                "%s: %d of %d plot row(s) rejected (see attrs['rejects'] for the reason "
                "and fix of each)",
                report.name,
                len(report.rejects),
                report.n_rows,
            )
    logger.info(
        "read %d plot(s) from %s (source CRS %s) → %s",
        len(plots),
        report.name,
        plots.attrs.get("source_crs"),
        CRS,
    )
    return plots


def check_plots(
    path: str | os.PathLike[str],
    *,
    crs: object | None = None,
    id_col: str | None = None,
    layer: str | int | None = None,
    area_col: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    repair: bool = False,
) -> v.ValidationReport:
    """Validate a plot file and return every problem without raising.

    Parameters are those of :func:`read_plots`.

    Returns
    -------
    handwerkgeo._validate.ValidationReport
        ``usable`` rows (EPSG:25832), ``rejects`` table, ``problems``, ``notes``, ``ok``.

    Raises
    ------
    handwerkgeo.errors.DataSourceError
        If the file does not exist.
    """
    p = Path(path)
    if not p.exists():
        msg = f"plot file {p} does not exist; check the path."
        raise DataSourceError(msg)
    frame, problems, meta = _read_any(p, layer=layer, sep=sep, encoding=encoding, decimal=decimal)
    if frame is None:
        empty = _empty_plots()
        return v.ValidationReport(
            name=p.name,
            usable=empty,
            rejects=pd.DataFrame(columns=v.REJECT_COLUMNS),
            problems=problems,
            notes=meta.get("notes", []),
            n_rows=0,
        )
    report = validate_plots(
        frame,
        name=p.name,
        crs=crs,
        id_col=id_col,
        area_col=area_col,
        decimal=meta.get("decimal", decimal),
        repair=repair,
        row_offset_note=meta.get("row_note", ""),
    )
    report.problems[:0] = problems
    report.notes[:0] = meta.get("notes", [])
    return report


def validate_plots(
    frame: pd.DataFrame,
    *,
    name: str = "plots",
    crs: object | None = None,
    id_col: str | None = None,
    area_col: str | None = None,
    decimal: str | None = None,
    repair: bool = False,
    row_offset_note: str = "",
) -> v.ValidationReport:
    """Validate an in-memory plot table and bring it into canonical form.

    ``frame`` is a GeoDataFrame, or a DataFrame with a WKT column or coordinate columns
    (as read from CSV/XLSX). It is not modified. Parameters as in :func:`read_plots`;
    ``row_offset_note`` is appended to row descriptions (e.g. for spreadsheet lines).

    Returns
    -------
    handwerkgeo._validate.ValidationReport
    """
    df = frame.copy()
    df.columns = [str(c).strip() for c in df.columns]
    file_problems: list[v.Problem] = []
    issues: list[v.RowIssue] = []
    notes: list[str] = []
    n = len(df)
    if n == 0:
        file_problems.append(
            v.Problem(
                "empty_file",
                f"{name} contains no plots (0 rows).",
                "check that the right file, layer or sheet was given and that it was "
                "exported with its rows",
            )
        )

    # --- geometry ------------------------------------------------------------------
    src_crs = crs
    dropped: list[str] = []
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        geoms = df.geometry.reset_index(drop=True)
        if src_crs is None:
            src_crs = df.crs
        attrs = pd.DataFrame(df.drop(columns=[df.geometry.name])).reset_index(drop=True)
    else:
        attrs = pd.DataFrame(df).reset_index(drop=True)
        geoms, table_crs, g_issues, g_problems, g_notes, dropped = _table_geometry(
            attrs, name=name, crs=crs, decimal=decimal
        )
        issues += g_issues
        file_problems += g_problems
        notes += g_notes
        if src_crs is None:
            src_crs = table_crs
        attrs = attrs.drop(columns=dropped)
    if geoms is None:
        geoms = gpd.GeoSeries([None] * n, crs=None)

    # --- id ------------------------------------------------------------------------
    ids, id_source, id_issues, id_problems = _ids(attrs, id_col=id_col, name=name)
    issues += id_issues
    file_problems += id_problems

    # --- geometry checks -----------------------------------------------------------
    geoms, g_issues, g_notes = v.check_geometries(geoms, allow_points=True, repair=repair)
    unreadable = {i.pos for i in issues if i.kind == "invalid_geometry"}
    issues += [i for i in g_issues if not (i.kind == "empty_geometry" and i.pos in unreadable)]
    notes += g_notes
    for note in g_notes:
        logger.warning("%s: %s", name, note)
    type_ids = shapely.get_type_id(np.asarray(geoms.array, dtype=object))
    is_point = type_ids == 0
    bad_geom = {i.pos for i in issues if i.kind in ("empty_geometry", "geometry_type")}
    bad_geom |= {i.pos for i in issues if i.kind == "invalid_geometry"}

    # --- CRS and position --------------------------------------------------------------
    projected, crs_issues, crs_problems, source_label = _project(
        geoms, src_crs=src_crs, skip=bad_geom, name=name
    )
    issues += crs_issues
    if not any(p.kind == "no_crs" for p in file_problems):
        file_problems += crs_problems

    # --- area ----------------------------------------------------------------------
    area, area_issues, area_problems, area_notes, attrs = _areas(
        attrs,
        projected,
        is_point=is_point,
        skip=bad_geom,
        area_col=area_col,
        id_source=id_source,
        decimal=decimal,
        name=name,
    )
    issues += area_issues
    file_problems += area_problems
    notes += area_notes

    # --- assemble ------------------------------------------------------------------
    if not isinstance(df, gpd.GeoDataFrame):
        attrs = _numeric_columns(attrs, skip={id_source}, decimal=decimal)
    if id_source is not None and v.normalize_key(id_source) in {"id", "plotid"}:
        attrs = attrs.drop(columns=[id_source])
    attrs = attrs.drop(columns=[c for c in ("plot_id", "is_point") if c in attrs.columns])
    out = gpd.GeoDataFrame(
        {
            "plot_id": pd.Series(ids, dtype=object),
            **{c: attrs[c] for c in attrs.columns},
            "area_m2": area,
            "is_point": is_point,
        },
        geometry=projected if projected is not None else geoms,
        crs=CRS if projected is not None else None,
    )
    report = v.build_report(
        name,
        out,
        ids=ids,
        row_issues=issues,
        file_problems=file_problems,
        notes=notes,
        row_offset_note=row_offset_note,
    )
    if report.fatal or report.usable.crs is None:
        report.usable = _empty_plots(report.usable.columns)
    report.usable.attrs = {"source_crs": source_label, "source": name}
    report.usable["is_point"] = report.usable["is_point"].astype(bool)
    report.usable["area_m2"] = report.usable["area_m2"].astype(float)
    return report


# --- reading ---------------------------------------------------------------------------


def _read_any(
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
        return None, [_empty_problem(path.name, "the file is empty (0 bytes)")], meta
    suffix = path.suffix.lower()
    try:
        if suffix in _TABLE_SUFFIXES:
            return _read_csv(path, sep=sep, encoding=encoding, decimal=decimal, meta=meta)
        if suffix in _EXCEL_SUFFIXES:
            with pd.ExcelFile(path) as book:
                sheets = [str(n) for n in book.sheet_names]
                listed = ", ".join(repr(n) for n in sheets)
                if isinstance(layer, str) and layer not in sheets:
                    problem = v.Problem(
                        "unreadable",
                        f"{path.name} has no sheet {layer!r}; its sheets are {listed}",
                        "name one of these sheets with layer= (Python) / --layer",
                    )
                    return None, [problem], meta
                if layer is None and len(sheets) > 1:
                    meta["notes"].append(
                        f"{path.name}: read the first of its sheets {listed}; "
                        "name another with layer= / --layer"
                    )
                sheet = 0 if layer is None else layer
                frame = pd.read_excel(book, sheet_name=sheet, dtype=object)
            meta["row_note"] = " (spreadsheet line = row + 1)"
            return _strip_table(frame), [], meta
        if suffix in _PARQUET_SUFFIXES:
            try:
                return gpd.read_parquet(path), [], meta
            except ValueError as exc:
                if "geo" not in str(exc).lower():
                    raise
                return pd.read_parquet(path), [], meta
        return _read_vector(path, layer=layer, encoding=encoding, meta=meta)
    except (OSError, ValueError, pyogrio.errors.DataSourceError) as exc:
        problem = v.Problem(
            "unreadable",
            f"{path.name} could not be read: {exc}",
            "check that the file is complete and in one of the supported formats "
            "(GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV, XLSX)",
        )
        return None, [problem], meta


def _read_vector(
    path: Path, *, layer: str | int | None, encoding: str | None, meta: dict[str, Any]
) -> tuple[pd.DataFrame | None, list[v.Problem], dict[str, Any]]:
    options: dict[str, Any] = {}
    if path.suffix.lower() in {".gml", ".xml"}:
        options = {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = gpd.read_file(path, layer=layer, encoding=encoding, **options)
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
    text, used, problem = _decode(raw, encoding=encoding, name=path.name)
    if problem is not None or text is None:
        return None, [problem] if problem is not None else [], meta
    if used not in ("utf-8-sig", encoding):
        meta["notes"].append(f"{path.name} decoded as {used}")
        logger.info("%s: decoded as %s", path.name, used)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        return None, [_empty_problem(path.name, "the file holds no text")], meta
    if sep is None:
        counts = {s: first.count(s) for s in (";", ",", "\t", "|")}
        sep = max(counts, key=lambda s: counts[s]) if max(counts.values()) else ","
    if decimal is None and sep == ";":
        decimal = ","
    meta["decimal"] = decimal
    meta["row_note"] = " (file line = row + 1)"
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        problem = v.Problem(
            "unreadable",
            f"{path.name} is not a well-formed table with separator {sep!r}: {exc}",
            "check that every line has the same number of fields and that text with "
            "the separator in it (e.g. WKT) is in double quotes; or pass sep=",
        )
        return None, [problem], meta
    return _strip_table(frame), [], meta


def _decode(
    raw: bytes, *, encoding: str | None, name: str
) -> tuple[str | None, str | None, v.Problem | None]:
    """Decode CSV bytes with :func:`decode_text`; return (text, encoding used, problem)."""
    try:
        text, used = decode_text(raw, name=name, encoding=encoding)
    except EncodingError as exc:
        message = str(exc).removesuffix(ENCODING_FIX).rstrip()
        return None, None, v.Problem("encoding", message, ENCODING_FIX)
    return text, used, None


def _strip_table(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.dropna(how="all")
    frame.columns = [str(c).strip() for c in frame.columns]
    keep = [c for c in frame.columns if not (c.startswith("Unnamed:") and frame[c].isna().all())]
    return frame[keep].reset_index(drop=True)


def _empty_problem(name: str, what: str) -> v.Problem:
    return v.Problem(
        "empty_file",
        f"{name} contains no plots: {what}.",
        "check that the right file was given and that it was saved completely",
    )


def _empty_plots(columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    cols = [c for c in (list(columns) if columns is not None else []) if c != "geometry"]
    cols = cols or ["plot_id", "area_m2", "is_point"]
    frame = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=[], crs=CRS)
    frame["area_m2"] = frame["area_m2"].astype(float)
    frame["is_point"] = frame["is_point"].astype(bool)
    return frame


def _numeric_columns(
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


# --- geometry from tables ------------------------------------------------------------------


def _table_geometry(
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
    wkt_col = v.find_column(attrs.columns, WKT_COLUMNS)
    if wkt_col is not None:
        geoms = []
        for pos, value in enumerate(attrs[wkt_col].tolist()):
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
                            "write the geometry as WKT, e.g. 'POLYGON ((x1 y1, x2 y2, "
                            "x3 y3, x1 y1))'",
                        )
                    )
            elif value is not None and not (isinstance(value, float) and np.isnan(value)):
                geom = value if isinstance(value, shapely.Geometry) else None
            geoms.append(geom)
        return gpd.GeoSeries(geoms, crs=None), crs, issues, [], [], [wkt_col]

    pair, lonlat = _coordinate_pair(attrs.columns)
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
                v.RowIssue(
                    pos,
                    "invalid_geometry",
                    f"coordinates are not numbers: {xcol}={attrs[xcol].iloc[pos]!r}, "
                    f"{ycol}={attrs[ycol].iloc[pos]!r}",
                    "write the coordinates as numbers (decimal comma or point)",
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
        guess = _xy_window(x[ok], y[ok])
        if guess is not None:
            table_crs = guess
            note = (
                f"{name}: no CRS given; every {xcol}/{ycol} value fits only {guess} around "
                f"Düsseldorf ({xcol} {np.nanmin(x):.0f}–{np.nanmax(x):.0f}), so {guess} is "
                "used. Pass crs= to say otherwise."
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


def _coordinate_pair(columns: Sequence[object]) -> tuple[tuple[str, str] | None, bool]:
    for pairs, lonlat in ((LONLAT_COLUMNS, True), (XY_COLUMNS, False)):
        for a, b in pairs:
            xa = v.find_column(columns, [a])
            yb = v.find_column(columns, [b])
            if xa is not None and yb is not None:
                return (xa, yb), lonlat
    return None, False


def _xy_window(x: np.ndarray, y: np.ndarray) -> str | None:
    hits = [
        label
        for label, (minx, miny, maxx, maxy) in _XY_WINDOWS.items()
        if ((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)).all()
    ]
    return hits[0] if len(hits) == 1 else None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- ids ------------------------------------------------------------------------------


def _ids(
    attrs: pd.DataFrame, *, id_col: str | None, name: str
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
        v.RowIssue(pos, "missing_id", f"no plot id in column {col!r}", "give every plot an id")
        for pos, value in enumerate(ids)
        if value is None
    ]
    issues += v.duplicate_issues(pd.Series(ids, dtype=object), what="plot_id")
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


# --- CRS --------------------------------------------------------------------------------


def _project(
    geoms: gpd.GeoSeries,
    *,
    src_crs: object | None,
    skip: set[int],
    name: str,
) -> tuple[gpd.GeoSeries | None, list[v.RowIssue], list[v.Problem], str | None]:
    """Reproject to EPSG:25832 and flag rows outside Düsseldorf."""
    issues: list[v.RowIssue] = []
    arr = np.asarray(geoms.array, dtype=object)
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if skip:
        present[list(skip)] = False
    if src_crs is None:
        b = shapely.bounds(arr[present]) if present.any() else np.empty((0, 4))
        hint = ""
        if len(b):
            guess = _xy_window(b[:, 0], b[:, 1])
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
    try:
        pcrs = pyproj.CRS.from_user_input(src_crs)
    except pyproj.exceptions.CRSError as exc:
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
            guess = _xy_window(np.array([row[0]]), np.array([row[1]]))
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
        idx = np.flatnonzero(present)
        outside = outside_city(projected.iloc[idx])
        for pos in idx[outside]:
            reason, fix = _outside_hint(arr[pos], pcrs)
            issues.append(v.RowIssue(int(pos), "outside_city", reason, fix))
    return projected, issues, [], source_label


def _label(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _outside_hint(geom: Any, pcrs: pyproj.CRS) -> tuple[str, str]:
    c = geom.centroid if geom.geom_type != "Point" else geom
    label = _label(pcrs)
    digits = 6 if pcrs.is_geographic else 1
    reason = f"lies outside Düsseldorf (at {c.x:.{digits}f}, {c.y:.{digits}f} in {label})"
    if pcrs.is_geographic:
        swapped = shapely.Point(c.y, c.x)
        test = gpd.GeoSeries([swapped], crs=pcrs).to_crs(CRS)
        if not outside_city(test)[0]:
            return reason, (
                "longitude and latitude look swapped: exchange the two coordinate columns "
                "(longitude ≈ 6.7–6.9, latitude ≈ 51.1–51.4 in Düsseldorf)"
            )
    guess = _xy_window(np.array([c.x]), np.array([c.y]))
    if guess is not None and guess != label:
        return reason, (
            f"the coordinates fit {guess}, not {label}: read the file with crs='{guess}'"
        )
    return reason, (f"check the coordinates and the CRS ({label}); plots must lie in Düsseldorf")


# --- area -------------------------------------------------------------------------------


def _areas(
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
    n = len(attrs)
    issues: list[v.RowIssue] = []
    problems: list[v.Problem] = []
    notes: list[str] = []
    attrs = attrs.copy()
    available = ", ".join(map(str, attrs.columns)) or "none"
    if area_col is not None:
        col = area_col if area_col in attrs.columns else v.find_column(attrs.columns, [area_col])
        if col is None:
            problems.append(
                v.Problem(
                    "missing_column",
                    f"{name} has no area column {area_col!r}. Columns found: {available}.",
                    "pass the name of the column with the plot area in m² (area_col= / --area-col)",
                )
            )
    else:
        candidates = [c for c in attrs.columns if c != id_source]
        col = v.find_column(candidates, AREA_COLUMNS)
    stated = np.full(n, np.nan)
    if col is not None:
        stated, bad = v.parse_numbers(attrs[col].tolist(), decimal=decimal)
        for pos in np.flatnonzero(bad):
            if is_point[pos] or pos in skip:
                issues.append(
                    v.RowIssue(
                        int(pos),
                        "bad_area",
                        f"area {attrs[col].iloc[pos]!r} in column {col!r} is not a number",
                        "write the area in m² as a number, e.g. 3200 or 3.200,5",
                    )
                )
    point_rows = np.flatnonzero(is_point)
    if len(point_rows) and col is None and area_col is None:
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
    bad_rows = {i.pos for i in issues}
    if col is not None:
        for pos in point_rows:
            if pos in bad_rows or pos in skip:
                continue
            if np.isnan(stated[pos]):
                issues.append(
                    v.RowIssue(
                        int(pos),
                        "missing_area",
                        f"point without plot area (column {col!r} is empty)",
                        "fill in the plot area in m²",
                    )
                )
            elif stated[pos] <= 0:
                issues.append(
                    v.RowIssue(
                        int(pos),
                        "bad_area",
                        f"plot area {stated[pos]:g} m² is not positive",
                        "give the plot area in m² (> 0)",
                    )
                )
    for pos in np.flatnonzero(~is_point):
        if pos in skip or projected is None or np.isnan(geom_area[pos]):
            continue
        if geom_area[pos] <= 0:
            issues.append(
                v.RowIssue(
                    int(pos),
                    "bad_area",
                    "polygon has zero area",
                    "draw the plot outline with at least three distinct corners",
                )
            )
    if col is not None and projected is not None:
        poly = ~is_point & ~np.isnan(stated) & (geom_area > 0)
        diff = np.zeros(n)
        diff[poly] = np.abs(stated[poly] - geom_area[poly]) / geom_area[poly]
        off = np.flatnonzero(poly & (diff > 0.05))
        if len(off):
            notes.append(
                f"{len(off)} polygon(s) whose stated area ({col!r}) differs by more than "
                f"5 % from the geometry: {v.describe_rows([int(p) + 1 for p in off])}; "
                "area_m2 is taken from the geometry"
            )
        if v.normalize_key(col) == "aream2":
            if len(off):
                attrs = attrs.rename(columns={col: "area_stated_m2"})
            else:
                attrs = attrs.drop(columns=[col])
    elif col is not None and v.normalize_key(col) == "aream2":
        attrs = attrs.drop(columns=[col])
    return area, issues, problems, notes, attrs
