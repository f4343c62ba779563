"""Düsseldorf's 50 Stadtteile (quarters) and 10 Stadtbezirke (districts).

The city publishes the Stadtteil boundaries as GeoJSON in **EPSG:4647** (ETRS89 / UTM 32N
with the zone number ``32`` prefixed to the easting, x ≈ 32 340 000), declared in the file's
``crs`` member as ``urn:ogc:def:crs:EPSG::4647``. The readers honour that CRS and return
frames in EPSG:25832 (x ≈ 340 000). The Stadtbezirke are dissolved from the Stadtteile.

Four names of the 2021 file carry a broken umlaut (U+FFFD REPLACEMENT CHARACTER); they are
repaired from a table keyed by the Stadtteil code, and any other broken name is an error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from handwerkgeo._geom import polygonal_part
from handwerkgeo._text import normalize_key
from handwerkgeo.crs import raise_if_outside, to_canonical
from handwerkgeo.errors import InvalidGeometryError, MissingColumnError, ValidationError
from handwerkgeo.fetch import layer_paths

__all__ = ["NAME_REPAIRS", "normalise_name", "read_stadtbezirke", "read_stadtteile"]

logger = logging.getLogger(__name__)

#: Correct names of the Stadtteile whose names are broken (U+FFFD) in the published file,
#: keyed by Stadtteil code. Spelling as in the file itself ("Flingern Nord" / "Flingern Süd").
NAME_REPAIRS: dict[str, str] = {
    "021": "Flingern Süd",
    "023": "Düsseltal",
    "043": "Lörick",
    "064": "Mörsenbroich",
}

_REPLACEMENT = "\ufffd"
_SOURCE_COLUMNS = {"Stadtbezir": "bezirk", "Stadtteil": "stadtteil", "Name": "name"}


def normalise_name(name: str) -> str:
    """A Stadtteil name reduced for comparison across sources.

    :func:`handwerkgeo._text.normalize_key`: lower case, umlauts transliterated
    (``ü`` → ``ue``), everything but letters and digits removed, so that "Flingern-Süd",
    "Flingern Süd" and "Flingern Sued" compare equal.

    Examples
    --------
    >>> normalise_name("Flingern-Süd") == normalise_name("Flingern Sued")
    True
    """
    return normalize_key(name)


def _default_path(
    path: str | os.PathLike[str] | None, data_dir: str | os.PathLike[str] | None
) -> Path:
    if path is not None:
        return Path(path)
    return layer_paths("stadtteile", data_dir)[0]


def _as_code(value: object, width: int) -> str | None:
    """Zero-padded code string of an integer-like value, or None if it is not one."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        return None
    return text.zfill(width)


def _repair_name(code: str, name: str) -> tuple[str, str | None]:
    """Return (name, problem). Repairs a known broken name; reports unknown ones."""
    if _REPLACEMENT not in name:
        return name, None
    fixed = NAME_REPAIRS.get(code)
    if fixed is not None and len(fixed) == len(name):
        # the repair must only fill the broken characters, nothing else may differ
        same = all(a == b for a, b in zip(name, fixed, strict=True) if a != _REPLACEMENT)
        if same:
            return fixed, None
    problem = (
        f"Stadtteil {code}: name {name!r} contains a broken character (U+FFFD) and no "
        "repair is known for it; the file was probably re-encoded. Get a fresh copy or add "
        "the correct name to handwerkgeo.sources.quarters.NAME_REPAIRS."
    )
    return name, problem


def _make_valid(
    gdf: gpd.GeoDataFrame, codes: pd.Series, name: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid polygons (reported), raise on empty or non-polygonal geometries.

    Returns the (copied if repaired) frame and the codes whose geometry was repaired.
    """
    geoms = gdf.geometry
    problems = []
    empty = geoms.isna() | geoms.is_empty
    for code in codes[empty]:
        problems.append(f"Stadtteil {code}: geometry is missing or empty")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        msg = f"{name}: {len(problems)} problem(s):\n{lines}"
        raise InvalidGeometryError(msg)
    invalid = ~geoms.is_valid
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid].to_numpy())
        for code, reason in zip(codes[invalid], reasons, strict=True):
            logger.warning(
                "%s: Stadtteil %s has an invalid geometry (%s); repaired with make_valid",
                name,
                code,
                reason,
            )
        fixed = shapely.make_valid(geoms[invalid].to_numpy())
        # keep only the polygonal parts (make_valid may add boundary lines)
        fixed = [polygonal_part(f) for f in fixed]
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = fixed
    wrong = ~gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if wrong.any():
        listed = ", ".join(
            f"{c} ({t})" for c, t in zip(codes[wrong], gdf.geometry.geom_type[wrong], strict=True)
        )
        msg = f"{name}: Stadtteile must be polygons; found other geometry types: {listed}"
        raise InvalidGeometryError(msg)
    return gdf, [str(c) for c in codes[invalid]]


def read_stadtteile(
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read the 50 Stadtteile of Düsseldorf in EPSG:25832.

    Parameters
    ----------
    path
        The boundary file (GeoJSON or any format pyogrio reads) with the columns
        ``Stadtbezir`` (1–10), ``Stadtteil`` (11–102) and ``Name``. ``None`` reads the fetched
        layer ``stadtteile`` (see :func:`handwerkgeo.fetch.layer_paths`).
    data_dir
        Data directory when ``path`` is ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per Stadtteil, sorted by code, in EPSG:25832, with the columns

        - ``stadtteil_code``: three-digit string ``"011"`` … ``"102"``
        - ``stadtteil_name``: name, broken umlauts repaired (see :data:`NAME_REPAIRS`)
        - ``bezirk_code``: two-digit string ``"01"`` … ``"10"``
        - ``area_m2``: area in square metres
        - ``geometry``: (Multi)Polygon

        ``attrs`` holds ``source_crs`` (e.g. ``"EPSG:4647"``), ``source_path``,
        ``repaired_names`` and ``repaired_geometries`` (lists of codes).

    Raises
    ------
    MissingColumnError
        If a required column is missing.
    ValidationError
        Listing every bad code, inconsistent Bezirk, duplicate or unrepairable name.
    NoCrsError, OutsideAreaError, InvalidGeometryError
        For a file without CRS, one whose coordinates are not in Düsseldorf after
        reprojection, or empty / non-polygonal geometries.

    Examples
    --------
    >>> st = read_stadtteile()  # doctest: +SKIP
    >>> st.set_index("stadtteil_code").loc["011", "stadtteil_name"]  # doctest: +SKIP
    'Altstadt'
    >>> st.crs.to_epsg(), st.attrs["source_crs"]  # doctest: +SKIP
    (25832, 'EPSG:4647')
    """
    src = _default_path(path, data_dir)
    raw = gpd.read_file(src, engine="pyogrio")
    name = f"Stadtteile file {src}"
    missing = [c for c in _SOURCE_COLUMNS if c not in raw.columns]
    if missing:
        msg = (
            f"{name} lacks the column(s) {', '.join(missing)}; expected the city's "
            f"Stadtteilgrenzen file with {', '.join(_SOURCE_COLUMNS)}. Found: "
            f"{', '.join(map(str, raw.columns))}"
        )
        raise MissingColumnError(msg)
    gdf = to_canonical(raw, name=name)
    raise_if_outside(gdf.geometry, name=name)

    problems: list[str] = []
    st_codes = [_as_code(v, 3) for v in gdf["Stadtteil"]]
    bz_codes = [_as_code(v, 2) for v in gdf["Stadtbezir"]]
    names: list[str] = []
    repaired: list[str] = []
    for i, (st, bz, nm) in enumerate(zip(st_codes, bz_codes, gdf["Name"], strict=True)):
        label = st or f"row {i}"
        st_ok = st is not None and 11 <= int(st) <= 102
        if not st_ok:
            problems.append(f"row {i}: Stadtteil {gdf['Stadtteil'].iloc[i]} is not 11…102")
        if bz is None or not 1 <= int(bz) <= 10:
            problems.append(f"row {i}: Stadtbezir {gdf['Stadtbezir'].iloc[i]} is not 1…10")
        elif st_ok and st is not None and st[:2] != bz:
            problems.append(
                f"Stadtteil {st}: belongs to Stadtbezirk {st[:2]} by its code, but the file "
                f"says {bz}"
            )
        if not isinstance(nm, str) or not nm.strip():
            problems.append(f"Stadtteil {label}: name is missing")
            names.append("")
            continue
        fixed, problem = _repair_name(label, nm.strip())
        if problem:
            problems.append(problem)
        elif fixed != nm.strip():
            repaired.append(label)
            logger.info("Stadtteil %s: repaired broken name %r -> %r", label, nm, fixed)
        names.append(fixed)
    dup = pd.Series(st_codes).dropna()
    for code in sorted(set(dup[dup.duplicated()])):
        problems.append(f"Stadtteil code {code} occurs more than once")
    if problems:
        raise ValidationError(name, problems)
    if any(_REPLACEMENT in n for n in names):  # defence in depth: never hand on broken text
        msg = f"{name}: a name still contains U+FFFD after repair"
        raise ValidationError(name, [msg])

    out = gpd.GeoDataFrame(
        {
            "stadtteil_code": st_codes,
            "stadtteil_name": names,
            "bezirk_code": bz_codes,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    codes = out["stadtteil_code"]
    out, repaired_geoms = _make_valid(out, codes, name)
    out["area_m2"] = out.geometry.area
    out = out[["stadtteil_code", "stadtteil_name", "bezirk_code", "area_m2", "geometry"]]
    out = out.sort_values("stadtteil_code", ignore_index=True)
    out.attrs = {
        "source_crs": gdf.attrs["source_crs"],
        "source_path": str(src),
        "repaired_names": sorted(repaired),
        "repaired_geometries": repaired_geoms,
    }
    logger.info(
        "read %d Stadtteile from %s (%s -> EPSG:25832), %.1f km², %d name(s) repaired",
        len(out),
        src,
        out.attrs["source_crs"],
        out["area_m2"].sum() / 1e6,
        len(repaired),
    )
    return out


def read_stadtbezirke(
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read the 10 Stadtbezirke of Düsseldorf, dissolved from the Stadtteile, in EPSG:25832.

    Parameters
    ----------
    path, data_dir
        As for :func:`read_stadtteile`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per Stadtbezirk, sorted by code, with the columns

        - ``bezirk_code``: ``"01"`` … ``"10"``
        - ``bezirk_name``: ``"Stadtbezirk 1"`` … ``"Stadtbezirk 10"``
        - ``stadtteil_codes``: its Stadtteil codes, comma-separated (``"011,012,…"``)
        - ``stadtteile``: its Stadtteil names, comma-separated
        - ``area_m2``: area in square metres
        - ``geometry``: (Multi)Polygon

        ``attrs`` as for :func:`read_stadtteile`.

    Examples
    --------
    >>> bz = read_stadtbezirke()  # doctest: +SKIP
    >>> bz.loc[0, ["bezirk_code", "bezirk_name"]].tolist()  # doctest: +SKIP
    ['01', 'Stadtbezirk 1']
    """
    st = read_stadtteile(path, data_dir=data_dir)
    rows = []
    for code, part in st.groupby("bezirk_code", sort=True):
        geom = shapely.union_all(part.geometry.to_numpy())
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        rows.append(
            {
                "bezirk_code": code,
                "bezirk_name": f"Stadtbezirk {int(code)}",
                "stadtteil_codes": ",".join(part["stadtteil_code"]),
                "stadtteile": ", ".join(part["stadtteil_name"]),
                "geometry": geom,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=st.crs)
    out.insert(4, "area_m2", out.geometry.area)
    out.attrs = dict(st.attrs)
    logger.info("dissolved %d Stadtbezirke from %d Stadtteile", len(out), len(st))
    return out
