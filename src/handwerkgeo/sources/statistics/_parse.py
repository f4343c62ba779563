"""The one parser of the city's human-formatted tables: labels, numbers, signs, dates, files.

Every table of the Amt für Statistik und Wahlen writes numbers as text with spaces as
thousands separators (``"38 757"``), German decimal commas (``"8,8"``) and the official
signs ``.`` (suppressed), ``x`` (not available), ``-`` (zero). :func:`parse_value` reads
one such cell into ``(value, status)``; the readers of this package use only these helpers.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from handwerkgeo._text import read_text
from handwerkgeo.errors import (
    DataSourceError,
    MissingColumnError,
)
from handwerkgeo.fetch import layer_paths

__all__ = [
    "MONTHS_DE",
    "SPACES",
    "THOUSANDS_DOTS",
    "DashMeaning",
    "clean_label",
    "join_notes",
    "layer_files",
    "one_file",
    "parse_date",
    "parse_value",
    "read_semicolon_csv",
]


PathLike = str | os.PathLike[str]

MONTHS_DE = {
    "januar": 1,
    "februar": 2,
    "märz": 3,
    "april": 4,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "august": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "dezember": 12,
}

# every kind of space a spreadsheet may use as thousands separator
SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009\u200a\u2002\u2003]+")

THOUSANDS_DOTS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def clean_label(value: object) -> str:
    """Strip a label and collapse inner whitespace (including non-breaking spaces)."""
    return SPACES.sub(" ", str(value)).strip()


DashMeaning = Literal["zero", "suppressed"]


def parse_value(raw: object, *, where: str, dash: DashMeaning = "zero") -> tuple[float, str]:
    """Parse one published value into ``(value, status)``.

    ``status`` is ``"value"``, ``"zero"`` (sign ``-``), ``"suppressed"`` (sign ``.``),
    ``"not_available"`` (sign ``x``) or ``"empty"``.
    """
    if raw is None:
        return np.nan, "empty"
    if isinstance(raw, bool):
        msg = f"{where}: expected a number, found the boolean {raw!r}."
        raise DataSourceError(msg)
    if isinstance(raw, int | float | np.integer | np.floating):
        v = float(raw)
        return (v, "value") if np.isfinite(v) else (np.nan, "empty")
    s = SPACES.sub("", str(raw)).replace("\u2212", "-").replace("\u2013", "-")
    if s == "":
        return np.nan, "empty"
    if s == ".":
        return np.nan, "suppressed"
    if s in {"-", "–"}:
        return (0.0, "zero") if dash == "zero" else (np.nan, "suppressed")
    if s.lower() == "x":
        return np.nan, "not_available"
    if THOUSANDS_DOTS.match(s):
        s = s.replace(".", "")
    elif "," in s:
        s = s.replace(".", "").replace(",", ".")
    try:
        return float(s), "value"
    except ValueError:
        msg = (
            f"{where}: cannot read {str(raw)!r} as a number. Expected digits with spaces as "
            "thousands separator and a decimal comma (e.g. '38 757', '8,8') or one of the "
            "official signs '.', '-', 'x'."
        )
        raise DataSourceError(msg) from None


def layer_files(layer: str, data_dir: PathLike | None) -> list[Path]:
    paths = layer_paths(layer, data_dir)
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    return [Path(p) for p in paths]


def one_file(path: PathLike | None, layer: str, data_dir: PathLike | None) -> Path:
    if path is not None:
        p = Path(path)
    else:
        files = layer_files(layer, data_dir)
        if len(files) != 1:
            msg = f"layer {layer!r} has {len(files)} files; pass path= explicitly."
            raise DataSourceError(msg)
        p = files[0]
    if not p.is_file():
        msg = f"{p} does not exist. Run `handwerkgeo data fetch` or pass the right path."
        raise DataSourceError(msg)
    return p


def read_semicolon_csv(path: Path, *, required: Sequence[str] = ()) -> pd.DataFrame:
    """Read a ``;``-separated city CSV as strings, checking the required header cells."""
    text = read_text(path)
    if not text.strip():
        msg = f"{path.name} is empty. Fetch it again with `handwerkgeo data fetch`."
        raise DataSourceError(msg)
    df = pd.read_csv(
        io.StringIO(text), sep=";", dtype=str, keep_default_na=False, skip_blank_lines=False
    )
    df.columns = [clean_label(c) for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        msg = (
            f"{path.name}: missing column(s) {missing}; found {list(df.columns)}. "
            "Is this the right file (semicolon-separated, header in the first line)?"
        )
        raise MissingColumnError(msg)
    return df


def parse_date(text: str) -> pd.Timestamp | None:
    if m := re.search(r"Stand:?\s*(\d{1,2})\.(\d{1,2})\.(\d{4})", text):
        return pd.Timestamp(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if m := re.search(r"(\d{1,2})\.\s*([A-Za-zäÄ]+)\s+(\d{4})", text):
        month = MONTHS_DE.get(m.group(2).lower())
        if month:
            return pd.Timestamp(int(m.group(3)), month, int(m.group(1)))
    return None


def join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)
