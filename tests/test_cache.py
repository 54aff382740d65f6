"""The content-keyed layer cache: a second run reuses layers; changed inputs never hit a stale entry."""

import os
from pathlib import Path

import numpy as np
import pytest

import siting
import siting.io.dem

from .test_terrain_pipeline import dem


def test_second_run_reuses_layers_and_slope(tmp_path, monkeypatch):
    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "cache"))
    path = dem(tmp_path / "dem.tif")
    scen = tmp_path / "s.toml"
    scen.write_text(f'extends = "china"\n[layers.slope_deg]\nsource = "{path}"\nkind = "continuous"\n'
                    'units = "degrees"\nderive = "slope_deg"\n', encoding="utf-8")
    calls = []
    real = siting.io.dem.dem_slope_layers
    monkeypatch.setattr(siting.io.dem, "dem_slope_layers", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    a = siting.assess("柳州", tech="pv", resolution_m=5000, scenario=scen)
    assert len(calls) == 1
    b = siting.assess("柳州", tech="pv", resolution_m=5000, scenario=scen)
    assert len(calls) == 1  # slope share came from the cache
    assert all(i.get("cache") == "hit" for i in b.provenance["inputs"])
    assert np.allclose(a.counties.usable_pv_km2, b.counties.usable_pv_km2)
    # another rule parameter or another grid is another entry
    s2 = siting.with_overrides(siting.load_scenario(scen)[0], {"pv": {"rules": {"slope": {"max": 15.0}}}})
    siting.assess("柳州", tech="pv", resolution_m=5000, scenario=s2)
    assert len(calls) == 2
    # a changed file is never served from the cache
    import rasterio

    with rasterio.open(path, "r+") as dst:
        dst.write(dst.read(1)[:, ::-1], 1)  # east-west mirror: different content
    siting.assess("柳州", tech="pv", resolution_m=5000, scenario=scen)
    assert len(calls) == 3


def test_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SITING_NO_CACHE", "1")
    siting.assess("450225", tech="pv", resolution_m=5000)
    assert not list((tmp_path / "cache").glob("layers/*.npz"))


def test_damaged_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "cache"))
    a = siting.assess("450225", tech="pv", resolution_m=5000)
    for f in (tmp_path / "cache" / "layers").glob("*.npz"):
        f.write_bytes(b"not a zip")
    b = siting.assess("450225", tech="pv", resolution_m=5000)
    assert a.counties.capacity_pv_mwp.iloc[0] == pytest.approx(b.counties.capacity_pv_mwp.iloc[0])


def test_cache_root_follows_the_environment_then_the_platform(tmp_path, monkeypatch):
    import platformdirs

    from siting.io.cache import cache_dir, cache_root

    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "c"))
    assert cache_dir("layers") == tmp_path / "c" / "layers" and (tmp_path / "c" / "layers").is_dir()
    monkeypatch.delenv("SITING_CACHE")
    assert cache_root() == Path(platformdirs.user_cache_dir("siting", appauthor=False))


def test_an_entry_under_another_name_is_not_trusted(tmp_path, monkeypatch):
    import shutil

    from siting.geo.grid import make_grid
    from siting.io import layercache

    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "c"))
    g = make_grid((0, 0, 4000, 4000), 1000.0)
    ka, kb = layercache.key("x", {"a": 1}, g), layercache.key("x", {"a": 2}, g)
    layercache.store(ka, {"data": np.ones((4, 4))}, {"m": 1})
    layercache.store(kb, {"data": np.zeros((4, 4))}, {"m": 2})
    assert layercache.load(ka)[0]["data"].sum() == 16
    folder = tmp_path / "c" / "layers"
    shutil.copy(folder / f"{ka}.npz", folder / f"{kb}.npz")  # swap an entry in under another key
    assert layercache.load(kb) is None and not (folder / f"{kb}.npz").exists()
    assert layercache.load(ka) is not None


def test_siting_cache_lists_each_kind_and_clears_one(tmp_path, monkeypatch):
    """`siting cache` shows what each folder holds and the space it takes on disk (a sparse slope store takes
    less than its length); `--clear KIND` deletes only that kind; an unknown kind is one line, status 2."""
    import json as json_mod

    from typer.testing import CliRunner

    from siting.io import cache
    from siting.ui.cli import app

    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "c"))
    (cache.cache_dir("layers") / "a.npz").write_bytes(b"x" * 50_000)
    (cache.cache_dir("layers") / "b.npz").write_bytes(b"y" * 10_000)
    sparse = cache.cache_dir("slope_codes") / "s.codes"
    with open(sparse, "wb") as f:
        f.truncate(200_000_000)  # 200 MB long, nothing written
    (cache.cache_dir("boundaries") / "guangxi.parquet").write_bytes(b"z" * 1000)
    rows = {r["kind"]: r for r in cache.usage()}
    assert list(rows) == ["boundaries", "layers", "slope_codes"]  # known kinds in their order
    assert rows["layers"]["files"] == 2 and rows["layers"]["disk_mb"] >= 0.06
    assert rows["slope_codes"]["disk_mb"] < 1.0  # the space taken, not the length

    runner = CliRunner()
    r = runner.invoke(app, ["cache", "--format", "json"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert [row["kind"] for row in json_mod.loads(r.stdout)] == ["boundaries", "layers", "slope_codes"]
    r = runner.invoke(app, ["cache", "--clear", "layers"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "deleted 2 files" in r.stderr
    assert not (tmp_path / "c" / "layers").exists() and sparse.exists()
    r = runner.invoke(app, ["cache", "--clear", "tiles"], env={"COLUMNS": "200"})
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "cache kind 'tiles'" in r.stderr
    assert cache.clear("all")[0] == 2 and not [p for p in (tmp_path / "c").iterdir()]


def test_a_file_is_hashed_once_per_version_even_by_threads_at_once(tmp_path, monkeypatch):
    """Threads asking for the same file's SHA-256 together wait for one computation; a changed file is hashed
    again; a file that cannot be read raises and is not remembered; digest_soon fills the memo in the background."""
    import hashlib
    import time
    from concurrent.futures import ThreadPoolExecutor

    from siting.io import layers

    calls = []
    real = layers._sha256

    def slow(path):
        calls.append(path)
        time.sleep(0.2)  # long enough for every thread to arrive while the first computes
        return real(path)

    monkeypatch.setattr(layers, "_sha256", slow)
    f = tmp_path / "layer.bin"
    f.write_bytes(b"x" * 5000)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: layers.file_sha256(f), range(4)))
    assert got == [hashlib.sha256(b"x" * 5000).hexdigest()] * 4 and len(calls) == 1
    f.write_bytes(b"y" * 5001)
    os.utime(f, ns=(1, 1))
    assert layers.file_sha256(f) == hashlib.sha256(b"y" * 5001).hexdigest() and len(calls) == 2

    missing = tmp_path / "later.bin"
    with pytest.raises(OSError):
        layers.file_sha256(missing)
    g = tmp_path / "g.bin"
    g.write_bytes(b"z")
    monkeypatch.setattr(layers, "_sha256", lambda p: (_ for _ in ()).throw(PermissionError(p)))
    with pytest.raises(PermissionError):
        layers.file_sha256(g)
    monkeypatch.setattr(layers, "_sha256", slow)
    layers.digest_soon([g, "builtin:pvlib_altitude", None, 'NETCDF:"x.nc":v'])  # only the file is hashed
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls[-1] == str(g)
    assert layers.file_sha256(g) == hashlib.sha256(b"z").hexdigest() and len(calls) == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_does_not_wait_for_a_checksum_its_parent_was_computing(tmp_path, monkeypatch):
    """A process forked while a background thread hashes a layer file finds the checksum itself: the thread is
    not in the child, so waiting for it would never end."""
    import hashlib
    import threading
    import time

    from siting.io import layers

    release = threading.Event()
    real = layers._sha256

    def held(path):
        release.wait(30)  # the parent's hashing is still under way when the child is forked
        return real(path)

    f = tmp_path / "dem.bin"
    f.write_bytes(b"d" * 3000)
    monkeypatch.setattr(layers, "_sha256", held)
    layers.digest_soon([f])
    deadline = time.monotonic() + 10
    while not any(k[0] == str(f) for k in layers._DIGESTS) and time.monotonic() < deadline:
        time.sleep(0.01)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: real hashing, answer through the pipe, leave without running the parent's cleanup
        try:
            layers._sha256 = real
            t = threading.Thread(target=lambda: os.write(write, layers.file_sha256(f).encode()), daemon=True)
            t.start()
            t.join(10)
        finally:
            os._exit(0)
    os.close(write)
    got = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    release.set()
    assert got == hashlib.sha256(b"d" * 3000).hexdigest()
    assert layers.file_sha256(f) == got  # the parent's thread finishes in the parent
