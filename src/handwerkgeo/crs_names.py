"""CRS identifiers as German data write them, mapped to EPSG explicitly.

XPlanGML plans, ALKIS/NAS files and WFS responses name their CRS in several spellings:
``EPSG:25832``, ``epsg:25832``, ``EPSG::25832``, ``urn:ogc:def:crs:EPSG::25832``,
``urn:ogc:def:crs:EPSG:6.9:25832``, ``urn:x-ogc:def:crs:EPSG:25832``,
``http://www.opengis.net/def/crs/EPSG/0/25832``,
``http://www.opengis.net/gml/srs/epsg.xml#25832`` — and the AdV identifiers of German
surveying (``urn:adv:crs:ETRS89_UTM32``, ``urn:adv:crs:DE_DHDN_3GK2``,
``urn:adv:crs:DE_DHDN_3GK2_NW177``, ``ADV:ETRS89_UTM32``, with a ``*DE_DHHN2016_NH``-style
height suffix for 3D data), which PROJ does not know. :func:`resolve_crs` turns each into a
:class:`pyproj.CRS`; the AdV table :data:`ADV_CRS` says which EPSG code each AdV name
means (the height part of a compound name is dropped: handwerkgeo works in 2D).

Examples
--------
>>> resolve_crs("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH").to_epsg()
25832
>>> resolve_crs("http://www.opengis.net/def/crs/EPSG/0/4647").to_epsg()
4647
>>> resolve_crs("25832").to_epsg()
25832
"""

from __future__ import annotations

import re

import pyproj

from handwerkgeo.errors import NoCrsError

__all__ = ["ADV_CRS", "epsg_code", "resolve_crs"]

#: AdV CRS names (GeoInfoDok / ALKIS, XPlanung) -> EPSG code of the horizontal CRS.
ADV_CRS: dict[str, int] = {
    "ETRS89_UTM31": 25831,
    "ETRS89_UTM32": 25832,
    "ETRS89_UTM33": 25833,
    "ETRS89_LAT-LON": 4258,
    "ETRS89_LON-LAT": 4258,
    "ETRS89_3GK2": 5676,
    "ETRS89_3GK3": 5677,
    "ETRS89_3GK4": 5678,
    "ETRS89_3GK5": 5679,
    "DE_DHDN_3GK2": 31466,
    "DE_DHDN_3GK3": 31467,
    "DE_DHDN_3GK4": 31468,
    "DE_DHDN_3GK5": 31469,
    "DE_DHDN_LAT-LON": 4314,
    "DE_DHDN_LON-LAT": 4314,
    "DE_RD/83_3GK4": 3398,
    "DE_RD/83_3GK5": 3399,
    "DE_PD/83_3GK3": 3396,
    "DE_PD/83_3GK4": 3397,
    "DE_42/83_3GK4": 2166,
    "DE_42/83_3GK5": 2167,
}

_EPSG_PATTERNS = (
    re.compile(r"^(?:epsg)?:{0,2}(\d{4,6})$", re.I),
    re.compile(r"^urn:(?:x-)?ogc:def:crs:epsg:(?:[\d.]*:)?(\d{4,6})$", re.I),
    re.compile(r"^https?://www\.opengis\.net/def/crs/epsg/[\d.]+/(\d{4,6})$", re.I),
    re.compile(r"^https?://www\.opengis\.net/gml/srs/epsg\.xml#(\d{4,6})$", re.I),
)
_ADV = re.compile(r"^(?:urn:adv:crs:|adv:)(.+)$", re.I)
# NRW realisations of Gauß-Krüger: DE_DHDN_3GK2_NW177, DE_DHDN_3GK2_NW101 ...
_ADV_REALISATION = re.compile(r"^(DE_DHDN_3GK\d)_[A-Z]{2}\d+$")


def epsg_code(text: str) -> int | None:
    """The EPSG code an identifier names, or ``None`` if it is not an EPSG/AdV name."""
    name = text.strip()
    for pattern in _EPSG_PATTERNS:
        m = pattern.match(name)
        if m:
            return int(m.group(1))
    m = _ADV.match(name)
    if m:
        horizontal = m.group(1).split("*", 1)[0].strip().upper()
        real = _ADV_REALISATION.match(horizontal)
        if real:
            horizontal = real.group(1)
        return ADV_CRS.get(horizontal)
    return None


def resolve_crs(text: str | int | pyproj.CRS) -> pyproj.CRS:
    """A :class:`pyproj.CRS` from any identifier German data uses (see module docs).

    Raises
    ------
    NoCrsError
        If the identifier is neither an EPSG/AdV name nor anything PROJ understands; the
        message lists the accepted spellings.
    """
    if isinstance(text, pyproj.CRS):
        return text
    if isinstance(text, int):
        return pyproj.CRS.from_epsg(text)
    code = epsg_code(text)
    if code is not None:
        return pyproj.CRS.from_epsg(code)
    if _ADV.match(text.strip()):
        msg = (
            f"unknown AdV CRS name {text!r}; known: "
            + ", ".join(f"urn:adv:crs:{k}" for k in ADV_CRS)
            + ". Give the EPSG code instead (e.g. EPSG:25832)."
        )
        raise NoCrsError(msg)
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        msg = (
            f"cannot read the CRS {text!r}: use an EPSG code (EPSG:25832), an OGC URN "
            "(urn:ogc:def:crs:EPSG::25832), an OGC URL "
            "(http://www.opengis.net/def/crs/EPSG/0/25832) or an AdV name "
            "(urn:adv:crs:ETRS89_UTM32)"
        )
        raise NoCrsError(msg) from exc
