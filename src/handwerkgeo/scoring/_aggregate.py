"""Hard filters, weighted aggregation and rank: :func:`score_raw` (pure, vectorised)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo._ids import plot_ids
from handwerkgeo.config import ScoringConfig, default_config
from handwerkgeo.criteria._utility import as_float
from handwerkgeo.messages import message
from handwerkgeo.scoring._decision import DECISION_COLUMNS, decision_flags
from handwerkgeo.scoring._utility import utility_matrix

__all__ = [
    "FIXED_COLUMNS",
    "SCORE_PREFIXES",
    "ZONE_NAMES",
    "criteria_info",
    "number",
    "score_raw",
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
    *DECISION_COLUMNS,
)

#: Prefixes of the per-criterion columns of a scored frame.
SCORE_PREFIXES: tuple[str, ...] = ("raw_", "u_", "contrib_", "fallback_", "aux_")

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

_LANGS = ("de", "en")


def number(x: float, lang: str, *, grouped: bool = True) -> str:
    """A whole number for a reason text: ``12.345`` in German, ``12,345`` in English.

    Examples
    --------
    >>> number(12345.4, "de"), number(12345.4, "en"), number(75.0, "en", grouped=False)
    ('12.345', '12,345', '75')
    """
    if lang == "en":
        return f"{x:,.0f}" if grouped else f"{x:.0f}"
    text = f"{x:,.0f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


# --- hard filters --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """A hard filter that hit: the plots, the reason code and its values per plot and lang."""

    mask: np.ndarray
    code: str
    values: Callable[[int, str], dict[str, str]]


def _area_rule(raw: pd.DataFrame, config: ScoringConfig) -> _Rule | None:
    if "area_m2" not in raw:
        return None
    minimum = config.filters.min_area_m2
    area = as_float(raw["area_m2"])
    return _Rule(
        np.isfinite(area) & (area < minimum),
        "excluded_area",
        lambda i, lang: {"area": number(area[i], lang), "minimum": number(minimum, lang)},
    )


def _zone_rule(raw: pd.DataFrame, config: ScoringConfig) -> _Rule | None:
    excluded = config.filters.excluded_zones
    if "zone_category" not in raw or not excluded:
        return None
    zones = raw["zone_category"].to_numpy(dtype=object)

    def values(i: int, lang: str) -> dict[str, str]:
        names = ZONE_NAMES.get(zones[i], (zones[i], zones[i]))
        return {"zone": zones[i], "zone_name": names[_LANGS.index(lang)]}

    return _Rule(np.isin(zones, list(excluded)), "excluded_zone", values)


def _overlap_rules(raw: pd.DataFrame, config: ScoringConfig) -> list[_Rule]:
    f = config.filters
    rules = []
    for col, flag, code in (
        ("overlap_protected", f.exclude_protected_areas, "excluded_protected_area"),
        ("overlap_flood", f.exclude_flood_areas, "excluded_flood_area"),
    ):
        if flag and col in raw:
            share = as_float(raw[col])

            def values(i: int, lang: str, s: np.ndarray = share) -> dict[str, str]:
                return {"share": number(100 * s[i], lang, grouped=False)}

            rules.append(_Rule(np.isfinite(share) & (share >= f.max_overlap_share), code, values))
    return rules


def _coverage_rules(coverage: np.ndarray, config: ScoringConfig) -> list[_Rule]:
    minimum = config.filters.min_coverage
    none = coverage <= 0
    return [
        _Rule(none, "no_criterion_data", lambda i, lang: {}),
        _Rule(
            ~none & (coverage < minimum),
            "excluded_low_coverage",
            lambda i, lang: {
                "coverage": number(100 * coverage[i], lang, grouped=False),
                "minimum": number(100 * minimum, lang, grouped=False),
            },
        ),
    ]


def _reasons(rules: Sequence[_Rule], n: int, lang: str) -> np.ndarray:
    """The reasons of every plot in ``lang``, joined by ``"; "`` (``""`` if none hit)."""
    out = np.full(n, "", dtype=object)
    for rule in rules:
        idx = np.flatnonzero(rule.mask)
        if not len(idx):
            continue
        new: Any = np.array(
            [message(rule.code, lang, **rule.values(i, lang)) for i in idx.tolist()], dtype=object
        )
        old: Any = out[idx]
        out[idx] = np.where(old == "", new, old + "; " + new)
    return out


def exclusions(
    raw: pd.DataFrame, config: ScoringConfig, coverage: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hard filters: excluded mask and the reasons in German and English ("" if kept).

    The reasons are reason codes of :data:`handwerkgeo.messages.MESSAGES` rendered with
    :func:`~handwerkgeo.messages.message`, in the order area, zone, protected area, flood
    area, coverage.
    """
    rules = [r for r in (_area_rule(raw, config), _zone_rule(raw, config)) if r is not None]
    rules += _overlap_rules(raw, config) + _coverage_rules(coverage, config)
    de = _reasons(rules, len(raw), "de")
    en = _reasons(rules, len(raw), "en")
    return de != "", de, en


# --- aggregation ---------------------------------------------------------------------------


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


def criteria_info(config: ScoringConfig) -> dict[str, dict[str, Any]]:
    """Per criterion: weight, German and English label, unit, active (run metadata)."""
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
        "criteria": criteria_info(config),
        "sources": [dict(s) for s in sources],
        "missing_reasons": dict(notes or {}),
    }


def _weighted(u: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contributions, score and coverage of every plot (see the package docstring)."""
    avail = ~np.isnan(u)
    denom = (avail * w).sum(axis=1)
    total_w = float(w.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = np.where(avail, np.nan_to_num(u) * w, 0.0) * (100.0 / denom)[:, None]
    has = denom > 0
    contrib[~has] = 0.0
    score = np.where(has, contrib.sum(axis=1), np.nan)
    coverage = denom / total_w if total_w > 0 else np.zeros(len(u))
    return contrib, score, coverage


def score_raw(raw: pd.DataFrame, config: ScoringConfig | None = None) -> pd.DataFrame:
    """Utilities, filters, weighted score and rank from raw criterion values (pure, fast).

    Parameters
    ----------
    raw
        Output of :func:`~handwerkgeo.scoring.compute_raw`, optionally joined with the plots
        (then the plot columns and geometry are kept, and a GeoDataFrame comes back).
        Criteria without a ``raw_<k>`` column count as "no data". Existing score columns
        are replaced.
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
    contrib, score, coverage = _weighted(u, w)
    # a criterion with data but weight 0: available, no points; plots whose only data has
    # weight 0 still have no score
    has_data = avail.any(axis=1)
    excluded, reason_de, reason_en = exclusions(raw, config, np.where(has_data, coverage, 0.0))
    ranks = _rank(score, excluded, plot_ids(raw))

    base_cols = [
        c for c in raw.columns if not c.startswith(SCORE_PREFIXES[1:3]) and c not in FIXED_COLUMNS
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
    ready, ready_de, ready_en = decision_flags(
        np.where(has_data, coverage, 0.0), config.filters.decision_coverage
    )
    cols["decision_ready"] = ready
    cols["decision_reason"] = ready_de
    cols["decision_reason_en"] = ready_en
    out = pd.concat([out, pd.DataFrame(cols, index=raw.index)], axis=1)
    if isinstance(raw, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=raw.geometry.name, crs=raw.crs)
    notes = raw.attrs.get("missing_reasons", {})
    sources = raw.attrs.get("sources", [])
    out.attrs = {"run": _run_info(config, sources=sources, notes=notes)}
    n_ex = int(excluded.sum())
    logger.info(
        "scored %d plot(s) with config %s (%s): %d ranked, %d excluded, %d not ready for a "
        "decision (coverage < %g)",
        n,
        config.name,
        config.hash,
        n - n_ex,
        n_ex,
        int((~ready).sum()),
        config.filters.decision_coverage,
    )
    return out
