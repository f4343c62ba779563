"""Readers for the official statistics of Düsseldorf (Bezirk profiles, Stadtteil tables).

Every table of the Amt für Statistik und Wahlen is published in a human-formatted layout:
Excel sheets with a label column, numbers written as text with spaces as thousands
separators (``"38 757"``), German decimal commas (``"8,8"``) and the official signs for
special values. This module turns them into tidy, joinable frames with English column
names and records *why* a value is missing instead of dropping it.

Signs used by the city (legend printed at the foot of every Bezirk profile):

========  =================================================================  ============
sign      meaning                                                            read as
========  =================================================================  ============
``.``     value unknown or withheld (privacy, technical reasons)             NaN, suppressed
``x``     a value is not meaningful or not available for this cell           NaN, not suppressed
``-``     exactly zero (nothing there)                                       0.0
``0``     more than nothing but less than half of the unit shown             0.0
========  =================================================================  ============

Codes follow the project contract: Stadtteil ``"011"`` … ``"102"`` (three digits),
Stadtbezirk ``"01"`` … ``"10"`` (two digits). Unterbilk (032) and Hafen (033) are published
as one merged row in some tables; that row keeps the code ``"032/033"`` (see
:data:`MERGED_UNTERBILK_HAFEN`, :func:`merged_join_key`, :func:`combine_unterbilk_hafen` and
:func:`split_unterbilk_hafen`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from handwerkgeo._text import normalize_key, read_text
from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    DuplicateIdError,
    MissingColumnError,
)

__all__ = [
    "LANDUSE_CLASSES",
    "MERGED_UNTERBILK_HAFEN",
    "STADTTEILE",
    "bezirk_indicators",
    "combine_unterbilk_hafen",
    "merged_join_key",
    "read_bezirk_profiles",
    "read_households_sozialraum",
    "read_population_2012_2024",
    "read_population_forecast_2035",
    "read_population_migration",
    "read_population_projection",
    "read_primary_pupils",
    "read_stadtteil_population",
    "read_text",
    "realnutzung_shares",
    "split_unterbilk_hafen",
    "unterbilk_hafen_shares",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: The 50 Stadtteile: code -> (official name, Stadtbezirk code). Names as in the city's
#: boundary file "Stadtteilgrenzen Düsseldorf 2021" (with its four broken umlauts repaired).
STADTTEILE: dict[str, tuple[str, str]] = {
    "011": ("Altstadt", "01"),
    "012": ("Carlstadt", "01"),
    "013": ("Stadtmitte", "01"),
    "014": ("Pempelfort", "01"),
    "015": ("Derendorf", "01"),
    "016": ("Golzheim", "01"),
    "021": ("Flingern Süd", "02"),
    "022": ("Flingern Nord", "02"),
    "023": ("Düsseltal", "02"),
    "031": ("Friedrichstadt", "03"),
    "032": ("Unterbilk", "03"),
    "033": ("Hafen", "03"),
    "034": ("Hamm", "03"),
    "035": ("Volmerswerth", "03"),
    "036": ("Bilk", "03"),
    "037": ("Oberbilk", "03"),
    "038": ("Flehe", "03"),
    "041": ("Oberkassel", "04"),
    "042": ("Heerdt", "04"),
    "043": ("Lörick", "04"),
    "044": ("Niederkassel", "04"),
    "051": ("Stockum", "05"),
    "052": ("Lohausen", "05"),
    "053": ("Kaiserswerth", "05"),
    "054": ("Wittlaer", "05"),
    "055": ("Angermund", "05"),
    "056": ("Kalkum", "05"),
    "061": ("Lichtenbroich", "06"),
    "062": ("Unterrath", "06"),
    "063": ("Rath", "06"),
    "064": ("Mörsenbroich", "06"),
    "071": ("Gerresheim", "07"),
    "072": ("Grafenberg", "07"),
    "073": ("Ludenberg", "07"),
    "074": ("Hubbelrath", "07"),
    "075": ("Knittkuhl", "07"),
    "081": ("Lierenfeld", "08"),
    "082": ("Eller", "08"),
    "083": ("Vennhausen", "08"),
    "084": ("Unterbach", "08"),
    "091": ("Wersten", "09"),
    "092": ("Himmelgeist", "09"),
    "093": ("Holthausen", "09"),
    "094": ("Reisholz", "09"),
    "095": ("Benrath", "09"),
    "096": ("Urdenbach", "09"),
    "097": ("Itter", "09"),
    "098": ("Hassels", "09"),
    "101": ("Garath", "10"),
    "102": ("Hellerhof", "10"),
}

#: Code of the merged Unterbilk (032) + Hafen (033) row in the 2012–2024 series and the
#: 2035 forecast.
MERGED_UNTERBILK_HAFEN = "032/033"
_MERGED_PARTS = ("032", "033")

#: Land-use classes of the Realnutzung block: indicator id -> German label in the sheets.
#: ``landuse_utilities`` (Ver- und Entsorgung) is the tenth class of the sheets; see
#: :func:`realnutzung_shares` for how it is counted.
LANDUSE_CLASSES: dict[str, str] = {
    "landuse_residential": "Wohnbauflächen",
    "landuse_commercial": "Gewerbliche Bauflächen",
    "landuse_mixed": "Gemischte Bauflächen",
    "landuse_special": "Sonderbauflächen",
    "landuse_transport": "Verkehrsflächen",
    "landuse_green": "Grünflächen",
    "landuse_agri_forest": "Land- und forstwirtschaftliche Flächen",
    "landuse_community": "Gemeinbedarfsflächen",
    "landuse_water": "Wasserflächen",
    "landuse_utilities": "Ver- und Entsorgung",
}

_MONTHS_DE = {
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
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009\u200a\u2002\u2003]+")
_THOUSANDS_DOTS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


# --------------------------------------------------------------------------------------
# text and numbers
# --------------------------------------------------------------------------------------


def _clean_label(value: object) -> str:
    """Strip a label and collapse inner whitespace (including non-breaking spaces)."""
    return _SPACES.sub(" ", str(value)).strip()


DashMeaning = Literal["zero", "suppressed"]


def _parse_value(raw: object, *, where: str, dash: DashMeaning = "zero") -> tuple[float, str]:
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
    s = _SPACES.sub("", str(raw)).replace("\u2212", "-").replace("\u2013", "-")
    if s == "":
        return np.nan, "empty"
    if s == ".":
        return np.nan, "suppressed"
    if s in {"-", "–"}:
        return (0.0, "zero") if dash == "zero" else (np.nan, "suppressed")
    if s.lower() == "x":
        return np.nan, "not_available"
    if _THOUSANDS_DOTS.match(s):
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


# --------------------------------------------------------------------------------------
# path resolution
# --------------------------------------------------------------------------------------


def _layer_files(layer: str, data_dir: PathLike | None) -> list[Path]:
    from handwerkgeo.fetch import layer_paths  # lazy: fetch imports the source manifest

    paths = layer_paths(layer, data_dir)
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _one_file(path: PathLike | None, layer: str, data_dir: PathLike | None) -> Path:
    if path is not None:
        p = Path(path)
    else:
        files = _layer_files(layer, data_dir)
        if len(files) != 1:
            msg = f"layer {layer!r} has {len(files)} files; pass path= explicitly."
            raise DataSourceError(msg)
        p = files[0]
    if not p.is_file():
        msg = f"{p} does not exist. Run `handwerkgeo data fetch` or pass the right path."
        raise DataSourceError(msg)
    return p


def _read_semicolon_csv(path: Path, *, required: Sequence[str] = ()) -> pd.DataFrame:
    """Read a ``;``-separated city CSV as strings, checking the required header cells."""
    import io

    text = read_text(path)
    if not text.strip():
        msg = f"{path.name} is empty. Fetch it again with `handwerkgeo data fetch`."
        raise DataSourceError(msg)
    df = pd.read_csv(
        io.StringIO(text), sep=";", dtype=str, keep_default_na=False, skip_blank_lines=False
    )
    df.columns = [_clean_label(c) for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        msg = (
            f"{path.name}: missing column(s) {missing}; found {list(df.columns)}. "
            "Is this the right file (semicolon-separated, header in the first line)?"
        )
        raise MissingColumnError(msg)
    return df


# --------------------------------------------------------------------------------------
# Stadtbezirk profiles (Excel)
# --------------------------------------------------------------------------------------

#: Section headings of the profile sheets (normalised prefix) -> default topic, and label
#: prefixes that switch the topic inside a section.
_SECTIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("arbeitsmarkt", "employees", [(r"^Arbeitslose", "unemployment")]),
    (
        "bevölkerung",
        "population",
        [
            (r"^Im Alter von", "age_groups"),
            (r"^Altersdurchschnitt", "age_groups"),
            (r"^Ausländer", "foreigners"),
            (r"Migrationshintergrund", "migration_background"),
            (r"^Zugezogene", "migration_flows"),
            (r"^Umzüge", "relocations"),
            (r"^Geburten", "natural_change"),
        ],
    ),
    ("bildung", "schools", [(r"^Schülerinnen", "pupils")]),
    ("geografie", "land_use", []),
    ("gesundheit", "health", []),
    ("grundbesitz", "buildings", [(r"^Wohnungen", "dwellings")]),
    ("private haushalte", "households", []),
    (
        "soziale sicherung",
        "sgb2",
        [(r"SGB XII", "sgb12"), (r"Wohngeld", "housing_benefit")],
    ),
    ("soziales: einrichtungen für kinder", "kitas", [(r"Jugendfreizeit", "youth_centres")]),
    ("soziales: einrichtungen für ältere", "elderly_care", []),
    ("verkehr", "cars", []),
    ("wahlen", "elections", []),
]

#: (topic, label regex, unit) -> indicator id. ``None`` topic matches any topic.
_INDICATOR_IDS: list[tuple[str | None, str, str, str]] = [
    ("employees", r"^Sozialversicherungspflichtig Beschäftigte am Wohnort", "count",
     "employees_residence"),
    ("employees", r"^Beschäftigungsquote \(", "percent", "employment_rate"),
    ("employees", r"^Beschäftigungsquote Frauen", "percent", "employment_rate_women"),
    ("unemployment", r"^Arbeitslose \(ALO\) am Wohnort", "count", "unemployed"),
    ("unemployment", r"^Anteil an Erwerbspersonen", "percent", "unemployment_rate"),
    ("population", r"^Bevölkerung$", "count", "population_total"),
    ("population", r"^weiblich$", "count", "population_female"),
    ("population", r"^weiblich$", "percent", "population_female_share"),
    ("population", r"^männlich$", "count", "population_male"),
    ("population", r"^männlich$", "percent", "population_male_share"),
    ("age_groups", r"^Altersdurchschnitt", "years", "mean_age"),
    ("foreigners", r"^Ausländer", "count", "foreigners"),
    ("foreigners", r"^Ausländer", "percent", "foreigners_share"),
    ("sgb2", r"^Bedarfsgemeinschaften nach SGB II", "count", "sgb2_households"),
    ("sgb2", r"^Personen in Bedarfsgemeinschaften nach SGB II", "count", "sgb2_persons"),
    ("sgb2", r"^Anteil an Bevölkerung unter 65", "percent", "sgb2_share"),
    ("buildings", r"^Wohngebäude$", "count", "residential_buildings"),
    ("dwellings", r"^Wohnungen$", "count", "dwellings"),
    ("dwellings", r"^Öffentlich geförderte Wohnungen", "count", "social_housing"),
    ("dwellings", r"^Öffentlich geförderte Wohnungen", "percent", "social_housing_share"),
    ("households", r"^Private Haushalte$", "count", "households"),
    ("land_use", r"^Fläche \(in ha\)", "ha", "landuse_area_ha"),
    *[("land_use", "^" + re.escape(lab), "percent", key) for key, lab in LANDUSE_CLASSES.items()],
    ("schools", r"^Städtische Schulen", "count", "schools_municipal"),
    ("schools", r"^Grundschulen", "count", "primary_schools"),
    ("pupils", r"^Schülerinnen und Schüler", "count", "pupils_municipal"),
    ("kitas", r"^Kindertagesstätten", "count", "kitas"),
    ("kitas", r"^Sollplätze", "count", "kita_places"),
    ("cars", r"^PKW$", "count", "cars"),
    ("cars", r"^PKW-Dichte", "per_resident", "car_density"),
]  # fmt: skip

#: Indicators every profile must have, for both the Bezirk and the city, with the German
#: label searched for (used in error messages).
_REQUIRED: dict[str, str] = {
    "population_total": "Bevölkerung",
    "employees_residence": "Sozialversicherungspflichtig Beschäftigte am Wohnort",
    "unemployed": "Arbeitslose (ALO) am Wohnort",
    "sgb2_persons": "Personen in Bedarfsgemeinschaften nach SGB II",
    "sgb2_share": "Anteil an Bevölkerung unter 65 Jahre (Soziale Sicherung)",
    "dwellings": "Wohnungen",
    **{k: v for k, v in LANDUSE_CLASSES.items() if k != "landuse_utilities"},
}

_UNIT_FROM_LABEL = [
    (r"\(in ha\)", "ha"),
    (r"\(in Jahren\)", "years"),
    (r"Dichte", "per_resident"),
    (r"Haushaltsgröße", "persons_per_household"),
]


def _age_indicator_id(label: str, unit: str) -> str | None:
    suffix = "" if unit == "count" else "_share" if unit == "percent" else None
    if suffix is None:
        return None
    if m := re.match(r"^unter (\d+) Jahre", label):
        return f"age_under_{m.group(1)}{suffix}"
    if m := re.match(r"^(\d+) bis unter (\d+) Jahre", label):
        return f"age_{m.group(1)}_{m.group(2)}{suffix}"
    if m := re.match(r"^(\d+) Jahre und älter", label):
        return f"age_{m.group(1)}_plus{suffix}"
    return None


def _indicator_id(topic: str, label: str, unit: str) -> str | None:
    if topic == "age_groups" and (age := _age_indicator_id(label, unit)):
        return age
    for t, pattern, u, key in _INDICATOR_IDS:
        if (t is None or t == topic) and u == unit and re.search(pattern, label):
            return key
    return None


def _parse_date(text: str) -> pd.Timestamp | None:
    if m := re.search(r"Stand:?\s*(\d{1,2})\.(\d{1,2})\.(\d{4})", text):
        return pd.Timestamp(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if m := re.search(r"(\d{1,2})\.\s*([A-Za-zäÄ]+)\s+(\d{4})", text):
        month = _MONTHS_DE.get(m.group(2).lower())
        if month:
            return pd.Timestamp(int(m.group(3)), month, int(m.group(1)))
    return None


@dataclass(frozen=True)
class _Layout:
    header_row: int
    unit_row: int
    label_col: int
    bezirk_code: str
    columns: tuple[tuple[int, str, str], ...]  # (column, scope, "count"/"percent")


def _cell_name(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


def _find_layout(grid: list[list[Any]], where: str) -> _Layout:
    """Locate the header rows ('Stadtbezirk N' | 'Düsseldorf insgesamt', 'Anzahl' | '%')."""
    for r, row in enumerate(grid[:20]):
        bezirk_col = city_col = None
        bezirk_no = None
        for c, v in enumerate(row):
            if not isinstance(v, str):
                continue
            text = _clean_label(v)
            if m := re.match(r"(?i)^Stadtbezirk\s*0?(\d{1,2})$", text):
                bezirk_col, bezirk_no = c, int(m.group(1))
            elif re.search(r"(?i)düsseldorf|stadt insgesamt|gesamtstadt", text):
                city_col = c
        if bezirk_col is None or city_col is None or r + 1 >= len(grid):
            continue
        heads = sorted([(bezirk_col, "bezirk"), (city_col, "city")])
        units = grid[r + 1]
        cols: list[tuple[int, str, str]] = []
        for c, v in enumerate(units):
            label = _clean_label(v) if v is not None else ""
            kind = {"anzahl": "count", "%": "percent", "in %": "percent"}.get(label.lower())
            if kind is None:
                continue
            scope = None
            for hc, hs in heads:
                if hc <= c:
                    scope = hs
            if scope is None:
                continue
            cols.append((c, scope, kind))
        kinds = {(s, k) for _, s, k in cols}
        expected = {
            ("bezirk", "count"),
            ("bezirk", "percent"),
            ("city", "count"),
            ("city", "percent"),
        }
        if kinds != expected or len(cols) != 4:
            msg = (
                f"{where}: found the header in row {r + 1} but the unit row {r + 2} does not "
                "have 'Anzahl' and '%' under both the Stadtbezirk and the city "
                f"(found {sorted(kinds)}). The layout of the profile has changed."
            )
            raise DataSourceError(msg)
        label_col = min(bezirk_col, city_col) - 1
        if label_col < 0:
            msg = f"{where}: no label column left of the value columns (header row {r + 1})."
            raise DataSourceError(msg)
        return _Layout(
            header_row=r,
            unit_row=r + 1,
            label_col=label_col,
            bezirk_code=f"{bezirk_no:02d}",
            columns=tuple(cols),
        )
    msg = (
        f"{where}: no header row with 'Stadtbezirk N' and 'Düsseldorf insgesamt' in the first "
        "20 rows. Is this a Stadtbezirksprofil workbook of the Amt für Statistik und Wahlen?"
    )
    raise DataSourceError(msg)


def _is_blank_row(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _section_for(label: str) -> tuple[str, list[tuple[str, str]]] | None:
    low = label.lower()
    for prefix, topic, triggers in _SECTIONS:
        if low.startswith(prefix):
            return topic, triggers
    return None


def _parse_profile_sheet(grid: list[list[Any]], *, file: str, sheet: str) -> pd.DataFrame:
    where = f"{file}, sheet {sheet!r}"
    layout = _find_layout(grid, where)
    value_cols = [c for c, _, _ in layout.columns]
    records: list[dict[str, Any]] = []
    pending: list[int] = []  # indices of records waiting for their 'Quelle ... Stand' line
    section = ""
    topic = "other"
    triggers: list[tuple[str, str]] = []
    heading_date: pd.Timestamp | None = None
    n = len(grid)
    for r in range(layout.unit_row + 1, n):
        row = grid[r]
        raw_label = row[layout.label_col] if layout.label_col < len(row) else None
        label = _clean_label(raw_label) if raw_label is not None else ""
        values = {c: row[c] for c in value_cols if c < len(row) and row[c] is not None}
        values = {c: v for c, v in values.items() if not (isinstance(v, str) and not v.strip())}
        if not label and not values:
            continue
        if not label:
            cells = ", ".join(_cell_name(r + 1, c + 1) for c in values)
            msg = f"{where}: value(s) in {cells} have no label in the label column."
            raise DataSourceError(msg)
        if not values:
            if label.startswith("Quelle"):
                date = _parse_date(label) or heading_date
                for i in pending:
                    records[i]["source"] = label.removeprefix("Quelle:").strip()
                    records[i]["reference_date"] = date
                pending = []
                continue
            if re.match(r"^(x|-|\.|0 bzw\.)\s+=", label) or label.startswith(("*", "Erläuterung")):
                continue
            next_blank = r + 1 >= n or _is_blank_row(grid[r + 1])
            found = _section_for(label)
            if next_blank and found is not None:
                section = label
                topic, triggers = found
                heading_date = _parse_date(label)
                continue
            if next_blank and len(label) < 80:
                section, topic, triggers = label, "other", []
                heading_date = _parse_date(label)
                logger.info("%s: unknown section %r in row %d", where, label, r + 1)
                continue
            for pattern, t in triggers:  # sub-headings such as 'Im Alter von …'
                if re.search(pattern, label):
                    topic = t
            continue
        for pattern, t in triggers:
            if re.search(pattern, label):
                topic = t
        for c, scope, kind in layout.columns:
            if c not in values:
                continue
            cell = _cell_name(r + 1, c + 1)
            value, status = _parse_value(values[c], where=f"{where}, cell {cell}")
            unit = "percent" if kind == "percent" else "count"
            if kind == "count":
                for pattern, u in _UNIT_FROM_LABEL:
                    if re.search(pattern, label):
                        unit = u
                        break
            records.append(
                {
                    "bezirk_code": layout.bezirk_code,
                    "scope": scope,
                    "section": section,
                    "topic": topic,
                    "indicator": label,
                    "indicator_id": _indicator_id(topic, label, unit),
                    "value": value,
                    "unit": unit,
                    "reference_date": heading_date,
                    "suppressed": status == "suppressed",
                    "value_status": status,
                    "source": "",
                    "file": file,
                    "cell": cell,
                }
            )
            pending.append(len(records) - 1)
    df = pd.DataFrame.from_records(records)
    _check_required(df, layout, where, grid)
    return df


def _check_required(df: pd.DataFrame, layout: _Layout, where: str, grid: list[list[Any]]) -> None:
    problems = []
    for key, label in _REQUIRED.items():
        for scope in ("bezirk", "city"):
            hit = df[(df["indicator_id"] == key) & (df["scope"] == scope)]
            if len(hit) == 1:
                continue
            if len(hit) > 1:
                cells = ", ".join(hit["cell"])
                problems.append(f"{label!r} ({scope}) occurs {len(hit)} times: {cells}")
                continue
            # find the label cell to say precisely what is wrong
            rows = [
                r + 1
                for r in range(layout.unit_row + 1, len(grid))
                if layout.label_col < len(grid[r])
                and grid[r][layout.label_col] is not None
                and _clean_label(grid[r][layout.label_col]).startswith(label.split(" (")[0])
            ]
            unit = "%" if key.startswith("landuse_") or key == "sgb2_share" else "Anzahl"
            col = next(
                c for c, s, k in layout.columns if s == scope and (k == "percent") == (unit == "%")
            )
            if rows:
                cells = ", ".join(_cell_name(r, col + 1) for r in rows)
                problems.append(
                    f"{label!r} found in row(s) {rows} but no usable '{unit}' value for the "
                    f"{scope} in {cells}"
                )
            else:
                col_letter = _cell_name(1, layout.label_col + 1)[:-1]
                problems.append(
                    f"expected a row labelled {label!r} in column {col_letter} "
                    f"(rows {layout.unit_row + 2}–{len(grid)}); not found"
                )
    if problems:
        lines = "; ".join(problems)
        msg = (
            f"{where}: {len(problems)} expected indicator(s) missing: {lines}. "
            "The profile layout has changed; check the labels against the published workbook."
        )
        raise DataSourceError(msg)


def _profile_files(
    path: PathLike | Sequence[PathLike] | None, data_dir: PathLike | None
) -> list[Path]:
    if path is None:
        files = _layer_files("bezirk_profiles", data_dir)
    elif isinstance(path, str | os.PathLike):
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.glob("*.xlsx") if not f.name.startswith("~$"))
            if not files:
                msg = f"{p} holds no .xlsx workbooks (expected Stadtbezirk01.xlsx … 10)."
                raise DataSourceError(msg)
        else:
            files = [p]
    else:
        files = [Path(f) for f in path]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        msg = f"Bezirk profile workbook(s) not found: {missing}. Run `handwerkgeo data fetch`."
        raise DataSourceError(msg)
    return files


def read_bezirk_profiles(
    path: PathLike | Sequence[PathLike] | None = None,
    *,
    data_dir: PathLike | None = None,
) -> pd.DataFrame:
    """Read the Stadtbezirksprofile workbooks into one tidy table.

    Each workbook shows one Stadtbezirk and the whole city side by side (columns
    ``Anzahl`` and ``%`` for each). The layout is located from its header cells
    ("Stadtbezirk N", "Düsseldorf insgesamt", "Anzahl", "%"), not from fixed cell
    addresses; sections are found from their headings and every block's reference date
    from its "Quelle: … Stand: dd.mm.yyyy" line.

    Parameters
    ----------
    path
        A folder with ``StadtbezirkNN.xlsx``, one workbook, or a list of workbooks.
        ``None`` reads the fetched layer ``bezirk_profiles``.
    data_dir
        Data directory for ``path=None`` (see :mod:`handwerkgeo.settings`).

    Returns
    -------
    pandas.DataFrame
        One row per Bezirk × scope × indicator × unit, columns:

        - ``bezirk_code``: ``"01"`` … ``"10"`` (from the sheet header, checked against
          the file name);
        - ``scope``: ``"bezirk"`` or ``"city"`` (the "Düsseldorf insgesamt" columns);
        - ``section``: German section heading; ``topic``: English topic (``employees``,
          ``unemployment``, ``population``, ``age_groups``, ``foreigners``,
          ``migration_background``, ``migration_flows``, ``relocations``,
          ``natural_change``, ``schools``, ``pupils``, ``land_use``, ``health``,
          ``buildings``, ``dwellings``, ``households``, ``sgb2``, ``sgb12``,
          ``housing_benefit``, ``kitas``, ``youth_centres``, ``elderly_care``, ``cars``,
          ``elections``);
        - ``indicator``: German label as in the sheet, whitespace-normalised;
        - ``indicator_id``: stable English id for the indicators scoring uses
          (``population_total``, ``employees_residence``, ``unemployed``,
          ``unemployment_rate``, ``sgb2_persons``, ``sgb2_share`` (percent of the
          population under 65), ``dwellings``, ``landuse_*`` shares, age groups …),
          ``None`` for the rest;
        - ``value`` (float; NaN for ``.`` and ``x``; 0 for ``-``), ``unit``
          (``count``, ``percent``, ``ha``, ``years``, ``per_resident``,
          ``persons_per_household``);
        - ``reference_date`` (Timestamp or NaT where the sheet gives none);
        - ``suppressed`` (True for ``.``), ``value_status`` (``value``, ``zero``,
          ``suppressed``, ``not_available``);
        - ``source`` (the "Quelle" text), ``file`` and ``cell`` (e.g. ``"B25"``) to trace
          every number back to the workbook.

    Raises
    ------
    DataSourceError
        If a workbook is missing, its header cannot be found, a value cannot be read
        (the message names file, sheet and cell), or an indicator scoring needs is
        missing (named with the label searched for).
    DuplicateIdError
        If two workbooks describe the same Stadtbezirk.

    Examples
    --------
    >>> profiles = read_bezirk_profiles("data/raw/statistik/stadtbezirksprofile")  # doctest: +SKIP
    >>> pop = profiles.query("indicator_id == 'population_total'")  # doctest: +SKIP
    >>> pop = pop[pop["scope"] == "bezirk"]  # doctest: +SKIP
    >>> pop["value"].sum()  # doctest: +SKIP
    644280.0
    """
    from openpyxl import load_workbook

    files = _profile_files(path, data_dir)
    frames = []
    seen: dict[str, str] = {}
    for f in files:
        try:
            wb = load_workbook(f, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for corrupt files
            msg = f"cannot open {f.name} as an Excel workbook: {exc}. Fetch it again."
            raise DataSourceError(msg) from exc
        try:
            sheet_errors = []
            parsed = None
            for ws in wb.worksheets:
                grid = [list(row) for row in ws.iter_rows(values_only=True)]
                try:
                    parsed = _parse_profile_sheet(grid, file=f.name, sheet=ws.title)
                    break
                except DataSourceError as exc:
                    if "no header row" not in str(exc):
                        raise
                    sheet_errors.append(str(exc))
            if parsed is None:
                msg = "; ".join(sheet_errors) or f"{f.name}: the workbook has no sheets."
                raise DataSourceError(msg)
        finally:
            wb.close()
        code = parsed["bezirk_code"].iloc[0]
        if (m := re.search(r"(\d{1,2})\D*$", f.stem)) and f"{int(m.group(1)):02d}" != code:
            msg = (
                f"{f.name}: the file name says Stadtbezirk {int(m.group(1))} but the sheet "
                f"header says Stadtbezirk {int(code)}. Rename the file or check its content."
            )
            raise DataSourceError(msg)
        if code in seen:
            msg = f"Stadtbezirk {code} appears twice: {seen[code]} and {f.name}."
            raise DuplicateIdError(msg)
        seen[code] = f.name
        frames.append(parsed)
        logger.debug("read %s: %d values", f.name, len(parsed))
    out = pd.concat(frames, ignore_index=True)
    out["reference_date"] = pd.to_datetime(out["reference_date"])
    out = out.sort_values(["bezirk_code", "scope"], kind="stable")
    out = out.reset_index(drop=True)
    _check_landuse_sums(out)
    logger.info(
        "read %d Bezirk profiles: %d values (%d suppressed)",
        len(files),
        len(out),
        int(out["suppressed"].sum()),
    )
    return out


def _check_landuse_sums(profiles: pd.DataFrame) -> None:
    lu = profiles[profiles["indicator_id"].isin(list(LANDUSE_CLASSES))]
    sums = lu.groupby(["bezirk_code", "scope"])["value"].sum()
    bad = sums[(sums - 100).abs() > 0.5]
    for (code, scope), total in bad.items():
        logger.warning(
            "Realnutzung shares of Stadtbezirk %s (%s) sum to %.2f %%, not 100 %%",
            code,
            scope,
            total,
        )


def _profiles_or_read(profiles: pd.DataFrame | None, data_dir: PathLike | None) -> pd.DataFrame:
    if profiles is None:
        return read_bezirk_profiles(data_dir=data_dir)
    missing = [c for c in ("bezirk_code", "scope", "indicator_id", "value") if c not in profiles]
    if missing:
        msg = (
            f"profiles is missing column(s) {missing}; pass the frame returned by "
            "read_bezirk_profiles()."
        )
        raise MissingColumnError(msg)
    return profiles


def realnutzung_shares(
    profiles: pd.DataFrame | None = None,
    *,
    data_dir: PathLike | None = None,
    utilities: Literal["special", "separate"] = "special",
) -> pd.DataFrame:
    """Actual land use (Realnutzung) of each Stadtbezirk as fractions of its area.

    The sheets list ten classes; the tenth, "Ver- und Entsorgung" (utilities: power
    plants, waste and sewage works; 0.1–3.6 % per Bezirk), has no class of its own in the
    nine-class scheme used for land-use mix, so by default it is added to
    ``landuse_special`` (Sonderbauflächen: areas for a special purpose). Each row is
    rescaled to sum to exactly 1 (the published percentages are rounded to 0.01 and sum
    to 99.98–100.01).

    Parameters
    ----------
    profiles
        Output of :func:`read_bezirk_profiles`; ``None`` reads the fetched layer.
    data_dir
        Data directory for ``profiles=None``.
    utilities
        ``"special"`` (default) merges utilities into ``landuse_special``;
        ``"separate"`` keeps a tenth column ``landuse_utilities``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bezirk_code``, one float column per class (``landuse_residential``,
        ``landuse_commercial``, ``landuse_mixed``, ``landuse_special``,
        ``landuse_transport``, ``landuse_green``, ``landuse_agri_forest``,
        ``landuse_community``, ``landuse_water``), rows summing to 1.
        ``attrs["city"]`` holds the same shares for the whole city and
        ``attrs["published_sum_pct"]`` the published sums before rescaling.

    Examples
    --------
    >>> shares = realnutzung_shares(profiles)  # doctest: +SKIP
    >>> shares.loc["05", "landuse_agri_forest"]  # doctest: +SKIP
    0.5247
    """
    if utilities not in ("special", "separate"):
        msg = f"utilities must be 'special' or 'separate', not {utilities!r}."
        raise ConfigError(msg)
    prof = _profiles_or_read(profiles, data_dir)
    lu = prof[prof["indicator_id"].isin(list(LANDUSE_CLASSES))]
    wide = lu.pivot_table(
        index=["scope", "bezirk_code"], columns="indicator_id", values="value", aggfunc="first"
    )
    for key in LANDUSE_CLASSES:
        if key not in wide:
            wide[key] = 0.0
    wide = wide.fillna(0.0)
    if utilities == "special":
        wide["landuse_special"] = wide["landuse_special"] + wide["landuse_utilities"]
        wide = wide.drop(columns="landuse_utilities")
        cols = [k for k in LANDUSE_CLASSES if k != "landuse_utilities"]
    else:
        cols = list(LANDUSE_CLASSES)
    wide = wide[cols]
    published = wide.sum(axis=1)
    if (published <= 0).any():
        bad = list(published[published <= 0].index)
        msg = f"no Realnutzung shares for {bad}; check the profiles."
        raise DataSourceError(msg)
    shares = wide.div(published, axis=0)
    shares.columns.name = None
    bezirk = shares.loc["bezirk"].sort_index()
    city = shares.loc["city"]
    out = bezirk.copy()
    out.attrs["city"] = city.iloc[0].to_dict() if len(city) else {}
    out.attrs["published_sum_pct"] = published.loc["bezirk"].to_dict()
    out.attrs["utilities"] = utilities
    return out


def bezirk_indicators(
    profiles: pd.DataFrame | None = None,
    *,
    data_dir: PathLike | None = None,
) -> pd.DataFrame:
    """Key indicators per Stadtbezirk for scoring (jobs–housing balance, social mix).

    Parameters
    ----------
    profiles
        Output of :func:`read_bezirk_profiles`; ``None`` reads the fetched layer.
    data_dir
        Data directory for ``profiles=None``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bezirk_code``: ``population``, ``employees_residence`` (employees
        subject to social insurance living in the Bezirk, 31.12.2019), ``unemployed``,
        ``unemployment_share`` (fraction of the labour force), ``sgb2_persons``,
        ``sgb2_share`` (persons in SGB II households as a fraction of the population
        under 65), ``dwellings``. ``attrs["city"]`` holds the whole-city values (the
        same in every workbook; a disagreement raises). Population and dwellings of the
        Bezirke add up to the city; employees, unemployed and SGB II persons add up to
        0.1–2.2 % less (persons the statistics cannot assign to a Bezirk), so use the
        city values, not the Bezirk sums, as the reference.

    Raises
    ------
    DataSourceError
        If the workbooks disagree on a city value.

    Examples
    --------
    >>> ind = bezirk_indicators(profiles)  # doctest: +SKIP
    >>> ind.attrs["city"]["population"]  # doctest: +SKIP
    644280.0
    """
    prof = _profiles_or_read(profiles, data_dir)
    wanted = {
        "population_total": ("population", 1.0),
        "employees_residence": ("employees_residence", 1.0),
        "unemployed": ("unemployed", 1.0),
        "unemployment_rate": ("unemployment_share", 0.01),
        "sgb2_persons": ("sgb2_persons", 1.0),
        "sgb2_share": ("sgb2_share", 0.01),
        "dwellings": ("dwellings", 1.0),
    }
    sel = prof[prof["indicator_id"].isin(list(wanted))]
    wide = sel.pivot_table(
        index=["scope", "bezirk_code"],
        columns="indicator_id",
        values="value",
        aggfunc="first",
        dropna=False,
    )
    for key in wanted:
        if key not in wide:
            wide[key] = np.nan
    wide = wide[list(wanted)]
    for key, (_, factor) in wanted.items():
        wide[key] = wide[key] * factor
    wide = wide.rename(columns={k: v[0] for k, v in wanted.items()})
    wide.columns.name = None
    out = wide.loc["bezirk"].sort_index().copy()
    city = wide.loc["city"] if "city" in wide.index.get_level_values(0) else None
    city_values: dict[str, float] = {}
    if city is not None and len(city):
        spread = city.max() - city.min()
        disagree = spread[spread.abs() > 1e-6 * city.abs().max().clip(lower=1)]
        if len(disagree):
            msg = (
                "the Bezirk workbooks disagree on the whole-city value of "
                f"{list(disagree.index)}; they must come from the same release."
            )
            raise DataSourceError(msg)
        city_values = {k: float(v) for k, v in city.iloc[0].items()}
    out.attrs["city"] = city_values
    return out


# --------------------------------------------------------------------------------------
# Stadtteil tables
# --------------------------------------------------------------------------------------


def _stadtteil_fields(code: str, name_in_source: str, *, where: str) -> tuple[str, str, str]:
    """Return (official name, bezirk code, note) for a code, checking the name."""
    if code == MERGED_UNTERBILK_HAFEN:
        official = f"{STADTTEILE['032'][0]}/{STADTTEILE['033'][0]}"
        expected = normalize_key("UnterbilkHafen")
        note = (
            ""
            if normalize_key(name_in_source) == expected
            else f"name in source {name_in_source!r}"
        )
        return official, "03", note
    if code not in STADTTEILE:
        msg = (
            f"{where}: unknown Stadtteil code {code!r} (name {name_in_source!r}). "
            "Düsseldorf's codes are 011 … 102."
        )
        raise DataSourceError(msg)
    official, bezirk = STADTTEILE[code]
    note = ""
    if name_in_source and normalize_key(name_in_source) != normalize_key(official):
        note = f"name in source {name_in_source!r} differs from the official name {official!r}"
        logger.warning("%s: code %s: %s", where, code, note)
    return official, bezirk, note


def _stadtteil_code(raw: str, *, where: str) -> str:
    s = _clean_label(raw).replace(" ", "")
    if re.fullmatch(r"0?3?2/0?3?3", s) or s in {"32/33", "032/033"}:
        return MERGED_UNTERBILK_HAFEN
    if re.fullmatch(r"\d{1,3}", s):
        return s.zfill(3)
    msg = f"{where}: {raw!r} is not a Stadtteil code (expected 11 … 102 or 032/033)."
    raise DataSourceError(msg)


def _join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def read_population_migration(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Population per Stadtteil 2020–2024 with and without migration background.

    The best per-Stadtteil population source: all 50 Stadtteile separately, five years.

    Parameters
    ----------
    path
        ``bevoelkerung_migrationshintergrund_stadtteile_2020_2024.csv``; ``None`` reads the
        fetched layer ``population_migration``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per year and Stadtteil: ``year`` (int), ``stadtteil_code``
        (``"011"`` …), ``stadtteil_name`` (official spelling), ``name_in_source``,
        ``bezirk_code``, ``population``, ``with_migration``, ``without_migration``
        (floats), ``note`` (``""`` or what is odd about the row, e.g. a total that is not
        the sum of its parts — such rows are kept and logged).

    Examples
    --------
    >>> pop = read_population_migration(path)  # doctest: +SKIP
    >>> pop.groupby("year")["population"].sum().loc[2024]  # doctest: +SKIP
    658350.0
    """
    p = _one_file(path, "population_migration", data_dir)
    cols = {
        "Jahr": "year",
        "Stadtteil_Nummer": "stadtteil_code",
        "Stadtteil_Name": "name_in_source",
        "personen_insgesamt": "population",
        "personen_mit_migrationshintergrund": "with_migration",
        "personen_ohne_migrationshintergrund": "without_migration",
    }
    raw = _read_semicolon_csv(p, required=list(cols))
    raw = raw[~raw.apply(lambda r: all(not str(v).strip() for v in r), axis=1)]
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        code = _stadtteil_code(row["Stadtteil_Nummer"], where=where)
        name, bezirk, note = _stadtteil_fields(code, row["Stadtteil_Name"], where=where)
        rec: dict[str, Any] = {
            "year": int(_parse_value(row["Jahr"], where=where)[0]),
            "stadtteil_code": code,
            "stadtteil_name": name,
            "name_in_source": _clean_label(row["Stadtteil_Name"]),
            "bezirk_code": bezirk,
        }
        for src, dst in list(cols.items())[3:]:
            rec[dst] = _parse_value(row[src], where=f"{where}, column {src}")[0]
        total = rec["with_migration"] + rec["without_migration"]
        if np.isfinite(total) and abs(total - rec["population"]) > 0.5:
            note = _join_notes(
                note, f"population {rec['population']:.0f} != with + without {total:.0f}"
            )
            logger.warning("%s: %s", where, note)
        rec["note"] = note
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    dup = out.duplicated(["year", "stadtteil_code"], keep=False)
    if dup.any():
        pairs = sorted(set(zip(out.loc[dup, "year"], out.loc[dup, "stadtteil_code"], strict=True)))
        msg = f"{p.name}: (year, Stadtteil) pairs occur more than once: {pairs[:10]}."
        raise DuplicateIdError(msg)
    years = sorted(int(y) for y in out["year"].unique())
    logger.info("read %s: %d rows, years %s", p.name, len(out), years)
    return out


def read_population_2012_2024(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Population per Stadtteil 2012–2024 ("Bevölkerungsstand in den Stadtteilen seit 2012").

    Quirks of the published file handled here: codes without leading zero (``11`` →
    ``"011"``); the mistyped header ``_Jahr_2014``; ASCII spellings (``Flingern Sued`` →
    ``Flingern Süd``); Unterbilk and Hafen published as one row ``032/033`` (kept with
    ``is_merged=True``; join it to quarters with :func:`merged_join_key` or split it with
    :func:`split_unterbilk_hafen`); Knittkuhl 2012–2013 given as ``X`` because it became a
    Stadtteil only in 2014 and was counted in Hubbelrath (footnote ``*`` on both names):
    those cells are NaN with ``value_missing=True`` and a reason in ``note``, and the
    Hubbelrath rows of the same years say that they include Knittkuhl.

    Parameters
    ----------
    path
        ``bevoelkerungsstand_stadtteile_2012_2024.csv``; ``None`` reads the fetched layer
        ``population_2012_2024``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        Long format: ``stadtteil_code``, ``stadtteil_name``, ``name_in_source``,
        ``bezirk_code``, ``year`` (int), ``population`` (float), ``is_merged``,
        ``value_missing``, ``note``.

    Examples
    --------
    >>> ts = read_population_2012_2024(path)  # doctest: +SKIP
    >>> ts.groupby("year")["population"].sum().loc[2020]  # doctest: +SKIP
    644280.0
    """
    p = _one_file(path, "population_2012_2024", data_dir)
    raw = _read_semicolon_csv(p, required=["Stadtteilnummer", "Stadtteilname"])
    year_cols: dict[str, int] = {}
    for c in raw.columns:
        if m := re.fullmatch(r"(?i)_*jahr_*(\d{4})_*", c):
            year_cols[c] = int(m.group(1))
            if c != f"Jahr_{m.group(1)}":
                logger.info("%s: header %r read as year %s", p.name, c, m.group(1))
    if not year_cols:
        msg = f"{p.name}: no year columns like 'Jahr_2012' in {list(raw.columns)}."
        raise MissingColumnError(msg)
    raw = raw[~raw.apply(lambda r: all(not str(v).strip() for v in r), axis=1)]
    rows = []
    starred: dict[str, str] = {}  # code -> name of rows with footnote '*'
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        code = _stadtteil_code(row["Stadtteilnummer"], where=where)
        src_name = _clean_label(row["Stadtteilname"])
        footnote = src_name.endswith("*")
        clean = src_name.rstrip("*").strip()
        name, bezirk, note = _stadtteil_fields(code, clean, where=where)
        if footnote:
            starred[code] = name
        for col, year in year_cols.items():
            value, status = _parse_value(row[col], where=f"{where}, column {col}")
            rows.append(
                {
                    "stadtteil_code": code,
                    "stadtteil_name": name,
                    "name_in_source": src_name,
                    "bezirk_code": bezirk,
                    "year": year,
                    "population": value,
                    "is_merged": code == MERGED_UNTERBILK_HAFEN,
                    "value_missing": status in {"not_available", "suppressed", "empty"},
                    "note": note,
                    "_status": status,
                }
            )
    out = pd.DataFrame.from_records(rows)
    # explain missing cells of footnoted rows, and the rows that include them
    for idx in out.index[out["value_missing"]]:
        code, year = out.at[idx, "stadtteil_code"], out.at[idx, "year"]
        status = out.at[idx, "_status"]
        if code in starred and len(starred) > 1:
            others = [n for c, n in starred.items() if c != code]
            reason = (
                f"'{'X' if status == 'not_available' else status}' in source: no separate "
                f"figure for {year}; counted in {', '.join(others)} (footnote * in source)"
            )
            for c in starred:
                if c == code:
                    continue
                mask = (out["stadtteil_code"] == c) & (out["year"] == year)
                out.loc[mask, "note"] = out.loc[mask, "note"].map(
                    lambda n, nm=starred[code]: _join_notes(n, f"includes {nm} (footnote *)")
                )
        else:
            reason = f"no value in source ({status})"
        out.at[idx, "note"] = _join_notes(out.at[idx, "note"], reason)
    out = out.drop(columns="_status")
    if out.duplicated(["stadtteil_code", "year"]).any():
        dups = sorted(
            out.loc[out.duplicated(["stadtteil_code", "year"]), "stadtteil_code"].unique()
        )
        msg = f"{p.name}: Stadtteil code(s) {dups} occur more than once."
        raise DuplicateIdError(msg)
    _check_code_coverage(set(out["stadtteil_code"]), p.name)
    logger.info(
        "read %s: %d Stadtteil rows × %d years (%d missing cells)",
        p.name,
        out["stadtteil_code"].nunique(),
        len(year_cols),
        int(out["value_missing"].sum()),
    )
    return out.sort_values(["stadtteil_code", "year"], kind="stable").reset_index(drop=True)


def _check_code_coverage(codes: Iterable[str], name: str) -> None:
    covered: set[str] = set()
    for c in codes:
        covered.update(_MERGED_PARTS if c == MERGED_UNTERBILK_HAFEN else (c,))
    missing = sorted(set(STADTTEILE) - covered)
    if missing:
        logger.warning("%s: no row for Stadtteil(e) %s", name, missing)


def read_population_forecast_2035(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Official population forecast per Stadtteil, 2019 → 2035.

    The first row of the file is the whole city; rows are labelled ``"011 Altstadt"``;
    Unterbilk and Hafen form one row ``"032 Unterbilk / 033 Hafen"``; the change in %
    uses a decimal comma.

    Parameters
    ----------
    path
        ``bevoelkerungsprognose_stadtteile_2035.csv``; ``None`` reads the fetched layer
        ``population_forecast_2035``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        ``row_type`` (``"city_total"``, ``"stadtteil"`` or ``"merged"``),
        ``stadtteil_code`` (``None`` for the city row, ``"032/033"`` for the merged one),
        ``stadtteil_name``, ``name_in_source``, ``bezirk_code``, ``population_2019``,
        ``population_2035``, ``change_abs``, ``change_pct`` (percent), ``is_merged``,
        ``note`` (e.g. when the published change disagrees with the two populations).

    Examples
    --------
    >>> fc = read_population_forecast_2035(path)  # doctest: +SKIP
    >>> fc.loc[fc.row_type == "city_total", "population_2035"].item()  # doctest: +SKIP
    702500.0
    """
    p = _one_file(path, "population_forecast_2035", data_dir)
    raw = _read_semicolon_csv(p)
    if raw.shape[1] < 5:
        msg = (
            f"{p.name}: expected 5 columns (Indikator; 2019; 2035; Veraenderung absolut; "
            f"Veraenderung in %), found {list(raw.columns)}."
        )
        raise MissingColumnError(msg)
    label_col, y0, y1, abs_col, pct_col = raw.columns[:5]
    years = []
    for c in (y0, y1):
        if not re.fullmatch(r"\d{4}", c):
            msg = f"{p.name}: column {c!r} should be a year (e.g. 2019, 2035)."
            raise MissingColumnError(msg)
        years.append(int(c))
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        label = _clean_label(row[label_col])
        if not label:
            continue
        merged = re.fullmatch(r"(\d{1,3})\s+(.+?)\s*/\s*(\d{1,3})\s+(.+)", label)
        single = re.fullmatch(r"(\d{1,3})\s+(.+)", label)
        if merged and {merged.group(1).zfill(3), merged.group(3).zfill(3)} == set(_MERGED_PARTS):
            code = MERGED_UNTERBILK_HAFEN
            src_name = f"{merged.group(2)}/{merged.group(4)}"
            row_type = "merged"
        elif single:
            code = single.group(1).zfill(3)
            src_name = single.group(2)
            row_type = "stadtteil"
        elif normalize_key(label) in {"duesseldorf", "stadtduesseldorf", "duesseldorfinsgesamt"}:
            code, src_name, row_type = None, label, "city_total"
        else:
            msg = f"{where}: cannot read {label!r} as '011 Altstadt' or the city total."
            raise DataSourceError(msg)
        if code is None:
            name, bezirk, note = "Düsseldorf", None, ""
        else:
            name, bezirk, note = _stadtteil_fields(code, src_name, where=where)
        vals = [
            _parse_value(row[c], where=f"{where}, column {c}")[0]
            for c in (y0, y1, abs_col, pct_col)
        ]
        if np.isfinite(vals[0]) and np.isfinite(vals[1]) and abs(vals[1] - vals[0] - vals[2]) > 0.5:
            note = _join_notes(note, f"published change {vals[2]:.0f} != {vals[1] - vals[0]:.0f}")
        records.append(
            {
                "row_type": row_type,
                "stadtteil_code": code,
                "stadtteil_name": name,
                "name_in_source": label,
                "bezirk_code": bezirk,
                f"population_{years[0]}": vals[0],
                f"population_{years[1]}": vals[1],
                "change_abs": vals[2],
                "change_pct": vals[3],
                "is_merged": row_type == "merged",
                "note": note,
            }
        )
    out = pd.DataFrame.from_records(records)
    parts = out[out["row_type"] != "city_total"]
    city = out[out["row_type"] == "city_total"]
    if len(city) == 1:
        for y in years:
            col = f"population_{y}"
            diff = parts[col].sum() - city[col].item()
            if abs(diff) > 0.5:
                logger.warning(
                    "%s: Stadtteile sum to %+.0f vs the city total in %d", p.name, diff, y
                )
    _check_code_coverage(set(parts["stadtteil_code"]), p.name)
    logger.info("read %s: %d rows (%d Stadtteil rows)", p.name, len(out), len(parts))
    return out


def read_primary_pupils(
    path: PathLike | None = None,
    *,
    data_dir: PathLike | None = None,
    dash: DashMeaning = "zero",
) -> pd.DataFrame:
    """Primary-school pupils by Stadtteil of residence (year not stated in the file).

    Parameters
    ----------
    path
        ``grundschueler_stadtteile.csv``; ``None`` reads the fetched layer
        ``primary_pupils``.
    data_dir
        Data directory for ``path=None``.
    dash
        Meaning of the sign ``-``: ``"zero"`` (default; the city's legend: "Zahlenwert
        genau Null") or ``"suppressed"`` (read as NaN, like ``.``).

    Returns
    -------
    pandas.DataFrame
        ``row_type`` (``"stadtteil"`` or ``"outside_city"`` for the row of pupils from
        outside the city or without a stated Stadtteil, kept but flagged),
        ``stadtteil_code`` (``None`` for that row), ``stadtteil_name``,
        ``name_in_source``, ``bezirk_code``, ``male``, ``female``, ``german``,
        ``non_german`` (floats, NaN where suppressed), ``total`` (male + female),
        ``suppressed`` (comma-separated names of suppressed columns, ``""`` if none),
        ``note``.

    Examples
    --------
    >>> pupils = read_primary_pupils(path)  # doctest: +SKIP
    >>> pupils.loc[pupils.stadtteil_code == "034", "suppressed"].item()  # doctest: +SKIP
    'german,non_german'
    """
    if dash not in ("zero", "suppressed"):
        msg = f"dash must be 'zero' or 'suppressed', not {dash!r}."
        raise ConfigError(msg)
    p = _one_file(path, "primary_pupils", data_dir)
    cols = {
        "männlich": "male",
        "weiblich": "female",
        "deutsch": "german",
        "nichtdeutsch": "non_german",
    }
    raw = _read_semicolon_csv(p, required=["Stadtteil", *cols])
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        label = _clean_label(row["Stadtteil"])
        if not label:
            continue
        if m := re.fullmatch(r"(\d{1,3})\s+(.+)", label):
            code = m.group(1).zfill(3)
            name, bezirk, note = _stadtteil_fields(code, m.group(2), where=where)
            row_type = "stadtteil"
        else:
            code, name, bezirk, row_type = None, label, None, "outside_city"
            note = "pupils living outside Düsseldorf or without a stated Stadtteil"
        rec: dict[str, Any] = {
            "row_type": row_type,
            "stadtteil_code": code,
            "stadtteil_name": name,
            "name_in_source": label,
            "bezirk_code": bezirk,
        }
        suppressed = []
        for src, dst in cols.items():
            value, status = _parse_value(row[src], where=f"{where}, column {src}", dash=dash)
            rec[dst] = value
            if status == "suppressed":
                suppressed.append(dst)
        rec["total"] = rec["male"] + rec["female"]
        rec["suppressed"] = ",".join(suppressed)
        both = rec["german"] + rec["non_german"]
        if np.isfinite(both) and np.isfinite(rec["total"]) and abs(both - rec["total"]) > 0.5:
            note = _join_notes(note, f"german + non_german {both:.0f} != total {rec['total']:.0f}")
        rec["note"] = note
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    _check_code_coverage(set(out["stadtteil_code"].dropna()), p.name)
    logger.info("read %s: %d rows", p.name, len(out))
    return out


_KINDS = {
    "migration": read_population_migration,
    "timeseries": read_population_2012_2024,
    "forecast": read_population_forecast_2035,
    "pupils": read_primary_pupils,
}


def read_stadtteil_population(
    kind: Literal["migration", "timeseries", "forecast", "pupils"] = "migration",
    path: PathLike | None = None,
    *,
    data_dir: PathLike | None = None,
) -> pd.DataFrame:
    """Read one of the Stadtteil population tables by kind.

    ``"migration"`` → :func:`read_population_migration` (2020–2024, the best source),
    ``"timeseries"`` → :func:`read_population_2012_2024`, ``"forecast"`` →
    :func:`read_population_forecast_2035`, ``"pupils"`` → :func:`read_primary_pupils`.
    All outputs carry ``stadtteil_code`` to join with the quarters layer.

    Examples
    --------
    >>> read_stadtteil_population("migration", path).columns[:3].tolist()  # doctest: +SKIP
    ['year', 'stadtteil_code', 'stadtteil_name']
    """
    try:
        reader = _KINDS[kind]
    except KeyError:
        msg = f"kind must be one of {sorted(_KINDS)}, not {kind!r}."
        raise ConfigError(msg) from None
    return reader(path, data_dir=data_dir)


# --------------------------------------------------------------------------------------
# Unterbilk / Hafen
# --------------------------------------------------------------------------------------


def merged_join_key(codes: pd.Series) -> pd.Series:
    """Map Stadtteil codes to the key of tables that merge Unterbilk and Hafen.

    ``"032"`` and ``"033"`` become ``"032/033"``; every other code is unchanged. Use it
    to join a merged table (2012–2024 series, 2035 forecast) to the quarters: either
    dissolve the quarters on the key (one polygon for Unterbilk + Hafen) or merge
    many-to-one (both quarters get the merged value, so do not sum over them).

    Examples
    --------
    >>> merged_join_key(pd.Series(["031", "032", "033"])).tolist()
    ['031', '032/033', '032/033']
    """
    return codes.where(~codes.isin(_MERGED_PARTS), MERGED_UNTERBILK_HAFEN)


def combine_unterbilk_hafen(
    df: pd.DataFrame,
    value_columns: Sequence[str],
    *,
    code_column: str = "stadtteil_code",
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Sum the Unterbilk (032) and Hafen (033) rows into one ``"032/033"`` row.

    Makes a table with separate rows comparable with the merged ones (e.g. the migration
    file with the 2012–2024 series). The input is not modified.

    Parameters
    ----------
    df
        Table with a Stadtteil code column.
    value_columns
        Columns to add up (counts); every other column of the merged row is taken from
        the Unterbilk row, with ``stadtteil_name`` set to ``"Unterbilk/Hafen"``.
    code_column
        Name of the code column.
    by
        Further key columns (e.g. ``["year"]``) to combine within.

    Returns
    -------
    pandas.DataFrame
        Copy of ``df`` with the 032 and 033 rows replaced by ``"032/033"`` rows and an
        ``is_merged`` column.

    Examples
    --------
    >>> t = pd.DataFrame({"stadtteil_code": ["031", "032", "033"], "n": [5, 3, 1]})
    >>> combine_unterbilk_hafen(t, ["n"])[["stadtteil_code", "n"]].values.tolist()
    [['031', 5], ['032/033', 4]]
    """
    missing = [c for c in [code_column, *value_columns, *by] if c not in df.columns]
    if missing:
        msg = f"combine_unterbilk_hafen: column(s) {missing} not in the table."
        raise MissingColumnError(msg)
    out = df.copy()
    parts = out[out[code_column].isin(_MERGED_PARTS)]
    rest = out[~out[code_column].isin(_MERGED_PARTS)].copy()
    if parts.empty:
        out["is_merged"] = out[code_column] == MERGED_UNTERBILK_HAFEN
        return out
    groups = parts.groupby(list(by), sort=False) if by else [((), parts)]
    merged_rows = []
    for _, g in groups:
        first = g.sort_values(code_column).iloc[0].copy()
        for c in value_columns:
            first[c] = g[c].sum(min_count=1)
        first[code_column] = MERGED_UNTERBILK_HAFEN
        if "stadtteil_name" in g.columns:
            first["stadtteil_name"] = "Unterbilk/Hafen"
        if "name_in_source" in g.columns:
            first["name_in_source"] = "/".join(str(n) for n in g["name_in_source"])
        merged_rows.append(first)
    merged = pd.DataFrame(merged_rows)
    rest["is_merged"] = rest[code_column] == MERGED_UNTERBILK_HAFEN
    merged["is_merged"] = True
    out = pd.concat([rest, merged], ignore_index=True)
    return out.sort_values([*by, code_column], kind="stable").reset_index(drop=True)


def unterbilk_hafen_shares(migration: pd.DataFrame) -> pd.DataFrame:
    """Shares of Unterbilk and Hafen in their joint population, per year.

    Parameters
    ----------
    migration
        Output of :func:`read_population_migration` (columns ``year``,
        ``stadtteil_code``, ``population``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``, columns ``"032"`` and ``"033"`` summing to 1.
    """
    missing = [c for c in ("year", "stadtteil_code", "population") if c not in migration]
    if missing:
        msg = f"unterbilk_hafen_shares needs columns {missing}; pass read_population_migration()."
        raise MissingColumnError(msg)
    sub = migration[migration["stadtteil_code"].isin(_MERGED_PARTS)]
    wide = sub.pivot_table(index="year", columns="stadtteil_code", values="population")
    if set(wide.columns) != set(_MERGED_PARTS) or wide.empty:
        msg = "the table has no rows for both 032 Unterbilk and 033 Hafen."
        raise DataSourceError(msg)
    shares = wide.div(wide.sum(axis=1), axis=0)[list(_MERGED_PARTS)]
    shares.columns.name = None
    return shares


def split_unterbilk_hafen(
    df: pd.DataFrame,
    value_columns: Sequence[str],
    shares: Mapping[str, float] | pd.DataFrame,
    *,
    code_column: str = "stadtteil_code",
    year_column: str = "year",
) -> pd.DataFrame:
    """Split each merged ``"032/033"`` row into estimated Unterbilk and Hafen rows.

    Parameters
    ----------
    df
        Table with merged rows (e.g. :func:`read_population_2012_2024`).
    value_columns
        Count columns to split.
    shares
        ``{"032": s, "033": 1 - s}`` for all rows, or the per-year table of
        :func:`unterbilk_hafen_shares`; years outside that table use the nearest year
        (e.g. 2012–2019 take the 2020 split, when Hafen had about 0.5 % of the
        residents).
    code_column, year_column
        Names of the code and year columns (``year_column`` is used only with a per-year
        table).

    Returns
    -------
    pandas.DataFrame
        Copy with every merged row replaced by a 032 and a 033 row; ``is_estimate`` is
        True for them and ``note`` says how they were split.

    Examples
    --------
    >>> t = pd.DataFrame({"stadtteil_code": ["032/033"], "population": [1000.0]})
    >>> split_unterbilk_hafen(t, ["population"], {"032": 0.99, "033": 0.01})["population"].tolist()
    [990.0, 10.0]
    """
    missing = [c for c in [code_column, *value_columns] if c not in df.columns]
    if missing:
        msg = f"split_unterbilk_hafen: column(s) {missing} not in the table."
        raise MissingColumnError(msg)
    if isinstance(shares, pd.DataFrame):
        if set(_MERGED_PARTS) - set(shares.columns):
            msg = "shares table needs the columns '032' and '033' (see unterbilk_hafen_shares)."
            raise MissingColumnError(msg)
        if year_column not in df.columns:
            msg = f"per-year shares need a {year_column!r} column in the table."
            raise MissingColumnError(msg)
        table = shares.sort_index()
    else:
        if set(shares) != set(_MERGED_PARTS) or abs(sum(shares.values()) - 1) > 1e-6:
            msg = f"shares must be {{'032': s, '033': 1 - s}}, got {dict(shares)}."
            raise ConfigError(msg)
        table = None
    out = df.copy()
    if "is_estimate" not in out.columns:
        out["is_estimate"] = False
    if "note" not in out.columns:
        out["note"] = ""
    merged = out[out[code_column] == MERGED_UNTERBILK_HAFEN]
    new_rows = []
    for _, row in merged.iterrows():
        if table is not None:
            year = int(row[year_column])
            nearest = table.index[np.argmin(np.abs(np.asarray(table.index) - year))]
            w = {c: float(table.at[nearest, c]) for c in _MERGED_PARTS}
            how = f"split by the {nearest} population shares"
        else:
            w = {c: float(shares[c]) for c in _MERGED_PARTS}
            how = "split by the given shares"
        for c in _MERGED_PARTS:
            r = row.copy()
            r[code_column] = c
            for v in value_columns:
                r[v] = row[v] * w[c]
            if "stadtteil_name" in r.index:
                r["stadtteil_name"] = STADTTEILE[c][0]
            if "is_merged" in r.index:
                r["is_merged"] = False
            r["is_estimate"] = True
            r["note"] = _join_notes(str(r["note"]), f"estimate: merged 032/033 row {how}")
            new_rows.append(r)
    out = pd.concat([out[out[code_column] != MERGED_UNTERBILK_HAFEN], pd.DataFrame(new_rows)])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# city-wide projection and households
# --------------------------------------------------------------------------------------


def read_population_projection(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """City population projection 2021–2035: three city variants and IT.NRW.

    Parameters
    ----------
    path
        ``einwohner_prognose.csv``; ``None`` reads the fetched layer
        ``population_projection``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        Long format: ``year``, ``reference_date`` (1 January of ``year``), ``variant``
        (``variant_1``, ``variant_2``, ``variant_3``, ``it_nrw``), ``variant_label``
        (German header), ``population``. The published change rows ("Veraenderung
        2021/2035 absolut / in Prozent") are in ``attrs["published_change"]``
        ({variant: {"abs": …, "pct": …}}); a disagreement with the yearly values is
        logged.

    Examples
    --------
    >>> proj = read_population_projection(path)  # doctest: +SKIP
    >>> proj.query("variant == 'variant_2' and year == 2035")["population"].item()  # doctest: +SKIP
    702500.0
    """
    p = _one_file(path, "population_projection", data_dir)
    raw = _read_semicolon_csv(p)
    year_col = raw.columns[0]
    variants = {}
    for c in raw.columns[1:]:
        if m := re.fullmatch(r"(?i)variante\s*(\d+)", c):
            variants[c] = f"variant_{m.group(1)}"
        elif normalize_key(c) == "itnrw":
            variants[c] = "it_nrw"
        elif c:
            variants[c] = normalize_key(c)
    records = []
    change: dict[str, dict[str, float]] = {v: {} for v in variants.values()}
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        label = _clean_label(row[year_col])
        if not label and all(not str(row[c]).strip() for c in variants):
            continue
        if re.fullmatch(r"\d{4}", label):
            year = int(label)
            for c, v in variants.items():
                value, _ = _parse_value(row[c], where=f"{where}, column {c}")
                records.append(
                    {
                        "year": year,
                        "reference_date": pd.Timestamp(year, 1, 1),
                        "variant": v,
                        "variant_label": c,
                        "population": value,
                    }
                )
        elif "veraenderung" in normalize_key(label) or "veränderung" in label.lower():
            kind = "pct" if "prozent" in label.lower() or "%" in label else "abs"
            for c, v in variants.items():
                change[v][kind] = _parse_value(row[c], where=f"{where}, column {c}")[0]
        else:
            msg = f"{where}: unexpected row {label!r} (expected a year or a 'Veraenderung' row)."
            raise DataSourceError(msg)
    out = pd.DataFrame.from_records(records)
    for v, ch in change.items():
        s = out[out["variant"] == v].set_index("year")["population"].sort_index()
        if "abs" in ch and len(s) > 1 and abs(s.iloc[-1] - s.iloc[0] - ch["abs"]) > 0.5:
            logger.warning("%s: published change of %s disagrees with the yearly values", p.name, v)
    out.attrs["published_change"] = change
    logger.info("read %s: %d years × %d variants", p.name, out["year"].nunique(), len(variants))
    return out


def read_households_sozialraum(
    path: PathLike | None = None, *, data_dir: PathLike | None = None
) -> pd.DataFrame:
    """Private households by size for the 179 Sozialräume (2020).

    Parameters
    ----------
    path
        ``haushalte_sozialraum_2020.csv``; ``None`` reads the fetched layer
        ``households_sozialraum``.
    data_dir
        Data directory for ``path=None``.

    Returns
    -------
    pandas.DataFrame
        ``sozialraum_code`` (four digits, e.g. ``"0101"``), ``bezirk_code`` (as given in
        the file's Stadtbezirk column), ``households``, ``households_1_person``,
        ``households_2_persons``, ``households_3plus_persons``,
        ``households_with_children``, ``single_parent_households`` (floats; NaN for ``x``,
        0 for ``-``), ``value_missing`` (True if any value is ``x``/``.``), ``note``
        (e.g. when the code prefix and the Stadtbezirk column disagree — Sozialräume 0115
        and 0116 are listed under Stadtbezirk 02 — or when sizes do not add up). There is
        no geometry for Sozialräume.

    Examples
    --------
    >>> hh = read_households_sozialraum(path)  # doctest: +SKIP
    >>> len(hh)  # doctest: +SKIP
    179
    """
    p = _one_file(path, "households_sozialraum", data_dir)
    cols = {
        "Haushalte insgesamt": "households",
        "Haushalte mit 1 Person": "households_1_person",
        "Haushalte mit 2 Personen": "households_2_persons",
        "Haushalte mit 3 u. m. Personen": "households_3plus_persons",
        "Haushalte mit Kindern": "households_with_children",
        "Alleinerziehenden Haushalte": "single_parent_households",
    }
    raw = _read_semicolon_csv(p, required=["Stadtbezirk", "Sozialraum", *cols])
    records = []
    for i, row in raw.iterrows():
        where = f"{p.name}, line {int(i) + 2}"
        code_raw = _clean_label(row["Sozialraum"])
        if not code_raw:
            continue
        if not re.fullmatch(r"\d{3,4}", code_raw):
            msg = f"{where}: Sozialraum code {code_raw!r} is not 4 digits like '0101'."
            raise DataSourceError(msg)
        code = code_raw.zfill(4)
        bezirk = _clean_label(row["Stadtbezirk"]).zfill(2)
        notes = []
        if code[:2] != bezirk:
            notes.append(f"code prefix {code[:2]} differs from Stadtbezirk {bezirk} in the file")
        rec: dict[str, Any] = {"sozialraum_code": code, "bezirk_code": bezirk}
        missing_any = False
        for src, dst in cols.items():
            value, status = _parse_value(row[src], where=f"{where}, column {src}")
            rec[dst] = value
            missing_any |= status in {"not_available", "suppressed", "empty"}
        if missing_any:
            notes.append("values not published ('x' or '.')")
        sizes = (
            rec["households_1_person"]
            + rec["households_2_persons"]
            + rec["households_3plus_persons"]
        )
        if (
            np.isfinite(sizes)
            and np.isfinite(rec["households"])
            and abs(sizes - rec["households"]) > 0.5
        ):
            notes.append(f"sizes sum to {sizes:.0f}, not {rec['households']:.0f}")
        rec["value_missing"] = missing_any
        rec["note"] = "; ".join(notes)
        records.append(rec)
    out = pd.DataFrame.from_records(records)
    dup = out["sozialraum_code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(out.loc[dup, "sozialraum_code"].unique())
        msg = f"{p.name}: Sozialraum codes occur twice: {codes}."
        raise DuplicateIdError(msg)
    logger.info("read %s: %d Sozialräume", p.name, len(out))
    return out
