"""Files written by the API: all of them or none."""

from __future__ import annotations

import pytest

from siting.io.atomic import write_folder


def test_write_folder_is_all_or_nothing(tmp_path):
    (tmp_path / "a.txt").write_text("old", encoding="utf-8")

    def boom(path):
        raise RuntimeError("disk full")

    from siting.errors import SitingError

    with pytest.raises(SitingError, match=r"cannot write b.txt \(RuntimeError: disk full\)"):
        write_folder(tmp_path, {"a.txt": lambda p: p.write_text("new", encoding="utf-8"), "b.txt": boom})
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary folder left behind
    written = write_folder(tmp_path, {"a.txt": lambda p: p.write_text("new", encoding="utf-8")})
    assert written == [tmp_path / "a.txt"] and written[0].read_text(encoding="utf-8") == "new"


def test_allocation_save_writes_tables_and_figures(tmp_path, guangxi):
    result = guangxi.allocate(target_mw=20_000, method="proportional")
    files = result.save(tmp_path / "alloc", title="test")
    assert [f.name for f in files] == ["allocation.csv", "allocation.xlsx", "supply_curve.csv", "supply_curve.png",
                                      "supply_curve.svg"]
    assert all(f.stat().st_size > 0 for f in files)


def test_allocate_distributes_target_minus_existing_and_names_every_document(guangxi, tmp_path):
    result = guangxi.allocate(year=2030, method="proportional")
    assert result.source is not None and result.source["source_document"]
    assert result.target_total_mw == pytest.approx(70_000)
    assert result.existing_mw > 0 and result.target_mw == pytest.approx(70_000 - result.existing_mw)
    assert result.counties["allocated_mw"].sum() == pytest.approx(result.target_mw)
    assert "2020-12-31" in result.existing_vintage and "2023-05" in result.existing_vintage
    # Guangxi's 70 GW is stated by two documents with different qualifiers (左右 and 力争超过): both are named
    assert len(result.sources) == 2 and any("documents differ" in n for n in result.notes)
    user = tmp_path / "existing.csv"
    user.write_text("adcode,tech,capacity_mw,as_of\n450000,pv,18000,2024-12-31\n450000,wind,13000,2024-12-31\n",
                    encoding="utf-8")
    mine = guangxi.allocate(year=2030, method="proportional", existing_file=user)
    assert mine.existing_mw == 31_000 and mine.target_mw == pytest.approx(39_000)
    assert mine.existing_vintage.count("2024-12-31") == 2
    done = guangxi.allocate(year=2030, method="proportional", existing_file=_write(
        tmp_path / "full.csv", "adcode,tech,capacity_mw,as_of\n450000,pv,50000,2025-06-30\n450000,wind,30000,2025-06-30\n"))
    assert done.target_mw == 0 and done.counties["allocated_mw"].sum() == 0
    assert any("already reaches the target" in n for n in done.notes)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_existing_file_errors_name_the_file(tmp_path):
    from siting.errors import SitingError
    from siting.reference.compare import load_existing_file

    with pytest.raises(SitingError, match=r"e.csv: missing column\(s\) as_of"):
        load_existing_file(_write(tmp_path / "e.csv", "adcode,tech,capacity_mw\n450000,pv,1\n"))
    with pytest.raises(SitingError, match="as_of a date"):
        load_existing_file(_write(tmp_path / "e.csv", "adcode,tech,capacity_mw,as_of\n450000,pv,1,soon\n"))


def test_comparison_says_the_vintage_of_existing_capacity(guangxi):
    cmp = guangxi.compare_targets(2030)
    prov = cmp[cmp.adcode == "450000"].iloc[0]
    assert "pv: 2020-12-31" in prov["existing_vintage"] and "wind: 2023-05" in prov["existing_vintage"]


def test_static_map_and_tornado_figures_from_the_cli(tmp_path):
    import json

    from PIL import Image
    from typer.testing import CliRunner

    from siting.ui.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["map", "柳州", "--png", "--column", "usable_pv_share", "--resolution", "5000", "-q",
                            "--out", str(tmp_path / "lz.png")])
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "lz.png").size[0] > 500
    r = runner.invoke(app, ["sensitivity", "柳州", "--resolution", "5000", "-q", "--out", str(tmp_path / "t.svg"),
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows[0]["swing_share"] >= rows[-1]["swing_share"] and "pv.utilisation" in {x["assumption"] for x in rows}
    assert (tmp_path / "t.svg").read_text(encoding="utf-8").startswith("<?xml")
    r = runner.invoke(app, ["map", "柳州", "--png", "--column", "nonsense", "--resolution", "5000", "-q"])
    assert r.exit_code == 2 and "--column nonsense" in r.output


def test_a_new_set_removes_the_stale_files_of_the_earlier_one(tmp_path):
    write_folder(tmp_path, {"a.csv": lambda p: p.write_text("1", encoding="utf-8"),
                            "targets.csv": lambda p: p.write_text("t", encoding="utf-8")})
    (tmp_path / "mine.txt").write_text("not ours", encoding="utf-8")
    write_folder(tmp_path, {"a.csv": lambda p: p.write_text("2", encoding="utf-8")})
    assert not (tmp_path / "targets.csv").exists()  # no longer looks current
    assert (tmp_path / "mine.txt").exists() and (tmp_path / "a.csv").read_text(encoding="utf-8") == "2"
    assert [p.name for p in tmp_path.glob(".siting-*")] == [".siting-files.json"]  # no temporary folder left


def test_signals_are_held_while_a_set_is_put_in_place():
    import os
    import signal

    from siting.io.atomic import _signals_held

    import threading

    # another thread is alive, as in a run: a signal sent to the process may go to it rather than the main one
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    got = []
    try:
        for _ in range(20):
            with pytest.raises(KeyboardInterrupt):
                with _signals_held():
                    os.kill(os.getpid(), signal.SIGINT)
                    for _ in range(1000):  # bytecodes run in between: a pending handler would have run
                        pass
                    got.append("renames finished first")
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        done.set()
        other.join()
    assert got == ["renames finished first"] * 20


def test_folders_where_files_are_expected_are_one_line_errors(tmp_path):
    from typer.testing import CliRunner

    from siting.ui.cli import app

    layer_dir = tmp_path / "a_folder"
    layer_dir.mkdir()
    scen = tmp_path / "s.toml"
    scen.write_text(f'extends = "china"\n[layers.protected]\nsource = "{layer_dir}"\nkind = "categorical"\n'
                    'units = "1"\n', encoding="utf-8")
    for args, message in ((["--scenario", str(tmp_path)], "is a folder, not a TOML file"),
                          (["--scenario", str(scen)], "is a folder, not a raster or vector file")):
        r = CliRunner().invoke(app, ["report", "柳州", "--resolution", "5000", "-q", *args])
        assert r.exit_code == 2 and message in r.output, r.output


def test_static_map_labels_counties_in_chinese_when_a_cjk_font_exists(tmp_path, recwarn):
    import siting
    from siting.outputs.figures import cjk_font

    if cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk, which .ci/run installs)")
    a = siting.assess("柳州", tech="pv", resolution_m=5000, draws=0)
    a.save_figure(tmp_path / "lz.png", "capacity_pv_mwp")
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert missing == [], missing[:3]  # every Chinese county name had its glyphs
    assert (tmp_path / "lz.png").stat().st_size > 50_000


def test_map_draws_from_a_results_folder_without_running_again(tmp_path, monkeypatch):
    import json

    import numpy as np
    import pandas as pd
    from typer.testing import CliRunner

    import siting
    import siting.api
    from siting.ui.cli import app

    a = siting.assess("柳州", resolution_m=2000.0)
    out = tmp_path / "res"
    a.save(out, comparison=a.compare_targets(2030))
    loaded, comparison = siting.load_results(out)
    assert loaded.region == a.region and loaded.technologies == a.technologies and loaded.notes[:-1] == a.notes
    assert comparison is not None and len(comparison) == len(a.compare_targets(2030))
    for name in a.grid.data_vars:  # the overview grid comes back as it was, dtypes too
        assert loaded.grid[name].dtype == a.grid[name].dtype
        assert np.array_equal(loaded.grid[name].values, a.grid[name].values, equal_nan=True), name
    from siting.outputs.maps import make_map, map_html

    assert map_html(make_map(loaded, comparison)).count("data:image/png") == map_html(a.map(2030)).count(
        "data:image/png") > 0
    pd.testing.assert_series_equal(loaded.counties.capacity_pv_mwp.reset_index(drop=True),
                                   a.counties.capacity_pv_mwp.round(1).reset_index(drop=True), check_names=False)

    def no_run(*args, **kwargs):
        raise AssertionError("siting map --results must not run the assessment")

    monkeypatch.setattr(siting.api, "assess", no_run)
    html = tmp_path / "m.html"
    r = CliRunner().invoke(app, ["map", str(out), "--out", str(html)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    text = html.read_text(encoding="utf-8")
    assert "融水苗族自治县" in text and "results folder" in text
    r = CliRunner().invoke(app, ["map", "--results", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "results folder" in r.output
    (out / "provenance.json").write_text(json.dumps({"scenario": {}}), encoding="utf-8")
    r = CliRunner().invoke(app, ["map", "--results", str(out), "--out", str(html)])
    assert r.exit_code == 2 and "cannot be read" in r.output


def test_island_counties_are_covered_and_no_county_lies_below_the_sea():
    """Hainan's reef county 南沙区 is mostly sea: the built-in altitude puts the sea at 0 m, as pvlib does."""
    import numpy as np

    import siting
    from siting.io.layers import read_pvlib_altitude

    src = read_pvlib_altitude((111.0, 14.0, 118.0, 19.0))  # the sea around the Paracel and Zhongsha reefs
    assert np.isfinite(src.array).all() and (src.array == 0).mean() > 0.9
    a = siting.assess("海南", tech="pv", resolution_m=2000.0)
    c = a.counties.set_index("adcode")
    assert "460302" in c.index and c.grid_area_km2["460302"] > 1000
    # the mean elevation is of land: the reefs' lagoons are left out (the Sansha reef counties are all water at
    # 0.05°, so they have none), every other county has one
    assert set(c.index[c.elevation_m.isna()]) == {"460301", "460302"}
    assert (c.elevation_m.dropna() > -3).all()  # the lowest coastal step of the data is -2 m


def test_allocation_blocks_hold_each_technologys_own_capacity(guangxi):
    from siting.columns import capacity_column
    from siting.reference.allocate import supply_blocks

    blocks = supply_blocks(guangxi.counties, guangxi.technologies)
    assert set(blocks.tech) == {"pv", "agri_pv", "rooftop_pv", "wind", "offshore"}
    for t, g in blocks.groupby("tech"):
        assert g.capacity_mw.sum() == pytest.approx(guangxi.counties[capacity_column(t)].sum())
    yields = blocks.groupby("tech").yield_mwh_per_mw.median()
    assert yields["rooftop_pv"] < yields["pv"] and yields["agri_pv"] == pytest.approx(yields["pv"], rel=0.01)


@pytest.mark.parametrize("crs", ["CHINA_ALBERS", "EPSG:4326", "EPSG:32649"])
def test_grid_mapping_is_what_rioxarray_writes(tmp_path, crs):
    """The CRS and transform of the grid dataset are written as rioxarray's write_crs and write_transform write
    them (attributes in the same order, encodings, no crs attribute left), and read back by rioxarray."""
    import numpy as np
    import xarray as xr
    from affine import Affine

    rioxarray = pytest.importorskip("rioxarray")
    from siting.api import write_grid_mapping
    from siting.geo.grid import CHINA_ALBERS

    crs = CHINA_ALBERS if crs == "CHINA_ALBERS" else crs
    transform = Affine(1000.0, 0.0, -1_250_000.5, 0.0, -1000.0, 3_010_000.25)

    def dataset():
        ds = xr.Dataset({"usable": (("y", "x"), np.arange(12, dtype="float32").reshape(3, 4)),
                         "steps": ("step", np.arange(2))},
                        coords={"y": 3_009_500.25 - 1000.0 * np.arange(3), "x": -1_249_500.5 + 1000.0 * np.arange(4)})
        ds.attrs.update({"crs": crs, "resolution_m": 1000.0})
        return ds

    ours = write_grid_mapping(dataset(), crs, transform)
    theirs = dataset().rio.write_crs(crs, inplace=True).rio.write_transform(transform, inplace=True)
    assert list(ours.attrs.items()) == list(theirs.attrs.items())
    assert list(ours.coords) == list(theirs.coords)
    assert list(ours["spatial_ref"].attrs.items()) == list(theirs["spatial_ref"].attrs.items())
    assert ours.encoding == theirs.encoding
    for name in theirs.variables:
        assert ours[name].encoding == theirs[name].encoding, name
        assert ours[name].attrs == theirs[name].attrs, name
    ours.to_netcdf(tmp_path / "g.nc")
    with xr.open_dataset(tmp_path / "g.nc", decode_coords="all") as read:
        assert read.rio.crs.to_wkt() == theirs.rio.crs.to_wkt()
        assert read.rio.transform() == transform
