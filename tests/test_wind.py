"""Tests of siting.model.wind: shear, density, Weibull capacity factor, turbine files, input checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from siting.io import turbines
from siting.model import wind
from siting.errors import SitingError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TURBINES = turbines.list_turbines()
TURBINE_IDS = [t.path.stem for t in TURBINES]

try:
    from windpowerlib import power_output as wpl_power_output
except ImportError:  # optional cross-check
    wpl_power_output = None
needs_windpowerlib = pytest.mark.skipif(wpl_power_output is None, reason="windpowerlib not installed (optional cross-check)")


@pytest.fixture(scope="module")
def iea() -> wind.Turbine:
    return turbines.load_turbine("iea-3.4mw-130")


def quad_capacity_factor(curve: wind.PowerCurve, mean_ms: float, k: float, air_density_kg_m3: float = 1.225) -> float:
    """Reference: adaptive quadrature of P(v (rho/rho0)^(1/3)) x Weibull pdf, one cell."""
    scale_ms = mean_ms / special.gamma(1 + 1 / k)
    ratio = (air_density_kg_m3 / 1.225) ** (1 / 3)
    pdf = stats.weibull_min(k, scale=scale_ms).pdf
    breaks = curve.speed_ms / ratio
    total = 0.0
    edges = np.concatenate([[0.0], breaks, [breaks[-1] + 1.0]])
    for lo, hi in zip(edges[:-1], edges[1:]):
        total += integrate.quad(lambda v: curve.power_at_kw(v * ratio) * pdf(v), lo, hi, epsabs=1e-12, epsrel=1e-10, limit=200)[0]
    return total / curve.rated_power_kw


# ----------------------------------------------------------------------------- shear


def test_power_law_closed_form():
    out = wind.power_law_speed_ms(np.array([6.0, 8.0]), 100.0, 140.0, 0.2)
    np.testing.assert_allclose(out, np.array([6.0, 8.0]) * (1.4**0.2), rtol=1e-14)
    assert wind.power_law_speed_ms(7.0, 100, 100) == pytest.approx(7.0)
    np.testing.assert_allclose(wind.power_law_speed_ms(7.0, 100, 140), 7.0 * 1.4**0.143)


def test_log_law_closed_form_and_table():
    z0 = wind.roughness_length_m(np.array([10, 2, 12, 99]), "igbp")  # grassland, forest, cropland, unknown
    np.testing.assert_allclose(z0[:3], [0.075, 0.70, 0.20])
    assert np.isnan(z0[3])
    out = wind.log_law_speed_ms(7.0, 100.0, 140.0, z0)
    expected = 7.0 * np.log(140.0 / z0[:3]) / np.log(100.0 / z0[:3])
    np.testing.assert_allclose(out[:3], expected, rtol=1e-14)
    assert np.isnan(out[3])
    # rougher surface -> stronger shear
    assert out[1] > out[2] > out[0]


def test_roughness_tables_cover_every_class():
    igbp = wind.roughness_length_m(np.arange(0, 18), "igbp")
    assert np.isfinite(igbp).all() and (igbp > 0).all()
    wc = wind.roughness_length_m(np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]), "worldcover")
    assert np.isfinite(wc).all() and (wc > 0).all()
    assert wind.roughness_length_m(np.array([80]), "worldcover")[0] == wind.roughness_length_m(np.array([0]), "igbp")[0]
    assert np.isnan(wind.roughness_length_m(np.array([255, 15]), "worldcover")).all()
    with pytest.raises(SitingError, match="not worldcover classes"):
        wind.roughness_length_m(np.array([10, 15]), "worldcover", strict=True)
    with pytest.raises(SitingError, match="scheme"):
        wind.roughness_length_m([1], "corine")


# ----------------------------------------------------------------------------- air density


def test_air_density_isa():
    assert wind.air_density_kg_m3(0.0) == pytest.approx(1.225, abs=5e-4)
    # ISA tables: 1000 m -> 1.1117, 2000 m -> 1.0066, 3000 m -> 0.9093 kg/m³
    np.testing.assert_allclose(wind.air_density_kg_m3(np.array([1000.0, 2000.0, 3000.0])), [1.1117, 1.0066, 0.9093], atol=5e-4)
    # warmer than ISA -> thinner air
    assert wind.air_density_kg_m3(500.0, temperature_c=30.0) < wind.air_density_kg_m3(500.0)
    assert wind.air_density_kg_m3(0.0, temperature_c=15.0) == pytest.approx(wind.air_density_kg_m3(0.0), rel=1e-12)


def test_density_adjusted_speed_iec_formula(iea):
    rho = np.array([1.0, 1.1, 1.225, 1.3])
    np.testing.assert_allclose(wind.density_adjusted_speed_ms(8.0, rho), 8.0 * (rho / 1.225) ** (1 / 3), rtol=1e-14)
    curve = iea.power_curve
    site = wind.density_corrected_power_curve(curve, 1.1)
    v = np.linspace(2, 26, 97)
    np.testing.assert_allclose(site.power_at_kw(v), curve.power_at_kw(wind.density_adjusted_speed_ms(v, 1.1)), rtol=1e-12, atol=1e-9)
    # constant-wind CF with density equals the standard curve at the normalised speed
    np.testing.assert_allclose(
        wind.capacity_factor_constant(v, curve, 1.1), curve.power_at_kw(v * (1.1 / 1.225) ** (1 / 3)) / curve.rated_power_kw
    )


@needs_windpowerlib
def test_density_correction_matches_windpowerlib_below_7_5_ms(iea):
    """windpowerlib uses the exponent 1/3 up to 7.5 m/s (standard speed), as IEC does everywhere."""
    curve = iea.power_curve
    low = curve.speed_ms <= 7.5
    speeds, power_kw = curve.speed_ms[low], curve.power_kw[low]
    short = wind.PowerCurve(speeds, power_kw, curve.rated_power_kw)
    rho = 1.08
    v_site = np.linspace(3.2, 7.3, 50)
    ours_kw = wind.density_corrected_power_curve(short, rho).power_at_kw(v_site)
    theirs_w = wpl_power_output.power_curve_density_correction(v_site, speeds, power_kw * 1000.0, np.full(v_site.shape, rho))
    np.testing.assert_allclose(ours_kw, np.asarray(theirs_w) / 1000.0, rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- Weibull / CF


def test_weibull_scale_from_mean():
    assert wind.weibull_scale_from_mean_ms(7.0, 2.0) == pytest.approx(7.0 / math.gamma(1.5))
    assert wind.weibull_scale_from_mean_ms(7.0, 1.0) == pytest.approx(7.0)
    k = np.array([1.5, 2.0, 3.0])
    a = wind.weibull_scale_from_mean_ms(6.0, k)
    np.testing.assert_allclose(stats.weibull_min(k, scale=a).mean(), 6.0, rtol=1e-12)
    np.testing.assert_allclose(wind.weibull_mean_from_scale_ms(a, k), 6.0)
    assert wind.DEFAULT_WEIBULL_K == 2.0


@pytest.mark.parametrize("name", ["iea-3.4mw-130", "nrel-bar-lowsp-3.25mw-166", "enercon-e141-4200", "nrel-atb2020-4mw-150"])
@pytest.mark.parametrize("mean_ms,k,rho", [(5.5, 2.0, 1.225), (7.2, 1.7, 1.12), (4.0, 2.4, 1.18), (9.5, 2.2, 1.05)])
def test_weibull_cf_matches_quadrature(name, mean_ms, k, rho):
    curve = turbines.load_turbine(name).power_curve
    got = float(wind.capacity_factor(mean_ms, k, curve, air_density_kg_m3=rho))
    assert got == pytest.approx(quad_capacity_factor(curve, mean_ms, k, rho), abs=1e-4)


def test_cf_scale_input_equals_mean_input(iea):
    k = np.array([1.6, 2.0, 2.6])
    a = wind.weibull_scale_from_mean_ms(6.5, k)
    np.testing.assert_allclose(
        wind.capacity_factor(None, k, iea.power_curve, weibull_scale_ms=a), wind.capacity_factor(6.5, k, iea.power_curve), rtol=1e-12
    )
    with pytest.raises(SitingError, match="exactly one"):
        wind.capacity_factor(6.5, k, iea.power_curve, weibull_scale_ms=a)


def test_cf_degenerate_distribution_is_curve_value(iea):
    curve = iea.power_curve
    speeds = np.array([2.0, 3.3, 5.0, 6.6, 8.0, 9.0, 12.0, 20.0])
    steady = wind.capacity_factor_constant(speeds, curve)
    nearly_steady = wind.capacity_factor(speeds, 20_000.0, curve)
    np.testing.assert_allclose(nearly_steady, steady, atol=2e-4)
    np.testing.assert_allclose(steady, np.interp(speeds, curve.speed_ms, curve.power_kw, left=0, right=0) / curve.rated_power_kw)


@needs_windpowerlib
@pytest.mark.parametrize("name", ["iea-3.4mw-130", "vestas-v126-3450", "nrel-2023-bespoke-3.3mw-148"])
def test_constant_wind_matches_windpowerlib(name):
    curve = turbines.load_turbine(name).power_curve
    v = np.linspace(0, 30, 241)
    theirs_w = wpl_power_output.power_curve(v, curve.speed_ms, curve.power_kw * 1000.0)
    np.testing.assert_allclose(wind.capacity_factor_constant(v, curve), np.asarray(theirs_w) / 1000.0 / curve.rated_power_kw, atol=1e-12)


def test_cf_nan_in_nan_out_and_blocking(iea):
    rng = np.random.default_rng(1)
    mean = rng.uniform(3, 9, (37, 11))
    k = rng.uniform(1.6, 2.6, (37, 11))
    rho = rng.uniform(1.1, 1.225, (37, 11))
    mean[3, 4] = np.nan
    k[5, 6] = np.nan
    rho[7, 8] = np.nan
    whole = wind.capacity_factor(mean, k, iea.power_curve, rho)
    blocked = wind.capacity_factor(mean, k, iea.power_curve, rho, block_cells=10)
    assert whole.shape == (37, 11)
    np.testing.assert_array_equal(np.isnan(whole), np.isnan(mean) | np.isnan(k) | np.isnan(rho))
    np.testing.assert_allclose(blocked, whole, rtol=0, atol=1e-13, equal_nan=True)
    assert float(wind.capacity_factor(0.0, 2.0, iea.power_curve)) == pytest.approx(0.0, abs=1e-12)


def test_cf_rejects_bad_inputs(iea):
    with pytest.raises(SitingError, match="negative"):
        wind.capacity_factor([5.0, -1.0], 2.0, iea.power_curve)
    with pytest.raises(SitingError, match="weibull_k"):
        wind.capacity_factor(5.0, 0.0, iea.power_curve)
    with pytest.raises(SitingError, match="air_density"):
        wind.capacity_factor(5.0, 2.0, iea.power_curve, air_density_kg_m3=0.0)


@SETTINGS
@given(
    mean_ms=st.floats(0.0, 15.0),
    k=st.floats(1.1, 4.0),
    rho=st.floats(0.85, 1.3),
    index=st.integers(0, len(TURBINES) - 1),
)
def test_cf_between_0_and_1(mean_ms, k, rho, index):
    cf = float(wind.capacity_factor(mean_ms, k, TURBINES[index].power_curve, rho))
    assert 0.0 <= cf <= 1.0


@SETTINGS
@given(
    means=st.lists(st.floats(0.5, 12.0), min_size=2, max_size=20),
    k=st.floats(1.5, 3.5),
    index=st.integers(0, len(TURBINES) - 1),
)
def test_cf_non_decreasing_in_mean_speed(means, k, index):
    means_ms = np.sort(np.array(means))
    cf = wind.capacity_factor(means_ms, k, TURBINES[index].power_curve)
    assert np.all(np.diff(cf) >= -1e-12)


def test_net_capacity_factor():
    assert wind.net_capacity_factor(0.30) == pytest.approx(0.30 * 0.9 * 0.97 * 0.98)
    np.testing.assert_allclose(wind.net_capacity_factor(np.array([0.2, 0.4]), 0.0, 0.0, 0.0), [0.2, 0.4])
    with pytest.raises(SitingError, match="wake_loss"):
        wind.net_capacity_factor(0.3, wake_loss=1.2)


def test_spacing_density():
    assert wind.spacing_density_mw_per_km2(3300, 148) == pytest.approx(3.3 / (5 * 0.148 * 7 * 0.148))
    assert wind.spacing_density_mw_per_km2(3300, 148) == pytest.approx(4.30, abs=0.01)
    assert wind.spacing_density_mw_per_km2(3300, 148, 4, 8) == pytest.approx(3.3 / (4 * 0.148 * 8 * 0.148))


# ----------------------------------------------------------------------------- turbines


def test_packaged_turbines_present():
    assert 9 <= len(TURBINES) <= 14
    # the low-wind, large-rotor class: 3-5 MW, rotor 140-170 m
    low_wind = [t for t in TURBINES if 3000 <= t.rated_power_kw <= 5000 and 140 <= t.rotor_diameter_m <= 170]
    assert len(low_wind) >= 3
    # offshore classes of 8 to 16 MW with rotors of 160-260 m
    offshore = [t for t in TURBINES if 8000 <= t.rated_power_kw <= 16000 and 160 <= t.rotor_diameter_m <= 260]
    assert {round(t.rated_power_kw / 1000) for t in offshore} >= {8, 12, 15}
    assert turbines.turbines_dir().is_dir()


@pytest.mark.parametrize("turbine", TURBINES, ids=TURBINE_IDS)
def test_packaged_turbine_curve_is_sane(turbine):
    curve = turbine.power_curve
    assert np.all(np.diff(curve.speed_ms) > 0)
    assert curve.power_kw.min() >= 0
    assert curve.power_kw.max() <= 1.05 * turbine.rated_power_kw
    assert curve.power_kw.max() >= 0.999 * turbine.rated_power_kw  # rated power is reached
    assert curve.rated_power_kw == turbine.rated_power_kw
    assert turbine.name and turbine.source and turbine.licence and turbine.hub_heights_m
    assert 100 <= turbine.specific_power_w_m2 <= 450
    assert turbines.load_turbine(turbine.path.stem) == turbine
    assert turbines.load_turbine(turbine.name.upper()) == turbine
    assert turbines.load_turbine(turbine.path) == turbine


def test_unknown_turbine_name():
    with pytest.raises(SitingError, match="unknown turbine 'nope'.*iea-3.4mw-130"):
        turbines.load_turbine("nope")


GOOD_TOML = """\
name = "Test 2 MW"
rated_power_kw = 2000
rotor_diameter_m = 100
hub_heights_m = [90]
iec_class = "IIIA"
source = "made up for a test"
power_curve_speed_ms = [3, 6, 9, 12, 25]
power_curve_kw = [0, 600, 1600, 2000, 2000]
"""


def test_user_turbine_file(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD_TOML)
    turbine = turbines.load_turbine(str(path))
    assert turbine.rated_power_kw == 2000 and turbine.hub_heights_m == (90.0,)
    assert float(wind.capacity_factor_constant(7.5, turbine.power_curve)) == pytest.approx(1100 / 2000)


def test_turbine_file_is_read_once_per_version(tmp_path: Path):
    """Every tile of a wind run asks for the turbine: the file is parsed once, and again when it changes."""
    import os

    path = tmp_path / "mine.toml"
    path.write_text(GOOD_TOML)
    first = turbines.load_turbine(path)
    assert turbines.load_turbine(str(path)) is first
    path.write_text(GOOD_TOML.replace("rated_power_kw = 2000", "rated_power_kw = 2100"))
    os.utime(path, ns=(10**9, 10**9))
    again = turbines.load_turbine(path)
    assert again is not first and again.rated_power_kw == 2100


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda t: t.replace("power_curve_kw = [0, 600, 1600, 2000, 2000]\n", ""), "no power curve"),
        (lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("power_curve")), "no power curve"),
        (lambda t: t.replace("[3, 6, 9, 12, 25]", "[3, 9, 6, 12, 25]"), "strictly increasing"),
        (lambda t: t.replace("[0, 600, 1600, 2000, 2000]", "[0, -600, 1600, 2000, 2000]"), "negative power"),
        (lambda t: t.replace("[0, 600, 1600, 2000, 2000]", "[0, 600, 1600, 2000]"), "has 5 values but power_curve_kw has 4"),
        (lambda t: t.replace("[0, 600, 1600, 2000, 2000]", "[0, 600, 1600, 2000, 2500]"), "above rated"),
        (lambda t: t + "[[[", "not valid TOML"),
    ],
)
def test_bad_turbine_file_names_file(tmp_path: Path, edit, message):
    path = tmp_path / "broken.toml"
    path.write_text(edit(GOOD_TOML))
    with pytest.raises(SitingError) as err:
        turbines.load_turbine(path)
    assert "broken.toml" in str(err.value)
    assert message in str(err.value)


def test_missing_turbine_file(tmp_path: Path):
    with pytest.raises(SitingError, match="not found"):
        turbines.load_turbine(tmp_path / "absent.toml")


# ----------------------------------------------------------------------------- input checks


def test_check_wind_speed_accepts_m_s():
    values = np.array([[3.2, 5.5, np.nan], [7.1, 9.8, 12.5]])
    out = wind.check_wind_speed_ms(values, "gwa_100m.tif")
    np.testing.assert_array_equal(out, values)
    wind.check_wind_speed_ms(np.array([np.nan, np.nan]), "empty.tif")


@SETTINGS
@given(st.lists(st.floats(4.2, 11.0), min_size=5, max_size=50))
def test_check_wind_speed_rejects_km_h(values_ms):
    values_kmh = np.array(values_ms) * 3.6
    with pytest.raises(SitingError, match="km/h") as err:
        wind.check_wind_speed_ms(values_kmh, "wind_kmh.tif")
    assert "wind_kmh.tif" in str(err.value)


@SETTINGS
@given(st.lists(st.floats(0.0, 40.0), min_size=1, max_size=60), st.floats(0.0, 40.0))
def test_check_wind_speed_km_h_verdict_is_that_of_the_percentiles(values, top):
    """Whether a layer is judged km/h is what its median and 95th percentile say, also where they need not be
    found (every value at or below both thresholds)."""
    v = np.array(values + [top])
    median, p95 = np.percentile(v, [50, 95])
    kmh = median > wind.KMH_MEDIAN_THRESHOLD_MS or p95 > wind.KMH_P95_THRESHOLD_MS
    if kmh:
        with pytest.raises(SitingError, match="km/h"):
            wind.check_wind_speed_ms(v, "w.tif")
    else:
        wind.check_wind_speed_ms(v, "w.tif")


def test_check_wind_speed_rejects_negative_and_absurd():
    with pytest.raises(SitingError, match="negative") as err:
        wind.check_wind_speed_ms(np.array([5.0, -0.5, 6.0]), "speed layer")
    assert "speed layer" in str(err.value)
    values = np.full(100, 6.0)
    values[0] = 55.0
    with pytest.raises(SitingError, match="not plausible"):
        wind.check_wind_speed_ms(values, "speed layer")


def test_check_weibull_k():
    wind.check_weibull_k(np.array([1.5, 2.2, np.nan]), "k.tif")
    with pytest.raises(SitingError, match="k.tif"):
        wind.check_weibull_k(np.array([1.5, 0.0]), "k.tif")
    with pytest.raises(SitingError, match="scaled"):
        wind.check_weibull_k(np.array([150.0, 210.0]), "k.tif")


@pytest.mark.parametrize("turbine", TURBINES, ids=TURBINE_IDS)
def test_the_capacity_factor_table_matches_the_exact_integral(turbine):
    rng = np.random.default_rng(1)
    n = 20_000
    mean = rng.uniform(2.0, 15.0, n)
    k = rng.uniform(1.05, 4.4, n)
    rho = rng.uniform(1.0, 1.25, n)
    exact = wind.capacity_factor(mean, k, turbine.power_curve, rho)
    fast = wind.capacity_factor(mean, k, turbine.power_curve, rho, method="table")
    big = exact >= 0.01
    assert np.max(np.abs(fast[big] - exact[big]) / exact[big]) < 5e-4  # 0.05 %
    assert np.max(np.abs(fast - exact)) < 5e-5
    # from the Weibull scale too, and cells outside the table (k < 1, very high winds, NaN) fall back to exact
    a = mean / special.gamma(1 + 1 / k)
    assert np.allclose(wind.capacity_factor(None, k, turbine.power_curve, rho, weibull_scale_ms=a, method="table"),
                       exact, rtol=5e-4, atol=5e-5)
    odd_mean, odd_k = np.array([45.0, 7.0, np.nan, 0.2]), np.array([2.0, 0.8, 2.0, 2.0])
    assert np.allclose(wind.capacity_factor(odd_mean, odd_k, turbine.power_curve, method="table"),
                       wind.capacity_factor(odd_mean, odd_k, turbine.power_curve), equal_nan=True, rtol=1e-12)


def test_threads_asking_for_a_table_at_once_build_it_once(monkeypatch):
    """Tiles on two threads ask for the same turbine's table together: one builds it, the other waits for it."""
    import threading

    from siting.model import wind

    curve = wind.PowerCurve(speed_ms=np.array([3.0, 6.0, 12.0, 25.0]), power_kw=np.array([0.0, 500.0, 2000.0, 2000.0]),
                            rated_power_kw=2000.0)
    builds = []
    real = wind._build_table

    def counting(*args):
        builds.append(1)
        return real(*args)

    monkeypatch.setattr(wind, "_build_table", counting)
    wind._TABLES.clear()
    got = []
    threads = [threading.Thread(target=lambda: got.append(wind.capacity_factor_table(curve))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(got) == 4 and all(g is got[0] for g in got)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), shape=st.tuples(st.integers(1, 30), st.integers(1, 30)),
       with_k=st.booleans(), with_elevation=st.booleans(), hub=st.sampled_from([None, 80.0, 140.0]),
       top_speed=st.sampled_from([3.0, 12.0, 60.0]), default_k=st.sampled_from([2.0, 0.9, 1.7]))
def test_the_compiled_cell_pass_gives_the_capacity_factor_of_the_numpy_functions(seed, shape, with_k, with_elevation,
                                                                                hub, top_speed, default_k):
    """Cells inside and outside the table (calm, > 40 m/s, k below 1 or above 4.5), holes in every layer, standard
    or ISA air: the compiled pass equals air_density_kg_m3 + capacity_factor(method="table") + net_capacity_factor
    to float32 rounding, and what it leaves to them is computed by them."""
    from siting.energy import windgrid
    from siting.rules.scenario import WindModelParams

    rng = np.random.default_rng(seed)
    model = WindModelParams(weibull_k=default_k, hub_height_m=hub)
    turbine = turbines.load_turbine(model.turbine)

    def holes(a, share=0.1):
        a[rng.random(shape) < share] = np.nan
        return a

    speed = holes(rng.uniform(0.0, top_speed, shape).astype("float32"))
    speed[rng.random(shape) < 0.05] = 0.0
    k = holes(rng.uniform(0.5, 5.0, shape).astype("float32")) if with_k else None
    if k is not None:
        k[rng.random(shape) < 0.05] = -1.0
    elevation = holes(rng.uniform(-400.0, 6000.0, shape).astype("float32")) if with_elevation else None
    usable = holes(np.where(rng.random(shape) < 0.3, 0.0, rng.random(shape)).astype("float32"), 0.05)

    got = windgrid.net_capacity_factor_grid(usable, speed, k, elevation, model)
    cells = (usable > 0) & np.isfinite(speed)
    want = np.full(shape, np.nan, dtype="float32")
    if cells.any():
        want[cells] = windgrid._net_capacity_factor_at(cells, speed, k, elevation, model, turbine, None)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[cells], want[cells], rtol=np.finfo("float32").eps, atol=0)


def test_what_the_compiled_pass_leaves_to_the_numpy_functions_is_refused_as_before():
    from siting.energy import windgrid
    from siting.rules.scenario import WindModelParams

    model = WindModelParams()
    with pytest.raises(SitingError, match="negative wind speeds"):
        windgrid.net_capacity_factor_grid(np.ones((2, 2)), np.array([[5.0, -1.0], [6.0, 7.0]]), None, None, model)
    with pytest.raises(SitingError, match="11 000 m"):
        windgrid.net_capacity_factor_grid(np.ones((1, 2)), np.array([[5.0, 6.0]]), None, np.array([[0.0, 12000.0]]),
                                          model)


def test_a_table_kept_in_the_cache_folder_is_loaded_by_the_next_process_and_not_computed(monkeypatch, tmp_path):
    """The first process computes the table and keeps it; a later one (the in-process tables cleared) loads the
    same values without computing; a damaged file, or one for another curve, is computed again."""
    monkeypatch.setenv("SITING_CACHE", str(tmp_path))
    curve = wind.PowerCurve(speed_ms=np.array([3.0, 6.0, 12.0, 25.0]), power_kw=np.array([0.0, 500.0, 2000.0, 2000.0]),
                            rated_power_kw=2000.0)
    builds = []
    real = wind._build_table
    monkeypatch.setattr(wind, "_build_table", lambda *a: builds.append(1) or real(*a))
    wind._TABLES.clear()
    first = turbines.capacity_factor_table_kept(curve)
    files = list((tmp_path / "wind_tables").glob("*.npy"))
    assert len(builds) == 1 and len(files) == 1 and not list((tmp_path / "wind_tables").glob(".*"))
    wind._TABLES.clear()
    again = turbines.capacity_factor_table_kept(curve)
    assert len(builds) == 1
    np.testing.assert_array_equal(again.log_cf, first.log_cf)
    assert (again.log_mean_start, again.log_mean_step, again.k_start, again.k_step) == (
        first.log_mean_start, first.log_mean_step, first.k_start, first.k_step)
    speeds, ks = np.array([4.0, 7.5, 11.0]), np.array([1.8, 2.0, 2.4])
    np.testing.assert_array_equal(again.lookup(speeds, ks), first.lookup(speeds, ks))
    files[0].write_bytes(b"not a table")
    wind._TABLES.clear()
    turbines.capacity_factor_table_kept(curve)
    assert len(builds) == 2
    np.save(files[0], first.log_cf[:, :10])  # the wrong shape
    wind._TABLES.clear()
    turbines.capacity_factor_table_kept(curve)
    assert len(builds) == 3
    other = wind.PowerCurve(speed_ms=np.array([3.0, 6.0, 12.0, 25.0]),
                            power_kw=np.array([0.0, 600.0, 2000.0, 2000.0]), rated_power_kw=2000.0)
    turbines.capacity_factor_table_kept(other)
    assert len(builds) == 4 and len(list((tmp_path / "wind_tables").glob("*.npy"))) == 2
    wind._TABLES.clear()
