"""Irradiance inputs read from files: pvlib's Linke turbidity table.

(The MERRA-2 monthly GHI of the built-in data is read by :mod:`siting.io.layers`.)
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import pvlib

from siting.model.solar import _degrees_to_index


def linke_turbidity_monthly(lat_deg: np.ndarray, lon_deg: np.ndarray, filepath: str | None = None) -> np.ndarray:
    """Monthly Linke turbidity of pvlib's ``LinkeTurbidities.h5`` for many cells, read once.

    The window that covers all cells is read with h5py; the cell index is that of
    ``pvlib.tools._degrees_to_index``, the values are stored as turbidity × 20.

    Parameters
    ----------
    lat_deg, lon_deg : numpy.ndarray, shape (n,)
    filepath : str, optional
        Defaults to the file shipped with pvlib.

    Returns
    -------
    numpy.ndarray, shape (n, 12), float64
    """
    if filepath is None:
        filepath = os.path.join(os.path.dirname(pvlib.__file__), "data", "LinkeTurbidities.h5")
    rows = _degrees_to_index(lat_deg, 2160, 90.0, -90.0)
    cols = _degrees_to_index(lon_deg, 4320, -180.0, 180.0)
    if rows.size == 0:
        return np.zeros((0, 12))
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    with h5py.File(filepath, "r") as h5:
        window = h5["LinkeTurbidity"][r0:r1, c0:c1, :]
    return window[rows - r0, cols - c0, :].astype("float64") / 20.0
