"""Raster files kept open per thread, so that GDAL's block cache serves neighbouring tiles.

A tile reads a window of each raster; windows of neighbouring tiles share the
file's compressed blocks. Opening and closing the file for every tile would
decompress those blocks again each time. Handles are per thread (GDAL dataset
handles must not be shared between threads) and keyed by the file's size and
modification time, so a changed file is opened afresh.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import rasterio

MAX_OPEN_PER_THREAD = 16
_LOCAL = threading.local()
# GDAL's block cache defaults to 5 % of RAM; the blocks neighbouring tiles share need far less. Set before GDAL
# first uses the cache (a value the user set in the environment is kept).
os.environ.setdefault("GDAL_CACHEMAX", "32")


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
