"""Built-in irradiance without 3° blocks, and PV yield calibrated against reference values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
import rasterio
from affine import Affine

import siting
from siting.errors import SitingError
from siting.io.layers import read_merra2_ghi
from siting.model.calibration import fit_factor
from siting.model.solar import extraterrestrial_horizontal_w_m2


@pytest.mark.parametrize("lat, doy", [(22.8, 15), (22.8, 172), (45.0, 355), (0.0, 80), (-33.9, 200)])
def test_daily_extraterrestrial_horizontal_equals_pvlib_integrated(lat, doy):
    times = pd.date_range(pd.Timestamp("2019-01-01", tz="UTC") + pd.Timedelta(days=doy - 1), periods=1440, freq="min")
    zen = pvlib.solarposition.get_solarposition(times, lat, 0.0)["zenith"].to_numpy()
    ref = np.mean(np.clip(np.cos(np.radians(zen)), 0, None) * pvlib.irradiance.get_extra_radiation(times).to_numpy())
    assert extraterrestrial_horizontal_w_m2(lat, doy) == pytest.approx(ref, rel=0.005)


def test_builtin_ghi_has_no_3_degree_blocks():
    src = read_merra2_ghi((104.0, 20.5, 112.5, 26.5))
    ghi = src.array.astype("float64")
    assert np.isfinite(ghi).all() and 1000 < np.nanmean(ghi) < 2000
    step_x = np.abs(np.diff(ghi, axis=1)) / ghi[:, 1:]
    step_y = np.abs(np.diff(ghi, axis=0)) / ghi[1:, :]
    # 0.05° apart: a smooth field moves by a fraction of a percent; the 3° cells jumped by up to 10 %
    assert max(step_x.max(), step_y.max()) < 0.01
    assert len(np.unique(np.round(ghi, 1))) > 1000


@pytest.mark.slow
def test_neighbouring_counties_do_not_jump(guangxi):
    c = guangxi.counties.to_crs("EPSG:3857").reset_index(drop=True)
    y = c["specific_yield_kwh_per_kwp"].to_numpy()
    assert len(np.unique(np.round(y[np.isfinite(y)], 2))) > 60  # 26 distinct values in 3° blocks
    g = c.geometry.buffer(200)
    jumps = [abs(y[i] - y[j]) / min(y[i], y[j]) for i in range(len(c)) for j in range(i + 1, len(c))
             if np.isfinite(y[i]) and np.isfinite(y[j]) and g.iloc[i].intersects(g.iloc[j])]
    assert max(jumps) < 0.08 and np.percentile(jumps, 95) < 0.03  # 3° blocks: 12.6 % and 4.6 %


def test_fit_factor_recovers_a_known_bias():
    rng = np.random.default_rng(0)
    model = rng.uniform(1100, 1500, 200)
    ref = model * 0.85 * np.exp(rng.normal(0, 0.03, 200))
    cal = fit_factor(model, ref)
    assert cal.factor == pytest.approx(0.85, rel=0.01) and cal.low < 0.85 < cal.high
    assert cal.error_after_pct < cal.error_before_pct and cal.n == 200
    with pytest.raises(ValueError, match="only 2 usable pairs"):
        fit_factor(np.array([1.0, 2.0, np.nan]), np.array([1.0, 2.0, 3.0]))


@pytest.fixture(scope="module")
def liuzhou_pv():
    return siting.assess("柳州", tech="pv", resolution_m=2000)


def test_calibration_against_points_scales_the_yield(liuzhou_pv, tmp_path):
    import pyproj

    from siting.reference.fleet import grid_crs

    a = liuzhou_pv
    ds = a.grid
    rr, cc = np.nonzero(ds["county_index"].to_numpy() >= 0)
    pick = np.random.default_rng(1).choice(rr.size, 40, replace=False)
    x, y = ds["x"].to_numpy()[cc[pick]], ds["y"].to_numpy()[rr[pick]]
    lon, lat = pyproj.Transformer.from_crs(grid_crs(ds), "EPSG:4326", always_xy=True).transform(x, y)
    model = ds["pv_specific_yield_kwh_per_kwp"].to_numpy()[rr[pick], cc[pick]]
    pd.DataFrame({"lat": lat, "lon": lon, "PVOUT_kwh_per_kwp": 0.8 * model}).to_csv(tmp_path / "gsa.csv", index=False)
    b = siting.assess("柳州", tech="pv,rooftop_pv", resolution_m=2000, pv_calibration=tmp_path / "gsa.csv")
    fit = b.provenance["pv_calibration"]["fit"]
    roof = siting.assess("柳州", tech="rooftop_pv", resolution_m=2000).counties  # the irradiance is corrected once
    np.testing.assert_allclose(b.counties["energy_rooftop_pv_gwh"], 0.8 * roof["energy_rooftop_pv_gwh"], rtol=1e-4)
    assert fit["factor"] == pytest.approx(0.8, rel=1e-4) and fit["n"] == 40
    np.testing.assert_allclose(b.counties["specific_yield_kwh_per_kwp"], 0.8 * a.counties["specific_yield_kwh_per_kwp"],
                               rtol=1e-4)
    np.testing.assert_allclose(b.counties["capacity_pv_mwp"], a.counties["capacity_pv_mwp"])
    assert any("calibrated against" in n for n in b.notes)
    irr = [x for x in b.ranges.assumptions if x.name == "pv.irradiance_factor"][0]
    assert irr.default == 1.0 and irr.high - irr.low < 0.01  # the fit's own uncertainty replaces the wide range


def test_calibration_against_a_raster_and_bad_references(liuzhou_pv, tmp_path):
    a = liuzhou_pv
    w, s, e, n = a.counties.total_bounds
    arr = np.full((int((n - s) / 0.01) + 40, int((e - w) / 0.01) + 40), 1000.0, dtype="float32")
    with rasterio.open(tmp_path / "pvout.tif", "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype="float32", crs="EPSG:4326", transform=Affine(0.01, 0, w - 0.2, 0, -0.01, n + 0.2)) as dst:
        dst.write(arr, 1)
    b = siting.assess("柳州", tech="pv", resolution_m=2000, pv_calibration=tmp_path / "pvout.tif", draws=0)
    assert b.counties["specific_yield_kwh_per_kwp"].mean() == pytest.approx(1000, rel=0.02)
    (tmp_path / "ref.csv").write_text("lat,lon,value\n23,109,1200\n", encoding="utf-8")
    with pytest.raises(SitingError, match="say whether it holds pvout or ghi"):
        siting.assess("柳州", tech="pv", resolution_m=2000, pv_calibration=tmp_path / "ref.csv", draws=0)
    (tmp_path / "few.csv").write_text("lat,lon,pvout\n24.3,109.4,1200\n", encoding="utf-8")
    with pytest.raises(SitingError, match="few.csv: only"):
        siting.assess("柳州", tech="pv", resolution_m=2000, pv_calibration=tmp_path / "few.csv", draws=0)


def test_a_pairs_yield_does_not_depend_on_what_it_is_simulated_with():
    """The resource pass simulates the (3° cell, irradiance step) pairs of a whole region in one batch and the
    tiles look them up (or simulate a pair it missed on its own): a pair's yield must be the same number in any
    batch, to the last bit, or county figures would depend on the region and the tiling."""
    from siting.energy.pvgrid import resource_cells, yields_for_keys
    from siting.model.solar import PVSystemSpec

    lat, lon, _ = resource_cells()
    near = np.flatnonzero((lat > 18) & (lat < 30) & (lon > 100) & (lon < 120))
    assert near.size >= 6
    steps = np.array([80, 93, 100, 107, 121])
    keys = np.sort((near[:, None] * 1_000_000 + steps[None, :]).ravel())
    elevation = {int(c): 100.0 * k for k, c in enumerate(near)}
    system = PVSystemSpec()
    batch = yields_for_keys(keys, elevation, system)
    for part in (keys[:1], keys[3:4], keys[::7], keys[-5:]):
        alone = yields_for_keys(part, elevation, system)
        assert all(alone[k] == batch[k] for k in alone), part
    assert len(set(batch.values())) > keys.size // 2  # different pairs, different yields
