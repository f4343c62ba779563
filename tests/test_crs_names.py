"""Every CRS spelling German data uses resolves to the right EPSG code."""

from __future__ import annotations

import pyproj
import pytest

from handwerkgeo.crs_names import ADV_CRS, resolve_crs
from handwerkgeo.errors import NoCrsError


@pytest.mark.parametrize(
    ("text", "epsg"),
    [
        ("EPSG:25832", 25832),
        ("epsg:25832", 25832),
        ("EPSG::25832", 25832),
        ("25832", 25832),
        ("urn:ogc:def:crs:EPSG::25832", 25832),
        ("urn:ogc:def:crs:EPSG:6.9:25832", 25832),
        ("urn:x-ogc:def:crs:EPSG:25832", 25832),
        ("http://www.opengis.net/def/crs/EPSG/0/25832", 25832),
        ("https://www.opengis.net/def/crs/EPSG/0/4647", 4647),
        ("http://www.opengis.net/gml/srs/epsg.xml#31466", 31466),
        ("urn:adv:crs:ETRS89_UTM32", 25832),
        ("urn:adv:crs:ETRS89_UTM33", 25833),
        ("urn:adv:crs:etrs89_utm32", 25832),
        ("ADV:ETRS89_UTM32", 25832),
        ("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH", 25832),
        ("urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH", 25832),
        ("urn:adv:crs:ETRS89_UTM33*DE_DHHN2016_NH", 25833),
        ("urn:adv:crs:DE_DHDN_3GK2", 31466),
        ("urn:adv:crs:DE_DHDN_3GK3", 31467),
        ("urn:adv:crs:DE_DHDN_3GK4", 31468),
        ("urn:adv:crs:DE_DHDN_3GK5", 31469),
        ("urn:adv:crs:DE_DHDN_3GK2*DE_DHHN92_NH", 31466),
        ("urn:adv:crs:DE_DHDN_3GK2_NW177", 31466),
        ("urn:adv:crs:DE_DHDN_3GK2_NW101", 31466),
        ("urn:adv:crs:ETRS89_Lat-Lon", 4258),
    ],
)
def test_spellings(text: str, epsg: int) -> None:
    assert resolve_crs(text).to_epsg() == epsg


@pytest.mark.parametrize("name", sorted(ADV_CRS))
def test_every_adv_entry_is_a_real_epsg_crs(name: str) -> None:
    crs = resolve_crs(f"urn:adv:crs:{name}")
    assert crs.to_epsg() == ADV_CRS[name]
    if "UTM" in name:
        assert "UTM zone" in crs.name and "ETRS89" in crs.name
    if "DHDN_3GK" in name:
        assert "Gauss-Kruger zone " + name[-1] in crs.name


def test_unknown_names_say_what_is_accepted() -> None:
    with pytest.raises(NoCrsError, match="known: urn:adv:crs:ETRS89_UTM31"):
        resolve_crs("urn:adv:crs:DE_FANTASY")
    with pytest.raises(NoCrsError, match="urn:ogc:def:crs:EPSG::25832"):
        resolve_crs("not a crs")
    assert resolve_crs(pyproj.CRS(25832)).to_epsg() == 25832
