"""The compiled per-pixel slope outcomes and their per-cell sums equal the NumPy definitions, to the last bit."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siting.io import slopecodes
from siting.model import dempixels
from siting.model.terrain import aspect_factor, geographic_cell_sizes_m, horn_slope_aspect

from .test_slopecodes import albers_grid, assert_same, counts, lonlat_dem


def reference(z, dx, dy, inner, rules):
    """``(has_slope, passes, weights)`` of the pixels in ``inner`` from the NumPy functions."""
    slope, aspect = horn_slope_aspect(z, dx, dy)
    slope, aspect = slope[inner], aspect[inner]
    has_slope = ~np.isnan(slope)
    passes, weights = [], []
    for rule in rules:
        with np.errstate(invalid="ignore"):
            passes.append(slope <= rule["max_slope_deg"])
        if rule.get("factor") is None:
            weights.append(np.ones(slope.shape))
        else:
            kw = {k: rule[k] for k in ("min_slope_deg", "north_sector_deg", "factor")}
            weights.append(np.nan_to_num(aspect_factor(aspect, slope, **kw).astype("float64"), nan=1.0))
    return has_slope, passes, weights


def assert_codes_match(z, dx, dy, inner, rules):
    codes = dempixels.slope_codes(z, dx, dy, inner, rules)
    assert np.all(codes & 0x80)
    has_slope, passes, weights = dempixels.decode_codes(codes, dempixels.byte_weights(rules))
    ref_has, ref_passes, ref_weights = reference(z, dx, dy, inner, rules)
    np.testing.assert_array_equal(has_slope, ref_has)
    for k in range(len(rules)):
        np.testing.assert_array_equal(passes[k], ref_passes[k])
        # a passing pixel's weight is the factor's, to the last bit
        np.testing.assert_array_equal(weights[k][passes[k]], ref_weights[k][ref_passes[k]])
    return codes


rule_st = st.fixed_dictionaries({"max_slope_deg": st.floats(0.0, 89.9)}) | st.fixed_dictionaries({
    "max_slope_deg": st.floats(0.0, 89.9), "min_slope_deg": st.floats(0.0, 20.0),
    "north_sector_deg": st.tuples(st.floats(-30.0, 400.0), st.floats(-30.0, 400.0)),
    "factor": st.sampled_from([0.0, 0.25, 0.5, 1.0, 0.1])})


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.tuples(st.integers(1, 40), st.integers(1, 40)),
       rules=st.lists(rule_st, min_size=1, max_size=3), step_m=st.sampled_from([1.0, 30.0, 92.6]),
       relief=st.sampled_from([0.0, 1.0, 10.0, 100.0]), integer=st.booleans(), holes=st.floats(0.0, 0.3),
       geographic=st.booleans(), data=st.data())
def test_the_outcome_bytes_are_those_of_horn_slope_aspect_and_aspect_factor(seed, shape, rules, step_m, relief,
                                                                             integer, holes, geographic, data):
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, relief, shape).cumsum(axis=0).cumsum(axis=1)
    if integer:  # whole metres on whole-metre pixels: slopes that land exactly on 45° and other round bounds
        z = np.round(z)
    z[rng.random(shape) < holes] = np.nan
    if geographic:  # east-west size varying by row, as a longitude/latitude DEM has it
        from affine import Affine
        dx, dy = geographic_cell_sizes_m(Affine(0.001, 0.0, 105.0, 0.0, -0.001, 45.0), shape[0])
        dx, dy = np.broadcast_to(dx, (shape[0],)).copy(), np.broadcast_to(dy, (shape[0],)).copy()
    else:
        dx, dy = np.full(shape[0], step_m), np.full(shape[0], step_m)
    r0 = data.draw(st.integers(0, shape[0] - 1))
    r1 = data.draw(st.integers(r0 + 1, shape[0]))
    c0 = data.draw(st.integers(0, shape[1] - 1))
    c1 = data.draw(st.integers(c0 + 1, shape[1]))
    assert_codes_match(z, dx, dy, (slice(r0, r1), slice(c0, c1)), rules)


def test_slopes_on_the_bound_pass_and_flat_pixels_keep_weight_one():
    # planes of gradient exactly 1 (45°) and 0.5, facing north, south, east, north-east (aspect 45°: on the
    # sector's bound) and flat
    rows, cols = np.mgrid[0:12, 0:12].astype("float64")
    rules = [{"max_slope_deg": 45.0},
             {"max_slope_deg": float(np.degrees(np.arctan(0.5))), "min_slope_deg": 0.0,
              "north_sector_deg": (315.0, 45.0), "factor": 0.5},
             {"max_slope_deg": 90.0, "min_slope_deg": 5.0, "north_sector_deg": (45.0, 90.0), "factor": 0.0}]
    one = np.ones(12)
    for z in (rows.copy(), -rows, 0.5 * rows, 0.5 * cols, -cols, rows - cols, np.zeros((12, 12))):
        codes = assert_codes_match(z, one, one, (slice(0, 12), slice(0, 12)), rules)
        assert np.all(codes[1:-1, 1:-1] & 1) and not np.any(codes[0] & 1)
    # gradient 1 passes "≤ 45°" exactly, as NumPy's arctan gives 45.0
    codes = dempixels.slope_codes(rows, one, one, (slice(1, 11), slice(1, 11)), rules)
    assert np.all(codes & 0b10)
    # facing north-east (aspect exactly 45°: the end of rule 1's sector, the start of rule 2's) at 19.5°: both
    # pass and are penalised
    codes = dempixels.slope_codes(0.25 * (rows - cols), one, one, (slice(1, 11), slice(1, 11)), rules)
    assert np.all(codes == 0b11111011)


def test_the_per_cell_sums_equal_bincount_to_the_last_bit():
    rng = np.random.default_rng(3)
    shape, n_cells = (70, 90), 40
    codes = (rng.integers(0, 128, shape) | 0x80).astype("uint8")
    cell = rng.integers(5, n_cells + 1, shape).astype("float64")  # n_cells: off the grid
    rules = [{"max_slope_deg": 10.0}, {"max_slope_deg": 5.0, "min_slope_deg": 1.0,
                                       "north_sector_deg": (315.0, 45.0), "factor": 0.3}]
    table = dempixels.byte_weights(rules)
    row_area = rng.uniform(8000.0, 9000.0, shape[0])
    for area in (None, row_area):
        lo, total, passed = dempixels.sum_codes(codes, cell, n_cells, table, area)
        has_slope, passes, weights = dempixels.decode_codes(codes, table)
        keep = has_slope & (cell < n_cells)
        idx = cell[keep].astype(np.intp)
        assert lo == idx.min()
        a = None if area is None else np.broadcast_to(area[:, None], shape)[keep]
        np.testing.assert_array_equal(total, np.bincount(idx, weights=a, minlength=n_cells)[lo:idx.max() + 1])
        for k in range(len(rules)):
            w = (passes[k] * weights[k])[keep] * (1.0 if a is None else a)
            np.testing.assert_array_equal(passed[k], np.bincount(idx, weights=w)[lo:])
    assert dempixels.sum_codes(codes & 0xFE, cell, n_cells, table, None) is None  # no pixel with a slope


def test_more_than_three_rules_do_not_fit_a_byte():
    with pytest.raises(ValueError):
        dempixels.slope_codes(np.zeros((3, 3)), np.ones(3), np.ones(3), (slice(0, 3), slice(0, 3)),
                              [{"max_slope_deg": 5.0}] * 4)
    assert slopecodes.coded_rules([(5.0, None)] * 4) is None
    assert slopecodes.coded_rules([(5.0, lambda aspect, slope: slope * 0 + 1)]) is None


@pytest.mark.parametrize("res_m", [90.0, 333.0, 1500.0])
def test_the_compiled_counts_equal_the_numpy_counts(tmp_path, monkeypatch, res_m):
    path = lonlat_dem(tmp_path, seed=4, n=200)
    grid = albers_grid(res_m, n=200)
    rules = [(12.0, None), (6.0, functools.partial(aspect_factor, factor=0.5, min_slope_deg=2.0)),
             (30.0, functools.partial(aspect_factor, north_sector_deg=(200.0, 250.0)))]
    compiled = counts(path, grid, rules=rules, block=50)
    monkeypatch.setattr(slopecodes, "coded_rules", lambda rules: None)
    numpy_path = counts(path, grid, rules=rules, block=50)
    assert compiled[2]["pixels"] == numpy_path[2]["pixels"]
    assert_same(compiled, numpy_path)


if __name__ == "__main__":
    pytest.main([__file__])
