"""CRS handling: every Düsseldorf CRS lands in the right place."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from handwerkgeo.crs import CRS, check_crs, outside_city, raise_if_outside, to_canonical
from handwerkgeo.errors import NoCrsError, OutsideAreaError, UnexpectedCrsError

# Düsseldorf Rathaus (Marktplatz) in several CRSs, converted with pyproj independently.
RATHAUS_25832 = (343_755.0, 5_677_640.0)


@pytest.mark.parametrize("epsg", [4326, 4647, 31466, 25832, 32632])
def test_known_crs_land_in_the_right_place(epsg: int) -> None:
    src = gpd.GeoSeries([Point(*RATHAUS_25832)], crs=CRS).to_crs(epsg)
    gdf = gpd.GeoDataFrame(geometry=src)
    out = to_canonical(gdf)
    assert out.crs.to_epsg() == 25832
    assert out.attrs["source_crs"] == f"EPSG:{epsg}"
    p = out.geometry.iloc[0]
    assert p.distance(Point(*RATHAUS_25832)) < 0.01


def test_missing_crs_raises_with_fix() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(*RATHAUS_25832)])
    with pytest.raises(NoCrsError, match="crs='EPSG:25832'"):
        to_canonical(gdf, name="plots.geojson")
    assert to_canonical(gdf, crs="EPSG:25832").crs.to_epsg() == 25832


def test_check_crs() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(6.77, 51.22)], crs="EPSG:4326")
    with pytest.raises(UnexpectedCrsError, match="EPSG:4326"):
        check_crs(gdf)
    with pytest.raises(ValueError):  # also a ValueError for callers who do not know us
        check_crs(gdf.set_crs(None, allow_override=True))


def test_swapped_lonlat_is_reported() -> None:
    swapped = gpd.GeoDataFrame(geometry=[Point(51.22, 6.77)], crs="EPSG:4326")
    out = to_canonical(swapped)
    assert outside_city(out.geometry).all()
    with pytest.raises(OutsideAreaError, match="swapped"):
        raise_if_outside(out.geometry)
