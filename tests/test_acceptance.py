"""Acceptance tests: regressions found while exercising the planner workflows end to end.

Each test pins one bug found in acceptance testing with awkward, hand-made inputs.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

# --- site search: merging adjacent cells -------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "cell_m"),
    [("hex", 100.0), ("hex", 75.0), ("square", 33.3), ("square", 100.0)],
)
def test_all_good_cells_of_a_compact_area_merge_into_one_site(shape: str, cell_m: float) -> None:
    """Neighbouring grid cells share their edge exactly, so equal good cells form one site.

    Hexagon vertices (and square edges for fractional cell sizes) were computed per cell,
    so neighbours were 1e-10 m apart, did not intersect, and one site came out as several.
    """
    from handwerkgeo.search import candidate_cells, merge_cells

    area = box(346_013.7, 5_676_021.3, 347_511.9, 5_677_233.1)
    cells = candidate_cells(area, cell_m=cell_m, shape=shape, min_cell_share=0.0)  # type: ignore[arg-type]
    surface = cells.assign(score_total=90.0, excluded=False)
    sites = merge_cells(surface, threshold=50.0, min_area_m2=0.0)
    assert len(sites) == 1
    assert sites["n_cells"].iloc[0] == len(cells)
    assert sites["area_m2"].iloc[0] == pytest.approx(area.area, rel=1e-9)
    assert isinstance(sites, gpd.GeoDataFrame)


# --- register add: the stale-register hint names the configuration ----------------------


def test_register_add_stale_hint_repeats_the_config(tmp_path, monkeypatch) -> None:
    """``register add --config X`` refused as stale must tell to rescore with ``--config X``.

    The hint said only ``register rescore --register REG``: run as printed, that re-scores
    with the packaged default, and the next ``add --config X`` is refused again.
    """
    from importlib import resources

    from typer.testing import CliRunner

    from handwerkgeo import register as reg_mod
    from handwerkgeo.cli import app

    cfg = tmp_path / "changed.yaml"
    cfg.write_text(
        (resources.files("handwerkgeo") / "configs" / "default.yaml").read_text("utf-8"),
        encoding="utf-8",
    )
    reg = tmp_path / "standorte.gpkg"

    def stale(*args, **kwargs):
        msg = (
            f"cannot add plots to {reg} incrementally: the configuration changed. Run "
            f"`handwerkgeo register rescore --register {reg}` first"
        )
        raise reg_mod.StaleRegisterError(msg)

    monkeypatch.setattr(reg_mod, "add_plots", stale)
    plots = tmp_path / "p.gpkg"
    plots.write_bytes(b"")
    result = CliRunner().invoke(
        app, ["register", "add", str(plots), "--register", str(reg), "--config", str(cfg)]
    )
    assert result.exit_code == 1
    assert f"--config {cfg}" in result.output
