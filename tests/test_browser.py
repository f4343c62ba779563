"""Open exported offline maps in headless Debian Chromium with the network blocked.

Skipped only when /usr/bin/chromium is missing and HANDWERKGEO_REQUIRE_MIRROR is unset;
in CI (variable set) a missing browser fails. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_export_maps import XSS, make_cycling, make_scored, make_stadtteile, make_stops

from handwerkgeo.export.maps import export_map

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


class Opened:
    """A page opened from file:// with every other request blocked and recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1300, "height": 850})
        self.console_errors: list[str] = []
        self.blocked: list[str] = []
        self.dialogs: list[str] = []
        self.page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.hwgReady === true || window.hwgError", timeout=30_000)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def click_plot(self, index: int) -> str:
        """Click the centre of plot ``index`` on the map and return the popup's text."""
        x, y = self.page.evaluate(
            """(i) => {
                var lyr = hwg.layers.score.getLayers().find(l => l.options.hwgIndex === i);
                hwg.map.closePopup();
                // a closed popup fades out for 200 ms: drop it now so that the wait below
                // cannot read the previous card
                document.querySelectorAll(".leaflet-popup").forEach((e) => e.remove());
                hwg.map.setView(lyr.getBounds().getCenter(), hwg.map.getZoom(), {animate: false});
                var p = hwg.map.latLngToContainerPoint(lyr.getBounds().getCenter());
                var r = hwg.map.getContainer().getBoundingClientRect();
                return [p.x + r.left, p.y + r.top];
            }""",
            index,
        )
        # the rank marker sits on the plot's centre; click beside it, inside the plot
        self.page.mouse.click(x + 14, y + 14)
        self.page.wait_for_selector(".leaflet-popup-content", timeout=20_000)
        return str(self.page.inner_text(".leaflet-popup-content"))

    def close(self) -> None:
        self.page.close()


def _export(tmp_path: Path, **kwargs: Any) -> Path:
    return export_map(
        make_scored(12),
        tmp_path / "karte.html",
        stadtteile=make_stadtteile(),
        stops=make_stops(),
        cycling=make_cycling(),
        **kwargs,
    )


@pytest.mark.parametrize("compress", [False, True], ids=["json", "deflate"])
def test_offline_map_renders_without_network(browser: Any, tmp_path: Path, compress: bool) -> None:
    page = Opened(browser, _export(tmp_path, compress=compress))
    try:
        assert page.page.evaluate("window.hwgError || null") is None
        assert page.page.locator(".leaflet-container").count() == 1
        assert page.page.locator("canvas").count() >= 1  # canvas renderer (prefer_canvas)
        assert page.page.evaluate("hwg.layers.score.getLayers().length") == 12
        # top-N: 10 plots ranked (2 excluded) → 10 outlines + 10 rank markers
        assert page.page.locator(".hwg-rank").count() == 10
        # layer control: score, 15 criteria, top 10, Stadtteile, cycling, stops
        assert page.page.locator(".leaflet-control-layers-selector").count() == 20
        assert page.page.locator(".hwg-legend").count() == 1
        assert "Landeshauptstadt Düsseldorf" in page.page.inner_text(".leaflet-control-attribution")
        assert "© OpenStreetMap contributors" in page.page.inner_text(
            ".leaflet-control-attribution"
        )
        assert "abc123def456" in page.page.inner_text(".hwg-title")
        # no link to the web anywhere in the rendered page (Leaflet's prefix link removed)
        assert page.page.locator("a[href^='http']").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / f"map_offline_{compress}.png"))
        assert page.console_errors == []
        assert page.blocked == []
    finally:
        page.close()


def test_click_opens_german_score_card_and_escapes_html(browser: Any, tmp_path: Path) -> None:
    page = Opened(browser, _export(tmp_path))
    try:
        text = page.click_plot(0)  # plot 0 is named like an XSS attack
        assert "Gesamtpunktzahl" in text and "Rang" in text
        assert "1 von 10" in text
        assert XSS in text  # shown literally as text
        assert "Flächengröße" in text and "m²" in text
        assert "Kriterium" in text and "Beitrag (Punkte)" in text
        assert page.page.locator(".leaflet-popup-content img").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "map_score_card.png"))
        # an excluded plot shows its (escaped) reason
        page.page.evaluate("hwg.map.closePopup()")
        text2 = page.click_plot(2)
        assert "Ausgeschlossen" in text2 and "<script>alert(2)</script>" in text2
        # stops tooltip with a hostile name is text too
        page.page.evaluate("hwg.map.addLayer(hwg.layers.stops)")
        page.page.evaluate(
            "hwg.layers.stops.getLayers().forEach(l => l.openTooltip())",
        )
        assert XSS in page.page.inner_text(".leaflet-tooltip-pane")
        assert page.dialogs == []
        assert page.console_errors == []
        assert page.blocked == []
    finally:
        page.close()


def test_criterion_layer_and_english_card(browser: Any, tmp_path: Path) -> None:
    page = Opened(browser, _export(tmp_path, lang="en"))
    try:
        page.page.locator(".leaflet-control-layers").hover()
        page.page.get_by_text("Utility: transit", exact=True).click(timeout=5_000)
        assert page.page.evaluate("hwg.layers.utility[7].getLayers().length") == 12
        page.page.evaluate("hwg.map.removeLayer(hwg.layers.utility[7])")
        text = page.click_plot(3)
        assert "Total score" in text and "Rank" in text and "no data" in text
        assert "Missing criteria" in text
        assert page.console_errors == [] and page.blocked == []
    finally:
        page.close()


def test_html_has_no_remote_resource_reference(tmp_path: Path) -> None:
    text = _export(tmp_path).read_text(encoding="utf-8")
    script_src = re.findall(r"<script[^>]*\ssrc\s*=\s*[\"']?([^\"' >]+)", text, re.I)
    link_href = re.findall(r"<link[^>]*\shref\s*=\s*[\"']?([^\"' >]+)", text, re.I)
    css_urls = re.findall(r"url\(\s*[\"']?([^\"')]+)", text, re.I)
    remote = [u for u in script_src + link_href + css_urls if re.match(r"(https?:)?//", u)]
    assert remote == []
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", text, re.S | re.I))
    style_urls = re.findall(r"url\(\s*[\"']?([^\"')]+)", styles, re.I)
    assert style_urls and all(u.startswith(("data:", "#")) for u in style_urls)  # inlined
