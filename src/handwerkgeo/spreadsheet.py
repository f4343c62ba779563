"""Safe spreadsheet cells and CSV files for every table handwerkgeo writes.

Plot names, remarks and ids come from planners' listings and may hold anything. A text
cell that a spreadsheet would read as a formula (``=HYPERLINK(…)``, ``+1``, ``-1+1``,
``@SUM(…)``, also behind a leading TAB, CR, LF or spaces, and the full-width ``＝＋－＠``)
is neutralised with a leading apostrophe (OWASP "CSV injection"), and CSV is written
through the :mod:`csv` module with RFC 4180 quoting and CRLF line ends, so a CR or LF
inside a field can never split a row. Every XLSX and CSV writer of the package goes
through :func:`safe_frame` and :func:`csv_bytes`.

Examples
--------
>>> [safe_cell(v) for v in ["=1+1", "\\t=1+1", " @SUM(A1)", "Lörick", "-", 5]]
["'=1+1", "'\\t=1+1", "' @SUM(A1)", 'Lörick', "'-", 5]
>>> csv_bytes(pd.DataFrame({"a": ["x\\r=1+1", "\\r=1+1"]}), german=False).decode()
'a\\r\\n"x\\r=1+1"\\r\\n"\\'\\r=1+1"\\r\\n'
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMULA_STARTS", "csv_bytes", "safe_cell", "safe_frame"]

#: First characters (after leading white space) that make a spreadsheet cell a formula.
FORMULA_STARTS: frozenset[str] = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_LEADING = " \t\r\n\u00a0\u3000"


def safe_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe if a spreadsheet would take it as a formula.

    Non-text values are returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    if value[0] in "\t\r\n" or value.lstrip(_LEADING)[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and the column names) made safe."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(safe_cell)
    out.columns = [safe_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _fmt(value: Any, german: bool) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        text = repr(float(value))
        return text.replace(".", ",") if german else text
    return value


def csv_bytes(frame: pd.DataFrame, *, german: bool = True) -> bytes:
    """The frame as safe CSV: German Excel (``;``, decimal comma, UTF-8 with BOM) or plain.

    Cells are neutralised with :func:`safe_cell`; fields holding the separator, a quote,
    CR or LF are quoted; rows end in CRLF.
    """
    safe = safe_frame(frame)
    buf = io.StringIO()
    writer = csv.writer(
        buf, delimiter=";" if german else ",", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writerow([str(c) for c in safe.columns])
    columns = [safe[c].to_numpy(dtype=object) for c in safe.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([_fmt(v, german) for v in row])
    text = buf.getvalue()
    return ("\ufeff" + text).encode("utf-8") if german else text.encode("utf-8")
