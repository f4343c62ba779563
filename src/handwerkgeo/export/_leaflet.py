"""Folium elements of the score map: raw HTML, the embedded data and script-built layers.

Used by :func:`handwerkgeo.export.maps.export_map`; the layers are drawn in the browser by
``templates/map.js`` from the embedded JSON document.
"""

from __future__ import annotations

import base64
import html
import zlib
from typing import Any

from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template

from handwerkgeo.export._mapdata import json_for_html

__all__ = ["COMPRESS_ABOVE_BYTES", "HwgData", "HwgLayer", "HwgReady", "Raw", "no_template"]

#: Embedded data larger than this is zlib-compressed and base64-encoded (decoded in the
#: browser with DecompressionStream: Chrome/Edge ≥ 80, Firefox ≥ 113, Safari ≥ 16.4).
COMPRESS_ABOVE_BYTES = 1_000_000


class Raw(Element):
    """An element that outputs its text as it is.

    branca's ``Element`` renders its text as a Jinja template: user data (a plot named
    ``{{ ... }}``) or minified JavaScript would be evaluated. This one never is.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class HwgData(MacroElement):
    """Embeds the payload and builds the map's layers from it with the map script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var hwg = HWG.init({{ this._parent.get_name() }}, document.getElementById("hwg-data"));
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict[str, Any], *, compress: bool | None, error_text: str) -> None:
        super().__init__()
        self._name = "HwgData"
        text = json_for_html(payload)
        if compress is None:
            compress = len(text) > COMPRESS_ABOVE_BYTES
        if compress:
            blob = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
            self.tag = (
                '<script type="application/octet-stream" id="hwg-data" '
                f'data-encoding="deflate-base64" data-error="{html.escape(error_text)}">'
                f"{blob}</script>"
            )
        else:
            self.tag = (
                '<script type="application/json" id="hwg-data" data-encoding="json" '
                f'data-error="{html.escape(error_text)}">{text}</script>'
            )

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        figure.html.add_child(Raw(self.tag), name="hwg_data")  # type: ignore[attr-defined]
        return super().render(**kwargs)


def no_template(text: str) -> str:
    """Escape for HTML and neutralise Jinja delimiters (folium re-renders script output)."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


class HwgLayer(Layer):
    """A layer built by the map script (``HWG.layer(kind, key)``); listed in the LayerControl."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = hwg.layer({{ this.kind|tojson }}, {{ this.key|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, kind: str, key: int | None, name: str, *, show: bool) -> None:
        # Leaflet's layer control inserts names as HTML: escape them here.
        super().__init__(name=no_template(name), overlay=True, control=True, show=show)
        self._name = "HwgLayer"
        self.kind = kind
        self.key = key


class HwgReady(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        hwg.ready();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "HwgReady"
