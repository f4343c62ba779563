"""Tests of the offline base map, print layouts, symbols and words of the exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from matplotlib.transforms import Bbox
from shapely.geometry import LineString, box
from test_export_maps import make_scored, make_stadtteile

from handwerkgeo.crs import CRS
from handwerkgeo.errors import ConfigError, MissingColumnError
from handwerkgeo.export._labels import format_timestamp
from handwerkgeo.export._profile_pdf import symbol_notes
from handwerkgeo.export.basemap import (
    BaseMap,
    base_map_payload,
    load_base_map,
    street_classes,
)
from handwerkgeo.export.figures import export_figure, render_figure
from handwerkgeo.export.maps import export_map, map_payload
from handwerkgeo.export.overlays import MapOverlay, overlay_payload
from handwerkgeo.export.profiles import export_profiles


def _lines(ids: list[str], lts: list[int], x0: float = 344_000) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"way_id": ids, "name": [f"Straße {i}" for i in ids], "lts": lts},
        geometry=[
            LineString([(x0 + 50 * k, 5_677_000), (x0 + 50 * k + 400, 5_677_300)])
            for k in range(len(ids))
        ],
        crs=CRS,
    )


def small_base_map() -> BaseMap:
    main = _lines(["1", "2"], [4, 4])
    central = _lines(["2", "3", "4", "5"], [4, 3, 1, 0], x0=344_100)
    bezirke = gpd.GeoDataFrame(
        {"bezirk_code": ["01"], "bezirk_name": ["Stadtbezirk 1"]},
        geometry=[box(343_800, 5_676_800, 345_200, 5_678_000)],
        crs=CRS,
    )
    return BaseMap(
        streets=street_classes(main, central),
        stadtteile=make_stadtteile(),
        bezirke=bezirke,
        sources=(
            {"name": "OSM", "licence": "ODbL 1.0", "attribution": "© OpenStreetMap contributors"},
        ),
    )


def test_street_classes_keep_a_main_road_once_and_class_the_rest() -> None:
    streets = street_classes(_lines(["1", "2"], [4, 4]), _lines(["2", "3", "4"], [4, 2, 0]))
    assert streets is not None
    assert sorted(streets["road_class"]) == ["main", "main", "minor", "street"]
    assert street_classes(None, None) is None


def test_base_map_payload_encodes_each_class_and_bezirke() -> None:
    payload = base_map_payload(small_base_map())
    assert set(payload["streets"]) == {"main", "street", "minor"}
    assert len(payload["streets"]["main"]) == 2  # way 2 is not drawn twice
    assert payload["minZoom"]["main"] < payload["minZoom"]["street"] < payload["minZoom"]["minor"]
    assert payload["bezirke"]["name"] == ["Stadtbezirk 1"]
    first = payload["streets"]["main"][0]
    assert all(isinstance(v, int) for v in first) and len(first) % 2 == 0


def test_map_with_base_map_has_lang_attribution_and_its_quarters(tmp_path: Path) -> None:
    bm = small_base_map()
    payload = map_payload(make_scored(6), base_map=bm)
    assert "© OpenStreetMap contributors" in payload["attributions"]
    assert payload["ctx"]["stadtteile"]["name"]  # the base map's Stadtteile when none given
    assert payload["base"]["streets"]["main"]
    out = export_map(make_scored(6), tmp_path / "m.html", base_map=bm, lang="en")
    head = out.read_text(encoding="utf-8")[:300]
    assert re.search(r'<html lang="en"', head)
    assert '<html lang="de"' in export_map(make_scored(6), tmp_path / "d.html").read_text(
        encoding="utf-8"
    )


def test_one_date_format_per_language() -> None:
    assert format_timestamp("2026-03-01T09:00:00", "de") == "01.03.2026, 09:00"
    assert format_timestamp("2026-03-01T09:00:00", "en") == "2026-03-01 09:00"
    assert format_timestamp("not a date", "de") == "not a date"
    payload = map_payload(make_scored(4))
    dates = re.findall(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}", payload["titleHtml"])
    assert len(dates) == 2  # created and scored, both in the German format
    assert not re.search(r"\d{4}-\d{2}-\d{2}", payload["titleHtml"])


def test_overlay_payload_and_its_errors() -> None:
    sites = gpd.GeoDataFrame(
        {"site_id": ["S-001"], "area_ha": [1.5]},
        geometry=[box(344_000, 5_677_000, 344_100, 5_677_100)],
        crs=CRS,
    )
    ov = MapOverlay("Standorte", sites, label_column="site_id", card_columns=[("area_ha", "ha")])
    p = overlay_payload(ov)
    assert p["label"] == ["S-001"] and p["rows"] == [["1.5"]] and p["geom"][0]
    with pytest.raises(MissingColumnError, match="nope"):
        overlay_payload(MapOverlay("x", sites, label_column="nope"))


def _inside(inner: Bbox, outer: Bbox) -> bool:
    return (
        inner.x0 >= outer.x0 - 0.5
        and inner.x1 <= outer.x1 + 0.5
        and inner.y0 >= outer.y0 - 0.5
        and inner.y1 <= outer.y1 + 0.5
    )


@pytest.mark.parametrize(
    ("paper", "orientation", "size"),
    [("A4", "landscape", (11.69, 8.27)), ("A3", "portrait", (11.69, 16.54))],
)
def test_print_figure_frames_plots_with_locator_and_uncut_labels(
    paper: str, orientation: str, size: tuple[float, float]
) -> None:
    scored = make_scored(12)
    fig = render_figure(
        scored, base_map=small_base_map(), top_n=8, paper=paper, orientation=orientation
    )
    assert tuple(fig.get_size_inches()) == pytest.approx(size)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax, _legend, loc = fig.axes
    frame = ax.get_window_extent(renderer)
    # the plots fill the frame: their extent takes most of the width or height
    b = scored.total_bounds
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert max((b[2] - b[0]) / (x1 - x0), (b[3] - b[1]) / (y1 - y0)) > 0.75
    texts = [t for t in ax.texts if t.get_text()]
    for t in texts:
        assert _inside(t.get_window_extent(renderer), frame), t.get_text()
    ranks = [t for t in texts if re.fullmatch(r"\d+", t.get_text()) and t.get_text() != "0"]
    assert len(ranks) == 8
    boxes = [r.get_window_extent(renderer) for r in ranks]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (ranks[i].get_text(), ranks[j].get_text())
    # base map lines beneath, a red frame on the city in the locator
    assert len(ax.collections) > 3
    assert any(
        p.get_edgecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=0.01) for p in loc.patches
    )
    assert loc.get_title(loc="left") == "Lage im Stadtgebiet"


def test_print_figure_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="paper"):
        export_figure(make_scored(3), tmp_path / "x.pdf", paper="A5")
    out = export_figure(make_scored(3), tmp_path / "x.pdf", paper="A3", orientation="portrait")
    data = out.read_bytes()
    mb = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert mb is not None
    assert (float(mb.group(1)), float(mb.group(2))) == pytest.approx((841.7, 1190.9), abs=1)


def test_profile_explains_every_symbol_and_names_owners(tmp_path: Path) -> None:
    scored = make_scored(12)
    res = export_profiles(scored, tmp_path / "p", base_map=small_base_map())
    html_4 = (tmp_path / "p" / "P004.html").read_text(encoding="utf-8")  # transit fallback
    assert "2.351" in html_4 or " *" in html_4
    assert "* Ersatzwert: Entfernung als Luftlinie" in html_4
    html_3 = (tmp_path / "p" / "P003.html").read_text(encoding="utf-8")  # no zoning, land value
    assert "– kein Wert" in html_3
    owners = " ".join(p.read_text(encoding="utf-8") for p in res["html"])
    assert "städtisch (Landeshauptstadt)" in owners and ">city<" not in owners
    assert symbol_notes([["a", "1", "5 m *", "0,5", "1,0"]], "en")[0].startswith("* fallback")
    assert symbol_notes([["a", "1", "x", "–", "0,0"]], "de") == [
        "– kein Wert (für dieses Kriterium liegen keine Daten vor)"
    ]
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(tmp_path / "p" / "P003.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Fehlende Kriterien: Zoning, Land Value" in text
        assert "…" not in text.split("Fehlende Kriterien")[1].split("\n")[0]
        assert re.search(r"–\s+kein Wert", text)


def test_load_base_map_from_fetched_data(fetched_data_dir: Path) -> None:
    bm = load_base_map(fetched_data_dir)
    assert bm.streets is not None and not bm.is_empty
    counts = bm.streets["road_class"].value_counts()
    assert counts["main"] > 1_000 and counts["street"] > 1_000 and counts["minor"] > 1_000
    assert bm.bezirke is not None and len(bm.bezirke) == 10
    layers = {s["layer"] for s in bm.sources}
    assert {"osm_main_roads_city", "osm_streets_central", "stadtteile"} <= layers
    assert "© OpenStreetMap contributors" in {s["attribution"] for s in bm.sources}


def test_osm_tiles_on_request_with_attribution(tmp_path: Path) -> None:
    out = export_map(make_scored(4), tmp_path / "t.html", basemap="osm", base_map=small_base_map())
    text = out.read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in text
    assert "© OpenStreetMap contributors" in text
    plain = export_map(make_scored(4), tmp_path / "p.html", base_map=small_base_map())
    assert "tile.openstreetmap.org" not in plain.read_text(encoding="utf-8")
