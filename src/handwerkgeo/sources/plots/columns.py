"""Column vocabularies of plot listings: which column names mean id, area, geometry,
coordinates — in one place.

Names are matched after :func:`handwerkgeo._text.normalize_key` (case, umlauts and
punctuation do not matter) and tried in order, so the first candidate wins.
"""

from __future__ import annotations

__all__ = [
    "AREA_COLUMNS",
    "ID_COLUMNS",
    "LONLAT_COLUMNS",
    "WKT_COLUMNS",
    "XY_COLUMNS",
    "XY_WINDOWS",
]


#: Column names taken as the plot id, in order of preference (case-insensitive).
ID_COLUMNS = ("plot_id", "id", "flstkennz")

#: Column names taken as the plot area in m² (case-insensitive, umlauts spelled either way).
AREA_COLUMNS = (
    "area_m2",
    "flaeche_m2",
    "fläche_m2",
    "flaeche",
    "fläche",
    "flaeche_qm",
    "flaeche_in_m2",
    "grundstuecksflaeche",
    "grundstuecksflaeche_m2",
    "grundstücksfläche",
    "plot_area_m2",
    "plot_area",
    "area",
    "area_sqm",
    "groesse_m2",
    "größe_m2",
    "groesse",
    "größe",
)

#: Column names holding geometry text (WKT, or hex WKB).
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "geometrie")

#: Coordinate column pairs that mean longitude/latitude (EPSG:4326).
LONLAT_COLUMNS = (
    ("lon", "lat"),
    ("lng", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("länge", "breite"),
    ("laengengrad", "breitengrad"),
    ("geo_laenge", "geo_breite"),
)

#: Coordinate column pairs in projected units (CRS from ``crs=`` or the value range).
XY_COLUMNS = (
    ("x", "y"),
    ("rechtswert", "hochwert"),
    ("ostwert", "nordwert"),
    ("easting", "northing"),
    ("rw", "hw"),
    ("x_coord", "y_coord"),
    ("utm_x", "utm_y"),
    ("east", "north"),
)

#: Düsseldorf windows (minx, miny, maxx, maxy) of the projected CRSs met there.
XY_WINDOWS = {
    "EPSG:25832": (300_000.0, 5_630_000.0, 400_000.0, 5_730_000.0),
    "EPSG:4647": (32_300_000.0, 5_630_000.0, 32_400_000.0, 5_730_000.0),
    "EPSG:31466": (2_500_000.0, 5_630_000.0, 2_600_000.0, 5_730_000.0),
}
