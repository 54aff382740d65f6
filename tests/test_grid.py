"""Equal-area grid and county coverage fractions: areas are conserved."""

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from siting.io import regions as region
from siting.geo.grid import CHINA_ALBERS, county_coverage, make_grid


@pytest.mark.parametrize("province", ["guangxi", "guangdong"])
@pytest.mark.parametrize("resolution_m", [1000.0, 5000.0])
def test_county_areas_add_up_to_the_geodesic_areas(province, resolution_m):
    units = region.counties(province)
    projected = units.geometry.to_crs(CHINA_ALBERS)
    grid = make_grid(tuple(projected.total_bounds), resolution_m)
    cov = county_coverage(list(projected), grid)
    grid_km2 = cov.zonal_sum(np.ones(grid.shape)) * grid.cell_area_km2
    total_geodesic = units.area_km2.sum()
    assert abs(grid_km2.sum() / total_geodesic - 1) < 0.005
    # and county by county for the larger counties
    big = units.area_km2.to_numpy() > 20 * grid.cell_area_km2
    rel = np.abs(grid_km2[big] / units.area_km2.to_numpy()[big] - 1)
    assert rel.max() < 0.02


def test_small_districts_are_not_lost():
    """A centre-of-cell rule drops districts smaller than a cell; coverage fractions keep them."""
    units = region.counties("柳州")
    projected = units.geometry.to_crs(CHINA_ALBERS)
    grid = make_grid(tuple(projected.total_bounds), 5000.0)
    cov = county_coverage(list(projected), grid)
    grid_km2 = cov.zonal_sum(np.ones(grid.shape)) * grid.cell_area_km2
    assert np.all(grid_km2 > 0)
    assert np.allclose(grid_km2, units.area_km2, rtol=0.1)


def test_grid_edges_snap_to_the_resolution():
    g = make_grid((1234.0, -5678.0, 98765.0, 43210.0), 1000.0)
    left, bottom, right, top = g.bounds
    assert all(v % 1000.0 == 0 for v in (left, bottom, right, top))
    assert left <= 1234 and right >= 98765 and bottom <= -5678 and top >= 43210


def test_albers_cells_have_equal_true_area():
    g = make_grid((-500_000.0, 2_000_000.0, 1_500_000.0, 3_500_000.0), 10_000.0)
    geod = pyproj.Geod(ellps="WGS84")
    to_ll = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True)
    for row, col in [(0, 0), (g.height - 1, g.width - 1), (g.height // 2, 3)]:
        x0 = g.transform.c + col * g.resolution_m
        y1 = g.transform.f - row * g.resolution_m
        cell = shapely.segmentize(shapely.box(x0, y1 - g.resolution_m, x0 + g.resolution_m, y1), 500.0)
        ll = shapely.transform(cell, lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])))
        area_km2 = abs(geod.geometry_area_perimeter(ll)[0]) / 1e6
        assert area_km2 == pytest.approx(g.cell_area_km2, rel=1e-4)


boxes = st.lists(
    st.tuples(st.floats(0, 40_000), st.floats(0, 40_000), st.floats(1_000, 20_000), st.floats(1_000, 20_000)),
    min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(boxes=boxes, resolution_m=st.sampled_from([700.0, 1000.0, 2500.0]))
def test_partition_areas_add_up(boxes, resolution_m):
    """Disjoint pieces of a polygon: grid areas sum to the polygon's area, each within a cell ring."""
    shapes = [shapely.box(x, y, x + w, y + h) for x, y, w, h in boxes]
    # make them disjoint: each piece minus the previous ones
    pieces, seen = [], shapely.Polygon()
    for s in shapes:
        p = s.difference(seen)
        seen = seen.union(s)
        if p.area > 0:
            pieces.append(p)
    grid = make_grid(seen.bounds, resolution_m)
    cov = county_coverage(pieces, grid, factor=16)
    km2 = cov.zonal_sum(np.ones(grid.shape)) * grid.cell_area_km2
    true = np.array([p.area for p in pieces]) / 1e6
    # supersampled at 1/16 of a cell: error bounded by the boundary length times a sub-cell
    tol = np.array([p.length for p in pieces]) * resolution_m / 16 / 1e6
    assert np.all(np.abs(km2 - true) <= tol + 1e-9)
    assert cov.region_fraction().max() <= 1.0 + 1e-6
    maj = cov.majority_zone()
    assert maj.min() >= -1 and maj.max() < len(pieces)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(1, 12), st.booleans())
def test_grouped_sums_equal_scattered_sums(seed, n, n_keys, with_nan):
    """Sums by key over runs of grouped cells equal numpy.bincount's over the same cells (NaN counted as 0), and
    every cell is counted once: the sums add up to the total."""
    from siting.geo.grid import Groups

    rng = np.random.default_rng(seed)
    size = n + int(rng.integers(0, 50))
    cells = np.sort(rng.choice(size, n, replace=False))
    keys = rng.integers(0, n_keys, n)
    values = rng.normal(size=size).astype("float32")
    if with_nan:
        values[rng.random(size) < 0.1] = np.nan
    got = Groups.of(cells, keys, whole=n == size).sum(values, n_keys)
    clean = np.nan_to_num(values[cells].astype("float64"), nan=0.0)
    want = np.bincount(keys, weights=clean, minlength=n_keys)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-9)
    assert got.sum() == pytest.approx(clean.sum(), rel=1e-12, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12))
def test_outlines_burn_exactly_as_shapely_geometries_do(seed, n):
    """The coordinate-array mappings handed to GDAL burn the same pixels as the shapely geometries themselves:
    polygons with holes, multipolygons, an empty part, and other geometry types passed through."""
    from affine import Affine
    from rasterio import features

    from siting.geo.grid import geojson_polygons

    rng = np.random.default_rng(seed)
    geoms = []
    for _ in range(n):
        x, y = rng.uniform(0, 80, 2)
        outer = shapely.Point(x, y).buffer(rng.uniform(3, 25), quad_segs=int(rng.integers(2, 12)))
        kind = rng.integers(0, 4)
        if kind == 1:  # a hole
            outer = outer.difference(shapely.Point(x, y).buffer(rng.uniform(0.5, 2.5)))
        elif kind == 2:  # several parts
            outer = shapely.MultiPolygon([outer, shapely.box(x + 30, y, x + 31 + rng.uniform(0, 9), y + 4),
                                          shapely.Polygon()])
        elif kind == 3:
            outer = shapely.LineString([(x, y), (x + 20, y + rng.uniform(-9, 9))])
        geoms.append(outer)
    mapped = geojson_polygons(geoms)
    tr = Affine(0.7, 0.0, -5.0, 0.0, -0.7, 110.0)
    a = features.rasterize([(g, i + 1) for i, g in enumerate(geoms)], out_shape=(170, 180), transform=tr,
                           dtype="int32")
    b = features.rasterize([(g, i + 1) for i, g in enumerate(mapped)], out_shape=(170, 180), transform=tr,
                           dtype="int32")
    np.testing.assert_array_equal(a, b)
    assert all(isinstance(m, dict) == (g.geom_type in ("Polygon", "MultiPolygon")) for g, m in zip(geoms, mapped))
