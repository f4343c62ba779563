"""Unterbilk (032) and Hafen (033): joining, combining and splitting the merged row.

The 2012–2024 series and the 2035 forecast publish the two Stadtteile as one row with
the code ``"032/033"`` (:data:`~handwerkgeo.sources.statistics.codes.MERGED_UNTERBILK_HAFEN`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    MissingColumnError,
)
from handwerkgeo.sources.statistics._parse import join_notes
from handwerkgeo.sources.statistics.codes import MERGED_PARTS, MERGED_UNTERBILK_HAFEN, STADTTEILE

__all__ = [
    "combine_unterbilk_hafen",
    "merged_join_key",
    "split_unterbilk_hafen",
    "unterbilk_hafen_shares",
]


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
    return codes.where(~codes.isin(MERGED_PARTS), MERGED_UNTERBILK_HAFEN)


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
    parts = out[out[code_column].isin(MERGED_PARTS)]
    rest = out[~out[code_column].isin(MERGED_PARTS)].copy()
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
    sub = migration[migration["stadtteil_code"].isin(MERGED_PARTS)]
    wide = sub.pivot_table(index="year", columns="stadtteil_code", values="population")
    if set(wide.columns) != set(MERGED_PARTS) or wide.empty:
        msg = "the table has no rows for both 032 Unterbilk and 033 Hafen."
        raise DataSourceError(msg)
    shares = wide.div(wide.sum(axis=1), axis=0)[list(MERGED_PARTS)]
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
        if set(MERGED_PARTS) - set(shares.columns):
            msg = "shares table needs the columns '032' and '033' (see unterbilk_hafen_shares)."
            raise MissingColumnError(msg)
        if year_column not in df.columns:
            msg = f"per-year shares need a {year_column!r} column in the table."
            raise MissingColumnError(msg)
        table = shares.sort_index()
    else:
        if set(shares) != set(MERGED_PARTS) or abs(sum(shares.values()) - 1) > 1e-6:
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
            w = {c: float(table.at[nearest, c]) for c in MERGED_PARTS}
            how = f"split by the {nearest} population shares"
        else:
            w = {c: float(shares[c]) for c in MERGED_PARTS}
            how = "split by the given shares"
        for c in MERGED_PARTS:
            r = row.copy()
            r[code_column] = c
            for v in value_columns:
                r[v] = row[v] * w[c]
            if "stadtteil_name" in r.index:
                r["stadtteil_name"] = STADTTEILE[c][0]
            if "is_merged" in r.index:
                r["is_merged"] = False
            r["is_estimate"] = True
            r["note"] = join_notes(str(r["note"]), f"estimate: merged 032/033 row {how}")
            new_rows.append(r)
    out = pd.concat([out[out[code_column] != MERGED_UNTERBILK_HAFEN], pd.DataFrame(new_rows)])
    return out.reset_index(drop=True)
