"""Eligibility rules: known answers on synthetic layers and invariants (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from siting.rules.eligibility import LayerArray, buffer_factor, usable_share
from siting.rules.scenario import TechSpec


def tech(rules: dict) -> TechSpec:
    return TechSpec.model_validate({"label": "t", "capacity_density_mw_per_km2": 10, "utilisation": 1,
                                    "rules": rules})


def run(spec, layers, in_region=None, res=1000.0):
    shape = next(iter(layers.values())).data.shape
    in_region = np.ones(shape, bool) if in_region is None else in_region
    steps = {}
    usable = usable_share(spec, layers, in_region, res, lambda n, d: steps.__setitem__(n, d.copy()))
    return usable, steps


def lc(arr, nodata=None):
    arr = np.asarray(arr, dtype="uint16")
    return LayerArray(arr, np.zeros(arr.shape, bool) if nodata is None else np.asarray(nodata, bool))


def test_classes_exclude_include_weights():
    land = lc([[0, 12, 10], [14, 10, 2]])
    usable, steps = run(tech({"a": {"type": "classes", "layer": "lc", "exclude": [0], "weights": {12: 0.3, 14: 0.5}}}),
                        {"lc": land})
    assert np.allclose(usable, [[0, 0.3, 1], [0.5, 1, 1]])
    usable, _ = run(tech({"a": {"type": "classes", "layer": "lc", "include": [10, 12]}}), {"lc": land})
    assert np.allclose(usable, [[0, 1, 1], [0, 1, 0]])


def test_range_rule_and_nodata_step():
    elev = LayerArray(np.array([[100.0, np.nan], [3000.0, 500.0]], dtype="float32"),
                      np.array([[False, True], [False, False]]))
    usable, steps = run(tech({"r": {"type": "range", "layer": "e", "max": 1000.0}}), {"e": elev})
    assert np.allclose(usable, [[1, 0], [0, 1]])
    assert list(steps) == ["nodata:e", "r"]
    assert steps["nodata:e"][0, 1] == 1.0 and steps["r"][1, 0] == 1.0
    # on_nodata = "pass" keeps the nodata cell
    usable, steps = run(tech({"r": {"type": "range", "layer": "e", "max": 1000.0, "on_nodata": "pass"}}), {"e": elev})
    assert "nodata:e" not in steps and usable[0, 1] == 1.0


def test_buffer_is_euclidean_in_metres():
    feat = np.zeros((21, 21), bool)
    feat[10, 10] = True
    f = buffer_factor(feat, 3000.0, 1000.0)
    yy, xx = np.mgrid[:21, :21]
    dist = np.hypot(yy - 10, xx - 10) * 1000.0
    assert np.array_equal(f == 0, dist <= 3000.0)
    assert (f == 0).sum() == 29  # lattice points within radius 3


@settings(max_examples=150, deadline=None)
@given(feat=arrays(bool, st.tuples(st.integers(1, 40), st.integers(1, 40)),
                   elements=st.sampled_from([False] * 12 + [True])),
       resolution_m=st.sampled_from([30.0, 90.0, 100.0, 250.0, 333.25, 1000.0]),
       distance_m=st.one_of(st.sampled_from([0.0, 100.0, 141.4213562373095, 500.0, 3000.0]),
                            st.floats(0.0, 8000.0, allow_nan=False)))
def test_buffer_disk_marks_the_cells_the_distance_transform_marks(feat, resolution_m, distance_m):
    """Short buffers are a disk dilation, long ones a distance transform: the same cells either way, to the metre
    of a lattice point exactly on the circle (the disk evaluates the distance as the transform does)."""
    from scipy import ndimage

    got = buffer_factor(feat, distance_m, resolution_m)
    want = np.ones(feat.shape, dtype="float32")
    if feat.any():
        want = (ndimage.distance_transform_edt(~feat, sampling=(resolution_m, resolution_m)) > distance_m)
    assert np.array_equal(got, want)


def test_buffer_disk_half_widths_are_the_lattice_points_in_the_circle():
    from siting.rules.eligibility import DISK_MAX_REACH_CELLS, disk_half_widths

    assert disk_half_widths(500.0, 100.0).tolist() == [5, 4, 4, 4, 3, 0]  # 3-4-5: (300, 400) is exactly 500 m away
    assert disk_half_widths(500.0, 1000.0).tolist() == [0]
    w = disk_half_widths(3000.0, 1000.0)
    assert w.tolist() == [3, 2, 2, 0] and (2 * w[0] + 1) + 2 * (2 * w[1:] + 1).sum() == 29  # as the test above
    # a long buffer goes to the distance transform and still marks the circle
    feat = np.zeros((81, 81), bool)
    feat[40, 40] = True
    r = DISK_MAX_REACH_CELLS + 5
    yy, xx = np.mgrid[:81, :81]
    assert np.array_equal(buffer_factor(feat, r * 100.0, 100.0) == 0, np.hypot(yy - 40, xx - 40) <= r)


def test_min_area_uses_usable_area_and_8_connectivity():
    u = np.zeros((6, 6), dtype="float32")
    u[0, 0] = u[1, 1] = 1.0  # diagonal neighbours: one patch of 2 km²
    u[4, 4] = 0.5            # 0.5 km² alone
    layers = {"f": LayerArray(u, np.zeros(u.shape, bool))}
    usable, steps = run(tech({"share": {"type": "factor", "layer": "f"},
                              "small": {"type": "min_area", "min_area_km2": 1.0}}), layers)
    assert usable[0, 0] == 1.0 and usable[1, 1] == 1.0 and usable[4, 4] == 0.0
    assert steps["small"][4, 4] == 0.5 and steps["small"].sum() == 0.5


def test_force_include_adds_back_and_is_recorded_negative():
    land = lc([[12, 12], [10, 12]])
    zone = lc([[1, 0], [0, 0]])
    spec = tech({"crop": {"type": "classes", "layer": "lc", "exclude": [12]},
                 "zone": {"type": "force_include", "layer": "z", "classes": [1], "weight": 0.8}})
    usable, steps = run(spec, {"lc": land, "z": zone})
    assert np.allclose(usable, [[0.8, 0], [1, 0]])
    assert steps["zone"][0, 0] == pytest.approx(-0.8)


def test_cells_outside_the_region_are_never_usable():
    land = lc([[10, 10], [10, 10]])
    inside = np.array([[True, False], [True, True]])
    usable, _ = run(tech({"a": {"type": "classes", "layer": "lc", "exclude": [0]}}), {"lc": land}, inside)
    assert usable[0, 1] == 0 and usable[0, 0] == 1


# ---------------------------------------------------------------- invariants
classes = arrays(np.uint16, (12, 12), elements=st.integers(0, 16))
weights = st.dictionaries(st.integers(0, 16), st.floats(0, 1), max_size=6)


def preset_like(w, excl, dist, area):
    return tech({
        "cls": {"type": "classes", "layer": "lc", "exclude": excl, "weights": w},
        "buf": {"type": "buffer", "layer": "lc", "classes": [13], "distance_m": dist},
        "min": {"type": "min_area", "min_area_km2": area},
    })


@settings(max_examples=60, deadline=None)
@given(land=classes, w=weights, excl=st.lists(st.integers(0, 16), min_size=1, max_size=4), dist=st.floats(0, 4000),
       area=st.floats(0.1, 10))
def test_waterfall_adds_up_and_usable_is_bounded(land, w, excl, dist, area):
    usable, steps = run(preset_like(w, excl, dist, area), {"lc": lc(land)})
    assert np.all(usable >= 0) and np.all(usable <= 1)
    total_removed = sum(steps.values())
    assert np.allclose(usable + total_removed, 1.0, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(land=classes, w=weights, excl=st.lists(st.integers(0, 16), min_size=1, max_size=4), extra=st.integers(0, 16),
       dist=st.floats(0, 4000), more_dist=st.floats(0, 3000), area=st.floats(0.1, 10), more_area=st.floats(0, 10),
       lower=st.floats(0, 1))
def test_a_stricter_rule_never_increases_usable_area(land, w, excl, extra, dist, more_dist, area, more_area, lower):
    base, _ = run(preset_like(w, excl, dist, area), {"lc": lc(land)})
    stricter = [
        preset_like(w, excl + [extra], dist, area),                 # one more excluded class
        preset_like(w, excl, dist + more_dist, area),               # a wider buffer
        preset_like(w, excl, dist, area + more_area),               # a larger minimum patch
        preset_like({**w, extra: min(w.get(extra, 1.0), lower)}, excl, dist, area),  # a lower weight
    ]
    for spec in stricter:
        u, _ = run(spec, {"lc": lc(land)})
        assert u.sum() <= base.sum() + 1e-6


def test_min_area_and_force_include_run_last():
    land = lc([[10, 10, 12], [10, 12, 12], [12, 12, 12]])
    spec = tech({"force": {"type": "force_include", "layer": "lc", "classes": [12], "weight": 0.1},
                 "min": {"type": "min_area", "min_area_km2": 2.5},
                 "crop": {"type": "classes", "layer": "lc", "exclude": [12]}})
    usable, steps = run(spec, {"lc": land})
    assert list(steps) == ["nodata:lc", "crop", "min", "force"]
    # the 3 grassland cells form one 3 km² patch (kept); cropland is excluded and then forced back at 0.1
    assert np.allclose(usable, np.where(land.data == 10, 1.0, 0.1))
