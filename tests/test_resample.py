"""Lattice resampling: close to the exact transformation, close to GDAL, and independent of the window."""

from __future__ import annotations

import warnings

import numpy as np
import pyproj
import rasterio.warp
from affine import Affine
from hypothesis import example, given, settings
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


@settings(max_examples=10, deadline=None)
@given(lon=st.floats(75, 130), lat=st.floats(18, 52), res=st.sampled_from([800.0, 1000.0, 5000.0]))
def test_cells_of_800_m_and_more_are_each_transformed_exactly(lon, lat, res):
    """At 800 m and coarser every cell is a lattice node: its centre is PROJ's, with nothing interpolated."""
    g = _grid(lon, lat, res, n=40)
    assert resample.lattice_step(res) == 1
    resample._CENTRES.clear()
    x, y = resample.cell_centres_in(g, WGS84)
    xx, yy = np.meshgrid(g.x_coords(), g.y_coords())
    ex, ey = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(xx, yy)
    np.testing.assert_allclose(x, ex, rtol=0, atol=1e-10)
    np.testing.assert_allclose(y, ey, rtol=0, atol=1e-10)
    assert not x.flags.writeable and not y.flags.writeable


@settings(max_examples=15, deadline=None)
@given(r0=st.integers(0, 60), c0=st.integers(0, 60), h=st.integers(1, 60), w=st.integers(1, 60),
       res=st.sampled_from([30.0, 100.0, 1000.0]))
def test_centres_of_a_window_cut_from_a_larger_grid_are_those_computed_alone(r0, c0, h, w, res):
    """A tile inside the tile-with-halo asked for just before takes its centres from that grid's arrays: the same
    to the last bit as computing them for the tile alone."""
    big = _grid(108.3, 22.9, res, n=130)
    small = big.window(r0, c0, h, w)
    resample._CENTRES.clear()
    alone = resample.cell_centres_in(small, WGS84)
    resample._CENTRES.clear()
    bx, by = resample.cell_centres_in(big, WGS84)
    cut = resample.cell_centres_in(small, WGS84)
    assert np.shares_memory(cut[0], bx) and np.shares_memory(cut[1], by)
    np.testing.assert_array_equal(cut[0], alone[0])
    np.testing.assert_array_equal(cut[1], alone[1])
    other = resample.cell_centres_in(small, CRS.from_epsg(4490).to_wkt())  # another CRS: not cut from it
    assert not np.shares_memory(other[0], bx)


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


# ----------------------------------------------------------------------------- mode and average (coarser grids)


def test_average_and_mode_of_aligned_pixels_by_hand():
    """A projected source of 250 m pixels on a 1 km grid: each cell is exactly 4 × 4 pixels."""
    g = make_grid((0.0, 0.0, 3000.0, 2000.0), 1000.0)
    tr = Affine(250.0, 0, 0.0, 0, -250.0, 2000.0)
    rng = np.random.default_rng(3)
    vals = rng.random((8, 12)).astype("float32")
    vals[0, 0] = np.nan  # left out of its cell's mean
    vals[4:8, 8:12] = np.nan  # a cell without data
    avg = resample.aggregate(vals, tr, CHINA_ALBERS, g, "average", np.float32(np.nan))
    blocks = vals.reshape(2, 4, 3, 4).swapaxes(1, 2).reshape(2, 3, 16).astype("float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the cell without data
        expected = np.nanmean(blocks, axis=2)
    np.testing.assert_allclose(avg, expected, rtol=1e-6)
    assert np.isnan(avg[1, 2])
    cls = np.full((8, 12), 5, dtype="uint16")
    cls[0:4, 0:4][:3, :] = 7  # 12 of 16 pixels
    cls[0:4, 4:8][:2, :] = 9  # 8 against 8: the tie goes to the smaller class (5)
    cls[4:8, 0:4] = 65535  # no data
    mode = resample.aggregate(cls, tr, CHINA_ALBERS, g, "mode", 65535)
    assert mode.tolist() == [[7, 5, 5], [65535, 5, 5]]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), r0=st.integers(0, 60), c0=st.integers(0, 60), h=st.integers(1, 60),
       w=st.integers(1, 60), res=st.sampled_from([300.0, 1000.0, 2500.0]))
def test_mode_and_average_are_the_same_in_any_window(seed, r0, c0, h, w, res):
    """Whatever window of the grid (a tile) and of the source file (the read around it) a cell is computed in."""
    g = _grid(108.0, 23.0, res, n=int(120_000 / res))
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 6, (1400, 1400)).astype("uint16")
    cont = rng.random((1400, 1400)).astype("float32")
    tr = Affine(0.001, 0, 107.9, 0, -0.001, 24.25)
    r0, c0 = min(r0, g.height - 1), min(c0, g.width - 1)
    h, w = min(h, g.height - r0), min(w, g.width - c0)
    sub = g.window(r0, c0, h, w)
    # the tile reads a window of the file around it, as siting.io.layers does
    west, south, east, north = rasterio.warp.transform_bounds(g.crs, WGS84, *sub.bounds, densify_pts=21)
    cs, ce = int((west - 107.9) / 0.001) - 3, int((east - 107.9) / 0.001) + 4
    rs, re_ = int((24.25 - north) / 0.001) - 3, int((24.25 - south) / 0.001) + 4
    cs, rs = max(cs, 0), max(rs, 0)
    win_tr = tr * Affine.translation(cs, rs)
    for how, arr, fill in (("mode", src, 65535), ("average", cont, np.float32(np.nan))):
        whole = resample.aggregate(arr, tr, WGS84, g, how, fill)
        part = resample.aggregate(arr[rs:re_, cs:ce], win_tr, WGS84, sub, how, fill, offset=(rs, cs))
        np.testing.assert_array_equal(part, whole[r0:r0 + h, c0:c0 + w])


def test_average_and_mode_agree_with_gdal_on_the_whole():
    g = _grid(110.0, 25.0, 1000.0, n=60)
    rng = np.random.default_rng(5)
    tr = Affine(0.001, 0, 109.9, 0, -0.001, 25.7)
    yy, xx = np.mgrid[0:800, 0:800]
    smooth = (np.sin(xx / 40.0) + np.cos(yy / 55.0)).astype("float32")
    ours = resample.aggregate(smooth, tr, WGS84, g, "average", np.float32(np.nan))
    gdal = np.zeros(g.shape, dtype="float32")
    rasterio.warp.reproject(smooth, gdal, src_transform=tr, src_crs=WGS84, dst_transform=g.transform, dst_crs=g.crs,
                            resampling=Resampling.average)
    assert np.abs(ours - gdal).max() < 0.03  # a 1 km cell holds ~90 pixels; edge pixels are weighted differently
    patches = np.kron(rng.integers(0, 4, (40, 40)), np.ones((20, 20), dtype="int64")).astype("uint16")
    ours = resample.aggregate(patches, tr, WGS84, g, "mode", 65535)
    gdal = np.zeros(g.shape, dtype="uint16")
    rasterio.warp.reproject(patches, gdal, src_transform=tr, src_crs=WGS84, dst_transform=g.transform, dst_crs=g.crs,
                            resampling=Resampling.mode)
    assert (ours == gdal).mean() > 0.9


def test_layers_on_one_source_geometry_share_positions_without_sharing_values():
    """Two sources on the same lattice reuse where the cells fall for nearest resampling (computed once,
    read-only), and each still gets its own values, equal to a fresh computation."""
    grid = make_grid((1_000_000.0, 2_500_000.0, 1_020_000.0, 2_520_000.0), 250.0)
    lon, lat = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(1_010_000.0, 2_510_000.0)
    transform = Affine(0.0025, 0.0, lon - 0.2, 0.0, -0.0025, lat + 0.2)
    rng = np.random.default_rng(3)
    speed = rng.uniform(4.0, 9.0, (160, 160)).astype("float32")
    k = rng.uniform(1.6, 2.6, (160, 160)).astype("float32")
    resample.nearest_positions.cache_clear()
    n1 = resample.nearest(speed, transform, "EPSG:4326", grid, np.nan)
    n2 = resample.nearest(k, transform, "EPSG:4326", grid, np.nan)
    assert resample.nearest_positions.cache_info().hits == 1 and not np.array_equal(n1, n2)
    kept = n2.copy()
    n2[:] = -1.0  # the caller's array is its own: changing it changes nothing cached
    assert np.array_equal(resample.nearest(k, transform, "EPSG:4326", grid, np.nan), kept, equal_nan=True)
    for arr in resample.nearest_positions(grid, transform, "EPSG:4326", 160, 160):
        assert not arr.flags.writeable


def reference_bilinear(array, transform, crs, grid):
    """The NumPy definition of :func:`resample.bilinear`: the plain formula when every cell has its four
    neighbours on the source and every value is known, weights renormalised over the known neighbours otherwise."""
    x, y = resample.cell_centres_in(grid, crs)
    u = (x - transform.c) / transform.a
    v = (y - transform.f) / transform.e
    h, w = array.shape
    u = np.nan_to_num(u, nan=-10.0, posinf=-10.0, neginf=-10.0)
    v = np.nan_to_num(v, nan=-10.0, posinf=-10.0, neginf=-10.0)
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    u, v = u - 0.5, v - 0.5
    c0, r0 = np.floor(u), np.floor(v)
    fu, fv = (u - c0).astype("float32"), (v - r0).astype("float32")
    c0, r0 = c0.astype("int64"), r0.astype("int64")
    src = array.astype("float32").reshape(-1)
    if (inside.all() and c0.min() >= 0 and c0.max() + 1 < w and r0.min() >= 0 and r0.max() + 1 < h
            and np.isfinite(src).all()):
        i00 = r0 * w + c0
        top = np.take(src, i00) * (1.0 - fu) + np.take(src, i00 + 1) * fu
        bottom = np.take(src, i00 + w) * (1.0 - fu) + np.take(src, i00 + w + 1) * fu
        return top * (1.0 - fv) + bottom * fv
    num = np.zeros(grid.shape, dtype="float32")
    den = np.zeros(grid.shape, dtype="float32")
    for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):
        rr, cc = r0 + dr, c0 + dc
        ok = inside & (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        val = np.take(src, np.where(ok, rr * w + cc, 0))
        ok &= np.isfinite(val)
        wgt = (fv if dr else 1.0 - fv) * (fu if dc else 1.0 - fu)
        wgt[~ok] = 0.0
        val[~ok] = 0.0
        num += wgt * val
        den += wgt
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~inside | (den <= 0)] = np.nan
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), res=st.sampled_from([100.0, 250.0, 1000.0]),
       offset=st.tuples(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)), pixel=st.sampled_from([0.0009, 0.0025, 0.05]),
       size=st.tuples(st.integers(2, 200), st.integers(2, 200)), holes=st.sampled_from([0.0, 0.0, 0.2]),
       dtype=st.sampled_from(["float32", "float64", "uint16", "int32"]))
def test_the_compiled_bilinear_pass_equals_the_numpy_definition(seed, res, offset, pixel, size, holes, dtype):
    """Sources around, inside, across the edge of and off the grid, with and without missing values, of every
    dtype the layers use: bilinear equals the NumPy definition to the last bit."""
    grid = make_grid((1_000_000.0, 2_500_000.0, 1_000_000.0 + 60 * res, 2_500_000.0 + 50 * res), res)
    lon, lat = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(
        1_000_000.0 + 30 * res, 2_500_000.0 + 25 * res)
    h, w = size
    transform = Affine(pixel, 0.0, lon + offset[0] - w * pixel / 2, 0.0, -pixel, lat + offset[1] + h * pixel / 2)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 500.0, (h, w))
    if dtype.startswith("float"):
        values[rng.random((h, w)) < holes] = np.nan
    values = values.astype(dtype)
    got = resample.bilinear(values, transform, "EPSG:4326", grid)
    want = reference_bilinear(values, transform, "EPSG:4326", grid)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)


def test_both_bilinear_formulas_are_exercised():
    """A source wider than the grid takes the plain formula; one hole or an edge inside the grid, the
    renormalised one; both equal the definition."""
    grid = make_grid((1_000_000.0, 2_500_000.0, 1_020_000.0, 2_520_000.0), 250.0)
    lon, lat = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(1_010_000.0, 2_510_000.0)
    transform = Affine(0.0025, 0.0, lon - 0.2, 0.0, -0.0025, lat + 0.2)
    speed = np.random.default_rng(3).uniform(4.0, 9.0, (160, 160)).astype("float32")
    plain = resample.bilinear(speed, transform, "EPSG:4326", grid)
    np.testing.assert_array_equal(plain, reference_bilinear(speed, transform, "EPSG:4326", grid))
    assert np.isfinite(plain).all()
    holed = speed.copy()
    holed[0, 0] = np.nan  # far from the grid: only the formula changes, by rounding at most
    renorm = resample.bilinear(holed, transform, "EPSG:4326", grid)
    np.testing.assert_array_equal(renorm, reference_bilinear(holed, transform, "EPSG:4326", grid))
    np.testing.assert_allclose(renorm, plain, rtol=1e-6)
    cut = speed[:80]  # the source ends inside the grid
    edge = resample.bilinear(cut, transform, "EPSG:4326", grid)
    np.testing.assert_array_equal(edge, reference_bilinear(cut, transform, "EPSG:4326", grid))
    assert np.isnan(edge).any() and np.isfinite(edge).any()


def test_cells_within_half_a_pixel_of_the_source_edge_take_only_the_neighbours_on_it():
    """Every cell centre on the source, but the last column's within half a pixel of its east edge: those cells
    have neighbours off the source, so the renormalised formula applies, and no value beyond the edge is read."""
    grid = make_grid((1_000_000.0, 2_500_000.0, 1_010_000.0, 2_510_000.0), 250.0)
    x, y = resample.cell_centres_in(grid, WGS84)
    p = 0.0025
    west, north = x.min() - 10 * p, y.max() + 10 * p
    w = int(np.ceil((x.max() - west) / p - 0.25))  # east edge 0.25..0.75 pixel beyond the easternmost centre
    h = int(np.ceil((north - y.min()) / p)) + 10
    transform = Affine(p, 0.0, west, 0.0, -p, north)
    u = (x - west) / p
    assert (u < w).all() and (np.floor(u - 0.5) + 1 >= w).any()
    values = np.random.default_rng(1).uniform(1.0, 2.0, (h, w + 1)).astype("float32")
    values[:, w] = 1e9  # beyond the edge: must never be read
    got = resample.bilinear(values[:, :w].copy(), transform, WGS84, grid)
    np.testing.assert_array_equal(got, reference_bilinear(values[:, :w], transform, WGS84, grid))
    assert np.nanmax(got) <= 2.0 and np.isfinite(got).all()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), step=st.sampled_from([1, 2, 3, 8]), start=st.tuples(st.integers(0, 40),
       st.integers(0, 40)), size=st.tuples(st.integers(1, 90), st.integers(1, 90)))
@example(seed=1, step=8, start=(4, 0), size=(8, 5))  # two partial intervals of equal length: not one pattern
@example(seed=1, step=8, start=(0, 3), size=(64, 7))  # whole intervals only
def test_lattice_interpolation_equals_its_numpy_definition(seed, step, start, size):
    """Between lattice rows: the difference times the fraction plus the base, to the last bit, whatever the
    blocks of rows the interpolation works in."""
    rng = np.random.default_rng(seed)
    rows, cols = start[0] + np.arange(size[0]), start[1] + np.arange(size[1])
    ri, rf = np.divmod(rows, step)
    ci, cf = np.divmod(cols, step)
    rf, cf = (rf / step)[:, None], (cf / step)[None, :]
    values = rng.uniform(-1e6, 1e6, (ri.max() + 2, ci.max() + 2))
    along = values[:, ci] + cf * (values[:, ci + 1] - values[:, ci])
    want = np.empty((ri.size, ci.size))
    for i, (k, f) in enumerate(zip(ri, rf[:, 0])):
        want[i] = np.multiply(along[k + 1] - along[k], f) + along[k]
    np.testing.assert_array_equal(resample.interpolate_lattice(values, ri, rf, ci, cf), want)


@settings(max_examples=25, deadline=None)
@given(st.floats(107.0, 109.6), st.floats(22.0, 24.6), st.integers(5, 60), st.sampled_from([500.0, 1000.0]))
def test_a_tile_inside_the_source_has_no_outside_cells_without_drawing_the_footprint(lon, lat, side, res):
    """A tile's layer read through its padded lon/lat box: when the file holds the whole box, the cells marked
    outside the source are those the drawn footprint gives (none); when the box is cut by the file's edge, the
    footprint is drawn as before."""
    import tempfile
    from pathlib import Path

    import rasterio
    from affine import Affine

    from siting.engine.compute import _tile_bounds_ll
    from siting.geo.grid import CHINA_ALBERS, make_grid, transformer
    from siting.io.layers import load_layer
    from siting.rules.scenario import LayerSpec

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lc.tif"
        data = (np.arange(300 * 360).reshape(300, 360) % 7).astype("uint8")
        with rasterio.open(path, "w", driver="GTiff", width=360, height=300, count=1, dtype="uint8", nodata=255,
                           crs="EPSG:4326", transform=Affine(0.01, 0, 107.0, 0, -0.01, 25.0)) as dst:
            dst.write(data, 1)
        x, y = transformer("EPSG:4326", CHINA_ALBERS).transform(lon, lat)
        grid = make_grid((x, y - side * res, x + side * res, y), res, CHINA_ALBERS)
        box = _tile_bounds_ll(grid)
        spec = LayerSpec(source=str(path), kind="categorical", units="class")
        quick = load_layer("lc", spec, grid, box, box_holds_grid=True)
        drawn = load_layer("lc", spec, grid, box)
        assert np.array_equal(quick.outside_mask, drawn.outside_mask)
        assert np.array_equal(quick.data, drawn.data)
        if box[0] > 107.0 + 0.03 and box[2] < 110.6 - 0.03 and box[1] > 22.0 + 0.03 and box[3] < 25.0 - 0.03:
            assert not drawn.outside_mask.any()


def test_wkt_of_is_the_crs_text_kept_by_identity():
    """The WKT of a CRS object is exported once and kept with the object; another object (even one that takes a
    freed object's memory) gets its own text."""
    import pyproj
    import rasterio.crs

    from siting.io import layers

    a, b = rasterio.crs.CRS.from_epsg(4326), pyproj.CRS.from_epsg(3857)
    assert layers.wkt_of(a) == a.to_wkt() and layers.wkt_of(a) is layers.wkt_of(a)
    assert layers.wkt_of(b) == b.to_wkt()
    assert layers.wkt_of("EPSG:4326") == "EPSG:4326"
    for code in (32649, 32650, 4490):  # objects made and dropped: an id may come back for another CRS
        c = rasterio.crs.CRS.from_epsg(code)
        assert layers.wkt_of(c) == c.to_wkt()
        del c
    assert len(layers._WKT) <= layers._WKT_KEPT
