"""Pins the scoring engine's outputs: refactors must not change a single value.

``score_plots`` runs on the 13 packaged example plots and on 10,000 random plots (seeded)
over the real Düsseldorf context plus synthetic layers for everything the mirror lacks
(zoning, land use, motorway junctions, main roads, protected and flood areas), so that every
criterion and every filter runs. Each output column is reduced to a sha256 digest of its
values (floats rounded to 1e-6 m / units); the digests are compared with
``tests/fixtures/scoring_pin.json``. No data is stored, only digests.

Only the criteria that existed when the pin was made take part (``PINNED_CRITERIA``); a new
criterion is tested on its own. After an intended change of the model, regenerate with::

    HANDWERKGEO_UPDATE_PIN=1 .venv/bin/python -m pytest tests/test_scoring_pin.py
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

PIN = Path(__file__).parent / "fixtures" / "scoring_pin.json"

PINNED_CRITERIA = (
    "plot_size",
    "plot_shape",
    "zoning",
    "brownfield",
    "noise_buffer",
    "motorway",
    "main_road",
    "transit",
    "cycling",
    "customer_potential",
    "landuse_mix",
    "jobs_housing",
    "social_mix",
    "ownership",
    "land_value",
)

ZONES = ["GE", "GI", "MI", "MU", "MK", "WA", "WR", "SO", "GREEN", "FNP_G"]
OWNERS = ["city", "idr", "public", "private", "Unbekannt", None]
BROWNFIELD = [True, False, "ja", "nein", None]


def _pinned_config():
    from handwerkgeo.config import ScoringConfig, default_config

    data = default_config().to_dict()
    data["criteria"] = {k: v for k, v in data["criteria"].items() if k in PINNED_CRITERIA}
    return ScoringConfig.from_dict(data, source="pin")


def _synthetic_layers(bounds: tuple[float, float, float, float], seed: int) -> dict:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    crs = "EPSG:25832"

    def boxes(n: int, size: tuple[float, float]) -> np.ndarray:
        x = rng.uniform(x0, x1, n)
        y = rng.uniform(y0, y1, n)
        w = rng.uniform(*size, n)
        h = rng.uniform(*size, n)
        return shapely.box(x, y, x + w, y + h)

    zoning = gpd.GeoDataFrame(
        {
            "zone_category": rng.choice(ZONES, 400),
            "zone_source": "xplanung_bplan",
            "zone_confidence": 1.0,
        },
        geometry=boxes(400, (100, 900)),
        crs=crs,
    )
    landuse = gpd.GeoDataFrame(
        {
            "zone_category": rng.choice(["GE", "GI", "WA", "MI", "GREEN", "TRANSPORT"], 600),
            "zone_source": "osm_landuse",
        },
        geometry=boxes(600, (80, 600)),
        crs=crs,
    )
    junctions = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform(x0, x1, 25), rng.uniform(y0, y1, 25)), crs=crs
    )
    starts = np.column_stack([rng.uniform(x0, x1, 60), rng.uniform(y0, y1, 60)])
    ends = starts + rng.normal(0, 1500, (60, 2))
    roads = gpd.GeoDataFrame(
        geometry=shapely.linestrings(np.stack([starts, ends], axis=1)), crs=crs
    )
    protected = gpd.GeoDataFrame(geometry=boxes(40, (200, 1500)), crs=crs)
    flood = gpd.GeoDataFrame(geometry=boxes(30, (300, 2000)), crs=crs)
    return {
        "zoning": zoning,
        "landuse": landuse,
        "motorway_junctions": junctions,
        "main_roads": roads,
        "protected_areas": protected,
        "flood_areas": flood,
    }


def _random_plots(boundary, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = boundary.bounds
    pts = []
    while len(pts) < n:
        x = rng.uniform(x0, x1, 4 * n)
        y = rng.uniform(y0, y1, 4 * n)
        inside = shapely.contains_xy(boundary, x, y)
        pts.extend(zip(x[inside], y[inside], strict=True))
    pts = np.array(pts[:n])
    w = rng.uniform(20, 140, n)
    h = rng.uniform(20, 140, n)
    geoms = shapely.box(pts[:, 0], pts[:, 1], pts[:, 0] + w, pts[:, 1] + h)
    as_point = rng.random(n) < 0.1
    geoms[as_point] = shapely.points(pts[as_point])
    return gpd.GeoDataFrame(
        {
            "plot_id": [f"R{i:05d}" for i in range(n)],
            "zoning": rng.choice([*ZONES, None], n),
            "owner": rng.choice(np.array(OWNERS, dtype=object), n),
            "land_value_eur_m2": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(80, 900, n)),
            "brownfield": rng.choice(np.array(BROWNFIELD, dtype=object), n),
        },
        geometry=geoms,
        crs="EPSG:25832",
    )


def _digest(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        arr = values.astype("float64").to_numpy(dtype=float, na_value=np.nan)
        text = np.where(np.isnan(arr), "nan", np.char.mod("%.6f", np.round(arr, 6)))
        payload = "\n".join(text.tolist())
    else:
        payload = "\n".join("<NA>" if pd.isna(v) else str(v) for v in values.tolist())
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _digests(scored: gpd.GeoDataFrame) -> dict[str, str]:
    out = {}
    for col in scored.columns:
        if col == scored.geometry.name:
            continue
        out[col] = _digest(scored[col])
    return out


@pytest.fixture(scope="module")
def pin_context(duesseldorf_context):
    boundary = duesseldorf_context.stadtteile.union_all()
    layers = _synthetic_layers(boundary.bounds, seed=7)
    return replace(duesseldorf_context, **layers), boundary


@pytest.mark.mirror
@pytest.mark.slow
def test_scoring_outputs_are_pinned(pin_context) -> None:
    from handwerkgeo.scoring import score_plots
    from handwerkgeo.sources.plots import read_plots

    context, boundary = pin_context
    config = _pinned_config()
    examples = read_plots(Path(str(files("handwerkgeo") / "data" / "example_plots.geojson")))
    random_plots = _random_plots(boundary, 10_000, seed=11)
    got = {
        "examples": _digests(score_plots(examples, config, context=context)),
        "random_10000": _digests(score_plots(random_plots, config, context=context)),
    }
    if os.environ.get("HANDWERKGEO_UPDATE_PIN"):
        PIN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip(f"pin rewritten: {PIN}")
    want = json.loads(PIN.read_text(encoding="utf-8"))
    for case in want:
        assert sorted(got[case]) == sorted(want[case]), f"{case}: columns differ"
        changed = [c for c in want[case] if got[case][c] != want[case][c]]
        assert not changed, f"{case}: values changed in columns {changed}"
