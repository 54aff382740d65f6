"""Targets: units, qualifiers, region selection, comparison; allocation and the supply curve."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siting import SitingError
from siting.reference.allocate import allocate, supply_blocks, supply_curve
from siting.io.regions import resolve
from siting.reference.targets import compare, load_targets, parse_qualifier, targets_for, to_mw


@pytest.mark.parametrize("value, unit, mw", [(7000, "万千瓦", 70_000), (12, "亿千瓦", 1_200_000), (1, "GW", 1000),
                                             (800, "MW", 800), ("1.7", "亿千瓦", 170_000), (50, "%", np.nan)])
def test_units(value, unit, mw):
    got = to_mw(value, unit)
    assert (np.isnan(got) and np.isnan(mw)) or got == pytest.approx(mw)


def test_shipped_table_agrees_with_its_own_gw_column():
    t = load_targets()
    assert len(t) == 401
    both = t[t.value_mw.notna() & t.value_GW.notna()]
    assert len(both) > 100
    assert np.allclose(both.value_mw / 1000.0, both.value_GW)


@pytest.mark.parametrize("text, floor, approx, aspir", [
    ("以上", True, False, False), ("左右", False, True, False), ("力争", False, False, True),
    ("力争…左右", False, True, True), ("力争超过", True, False, True), ("不低于", True, False, False),
    (None, False, False, False)])
def test_qualifiers(text, floor, approx, aspir):
    q = parse_qualifier(text)
    assert (q.floor, q.approximate, q.aspirational) == (floor, approx, aspir)


def test_qualifier_semantics():
    assert parse_qualifier("以上").met(100.0, 100.0) and not parse_qualifier("以上").met(99.0, 100.0)
    assert parse_qualifier("左右").met(96.0, 100.0) and not parse_qualifier("左右").met(94.0, 100.0)
    assert parse_qualifier("(以上?)").uncertain


def test_guangxi_targets_include_its_cities():
    t = targets_for(resolve("guangxi"), load_targets(), 2030)
    assert set(t.jurisdiction_zh) == {"广西壮族自治区", "南宁市", "柳州市"}
    assert (t[t.adcode == "450000"].value_mw == 70_000).all()
    gd = targets_for(resolve("广东"), load_targets(), 2030)
    assert 74_000 in set(gd.value_mw)


def test_comparison_honours_scope_and_increments():
    table = pd.DataFrame({"adcode": ["450000", "450200"], "capacity_pv_mwp": [50_000.0, 3_000.0],
                          "capacity_wind_mw": [30_000.0, 2_000.0]})
    t = targets_for(resolve("guangxi"), load_targets())
    cmp = compare(table, t, {"450000": {"pv": 2_000.0}})
    gx30 = cmp[(cmp.adcode == "450000") & (cmp.target_year == 2030)]
    assert (gx30.achievable_mw == 80_000).all() and np.allclose(gx30.ratio, 80_000 / 70_000)
    assert gx30.meets.all() and gx30.note.str.contains("offshore wind").all()
    lz = cmp[(cmp.adcode == "450200") & (cmp.target_year == 2030)].iloc[0]
    assert lz.achievable_mw == 5_000 and lz.meets is False and lz.headroom_mw == -2_000
    inc = cmp[cmp.target_type == "increment"].iloc[0]  # ≥10 GW new centralised PV by 2025
    assert inc.achievable_mw == 50_000 and inc.headroom_mw == pytest.approx(50_000 - 2_000 - 10_000)
    assert "centralised" in inc.metric and "rooftop" not in inc.note


def test_user_targets_file_is_checked(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("row_id,category,value\n1,x,2\n", encoding="utf-8")
    with pytest.raises(SitingError, match="t.csv: missing columns"):
        load_targets(p)


def test_report_year_on_guangxi(guangxi):
    cmp = guangxi.compare_targets(2030)
    gx = cmp[(cmp.adcode == "450000") & (cmp.scope == "wind+pv")]
    assert len(gx) == 2 and (gx.target_mw == 70_000).all()
    computed = ["capacity_pv_mwp", "capacity_agri_pv_mwp", "capacity_rooftop_pv_mwp", "capacity_wind_mw",
                "capacity_offshore_mw"]
    assert np.allclose(gx.achievable_mw, guangxi.totals.iloc[-1][computed].sum())  # every component computed


# ---------------------------------------------------------------- allocation
def county_table(caps_pv, caps_wind, yields):
    n = len(caps_pv)
    return pd.DataFrame({"adcode": [f"{i:06d}" for i in range(n)], "name_zh": [f"c{i}" for i in range(n)],
                         "capacity_pv_mwp": caps_pv, "capacity_wind_mw": caps_wind,
                         "specific_yield_kwh_per_kwp": yields})


caps = st.lists(st.floats(0, 5_000), min_size=1, max_size=30)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), method=st.sampled_from(["merit", "proportional"]), target=st.floats(1, 200_000))
def test_allocation_sums_to_target_and_respects_capacity(data, method, target):
    pv = data.draw(caps)
    n = len(pv)
    wind = data.draw(st.lists(st.floats(0, 5_000), min_size=n, max_size=n))
    ylds = data.draw(st.lists(st.floats(800, 1_800), min_size=n, max_size=n))
    df = county_table(pv, wind, ylds)
    if sum(pv) + (sum(wind) if method == "proportional" else 0) <= 0:
        return
    res = allocate(df, target, method)
    blocks = res.blocks
    assert (blocks.allocated_mw <= blocks.capacity_mw + 1e-6).all() and (blocks.allocated_mw >= -1e-9).all()
    available = blocks.capacity_mw.sum()
    assert res.allocated_mw == pytest.approx(min(target, available), rel=1e-9, abs=1e-6)
    assert res.shortfall_mw == pytest.approx(max(0.0, target - available), abs=1e-6)
    if method == "merit":  # wind has no yield here: left out and said so
        assert set(blocks.tech) <= {"pv"}
        assert any("no energy yield" in n for n in res.notes) or sum(wind) <= 1e-9 * len(wind)


@settings(max_examples=60, deadline=None)
@given(pv=caps, seed=st.integers(0, 1000))
def test_supply_curve_is_monotone(pv, seed):
    rng = np.random.default_rng(seed)
    df = county_table(pv, [0.0] * len(pv), rng.uniform(900, 1700, len(pv)))
    curve = supply_curve(supply_blocks(df))
    assert (np.diff(curve.yield_mwh_per_mw) <= 1e-12).all()
    assert (np.diff(curve.cumulative_mw) >= 0).all()
    assert curve.cumulative_mw.iloc[-1] == pytest.approx(sum(c for c in pv if c > 0)) if len(curve) else True


def test_merit_takes_the_best_first():
    df = county_table([100.0, 100.0, 100.0], [0.0, 0.0, 0.0], [1000.0, 1500.0, 1200.0])
    res = allocate(df, 150.0, "merit")
    got = res.counties.set_index("name_zh").allocated_mw
    assert got["c1"] == 100 and got["c2"] == 50 and got.get("c0", 0) == 0


def test_bad_allocation_inputs():
    df = county_table([100.0], [0.0], [1000.0])
    with pytest.raises(SitingError, match="--method"):
        allocate(df, 10, "random")
    with pytest.raises(SitingError, match="0 or more"):
        allocate(df, -5)


def test_allocate_guangxi_2030(guangxi, tmp_path):
    res = guangxi.allocate(year=2030, method="proportional")
    assert res.target_total_mw == 70_000 and res.allocated_mw == pytest.approx(70_000 - res.existing_mw)
    from siting.columns import capacity_column

    caps = guangxi.counties.set_index("adcode")[[capacity_column(t) for t in guangxi.technologies]].sum(axis=1)
    got = res.counties.set_index("adcode").allocated_mw
    assert (got <= caps.loc[got.index] + 1e-6).all()
    from siting.reference.allocate import plot_supply_curve

    curve = supply_curve(supply_blocks(guangxi.counties))
    plot_supply_curve(curve, 70_000, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 10_000
