"""Header and owner vocabularies of planners' listings."""

from __future__ import annotations

import pytest

from handwerkgeo.errors import ConfigError, MissingColumnError
from handwerkgeo.vocabulary import (
    AmbiguousColumnError,
    load_plot_vocabulary,
    map_columns,
    map_owners,
)

LIEGENSCHAFTSAMT = [
    "Flurstück",
    "Gemarkung",
    "Flur",
    "Bezeichnung",
    "Fläche (m²)",
    "Rechtswert",
    "Hochwert",
    "Planungsrecht",
    "Eigentümer",
    "Bemerkung",
]


def test_german_listing_headers() -> None:
    m = map_columns(LIEGENSCHAFTSAMT, skip=["Rechtswert", "Hochwert"])
    assert m.canonical == {
        "plot_id": "Flurstück",
        "name": "Bezeichnung",
        "zoning": "Planungsrecht",
        "owner": "Eigentümer",
        "area_m2": "Fläche (m²)",
    }
    assert m.carried == ("Gemarkung", "Flur", "Bemerkung")
    assert m.rename_map()["Planungsrecht"] == "zoning"


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Flurstückskennzeichen", "plot_id"),
        ("flstkennz", "plot_id"),
        ("Fläche-Nr.", "plot_id"),
        ("ID", "plot_id"),
        ("Lage", "name"),
        ("Adresse", "name"),
        ("Gebietsart", "zoning"),
        ("BauNVO", "zoning"),
        ("Art der baulichen Nutzung", "zoning"),
        ("Eigentum", "owner"),
        ("Bodenrichtwert", "land_value_eur_m2"),
        ("BRW", "land_value_eur_m2"),
        ("Brachfläche", "brownfield"),
        ("gewerblich genutzt", "brownfield"),
        ("FLAECHE_M2", "area_m2"),
    ],
)
def test_single_headers(header: str, canonical: str) -> None:
    assert map_columns([header]).canonical == {canonical: header}


def test_lower_tier_only_without_a_higher_one() -> None:
    m = map_columns(["Bezeichnung", "Adresse"])
    assert m.canonical == {"name": "Bezeichnung"}
    assert m.carried == ("Adresse",)


def test_ambiguity_names_both() -> None:
    with pytest.raises(AmbiguousColumnError, match="'Name' and 'Bezeichnung'"):
        map_columns(["Name", "Bezeichnung"])
    with pytest.raises(ValueError, match="--column name=HEADER"):
        map_columns(["Name", "Bezeichnung"])


def test_explicit_mapping_wins_and_is_checked() -> None:
    m = map_columns(["Name", "Bezeichnung", "Spalte7"], {"name": "Name", "zoning": "Spalte7"})
    assert m.canonical["name"] == "Name" and m.canonical["zoning"] == "Spalte7"
    assert "Bezeichnung" in m.carried
    with pytest.raises(MissingColumnError, match="no column 'Nutzung'"):
        map_columns(["Planungsrecht"], {"zoning": "Nutzung"})
    with pytest.raises(MissingColumnError, match="unknown column kind"):
        map_columns(["x"], {"zonning": "x"})


def test_owner_words() -> None:
    cats, unknown = map_owners(
        ["städtisch", "Stadt", "LHD", "IDR", "Land", "Bund", "öffentlich", "privat", "?", None]
    )
    assert cats.tolist() == [
        "city",
        "city",
        "city",
        "idr",
        "public",
        "public",
        "public",
        "private",
        None,
        None,
    ]
    assert unknown == ["?"]


def test_vocabulary_extended_by_a_city(tmp_path) -> None:
    base = tmp_path / "v.yaml"
    base.write_text(
        "columns:\n  zoning: [[Nutzungskategorie]]\nowners:\n  city: [Stadtwerke]\n",
        encoding="utf-8",
    )
    vocab = load_plot_vocabulary(base)
    assert map_columns(["Nutzungskategorie"], vocabulary=vocab).canonical == {
        "zoning": "Nutzungskategorie"
    }
    assert map_owners(["Stadtwerke"], vocabulary=vocab)[0].tolist() == ["city"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("owners: {city: [x]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="columns"):
        load_plot_vocabulary(bad)


def test_missing_vocabulary_file_is_a_named_error(tmp_path) -> None:
    from handwerkgeo.errors import DataSourceError

    with pytest.raises(DataSourceError, match="cannot read the plot vocabulary"):
        load_plot_vocabulary(tmp_path / "fehlt.yaml")


@pytest.mark.parametrize("value", ["zoning", "=Planungsrecht", "zoning="])
def test_column_option_without_canonical_and_header_is_a_usage_error(value: str, tmp_path) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    listing = tmp_path / "l.csv"
    listing.write_text("id;x;y;flaeche\n1;346000;5678000;3000\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["plots", "check", str(listing), "--column", value])
    assert res.exit_code == 2, res.output
    assert "CANONICAL=HEADER" in res.stderr and "Traceback" not in res.stderr
