"""Self-contained output files: inlined web assets and the export templates.

Offline maps must not reference any URL. Leaflet's JavaScript and CSS are taken at export
time from the installed package ``folium-offline`` (module ``offlinefolium``, MIT), which
ships the web resources of folium as strings; nothing third-party is copied into this
repository. Leaflet's CSS points at icon images (``url(images/...)``): the layer-control
icon is replaced by a small inline SVG and the marker icons are dropped (the maps use
circle markers and DivIcons only).
"""

from __future__ import annotations

import base64
import logging
import re
from functools import cache
from importlib import resources

from handwerkgeo.errors import DataSourceError

__all__ = [
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "leaflet_assets",
    "template_text",
]

logger = logging.getLogger(__name__)


def _folium_url(name: str, kind: str) -> str:
    import folium

    pairs = folium.Map.default_js if kind == "js" else folium.Map.default_css
    for key, url in pairs:
        if key == name:
            return str(url)
    msg = f"folium {folium.__version__} no longer lists {name!r}; update handwerkgeo."
    raise DataSourceError(msg)


#: The Leaflet URLs folium would link to (used for ``offline=False``).
LEAFLET_JS_URL = _folium_url("leaflet", "js")
LEAFLET_CSS_URL = _folium_url("leaflet_css", "css")

# Our own drawing of a layer stack (three rhombi), used for the layer-control toggle.
_LAYERS_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="26" height="26" viewBox="0 0 26 26">'
    '<g fill="#fff" stroke="#444" stroke-width="1.5">'
    '<path d="M13 16 3 11.5 13 7l10 4.5z" transform="translate(0 5)"/>'
    '<path d="M13 16 3 11.5 13 7l10 4.5z" transform="translate(0 1.5)"/>'
    '<path d="M13 16 3 11.5 13 7l10 4.5z" transform="translate(0 -2)"/></g></svg>'
)
_LAYERS_DATA_URI = "data:image/svg+xml;base64," + base64.b64encode(_LAYERS_SVG.encode()).decode()


def _resource(url: str, kind: str) -> str:
    try:
        from offlinefolium import elements
    except ImportError as exc:  # pragma: no cover - dependency of handwerkgeo
        msg = (
            "offline maps need the package folium-offline (module offlinefolium), which "
            "ships Leaflet. Install it (pip install folium-offline) or export with "
            "offline=False / --online."
        )
        raise DataSourceError(msg) from exc
    res: dict[str, str] = getattr(elements, "_res", {})
    if url in res:
        return res[url]
    basename = url.rsplit("/", 1)[-1]
    for key, value in res.items():
        if "leaflet@" in key and key.endswith("/" + basename):
            logger.info("using %s from folium-offline for %s", key, url)
            return value
    msg = (
        f"the installed folium-offline does not contain Leaflet {kind} ({url}). Install a "
        "folium-offline version matching folium, or export with offline=False / --online."
    )
    raise DataSourceError(msg)


@cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS as strings, with no URL references left.

    Returns
    -------
    tuple of str
        ``(js, css)``. In the CSS the layer-control icon is an inline SVG data URI and
        references to marker icon images are removed.

    Raises
    ------
    DataSourceError
        If folium-offline is missing or does not carry Leaflet.
    """
    js = _resource(LEAFLET_JS_URL, "JavaScript")
    css = _resource(LEAFLET_CSS_URL, "CSS")
    css = re.sub(
        r"url\(\s*['\"]?images/layers(?:-2x)?\.png['\"]?\s*\)", f"url({_LAYERS_DATA_URI})", css
    )
    css = re.sub(r"url\(\s*['\"]?images/[^)]*\)", "none", css)
    # Leaflet's JS mentions URLs only in comments/strings (attribution prefix); the map sets
    # its own prefix. Source-map comments would make devtools fetch a file: drop them.
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    return js, css


def template_text(name: str) -> str:
    """The text of a file in ``handwerkgeo/export/templates``."""
    return (resources.files("handwerkgeo.export") / "templates" / name).read_text(encoding="utf-8")
