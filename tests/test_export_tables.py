"""Tests of the XLSX/CSV score tables."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
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
    assert ws.freeze_panes == "C2"  # header row and rank + id stay visible
    assert ws.column_dimensions["B"].width >= 8
    # best first, the excluded plots last with their reason
    assert ws["A2"].value == 1 and ws["B2"].value == "P000"
    reasons = [ws.cell(row=r, column=headers.index("Ausschlussgrund") + 1).value for r in (12, 13)]
    assert "Fläche < 2.500 m²" in reasons
    # criteria in wide form: one row per plot, never a row per plot and criterion
    crit = wb["Kriterien"]
    head = [c.value for c in crit[1]]
    assert head[:2] == ["Rang", "Flächen-ID"]
    assert "ÖPNV-Anbindung: Wert (m)" in head and "ÖPNV-Anbindung: Nutzen (0–1)" in head
    assert "ÖPNV-Anbindung: Beitrag (Punkte)" in head and "ÖPNV-Anbindung: Ersatzwert" in head
    assert crit.max_row == 1 + 12
    assert [crit.cell(row=r, column=2).value for r in range(2, 14)] == [
        ws.cell(row=r, column=2).value for r in range(2, 14)
    ]
    cfg = wb["Konfiguration und Quellen"]
    values = [str(c.value) for row in cfg.iter_rows() for c in row if c.value is not None]
    assert "abc123def4567890" in values
    assert "ODbL 1.0" in values and "dl-de/zero-2.0" in values
    assert "plot_size" in values
    assert max(len(v) for v in values) < 500  # readable cells, no JSON blob


def test_xlsx_cell_values_match_frame(tmp_path: Path) -> None:
    scored = make_scored(8)
    df = pd.read_excel(export_tables(scored, tmp_path / "t.xlsx")["xlsx"], sheet_name="Kriterien")
    row = df[df["Flächen-ID"] == "P005"].iloc[0]
    assert row["ÖPNV-Anbindung: Nutzen (0–1)"] == pytest.approx(
        scored.loc["P005", "u_transit"], abs=1e-3
    )
    assert row["ÖPNV-Anbindung: Beitrag (Punkte)"] == pytest.approx(
        scored.loc["P005", "contrib_transit"], abs=1e-2
    )
    assert row["ÖPNV-Anbindung: Wert (m)"] == pytest.approx(scored.loc["P005", "raw_transit"])


def _assert_prints(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
    """Landscape A4, one page wide, header row on every page, frozen, filtered."""
    assert ws.page_setup.orientation == "landscape", ws.title
    assert ws.page_setup.paperSize in (9, "9"), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    # fitToWidth is left out when 1 (the OOXML default); fitToHeight 0 = as many as needed
    assert int(ws.page_setup.fitToWidth or 1) == 1, ws.title
    assert int(ws.page_setup.fitToHeight) == 0, ws.title
    assert ws.print_title_rows in ("1:1", "$1:$1"), ws.title
    assert ws.freeze_panes in ("A2", "C2"), ws.title
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_sheet_prints(tmp_path: Path, lang: str) -> None:
    out = export_tables(make_scored(30), tmp_path / "t.xlsx", tmp_path / "t.csv", lang=lang)
    wb = openpyxl.load_workbook(out["xlsx"])
    assert len(wb.worksheets) == 3
    for ws in wb.worksheets:
        _assert_prints(ws)
    # the filter covers the table: header and every plot
    assert wb.worksheets[0].auto_filter.ref.endswith("31")
    cut = export_tables(make_scored(30), tmp_path / "c.xlsx", lang=lang, xlsx_max_rows=10)
    for ws in openpyxl.load_workbook(cut["xlsx"]).worksheets:
        _assert_prints(ws)


def test_config_sheet_is_a_readable_table(tmp_path: Path) -> None:
    from handwerkgeo.config import load_config

    scored = make_scored(6)
    scored.attrs["run"]["config"] = load_config(None).to_dict()
    out = export_tables(scored, tmp_path / "t.xlsx")
    frame = pd.read_excel(out["xlsx"], sheet_name="Konfiguration und Quellen", dtype=str)
    assert list(frame.columns[:5]) == [
        "Schlüssel",
        "Kriterium",
        "Gewicht",
        "Einheit",
        "Nutzenfunktion (Wert → Nutzen 0–1)",
    ]
    rows = frame.set_index("Schlüssel")
    assert (
        rows.loc["transit", "Nutzenfunktion (Wert → Nutzen 0–1)"] == "400 → 1; 800 → 0,5; 1.200 → 0"
    )
    assert rows.loc["transit", "Gewicht"] == "10"
    assert "GE: 1" in rows.loc["zoning", "Nutzenfunktion (Wert → Nutzen 0–1)"]
    assert "VRR" in rows.loc["transit", "Datenquelle"]
    cells = frame.to_numpy().ravel().tolist()
    assert "Ausschlussfilter" in cells and "min_area_m2" in cells and "2.500" in cells
    assert max(len(str(v)) for v in cells) < 500
    wb = openpyxl.load_workbook(out["xlsx"])
    assert wb.sheetnames == ["Rangfolge", "Kriterien", "Konfiguration und Quellen"]  # no YAML


@pytest.mark.parametrize(("csv", "lang"), [(True, "de"), (False, "en")])
def test_workbook_above_the_limit_holds_the_best_and_says_where_the_rest_is(
    tmp_path: Path, csv: bool, lang: str
) -> None:
    scored = make_scored(30)
    out = export_tables(
        scored,
        tmp_path / "t.xlsx",
        tmp_path / "t.csv" if csv else None,
        lang=lang,
        xlsx_max_rows=10,
        full_table_paths=[tmp_path / "t.parquet"],
    )
    wb = openpyxl.load_workbook(out["xlsx"])
    note_sheet = "Hinweis" if lang == "de" else "Note"
    assert wb.sheetnames[0] == note_sheet
    note = wb[note_sheet]["A2"].value
    if lang == "de":
        assert "die besten 10 von 30 Flächen" in note and "t.csv, t.parquet" in note
    else:
        assert "the best 10 of 30 plots" in note and "t.parquet" in note
        assert "t.csv" not in note
    ranking = wb.worksheets[1]
    assert ranking.max_row == 11 and wb.worksheets[2].max_row == 11
    assert [ranking.cell(row=r, column=1).value for r in range(2, 12)] == list(range(1, 11))
    if csv:
        assert len(pd.read_csv(out["csv"], sep=";", decimal=",")) == 30
    with pytest.raises(ConfigError, match="xlsx_max_rows"):
        export_tables(scored, tmp_path / "x.xlsx", xlsx_max_rows=0)


def test_a_sheet_over_excels_limit_is_refused(tmp_path: Path) -> None:
    from handwerkgeo.spreadsheet import EXCEL_MAX_ROWS, Sheet, write_xlsx

    big = pd.DataFrame({"a": np.zeros(EXCEL_MAX_ROWS, dtype=np.int8)})
    with pytest.raises(ValueError, match="more than Excel"):
        write_xlsx(tmp_path / "big.xlsx", [Sheet("a", big)])
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_prints_13_plots_on_at_most_3_pages(tmp_path: Path) -> None:
    from handwerkgeo.config import load_config

    scored = make_scored(13)
    scored.attrs["run"]["config"] = load_config(None).to_dict()
    xlsx = export_tables(scored, tmp_path / "scores.xlsx")["xlsx"]
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = (tmp_path / "scores.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 3, pages


def test_csv_excel_de_format(tmp_path: Path) -> None:
    scored = make_scored(6)
    path = export_tables(scored, csv_path=tmp_path / "t.csv")["csv"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Rang;Flächen-ID;Name;Gesamtpunktzahl")
    df = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    assert df["Gesamtpunktzahl"].iloc[0] == pytest.approx(round(scored["score_total"].max(), 1))
    fields = text.splitlines()[1].split(";")
    assert any(re.fullmatch(r'"?0,\d+"?', f) for f in fields)  # decimal comma (utilities)
    assert not any(re.fullmatch(r'"?\d+\.\d+"?', f) for f in fields)  # never a point
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
