"""Two scenarios side by side: known differences on the synthetic region, files, map layer, CLI errors."""

from __future__ import annotations

import openpyxl
import pytest
from typer.testing import CliRunner

import siting
from siting.ui.cli import app

from . import synthetic


def test_compare_two_scenarios_on_the_synthetic_region(tmp_path):
    bnd = synthetic.write_boundaries(tmp_path)
    raster = synthetic.write_classes(tmp_path)
    a = synthetic.write_scenario(tmp_path, raster)
    b = tmp_path / "b.toml"
    b.write_text(synthetic.SCENARIO.format(raster=raster.name).replace("exclude = [0, 12]", "exclude = [0]"),
                 encoding="utf-8")
    cmp = siting.compare_scenarios(scenarios=[a, b], boundaries=bnd, id_column="code", name_column="name", tech="pv")
    c = cmp.counties.set_index("adcode")
    # B allows the cropland (west half of A, 200 km²); B's water row stays excluded in both
    assert c.loc["A", "usable_pv_km2_diff"] == pytest.approx(200, rel=1e-9)
    assert c.loc["B", "usable_pv_km2_diff"] == pytest.approx(0, abs=1e-9)
    assert c.loc["A", "capacity_mw_diff"] == pytest.approx(200 * 40 * 0.5, rel=1e-9)
    files = cmp.save(tmp_path / "out", year=None)
    assert [f.name for f in files] == ["compare_counties.csv", "compare.xlsx", "compare_map.html"]
    assert openpyxl.load_workbook(files[1]).sheetnames == ["counties"]
    assert "Capacity B" in files[2].read_text(encoding="utf-8")


def test_compare_command_needs_two_scenarios():
    r = CliRunner().invoke(app, ["compare", "柳州", "--scenario", "china", "-q"])
    assert r.exit_code == 2 and "give exactly two" in r.output
