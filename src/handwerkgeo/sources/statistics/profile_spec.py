"""Declarative spec of the Stadtbezirksprofile: sections, indicator ids, required rows.

A new indicator or a renamed label is a new row in these tables, not new parsing code;
:mod:`handwerkgeo.sources.statistics.profiles` applies them.
"""

from __future__ import annotations

import re

__all__ = [
    "INDICATOR_IDS",
    "LANDUSE_CLASSES",
    "REQUIRED",
    "SECTIONS",
    "UNIT_FROM_LABEL",
    "age_indicator_id",
    "indicator_id",
    "section_for",
]


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

#: Section headings of the profile sheets (normalised prefix) -> default topic, and label
#: prefixes that switch the topic inside a section.
SECTIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
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
INDICATOR_IDS: list[tuple[str | None, str, str, str]] = [
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
REQUIRED: dict[str, str] = {
    "population_total": "Bevölkerung",
    "employees_residence": "Sozialversicherungspflichtig Beschäftigte am Wohnort",
    "unemployed": "Arbeitslose (ALO) am Wohnort",
    "sgb2_persons": "Personen in Bedarfsgemeinschaften nach SGB II",
    "sgb2_share": "Anteil an Bevölkerung unter 65 Jahre (Soziale Sicherung)",
    "dwellings": "Wohnungen",
    **{k: v for k, v in LANDUSE_CLASSES.items() if k != "landuse_utilities"},
}

UNIT_FROM_LABEL = [
    (r"\(in ha\)", "ha"),
    (r"\(in Jahren\)", "years"),
    (r"Dichte", "per_resident"),
    (r"Haushaltsgröße", "persons_per_household"),
]


def age_indicator_id(label: str, unit: str) -> str | None:
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


def indicator_id(topic: str, label: str, unit: str) -> str | None:
    if topic == "age_groups" and (age := age_indicator_id(label, unit)):
        return age
    for t, pattern, u, key in INDICATOR_IDS:
        if (t is None or t == topic) and u == unit and re.search(pattern, label):
            return key
    return None


def section_for(label: str) -> tuple[str, list[tuple[str, str]]] | None:
    low = label.lower()
    for prefix, topic, triggers in SECTIONS:
        if low.startswith(prefix):
            return topic, triggers
    return None
