"""Stored per-pixel slope outcomes: any later grid gets the shares of a computed run, to the last bit."""

from __future__ import annotations

import functools

import numpy as np
import pyproj
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.geo.grid import make_grid
from siting.io import dem as dem_mod
from siting.io import slopecodes
from siting.io.dem import slope_pass_counts_multi
from siting.model.terrain import aspect_factor

from .test_terrain import ALBERS, write_dem

RULES = [(15.0, None), (8.0, functools.partial(aspect_factor, factor=0.5, min_slope_deg=3.0)),
         (20.0, aspect_factor)]


def lonlat_dem(folder, seed: int = 0, n: int = 240):
    rng = np.random.default_rng(seed)
    z = np.cumsum(np.cumsum(rng.normal(0, 3, (n, n)), axis=0), axis=1)
    z[rng.random(z.shape) < 0.01] = -9999.0  # nodata holes
    return write_dem(folder / f"ll{seed}.tif", z, Affine(0.001, 0.0, 105.0, 0.0, -0.001, 30.0), "EPSG:4326",
                     nodata=-9999.0)


def albers_grid(res_m: float, n: int = 240):
    to_albers = pyproj.Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    span = n * 0.001
    xs, ys = to_albers.transform([105.0, 105.0 + span, 105.0, 105.0 + span],
                                 [30.0 - span, 30.0 - span, 30.0, 30.0])
    return make_grid((min(xs), min(ys), max(xs), max(ys)), res_m, crs=ALBERS)


def counts(path, grid, codes=None, rules=RULES, block=64, **kw):
    stats: dict = {}
    passed, total = slope_pass_counts_multi(path, grid, rules, window_rows=block, window_cols=block, codes=codes,
                                            stats=stats, **kw)
    return passed, total, stats


def assert_same(a, b):
    (pa, ta, _), (pb, tb, _) = a, b
    np.testing.assert_array_equal(ta, tb)
    for x, y in zip(pa, pb):
        np.testing.assert_array_equal(x, y)


def test_a_later_grid_reads_the_stored_outcomes_and_gets_the_computed_shares_exactly(tmp_path, monkeypatch):
    path = lonlat_dem(tmp_path)
    store = tmp_path / "codes"
    fine, coarse = albers_grid(90.0), albers_grid(1000.0)  # the 90 m grid has cells without a pixel centre
    first = counts(path, fine, codes=store)
    assert first[2]["pixels_computed"] == first[2]["pixels"]
    assert_same(first, counts(path, fine))  # storing changes nothing
    expected = counts(path, coarse)

    def no_elevations(*args, **kwargs):
        raise AssertionError("the DEM's elevations were read although every pixel's outcome is stored")

    monkeypatch.setattr(dem_mod, "_read_elevation", no_elevations)
    later = counts(path, coarse, codes=store, block=50)  # other blocks, another grid: still no elevation read
    assert later[2]["pixels_computed"] == 0 < later[2]["pixels"]
    np.testing.assert_allclose(later[1], expected[1], rtol=1e-12)  # areas summed in other blocks: float noise
    for x, y in zip(later[0], expected[0]):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    assert_same(counts(path, fine, codes=store), first)  # the same blocks: the same sums, to the last bit


def test_projected_dem_plain_counts_are_identical(tmp_path):
    rng = np.random.default_rng(3)
    z = np.cumsum(np.cumsum(rng.normal(0, 6, (150, 170)), axis=0), axis=1) / 4.0
    path = write_dem(tmp_path / "p.tif", z, Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 2_500_000.0), ALBERS)
    grid = make_grid((500_000.0, 2_500_000.0 - 4500.0, 500_000.0 + 5100.0, 2_500_000.0), 250.0, crs=ALBERS)
    rules = [(10.0, None), (4.0, None)]
    counts(path, grid, codes=tmp_path / "c", rules=rules)
    warm = counts(path, grid, codes=tmp_path / "c", rules=rules)
    assert warm[2]["pixels_computed"] == 0
    assert_same(warm, counts(path, grid, rules=rules))


def test_wanted_cells_only_store_their_blocks_and_a_later_full_run_completes_the_rest(tmp_path):
    path = lonlat_dem(tmp_path, seed=1)
    grid = albers_grid(700.0)
    cells = np.zeros(grid.shape, dtype=bool)
    cells[:3, :] = True  # a band along the top: its DEM window starts where the whole grid's does
    part = counts(path, grid, codes=tmp_path / "c", cells=cells)
    full = counts(path, grid, codes=tmp_path / "c")
    assert 0 < full[2]["pixels_computed"] == full[2]["pixels"] - part[2]["pixels"]
    assert counts(path, grid, codes=tmp_path / "c")[2]["pixels_computed"] == 0
    assert_same(full, counts(path, grid))
    np.testing.assert_array_equal(part[1][cells], full[1][cells])


def test_a_run_stopped_half_way_leaves_only_right_or_unknown_bytes(tmp_path):
    path = lonlat_dem(tmp_path, seed=2)
    grid = albers_grid(500.0)
    counts(path, grid, codes=tmp_path / "c")
    (stored,) = list((tmp_path / "c").glob("*.codes"))
    raw = np.memmap(stored, dtype="uint8", mode="r+", offset=128, shape=(240, 240))
    raw[100:140, 30:200] = 0  # never written
    raw.flush()
    del raw
    again = counts(path, grid, codes=tmp_path / "c")
    assert again[2]["pixels_computed"] == 40 * 170
    assert_same(again, counts(path, grid))
    assert counts(path, grid, codes=tmp_path / "c")[2]["pixels_computed"] == 0  # filled in again


def test_a_damaged_or_foreign_store_is_rebuilt(tmp_path):
    path = lonlat_dem(tmp_path, seed=4)
    grid = albers_grid(800.0)
    counts(path, grid, codes=tmp_path / "c")
    (stored,) = list((tmp_path / "c").glob("*.codes"))
    data = bytearray(stored.read_bytes())
    data[30] ^= 0xFF  # the key in the header
    stored.write_bytes(bytes(data))
    rebuilt = counts(path, grid, codes=tmp_path / "c")
    assert rebuilt[2]["pixels_computed"] == rebuilt[2]["pixels"]
    assert_same(rebuilt, counts(path, grid))
    stored.write_bytes(stored.read_bytes()[:1000])  # cut short
    assert counts(path, grid, codes=tmp_path / "c")[2]["pixels_computed"] > 0


def test_each_dem_and_rule_set_has_its_own_store(tmp_path):
    a, b = lonlat_dem(tmp_path, seed=5), lonlat_dem(tmp_path, seed=6)
    grid = albers_grid(1000.0)
    counts(a, grid, codes=tmp_path / "c")
    assert counts(b, grid, codes=tmp_path / "c")[2]["pixels_computed"] > 0
    other = [(15.0, None), (8.0, functools.partial(aspect_factor, factor=0.25, min_slope_deg=3.0))]
    assert counts(a, grid, codes=tmp_path / "c", rules=other)[2]["pixels_computed"] > 0
    assert len(list((tmp_path / "c").glob("*.codes"))) == 3


def test_filters_whose_weights_a_byte_cannot_name_are_not_stored(tmp_path):
    shape = (10, 10)
    assert slopecodes.store_for("x" * 64, 1, shape, [(10.0, lambda a, s: a * 0 + 0.3)], tmp_path) is None
    assert slopecodes.store_for("x" * 64, 1, shape, [(10.0, functools.partial(aspect_factor, None))],
                                tmp_path) is None
    assert slopecodes.store_for("x" * 64, 1, shape, [(10.0, None)] * 4, tmp_path) is None
    assert slopecodes.filter_parameters(functools.partial(aspect_factor, factor=0.5)) == {
        "min_slope_deg": 5.0, "north_sector_deg": [315.0, 45.0], "factor": 0.5}
    path = lonlat_dem(tmp_path, seed=7)
    grid = albers_grid(1000.0)
    rules = [(10.0, lambda a, s: np.where(s > 3, 0.3, 1.0))]
    first = counts(path, grid, codes=tmp_path / "c", rules=rules)
    assert_same(first, counts(path, grid, rules=rules))
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").glob("*.codes"))


@given(mask=st.integers(1, 14).flatmap(lambda h: st.integers(1, 14).flatmap(
    lambda w: st.lists(st.booleans(), min_size=h * w, max_size=h * w).map(lambda v: np.array(v).reshape(h, w)))))
def test_the_rectangles_of_unknown_pixels_cover_each_one_once(mask):
    for band_rows in (1, 3, 64):
        covered = np.zeros(mask.shape, dtype=int)
        for r, c in slopecodes._rectangles(mask, band_rows):
            covered[r, c] += 1
        assert covered.max() <= 1 and np.all(covered[mask] == 1)
        if band_rows == 1:  # one row at a time: exactly the True pixels
            np.testing.assert_array_equal(covered, mask.astype(int))


def test_a_frame_of_unknown_pixels_leaves_the_known_middle_alone():
    mask = np.ones((200, 120), dtype=bool)
    mask[70:192, 10:110] = False  # known, away from the bands' edges: the bands in between compute two strips
    covered = np.zeros(mask.shape, dtype=int)
    for r, c in slopecodes._rectangles(mask, 64):
        covered[r, c] += 1
    assert covered[128:192, 10:110].sum() == 0 and np.all(covered[mask] == 1)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limits=st.lists(st.floats(0.0, 40.0), min_size=1, max_size=3), factor=st.sampled_from([0.0, 0.3, 1.0]),
       res_m=st.sampled_from([120.0, 333.0, 1500.0]), block=st.integers(20, 120))
def test_stored_outcomes_equal_computed_ones_for_any_rules(tmp_path_factory, limits, factor, res_m, block):
    folder = tmp_path_factory.mktemp("codes")
    path = lonlat_dem(folder, seed=8, n=150)
    grid = albers_grid(res_m, n=150)
    rules = [(lim, None if k % 2 == 0 else functools.partial(aspect_factor, factor=factor))
             for k, lim in enumerate(limits)]
    counts(path, grid, codes=folder / "c", rules=rules, block=block)
    warm = counts(path, grid, codes=folder / "c", rules=rules, block=block)
    assert warm[2]["pixels_computed"] == 0
    assert_same(warm, counts(path, grid, rules=rules, block=block))


def test_a_second_resolution_of_a_scenario_reuses_the_pixels_and_gives_the_uncached_figures(tmp_path, monkeypatch):
    import siting
    from siting.io.regions import counties, resolve

    from . import synthetic

    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "cache"))
    scen = synthetic.write_every_layer(tmp_path, tuple(counties(resolve("450202")).total_bounds), res_deg=0.002)
    siting.assess("450202", resolution_m=500.0, scenario=scen, tech="pv", draws=0)
    assert list((tmp_path / "cache" / "slope_codes").glob("*.codes"))

    read = {"warm": 0, "cold": 0}
    run = "warm"

    def counting(src, band, window):
        read[run] += int(window.width * window.height)
        return read_elevation(src, band, window)

    read_elevation = dem_mod._read_elevation
    monkeypatch.setattr(dem_mod, "_read_elevation", counting)
    warm = siting.assess("450202", resolution_m=1000.0, scenario=scen, tech="pv", draws=0)
    monkeypatch.setenv("SITING_NO_CACHE", "1")
    run = "cold"
    cold = siting.assess("450202", resolution_m=1000.0, scenario=scen, tech="pv", draws=0)
    # only the rim that 1000 m cells along the outline reach beyond the 500 m ones is read again
    assert read["warm"] < 0.2 * read["cold"]
    for col in ("usable_pv_km2", "removed_pv_slope_km2"):  # the same pixels in the same blocks: the same sums
        np.testing.assert_array_equal(warm.counties[col].to_numpy(), cold.counties[col].to_numpy())


if __name__ == "__main__":
    pytest.main([__file__])
