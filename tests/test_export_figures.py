"""Tests of the print figure (A4 landscape PNG/PDF)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Text
from test_export_maps import make_scored, make_stadtteile

from handwerkgeo.errors import ConfigError, UnexpectedCrsError
from handwerkgeo.export._labels import CLASS_COLOURS, COLOUR_EXCLUDED
from handwerkgeo.export.figures import export_figure, render_figure, score_colours


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_png_is_a4_landscape_at_requested_dpi(tmp_path: Path) -> None:
    out = export_figure(
        make_scored(12), tmp_path / "karte.png", stadtteile=make_stadtteile(), dpi=100
    )
    img = imread(out)
    assert img.shape[:2] == (827, 1169)  # 8.27 × 11.69 in at 100 dpi
    # the best plot's class colour (80–100) is in the image
    rgb = np.round(img[..., :3] * 255).astype(int).reshape(-1, 3)
    best = tuple(int(CLASS_COLOURS[4][i : i + 2], 16) for i in (1, 3, 5))
    assert (np.abs(rgb - best).sum(axis=1) <= 3).any()


def test_pdf_page_is_a4_landscape(tmp_path: Path) -> None:
    out = export_figure(make_scored(6), tmp_path / "karte.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box is not None
    assert float(box.group(1)) == pytest.approx(11.69 * 72, abs=1)
    assert float(box.group(2)) == pytest.approx(8.27 * 72, abs=1)


def test_figure_content_title_legend_scale_north_footer() -> None:
    fig = render_figure(
        make_scored(12), stadtteile=make_stadtteile(), top_n=5, title="Ratsvorlage $5 <x>"
    )
    texts = _texts(fig)
    assert "Ratsvorlage $5 <x>" in texts  # shown literally (no mathtext, no HTML)
    assert "N" in texts  # north arrow
    assert "0" in texts and any(re.fullmatch(r"\d+ m|[\d,]+ km", t) for t in texts)  # scale bar
    assert {"1", "2", "3", "4", "5"} <= set(texts) and "6" not in texts  # top 5 ranks only
    assert "Altstadt" in texts
    footer = next(t for t in texts if t.startswith("Erstellt"))
    assert "abc123def456" in footer and "© OpenStreetMap contributors" in footer
    assert "dl-de/zero-2.0" in footer
    legend = fig.axes[1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:5] == ["80–100", "60–80", "40–60", "20–40", "0–20"]
    assert "ausgeschlossen" in labels and legend.get_title().get_text() == "Gesamtpunktzahl (0–100)"


def test_scale_bar_length_matches_metres() -> None:
    fig = render_figure(make_scored(12))
    ax = fig.axes[0]
    bars = [p for p in ax.patches if type(p).__name__ == "Rectangle" and p.get_height() > 0]
    total = sum(p.get_width() for p in bars[-2:])
    label = [t for t in _texts(fig) if re.fullmatch(r"\d+ m|[\d,]+ km", t)][-1]
    value = float(label.split()[0].replace(",", ".")) * (1000 if label.endswith("km") else 1)
    assert total == pytest.approx(value)


def test_colours_excluded_grey_and_english(tmp_path: Path) -> None:
    scored = make_scored(5)
    colours = score_colours(scored)
    assert colours[1] == COLOUR_EXCLUDED and colours[0] == CLASS_COLOURS[4]
    fig = render_figure(scored, lang="en")
    assert "Site scoring for craft-business yards, Düsseldorf" in _texts(fig)


def test_bad_inputs(tmp_path: Path) -> None:
    scored = make_scored(3)
    with pytest.raises(ConfigError, match=r"\.png or \.pdf"):
        export_figure(scored, tmp_path / "x.svgz")
    with pytest.raises(UnexpectedCrsError):
        export_figure(scored.to_crs("EPSG:4326"), tmp_path / "x.png")
    scored.loc["P001", "geometry"] = None
    export_figure(scored, tmp_path / "x.png", dpi=50)  # a missing geometry is skipped, not fatal
    assert (tmp_path / "x.png").exists()
