"""Scoring configuration: the packaged default and every kind of bad input."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from handwerkgeo.config import (
    CRITERIA,
    ScoringConfig,
    default_config,
    load_config,
)
from handwerkgeo.errors import ConfigError

DEFAULT_YAML = Path(__file__).resolve().parents[1] / "src/handwerkgeo/configs/default.yaml"


@pytest.fixture(scope="module")
def base() -> dict:
    return default_config().to_dict()


def test_default_has_every_criterion_with_labels() -> None:
    cfg = default_config()
    # the built-in criteria, then the generic one defined in default.yaml alone
    assert tuple(cfg.criteria) == (*CRITERIA, "apprentice_access")
    for crit in cfg.criteria.values():
        assert crit.label_de and crit.label_en and crit.unit and crit.description_de
        assert crit.source
    assert cfg.filters.min_area_m2 == 2500
    assert {"WS", "WR", "WA", "GREEN", "FOREST", "WATER"} <= set(cfg.filters.excluded_zones)
    assert cfg.criteria["zoning"].table["GE"] == 1.0
    assert cfg.criteria["zoning"].table["MU"] == 0.8
    assert cfg.criteria["ownership"].table == {
        "city": 1.0,
        "idr": 1.0,
        "public": 0.7,
        "private": 0.3,
    }
    assert cfg.criteria["transit"].breakpoints == ((400, 1.0), (800, 0.5), (1200, 0.0))


def test_every_weight_and_function_in_default_yaml_is_commented() -> None:
    text = DEFAULT_YAML.read_text("utf-8")
    # each criterion block (lines starting with two spaces + name) has a comment line
    crit_blocks: dict[str, str] = {}
    current = None
    for line in text.split("\ncriteria:\n", 1)[1].splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":"):
            current = line.strip()[:-1]
            crit_blocks[current] = ""
        elif current:
            crit_blocks[current] += line + "\n"
    assert set(crit_blocks) == {*CRITERIA, "apprentice_access"}
    for name, block in crit_blocks.items():
        comments = [ln for ln in block.splitlines() if ln.strip().startswith("#")]
        assert len(comments) >= 2, f"{name} lacks comments explaining weight and utility"
        assert "Weight" in " ".join(comments), f"{name}: the weight is not explained"


def test_hash_is_stable_and_changes_with_content(base: dict) -> None:
    a = default_config()
    b = ScoringConfig.from_dict(copy.deepcopy(base))
    assert a.hash == b.hash and len(a.hash) == 12
    assert int(a.hash, 16) >= 0
    c = a.with_weights({"transit": 11})
    assert c.hash != a.hash
    assert c.criteria["transit"].weight == 11
    assert a.criteria["transit"].weight == 10  # original untouched (frozen)


def test_yaml_round_trip(tmp_path: Path) -> None:
    cfg = default_config()
    path = tmp_path / "cfg.yaml"
    path.write_text(cfg.to_yaml(), "utf-8")
    again = load_config(path)
    assert again == cfg
    assert again.hash == cfg.hash


def test_frozen() -> None:
    cfg = default_config()
    with pytest.raises(Exception, match="frozen"):
        cfg.name = "x"  # type: ignore[misc]


def _err(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        ScoringConfig.from_dict(data, source="test.yaml")
    return str(info.value)


def test_unknown_criterion_lists_allowed(base: dict) -> None:
    data = copy.deepcopy(base)
    data["criteria"]["trnasit"] = data["criteria"]["transit"]
    msg = _err(data)
    assert "criteria.trnasit" in msg and "unknown criterion" in msg
    assert "plot_size" in msg and "land_value" in msg
    assert msg.startswith("test.yaml")


def test_negative_weight(base: dict) -> None:
    data = copy.deepcopy(base)
    data["criteria"]["motorway"]["weight"] = -2
    msg = _err(data)
    assert "criteria.motorway.weight" in msg and "-2" in msg and "greater than or equal to 0" in msg


def test_non_increasing_breakpoints_names_index(base: dict) -> None:
    data = copy.deepcopy(base)
    data["criteria"]["transit"]["breakpoints"] = [[400, 1.0], [400, 0.5], [1200, 0.0]]
    msg = _err(data)
    assert "criteria.transit.breakpoints[1]" in msg
    assert "increase strictly" in msg and "400" in msg


def test_utility_out_of_range(base: dict) -> None:
    data = copy.deepcopy(base)
    data["criteria"]["cycling"]["breakpoints"] = [[200, 1.2], [1000, 0.0]]
    msg = _err(data)
    assert "criteria.cycling.breakpoints[0]" in msg and "1.2" in msg and "0..1" in msg


def test_unknown_zone_category_in_filters_and_table(base: dict) -> None:
    data = copy.deepcopy(base)
    data["filters"]["excluded_zones"] = ["WA", "WOHN"]
    data["criteria"]["zoning"]["table"]["GEE"] = 1.0
    msg = _err(data)
    assert "filters.excluded_zones" in msg and "WOHN" in msg and "SO_COMMERCIAL" in msg
    # the table is checked once the field-level problems are fixed
    data["filters"]["excluded_zones"] = ["WA"]
    msg = _err(data)
    assert "criteria.zoning.table" in msg and "GEE" in msg and "FNP_G" in msg


@pytest.mark.parametrize(
    ("where", "key", "allowed"),
    [
        ((), "socal_mix_policy", "social_mix_policy"),
        (("filters",), "min_area", "min_area_m2"),
        (("criteria", "ownership"), "wieght", "weight"),
    ],
)
def test_typo_in_keys_is_rejected(base: dict, where: tuple, key: str, allowed: str) -> None:
    data = copy.deepcopy(base)
    node = data
    for part in where:
        node = node[part]
    node[key] = 1
    msg = _err(data)
    path = ".".join((*where, key))
    assert f"{path}: unknown key" in msg and allowed in msg


def test_policy_value_lists_allowed(base: dict) -> None:
    data = copy.deepcopy(base)
    data["social_mix_policy"] = "high"
    msg = _err(data)
    assert "social_mix_policy" in msg and "favour_low_sgb2" in msg and "'high'" in msg


def test_table_vs_breakpoints_kind(base: dict) -> None:
    data = copy.deepcopy(base)
    data["criteria"]["ownership"]["breakpoints"] = [[0, 0], [1, 1]]
    msg = _err(data)
    assert "criteria.ownership" in msg and "table" in msg
    data = copy.deepcopy(base)
    data["criteria"]["plot_size"]["table"] = {"GE": 1}
    data["criteria"]["plot_size"]["breakpoints"] = None
    msg = _err(data)
    assert "criteria.plot_size" in msg and "breakpoints" in msg


def test_unknown_param_and_bad_param_value(base: dict) -> None:
    data = copy.deepcopy(base)
    data["criteria"]["plot_shape"]["params"] = {"measure": "roundness", "tol": 1}
    msg = _err(data)
    assert "criteria.plot_shape.params.measure" in msg and "narrowest_width" in msg
    assert "criteria.plot_shape.params.tol: unknown parameter" in msg


def test_all_weights_zero_is_rejected(base: dict) -> None:
    data = copy.deepcopy(base)
    for crit in data["criteria"].values():
        crit["weight"] = 0
    assert "sum to 0" in _err(data)


def test_missing_required_key(base: dict) -> None:
    data = copy.deepcopy(base)
    del data["criteria"]["cycling"]["label_de"]
    assert "criteria.cycling.label_de: required key is missing" in _err(data)


def test_all_problems_reported_together(base: dict) -> None:
    data = copy.deepcopy(base)
    data["criteria"]["motorway"]["weight"] = -1
    data["criteria"]["cycling"]["breakpoints"] = [[5, 0.1], [1, 0.2]]
    data["filters"]["min_area_m2"] = -5
    msg = _err(data)
    assert "3 problem(s)" in msg


def test_load_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("criteria: [1, 2\n", "utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text(yaml.safe_dump([1, 2]), "utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(listy)


def test_with_weights_unknown_and_policy_off() -> None:
    cfg = default_config()
    with pytest.raises(ConfigError, match="unknown criteria"):
        cfg.with_weights({"parking": 3})
    off = cfg.with_updates(social_mix_policy="off")
    assert "social_mix" not in off.active_criteria()
    assert "social_mix" in cfg.active_criteria()
    # 104 (100 of DOMAIN.md incl. apprentices' reach, + 4 plot shape) - 2 social mix
    assert sum(off.weights.values()) == pytest.approx(102)


def test_cli_config_show_and_validate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handwerkgeo.cli import app

    runner = CliRunner()
    shown = runner.invoke(app, ["config", "show"])
    assert shown.exit_code == 0
    assert "# Every weight" in shown.output and default_config().hash in shown.output
    resolved = runner.invoke(app, ["config", "show", "--resolved"])
    assert yaml.safe_load(resolved.output)["criteria"]["transit"]["weight"] == 10
    ok = runner.invoke(app, ["config", "validate", str(DEFAULT_YAML)])
    assert ok.exit_code == 0 and "OK" in ok.output
    data = default_config().to_dict()
    data["criteria"]["transit"]["breakpoints"][2] = [700, 0.0]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), "utf-8")
    res = runner.invoke(app, ["config", "validate", str(bad)])
    assert res.exit_code == 1
    assert "criteria.transit.breakpoints[2]" in res.output
