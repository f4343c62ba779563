"""Scoring: raw criteria → utilities → hard filters → weighted score → rank.

Two steps, so that scenarios, sensitivity runs and the site register re-use the expensive
part:

1. :func:`compute_raw` calls the criterion functions for every layer the
   :class:`~handwerkgeo.context.ScoringContext` holds and returns one ``raw_<k>`` column per
   active criterion (physical units; NaN = no data, with the reason in
   ``attrs["missing_reasons"]``), optional ``fallback_<k>`` flags, and the columns the
   filters need (``area_m2``, ``zone_category``, ``zone_source``, ``overlap_protected``,
   ``overlap_flood``) plus helper columns ``aux_*``.
2. :func:`score_raw` is pure and vectorised (numpy): utilities, filters, aggregation, rank.
   Scoring 100,000 plots takes a fraction of a second.

Aggregation (docs/design.md "Scored frame"): for plot *i* with the set Aᵢ of active
criteria that have data, ``contrib_k = 100 · w_k · u_k / Σ_{j∈Aᵢ} w_j`` (0 without data),
``score_total = Σ_k contrib_k`` ∈ 0..100, ``coverage = Σ_{j∈Aᵢ} w_j / Σ_j w_j``. A plot
without any data has ``score_total`` NaN and is excluded. ``rank`` is 1 for the best
non-excluded plot; ties are broken by ``plot_id`` so that runs are reproducible.

Exclusion reasons are German in ``exclusion_reason`` (exported tables and maps are German
by default) and English in ``exclusion_reason_en``; both are ``""`` for ranked plots.

Examples
--------
>>> import numpy as np
>>> utility([0, 600, 5000, np.nan], [[400, 1.0], [800, 0.5], [1200, 0.0]]).tolist()
[1.0, 0.75, 0.0, nan]
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo.config import OWNER_CATEGORIES, ScoringConfig, default_config
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import DataSourceError, DuplicateIdError, MissingColumnError

if TYPE_CHECKING:
    from handwerkgeo.context import ScoringContext

__all__ = [
    "FIXED_COLUMNS",
    "ZONE_NAMES",
    "compute_raw",
    "read_scored",
    "score_plots",
    "score_raw",
    "utility",
    "utility_matrix",
    "write_scored",
]

logger = logging.getLogger(__name__)

#: Columns of the scored frame after the per-criterion columns.
FIXED_COLUMNS: tuple[str, ...] = (
    "score_total",
    "rank",
    "excluded",
    "exclusion_reason",
    "exclusion_reason_en",
    "coverage",
    "missing_criteria",
)

#: Zone categories counted as commercial actual use for the brownfield criterion.
COMMERCIAL_USE: frozenset[str] = frozenset({"GE", "GI", "SO_COMMERCIAL", "FNP_G"})

#: Names of zone categories in exclusion reasons: German, English.
ZONE_NAMES: dict[str, tuple[str, str]] = {
    "WS": ("Kleinsiedlungsgebiet", "small settlement area"),
    "WR": ("Reines Wohngebiet", "purely residential area"),
    "WA": ("Allgemeines Wohngebiet", "general residential area"),
    "WB": ("Besonderes Wohngebiet", "special residential area"),
    "MD": ("Dorfgebiet", "village area"),
    "MI": ("Mischgebiet", "mixed area"),
    "MU": ("Urbanes Gebiet", "urban area"),
    "MK": ("Kerngebiet", "core area"),
    "GE": ("Gewerbegebiet", "commercial area"),
    "GI": ("Industriegebiet", "industrial area"),
    "SO": ("Sondergebiet", "special area"),
    "SO_COMMERCIAL": ("Sondergebiet (gewerblich)", "special area (commercial)"),
    "FNP_G": ("gewerbliche Baufläche (FNP)", "commercial building land (FNP)"),
    "FNP_M": ("gemischte Baufläche (FNP)", "mixed building land (FNP)"),
    "FNP_W": ("Wohnbaufläche (FNP)", "residential building land (FNP)"),
    "FNP_S": ("Sonderbaufläche (FNP)", "special building land (FNP)"),
    "GREEN": ("Grünfläche", "green space"),
    "FOREST": ("Wald", "forest"),
    "WATER": ("Wasserfläche", "water"),
    "AGRICULTURE": ("Fläche für die Landwirtschaft", "agricultural land"),
    "TRANSPORT": ("Verkehrsfläche", "transport land"),
    "COMMUNITY": ("Gemeinbedarfsfläche", "community facilities"),
    "UNKNOWN": ("unbekannt", "unknown"),
}

_DEFAULT_CIRCUITY = 1.3
_SCORE_PREFIXES = ("raw_", "u_", "contrib_", "fallback_", "aux_")
_RAW_EXTRA = ("zone_category", "zone_source", "overlap_protected", "overlap_flood")


# --- utilities ----------------------------------------------------------------------------


def utility(x: object, breakpoints: Sequence[Sequence[float]]) -> np.ndarray:
    """Piecewise linear utility through ``[x, u]`` breakpoints, clamped; NaN stays NaN.

    Parameters
    ----------
    x
        Raw values (scalar or array-like).
    breakpoints
        ``[x, u]`` pairs with strictly increasing x (as validated by the config).

    Returns
    -------
    numpy.ndarray
        Utilities 0..1 (float), NaN where ``x`` is NaN.
    """
    values = np.asarray(x, dtype=float)
    bp = np.asarray(breakpoints, dtype=float)
    out = np.interp(values, bp[:, 0], bp[:, 1])
    return np.where(np.isnan(values), np.nan, out)


def _as_float(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        return col.astype("float64").to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _lookup(col: pd.Series, table: dict[str, float], *, lower: bool = False) -> np.ndarray:
    """Map category values through ``table`` (NaN for missing or unknown), via factorize."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    keys = [str(u).strip() for u in uniques]
    if lower:
        keys = [k.lower() for k in keys]
    values = np.array([table.get(k, np.nan) for k in keys] + [np.nan], dtype=float)
    return values[codes]  # code -1 (missing) picks the trailing NaN


def _criterion_utility(raw: pd.DataFrame, name: str, config: ScoringConfig) -> np.ndarray:
    crit = config.criteria[name]
    col = raw.get(f"raw_{name}")
    n = len(raw)
    if col is None:
        return np.full(n, np.nan)
    if crit.table is not None:
        return _lookup(col, crit.table, lower=name == "ownership")
    x = _as_float(col)
    u = utility(x, crit.breakpoints or ())
    if name == "noise_buffer" and crit.breakpoints_by_zone and "zone_category" in raw:
        zones = raw["zone_category"].to_numpy(dtype=object)
        for zone, bp in crit.breakpoints_by_zone.items():
            m = zones == zone
            if m.any():
                u[m] = utility(x[m], bp)
    if name == "social_mix" and config.social_mix_policy == "favour_low_sgb2":
        u = 1.0 - u
    if name == "transit" and "aux_transit_stop_category" in raw:
        factors = crit.params.get("service_factors")
        if factors:
            cat = _as_float(raw["aux_transit_stop_category"])
            f = np.ones(n)
            for key, factor in factors.items():
                f[cat == float(key)] = float(factor)
            u = u * f
    return u


def utility_matrix(raw: pd.DataFrame, config: ScoringConfig) -> tuple[np.ndarray, list[str]]:
    """Utilities of the active criteria as an n × c matrix (NaN = no data) and their names."""
    names = list(config.active_criteria())
    u = np.empty((len(raw), len(names)))
    for j, name in enumerate(names):
        u[:, j] = _criterion_utility(raw, name, config)
    return u, names


# --- score_raw ---------------------------------------------------------------------------


def _fmt_de(x: float, digits: int = 0) -> str:
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def _pattern_strings(mask: np.ndarray, names: list[str]) -> np.ndarray:
    """Comma-joined names of the True entries of each row (fast via unique row patterns)."""
    if mask.shape[1] == 0:
        return np.full(mask.shape[0], "", dtype=object)
    bits = mask.astype(np.int64) @ (1 << np.arange(mask.shape[1], dtype=np.int64))
    uniq, inv = np.unique(bits, return_inverse=True)
    labels = np.array(
        [",".join(n for j, n in enumerate(names) if (b >> j) & 1) for b in uniq], dtype=object
    )
    return labels[inv]


def _plot_ids(frame: pd.DataFrame) -> np.ndarray:
    if "plot_id" in frame.columns:
        return frame["plot_id"].astype(str).to_numpy(dtype=object)
    return frame.index.astype(str).to_numpy(dtype=object)


def _exclusions(
    raw: pd.DataFrame, config: ScoringConfig, coverage: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hard filters: excluded mask and the reasons in German and English ("" if kept)."""
    n = len(raw)
    f = config.filters
    de = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)

    def add(mask: np.ndarray, de_text: Callable[[int], str], en_text: Callable[[int], str]) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        new_de: Any = np.array([de_text(i) for i in idx.tolist()], dtype=object)
        new_en: Any = np.array([en_text(i) for i in idx.tolist()], dtype=object)
        old_de: Any = de[idx]
        old_en: Any = en[idx]
        first = old_de == ""
        de[idx] = np.where(first, new_de, old_de + "; " + new_de)
        en[idx] = np.where(first, new_en, old_en + "; " + new_en)

    if "area_m2" in raw:
        area = _as_float(raw["area_m2"])
        small = np.isfinite(area) & (area < f.min_area_m2)
        min_de, min_en = _fmt_de(f.min_area_m2), f"{f.min_area_m2:,.0f}"
        add(
            small,
            lambda i: f"Fläche {_fmt_de(area[i])} m² kleiner als Mindestfläche {min_de} m²",
            lambda i: f"area {area[i]:,.0f} m² below minimum {min_en} m²",
        )
    if "zone_category" in raw and f.excluded_zones:
        zones = raw["zone_category"].to_numpy(dtype=object)
        bad = np.isin(zones, list(f.excluded_zones))

        def zone_de(i: int) -> str:
            name = ZONE_NAMES.get(zones[i], (zones[i], zones[i]))[0]
            return f"Gebietsart {zones[i]} ({name}) ausgeschlossen"

        def zone_en(i: int) -> str:
            name = ZONE_NAMES.get(zones[i], (zones[i], zones[i]))[1]
            return f"zone {zones[i]} ({name}) excluded"

        add(bad, zone_de, zone_en)
    for col, flag, de_name, en_name in (
        ("overlap_protected", f.exclude_protected_areas, "Schutzgebiet", "protected area"),
        ("overlap_flood", f.exclude_flood_areas, "Überschwemmungsgebiet", "flood area"),
    ):
        if flag and col in raw:
            share = _as_float(raw[col])
            hit = np.isfinite(share) & (share >= f.max_overlap_share)

            def share_de(i: int, s: np.ndarray = share, d: str = de_name) -> str:
                return f"{_fmt_de(100 * s[i])} % im {d}"

            def share_en(i: int, s: np.ndarray = share, e: str = en_name) -> str:
                return f"{100 * s[i]:.0f} % in {e}"

            add(hit, share_de, share_en)
    none = coverage <= 0
    add(none, lambda i: "keine Kriterien mit Daten", lambda i: "no criterion has data")
    low = ~none & (coverage < f.min_coverage)
    add(
        low,
        lambda i: (
            f"nur {_fmt_de(100 * coverage[i])} % der Gewichte mit Daten "
            f"(Minimum {_fmt_de(100 * f.min_coverage)} %)"
        ),
        lambda i: (
            f"only {100 * coverage[i]:.0f} % of the weight has data "
            f"(minimum {100 * f.min_coverage:.0f} %)"
        ),
    )
    return de != "", de, en


def _rank(score: np.ndarray, excluded: np.ndarray, ids: np.ndarray) -> pd.array:
    n = len(score)
    ranks = pd.array(np.full(n, pd.NA), dtype="Int64")
    ok = ~excluded & np.isfinite(score)
    if ok.any():
        id_codes = pd.factorize(pd.Index(ids), sort=True)[0]
        pos = np.flatnonzero(ok)
        order = np.lexsort((id_codes[pos], -score[pos]))
        r = np.empty(n, dtype=np.int64)
        r[pos[order]] = np.arange(1, len(pos) + 1)
        ranks[pos] = r[pos]
    return ranks


def _criteria_info(config: ScoringConfig) -> dict[str, dict[str, Any]]:
    active = config.active_criteria()
    return {
        name: {
            "weight": crit.weight,
            "label_de": crit.label_de,
            "label_en": crit.label_en,
            "unit": crit.unit,
            "active": name in active,
        }
        for name, crit in config.criteria.items()
    }


def _run_info(
    config: ScoringConfig, *, sources: Sequence[dict[str, Any]] = (), notes: Any = None
) -> dict[str, Any]:
    from handwerkgeo import __version__

    return {
        "config_hash": config.hash,
        "config": config.to_dict(),
        "config_name": config.name,
        "version": __version__,
        "scored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "criteria": _criteria_info(config),
        "sources": [dict(s) for s in sources],
        "missing_reasons": dict(notes or {}),
    }


def score_raw(raw: pd.DataFrame, config: ScoringConfig | None = None) -> pd.DataFrame:
    """Utilities, filters, weighted score and rank from raw criterion values (pure, fast).

    Parameters
    ----------
    raw
        Output of :func:`compute_raw`, optionally joined with the plots (then the plot
        columns and geometry are kept, and a GeoDataFrame comes back). Criteria without a
        ``raw_<k>`` column count as "no data". Existing score columns are replaced.
    config
        Scoring configuration; default :func:`~handwerkgeo.config.default_config`.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        The input columns, then ``raw_<k>``, ``u_<k>``, ``contrib_<k>`` per active criterion,
        ``fallback_<k>`` where present, and :data:`FIXED_COLUMNS`; ``attrs["run"]`` as in
        docs/design.md.
    """
    config = config or default_config()
    n = len(raw)
    u, names = utility_matrix(raw, config)
    w = np.array([config.criteria[k].weight for k in names], dtype=float)
    avail = ~np.isnan(u)
    w_avail = avail * w
    denom = w_avail.sum(axis=1)
    total_w = float(w.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = np.where(avail, np.nan_to_num(u) * w, 0.0) * (100.0 / denom)[:, None]
    has = denom > 0
    contrib[~has] = 0.0
    # a criterion with data but weight 0: available, no points; plots whose only data has
    # weight 0 still have no score
    has_data = avail.any(axis=1)
    score = np.where(has, contrib.sum(axis=1), np.nan)
    coverage = denom / total_w if total_w > 0 else np.zeros(n)
    excluded, reason_de, reason_en = _exclusions(raw, config, np.where(has_data, coverage, 0.0))
    ranks = _rank(score, excluded, _plot_ids(raw))

    base_cols = [
        c for c in raw.columns if not c.startswith(_SCORE_PREFIXES[1:3]) and c not in FIXED_COLUMNS
    ]
    out = raw[base_cols].copy()
    cols: dict[str, Any] = {}
    for k in names:
        if f"raw_{k}" not in out:
            cols[f"raw_{k}"] = np.full(n, np.nan)
    for j, k in enumerate(names):
        cols[f"u_{k}"] = u[:, j]
    for j, k in enumerate(names):
        cols[f"contrib_{k}"] = contrib[:, j]
    cols["score_total"] = score
    cols["rank"] = ranks
    cols["excluded"] = excluded
    cols["exclusion_reason"] = reason_de
    cols["exclusion_reason_en"] = reason_en
    cols["coverage"] = coverage
    cols["missing_criteria"] = _pattern_strings(~avail, names)
    out = pd.concat([out, pd.DataFrame(cols, index=raw.index)], axis=1)
    if isinstance(raw, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=raw.geometry.name, crs=raw.crs)
    notes = raw.attrs.get("missing_reasons", {})
    sources = raw.attrs.get("sources", [])
    out.attrs = {"run": _run_info(config, sources=sources, notes=notes)}
    n_ex = int(excluded.sum())
    logger.info(
        "scored %d plot(s) with config %s (%s): %d ranked, %d excluded",
        n,
        config.name,
        config.hash,
        n - n_ex,
        n_ex,
    )
    return out


# --- compute_raw -------------------------------------------------------------------------


def _straight_nearest(
    plots: gpd.GeoDataFrame, targets: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance to, and position of, the nearest target of each plot."""
    dist = np.full(len(plots), np.nan)
    pos = np.full(len(plots), -1, dtype=np.int64)
    valid = np.flatnonzero((targets.geometry.notna() & ~targets.geometry.is_empty).to_numpy())
    if len(valid) and len(plots):
        sub = targets.iloc[valid]
        idx, d = sub.sindex.nearest(
            plots.geometry.to_numpy(), return_all=False, return_distance=True
        )
        dist[idx[0]] = d
        pos[idx[0]] = valid[idx[1]]
    return dist, pos


def _overlap_share(plots: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    """Share of each plot's area inside ``layer`` (points: 1 inside, 0 outside)."""
    n = len(plots)
    share = np.zeros(n)
    if not len(layer) or not n:
        return share
    geoms = plots.geometry
    is_poly = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    pos = gpd.GeoDataFrame({"_pos": np.arange(n)}, geometry=geoms.to_numpy(), crs=plots.crs)
    lay = gpd.GeoDataFrame(geometry=layer.geometry.to_numpy(), crs=layer.crs)
    lay = lay[lay.geom_type.isin(["Polygon", "MultiPolygon"])]
    if not len(lay):
        return share
    if is_poly.any():
        dissolved = gpd.GeoDataFrame(geometry=[lay.union_all()], crs=lay.crs)
        pieces = gpd.overlay(pos[is_poly], dissolved, how="intersection", keep_geom_type=True)
        if len(pieces):
            a = pieces.geometry.area.groupby(pieces["_pos"].to_numpy()).sum()
            area = pos.geometry.area.to_numpy()
            share[a.index.to_numpy()] = a.to_numpy() / area[a.index.to_numpy()]
    if (~is_poly).any():
        hit = gpd.sjoin(pos[~is_poly], lay, predicate="intersects", how="inner")
        share[np.unique(hit["_pos"].to_numpy())] = 1.0
    return np.clip(share, 0.0, 1.0)


def _population_layer(context: ScoringContext) -> tuple[gpd.GeoDataFrame | None, str | None]:
    pop = context.population
    if pop is None:
        return None, None
    col = next(
        (c for c in ("population", "einwohner", "persons") if c in pop.columns),
        None,
    )
    if col is None:
        msg = (
            f"the population layer has no 'population' column (columns: {list(pop.columns)}); "
            "use sources.statistics.read_stadtteil_population"
        )
        raise MissingColumnError(msg)
    if not isinstance(pop, gpd.GeoDataFrame) or pop.geometry.name not in pop.columns:
        if context.stadtteile is None or "stadtteil_code" not in pop.columns:
            msg = "population without geometry needs stadtteil_code and the Stadtteile layer"
            raise MissingColumnError(msg)
        pop = context.stadtteile[["stadtteil_code", "geometry"]].merge(
            pd.DataFrame(pop)[["stadtteil_code", col]], on="stadtteil_code", how="inner"
        )
    return pop, col


def compute_raw(
    plots: gpd.GeoDataFrame,
    context: ScoringContext | None = None,
    config: ScoringConfig | None = None,
    *,
    show_progress: bool = False,
) -> pd.DataFrame:
    """Raw criterion values of every plot from the layers the context holds.

    Criteria whose data is not in the context get a NaN column; the reason is in
    ``attrs["missing_reasons"]`` (``{criterion: reason}``) and shows in the scored frame's
    ``missing_criteria``. Network distances fall back to straight line × circuity where the
    context has no network (``fallback_<k>`` is then True).

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (``plot_id``, geometry, ``area_m2``; optional ``zoning``,
        ``owner``, ``land_value_eur_m2``, ``brownfield``). Not modified.
    context
        Data layers (:func:`~handwerkgeo.context.load_context`); default an empty context
        (criteria from plot geometry and attributes only).
    config
        Which criteria are active and their parameters; default the packaged default.
    show_progress
        Show a progress bar over the criteria.

    Returns
    -------
    pandas.DataFrame
        On ``plots.index``: ``plot_id``, ``area_m2``, ``zone_category``, ``zone_source``,
        ``raw_<k>`` per active criterion, ``fallback_<k>`` for network criteria,
        ``aux_*`` helper columns, ``overlap_protected`` / ``overlap_flood`` when such layers
        are given.
    """
    from handwerkgeo.context import ScoringContext
    from handwerkgeo.criteria import accessibility as acc
    from handwerkgeo.criteria import geometry as geo
    from handwerkgeo.criteria import mix
    from handwerkgeo.criteria import zoning as zon

    check_crs(plots, name="plots")
    config = config or default_config()
    ctx = context if context is not None else ScoringContext()
    active = config.active_criteria()
    out = pd.DataFrame(index=plots.index)
    out["plot_id"] = _plot_ids(plots)
    missing: dict[str, str] = {}

    def params(name: str) -> dict[str, Any]:
        crit = config.criteria.get(name)
        return dict(crit.params) if crit is not None else {}

    def need(name: str, *layers: str) -> bool:
        absent = [lay for lay in layers if getattr(ctx, lay) is None]
        if absent:
            missing[name] = f"no data: layer(s) {', '.join(absent)} not in the scoring context"
            out[f"raw_{name}"] = np.nan
            return False
        return True

    anchor_cache: list[gpd.GeoDataFrame] = []

    def anchors() -> gpd.GeoDataFrame:
        # the point each point-based criterion measures from (representative point of a
        # polygon; points, missing and empty geometries as given), computed once for all
        if not anchor_cache:
            geoms = np.asarray(plots.geometry.array)
            pts = geoms.copy()
            poly = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            poly &= shapely.get_type_id(geoms) != 0
            pts[poly] = shapely.point_on_surface(geoms[poly])
            anchor_cache.append(gpd.GeoDataFrame(geometry=pts, index=plots.index, crs=plots.crs))
        return anchor_cache[0]

    bezirk_cache: list[pd.Series] = []

    def bezirk_codes() -> pd.Series:
        # the Stadtbezirk of every plot, looked up once for the three Bezirk criteria
        if not bezirk_cache:
            bezirk_cache.append(mix.plot_bezirk(plots, ctx.bezirke))
        return bezirk_cache[0]

    shared_bezirke = bool({"jobs_housing", "social_mix"} & set(active))

    def plot_column(name: str, col: str) -> None:
        if col in plots.columns:
            out[f"raw_{name}"] = plots[col].to_numpy()
        else:
            out[f"raw_{name}"] = np.nan
            missing[name] = f"no data: plots have no '{col}' column"

    out["area_m2"] = geo.plot_area(plots)
    table = config.criteria["zoning"].table if "zoning" in config.criteria else {}
    zones = zon.zoning_suitability(plots, ctx.zoning, table=table or {})
    out["zone_category"] = zones["zone_category"].astype("str")
    out["zone_source"] = zones["zone_source"].astype("str")

    steps: dict[str, Callable[[], None]] = {}

    def plot_size() -> None:
        out["raw_plot_size"] = out["area_m2"]

    def plot_shape() -> None:
        if params("plot_shape").get("measure", "narrowest_width") == "compactness":
            out["raw_plot_shape"] = geo.compactness(plots)
        else:
            out["raw_plot_shape"] = geo.narrowest_width(plots)
        if out["raw_plot_shape"].isna().all():
            missing["plot_shape"] = "no data: no polygon plots (points have no shape)"

    def zoning() -> None:
        known = (out["zone_category"] != "UNKNOWN") | ("UNKNOWN" in (table or {}))
        out["raw_zoning"] = out["zone_category"].where(known).astype("str")
        if not known.any():
            missing["zoning"] = "no data: no zoning attribute and no zoning layer"

    def brownfield() -> None:
        if "brownfield" in plots.columns:
            val = plots["brownfield"].map(
                lambda v: (
                    np.nan
                    if pd.isna(v)
                    else float(bool(v))
                    if not isinstance(v, str)
                    else {
                        "true": 1.0,
                        "ja": 1.0,
                        "yes": 1.0,
                        "1": 1.0,
                        "false": 0.0,
                        "nein": 0.0,
                        "no": 0.0,
                        "0": 0.0,
                    }.get(v.strip().lower(), np.nan)
                )
            )
            out["raw_brownfield"] = val.to_numpy(dtype=float)
        else:
            out["raw_brownfield"] = np.nan
        todo = out["raw_brownfield"].isna().to_numpy()
        if todo.any() and ctx.landuse is not None and "zone_category" in ctx.landuse:
            sub = plots[todo]
            any_use = _overlap_share(sub, ctx.landuse)
            lu = ctx.landuse[ctx.landuse["zone_category"].isin(list(COMMERCIAL_USE))]
            com = _overlap_share(sub, lu)
            thr = float(params("brownfield").get("min_commercial_share", 0.5))
            val = np.where(any_use > 0, (com >= thr).astype(float), np.nan)
            out.loc[todo, "raw_brownfield"] = val
        if out["raw_brownfield"].isna().all():
            missing["brownfield"] = "no data: no 'brownfield' column and no land-use layer"

    def noise_buffer() -> None:
        layer = next((x for x in (ctx.residential, ctx.zoning, ctx.landuse) if x is not None), None)
        if layer is None:
            need("noise_buffer", "residential")
            return
        out["raw_noise_buffer"] = zon.distance_to_residential(plots, layer).to_numpy()

    def network_distance(name: str, targets: gpd.GeoDataFrame) -> None:
        circuity = float(params(name).get("circuity", _DEFAULT_CIRCUITY))
        if ctx.network is not None:
            res = acc.network_distance_to(anchors(), ctx.network, targets, circuity=circuity)
            out[f"raw_{name}"] = res["dist_m"].to_numpy()
            out[f"fallback_{name}"] = res["fallback"].to_numpy(dtype=bool)
        else:
            dist, _ = _straight_nearest(plots, targets)
            out[f"raw_{name}"] = dist * circuity
            out[f"fallback_{name}"] = np.isfinite(dist)

    def motorway() -> None:
        if need("motorway", "motorway_junctions"):
            network_distance("motorway", ctx.motorway_junctions)

    def main_road() -> None:
        if need("main_road", "main_roads"):
            lines = ctx.main_roads
            out["raw_main_road"] = acc.distance_to_lines(plots, lines).to_numpy(dtype=float)

    def transit() -> None:
        stops = ctx.stops
        if not need("transit", "stops") or stops is None:
            return
        circuity = float(params("transit").get("circuity", _DEFAULT_CIRCUITY))
        if ctx.network is not None:
            res = acc.transit_access(anchors(), ctx.network, stops, circuity=circuity)
            out["raw_transit"] = res["stop_walk_m"].to_numpy(dtype=float)
            out["fallback_transit"] = res["fallback"].to_numpy(dtype=bool)
            if "stop_category_nearest" in res:
                out["aux_transit_stop_category"] = pd.to_numeric(
                    res["stop_category_nearest"], errors="coerce"
                ).to_numpy(dtype=float)
            for extra in ("transit_class", "stops_within_800m"):
                if extra in res:
                    out[f"aux_{extra}"] = res[extra].to_numpy()
        else:
            dist, pos = _straight_nearest(plots, stops)
            out["raw_transit"] = dist * circuity
            out["fallback_transit"] = np.isfinite(dist)
            if "stop_category" in stops.columns:
                cats = pd.to_numeric(stops["stop_category"], errors="coerce").to_numpy(float)
                out["aux_transit_stop_category"] = np.where(pos >= 0, cats[pos], np.nan)

    def cycling() -> None:
        if need("cycling", "cycling"):
            lines = ctx.cycling
            out["raw_cycling"] = acc.distance_to_lines(plots, lines).to_numpy(dtype=float)

    def customer_potential() -> None:
        if not need("customer_potential", "population"):
            return
        fn = acc.customer_potential
        pop, col = _population_layer(ctx)
        if pop is None or col is None:
            return
        half = float(params("customer_potential").get("half_distance_m", 3000.0))
        # normalise by the city-wide maximum (the best Stadtteil centre), not by the best
        # plot of this batch: scores of different batches stay comparable
        centres = gpd.GeoDataFrame(geometry=pop.geometry.centroid.to_numpy(), crs=pop.crs)
        ref = float(np.nanmax(fn(centres, pop, pop_col=col, half_distance_m=half, normalise=False)))
        res = fn(
            anchors(), pop, pop_col=col, half_distance_m=half, normalise=ref if ref > 0 else True
        )
        out["raw_customer_potential"] = np.asarray(res, dtype=float)

    def landuse_mix() -> None:
        p = params("landuse_mix")
        has_poly = ctx.landuse is not None
        has_bez = ctx.bezirke is not None and ctx.bezirk_shares is not None
        if not (has_poly or has_bez):
            need("landuse_mix", "landuse")
            return
        res = mix.landuse_mix(
            plots,
            ctx.landuse,
            radius_m=float(p.get("radius_m", 800.0)),
            bezirke=ctx.bezirke,
            bezirk_shares=ctx.bezirk_shares,
            # shared with jobs–housing and social mix; otherwise landuse_mix looks the
            # Bezirke up only for plots without land-use polygons around them
            bezirk_codes=bezirk_codes() if has_bez and shared_bezirke else None,
        )
        col = "mix_gini_simpson" if p.get("index") == "gini_simpson" else "mix_shannon"
        out["raw_landuse_mix"] = res[col].to_numpy()
        out["aux_mix_source"] = res["mix_source"].to_numpy()

    def jobs_housing() -> None:
        if need("jobs_housing", "bezirke", "bezirk_shares"):
            out["raw_jobs_housing"] = mix.jobs_housing_ratio(
                plots, bezirk_shares=ctx.bezirk_shares, bezirk_codes=bezirk_codes()
            ).to_numpy()

    def social_mix() -> None:
        if need("social_mix", "bezirke", "bezirk_indicators"):
            out["raw_social_mix"] = mix.social_indicator(
                plots, bezirk_indicators=ctx.bezirk_indicators, bezirk_codes=bezirk_codes()
            ).to_numpy()

    def ownership() -> None:
        plot_column("ownership", "owner")
        if "ownership" not in missing:
            raw = out["raw_ownership"].astype("string").str.strip().str.lower()
            bad = raw.notna() & ~raw.isin(list(OWNER_CATEGORIES))
            if bad.any():
                logger.warning(
                    "%d plot(s) have an unknown owner (e.g. %r); allowed: %s — counted as no data",
                    int(bad.sum()),
                    out.loc[bad, "raw_ownership"].iloc[0],
                    ", ".join(OWNER_CATEGORIES),
                )
            out["raw_ownership"] = raw.astype("str")

    def land_value() -> None:
        plot_column("land_value", "land_value_eur_m2")
        out["raw_land_value"] = pd.to_numeric(out["raw_land_value"], errors="coerce")

    steps = {
        "plot_size": plot_size,
        "plot_shape": plot_shape,
        "zoning": zoning,
        "brownfield": brownfield,
        "noise_buffer": noise_buffer,
        "motorway": motorway,
        "main_road": main_road,
        "transit": transit,
        "cycling": cycling,
        "customer_potential": customer_potential,
        "landuse_mix": landuse_mix,
        "jobs_housing": jobs_housing,
        "social_mix": social_mix,
        "ownership": ownership,
        "land_value": land_value,
    }
    todo = [k for k in steps if k in active]
    iterator: Any = todo
    if show_progress:
        from tqdm.auto import tqdm

        iterator = tqdm(todo, desc="criteria", unit="criterion")
    for name in iterator:
        steps[name]()
        n_data = int(pd.notna(out[f"raw_{name}"]).sum())
        logger.info("criterion %s: data for %d of %d plot(s)", name, n_data, len(out))
    if ctx.protected_areas is not None:
        out["overlap_protected"] = _overlap_share(plots, ctx.protected_areas)
    if ctx.flood_areas is not None:
        out["overlap_flood"] = _overlap_share(plots, ctx.flood_areas)
    out.attrs["missing_reasons"] = missing
    out.attrs["sources"] = list(ctx.sources)
    for name, reason in missing.items():
        logger.info("criterion %s: %s", name, reason)
    return out


# --- score_plots -------------------------------------------------------------------------


def _prepare_plots(plots: gpd.GeoDataFrame, id_col: str | None) -> gpd.GeoDataFrame:
    if not isinstance(plots, gpd.GeoDataFrame):
        msg = f"plots must be a GeoDataFrame, not {type(plots).__name__}"
        raise TypeError(msg)
    check_crs(plots, name="plots")
    out = plots.copy()
    drop = [c for c in out.columns if c.startswith(_SCORE_PREFIXES) or c in FIXED_COLUMNS]
    drop += [c for c in _RAW_EXTRA if c in out.columns]
    drop += [c for c in out.columns if c.startswith(("p_top_", "rank_p"))]
    out = out.drop(columns=drop)
    if id_col is not None:
        if id_col not in out.columns:
            msg = f"id column {id_col!r} not in the plots (columns: {list(out.columns)})"
            raise MissingColumnError(msg)
        out["plot_id"] = out[id_col].astype(str)
    elif "plot_id" not in out.columns:
        logger.warning("plots have no 'plot_id' column; using the index as plot_id")
        out["plot_id"] = out.index.astype(str)
    else:
        out["plot_id"] = out["plot_id"].astype(str)
    dup = out["plot_id"][out["plot_id"].duplicated(keep=False)]
    if len(dup):
        msg = (
            f"plot_id must be unique, but {dup.nunique()} value(s) occur more than once "
            f"(e.g. {sorted(dup.unique())[:5]}); give each plot its own id or pass id_col="
        )
        raise DuplicateIdError(msg)
    return out


def score_plots(
    plots: gpd.GeoDataFrame,
    config: ScoringConfig | None = None,
    *,
    context: ScoringContext | None = None,
    raw: pd.DataFrame | None = None,
    id_col: str | None = None,
    show_progress: bool = False,
) -> gpd.GeoDataFrame:
    """Score plots for a Handwerkerhof: the "Scored frame" of docs/design.md.

    Parameters
    ----------
    plots
        Plots in EPSG:25832 (see :func:`handwerkgeo.sources.plots.read_plots`). Not modified;
        score columns of an earlier run are replaced.
    config
        Scoring configuration; default the packaged default.
    context
        Data layers; default none (geometry and plot attributes only).
    raw
        Precomputed :func:`compute_raw` output on ``plots.index`` (skips computing).
    id_col
        Column holding the plot id when it is not ``plot_id``.
    show_progress
        Show a progress bar while computing criteria.

    Returns
    -------
    geopandas.GeoDataFrame
        Plot columns and geometry, ``raw_<k>``/``u_<k>``/``contrib_<k>``/``fallback_<k>``,
        ``score_total``, ``rank``, ``excluded``, ``exclusion_reason`` (German),
        ``exclusion_reason_en``, ``coverage``, ``missing_criteria``; ``attrs["run"]``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> plots = gpd.GeoDataFrame(
    ...     {"plot_id": ["a", "b"], "zoning": ["GE", "WA"], "owner": ["city", "private"]},
    ...     geometry=[box(0, 0, 100, 60), box(200, 0, 300, 60)], crs="EPSG:25832")
    >>> s = score_plots(plots)
    >>> s[["plot_id", "rank", "excluded"]].values.tolist()
    [['a', 1, False], ['b', <NA>, True]]
    >>> s.loc[1, "exclusion_reason"]
    'Gebietsart WA (Allgemeines Wohngebiet) ausgeschlossen'
    """
    config = config or default_config()
    base = _prepare_plots(plots, id_col)
    if raw is None:
        raw = compute_raw(base, context, config, show_progress=show_progress)
    elif not raw.index.equals(base.index):
        msg = "raw must be aligned on plots.index (compute it with compute_raw(plots, ...))"
        raise ValueError(msg)
    extra = [c for c in raw.columns if c not in base.columns]
    joined = base.join(raw[extra])
    joined.attrs = dict(raw.attrs)
    scored = score_raw(joined, config)
    if context is not None:
        scored.attrs["run"]["sources"] = [dict(s) for s in context.sources]
    return scored


# --- GeoPackage round trip ---------------------------------------------------------------


def write_scored(scored: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a scored frame to a GeoPackage atomically.

    Layer ``scores`` holds the frame (its index in column ``source_index``); the
    non-spatial table ``run_metadata`` holds key/value rows: ``config_yaml``,
    ``config_hash``, ``version``, ``scored_at``, ``criteria`` and ``sources`` (JSON) and
    ``run`` (the complete ``attrs["run"]`` as JSON). The file is built beside ``path`` and
    moved over it with :func:`os.replace`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pyogrio

    from handwerkgeo._atomic import atomic_replace_file

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        msg = f"write_scored writes a GeoPackage; give a path ending in .gpkg, not {path.name}"
        raise ValueError(msg)
    if not path.parent.is_dir():
        msg = f"the folder {path.parent} does not exist; create it first"
        raise DataSourceError(msg)
    run = dict(scored.attrs.get("run", {}))
    frame = scored.copy()
    frame.attrs = {}
    frame.insert(0, "source_index", frame.index.astype(str))
    frame = frame.reset_index(drop=True)
    if "rank" in frame:
        frame["rank"] = frame["rank"].astype("Int64")
    config_yaml = ""
    if run.get("config"):
        config_yaml = ScoringConfig.from_dict(run["config"], source="attrs['run']").to_yaml()
    meta = pd.DataFrame(
        {
            "key": [
                "config_yaml",
                "config_hash",
                "version",
                "scored_at",
                "criteria",
                "sources",
                "index_dtype",
                "dtypes",
                "run",
            ],
            "value": [
                config_yaml,
                str(run.get("config_hash", "")),
                str(run.get("version", "")),
                str(run.get("scored_at", "")),
                json.dumps(run.get("criteria", {}), ensure_ascii=False),
                json.dumps(run.get("sources", []), ensure_ascii=False),
                str(scored.index.dtype),
                json.dumps(
                    {c: str(t) for c, t in scored.dtypes.items() if c != scored.geometry.name}
                ),
                json.dumps(run, ensure_ascii=False, default=str),
            ],
        }
    )
    with atomic_replace_file(path, copy_existing=False) as tmp:
        frame.to_file(tmp, layer="scores", driver="GPKG", engine="pyogrio")
        pyogrio.write_dataframe(meta, tmp, layer="run_metadata", driver="GPKG")
    logger.info("wrote %d scored plot(s) to %s", len(scored), path)
    return path


def read_scored(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read a GeoPackage written by :func:`write_scored`, restoring index and ``attrs["run"]``.

    Raises
    ------
    DataSourceError
        If the file is missing or has no ``scores`` layer.
    """
    import pyogrio

    path = Path(path)
    if not path.is_file():
        msg = f"scored file {path} not found"
        raise DataSourceError(msg)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    if "scores" not in layers:
        msg = f"{path} has no 'scores' layer (layers: {sorted(layers)}); write it with write_scored"
        raise DataSourceError(msg)
    frame = gpd.read_file(path, layer="scores", engine="pyogrio")
    run: dict[str, Any] = {}
    index_dtype = ""
    dtypes: dict[str, str] = {}
    if "run_metadata" in layers:
        meta = pyogrio.read_dataframe(path, layer="run_metadata")
        kv = dict(zip(meta["key"], meta["value"], strict=True))
        run = json.loads(kv.get("run") or "{}")
        index_dtype = kv.get("index_dtype", "")
        dtypes = json.loads(kv.get("dtypes") or "{}")
    if "source_index" in frame:
        idx = frame.pop("source_index")
        if index_dtype.startswith("int"):
            idx = idx.astype("int64")
        frame.index = pd.Index(idx.to_numpy(), name=None)
    for col, dtype in dtypes.items():
        if col in frame.columns and str(frame[col].dtype) != dtype:
            try:
                frame[col] = frame[col].astype(dtype)
            except (TypeError, ValueError):
                logger.debug("column %s kept as %s (was %s)", col, frame[col].dtype, dtype)
    if "rank" in frame:
        frame["rank"] = frame["rank"].astype("Int64")
    for col in ("excluded", *[c for c in frame.columns if c.startswith("fallback_")]):
        if col in frame and not frame[col].isna().any():
            frame[col] = frame[col].astype(bool)
    for col in ("exclusion_reason", "exclusion_reason_en", "missing_criteria"):
        if col in frame:
            frame[col] = frame[col].fillna("")
    frame.attrs = {"run": run}
    return frame
