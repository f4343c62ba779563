"""Utilities of the active criteria: breakpoints or table, then the criterion's hook."""

from __future__ import annotations

import numpy as np
import pandas as pd

from handwerkgeo.config import ScoringConfig
from handwerkgeo.criteria._utility import as_float, lookup, utility
from handwerkgeo.criteria.registry import criterion_spec

__all__ = ["criterion_utility", "utility", "utility_matrix"]


def criterion_utility(raw: pd.DataFrame, name: str, config: ScoringConfig) -> np.ndarray:
    """Utility 0..1 of one criterion for every row of ``raw`` (NaN = no data).

    A ``table`` maps categories; otherwise the ``breakpoints`` give a piecewise linear
    utility, which the criterion's utility hook (registry entry) may adjust.
    """
    crit = config.criteria[name]
    col = raw.get(f"raw_{name}")
    if col is None:
        return np.full(len(raw), np.nan)
    spec = criterion_spec(name, crit)
    if crit.table is not None:
        return lookup(col, crit.table, lower=spec.lower_categories)
    x = as_float(col)
    u = utility(x, crit.breakpoints or ())
    if spec.utility is not None:
        u = spec.utility(u, x, raw, crit, config)
    return u


def utility_matrix(raw: pd.DataFrame, config: ScoringConfig) -> tuple[np.ndarray, list[str]]:
    """Utilities of the active criteria as an n × c matrix (NaN = no data) and their names.

    Examples
    --------
    >>> from handwerkgeo.config import default_config
    >>> raw = pd.DataFrame({"raw_plot_size": [2500.0, 8000.0]})
    >>> u, names = utility_matrix(raw, default_config())
    >>> u[:, names.index("plot_size")].tolist()
    [0.3, 1.0]
    """
    names = list(config.active_criteria())
    u = np.empty((len(raw), len(names)))
    for j, name in enumerate(names):
        u[:, j] = criterion_utility(raw, name, config)
    return u, names
