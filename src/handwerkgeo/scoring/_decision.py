"""Decision readiness and carried attributes: what every output tells the planner besides
the score.

A plot whose criteria with data hold less than ``filters.decision_coverage`` of the weight
(default 0.6) is still scored and ranked, but flagged *nicht entscheidungsreif* (not ready
for a decision): ``decision_ready`` is False and ``decision_reason`` /
``decision_reason_en`` say why (reason code ``not_decision_ready`` of
:mod:`handwerkgeo.messages`). The flag depends on coverage only: an excluded plot keeps
its exclusion whatever its coverage.

Carried attributes are the planner's own columns of the listing (``Gemarkung``, ``Flur``,
``Bemerkung`` …): every plot column that is neither read by the engine nor produced by it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from handwerkgeo.config import FilterConfig
from handwerkgeo.messages import message

__all__ = [
    "DECISION_COLUMNS",
    "ENGINE_INPUT_COLUMNS",
    "carried_columns",
    "decision_flags",
    "decision_note",
    "decision_ready",
    "decision_summary",
    "decision_threshold",
]

#: Columns added by :func:`decision_flags` to the scored frame.
DECISION_COLUMNS: tuple[str, ...] = ("decision_ready", "decision_reason", "decision_reason_en")

#: Plot columns the engine reads (the canonical columns of the plot vocabulary) or the
#: reader adds for it; they are not carried attributes.
ENGINE_INPUT_COLUMNS: frozenset[str] = frozenset(
    {
        "plot_id",
        "name",
        "zoning",
        "owner",
        "area_m2",
        "land_value_eur_m2",
        "brownfield",
        "is_point",
        "area_stated_m2",
        "zone_category",
        "zone_source",
        "zone_confidence",
        "zone_label",
        "overlap_protected",
        "overlap_flood",
        "excluded",
        "exclusion_reason",
        "exclusion_reason_en",
        "score_total",
        "rank",
        "coverage",
        "missing_criteria",
        *DECISION_COLUMNS,
    }
)

_ENGINE_PATTERN = re.compile(r"^(raw|u|contrib|fallback|aux)_|^p_top_\d+$|^rank_p\d+$|^_")

#: Tolerance on the coverage comparison (weights are floats: 60/100 must count as 0.6).
_EPS = 1e-9


def decision_threshold(scored: pd.DataFrame) -> float:
    """The ``filters.decision_coverage`` of the run that made ``scored``.

    Frames without run metadata (or scored before the setting existed) get the default.
    """
    run = scored.attrs.get("run") or {}
    filters = (run.get("config") or {}).get("filters") or {}
    value = filters.get("decision_coverage")
    if value is None:
        return float(FilterConfig().decision_coverage)
    return float(value)


def _percent(x: float, lang: str = "de", *, below: float | None = None) -> str:
    """A share as whole percent, rounded as every table shows it (``79.5 %`` → ``80``).

    With ``below`` (the threshold a flagged plot missed), a value that would round up to
    the threshold or above gets one decimal instead (``59,6`` rather than ``60``), so a
    flagged plot never reads as if it had reached the threshold.

    >>> _percent(0.7955), _percent(0.5962, below=0.6), _percent(0.5962, "en", below=0.6)
    ('80', '59,6', '59.6')
    """
    value = 100.0 * x
    text = f"{value:.0f}"
    if below is not None and round(value) >= round(100.0 * below, 6):
        text = f"{math.floor(value * 10) / 10:.1f}"
        if lang == "de":
            text = text.replace(".", ",")
    return text


def decision_flags(
    coverage: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``decision_ready`` and the reasons in German and English ("" when ready).

    Examples
    --------
    >>> ok, de, en = decision_flags(np.array([0.45, 0.6, 1.0]), 0.6)
    >>> ok.tolist()
    [False, True, True]
    >>> de[0]
    'nicht entscheidungsreif: nur 45 % der Gewichte mit Daten (Schwelle 60 %)'
    """
    cov = np.nan_to_num(np.asarray(coverage, dtype=float), nan=0.0)
    ready = cov >= threshold - _EPS
    minimum = _percent(threshold)
    de = np.full(len(cov), "", dtype=object)
    en = np.full(len(cov), "", dtype=object)
    for i in np.flatnonzero(~ready).tolist():
        for lang, out in (("de", de), ("en", en)):
            share = _percent(cov[i], lang, below=threshold)
            out[i] = message("not_decision_ready", lang, coverage=share, minimum=minimum)
    return ready, de, en


def decision_note(coverage: float, threshold: float, missing: list[str], lang: str = "de") -> str:
    """The warning a map card, profile or council text shows on a plot not ready for a
    decision, with every missing criterion (never shortened).

    Examples
    --------
    >>> decision_note(0.42, 0.6, ["Transit", "Land value"], "en")
    'Not ready for a decision: data coverage 42 % (threshold 60 %). Missing: Transit, Land value'
    """
    cov = 0.0 if coverage is None or not math.isfinite(float(coverage)) else float(coverage)
    return message(
        "decision_warning",
        lang,
        coverage=_percent(cov, lang, below=threshold),
        minimum=_percent(threshold),
        missing=", ".join(missing) if missing else "–",
    )


def decision_ready(scored: pd.DataFrame) -> pd.Series:
    """Per plot whether it is ready for a decision (bool, aligned on ``scored.index``).

    Uses the ``decision_ready`` column; frames without it (scored by an older version, or
    rows of the site register) are judged from ``coverage`` and :func:`decision_threshold`.
    A frame without ``coverage`` counts as ready (nothing to judge by).
    """
    if "decision_ready" in scored.columns:
        return scored["decision_ready"].fillna(False).astype(bool)
    if "coverage" not in scored.columns:
        return pd.Series(True, index=scored.index)
    cov = pd.to_numeric(scored["coverage"], errors="coerce").to_numpy(dtype=float)
    ready, _, _ = decision_flags(cov, decision_threshold(scored))
    return pd.Series(ready, index=scored.index)


def decision_summary(scored: pd.DataFrame, lang: str = "de") -> str:
    """The run summary line: how many plots are not ready for a decision.

    Examples
    --------
    >>> s = pd.DataFrame({"coverage": [0.45, 0.45, 0.8]})
    >>> decision_summary(s)
    '2 von 3 Flächen nicht entscheidungsreif (Abdeckung < 60 %)'
    >>> decision_summary(s, "en")
    '2 of 3 plots not ready for a decision (coverage < 60 %)'
    """
    n = int((~decision_ready(scored)).sum())
    values: Mapping[str, Any] = {
        "n": n,
        "total": len(scored),
        "minimum": _percent(decision_threshold(scored)),
    }
    return message("decision_summary", lang, **values)


def carried_columns(frame: pd.DataFrame) -> list[str]:
    """The planner's own columns of a (scored) plot frame, in their order.

    ``attrs["carried"]`` (or ``attrs["run"]["carried"]``), when a reader recorded it, is
    used as given (restricted to columns present); otherwise every column that the engine
    neither reads (:data:`ENGINE_INPUT_COLUMNS`) nor writes (score, robustness and helper
    columns) and that is not the geometry.

    Examples
    --------
    >>> carried_columns(pd.DataFrame(columns=["plot_id", "name", "Gemarkung", "zoning",
    ...                                       "raw_transit", "score_total", "Bemerkung"]))
    ['Gemarkung', 'Bemerkung']
    """
    recorded = frame.attrs.get("carried")
    if recorded is None:
        recorded = (frame.attrs.get("run") or {}).get("carried")
    if recorded is not None:
        return [str(c) for c in recorded if c in frame.columns]
    geometry = frame.active_geometry_name if isinstance(frame, gpd.GeoDataFrame) else None
    out = []
    for col in frame.columns:
        name = str(col)
        if col == geometry or name in ENGINE_INPUT_COLUMNS or _ENGINE_PATTERN.match(name):
            continue
        if name == "geometry":
            continue
        out.append(name)
    return out
