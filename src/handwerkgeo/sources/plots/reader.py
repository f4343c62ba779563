"""read_plots, check_plots and validate_plots: the public plot reader and its report."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Unpack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo import _validate as v
from handwerkgeo import settings
from handwerkgeo._text import normalize_key
from handwerkgeo.boundary import CityBoundary, load_city_boundary
from handwerkgeo.crs import CRS
from handwerkgeo.errors import DataSourceError
from handwerkgeo.messages import Note
from handwerkgeo.sources.plots.attributes import collect_areas, collect_ids, numeric_columns
from handwerkgeo.sources.plots.formats import read_any
from handwerkgeo.sources.plots.geometry import coordinate_columns, project, table_geometry
from handwerkgeo.sources.plots.mapping import map_listing_columns, map_listing_values
from handwerkgeo.sources.plots.options import PlotReaderKwargs, PlotReaderOptions
from handwerkgeo.vocabulary import load_plot_vocabulary

__all__ = [
    "check_plots",
    "city_boundary",
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
        ``on_invalid=``, ``columns=``, ``data_dir=``, ``boundary=``, ``vocabulary=``);
        they override ``options``. Headers and values are read through the plot
        vocabulary (``Flurstück`` → ``plot_id``, ``Planungsrecht`` → ``zoning``,
        ``Eigentümer``/``städtisch`` → ``owner``/``city`` …; ``columns=`` wins), and
        inside/outside Düsseldorf is decided against the Stadtteile fetched into
        ``data_dir`` (else the bounding box, noted). The main ones:

        ``crs``
            CRS of the coordinates (``"EPSG:25832"``, ``25832`` …). Required when the
            file has none; overrides the file's own label when given.
        ``id_col``
            Column with the plot ids; default the first of ``plot_id``, ``id``,
            ``flstkennz``.
        ``on_invalid``
            ``"raise"``: raise one error listing every problem. ``"reject"``: return the
            usable rows with the rejected ones in ``attrs["rejects"]`` (a list of records
            with ``row`` — the spreadsheet line for CSV/XLSX —, ``plot_id``, ``reason``,
            ``fix``;
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
        replace(opts, decimal=meta.get("decimal", opts.decimal)),
        name=p.name,
        row_numbers=meta.get("lines"),
    )
    report.problems[:0] = problems
    report.notes[:0] = meta.get("notes", [])
    return report


@lru_cache(maxsize=4)
def _cached_boundary(data_dir: str) -> CityBoundary | None:
    return load_city_boundary(data_dir)


def city_boundary(opts: PlotReaderOptions) -> tuple[CityBoundary | None, list[str]]:
    """The boundary of ``opts`` (given, or from the data directory) and notes about it."""
    if opts.boundary is not None:
        return opts.boundary, []
    where = settings.data_dir(opts.data_dir).resolve()
    boundary = _cached_boundary(str(where))
    if boundary is None:
        return None, [Note("note_bbox_boundary", data_dir=where)]
    return boundary, []


def validate_plots(
    frame: pd.DataFrame,
    options: PlotReaderOptions | None = None,
    *,
    name: str = "plots",
    row_numbers: Sequence[int] | None = None,
    **kwargs: Unpack[PlotReaderKwargs],
) -> v.ValidationReport:
    """Validate an in-memory plot table and bring it into canonical form.

    ``frame`` is a GeoDataFrame, or a DataFrame with a WKT column or coordinate columns
    (as read from CSV/XLSX). It is not modified. Options as in :func:`read_plots`;
    ``row_numbers`` (one per row) are the numbers reported for the rows, e.g. spreadsheet
    lines (default: 1-based position).

    Returns
    -------
    handwerkgeo._validate.ValidationReport
        With ``columns``: ``mapping`` (``{canonical: input header}``), ``carried``
        (headers kept as they are), ``unknown`` (per canonical column the unknown values,
        see :func:`~handwerkgeo.sources.plots.mapping.map_listing_values`) and
        ``boundary`` (``"stadtteile"`` or ``"bounding box"``).
    """
    opts = PlotReaderOptions.resolve(options, **kwargs)
    numbers = None if row_numbers is None else [int(r) for r in row_numbers]
    df = frame.copy()
    df.attrs = {}
    df.columns = [str(c).strip() for c in df.columns]
    state = _State(name=name, n=len(df), numbers=numbers)
    if state.n == 0:
        state.problems.append(
            v.Problem(
                "empty_file",
                f"{name} contains no plots (0 rows).",
                "check that the right file, layer or sheet was given and that it was "
                "exported with its rows",
            )
        )
    geoms, attrs, src_crs, coords = _geometry(df, opts, state)
    vocab = load_plot_vocabulary(opts.vocabulary)
    attrs, mapping, problems = map_listing_columns(
        attrs, explicit=_explicit(opts), skip=coords, name=name, vocabulary=vocab
    )
    state.problems += problems
    ids, id_source, id_issues, id_problems = collect_ids(
        attrs,
        id_col="plot_id" if "plot_id" in mapping.canonical else None,
        name=name,
        row_numbers=numbers,
    )
    state.issues += id_issues
    state.problems += id_problems
    geoms, is_point, bad_geom = _check_geometries(geoms, opts, state)
    boundary, b_notes = city_boundary(opts)
    state.notes += b_notes
    projected, crs_issues, crs_problems, source_label = project(
        geoms, src_crs=src_crs, skip=bad_geom, name=name, boundary=boundary
    )
    state.issues += crs_issues
    if not any(p.kind == "no_crs" for p in state.problems):
        state.problems += crs_problems
    area, area_issues, area_problems, area_notes, attrs = collect_areas(
        attrs,
        projected,
        is_point=is_point,
        skip=bad_geom,
        area_col="area_m2" if "area_m2" in mapping.canonical else None,
        id_source=id_source,
        decimal=opts.decimal,
        name=name,
    )
    state.issues += area_issues
    state.problems += area_problems
    state.notes += area_notes
    if not isinstance(df, gpd.GeoDataFrame):
        attrs = numeric_columns(attrs, skip={id_source, "zoning"}, decimal=opts.decimal)
    attrs, unknown, value_notes = map_listing_values(
        attrs, mapping, decimal=opts.decimal, vocabulary=vocab
    )
    state.notes += value_notes
    report = _assemble(
        state,
        attrs,
        ids=ids,
        id_source=id_source,
        geoms=(projected, geoms),
        derived={"area_m2": area, "is_point": is_point},
    )
    report.usable.attrs = {"source_crs": source_label, "source": name}
    report.columns = {
        "mapping": dict(mapping.canonical),
        "carried": [c for c in mapping.carried if c in report.usable.columns],
        "unknown": unknown,
        "boundary": "stadtteile" if boundary is not None else "bounding box",
    }
    report.usable.attrs["columns"] = report.columns
    # the planner's own columns, shown in tables, map cards and profiles (scoring keeps them)
    report.usable.attrs["carried"] = list(report.columns["carried"])
    return report


@dataclass
class _State:
    """What :func:`validate_plots` collects on its way: row issues, problems, notes."""

    name: str
    n: int
    numbers: list[int] | None
    issues: list[v.RowIssue] = field(default_factory=list)
    problems: list[v.Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _explicit(opts: PlotReaderOptions) -> dict[str, str]:
    """The explicit column mapping: ``columns`` plus ``id_col`` and ``area_col``."""
    explicit = dict(opts.columns or {})
    if opts.id_col is not None:
        explicit["plot_id"] = opts.id_col
    if opts.area_col is not None:
        explicit["area_m2"] = opts.area_col
    return explicit


def _geometry(
    df: pd.DataFrame, opts: PlotReaderOptions, state: _State
) -> tuple[gpd.GeoSeries, pd.DataFrame, object | None, list[str]]:
    """Geometries, the attribute table, the source CRS and the coordinate columns."""
    src_crs = opts.crs
    coords: list[str] = []
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        geoms = df.geometry.reset_index(drop=True)
        if src_crs is None:
            src_crs = df.crs
        attrs = pd.DataFrame(df.drop(columns=[df.geometry.name])).reset_index(drop=True)
    else:
        attrs = pd.DataFrame(df).reset_index(drop=True)
        table_geoms, table_crs, g_issues, g_problems, g_notes, dropped = table_geometry(
            attrs, name=state.name, crs=opts.crs, decimal=opts.decimal
        )
        geoms = table_geoms
        state.issues += g_issues
        state.problems += g_problems
        state.notes += g_notes
        if src_crs is None:
            src_crs = table_crs
        attrs = attrs.drop(columns=dropped)
        found = coordinate_columns(attrs.columns) if not dropped else None
        coords = list(found[0]) if found is not None else []
    if geoms is None:
        geoms = gpd.GeoSeries([None] * state.n, crs=None)
    return geoms, attrs, src_crs, coords


def _check_geometries(
    geoms: gpd.GeoSeries, opts: PlotReaderOptions, state: _State
) -> tuple[gpd.GeoSeries, np.ndarray, set[int]]:
    geoms, g_issues, g_notes = v.check_geometries(geoms, allow_points=True, repair=opts.repair)
    unreadable = {i.pos for i in state.issues if i.kind == "invalid_geometry"}
    state.issues += [
        i for i in g_issues if not (i.kind == "empty_geometry" and i.pos in unreadable)
    ]
    state.notes += g_notes
    for note in g_notes:
        logger.warning("%s: %s", state.name, note)
    type_ids = shapely.get_type_id(np.asarray(geoms.array, dtype=object))
    is_point = type_ids == 0
    bad_kinds = ("empty_geometry", "geometry_type", "invalid_geometry")
    bad_geom = {i.pos for i in state.issues if i.kind in bad_kinds}
    return geoms, is_point, bad_geom


def _assemble(
    state: _State,
    attrs: pd.DataFrame,
    *,
    ids: list[str | None],
    id_source: str | None,
    geoms: tuple[gpd.GeoSeries | None, gpd.GeoSeries],
    derived: dict[str, np.ndarray],
) -> v.ValidationReport:
    """The output frame (``plot_id``, attributes, ``area_m2``, ``is_point``) and report."""
    projected, raw_geoms = geoms
    if id_source is not None and normalize_key(id_source) in {"id", "plotid"}:
        attrs = attrs.drop(columns=[id_source])
    attrs = attrs.drop(columns=[c for c in ("plot_id", *derived) if c in attrs.columns])
    out = gpd.GeoDataFrame(
        {
            "plot_id": pd.Series(ids, dtype=object),
            **{c: attrs[c] for c in attrs.columns},
            **derived,
        },
        geometry=projected if projected is not None else raw_geoms,
        crs=CRS if projected is not None else None,
    )
    report = v.build_report(
        state.name,
        out,
        ids=ids,
        row_issues=state.issues,
        file_problems=state.problems,
        notes=state.notes,
        row_numbers=state.numbers,
    )
    if report.fatal or report.usable.crs is None:
        report.usable = empty_plots(report.usable.columns)
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
