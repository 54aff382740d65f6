"""From `siting fetch` (loopback mirror, realistic files) to `siting report` with every rule applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from siting.io import fetch as F
from siting.io.regions import counties, resolve
from siting.ui.cli import app

from .fixtures_fetch import ServerState, start_server
from .realistic_fetch import files_for
from .test_fetch import server_path

REGION = "450202"  # 城中区, 柳州


@pytest.fixture()
def mirror():
    bbox = tuple(float(v) for v in counties(resolve(REGION)).total_bounds)
    content = files_for(bbox)
    by_path = {item.path: server_path(item.url) for _, item in F.plan(bbox, "dem,wind,solar,landcover,reserves,bathymetry")}
    server = start_server(ServerState(files={by_path[p]: data for p, data in content.items()}))
    try:
        yield server
    finally:
        server.close()


def _fetch(server, cache, datasets):
    return CliRunner().invoke(app, ["fetch", REGION, "--datasets", datasets, "--cache", str(cache), "--base-url",
                                    server.base_url, "-q", "--timeout", "5"])


def test_fetch_then_report_applies_every_rule(mirror, tmp_path):
    r = _fetch(mirror, tmp_path, "dem,wind,solar,landcover,reserves")
    assert r.exit_code == 0, r.output
    scenario = tmp_path / "chengzhong_450202.toml"
    assert r.stdout.strip() == str(scenario) and scenario.exists()
    text = scenario.read_text(encoding="utf-8")
    assert 'extends = "worldcover"' in text and "scale = 365.25" in text and "height_m = 100.0" in text
    r = CliRunner().invoke(app, ["report", REGION, "--data", str(tmp_path), "--resolution", "500", "--year", "2030",
                                 "--format", "json", "-q"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    # only the basic-farmland polygons are user data (the land-cover cropland rule stands in, and says so)
    # every rule applies but the farmland polygons no open dataset has, and the building footprints the fetch
    # does not bring (their proxy, urban land, stands in)
    skipped = [n for n in doc["notes"] if "not applied" in n]
    assert skipped and all("basic_farmland" in n or "the rule 'urban_roofs' stands in" in n for n in skipped)
    assert any("stands in" in n for n in doc["notes"])
    prov = doc["provenance"]
    assert {i["layer"] for i in prov["inputs"]} >= {"land_cover", "slope_deg_pass_30", "protected", "wind_speed_ms",
                                                    "pvout_kwh_per_kwp", "ghi_kwh_per_m2_yr", "elevation_m"}
    assert prov["scenario"]["files"] and any("chengzhong_450202.toml" in f["path"] for f in prov["scenario"]["files"])
    assert prov["fetched_files"] and all(f["sha256"] for f in prov["fetched_files"])
    row = doc["rows"][0]
    assert 1000 < row["specific_yield_kwh_per_kwp"] < 1250  # PVOUT 3.1 kWh/kWp/day x 365.25
    assert 5.0 < row["wind_speed_hub_ms"] < 9.0 and row["energy_wind_gwh"] > 0
    steps = prov["steps"]
    for rule in ("protected_areas", "water_wetland_urban_snow", "forest", "cropland", "slope"):
        assert rule in steps["pv"], rule
    assert row["removed_pv_protected_areas_km2"] > 0 and row["removed_pv_forest_km2"] > 0
    for rule in ("protected_areas", "forest", "settlement_setback", "elevation", "slope", "min_wind_speed"):
        assert rule in steps["wind"], rule
    assert doc["basis"]["pv"]["tier"] == "technical potential"
    assert doc["basis"]["wind"]["tier"] == "technical potential"
    assert doc["basis"]["pv"]["layers"]["protection"] in ("applied", "proxy")


def test_partial_fetch_then_more_keeps_a_hand_edited_scenario(mirror, tmp_path):
    r = _fetch(mirror, tmp_path, "dem,landcover")
    assert r.exit_code == 0, r.output
    scenario = tmp_path / "chengzhong_450202.toml"
    text = scenario.read_text(encoding="utf-8")
    assert "not fetched yet: wind, solar, reserves" in text and "wind_speed_ms" not in text
    r = CliRunner().invoke(app, ["report", REGION, "--data", str(tmp_path), "--resolution", "500", "-q",
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    notes = " ".join(json.loads(r.stdout)["notes"])
    assert "protected_areas' not applied" in notes and "Wind energy (GWh/yr) and capacity factor not computed" in notes
    r = _fetch(mirror, tmp_path, "wind")  # an unedited scenario is updated in place
    assert r.exit_code == 0 and "wind_speed_ms" in scenario.read_text(encoding="utf-8")
    scenario.write_text(scenario.read_text(encoding="utf-8") + "\n# my note\n", encoding="utf-8")
    r = _fetch(mirror, tmp_path, "solar")
    assert r.exit_code == 0, r.output
    assert "# my note" in scenario.read_text(encoding="utf-8")  # the user's edit is kept
    new = tmp_path / "chengzhong_450202.new.toml"
    assert new.exists() and "pvout_kwh_per_kwp" in new.read_text(encoding="utf-8")
    assert r.stdout.strip() == str(new)


def test_fetched_bathymetry_gives_depths_and_foundation_types(tmp_path):
    coast = "450502"  # 海城区, 北海 (with Weizhou island): its sea reaches past the 60 m depth line of the fixture
    bbox = tuple(float(v) for v in counties(resolve(coast)).total_bounds)
    plan = F.plan(bbox, "bathymetry")
    assert [Path(item.path).name for _, item in plan] == ["ETOPO_2022_v1_15s_N30E105_surface.tif"]
    content = files_for(bbox, "bathymetry")
    server = start_server(ServerState(files={server_path(item.url): content[item.path] for _, item in plan}))
    try:
        r = CliRunner().invoke(app, ["fetch", coast, "--datasets", "bathymetry", "--cache", str(tmp_path),
                                     "--base-url", server.base_url, "-q", "--timeout", "5"])
    finally:
        server.close()
    assert r.exit_code == 0, r.output
    text = (tmp_path / "haicheng_450502.toml").read_text(encoding="utf-8")
    assert "[layers.water_depth_m]" in text and "scale = -1.0" in text and "etopo2022/" in text
    r = CliRunner().invoke(app, ["report", coast, "--data", str(tmp_path), "--tech", "offshore", "--resolution",
                                 "2000", "--format", "json", "-q"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    row = doc["rows"][0]
    # the fixture's sea floor is 60 m deep at 20.7° N: fixed-bottom sea north of it, floating south of it
    assert row["usable_offshore_fixed_km2"] > 50 and row["usable_offshore_floating_km2"] > 50
    assert row["usable_offshore_fixed_km2"] + row["usable_offshore_floating_km2"] == pytest.approx(
        row["usable_offshore_km2"], rel=1e-6)
    assert any(n.startswith("Offshore foundations by water depth: fixed (0-60 m of water)") for n in doc["notes"])
    assert not any("'depth'" in n and "not applied" in n for n in doc["notes"])
    assert any(f["dataset"] == "bathymetry" for f in doc["provenance"]["fetched_files"])


def test_a_mirror_with_nothing_is_an_error(tmp_path):
    server = start_server(ServerState(files={}))  # every request answers 404
    try:
        r = _fetch(server, tmp_path, "dem,landcover")
    finally:
        server.close()
    assert r.exit_code == 2
    assert "nothing came for dem, landcover from http://127.0.0.1" in r.output and "404" in r.output
    assert not (tmp_path / "chengzhong_450202.toml").exists()
