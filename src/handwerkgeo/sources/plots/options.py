"""Options of the plot reader as one frozen object: :class:`PlotReaderOptions`.

:func:`~handwerkgeo.sources.plots.read_plots` and
:func:`~handwerkgeo.sources.plots.check_plots` take either a ``PlotReaderOptions`` or the
same names as keywords (``read_plots(path, crs=25832, id_col="Nr")``); keywords given with
an options object override its fields.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Literal, TypedDict

from handwerkgeo.boundary import CityBoundary
from handwerkgeo.errors import ConfigError, OptionError

__all__ = ["OnInvalid", "PlotOptionError", "PlotReaderKwargs", "PlotReaderOptions"]

OnInvalid = Literal["raise", "reject"]


#: The reader's name for :class:`handwerkgeo.errors.OptionError`.
PlotOptionError = OptionError


@dataclass(frozen=True)
class PlotReaderOptions:
    """How to read a plot file; every field is optional.

    Attributes
    ----------
    crs
        CRS of the coordinates (``"EPSG:25832"``, ``25832`` …). Required when the file
        has none; overrides the file's own label when given.
    id_col
        Column with the plot ids; default the first of
        :data:`~handwerkgeo.sources.plots.columns.ID_COLUMNS`.
    on_invalid
        ``"raise"`` or ``"reject"`` (see :func:`~handwerkgeo.sources.plots.read_plots`).
    layer
        Layer of a multi-layer file (GeoPackage, GML) or sheet of an XLSX file.
    area_col
        Column with the plot area in m² (required for point listings); default the first
        of :data:`~handwerkgeo.sources.plots.columns.AREA_COLUMNS`.
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
    columns
        Explicit column mapping ``{canonical: header}``, e.g. ``{"zoning": "Spalte"}``
        (``--column zoning=Spalte``); wins over the vocabulary of
        ``configs/plot_vocabulary.yaml``. Canonical columns: ``plot_id``, ``name``,
        ``zoning``, ``owner``, ``area_m2``, ``land_value_eur_m2``, ``brownfield``.
    data_dir
        Data directory whose fetched Stadtteile give the real city boundary
        (:func:`handwerkgeo.boundary.load_city_boundary`); when they are not fetched, the
        bounding box of Düsseldorf is used and the report notes say so.
    boundary
        A :class:`handwerkgeo.boundary.CityBoundary` to use instead of loading one from
        ``data_dir``.
    vocabulary
        A plot vocabulary YAML (layout of ``configs/plot_vocabulary.yaml``) replacing the
        packaged one: a city's own headers, owner and yes/no words.

    Examples
    --------
    >>> opts = PlotReaderOptions(crs=25832, id_col="Nr")
    >>> PlotReaderOptions.resolve(opts, sep=";").sep, opts.sep is None
    (';', True)
    >>> try:
    ...     PlotReaderOptions.resolve(None, colour="red")
    ... except TypeError as exc:
    ...     print(type(exc).__name__)
    OptionError
    """

    crs: object | None = None
    id_col: str | None = None
    on_invalid: OnInvalid = "raise"
    layer: str | int | None = None
    area_col: str | None = None
    sep: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    repair: bool = False
    columns: Mapping[str, str] | None = None
    data_dir: str | os.PathLike[str] | None = None
    boundary: CityBoundary | None = None
    vocabulary: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if self.on_invalid not in ("raise", "reject"):
            msg = f"on_invalid must be 'raise' or 'reject', got {self.on_invalid!r}"
            raise ConfigError(msg)

    @classmethod
    def resolve(
        cls, options: PlotReaderOptions | None = None, **kwargs: object
    ) -> PlotReaderOptions:
        """``options`` (or the defaults) with the fields named in ``kwargs`` replaced.

        Raises
        ------
        PlotOptionError
            For a keyword that is not a field, or ``options`` of another type (e.g. a CRS
            passed positionally: give it as ``crs=``).
        """
        if options is not None and not isinstance(options, PlotReaderOptions):
            msg = (
                f"options must be a PlotReaderOptions, got {type(options).__name__} "
                f"{options!r}; pass the CRS as crs=… (and other options as keywords)."
            )
            raise PlotOptionError(msg)
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            msg = f"unknown plot reader option(s) {unknown}; the options are {names}."
            raise PlotOptionError(msg)
        base = options if options is not None else cls()
        return replace(base, **kwargs) if kwargs else base  # type: ignore[arg-type]


class PlotReaderKwargs(TypedDict, total=False):
    """The fields of :class:`PlotReaderOptions` as keyword arguments (for type checkers)."""

    crs: object | None
    id_col: str | None
    on_invalid: OnInvalid
    layer: str | int | None
    area_col: str | None
    sep: str | None
    encoding: str | None
    decimal: str | None
    repair: bool
    columns: Mapping[str, str] | None
    data_dir: str | os.PathLike[str] | None
    boundary: CityBoundary | None
    vocabulary: str | os.PathLike[str] | None
