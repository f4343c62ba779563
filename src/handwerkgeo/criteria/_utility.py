"""Utility helpers shared by the criteria and the scoring engine (no scoring imports here).

The piecewise linear :func:`utility` lives below the scoring engine so that a criterion's
utility hook (:attr:`handwerkgeo.criteria.registry.CriterionSpec.utility`) can use it
without importing :mod:`handwerkgeo.scoring`; :mod:`handwerkgeo.scoring` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["as_float", "lookup", "utility"]


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

    Examples
    --------
    >>> utility([0, 600, 5000, np.nan], [[400, 1.0], [800, 0.5], [1200, 0.0]]).tolist()
    [1.0, 0.75, 0.0, nan]
    """
    values = np.asarray(x, dtype=float)
    bp = np.asarray(breakpoints, dtype=float)
    out = np.interp(values, bp[:, 0], bp[:, 1])
    return np.where(np.isnan(values), np.nan, out)


def as_float(col: pd.Series) -> np.ndarray:
    """A column as float array (booleans 0/1; text that is not a number becomes NaN)."""
    if pd.api.types.is_bool_dtype(col):
        return col.astype("float64").to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def lookup(col: pd.Series, table: Mapping[str, float], *, lower: bool = False) -> np.ndarray:
    """Map category values through ``table`` (NaN for missing or unknown), via factorize.

    Examples
    --------
    >>> lookup(pd.Series(["GE", " WA", None, "x"]), {"GE": 1.0, "WA": 0.0}).tolist()
    [1.0, 0.0, nan, nan]
    """
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    keys = [str(u).strip() for u in uniques]
    if lower:
        keys = [k.lower() for k in keys]
    values = np.array([table.get(k, np.nan) for k in keys] + [np.nan], dtype=float)
    return values[codes]  # code -1 (missing) picks the trailing NaN
