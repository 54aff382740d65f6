"""Formats planners use: CSV rounded to what the data support, one Excel workbook, one-line usage errors."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import siting
from siting import columns

SITING = [sys.executable, "-c", "from siting.ui.cli import main; main()"]


@pytest.fixture(scope="module")
def liuzhou():
    return siting.assess("柳州", resolution_m=2000.0)


def test_rounded_keeps_declared_places_and_never_writes_minus_zero():
    df = pd.DataFrame({"elevation_m": [-0.3, 12.6, np.nan], "usable_pv_share": [0.123456, -1e-9, 1.0],
                       "capacity_pv_mwp": [1.26, -0.04, 3.0], "name_zh": ["甲", "乙", "丙"], "undeclared": [0.123456] * 3})
    text = columns.rounded(df).to_csv(index=False)
    assert "-0" not in text
    r = pd.read_csv(io.StringIO(text))
    assert r.elevation_m.tolist()[:2] == [0, 13] and r.usable_pv_share.tolist() == [0.1235, 0.0, 1.0]
    assert r.capacity_pv_mwp.tolist() == [1.3, 0.0, 3.0] and r.undeclared.tolist() == [0.123456] * 3


def test_every_written_column_has_places_or_is_text(liuzhou):
    comparison = liuzhou.compare_targets(2030)
    frames = [liuzhou.counties.drop(columns="geometry"), liuzhou.totals, liuzhou.waterfall(), comparison]
    for df in frames:
        for name in df.columns:
            assert columns.lookup(name) is not None, f"declare {name} in siting/columns.py"
            if df[name].dtype.kind == "f":
                assert columns.decimals(name) is not None, f"{name}: numeric without decimals"
            assert columns.label_zh(name) != name, f"{name}: no Chinese label"


def test_saved_csv_is_rounded(liuzhou, tmp_path):
    liuzhou.save(tmp_path)
    df = pd.read_csv(tmp_path / "counties.csv", dtype={"adcode": str})
    assert df.elevation_m.dtype.kind == "i" and df.ghi_kwh_per_m2_yr.dtype.kind == "i"
    for name in ("capacity_pv_mwp", "energy_pv_gwh", "capacity_wind_mw"):
        assert np.allclose(df[name], df[name].round(1))
    assert np.allclose(df.usable_pv_share, df.usable_pv_share.round(4))
    exact = liuzhou.counties.set_index("adcode")
    assert np.allclose(df.set_index("adcode").capacity_pv_mwp, exact.capacity_pv_mwp, atol=0.05)


def test_workbook_sheets_headers_and_values(liuzhou, tmp_path):
    import openpyxl

    path = tmp_path / "r.xlsx"
    from siting.outputs.workbook import HEADER_ROWS, write_workbook

    write_workbook(path, liuzhou, liuzhou.compare_targets(2030))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["notes 说明", "counties 县", "totals 汇总", "waterfall 排除", "targets 目标"]
    notes = [r[1] for r in wb["notes 说明"].iter_rows(values_only=True)]
    assert all(n in notes for n in liuzhou.notes)
    ws = wb["counties 县"]
    head = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=len(HEADER_ROWS))]
    j = head[0].index("capacity_pv_mwp")
    assert (head[1][j], head[2][j], head[3][j]) == ("Ground PV capacity", "地面光伏装机（直流）", "MWp")
    share = head[0].index("usable_pv_share")
    assert head[3][share] == "%"
    first = len(HEADER_ROWS) + 1
    assert ws.cell(first, share + 1).number_format == "0.00%"
    assert ws.freeze_panes == f"C{first}"
    got = pd.DataFrame([[c.value for c in row] for row in ws.iter_rows(min_row=first)], columns=head[0])
    assert len(got) == len(liuzhou.counties)
    want = columns.rounded(liuzhou.counties.drop(columns="geometry"))
    assert got.capacity_pv_mwp.tolist() == want.capacity_pv_mwp.tolist()
    assert got.name_zh.tolist() == want.name_zh.tolist()
    targets = wb["targets 目标"]
    assert [c.value for c in targets[1]][:3] == ["row_id", "adcode", "jurisdiction_zh"]
    assert targets.max_row > len(HEADER_ROWS)


def test_workbook_without_targets_says_how_to_get_them(liuzhou, tmp_path):
    import openpyxl

    from siting.outputs.workbook import write_workbook

    write_workbook(tmp_path / "r.xlsx", liuzhou)
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["targets 目标"]
    assert "--year" in ws.cell(1, 1).value


def test_format_xlsx_on_stdout(tmp_path):
    out = tmp_path / "r.xlsx"
    with open(out, "wb") as f:
        r = subprocess.run([*SITING, "report", "450225", "--tech", "pv", "--format", "xlsx", "-q"], stdout=f,
                           stderr=subprocess.PIPE, text=False, timeout=600)
    assert r.returncode == 0, r.stderr
    import openpyxl

    assert openpyxl.load_workbook(out)["counties 县"].cell(5, 2).value == "融水苗族自治县"


def test_format_xlsx_refuses_a_terminal():
    master, slave = pty.openpty()
    try:
        r = subprocess.run([*SITING, "report", "450225", "--tech", "pv", "--format", "xlsx", "-q"], stdout=slave,
                           stderr=subprocess.PIPE, text=True, timeout=600)
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "--format xlsx: a workbook is binary" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["report", "guangxi", "--format", "pdf"], "Invalid value for '--format': 'pdf' is not one of"),
    (["report", "guangxi", "--bogus"], "No such option: --bogus"),
    (["report", "guangxi", "--resolution", "fine"], "Invalid value for '--resolution'"),
    (["regions"], "Missing argument"),
])
def test_usage_errors_are_one_line_with_status_2(args, message):
    r = subprocess.run([*SITING, *args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "COLUMNS": "80"})
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0, r.stderr
    assert message in r.stderr and "--help" in r.stderr and "Traceback" not in r.stderr and "╭" not in r.stderr
