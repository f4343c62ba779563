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

Modules: :mod:`.reader` (``read_plots``, ``check_plots``, ``validate_plots``),
:mod:`.options` (:class:`PlotReaderOptions`), :mod:`.columns` (every column-name
vocabulary), :mod:`.formats` (files to tables), :mod:`.geometry` (WKT/coordinates, CRS,
position) and :mod:`.attributes` (ids, areas, numbers). Every public name is importable
from ``handwerkgeo.sources.plots``.
"""

from __future__ import annotations

from handwerkgeo.sources.plots.columns import AREA_COLUMNS, ID_COLUMNS

# type aliases and constants of the old single module, kept importable
from handwerkgeo.sources.plots.columns import LONLAT_COLUMNS as LONLAT_COLUMNS
from handwerkgeo.sources.plots.columns import WKT_COLUMNS as WKT_COLUMNS
from handwerkgeo.sources.plots.columns import XY_COLUMNS as XY_COLUMNS
from handwerkgeo.sources.plots.options import (
    OnInvalid,
    PlotOptionError,
    PlotReaderKwargs,
    PlotReaderOptions,
)
from handwerkgeo.sources.plots.reader import check_plots, read_plots, validate_plots

__all__ = [
    "AREA_COLUMNS",
    "ID_COLUMNS",
    "OnInvalid",
    "PlotOptionError",
    "PlotReaderKwargs",
    "PlotReaderOptions",
    "check_plots",
    "read_plots",
    "validate_plots",
]
