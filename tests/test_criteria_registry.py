"""The criterion registry, generic criteria from the configuration, apprentices' reach."""

from __future__ import annotations

import inspect
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from handwerkgeo.config import CATEGORICAL_CRITERIA, CRITERIA, ScoringConfig, default_config
from handwerkgeo.context import ScoringContext, add_layer_files, parse_layer_options
from handwerkgeo.criteria import builtin, generic
from handwerkgeo.criteria.base import CriterionResult
from handwerkgeo.criteria.registry import REGISTRY, criterion_spec
from handwerkgeo.errors import ConfigError, MissingColumnError
from handwerkgeo.messages import MESSAGES
from handwerkgeo.scoring import compute_raw, score_plots

CRS = "EPSG:25832"
X0, Y0 = 345_000.0, 5_680_000.0


# --- the registry ---------------------------------------------------------------------------


def test_registry_is_the_one_table_of_builtin_criteria() -> None:
    assert tuple(REGISTRY) == CRITERIA
    assert {k for k, s in REGISTRY.items() if s.kind == "categorical"} == set(CATEGORICAL_CRITERIA)
    for name, spec in REGISTRY.items():
        fn = spec.compute
        assert fn.__module__ == "handwerkgeo.criteria.builtin" and fn.__name__ == name
        assert fn.__doc__, f"{name} has no docstring"
        assert list(inspect.signature(fn).parameters) == ["plots", "context", "crit"]
    for fn in generic.GENERIC_KINDS.values():
        assert list(inspect.signature(fn).parameters) == ["plots", "context", "crit"]


def test_reason_codes_have_messages() -> None:
    from handwerkgeo.scoring import _raw

    src = "".join(Path(str(m.__file__)).read_text("utf-8") for m in (builtin, generic, _raw))
    for code in ("missing_layers", "missing_plot_column", "no_polygon_plots", "no_zoning_data"):
        assert code in src and code in MESSAGES
    r = CriterionResult.no_data("no_matching_features", layer="schools", filter={"form": "x"})
    assert r.reason("de").startswith("keine Daten: Ebene schools")
    assert r.reason("en") == "no data: layer schools has no features matching {'form': 'x'}"


# --- generic criteria in the configuration --------------------------------------------------


def _generic_entry(**over) -> dict:
    entry = {
        "weight": 3,
        "kind": "network_distance",
        "layer": "kitas",
        "label_de": "Kita-Nähe",
        "label_en": "Day-care nearby",
        "unit": "m",
        "description_de": "Fußweg zur nächsten Kita.",
        "source": "test",
        "breakpoints": [[300, 1.0], [1500, 0.0]],
    }
    entry.update(over)
    return {k: v for k, v in entry.items() if v is not None}


def _config_with(name: str = "kita_access", **over) -> ScoringConfig:
    data = default_config().to_dict()
    data["criteria"][name] = _generic_entry(**over)
    return ScoringConfig.from_dict(data, source="test.yaml")


def _err(**over) -> str:
    with pytest.raises(ConfigError) as info:
        _config_with(**over)
    return str(info.value)


def test_generic_criterion_is_accepted_and_ordered_after_builtin() -> None:
    cfg = _config_with()
    assert list(cfg.active_criteria())[-2:] == ["apprentice_access", "kita_access"]
    assert criterion_spec("kita_access", cfg.criteria["kita_access"]).layers == ("kitas",)
    again = ScoringConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.hash == cfg.hash
    # configurations without generic keys keep their dump (and hash) free of them
    assert "kind" not in default_config().to_dict()["criteria"]["transit"]


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"kind": "nearest_thing"}, "kind: unknown kind 'nearest_thing'; allowed: network_dist"),
        ({"kind": None}, "any other name must declare 'kind:' one of network_distance"),
        ({"layer": None}, "needs 'layer:'"),
        ({"kind": "count_within"}, "criteria.kita_access.params.radius_m: required"),
        ({"params": {"radius_m": 500}}, "params.radius_m: unknown parameter"),
        ({"params": {"circuity": -1}}, "must be a positive number"),
        ({"filter": {"form": {"a": 1}}}, "criteria.kita_access.filter.form"),
        ({"table": {"a": 1.0}}, "numeric criterion needs 'breakpoints'"),
        ({"kind": "attribute", "layer": None}, "params.column: required"),
    ],
)
def test_bad_generic_criteria_get_clear_errors(over: dict, expected: str) -> None:
    msg = _err(**over)
    assert msg.startswith("test.yaml") and expected in msg


def test_builtin_criterion_takes_no_generic_keys() -> None:
    data = default_config().to_dict()
    data["criteria"]["transit"]["layer"] = "stops"
    with pytest.raises(ConfigError, match="built-in criterion 'transit' takes no"):
        ScoringConfig.from_dict(data)


# --- the generic kinds ----------------------------------------------------------------------


@pytest.fixture
def plots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"plot_id": ["a", "b", "c"], "rating": ["gut", "schlecht", None], "level": [1, 5, 9]},
        geometry=[
            box(X0, Y0, X0 + 100, Y0 + 100),
            box(X0 + 2000, Y0, X0 + 2100, Y0 + 100),
            Point(X0 + 4000, Y0 + 50),
        ],
        crs=CRS,
    )


def _points(xy, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def test_network_distance_without_network_is_flagged_straight_line(plots) -> None:
    kitas = _points([(300, 50), (2050, 1000), (4000, 50)], kind=["Kita", "Kita", "Hort"])
    cfg = _config_with(filter={"kind": "Kita"})
    raw = compute_raw(plots, ScoringContext().with_layers(kitas=kitas), cfg)
    # straight line from the plot outline × 1.3; the Hort at plot c is filtered out
    np.testing.assert_allclose(
        raw["raw_kita_access"], [200 * 1.3, 900 * 1.3, np.hypot(1950, 950) * 1.3]
    )
    assert raw["fallback_kita_access"].all()
    empty = compute_raw(plots, ScoringContext(), cfg)
    assert empty["raw_kita_access"].isna().all()
    assert empty.attrs["missing_codes"]["kita_access"] == "missing_layers"
    assert "kitas" in empty.attrs["missing_reasons"]["kita_access"]
    none_left = compute_raw(
        plots, ScoringContext(extra={"kitas": kitas}), _config_with(filter={"kind": ["Krippe"]})
    )
    assert none_left.attrs["missing_codes"]["kita_access"] == "no_matching_features"
    with pytest.raises(MissingColumnError, match="typ"):
        compute_raw(plots, ScoringContext(extra={"kitas": kitas}), _config_with(filter={"typ": 1}))


def test_count_within_overlap_share_and_attribute(plots, grid_graph) -> None:
    from handwerkgeo.network import prepare_network

    shops = _points([(50, 150), (150, 50), (2050, 400)])
    parks = gpd.GeoDataFrame(geometry=[box(X0 + 50, Y0, X0 + 200, Y0 + 100)], crs=CRS)
    data = default_config().to_dict()
    data["criteria"]["shops"] = _generic_entry(
        kind="count_within", layer="shops", params={"radius_m": 500}, breakpoints=[[0, 0], [2, 1]]
    )
    data["criteria"]["park_share"] = _generic_entry(
        kind="overlap_share", layer="parks", breakpoints=[[0, 1], [1, 0]]
    )
    data["criteria"]["rating"] = _generic_entry(
        kind="attribute",
        layer=None,
        params={"column": "rating"},
        breakpoints=None,
        table={"gut": 1.0, "schlecht": 0.2},
    )
    data["criteria"]["level"] = _generic_entry(
        kind="attribute", layer=None, params={"column": "level"}, breakpoints=[[1, 1], [9, 0]]
    )
    cfg = ScoringConfig.from_dict(data)
    ctx = ScoringContext(extra={"shops": shops, "parks": parks})
    s = score_plots(plots, cfg, context=ctx).set_index("plot_id")
    # straight line × 1.3 <= 500 m without a network, flagged
    assert s["raw_shops"].tolist() == [2.0, 1.0, 0.0] and s["fallback_shops"].all()
    assert s["raw_park_share"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert s["u_rating"].tolist()[:2] == [1.0, 0.2] and np.isnan(s.loc["c", "u_rating"])
    assert s["u_level"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert s.loc["a", "contrib_rating"] > 0
    # over a network: the 6 × 6 grid (100 m blocks) from 340000/5680000
    net = prepare_network(grid_graph)
    x, y = 340_000.0, 5_680_000.0
    on_grid = gpd.GeoDataFrame({"plot_id": ["g"]}, geometry=[Point(x, y)], crs=CRS)
    targets = gpd.GeoDataFrame(
        geometry=[Point(x + 200, y), Point(x + 300, y + 300), Point(x + 500, y + 500)], crs=CRS
    )
    raw = compute_raw(on_grid, ScoringContext(network=net, extra={"shops": targets}), cfg)
    assert raw.loc[0, "raw_shops"] == 1.0 and not raw.loc[0, "fallback_shops"]  # 200 m; 600 m


# --- Erreichbarkeit für Auszubildende (apprentice_access, YAML only) ------------------------


def test_apprentice_access_is_yaml_only() -> None:
    crit = default_config().criteria["apprentice_access"]
    assert (crit.kind, crit.layer, crit.filter) == (
        "network_distance",
        "schools",
        {"form": "Berufskolleg"},
    )
    assert crit.weight == 4 and crit.label_de == "Erreichbarkeit für Auszubildende"
    assert crit.breakpoints == ((1000, 1.0), (3000, 0.3), (5000, 0.0))
    assert "Berufskolleg" in crit.source and crit.description_en
    assert "apprentice_access" not in REGISTRY  # no code


def test_apprentice_access_on_its_own(plots) -> None:
    schools = _points(
        [(100, 1050), (2050, 700), (4000, 100)], form=["Berufskolleg", "Berufskolleg", "Gymnasium"]
    )
    s = score_plots(plots, default_config(), context=ScoringContext(extra={"schools": schools}))
    s = s.set_index("plot_id")
    expected = np.array([950.0, 600.0, np.hypot(1950, 650)]) * 1.3  # no network: × 1.3
    np.testing.assert_allclose(s["raw_apprentice_access"], expected)
    assert s["fallback_apprentice_access"].all()
    # 1,235 m -> 1 - 0.7 · 235 / 2,000; 780 m -> 1; 2,672 m -> 1 - 0.7 · 1,672 / 2,000
    np.testing.assert_allclose(
        s["u_apprentice_access"],
        [1 - 0.7 * (expected[0] - 1000) / 2000, 1.0, 1 - 0.7 * (expected[2] - 1000) / 2000],
    )
    w = default_config().weights
    assert s.loc["b", "contrib_apprentice_access"] == pytest.approx(
        100 * w["apprentice_access"] / sum(w[k] for k in w if pd.notna(s.loc["b", f"u_{k}"]))
    )


@pytest.mark.mirror
def test_apprentice_access_matches_networkx(central_graph, central_network, mirror) -> None:
    from handwerkgeo import network as nw

    csv = pd.read_csv(mirror / "schulen" / "schulen.csv", dtype={"id": str})
    schools = gpd.GeoDataFrame(
        csv[["id", "name", "form"]],
        geometry=gpd.points_from_xy(csv["lon"], csv["lat"]),
        crs="EPSG:4326",
    ).to_crs(CRS)
    net = central_network
    rng = np.random.default_rng(5)
    (minx, miny), (maxx, maxy) = net.xy.min(axis=0), net.xy.max(axis=0)
    n = 400
    plots = gpd.GeoDataFrame(
        {"plot_id": [f"p{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs=CRS,
    )
    ctx = ScoringContext(network=net, extra={"schools": schools})
    got = compute_raw(plots, ctx, default_config())

    colleges = schools[schools["form"] == "Berufskolleg"].reset_index(drop=True)
    assert len(colleges) == 21
    o_snap = nw.snap(net, plots)
    t_snap = nw.snap(net, colleges)
    on = t_snap["snapped"].to_numpy()
    assert on.sum() >= 5  # several Berufskollegs lie on the central network
    # networkx: one multi-source Dijkstra from every on-network Berufskolleg, its snap
    # distance entering as an edge from a virtual source
    R = nx.MultiGraph(central_graph.subgraph(net.node_ids.tolist()))
    sources = []
    for j in np.flatnonzero(on):
        R.add_edge(("bk", j), net.node_ids[t_snap["node"].iloc[j]], length=t_snap["snap_m"].iloc[j])
        sources.append(("bk", j))
    lengths = nx.multi_source_dijkstra_path_length(R, sources, weight="length")
    net_d = (
        np.array([lengths.get(net.node_ids[k], np.inf) for k in o_snap["node"]], dtype=float)
        + o_snap["snap_m"].to_numpy()
    )
    ok = ~got["fallback_apprentice_access"].to_numpy()
    assert ok.sum() > 300
    np.testing.assert_allclose(
        got["raw_apprentice_access"].to_numpy()[ok], net_d[ok], rtol=0, atol=0.01
    )
    # the network distance is never shorter than the straight line
    straight = np.array([colleges.distance(g).min() for g in plots.geometry])
    assert (got["raw_apprentice_access"].to_numpy()[ok] >= straight[ok] - 0.01).all()


# --- a criterion through configuration alone, from --layer to map and workbook -------------


def test_generic_criterion_from_layer_file_to_map_and_xlsx(tmp_path: Path, plots) -> None:
    from handwerkgeo.export.maps import export_map, map_payload
    from handwerkgeo.export.tables import export_tables

    kitas = _points([(300, 50), (2050, 300)], kind=["Kita", "Kita"])
    path = tmp_path / "kitas.geojson"
    kitas.to_crs(4326).to_file(path, driver="GeoJSON")
    ctx = add_layer_files(ScoringContext(), parse_layer_options([f"kitas={path}"]))
    assert ctx.layer("kitas").crs == CRS
    assert any("kitas.geojson" in s["name"] for s in ctx.sources)
    yaml_text = default_config().to_yaml() + (
        "  kita_access:\n"
        "    weight: 3\n"
        "    kind: network_distance\n"
        "    layer: kitas\n"
        "    filter: {kind: Kita}\n"
        "    label_de: Kita-Nähe\n"
        "    label_en: Day-care nearby\n"
        "    unit: m\n"
        "    description_de: Fußweg zur nächsten Kita.\n"
        "    source: --layer kitas=kitas.geojson\n"
        "    breakpoints: [[300, 1.0], [1500, 0.0]]\n"
    )
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml_text, "utf-8")
    from handwerkgeo.config import load_config

    cfg = load_config(cfg_path)
    s = score_plots(plots, cfg, context=ctx)
    for prefix in ("raw_", "u_", "contrib_", "fallback_"):
        assert f"{prefix}kita_access" in s.columns
    assert s["raw_kita_access"].notna().all() and (s["contrib_kita_access"] > 0).any()

    html = export_map(s, tmp_path / "map.html", top_n=3)
    assert html.is_file()
    card = {c["k"]: c["label"] for c in map_payload(s)["crit"]}
    assert card["kita_access"] == "Kita-Nähe"
    assert map_payload(s)["u"]["kita_access"][0] == 100  # 260 m -> 1

    out = export_tables(s, tmp_path / "t.xlsx")
    sheets = pd.read_excel(out["xlsx"], sheet_name=None)
    text = " ".join(
        str(v) for frame in sheets.values() for v in [*frame.columns, *frame.to_numpy().ravel()]
    )
    assert "Kita-Nähe" in text


@pytest.mark.mirror
def test_load_context_holds_the_schools_for_apprentice_access(duesseldorf_context) -> None:
    schools = duesseldorf_context.layer("schools")
    assert schools is not None and schools.crs == CRS
    assert int((schools["form"] == "Berufskolleg").sum()) == 21
    assert any(s.get("layer") == "schools" for s in duesseldorf_context.sources)
    plots = gpd.GeoDataFrame(
        {"plot_id": ["Hbf", "Benrath"]},
        geometry=[box(344_400, 5_676_200, 344_500, 5_676_300), Point(350_600, 5_667_000)],
        crs=CRS,
    )
    s = score_plots(plots, default_config(), context=duesseldorf_context)
    assert s["raw_apprentice_access"].notna().all()
    assert (s["raw_apprentice_access"] < 10_000).all()
    assert "apprentice_access" not in s.attrs["run"]["missing_reasons"]
