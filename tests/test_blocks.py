"""Decoded blocks shared by the threads of a run (siting.io.handles): the same values as GDAL's own window reads,
each block decoded once, the cache within its budget, and the county table unchanged."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.windows import Window

from siting.io import handles
from siting.io.handles import BlockCache, read_band, shared_blocks, shared_dataset, sweep_budget_bytes, sweep_bytes

from . import synthetic

HEIGHT, WIDTH, BLOCK = 150, 230, 32


def _write(path: Path, arr: np.ndarray, **extra) -> Path:
    profile = {"driver": "GTiff", "width": arr.shape[1], "height": arr.shape[0], "count": 1,
               "dtype": arr.dtype.name, "crs": "EPSG:4326", "transform": Affine(0.01, 0, 108.0, 0, -0.01, 25.0),
               **extra}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
    return path


_TILED = {"tiled": True, "blockxsize": BLOCK, "blockysize": BLOCK, "compress": "deflate"}


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blocks")
    rng = np.random.default_rng(5)
    f32 = rng.normal(100, 30, (HEIGHT, WIDTH)).astype("float32")
    f32[rng.random(f32.shape) < 0.05] = np.nan
    return {
        "float32": _write(folder / "f32.tif", f32, **_TILED),
        "uint8": _write(folder / "u8.tif", rng.integers(0, 17, (HEIGHT, WIDTH), dtype="uint8"), **_TILED),
        "int16": _write(folder / "i16.tif", rng.integers(-500, 3000, (HEIGHT, WIDTH), dtype="int16"), **_TILED),
        "striped": _write(folder / "strips.tif", f32, compress="deflate", blockysize=8),  # strips of 8 full rows
        "plain": _write(folder / "plain.tif", f32),  # uncompressed: read directly
    }


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["float32", "uint8", "int16", "striped"]), r0=st.integers(0, HEIGHT - 1),
       c0=st.integers(0, WIDTH - 1), h=st.integers(1, HEIGHT), w=st.integers(1, WIDTH),
       wide=st.booleans())
def test_a_window_put_together_from_blocks_equals_gdals_read(rasters, kind, r0, c0, h, w, wide):
    h, w = min(h, HEIGHT - r0), min(w, WIDTH - c0)
    src = shared_dataset(str(rasters[kind]))
    win = Window(c0, r0, w, h)
    out_dtype = "float64" if wide else None
    with shared_blocks(64 << 20) as cache:
        got = read_band(src, 1, win, out_dtype=out_dtype)
        again = read_band(src, 1, win, out_dtype=out_dtype)  # from the cache
        assert cache.decoded > 0 and cache.hits > 0
    want = src.read(1, window=win, out_dtype=out_dtype)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=True) and np.array_equal(again, want, equal_nan=True)
    got[...] = 0  # the caller's own array: the cached blocks are not changed
    assert np.array_equal(read_band(src, 1, win, out_dtype=out_dtype), want, equal_nan=True)


def test_windows_off_the_raster_and_uncompressed_files_are_read_by_gdal(rasters):
    src = shared_dataset(str(rasters["float32"]))
    plain = shared_dataset(str(rasters["plain"]))
    with shared_blocks(64 << 20) as cache:
        assert np.array_equal(read_band(plain, 1, Window(3, 4, 50, 60)), plain.read(1, window=Window(3, 4, 50, 60)),
                              equal_nan=True)
        assert cache.decoded == 0
        beyond = Window(WIDTH - 10, HEIGHT - 10, 20, 20)  # rasterio clips it as GDAL does; so does read_band
        assert np.array_equal(read_band(src, 1, beyond), src.read(1, window=beyond), equal_nan=True)
        assert cache.decoded == 0
    # outside a run: GDAL's read
    assert np.array_equal(read_band(src, 1, Window(0, 0, 40, 40)), src.read(1, window=Window(0, 0, 40, 40)),
                          equal_nan=True)


def test_a_block_asked_for_by_four_threads_at_once_is_decoded_once():
    cache = BlockCache(1 << 20)
    calls = []
    start = threading.Barrier(4)

    def decode():
        calls.append(1)
        time.sleep(0.2)  # the others ask meanwhile
        return np.arange(10.0)

    results = []

    def ask():
        start.wait()
        results.append(cache.get(("f", 1, 0, 0), decode))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.decoded == 1
    assert all(r is results[0] for r in results) and not results[0].flags.writeable


def test_a_failed_decoding_is_not_kept():
    cache = BlockCache(1 << 20)

    def broken():
        raise OSError("unreadable block")

    with pytest.raises(OSError):
        cache.get(("f", 1, 0, 0), broken)
    assert np.array_equal(cache.get(("f", 1, 0, 0), lambda: np.ones(3)), np.ones(3))


@settings(max_examples=100, deadline=None)
@given(budget=st.integers(0, 4000), asks=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 120)),
                                                   min_size=1, max_size=80))
def test_the_cache_never_holds_more_than_its_budget(budget, asks):
    cache = BlockCache(budget)
    sizes = {}
    for key, n in asks:
        n = sizes.setdefault(key, n)  # a key's block has one size
        block = cache.get((key,), lambda n=n: np.zeros(n, dtype="float64"))
        assert block.nbytes == 8 * n
        assert cache.bytes <= budget
        assert cache.bytes == sum(a.nbytes for a in cache._values.values())


def _sweep(src, tile: int, halo: int, budget: int) -> tuple[int, set]:
    """Read the raster tile by tile, a row of tiles at a time (as the engine does); blocks decoded and touched."""
    touched = set()
    with shared_blocks(budget) as cache:
        for r in range(0, src.height, tile):
            for c in range(0, src.width, tile):
                r0, c0 = max(0, r - halo), max(0, c - halo)
                r1, c1 = min(src.height, r + tile + halo), min(src.width, c + tile + halo)
                read_band(src, 1, Window(c0, r0, c1 - c0, r1 - r0))
                touched |= {(i, j) for i in range(r0 // BLOCK, (r1 - 1) // BLOCK + 1)
                            for j in range(c0 // BLOCK, (c1 - 1) // BLOCK + 1)}
        return cache.decoded, touched


@pytest.mark.parametrize("tile,halo", [(20, 0), (37, 3), (45, 6), (70, 2)])
def test_the_sweep_budget_decodes_every_block_once(rasters, tile, halo):
    src = shared_dataset(str(rasters["float32"]))
    budget = sweep_bytes(src.height, src.width, BLOCK, BLOCK, 4, tile + 2 * halo)
    decoded, touched = _sweep(src, tile, halo, budget)
    assert decoded == len(touched)
    # with a third of it, blocks are decoded again when the next row of tiles comes back to them
    decoded, touched = _sweep(src, tile, halo, budget // 3)
    assert decoded > len(touched)


def test_the_run_budget_counts_compressed_geotiffs_only(rasters, tmp_path):
    box = (108.0, 25.0 - HEIGHT * 0.01, 108.0 + WIDTH * 0.01, 25.0)
    one = sweep_bytes(HEIGHT, WIDTH, BLOCK, BLOCK, 4, 0.25 * HEIGHT)
    assert one == (WIDTH // BLOCK + 2) * (int(np.ceil(0.25 * HEIGHT / BLOCK)) + 1) * BLOCK * BLOCK * 4
    with_plain = sweep_budget_bytes([str(rasters["float32"]), str(rasters["plain"]), str(tmp_path / "none.tif")],
                                    box, 0.25)
    assert with_plain == max(handles.MIN_SWEEP_BYTES, one)
    many = [str(_write(tmp_path / f"big{i}.tif", np.zeros((4096, 4096), "float32"),
                       **{**_TILED, "blockxsize": 512, "blockysize": 512})) for i in range(4)]  # 81 MB each
    assert sweep_budget_bytes(many, (108.0, 25.0 - 40.96, 108.0 + 40.96, 25.0), 1.0) == handles.MAX_SWEEP_BYTES


def test_a_rewritten_file_is_read_afresh(tmp_path):
    path = tmp_path / "r.tif"
    _write(path, np.ones((64, 64), "float32"), **_TILED)
    with shared_blocks(1 << 20):
        assert read_band(shared_dataset(str(path)), 1, Window(0, 0, 40, 40)).max() == 1
        _write(path, np.full((64, 64), 7, "float32"), **_TILED)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
        assert read_band(shared_dataset(str(path)), 1, Window(0, 0, 40, 40)).max() == 7


@pytest.mark.slow
def test_county_table_with_compressed_tiled_layers_is_unchanged(tmp_path, monkeypatch):
    """The every-layer scenario with its rasters stored as tiled, compressed GeoTIFFs (whose windows the tiles put
    together from shared blocks) gives the reference county table, on two threads and small tiles."""
    import siting
    import siting.api as siting_api
    from siting.io.regions import counties, resolve

    from .test_same_results import REFERENCE, _compare

    scen, lines = synthetic.write_real_size_like(tmp_path, tuple(counties(resolve("柳州")).total_bounds))
    kept = ("crs", "transform", "nodata")
    for tif in tmp_path.glob("*.tif"):
        with rasterio.open(tif) as src:
            arr, profile = src.read(1), src.profile
        _write(tif, arr, **{**{k: profile[k] for k in kept if k in profile}, **_TILED, "blockxsize": 64,
                            "blockysize": 64})
    caches = []
    real = handles.shared_blocks

    @contextlib.contextmanager
    def kept_aside(budget):
        with real(budget) as cache:
            caches.append(cache)
            yield cache

    monkeypatch.setattr(siting_api, "shared_blocks", kept_aside)
    a = siting.assess("柳州", resolution_m=1000.0, scenario=scen, grid_lines=lines, draws=0, tile_cells=37, workers=2)
    assert caches and caches[0].decoded > 0 and caches[0].hits > 0
    assert not handles._RUN_BLOCKS  # dropped after the run
    table = pd.DataFrame(a.counties.drop(columns="geometry"))
    table.to_csv(tmp_path / "counties.csv", index=False)
    _compare(pd.read_csv(tmp_path / "counties.csv"), pd.read_csv(REFERENCE))


def test_what_a_raster_file_is_is_found_again_when_it_changes(tmp_path):
    """The CRS, the WGS 84 check and the resolution text are found once per open file and CRS override: a file
    rewritten in another CRS, or read with an override, is described afresh."""
    import time as _time

    from siting.io.layers import read_raster_file

    path = _write(tmp_path / "r.tif", np.ones((HEIGHT, WIDTH), dtype="float32"))
    box = (108.2, 24.0, 109.0, 24.8)
    a = read_raster_file(path, box)
    assert a.crs == rasterio.crs.CRS.from_epsg(4326) and a.resolution.startswith("0.01 x 0.01")
    _time.sleep(0.01)
    from pyproj import Transformer

    x0, y0 = Transformer.from_crs(4326, 3857, always_xy=True).transform(108.0, 25.0)
    profile = {"driver": "GTiff", "width": WIDTH, "height": HEIGHT, "count": 1, "dtype": "float32",
               "crs": "EPSG:3857", "transform": Affine(1000.0, 0, x0, 0, -1000.0, y0)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((HEIGHT, WIDTH), dtype="float32"), 1)
    b = read_raster_file(path, box)
    assert b.crs == rasterio.crs.CRS.from_epsg(3857) and b.resolution.startswith("1000 x 1000")
    c = read_raster_file(path, box, crs="EPSG:3857")
    assert c.resolution == b.resolution and c.array.shape == b.array.shape
