"""Tests of the interactive map export (structure, offline, escaping, edge cases).

``make_scored`` builds, by hand, a frame that satisfies the "Scored frame" contract of
docs/design.md; the other export test modules import it from here.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from handwerkgeo.errors import MissingColumnError, UnexpectedCrsError, ValidationError
from handwerkgeo.export.maps import export_map, map_payload

CRITERIA_WEIGHTS = {
    "plot_size": 10,
    "plot_shape": 4,
    "zoning": 10,
    "brownfield": 5,
    "noise_buffer": 6,
    "motorway": 10,
    "main_road": 5,
    "transit": 10,
    "cycling": 5,
    "customer_potential": 10,
    "landuse_mix": 5,
    "jobs_housing": 3,
    "social_mix": 2,
    "ownership": 8,
    "land_value": 7,
}
UNITS = {
    "plot_size": "m²",
    "noise_buffer": "m",
    "motorway": "m",
    "transit": "m",
    "land_value": "€/m²",
}
XSS = "<img src=x onerror=alert(1)>"
NASTY_NAMES = [
    XSS,
    "Höher Weg \"Süd\" & 'Nord' – Grundstück",
    "{{ 7*7 }} Jinja {% if %}",
    "Sehr langer Name " * 30,
    None,
]


def make_scored(n: int = 12, *, seed: int = 1, cell_m: float = 80.0) -> gpd.GeoDataFrame:
    """A scored frame by hand: n square plots in Düsseldorf, every contract column.

    Row 0 is the best plot; rows 1, 2 are excluded; some values are missing; names
    include HTML, quotes, umlauts, Jinja delimiters, a very long name and a missing one.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    x0, y0 = 344_000.0, 5_677_000.0
    geoms = [
        box(
            x0 + (i % side) * 150,
            y0 + (i // side) * 150,
            x0 + (i % side) * 150 + cell_m,
            y0 + (i // side) * 150 + cell_m,
        )
        for i in range(n)
    ]
    df = pd.DataFrame({"plot_id": [f"P{i:03d}" for i in range(n)]})
    df["name"] = [
        NASTY_NAMES[i % len(NASTY_NAMES)] if i < 2 * len(NASTY_NAMES) else f"Fläche {i}"
        for i in range(n)
    ]
    weights = np.array(list(CRITERIA_WEIGHTS.values()), dtype=float)
    u = rng.uniform(0, 1, size=(n, len(weights)))
    u[0] = 0.98  # the best plot
    if n > 4:
        u[3, [2, 14]] = np.nan  # no zoning and no land value for row 3
    has = ~np.isnan(u)
    wsum = (has * weights).sum(axis=1)
    contrib = np.where(has, 100 * u * weights / wsum[:, None], 0.0)
    for j, k in enumerate(CRITERIA_WEIGHTS):
        if k == "brownfield":
            df[f"raw_{k}"] = pd.array([bool(v > 0.5) for v in u[:, j]], dtype="boolean")
        elif k == "ownership":
            df[f"raw_{k}"] = np.where(u[:, j] > 0.5, "city", "private")
        elif k == "zoning":
            df[f"raw_{k}"] = [None if np.isnan(v) else ("GE" if v > 0.5 else "MI") for v in u[:, j]]
        else:
            df[f"raw_{k}"] = np.where(has[:, j], np.round(rng.uniform(10, 9000, n), 1), np.nan)
        df[f"u_{k}"] = u[:, j]
        df[f"contrib_{k}"] = contrib[:, j]
    df["fallback_transit"] = [i == 4 for i in range(n)]
    df["score_total"] = contrib.sum(axis=1)
    excluded = np.zeros(n, dtype=bool)
    excluded[1:3] = True
    df["excluded"] = excluded
    df["exclusion_reason"] = ["" if not e else "Fläche < 2.500 m²" for e in excluded]
    if n > 2:
        df.loc[2, "exclusion_reason"] = "Wohngebiet (WA) <script>alert(2)</script>"
    df["coverage"] = (has * weights).sum(axis=1) / weights.sum()
    df["missing_criteria"] = [
        ",".join(k for j, k in enumerate(CRITERIA_WEIGHTS) if not has[i, j]) for i in range(n)
    ]
    order = df["score_total"].where(~df["excluded"]).rank(ascending=False, method="first")
    df["rank"] = pd.array([pd.NA if np.isnan(r) else int(r) for r in order], dtype="Int64")
    df["p_top_10"] = np.where(excluded, 0.0, rng.uniform(0, 1, n))
    df["rank_p05"] = df["rank"].astype("Float64").fillna(np.nan).astype(float) - 1
    df["rank_p95"] = df["rank"].astype("Float64").fillna(np.nan).astype(float) + 3
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:25832")
    gdf.index = pd.Index([f"P{i:03d}" for i in range(n)], name="plot_id_index")
    gdf.attrs["run"] = {
        "config_hash": "abc123def4567890",
        "config": {"name": "default", "weights": CRITERIA_WEIGHTS},
        "version": "0.1.0",
        "scored_at": "2026-03-01T10:00:00+01:00",
        "criteria": {
            k: {
                "weight": w,
                "label_de": {"plot_size": "Flächengröße", "transit": "ÖPNV-Anbindung"}.get(
                    k, k.replace("_", " ").title()
                ),
                "label_en": k.replace("_", " "),
                "unit": UNITS.get(k, ""),
            }
            for k, w in CRITERIA_WEIGHTS.items()
        },
        "sources": [
            {
                "name": "Stadtteilgrenzen Düsseldorf 2021",
                "licence": "dl-de/zero-2.0",
                "attribution": "Landeshauptstadt Düsseldorf",
            },
            {
                "name": "OSM Straßennetz",
                "licence": "ODbL 1.0",
                "attribution": "© OpenStreetMap contributors",
            },
            {"name": "VRR GTFS", "licence": "VRR open data", "attribution": "VRR"},
        ],
    }
    return gdf


def make_stadtteile() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"stadtteil_code": ["011", "012"], "stadtteil_name": ["Altstadt", "Düsseltal <b>x</b>"]},
        geometry=[
            box(343_500, 5_676_500, 344_700, 5_678_000),
            box(344_700, 5_676_500, 346_000, 5_678_000),
        ],
        crs="EPSG:25832",
    )


def make_stops() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"stop_id": ["s1", "s2"], "name": ["Hbf", XSS]},
        geometry=[Point(344_100, 5_677_100), Point(344_400, 5_677_300)],
        crs="EPSG:25832",
    )


def make_cycling() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"NaviNetz": [None]},
        geometry=[LineString([(343_600, 5_676_600), (345_900, 5_677_900)])],
        crs="EPSG:25832",
    )


def _data(html_text: str) -> dict:
    """The data document embedded in a map (plain JSON or deflate + base64)."""
    m = re.search(
        r'<script[^>]* id="hwg-data" data-encoding="([^"]+)"[^>]*>(.*?)</script>', html_text, re.S
    )
    assert m, "embedded data missing"
    if m.group(1) == "deflate-base64":
        return json.loads(zlib.decompress(base64.b64decode(m.group(2))).decode("utf-8"))
    return json.loads(m.group(2))


def test_export_map_writes_self_contained_html(tmp_path: Path) -> None:
    scored = make_scored(12)
    out = export_map(
        scored,
        tmp_path / "karte.html",
        stadtteile=make_stadtteile(),
        stops=make_stops(),
        cycling=make_cycling(),
    )
    text = out.read_text(encoding="utf-8")
    assert re.search(r"<script[^>]+src=", text) is None
    assert re.search(r"<link[^>]+href=", text) is None
    assert re.search(r"url\(\s*['\"]?(https?:|//)", text) is None
    assert "L.map(" in text and "leaflet-container" in text  # Leaflet is inlined
    data = _data(text)
    assert data["n"] == 12
    assert len(data["crit"]) == 15
    assert data["top"][0] == 0  # the best plot first
    assert data["excl"][1] == 1 and data["excl"][2] == 1
    assert "© OpenStreetMap contributors" in data["attributions"]
    assert set(data["ctx"]) == {"stadtteile", "stops", "cycling"}
    # one layer per criterion plus score, top-N and three context layers in the control
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", text, re.S)
    assert control is not None
    assert len(re.findall(r'"[^"]*"\s*:\s*hwg_layer_', control.group(1))) == 15 + 1 + 1 + 3


def test_scored_frame_not_mutated(tmp_path: Path) -> None:
    scored = make_scored(6)
    before = scored.copy()
    attrs = json.dumps(scored.attrs, sort_keys=True, default=str)
    export_map(scored, tmp_path / "m.html")
    pd.testing.assert_frame_equal(pd.DataFrame(scored), pd.DataFrame(before))
    assert json.dumps(scored.attrs, sort_keys=True, default=str) == attrs


def test_geometry_is_quantised_and_delta_encoded() -> None:
    scored = make_scored(1)
    data = map_payload(scored)
    ring = data["geom"][0][0][0]
    assert len(ring) == 8  # four corners, closing vertex implied
    x = np.cumsum(ring[0::2]) / 1e5
    y = np.cumsum(ring[1::2]) / 1e5
    ref = scored.to_crs("EPSG:4326").geometry.iloc[0].exterior.coords
    np.testing.assert_allclose(np.c_[x, y], np.asarray(ref)[:-1], atol=1e-5)


def test_nasty_values_are_escaped_in_static_html(tmp_path: Path) -> None:
    scored = make_scored(12)
    text = export_map(
        scored, tmp_path / "m.html", title=XSS + " {{ 7*7 }}", stops=make_stops()
    ).read_text()
    assert XSS not in text  # neither raw in HTML nor in the JSON (which has no "<")
    assert "<script>alert(2)" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; {{ 7*7 }}" in text  # title escaped, not evaluated
    data = _data(text)
    assert XSS in data["name"]  # the data still holds the exact value
    assert data["name"][4] is None
    assert "Höher Weg \"Süd\" & 'Nord' – Grundstück" in data["name"]


def test_missing_optional_columns_and_no_run_metadata(tmp_path: Path) -> None:
    scored = make_scored(5)
    minimal = scored[["plot_id", "score_total", "rank", "excluded", "u_transit", "geometry"]].copy()
    minimal.attrs = {}
    out = export_map(minimal, tmp_path / "m.html", lang="en")
    data = _data(out.read_text())
    assert [c["k"] for c in data["crit"]] == ["transit"]
    assert data["crit"][0]["label"] == "Public transport"  # default English label
    assert data["cov"] is None and data["pTop"] == {}


def test_points_and_empty_geometries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    scored = make_scored(4)
    scored.loc["P001", "geometry"] = Point(344_050, 5_677_050)
    scored.loc["P002", "geometry"] = None
    out = export_map(scored, tmp_path / "m.html")
    data = _data(out.read_text())
    assert len(data["geom"][1]) == 2 and isinstance(data["geom"][1][0], int)
    assert data["geom"][2] is None
    assert any("P002" in n for n in data["notes"])
    assert "P002" in caplog.text


def test_bad_inputs_raise_clear_errors(tmp_path: Path) -> None:
    scored = make_scored(3)
    with pytest.raises(MissingColumnError, match="score_total"):
        export_map(scored.drop(columns=["score_total"]), tmp_path / "m.html")
    with pytest.raises(UnexpectedCrsError, match="EPSG:25832"):
        export_map(scored.to_crs("EPSG:4326"), tmp_path / "m.html")
    with pytest.raises(ValidationError, match="max_polygons"):
        export_map(scored, tmp_path / "m.html", max_polygons=2)
    with pytest.raises(ValueError, match="lang"):
        export_map(scored, tmp_path / "m.html", lang="fr")
    assert not (tmp_path / "m.html").exists()


def test_online_mode_links_leaflet_only(tmp_path: Path) -> None:
    text = export_map(make_scored(3), tmp_path / "m.html", offline=False).read_text()
    srcs = re.findall(r'<script[^>]+src="([^"]+)"', text)
    assert len(srcs) == 1 and srcs[0].endswith("leaflet.js")
    assert "jquery" not in text.lower() and "bootstrap" not in text.lower()


@pytest.mark.mirror
def test_map_cli_with_real_context_layers(tmp_path: Path, mirror: Path) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app
    from handwerkgeo.config import load_config
    from handwerkgeo.fetch import fetch
    from handwerkgeo.scoring import write_scored

    data = tmp_path / "data"
    fetch(
        mirror=mirror,
        data_dir=data,
        layers=["stadtteile", "vrr_stops", "vrr_lines", "cycling_network"],
    )
    scored = make_scored(12)
    scored.attrs["run"]["config"] = load_config(None).to_dict()
    write_scored(scored, tmp_path / "s.gpkg")
    out = tmp_path / "out"
    args = ["map", str(tmp_path / "s.gpkg"), "--out", str(out / "k.html"), "--top", "3"]
    args += [
        "--png",
        str(out / "k.png"),
        "--xlsx",
        str(out / "t.xlsx"),
        "--csv",
        str(out / "t.csv"),
    ]
    args += ["--profiles", str(out / "sb"), "--data-dir", str(data)]
    wrong = CliRunner().invoke(app, [*args[:3], str(out / "k.txt"), "--pdf", str(out / "k.png")])
    assert wrong.exit_code == 1
    assert "--out 'k.txt'" in wrong.output and "--pdf 'k.png'" in wrong.output
    assert not out.exists()
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    for name in ("k.html", "k.png", "t.xlsx", "t.csv", "sb/index.html"):
        assert (out / name).is_file()
    d = _data((out / "k.html").read_text(encoding="utf-8"))
    assert (
        len(d["ctx"]["stadtteile"]["name"]) == 50 and "Düsseltal" in d["ctx"]["stadtteile"]["name"]
    )
    assert len(d["ctx"]["stops"]["xy"]) == 630
    assert len(d["ctx"]["cycling"]["lines"]) > 100
    assert len(d["top"]) == 3
    assert any("dl-de/zero-2.0" in a for a in d["attributions"])
    assert any("VRR" in a for a in d["attributions"])
    assert len(sorted((out / "sb").glob("*.html"))) == 4  # 3 profiles + index

    bad = CliRunner().invoke(
        app, ["map", str(tmp_path / "missing.gpkg"), "--out", str(out / "x.html")]
    )
    assert bad.exit_code == 1 and "not found" in bad.output
