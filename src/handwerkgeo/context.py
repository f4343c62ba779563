"""The scoring context: every data layer the criteria may use, all optional.

A :class:`ScoringContext` is a frozen bag of layers in EPSG:25832. Criteria whose layer is
missing are reported as "no data" by :func:`handwerkgeo.scoring.compute_raw` rather than
failing. :func:`load_context` builds it from the files fetched with
``handwerkgeo data fetch`` (main roads: the whole-city OSM arterial roads); layers the
toolkit cannot get offline (drive network with motorway junctions, zoning plans, land use,
protected and flood areas) can be added with :meth:`ScoringContext.with_layers` or from
files with :func:`add_layer_files` (``--layer KIND=PATH[@CRS]``).

Besides the layers the built-in criteria know (:data:`LAYER_NAMES`), a context holds any
number of *named* layers in :attr:`ScoringContext.extra` (e.g. ``schools``, or a file a
planner adds with ``--layer NAME=PATH``); generic criteria of the configuration read them
by name (``layer: NAME``, see :mod:`handwerkgeo.criteria.generic`).

Examples
--------
>>> ctx = ScoringContext()
>>> ctx.layer_counts()
{}
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> kitas = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:25832")
>>> ctx.with_layers(kitas=kitas).layer_counts()
{'kitas': 1}
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    HandwerkgeoError,
    MissingColumnError,
)

if TYPE_CHECKING:
    from handwerkgeo.network import Network

__all__ = [
    "FILE_LAYERS",
    "LAYER_NAMES",
    "ScoringContext",
    "add_layer_files",
    "load_context",
    "parse_layer_options",
    "read_context_layer",
    "split_layer_path",
]

#: A named layer: a letter or underscore, then letters, digits and underscores.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

logger = logging.getLogger(__name__)

#: Names of the optional layers of a context.
LAYER_NAMES: tuple[str, ...] = (
    "network",
    "stops",
    "cycling",
    "motorway_junctions",
    "main_roads",
    "population",
    "zoning",
    "landuse",
    "residential",
    "protected_areas",
    "flood_areas",
    "stadtteile",
    "bezirke",
    "bezirk_shares",
    "bezirk_indicators",
)


@dataclass(frozen=True)
class ScoringContext:
    """Data layers for scoring (all optional; EPSG:25832).

    Attributes
    ----------
    network
        Walking/driving network (:func:`handwerkgeo.network.prepare_network`).
    stops
        Public-transport stops with ``stop_category`` (:func:`sources.transit.read_vrr_stops`).
    cycling
        Cycling network lines.
    motorway_junctions
        Points of ``highway=motorway_junction``.
    main_roads
        Lines of roads suitable for heavy goods vehicles.
    population
        Stadtteile with a ``population`` column (polygons), or a table with
        ``stadtteil_code`` + ``population`` joined to ``stadtteile``.
    zoning
        Zoning polygons with ``zone_category`` / ``zone_source`` (B-Plan, FNP, …).
    landuse
        Actual land-use polygons with ``zone_category`` (ALKIS, OSM landuse).
    residential
        Residential zones or buildings for the noise buffer (default: from ``zoning``).
    protected_areas, flood_areas
        Polygons for the hard filters.
    stadtteile, bezirke
        Quarter boundaries with ``stadtteil_code`` / ``bezirk_code``.
    bezirk_shares
        Realnutzung shares per Bezirk (:func:`sources.statistics.realnutzung_shares`).
    bezirk_indicators
        Indicators per Bezirk incl. ``sgb2_share`` (:func:`sources.statistics.bezirk_indicators`).
    extra
        Further layers by name (e.g. ``schools`` with a ``form`` column), for the generic
        criteria of the configuration (``layer: NAME``).
    sources
        Provenance: ``{name, licence, attribution}`` per data layer used.
    """

    network: Network | None = None
    stops: gpd.GeoDataFrame | None = None
    cycling: gpd.GeoDataFrame | None = None
    motorway_junctions: gpd.GeoDataFrame | None = None
    main_roads: gpd.GeoDataFrame | None = None
    population: pd.DataFrame | None = None
    zoning: gpd.GeoDataFrame | None = None
    landuse: gpd.GeoDataFrame | None = None
    residential: gpd.GeoDataFrame | None = None
    protected_areas: gpd.GeoDataFrame | None = None
    flood_areas: gpd.GeoDataFrame | None = None
    stadtteile: gpd.GeoDataFrame | None = None
    bezirke: gpd.GeoDataFrame | None = None
    bezirk_shares: pd.DataFrame | None = None
    bezirk_indicators: pd.DataFrame | None = None
    extra: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    sources: tuple[dict[str, Any], ...] = ()

    def with_layers(self, **layers: Any) -> ScoringContext:
        """Return a copy with some layers added or replaced (e.g. ``zoning=bplan``).

        Names of :data:`LAYER_NAMES` replace those layers; any other name (letters, digits,
        underscores) adds a named layer to :attr:`extra`.
        """
        bad = sorted(k for k in layers if k not in LAYER_NAMES and not _NAME.match(k))
        if bad or "extra" in layers:
            msg = (
                f"context layer names {bad or ['extra']} are not allowed; use "
                f"{', '.join(LAYER_NAMES)} or a name of letters, digits and underscores"
            )
            raise ConfigError(msg)
        if "sources" in layers:
            layers["sources"] = tuple(layers["sources"])
        named = {k: v for k, v in layers.items() if k in {*LAYER_NAMES, "sources"}}
        extra = {k: v for k, v in layers.items() if k not in named}
        return dataclasses.replace(self, **named, extra={**self.extra, **extra})

    def layer(self, name: str) -> Any:
        """The layer called ``name`` (one of :data:`LAYER_NAMES` or of :attr:`extra`), or
        ``None`` when the context does not hold it."""
        if name in LAYER_NAMES:
            return getattr(self, name)
        return self.extra.get(name)

    def layer_counts(self) -> dict[str, int]:
        """Number of features (nodes for the network) of every layer present."""
        counts = {}
        for name in (*LAYER_NAMES, *self.extra):
            layer = self.layer(name)
            if layer is None:
                continue
            n_nodes = getattr(layer, "n_nodes", None)
            counts[name] = int(n_nodes) if n_nodes is not None else len(layer)
        return counts


def _try(name: str, load: Callable[[], Any]) -> Any:
    try:
        layer = load()
    except DataSourceError as exc:
        logger.warning("layer %s not available, criteria using it get no data: %s", name, exc)
        return None
    n = getattr(layer, "n_nodes", None)
    if n is None:
        n = len(layer)
    crs = getattr(layer, "crs", None)
    logger.info("context layer %s: %d feature(s)%s", name, n, f", {crs}" if crs else "")
    return layer


def _latest_population(pop: pd.DataFrame, stadtteile: gpd.GeoDataFrame | None) -> Any:
    if "year" in pop.columns:
        pop = pop[pop["year"] == pop["year"].max()]
    table = pop[["stadtteil_code", "population"]]
    if stadtteile is None:
        return table.reset_index(drop=True)
    return stadtteile[["stadtteil_code", "stadtteil_name", "geometry"]].merge(
        table, on="stadtteil_code", how="inner"
    )


def _read_main_roads(data_dir: str | os.PathLike[str] | None) -> gpd.GeoDataFrame:
    from handwerkgeo.sources import osm

    return osm.read_main_roads(data_dir=data_dir)


def load_context(
    data_dir: str | os.PathLike[str] | None = None, *, network: bool = True, cache: bool = True
) -> ScoringContext:
    """Build the scoring context from the fetched data (``handwerkgeo data fetch``).

    Reads the Stadtteile and Stadtbezirke, population per Stadtteil (latest year),
    Stadtbezirk profiles (Realnutzung shares and indicators), VRR stops with service level,
    the base cycling network, the whole-city OSM arterial roads as ``main_roads``
    (:func:`handwerkgeo.sources.osm.read_main_roads`), the school sites (named layer
    ``schools``, with the school form in ``form``) and — with ``network=True`` — the OSM
    street network of central Düsseldorf as walking network. A layer that has not been
    fetched is logged and left out; its criteria report "no data".

    Parameters
    ----------
    data_dir
        Data directory (default ``HANDWERKGEO_DATA_DIR`` or ``./data``).
    network
        Build the street network (a few seconds); ``False`` uses straight-line × circuity
        distances, flagged per plot.
    cache
        Use the prepared context in ``<data_dir>/processed`` (:mod:`handwerkgeo.prepared`;
        built and written when missing or stale, loaded in a fraction of a second after).
        ``False`` reads every source.

    Returns
    -------
    ScoringContext
    """
    if cache:
        from handwerkgeo.prepared import load_prepared

        return load_prepared(data_dir, network=network)
    from handwerkgeo.fetch import load_manifest
    from handwerkgeo.sources import cycling, quarters, schools, statistics, transit

    stadtteile = _try("stadtteile", lambda: quarters.read_stadtteile(data_dir=data_dir))
    bezirke = _try("bezirke", lambda: quarters.read_stadtbezirke(data_dir=data_dir))
    pop = _try(
        "population",
        lambda: _latest_population(
            statistics.read_stadtteil_population("migration", data_dir=data_dir), stadtteile
        ),
    )
    profiles = _try("bezirk_profiles", lambda: statistics.read_bezirk_profiles(data_dir=data_dir))
    shares = indicators = None
    if profiles is not None:
        shares = _try("bezirk_shares", lambda: statistics.realnutzung_shares(profiles))
        indicators = _try("bezirk_indicators", lambda: statistics.bezirk_indicators(profiles))
    stops = _try("stops", lambda: transit.read_vrr_stops(data_dir=data_dir))
    cyc = _try("cycling", lambda: cycling.read_cycling_network(data_dir=data_dir))
    roads = _try("main_roads", lambda: _read_main_roads(data_dir))
    sch = _try("schools", lambda: schools.read_schools(data_dir=data_dir, stadtteile=stadtteile))
    net = None
    if network:
        from handwerkgeo.network import prepare_network
        from handwerkgeo.sources import osm

        net = _try(
            "network",
            lambda: prepare_network(osm.graph_from_ways(osm.read_osm_ways(data_dir=data_dir))),
        )
    loaded = {
        "stadtteile": stadtteile is not None or bezirke is not None,
        "population_migration": pop is not None,
        "bezirk_profiles": profiles is not None,
        "vrr_stops": stops is not None,
        "vrr_lines": stops is not None and "stop_category" in stops.columns,
        "cycling_network": cyc is not None,
        "osm_main_roads_city": roads is not None,
        "schools": sch is not None,
        "osm_streets_central": net is not None,
    }
    used = [name for name, ok in loaded.items() if ok]
    manifest = load_manifest()
    sources = tuple(
        {
            "name": manifest.layers[name].title,
            "layer": name,
            "licence": manifest.layers[name].licence,
            "attribution": manifest.layers[name].attribution,
        }
        for name in used
        if name in manifest.layers
    )
    return ScoringContext(
        network=net,
        stops=stops,
        cycling=cyc,
        main_roads=roads,
        population=pop,
        stadtteile=stadtteile,
        bezirke=bezirke,
        bezirk_shares=shares,
        bezirk_indicators=indicators,
        extra={"schools": sch} if sch is not None else {},
        sources=sources,
    )


#: Context layers a planner can add from a file (``--layer KIND=PATH``), with what is read.
FILE_LAYERS: dict[str, str] = {
    "bplan": "Bebauungsplan zoning: XPlanGML 4.1/5.x/6.0, or GPKG/GeoJSON/SHP/GeoParquet in "
    "the XPlanung schema (sources.zoning.read_xplanung, plan='bplan')",
    "fnp": "Flächennutzungsplan: as bplan, plan='fnp' (used where no B-Plan covers a plot)",
    "zoning": "B-Plan or FNP, told apart by the XPlanung layer name (BP_… / FP_…)",
    "landuse": "actual land use: OSM landuse=* areas (.osm, .osm.pbf, or a file with a "
    "`landuse` column) or ALKIS Nutzung (a file with `nutzart`)",
    "motorway_junctions": "motorway junctions: .osm/.osm.pbf (nodes with "
    "highway=motorway_junction) or any point file",
    "main_roads": "roads for heavy goods vehicles: .osm/.osm.pbf (ways with highway=motorway … "
    "secondary and their _link ramps) or any line file",
    "residential": "residential zones or buildings (noise buffer): any polygon file",
    "protected_areas": "protected areas (hard filter): any polygon file",
    "flood_areas": "flood areas (hard filter): any polygon file",
}

_ANY_NAME = (
    "or any other NAME (letters, digits, underscores) for a layer that a generic criterion "
    "of the configuration reads with `layer: NAME` (any vector file)"
)

#: OSM files, read by tag (:func:`handwerkgeo.sources.osm.read_osm_features`).
_OSM_SUFFIXES = (".osm", ".pbf")


def _allowed_kinds() -> str:
    return "; ".join(f"{k}: {v}" for k, v in FILE_LAYERS.items()) + "; " + _ANY_NAME


def _read_landuse(p: Any, *, osm_file: bool, crs: object | None) -> gpd.GeoDataFrame:
    from handwerkgeo.sources import osm, vector, zoning

    if osm_file:
        return zoning.read_osm_landuse(osm.read_osm_features(p, kind="landuse"))
    fields = {str(c).lower() for c in vector.read_vector(p, what="landuse layer").columns}
    if "nutzart" in fields:
        return zoning.read_alkis_nutzung(p, crs=crs)
    if "landuse" in fields:
        return zoning.read_osm_landuse(p, crs=crs)
    msg = (
        f"context layer landuse: {p.name} has neither a `landuse` (OSM) nor a `nutzart` "
        f"(ALKIS) column; its columns are {sorted(fields - {'geometry'})}"
    )
    raise MissingColumnError(msg)


def _default_crs(kind: str, p: Any, crs: object | None) -> object | None:
    """``crs`` for a file that declares no CRS; ``None`` where the file's own CRS wins."""
    from handwerkgeo.crs_names import resolve_crs
    from handwerkgeo.sources.vector import file_crs

    own = file_crs(p)
    if own is None or crs is None:
        return crs
    given = resolve_crs(crs) if isinstance(crs, str | int) else crs
    if own != given:
        logger.warning(
            "context layer %s: %s declares its CRS %s; the CRS %s given for files without "
            "one is not used",
            kind,
            p.name,
            own.to_string(),
            crs,
        )
    return None


def _read_layer_file(kind: str, p: Any, crs: object | None) -> gpd.GeoDataFrame:
    from handwerkgeo.crs import to_canonical
    from handwerkgeo.sources import osm, vector, zoning

    osm_file = p.name.lower().endswith(_OSM_SUFFIXES)
    if kind in ("bplan", "fnp"):
        return zoning.read_xplanung(p, plan=kind, crs=crs)  # type: ignore[arg-type]
    if kind == "zoning":
        return zoning.read_xplanung(p, crs=crs)
    if kind == "landuse":
        return _read_landuse(p, osm_file=osm_file, crs=crs)
    if osm_file and kind in ("motorway_junctions", "main_roads"):
        return osm.read_osm_features(p, kind=kind)  # type: ignore[arg-type]
    if osm_file:
        msg = (
            f"context layer {kind}: {p.name} is an OSM file; handwerkgeo reads OSM files for "
            "motorway_junctions, main_roads and landuse only. Export the features you need "
            "to GeoPackage or GeoJSON."
        )
        raise ConfigError(msg)
    raw = vector.read_vector(p, what=f"context layer {kind}")
    return to_canonical(raw, crs=crs, name=f"{kind} layer {p.name}")


def read_context_layer(
    kind: str, path: str | os.PathLike[str], *, crs: object | None = None
) -> gpd.GeoDataFrame:
    """Read one optional context layer from a file, in EPSG:25832.

    Parameters
    ----------
    kind
        One of :data:`FILE_LAYERS` (``zoning``, ``landuse``, ``motorway_junctions``,
        ``main_roads``, ``residential``, ``protected_areas``, ``flood_areas``), or any other
        name (letters, digits, underscores): a named layer for the generic criteria of the
        configuration, read as it is from any vector file.
    path
        The file. OpenStreetMap files (``.osm`` XML, ``.osm.pbf``) are read by tag
        (:func:`handwerkgeo.sources.osm.read_osm_features`). Nothing is written beside it.
    crs
        CRS of a file that declares none, in any spelling of
        :func:`handwerkgeo.crs_names.resolve_crs`. A file's own CRS (also a GML
        ``srsName`` such as ``urn:adv:crs:ETRS89_UTM32``) always wins.

    Raises
    ------
    HandwerkgeoError
        For a name that is not a layer name (the message lists the allowed kinds), a
        missing file (:class:`~handwerkgeo.errors.DataSourceError`), a file without CRS,
        a landuse file without a ``landuse``/``nutzart`` column, an OSM file without a
        feature of the kind, or geometries that are not finite or all lie outside
        Düsseldorf after reprojection.
    """
    from pathlib import Path

    if kind not in FILE_LAYERS and not _NAME.match(kind):
        msg = f"unknown context layer {kind!r}; allowed: {_allowed_kinds()}"
        raise ConfigError(msg)
    p = Path(path)
    if not p.exists():
        msg = f"context layer {kind}: file {p} does not exist"
        if kind not in FILE_LAYERS:
            msg += f" (is {kind!r} meant as a layer kind? allowed: {_allowed_kinds()})"
        raise DataSourceError(msg)
    crs = _default_crs(kind, p, crs) if p.is_file() else crs
    layer = _read_layer_file(kind, p, crs)
    from handwerkgeo.crs import raise_if_unusable

    raise_if_unusable(layer.geometry, name=f"context layer {kind} ({p.name})")
    return layer


def split_layer_path(value: Any) -> tuple[str, object | None]:
    """``(path, crs)`` of a layer file given as ``PATH``, ``PATH@CRS`` or ``(path, crs)``.

    The part after the last ``@`` is a CRS (any spelling of
    :func:`handwerkgeo.crs_names.resolve_crs`) unless the whole text names an existing file.

    Examples
    --------
    >>> split_layer_path("plan.csv@EPSG:25832")
    ('plan.csv', 'EPSG:25832')
    >>> split_layer_path("roads.gml@urn:adv:crs:ETRS89_UTM32")
    ('roads.gml', 'urn:adv:crs:ETRS89_UTM32')
    >>> split_layer_path("kitas.geojson")
    ('kitas.geojson', None)
    """
    from pathlib import Path

    from handwerkgeo.crs_names import resolve_crs

    if isinstance(value, tuple):
        path, crs = value
        return str(path), crs
    text = str(value)
    head, sep, tail = text.rpartition("@")
    if not sep or not head or Path(text).exists():
        return text, None
    tail = tail.strip()
    resolve_crs(tail)  # raises NoCrsError naming the accepted spellings
    return head.strip(), tail


def add_layer_files(
    context: ScoringContext,
    layers: Mapping[str, Any],
    *,
    crs: object = None,
) -> ScoringContext:
    """Return ``context`` with layers read from files (``{kind_or_name: path}``) added.

    Known kinds (:data:`FILE_LAYERS`) replace those layers (B-Plan, FNP and zoning files
    are merged into one zoning layer, B-Plan first); any other name becomes a named layer
    of :attr:`ScoringContext.extra`. A path may carry the CRS of a file that declares none
    as ``PATH@CRS`` (or be a ``(path, crs)`` pair); ``crs`` is the default for files
    without a CRS and an own suffix. A file's own CRS always wins. Each file is recorded
    in ``sources`` (name, path; licence "as given by the user"), so that outputs state
    which data were used.

    Examples
    --------
    >>> import geopandas as gpd, tempfile, pathlib
    >>> from shapely.geometry import Point
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "kitas.geojson"
    >>> gpd.GeoDataFrame(geometry=[Point(344_000, 5_677_000)], crs="EPSG:25832").to_file(path)
    >>> ctx = add_layer_files(ScoringContext(), {"kitas": path})
    >>> len(ctx.layer("kitas")), ctx.sources[0]["name"]
    (1, 'kitas: kitas.geojson')
    """
    from pathlib import Path

    if not layers:
        return context
    files = {kind: split_layer_path(value) for kind, value in layers.items()}
    read = {
        kind: read_context_layer(kind, path, crs=own if own is not None else crs)
        for kind, (path, own) in files.items()
    }
    for kind, layer in read.items():
        logger.info("context layer %s from %s: %d features", kind, files[kind][0], len(layer))
    plans = [read.pop(k) for k in ("bplan", "zoning", "fnp") if k in read]
    if plans:
        # B-Plan before FNP: where both cover a plot with the same overlap, the B-Plan wins
        read["zoning"] = gpd.GeoDataFrame(pd.concat(plans, ignore_index=True), crs=plans[0].crs)
    sources = [
        *context.sources,
        *(
            {
                "name": f"{kind}: {Path(path).name}",
                "licence": "as given by the user",
                "attribution": "© OpenStreetMap contributors"
                if path.lower().endswith(_OSM_SUFFIXES)
                else "",
            }
            for kind, (path, _) in files.items()
        ),
    ]
    return context.with_layers(**read, sources=sources)


def parse_layer_options(options: list[str] | None) -> dict[str, str]:
    """Parse command-line ``KIND=PATH[@CRS]`` options into ``{kind: path}``.

    ``KIND`` is one of :data:`FILE_LAYERS` or the name of a layer that a generic
    criterion of the configuration reads (``layer: NAME``). ``@CRS`` gives the CRS of a
    file that declares none (any spelling of :func:`handwerkgeo.crs_names.resolve_crs`); it
    is checked here and stays in the value (see :func:`split_layer_path`).

    Examples
    --------
    >>> parse_layer_options(["bplan=plan.gpkg", "kitas = kitas.geojson"])
    {'bplan': 'plan.gpkg', 'kitas': 'kitas.geojson'}
    >>> parse_layer_options(["kitas=kitas.csv@25832"])
    {'kitas': 'kitas.csv@25832'}
    """
    out: dict[str, str] = {}
    for opt in options or []:
        kind, sep, path = opt.partition("=")
        kind, path = kind.strip(), path.strip()
        if not sep or not kind or not path:
            msg = (
                f"--layer expects KIND=PATH or KIND=PATH@CRS (e.g. bplan=bplan.gpkg, "
                f"kitas=kitas.csv@EPSG:25832), got {opt!r}"
            )
            raise ConfigError(msg)
        if kind not in FILE_LAYERS and not _NAME.match(kind):
            msg = f"--layer {opt!r}: {kind!r} is not a layer name; allowed: {_allowed_kinds()}"
            raise ConfigError(msg)
        try:
            split_layer_path(path)
        except HandwerkgeoError as exc:
            msg = f"--layer {opt!r}: {exc}"
            raise ConfigError(msg) from exc
        out[kind] = path
    return out
