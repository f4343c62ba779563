"""Stadtteil and Stadtbezirk codes of Düsseldorf: the 50 Stadtteile and how sources name them.

Codes follow the project contract: Stadtteil ``"011"`` … ``"102"`` (three digits),
Stadtbezirk ``"01"`` … ``"10"`` (two digits). Unterbilk (032) and Hafen (033) are
published as one merged row in some tables; that row keeps the code ``"032/033"``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from handwerkgeo._text import normalize_key
from handwerkgeo.errors import (
    DataSourceError,
)
from handwerkgeo.sources.statistics._parse import clean_label

__all__ = [
    "MERGED_PARTS",
    "MERGED_UNTERBILK_HAFEN",
    "STADTTEILE",
    "check_code_coverage",
    "stadtteil_code",
    "stadtteil_fields",
]

logger = logging.getLogger(__name__)


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

MERGED_PARTS = ("032", "033")


def stadtteil_fields(code: str, name_in_source: str, *, where: str) -> tuple[str, str, str]:
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


def stadtteil_code(raw: str, *, where: str) -> str:
    s = clean_label(raw).replace(" ", "")
    if re.fullmatch(r"0?3?2/0?3?3", s) or s in {"32/33", "032/033"}:
        return MERGED_UNTERBILK_HAFEN
    if re.fullmatch(r"\d{1,3}", s):
        return s.zfill(3)
    msg = f"{where}: {raw!r} is not a Stadtteil code (expected 11 … 102 or 032/033)."
    raise DataSourceError(msg)


def check_code_coverage(codes: Iterable[str], name: str) -> None:
    covered: set[str] = set()
    for c in codes:
        covered.update(MERGED_PARTS if c == MERGED_UNTERBILK_HAFEN else (c,))
    missing = sorted(set(STADTTEILE) - covered)
    if missing:
        logger.warning("%s: no row for Stadtteil(e) %s", name, missing)
