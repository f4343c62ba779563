"""Plot ids: the one way every module reads the id of each row of a plot frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_ids"]


def plot_ids(frame: pd.DataFrame) -> np.ndarray:
    """``plot_id`` of each row as text (object array); the index as text when absent.

    Examples
    --------
    >>> plot_ids(pd.DataFrame({"plot_id": [1, 2]})).tolist()
    ['1', '2']
    >>> plot_ids(pd.DataFrame({"a": [1]}, index=[7])).tolist()
    ['7']
    """
    if "plot_id" in frame.columns:
        return frame["plot_id"].astype(str).to_numpy(dtype=object)
    return frame.index.astype(str).to_numpy(dtype=object)
