"""``siting.io.fetch``: tile names, URL layout and downloads against a loopback server."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import urllib.parse
from pathlib import Path

import pytest

from siting.io import fetch as F
from siting.errors import SitingError

from .fixtures_fetch import ServerState, start_server, tiny_geotiff_bytes, zip_bytes

SMALL_BBOX = (108.2, 22.3, 109.6, 22.8)
GUANGXI_BBOX = (104.4, 20.9, 112.1, 26.4)
ALL = "dem,wind,solar,landcover,reserves"
SOLAR_DIR = "China_GISdata_LTAy_AvgDailyTotals_GlobalSolarAtlas-v2_GEOTIFF"
DEM_OCEAN = "copernicus-dem-90m/Copernicus_DSM_COG_30_N22_00_E109_00_DEM.tif"
WIND = "gwa/CHN_wind-speed_100m.tif"


def server_path(url: str) -> str:
    """The request path the loopback server sees for a public URL."""
    parts = urllib.parse.urlsplit(url)
    return f"/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fixture_files() -> dict[str, bytes]:
    """Server content for :data:`SMALL_BBOX` keyed by cache path (the E109 DEM tile is open ocean)."""
    members = {f"{SOLAR_DIR}/GHI.tif": tiny_geotiff_bytes(3), f"{SOLAR_DIR}/PVOUT.tif": tiny_geotiff_bytes(4),
               f"{SOLAR_DIR}/README.txt": b"fixture"}
    return {
        "copernicus-dem-90m/Copernicus_DSM_COG_30_N22_00_E108_00_DEM.tif": tiny_geotiff_bytes(1),
        "esa-worldcover/ESA_WorldCover_10m_2021_v200_N21E108_Map.tif": tiny_geotiff_bytes(2),
        WIND: tiny_geotiff_bytes(5, size_px=96),
        f"gsa/{SOLAR_DIR}.zip": zip_bytes(members),
        "reserves/China_Nature_Reserves.zip": zip_bytes({"reserves.shp": b"\0" * 100, "reserves.dbf": b"x"}),
    }


@pytest.fixture()
def served():
    """A loopback server holding the fixture files in the public URL layout; yields ``(server, by_path)``."""
    content = fixture_files()
    by_path = {item.path: server_path(item.url) for _, item in F.plan(SMALL_BBOX, ALL)}
    state = ServerState(files={by_path[p]: data for p, data in content.items()})
    server = start_server(state)
    try:
        yield server, by_path
    finally:
        server.close()


def run(server, cache: Path, datasets: str = ALL, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("backoff_s", 0.01)
    kwargs.setdefault("timeout_s", 5)
    return F.fetch(SMALL_BBOX, datasets, cache_dir=cache, base_url=server.base_url, **kwargs)


def no_part_files(cache: Path) -> bool:
    return not list(cache.rglob("*.part"))


# ----------------------------------------------------------------------------- names and URLs


def test_dem_and_worldcover_tiles_small_bbox():
    names = [item.path for _, item in F.plan(SMALL_BBOX, "dem,landcover")]
    assert names == ["copernicus-dem-90m/Copernicus_DSM_COG_30_N22_00_E108_00_DEM.tif",
                     "copernicus-dem-90m/Copernicus_DSM_COG_30_N22_00_E109_00_DEM.tif",
                     "esa-worldcover/ESA_WorldCover_10m_2021_v200_N21E108_Map.tif"]
    urls = [item.url for _, item in F.plan(SMALL_BBOX, "dem,landcover")]
    assert urls[0] == ("https://copernicus-dem-90m.s3.amazonaws.com/Copernicus_DSM_COG_30_N22_00_E108_00_DEM/"
                       "Copernicus_DSM_COG_30_N22_00_E108_00_DEM.tif")
    assert urls[2] == ("https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/2021/map/"
                       "ESA_WorldCover_10m_2021_v200_N21E108_Map.tif")


def test_guangxi_tiles():
    dem = [item.path.split("/")[1] for ds, item in F.plan(GUANGXI_BBOX, "dem")]
    assert len(dem) == 7 * 9  # N20..N26 x E104..E112
    assert dem[0] == "Copernicus_DSM_COG_30_N20_00_E104_00_DEM.tif"
    assert dem[-1] == "Copernicus_DSM_COG_30_N26_00_E112_00_DEM.tif"
    assert "Copernicus_DSM_COG_30_N22_00_E108_00_DEM.tif" in dem
    wc = {item.path.split("/")[1] for _, item in F.plan(GUANGXI_BBOX, "landcover")}
    assert wc == {f"ESA_WorldCover_10m_2021_v200_N{lat:02d}E{lon:03d}_Map.tif"
                  for lat in (18, 21, 24) for lon in (102, 105, 108, 111)}


def test_southern_western_names_and_glo30():
    bbox = (-72.9, -0.8, -72.1, -0.2)
    opts = F.FetchOptions(dem="glo30")
    (dem_ds, dem), (_, wc) = F.plan(bbox, "dem,landcover", opts)
    assert dem.url == ("https://copernicus-dem-30m.s3.amazonaws.com/Copernicus_DSM_COG_10_S01_00_W073_00_DEM/"
                       "Copernicus_DSM_COG_10_S01_00_W073_00_DEM.tif")
    assert dem.resolution.startswith("1 arc-second")
    assert wc.path.endswith("ESA_WorldCover_10m_2021_v200_S03W075_Map.tif")
    assert F.dem_tile_name(0, -1) == "Copernicus_DSM_COG_30_N00_00_W001_00_DEM"
    # a bbox edge on a whole degree does not add the next tile
    assert F.tile_corners((108.0, 22.0, 109.0, 23.0), 1) == [(22, 108)]


def test_single_file_urls_and_options():
    opts = F.FetchOptions(wind_weibull=True, reserves_filename="reserves 2024.zip")
    plan = {item.path: item.url for _, item in F.plan(SMALL_BBOX, "wind,reserves,solar", opts)}
    assert plan == {
        "gwa/CHN_wind-speed_100m.tif": "https://globalwindatlas.info/api/gis/country/CHN/wind-speed/100",
        "gwa/CHN_weibull-a_100m.tif": "https://globalwindatlas.info/api/gis/country/CHN/weibull-a/100",
        "gwa/CHN_weibull-k_100m.tif": "https://globalwindatlas.info/api/gis/country/CHN/weibull-k/100",
        "reserves/reserves 2024.zip": "https://zenodo.org/records/14875797/files/reserves%202024.zip?download=1",
        f"gsa/{SOLAR_DIR}.zip": f"https://api.globalsolaratlas.info/download/China/{SOLAR_DIR}.zip",
    }


def test_etopo_tiles_are_named_by_their_north_west_corner():
    names = [Path(i.path).name for _, i in F.plan((109.6, 20.2, 117.3, 25.5), "bathymetry")]  # Guangdong
    assert names == ["ETOPO_2022_v1_15s_N30E105_surface.tif"]  # 15-30° N, 105-120° E, with 1° of sea around
    names = [Path(i.path).name for _, i in F.plan((110.0, 15.5, 111.0, 16.5), "bathymetry")]  # the sea reach
    assert names == ["ETOPO_2022_v1_15s_N15E105_surface.tif", "ETOPO_2022_v1_15s_N30E105_surface.tif"]
    assert F.etopo_tile_name(-15, -75) == "ETOPO_2022_v1_15s_N00W075_surface.tif"
    url = F.plan((109.6, 20.2, 117.3, 25.5), "bathymetry")[0][1].url
    assert url == ("https://www.ngdc.noaa.gov/mgg/global/relief/ETOPO2022/data/15s/15s_surface_elev_gtif/"
                   "ETOPO_2022_v1_15s_N30E105_surface.tif")


def test_rebase_url_keeps_layout():
    url = "https://zenodo.org/records/1/files/a.zip?download=1"
    assert F.rebase_url(url, "http://127.0.0.1:9/") == "http://127.0.0.1:9/zenodo.org/records/1/files/a.zip?download=1"
    assert F.rebase_url(url, "https://mirror.example/pub") == \
        "https://mirror.example/pub/zenodo.org/records/1/files/a.zip?download=1"
    assert F.rebase_url(url, None) == url
    with pytest.raises(SitingError, match="base URL"):
        F.rebase_url(url, "ftp://x")


def test_bad_inputs():
    with pytest.raises(SitingError, match="dataset 'dems': unknown"):
        F.plan(SMALL_BBOX, "dems")
    with pytest.raises(SitingError, match="bounding box"):
        F.plan((110, 20, 105, 25), "dem")
    with pytest.raises(SitingError, match="--dem glo15"):
        F.plan(SMALL_BBOX, "dem", F.FetchOptions(dem="glo15"))


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SITING_CACHE", str(tmp_path))
    assert F.default_cache_dir() == tmp_path / "rasters"
    monkeypatch.delenv("SITING_CACHE")
    assert F.default_cache_dir() == Path("rasters")


# ----------------------------------------------------------------------------- downloads


def test_fetch_everything_and_manifest(served, tmp_path):
    server, by_path = served
    content = fixture_files()
    entries = run(server, tmp_path)
    by = {e.path: e for e in entries}
    assert by[DEM_OCEAN].status == "missing (404)" and by[DEM_OCEAN].sha256 is None
    for path, data in content.items():
        assert (tmp_path / path).read_bytes() == data
        assert by[path].status == "ok" and by[path].sha256 == sha(data) and by[path].size_bytes == len(data)
    for member in ("GHI.tif", "PVOUT.tif"):
        entry = by[f"gsa/{SOLAR_DIR}/{member}"]
        assert entry.extracted_from == f"gsa/{SOLAR_DIR}.zip"
        assert entry.sha256 == sha((tmp_path / entry.path).read_bytes())
    assert not (tmp_path / f"gsa/{SOLAR_DIR}/README.txt").exists()
    assert no_part_files(tmp_path) and not (tmp_path / DEM_OCEAN).exists()

    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    files = {d["path"]: d for d in doc["files"]}
    assert set(files) == set(by)
    wind = files[WIND]
    assert set(wind) >= {"dataset", "url", "path", "size_bytes", "sha256", "licence", "resolution",
                         "fetched_utc", "status"}
    assert wind["dataset"] == "wind" and wind["url"] == server.base_url + by_path[WIND]
    assert "CC BY 4.0" in wind["licence"] and wind["resolution"] == "0.0025° (~250 m)"
    assert wind["fetched_utc"].endswith("+00:00") and wind["pixel_size"].endswith("EPSG:4326")
    assert files["copernicus-dem-90m/Copernicus_DSM_COG_30_N22_00_E108_00_DEM.tif"]["resolution"].startswith(
        "3 arc-second")


def test_skip_if_present(served, tmp_path):
    server, _ = served
    run(server, tmp_path)
    before = len(server.state.log)
    manifest_before = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    entries = run(server, tmp_path)
    assert len(server.state.log) == before  # nothing requested, not even the known ocean tile
    assert all(e.reused for e in entries)
    assert (tmp_path / "manifest.json").read_text(encoding="utf-8") == manifest_before
    # a file changed on disk no longer matches the manifest and is fetched again
    (tmp_path / WIND).write_bytes(b"tampered")
    entries = run(server, tmp_path, "wind")
    assert not entries[0].reused and (tmp_path / WIND).read_bytes() == fixture_files()[WIND]


def test_resume_after_connection_cut(served, tmp_path):
    server, by_path = served
    data = fixture_files()[WIND]
    server.state.modes[by_path[WIND]] = "cut_once"
    entries = run(server, tmp_path, "wind", progress=True)
    log = server.state.requests_for(by_path[WIND])
    assert [r[2] for r in log] == [200, 206]
    # the second request asks for the rest: what arrived before the cut, in whole download chunks
    offset = int(log[1][1].removeprefix("bytes=").removesuffix("-"))
    assert log[0][1] is None and 0 < offset <= len(data) // 2 and offset % F.DOWNLOAD_CHUNK_BYTES == 0
    assert len(data) // 2 - offset < F.DOWNLOAD_CHUNK_BYTES
    assert entries[0].sha256 == sha(data) == F.sha256_file(tmp_path / WIND)
    assert no_part_files(tmp_path)


def test_server_ignoring_range_restarts(served, tmp_path):
    server, by_path = served
    data = fixture_files()[WIND]
    (tmp_path / "gwa").mkdir()
    (tmp_path / (WIND + ".part")).write_bytes(b"stale bytes from an old attempt")
    server.state.modes[by_path[WIND]] = "ignore_range"
    entries = run(server, tmp_path, "wind")
    assert server.state.requests_for(by_path[WIND])[0][1] == "bytes=31-"
    assert entries[0].sha256 == sha(data) and no_part_files(tmp_path)


def with_expected_sha(name: str, expected: str) -> F.Dataset:
    """A registry dataset whose files carry a published sha256."""
    ds = F.DATASETS[name]
    return dataclasses.replace(ds, urls=lambda bbox, opts: [i._replace(sha256=expected) for i in ds.urls(bbox, opts)])


def test_checksum_mismatch_keeps_good_file(served, tmp_path):
    server, _ = served
    run(server, tmp_path, "wind")
    good = (tmp_path / WIND).read_bytes()
    manifest = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    with pytest.raises(SitingError, match=r"wind-speed/100: sha256 mismatch"):
        run(server, tmp_path, [with_expected_sha("wind", "0" * 64)])
    assert (tmp_path / WIND).read_bytes() == good
    assert (tmp_path / "manifest.json").read_text(encoding="utf-8") == manifest
    assert no_part_files(tmp_path)
    # the right published sha256 is accepted (and the present file is reused)
    entries = run(server, tmp_path, [with_expected_sha("wind", sha(good))])
    assert entries[0].reused


def test_404_for_single_file_dataset_is_an_error(served, tmp_path):
    server, by_path = served
    del server.state.files[by_path["reserves/China_Nature_Reserves.zip"]]
    with pytest.raises(SitingError, match=r"China_Nature_Reserves\.zip\?download=1: not found \(HTTP 404\)"):
        run(server, tmp_path, "reserves")
    assert not (tmp_path / "reserves/China_Nature_Reserves.zip").exists() and no_part_files(tmp_path)


def test_stalled_server_times_out(served, tmp_path):
    server, by_path = served
    server.state.modes[by_path[WIND]] = "stall"
    start = time.monotonic()
    with pytest.raises(SitingError, match=r"wind-speed/100: download failed after 2 attempt\(s\).*timeout"):
        run(server, tmp_path, "wind", timeout_s=0.5, retries=1)
    assert time.monotonic() - start < 5
    assert len(server.state.requests_for(by_path[WIND])) == 2
    assert not (tmp_path / WIND).exists()


def test_corrupt_geotiff_is_refused(served, tmp_path):
    server, by_path = served
    server.state.files[by_path[WIND]] = b"<html>this is not a TIFF</html>"
    with pytest.raises(SitingError, match=r"wind-speed/100: downloaded file is not a readable GeoTIFF"):
        run(server, tmp_path, "wind")
    assert not (tmp_path / WIND).exists() and no_part_files(tmp_path)


def test_corrupt_geotiff_keeps_previous_good_file(served, tmp_path):
    server, by_path = served
    run(server, tmp_path, "wind")
    good = (tmp_path / WIND).read_bytes()
    bad = good[:200]  # a truncated TIFF whose sha256 is "published"
    server.state.files[by_path[WIND]] = bad
    with pytest.raises(SitingError, match="not a readable GeoTIFF"):
        run(server, tmp_path, [with_expected_sha("wind", sha(bad))])
    assert (tmp_path / WIND).read_bytes() == good and no_part_files(tmp_path)


def test_env_base_url_and_foreign_manifest_entries(served, tmp_path, monkeypatch):
    server, _ = served
    foreign = {"path": "user/my_wind.tif", "note": "registered by hand"}
    (tmp_path / "manifest.json").write_text(json.dumps({"files": [foreign]}), encoding="utf-8")
    monkeypatch.setenv("SITING_FETCH_BASE_URL", server.base_url)
    F.fetch(SMALL_BBOX, "wind", cache_dir=tmp_path, progress=False)
    files = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert foreign in files and any(f["path"] == WIND for f in files)
    assert set(F.read_manifest(tmp_path)) == {"user/my_wind.tif", WIND}


def test_broken_manifest_is_reported(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SitingError, match="manifest.json: not a readable manifest"):
        F.fetch(SMALL_BBOX, "wind", cache_dir=tmp_path, base_url="http://127.0.0.1:9", progress=False)


def test_zip_without_member_is_an_error(served, tmp_path):
    server, by_path = served
    zip_path = f"gsa/{SOLAR_DIR}.zip"
    server.state.files[by_path[zip_path]] = zip_bytes({"GHI.tif": tiny_geotiff_bytes(3)})
    with pytest.raises(SitingError, match=r"GEOTIFF\.zip: the zip has no PVOUT\.tif"):
        run(server, tmp_path, "solar")
    assert no_part_files(tmp_path)
    # the zip is kept (verified) so fixing the member list needs no new download
    assert (tmp_path / zip_path).is_file()


def test_extracted_members_restored_from_cached_zip(served, tmp_path):
    server, by_path = served
    run(server, tmp_path, "solar")
    ghi = tmp_path / f"gsa/{SOLAR_DIR}/GHI.tif"
    ghi.unlink()
    before = len(server.state.log)
    entries = run(server, tmp_path, "solar")
    assert len(server.state.log) == before and ghi.is_file()
    assert [e.reused for e in entries] == [True, False, True]


def test_unregistered_file_matching_published_sha_is_adopted(served, tmp_path):
    server, _ = served
    data = fixture_files()[WIND]
    (tmp_path / "gwa").mkdir()
    (tmp_path / WIND).write_bytes(data)
    entries = run(server, tmp_path, [with_expected_sha("wind", sha(data))])
    assert server.state.log == [] and entries[0].sha256 == sha(data)
    assert WIND in F.read_manifest(tmp_path)
