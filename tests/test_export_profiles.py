"""Tests of the site profiles (Standortsteckbriefe)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from shapely.geometry import Point
from test_export_maps import XSS, make_scored, make_stadtteile

from handwerkgeo.errors import ValidationError
from handwerkgeo.export.profiles import export_profiles, profile_filename


def test_profiles_html_pdf_and_index(tmp_path: Path) -> None:
    res = export_profiles(make_scored(12), tmp_path / "sb", stadtteile=make_stadtteile(), top_n=3)
    assert [p.name for p in res["html"]] == ["P000.html", "P010.html", "P011.html"] or len(
        res["html"]
    ) == 3
    assert len(res["pdf"]) == 3
    first = res["html"][0].read_text(encoding="utf-8")
    assert "Standortsteckbrief" in first and "Gesamtpunktzahl" in first and "Rang" in first
    assert "1 von 10" in first
    assert "Stadtteil: Altstadt" in first
    assert "Flächengröße" in first and "m²" in first
    assert "© OpenStreetMap contributors" in first and "abc123def456" in first
    # images inline, no remote or local resource other than the index link
    assert len(re.findall(r'src="data:image/png;base64,', first)) == 2
    assert re.findall(r'(?:src|href)="(?!data:)([^"]+)"', first) == ["index.html"]
    assert "http://" not in first and "https://" not in first
    index = res["index"].read_text(encoding="utf-8")
    for p in res["html"] + res["pdf"]:
        assert f'href="{p.name}"' in index
    pdf = res["pdf"][0].read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Count 1" in pdf  # one page
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box is not None
    assert float(box.group(1)) == pytest.approx(8.27 * 72, abs=1)
    assert float(box.group(2)) == pytest.approx(11.69 * 72, abs=1)


def test_profiles_escape_hostile_and_awkward_values(tmp_path: Path) -> None:
    scored = make_scored(10)
    scored.loc["P001", "plot_id"] = "P001"  # excluded, reason contains a script tag
    scored.loc["P005", "geometry"] = Point(344_700, 5_677_200)
    scored.loc["P006", "geometry"] = None
    res = export_profiles(scored, tmp_path, pdf=True)
    assert len(res["html"]) == 10
    texts = {p.stem: p.read_text(encoding="utf-8") for p in res["html"]}
    assert XSS not in texts["P000"] and "&lt;img src=x onerror=alert(1)&gt;" in texts["P000"]
    assert "<script>alert(2)" not in texts["P002"]
    assert (
        "Ausgeschlossen" in texts["P002"]
        and "&lt;script&gt;alert(2)&lt;/script&gt;" in texts["P002"]
    )
    assert "{{ 7*7 }} Jinja {% if %}" in texts["P002"]  # shown, not evaluated
    assert "Höher Weg &#34;Süd&#34; &amp; &#39;Nord&#39;" in "".join(texts.values())
    assert "keine Daten" in texts["P003"]  # missing zoning and land value
    assert "<script" not in "".join(texts.values())


def test_profile_limits_and_names(tmp_path: Path) -> None:
    scored = make_scored(6)
    with pytest.raises(ValidationError, match="max_profiles"):
        export_profiles(scored, tmp_path, max_profiles=3)
    res = export_profiles(scored, tmp_path / "nopdf", pdf=False, top_n=2, lang="en")
    assert res["pdf"] == [] and len(res["html"]) == 2
    assert "Site profile" in res["html"][0].read_text(encoding="utf-8")
    taken: set[str] = set()
    assert profile_filename("a/b", taken) == "a_b"
    assert profile_filename("a?b", taken) == "a_b-2"
    assert profile_filename("../../etc/passwd") == "______etc_passwd"
