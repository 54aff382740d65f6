"""Lattice resampling: close to the exact transformation, close to GDAL, and independent of the window."""

from __future__ import annotations

import numpy as np
import pyproj
import rasterio.warp
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.crs import CRS
from rasterio.enums import Resampling

from siting.geo import resample
from siting.geo.grid import CHINA_ALBERS, make_grid
from siting.io.handles import shared_dataset

WGS84 = CRS.from_epsg(4326).to_wkt()


def _grid(lon: float, lat: float, res: float, n: int = 300):
    x, y = pyproj.Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True).transform(lon, lat)
    return make_grid((x, y, x + n * res, y + n * res), res)


@settings(max_examples=15, deadline=None)
@given(lon=st.floats(75, 130), lat=st.floats(18, 52), res=st.sampled_from([30.0, 100.0, 1000.0]))
def test_lattice_centres_match_the_exact_transformation(lon, lat, res):
    g = _grid(lon, lat, res)
    x, y = resample.cell_centres_in(g, WGS84)
    xx, yy = np.meshgrid(g.x_coords(), g.y_coords())
    ex, ey = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(xx, yy)
    tol = 1e-3 * res / 111_000.0  # a thousandth of a cell, in degrees (3 cm at 30 m, 1 m at 1 km)
    assert np.abs(x - ex).max() < tol and np.abs(y - ey).max() < tol


def test_a_cell_gets_the_same_value_in_any_window():
    g = _grid(108.0, 23.0, 100.0, n=500)
    rng = np.random.default_rng(0)
    src = rng.integers(0, 17, (700, 700)).astype("uint16")
    tr = Affine(0.0009, 0, 107.9, 0, -0.0009, 23.6)
    whole = resample.nearest(src, tr, WGS84, g, 65535)
    for r0, c0, h, w in [(0, 0, 37, 41), (123, 77, 200, 90), (3, 411, 97, 89), (250, 250, 250, 250)]:
        part = resample.nearest(src, tr, WGS84, g.window(r0, c0, h, w), 65535)
        assert (part == whole[r0:r0 + h, c0:c0 + w]).all()
    cont = rng.random((700, 700)).astype("float32")
    cont[100:120, 300:330] = np.nan
    whole = resample.bilinear(cont, tr, WGS84, g)
    part = resample.bilinear(cont, tr, WGS84, g.window(60, 210, 170, 230))
    np.testing.assert_array_equal(part, whole[60:230, 210:440])


def test_agrees_with_gdal_away_from_pixel_edges():
    g = _grid(110.0, 25.0, 100.0, n=400)
    rng = np.random.default_rng(1)
    tr = Affine(0.01, 0, 109.8, 0, -0.01, 25.6)
    src = rng.integers(1, 9, (80, 80)).astype("uint16")
    ours = resample.nearest(src, tr, WGS84, g, 0)
    gdal = np.zeros(g.shape, dtype="uint16")
    rasterio.warp.reproject(src, gdal, src_transform=tr, src_crs=WGS84, dst_transform=g.transform, dst_crs=g.crs,
                            resampling=Resampling.nearest)
    xx, yy = np.meshgrid(g.x_coords(), g.y_coords())
    lon, lat = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(xx, yy)
    u, v = (lon - tr.c) / tr.a, (lat - tr.f) / tr.e
    exact = src[np.floor(v).astype(int), np.floor(u).astype(int)]
    edge = np.minimum(np.abs(u - np.round(u)), np.abs(v - np.round(v)))  # distance to a pixel edge, in pixels
    assert (ours != exact)[edge > 1e-3].sum() == 0  # exact but for cells a thousandth of a pixel from an edge
    assert (gdal != exact)[edge > 0.125].sum() == 0  # GDAL: within its 1/8-pixel tolerance
    assert (ours != gdal).any()  # which is why siting does not use it for nearest
    smooth = np.add.outer(np.arange(80.0), np.arange(80.0)).astype("float32")  # a plane: bilinear is exact
    ours = resample.bilinear(smooth, tr, WGS84, g)
    gdal = np.full(g.shape, np.nan, dtype="float32")
    rasterio.warp.reproject(smooth, gdal, src_transform=tr, src_crs=WGS84, src_nodata=np.nan,
                            dst_transform=g.transform, dst_crs=g.crs, dst_nodata=np.nan, resampling=Resampling.bilinear)
    both = np.isfinite(ours) & np.isfinite(gdal)
    assert both.mean() > 0.99
    assert np.abs(ours[both] - gdal[both]).max() < 0.02


def test_bilinear_skips_missing_neighbours_and_is_nan_off_the_source():
    tr = Affine(1000.0, 0, 0.0, 0, -1000.0, 2_600_000.0)
    g = make_grid((0.0, 2_590_000.0, 10_000.0, 2_600_000.0), 250.0)
    src = np.full((10, 10), 5.0, dtype="float32")
    src[4, 4] = np.nan
    out = resample.bilinear(src, tr, CHINA_ALBERS, g)
    assert np.allclose(out[np.isfinite(out)], 5.0)  # renormalised weights of constant neighbours
    off = resample.bilinear(src, tr, CHINA_ALBERS, g.window(-10, -10, 5, 5))
    assert np.isnan(off).all()


def test_changed_file_is_reopened(tmp_path):
    path = tmp_path / "r.tif"
    profile = {"driver": "GTiff", "width": 4, "height": 4, "count": 1, "dtype": "uint8", "crs": "EPSG:4326",
               "transform": Affine(1, 0, 0, 0, -1, 4)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((4, 4), dtype="uint8"), 1)
    first = shared_dataset(str(path))
    assert shared_dataset(str(path)) is first and first.read(1).max() == 1
    with rasterio.open(path, "w", **{**profile, "width": 5}) as dst:
        dst.write(np.full((4, 5), 7, dtype="uint8"), 1)
    again = shared_dataset(str(path))
    assert again is not first and again.read(1).max() == 7
