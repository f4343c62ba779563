"""Acceptance tests: regressions found while exercising the planner workflows end to end.

Each test pins one bug found in acceptance testing with awkward, hand-made inputs.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

# --- site search: merging adjacent cells -------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "cell_m"),
    [("hex", 100.0), ("hex", 75.0), ("square", 33.3), ("square", 100.0)],
)
def test_all_good_cells_of_a_compact_area_merge_into_one_site(shape: str, cell_m: float) -> None:
    """Neighbouring grid cells share their edge exactly, so equal good cells form one site.

    Hexagon vertices (and square edges for fractional cell sizes) were computed per cell,
    so neighbours were 1e-10 m apart, did not intersect, and one site came out as several.
    """
    from handwerkgeo.search import candidate_cells, merge_cells

    area = box(346_013.7, 5_676_021.3, 347_511.9, 5_677_233.1)
    cells = candidate_cells(area, cell_m=cell_m, shape=shape, min_cell_share=0.0)  # type: ignore[arg-type]
    surface = cells.assign(score_total=90.0, excluded=False)
    sites = merge_cells(surface, threshold=50.0, min_area_m2=0.0)
    assert len(sites) == 1
    assert sites["n_cells"].iloc[0] == len(cells)
    assert sites["area_m2"].iloc[0] == pytest.approx(area.area, rel=1e-9)
    assert isinstance(sites, gpd.GeoDataFrame)


# --- register add: the stale-register hint names the configuration ----------------------


def test_register_add_stale_hint_repeats_the_config(tmp_path, monkeypatch) -> None:
    """``register add --config X`` refused as stale must tell to rescore with ``--config X``.

    The hint said only ``register rescore --register REG``: run as printed, that re-scores
    with the packaged default, and the next ``add --config X`` is refused again.
    """
    from importlib import resources

    from typer.testing import CliRunner

    from handwerkgeo import register as reg_mod
    from handwerkgeo.cli import app

    cfg = tmp_path / "changed.yaml"
    cfg.write_text(
        (resources.files("handwerkgeo") / "configs" / "default.yaml").read_text("utf-8"),
        encoding="utf-8",
    )
    reg = tmp_path / "standorte.gpkg"

    def stale(*args, **kwargs):
        msg = (
            f"cannot add plots to {reg} incrementally: the configuration changed. Run "
            f"`handwerkgeo register rescore --register {reg}` first"
        )
        raise reg_mod.StaleRegisterError(msg)

    monkeypatch.setattr(reg_mod, "add_plots", stale)
    plots = tmp_path / "p.gpkg"
    plots.write_bytes(b"")
    result = CliRunner().invoke(
        app, ["register", "add", str(plots), "--register", str(reg), "--config", str(cfg)]
    )
    assert result.exit_code == 1
    assert f"--config {cfg}" in result.output


# --- spreadsheet formula injection in written tables -----------------------------------

FORMULA_NAMES = ['=HYPERLINK("http://example.invalid","klick")', "-2+3", "@SUM(1)", "+1"]


def _formula_plots(tmp_path):
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {
            "plot_id": ["=1+1", "F2", "F3", "F4"],
            "name": FORMULA_NAMES,
            "zoning": ["GE", "GE", "GI", "GE"],
        },
        geometry=[
            box(346_000, 5_678_000, 346_100, 5_678_050),
            box(346_500, 5_678_500, 346_600, 5_678_600),
            box(345_500, 5_677_000, 345_600, 5_677_080),
            box(345_000, 5_677_000, 345_090, 5_677_080),
        ],
        crs="EPSG:25832",
    )
    path = tmp_path / "formel.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def _cells_starting_like_formula(values) -> list[str]:
    return [v for v in values if isinstance(v, str) and v[:1] in ("=", "+", "-", "@")]


def test_score_csv_never_holds_spreadsheet_formulas(tmp_path) -> None:
    """The CSV beside ``score --out`` neutralises text starting with = + - @ (as export does)."""
    import pandas as pd
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    out = tmp_path / "s.gpkg"
    res = CliRunner().invoke(
        app,
        [
            "score",
            str(_formula_plots(tmp_path)),
            "--out",
            str(out),
            "--data-dir",
            str(tmp_path / "d"),
            "--no-network",
        ],
    )
    assert res.exit_code == 0, res.output
    # the planner CSV is written for German Excel: BOM, ';', German headers
    table = pd.read_csv(out.with_suffix(".csv"), dtype=str, sep=";", encoding="utf-8-sig")
    assert len(table) == 4
    cells = table[["Flächen-ID", "Name"]].to_numpy().ravel().tolist()
    assert _cells_starting_like_formula(cells) == []
    assert "'=1+1" in cells and "'-2+3" in cells


def test_register_change_report_never_holds_spreadsheet_formulas(tmp_path) -> None:
    """aenderungen.csv / aenderungen.xlsx neutralise text starting with = + - @.

    openpyxl stores a string starting with "=" as a formula, so Excel evaluated a plot name
    like =HYPERLINK(...) from a listing when the change report was opened.
    """
    import openpyxl
    import pandas as pd

    from handwerkgeo.register import add_plots

    reg = tmp_path / "standorte.gpkg"
    rep = add_plots(reg, _formula_plots(tmp_path), data_dir=tmp_path / "d")
    folder = next((tmp_path / "standorte.gpkg.reports").iterdir())
    table = pd.read_csv(
        folder / "aenderungen.csv", sep=";", decimal=",", encoding="utf-8-sig", dtype=str
    )
    assert len(table) == 4, rep
    assert _cells_starting_like_formula(table.to_numpy().ravel().tolist()) == []
    wb = openpyxl.load_workbook(folder / "aenderungen.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    names = [c.value for c in wb["Änderungen"]["B"]]
    assert "'" + FORMULA_NAMES[0] in names


# --- reject messages give usable coordinates --------------------------------------------


def test_outside_city_reject_names_the_full_coordinates(tmp_path) -> None:
    """A plot outside the city is reported with coordinates a planner can look up.

    They were printed with 6 significant digits: a northing 5645123.4 became "5.64512e+06".
    """
    from handwerkgeo.sources.plots import read_plots

    path = tmp_path / "aussen.csv"
    path.write_text(
        "id;x;y;flaeche\n1;346000;5678000;3000\n2;356012,3;5645123,4;3000\n", encoding="utf-8"
    )
    plots = read_plots(path, crs="EPSG:25832", on_invalid="reject")
    assert plots["plot_id"].tolist() == ["1"]
    (reject,) = plots.attrs["rejects"]
    assert "356012.3, 5645123.4 in EPSG:25832" in reject["reason"]
    assert "e+06" not in reject["reason"]


# --- plots check: the advice for a partly usable file can be followed -----------------


def test_plots_check_advice_for_rejected_rows_names_a_command_that_does_it(tmp_path) -> None:
    """``plots check`` said "or score only the usable ones", but ``score`` refused any reject.

    The advice must name what really takes only the usable rows. Since issue #10 ``score``
    does: it scores the usable rows and exits 3; ``--strict`` refuses (exit 1).
    """
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    path = tmp_path / "teils.csv"
    path.write_text("id;x;y;flaeche\n1;346000;5678000;3000\n2;346100;5678100;0\n", "utf-8")
    runner = CliRunner()
    check = runner.invoke(app, ["plots", "check", str(path), "--crs", "25832"])
    assert check.exit_code == 1
    assert "register add" in check.output
    assert "score" in check.output
    args = [
        *("score", str(path), "--crs", "25832", "--out", str(tmp_path / "s.gpkg")),
        *("--data-dir", str(tmp_path / "d"), "--no-network", "--lang", "en"),
    ]
    score = runner.invoke(app, args)
    assert score.exit_code == 3, score.output
    assert "not positive" in score.output
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 1
    assert "not positive" in strict.output


# --- XLSX: a wrong sheet name is named as such, with the sheets there are ---------------


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path) -> None:
    """``layer="Flaechen"`` on a workbook with the sheet "Flächen" names the real sheets.

    It said "could not be read: Worksheet named 'Flaechen' not found" with the fix "check
    that the file is complete and in one of the supported formats", which is wrong advice.
    """
    import openpyxl

    from handwerkgeo.errors import HandwerkgeoError
    from handwerkgeo.sources.plots import read_plots

    wb = openpyxl.Workbook()
    wb.active.title = "Deckblatt"
    ws = wb.create_sheet("Flächen")
    ws.append(["Flurstück", "Rechtswert", "Hochwert", "Fläche m²"])
    ws.append(["a", 346000, 5678000, "3.200,5"])
    path = tmp_path / "angebote.xlsx"
    wb.save(path)
    with pytest.raises(HandwerkgeoError) as err:
        read_plots(path, layer="Flaechen", id_col="Flurstück", crs="EPSG:25832")
    text = str(err.value)
    assert "'Flächen'" in text and "'Deckblatt'" in text and "--sheet" in text
    assert "supported formats" not in text
    plots = read_plots(path, layer="Flächen", id_col="Flurstück", crs="EPSG:25832")
    assert plots["area_m2"].tolist() == [3200.5]


# --- site profiles: a long plot name is shortened, not dropped --------------------------


def test_profile_title_keeps_a_long_name_shortened() -> None:
    """The profile title of a plot with a 300-character name showed only "Standortsteckbrief: …".

    Cutting back to the last space dropped the whole name when it was one long word.
    """
    from handwerkgeo.export._profile_pdf import shorten

    title = shorten("Standortsteckbrief: " + "N" * 300, 200, " …")
    assert len(title) <= 200
    assert title.startswith("Standortsteckbrief: NNNN")
    assert title.count("N") >= 150
    # word boundaries are still used when they keep most of the text
    assert shorten("Gewerbefläche an der   Henkelstraße in Reisholz", 30) == (
        "Gewerbefläche an der …"
    )
