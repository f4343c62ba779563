"""read_plots, check_plots and validate_plots: the public plot reader and its report."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Unpack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo import _validate as v
from handwerkgeo._text import normalize_key
from handwerkgeo.crs import CRS
from handwerkgeo.errors import DataSourceError
from handwerkgeo.sources.plots.attributes import collect_areas, collect_ids, numeric_columns
from handwerkgeo.sources.plots.formats import read_any
from handwerkgeo.sources.plots.geometry import project, table_geometry
from handwerkgeo.sources.plots.options import PlotReaderKwargs, PlotReaderOptions

__all__ = [
    "check_plots",
    "empty_plots",
    "read_plots",
    "validate_plots",
]

logger = logging.getLogger(__name__)


def read_plots(
    path: str | os.PathLike[str],
    options: PlotReaderOptions | None = None,
    **kwargs: Unpack[PlotReaderKwargs],
) -> gpd.GeoDataFrame:
    """Read candidate plots from a file and validate them.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, GML, GeoParquet, CSV or XLSX file.
    options
        How to read the file (:class:`PlotReaderOptions`); default all defaults.
    **kwargs
        The fields of :class:`PlotReaderOptions` as keywords (``crs=``, ``id_col=``,
        ``layer=``, ``area_col=``, ``sep=``, ``encoding=``, ``decimal=``, ``repair=``,
        ``on_invalid=``); they override ``options``. The main ones:

        ``crs``
            CRS of the coordinates (``"EPSG:25832"``, ``25832`` …). Required when the
            file has none; overrides the file's own label when given.
        ``id_col``
            Column with the plot ids; default the first of ``plot_id``, ``id``,
            ``flstkennz``.
        ``on_invalid``
            ``"raise"``: raise one error listing every problem. ``"reject"``: return the
            usable rows with the rejected ones in ``attrs["rejects"]`` (a list of records
            with ``row``, ``plot_id``, ``reason``, ``fix``;
            ``pandas.DataFrame(plots.attrs["rejects"])`` makes a table of it) and log a
            warning with the count. File-level problems (no CRS, no id column,
            unreadable file) raise in both modes.
        ``area_col``
            Column with the plot area in m² (required for point listings); default the
            first of :data:`AREA_COLUMNS`.

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
    PlotOptionError
        For an unknown keyword (a :class:`~handwerkgeo.errors.ConfigError` and a
        ``TypeError``).

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
    opts = PlotReaderOptions.resolve(options, **kwargs)
    on_invalid = opts.on_invalid
    report = check_plots(path, opts)
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
    options: PlotReaderOptions | None = None,
    **kwargs: Unpack[PlotReaderKwargs],
) -> v.ValidationReport:
    """Validate a plot file and return every problem without raising.

    Parameters are those of :func:`read_plots` (``on_invalid`` is ignored: nothing is
    raised for bad rows).

    Returns
    -------
    handwerkgeo._validate.ValidationReport
        ``usable`` rows (EPSG:25832), ``rejects`` table, ``problems``, ``notes``, ``ok``.

    Raises
    ------
    handwerkgeo.errors.DataSourceError
        If the file does not exist.
    """
    opts = PlotReaderOptions.resolve(options, **kwargs)
    p = Path(path)
    if not p.exists():
        msg = f"plot file {p} does not exist; check the path."
        raise DataSourceError(msg)
    frame, problems, meta = read_any(
        p, layer=opts.layer, sep=opts.sep, encoding=opts.encoding, decimal=opts.decimal
    )
    if frame is None:
        empty = empty_plots()
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
        crs=opts.crs,
        id_col=opts.id_col,
        area_col=opts.area_col,
        decimal=meta.get("decimal", opts.decimal),
        repair=opts.repair,
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
        geoms, table_crs, g_issues, g_problems, g_notes, dropped = table_geometry(
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
    ids, id_source, id_issues, id_problems = collect_ids(attrs, id_col=id_col, name=name)
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
    projected, crs_issues, crs_problems, source_label = project(
        geoms, src_crs=src_crs, skip=bad_geom, name=name
    )
    issues += crs_issues
    if not any(p.kind == "no_crs" for p in file_problems):
        file_problems += crs_problems

    # --- area ----------------------------------------------------------------------
    area, area_issues, area_problems, area_notes, attrs = collect_areas(
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
        attrs = numeric_columns(attrs, skip={id_source}, decimal=decimal)
    if id_source is not None and normalize_key(id_source) in {"id", "plotid"}:
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
        report.usable = empty_plots(report.usable.columns)
    report.usable.attrs = {"source_crs": source_label, "source": name}
    report.usable["is_point"] = report.usable["is_point"].astype(bool)
    report.usable["area_m2"] = report.usable["area_m2"].astype(float)
    return report


def empty_plots(columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    cols = [c for c in (list(columns) if columns is not None else []) if c != "geometry"]
    cols = cols or ["plot_id", "area_m2", "is_point"]
    frame = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=[], crs=CRS)
    frame["area_m2"] = frame["area_m2"].astype(float)
    frame["is_point"] = frame["is_point"].astype(bool)
    return frame
