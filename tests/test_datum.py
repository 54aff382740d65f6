"""GCJ-02 <-> WGS-84: published pairs, round trips and the measured offset in South China."""

import numpy as np
import pyproj
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from siting.model.datum import gcj02_to_wgs84, geometry_gcj02_to_wgs84, wgs84_to_gcj02

GEOD = pyproj.Geod(ellps="WGS84")


def test_published_pair_forward():
    # eviltransform's published test pair: WGS (22.543847, 113.912316) -> GCJ (22.540796131694766, 113.9171764808363)
    lon, lat = wgs84_to_gcj02(113.912316, 22.543847)
    assert abs(lat - 22.540796131694766) < 1e-12
    assert abs(lon - 113.9171764808363) < 1e-12


def test_published_pair_inverse():
    lon, lat = gcj02_to_wgs84(113.9171764808363, 22.540796131694766)
    _, _, dist_m = GEOD.inv(lon, lat, 113.912316, 22.543847)
    assert dist_m < 1e-6


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(73.0, 135.0), lat=st.floats(18.0, 53.0))
def test_round_trip_below_a_micrometre(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    _, _, dist_m = GEOD.inv(float(w_lon), float(w_lat), lon, lat)
    assert dist_m < 1e-6


def test_offset_in_south_china_matches_the_measured_range():
    # datum study: the GCJ shift is 0.33-0.66 km over 105-117.5E, 18-26N, towards the east-south-east
    lon, lat = np.meshgrid(np.linspace(105, 117.5, 26), np.linspace(18, 26, 17))
    g_lon, g_lat = wgs84_to_gcj02(lon.ravel(), lat.ravel())
    az, _, dist = GEOD.inv(lon.ravel(), lat.ravel(), g_lon, g_lat)
    assert dist.min() > 300 and dist.max() < 700
    assert np.all((az > 90) & (az < 150))  # east-south-east


def test_geometry_conversion_moves_every_vertex_back():
    ring = np.array([[108.0, 22.0], [108.5, 22.0], [108.5, 22.5], [108.0, 22.5], [108.0, 22.0]])
    g_lon, g_lat = wgs84_to_gcj02(ring[:, 0], ring[:, 1])
    gcj_poly = shapely.Polygon(np.column_stack([g_lon, g_lat]))
    back = geometry_gcj02_to_wgs84(gcj_poly)
    assert np.allclose(np.asarray(back.exterior.coords), ring, atol=1e-9)
    arr = geometry_gcj02_to_wgs84(np.array([gcj_poly, gcj_poly], dtype=object))
    assert len(arr) == 2 and all(a.equals_exact(back, 1e-12) for a in arr)
