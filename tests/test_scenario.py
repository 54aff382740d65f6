"""Scenario TOML: the preset is complete and sourced; bad files give errors naming file and key."""

import pytest

from siting import SitingError, load_scenario, with_overrides
from siting.rules.scenario import ClassesRule, preset_path


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_preset_loads_and_every_rule_and_parameter_has_a_source():
    scen, prov = load_scenario()
    assert scen.meta.name == "china-default"
    assert prov["files"][0]["path"].endswith("china.toml") and len(prov["files"][0]["sha256"]) == 64
    for tech in ("pv", "wind"):
        spec = getattr(scen, tech)
        assert spec.capacity_density_source and spec.utilisation_source
        for name, rule in spec.rules.items():
            assert rule.source, f"{tech}.rules.{name} has no source"
    for name, layer in scen.layers.items():
        assert layer.citation and layer.licence and layer.resolution, name
    for name, f in scen.offshore.foundations.items():  # each foundation type's depth limit and density
        assert f.max_depth_source and f.capacity_density_source, name
        assert f"foundations.{name}.capacity_density_mw_per_km2" in scen.offshore.ranges, name


def test_preset_follows_the_national_rules():
    scen, _ = load_scenario()
    pv = scen.pv.rules
    # no ground PV on cropland (farmland proxy), water, wetland, urban, snow; no PV on forest
    assert pv["cropland"].weights[12] == 0.0
    assert {0, 11, 13, 15} <= set(pv["water_wetland_urban_snow"].exclude)
    assert {1, 2, 3, 4, 5} <= set(pv["forest"].exclude)
    # forest allowed for wind at a reduced weight
    wf = scen.wind.rules["forest"]
    assert all(0 < wf.weights[c] < 1 for c in (1, 2, 3, 4, 5))


def test_extends_merges_rules_by_name(tmp_path):
    p = write(tmp_path, 'extends = "china"\n[meta]\nname = "agri"\n[pv.rules.cropland]\nweights = { 12 = 0.3 }\n')
    scen, prov = load_scenario(p)
    assert scen.meta.name == "agri"
    assert scen.pv.rules["cropland"].weights[12] == 0.3
    assert scen.pv.rules["cropland"].weights[14] == 0.5  # kept from the preset
    assert list(scen.pv.rules) == list(load_scenario()[0].pv.rules)  # order kept
    assert len(prov["files"]) == 2


def test_with_overrides():
    scen, _ = load_scenario()
    s2 = with_overrides(scen, {"pv": {"rules": {"cropland": {"weights": {12: 0.3}}}}})
    assert s2.pv.rules["cropland"].weights[12] == 0.3 and scen.pv.rules["cropland"].weights[12] == 0.0


@pytest.mark.parametrize(
    "text, expected",
    [
        ('extends = "china"\n[pv]\ncapacity_densty_mw_per_km2 = 3\n',
         ["unknown key 'pv.capacity_densty_mw_per_km2'", "capacity_density_mw_per_km2"]),
        ('extends = "china"\n[pv]\nutilisation = "high"\n', ["pv.utilisation", "valid number"]),
        ('extends = "china"\n[pv]\nutilisation = 1.5\n', ["pv.utilisation", "less than or equal to 1"]),
        ('extends = "china"\n[pv.rules.cropland]\nweights = { 12 = 2.0 }\n', ["pv.rules.cropland.weights.12"]),
        ('extends = "china"\n[pv.rules.x]\ntype = "slope"\nlayer = "land_cover"\n', ["type", "classes, range"]),
        ('extends = "china"\n[pv.rules.x]\ntype = "classes"\nlayer = "nope"\nexclude = [1]\n',
         ["layer 'nope' is not declared"]),
        ('extends = "china"\n[pv.rules.x]\ntype = "range"\nlayer = "land_cover"\nmax = 3\n',
         ["needs a continuous layer"]),
        ('extends = "china"\n[pv.rules.x]\ntype = "buffer"\nlayer = "land_cover"\nclasses=[13]\ndistance_m = -5\n',
         ["distance_m", "greater than or equal to 0"]),
        ('extends = "china"\n[pv.rules.x]\ntype = "classes"\nlayer = "land_cover"\nexlude = [1]\n',
         ["unknown key 'pv.rules.x.exlude'", "exclude"]),
        ('extends = "china"\n[offshore.foundations.fixed]\nmax_depth_m = 2000\ncapacity_density_mw_per_km2 = 5\n',
         ["shallow to deep"]),
        ('extends = "china"\n[offshore.ranges]\n"foundations.fixed.density" = { low = 1, high = 2 }\n',
         ["foundations.<name>.capacity_density_mw_per_km2"]),
        ("this is = not toml [", ["not valid TOML"]),
        ('extends = "nowhere.toml"\n', ["nowhere.toml", "does not exist"]),
    ],
)
def test_bad_scenarios_name_the_file_and_the_key(tmp_path, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(SitingError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert "s.toml" in msg or "nowhere.toml" in msg
    for part in expected:
        assert part in msg, msg


def test_missing_file():
    with pytest.raises(SitingError, match="does not exist"):
        load_scenario("/no/such/scenario.toml")


def test_preset_path_is_packaged():
    assert preset_path("china").name == "china.toml"
    assert isinstance(load_scenario("china")[0].pv.rules["forest"], ClassesRule)


def test_guangxi_example_is_a_valid_scenario():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "layers" / "guangxi_example.toml"
    scen, prov = load_scenario(path)
    assert scen.meta.name == "guangxi-real-data" and len(prov["files"]) == 2
    assert scen.layers["landuse_survey"].value_column == "DLBM1"
    assert scen.layers["wind_speed_ms"].height_m == 100
    assert scen.layers["slope_deg"].derive == "slope_deg"
    # user rules are appended after the preset's, and every rule names its source
    assert list(scen.pv.rules)[:3] == ["protected_areas", "basic_farmland", "water_wetland_urban_snow"]
    assert all(r.source for t in ("pv", "wind") for r in getattr(scen, t).rules.values())


def test_a_validator_error_is_one_short_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('extends = "china"\n[pv.rules.x]\ntype = "classes"\nlayer = "nope"\nexclude = [1]\n', encoding="utf-8")
    with pytest.raises(SitingError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "layer 'nope' is not declared" in message and len(message) < 300 and "\n" not in message
