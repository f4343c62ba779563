"""Indicators derived from the Bezirk profiles: Realnutzung shares and the per-Bezirk table."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from handwerkgeo.errors import (
    ConfigError,
    DataSourceError,
    MissingColumnError,
)
from handwerkgeo.sources.statistics._parse import PathLike
from handwerkgeo.sources.statistics.profile_spec import LANDUSE_CLASSES
from handwerkgeo.sources.statistics.profiles import read_bezirk_profiles

__all__ = [
    "bezirk_indicators",
    "profiles_or_read",
    "realnutzung_shares",
]


def profiles_or_read(profiles: pd.DataFrame | None, data_dir: PathLike | None) -> pd.DataFrame:
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
    prof = profiles_or_read(profiles, data_dir)
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
    prof = profiles_or_read(profiles, data_dir)
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
