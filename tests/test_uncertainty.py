"""Uncertainty draws: the default draw is the deterministic answer, percentiles are ordered, a weight draw
matches a real run with that weight, and sums of draws (not sums of percentiles) make the subtotals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import siting
from siting.model.uncertainty import Assumption, TechInputs, percentiles, tech_draws, triangular_draws

from . import synthetic

WEIGHTED = synthetic.SCENARIO.replace('exclude = [0, 12]', 'exclude = [0]\nweights = { 12 = 0.5 }') + '''
[pv.ranges]
utilisation = { low = 0.3, high = 0.7, source = "test" }
capacity_density_mw_per_km2 = { low = 30.0, high = 50.0, source = "test" }
"weights.crop_water.12" = { low = 0.2, high = 0.8, source = "test" }
'''


def _assess(tmp_path, text, **kw):
    raster = synthetic.write_classes(tmp_path)
    scen = tmp_path / "s.toml"
    scen.write_text(text.replace("{raster}", raster.name), encoding="utf-8")
    return siting.assess(boundaries=synthetic.write_boundaries(tmp_path), id_column="code", name_column="name",
                         scenario=scen, tech="pv", **kw)


def test_default_draw_is_the_deterministic_table(tmp_path):
    a = _assess(tmp_path, WEIGHTED)
    defaults = np.array([[x.default for x in a.ranges.assumptions]])
    mw, _ = tech_draws("pv", a.ranges.inputs["pv"], a.ranges.assumptions, defaults)
    np.testing.assert_allclose(mw[0], a.counties["capacity_pv_mwp"], rtol=1e-12)


def test_a_weight_draw_equals_a_run_with_that_weight(tmp_path):
    """The sums a run keeps predict exactly what a run with another weight gives (no other rule interferes)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _assess(tmp_path / "a", WEIGHTED)
    b = _assess(tmp_path / "b", WEIGHTED.replace("weights = { 12 = 0.5 }", "weights = { 12 = 0.2 }").replace(
        '"weights.crop_water.12" = { low = 0.2', '"weights.crop_water.12" = { low = 0.1'))
    draw = np.array([[{"weights.crop_water.12": 0.2}.get(x.key, x.default) for x in a.ranges.assumptions]])
    mw, _ = tech_draws("pv", a.ranges.inputs["pv"], a.ranges.assumptions, draw)
    np.testing.assert_allclose(mw[0], b.counties["capacity_pv_mwp"], rtol=1e-7)  # float32 shares in the engine


def test_percentile_columns_and_subtotals(tmp_path):
    a = _assess(tmp_path, WEIGHTED)
    c = a.counties
    assert (c["capacity_pv_mwp_p10"] <= c["capacity_pv_mwp_p50"]).all()
    assert (c["capacity_pv_mwp_p50"] <= c["capacity_pv_mwp_p90"]).all()
    assert (c["capacity_pv_mwp_p10"] < c["capacity_pv_mwp"]).all() and (c["capacity_pv_mwp"] < c["capacity_pv_mwp_p90"]).all()
    total = a.totals.iloc[-1]
    # the total's percentiles are those of the summed draws (one draw applies to every county at once)
    mw, _ = a.draw()["pv"]
    assert total["capacity_pv_mwp_p90"] == pytest.approx(np.percentile(mw.sum(axis=1), 90), rel=1e-12)
    assert total["capacity_pv_mwp_p10"] == pytest.approx(np.percentile(mw.sum(axis=1), 10), rel=1e-12)
    again = _assess(tmp_path, WEIGHTED)
    assert again.counties["capacity_pv_mwp_p50"].tolist() == c["capacity_pv_mwp_p50"].tolist()  # seeded
    none = _assess(tmp_path, WEIGHTED, draws=0)
    assert "capacity_pv_mwp_p50" not in none.counties


def test_inherited_range_that_no_longer_applies_is_noted(tmp_path):
    text = WEIGHTED.replace("utilisation = 0.5\n", "utilisation = 0.9\n", 1)
    a = _assess(tmp_path, text)
    assert any("range utilisation not used: the default 0.9 lies outside" in n for n in a.ranges.notes)


@settings(max_examples=30, deadline=None)
@given(density=st.floats(1, 100), bump=st.floats(0.0, 50), util=st.floats(0.01, 1.0))
def test_more_density_never_gives_less_capacity(density, bump, util):
    inputs = TechInputs(usable_km2=np.array([10.0, 0.0, 3.5]), density_mw_per_km2=density, utilisation=util)
    ass = [Assumption("wind", "capacity_density_mw_per_km2", density, density, density + bump)]
    lo, _ = tech_draws("wind", inputs, ass, np.array([[density]]))
    hi, _ = tech_draws("wind", inputs, ass, np.array([[density + bump]]))
    assert (hi >= lo).all()


def test_triangular_draws_stay_in_range_and_centre_on_the_mode():
    ass = [Assumption("pv", "utilisation", 0.14, 0.05, 0.30), Assumption("pv", "soiling_loss", 0.03, 0.03, 0.03)]
    d = triangular_draws(ass, 20_000, seed=1)
    assert d[:, 0].min() >= 0.05 and d[:, 0].max() <= 0.30 and (d[:, 1] == 0.03).all()
    assert d[:, 0].mean() == pytest.approx((0.05 + 0.14 + 0.30) / 3, abs=0.003)
    p = percentiles(d[:, 0])
    assert p[10] < p[50] < p[90]


def test_losses_scale_energy_not_capacity():
    inputs = TechInputs(usable_km2=np.array([10.0]), energy_gwh=np.array([5000.0]), density_mw_per_km2=36,
                        utilisation=0.1)
    ass = [Assumption("pv", "soiling_loss", 0.035, 0.02, 0.06)]
    mw, gwh = tech_draws("pv", inputs, ass, np.array([[0.035], [0.06]]))
    assert mw[0, 0] == mw[1, 0]
    assert gwh[1, 0] / gwh[0, 0] == pytest.approx((1 - 0.06) / (1 - 0.035))


@pytest.mark.slow
def test_guangxi_sensitivity_names_the_big_assumptions(guangxi):
    df = guangxi.sensitivity()
    assert df.iloc[0]["assumption"] in {f"{t}.utilisation" for t in ("pv", "agri_pv", "wind")} | {
        "wind.capacity_density_mw_per_km2"}
    assert (df["swing_share"].diff().dropna() <= 1e-12).all()
    assert {"pv.irradiance_factor", "wind.wake_loss"} <= set(df["assumption"])


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=40),
       seed=st.integers(0, 2**31 - 1))
def test_percentiles_of_every_group_at_once_equal_those_of_each_groups_sums(labels, seed):
    """P10/P50/P90 of cities and provinces, computed for all groups in one pass, are those of each group's
    summed draws (up to the order of the additions); the county columns are numpy's percentiles exactly."""
    from siting import columns as C
    from siting.engine.ranges import RangeModel

    groups = pd.factorize(pd.Series(labels))[0]
    rng = np.random.default_rng(seed)
    mw = rng.gamma(2.0, 50.0, (300, len(labels)))
    gwh = mw * rng.uniform(1.0, 2.0, len(labels))
    draws = {"pv": (mw, gwh), "wind": (mw[::-1] * 0.5, None)}
    model = RangeModel(np.arange(len(labels)), [], {})
    whole, by_group = model.group_columns(draws, np.zeros(len(labels), dtype=np.intp), groups)
    per_county = model.columns(draws)
    named = [(C.capacity_column("pv"), mw), (C.energy_column("pv"), gwh), (C.capacity_column("wind"), mw[::-1] * 0.5)]
    assert set(whole) == set(per_county) == {f"{n}_p{q}" for n, _ in named for q in (10, 50, 90)}
    for name, samples in named:
        for i, q in enumerate((10, 50, 90)):
            assert np.array_equal(per_county[f"{name}_p{q}"], np.percentile(samples, q, axis=0))
            assert whole[f"{name}_p{q}"][0] == pytest.approx(np.percentile(samples.sum(axis=1), q), rel=1e-12)
            for g in range(groups.max() + 1):
                expect = np.percentile(samples[:, groups == g].sum(axis=1), q)
                assert by_group[f"{name}_p{q}"][g] == pytest.approx(expect, rel=1e-12)
