"""The candidate-site layer in Debian Chromium (network blocked): labels, cards, escaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_site_card_shows_values_as_text(browser: Any, tmp_path: Path) -> None:
    """A Stadtteil name with HTML in it is shown as text on the card, never run."""
    from test_export_maps import make_scored
    from test_sites import _result

    from handwerkgeo.export.maps import export_map

    res = _result(['<img src=x onerror="window.hwgPwned=1">'])
    path = export_map(
        make_scored(4), tmp_path / "k.html", sites=res.sites, search_areas=res.search_areas
    )
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    blocked: list[str] = []
    page.route(
        "**/*",
        lambda r: (
            r.continue_()
            if r.request.url.startswith("file:")
            else (blocked.append(r.request.url), r.abort())
        ),
    )
    page.goto(path.as_uri())
    page.wait_for_function("window.hwgReady === true || window.hwgError", timeout=30_000)
    page.evaluate(
        """() => {
            var s = window.hwgSites.sites.getLayers().find(l => l.options.hwgId === "S-001");
            hwg.map.setView(s.getBounds().getCenter(), 16, {animate: false});
            s.openPopup();
        }"""
    )
    page.wait_for_selector(".hwg-site-card", timeout=10_000)
    card = page.inner_text(".hwg-site-card")
    assert "Standortvorschlag S-001" in card
    assert '<img src=x onerror="window.hwgPwned=1">' in card
    assert page.locator(".hwg-site-card img").count() == 0
    assert page.evaluate("window.hwgPwned || null") is None
    assert page.locator(".hwg-site-label").count() == len(res.sites)
    assert not blocked
    page.close()
