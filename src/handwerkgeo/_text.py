"""Text helpers shared by every reader and writer: one normaliser, one yes/no parser.

Every module that matches a German column name, a vocabulary key or a yes/no word goes
through these functions, so that ``"Fläche [m²]"``, ``"flaeche_m2"`` and ``"FLÄCHE (m²)"``
match everywhere alike and ``"x"`` means the same for a plot listing as for a
commercial-area register.

Examples
--------
>>> normalize_key("Fläche [m²]")
'flaechem2'
>>> [parse_yes_no(v) for v in ["ja", "X", "nein", 0, True, "vielleicht", None]]
[True, True, False, False, True, None, None]
"""

from __future__ import annotations

import math
import re
import unicodedata

__all__ = ["NO_WORDS", "YES_WORDS", "normalize_key", "parse_yes_no"]

#: Words read as "yes" (after :func:`normalize_key`).
YES_WORDS: frozenset[str] = frozenset({"true", "ja", "yes", "1", "x", "wahr", "j", "y"})
#: Words read as "no" (after :func:`normalize_key`).
NO_WORDS: frozenset[str] = frozenset({"false", "nein", "no", "0", "falsch", "n"})


def normalize_key(value: object) -> str:
    """Normalise a column name or vocabulary key for matching.

    Case-folds, spells umlauts out (``ä`` → ``ae``, ``ß`` → ``ss``), turns ``²`` into
    ``2`` and drops everything that is not a letter or a digit.

    Examples
    --------
    >>> normalize_key("Fläche [m²]")
    'flaechem2'
    >>> normalize_key("Industrie- und Gewerbefläche")
    'industrieundgewerbeflaeche'
    """
    text = str(value).casefold().replace("²", "2").replace("ß", "ss")
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text)


def parse_yes_no(value: object) -> bool | None:
    """Read a yes/no cell: ``True``, ``False``, or ``None`` for missing or unknown words.

    Booleans and numbers count by truth value (NaN is missing); text through
    :data:`YES_WORDS` / :data:`NO_WORDS` after :func:`normalize_key`. What a caller does
    with ``None`` (no data, or "no") is the caller's decision.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) or type(value).__module__ == "numpy":
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return None if math.isnan(number) else number != 0
    key = normalize_key(value)
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
        return False
    return None
