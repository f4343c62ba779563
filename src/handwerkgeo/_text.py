"""Text helpers shared by every reader and writer: one normaliser, one yes/no parser,
one encoding fallback.

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

import logging
import math
import os
import re
import unicodedata
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

import yaml

from handwerkgeo.errors import DataSourceError, EncodingError

__all__ = [
    "ENCODING_FIX",
    "FALLBACK_ENCODINGS",
    "MIXED_ENCODING",
    "DecodedText",
    "decode_lines",
    "decode_text",
    "normalize_key",
    "parse_yes_no",
    "read_text",
    "yes_no_section",
    "yes_no_words",
]

logger = logging.getLogger(__name__)

#: Encodings tried, in order, when none is given: UTF-8 first because it is
#: self-validating (a cp1252 file with umlauts never decodes as valid UTF-8).
FALLBACK_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp1252")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: What to tell a user whose file does not decode.
ENCODING_FIX = (
    "Save the file as UTF-8 (Excel: 'CSV UTF-8 (durch Trennzeichen getrennt)'; LibreOffice: "
    "'Text CSV', character set 'Unicode (UTF-8)') or pass the encoding, e.g. "
    "encoding='cp1252'."
)


@lru_cache(maxsize=1)
def yes_no_words() -> tuple[frozenset[str], frozenset[str]]:
    """The yes and the no words (normalised) of ``configs/plot_vocabulary.yaml``.

    The one table of yes/no words of the package: :func:`parse_yes_no` and the plot
    vocabulary (:mod:`handwerkgeo.vocabulary`) read the same ``yes_no`` section.
    """
    text = (files("handwerkgeo") / "configs" / "plot_vocabulary.yaml").read_text("utf-8")
    return yes_no_section((yaml.safe_load(text) or {}).get("yes_no"))


def yes_no_section(table: object) -> tuple[frozenset[str], frozenset[str]]:
    """The normalised ``(yes, no)`` words of a vocabulary's ``yes_no`` section.

    YAML 1.1 reads unquoted ``yes:``/``no:`` keys as booleans; both spellings count.
    """
    section = table if isinstance(table, dict) else {}
    yes_words = section.get("yes", section.get(True)) or ()
    no_words = section.get("no", section.get(False)) or ()
    yes = frozenset(normalize_key(w) for w in yes_words)
    no = frozenset(normalize_key(w) for w in no_words)
    return yes, no


#: The encoding reported for a file whose lines are partly UTF-8 and partly cp1252.
MIXED_ENCODING = "utf-8+cp1252"


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


def parse_yes_no(
    value: object, *, words: tuple[frozenset[str], frozenset[str]] | None = None
) -> bool | None:
    """Read a yes/no cell: ``True``, ``False``, or ``None`` for missing or unknown words.

    Booleans and numbers count by truth value (NaN is missing); text through the yes and
    no words (default :func:`yes_no_words`, i.e. ``configs/plot_vocabulary.yaml``; a
    city's own vocabulary passes its ``(yes, no)``) after :func:`normalize_key`. What a
    caller does with ``None`` (no data, or "no") is the caller's decision.
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
    yes, no = words if words is not None else yes_no_words()
    key = normalize_key(value)
    if key in yes:
        return True
    if key in no:
        return False
    return None


class DecodedText(NamedTuple):
    """Decoded text, the encoding used and the 1-based lines that needed the fallback."""

    text: str
    encoding: str
    fallback_lines: tuple[int, ...] = ()


def _first_bad_line(data: bytes, encoding: str) -> tuple[int, int, int] | None:
    """(line number, byte in that line, its value) of the first line not in ``encoding``."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError as exc:
            return number, exc.start + 1, line[exc.start]
        except LookupError:
            return None
    return None


def _mixed(data: bytes) -> DecodedText | None:
    """Line by line: UTF-8 lines stay UTF-8, the others cp1252; None unless truly mixed.

    A file is *mixed* when at least one line holds non-ASCII text that is valid UTF-8 and
    at least one line is not valid UTF-8 (a file edited by two programs). A file none of
    whose lines is UTF-8 with umlauts is plain cp1252 and not mixed.
    """
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    parts: list[str] = []
    fallback: list[int] = []
    utf8_non_ascii = False
    for number, line in enumerate(body.split(b"\n"), start=1):
        try:
            parts.append(line.decode("utf-8"))
            utf8_non_ascii = utf8_non_ascii or not line.isascii()
        except UnicodeDecodeError:
            try:
                parts.append(line.decode("cp1252"))
            except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d …)
                return None
            fallback.append(number)
    if not (fallback and utf8_non_ascii):
        return None
    text = "\n".join(parts)
    if _CONTROL.search(text):
        return None
    return DecodedText(text, MIXED_ENCODING, tuple(fallback))


def decode_lines(data: bytes, *, name: str, encoding: str | None = None) -> DecodedText:
    r"""Decode the bytes of a text file; say which encoding was used and for which lines.

    With ``encoding`` given, only that one is tried; a line that does not fit is named in
    the error. Otherwise a UTF-16 byte-order mark selects UTF-16; else the whole file is
    tried as UTF-8 (with or without BOM, reported as ``"utf-8-sig"``). A file that is not
    UTF-8 as a whole but whose lines are partly UTF-8 and partly Windows-1252 (two programs
    wrote to it) is decoded line by line — UTF-8 lines as UTF-8, the others as cp1252 —
    reported as ``"utf-8+cp1252"`` with the cp1252 lines in ``fallback_lines``, so that
    "Lörick" stays "Lörick" in both kinds of line. Otherwise the whole file is cp1252.
    Latin-1 text decodes identically as cp1252 for every printable character; text that
    decodes to control characters (a binary file saved under a text name) is refused.

    Raises
    ------
    EncodingError
        Naming ``name``, every encoding tried with the first line and byte that does not
        fit, and the fix.

    Examples
    --------
    >>> mixed = "Ort;Nr\nLörick;1\n".encode() + "Lörick;2\n".encode("cp1252")
    >>> decode_lines(mixed, name="t.csv")
    DecodedText(text='Ort;Nr\nLörick;1\nLörick;2\n', encoding='utf-8+cp1252', fallback_lines=(3,))
    """
    if encoding is not None:
        candidates: tuple[str, ...] = (encoding,)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16", *FALLBACK_ENCODINGS)
    else:
        candidates = FALLBACK_ENCODINGS
    errors = []
    for enc in candidates:
        if enc == "cp1252" and encoding is None:
            mixed = _mixed(data)
            if mixed is not None:
                return mixed
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            bad = None if enc.startswith("utf-16") else _first_bad_line(data, enc)
            where = (
                f"line {bad[0]}, byte 0x{bad[2]:02x} at position {bad[1]} of the line"
                if bad is not None
                else f"byte 0x{data[exc.start]:02x} at position {exc.start}"
            )
            errors.append(f"{enc}: {where}")
            continue
        except LookupError:
            errors.append(f"{enc}: unknown encoding")
            continue
        if encoding is None and _CONTROL.search(text):
            errors.append(f"{enc}: decodes to control characters (binary or UTF-16 file?)")
            continue
        return DecodedText(text, enc)
    tried = "UTF-8, UTF-8 with BOM or cp1252" if encoding is None else encoding
    msg = f"{name} is not text in {tried} ({'; '.join(errors)}). {ENCODING_FIX}"
    raise EncodingError(msg)


def decode_text(data: bytes, *, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode the bytes of a text file; return ``(text, encoding used)``.

    See :func:`decode_lines` (which also returns the lines that needed the cp1252
    fallback in a mixed file, encoding ``"utf-8+cp1252"``).

    Raises
    ------
    EncodingError
        Naming ``name``, every encoding tried with the offending line, and the fix.

    Examples
    --------
    >>> decode_text("Lörick;1".encode("cp1252"), name="t.csv")
    ('Lörick;1', 'cp1252')
    >>> decode_text("\\ufeffLörick".encode(), name="t.csv")
    ('Lörick', 'utf-8-sig')
    """
    decoded = decode_lines(data, name=name, encoding=encoding)
    return decoded.text, decoded.encoding


def read_text(path: str | os.PathLike[str], *, encoding: str | None = None) -> str:
    """Read a text file through :func:`decode_text`, logging a non-UTF-8 encoding.

    A byte-order mark is dropped; ``\\r\\n`` line ends are kept (the csv reader
    handles them).

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    EncodingError
        If the bytes are not text in any supported encoding.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_bytes("Lörick;1".encode("cp1252"))
    >>> read_text(p)
    'Lörick;1'
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        msg = f"cannot read {p}: {exc}. Check the path or run `handwerkgeo data fetch`."
        raise DataSourceError(msg) from exc
    text, used, fallback = decode_lines(data, name=p.name, encoding=encoding)
    if used not in ("utf-8-sig", "utf-8", encoding):
        logger.info("%s is not UTF-8; decoded as %s", p.name, used)
    if fallback:
        logger.warning("%s: line(s) %s are not UTF-8, decoded as cp1252", p.name, fallback)
    return text
