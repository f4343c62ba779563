"""City-wide site search: candidate cells, a suitability surface and merged candidate sites.

The search lays a grid of square or hexagonal cells over the city, a Stadtbezirk or a
Stadtteil, scores every cell with the same engine as listed plots
(:func:`handwerkgeo.scoring.score_plots`) and merges adjacent high-scoring cells into
candidate sites of at least the minimum plot area.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, NamedTuple, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from handwerkgeo._regions import split_region
from handwerkgeo.crs import CRS, check_crs
from handwerkgeo.errors import ConfigError, DataSourceError
from handwerkgeo.messages import message

if TYPE_CHECKING:
    from typing import Unpack

    from handwerkgeo.config import ScoringConfig
    from handwerkgeo.context import ScoringContext

__all__ = [
    "SearchKwargs",
    "SearchOptions",
    "SearchResult",
    "candidate_cells",
    "candidate_sites",
    "criteria_without_data",
    "merge_cells",
    "search_area",
    "site_search",
]

logger = logging.getLogger(__name__)

CellShape = Literal["square", "hex"]


class SearchResult(NamedTuple):
    """Result of :func:`site_search`."""

    #: every scored cell (the suitability surface), a scored frame as in docs/design.md
    surface: gpd.GeoDataFrame
    #: merged candidate sites (each at most the maximum site area), best first
    sites: gpd.GeoDataFrame
    #: the score a cell needed to be part of a site
    threshold: float
    #: human-readable name of the searched area
    area_label: str
    #: merged regions larger than the maximum site area, split into the sites above
    search_areas: gpd.GeoDataFrame | None = None
    #: the maximum site area in m² (``None``: no limit)
    max_site_m2: float | None = None


def search_area(
    stadtteile: gpd.GeoDataFrame,
    *,
    bezirk: str | int | None = None,
    stadtteil: str | int | None = None,
    lang: str = "de",
) -> tuple[shapely.Geometry, str]:
    """Return the search polygon and a label: the city, one Stadtbezirk or one Stadtteil.

    Parameters
    ----------
    stadtteile
        Stadtteile as returned by :func:`handwerkgeo.sources.quarters.read_stadtteile`.
    bezirk
        Stadtbezirk number (``3``, ``"3"`` or ``"03"``).
    stadtteil
        Stadtteil code (``"021"``, ``21``) or name (``"Flingern-Süd"``; compared ignoring
        case, spaces, hyphens and umlaut spelling, so ``"flingern sued"`` matches too).
    lang
        Language of the label (:func:`handwerkgeo.messages.message`, codes
        ``search_area_*``).

    Raises
    ------
    ConfigError
        If both are given, or the Bezirk or Stadtteil does not exist; the message lists
        the valid values.
    """
    check_crs(stadtteile, name="stadtteile")
    if bezirk is not None and stadtteil is not None:
        msg = "give either bezirk or stadtteil, not both"
        raise ConfigError(msg)
    if bezirk is not None:
        code = f"{int(str(bezirk)):02d}" if str(bezirk).strip().isdigit() else str(bezirk)
        sel = stadtteile[stadtteile["bezirk_code"] == code]
        if sel.empty:
            valid = ", ".join(sorted(stadtteile["bezirk_code"].unique()))
            msg = f"Stadtbezirk {bezirk!r} does not exist; valid numbers: {valid}"
            raise ConfigError(msg)
        label = message("search_area_bezirk", lang, number=int(code))
        return shapely.union_all(sel.geometry.to_numpy()), label
    if stadtteil is not None:
        s = str(stadtteil).strip()
        if s.isdigit():
            sel = stadtteile[stadtteile["stadtteil_code"] == f"{int(s):03d}"]
        else:
            from handwerkgeo.sources.quarters import normalise_name

            wanted = normalise_name(s)
            sel = stadtteile[stadtteile["stadtteil_name"].map(normalise_name) == wanted]
        if sel.empty:
            valid = ", ".join(
                f"{c} {n}"
                for c, n in sorted(
                    zip(stadtteile["stadtteil_code"], stadtteile["stadtteil_name"], strict=True)
                )
            )
            msg = f"Stadtteil {stadtteil!r} does not exist; valid codes and names: {valid}"
            raise ConfigError(msg)
        row = sel.iloc[0]
        label = message(
            "search_area_stadtteil", lang, name=row["stadtteil_name"], number=row["stadtteil_code"]
        )
        return row.geometry, label
    return shapely.union_all(stadtteile.geometry.to_numpy()), message("search_area_city", lang)


def _square_grid(bounds: tuple[float, ...], cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = bounds
    x0 = math.floor(minx / cell_m) * cell_m
    y0 = math.floor(miny / cell_m) * cell_m
    nx = math.ceil((maxx - x0) / cell_m)
    ny = math.ceil((maxy - y0) / cell_m)
    col_grid, row_grid = np.meshgrid(np.arange(nx), np.arange(ny))
    col, row = col_grid.ravel(), row_grid.ravel()
    # Every edge coordinate from its own grid line index, so that neighbours share it exactly.
    xs, ys = x0 + col * cell_m, y0 + row * cell_m
    geoms = shapely.box(xs, ys, x0 + (col + 1) * cell_m, y0 + (row + 1) * cell_m)
    return geoms, np.column_stack([col, row])


def _hex_grid(bounds: tuple[float, ...], cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    # Pointy-top hexagons with the same area as a square cell of side cell_m.
    side = math.sqrt(2 * cell_m**2 / (3 * math.sqrt(3)))
    w, h = math.sqrt(3) * side, 1.5 * side
    minx, miny, maxx, maxy = bounds
    x0 = math.floor(minx / w) * w
    y0 = math.floor(miny / h) * h
    nx = math.ceil((maxx - x0) / w) + 1
    ny = math.ceil((maxy - y0) / h) + 1
    col_grid, row_grid = np.meshgrid(np.arange(nx), np.arange(ny))
    col, row = col_grid.ravel(), row_grid.ravel()
    # Vertices on a lattice of half widths and half sides (integer indices), so that
    # neighbouring hexagons share their vertices exactly and their edges intersect.
    ix = 2 * col + (row % 2)
    iy = 3 * row
    # vertices at 30°, 90°, …, 330° around the centre, in lattice steps
    dx = np.array([1, 0, -1, -1, 0, 1])
    dy = np.array([1, 2, 1, -1, -2, -1])
    ring_x = x0 + (ix[:, None] + dx[None, :]) * (w / 2)
    ring_y = y0 + (iy[:, None] + dy[None, :]) * (side / 2)
    coords = np.stack([ring_x, ring_y], axis=-1)
    geoms = shapely.polygons(coords)
    return geoms, np.column_stack([col, row])


def candidate_cells(
    area: shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    cell_m: float = 100.0,
    shape: CellShape = "square",
    clip: bool = True,
    min_cell_share: float = 0.25,
) -> gpd.GeoDataFrame:
    """Lay square or hexagonal candidate cells over an area.

    Parameters
    ----------
    area
        Search area in EPSG:25832 (a polygon, or a frame whose geometries are unioned).
    cell_m
        Cell size in metres: the side of a square; hexagons get the same area.
    shape
        ``"square"`` or ``"hex"``.
    clip
        Clip cells to the area so that ``area_m2`` is the usable area inside it.
    min_cell_share
        Cells with less than this share of a full cell inside the area are dropped (slivers
        along the boundary, not candidate plots).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``plot_id`` (``"Z-<col>-<row>"``), ``grid_col``, ``grid_row``, ``area_m2``,
        ``is_point`` (False), geometry; in EPSG:25832.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = candidate_cells(box(343_000, 5_677_000, 343_500, 5_677_300), cell_m=100)
    >>> len(cells), round(cells.area_m2.sum())
    (15, 150000)
    """
    if cell_m <= 0:
        msg = f"cell_m must be positive, got {cell_m}"
        raise ConfigError(msg)
    if shape not in ("square", "hex"):
        msg = f"shape must be 'square' or 'hex', got {shape!r}"
        raise ConfigError(msg)
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        check_crs(area, name="search area")
        area_geom = shapely.union_all(area.geometry.to_numpy())
    else:
        area_geom = area
    grid = _square_grid if shape == "square" else _hex_grid
    geoms, idx = grid(area_geom.bounds, cell_m)
    shapely.prepare(area_geom)
    hit = shapely.intersects(area_geom, geoms)
    geoms, idx = geoms[hit], idx[hit]
    full = shapely.area(geoms)
    if clip:
        inside = shapely.contains_properly(area_geom, geoms)
        clipped = geoms.copy()
        clipped[~inside] = shapely.intersection(geoms[~inside], area_geom)
        geoms = clipped
    areas = shapely.area(geoms)
    keep = areas >= min_cell_share * full
    geoms, idx, areas = geoms[keep], idx[keep], areas[keep]
    cells = gpd.GeoDataFrame(
        {
            "plot_id": [f"Z-{c}-{r}" for c, r in idx],
            "grid_col": idx[:, 0].astype(np.int32),
            "grid_row": idx[:, 1].astype(np.int32),
            "area_m2": areas,
            "is_point": False,
        },
        geometry=geoms,
        crs=CRS,
    )
    cells.attrs["cell_m"] = cell_m
    cells.attrs["cell_shape"] = shape
    cells.attrs["carried"] = []  # grid cells carry no planner's columns to show on cards
    logger.info("candidate cells: %d %s cells of %g m", len(cells), shape, cell_m)
    return cells


def _adjacency(cells: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of cells that share an edge (not only a corner)."""
    tree = shapely.STRtree(cells.geometry.to_numpy())
    left, right = tree.query(cells.geometry.to_numpy(), predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(cells.geometry.to_numpy()[left], cells.geometry.to_numpy()[right])
    )
    edge = shared > 1e-6
    return left[edge], right[edge]


_SITE_COLS = ["site_id", "n_cells", "area_m2", "score_mean", "score_max", "cell_ids"]
_AREA_COLS = ["search_area_id", "n_cells", "area_m2", "score_mean", "score_max", "n_sites"]


def _aggregate(good: gpd.GeoDataFrame, labels: np.ndarray) -> gpd.GeoDataFrame:
    """One row per label: cells, area, area-weighted mean score, best score, geometry."""
    area = shapely.area(good.geometry.to_numpy())
    frame = pd.DataFrame(
        {
            "label": labels,
            "area": area,
            "wscore": good["score_total"].to_numpy() * area,
            "score": good["score_total"].to_numpy(),
            "plot_id": good["plot_id"].astype(str).to_numpy(),
        }
    )
    agg = frame.groupby("label").agg(
        n_cells=("area", "size"),
        area_m2=("area", "sum"),
        wscore=("wscore", "sum"),
        score_max=("score", "max"),
        cell_ids=("plot_id", lambda s: ",".join(sorted(s))),
    )
    agg["score_mean"] = agg["wscore"] / agg["area_m2"]
    geoms = [
        shapely.union_all(good.geometry.to_numpy()[labels == lab], grid_size=0.01)
        for lab in agg.index
    ]
    return gpd.GeoDataFrame(agg.drop(columns="wscore"), geometry=geoms, crs=CRS)


def _best_first(frame: gpd.GeoDataFrame, id_col: str, prefix: str) -> gpd.GeoDataFrame:
    frame = frame.sort_values(["score_mean", "area_m2"], ascending=[False, False])
    frame = frame.reset_index(drop=True)
    frame.insert(0, id_col, [f"{prefix}-{i + 1:03d}" for i in range(len(frame))])
    return frame


def candidate_sites(
    surface: gpd.GeoDataFrame,
    *,
    threshold: float,
    min_area_m2: float,
    max_area_m2: float | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Merge adjacent cells scoring at least ``threshold`` into candidate sites.

    A merged region larger than ``max_area_m2`` is not a site a Handwerkerhof could be
    built on: it is kept as a *search area* and split into contiguous candidate sites of at
    most ``max_area_m2`` each (recursive bisection on the cell centroids, see
    :func:`handwerkgeo._regions.split_region`). Every site of a split region names its search area.

    Parameters
    ----------
    surface
        Scored cells (``plot_id``, ``score_total``, ``excluded``, geometry).
    threshold
        Minimum ``score_total`` of a cell to be part of a site.
    min_area_m2
        Sites smaller than this (e.g. the minimum plot area of the config) are dropped.
    max_area_m2
        Largest area of a site; ``None`` merges without limit. A single cell larger than
        this is reported as a search area only (use smaller cells).

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        ``(sites, search_areas)``, both best first. Sites: ``site_id`` (``S-001`` …),
        ``n_cells``, ``area_m2``, ``score_mean`` (area-weighted), ``score_max``,
        ``cell_ids`` (comma-separated), ``search_area_id`` (empty unless split from a
        search area). Search areas: ``search_area_id`` (``SG-001`` …), ``n_cells``,
        ``area_m2``, ``score_mean``, ``score_max``, ``n_sites``.
    """
    check_crs(surface, name="surface")
    if max_area_m2 is not None and max_area_m2 <= 0:
        msg = f"the maximum site area must be positive, got {max_area_m2} m²"
        raise ConfigError(msg)
    good = surface[(~surface["excluded"]) & (surface["score_total"] >= threshold)]
    site_cols, area_cols = [*_SITE_COLS, "search_area_id"], _AREA_COLS
    search = {"threshold": float(threshold), "max_site_m2": max_area_m2}
    if good.empty:
        empty = gpd.GeoDataFrame({c: [] for c in site_cols}, geometry=[], crs=CRS)
        empty.attrs["search"] = search
        return empty, gpd.GeoDataFrame({c: [] for c in area_cols}, geometry=[], crs=CRS)
    good = good.reset_index(drop=True)
    left, right = _adjacency(good)
    n = len(good)
    adj = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n)).tocsr()
    _, regions = connected_components(adj, directed=False)
    area = shapely.area(good.geometry.to_numpy())
    limit = math.inf if max_area_m2 is None else float(max_area_m2)
    region_area = np.bincount(regions, weights=area)
    xy = shapely.get_coordinates(shapely.centroid(good.geometry.to_numpy()))
    parts = np.empty(n, dtype=np.int64)  # the site each cell belongs to
    label = 0
    for reg in range(len(region_area)):
        cells = np.flatnonzero(regions == reg)
        split = [cells] if region_area[reg] <= limit else split_region(cells, xy, area, adj, limit)
        for part in split:
            parts[part] = label
            label += 1
    sites = _aggregate(good, parts)
    first = pd.Series(regions).groupby(parts).first()
    sites["region"] = first.reindex(sites.index).to_numpy()
    keep = (sites["area_m2"] >= min_area_m2) & (sites["area_m2"] <= limit)
    sites = _best_first(sites[keep], "site_id", "S")
    big = region_area[regions] > limit
    areas = _aggregate(good[big], regions[big]) if big.any() else sites.iloc[:0].copy()
    areas["n_sites"] = [int((sites["region"] == r).sum()) for r in areas.index]
    areas["region"] = areas.index
    areas = _best_first(areas, "search_area_id", "SG")
    area_of = dict(zip(areas["region"], areas["search_area_id"], strict=True))
    sites["search_area_id"] = [area_of.get(r, "") for r in sites["region"]]
    sites.attrs["search"] = search
    return sites[[*site_cols, "geometry"]], areas[[*area_cols, "geometry"]]


def merge_cells(
    surface: gpd.GeoDataFrame,
    *,
    threshold: float,
    min_area_m2: float,
    max_area_m2: float | None = None,
) -> gpd.GeoDataFrame:
    """The candidate sites of :func:`candidate_sites` (without the search areas)."""
    return candidate_sites(
        surface, threshold=threshold, min_area_m2=min_area_m2, max_area_m2=max_area_m2
    )[0]


def criteria_without_data(scored: pd.DataFrame, *, lang: str = "de") -> list[str]:
    """Labels of the criteria that had no data for any plot or cell of ``scored``.

    Used to state on maps and in reports what a suitability surface does *not* rate.
    """
    info = scored.attrs.get("run", {}).get("criteria", {})
    key = "label_de" if lang == "de" else "label_en"
    out = []
    for col in scored.columns:
        if col.startswith("raw_") and scored[col].isna().all():
            name = col.removeprefix("raw_")
            out.append(str(info.get(name, {}).get(key, name)))
    return out


@dataclass(frozen=True)
class SearchOptions:
    """Where and how :func:`site_search` searches (all optional; keywords work, too).

    Attributes
    ----------
    bezirk, stadtteil
        Restrict the search to one Stadtbezirk or Stadtteil (see :func:`search_area`).
    area
        An explicit search polygon in EPSG:25832 (overrides bezirk/stadtteil).
    cell_m, shape
        Cell size in metres and cell shape (``"square"`` or ``"hex"``).
    threshold
        Minimum score of a cell to be part of a candidate site; ``None`` takes the
        ``quantile`` of the non-excluded cells' scores.
    quantile
        See ``threshold``.
    max_site_ha
        Largest candidate site in hectares (default 5 ha); a merged region above it is
        reported as a search area and split into contiguous sites of at most this size
        (:func:`candidate_sites`). ``None`` merges without limit.
    lang
        Language of the area label.
    """

    bezirk: str | int | None = None
    stadtteil: str | int | None = None
    area: shapely.Geometry | None = None
    cell_m: float = 100.0
    shape: CellShape = "square"
    threshold: float | None = None
    quantile: float = 0.95
    max_site_ha: float | None = 5.0
    lang: str = "de"


class SearchKwargs(TypedDict, total=False):
    """:class:`SearchOptions` as keyword arguments of :func:`site_search`."""

    bezirk: str | int | None
    stadtteil: str | int | None
    area: shapely.Geometry | None
    cell_m: float
    shape: CellShape
    threshold: float | None
    quantile: float
    max_site_ha: float | None
    lang: str


def _area_and_label(context: ScoringContext, opts: SearchOptions) -> tuple[shapely.Geometry, str]:
    if opts.area is not None:
        return opts.area, message("search_area_custom", opts.lang)
    if context.stadtteile is None:
        msg = "the search needs the Stadtteile layer (run `handwerkgeo data fetch`)"
        raise DataSourceError(msg)
    return search_area(
        context.stadtteile, bezirk=opts.bezirk, stadtteil=opts.stadtteil, lang=opts.lang
    )


def _with_stadtteil(
    frame: gpd.GeoDataFrame, stadtteile: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """``frame`` with the name of the Stadtteil its representative point lies in."""
    if stadtteile is None or frame.empty:
        return frame
    reps = gpd.GeoDataFrame(geometry=frame.geometry.representative_point(), crs=CRS)
    joined = (
        gpd.sjoin(reps, stadtteile[["stadtteil_name", "geometry"]], how="left")
        .groupby(level=0)["stadtteil_name"]
        .first()
    )
    frame = frame.copy()
    frame.insert(1, "stadtteil_name", joined.reindex(frame.index).to_numpy())
    return frame


def site_search(
    options: SearchOptions | None = None,
    *,
    context: ScoringContext | None = None,
    config: ScoringConfig | None = None,
    data_dir: str | None = None,
    **kwargs: Unpack[SearchKwargs],
) -> SearchResult:
    """Score candidate cells over the city (or a Bezirk/Stadtteil) and merge candidate sites.

    Parameters
    ----------
    options
        :class:`SearchOptions`; keywords (``bezirk=``, ``stadtteil=``, ``area=``,
        ``cell_m=``, ``shape=``, ``threshold=``, ``quantile=``, ``max_site_ha=``,
        ``lang=``) replace single fields.
    context
        Loaded data layers; ``None`` loads them from ``data_dir``
        (:func:`handwerkgeo.context.load_context`).
    config
        Scoring configuration; ``None`` is the packaged default.
    data_dir
        Data directory used when ``context`` is ``None``.

    Returns
    -------
    SearchResult
        The scored surface, the candidate sites, the threshold used, the area label and
        the search areas (regions above the maximum site area, split into sites).
    """
    from handwerkgeo.config import load_config
    from handwerkgeo.context import load_context
    from handwerkgeo.scoring import score_plots

    opts = replace(options or SearchOptions(), **kwargs)
    config = config if config is not None else load_config()
    min_area = float(config.filters.min_area_m2)
    max_site = None if opts.max_site_ha is None else float(opts.max_site_ha) * 10_000
    if max_site is not None and max_site < min_area:
        msg = (
            f"the maximum site area ({opts.max_site_ha:g} ha) is below the minimum plot area "
            f"of the configuration ({min_area:g} m²): no site could be found"
        )
        raise ConfigError(msg)
    context = context if context is not None else load_context(data_dir)
    area, label = _area_and_label(context, opts)
    cells = candidate_cells(area, cell_m=opts.cell_m, shape=opts.shape)
    surface = score_plots(cells, config, context=context)
    ok = surface.loc[~surface["excluded"], "score_total"]
    threshold = opts.threshold
    if threshold is None:
        threshold = float(ok.quantile(opts.quantile)) if len(ok) else math.inf
    sites, areas = candidate_sites(
        surface, threshold=threshold, min_area_m2=min_area, max_area_m2=max_site
    )
    sites = _with_stadtteil(sites, context.stadtteile)
    areas = _with_stadtteil(areas, context.stadtteile)
    logger.info(
        "site search %s: %d cells, threshold %.1f, %d candidate sites",
        label,
        len(surface),
        threshold,
        len(sites),
    )
    return SearchResult(
        surface=surface,
        sites=sites,
        threshold=threshold,
        area_label=label,
        search_areas=areas,
        max_site_m2=max_site,
    )
