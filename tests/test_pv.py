"""Tests of the vectorised PV yield model: each step against pvlib, then the whole model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.energy import pvyield
from siting.io import irradiance
from siting.model import solar as pv
from siting.errors import SitingError

# MERRA-2 (2011-2015) monthly mean GHI, W/m², of the 3° cell that holds Nanning (22.8N, 108.3E),
# as returned by siting.io.layers.merra2_monthly_ghi_w_m2(); used if that data package is missing.
NANNING_MERRA2_W_M2 = np.array([135.8, 162.4, 186.9, 214.8, 221.7, 214.5, 235.1, 224.7, 221.5, 198.6, 160.0, 149.9])
RNG = np.random.default_rng(42)
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def axis():
    return pv.time_axis(2019)


def nanning_ghi() -> np.ndarray:
    try:
        from siting.io.layers import merra2_monthly_ghi_w_m2

        ghi, transform, _ = merra2_monthly_ghi_w_m2()
    except Exception:  # data package not installed
        return NANNING_MERRA2_W_M2
    col, row = ~transform @ (108.3, 22.8)
    return ghi[:, int(row), int(col)].astype("float64")


# ----------------------------------------------------------------------------- step 1: time axis


def test_time_axis_hour_centred_utc(axis):
    times = axis.times_utc
    assert len(times) == 8760 and str(times.tz) == "UTC"
    assert times[0] == pd.Timestamp("2019-01-01 00:30", tz="UTC")
    assert times[-1] == pd.Timestamp("2019-12-31 23:30", tz="UTC")
    assert axis.hours_per_month.sum() == 8760 and axis.hours_per_month[1] == 28 * 24
    assert len(pv.hourly_times_utc(2020)) == 8784


# ----------------------------------------------------------------------------- step 2: solar position


@pytest.mark.parametrize("lat_deg,lon_deg", [(18.3, 109.5), (22.8, 108.3), (31.2, 121.5), (45.8, 126.6)])
def test_solar_position_within_half_degree_of_spa(axis, lat_deg, lon_deg):
    """Spencer-1971 analytical position vs the SPA.

    Measured for sun-up hours of 2019 at these sites: max zenith difference 0.16°, max angle between
    the sun directions 0.16°. The bound is 0.25° (the brief asked for ~0.5°).
    """
    zenith_deg, azimuth_deg = pv.solar_position_deg(np.array([lat_deg]), np.array([lon_deg]), axis)
    spa = pvlib.solarposition.get_solarposition(axis.times_utc, lat_deg, lon_deg)
    up = spa["zenith"].to_numpy() < 90
    dz = np.abs(zenith_deg[up, 0] - spa["zenith"].to_numpy()[up])
    assert dz.max() < 0.25
    # azimuth: angular distance between the two sun vectors (azimuth is ill-defined near the zenith)
    z1, z2 = np.radians(zenith_deg[up, 0]), np.radians(spa["zenith"].to_numpy()[up])
    da = np.radians(azimuth_deg[up, 0] - spa["azimuth"].to_numpy()[up])
    cos_sep = np.cos(z1) * np.cos(z2) + np.sin(z1) * np.sin(z2) * np.cos(da)
    assert np.degrees(np.arccos(np.clip(cos_sep, -1, 1))).max() < 0.25


def test_fast_azimuth_equals_pvlib_analytical():
    lat_rad = np.radians(RNG.uniform(-60, 60, 2000))
    dec_rad = np.radians(RNG.uniform(-23.4, 23.4, 2000))
    ha_rad = np.radians(RNG.uniform(-179, 179, 2000))
    zen_rad = pvlib.solarposition.solar_zenith_analytical(lat_rad, ha_rad, dec_rad)
    up = zen_rad < np.pi / 2 - 1e-3
    expected = np.degrees(pvlib.solarposition.solar_azimuth_analytical(lat_rad, ha_rad, dec_rad, zen_rad))
    cos_z = np.cos(zen_rad)
    got = pv.cos_azimuth_angle(np.sin(lat_rad), np.cos(lat_rad), np.sin(dec_rad), cos_z, np.sqrt(1 - cos_z**2))
    # pvlib's azimuth is 180° + sign(ha)·A: cos(A) = cos(azimuth - 180°)
    np.testing.assert_allclose(got[up], np.cos(np.radians(expected[up] - 180.0)), atol=1e-9)


def test_relative_airmass_equals_pvlib():
    zenith_deg = RNG.uniform(0, 89.9, 1000)
    zenith_deg = np.concatenate([zenith_deg, [0.0, 89.99, 90.0]])
    np.testing.assert_allclose(pv.relative_airmass_from_cos(np.clip(np.cos(np.radians(zenith_deg)), 0, 1)),
                               pvlib.atmosphere.get_relative_airmass(zenith_deg), rtol=1e-6)


# ----------------------------------------------------------------------------- step 3: clear sky


def test_linke_turbidity_equals_pvlib_lookup(axis):
    lat_deg, lon_deg = np.array([22.8, 40.0, -33.9]), np.array([108.3, 116.4, 151.2])
    daily = pv.linke_turbidity_daily(irradiance.linke_turbidity_monthly(lat_deg, lon_deg), 2019)
    for i in range(lat_deg.size):
        expected = pvlib.clearsky.lookup_linke_turbidity(axis.times_utc, lat_deg[i], lon_deg[i]).to_numpy()
        np.testing.assert_allclose(daily[axis.day_of_year - 1, i], expected, rtol=1e-12)


def test_ineichen_ghi_equals_pvlib():
    zenith_deg = RNG.uniform(0, 89, 500)
    tl = RNG.uniform(2, 7, 500)
    elev = RNG.uniform(0, 4500, 500)
    dni_extra = RNG.uniform(1320, 1410, 500)
    # the factorised form used in the simulation loop
    pressure_ratio = RNG.uniform(0.6, 1.0, 500)
    am_rel = pvlib.atmosphere.get_relative_airmass(zenith_deg)
    cg1, k0, k1 = pv.ineichen_cell_terms(elev, pressure_ratio)
    fast = cg1 * dni_extra * np.cos(np.radians(zenith_deg)) * np.exp(-am_rel * (k0 + k1 * tl))
    expected = pvlib.clearsky.ineichen(zenith_deg, am_rel * pressure_ratio, tl, elev, dni_extra)["ghi"]
    np.testing.assert_allclose(fast, expected, rtol=1e-10)


def test_clear_sky_close_to_location_get_clearsky(axis):
    """Whole clear-sky chain (own solar position, Linke, airmass) vs ``Location.get_clearsky`` (SPA)."""
    lat_deg, lon_deg, elev_m = 22.8, 108.3, 120.0
    zenith_deg, _ = pv.solar_position_deg(np.array([lat_deg]), np.array([lon_deg]), axis)
    zenith_deg = zenith_deg[:, 0]
    cos_zen = np.cos(np.radians(zenith_deg))
    up = cos_zen > 0
    am = pv.relative_airmass_from_cos(np.clip(cos_zen, 0.0, 1.0))
    tl = pv.linke_turbidity_daily(irradiance.linke_turbidity_monthly(np.array([lat_deg]), np.array([lon_deg])))
    cg1, k0, k1 = pv.ineichen_cell_terms(np.array([elev_m]), np.array([pvlib.atmosphere.alt2pres(elev_m) / 101325.0]))
    ghi = cg1 * axis.dni_extra_w_m2 * cos_zen * np.exp(-am * (k0 + k1 * tl[axis.day_of_year - 1, 0]))
    ghi = np.where(up, ghi, 0.0)
    ref = pvlib.location.Location(lat_deg, lon_deg, altitude=elev_m).get_clearsky(axis.times_utc)["ghi"].to_numpy()
    assert abs(ghi.sum() / ref.sum() - 1) < 0.005
    assert np.abs(ghi - ref).max() < 15.0


# ----------------------------------------------------------------------------- steps 4-8: against pvlib


def test_erbs_equals_pvlib():
    ghi = RNG.uniform(0, 1100, 2000)
    zenith_deg = RNG.uniform(0, 89.9, 2000)
    doy = RNG.integers(1, 366, 2000)
    dni_extra = pvlib.irradiance.get_extra_radiation(doy)
    ref = pvlib.irradiance.erbs(ghi, zenith_deg, doy)
    dni, dhi = pv.erbs_w_m2(ghi, np.cos(np.radians(zenith_deg)), dni_extra)
    np.testing.assert_allclose(dni, ref["dni"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dhi, ref["dhi"], rtol=1e-9, atol=1e-9)


def test_hay_davies_transposition_equals_pvlib():
    n = 2000
    zen = RNG.uniform(0, 89.5, n)
    azi = RNG.uniform(40, 320, n)
    tilt = RNG.uniform(0, 60, n)
    ghi = RNG.uniform(0, 1000, n)
    dhi = ghi * RNG.uniform(0.1, 1.0, n)
    dni = np.clip((ghi - dhi) / np.maximum(np.cos(np.radians(zen)), 0.065), 0, 1000)
    dni_extra = RNG.uniform(1320, 1410, n)
    ref = pvlib.irradiance.get_total_irradiance(tilt, 180.0, zen, azi, dni, ghi, dhi, dni_extra=dni_extra,
                                                albedo=0.2, model="haydavies")
    z, s = np.radians(zen), np.radians(tilt)
    cos_aoi = pv.cos_aoi_fixed(np.cos(z), np.sin(z), np.cos(s), np.sin(s), np.cos(np.radians(azi - 180.0)))
    np.testing.assert_allclose(cos_aoi, pvlib.irradiance.aoi_projection(tilt, 180.0, zen, azi), atol=1e-12)
    direct, diffuse = pv.hay_davies_poa_w_m2(cos_aoi, np.cos(np.radians(zen)), np.cos(np.radians(tilt)), dni, ghi,
                                             dhi, dni_extra, 0.2)
    np.testing.assert_allclose(direct, ref["poa_direct"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(diffuse, ref["poa_diffuse"], rtol=1e-9, atol=1e-9)


def test_iam_equals_pvlib_physical_and_diffuse_constant():
    aoi = np.linspace(0, 95, 9501)
    got = pv.iam_physical_from_cos(np.cos(np.radians(aoi)))
    np.testing.assert_allclose(got, pvlib.iam.physical(aoi), atol=1e-4)
    got32 = pv.iam_physical_from_cos(np.cos(np.radians(aoi)).astype("float32"))
    np.testing.assert_allclose(got32, pvlib.iam.physical(aoi), atol=2e-4)
    sky = pvlib.iam.marion_diffuse("physical", np.array([10.0, 20.0, 30.0]))["sky"]
    assert np.all(np.abs(sky - pv.DIFFUSE_IAM) < 0.01)


def test_temperature_dc_and_inverter_equal_pvlib():
    poa = RNG.uniform(0, 1200, 1000)
    temp_air = RNG.uniform(-10, 40, 1000)
    ref_t = pvlib.temperature.sapm_cell(poa, temp_air, 1.0, **pv.SAPM_PARAMETERS)
    np.testing.assert_allclose(pv.sapm_cell_temperature_c(poa, temp_air, 1.0), ref_t, rtol=1e-12)
    dc = pv.pvwatts_dc_kw_per_kwp(poa, ref_t, -0.0035)
    np.testing.assert_allclose(dc, pvlib.pvsystem.pvwatts_dc(poa, ref_t, 1.0, -0.0035), rtol=1e-12)
    pdc = np.concatenate([[0.0], RNG.uniform(0, 1.2, 999)])
    pdc0 = 1 / 1.3 / 0.96
    ref_ac = pvlib.inverter.pvwatts(pdc, pdc0, 0.96)
    np.testing.assert_allclose(pv.pvwatts_inverter_kw(pdc, pdc0, 0.96), ref_ac, rtol=1e-12, atol=1e-15)
    assert ref_ac.max() <= 1 / 1.3 + 1e-12  # clipping at the AC nameplate


def test_losses_compound_like_pvwatts_losses():
    system = pv.PVSystemSpec()
    expected = pvlib.pvsystem.pvwatts_losses(soiling=3.5, shading=0, snow=0, mismatch=7.5, wiring=0, connections=0,
                                             lid=0, nameplate_rating=0, age=0, availability=0) / 100
    assert pv.total_dc_loss_fraction(system) == pytest.approx(expected, rel=1e-12)


def test_single_axis_uses_pvlib_tracking(axis):
    """The tracked POA (in hourly_profile) equals pvlib's singleaxis + get_total_irradiance on the same inputs."""
    system = pv.PVSystemSpec(mounting="single_axis")
    prof = pvyield.hourly_profile(22.8, 108.3, 100.0, NANNING_MERRA2_W_M2, system=system)
    zen, azi = pv.solar_position_deg(np.array([22.8]), np.array([108.3]), axis)
    zen, azi = zen[:, 0], azi[:, 0]
    up = zen < 90
    trk = pvlib.tracking.singleaxis(zen[up], azi[up], 0, 180, 60, True, 0.35)
    ref = pvlib.irradiance.get_total_irradiance(trk["surface_tilt"], trk["surface_azimuth"], zen[up], azi[up],
                                                prof["dni_w_m2"].to_numpy()[up], prof["ghi_w_m2"].to_numpy()[up],
                                                prof["dhi_w_m2"].to_numpy()[up],
                                                dni_extra=axis.dni_extra_w_m2[up], albedo=0.2, model="haydavies")
    np.testing.assert_allclose(prof["poa_w_m2"].to_numpy()[up], np.nan_to_num(ref["poa_global"]), atol=0.05)


# ----------------------------------------------------------------------------- the model


def test_monthly_means_of_synthetic_ghi_equal_inputs():
    ghi_in = nanning_ghi()
    prof = pvyield.hourly_profile(22.8, 108.3, 100.0, ghi_in)
    means = prof["ghi_w_m2"].groupby(prof.index.month).mean().to_numpy()
    np.testing.assert_allclose(means, ghi_in, rtol=1e-5)
    assert list(prof.columns) == ["ghi_w_m2", "dni_w_m2", "dhi_w_m2", "poa_w_m2", "cell_temperature_c",
                                  "dc_kw_per_kwp", "ac_kw_per_kwp"]
    assert not prof.isna().any().any()
    assert (prof[["ghi_w_m2", "dni_w_m2", "dhi_w_m2", "poa_w_m2"]] >= 0).all().all()


def test_hourly_profile_sums_to_simulate_yield():
    ghi_in = nanning_ghi()
    prof = pvyield.hourly_profile(22.8, 108.3, 100.0, ghi_in)
    res = pvyield.simulate_yield(np.array([22.8]), np.array([108.3]), np.array([100.0]), ghi_in[None, :])
    assert prof["ac_kw_per_kwp"].sum() == pytest.approx(res.specific_yield_kwh_per_kwp[0], rel=1e-5)
    assert res.ghi_kwh_per_m2_yr[0] == pytest.approx(pvlib_days_weighted_kwh(ghi_in), rel=1e-5)
    assert prof["ac_kw_per_kwp"].max() <= 1 / 1.3 + 1e-6


def pvlib_days_weighted_kwh(ghi_w_m2: np.ndarray) -> float:
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return float((ghi_w_m2 * days * 24).sum() / 1000)


def test_nanning_yield_in_published_range():
    """Nanning (22.8N, 108.3E), fixed tilt at the latitude-optimal angle, MERRA-2 GHI of that 3° cell.

    Justification of the range. The Global Solar Atlas (Solargis model, World Bank/ESMAP,
    globalsolaratlas.info) shows a PVOUT of roughly 1,050-1,200 kWh/kWp for Guangxi and a GHI of
    about 1,250-1,400 kWh/m²/yr around Nanning. MERRA-2 overestimates surface GHI in cloudy South
    China by ~15-25 % (reanalysis clouds too thin); for this cell it gives ~1,700 kWh/m²/yr,
    i.e. ~1.2-1.35 × the GSA GHI. A yield proportional to GHI is therefore expected at
    ~1.2-1.35 × (1,050-1,200) ≈ 1,260-1,620 kWh/kWp; we assert 1,250-1,600. Independently of
    the input bias, the performance ratio (AC yield / POA irradiation) of a modern system in a warm
    humid climate is ~0.75-0.88 (IEA PVPS T13 reports typical PR 0.75-0.85 for recent systems).
    """
    ghi_in = nanning_ghi()
    res = pvyield.simulate_yield(np.array([22.8]), np.array([108.3]), np.array([120.0]), ghi_in[None, :])
    yield_kwh = res.specific_yield_kwh_per_kwp[0]
    pr = yield_kwh / res.poa_kwh_per_m2_yr[0]
    assert 1250 <= yield_kwh <= 1600
    assert 0.75 <= pr <= 0.88
    assert res.capacity_factor_ac[0] == pytest.approx(yield_kwh * 1.3 / 8760)
    assert res.capacity_factor_dc[0] == pytest.approx(yield_kwh / 8760)
    assert res.monthly_kwh_per_kwp[0].sum() == pytest.approx(yield_kwh, rel=1e-9)
    for name in ("temperature", "iam", "soiling", "other", "inverter_clipping"):
        assert 0 <= res.losses[name][0] < 0.15, name


def test_perez_transposition_runs_and_is_close_to_hay_davies():
    ghi_in = nanning_ghi()[None, :]
    args = (np.array([22.8]), np.array([108.3]), np.array([120.0]), ghi_in)
    hd = pvyield.simulate_yield(*args).specific_yield_kwh_per_kwp[0]
    perez = pvyield.simulate_yield(*args, system=pv.PVSystemSpec(transposition="perez")).specific_yield_kwh_per_kwp[0]
    assert abs(perez / hd - 1) < 0.05


def test_blocks_and_threads_do_not_change_results():
    n = 37
    lat = RNG.uniform(18, 27, n)
    lon = RNG.uniform(104, 118, n)
    elev = RNG.uniform(0, 1500, n)
    ghi = NANNING_MERRA2_W_M2[None, :] * RNG.uniform(0.8, 1.2, (n, 1))
    a = pvyield.simulate_yield(lat, lon, elev, ghi, block_cells=5, n_threads=2).specific_yield_kwh_per_kwp
    b = pvyield.simulate_yield(lat, lon, elev, ghi, block_cells=64, n_threads=1).specific_yield_kwh_per_kwp
    np.testing.assert_allclose(a, b, rtol=1e-6)


# ----------------------------------------------------------------------------- properties


def _yield(ghi_w_m2, lat_deg=22.8, temp_c=None, system=pv.PVSystemSpec()):
    return pvyield.simulate_yield(np.array([lat_deg]), np.array([108.3]), np.array([100.0]), np.asarray(ghi_w_m2)[None, :],
                             system=system, ambient_temperature_c=temp_c).specific_yield_kwh_per_kwp[0]


@SETTINGS
@given(scale=st.floats(0.4, 1.3), step=st.floats(0.02, 0.3))
def test_yield_rises_with_ghi(scale, step):
    assert _yield(NANNING_MERRA2_W_M2 * (scale + step)) > _yield(NANNING_MERRA2_W_M2 * scale)


@SETTINGS
@given(temp_c=st.floats(-20, 40), step=st.floats(1, 10))
def test_yield_falls_with_ambient_temperature(temp_c, step):
    assert _yield(NANNING_MERRA2_W_M2, temp_c=temp_c + step) < _yield(NANNING_MERRA2_W_M2, temp_c=temp_c)


@SETTINGS
@given(lat_deg=st.floats(15, 30), clear=st.floats(0.0, 1.0))
def test_single_axis_not_worse_than_fixed_at_low_latitude(lat_deg, clear):
    """Tracking vs fixed below 30°N.

    Horizontal N-S single-axis trackers gain ~10-25 % over fixed tilt in sunny climates (beam
    dominated) but little in cloudy ones, where diffuse light, which a tracker collects no better
    than a fixed plane (worse when tilted away from the sky dome), is ~50 % of GHI, as in South
    China. So: ≥ 0.95 × fixed everywhere and > fixed when the climate is clear (monthly GHI at
    ≥ 80 % of what a clear sky would give).
    """
    cloudy = NANNING_MERRA2_W_M2
    sunny = np.full(12, 260.0)
    ghi = cloudy + clear * (sunny - cloudy)
    fixed = _yield(ghi, lat_deg)
    tracked = _yield(ghi, lat_deg, system=pv.PVSystemSpec(mounting="single_axis"))
    assert tracked >= 0.95 * fixed
    if clear > 0.8:
        assert tracked > fixed


# ----------------------------------------------------------------------------- bad inputs


def test_eleven_months_is_an_error():
    with pytest.raises(SitingError, match="months"):
        pvyield.simulate_yield(np.array([22.8]), np.array([108.3]), np.array([100.0]), NANNING_MERRA2_W_M2[None, :11])


def test_kwh_per_day_is_a_units_error():
    with pytest.raises(SitingError, match="units"):
        pvyield.simulate_yield(np.array([22.8]), np.array([108.3]), np.array([100.0]),
                          (NANNING_MERRA2_W_M2 * 24 / 1000)[None, :])


def test_wh_per_day_is_a_units_error():
    with pytest.raises(SitingError, match="units"):
        pvyield.simulate_yield(np.array([22.8]), np.array([108.3]), np.array([100.0]), (NANNING_MERRA2_W_M2 * 24)[None, :])


def test_nan_cell_gives_nan_not_zero():
    ghi = np.vstack([NANNING_MERRA2_W_M2, NANNING_MERRA2_W_M2])
    ghi[1, 3] = np.nan
    res = pvyield.simulate_yield(np.array([22.8, 23.0]), np.array([108.3, 109.0]), np.array([100.0, 100.0]), ghi)
    assert np.isfinite(res.specific_yield_kwh_per_kwp[0])
    assert np.isnan(res.specific_yield_kwh_per_kwp[1])
    assert np.isnan(res.monthly_kwh_per_kwp[1]).all()
    assert np.isnan(res.losses["soiling"][1])
    res_elev = pvyield.simulate_yield(np.array([22.8]), np.array([108.3]), np.array([np.nan]), ghi[:1])
    assert np.isnan(res_elev.specific_yield_kwh_per_kwp[0])


def test_shape_mismatch_and_bad_system():
    with pytest.raises(SitingError, match="latitude"):
        pvyield.simulate_yield(np.array([22.8, 23.0]), np.array([108.3]), np.array([100.0]), NANNING_MERRA2_W_M2[None, :])
    with pytest.raises(SitingError, match="mounting"):
        pv.PVSystemSpec(mounting="dual_axis")


def test_ambient_temperature_shapes():
    ghi = np.vstack([NANNING_MERRA2_W_M2, NANNING_MERRA2_W_M2])
    args = (np.array([22.8, 23.0]), np.array([108.3, 109.0]), np.array([100.0, 100.0]), ghi)
    scalar = pvyield.simulate_yield(*args, ambient_temperature_c=25.0).specific_yield_kwh_per_kwp
    per_cell = pvyield.simulate_yield(*args, ambient_temperature_c=np.array([25.0, 25.0])).specific_yield_kwh_per_kwp
    monthly = pvyield.simulate_yield(*args, ambient_temperature_c=np.full(12, 25.0)).specific_yield_kwh_per_kwp
    np.testing.assert_allclose(scalar, per_cell)
    np.testing.assert_allclose(scalar, monthly)
    with pytest.raises(SitingError, match="temperature"):
        pvyield.simulate_yield(*args, ambient_temperature_c=np.zeros(5))


def test_default_temperature_climatology_is_plausible():
    temp = pv.default_ambient_temperature_c(np.array([22.8, 39.9]), np.array([0.0, 0.0])) - pv.DAYTIME_WARMING_C
    assert temp[0, 0] == pytest.approx(13.6, abs=1.5) and temp[0, 6] == pytest.approx(28.7, abs=1.5)
    assert temp[1, 0] == pytest.approx(-3.5, abs=2.5) and temp[1, 6] == pytest.approx(26.0, abs=1.5)


# Measured: at most 5e-8 relative (float32 hourly terms summed in float64); 2e-7 leaves room for other BLAS/CPUs.
MODELCHAIN_REL_TOL = 2e-7
MODELCHAIN_SITES = [(22.8, 108.3, 80.0), (25.3, 110.3, 150.0), (24.5, 106.6, 900.0)]  # Nanning, Guilin, Baise hills


@pytest.mark.parametrize("system", [pv.PVSystemSpec(), pv.PVSystemSpec(transposition="perez"),
                                    pv.PVSystemSpec(mounting="single_axis")],
                         ids=["fixed-haydavies", "fixed-perez", "single-axis"])
def test_fast_path_equals_pvlib_modelchain(system):
    """The production fast path against a pvlib ModelChain run on identical inputs, site by site."""
    from siting.energy.pvreference import modelchain_inputs, modelchain_yield_kwh_per_kwp

    lat, lon, elev = (np.array(v) for v in zip(*MODELCHAIN_SITES))
    ghi = np.tile(NANNING_MERRA2_W_M2, (len(lat), 1)) * np.array([[1.0], [0.93], [1.05]])
    fast = pvyield.simulate_yield(lat, lon, elev, ghi, system=system).specific_yield_kwh_per_kwp
    axis = pv.time_axis(2019)
    for i in range(len(lat)):
        weather, solpos = modelchain_inputs(lat[i], lon[i], elev[i], ghi[i], system, axis)
        ref = modelchain_yield_kwh_per_kwp(lat[i], lon[i], elev[i], weather, solpos, system)
        assert fast[i] == pytest.approx(ref, rel=MODELCHAIN_REL_TOL), (i, fast[i], ref)


def test_merra2_means_kept_in_the_cache_folder_are_loaded_by_the_next_process(monkeypatch, tmp_path):
    """The monthly means are computed once from the package's distributions and kept; a later process (the
    in-process memo cleared) loads the same values without computing; a damaged file is computed again."""
    pytest.importorskip("gsee_climate_data")
    from siting.io import layers

    monkeypatch.setenv("SITING_CACHE", str(tmp_path))
    computed = []
    real = layers._merra2_monthly_means
    monkeypatch.setattr(layers, "_merra2_monthly_means", lambda p: computed.append(1) or real(p))
    layers.merra2_monthly_ghi_w_m2.cache_clear()
    try:
        first, transform, path = layers.merra2_monthly_ghi_w_m2()
        files = list((tmp_path / "resource").glob("*.npz"))
        assert computed == [1] and len(files) == 1 and not first.flags.writeable
        layers.merra2_monthly_ghi_w_m2.cache_clear()
        again, transform_again, _ = layers.merra2_monthly_ghi_w_m2()
        assert computed == [1] and transform_again == transform
        np.testing.assert_array_equal(again, first)
        np.testing.assert_array_equal(again, real(path)[0])  # the values themselves, not only a stable file
        files[0].write_bytes(b"not an npz")
        layers.merra2_monthly_ghi_w_m2.cache_clear()
        np.testing.assert_array_equal(layers.merra2_monthly_ghi_w_m2()[0], first)
        assert computed == [1, 1]
    finally:
        layers.merra2_monthly_ghi_w_m2.cache_clear()


def test_merra2_ghi_of_a_tile_does_not_depend_on_the_tiles_read_before():
    """The clearness index of a window of 3° cells is found once and shared by the tiles that read it: a tile's
    GHI is the same, to the last bit, read first in a fresh process or after its neighbours."""
    pytest.importorskip("gsee_climate_data")
    from siting.io import layers

    tiles = [(108.0, 22.0, 108.6, 22.5), (108.55, 22.0, 109.1, 22.5), (110.3, 24.1, 110.9, 24.6)]
    layers._merra2_kt_window.cache_clear()
    alone = []
    for b in tiles:
        layers._merra2_kt_window.cache_clear()
        alone.append(layers.read_merra2_ghi(b).array)
    layers._merra2_kt_window.cache_clear()
    shared = [layers.read_merra2_ghi(b).array for b in tiles]
    assert layers._merra2_kt_window.cache_info().hits >= 1
    for a, b in zip(alone, shared):
        assert a.tobytes() == b.tobytes()
