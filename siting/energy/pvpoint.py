"""PV yield at one point: the hourly model's summary for ``siting yield LAT LON``."""

from __future__ import annotations

import numpy as np

from siting.errors import SitingError
from siting.io.layers import merra2_monthly_ghi_w_m2


def point_inputs(lat_deg: float, lon_deg: float) -> tuple[float, np.ndarray]:
    """Elevation (m, pvlib's 1/12° map) and the monthly GHI (W/m²) of the 3° MERRA-2 cell at a point."""
    if not (-60.0 <= lat_deg <= 72.0) or not (-180.0 <= lon_deg <= 180.0):
        raise SitingError(f"point {lat_deg}, {lon_deg}: latitude must be within -60..72 and longitude -180..180")
    from pvlib.location import lookup_altitude

    monthly, transform, _ = merra2_monthly_ghi_w_m2()
    col, row = ~transform @ (lon_deg, lat_deg)
    r, c = int(np.floor(row)), int(np.floor(col))
    r = min(max(r, 0), monthly.shape[1] - 1)
    c = min(max(c, 0), monthly.shape[2] - 1)
    ghi = monthly[:, r, c].astype("float64")
    if not np.all(np.isfinite(ghi)):
        raise SitingError(f"point {lat_deg}, {lon_deg}: the built-in irradiance has no data there (ocean?)")
    return float(lookup_altitude(lat_deg, lon_deg)), ghi


def point_yield(lat_deg: float, lon_deg: float, system=None) -> dict:
    """Annual and monthly yield, losses and capacity factor at a point.

    Returns
    -------
    dict
        Keys ``lat_deg``, ``lon_deg``, ``elevation_m``, ``system``, ``monthly_ghi_w_m2``,
        ``monthly_kwh_per_kwp``, ``specific_yield_kwh_per_kwp``, ``capacity_factor_ac``,
        ``poa_kwh_per_m2_yr``, ``ghi_kwh_per_m2_yr``, ``losses``, ``note``.
    """
    from siting.energy.pvyield import simulate_yield
    from siting.model.solar import PVSystemSpec

    system = system or PVSystemSpec()
    elevation_m, ghi = point_inputs(lat_deg, lon_deg)
    res = simulate_yield(np.array([lat_deg]), np.array([lon_deg]), np.array([elevation_m]), ghi[None, :], system)
    return {
        "lat_deg": lat_deg, "lon_deg": lon_deg, "elevation_m": elevation_m,
        "system": f"{system.mounting}, tilt {'optimal' if system.tilt_deg is None else system.tilt_deg}, "
                  f"azimuth {system.azimuth_deg:g}°, DC/AC {system.dc_ac_ratio:g}",
        "monthly_ghi_w_m2": ghi.tolist(),
        "monthly_kwh_per_kwp": np.asarray(res.monthly_kwh_per_kwp)[0].tolist(),
        "specific_yield_kwh_per_kwp": float(res.specific_yield_kwh_per_kwp[0]),
        "capacity_factor_ac": float(res.capacity_factor_ac[0]),
        "poa_kwh_per_m2_yr": float(res.poa_kwh_per_m2_yr[0]),
        "ghi_kwh_per_m2_yr": float(res.ghi_kwh_per_m2_yr[0]),
        "losses": {k: float(np.asarray(v).reshape(-1)[0]) for k, v in res.losses.items()},
        "note": "Irradiance from the built-in 3° MERRA-2 monthly means (coarse; MERRA-2 overestimates South China "
                "GHI). Hourly values are clear-sky shapes scaled to each month's mean.",
    }
