"""QGIS styles (QML, and SLD for other clients) for the layers the project writes.

A layer with a score (``score_total``, or ``score_mean`` for candidate sites) gets a
graduated renderer with the classed colour scale of the maps (:mod:`handwerkgeo._colours`:
five classes on the breaks 0-20-40-60-80-100, excluded plots grey, plots without data
white, the same legend labels), German (or English) field aliases and the score card as
map tip; any other layer (the register's plots) a single outline symbol with aliases and
a map tip. Every word comes from :mod:`handwerkgeo.messages` (codes ``field_*`` and
``qgis_*``).

The renderer classifies on an expression that puts each feature in the class the maps
give it (``score < 20`` → class 0 …, like ``export._labels.class_index``): QGIS ranges
include both their bounds, so ranges on the score itself would put a score of exactly 20
in the lower class.

Use :func:`layer_styles` for a frame and store the result with
:func:`handwerkgeo._gpkg.add_styles`.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from handwerkgeo._colours import CLASS_BREAKS, CLASS_COLOURS, COLOUR_EXCLUDED, COLOUR_NO_DATA
from handwerkgeo._gpkg import LayerStyle
from handwerkgeo.errors import ParameterError
from handwerkgeo.messages import LANGS, message

__all__ = ["GeometryKind", "geometry_kind", "layer_styles", "score_field", "style_name"]

GeometryKind = Literal["polygon", "point", "line"]

#: The QGIS version whose QML this module writes (what Debian 12 ships).
QGIS_VERSION = "3.22.16-Białowieża"
#: Fields classed by the graduated renderer, in order of preference.
SCORE_FIELDS = ("score_total", "score_mean")
_GEOMETRY_TYPE = {"point": "0", "line": "1", "polygon": "2"}
#: From this many features a polygon layer is drawn with faint outlines (grid cells).
_MANY = 5000


def style_name(lang: str) -> str:
    """The ``styleName`` of the style in ``lang`` (``handwerkgeo`` for German)."""
    return "handwerkgeo" if lang == "de" else f"handwerkgeo ({lang})"


def score_field(columns: Any) -> str | None:
    """The field a layer is classed on, ``None`` for a layer without a score."""
    return next((f for f in SCORE_FIELDS if f in set(columns)), None)


def geometry_kind(frame: pd.DataFrame) -> GeometryKind | None:
    """``polygon``, ``point`` or ``line`` for the most common geometry of ``frame``."""
    geometry = getattr(frame, "geometry", None) if hasattr(frame, "crs") else None
    if geometry is None:
        return None
    types = geometry.geom_type.dropna().str.replace("Multi", "").value_counts()
    if types.empty:
        return "polygon"
    top = str(types.index[0])
    return "point" if top == "Point" else "line" if top == "LineString" else "polygon"


def layer_styles(
    frame: pd.DataFrame,
    table: str,
    *,
    criteria: Mapping[str, Mapping[str, Any]] | None = None,
    geometry: GeometryKind | None = None,
    lang: str = "de",
) -> list[LayerStyle]:
    """The QGIS styles of the layer ``table`` written from ``frame``: one per language.

    The style in ``lang`` is the default (``useAsDefault``); the other language is stored
    beside it for the style manager. ``criteria`` are the run's criterion metadata
    (``attrs["run"]["criteria"]``: ``label_de``, ``label_en``, ``unit``) for the aliases
    and the score card; ``geometry`` is needed for an empty frame (read from the frame
    otherwise). A frame without geometry gets aliases only.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> f = gpd.GeoDataFrame({"score_total": [55.0]}, geometry=[box(0, 0, 1, 1)],
    ...                      crs="EPSG:25832")
    >>> [(s.name, s.default) for s in layer_styles(f, "scores")]
    [('handwerkgeo', True), ('handwerkgeo (en)', False)]
    """
    if lang not in LANGS:
        msg = f"lang={lang!r} is not supported for the QGIS styles; use one of {', '.join(LANGS)}"
        raise ParameterError(msg)
    kind = geometry or geometry_kind(frame)
    out = []
    for code in (lang, *[x for x in LANGS if x != lang]):
        field = score_field(frame.columns)
        description = (
            message("qgis_style_plots", code)
            if field is None
            else message("qgis_style_scores", code, field=_alias(field, code, {}))
        )
        out.append(
            LayerStyle(
                table=table,
                qml=_qml(frame, kind, criteria or {}, code),
                sld=_sld(table, frame, kind, code) if kind else "",
                name=style_name(code),
                description=description,
                default=code == lang,
            )
        )
    return out


# --- field aliases ---------------------------------------------------------------------------


def _criterion_label(key: str, lang: str, criteria: Mapping[str, Mapping[str, Any]]) -> str:
    info = criteria.get(key) or {}
    return str(info.get(f"label_{lang}") or key)


def _alias(column: str, lang: str, criteria: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The alias of ``column`` in ``lang``, ``None`` for a column without one."""
    m = re.match(r"^(raw|u|contrib|fallback)_(.+)$", column)
    if m:
        unit = str((criteria.get(m.group(2)) or {}).get("unit") or "")
        shown = f" ({unit})" if unit and m.group(1) == "raw" else ""
        label = _criterion_label(m.group(2), lang, criteria)
        return message(f"field_{m.group(1)}", lang, label=label, unit=shown)
    m = re.match(r"^p_top_(\d+)$", column)
    if m:
        return message("field_p_top", lang, n=m.group(1))
    try:
        return message(f"field_{column}", lang)
    except KeyError:
        return None


def _criteria_keys(columns: Any) -> list[str]:
    keys: list[str] = []
    for col in columns:
        m = re.match(r"^(?:raw|u|contrib)_(.+)$", str(col))
        if m and m.group(1) not in keys:
            keys.append(m.group(1))
    return keys


# --- expressions and the map tip ---------------------------------------------------------------


def _q(column: str) -> str:
    """A field reference in a QGIS expression."""
    return '"' + column.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """A string literal in a QGIS expression."""
    return "'" + text.replace("'", "''") + "'"


def _class_expression(field: str, columns: Any) -> str:
    """The class of a feature as on the maps: -1 excluded, -2 no data, 0–4 the classes."""
    parts = ["CASE"]
    if "excluded" in set(columns):
        parts.append(f"WHEN {_q('excluded')} THEN -1")
    parts.append(f"WHEN {_q(field)} IS NULL THEN -2")
    for k, upper in enumerate(CLASS_BREAKS[1:-1]):
        parts.append(f"WHEN {_q(field)} < {upper:g} THEN {k}")
    parts.append(f"ELSE {len(CLASS_COLOURS) - 1} END")
    return " ".join(parts)


def _number(column: str, decimals: int | None) -> str:
    """``format_number`` of a field; ``None`` decimals follow the magnitude as on the score
    cards (``export._labels.format_raw``: 0 from 100, 1 from 10, else 2)."""
    c = _q(column)
    if decimals is not None:
        return f"format_number({c}, {decimals})"
    return (
        f"CASE WHEN abs({c}) >= 100 THEN format_number({c}, 0) WHEN abs({c}) >= 10 "
        f"THEN format_number({c}, 1) ELSE format_number({c}, 2) END"
    )


def _value_expression(column: str, dtype: Any, lang: str, decimals: int | None, unit: str) -> str:
    """A field shown as on the score card: formatted, with its unit, "keine Daten" if NULL."""
    no_data = _lit(message("qgis_class_no_data", lang))
    suffix = f" || {_lit(' ' + unit)}" if unit else ""
    if pd.api.types.is_bool_dtype(dtype):
        yes, no = (_lit(message(f"register_{w}", lang)) for w in ("yes", "no"))
        value = f"CASE WHEN {_q(column)} THEN {yes} ELSE {no} END"
    elif pd.api.types.is_numeric_dtype(dtype):
        value = _number(column, decimals) + suffix
    else:
        value = _html(f"to_string({_q(column)})") + suffix
    return f"CASE WHEN {_q(column)} IS NULL THEN {no_data} ELSE {value} END"


def _in_literal(template: str, **values: str) -> str:
    """``template`` (a message) as an expression literal with ``values`` as expressions."""
    out = _lit(template.format(**dict.fromkeys(values, "\x00{}\x00")))
    for value in values.values():
        out = out.replace("\x00{}\x00", f"' || {value} || '", 1)
    return out


def _html(expression: str) -> str:
    """A text expression made safe for the HTML of a map tip."""
    return f"replace({expression}, array('&', '<', '>'), array('&amp;', '&lt;', '&gt;'))"


def _title_expression(columns: Any) -> str:
    cols = set(columns)
    ident = next((c for c in ("plot_id", "site_id", "search_area_id") if c in cols), None)
    if ident is None:
        return "@layer_name"
    if "name" in cols:
        return (
            f"CASE WHEN coalesce({_q('name')}, '') = '' THEN to_string({_q(ident)}) "
            f"ELSE {_q('name')} || ' (' || to_string({_q(ident)}) || ')' END"
        )
    return f"to_string({_q(ident)})"


def _tip_summary(frame: pd.DataFrame, field: str, lang: str) -> str:
    """Rank, points, coverage, exclusion and decision note: each line starts with ``<br/>``
    and optional lines come from the expression, so a plot shows no empty lines."""
    cols = set(frame.columns)
    out = ""
    if "rank" in cols:
        rank = _in_literal(
            "<br/>" + message("qgis_tip_rank", lang, rank="{rank}"), rank=f"to_string({_q('rank')})"
        )
        out += f"[% CASE WHEN {_q('rank')} IS NOT NULL THEN {rank} END %]"
    score = f"[% {_number(field, 1)} %]"
    out += f"<br/><b>{message('qgis_tip_points', lang, score=score)}</b>"
    if "coverage" in cols:
        pct = f"[% format_number({_q('coverage')} * 100, 0) %]"
        out += "<br/>" + message("qgis_tip_coverage", lang, coverage=pct)
    if "excluded" in cols:
        reason = "exclusion_reason_en" if lang == "en" else "exclusion_reason"
        text = _lit(
            f'<br/><span style="color:{COLOUR_EXCLUDED}">' + message("field_excluded", lang) + ": "
        )
        reason_expr = _html(f"coalesce({_q(reason)}, '')") if reason in cols else "''"
        out += f"[% CASE WHEN {_q('excluded')} THEN {text} || {reason_expr} || '</span>' END %]"
    if "decision_ready" in cols and "decision_reason" in cols:
        en = lang == "en" and "decision_reason_en" in cols
        reason = "decision_reason_en" if en else "decision_reason"
        out += (
            f"[% CASE WHEN NOT {_q('decision_ready')} THEN '<br/><i>' || "
            + _html(f"coalesce({_q(reason)}, '')")
            + " || '</i>' END %]"
        )
    return out


def _tip_criteria(frame: pd.DataFrame, lang: str, criteria: Mapping[str, Mapping[str, Any]]) -> str:
    cols = set(frame.columns)
    keys = _criteria_keys(frame.columns)
    if not keys:
        return ""
    head = "".join(
        f"<th>{html.escape(message(c, lang))}</th>"
        for c in ("qgis_tip_criterion", "qgis_tip_raw", "qgis_tip_utility", "qgis_tip_contrib")
    )
    rows = [f'<table style="border-collapse:collapse"><tr>{head}</tr>']
    for key in keys:
        cells = [html.escape(_criterion_label(key, lang, criteria))]
        for prefix, decimals in (("raw", None), ("u", 2), ("contrib", 1)):
            col = f"{prefix}_{key}"
            if col not in cols:
                cells.append("")
                continue
            unit = str((criteria.get(key) or {}).get("unit") or "") if prefix == "raw" else ""
            value = _value_expression(col, frame[col].dtype, lang, decimals, html.escape(unit))
            cells.append(f"[% {value} %]")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    rows.append("</table>")
    return "".join(rows)


#: Columns the map tip shows (when present) below the score, with their decimals.
_TIP_FACTS = (
    ("stadtteil_name", None),
    ("score_max", 1),
    ("area_m2", 0),
    ("n_cells", 0),
    ("n_sites", 0),
    ("plot_version", 0),
    ("last_changed", None),
)


def _map_tip(frame: pd.DataFrame, lang: str, criteria: Mapping[str, Mapping[str, Any]]) -> str:
    """The score card as an HTML map tip with QGIS expressions (``[% … %]``)."""
    field = score_field(frame.columns)
    body = f"<b>[% {_html(_title_expression(frame.columns))} %]</b>"
    if field is not None:
        body += _tip_summary(frame, field, lang)
    for column, decimals in _TIP_FACTS:
        if column in frame.columns:
            label = html.escape(_alias(column, lang, criteria) or column)
            value = _value_expression(column, frame[column].dtype, lang, decimals, "")
            body += f"<br/>{label}: [% {value} %]"
    body += _tip_criteria(frame, lang, criteria)
    return f'<div style="font-family:sans-serif;font-size:9pt">{body}</div>'


# --- QML ---------------------------------------------------------------------------------------


def _rgba(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _props(parent: ET.Element, props: Mapping[str, str]) -> None:
    """Symbol-layer properties as QGIS 3.22 writes them: an Option map and ``prop`` rows."""
    option = ET.SubElement(parent, "Option", type="Map")
    for k, v in props.items():
        ET.SubElement(option, "Option", name=k, type="QString", value=v)
    for k, v in props.items():
        ET.SubElement(parent, "prop", k=k, v=v)


def _symbol(
    parent: ET.Element, name: str, colour: str, kind: GeometryKind, *, many: bool = False
) -> None:
    """One symbol; ``many`` polygons (a city-wide grid) get a faint hairline outline."""
    outline = {"outline_color": "35,35,35,255", "outline_style": "solid"}
    if kind == "polygon":
        sym_type, cls = "fill", "SimpleFill"
        props = {"color": _rgba(colour), "style": "solid", **outline}
        props |= {"outline_width": "0.26", "outline_width_unit": "MM"}
        if many:
            props |= {"outline_color": "35,35,35,60", "outline_width": "0"}
    elif kind == "point":
        sym_type, cls = "marker", "SimpleMarker"
        props = {"color": _rgba(colour), "name": "circle", "size": "3", "size_unit": "MM"}
        props |= {**outline, "outline_width": "0.2", "outline_width_unit": "MM"}
    else:
        sym_type, cls = "line", "SimpleLine"
        props = {"line_color": _rgba(colour), "line_width": "0.8", "line_width_unit": "MM"}
        props |= {"line_style": "solid", "capstyle": "round", "joinstyle": "round"}
    symbol = ET.SubElement(
        parent,
        "symbol",
        name=name,
        type=sym_type,
        alpha="1",
        clip_to_extent="1",
        force_rhr="0",
    )
    layer = ET.SubElement(symbol, "layer", attrib={"class": cls, "enabled": "1"})
    layer.set("locked", "0")
    layer.set("pass", "0")
    _props(layer, props)


def _classes(lang: str) -> list[tuple[int, str, str]]:
    """(class value, colour, legend label), best class first, as in the map legends."""
    out = [
        (k, CLASS_COLOURS[k], f"{CLASS_BREAKS[k]:.0f}–{CLASS_BREAKS[k + 1]:.0f}")
        for k in range(len(CLASS_COLOURS) - 1, -1, -1)
    ]
    out.append((-1, COLOUR_EXCLUDED, message("qgis_class_excluded", lang)))
    out.append((-2, COLOUR_NO_DATA, message("qgis_class_no_data", lang)))
    return out


def _renderer(root: ET.Element, frame: pd.DataFrame, kind: GeometryKind, lang: str) -> None:
    field = score_field(frame.columns)
    common = {"symbollevels": "0", "forceraster": "0", "enableorderby": "0"}
    if field is None:
        renderer = ET.SubElement(root, "renderer-v2", {"type": "singleSymbol", **common})
        _symbol(ET.SubElement(renderer, "symbols"), "0", "#f28e2b", kind)
        return
    attrib = {"type": "graduatedSymbol", "attr": _class_expression(field, frame.columns)}
    renderer = ET.SubElement(root, "renderer-v2", {**attrib, **common})
    renderer.set("graduatedMethod", "GraduatedColor")
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, colour, label) in enumerate(_classes(lang)):
        bound = f"{value:.15f}"
        ET.SubElement(
            ranges, "range", symbol=str(i), label=label, render="true", lower=bound, upper=bound
        )
        _symbol(symbols, str(i), colour, kind, many=len(frame) > _MANY)
    method = ET.SubElement(renderer, "classificationMethod", id="Custom")
    ET.SubElement(
        method, "labelFormat", format="%1 - %2", labelprecision="0", trimtrailingzeroes="1"
    )


def _qml(
    frame: pd.DataFrame,
    kind: GeometryKind | None,
    criteria: Mapping[str, Mapping[str, Any]],
    lang: str,
) -> str:
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="AllStyleCategories",
        hasScaleBasedVisibilityFlag="0",
        minScale="100000000",
        maxScale="0",
        readOnly="0",
        labelsEnabled="0",
    )
    if kind is not None:
        _renderer(root, frame, kind, lang)
    aliases = ET.SubElement(root, "aliases")
    geometry = frame.geometry.name if hasattr(frame, "crs") else None
    for column in frame.columns:
        if column == geometry:
            continue
        alias = _alias(str(column), lang, criteria)
        if alias is not None:
            ET.SubElement(aliases, "alias", field=str(column), name=alias)
    ET.SubElement(root, "previewExpression").text = _title_expression(frame.columns)
    ET.SubElement(root, "mapTip").text = _map_tip(frame, lang, criteria)
    if kind is not None:
        ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_TYPE[kind]
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


# --- SLD (for clients other than QGIS) ----------------------------------------------------------

_SLD_NS = {
    "xmlns": "http://www.opengis.net/sld",
    "xmlns:ogc": "http://www.opengis.net/ogc",
    "xmlns:se": "http://www.opengis.net/se",
    "xmlns:xlink": "http://www.w3.org/1999/xlink",
    "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xsi:schemaLocation": "http://www.opengis.net/sld "
    "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd",
    "version": "1.1.0",
}


def _excluded_is(parent: ET.Element, flag: str) -> None:
    eq = ET.SubElement(parent, "ogc:PropertyIsEqualTo")
    ET.SubElement(eq, "ogc:PropertyName").text = "excluded"
    ET.SubElement(eq, "ogc:Literal").text = flag


def _sld_filter(rule: ET.Element, field: str, value: int, *, has_excluded: bool) -> None:
    """The filter of class ``value``: excluded, no data, or a score range."""
    flt = ET.SubElement(rule, "ogc:Filter")
    if value == -1:
        _excluded_is(flt, "1")
        return
    both = ET.SubElement(flt, "ogc:And") if has_excluded else flt
    if has_excluded:
        _excluded_is(both, "0")
    if value == -2:
        ET.SubElement(ET.SubElement(both, "ogc:PropertyIsNull"), "ogc:PropertyName").text = field
        return
    if not has_excluded:
        both = ET.SubElement(flt, "ogc:And")
    lower = ET.SubElement(both, "ogc:PropertyIsGreaterThanOrEqualTo")
    ET.SubElement(lower, "ogc:PropertyName").text = field
    ET.SubElement(lower, "ogc:Literal").text = f"{CLASS_BREAKS[value]:g}"
    last = value == len(CLASS_COLOURS) - 1
    upper = ET.SubElement(
        both, "ogc:PropertyIsLessThanOrEqualTo" if last else "ogc:PropertyIsLessThan"
    )
    ET.SubElement(upper, "ogc:PropertyName").text = field
    ET.SubElement(upper, "ogc:Literal").text = f"{CLASS_BREAKS[value + 1]:g}"


def _sld_symbolizer(rule: ET.Element, colour: str, kind: GeometryKind) -> None:
    if kind == "polygon":
        sym = ET.SubElement(rule, "se:PolygonSymbolizer")
        fill = ET.SubElement(sym, "se:Fill")
        ET.SubElement(fill, "se:SvgParameter", name="fill").text = colour
        stroke = ET.SubElement(sym, "se:Stroke")
        ET.SubElement(stroke, "se:SvgParameter", name="stroke").text = "#232323"
        ET.SubElement(stroke, "se:SvgParameter", name="stroke-width").text = "1"
    elif kind == "point":
        mark = ET.SubElement(
            ET.SubElement(ET.SubElement(rule, "se:PointSymbolizer"), "se:Graphic"), "se:Mark"
        )
        ET.SubElement(mark, "se:WellKnownName").text = "circle"
        fill = ET.SubElement(mark, "se:Fill")
        ET.SubElement(fill, "se:SvgParameter", name="fill").text = colour
    else:
        stroke = ET.SubElement(ET.SubElement(rule, "se:LineSymbolizer"), "se:Stroke")
        ET.SubElement(stroke, "se:SvgParameter", name="stroke").text = colour
        ET.SubElement(stroke, "se:SvgParameter", name="stroke-width").text = "3"


def _sld(table: str, frame: pd.DataFrame, kind: GeometryKind, lang: str) -> str:
    """The same classes as SLD 1.1 rules (excluded first: the first matching rule is not
    exclusive in SLD, so the class rules also require ``excluded`` = 0 where it exists)."""
    field = score_field(frame.columns)
    root = ET.Element("StyledLayerDescriptor", _SLD_NS)
    layer = ET.SubElement(root, "NamedLayer")
    ET.SubElement(layer, "se:Name").text = table
    style = ET.SubElement(ET.SubElement(layer, "UserStyle"), "se:FeatureTypeStyle")
    if field is None:
        rule = ET.SubElement(style, "se:Rule")
        ET.SubElement(rule, "se:Name").text = table
        _sld_symbolizer(rule, "#f28e2b", kind)
    else:
        for value, colour, label in _classes(lang):
            rule = ET.SubElement(style, "se:Rule")
            ET.SubElement(rule, "se:Name").text = label
            _sld_filter(rule, field, value, has_excluded="excluded" in frame.columns)
            _sld_symbolizer(rule, colour, kind)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
