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
    #: merged candidate sites, best first
    sites: gpd.GeoDataFrame
    #: the score a cell needed to be part of a site
    threshold: float
    #: human-readable name of the searched area
    area_label: str


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


def merge_cells(
    surface: gpd.GeoDataFrame,
    *,
    threshold: float,
    min_area_m2: float,
) -> gpd.GeoDataFrame:
    """Merge adjacent cells scoring at least ``threshold`` into candidate sites.

    Parameters
    ----------
    surface
        Scored cells (``score_total``, ``excluded``, geometry).
    threshold
        Minimum ``score_total`` of a cell to be part of a site.
    min_area_m2
        Sites smaller than this (e.g. the minimum plot area of the config) are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site, best first: ``site_id``, ``n_cells``, ``area_m2``,
        ``score_mean`` (area-weighted), ``score_max``, ``cell_ids`` (comma-separated).
    """
    check_crs(surface, name="surface")
    good = surface[(~surface["excluded"]) & (surface["score_total"] >= threshold)]
    cols = ["site_id", "n_cells", "area_m2", "score_mean", "score_max", "cell_ids"]
    if good.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=CRS)
    good = good.reset_index(drop=True)
    left, right = _adjacency(good)
    n = len(good)
    adj = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
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
    sites = gpd.GeoDataFrame(agg.drop(columns="wscore"), geometry=geoms, crs=CRS)
    sites = sites[sites["area_m2"] >= min_area_m2]
    sites = sites.sort_values(["score_mean", "area_m2"], ascending=[False, False])
    sites = sites.reset_index(drop=True)
    sites.insert(0, "site_id", [f"S-{i + 1:03d}" for i in range(len(sites))])
    return sites[[*cols, "geometry"]]


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
        ``cell_m=``, ``shape=``, ``threshold=``, ``quantile=``, ``lang=``) replace single
        fields.
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
        The scored surface, the candidate sites, the threshold used and the area label.
    """
    from handwerkgeo.config import load_config
    from handwerkgeo.context import load_context
    from handwerkgeo.scoring import score_plots

    opts = replace(options or SearchOptions(), **kwargs)
    config = config if config is not None else load_config()
    context = context if context is not None else load_context(data_dir)
    area, label = _area_and_label(context, opts)
    cells = candidate_cells(area, cell_m=opts.cell_m, shape=opts.shape)
    surface = score_plots(cells, config, context=context)
    ok = surface.loc[~surface["excluded"], "score_total"]
    threshold = opts.threshold
    if threshold is None:
        threshold = float(ok.quantile(opts.quantile)) if len(ok) else math.inf
    min_area = float(config.filters.min_area_m2)
    sites = merge_cells(surface, threshold=threshold, min_area_m2=min_area)
    if context.stadtteile is not None and not sites.empty:
        reps = gpd.GeoDataFrame(geometry=sites.geometry.representative_point(), crs=CRS)
        joined = (
            gpd.sjoin(reps, context.stadtteile[["stadtteil_name", "geometry"]], how="left")
            .groupby(level=0)["stadtteil_name"]
            .first()
        )
        sites.insert(1, "stadtteil_name", joined.reindex(sites.index).to_numpy())
    logger.info(
        "site search %s: %d cells, threshold %.1f, %d candidate sites",
        label,
        len(surface),
        threshold,
        len(sites),
    )
    return SearchResult(surface=surface, sites=sites, threshold=threshold, area_label=label)
