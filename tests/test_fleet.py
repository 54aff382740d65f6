"""The existing wind fleet (GEM tracker): loading, county matching by text, scenario validation."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

import siting
from siting import names
from siting.reference import fleet
from siting.errors import SitingError

GUANGXI = "450000"
GX_PLACEHOLDER = (24.0001, 109.0001)


@pytest.fixture(scope="module")
def tracker() -> pd.DataFrame:
    return fleet.load_tracker()


@pytest.fixture(scope="module")
def gx_matched(tracker) -> pd.DataFrame:
    return fleet.match_counties(tracker, GUANGXI)


@pytest.fixture(scope="module")
def guangxi_no_forest(guangxi):
    """Guangxi wind with every forest class excluded."""
    scen = siting.with_overrides(guangxi.scenario,
                                 {"wind": {"rules": {"forest": {"weights": {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 8: 0}}}}})
    return siting.assess("guangxi", scenario=scen, tech="wind")


def _rows(*specs: dict) -> pd.DataFrame:
    """A small tracker in the normalised layout (defaults: operating onshore, approximate, Guangxi)."""
    base = {"phase_id": None, "project_name": "test", "project_name_zh": None, "capacity_mw": 50.0,
            "installation_type": "onshore", "status": "operating", "start_year": 2020, "lat_deg": GX_PLACEHOLDER[0],
            "lon_deg": GX_PLACEHOLDER[1], "location_exact": False, "local_area": None, "major_area": None,
            "province_en": "Guangxi"}
    rows = [{**base, "phase_id": f"G{i}", **spec} for i, spec in enumerate(specs)]
    return pd.DataFrame(rows, columns=fleet.NORMALISED_COLUMNS)


def _operating_onshore(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df["status"] == "operating") & (df["installation_type"] == "onshore")]


# --------------------------------------------------------------------------- loading


def test_builtin_tracker_has_all_china_rows(tracker):
    assert len(tracker) == 6607
    assert list(tracker.columns) == fleet.NORMALISED_COLUMNS
    assert tracker["phase_id"].is_unique
    assert tracker["location_exact"].dtype == bool
    assert tracker["capacity_mw"].gt(0).all()
    assert set(tracker["status"]) <= set(fleet.STATUSES)
    assert "Global Energy Monitor" in tracker.attrs["source"]


def test_guangxi_numbers_match_the_source_description(tracker):
    gx = tracker[tracker["province_en"] == "Guangxi"]
    assert len(gx) == 384
    op = _operating_onshore(gx)
    assert len(op) == 106
    assert op["capacity_mw"].sum() == pytest.approx(7235.0)


def test_shipped_copy_equals_the_shared_source(tracker, shared_data):
    src = pd.read_csv(shared_data / "ground_truth" / "gem_gwpt_2023-05_china.csv")
    assert len(src) == len(tracker)
    assert src["Capacity (MW)"].sum() == pytest.approx(tracker["capacity_mw"].sum())
    assert (src["GEM phase ID"].to_numpy() == tracker["phase_id"].to_numpy()).all()


def test_user_tracker_csv_and_xlsx(tmp_path, tracker):
    raw = pd.read_csv(fleet._tracker_resource(), dtype=str).head(20)
    csv = tmp_path / "newer.csv"
    raw.to_csv(csv, index=False)
    xlsx = tmp_path / "newer.xlsx"
    with pd.ExcelWriter(xlsx) as xw:
        pd.DataFrame({"about": ["GEM"]}).to_excel(xw, sheet_name="About", index=False)
        raw.to_excel(xw, sheet_name="Data", index=False)
    for path in (csv, xlsx):
        got = fleet.load_tracker(path)
        assert list(got["phase_id"]) == list(tracker["phase_id"].head(20))
        assert got["capacity_mw"].sum() == pytest.approx(tracker["capacity_mw"].head(20).sum())
        assert got.attrs["source"] == str(path)


def test_user_tracker_missing_column_names_file_and_column(tmp_path):
    raw = pd.read_csv(fleet._tracker_resource(), dtype=str).head(5).drop(columns="Location accuracy")
    path = tmp_path / "bad_tracker.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(SitingError, match=r"bad_tracker\.csv.*'Location accuracy'"):
        fleet.load_tracker(path)
    with pytest.raises(SitingError, match="does not exist"):
        fleet.load_tracker(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(("text", "key"), [
    ("Binyang County", "binyang"), ("Beiliu Municipality", "beiliu"), ("Beiliu", "beiliu"),
    ("Rong'an County", "rongan"), ("Pubei Xian", "pubei"), ("Babu District", "babu"),
    ("Rongshui Miao Autonomous County", "rongshui"), ("Lingwu Muncipality", "lingwu"),
    ("Xilinhot Banner", "xilinhot"), ("Lüliang Municipality", "luliang"), (None, ""), ("", ""),
])
def test_normalise_area_name(text, key):
    assert names.normalise_area_name(text) == key


def test_province_names_map_to_adcodes(tracker):
    cases = {"Guangxi": "450000", "Inner Mongolia": "150000", "Tibet": "540000", "Xinjiang": "650000",
             "Ningxia": "640000", "Shanxi": "140000", "Shaanxi": "610000", "Hong Kong": "810000",
             "Guangdong": "440000", "Beijing": "110000"}
    for name, code in cases.items():
        assert fleet.province_adcode_of(name) == code, name
    assert tracker["province_en"].map(fleet.province_adcode_of).notna().all()


def test_chinese_bare_names_and_abbreviations():
    assert names.bare_name_zh("巴里坤哈萨克自治县") == "巴里坤"
    assert names.bare_name_zh("龙胜各族自治县") == "龙胜"
    assert names.bare_name_zh("宾阳县") == "宾阳县"
    assert names.is_abbreviation("damao", ("da", "er", "han", "mao", "ming", "an", "lian", "he"))
    assert names.is_abbreviation("kezuozhong", ("ke", "er", "qin", "zuo", "yi", "zhong"))
    assert not names.is_abbreviation("maoda", ("da", "er", "han", "mao"))
    assert not names.is_abbreviation("da", ("da", "er", "han", "mao"))


# --------------------------------------------------------------------------- matching


def test_placeholder_rows_are_flagged(gx_matched):
    at_point = np.isclose(gx_matched["lat_deg"], GX_PLACEHOLDER[0]) & np.isclose(gx_matched["lon_deg"],
                                                                                 GX_PLACEHOLDER[1])
    assert at_point.sum() == 45
    assert gx_matched.loc[at_point, "placeholder"].all()
    op = _operating_onshore(gx_matched[at_point])
    assert len(op) == 38 and op["capacity_mw"].sum() == pytest.approx(2979.0)


def test_placeholder_rows_are_never_matched_by_point(tracker, gx_matched):
    # Moving every Guangxi row onto the placeholder point changes nothing: matching uses text only.
    moved = tracker.copy()
    moved[["lat_deg", "lon_deg"]] = GX_PLACEHOLDER
    again = fleet.match_counties(moved, GUANGXI)
    assert (again["county_adcode"].fillna("-") == gx_matched["county_adcode"].fillna("-")).all()
    # Placeholder rows end up in many counties, not in the county under the point (忻城县 451321).
    at_point = gx_matched[gx_matched["placeholder"]]
    assert at_point["county_adcode"].nunique() > 10
    assert (at_point["county_adcode"] == "451321").mean() < 0.1
    # Without county text a row stays unmatched even on a point inside a county.
    blank = fleet.match_counties(_rows({"local_area": None}, {"local_area": "Binyang County"}), GUANGXI)
    assert blank["county_adcode"].iloc[0] is None and blank["match"].iloc[0] == "unmatched"
    assert blank["county_adcode"].iloc[1] == "450126"


def test_guangxi_operating_onshore_matched_by_text(gx_matched):
    op = _operating_onshore(gx_matched)
    share = op.loc[op["county_adcode"].notna(), "capacity_mw"].sum() / op["capacity_mw"].sum()
    assert share >= 0.99  # measured 99.3 %: only "Heng County" (横县, renamed 横州市 in 2021; 48 MW) is left over
    assert set(op["match"]) <= set(fleet.MATCH_KINDS)
    left = op[op["county_adcode"].isna()]
    assert list(left["local_area"]) == ["Heng County"]


def test_known_guangxi_names(gx_matched):
    by_text = gx_matched.dropna(subset=["county_adcode"]).drop_duplicates("local_area").set_index("local_area")
    expected = {"Binyang County": "450126", "Beiliu Municipality": "450981", "Beiliu": "450981",
                "Tengxian County": "450422", "Rong County": "450921", "SanJiangxian County": "450226",
                "Xing'an County": "450325", "Pubei Xian": "450722"}
    for text, code in expected.items():
        assert by_text.loc[text, "county_adcode"] == code, text


def test_shared_names_need_the_prefecture_or_type():
    rows = _rows(
        {"local_area": "Qiaoxi District", "major_area": "Zhangjiakou Municipality", "province_en": "Hebei"},
        {"local_area": "Qiaoxi District", "major_area": "Shijiazhuang", "province_en": "Hebei"},
        {"local_area": "Qiaoxi District", "major_area": None, "province_en": "Hebei"},
        {"local_area": "Pinglu County", "major_area": None, "province_en": "Shanxi"},
        {"local_area": "Pinglu District", "major_area": None, "province_en": "Shanxi"},
    )
    hebei = fleet.match_counties(rows, "130000")
    assert list(hebei["county_adcode"]) == ["130703", "130104", None]
    assert list(hebei["match"]) == ["county text + prefecture", "county text + prefecture", "unmatched"]
    shanxi = fleet.match_counties(rows, "140000")
    assert list(shanxi["county_adcode"]) == ["140829", "140603"]


def test_county_fleet_sums_to_province_total(tracker):
    for status in (("operating",), ("operating", "construction")):
        table = fleet.county_fleet(tracker, GUANGXI, status=status)
        sel = tracker[(tracker["province_en"] == "Guangxi") & tracker["status"].isin(status)
                      & (tracker["installation_type"] == "onshore")]
        assert table["existing_wind_mw"].sum() == pytest.approx(sel["capacity_mw"].sum())
        assert table["n_phases"].sum() == len(sel)
        last = table.iloc[-1]
        assert last["adcode"] is None and last["level"] == fleet.REMAINDER_LABEL
        assert table.iloc[:-1]["adcode"].is_unique
    op = fleet.county_fleet(tracker, "guangxi")
    assert op.iloc[-1]["existing_wind_mw"] == pytest.approx(48.0)
    with pytest.raises(SitingError, match="status"):
        fleet.county_fleet(tracker, GUANGXI, status=("running",))


# --------------------------------------------------------------------------- validation


def test_validate_default_scenario(guangxi, tracker):
    res = fleet.validate(guangxi, tracker)
    assert 0.0 <= res.share_on_usable <= 1.0
    assert res.mw_checked > 1000 and res.mw_skipped_approximate > 0
    assert res.mw_checked + res.mw_skipped_approximate + res.mw_outside_region == pytest.approx(7235.0)
    assert not res.flagged and res.share_on_usable >= 0.5  # measured: 100 % of 1,635 MW
    farms = res.per_farm
    checked = farms[farms["checked"]]
    assert checked["location_exact"].all() and not checked["placeholder"].any()
    assert (checked["usable_max"] >= checked["usable_mean"]).all()
    assert (checked["n_cells"] >= 1).all()
    assert set(farms.loc[~farms["location_exact"], "skip_reason"]) == {"approximate location"}
    assert list(res.counties_over.columns) == ["adcode", "name_zh", "existing_wind_mw", "capacity_wind_mw",
                                               "excess_mw"]
    assert any("Skipped" in n for n in res.notes)


def test_validate_flags_a_scenario_without_forest(guangxi, guangxi_no_forest, tracker):
    base = fleet.validate(guangxi, tracker)
    res = fleet.validate(guangxi_no_forest, tracker)
    assert res.mw_checked == pytest.approx(base.mw_checked)
    assert res.share_on_usable < base.share_on_usable
    assert res.share_on_usable < 0.5  # measured: 31 %
    assert res.flagged and res.verdict.startswith("FLAGGED")
    over = res.counties_over
    assert len(over) >= 1 and (over["existing_wind_mw"] > over["capacity_wind_mw"]).all()
    assert "450329" in set(over["adcode"])  # 资源县: 392 MW operating


def test_validate_needs_wind(guangxi):
    fake = types.SimpleNamespace(grid=guangxi.grid.drop_vars("wind_usable_fraction"), region=guangxi.region,
                                 counties=guangxi.counties)
    with pytest.raises(SitingError, match="wind"):
        fleet.validate(fake)


def _plants_on(a, cells: np.ndarray, path) -> None:
    """Write a plants CSV with one 50 MW wind farm at the centre of each grid cell index in ``cells``."""
    import pyproj

    ds = a.grid
    rows, cols = np.unravel_index(cells, ds["county_index"].shape)
    x, y = ds["x"].to_numpy()[cols], ds["y"].to_numpy()[rows]
    lon, lat = pyproj.Transformer.from_crs(fleet.grid_crs(ds), "EPSG:4326", always_xy=True).transform(x, y)
    pd.DataFrame({"lat": lat, "lon": lon, "capacity_mw": 50.0, "tech": "wind"}).to_csv(path, index=False)


@pytest.fixture(scope="module")
def liuzhou_wind():
    scen = siting.with_overrides(siting.load_scenario("china")[0],
                                 {"wind": {"rules": {"forest": {"weights": {1: 0.2, 2: 0.2, 3: 0.2, 4: 0.2, 5: 0.2}}}}})
    return siting.assess("柳州", tech="wind", resolution_m=2000, scenario=scen, draws=0)


def test_plants_on_random_cells_show_no_discriminating_power(liuzhou_wind, tmp_path):
    a = liuzhou_wind
    inside = np.flatnonzero((a.grid["county_index"].to_numpy() >= 0).ravel())
    _plants_on(a, np.random.default_rng(0).choice(inside, 200, replace=False), tmp_path / "random.csv")
    r = a.validate(plants=tmp_path / "random.csv")
    assert r.discrimination.lift == pytest.approx(1.0, abs=0.05)
    assert r.discrimination.verdict == "no discriminating power" and not r.flagged
    assert r.verdict.startswith("no discriminating power")


def test_plants_on_the_best_cells_give_a_high_auc(liuzhou_wind, tmp_path):
    from siting.model.validation import neighbourhood_mean

    a = liuzhou_wind
    inside = a.grid["county_index"].to_numpy() >= 0
    score = neighbourhood_mean(a.grid["wind_usable_fraction"].to_numpy(), inside, 1000.0, 2000.0)
    best = np.argsort(np.where(inside, score, -1).ravel())[-150:]
    _plants_on(a, best, tmp_path / "best.csv")
    r = a.validate(plants=tmp_path / "best.csv")
    # many cells share the top score (fully usable neighbourhoods): ties count half, so the AUC stays below 1
    assert r.discrimination.auc > 0.7 and r.discrimination.verdict == "discriminates"
    worst = np.argsort(np.where(inside, score, 9).ravel())[:150]
    _plants_on(a, worst, tmp_path / "worst.csv")
    r = a.validate(plants=tmp_path / "worst.csv")
    assert r.discrimination.auc < 0.2 and r.flagged and r.verdict.startswith("FLAGGED")


def test_user_plants_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "p.csv"
    bad.write_text("lat,lon,capacity_mw\n23,109,50\n", encoding="utf-8")
    with pytest.raises(SitingError, match=r"p.csv: missing column\(s\) tech"):
        fleet.load_plants(bad)
    bad.write_text("lat,lon,capacity_mw,tech\n23,109,50,hydro\n", encoding="utf-8")
    with pytest.raises(SitingError, match="tech must be one of pv, agri_pv, fishery_pv, rooftop_pv, wind"):
        fleet.load_plants(bad)


def test_pv_plants_count_the_land_of_every_pv_mode(tmp_path):
    """Plants on cropland stand on land ground PV may not use, but agrivoltaics may: checked against PV land."""
    import pyproj

    a = siting.assess("柳州", tech="pv,agri_pv", resolution_m=2000, draws=0)
    ds = a.grid
    ground, agri = ds["pv_usable_fraction"].to_numpy(), ds["agri_pv_usable_fraction"].to_numpy()
    only_agri = np.flatnonzero(((ground == 0) & (agri > 0)).ravel())[:40]
    assert only_agri.size >= 10
    rows, cols = np.unravel_index(only_agri, ground.shape)
    lon, lat = pyproj.Transformer.from_crs(fleet.grid_crs(ds), "EPSG:4326", always_xy=True).transform(
        ds["x"].to_numpy()[cols], ds["y"].to_numpy()[rows])
    path = tmp_path / "pv.csv"
    pd.DataFrame({"lat": lat, "lon": lon, "capacity_mw": 30.0, "tech": "agri_pv"}).to_csv(path, index=False)
    r = a.validate(plants=path, tech="pv", radius_m=0)
    assert r.share_on_usable == pytest.approx(1.0) and any("PV land = pv + agri_pv" in n for n in r.notes)
    ground_only = siting.assess("柳州", tech="pv", resolution_m=2000, draws=0)
    assert ground_only.validate(plants=path, tech="pv", radius_m=0).share_on_usable == pytest.approx(0.0)
