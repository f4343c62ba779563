"""Diversity and quarter-level criteria: land-use mix, jobs–housing balance, social mix.

Land-use mix uses one fixed classification of :data:`MIX_CLASSES` (K = 8) for every source,
so that values from land-use polygons and from the Stadtbezirk Realnutzung statistics are
comparable: the normalised Shannon entropy LUM = −Σ pᵢ ln pᵢ / ln K is 0 for a single use
and 1 when all eight uses have equal shares.

Zone categories map to mix classes via :data:`ZONE_TO_MIX`; the Realnutzung categories of
the Stadtbezirksprofile (Wohnbaufläche, Gewerbliche Baufläche, …) via
:func:`realnutzung_class` (German or English column labels).

Examples
--------
>>> round(float(shannon_entropy([0.5, 0.5], k=2)), 6)
1.0
>>> float(gini_simpson([0.5, 0.5]))
0.5
>>> float(hill_number([0.25, 0.25, 0.25, 0.25], 2))
4.0
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from handwerkgeo._geom import is_polygonal
from handwerkgeo.crs import check_crs
from handwerkgeo.errors import ConfigError, MissingColumnError, ValidationError

__all__ = [
    "MIX_CLASSES",
    "ZONE_TO_MIX",
    "bezirk_class_shares",
    "gini_simpson",
    "hill_number",
    "jobs_housing_ratio",
    "landuse_mix",
    "plot_bezirk",
    "realnutzung_class",
    "shannon_entropy",
    "social_indicator",
]

logger = logging.getLogger(__name__)

#: The land-use classification of the mix measures (K = 8).
MIX_CLASSES: tuple[str, ...] = (
    "residential",
    "mixed",
    "commercial",
    "special",
    "community",
    "transport",
    "green",
    "water",
)

#: zone_category → mix class (UNKNOWN is not counted).
ZONE_TO_MIX: dict[str, str] = {
    **dict.fromkeys(("WS", "WR", "WA", "WB", "FNP_W"), "residential"),
    **dict.fromkeys(("MD", "MI", "MU", "MK", "FNP_M"), "mixed"),
    **dict.fromkeys(("GE", "GI", "SO_COMMERCIAL", "FNP_G"), "commercial"),
    **dict.fromkeys(("SO", "FNP_S"), "special"),
    "COMMUNITY": "community",
    "TRANSPORT": "transport",
    **dict.fromkeys(("GREEN", "FOREST", "AGRICULTURE"), "green"),
    "WATER": "water",
}

_REALNUTZUNG_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"wohnbau|wohnfl|^wohn|residential", "residential"),
    (r"gemischt|mixed", "mixed"),
    (r"gewerb|industr|commercial", "commercial"),
    (r"sonder|special", "special"),
    (r"gemeinbedarf|community", "community"),
    (r"verkehr|transport", "transport"),
    (r"gr[üu]n|gruen|wald|forst|landwirt|land-|agri|green|forest", "green"),
    (r"wasser|gew[äa]sser|water", "water"),
)


def realnutzung_class(label: object) -> str | None:
    """Mix class of a Realnutzung (actual land use) label, or ``None`` if it is not one.

    Examples
    --------
    >>> realnutzung_class("Gewerbliche Bauflächen %")
    'commercial'
    >>> realnutzung_class("Land- und Forstwirtschaft")
    'green'
    """
    text = str(label).lower()
    if text in MIX_CLASSES:
        return text
    for pattern, cls in _REALNUTZUNG_PATTERNS:
        if re.search(pattern, text):
            return cls
    return None


# --- diversity indices ------------------------------------------------------------------


def _proportions(shares: object) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    p = np.where(np.isfinite(p) & (p > 0), p, 0.0)
    total = p.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p / total, np.nan)


def shannon_entropy(shares: object, *, k: int | None = None) -> np.ndarray | float:
    """Normalised Shannon entropy −Σ pᵢ ln pᵢ / ln K of shares (rows = units).

    Parameters
    ----------
    shares
        Shares, areas or counts, 1-D (one unit) or 2-D (one row per unit); normalised to sum
        to 1 per row. Zero or negative entries do not count.
    k
        Number of classes of the classification (fixed per classification, so that values
        are comparable); default the number of columns.

    Returns
    -------
    float or numpy.ndarray
        0..1; NaN where a row has no positive share.
    """
    p = _proportions(shares)
    kk = p.shape[-1] if k is None else int(k)
    if kk < 2:
        msg = f"shannon_entropy needs k >= 2 classes, got k={kk}"
        raise ConfigError(msg)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    h = -terms.sum(axis=-1) / np.log(kk)
    h = np.where(np.isnan(p).any(axis=-1), np.nan, h)
    return float(h) if np.ndim(h) == 0 else h


def gini_simpson(shares: object) -> np.ndarray | float:
    """Gini-Simpson index 1 − Σ pᵢ² (probability that two random picks differ in class)."""
    p = _proportions(shares)
    g = 1.0 - np.sum(p**2, axis=-1)
    return float(g) if np.ndim(g) == 0 else g


def hill_number(shares: object, q: float) -> np.ndarray | float:
    """Hill number ᵠD = (Σ pᵢ^q)^(1/(1−q)), the effective number of classes.

    ``q = 0`` counts the classes present, ``q = 1`` is exp(Shannon entropy) (the limit),
    ``q = 2`` is the inverse Simpson index.
    """
    p = _proportions(shares)
    pos = p > 0
    if q == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(pos, p * np.log(np.where(pos, p, 1.0)), 0.0).sum(axis=-1)
        d = np.exp(h)
    else:
        s = np.where(pos, np.where(pos, p, 1.0) ** q, 0.0).sum(axis=-1)
        d = s ** (1.0 / (1.0 - q))
    d = np.where(np.isnan(p).any(axis=-1), np.nan, d)
    return float(d) if np.ndim(d) == 0 else d


# --- Bezirk helpers -----------------------------------------------------------------------


def _boundary_segments(bez: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two-point line segments of the Bezirk boundaries with the code of their Bezirk."""
    boundary = shapely.boundary(bez.geometry.to_numpy())
    parts, part_owner = shapely.get_parts(boundary, return_index=True)
    coords, ring = shapely.get_coordinates(parts, return_index=True)
    same = ring[1:] == ring[:-1]
    starts = coords[:-1][same]
    ends = coords[1:][same]
    segs = shapely.linestrings(np.stack([starts, ends], axis=1))
    owner = part_owner[ring[:-1][same]]
    return segs, bez["bezirk_code"].to_numpy(dtype=object)[owner]


def plot_bezirk(
    plots: gpd.GeoDataFrame, bezirke: gpd.GeoDataFrame, *, max_snap_m: float = 250.0
) -> pd.Series:
    """Stadtbezirk code of each plot (the Bezirk containing its representative point).

    A plot whose representative point lies in no Bezirk (a gap or the edge of the boundary
    layer) gets the nearest Bezirk within ``max_snap_m`` (0 m when it overlaps one).

    Returns
    -------
    pandas.Series
        ``bezirk_code`` (str) on ``plots.index``; missing where a plot lies outside all.
    """
    check_crs(plots, name="plots")
    check_crs(bezirke, name="Stadtbezirke")
    if "bezirk_code" not in bezirke.columns:
        msg = "Stadtbezirke need a 'bezirk_code' column (use sources.quarters.read_stadtbezirke)"
        raise MissingColumnError(msg)
    pts = gpd.GeoDataFrame(
        {"_pos": np.arange(len(plots))},
        geometry=plots.geometry.representative_point().to_numpy(),
        crs=plots.crs,
    )
    bez = bezirke[["bezirk_code", "geometry"]]
    joined = gpd.sjoin(pts, bez, predicate="within", how="left")
    joined = joined.drop_duplicates("_pos").sort_values("_pos")
    codes = joined["bezirk_code"].to_numpy(dtype=object)
    lost = pd.isna(codes)
    if lost.any():
        # plots straddling a gap of the boundary layer: the nearest Bezirk within max_snap_m
        # (nearest boundary *segment*: exact distances to small segments are cheap, whereas
        # distances to whole Bezirk polygons with thousands of vertices are not)
        seg_geoms, seg_codes = _boundary_segments(bez)
        tree = shapely.STRtree(seg_geoms)
        lost_pos = np.flatnonzero(lost)
        left, right = tree.query_nearest(
            plots.geometry.to_numpy()[lost], max_distance=max_snap_m, all_matches=False
        )
        codes[lost_pos[left]] = seg_codes[right]
    return pd.Series(codes, index=plots.index, name="bezirk_code")


def _plot_codes(
    plots: gpd.GeoDataFrame,
    bezirke: gpd.GeoDataFrame | None,
    bezirk_codes: pd.Series | None,
) -> np.ndarray:
    """Bezirk code per plot: ``bezirk_codes`` if given (checked), else :func:`plot_bezirk`."""
    if bezirk_codes is None:
        if bezirke is None:
            msg = (
                "pass the Stadtbezirke (bezirke=...) or the Bezirk of every plot "
                "(bezirk_codes=plot_bezirk(plots, bezirke))"
            )
            raise ValidationError("Bezirk lookup", [msg])
        return plot_bezirk(plots, bezirke).to_numpy()
    if not isinstance(bezirk_codes, pd.Series) or not bezirk_codes.index.equals(plots.index):
        msg = (
            "bezirk_codes must be a Series on plots.index, as plot_bezirk(plots, bezirke) "
            "returns it for the same plots"
        )
        raise ValidationError("bezirk_codes", [msg])
    return bezirk_codes.to_numpy(dtype=object)


def bezirk_class_shares(bezirk_shares: pd.DataFrame) -> pd.DataFrame:
    """Realnutzung shares per Bezirk as a ``bezirk_code`` × :data:`MIX_CLASSES` frame (0–1).

    Parameters
    ----------
    bezirk_shares
        Wide table with ``bezirk_code`` as a column or as the index and one column per land
        use (German Realnutzung labels such as "Wohnbauflächen" or the English class names;
        percentages or fractions); or long table with ``bezirk_code``, a class/label column
        (``category``, ``class``, ``landuse`` or ``label``) and a ``share``/``share_pct``
        column. Columns that are no land-use class are ignored (logged).
    """
    df = bezirk_shares.copy()
    if "bezirk_code" not in df.columns:
        if df.index.name != "bezirk_code":
            msg = (
                "Bezirk land-use shares need a 'bezirk_code' column or index "
                "(use sources.statistics.realnutzung_shares)"
            )
            raise MissingColumnError(msg)
        df = df.reset_index()
    label_col = next((c for c in ("category", "class", "landuse", "label") if c in df), None)
    value_col = next((c for c in ("share", "share_pct", "percent", "pct") if c in df), None)
    if label_col is not None and value_col is not None:
        df = df.pivot_table(
            index="bezirk_code", columns=label_col, values=value_col, aggfunc="sum"
        ).reset_index()
    df["bezirk_code"] = df["bezirk_code"].astype(str).str.zfill(2)
    out = pd.DataFrame(
        0.0, index=pd.Index(df["bezirk_code"], name="bezirk_code"), columns=list(MIX_CLASSES)
    )
    ignored = []
    for col in df.columns:
        if col == "bezirk_code":
            continue
        cls = realnutzung_class(col)
        values = pd.to_numeric(df[col], errors="coerce")
        if cls is None or values.isna().all():
            ignored.append(str(col))
            continue
        out[cls] += values.fillna(0.0).to_numpy()
    if ignored:
        logger.debug("Bezirk land-use shares: columns not used as land-use classes: %s", ignored)
    total = out.sum(axis=1)
    out = out.div(total.where(total > 0), axis=0)
    return out


# --- criteria -------------------------------------------------------------------------


def _polygon_mix_shares(
    plots: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame, radius_m: float
) -> pd.DataFrame:
    """Area of each mix class inside a radius around each plot (rows = plot positions)."""
    if "zone_category" not in landuse.columns:
        msg = "land-use polygons need a 'zone_category' column (see docs/design.md)"
        raise MissingColumnError(msg)
    lu = landuse[["zone_category", "geometry"]].copy()
    lu["mix_class"] = lu["zone_category"].map(ZONE_TO_MIX)
    lu = lu.dropna(subset=["mix_class"])
    lu = lu[is_polygonal(lu.geometry)]
    buffers = gpd.GeoDataFrame(
        {"_pos": np.arange(len(plots))},
        geometry=plots.geometry.buffer(radius_m).to_numpy(),
        crs=plots.crs,
    )
    areas = np.zeros((len(plots), len(MIX_CLASSES)))
    if len(lu):
        pieces = gpd.overlay(
            buffers, lu[["mix_class", "geometry"]], how="intersection", keep_geom_type=True
        )
        if len(pieces):
            pieces["_a"] = pieces.geometry.area
            grouped = pieces.groupby(["_pos", "mix_class"])["_a"].sum().unstack(fill_value=0.0)
            grouped = grouped.reindex(columns=list(MIX_CLASSES), fill_value=0.0)
            areas[grouped.index.to_numpy()] = grouped.to_numpy()
    return pd.DataFrame(areas, columns=list(MIX_CLASSES))


def landuse_mix(
    plots: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    radius_m: float = 800.0,
    bezirke: gpd.GeoDataFrame | None = None,
    bezirk_shares: pd.DataFrame | None = None,
    bezirk_codes: pd.Series | None = None,
) -> pd.DataFrame:
    """Land-use mix around each plot (normalised Shannon entropy and Gini-Simpson).

    With ``landuse`` polygons (``zone_category``), the shares are the areas of each
    :data:`MIX_CLASSES` class inside a ``radius_m`` buffer around the plot (one overlay for
    all plots). Plots whose buffer meets no land-use polygon — or all plots, when no polygons
    are given — use the Realnutzung shares of their Stadtbezirk (``bezirke`` +
    ``bezirk_shares``). ``mix_source`` says which: ``landuse_<radius>m``, ``bezirk`` or
    ``""`` (no data, NaN values).

    ``bezirk_codes`` (the Bezirk of every plot, as :func:`plot_bezirk` returns it) can be
    passed instead of ``bezirke`` to share one lookup between the Bezirk criteria.

    Returns
    -------
    pandas.DataFrame
        ``mix_shannon``, ``mix_gini_simpson``, ``mix_source`` on ``plots.index``.
    """
    check_crs(plots, name="plots")
    n = len(plots)
    shares = np.full((n, len(MIX_CLASSES)), np.nan)
    source = np.full(n, "", dtype=object)
    if landuse is not None and len(landuse) and n:
        check_crs(landuse, name="land-use polygons")
        areas = _polygon_mix_shares(plots, landuse, radius_m).to_numpy()
        has = areas.sum(axis=1) > 0
        shares[has] = areas[has]
        source[has] = f"landuse_{round(radius_m)}m"
    todo = source == ""
    has_bezirk = bezirke is not None or bezirk_codes is not None
    if todo.any() and has_bezirk and bezirk_shares is not None:
        table = bezirk_class_shares(bezirk_shares)
        codes = _plot_codes(plots, bezirke, bezirk_codes)
        found = table.reindex(pd.Index(codes, dtype=object)).to_numpy()
        ok = todo & np.isfinite(found).all(axis=1) & (np.nan_to_num(found).sum(axis=1) > 0)
        shares[ok] = found[ok]
        source[ok] = "bezirk"
    k = len(MIX_CLASSES)
    return pd.DataFrame(
        {
            "mix_shannon": shannon_entropy(shares, k=k) if n else np.array([], dtype=float),
            "mix_gini_simpson": gini_simpson(shares) if n else np.array([], dtype=float),
            "mix_source": source,
        },
        index=plots.index,
    )


def jobs_housing_ratio(
    plots: gpd.GeoDataFrame,
    *,
    bezirke: gpd.GeoDataFrame | None = None,
    bezirk_shares: pd.DataFrame,
    bezirk_weights: Mapping[str, float] | None = None,
    bezirk_codes: pd.Series | None = None,
) -> pd.Series:
    """Jobs–housing proxy of each plot's Stadtbezirk, relative to the city (1 = city).

    Employees by *place of work* are not published per Stadtbezirk (the profiles count
    employees at their place of residence), so the proxy uses land: (commercial + ½ mixed
    building land) / residential building land of the Bezirk's Realnutzung, divided by the
    same ratio for the whole city. The city ratio comes from ``bezirk_shares.attrs["city"]``
    (the whole-city column of the profiles, as set by
    :func:`handwerkgeo.sources.statistics.realnutzung_shares`) or else from the Bezirk
    shares weighted by ``bezirk_weights`` (e.g. Bezirk areas; default equal weights).
    The plots' Bezirke come from ``bezirke`` or, precomputed by :func:`plot_bezirk`, from
    ``bezirk_codes``.

    Returns
    -------
    pandas.Series
        ``jobs_housing_ratio`` on ``plots.index``; NaN outside all Bezirke.
    """
    table = bezirk_class_shares(bezirk_shares)
    w = (
        pd.Series(bezirk_weights, dtype=float).reindex(table.index).fillna(0.0)
        if bezirk_weights is not None
        else pd.Series(1.0, index=table.index)
    )
    jobs = table["commercial"] + 0.5 * table["mixed"]
    housing = table["residential"]
    city_shares = bezirk_shares.attrs.get("city") or {}
    if city_shares and bezirk_weights is None:
        city_table = bezirk_class_shares(
            pd.DataFrame([{**city_shares, "bezirk_code": "city"}])
        ).iloc[0]
        city = float(
            (city_table["commercial"] + 0.5 * city_table["mixed"]) / city_table["residential"]
        )
    else:
        city = float((jobs * w).sum() / (housing * w).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (jobs / housing.where(housing > 0)) / city
    codes = _plot_codes(plots, bezirke, bezirk_codes)
    out = ratio.reindex(pd.Index(codes, dtype=object)).to_numpy(dtype=float)
    return pd.Series(out, index=plots.index, name="jobs_housing_ratio")


def social_indicator(
    plots: gpd.GeoDataFrame,
    *,
    bezirke: gpd.GeoDataFrame | None = None,
    bezirk_indicators: pd.DataFrame,
    column: str | None = None,
    weight_column: str | None = "population",
    bezirk_codes: pd.Series | None = None,
) -> pd.Series:
    """SGB II share of each plot's Stadtbezirk relative to the city (1 = city average).

    Parameters
    ----------
    bezirk_indicators
        One row per Bezirk with ``bezirk_code`` (column or index) and an SGB II share column.
    column
        Name of the SGB II share column; default ``sgb2_share``, else the first column
        naming SGB II and a share (``anteil``, ``quote``, ``share``, ``pct``).
    weight_column
        Column to weight the city average with (population); equal weights if absent.
        Not used when ``bezirk_indicators.attrs["city"]`` holds the city value (as
        :func:`handwerkgeo.sources.statistics.bezirk_indicators` sets it).
    bezirke, bezirk_codes
        The Stadtbezirke, or the Bezirk of every plot precomputed by :func:`plot_bezirk`
        (one of them is needed).

    Returns
    -------
    pandas.Series
        ``sgb2_relative`` on ``plots.index``.
    """
    df = bezirk_indicators.copy()
    if "bezirk_code" not in df.columns:
        if df.index.name != "bezirk_code":
            msg = "Bezirk indicators need a 'bezirk_code' column or index"
            raise MissingColumnError(msg)
        df = df.reset_index()
    if column is None:
        sgb = [c for c in df.columns if re.search(r"sgb_?2|sgb_?ii", str(c).lower())]
        shares = [c for c in sgb if re.search(r"share|quot|anteil|pct|%", str(c).lower())]
        column = "sgb2_share" if "sgb2_share" in df.columns else next(iter(shares), None)
    if column is None or column not in df.columns:
        msg = (
            f"Bezirk indicators have no SGB II share column ({column or 'sgb2…'}); "
            f"columns: {list(df.columns)}. Pass column=..."
        )
        raise MissingColumnError(msg)
    df["bezirk_code"] = df["bezirk_code"].astype(str).str.zfill(2)
    value = pd.to_numeric(df[column], errors="coerce")
    if weight_column and weight_column in df.columns:
        w = pd.to_numeric(df[weight_column], errors="coerce").fillna(0.0)
    else:
        w = pd.Series(1.0, index=df.index)
    ok = value.notna()
    city_value = (bezirk_indicators.attrs.get("city") or {}).get(column)
    if city_value is not None and np.isfinite(city_value) and city_value > 0:
        city = float(city_value)
    else:
        city = float((value[ok] * w[ok]).sum() / w[ok].sum())
    rel = pd.Series((value / city).to_numpy(), index=df["bezirk_code"])
    codes = _plot_codes(plots, bezirke, bezirk_codes)
    out = rel.reindex(pd.Index(codes, dtype=object)).to_numpy(dtype=float)
    return pd.Series(out, index=plots.index, name="sgb2_relative")
