"""The scoring context: every data layer the criteria may use, all optional.

A :class:`ScoringContext` is a frozen bag of layers in EPSG:25832. Criteria whose layer is
missing are reported as "no data" by :func:`handwerkgeo.scoring.compute_raw` rather than
failing. :func:`load_context` builds it from the files fetched with
``handwerkgeo data fetch``; layers the toolkit cannot get offline (drive network with
motorway junctions, main roads, zoning plans, land use, protected and flood areas) can be
added with :meth:`ScoringContext.with_layers`.

Examples
--------
>>> ctx = ScoringContext()
>>> ctx.layer_counts()
{}
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from handwerkgeo.errors import DataSourceError

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
]

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
    sources: tuple[dict[str, Any], ...] = ()

    def with_layers(self, **layers: Any) -> ScoringContext:
        """Return a copy with some layers added or replaced (e.g. ``zoning=bplan``)."""
        unknown = sorted(set(layers) - {*LAYER_NAMES, "sources"})
        if unknown:
            msg = f"unknown context layers {unknown}; allowed: {', '.join(LAYER_NAMES)}"
            raise ValueError(msg)
        if "sources" in layers:
            layers["sources"] = tuple(layers["sources"])
        return dataclasses.replace(self, **layers)

    def layer_counts(self) -> dict[str, int]:
        """Number of features (nodes for the network) of every layer present."""
        counts = {}
        for name in LAYER_NAMES:
            layer = getattr(self, name)
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


def load_context(
    data_dir: str | os.PathLike[str] | None = None, *, network: bool = True
) -> ScoringContext:
    """Build the scoring context from the fetched data (``handwerkgeo data fetch``).

    Reads the Stadtteile and Stadtbezirke, population per Stadtteil (latest year),
    Stadtbezirk profiles (Realnutzung shares and indicators), VRR stops with service level,
    the base cycling network and — with ``network=True`` — the OSM street network of central
    Düsseldorf as walking network. A layer that has not been fetched is logged and left
    out; its criteria report "no data".

    Parameters
    ----------
    data_dir
        Data directory (default ``HANDWERKGEO_DATA_DIR`` or ``./data``).
    network
        Build the street network (a few seconds); ``False`` uses straight-line × circuity
        distances, flagged per plot.

    Returns
    -------
    ScoringContext
    """
    from handwerkgeo.fetch import load_manifest
    from handwerkgeo.sources import cycling, quarters, statistics, transit

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
        population=pop,
        stadtteile=stadtteile,
        bezirke=bezirke,
        bezirk_shares=shares,
        bezirk_indicators=indicators,
        sources=sources,
    )


#: Context layers a planner can add from a file (``--layer KIND=PATH``), with what is read.
FILE_LAYERS: dict[str, str] = {
    "bplan": "Bebauungsplan zoning: XPlanGML, or GPKG/GeoJSON/SHP/GeoParquet in the XPlanung "
    "schema (sources.zoning.read_xplanung, plan='bplan')",
    "fnp": "Flächennutzungsplan: as bplan, plan='fnp' (used where no B-Plan covers a plot)",
    "zoning": "B-Plan or FNP, told apart by the XPlanung layer name (BP_… / FP_…)",
    "landuse": "actual land use: OSM landuse (.osm.pbf, or a file with a `landuse` column) or "
    "ALKIS Nutzung (a file with `nutzart`)",
    "motorway_junctions": "motorway junctions: .osm.pbf (highway=motorway_junction) or any "
    "point file",
    "main_roads": "roads for heavy goods vehicles: .osm.pbf (motorway … secondary) or any "
    "line file",
    "residential": "residential zones or buildings (noise buffer): any polygon file",
    "protected_areas": "protected areas (hard filter): any polygon file",
    "flood_areas": "flood areas (hard filter): any polygon file",
}


def read_context_layer(
    kind: str, path: str | os.PathLike[str], *, crs: object | None = None
) -> gpd.GeoDataFrame:
    """Read one optional context layer from a file, in EPSG:25832.

    Parameters
    ----------
    kind
        One of :data:`FILE_LAYERS` (``zoning``, ``landuse``, ``motorway_junctions``,
        ``main_roads``, ``residential``, ``protected_areas``, ``flood_areas``).
    path
        The file. OpenStreetMap extracts (``.osm.pbf``) are read with pyrosm.
    crs
        CRS of a file that has none (see :func:`handwerkgeo.crs.to_canonical`).

    Raises
    ------
    HandwerkgeoError
        For an unknown ``kind`` (the message lists the allowed ones), a missing file, a
        file without CRS, or a landuse file without a ``landuse``/``nutzart`` column.
    """
    from pathlib import Path

    import pyogrio

    from handwerkgeo.crs import to_canonical
    from handwerkgeo.errors import HandwerkgeoError, MissingColumnError
    from handwerkgeo.sources import osm, zoning

    if kind not in FILE_LAYERS:
        allowed = "; ".join(f"{k}: {v}" for k, v in FILE_LAYERS.items())
        msg = f"unknown context layer {kind!r}; allowed: {allowed}"
        raise HandwerkgeoError(msg)
    p = Path(path)
    if not p.exists():
        msg = f"context layer {kind}: file {p} does not exist"
        raise DataSourceError(msg)
    pbf = p.name.lower().endswith(".pbf")
    if kind in ("bplan", "fnp"):
        return zoning.read_xplanung(p, plan=kind, crs=crs)  # type: ignore[arg-type]
    if kind == "zoning":
        return zoning.read_xplanung(p, crs=crs)
    if kind == "landuse":
        if pbf:
            return zoning.read_osm_landuse(osm.read_pbf_features(p, kind="landuse"))
        fields = {str(f).lower() for f in pyogrio.read_info(p)["fields"]}
        if "nutzart" in fields:
            return zoning.read_alkis_nutzung(p, crs=crs)
        if "landuse" in fields:
            return zoning.read_osm_landuse(p, crs=crs)
        msg = (
            f"context layer landuse: {p.name} has neither a `landuse` (OSM) nor a `nutzart` "
            f"(ALKIS) column; its columns are {sorted(fields)}"
        )
        raise MissingColumnError(msg)
    if pbf and kind in ("motorway_junctions", "main_roads"):
        return osm.read_pbf_features(p, kind=kind)  # type: ignore[arg-type]
    return to_canonical(gpd.read_file(p), crs=crs, name=f"{kind} layer {p.name}")


def add_layer_files(
    context: ScoringContext,
    layers: Mapping[str, str | os.PathLike[str]],
    *,
    crs: object = None,
) -> ScoringContext:
    """Return ``context`` with layers read from files (``{kind: path}``) added or replaced.

    Each file is recorded in ``sources`` (name, path; licence "as given by the user"), so
    that outputs state which data were used.
    """
    from pathlib import Path

    if not layers:
        return context
    read = {kind: read_context_layer(kind, path, crs=crs) for kind, path in layers.items()}
    for kind, layer in read.items():
        logger.info("context layer %s from %s: %d features", kind, layers[kind], len(layer))
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
                if str(path).lower().endswith(".pbf")
                else "",
            }
            for kind, path in layers.items()
        ),
    ]
    return context.with_layers(**read, sources=sources)


def parse_layer_options(options: list[str] | None) -> dict[str, str]:
    """Parse command-line ``KIND=PATH`` options into ``{kind: path}``."""
    from handwerkgeo.errors import HandwerkgeoError

    out: dict[str, str] = {}
    for opt in options or []:
        kind, sep, path = opt.partition("=")
        if not sep or not kind or not path:
            msg = f"--layer expects KIND=PATH (e.g. bplan=bplan.gpkg), got {opt!r}"
            raise HandwerkgeoError(msg)
        out[kind.strip()] = path.strip()
    return out
