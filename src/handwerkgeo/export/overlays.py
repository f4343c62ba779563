"""Extra layers on a score map: labelled polygons or points with a small card each.

A :class:`MapOverlay` is drawn by the map script above the score surface, with its own
entry in the layer control, a label per feature (beside the feature, never over its
colour) and a card with the given columns when clicked. Pass them as
``export_map(..., overlays=[MapOverlay(...)])`` (a field of
:class:`~handwerkgeo.export.maps.MapOptions`); candidate sites, search areas or planning
perimeters can be shown this way without changing the map code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from handwerkgeo.crs import check_crs
from handwerkgeo.errors import MissingColumnError
from handwerkgeo.export._mapdata import enc_feature, enc_point, to_wgs84

__all__ = ["MapOverlay", "overlay_payload"]


@dataclass(frozen=True)
class MapOverlay:
    """One extra map layer.

    Attributes
    ----------
    name
        Name in the layer control (shown as it is, escaped).
    frame
        Polygons or points in EPSG:25832.
    label_column
        Column whose value labels each feature (e.g. ``site_id``), or ``None``.
    card_columns
        ``(column, heading)`` pairs shown in the card of a feature, in this order.
    colour
        Outline colour (CSS).
    show
        Shown when the map opens.
    """

    name: str
    frame: gpd.GeoDataFrame
    label_column: str | None = None
    card_columns: Sequence[tuple[str, str]] = ()
    colour: str = "#d7301f"
    show: bool = True


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    return str(value)


def overlay_payload(overlay: MapOverlay, *, simplify_m: float = 2.0) -> dict[str, Any]:
    """The overlay as JSON for the map script (geometry encoded like the plots)."""
    gdf = overlay.frame
    check_crs(gdf, name=f"overlay {overlay.name!r}")
    wanted = [c for c, _ in overlay.card_columns]
    if overlay.label_column is not None:
        wanted.append(overlay.label_column)
    missing = [c for c in wanted if c not in gdf.columns]
    if missing:
        msg = f"overlay {overlay.name!r} has no column(s) {', '.join(missing)}"
        raise MissingColumnError(msg)
    geo = to_wgs84(gdf.geometry, simplify_m)
    label_pts = gdf.geometry.representative_point().to_crs("EPSG:4326")
    labels = (
        [_text(v) for v in gdf[overlay.label_column]]
        if overlay.label_column is not None
        else [None] * len(gdf)
    )
    return {
        "name": overlay.name,
        "colour": overlay.colour,
        "geom": [enc_feature(g) for g in geo],
        "labelPt": [None if p.is_empty else enc_point(p) for p in label_pts],
        "label": labels,
        "heads": [h for _, h in overlay.card_columns],
        "rows": [[_text(v) for v in gdf[c]] for c, _ in overlay.card_columns],
    }
