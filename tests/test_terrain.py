"""Terrain: Horn slope/aspect on known surfaces, exact tiling, and the slope-rule fraction on the grid."""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.errors import SitingError
from siting.geo.grid import make_grid
from siting.io.dem import dem_slope_layer, slope_aspect_windows, slope_pass_fraction
from siting.model.terrain import aspect_factor, geographic_cell_sizes_m, horn_slope_aspect

ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"


def write_dem(path: Path, elevation_m: np.ndarray, transform: Affine, crs: str | None,
              nodata: float | None = None) -> Path:
    profile = dict(driver="GTiff", width=elevation_m.shape[1], height=elevation_m.shape[0], count=1,
                   dtype="float64", transform=transform, nodata=nodata)
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(elevation_m.astype("float64"), 1)
    return path


def plane(rows: int, cols: int, gx: float, gy: float, dx: float, dy: float) -> np.ndarray:
    """z = gx·east + gy·north on a north-up grid (row 0 is north)."""
    east = np.arange(cols) * dx
    north = -np.arange(rows) * dy
    return gx * east[None, :] + gy * north[:, None]


def angle_diff_deg(a, b):
    return np.abs((np.asarray(a) - b + 180.0) % 360.0 - 180.0)


# ---------------------------------------------------------------------------
# Horn on known surfaces
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("gx, gy, aspect_expected", [
    (-0.2, 0.0, 90.0),       # falls to the east: east-facing
    (0.2, 0.0, 270.0),       # west-facing
    (0.0, -0.3, 0.0),        # falls to the north: north-facing
    (0.0, 0.3, 180.0),       # south-facing
    (0.1, 0.1, 225.0),       # falls to the south-west
    (-0.05, 0.05, 135.0),    # south-east
    (-1.0, -math.sqrt(3.0), math.degrees(math.atan2(1.0, math.sqrt(3.0)))),  # north-north-east, steep
])
@pytest.mark.parametrize("dx, dy", [(30.0, 30.0), (30.0, 20.0)])
def test_plane_slope_and_aspect(gx, gy, aspect_expected, dx, dy):
    z = plane(12, 15, gx, gy, dx, dy)
    slope_deg, aspect_deg = horn_slope_aspect(z, dx, dy)
    inner = (slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(slope_deg[inner], math.degrees(math.atan(math.hypot(gx, gy))), atol=1e-9)
    assert angle_diff_deg(aspect_deg[inner], aspect_expected).max() < 1e-9
    assert np.all((aspect_deg[inner] >= 0) & (aspect_deg[inner] < 360))
    # edges are NaN
    for edge in (slope_deg[0], slope_deg[-1], slope_deg[:, 0], slope_deg[:, -1], aspect_deg[0]):
        assert np.isnan(edge).all()


def test_flat_has_zero_slope_and_nan_aspect():
    slope_deg, aspect_deg = horn_slope_aspect(np.full((5, 6), 120.0), 30.0, 30.0)
    assert np.all(slope_deg[1:-1, 1:-1] == 0.0)
    assert np.isnan(aspect_deg).all()


def test_per_row_cell_sizes_accept_both_shapes_and_equal_scalars():
    z = plane(10, 9, 0.07, -0.11, 25.0, 25.0)
    expected = horn_slope_aspect(z, 25.0, 25.0)
    for shape in [(10,), (10, 1)]:
        got = horn_slope_aspect(z, np.full(shape, 25.0), np.full(shape, 25.0))
        np.testing.assert_allclose(got[0], expected[0], atol=1e-12)
        np.testing.assert_allclose(got[1], expected[1], atol=1e-9)
    with pytest.raises(ValueError):
        horn_slope_aspect(z, np.full(7, 25.0), 25.0)


def test_cone_slope_is_constant_and_aspect_points_away_from_the_apex():
    n, cell, k = 101, 10.0, 0.5
    east = (np.arange(n) - n // 2) * cell
    north = -(np.arange(n) - n // 2) * cell
    ee, nn = np.meshgrid(east, north)
    r = np.hypot(ee, nn)
    z = 1000.0 - k * r
    slope_deg, aspect_deg = horn_slope_aspect(z, cell, cell)
    away = (r > 8 * cell) & np.isfinite(slope_deg)
    assert np.abs(slope_deg[away] - math.degrees(math.atan(k))).max() < 0.5
    bearing = np.degrees(np.arctan2(ee, nn)) % 360.0
    assert angle_diff_deg(aspect_deg[away], bearing[away]).max() < 0.5


def test_nan_in_the_dem_spoils_only_its_neighbourhood():
    z = plane(9, 9, 0.1, 0.2, 30.0, 30.0)
    z[4, 4] = np.nan
    slope_deg, aspect_deg = horn_slope_aspect(z, 30.0, 30.0)
    assert np.isnan(slope_deg[3:6, 3:6]).all() and np.isnan(aspect_deg[3:6, 3:6]).all()
    keep = np.ones_like(z, dtype=bool)
    keep[3:6, 3:6] = False
    keep[[0, -1], :] = keep[:, [0, -1]] = False
    assert np.isfinite(slope_deg[keep]).all()


# ---------------------------------------------------------------------------
# Longitude/latitude DEMs
# ---------------------------------------------------------------------------

def test_geographic_cell_sizes_match_geodesic_distances():
    tr = Affine(0.001, 0.0, 104.0, 0.0, -0.001, 46.0)
    dx, dy = geographic_cell_sizes_m(tr, 2000, 3000)
    geod = pyproj.Geod(ellps="WGS84")
    for row in (0, 999, 1999):
        lat = 46.0 - (row + 0.5) * 0.001
        _, _, d_ew = geod.inv(104.0, lat, 104.001, lat)
        _, _, d_ns = geod.inv(104.0, lat + 0.0005, 104.0, lat - 0.0005)
        assert abs(dx[row] / d_ew - 1) < 1e-6
        assert abs(dy[row] / d_ns - 1) < 1e-6
    assert dx[0] < dx[-1]  # narrower towards the pole


@pytest.mark.parametrize("gx, gy", [(0.2, 0.0), (0.0, -0.15), (0.12, 0.09)])
def test_geographic_plane_has_the_true_slope(tmp_path, gx, gy):
    lat0, lon0, step, n = 45.0, 105.0, 0.0005, 200
    tr = Affine(step, 0.0, lon0 - n / 2 * step, 0.0, -step, lat0 + n / 2 * step)
    lon = tr.c + (np.arange(n) + 0.5) * step
    lat = tr.f - (np.arange(n) + 0.5) * step
    ll, pp = np.meshgrid(lon, lat)
    local = pyproj.Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84",
                                        always_xy=True)
    east, north = local.transform(ll, pp)
    z = 500.0 + gx * east + gy * north
    expected_slope = math.degrees(math.atan(math.hypot(gx, gy)))
    expected_aspect = math.degrees(math.atan2(-gx, -gy)) % 360.0
    dx, dy = geographic_cell_sizes_m(tr, n, n)
    slope_deg, aspect_deg = horn_slope_aspect(z, dx, dy)
    inner = (slice(1, -1), slice(1, -1))
    assert np.abs(slope_deg[inner] - expected_slope).max() < 0.1
    assert angle_diff_deg(aspect_deg[inner], expected_aspect).max() < 0.5
    # the same through a GeoTIFF in EPSG:4326
    path = write_dem(tmp_path / "ll.tif", z, tr, "EPSG:4326")
    tiles = list(slope_aspect_windows(path, window_rows=64))
    whole = np.vstack([t[2] for t in tiles])
    np.testing.assert_array_equal(whole, slope_deg)


# ---------------------------------------------------------------------------
# Tiles: exactly the whole-array result
# ---------------------------------------------------------------------------

def rough_dem(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    z = 300 + 40 * np.sin(x / 7.0) * np.cos(y / 11.0) + rng.normal(0, 3, (rows, cols))
    return z


@pytest.mark.parametrize("crs, transform", [
    (ALBERS, Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 2_500_000.0)),
    ("EPSG:4326", Affine(0.0003, 0.0, 108.0, 0.0, -0.0003, 24.0)),
])
@pytest.mark.parametrize("window_rows, window_cols", [(37, None), (37, 23), (1, 5), (1024, None)])
def test_tiles_equal_the_whole_array_exactly(tmp_path, crs, transform, window_rows, window_cols):
    z = rough_dem(100, 80)
    z[50:53, 40] = -9999.0  # nodata inside a tile
    z[74, 10] = -9999.0  # and on a seam when window_rows = 37 (tiles 0-36, 37-73, 74-99)
    path = write_dem(tmp_path / "dem.tif", z, transform, crs, nodata=-9999.0)
    with rasterio.open(path) as src:
        assert src.crs is not None
    z_nan = np.where(z == -9999.0, np.nan, z)
    if crs == "EPSG:4326":
        dx, dy = geographic_cell_sizes_m(transform, 100, 80)
    else:
        dx, dy = 30.0, 30.0
    slope_whole, aspect_whole = horn_slope_aspect(z_nan, dx, dy)
    slope_tiles = np.full_like(slope_whole, -1.0)
    aspect_tiles = np.full_like(aspect_whole, -1.0)
    for rs, cs, slope_deg, aspect_deg in slope_aspect_windows(path, window_rows=window_rows,
                                                               window_cols=window_cols):
        slope_tiles[rs, cs] = slope_deg
        aspect_tiles[rs, cs] = aspect_deg
    np.testing.assert_array_equal(slope_tiles, slope_whole)
    np.testing.assert_array_equal(aspect_tiles, aspect_whole)
    assert np.isnan(slope_tiles[73:76, 9:12]).all()
    assert np.isfinite(slope_tiles[36:38, 20:30]).all()  # across the first seam (rows 36|37)


# ---------------------------------------------------------------------------
# The slope-rule fraction on the analysis grid
# ---------------------------------------------------------------------------

LEFT, TOP = 1_000_000.0, 3_000_000.0  # Albers metres, multiples of 1 km


def half_steep_dem(tmp_path: Path, rows: int = 60, cols: int = 80, grade: float = 1.0) -> Path:
    """100 m DEM, flat west of LEFT + 4 km, rising eastwards (grade) beyond; kink at a pixel centre."""
    x = LEFT + (np.arange(cols) + 0.5) * 100.0
    kink = LEFT + cols * 50.0 + 50.0  # centre of the first column of the east half
    z = 200.0 + grade * np.maximum(0.0, x - kink)
    return write_dem(tmp_path / "half.tif", np.repeat(z[None, :], rows, axis=0),
                     Affine(100.0, 0.0, LEFT, 0.0, -100.0, TOP), ALBERS)


def test_flat_half_passes_and_steep_half_fails_exactly(tmp_path):
    path = half_steep_dem(tmp_path)
    grid = make_grid((LEFT, TOP - 6000.0, LEFT + 8000.0, TOP), 1000.0, crs=ALBERS)
    assert grid.shape == (6, 8)
    frac = slope_pass_fraction(path, grid, max_slope_deg=15.0, window_rows=7)
    assert frac.dtype == np.float32 and frac.shape == grid.shape
    assert np.all(frac[:, :4] == 1.0)
    assert np.all(frac[:, 4:] == 0.0)
    # the steep half passes a rule looser than 45°
    frac = slope_pass_fraction(path, grid, max_slope_deg=46.0)
    assert np.all(frac == 1.0)


def test_cells_without_dem_pixels_are_nan(tmp_path):
    path = half_steep_dem(tmp_path)
    grid = make_grid((LEFT - 2000.0, TOP - 6000.0, LEFT + 8000.0, TOP + 1000.0), 1000.0, crs=ALBERS)
    frac = slope_pass_fraction(path, grid, max_slope_deg=15.0)
    assert np.isnan(frac[0]).all() and np.isnan(frac[:, :2]).all()
    inside = frac[1:, 2:]
    assert np.all(inside[:, :4] == 1.0) and np.all(inside[:, 4:] == 0.0)


def test_geographic_dem_is_reprojected_pixel_by_pixel(tmp_path):
    # a lon/lat DEM, flat in the west, steep (rising east at ~30 %) in the east
    tr = Affine(0.001, 0.0, 105.0, 0.0, -0.001, 30.0)
    n = 200
    lat = 30.0 - (np.arange(n) + 0.5) * 0.001
    dx, _ = geographic_cell_sizes_m(tr, n, n)
    east_m = np.arange(n)[None, :] * dx[:, None]
    z = np.where(np.arange(n)[None, :] < 100, 50.0, 50.0 + 0.3 * (east_m - east_m[:, 99:100]))
    path = write_dem(tmp_path / "ll.tif", z, tr, "EPSG:4326")
    to_albers = pyproj.Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    xs, ys = to_albers.transform([105.0, 105.2, 105.0, 105.2], [lat[-1], lat[-1], lat[0], lat[0]])
    grid = make_grid((min(xs), min(ys), max(xs), max(ys)), 2000.0, crs=ALBERS, margin_m=2000.0)
    frac = slope_pass_fraction(path, grid, max_slope_deg=10.0)
    valid = np.isfinite(frac)
    assert valid.sum() > 20 and (~valid).sum() > 0  # the margin has no DEM pixel
    gx = grid.x_coords()[None, :].repeat(grid.height, 0)
    gy = grid.y_coords()[:, None].repeat(grid.width, 1)
    lon, _ = pyproj.Transformer.from_crs(ALBERS, "EPSG:4326", always_xy=True).transform(gx, gy)
    west = valid & (lon < 105.08)
    east = valid & (lon > 105.12)
    assert west.any() and east.any()
    assert np.all(frac[west] == 1.0) and np.all(frac[east] == 0.0)
    assert np.all((frac[valid] >= 0) & (frac[valid] <= 1))


def test_aspect_factor_penalises_steep_north_facing_slopes():
    aspect = np.array([0.0, 320.0, 44.0, 46.0, 180.0, 10.0, np.nan, 350.0])
    slope = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 4.0, 0.0, np.nan])
    f = aspect_factor(aspect, slope)
    np.testing.assert_array_equal(f[:7], [0, 0, 0, 1, 1, 1, 1])
    assert np.isnan(f[7]) and f.dtype == np.float32
    f = aspect_factor(aspect, slope, north_sector_deg=(330, 30), factor=0.5)
    np.testing.assert_array_equal(f[:7], [0.5, 1, 1, 1, 1, 1, 1])


def test_aspect_filter_removes_north_facing_pixels(tmp_path):
    z = plane(40, 40, 0.0, -0.15, 100.0, 100.0)  # ~8.5°, falls to the north
    path = write_dem(tmp_path / "north.tif", z, Affine(100.0, 0.0, LEFT, 0.0, -100.0, TOP), ALBERS)
    grid = make_grid((LEFT, TOP - 4000.0, LEFT + 4000.0, TOP), 1000.0, crs=ALBERS)
    assert np.all(slope_pass_fraction(path, grid, 15.0) == 1.0)
    frac = slope_pass_fraction(path, grid, 15.0, aspect_filter=functools.partial(aspect_factor, factor=0.25))
    assert np.all(frac == np.float32(0.25))


@pytest.fixture(scope="module")
def random_dem_and_grid(tmp_path_factory):
    rng = np.random.default_rng(7)
    z = np.cumsum(np.cumsum(rng.normal(0, 8, (50, 50)), axis=0), axis=1) / 5.0
    z[rng.random(z.shape) < 0.02] = -32768.0
    path = write_dem(tmp_path_factory.mktemp("dem") / "random.tif", z,
                     Affine(100.0, 0.0, LEFT, 0.0, -100.0, TOP), ALBERS, nodata=-32768.0)
    grid = make_grid((LEFT + 300.0, TOP - 5700.0, LEFT + 5700.0, TOP - 300.0), 1000.0, crs=ALBERS)
    return path, grid


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lo=st.floats(0.0, 60.0), extra=st.floats(0.0, 30.0), window_rows=st.integers(3, 60))
def test_raising_the_slope_limit_never_lowers_the_fraction(random_dem_and_grid, lo, extra, window_rows):
    path, grid = random_dem_and_grid
    f_lo = slope_pass_fraction(path, grid, lo, window_rows=window_rows)
    f_hi = slope_pass_fraction(path, grid, min(90.0, lo + extra), window_rows=window_rows)
    np.testing.assert_array_equal(np.isnan(f_lo), np.isnan(f_hi))
    ok = ~np.isnan(f_lo)
    assert np.all(f_hi[ok] >= f_lo[ok])


def test_window_size_does_not_change_the_fraction(random_dem_and_grid):
    path, grid = random_dem_and_grid
    ref = slope_pass_fraction(path, grid, 20.0, window_rows=1024, window_cols=None)
    for rows, cols in [(7, 9), (13, None), (1, 4096)]:
        np.testing.assert_array_equal(slope_pass_fraction(path, grid, 20.0, window_rows=rows, window_cols=cols), ref)


def test_fraction_equals_a_direct_count_of_the_tiled_slopes(random_dem_and_grid):
    path, grid = random_dem_and_grid
    slope_deg = np.vstack([t[2] for t in slope_aspect_windows(path, window_rows=11)])  # same CRS, 100 m pixels
    passed = np.zeros(grid.shape)
    total = np.zeros(grid.shape)
    for r in range(grid.height):
        for c in range(grid.width):
            block = slope_deg[10 * r:10 * r + 10, 10 * c:10 * c + 10]  # grid snapped to the DEM's corner
            total[r, c] = np.isfinite(block).sum()
            passed[r, c] = (block <= 12.5).sum()
    expected = np.where(total > 0, passed / np.maximum(total, 1), np.nan).astype("float32")
    np.testing.assert_array_equal(slope_pass_fraction(path, grid, 12.5, window_rows=17), expected)
    assert grid.transform.c == LEFT and grid.transform.f == TOP
    assert np.isnan(expected[-1]).all() and 0.0 < np.nanmean(expected) < 1.0


def test_dem_slope_layer_provenance(tmp_path):
    path = half_steep_dem(tmp_path)
    grid = make_grid((LEFT, TOP - 6000.0, LEFT + 8000.0, TOP), 1000.0, crs=ALBERS)
    frac, prov = dem_slope_layer(path, grid, 15.0)
    assert np.all(frac[:, :4] == 1.0)
    assert prov["path"] == str(path)
    assert prov["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert prov["resolution"] == "100 x 100 metre"
    assert "Albers" in prov["crs"] or "aea" in prov["crs"].lower()
    assert prov["method"] == ("Horn 1981 at the DEM's resolution; share of DEM pixels per analysis cell "
                              "with slope ≤ 15°")
    assert prov["grid_coverage"] == 1.0


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_dem_without_crs_is_an_error_naming_the_file(tmp_path):
    path = write_dem(tmp_path / "nocrs.tif", np.zeros((10, 10)), Affine(100.0, 0, LEFT, 0, -100.0, TOP), None)
    grid = make_grid((LEFT, TOP - 1000.0, LEFT + 1000.0, TOP), 1000.0, crs=ALBERS)
    with pytest.raises(SitingError, match=r"nocrs\.tif.*no CRS"):
        slope_pass_fraction(path, grid, 15.0)
    with pytest.raises(SitingError, match=r"nocrs\.tif.*no CRS"):
        slope_aspect_windows(path)


def test_dem_outside_the_grid_is_an_error(tmp_path):
    path = half_steep_dem(tmp_path)
    grid = make_grid((LEFT + 50_000.0, TOP - 6000.0, LEFT + 58_000.0, TOP), 1000.0, crs=ALBERS)
    with pytest.raises(SitingError, match=r"half\.tif.*does not overlap"):
        slope_pass_fraction(path, grid, 15.0)


def test_other_bad_inputs(tmp_path):
    grid = make_grid((LEFT, TOP - 1000.0, LEFT + 1000.0, TOP), 1000.0, crs=ALBERS)
    with pytest.raises(SitingError, match=r"missing\.tif.*does not exist"):
        slope_pass_fraction(tmp_path / "missing.tif", grid, 15.0)
    path = half_steep_dem(tmp_path)
    with pytest.raises(SitingError, match="max_slope_deg"):
        slope_pass_fraction(path, grid, 120.0)
    nodata = write_dem(tmp_path / "allnodata.tif", np.full((20, 20), -1.0),
                       Affine(100.0, 0, LEFT, 0, -100.0, TOP), ALBERS, nodata=-1.0)
    with pytest.raises(SitingError, match=r"allnodata\.tif.*no valid elevations"):
        slope_pass_fraction(nodata, grid, 15.0)


# ----------------------------------------------------------------------------- the DEM work follows the region


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 1000), block=st.integers(24, 90), blob=st.floats(0.02, 0.6))
def test_only_the_wanted_cells_are_computed_and_they_are_exact(tmp_path_factory, seed, block, blob):
    """A lon/lat DEM on an Albers grid: the shares of the wanted cells are exactly those computed for every cell,
    whatever the block size; blocks with no pixel in a wanted cell are skipped."""
    from siting.io.dem import slope_pass_counts_multi

    folder = tmp_path_factory.mktemp("region")
    rng = np.random.default_rng(seed)
    tr = Affine(0.001, 0.0, 105.0, 0.0, -0.001, 30.0)
    z = np.cumsum(np.cumsum(rng.normal(0, 3, (300, 300)), axis=0), axis=1)
    path = write_dem(folder / "ll.tif", z, tr, "EPSG:4326")
    to_albers = pyproj.Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    xs, ys = to_albers.transform([105.0, 105.3, 105.0, 105.3], [29.7, 29.7, 30.0, 30.0])
    grid = make_grid((min(xs), min(ys), max(xs), max(ys)), 700.0, crs=ALBERS)
    yy, xx = np.mgrid[0:grid.height, 0:grid.width]
    r2 = (blob * grid.width) ** 2  # two blobs in opposite corners: their bounding box is the whole grid
    cells = ((xx - grid.width * 0.2) ** 2 + (yy - grid.height * 0.2) ** 2 < r2) | (
        (xx - grid.width * 0.8) ** 2 + (yy - grid.height * 0.8) ** 2 < r2)
    if not cells.any():
        cells[grid.height // 2, grid.width // 2] = True
    rules = [(15.0, None), (8.0, functools.partial(aspect_factor, factor=0.0))]
    full_p, full_t = slope_pass_counts_multi(path, grid, rules, window_rows=block, window_cols=block)
    stats: dict = {}
    part_p, part_t = slope_pass_counts_multi(path, grid, rules, window_rows=block, window_cols=block, cells=cells,
                                             stats=stats)
    # pixel areas (a lon/lat DEM) summed in another order when blocks are skipped: float64 noise at most
    np.testing.assert_allclose(part_t[cells], full_t[cells], rtol=1e-12)
    for a, b in zip(part_p, full_p):
        np.testing.assert_allclose(a[cells], b[cells], rtol=1e-12)
    assert stats["pixels"] <= z.size
    if cells.mean() < 0.1 and block <= 40:
        assert stats["blocks_skipped"] > 0 and stats["pixels"] < 0.7 * z.size


def test_slope_following_the_region_gives_the_same_county_figures_at_any_tile_size(tmp_path):
    """Small tiles along a county's outline skip most of their DEM; the county figures stay those of large tiles."""
    import siting
    from siting.io.regions import counties, resolve

    from . import synthetic

    scen = synthetic.write_every_layer(tmp_path, tuple(counties(resolve("450202")).total_bounds), res_deg=0.002)
    a = siting.assess("450202", resolution_m=500.0, scenario=scen, tech="pv", draws=0, tile_cells=16)
    b = siting.assess("450202", resolution_m=500.0, scenario=scen, tech="pv", draws=0, tile_cells=400)
    assert a.counties.usable_pv_km2.tolist() == b.counties.usable_pv_km2.tolist()
    assert a.counties.removed_pv_slope_km2.tolist() == b.counties.removed_pv_slope_km2.tolist()


def test_a_grid_as_fine_as_the_dem_gives_every_cell_a_share(tmp_path):
    """Cells holding no pixel centre (a grid finer than the DEM's rows) take the pixel under their own centre;
    cells holding pixel centres keep exactly the share of those pixels."""
    path = half_steep_dem(tmp_path)  # 100 m pixels: flat in the west half, steep in the east half
    coarse = make_grid((LEFT, TOP - 6000.0, LEFT + 8000.0, TOP), 100.0, crs=ALBERS)
    fine = make_grid((LEFT, TOP - 6000.0, LEFT + 8000.0, TOP), 70.0, crs=ALBERS)  # 30 % of cells hold no centre
    frac = slope_pass_fraction(path, fine, max_slope_deg=15.0)
    x = fine.x_coords()[None, :].repeat(fine.height, 0)
    y = fine.y_coords()[:, None].repeat(fine.width, 1)
    on_dem = (x > LEFT + 100.0) & (x < LEFT + 7900.0) & (y < TOP - 100.0) & (y > TOP - 5900.0)  # off the edge ring
    assert np.isfinite(frac[on_dem]).all()
    col = np.floor((x - LEFT) / 100.0)  # the DEM column under each cell centre
    assert np.all(frac[on_dem & (col < 39)] == 1.0) and np.all(frac[on_dem & (col > 41)] == 0.0)
    # cells with their own pixel centres are unchanged: each 100 m cell of the coarse grid holds one pixel
    assert np.isfinite(slope_pass_fraction(path, coarse, max_slope_deg=15.0)).sum() == 60 * 80 - 2 * 60 - 2 * 78
