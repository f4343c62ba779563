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
