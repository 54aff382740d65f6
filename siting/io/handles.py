"""Raster files kept open per thread, and their decoded blocks shared by the threads of a run.

A tile reads a window of each raster; windows of neighbouring tiles share the
file's compressed blocks. Opening and closing the file for every tile would
decompress those blocks again each time. Handles are per thread (GDAL dataset
handles must not be shared between threads) and keyed by the file's size and
modification time, so a changed file is opened afresh.

GDAL keeps decoded blocks per handle, so with per-thread handles two threads
decode the blocks their tiles share twice, and its least-recently-used cache
forgets a block before the next row of tiles comes back to it. During a run
(:func:`shared_blocks`) the windows of compressed GeoTIFFs are therefore put
together from blocks that one process-wide cache decodes once
(:func:`read_band`), sized for a row-by-row sweep of the tiles
(:func:`sweep_budget_bytes`). On Guangxi's synthetic layers at 100 m this took
the blocks decoded from 3.4-5.7 times the blocks needed to once each.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np
import rasterio
import rasterio.crs
import rasterio.warp
import rasterio.windows
from rasterio.windows import Window

from siting.io.once import ComputedOnce

MAX_OPEN_PER_THREAD = 16
_LOCAL = threading.local()
# GDAL's block cache defaults to 5 % of RAM. During a run the blocks tiles share are kept once in the run's own
# cache (below), so GDAL's needs only the blocks of the window it is reading (a 512 x 512 float64 block is 2 MB).
# Set before GDAL first uses the cache (a value the user set in the environment is kept).
os.environ.setdefault("GDAL_CACHEMAX", "8")


def shared_dataset(name: str) -> rasterio.io.DatasetReader:
    """An open dataset for ``name`` (a path or GDAL name), reused by later calls in the same thread.

    The caller must not close it. Raises what ``rasterio.open`` raises.
    """
    try:
        st = os.stat(name)
        key = (name, st.st_mtime_ns, st.st_size)
    except OSError:  # GDAL names such as NETCDF:"f.nc":var
        key = (name, 0, 0)
    cache = getattr(_LOCAL, "cache", None)
    if cache is None:
        cache = _LOCAL.cache = OrderedDict()
    ds = cache.get(key)
    if ds is None or ds.closed:
        ds = rasterio.open(name)
        cache[key] = ds
        while len(cache) > MAX_OPEN_PER_THREAD:
            cache.popitem(last=False)[1].close()
    else:
        cache.move_to_end(key)
    return ds


# ---------------------------------------------------------------------------
# Decoded blocks shared by the threads of a run
# ---------------------------------------------------------------------------

_WGS84 = rasterio.crs.CRS.from_epsg(4326)
MAX_BLOCK_BYTES = 16 << 20  # a block larger than this (a file stored in huge strips) is read window by window
# the most a run's block cache holds: a sweep over a very wide raster needs more, and then it re-reads some blocks
# rather than hold more than the tiles themselves (judgement; 64-512 MB would be as defensible)
MAX_SWEEP_BYTES = 256 << 20
MIN_SWEEP_BYTES = 8 << 20


class BlockCache(ComputedOnce):
    """Decoded blocks (read-only arrays), least recently used first out beyond ``max_bytes``; each block decoded
    once at a time (threads asking for the same block together wait for one decoding)."""

    @property
    def decoded(self) -> int:
        """Blocks decoded so far (for benchmarks and tests)."""
        return self.computed

    def get(self, key: tuple, decode) -> np.ndarray:
        """The block under ``key``, decoded by ``decode()`` if no thread has it. Raises what ``decode`` raises (a
        failure is not kept)."""
        return super().get(key, lambda: _read_only(decode()))


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


_RUN_BLOCKS: list[BlockCache] = []  # the caches of the runs under way, innermost last


@contextlib.contextmanager
def shared_blocks(max_bytes: int) -> Iterator[BlockCache]:
    """Within the block, :func:`read_band` shares decoded blocks between threads (the cache is dropped after)."""
    cache = BlockCache(max_bytes)
    _RUN_BLOCKS.append(cache)
    try:
        yield cache
    finally:
        with contextlib.suppress(ValueError):  # a forked child starts without the parent's
            _RUN_BLOCKS.remove(cache)


def _forget_run_blocks() -> None:
    """In a forked child: a block another thread of the parent was decoding would never arrive."""
    _RUN_BLOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_run_blocks)


def _block_shape(src, band: int) -> tuple[int, int] | None:
    """(rows, cols) of the band's blocks if its windows are worth putting together from shared blocks: a
    compressed GeoTIFF with blocks of at most MAX_BLOCK_BYTES; else None."""
    if src.driver != "GTiff" or src.compression is None:
        return None
    bh, bw = src.block_shapes[band - 1]
    if bh * bw * np.dtype(src.dtypes[band - 1]).itemsize > MAX_BLOCK_BYTES:
        return None
    return bh, bw


def read_band(src, band: int, window: Window, out_dtype=None) -> np.ndarray:
    """``src.read(band, window=window, out_dtype=out_dtype)``, the same values; during a run, a window inside a
    compressed GeoTIFF is put together from the run's shared decoded blocks. A new array the caller may change."""
    cache = _RUN_BLOCKS[-1] if _RUN_BLOCKS else None
    shape = None if cache is None else _block_shape(src, band)
    r0, c0, h, w = window.row_off, window.col_off, window.height, window.width
    if (shape is None or not all(float(v).is_integer() for v in (r0, c0, h, w))
            or r0 < 0 or c0 < 0 or h < 1 or w < 1 or r0 + h > src.height or c0 + w > src.width):
        return src.read(band, window=window, out_dtype=out_dtype)
    r0, c0, h, w = int(r0), int(c0), int(h), int(w)
    bh, bw = shape
    try:
        st = os.stat(src.name)
        file_key = (src.name, st.st_mtime_ns, st.st_size)
    except OSError:
        return src.read(band, window=window, out_dtype=out_dtype)
    out = np.empty((h, w), dtype=out_dtype or src.dtypes[band - 1])
    for br in range(r0 // bh, (r0 + h - 1) // bh + 1):
        for bc in range(c0 // bw, (c0 + w - 1) // bw + 1):
            y0, x0 = br * bh, bc * bw
            block_win = Window(x0, y0, min(bw, src.width - x0), min(bh, src.height - y0))
            block = cache.get((file_key, band, br, bc), lambda: src.read(band, window=block_win))
            ys, ye = max(r0, y0), min(r0 + h, y0 + bh)
            xs, xe = max(c0, x0), min(c0 + w, x0 + bw)
            out[ys - r0:ye - r0, xs - c0:xe - c0] = block[ys - y0:ye - y0, xs - x0:xe - x0]
    return out


def sweep_bytes(window_rows: int, window_cols: int, block_rows: int, block_cols: int, itemsize: int,
                swept_rows: float) -> int:
    """Bytes of the decoded blocks a row-by-row sweep keeps so that it decodes every block once.

    Tiles are computed a row of tiles at a time, and two rows of tiles share the blocks along their seam. Between
    a block's use by one row of tiles and its use by the next, the sweep meets at most the blocks of one row of
    tiles: a least-recently-used cache that holds every block of the window's width in the rows that
    ``swept_rows`` source rows (one row of tiles with its halo) can touch decodes each block once.

    Parameters
    ----------
    window_rows, window_cols : int
        The run's window of the raster, pixels.
    block_rows, block_cols : int
        The raster's block shape, pixels.
    itemsize : int
        Bytes per pixel.
    swept_rows : float
        Source rows under one row of tiles and its halo.

    Returns
    -------
    int
    """
    if window_rows < 1 or window_cols < 1:
        return 0
    across = math.ceil(window_cols / block_cols) + 1  # a window not on block edges touches one more
    down = min(math.ceil(max(swept_rows, 1.0) / block_rows) + 1, math.ceil(window_rows / block_rows) + 1)
    return across * down * block_rows * block_cols * itemsize


def sweep_budget_bytes(files: Iterable[str], bounds_ll: tuple[float, float, float, float],
                       tile_share: float) -> int:
    """Bytes of the block cache of a run over ``bounds_ll`` (lon/lat) whose rows of tiles each span
    ``tile_share`` of its height: :func:`sweep_bytes` summed over the files whose windows it shares (compressed
    GeoTIFFs; others and unreadable files add nothing), within MIN_SWEEP_BYTES..MAX_SWEEP_BYTES."""
    total = 0
    for name in dict.fromkeys(files):
        try:
            src = shared_dataset(name)
            shape = _block_shape(src, 1)
            if shape is None or src.crs is None:
                continue
            box = bounds_ll if src.crs == _WGS84 else rasterio.warp.transform_bounds(
                "EPSG:4326", src.crs, *bounds_ll, densify_pts=21)
            win = rasterio.windows.from_bounds(*box, transform=src.transform).intersection(
                Window(0, 0, src.width, src.height))
        except Exception:  # the tile that reads it says what is wrong with it
            continue
        total += sweep_bytes(math.ceil(win.height), math.ceil(win.width), shape[0], shape[1],
                             np.dtype(src.dtypes[0]).itemsize, tile_share * win.height)
    return int(min(MAX_SWEEP_BYTES, max(MIN_SWEEP_BYTES, total)))
