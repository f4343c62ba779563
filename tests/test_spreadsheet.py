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


# --- tables of any size: write_csv / write_xlsx ---------------------------------------


@pytest.mark.parametrize("german", [True, False])
@pytest.mark.parametrize("batch_rows", [3, 50_000])
def test_write_csv_is_safe_and_reads_back(tmp_path, german: bool, batch_rows: int) -> None:
    from handwerkgeo.spreadsheet import write_csv

    n = len(PAYLOADS)
    frame = pd.DataFrame(
        {
            "=plot_id": [f"P{i}" for i in range(n)],
            "name": PAYLOADS,
            "rank": pd.array([None if i == 2 else i for i in range(n)], dtype="Int64"),
            "score": [0.1 * i if i != 3 else float("nan") for i in range(n)],
            "mixed": [1.5 if i % 2 else "x" for i in range(n)],
            "flag": [i % 2 == 0 for i in range(n)],
        }
    )
    path = write_csv(frame, tmp_path / "t.csv", german=german, batch_rows=batch_rows)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == german
    sep = ";" if german else ","
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=sep))
    assert rows[0] == ["'=plot_id", "name", "rank", "score", "mixed", "flag"]
    assert len(rows) == n + 1 and all(len(r) == 6 for r in rows)
    for row, payload in zip(rows[1:], PAYLOADS, strict=True):
        assert not _dangerous(row[1]) and row[1].endswith(payload)
    assert rows[3][2] == "" and rows[4][3] == ""  # missing values are empty
    assert rows[2][3] == ("0,1" if german else "0.1") and rows[2][4] == ("1,5" if german else "1.5")
    assert rows[1][5] == "True"
    # the same content as csv_bytes, numbers aside (the shortest decimal: 0 not 0.0)
    old = list(
        csv.reader(
            io.StringIO(csv_bytes(frame, german=german).decode("utf-8-sig"), newline=""),
            delimiter=sep,
        )
    )
    assert [r[:3] for r in rows] == [r[:3] for r in old]
    assert raw.endswith(b"\r\n") and b"\r\n\r\n" not in raw.replace(b'"\r\n', b"")


def test_write_csv_quotes_only_what_needs_it(tmp_path) -> None:
    from handwerkgeo.spreadsheet import write_csv

    frame = pd.DataFrame({"id": ["A-1", "a;b", 'q"x'], "v": [1.25, 2.0, float("nan")]})
    text = write_csv(frame, tmp_path / "t.csv").read_bytes().decode("utf-8-sig")
    assert text == 'id;v\r\nA-1;1,25\r\n"a;b";2\r\n"q""x";\r\n'


def test_write_xlsx_is_safe_and_keeps_every_payload(tmp_path) -> None:
    import openpyxl

    from handwerkgeo.spreadsheet import Sheet, write_xlsx

    frame = pd.DataFrame({"name": PAYLOADS, "n": range(len(PAYLOADS))})
    path = write_xlsx(tmp_path / "t.xlsx", [Sheet("=Blatt", frame, blocks=[("@x", frame)])])
    ws = openpyxl.load_workbook(path).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if _dangerous(t)]
    for payload in PAYLOADS:  # CR and CRLF become LF, as XML makes of them
        assert any(t.endswith(payload.replace("\r\n", "\n").replace("\r", "\n")) for t in texts)
    assert "'@x" in texts and "_x000D_" not in "".join(texts)


def _ooxml_text(text: str) -> str:
    """Text with the ``_xHHHH_`` escapes decoded as Excel does (openpyxl keeps them)."""
    import re

    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def test_write_xlsx_values_read_back_exactly(tmp_path) -> None:
    """Floats (to the last bit), ints, NaN, awkward text: openpyxl and pandas read them back."""
    import math

    import numpy as np
    import openpyxl

    from handwerkgeo.spreadsheet import Sheet, write_xlsx

    floats = [0.1, 2**0.5, 1e-7, 123456789012.5, 54.040236397002204, float("nan"), -0.0, 1e22]
    texts = ["=1+1", "a < b & c", "Zeile 1\nZeile 2", "Lörick Ümläut ß", "x\x01y", "_x0041_"]
    texts = [*texts, "ok", " lead"]
    frame = pd.DataFrame(
        {
            "f": floats,
            "i": np.arange(len(floats), dtype="int64") * 1_000_003,
            "t": texts,
            "n": pd.array([1, None, 3, None, 5, 6, 7, 8], dtype="Int64"),
            "empty": [float("nan")] * len(floats),
        }
    )
    path = write_xlsx(tmp_path / "t.xlsx", [Sheet("Daten", frame, key_columns=1)])
    ws = openpyxl.load_workbook(path).worksheets[0]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(frame)
    for row, (f, i, t, n) in zip(
        rows, frame[["f", "i", "t", "n"]].itertuples(index=False), strict=True
    ):
        assert (
            (row[0] is None) if math.isnan(f) else (row[0] == f and isinstance(row[0], float | int))
        )
        assert row[1] == i and row[3] == (None if pd.isna(n) else n) and row[4] is None
        assert _ooxml_text(row[2]) == safe_cell(t)  # text as text, made safe, nothing lost
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == "A1:E9"
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape"
    back = pd.read_excel(path, sheet_name="Daten")
    assert back["f"].tolist()[:5] == floats[:5] and back["f"].isna().tolist()[5]
    assert back["i"].tolist() == frame["i"].tolist()
    assert [_ooxml_text(t) for t in back["t"]] == [safe_cell(t) for t in texts]
    assert back["empty"].isna().all()


def test_write_xlsx_keeps_every_row_of_a_long_table(tmp_path) -> None:
    """Rows beyond the first chunk are written in order, with their row heights."""
    import openpyxl

    from handwerkgeo.spreadsheet import Sheet, write_xlsx

    n = 45_123
    frame = pd.DataFrame({"id": [f"P{i}" for i in range(n)], "v": [i / 7 for i in range(n)]})
    frame.loc[n - 1, "id"] = "lang " * 30
    path = write_xlsx(tmp_path / "t.xlsx", [Sheet("S", frame, blocks=[("Quelle", frame[:2])])])
    ws = openpyxl.load_workbook(path, read_only=False).worksheets[0]
    assert ws.max_row == n + 6  # header, rows, gap, block title, block header, 2 rows
    assert [ws.cell(r, 2).value for r in (2, 20_001, 20_002, n + 1)] == [
        0.0,
        19_999 / 7,
        20_000 / 7,
        (n - 1) / 7,
    ]
    assert ws.row_dimensions[n + 1].height > 15 and ws.cell(n + 3, 1).value == "Quelle"
