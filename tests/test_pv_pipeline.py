"""PV yield through the pipeline: built-in MERRA-2, a finer user GHI layer, and a PVOUT layer used directly."""

import numpy as np
import pytest
import rasterio
from affine import Affine

import siting
from siting import SitingError


def raster(path, left_value, right_value):
    w, h = 250, 300
    arr = np.full((h, w), left_value, dtype="float32")
    arr[:, w // 2:] = right_value
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(0.01, 0, 108.3, 0, -0.01, 26.4)) as dst:
        dst.write(arr, 1)
    return path


def test_builtin_yield_columns(guangxi):
    c = guangxi.counties
    ok = c.capacity_pv_mwp > 0
    assert np.allclose(c.energy_pv_gwh[ok], c.capacity_pv_mwp[ok] * c.specific_yield_kwh_per_kwp[ok] / 1000, rtol=1e-6)
    assert np.allclose(c.capacity_factor_pv[ok], c.energy_pv_gwh[ok] * 1000 / (c.capacity_pv_mwac[ok] * 8760), rtol=1e-6)
    assert 1100 < c.specific_yield_kwh_per_kwp[ok].median() < 1700
    assert "pv_specific_yield_kwh_per_kwp" in guangxi.grid
    assert guangxi.provenance["pv_yield"]["resource_cells"]


def test_finer_ghi_layer_scales_the_yield(tmp_path):
    ghi = raster(tmp_path / "ghi.tif", 1250.0, 1450.0)
    scen = tmp_path / "ghi.toml"
    scen.write_text(f'extends = "china"\n[layers.ghi_kwh_per_m2_yr]\nsource = "{ghi}"\ncoarse = false\n',
                    encoding="utf-8")
    a = siting.assess("柳州", tech="pv", resolution_m=2000, scenario=scen)
    c = a.counties.set_index("name_zh")
    low, high = c.loc["柳江区"], c.loc["鹿寨县"]  # west (1250) and east (about 1450)
    assert low.ghi_kwh_per_m2_yr == pytest.approx(1250, abs=5)
    ratio = high.specific_yield_kwh_per_kwp / low.specific_yield_kwh_per_kwp
    assert ratio == pytest.approx(high.ghi_kwh_per_m2_yr / low.ghi_kwh_per_m2_yr, rel=0.04)
    assert any("scaled to the annual GHI layer" in n for n in a.notes)


def test_pvout_layer_is_used_directly(tmp_path):
    pvout = raster(tmp_path / "pvout.tif", 1000.0, 1200.0)
    scen = tmp_path / "pvout.toml"
    scen.write_text(f'extends = "china"\n[layers.pvout_kwh_per_kwp]\nsource = "{pvout}"\nkind = "continuous"\n'
                    'units = "kWh/kWp/yr"\n', encoding="utf-8")
    a = siting.assess("柳州", tech="pv", resolution_m=2000, scenario=scen)
    c = a.counties.set_index("name_zh")
    assert c.loc["柳江区", "specific_yield_kwh_per_kwp"] == pytest.approx(1000, rel=1e-4)
    assert a.provenance["pv_yield"]["method"].startswith("PVOUT layer used directly")


def test_ghi_in_wrong_units_is_refused(tmp_path):
    ghi = raster(tmp_path / "ghi_w.tif", 160.0, 190.0)  # W/m², not kWh/m²/yr
    scen = tmp_path / "w.toml"
    scen.write_text(f'extends = "china"\n[layers.ghi_kwh_per_m2_yr]\nsource = "{ghi}"\n', encoding="utf-8")
    with pytest.raises(SitingError, match="ghi_w.tif.*plausible range.*units"):
        siting.assess("柳州", tech="pv", resolution_m=5000, scenario=scen)


def test_resource_cell_without_elevation_is_counted_not_hidden():
    from siting.energy.pvgrid import pv_system_spec, simulation_detail

    spec = pv_system_spec(siting.load_scenario()[0].pv)
    keys = [1000 * 1_000_000 + 50, 1001 * 1_000_000 + 50]
    detail = simulation_detail(keys, {1000: 120.0}, spec, scaled=False)
    assert detail["resource_cells_without_elevation"] == 1
    assert simulation_detail(keys, {1000: 120.0, 1001: 80.0}, spec, scaled=False)[
        "resource_cells_without_elevation"] == 0
