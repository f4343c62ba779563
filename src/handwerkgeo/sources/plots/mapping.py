"""A planner's listing in canonical form: German headers and values through the vocabularies.

Headers (``Flurstück``, ``Bezeichnung``, ``Planungsrecht``, ``Eigentümer``,
``Fläche (m²)``, ``Bodenrichtwert``, ``Brachfläche`` …) are renamed to the canonical
columns by :func:`handwerkgeo.vocabulary.map_columns` (an explicit mapping wins); every
other column is carried as it is. Values are read through the tables of the config:
owners by :func:`handwerkgeo.vocabulary.map_owners`, zoning labels by
:func:`handwerkgeo.sources.zoning.parse_zoning_label`, yes/no words by
:func:`handwerkgeo._text.parse_yes_no`. Unknown values are counted and listed once per
column (never silently dropped): they count as "no data" for their criterion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from handwerkgeo import _validate as v
from handwerkgeo._text import parse_yes_no
from handwerkgeo.messages import Note, Term
from handwerkgeo.sources.zoning.vocabulary import parse_zoning_label
from handwerkgeo.vocabulary import (
    ColumnMapping,
    PlotVocabulary,
    load_plot_vocabulary,
    map_columns,
    map_owners,
)

__all__ = [
    "ALLOWED_HINT",
    "map_listing_columns",
    "map_listing_values",
]

#: Where each value vocabulary lives (message codes: "how to extend" in messages).
ALLOWED_HINT = {
    "owner": "vocab_hint_owner",
    "brownfield": "vocab_hint_yes_no",
    "zoning": "vocab_hint_zoning",
    "land_value_eur_m2": "vocab_hint_number",
}

_ZONING_ALLOWED = (
    "GE, GEe, GI, MI, MU, MK, MD, WA, WR, WS, WB, SO …, Gewerbegebiet, Industriegebiet, "
    "Mischgebiet, Urbanes Gebiet, allgemeines Wohngebiet, FNP: Gewerbliche Baufläche (G) …, "
    "XPlanung codes 1000–2100"
)

_MAX_VALUES = 8

_WHAT = {"plot_id": "id", "area_m2": "area"}


def _explicit_problems(
    headers: Sequence[str], explicit: Mapping[str, str], *, name: str
) -> tuple[dict[str, str], list[v.Problem]]:
    """Explicit mappings whose header exists (matched loosely), and a problem for the rest."""
    ok: dict[str, str] = {}
    problems: list[v.Problem] = []
    available = ", ".join(headers) or "none"
    for canon, header in explicit.items():
        found = header if header in headers else v.find_column(headers, [header])
        if found is None:
            problems.append(
                v.Problem(
                    "missing_column",
                    f"{name} has no {_WHAT.get(canon, canon)} column {header!r}. "
                    f"Columns found: {available}.",
                    f"name an existing column with --column {canon}=HEADER "
                    f"(Python: columns={{'{canon}': 'HEADER'}})",
                )
            )
        else:
            ok[canon] = found
    return ok, problems


def map_listing_columns(
    attrs: pd.DataFrame,
    *,
    explicit: Mapping[str, str],
    skip: Sequence[str],
    name: str,
    vocabulary: PlotVocabulary | None = None,
) -> tuple[pd.DataFrame, ColumnMapping, list[v.Problem]]:
    """Rename recognised columns to their canonical names; carry the others.

    Raises
    ------
    handwerkgeo.errors.AmbiguousColumnError
        Two columns fit one canonical column (the message names both).
    """
    headers = [str(c) for c in attrs.columns]
    given, problems = _explicit_problems(headers, explicit, name=name)
    mapping = map_columns(headers, given, vocabulary=vocabulary, skip=skip)
    renames = mapping.rename_map()
    # a carried column that already bears a canonical name being filled: keep it aside
    clash = {h: f"{h}_original" for h in mapping.carried if h in renames.values()}
    out = attrs.rename(columns={**clash, **renames})
    if clash:
        carried = tuple(clash.get(h, h) for h in mapping.carried)
        mapping = ColumnMapping(mapping.canonical, carried, mapping.explicit)
    return out, mapping, problems


def _distinct_texts(values: Sequence[Any]) -> list[str]:
    return list(dict.fromkeys(str(x).strip() for x in values))


def _present(series: pd.Series) -> np.ndarray:
    return (series.notna() & (series.astype("string").str.strip() != "")).to_numpy(dtype=bool)


def _owners(col: pd.Series, vocab: PlotVocabulary) -> tuple[pd.Series, np.ndarray]:
    cats, _ = map_owners(col.tolist(), vocabulary=vocab)
    cats.index = col.index
    return cats, _present(col) & cats.isna().to_numpy()


def _brownfield(col: pd.Series, vocab: PlotVocabulary) -> tuple[pd.Series, np.ndarray]:
    flags = [parse_yes_no(x, words=(vocab.yes, vocab.no)) for x in col.tolist()]
    out = pd.Series(pd.array(flags, dtype="boolean"), index=col.index)
    return out, _present(col) & out.isna().to_numpy()


def _zoning(col: pd.Series, vocab: PlotVocabulary) -> tuple[pd.Series, np.ndarray]:
    present = _present(col)
    labels = col.to_numpy(dtype=object)
    parsed = {lab: parse_zoning_label(lab) for lab in pd.unique(labels[present])}
    unknown = np.array(
        [bool(p) and parsed[lab] == "UNKNOWN" for lab, p in zip(labels, present, strict=True)]
    )
    return col, unknown


def _land_value(
    col: pd.Series, vocab: PlotVocabulary, decimal: str | None
) -> tuple[pd.Series, np.ndarray]:
    nums, bad = v.parse_numbers(col.tolist(), decimal=decimal)
    return pd.Series(nums, index=col.index, dtype=float), bad


def _allowed(canon: str, vocab: PlotVocabulary) -> str:
    if canon == "owner":
        words = vocab.owner_words()
        return "; ".join(f"{cat}: {', '.join(ws[:4])} …" for cat, ws in words.items())
    if canon == "brownfield":
        return f"yes: {', '.join(sorted(vocab.yes))}; no: {', '.join(sorted(vocab.no))}"
    if canon == "zoning":
        return _ZONING_ALLOWED
    return "numbers"


def map_listing_values(
    attrs: pd.DataFrame,
    mapping: ColumnMapping,
    *,
    decimal: str | None,
    vocabulary: PlotVocabulary | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]], list[str]]:
    """Read owner, zoning, brownfield and land-value cells through the vocabularies.

    Returns
    -------
    tuple
        The frame (``owner`` as categories, ``brownfield`` as nullable booleans,
        ``land_value_eur_m2`` as floats, ``zoning`` labels unchanged), per canonical
        column ``{"header", "count", "n_values", "values"}`` of the unknown values (rows
        with an unknown value, rows with any value, the distinct unknown values), and one
        note per column with unknown values.
    """
    vocab = vocabulary or load_plot_vocabulary()
    out = attrs.copy()
    unknown: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    readers = {
        "owner": lambda c: _owners(c, vocab),
        "zoning": lambda c: _zoning(c, vocab),
        "brownfield": lambda c: _brownfield(c, vocab),
        "land_value_eur_m2": lambda c: _land_value(c, vocab, decimal),
    }
    for canon, read in readers.items():
        if canon not in mapping.canonical or canon not in out.columns:
            continue
        raw = out[canon]
        values, bad = read(raw)
        out[canon] = values
        words = _distinct_texts(raw[bad].tolist())
        unknown[canon] = {
            "header": mapping.canonical[canon],
            "count": int(bad.sum()),
            "n_values": int(_present(raw).sum()),
            "values": words,
        }
        if words:
            shown = ", ".join(repr(w) for w in words[:_MAX_VALUES])
            if len(words) > _MAX_VALUES:
                shown += f" … (+{len(words) - _MAX_VALUES})"
            notes.append(
                Note(
                    "note_unknown_values",
                    header=mapping.canonical[canon],
                    column=canon,
                    count=int(bad.sum()),
                    values=shown,
                    allowed=_allowed(canon, vocab),
                    table=Term(ALLOWED_HINT[canon]),
                )
            )
    return out, unknown, notes
