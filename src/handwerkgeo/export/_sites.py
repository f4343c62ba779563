"""Candidate sites of a site search on the map and in a workbook.

The search (:func:`handwerkgeo.search.site_search`) merges adjacent good cells into
candidate sites of at most the maximum site area and keeps larger regions as search areas.
Here they become two map layers — the sites outlined with their label (``S-001`` …) and a
card (popup) each, the search areas dashed — and the sheets of the search workbook.
Every word comes from :mod:`handwerkgeo.messages` (German by default, English with
``lang="en"``); every value is escaped before it reaches the page.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from handwerkgeo.crs import check_crs
from handwerkgeo.export._leaflet import Raw, no_template
from handwerkgeo.export._mapdata import json_for_html
from handwerkgeo.messages import message
from handwerkgeo.spreadsheet import Sheet, write_xlsx

__all__ = [
    "AREA_HALO_M",
    "SiteLayer",
    "add_site_layers",
    "areas_table",
    "site_payload",
    "sites_table",
    "write_search_workbook",
]

#: The dashed outline of a search area runs this far outside its sites (metres).
AREA_HALO_M = 12.0

_SITE_COLOUR = "#c51b7d"  # magenta: stands out on the viridis score classes
_AREA_COLOUR = "#303030"

_CSS = """
.hwg-site-label{background:#fff;border:1px solid #c51b7d;border-radius:3px;
padding:0 3px;font:bold 11px/1.3 sans-serif;color:#7a0f4d;box-shadow:none;white-space:nowrap}
.hwg-site-label:before{display:none}
.hwg-site-label.hwg-site-hidden{visibility:hidden}
.hwg-site-card{font:12px/1.4 sans-serif;min-width:210px}
.hwg-site-card h4{margin:0 0 4px;font-size:13px}
.hwg-site-card table{border-collapse:collapse}
.hwg-site-card td{padding:1px 6px 1px 0;vertical-align:top}
.hwg-site-card p{margin:4px 0 0;color:#444}
"""


def _num(value: Any, lang: str, digits: int = 1) -> str:
    """``4,9`` in German, ``4.9`` in English; ``–`` for a missing value."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(x):
        return "–"
    text = f"{x:,.{digits}f}"
    if lang == "de":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def _latlngs(geom: shapely.Geometry) -> list[Any]:
    """Leaflet polygon coordinates ([lat, lng], 1e-5 degrees) of a (multi)polygon."""

    def ring(r: shapely.Geometry) -> list[list[float]]:
        return [[round(y, 5), round(x, 5)] for x, y in r.coords]

    def poly(p: shapely.Geometry) -> list[list[list[float]]]:
        return [ring(p.exterior), *(ring(i) for i in p.interiors)]

    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return poly(geom)
    return [poly(p) for p in getattr(geom, "geoms", []) if p.geom_type == "Polygon"]


def _search_values(frame: gpd.GeoDataFrame) -> tuple[float | None, float | None]:
    """Threshold and maximum site area of the search (attrs, or the columns of a file)."""
    info = frame.attrs.get("search", {})
    values = []
    for key in ("threshold", "max_site_m2"):
        v = info.get(key)
        if v is None and key in frame.columns and len(frame):
            v = frame[key].iloc[0]
        values.append(None if v is None or pd.isna(v) else float(v))
    return values[0], values[1]


def _max_text(max_m2: float | None, lang: str) -> str:
    if max_m2 is None:
        return message("search_setting_no_limit", lang)
    return _num(max_m2 / 10_000, lang, 1)


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _outlines(geoms: gpd.GeoSeries) -> list[list[Any]]:
    """Leaflet coordinates; collinear vertices of the merged cells dropped first."""
    plain = gpd.GeoSeries(shapely.simplify(geoms.to_numpy(), 0.0), crs=geoms.crs)
    return [_latlngs(g) for g in plain.to_crs("EPSG:4326")]


def _site_entries(sites: gpd.GeoDataFrame, lang: str) -> list[dict[str, Any]]:
    out = []
    for row, ll in zip(sites.itertuples(index=False), _outlines(sites.geometry), strict=True):
        values = [
            _text(getattr(row, "stadtteil_name", "")),
            f"{_num(row.area_m2 / 10_000, lang, 1)} ha",
            _num(row.score_mean, lang),
            _num(row.score_max, lang),
            str(int(row.n_cells)),
            _text(getattr(row, "search_area_id", "")),
        ]
        out.append({"id": str(row.site_id), "ll": ll, "v": values})
    return out


def _area_entries(areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, lang: str) -> list[Any]:
    _, max_m2 = _search_values(sites)
    halo = areas.geometry.buffer(AREA_HALO_M, join_style="mitre")
    out = []
    for row, ll in zip(areas.itertuples(index=False), _outlines(halo), strict=True):
        aid = str(row.search_area_id)
        members = sites.loc[sites["search_area_id"] == aid, "site_id"].astype(str).tolist()
        values = [
            _text(getattr(row, "stadtteil_name", "")),
            f"{_num(row.area_m2 / 10_000, lang, 1)} ha",
            _num(row.score_mean, lang),
            str(int(row.n_cells)),
        ]
        shown = ", ".join(members[:12]) + (" …" if len(members) > 12 else "")
        note = message(
            "search_area_card_note", lang, max=_max_text(max_m2, lang), n=len(members), sites=shown
        )
        out.append({"id": aid, "ll": ll, "v": values, "note": note})
    return out


def site_payload(
    sites: gpd.GeoDataFrame,
    search_areas: gpd.GeoDataFrame | None = None,
    *,
    lang: str = "de",
) -> dict[str, Any]:
    """The JSON document the site layers are drawn from.

    ``sites`` and ``areas``: per entry ``id`` (also its label), ``ll`` (Leaflet polygon
    coordinates) and ``v`` (the values of the card's rows, formatted for ``lang``); areas
    also ``note``. ``text``: the card's title, row labels and note, once. The page builds
    each card with ``textContent``, so no value is ever read as HTML. A search area's
    outline is drawn :data:`AREA_HALO_M` outside it, so that it stays visible around its
    sites.
    """
    check_crs(sites, name="sites")
    areas = search_areas if search_areas is not None else sites.iloc[:0]
    if len(areas):
        check_crs(areas, name="search areas")
    threshold, max_m2 = _search_values(sites)
    rows = ["site_card_stadtteil", "site_card_area", "site_card_score_mean"]
    return {
        "sites": _site_entries(sites, lang),
        "areas": _area_entries(areas, sites, lang) if len(areas) else [],
        "text": {
            "siteTitle": message("site_card_title", lang, id="{id}"),
            "siteRows": [
                message(k, lang)
                for k in (*rows, "site_card_score_max", "site_card_cells", "site_card_search_area")
            ],
            "siteNote": message(
                "site_card_note", lang, threshold=_num(threshold, lang), max=_max_text(max_m2, lang)
            ),
            "areaTitle": message("search_area_card_title", lang, id="{id}"),
            "areaRows": [message(k, lang) for k in (*rows, "site_card_cells")],
        },
        "colours": {"site": _SITE_COLOUR, "area": _AREA_COLOUR},
    }


class _SiteData(MacroElement):
    """Embeds the site payload once (raw, never rendered as a template) and the CSS."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "HwgSiteData"
        self.tag = (
            f'<script type="application/json" id="hwg-sites-data">{json_for_html(payload)}</script>'
        )

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        figure.html.add_child(Raw(self.tag), name="hwg_sites_data")  # type: ignore[attr-defined]
        figure.header.add_child(Raw(f"<style>{_CSS}</style>"), name="hwg_sites_css")  # type: ignore[attr-defined]
        return super().render(**kwargs)


class SiteLayer(Layer):
    """The candidate sites (``kind="sites"``) or search areas (``"areas"``) as a layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (map, kind) {
          var d = JSON.parse(document.getElementById("hwg-sites-data").textContent);
          if (!map.getPane("hwgSites")) {
            map.createPane("hwgSites").style.zIndex = 450;
          }
          var renderer = L.svg({ pane: "hwgSites" });
          var group = L.featureGroup();
          var isSite = kind === "sites";
          var style = isSite
            ? { color: d.colours.site, weight: 2, fillColor: d.colours.site, fillOpacity: 0.12 }
            : { color: d.colours.area, weight: 2, dashArray: "5 5", fill: false };
          var labels = [];
          var t = d.text;
          var el = function (tag, text, parent) {
            var e = document.createElement(tag);
            if (text !== null) e.textContent = text;  // never read as HTML
            if (parent) parent.appendChild(e);
            return e;
          };
          var card = function (s, site) {
            var div = el("div", null);
            div.className = "hwg-site-card";
            el("h4", (site ? t.siteTitle : t.areaTitle).replace("{id}", s.id), div);
            var table = el("table", null, div);
            (site ? t.siteRows : t.areaRows).forEach(function (label, i) {
              if (!s.v[i]) return;
              var tr = el("tr", null, table);
              el("td", label, tr);
              el("b", s.v[i], el("td", null, tr));
            });
            el("p", site ? t.siteNote : s.note, div);
            return div;
          };
          (isSite ? d.sites : d.areas).forEach(function (s) {
            var opts = Object.assign({ pane: "hwgSites", renderer: renderer }, style);
            var p = L.polygon(s.ll, opts).bindPopup(function () {
              return card(s, isSite);
            }, { maxWidth: 320 });
            p.options.hwgId = s.id;
            if (isSite) {
              p.bindTooltip(s.id, {
                permanent: true,
                interactive: true,
                direction: "center",
                className: "hwg-site-label",
              });
              labels.push(p);
            } else {
              p.bindTooltip(s.id, { sticky: true });
            }
            group.addLayer(p);
          });
          if (isSite) {
            // Best first: a label that would overlap a better site's label is hidden until
            // the planner zooms in far enough for both (its outline stays on the map).
            var declutter = function () {
              if (!map.hasLayer(group)) return;
              var kept = [];
              labels.forEach(function (p) {
                var tip = p.getTooltip() && p.getTooltip().getElement();
                if (!tip) return;
                tip.classList.remove("hwg-site-hidden");
                var r = tip.getBoundingClientRect();
                var hit = kept.some(function (k) {
                  return r.left < k.right + 2 && r.right + 2 > k.left &&
                    r.top < k.bottom + 2 && r.bottom + 2 > k.top;
                });
                if (hit) tip.classList.add("hwg-site-hidden");
                else kept.push(r);
              });
            };
            map.on("zoomend moveend", declutter);
            group.on("add", function () { setTimeout(declutter, 0); });
            setTimeout(declutter, 0);
          }
          window.hwgSites = window.hwgSites || {};
          window.hwgSites[kind] = group;  // for tests and scripts: the layer by kind
          return group;
        })({{ this._parent.get_name() }}, {{ this.kind|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, kind: str, name: str, *, show: bool = True) -> None:
        super().__init__(name=no_template(name), overlay=True, control=True, show=show)
        self._name = "HwgSiteLayer"
        self.kind = kind


def add_site_layers(
    m: Any,
    sites: gpd.GeoDataFrame | None,
    search_areas: gpd.GeoDataFrame | None = None,
    *,
    lang: str = "de",
) -> None:
    """Add the candidate sites (and the search areas) of a search to a folium map.

    Nothing is added when ``sites`` is ``None``; an empty frame adds an empty layer (the
    legend then says "0"), so the planner sees that the search found no site.
    """
    if sites is None:
        return
    payload = site_payload(sites, search_areas, lang=lang)
    m.add_child(_SiteData(payload))
    if payload["areas"]:
        _, max_m2 = _search_values(sites)
        name = message(
            "search_area_layer", lang, max=_max_text(max_m2, lang), n=len(payload["areas"])
        )
        m.add_child(SiteLayer("areas", name, show=True))
    m.add_child(SiteLayer("sites", message("site_layer", lang, n=len(payload["sites"]))))


# --- tables --------------------------------------------------------------------------------


def sites_table(sites: gpd.GeoDataFrame, *, lang: str = "de") -> pd.DataFrame:
    """The candidate sites as a table with headers in ``lang`` (one row per site)."""
    pts = sites.geometry.representative_point()
    cols = {
        "col_site_id": sites["site_id"].astype(str),
        "col_stadtteil": sites.get("stadtteil_name", pd.Series("", index=sites.index)),
        "col_area_ha": (sites["area_m2"] / 10_000).round(2),
        "col_score_mean": sites["score_mean"].astype(float).round(1),
        "col_score_max": sites["score_max"].astype(float).round(1),
        "col_n_cells": sites["n_cells"].astype(int),
        "col_search_area_id": sites.get("search_area_id", pd.Series("", index=sites.index)),
        "col_x": pts.x.round(0),
        "col_y": pts.y.round(0),
        "col_cell_ids": sites["cell_ids"].astype(str),
    }
    return pd.DataFrame({message(k, lang): v.to_numpy() for k, v in cols.items()})


def areas_table(areas: gpd.GeoDataFrame, *, lang: str = "de") -> pd.DataFrame:
    """The search areas (regions above the maximum site area) with headers in ``lang``."""
    pts = areas.geometry.representative_point()
    cols = {
        "col_search_area_id": areas["search_area_id"].astype(str),
        "col_stadtteil": areas.get("stadtteil_name", pd.Series("", index=areas.index)),
        "col_area_ha": (areas["area_m2"] / 10_000).round(2),
        "col_score_mean": areas["score_mean"].astype(float).round(1),
        "col_score_max": areas["score_max"].astype(float).round(1),
        "col_n_cells": areas["n_cells"].astype(int),
        "col_n_sites": areas["n_sites"].astype(int),
        "col_x": pts.x.round(0),
        "col_y": pts.y.round(0),
    }
    return pd.DataFrame({message(k, lang): v.to_numpy() for k, v in cols.items()})


def write_search_workbook(
    result: Any, path: str | os.PathLike[str], *, cell_m: float, lang: str = "de"
) -> Path:
    """Write the sites, the search areas and the search settings as one XLSX, atomically.

    ``result`` is a :class:`handwerkgeo.search.SearchResult`.
    """
    areas = result.search_areas if result.search_areas is not None else result.sites.iloc[:0]
    max_m2 = result.max_site_m2
    settings = pd.DataFrame(
        {
            message("col_setting", lang): [
                message(k, lang)
                for k in (
                    "search_setting_area",
                    "search_setting_cells",
                    "search_setting_cell_m",
                    "search_setting_threshold",
                    "search_setting_max_site",
                )
            ],
            message("col_value", lang): [
                result.area_label,
                str(len(result.surface)),
                _num(cell_m, lang, 0),
                _num(result.threshold, lang),
                _max_text(max_m2, lang),
            ],
        }
    )
    sheets = [
        (message("sites_sheet", lang), sites_table(result.sites, lang=lang)),
        (
            message("search_areas_sheet", lang),
            areas_table(areas, lang=lang)
            if len(areas)
            else pd.DataFrame({message("col_search_area_id", lang): []}),
        ),
        (message("search_sheet", lang), settings),
    ]
    # every sheet prints: A4 landscape, one page wide, header repeated, frozen, filtered
    return write_xlsx(path, [Sheet(name, frame) for name, frame in sheets])
