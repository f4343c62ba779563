"""What a planner's listing means: header and value vocabularies, German first.

A listing from the Liegenschaftsamt says ``Flurstück``, ``Bezeichnung``, ``Planungsrecht``,
``Eigentümer`` (``städtisch``), ``Fläche (m²)``; one from a GIS export says ``plot_id``,
``zoning``, ``owner``. :func:`map_columns` finds the canonical column behind each header
through the tables of ``configs/plot_vocabulary.yaml`` (a city extends them without code),
an explicit mapping always winning; :func:`map_owners` reads owner words into the owner
categories of the scoring config. Matching ignores case, umlaut spelling, spaces and
punctuation (:func:`handwerkgeo._text.normalize_key`).

Examples
--------
>>> m = map_columns(["Flurstück", "Bezeichnung", "Planungsrecht", "Eigentümer", "Bemerkung"])
>>> m.canonical
{'plot_id': 'Flurstück', 'name': 'Bezeichnung', 'zoning': 'Planungsrecht', 'owner': 'Eigentümer'}
>>> m.carried
('Bemerkung',)
>>> cats, unknown = map_owners(["städtisch", "Privat", "LHD", "Erbengemeinschaft", None])
>>> cats.tolist(), unknown
(['city', 'private', 'city', None, None], ['Erbengemeinschaft'])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from handwerkgeo._text import normalize_key, yes_no_section
from handwerkgeo.errors import (
    AmbiguousColumnError,
    ConfigError,
    DataSourceError,
    MissingColumnError,
)

__all__ = [
    "AmbiguousColumnError",
    "ColumnMapping",
    "PlotVocabulary",
    "load_plot_vocabulary",
    "map_columns",
    "map_owners",
]

_DEFAULT = "plot_vocabulary.yaml"


@dataclass(frozen=True)
class PlotVocabulary:
    """Header tiers per canonical column, owner words and yes/no words (all normalised).

    Attributes
    ----------
    columns
        ``{canonical: ((key, …), (key, …))}``: tiers of normalised header keys, best first.
    owners
        ``{normalised word: owner category}``.
    yes, no
        Normalised yes / no words.
    source
        Where the vocabulary was read from (for messages).
    """

    columns: Mapping[str, tuple[tuple[str, ...], ...]]
    owners: Mapping[str, str]
    yes: frozenset[str]
    no: frozenset[str]
    source: str = _DEFAULT
    owner_spellings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def owner_words(self) -> dict[str, list[str]]:
        """``{category: [words]}`` as written in the table (for messages listing them)."""
        if self.owner_spellings:
            return {cat: list(words) for cat, words in self.owner_spellings.items()}
        out: dict[str, list[str]] = {}
        for word, cat in self.owners.items():
            out.setdefault(cat, []).append(word)
        return out


def _tiers(name: str, value: Any, source: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not value:
        msg = f"{source}: columns.{name} must be a list of lists of headers, not {value!r}"
        raise ConfigError(msg)
    tiers = []
    for tier in value:
        words = tier if isinstance(tier, list) else [tier]
        tiers.append(tuple(normalize_key(w) for w in words))
    return tuple(tiers)


def _parse(data: Any, source: str) -> PlotVocabulary:
    if not isinstance(data, dict) or "columns" not in data:
        msg = f"{source}: a plot vocabulary needs a 'columns' table (see {_DEFAULT})"
        raise ConfigError(msg)
    columns = {str(k): _tiers(str(k), v, source) for k, v in data["columns"].items()}
    owners: dict[str, str] = {}
    spellings: dict[str, tuple[str, ...]] = {}
    for cat, words in (data.get("owners") or {}).items():
        spellings[str(cat)] = tuple(str(w) for w in words or ())
        for w in words or ():
            key = normalize_key(w)
            if owners.get(key, cat) != cat:
                msg = f"{source}: owner word {w!r} is listed for {owners[key]!r} and {cat!r}"
                raise ConfigError(msg)
            owners[key] = str(cat)
    yes, no = yes_no_section(data.get("yes_no"))
    if yes & no:
        msg = f"{source}: yes_no words listed as both yes and no: {sorted(yes & no)}"
        raise ConfigError(msg)
    return PlotVocabulary(
        columns=columns,
        owners=owners,
        yes=yes,
        no=no,
        source=source,
        owner_spellings=spellings,
    )


@lru_cache(maxsize=8)
def _load_cached(path: str) -> PlotVocabulary:
    if path == _DEFAULT:
        text = (files("handwerkgeo") / "configs" / _DEFAULT).read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"cannot read the plot vocabulary {path}: {exc}; give a YAML file like {_DEFAULT}"
            raise DataSourceError(msg) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML ({exc})"
        raise ConfigError(msg) from exc
    return _parse(data, path)


def load_plot_vocabulary(path: str | os.PathLike[str] | None = None) -> PlotVocabulary:
    """The packaged vocabulary, or the one in ``path`` (same layout; replaces it whole)."""
    return _load_cached(_DEFAULT if path is None else str(Path(path)))


@dataclass(frozen=True)
class ColumnMapping:
    """Which input column feeds which canonical column, and which are carried along.

    Attributes
    ----------
    canonical
        ``{canonical name: input header}`` for the recognised columns, in vocabulary order.
    carried
        Input headers kept as attributes as they are (``Gemarkung``, ``Bemerkung`` …).
    explicit
        Canonical names that came from an explicit mapping.
    """

    canonical: dict[str, str]
    carried: tuple[str, ...]
    explicit: frozenset[str] = field(default_factory=frozenset)

    def rename_map(self) -> dict[str, str]:
        """``{input header: canonical name}`` for ``DataFrame.rename``."""
        return {src: canon for canon, src in self.canonical.items() if src != canon}


def _find(
    name: str,
    tiers: Sequence[Sequence[str]],
    keyed: Mapping[str, list[str]],
    taken: set[str],
) -> str | None:
    for tier in tiers:
        hits: list[str] = []
        for key in tier:
            hits.extend(h for h in keyed.get(key, ()) if h not in taken and h not in hits)
        if len(hits) > 1:
            msg = (
                f"two columns could be {name!r}: {hits[0]!r} and {hits[1]!r}; say which one "
                f"with --column {name}=HEADER (Python: columns={{'{name}': 'HEADER'}})"
            )
            raise AmbiguousColumnError(msg)
        if hits:
            return hits[0]
    return None


def map_columns(
    columns: Iterable[object],
    explicit: Mapping[str, str] | None = None,
    *,
    vocabulary: PlotVocabulary | None = None,
    skip: Iterable[object] = (),
) -> ColumnMapping:
    """Map input headers to canonical plot columns.

    Parameters
    ----------
    columns
        The input's headers.
    explicit
        ``{canonical: header}`` given by the user (``--column zoning=Spalte``); wins over the
        vocabulary. A header that is not in ``columns`` is an error.
    vocabulary
        Default :func:`load_plot_vocabulary`.
    skip
        Headers already used for something else (geometry, coordinates); never mapped,
        never carried.

    Raises
    ------
    MissingColumnError
        An explicit mapping names a header the input does not have, or an unknown
        canonical name.
    AmbiguousColumnError
        Two headers of the best matching tier fit one canonical column.
    """
    vocab = vocabulary or load_plot_vocabulary()
    headers = [str(c) for c in columns]
    skipped = {str(s) for s in skip}
    explicit = dict(explicit or {})
    unknown = sorted(set(explicit) - set(vocab.columns))
    if unknown:
        msg = f"--column names unknown column kind(s) {unknown}; known: {', '.join(vocab.columns)}"
        raise MissingColumnError(msg)
    for canon, header in explicit.items():
        if header not in headers:
            msg = (
                f"--column {canon}={header}: the input has no column {header!r} "
                f"(columns: {headers})"
            )
            raise MissingColumnError(msg)
    keyed: dict[str, list[str]] = {}
    for h in headers:
        if h not in skipped:
            keyed.setdefault(normalize_key(h), []).append(h)
    taken = set(explicit.values())
    canonical: dict[str, str] = {}
    for name, tiers in vocab.columns.items():
        if name in explicit:
            canonical[name] = explicit[name]
            continue
        found = _find(name, tiers, keyed, taken)
        if found is not None:
            canonical[name] = found
            taken.add(found)
    used = set(canonical.values()) | skipped
    carried = tuple(h for h in headers if h not in used)
    return ColumnMapping(canonical=canonical, carried=carried, explicit=frozenset(explicit))


def map_owners(
    values: Iterable[object], *, vocabulary: PlotVocabulary | None = None
) -> tuple[pd.Series, list[str]]:
    """Owner words to categories (``city``, ``idr``, ``public``, ``private``).

    Returns
    -------
    tuple
        A Series of categories (``None`` for missing or unknown words) and the distinct
        unknown words in order of appearance (to be listed once, with the allowed words).
    """
    vocab = vocabulary or load_plot_vocabulary()
    series = pd.Series(list(values), dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped: list[Any] = []
    unknown: list[str] = []
    for u in uniques:
        text = str(u).strip()
        cat = vocab.owners.get(normalize_key(text)) if text else None
        if cat is None and text:
            unknown.append(text)
        mapped.append(cat)
    table = np.array([*mapped, None], dtype=object)
    return pd.Series(table[codes], index=series.index, dtype=object), unknown
