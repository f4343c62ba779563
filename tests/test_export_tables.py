"""Tests of the XLSX/CSV score tables."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from test_export_maps import XSS, make_scored

from handwerkgeo.errors import ConfigError, MissingColumnError
from handwerkgeo.export.tables import criteria_table, export_tables, ranking_table


def test_xlsx_sheets_headers_and_layout(tmp_path: Path) -> None:
    scored = make_scored(12)
    out = export_tables(scored, xlsx_path=tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(out["xlsx"])
    assert wb.sheetnames == ["Rangfolge", "Kriterien", "Konfiguration und Quellen"]
    ws = wb["Rangfolge"]
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["Rang", "Flächen-ID", "Name", "Gesamtpunktzahl"]
    assert "Wahrscheinlichkeit Top 10 (%)" in headers
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width >= 10
    # best first, the excluded plots last with their reason
    assert ws["A2"].value == 1 and ws["B2"].value == "P000"
    reasons = [ws.cell(row=r, column=headers.index("Ausschlussgrund") + 1).value for r in (12, 13)]
    assert "Fläche < 2.500 m²" in reasons
    crit = wb["Kriterien"]
    assert [c.value for c in crit[1]][:5] == [
        "Rang",
        "Flächen-ID",
        "Kriterium",
        "Schlüssel",
        "Gewicht",
    ]
    assert crit.max_row == 1 + 12 * 15
    cfg = wb["Konfiguration und Quellen"]
    values = [str(c.value) for row in cfg.iter_rows() for c in row if c.value is not None]
    assert "abc123def4567890" in values
    assert "ODbL 1.0" in values and "dl-de/zero-2.0" in values
    assert any("plot_size" in v for v in values)


def test_xlsx_cell_values_match_frame(tmp_path: Path) -> None:
    scored = make_scored(8)
    df = pd.read_excel(export_tables(scored, tmp_path / "t.xlsx")["xlsx"], sheet_name="Kriterien")
    row = df[(df["Flächen-ID"] == "P005") & (df["Schlüssel"] == "transit")].iloc[0]
    assert row["Nutzen (0–1)"] == pytest.approx(scored.loc["P005", "u_transit"], abs=1e-3)
    assert row["Beitrag (Punkte)"] == pytest.approx(scored.loc["P005", "contrib_transit"], abs=1e-2)
    assert row["Einheit"] == "m"


def test_csv_excel_de_format(tmp_path: Path) -> None:
    scored = make_scored(6)
    path = export_tables(scored, csv_path=tmp_path / "t.csv")["csv"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Rang;Flächen-ID;Name;Gesamtpunktzahl")
    df = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    assert df["Gesamtpunktzahl"].iloc[0] == pytest.approx(round(scored["score_total"].max(), 1))
    assert "," in text.splitlines()[1].split(";")[3]  # decimal comma in the score
    assert XSS in text  # values written as they are (no HTML in CSV)


def test_csv_plain_format(tmp_path: Path) -> None:
    path = export_tables(
        make_scored(4), csv_path=tmp_path / "t.csv", csv_format="plain", lang="en"
    )["csv"]
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(path)
    assert list(df.columns[:4]) == ["Rank", "Plot ID", "Name", "Total score"]
    assert "Public transport: utility (0–1)" not in df.columns  # run labels win over defaults
    assert any(c.endswith("utility (0–1)") for c in df.columns)


def test_awkward_values_do_not_break_tables(tmp_path: Path) -> None:
    scored = make_scored(10)
    scored.loc["P003", "name"] = '=HYPERLINK("http://x")'
    scored.loc["P004", "score_total"] = float("nan")
    scored.loc["P005", "coverage"] = None
    out = export_tables(scored, tmp_path / "a.xlsx", tmp_path / "a.csv")
    ws = openpyxl.load_workbook(out["xlsx"])["Rangfolge"]
    names = [c.value for c in ws["C"]]
    assert '\'=HYPERLINK("http://x")' in names  # formula neutralised
    assert any(n and len(n) > 400 for n in names)  # the very long name is kept whole
    assert "Höher Weg \"Süd\" & 'Nord' – Grundstück" in names
    assert "'=HYPERLINK" in out["csv"].read_text(encoding="utf-8-sig")


def test_tables_are_pure_and_errors_are_clear(tmp_path: Path) -> None:
    scored = make_scored(5)
    before = scored.copy()
    ranking_table(scored)
    criteria_table(scored, lang="en")
    pd.testing.assert_frame_equal(pd.DataFrame(scored), pd.DataFrame(before))
    with pytest.raises(ConfigError, match="xlsx_path"):
        export_tables(scored)
    with pytest.raises(ConfigError, match="csv_format"):
        export_tables(scored, csv_path=tmp_path / "x.csv", csv_format="tsv")  # type: ignore[arg-type]
    with pytest.raises(MissingColumnError, match="rank"):
        export_tables(scored.drop(columns=["rank"]), csv_path=tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
