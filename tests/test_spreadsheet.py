"""Spreadsheet safety: injection payloads never start a formula; CR/LF never split rows."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from handwerkgeo.spreadsheet import FORMULA_STARTS, csv_bytes, safe_cell, safe_frame

#: OWASP "CSV Injection" payloads and the TAB/CR/LF/full-width variants of issue #15.
PAYLOADS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    '=HYPERLINK("http://example.invalid","x")',
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\r\n=1+1",
    " =1+1",
    "\u00a0=1+1",
    "\uff1d1+1",
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff201+1",
    "=1+1\r\n=2+2",
    "x\r=1+1",
    "x\n@SUM(1)",
    'a;b"c',
]


def _dangerous(cell: str) -> bool:
    """Would a spreadsheet take this cell as a formula?"""
    if not cell:
        return False
    if cell[0] in "\t\r\n":
        return True
    return cell.lstrip(" \t\r\n\u00a0\u3000")[:1] in FORMULA_STARTS


@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_cell(payload: str) -> None:
    out = safe_cell(payload)
    assert not _dangerous(out)
    assert out.endswith(payload)  # nothing lost, only an apostrophe in front


@pytest.mark.parametrize("german", [True, False])
def test_csv_rows_never_split(german: bool) -> None:
    frame = pd.DataFrame({"plot_id": [f"P{i}" for i in range(len(PAYLOADS))], "name": PAYLOADS})
    data = csv_bytes(frame, german=german).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline=""), delimiter=";" if german else ","))
    assert len(rows) == len(PAYLOADS) + 1
    for row, payload in zip(rows[1:], PAYLOADS, strict=True):
        assert len(row) == 2
        assert not _dangerous(row[1])
        assert row[1].endswith(payload)


def test_german_numbers_and_missing_values() -> None:
    frame = pd.DataFrame(
        {"rank": pd.array([1, None], dtype="Int64"), "score": [71.25, float("nan")]}
    )
    text = csv_bytes(frame).decode("utf-8-sig")
    assert text == "rank;score\r\n1;71,25\r\n;\r\n"


def test_safe_frame_headers() -> None:
    out = safe_frame(pd.DataFrame({"=x": ["=1"]}))
    assert list(out.columns) == ["'=x"] and out.iloc[0, 0] == "'=1"
