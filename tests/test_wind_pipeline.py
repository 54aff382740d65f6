"""Onshore wind through the whole pipeline with a synthetic Global-Wind-Atlas-format raster."""

import numpy as np
import pytest
import rasterio
from affine import Affine

import siting
from siting import SitingError
from siting.io.turbines import load_turbine
from siting.model.wind import air_density_kg_m3, capacity_factor, net_capacity_factor, power_law_speed_ms


def gwa_raster(path, values_fn, bounds=(108.3, 23.5, 110.5, 26.3), res=0.01):
    """A GeoTIFF like the Global Wind Atlas one: EPSG:4326, float32, mean speed at 100 m."""
    west, south, east, north = bounds
    w, h = int(round((east - west) / res)), int(round((north - south) / res))
    lon = west + (np.arange(w) + 0.5) * res
    lat = north - (np.arange(h) + 0.5) * res
    data = values_fn(*np.meshgrid(lon, lat)).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(res, 0, west, 0, -res, north), nodata=-9999.0) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture(scope="module")
def constant_wind(tmp_path_factory):
    return gwa_raster(tmp_path_factory.mktemp("w") / "gwa_100m.tif", lambda lon, lat: np.full(lon.shape, 6.5))


@pytest.fixture(scope="module")
def gradient_wind(tmp_path_factory):
    # 4 m/s in the south to 8 m/s in the north
    return gwa_raster(tmp_path_factory.mktemp("w") / "gwa_grad.tif", lambda lon, lat: 4.0 + 4.0 * (lat - 23.5) / 2.8)


def test_constant_wind_gives_the_turbine_capacity_factor(constant_wind):
    a = siting.assess("柳州", tech="wind", resolution_m=2000, wind=constant_wind, wind_height_m=100)
    c = a.counties
    assert {"energy_wind_gwh", "capacity_factor_wind", "wind_speed_hub_ms"} <= set(c.columns)
    model = a.scenario.wind.model
    hub = power_law_speed_ms(6.5, 100.0, model.hub_height_m, model.shear_exponent)
    assert np.allclose(c.wind_speed_hub_ms, hub, rtol=1e-4)
    curve = load_turbine(model.turbine).power_curve
    lo_elev, hi_elev = float(np.nanmin(a.grid.elevation_m)), float(np.nanmax(a.grid.elevation_m))
    cfs = [float(net_capacity_factor(capacity_factor(np.array([hub]), np.array([model.weibull_k]), curve,
                                                     air_density_kg_m3=air_density_kg_m3(np.array([e + model.hub_height_m]))),
                                     model.wake_loss, model.availability_loss, model.electrical_loss)[0])
           for e in (lo_elev, hi_elev)]
    ok = c.capacity_wind_mw > 0
    assert (c.capacity_factor_wind[ok] <= max(cfs) + 1e-6).all() and (c.capacity_factor_wind[ok] >= min(cfs) - 1e-6).all()
    assert np.allclose(c.energy_wind_gwh[ok], c.capacity_wind_mw[ok] * c.capacity_factor_wind[ok] * 8.76, rtol=1e-6)
    assert any("Wind energy from power law" in n for n in a.notes)
    assert not any("Wind energy (GWh/yr) and capacity factor not computed" in n for n in a.notes)


def test_min_wind_rule_applies_and_stricter_never_adds(gradient_wind):
    results = []
    for vmin in (4.0, 5.5, 7.0):
        s = siting.with_overrides(siting.load_scenario()[0], {"wind": {"rules": {"min_wind_speed": {"min": vmin}}}})
        a = siting.assess("柳州", tech="wind", resolution_m=2000, scenario=s, wind=gradient_wind, wind_height_m=100)
        results.append(a.counties.set_index("adcode").capacity_wind_mw)
        assert "removed_wind_min_wind_speed_km2" in a.counties
    assert (results[1] <= results[0] + 1e-6).all() and (results[2] <= results[1] + 1e-6).all()
    assert results[2].sum() < results[0].sum()


def test_spacing_density(constant_wind):
    s = siting.with_overrides(siting.load_scenario()[0], {"wind": {"model": {"capacity_density": "spacing"}}})
    a = siting.assess("柳州", tech="wind", resolution_m=2000, scenario=s, wind=constant_wind, wind_height_m=100)
    t = load_turbine(s.wind.model.turbine)
    density = t.rated_power_kw / 1000.0 / (5 * t.rotor_diameter_m / 1000.0 * 7 * t.rotor_diameter_m / 1000.0)
    assert np.allclose(a.counties.capacity_wind_mw, a.counties.usable_wind_km2 * density * s.wind.utilisation)


def test_bad_wind_inputs(tmp_path, constant_wind):
    with pytest.raises(SitingError, match="declare the height"):
        siting.assess("柳州", tech="wind", resolution_m=5000, wind=constant_wind)
    kmh = gwa_raster(tmp_path / "kmh.tif", lambda lon, lat: np.full(lon.shape, 23.4))
    with pytest.raises(SitingError, match="km/h"):
        siting.assess("柳州", tech="wind", resolution_m=5000, wind=kmh, wind_height_m=100)
    neg = gwa_raster(tmp_path / "neg.tif", lambda lon, lat: np.full(lon.shape, -3.0))
    with pytest.raises(SitingError, match="neg.tif"):
        siting.assess("柳州", tech="wind", resolution_m=5000, wind=neg, wind_height_m=100)
    with pytest.raises(SitingError, match="does not exist"):
        siting.assess("柳州", tech="wind", resolution_m=5000, wind=tmp_path / "none.tif", wind_height_m=100)


def test_weibull_a_layer_and_typhoon_exposure(tmp_path, constant_wind):
    a_file = gwa_raster(tmp_path / "gwa_a.tif", lambda lon, lat: np.full(lon.shape, 7.3))
    k_file = gwa_raster(tmp_path / "gwa_k.tif", lambda lon, lat: np.full(lon.shape, 2.2))
    typhoon = gwa_raster(tmp_path / "typhoon.tif", lambda lon, lat: (lat < 24.5).astype("float32"))
    scen = tmp_path / "w.toml"
    scen.write_text(f'''extends = "china"
[layers.wind_speed_ms]
source = "{constant_wind}"
kind = "continuous"
units = "m/s"
height_m = 100
[layers.weibull_a_ms]
source = "{a_file}"
kind = "continuous"
units = "m/s"
height_m = 100
[layers.weibull_k]
source = "{k_file}"
kind = "continuous"
units = "1"
[layers.typhoon_exposure]
source = "{typhoon}"
kind = "categorical"
units = "1 = typhoon-class turbine required"
''', encoding="utf-8")
    a = siting.assess("柳州", tech="wind", resolution_m=2000, scenario=scen)
    model = a.scenario.wind.model
    curve = load_turbine(model.turbine).power_curve
    a_hub = power_law_speed_ms(7.3, 100.0, model.hub_height_m, model.shear_exponent)
    cf_ref = [float(net_capacity_factor(capacity_factor(None, np.array([2.2]), curve, weibull_scale_ms=np.array([a_hub]),
                                                        air_density_kg_m3=air_density_kg_m3(np.array([e + model.hub_height_m]))),
                                        model.wake_loss, model.availability_loss, model.electrical_loss)[0])
              for e in (float(np.nanmin(a.grid.elevation_m)), float(np.nanmax(a.grid.elevation_m)))]
    c = a.counties[a.counties.capacity_wind_mw > 0]
    assert (c.capacity_factor_wind <= max(cf_ref) + 1e-6).all() and (c.capacity_factor_wind >= min(cf_ref) - 1e-6).all()
    # the default turbine is not typhoon-rated: the southern cells are excluded, and the waterfall says why
    assert "removed_wind_typhoon_turbine_class_km2" in a.counties
    south = a.counties.set_index("name_zh").loc["柳南区"]
    assert south.removed_wind_typhoon_turbine_class_km2 > 0.9 * south.grid_area_km2 - south.removed_wind_water_wetland_urban_snow_km2 - 1
