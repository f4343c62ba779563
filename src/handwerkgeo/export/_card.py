"""The score card of one plot, as display strings: what the map card and the site profile
show (title, "nicht entscheidungsreif" warning, the planner's own columns, summary and
per-criterion rows)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from handwerkgeo.config import FilterConfig
from handwerkgeo.export._labels import (
    TEXT,
    Criterion,
    check_lang,
    format_number,
    format_raw,
    is_missing,
)
from handwerkgeo.scoring import decision_note

__all__ = [
    "card_attributes",
    "decision_warning",
    "missing_labels",
    "plot_title",
    "score_card",
]


def plot_title(row: Mapping[str, Any]) -> str:
    """A plot's display name: ``name`` if given, with its ``plot_id``."""
    pid = "" if is_missing(row.get("plot_id")) else str(row.get("plot_id"))
    name = row.get("name")
    if is_missing(name) or not str(name).strip():
        return pid
    return f"{name} ({pid})" if pid and str(name) != pid else str(name)


def _top_n_keys(scored: pd.DataFrame) -> list[int]:
    keys = []
    for col in scored.columns:
        m = re.match(r"^p_top_(\d+)$", str(col))
        if m:
            keys.append(int(m.group(1)))
    return sorted(keys)


def missing_labels(row: Mapping[str, Any], criteria: list[Criterion]) -> list[str]:
    """The labels of the criteria a plot has no data for, all of them, in config order."""
    missing = row.get("missing_criteria")
    if is_missing(missing) or not str(missing).strip():
        return []
    labels = {c.name: c.label for c in criteria}
    return [labels.get(n, n) for n in (s.strip() for s in str(missing).split(",")) if n]


def decision_warning(
    row: Mapping[str, Any], criteria: list[Criterion], lang: str, threshold: float
) -> str | None:
    """The "nicht entscheidungsreif" line of a plot, ``None`` when it is ready."""
    ready = row.get("decision_ready")
    if is_missing(ready):  # a frame without the column: judge by coverage
        cov = row.get("coverage")
        ready = is_missing(cov) or float(cov) >= threshold - 1e-9  # type: ignore[arg-type]
    if bool(ready):
        return None
    cov = row.get("coverage")
    return decision_note(
        0.0 if is_missing(cov) else float(cov),  # type: ignore[arg-type]
        threshold,
        missing_labels(row, criteria),
        lang,
    )


def card_attributes(
    row: Mapping[str, Any], columns: Sequence[str], lang: str = "de"
) -> list[tuple[str, str]]:
    """The planner's carried columns of one plot as (column, text); empty cells left out.

    Examples
    --------
    >>> card_attributes({"Gemarkung": "Holthausen", "Flur": 3.0, "Bemerkung": None},
    ...                 ["Gemarkung", "Flur", "Bemerkung"])
    [('Gemarkung', 'Holthausen'), ('Flur', '3')]
    """
    out = []
    for col in columns:
        value = row.get(col)
        if is_missing(value) or not str(value).strip():
            continue
        if isinstance(value, bool | np.bool_):
            text_ = format_raw(bool(value), "", lang)
        elif isinstance(value, int | np.integer) or (
            isinstance(value, float | np.floating) and float(value).is_integer()
        ):
            text_ = str(int(value))
        else:
            text_ = format_raw(value, "", lang)
        out.append((str(col), text_))
    return out


def score_card(
    row: Mapping[str, Any],
    criteria: list[Criterion],
    lang: str = "de",
    n_ranked: int | None = None,
    *,
    attributes: Sequence[str] = (),
    threshold: float | None = None,
) -> dict[str, Any]:
    """The score card of one plot as display strings.

    ``attributes`` are the carried columns to show (see
    :func:`handwerkgeo.scoring.carried_columns`); ``threshold`` is the run's
    ``filters.decision_coverage`` (default that of the default configuration).

    Returns
    -------
    dict
        ``title``, ``warning`` (the "nicht entscheidungsreif" line with every missing
        criterion, or ``None``), ``attributes`` ((column, value) pairs), ``summary`` (list
        of (label, value) pairs) and ``rows`` (one dict per criterion with ``label``,
        ``raw``, ``utility``, ``contribution``, ``fallback``).
    """
    t = TEXT[check_lang(lang)]
    if threshold is None:
        threshold = float(FilterConfig().decision_coverage)
    summary: list[tuple[str, str]] = []
    summary.append((t["score_total"], f"{format_number(row.get('score_total'), lang, 1)} / 100"))
    rank = row.get("rank")
    if is_missing(rank):
        rank_s = "–"
    else:
        rank_s = str(int(float(rank)))  # type: ignore[arg-type]
        if n_ranked:
            rank_s += f" {t['of']} {n_ranked}"
    summary.append((t["rank"], rank_s))
    if bool(row.get("excluded")) and not is_missing(row.get("excluded")):
        reason = row.get("exclusion_reason")
        summary.append((t["excluded"], "" if is_missing(reason) else str(reason)))
    if "coverage" in row:
        cov = row.get("coverage")
        cov_s = "–" if is_missing(cov) else f"{format_number(float(cov) * 100, lang, 0)} %"  # type: ignore[arg-type]
        summary.append((t["coverage"], cov_s))
    missing = missing_labels(row, criteria)
    if missing:
        summary.append((t["missing"], ", ".join(missing)))
    for n in _top_n_keys(pd.DataFrame([dict(row)])):
        p = row.get(f"p_top_{n}")
        p_s = "–" if is_missing(p) else f"{format_number(float(p) * 100, lang, 0)} %"  # type: ignore[arg-type]
        summary.append((t["p_top"].format(n=n), p_s))
    if "rank_p05" in row and "rank_p95" in row:
        lo, hi = row.get("rank_p05"), row.get("rank_p95")
        if not (is_missing(lo) or is_missing(hi)):
            summary.append(
                (t["rank_range"], f"{format_number(lo, lang, 0)}–{format_number(hi, lang, 0)}")
            )
    rows = []
    for c in criteria:
        fb = row.get(f"fallback_{c.name}")
        rows.append(
            {
                "name": c.name,
                "label": c.label,
                "raw": format_raw(row.get(f"raw_{c.name}"), c.unit, lang, criterion=c.name),
                "utility": format_number(row.get(f"u_{c.name}"), lang, 2),
                "contribution": format_number(row.get(f"contrib_{c.name}"), lang, 1),
                "fallback": bool(fb) if not is_missing(fb) else False,
            }
        )
    return {
        "title": plot_title(row),
        "warning": decision_warning(row, criteria, lang, threshold),
        "attributes": card_attributes(row, attributes, lang),
        "summary": summary,
        "rows": rows,
    }
