"""Official statistics: Bezirk profiles (Excel) and Stadtteil tables (CSV)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from handwerkgeo.errors import DataSourceError, EncodingError, MissingColumnError
from handwerkgeo.sources import statistics as st

LANDUSE_9 = [
    "landuse_residential",
    "landuse_commercial",
    "landuse_mixed",
    "landuse_special",
    "landuse_transport",
    "landuse_green",
    "landuse_agri_forest",
    "landuse_community",
    "landuse_water",
]


@pytest.fixture(scope="module")
def stat(mirror: Path) -> Path:
    return mirror / "statistik"


@pytest.fixture(scope="module")
def profiles(stat: Path) -> pd.DataFrame:
    return st.read_bezirk_profiles(stat / "stadtbezirksprofile")


# --------------------------------------------------------------------------------------
# values and encodings (no mirror needed)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "status"),
    [
        ("38 757", 38757.0, "value"),
        (" 644\u00a0280", 644280.0, "value"),  # non-breaking space
        ("1\u202f234", 1234.0, "value"),  # narrow no-break space
        ("8,8", 8.8, "value"),
        ("-5,4", -5.4, "value"),
        ("1.234.567", 1234567.0, "value"),
        (42, 42.0, "value"),
        (".", np.nan, "suppressed"),
        ("-", 0.0, "zero"),
        ("x", np.nan, "not_available"),
        ("X", np.nan, "not_available"),
        (None, np.nan, "empty"),
    ],
)
def test_parse_value(raw: object, value: float, status: str) -> None:
    got, got_status = st._parse_value(raw, where="test")
    assert got_status == status
    if np.isnan(value):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(value)


def test_parse_value_bad_text_names_the_cell() -> None:
    with pytest.raises(DataSourceError, match=r"Stadtbezirk01\.xlsx, cell B8.*'n\.a\.'"):
        st._parse_value("n.a.", where="Stadtbezirk01.xlsx, cell B8")


def test_read_text_detects_encodings(tmp_path: Path) -> None:
    utf8 = tmp_path / "a.csv"
    utf8.write_bytes("\ufeffStadtteil;n\n043 Lörick;1\n".encode())
    cp = tmp_path / "b.csv"
    cp.write_bytes("Stadtteil;n\n043 Lörick;1\n".encode("cp1252"))
    assert st.read_text(utf8) == st.read_text(cp) == "Stadtteil;n\n043 Lörick;1\n"
    bad = tmp_path / "c.csv"
    bad.write_bytes(b"Stadtteil;n\n043 L\x81rick;1\n")  # 0x81: undefined in cp1252
    with pytest.raises(EncodingError, match=r"c\.csv"):
        st.read_text(bad)


def test_cp1252_csv_reads_like_utf8(tmp_path: Path) -> None:
    text = "Stadtteil;männlich;weiblich;deutsch;nichtdeutsch\n043 Lörick;118;102;138;82\n"
    a, b = tmp_path / "utf8.csv", tmp_path / "cp1252.csv"
    a.write_text(text, encoding="utf-8")
    b.write_bytes(text.encode("cp1252"))
    pd.testing.assert_frame_equal(st.read_primary_pupils(a), st.read_primary_pupils(b))


def test_missing_column_is_named(tmp_path: Path) -> None:
    p = tmp_path / "pupils.csv"
    p.write_text("Stadtteil;männlich;weiblich\n011 Altstadt;1;2\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="deutsch"):
        st.read_primary_pupils(p)


def test_unterbilk_hafen_helpers() -> None:
    t = pd.DataFrame(
        {
            "year": [2020, 2020, 2020, 2021, 2021],
            "stadtteil_code": ["031", "032", "033", "032", "033"],
            "population": [10.0, 99.0, 1.0, 97.0, 3.0],
        }
    )
    before = t.copy()
    merged = st.combine_unterbilk_hafen(t, ["population"], by=["year"])
    pd.testing.assert_frame_equal(t, before)
    m = merged[merged["is_merged"]].set_index("year")["population"]
    assert m.to_dict() == {2020: 100.0, 2021: 100.0}
    shares = st.unterbilk_hafen_shares(t)
    assert shares.loc[2021, "033"] == pytest.approx(0.03)
    series = pd.DataFrame(
        {"stadtteil_code": ["032/033", "032/033"], "year": [2012, 2021], "population": [200.0] * 2}
    )
    split = st.split_unterbilk_hafen(series, ["population"], shares).set_index(
        ["year", "stadtteil_code"]
    )["population"]
    assert split[(2012, "033")] == pytest.approx(2.0)  # nearest year 2020: 1 %
    assert split[(2021, "033")] == pytest.approx(6.0)
    assert split.groupby(level=0).sum().tolist() == [200.0, 200.0]
    key = st.merged_join_key(pd.Series(["031", "032", "033"]))
    assert key.tolist() == ["031", "032/033", "032/033"]


# --------------------------------------------------------------------------------------
# Bezirk profiles
# --------------------------------------------------------------------------------------


def test_profiles_population(profiles: pd.DataFrame) -> None:
    assert sorted(profiles["bezirk_code"].unique()) == [f"{i:02d}" for i in range(1, 11)]
    pop = profiles[profiles["indicator_id"] == "population_total"]
    bezirk = pop[pop["scope"] == "bezirk"]
    city = pop[pop["scope"] == "city"]
    assert len(bezirk) == 10 and len(city) == 10
    assert bezirk["value"].sum() == 644_280
    assert (city["value"] == 644_280).all()
    assert (pop["unit"] == "count").all()
    assert (pop["reference_date"] == pd.Timestamp("2020-12-31")).all()
    assert bezirk.set_index("bezirk_code").loc["01", "cell"] == "B25"


def test_profiles_age_groups_add_up(profiles: pd.DataFrame) -> None:
    ages = profiles[(profiles["topic"] == "age_groups") & (profiles["unit"] == "count")].dropna(
        subset=["indicator_id"]
    )
    ages = ages[ages["indicator_id"].str.startswith("age_") & (ages["indicator_id"] != "mean_age")]
    by = ages.groupby(["bezirk_code", "scope"])["value"].sum()
    pop = profiles[profiles["indicator_id"] == "population_total"].set_index(
        ["bezirk_code", "scope"]
    )["value"]
    pd.testing.assert_series_equal(by.sort_index(), pop.sort_index(), check_names=False)


def test_profiles_landuse_sums(profiles: pd.DataFrame) -> None:
    lu = profiles[profiles["indicator_id"].isin([*LANDUSE_9, "landuse_utilities"])]
    assert (lu["unit"] == "percent").all()
    sums = lu.groupby(["bezirk_code", "scope"])["value"].sum()
    assert len(sums) == 20
    assert np.allclose(sums, 100, atol=0.05)


def test_profiles_suppressed_value(profiles: pd.DataFrame) -> None:
    # Stadtbezirk 1, "Arbeitslose unter 25 Jahre": '.' for the Bezirk, a number for the city
    rows = profiles[
        (profiles["bezirk_code"] == "01") & (profiles["indicator"] == "Arbeitslose unter 25 Jahre")
    ].set_index("cell")
    assert rows.loc["B19", "suppressed"]
    assert np.isnan(rows.loc["B19", "value"])
    assert rows.loc["D19", "value"] == 1406 and not rows.loc["D19", "suppressed"]
    # 'x' (not available) is NaN but not suppressed; '-' is an exact zero
    x = profiles[(profiles["value_status"] == "not_available")]
    assert len(x) and x["value"].isna().all() and not x["suppressed"].any()
    dash = profiles[(profiles["bezirk_code"] == "01") & (profiles["cell"] == "B77")]
    assert dash["value"].item() == 0.0 and dash["value_status"].item() == "zero"


def test_profiles_topics_and_units(profiles: pd.DataFrame) -> None:
    topics = set(profiles["topic"])
    assert {
        "population",
        "age_groups",
        "foreigners",
        "employees",
        "unemployment",
        "sgb2",
        "dwellings",
        "cars",
        "schools",
        "kitas",
        "land_use",
    } <= topics
    units = profiles.dropna(subset=["indicator_id"]).set_index(["bezirk_code", "indicator_id"])
    assert units.loc[("03", "landuse_area_ha"), "unit"].iloc[0] == "ha"
    assert units.loc[("03", "mean_age"), "unit"].iloc[0] == "years"
    assert units.loc[("03", "sgb2_share"), "unit"].iloc[0] == "percent"
    sgb2 = profiles[(profiles["indicator_id"] == "sgb2_persons") & (profiles["scope"] == "city")]
    assert (sgb2["value"] == 57_026).all()


def test_realnutzung_shares(profiles: pd.DataFrame) -> None:
    shares = st.realnutzung_shares(profiles)
    assert list(shares.columns) == LANDUSE_9
    assert list(shares.index) == [f"{i:02d}" for i in range(1, 11)]
    assert np.allclose(shares.sum(axis=1), 1.0, atol=0.01)
    assert ((shares >= 0) & (shares <= 1)).all().all()
    # Stadtbezirk 5 (north, airport and fields) is over half agriculture/forest
    assert shares.loc["05", "landuse_agri_forest"] == pytest.approx(0.5247, abs=1e-3)
    # utilities (Ver- und Entsorgung, 3.55 % in Bezirk 2) are added to special areas
    sep = st.realnutzung_shares(profiles, utilities="separate")
    assert sep.loc["02", "landuse_utilities"] == pytest.approx(0.0355, abs=1e-3)
    assert shares.loc["02", "landuse_special"] == pytest.approx(
        sep.loc["02", "landuse_special"] + sep.loc["02", "landuse_utilities"]
    )
    assert sum(shares.attrs["city"].values()) == pytest.approx(1.0)


def test_bezirk_indicators(profiles: pd.DataFrame) -> None:
    before = profiles.copy()
    ind = st.bezirk_indicators(profiles)
    pd.testing.assert_frame_equal(profiles, before)
    assert ind["population"].sum() == 644_280
    assert ind.attrs["city"]["population"] == 644_280
    assert ind.loc["01", "employees_residence"] == 38_757
    assert ind.loc["10", "sgb2_share"] == pytest.approx(0.2357, abs=1e-4)
    assert ind["dwellings"].sum() == ind.attrs["city"]["dwellings"]
    # labour-market and SGB II counts of the Bezirke add up to slightly less than the city
    # (persons without an assignable address): employees 255 358 of 255 710,
    # unemployed 21 652 of 22 137, SGB II 56 294 of 57 026
    for col in ("employees_residence", "unemployed", "sgb2_persons"):
        total, city = ind[col].sum(), ind.attrs["city"][col]
        assert city * 0.97 < total < city


def test_profile_with_missing_label_names_file_sheet_and_label(stat: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(stat / "stadtbezirksprofile" / "Stadtbezirk01.xlsx")
    ws = wb.worksheets[0]
    assert ws["A126"].value == "Wohnungen"
    ws["A126"] = "Wohneinheiten"
    broken = tmp_path / "Stadtbezirk01.xlsx"
    wb.save(broken)
    with pytest.raises(
        DataSourceError, match=r"Stadtbezirk01\.xlsx, sheet 'Stadtbezirk01'.*'Wohnungen'"
    ):
        st.read_bezirk_profiles(broken)


def test_profile_bad_value_names_the_cell(stat: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(stat / "stadtbezirksprofile" / "Stadtbezirk04.xlsx")
    wb.worksheets[0]["B25"] = "ca. 45 000"
    broken = tmp_path / "Stadtbezirk04.xlsx"
    wb.save(broken)
    with pytest.raises(DataSourceError, match=r"Stadtbezirk04\.xlsx.*cell B25"):
        st.read_bezirk_profiles([broken])


# --------------------------------------------------------------------------------------
# Stadtteil tables
# --------------------------------------------------------------------------------------


def test_population_migration(stat: Path) -> None:
    pop = st.read_stadtteil_population(
        "migration", stat / "bevoelkerung_migrationshintergrund_stadtteile_2020_2024.csv"
    )
    assert pop["stadtteil_code"].nunique() == 50
    assert set(pop["stadtteil_code"]) == set(st.STADTTEILE)
    totals = pop.groupby("year")["population"].sum()
    assert totals[2020] == 644_538
    assert totals[2024] == 658_350
    assert (pop["population"] == pop["with_migration"] + pop["without_migration"]).all()
    assert (pop["note"] == "").all()
    names = pop.drop_duplicates("stadtteil_code").set_index("stadtteil_code")
    assert names.loc["021", "stadtteil_name"] == "Flingern Süd"
    assert names.loc["021", "name_in_source"] == "Flingern Sued"


def test_population_2012_2024(stat: Path) -> None:
    ts = st.read_population_2012_2024(stat / "bevoelkerungsstand_stadtteile_2012_2024.csv")
    assert sorted(ts["year"].unique()) == list(range(2012, 2025))  # incl. '_Jahr_2014'
    codes = set(ts["stadtteil_code"])
    assert len(codes) == 49 and st.MERGED_UNTERBILK_HAFEN in codes
    assert codes - {st.MERGED_UNTERBILK_HAFEN} == set(st.STADTTEILE) - {"032", "033"}
    assert ts.loc[ts["stadtteil_code"] == "032/033", "is_merged"].all()
    # Knittkuhl 2012–13: 'X' → NaN with a reason; Hubbelrath says it includes Knittkuhl
    kn = ts[(ts["stadtteil_code"] == "075") & (ts["year"] <= 2013)]
    assert kn["population"].isna().all() and kn["value_missing"].all()
    assert kn["note"].str.contains("counted in Hubbelrath").all()
    hu = ts[(ts["stadtteil_code"] == "074") & (ts["year"] <= 2013)]
    assert hu["note"].str.contains("includes Knittkuhl").all()
    assert ts["value_missing"].sum() == 2
    # year sums include the merged row and match independent city totals
    totals = ts.groupby("year")["population"].sum()
    merged = ts[ts["is_merged"]].set_index("year")["population"]
    singles = ts[~ts["is_merged"]].groupby("year")["population"].sum()
    pd.testing.assert_series_equal(totals, singles + merged, check_names=False)
    assert totals[2020] == 644_280  # = city total of the 2020 Bezirk profiles
    assert totals[2019] == 645_923  # = 2019 city row of the 2035 forecast


def test_population_forecast_2035(stat: Path) -> None:
    fc = st.read_population_forecast_2035(stat / "bevoelkerungsprognose_stadtteile_2035.csv")
    city = fc[fc["row_type"] == "city_total"]
    assert len(city) == 1
    assert city["population_2019"].item() == 645_923
    assert city["population_2035"].item() == 702_500
    assert city["change_pct"].item() == pytest.approx(8.8)  # decimal comma
    parts = fc[fc["row_type"] != "city_total"]
    assert len(parts) == 49 and parts["stadtteil_code"].is_unique
    assert parts.loc[parts["is_merged"], "stadtteil_code"].tolist() == ["032/033"]
    assert parts["population_2035"].sum() == 702_500
    alt = parts.set_index("stadtteil_code").loc["011"]
    assert alt["stadtteil_name"] == "Altstadt" and alt["change_pct"] == pytest.approx(-5.4)
    assert (fc["note"] == "").all()


def test_primary_pupils(stat: Path) -> None:
    pupils = st.read_primary_pupils(stat / "grundschueler_stadtteile.csv")
    assert len(pupils) == 51
    outside = pupils[pupils["row_type"] == "outside_city"]
    assert len(outside) == 1 and outside["stadtteil_code"].isna().all()
    rows = pupils[pupils["row_type"] == "stadtteil"].set_index("stadtteil_code")
    assert set(rows.index) == set(st.STADTTEILE)
    assert rows.loc["034", "suppressed"] == "german,non_german"
    assert np.isnan(rows.loc["034", "german"]) and rows.loc["034", "total"] == 159
    assert rows.loc["033", "total"] == 0  # '-' = exactly zero
    assert rows.loc["043", "stadtteil_name"] == "Lörick"  # UTF-8 file
    as_suppressed = st.read_primary_pupils(stat / "grundschueler_stadtteile.csv", dash="suppressed")
    hafen = as_suppressed.set_index("stadtteil_code").loc["033"]
    assert np.isnan(hafen["male"]) and hafen["suppressed"] == "male,female,german,non_german"


def test_population_projection(stat: Path) -> None:
    proj = st.read_population_projection(stat / "einwohner_prognose.csv")
    assert sorted(proj["variant"].unique()) == ["it_nrw", "variant_1", "variant_2", "variant_3"]
    wide = proj.pivot(index="year", columns="variant", values="population")
    assert list(wide.index) == list(range(2021, 2036))
    assert wide.loc[2021, "variant_1"] == 649_600  # thousands separated by spaces
    change = proj.attrs["published_change"]
    for v in wide.columns:
        assert wide.loc[2035, v] - wide.loc[2021, v] == change[v]["abs"]
    assert change["variant_1"]["pct"] == pytest.approx(6.6)


def test_households_sozialraum(stat: Path) -> None:
    hh = st.read_households_sozialraum(stat / "haushalte_sozialraum_2020.csv")
    assert len(hh) == 179 and hh["sozialraum_code"].is_unique
    assert hh["sozialraum_code"].str.fullmatch(r"\d{4}").all()
    r = hh.set_index("sozialraum_code")
    assert r.loc["0718", "value_missing"] and np.isnan(r.loc["0718", "households"])
    assert r.loc["0304", "single_parent_households"] == 0.0
    assert "differs from Stadtbezirk 02" in r.loc["0115", "note"]
    ok = hh.dropna(subset=["households"])
    sizes = ok[["households_1_person", "households_2_persons", "households_3plus_persons"]]
    assert (sizes.sum(axis=1) == ok["households"]).all()


def test_default_paths_from_data_dir(stat: Path, tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="data fetch"):
        st.read_population_migration(data_dir=tmp_path)
    raw = tmp_path / "raw" / "statistik"
    (raw / "stadtbezirksprofile").mkdir(parents=True)
    for f in (stat / "stadtbezirksprofile").glob("*.xlsx"):
        shutil.copy(f, raw / "stadtbezirksprofile" / f.name)
    name = "bevoelkerung_migrationshintergrund_stadtteile_2020_2024.csv"
    shutil.copy(stat / name, raw / name)
    assert len(st.read_stadtteil_population("migration", data_dir=tmp_path)) == 250
    assert len(st.bezirk_indicators(data_dir=tmp_path)) == 10
