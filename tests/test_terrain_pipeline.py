"""Slope from a DEM through the pipeline: the slope rule uses the share of each cell that passes."""

import numpy as np
import pytest
import rasterio
from affine import Affine

import siting
from siting import SitingError


def dem(path, res_deg=0.005, bounds=(108.3, 23.5, 110.5, 26.3)):
    """Flat west of 109.4E, a 40 % grade rising to the east beyond it (lon/lat DEM in metres)."""
    west, south, east, north = bounds
    w, h = int(round((east - west) / res_deg)), int(round((north - south) / res_deg))
    lon = west + (np.arange(w) + 0.5) * res_deg
    metres_east = np.clip(lon - 109.4, 0, None) * 111_320 * np.cos(np.radians(25.0))
    z = np.tile(200.0 + 0.4 * metres_east, (h, 1)).astype("float32")  # slope atan(0.4) = 21.8°
    z[:, lon > 110.0] = 200.0 + 0.4 * (110.0 - 109.4) * 111_320 * np.cos(np.radians(25.0)) + \
        1.0 * (lon[lon > 110.0] - 110.0) * 111_320 * np.cos(np.radians(25.0))  # 45° beyond 110E
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(res_deg, 0, west, 0, -res_deg, north), nodata=-9999.0) as dst:
        dst.write(z, 1)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dem")
    path = dem(folder / "dem.tif")
    scen = folder / "slope.toml"
    scen.write_text(f'extends = "china"\n[layers.slope_deg]\nsource = "{path}"\nkind = "continuous"\n'
                    'units = "degrees"\nderive = "slope_deg"\n', encoding="utf-8")
    return siting.assess("柳州", tech="pv", resolution_m=2000, scenario=scen), scen


def test_slope_rule_applies_from_the_dem(run):
    a, _ = run
    c = a.counties.set_index("name_zh")
    assert "removed_pv_slope_km2" in a.counties
    assert c.loc["融水苗族自治县", "removed_pv_slope_km2"] == pytest.approx(0, abs=1e-6)  # west of 109.4E: flat
    # 鹿寨县 straddles 110E: part of it is steeper than 25° and loses land to the slope rule
    assert c.loc["鹿寨县", "removed_pv_slope_km2"] > 0
    assert not any("'slope'" in n and "not applied" in n for n in a.notes)
    assert any(i["layer"].startswith("slope_deg_pass_25") and "Horn" in i["method"] for i in a.provenance["inputs"])


def test_a_stricter_slope_limit_never_adds_land(run):
    a, scen = run
    s = siting.load_scenario(scen)[0]
    stricter = siting.with_overrides(s, {"pv": {"rules": {"slope": {"max": 15.0}}}})
    b = siting.assess("柳州", tech="pv", resolution_m=2000, scenario=stricter)
    assert (b.counties.usable_pv_km2.to_numpy() <= a.counties.usable_pv_km2.to_numpy() + 1e-6).all()
    assert b.counties.usable_pv_km2.sum() < a.counties.usable_pv_km2.sum()


def test_slope_rule_with_min_is_refused(run):
    _, scen = run
    s = siting.with_overrides(siting.load_scenario(scen)[0], {"pv": {"rules": {"slope": {"min": 1.0}}}})
    with pytest.raises(SitingError, match="max only"):
        siting.assess("柳州", tech="pv", resolution_m=5000, scenario=s)


def test_north_facing_penalty(tmp_path):
    """A north-facing 10° slope passes the 25° limit but is excluded by the north-facing penalty."""
    res = 0.005
    west, south, east, north = 108.3, 23.5, 110.5, 26.3
    w, h = int(round((east - west) / res)), int(round((north - south) / res))
    lat = north - (np.arange(h) + 0.5) * res
    z = np.repeat((200.0 + np.tan(np.radians(10.0)) * (lat - south) * 110_574.0)[:, None], w, axis=1)  # rises north
    z = z.astype("float32")
    path = tmp_path / "north.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(res, 0, west, 0, -res, north)) as dst:
        dst.write(z, 1)
    scen = tmp_path / "n.toml"
    scen.write_text(f'extends = "china"\n[layers.slope_deg]\nsource = "{path}"\nkind = "continuous"\n'
                    'units = "degrees"\nderive = "slope_deg"\n', encoding="utf-8")
    # the ground rises towards the north, so it faces south: nothing removed
    a = siting.assess("柳州", tech="pv", resolution_m=5000, scenario=scen)
    assert a.counties.removed_pv_slope_km2.sum() == pytest.approx(0, abs=1e-6)
    with rasterio.open(path, "r+") as dst:  # flip it: rising towards the south, facing north
        dst.write(z[::-1], 1)
    b = siting.assess("柳州", tech="pv", resolution_m=5000, scenario=scen)
    assert b.counties.usable_pv_km2.sum() < 0.01 * a.counties.usable_pv_km2.sum()
