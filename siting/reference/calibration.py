"""PV yield checked and corrected against reference values: points or a raster of PVOUT or GHI.

Reference values (e.g. Global Solar Atlas PVOUT in kWh/kWp/yr, or GHI in kWh/m²/yr) are set beside the
run's own values at the same places: the specific yield on the grid for PVOUT, the annual GHI layer for
GHI. :func:`siting.model.calibration.fit_factor` gives the correction and its uncertainty. A GHI
correction is applied to the yield as is (PV yield is close to proportional to irradiation; the notes say
so).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.model.calibration import Calibration, fit_factor

KINDS = {"pvout": ("pvout_kwh_per_kwp", "pv_specific_yield_kwh_per_kwp", 300.0, 3000.0),
         "ghi": ("ghi_kwh_per_m2_yr", "ghi_kwh_per_m2_yr", 300.0, 3000.0)}
MAX_RASTER_SAMPLES = 20_000


def _kind_of(columns_or_name, kind: str | None) -> str:
    if kind is not None:
        if kind not in KINDS:
            raise SitingError(f"--calibrate-kind {kind}: use pvout or ghi")
        return kind
    text = " ".join(map(str, columns_or_name)).lower()
    found = [k for k in KINDS if k in text]
    if len(found) != 1:
        raise SitingError("calibration reference: say whether it holds pvout or ghi (a column or file name with "
                          "'pvout' or 'ghi', or --calibrate-kind)")
    return found[0]


def reference_pairs(a, path: str | Path, kind: str | None = None) -> tuple[str, np.ndarray, np.ndarray]:
    """(kind, model values, reference values) at the reference places inside the assessed region."""
    from siting.reference.fleet import grid_crs, grid_indices

    path = Path(path)
    if not path.exists():
        raise SitingError(f"--calibrate-pv {path}: file does not exist")
    ds = a.grid
    inside = ds["county_index"].to_numpy() >= 0
    if path.suffix.lower() in (".csv", ".txt"):
        df = pd.read_csv(path)
        df.columns = [str(c).strip().lower() for c in df.columns]
        kind = _kind_of(df.columns, kind)
        col = next((c for c in df.columns if kind in c), None)
        if col is None or not {"lat", "lon"} <= set(df.columns):
            raise SitingError(f"--calibrate-pv {path}: need columns lat, lon and a {kind} value column")
        _, _, row, colx = grid_indices(ds, df["lon"].to_numpy(float), df["lat"].to_numpy(float))
        ok = (row >= 0) & inside[np.maximum(row, 0), np.maximum(colx, 0)]
        var = KINDS[kind][1]
        if var not in ds:
            raise SitingError(f"--calibrate-pv {path}: the run has no {var} to compare with")
        model = np.where(ok, ds[var].to_numpy()[np.maximum(row, 0), np.maximum(colx, 0)], np.nan)
        return kind, model[ok], pd.to_numeric(df[col], errors="coerce").to_numpy(float)[ok]
    import pyproj
    import rasterio

    kind = _kind_of([path.name], kind)
    var = KINDS[kind][1]
    if var not in ds:
        raise SitingError(f"--calibrate-pv {path}: the run has no {var} to compare with")
    rr, cc = np.nonzero(inside)
    if rr.size > MAX_RASTER_SAMPLES:
        pick = np.linspace(0, rr.size - 1, MAX_RASTER_SAMPLES).astype(int)
        rr, cc = rr[pick], cc[pick]
    x, y = ds["x"].to_numpy()[cc], ds["y"].to_numpy()[rr]
    try:
        with rasterio.open(path) as src:
            tx, ty = pyproj.Transformer.from_crs(grid_crs(ds), src.crs, always_xy=True).transform(x, y)
            vals = np.array([v[0] for v in src.sample(zip(tx, ty))], dtype="float64")
            if src.nodata is not None:
                vals[vals == src.nodata] = np.nan
    except rasterio.errors.RasterioIOError as exc:
        raise SitingError(f"--calibrate-pv {path}: cannot read ({exc})") from None
    return kind, ds[var].to_numpy()[rr, cc].astype("float64"), vals


def calibrate(a, path: str | Path, kind: str | None = None) -> tuple[Calibration, str]:
    """Fit the correction of the run's PV yield to a reference file; returns it and the kind of reference."""
    kind, model, ref = reference_pairs(a, path, kind)
    lo, hi = KINDS[kind][2], KINDS[kind][3]
    ref = np.where((ref >= lo) & (ref <= hi), ref, np.nan)  # also drops nodata and unit mistakes
    try:
        return fit_factor(model, ref), kind
    except ValueError as exc:
        raise SitingError(f"--calibrate-pv {path}: {exc} inside the region (values {lo:g}-{hi:g} expected)") from None
