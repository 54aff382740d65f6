"""The command line: report and regions, formats, files, and one-line errors with exit status 2."""

import io
import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from siting.ui.cli import app

from . import synthetic

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})


def test_report_csv_for_a_city():
    r = invoke("report", "柳州", "--format", "csv", "-q")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout), dtype={"adcode": str})
    assert (df.level == "county").sum() == 10
    assert set(df.level) == {"county", "city"}  # the total of a city run is the city, not its province
    assert df.loc[df.level == "city", "adcode"].tolist() == ["450200"]
    assert {"usable_pv_km2", "capacity_pv_mwp", "capacity_pv_mwac", "capacity_wind_mw"} <= set(df.columns)


def test_report_json_carries_provenance_and_notes():
    r = invoke("report", "450225", "--format", "json", "-q", "--tech", "wind")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["provenance"]["region"]["adcode"] == "450225"
    assert doc["provenance"]["technologies"] == ["wind"]
    assert any("Coarse" in n for n in doc["notes"])
    assert doc["rows"][0]["adcode"] == "450225"


def test_report_table_and_out(tmp_path):
    out = tmp_path / "res"
    r = invoke("report", "liuzhou", "--out", str(out), "-q", "--resolution", "2000")
    assert r.exit_code == 0, r.output
    assert "融水苗族自治县" in r.stdout and "Exclusion waterfall" in r.stdout and "Coarse built-in data" in r.stdout
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {
        "counties.csv", "counties.gpkg", "summary.csv", "waterfall.csv", "report.xlsx", "grid.nc", "provenance.json"}


def test_report_with_user_boundaries_and_scenario(tmp_path):
    bnd = synthetic.write_boundaries(tmp_path)
    scen = synthetic.write_scenario(tmp_path, synthetic.write_classes(tmp_path))
    r = invoke("report", "--boundaries", str(bnd), "--id-column", "code", "--name-column", "name",
               "--scenario", str(scen), "--tech", "pv", "--format", "csv", "-q")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert df.loc[df.adcode == "A", "usable_pv_km2"].iloc[0] == pytest.approx(200, rel=0.005)
    # the same with small tiles, one at a time: the same table
    r2 = invoke("report", "--boundaries", str(bnd), "--id-column", "code", "--name-column", "name",
                "--scenario", str(scen), "--tech", "pv", "--format", "csv", "-q", "--scheduler", "sync",
                "--tile-cells", "8")
    assert r2.exit_code == 0, r2.output
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(r2.stdout)), df)


@pytest.mark.parametrize("args, message", [
    (["report", "nowhere", "-q"], "region 'nowhere': no province"),
    (["report", "城中区", "-q"], "ambiguous"),
    (["report", "guangxi", "--tech", "solar", "-q"], "--tech solar"),
    (["report", "guangxi", "--scenario", "/no/such.toml", "-q"], "scenario file /no/such.toml: does not exist"),
    (["report", "--boundaries", "/no/such.gpkg", "-q"], "--boundaries needs --id-column"),
    (["regions", "atlantis"], "region 'atlantis'"),
    (["report", "guangxi", "--scheduler", "tcp://127.0.0.1:9", "-q"], "cannot connect to a dask scheduler"),
    (["report", "guangxi", "--tile-cells", "2", "-q"], "--tile-cells 2"),
    (["report", "guangxi", "--data", "/no/such", "-q"], "run siting fetch guangxi --cache /no/such first"),
    (["report", "guangxi", "--data", "/no/such", "--scenario", "china", "-q"], "give --scenario or --data, not both"),
    (["report", "x" * 100_000, "-q"], "x… (100,000 characters)': too long for a place name"),
    (["report", "a/b", "-q"], "named 'a' ('/' and '>' separate levels"),
    (["report", "城中区>柳州", "-q"], "named '柳州' inside '城中区'"),
])
def test_errors_are_one_line_with_status_2(args, message, tmp_path):
    out = tmp_path / "out"
    r = invoke(*args, *(["--out", str(out)] if args[0] == "report" else []))
    assert r.exit_code == 2
    assert message in r.output.replace("\n", " ")
    assert len(r.output) < 600  # one line, the user's input shown at most once and cut
    assert not out.exists()  # nothing written


def test_bad_scenario_keeps_earlier_outputs(tmp_path):
    out = tmp_path / "out"
    assert invoke("report", "450225", "--out", str(out), "-q", "--tech", "pv").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "china"\n[pv]\nutilisation = 7\n', encoding="utf-8")
    r = invoke("report", "450225", "--out", str(out), "-q", "--scenario", str(bad))
    assert r.exit_code == 2 and "bad.toml" in r.output and "pv.utilisation" in r.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_regions():
    r = invoke("regions", "guangxi", "--format", "csv")
    assert r.exit_code == 0
    df = pd.read_csv(io.StringIO(r.stdout), dtype={"adcode": str})
    assert len(df) == 125 and "450124" in set(df.adcode)
    assert invoke("regions", "柳州").exit_code == 0


def test_console_script_is_installed():
    r = subprocess.run([sys.executable, "-m", "siting.ui.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "report" in r.stdout


def test_targets_command():
    r = invoke("targets", "guangxi", "--format", "csv")
    assert r.exit_code == 0
    df = pd.read_csv(io.StringIO(r.stdout), dtype={"adcode": str})
    assert {"450000", "450100", "450200"} <= set(df.adcode)
    assert "quote_zh" in df.columns and df.quote_zh.str.contains("7000万千瓦").any()
    r = invoke("targets", "guangxi", "--year", "2030")
    assert r.exit_code == 0 and "桂政发〔2022〕37号" in r.stdout


def test_report_with_year_adds_the_comparison(tmp_path):
    r = invoke("report", "柳州", "--year", "2030", "--format", "json", "-q", "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    row = [t for t in doc["targets"] if t["adcode"] == "450200"][0]
    assert row["target_mw"] == 7000 and row["achievable_mw"] > 0
    # built-in data: a land-only upper bound, so no verdict either way
    assert row["meets"] is None and row["verdict"] == "not_decidable" and row["basis_tier"] == "land-only upper bound"
    assert row["achievable_mw_p10"] < row["achievable_mw"] < row["achievable_mw_p90"]
    assert (tmp_path / "o" / "targets.csv").exists()


@pytest.mark.slow
def test_allocate_command(tmp_path):
    out = tmp_path / "alloc"
    r = invoke("allocate", "guangxi", "--year", "2030", "--method", "proportional", "--format", "csv", "-q",
               "--out", str(out), "--resolution", "5000")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    # the target minus what exists (PV, onshore wind and the tracker's 51 MW offshore in Guangxi)
    assert df.allocated_mw.sum() == pytest.approx(70_000 - 9_336, rel=1e-6)
    assert {"allocation.csv", "supply_curve.csv", "supply_curve.png", "supply_curve.svg"} <= {p.name for p in out.iterdir()}
    r = invoke("allocate", "guangxi", "-q")
    assert r.exit_code == 2 and "--year" in r.output


def test_yield_command():
    r = invoke("yield", "22.8", "108.3", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert len(doc["monthly_kwh_per_kwp"]) == 12
    assert sum(doc["monthly_kwh_per_kwp"]) == pytest.approx(doc["specific_yield_kwh_per_kwp"], rel=1e-3)
    assert 0.10 < doc["capacity_factor_ac"] < 0.30
    r = invoke("yield", "22.8", "108.3")
    assert r.exit_code == 0 and "Losses" in r.stdout
    assert invoke("yield", "95", "108").exit_code == 2


@pytest.mark.slow
def test_validate_command(tmp_path):
    r = invoke("validate", "guangxi", "-q", "--format", "json", "--resolution", "2000")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["flagged"] is False and 0.5 <= doc["share_on_usable"] <= 1.0 and doc["mw_checked"] > 1000
    bad = tmp_path / "noforest.toml"
    bad.write_text('extends = "china"\n[meta]\nname = "no-forest"\n[wind.rules.forest]\n'
                   "weights = { 1 = 0, 2 = 0, 3 = 0, 4 = 0, 5 = 0, 8 = 0 }\n", encoding="utf-8")
    r = invoke("validate", "guangxi", "-q", "--scenario", str(bad), "--resolution", "2000")
    assert r.exit_code == 1 and "FLAGGED" in r.stdout


def test_targets_table_fits_80_columns_and_names_every_document():
    from typer.testing import CliRunner

    r = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["report", "guangxi", "--year", "2030", "-q", "--rows", "3",
                                                      "--sort", "capacity_pv_mwp", "--resolution", "5000"])
    assert r.exit_code == 0, r.output
    table = r.stdout[r.stdout.index("Targets of the plans"):]
    box = [line for line in table.split("[1]")[0].splitlines() if line[:1] in "┏┃┡│└"]
    assert box and max(len(line) for line in box) <= 80  # the table itself fits 80 columns
    assert "70,000" in table and "…" not in table.split("[1]")[0]  # no number cut
    assert table.count("到2030年，风电、太阳能发电总装机容量达到7000万千瓦左右") == 1
    assert "力争超过7000万千瓦" in table  # the second document of the same target, under the same row
    assert table.split("[1]")[0].count("70,000") == 1  # one row for the target both documents state
    r = invoke("report", "guangxi", "-q", "--sort", "nonsense", "--resolution", "5000")
    assert r.exit_code == 2 and "--sort nonsense" in r.output
