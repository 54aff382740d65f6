"""The PV fast path's reference: the same system, weather and sun through pvlib's ``ModelChain``.

:func:`siting.model.solar.simulate_yield` re-implements pvlib's models in float32 on flattened
(hour × cell) arrays. This module runs one site through ``pvlib.modelchain.ModelChain`` with identical
inputs (the hourly GHI/DNI/DHI of :func:`siting.energy.pvyield.hourly_profile`, the same ambient
temperature and wind, and the model's own Spencer-1971 solar position given to ModelChain through a
``Location`` subclass), configured as PVWatts DC + PVWatts inverter + PVWatts losses, SAPM cell
temperature (open rack glass/polymer), the same transposition, physical IAM on the beam and
``FD`` = :data:`siting.model.solar.DIFFUSE_IAM` on the diffuse. The tests hold the two together
(``tests/test_pv.py``); ``benchmarks/bench_pv.py`` times them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import Array, FixedMount, PVSystem, SingleAxisTrackerMount

from siting.energy import pvyield
from siting.model import solar as pv


class GivenSunLocation(Location):
    """A Location whose solar position is supplied, not computed."""

    def __init__(self, solar_position: pd.DataFrame, **kwargs):
        super().__init__(**kwargs)
        self._solar_position = solar_position

    def get_solarposition(self, times, *args, **kwargs):
        return self._solar_position.loc[times]


def modelchain_inputs(lat_deg: float, lon_deg: float, elevation_m: float, monthly_ghi_w_m2: np.ndarray,
                      system: pv.PVSystemSpec, axis: pv.TimeAxis) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model's hourly weather and solar position of one site, as ModelChain inputs."""
    profile = pvyield.hourly_profile(lat_deg, lon_deg, elevation_m, monthly_ghi_w_m2, system=system)
    zenith_deg, azimuth_deg = pv.solar_position_deg(np.array([lat_deg]), np.array([lon_deg]), axis)
    solpos = pd.DataFrame({"apparent_zenith": zenith_deg[:, 0], "zenith": zenith_deg[:, 0],
                           "apparent_elevation": 90 - zenith_deg[:, 0], "elevation": 90 - zenith_deg[:, 0],
                           "azimuth": azimuth_deg[:, 0], "equation_of_time": axis.equation_of_time_min},
                          index=axis.times_utc)
    temp_c = pv.default_ambient_temperature_c(np.array([lat_deg]), np.array([elevation_m]))[0]
    weather = pd.DataFrame({"ghi": profile["ghi_w_m2"], "dni": profile["dni_w_m2"], "dhi": profile["dhi_w_m2"],
                            "temp_air": temp_c[axis.month_index], "wind_speed": 1.0}, index=axis.times_utc)
    return weather, solpos


def modelchain_yield_kwh_per_kwp(lat_deg: float, lon_deg: float, elevation_m: float, weather: pd.DataFrame,
                                 solpos: pd.DataFrame | None, system: pv.PVSystemSpec) -> float:
    """Annual AC energy per kWp from one pvlib ModelChain run (system built and run here).

    ``solpos`` None: ModelChain computes its own solar position (SPA, with refraction).
    """
    if system.mounting == "fixed":
        tilt = pv.latitude_optimal_tilt_deg(lat_deg) if system.tilt_deg is None else system.tilt_deg
        mount = FixedMount(surface_tilt=float(tilt), surface_azimuth=system.azimuth_deg)
    else:
        mount = SingleAxisTrackerMount(axis_tilt=0, axis_azimuth=180, max_angle=system.max_angle_deg,
                                       backtrack=True, gcr=system.gcr)
    array = Array(mount, albedo=system.albedo,
                  module_parameters={"pdc0": 1000.0, "gamma_pdc": system.gamma_pdc_per_c, "FD": pv.DIFFUSE_IAM},
                  temperature_model_parameters=dict(pv.SAPM_PARAMETERS))
    losses = {"soiling": 100 * system.soiling_loss, "mismatch": 100 * system.other_losses, "shading": 0, "snow": 0,
              "wiring": 0, "connections": 0, "lid": 0, "nameplate_rating": 0, "age": 0, "availability": 0}
    pv_system = PVSystem(arrays=[array], losses_parameters=losses,
                         inverter_parameters={"pdc0": 1000.0 * pv.inverter_dc_rating_kw_per_kwp(system),
                                              "eta_inv_nom": system.inverter_efficiency})
    if solpos is None:
        location = Location(latitude=lat_deg, longitude=lon_deg, altitude=elevation_m, tz="UTC")
    else:
        location = GivenSunLocation(solpos, latitude=lat_deg, longitude=lon_deg, altitude=elevation_m, tz="UTC")
    mc = ModelChain(pv_system, location, dc_model="pvwatts", ac_model="pvwatts", aoi_model="physical",
                    spectral_model="no_loss", temperature_model="sapm", losses_model="pvwatts",
                    transposition_model=system.transposition)
    mc.run_model(weather)
    return float(mc.results.ac.fillna(0).sum() / 1000.0)
