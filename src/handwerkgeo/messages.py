"""Every sentence a planner reads, in German and English, keyed by a reason code.

The engine (scoring, search, register, readers) returns *codes* and values; the text is
made here, at the edge, by :func:`message`. One table, :data:`MESSAGES`, holds the
templates (``str.format`` fields); a city that wants other wording changes it here only.

Examples
--------
>>> message("no_criterion_data", "de")
'keine Kriterien mit Daten'
>>> message("no_criterion_data", "en")
'no criterion has data'
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["LANGS", "MESSAGES", "Lang", "message"]

Lang = Literal["de", "en"]

#: Languages every message exists in.
LANGS: tuple[str, ...] = ("de", "en")

#: reason code -> (German template, English template).
MESSAGES: dict[str, tuple[str, str]] = {
    # --- scoring: exclusions and coverage --------------------------------------------
    "no_criterion_data": ("keine Kriterien mit Daten", "no criterion has data"),
    # --- search ------------------------------------------------------------------------
    # --- register ----------------------------------------------------------------------
    # --- readers -----------------------------------------------------------------------
}


def message(code: str, lang: str = "de", **values: Any) -> str:
    """The sentence for ``code`` in ``lang`` (``"de"`` or ``"en"``), filled with ``values``.

    Raises
    ------
    KeyError
        For an unknown code (a programming error: every code the engine emits is in
        :data:`MESSAGES`, a test checks it).
    """
    de, en = MESSAGES[code]
    template = en if lang == "en" else de
    return template.format(**values)
