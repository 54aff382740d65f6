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


@settings(max_examples=20, deadline=None)
@given(boxes=boxes, resolution_m=st.sampled_from([700.0, 1000.0]), factor=st.sampled_from([1, 2, 4]))
def test_burning_in_two_bytes_gives_the_coverage_of_four(boxes, resolution_m, factor):
    """Sub-cells are burned as two-byte zone numbers while the zones fit (as four-byte ones beyond): the cells,
    zones and fractions are the same either way."""
    from siting.geo import grid as grid_mod

    polys = [shapely.box(x, y, x + w, y + h) for x, y, w, h in boxes]
    grid = make_grid(shapely.union_all(polys).bounds, resolution_m)
    assert grid_mod._burn_dtype(len(polys)) == "uint16" and grid_mod._burn_dtype(70_000) == "int32"
    two = county_coverage(polys, grid, factor=factor)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(grid_mod, "_burn_dtype", lambda n: "int32")
        four = county_coverage(polys, grid, factor=factor)
    for name in ("zone", "mixed_cell", "mixed_zone", "mixed_frac"):
        a, b = getattr(two, name), getattr(four, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(1, 12), st.booleans(), st.booleans())
def test_sums_over_runs_equal_scattered_sums(seed, n, n_keys, with_nan, with_inf):
    """Sums by key over runs of equal keys (negative: no key) equal numpy.bincount's over the same cells, NaN
    counted as 0 and infinity as the largest float of the values' type (numpy.nan_to_num), and every keyed cell is
    counted once."""
    from siting.geo.grid import Runs

    rng = np.random.default_rng(seed)
    keys = np.repeat(rng.integers(-1, n_keys, n), rng.integers(1, 30, n))  # runs, as counties in a tile's rows
    values = rng.normal(size=keys.size).astype("float32")
    values[keys < 0] = np.where(rng.random(int((keys < 0).sum())) < 0.5, np.nan, 1e30)  # off every key: unread
    if with_nan:
        values[rng.random(keys.size) < 0.1] = np.nan
    if with_inf:
        values[rng.integers(keys.size)] = np.inf
    got = Runs.of(keys).sum(values, n_keys)
    on = keys >= 0
    clean = np.nan_to_num(values[on], nan=0.0).astype("float64")
    want = np.bincount(keys[on], weights=clean, minlength=n_keys)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-9, equal_nan=False)
    assert got.sum() == pytest.approx(clean.sum(), rel=1e-12, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(0, 4))
def test_sums_of_an_array_with_a_halo_read_only_the_tile(seed, n_zones, ring):
    """Summed in place with its halo ring (whatever the ring holds: NaN, huge values), an array gives the county
    sums of its inner part, split cells' shares included; an array of another shape is refused."""
    from siting.geo.grid import Coverage

    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 25)), int(rng.integers(1, 25)))
    zone = rng.integers(-1, n_zones, shape).astype("int32")
    split = np.flatnonzero(zone.reshape(-1) < 0)[: int(rng.integers(0, 10))]
    cov = Coverage(zone=zone, mixed_cell=split, mixed_zone=rng.integers(0, n_zones, split.size).astype("int32"),
                   mixed_frac=rng.uniform(0.05, 1.0, split.size).astype("float32"), n_zones=n_zones)
    padded = np.where(rng.random((shape[0] + 2 * ring, shape[1] + 2 * ring)) < 0.5, np.nan, 1e30).astype("float32")
    inner = rng.uniform(0, 1, shape).astype("float32")
    padded[ring:ring + shape[0], ring:ring + shape[1]] = inner
    np.testing.assert_allclose(cov.zonal_sum(padded, ring), cov.zonal_sum(inner), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        cov.zonal_sum(padded, ring + 1)


def _random_coverage(rng, n_zones: int, side: int, splits: int, least_share: float):
    """A coverage of a random grid (sides below ``side``): random counties, and up to ``splits`` cells outside
    every county split between two counties, each share at least ``least_share``."""
    from siting.geo.grid import Coverage

    shape = (int(rng.integers(1, side)), int(rng.integers(1, side)))
    zone = rng.integers(-1, n_zones, shape[0] * shape[1]).astype("int32")
    split = np.flatnonzero(zone < 0)[: int(rng.integers(0, splits))]
    mixed_cell = np.repeat(split, 2)
    mixed_zone = rng.integers(0, n_zones, mixed_cell.size).astype("int32")
    mixed_frac = rng.uniform(least_share, 0.5, mixed_cell.size).astype("float32")
    return Coverage(zone=zone.reshape(shape), mixed_cell=mixed_cell, mixed_zone=mixed_zone, mixed_frac=mixed_frac,
                    n_zones=n_zones)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 9), st.booleans())
def test_sums_by_county_and_class_equal_a_cell_by_cell_sum(seed, n_zones, n_classes, with_nan):
    """Σ fraction × product of the factors per (county, class), over wholly-inside cells and split cells' shares,
    equals adding cell by cell; cells without a class and outside every county add nothing, nor do cells on which
    the quantities are not given (they are 0 there)."""
    from siting.geo.grid import CellValues

    rng = np.random.default_rng(seed)
    cov = _random_coverage(rng, n_zones, side=30, splits=20, least_share=0.05)
    shape = cov.zone.shape
    size = cov.zone.size
    zone, mixed_cell, mixed_zone, mixed_frac = cov.zone.reshape(-1), cov.mixed_cell, cov.mixed_zone, cov.mixed_frac
    cls = rng.integers(-1, n_classes, size).astype("int16")
    a = rng.uniform(0, 2, size).astype("float32")
    b = rng.uniform(0, 5, size)
    if with_nan:
        a[rng.random(size) < 0.2] = np.nan
    given = np.flatnonzero(rng.random(size) < 0.7)  # the quantities are 0 on the other cells
    b[np.setdiff1d(np.arange(size), given)] = 0.0
    got = cov.sums_by_class(cov.class_index(cls.reshape(shape), n_classes), a.reshape(shape),
                            CellValues.of(size, given, {"b": b[given], "twice b": 2 * b[given]}))
    want = np.zeros((n_zones, n_classes))
    for i in range(size):
        v = 0.0 if np.isnan(a[i]) else float(a[i]) * b[i]
        if zone[i] >= 0 and cls[i] >= 0:
            want[zone[i], cls[i]] += v
    for c, z, f in zip(mixed_cell, mixed_zone, mixed_frac):
        if cls[c] >= 0:
            want[z, cls[c]] += float(f) * (0.0 if np.isnan(a[c]) else float(a[c]) * b[c])
    assert list(got) == ["b", "twice b"]
    np.testing.assert_allclose(got["b"], want, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(got["twice b"], 2 * want, rtol=1e-12, atol=1e-9)


def _sums_by_class_numpy(cov, index, common, each) -> dict:
    """The NumPy definition of :meth:`Coverage.sums_by_class` (per quantity: gather, product, NaN as 0 and ±inf
    as ±the largest float, a bincount; the split cells' shares summed apart and added last)."""
    size = index.n_zones * index.n_classes
    c = np.asarray(common).reshape(-1)
    base = c[index.cells].astype("float64")
    mixed_at = cov.mixed_cell[index.mixed_pos] if index.mixed_pos.size else None
    base_mixed = None if mixed_at is None else c[mixed_at].astype("float64")
    factors = each.at(index.cells)
    factors_mixed = None if mixed_at is None else each.at(mixed_at)
    out = {}
    for key, f in factors.items():
        w = np.nan_to_num(base * f, nan=0.0, copy=False)
        sums = np.bincount(index.keys, weights=w, minlength=size).astype("float64", copy=False)
        if mixed_at is not None:
            wm = cov.mixed_frac[index.mixed_pos] * np.nan_to_num(base_mixed * factors_mixed[key], nan=0.0, copy=False)
            sums += np.bincount(index.mixed_keys, weights=wm, minlength=size)
        out[key] = sums.reshape(index.n_zones, index.n_classes)
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 9), st.sampled_from(["finite", "nan", "inf"]))
def test_sums_by_class_compiled_equal_the_numpy_definition_to_the_last_bit(seed, n_zones, n_classes, odd):
    """The compiled pass gives the NumPy definition's sums bit for bit: NaN and ±inf in the common factor and the
    quantities, cells where the quantities are not given, split cells with a class or without."""
    from siting.geo.grid import CellValues

    rng = np.random.default_rng(seed)
    cov = _random_coverage(rng, n_zones, side=40, splits=30, least_share=0.01)
    shape = cov.zone.shape
    size = cov.zone.size
    cls = rng.integers(-1, n_classes, size).astype("int16")
    common = rng.uniform(0, 1, size).astype("float32")
    given = np.flatnonzero(rng.random(size) < 0.6)
    quantities = {"": rng.uniform(0, 3, given.size), "energy": rng.normal(1e3, 400, given.size),
                  "cost": rng.lognormal(5, 2, given.size)}
    if odd != "finite":
        bad = {"nan": np.nan, "inf": np.inf}[odd]
        common[rng.random(size) < 0.1] = bad
        quantities["energy"][rng.random(given.size) < 0.1] = -bad
    each = CellValues.of(size, given, quantities)
    index = cov.class_index(cls.reshape(shape), n_classes)
    got = cov.sums_by_class(index, common.reshape(shape), each)
    want = _sums_by_class_numpy(cov, index, common.reshape(shape), each)
    assert list(got) == list(want)
    for key in want:
        assert got[key].tobytes() == want[key].tobytes(), key


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


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), f=st.integers(1, 8), rows=st.integers(1, 9), cols=st.integers(1, 9))
def test_block_min_max_are_those_of_each_block(seed, f, rows, cols):
    """The strided passes county_coverage uses give each f x f block's smallest and largest sub-cell value."""
    from siting.geo.grid import _block_min_max

    fine = np.random.default_rng(seed).integers(-3, 4, (rows * f, cols * f)).astype("int32")
    blocks = fine.reshape(rows, f, cols, f).transpose(0, 2, 1, 3).reshape(rows, cols, f * f)
    lo, hi = _block_min_max(fine, f)
    np.testing.assert_array_equal(lo, blocks.min(axis=2))
    np.testing.assert_array_equal(hi, blocks.max(axis=2))


@settings(max_examples=30, deadline=None)
@given(boxes=boxes, resolution_m=st.sampled_from([700.0, 1000.0]), factor=st.sampled_from([1, 2, 4]))
def test_present_zones_and_the_centre_of_cell_rule(boxes, resolution_m, factor):
    """The counties a tile has are those of its whole cells and of its split cells; at one sub-cell per cell every
    cell takes the polygon burned last over its centre (GDAL's rule), with no split cells."""
    from rasterio import features

    polys = [shapely.box(x, y, x + w, y + h) for x, y, w, h in boxes]
    grid = make_grid(shapely.union_all(polys).bounds, resolution_m)
    cov = county_coverage(polys, grid, factor=factor)
    want = np.unique(np.concatenate([cov.zone[cov.zone >= 0], cov.mixed_zone]))
    assert cov.present_zones().dtype == np.int64 and np.array_equal(cov.present_zones(), want)
    if factor == 1:
        burned = features.rasterize([(p, i + 1) for i, p in enumerate(polys)], out_shape=grid.shape,
                                    transform=grid.transform, fill=0, dtype="int32")
        assert np.array_equal(cov.zone, burned - 1) and cov.mixed_cell.size == 0


@settings(max_examples=25, deadline=None)
@given(boxes=boxes, resolution_m=st.sampled_from([700.0, 1000.0]), factor=st.sampled_from([1, 2, 4]),
       strip_rows=st.sampled_from([1, 3, 7]))
def test_the_strips_burned_do_not_change_the_coverage(boxes, resolution_m, factor, strip_rows):
    """Outlines are clipped to each strip they are burned in (with a margin): narrow strips and the default (a
    whole tile at one sub-cell per cell) give the same cells, zones and fractions."""
    polys = [shapely.Polygon(shapely.box(x, y, x + w, y + h).exterior.coords).buffer(w / 7, quad_segs=3)
             for x, y, w, h in boxes]
    grid = make_grid(shapely.union_all(polys).bounds, resolution_m)
    a = county_coverage(polys, grid, factor=factor, strip_rows=strip_rows)
    b = county_coverage(polys, grid, factor=factor)
    for name in ("zone", "mixed_cell", "mixed_zone", "mixed_frac"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
