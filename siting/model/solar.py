"""Vectorised typical-year PV yield for many resource cells at once.

The model turns 12 monthly-mean GHI values per cell (daily means, W/m²) into an
hourly typical year and simulates a PV system with pvlib's physics, evaluated on
NumPy arrays that hold (hour × cell) values for a block of cells. Only sun-up
hours are evaluated: each block is flattened to the 1-D list of its daytime
(hour, cell) pairs. Cells are processed ``block_cells`` at a time to bound memory.

What is pvlib's and what is re-implemented: the hot path uses float32 re-implementations
of pvlib's elementwise models (Erbs, Hay–Davies, the AOI projection, SAPM cell
temperature, PVWatts DC and inverter, Kasten–Young airmass and the physical IAM as
table lookups), each tested against the pvlib function it follows (``tests/test_pv.py``),
and the whole chain against a pvlib ``ModelChain`` on identical inputs (relative
difference below 2e-7). pvlib itself is called for the time-only solar terms
(Spencer declination and equation of time, extraterrestrial DNI), the pressure of an
elevation, the single-axis tracker and the Perez transposition.

This module reads no file and starts no thread: the Linke turbidity comes in as an
argument (:mod:`siting.io.irradiance` reads pvlib's table) and
:mod:`siting.energy.pvyield` spreads cells over threads.

Steps
-----
1. **Time axis.** Hourly, UTC, hour-centred timestamps (00:30, 01:30, ...) of one
   year (default 2019, 8760 hours). Time arithmetic uses day-of-year and hour
   fields of the index, never integer casts of the underlying storage unit.
2. **Solar position** per (hour, cell): Spencer (1971) declination and equation
   of time (``pvlib.solarposition.declination_spencer71``,
   ``equation_of_time_spencer71``), hour angle from UTC time, longitude and
   equation of time, then the analytical zenith and azimuth
   (``solar_zenith_analytical``, ``solar_azimuth_analytical``). Declination and
   equation of time are evaluated at the fractional day of year (day + UTC
   hour / 24). No refraction: the geometric zenith is used wherever pvlib would
   use the apparent zenith. Accuracy against the SPA
   (``pvlib.solarposition.get_solarposition``, column ``zenith``) for the sun-up
   hours of 2019 at 4 sites from 18°N to 46°N: max absolute zenith difference
   0.16°, max angle between the two sun directions 0.16° (with the integer day
   of year it was 0.49° / 0.52°). Checked in ``tests/test_pv.py`` (bound 0.25°).
3. **Clear sky.** Ineichen–Perez GHI (formula of ``pvlib.clearsky.ineichen``)
   with the Linke turbidity of pvlib's ``LinkeTurbidities.h5`` (read once per
   call, with h5py, for the window that covers all cells; stored as
   turbidity × 20 in uint8; cell index as ``pvlib.tools._degrees_to_index``)
   interpolated from mid-month values to each day of year as
   ``pvlib.clearsky.lookup_linke_turbidity(interp_turbidity=True)`` does.
   Absolute airmass = Kasten & Young (1989) relative airmass × p/p0 with the
   pressure of the cell's elevation from ``pvlib.atmosphere.alt2pres``.
4. **All-sky GHI.** Per cell and month, the clear-sky GHI is multiplied by one
   factor ("clear-sky index per month") so that the month's mean GHI (over all
   hours, nights included) equals the input monthly mean. Limitation: every day
   of a month has the same shape and the same clear-sky index, so there is no
   day-to-day variability (no clear and overcast days, which matters for the
   non-linear steps below: decomposition, temperature and inverter clipping).
   If an input exceeds the clear-sky mean the factor is > 1; it is kept (the
   Erbs clearness index is capped at 1) and reported in
   ``YieldResult.clear_sky_scale_max``.
5. **Decomposition** GHI → DNI, DHI with Erbs et al. (1982): :func:`erbs_w_m2`,
   the formula of ``pvlib.irradiance.erbs``.
6. **Transposition** to the plane of array: Hay–Davies by default
   (:func:`hay_davies_poa_w_m2`, as ``pvlib.irradiance.get_total_irradiance``) or
   Perez (pvlib's own function), extraterrestrial
   DNI from ``pvlib.irradiance.get_extra_radiation`` (Spencer), ground albedo
   0.2 by default. Incidence angle modifier: ``pvlib.iam.physical`` (n=1.526,
   K=4 m⁻¹, L=2 mm) on the beam; the sky and ground diffuse are multiplied by a
   constant :data:`DIFFUSE_IAM` = 0.95, which is
   ``pvlib.iam.marion_diffuse('physical', tilt)['sky']`` for tilts of 10–30°
   (0.948–0.958). It slightly overstates the ground-reflected part (its Marion
   IAM is 0.4–0.8), which is a few % of POA at these tilts.
7. **Cell temperature**: :func:`sapm_cell_temperature_c` (``pvlib.temperature.sapm_cell``) with the
   ``open_rack_glass_polymer`` parameters (a=-3.56, b=-0.075, ΔT=3 °C), driven by
   the POA global irradiance, an ambient temperature per cell and month and a
   wind speed of 1 m/s (default). Without a temperature layer the ambient
   temperature is :func:`default_ambient_temperature_c`: a latitude-based
   monthly climatology for low-elevation eastern China, lapse rate
   6.5 °C/km, plus :data:`DAYTIME_WARMING_C` (3 °C) because PV produces in the
   day, which is warmer than the 24-h mean. It is a rough default, not data.
8. **DC and AC power.** PVWatts DC (:func:`pvwatts_dc_kw_per_kwp`, as ``pvlib.pvsystem.pvwatts_dc``) with
   gamma_pdc = -0.35 %/°C (typical of mono-PERC module datasheets: -0.34 to
   -0.37 %/°C), then losses applied to DC power as ``pvlib.pvsystem.
   pvwatts_losses`` does (compounded): soiling 3.5 % and 7.5 % "other". The
   "other" figure stands for mismatch (~2 %), DC and AC wiring (~2 %),
   connections (~0.5 %), light-induced degradation / nameplate (~1.5 %) and
   availability / transformer (~1.5 %), which compound to ~7.3 %, rounded to
   7.5 %. Total DC-side loss 1 - 0.965 × 0.925 = 10.7 %. These are chosen to be
   close to the loss assumptions behind the Global Solar Atlas PVOUT
   (Solargis) and should be read as such, not as a verified copy of them.
   Inverter: :func:`pvwatts_inverter_kw` (``pvlib.inverter.pvwatts``) with nominal efficiency 0.96 and AC
   nameplate = DC nameplate / DC-AC ratio (1.3 by default), so clipping is
   included.
9. **Mounting.** Fixed, facing ``azimuth_deg`` (default 180°, south) at
   ``tilt_deg`` or, if None, at the latitude-optimal tilt
   0.76·|lat| + 3.1° (linear fit of the optimal tilt against latitude of
   Jacobson & Jadhav 2018, Solar Energy 169: 55–66). In the southern
   hemisphere pass ``azimuth_deg=0``. Or a horizontal north–south single-axis
   tracker with backtracking (``pvlib.tracking.singleaxis``, GCR 0.35, ±60°).

All energies are per kWp of DC nameplate. Per-hour arrays are float32 (sums
over the year are accumulated in float64); the agreement with a float64 pvlib
``ModelChain`` on identical inputs is better than 1e-5 % of the annual yield
(``benchmarks/bench_pv.py``).

Speed and memory: cells are simulated ``block_cells`` at a time (~1 MB of
temporaries per cell and thread; :mod:`siting.energy.pvyield` runs chunks in threads). Only the fixed
south-facing Hay–Davies path avoids the azimuth angle; tracking and Perez call
pvlib's (float64) functions on the flattened arrays and are ~2-3× slower. On
glibc a large part of the remaining time is page faults: the allocator hands
freed temporaries back to the OS and faults them in again on the next
allocation. Setting ``MALLOC_MMAP_THRESHOLD_=268435456
MALLOC_TRIM_THRESHOLD_=1073741824`` in the environment of the process keeps
that memory; single-threaded this was ~1.7× faster in our measurement (with two
threads on a loaded machine no consistent gain was seen). The module does not
change allocator settings itself.

Input checks (:class:`siting.errors.SitingError`): the GHI array must have 12
months per cell; values must look like daily-mean W/m². A cell whose largest
month is below 10 is taken to be in kWh/m²/day (a real daily-mean W/m² value is
10–450 W/m² for every cell on land below 60° latitude in at least one month);
values above 450 W/m² (e.g. Wh/m²/day) or negative are rejected. Monthly totals
in kWh/m²/month (50–300) cannot be told apart from W/m² by range: they are
taken as W/m² and the result would be ~27 % low; the caller must convert.
Cells with any NaN input give NaN results, not an error.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pvlib

from siting.errors import SitingError

DIFFUSE_IAM = 0.95
"""Constant IAM applied to the diffuse POA components (see step 6)."""

DAYTIME_WARMING_C = 3.0
"""Added to the default 24-h mean air temperature to approximate daytime air temperature."""

F32 = np.float32

SAPM_PARAMETERS = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]

GHI_MIN_W_M2 = 10.0
GHI_MAX_W_M2 = 450.0

# Default ambient temperature climatology (24-h means, °C) at low elevation in eastern
# China, tabulated against |latitude|: January and July means, interpolated linearly.
# Anchors (approximate station normals): Haikou 20°N (Jan 17.5, Jul 28.8),
# Nanning 22.8°N (13, 28.5), Guangzhou 23.1°N (14, 29), Wuhan 30.6°N (4, 29),
# Beijing 39.9°N (-3, 26.5), Shenyang 41.8°N (-11, 24.5), Harbin 45.8°N (-17, 23).
_CLIM_LAT_DEG = np.array([0.0, 10.0, 20.0, 23.0, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0])
_CLIM_JAN_C = np.array([26.0, 25.0, 17.5, 13.5, 4.5, 0.0, -4.5, -15.0, -22.0, -28.0])
_CLIM_JUL_C = np.array([27.0, 28.0, 28.8, 28.7, 29.0, 27.5, 26.0, 23.0, 20.0, 16.0])
_LAPSE_RATE_C_PER_M = 0.0065


@dataclass(frozen=True)
class PVSystemSpec:
    """PV system design.

    Attributes
    ----------
    mounting : {"fixed", "single_axis"}
    tilt_deg : float or None
        Fixed tilt; None gives the latitude-optimal tilt 0.76·|lat| + 3.1°.
    azimuth_deg : float
        Fixed surface azimuth, degrees east of north (180 = south).
    gcr : float
        Ground coverage ratio of the single-axis tracker (backtracking).
    albedo : float
    dc_ac_ratio : float
        DC nameplate / AC nameplate.
    gamma_pdc_per_c : float
        PVWatts DC temperature coefficient, 1/°C.
    inverter_efficiency : float
        PVWatts nominal inverter efficiency.
    soiling_loss, other_losses : float
        Fractions of DC power lost, compounded.
    transposition : {"haydavies", "perez"}
    max_angle_deg : float
        Single-axis tracker rotation limit.
    """

    mounting: Literal["fixed", "single_axis"] = "fixed"
    tilt_deg: float | None = None
    azimuth_deg: float = 180.0
    gcr: float = 0.35
    albedo: float = 0.2
    dc_ac_ratio: float = 1.3
    gamma_pdc_per_c: float = -0.0035
    inverter_efficiency: float = 0.96
    soiling_loss: float = 0.035
    other_losses: float = 0.075
    transposition: Literal["haydavies", "perez"] = "haydavies"
    max_angle_deg: float = 60.0

    def __post_init__(self) -> None:
        if self.mounting not in ("fixed", "single_axis"):
            raise SitingError(f"PV mounting {self.mounting!r}: must be 'fixed' or 'single_axis'")
        if self.transposition not in ("haydavies", "perez"):
            raise SitingError(f"PV transposition {self.transposition!r}: must be 'haydavies' or 'perez'")
        if self.dc_ac_ratio <= 0 or not 0 < self.inverter_efficiency <= 1:
            raise SitingError("PV system: dc_ac_ratio must be > 0 and inverter_efficiency in (0, 1]")
        if not (0 <= self.soiling_loss < 1 and 0 <= self.other_losses < 1):
            raise SitingError("PV system: soiling_loss and other_losses must be fractions in [0, 1)")
        if self.tilt_deg is not None and not 0 <= self.tilt_deg <= 90:
            raise SitingError(f"PV system: tilt_deg {self.tilt_deg} must be within 0..90")


@dataclass
class YieldResult:
    """Annual PV yield per cell (NaN where the inputs were NaN).

    Attributes
    ----------
    specific_yield_kwh_per_kwp : numpy.ndarray, shape (n,)
        AC energy per kWp DC per year.
    capacity_factor_ac : numpy.ndarray
        AC energy / (AC nameplate × hours of the year).
    capacity_factor_dc : numpy.ndarray
        AC energy / (DC nameplate × hours of the year).
    monthly_kwh_per_kwp : numpy.ndarray, shape (n, 12)
    poa_kwh_per_m2_yr : numpy.ndarray
        Plane-of-array global irradiation (before IAM).
    ghi_kwh_per_m2_yr : numpy.ndarray
        Irradiation of the synthetic hourly GHI (equals the input's annual total).
    losses : dict of str to numpy.ndarray
        Energy-weighted loss fractions per cell over the year: ``iam`` (of POA),
        ``temperature`` (of DC at 25 °C), ``soiling``, ``other`` (of DC), and
        ``inverter_clipping`` (of DC after losses).
    clear_sky_scale_max : numpy.ndarray
        Largest monthly clear-sky scaling factor (> 1: input above clear sky).
    """

    specific_yield_kwh_per_kwp: np.ndarray
    capacity_factor_ac: np.ndarray
    capacity_factor_dc: np.ndarray
    monthly_kwh_per_kwp: np.ndarray
    poa_kwh_per_m2_yr: np.ndarray
    ghi_kwh_per_m2_yr: np.ndarray
    losses: dict[str, np.ndarray] = field(default_factory=dict)
    clear_sky_scale_max: np.ndarray | None = None


# ----------------------------------------------------------------------------- time axis


@dataclass(frozen=True)
class TimeAxis:
    """Per-hour quantities shared by all cells (1-D arrays of length n_hours)."""

    times_utc: pd.DatetimeIndex
    day_of_year: np.ndarray
    month_index: np.ndarray
    hour_utc_h: np.ndarray
    declination_rad: np.ndarray
    equation_of_time_min: np.ndarray
    dni_extra_w_m2: np.ndarray
    hours_per_month: np.ndarray


def hourly_times_utc(year: int = 2019) -> pd.DatetimeIndex:
    """Hour-centred UTC timestamps (00:30, 01:30, ...) of one calendar year.

    Parameters
    ----------
    year : int

    Returns
    -------
    pandas.DatetimeIndex
        8760 (8784 in a leap year) timestamps, tz UTC, unit seconds.
    """
    n_hours = (366 if calendar.isleap(year) else 365) * 24
    start = pd.Timestamp(year=year, month=1, day=1, minute=30, tz="UTC")
    return pd.date_range(start, periods=n_hours, freq="h").as_unit("s")


def time_axis(year: int = 2019) -> TimeAxis:
    """Compute the time-only solar quantities of one year (step 1 and part of step 2).

    Parameters
    ----------
    year : int

    Returns
    -------
    TimeAxis
    """
    times = hourly_times_utc(year)
    doy = np.asarray(times.day_of_year, dtype=np.int64)
    hour_utc_h = np.asarray(times.hour, dtype="float64") + np.asarray(times.minute, dtype="float64") / 60.0
    month_index = np.asarray(times.month, dtype=np.int64) - 1
    # fractional day of year: Spencer's day angle advances within the day (halves the error vs SPA)
    doy_fraction = doy + hour_utc_h / 24.0
    return TimeAxis(
        times_utc=times,
        day_of_year=doy,
        month_index=month_index,
        hour_utc_h=hour_utc_h,
        declination_rad=np.asarray(pvlib.solarposition.declination_spencer71(doy_fraction), dtype="float64"),
        equation_of_time_min=np.asarray(pvlib.solarposition.equation_of_time_spencer71(doy_fraction),
                                        dtype="float64"),
        dni_extra_w_m2=np.asarray(pvlib.irradiance.get_extra_radiation(doy), dtype="float64"),
        hours_per_month=np.bincount(month_index, minlength=12).astype("float64"),
    )


# ----------------------------------------------------------------------------- solar position


def hour_angle_deg(hour_utc_h: np.ndarray, lon_deg: np.ndarray, equation_of_time_min: np.ndarray) -> np.ndarray:
    """Solar hour angle (degrees, negative in the morning).

    Same definition as ``pvlib.solarposition.hour_angle``:
    15°/h × (UTC hour - 12) + longitude + equation of time / 4, wrapped to
    [-180°, 180°) (pvlib does not wrap, which flips the azimuth of early-morning
    hours when UTC times are used east of Greenwich).

    Parameters
    ----------
    hour_utc_h : numpy.ndarray
        Fractional UTC hour of day.
    lon_deg : numpy.ndarray
        Longitude, degrees east (broadcast against ``hour_utc_h``).
    equation_of_time_min : numpy.ndarray
        Minutes, same shape as ``hour_utc_h``.

    Returns
    -------
    numpy.ndarray
    """
    return (15.0 * (hour_utc_h - 12.0) + lon_deg + equation_of_time_min / 4.0 + 180.0) % 360.0 - 180.0


def solar_position_deg(lat_deg: np.ndarray, lon_deg: np.ndarray, axis: TimeAxis) -> tuple[np.ndarray, np.ndarray]:
    """Solar zenith and azimuth for every (hour, cell) (step 2).

    Parameters
    ----------
    lat_deg, lon_deg : numpy.ndarray, shape (n,)
    axis : TimeAxis

    Returns
    -------
    zenith_deg, azimuth_deg : numpy.ndarray, shape (n_hours, n)
    """
    lat_rad = np.radians(np.asarray(lat_deg, dtype="float64"))[None, :]
    dec_rad = axis.declination_rad[:, None]
    ha_rad = np.radians(hour_angle_deg(axis.hour_utc_h[:, None], np.asarray(lon_deg, "float64")[None, :],
                                       axis.equation_of_time_min[:, None]))
    zenith_rad = pvlib.solarposition.solar_zenith_analytical(lat_rad, ha_rad, dec_rad)
    azimuth_rad = pvlib.solarposition.solar_azimuth_analytical(lat_rad, ha_rad, dec_rad, zenith_rad)
    return np.degrees(zenith_rad), np.degrees(azimuth_rad)


def cos_azimuth_angle(sin_lat, cos_lat, sin_dec, cos_zenith, sin_zenith):
    """cos(A) of pvlib's analytical azimuth ``π + sign(ha)·A`` (A from south), clipped to [-1, 1].

    ``pvlib.solarposition.solar_azimuth_analytical`` without the arccos: the fixed south-facing path
    needs only cos(azimuth - 180°) = cos(A).
    """
    numer = cos_zenith * sin_lat - sin_dec
    denom = np.maximum(sin_zenith * cos_lat, 1e-8)  # >= 0 for |lat| < 90°; sun at the zenith: azimuth undefined
    return np.clip(numer / denom, -1.0, 1.0)


def erbs_w_m2(ghi_w_m2: np.ndarray, cos_zenith: np.ndarray,
              dni_extra_w_m2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Erbs et al. (1982) decomposition, as ``pvlib.irradiance.erbs`` (min cos zenith 0.065, max zenith 87°).

    Parameters
    ----------
    ghi_w_m2, cos_zenith, dni_extra_w_m2 : numpy.ndarray

    Returns
    -------
    dni_w_m2, dhi_w_m2 : numpy.ndarray
        DNI is 0 (and DHI = GHI) for zenith > 87°, i.e. cos(zenith) < cos(87°).
    """
    kt = np.clip(ghi_w_m2 / (dni_extra_w_m2 * np.maximum(cos_zenith, 0.065)), 0.0, 1.0)
    mid = (((12.336 * kt - 16.638) * kt + 4.388) * kt - 0.1604) * kt + 0.9511  # Horner form
    # piecewise diffuse fraction as arithmetic blends (faster than np.where on large arrays)
    diffuse_fraction = mid + (1 - 0.09 * kt - mid) * (kt <= 0.22) + (0.165 - mid) * (kt > 0.8)
    dhi = diffuse_fraction * ghi_w_m2
    dni = (ghi_w_m2 - dhi) / np.maximum(cos_zenith, 1e-6)
    good = (cos_zenith >= _COS_87) & (ghi_w_m2 >= 0) & (dni >= 0)
    return dni * good, dhi + (ghi_w_m2 - dhi) * ~good


def cos_aoi_fixed(cos_zenith: np.ndarray, sin_zenith: np.ndarray, cos_tilt: np.ndarray, sin_tilt: np.ndarray,
                  cos_azimuth_difference: np.ndarray) -> np.ndarray:
    """Cosine of the angle of incidence on a fixed plane (``pvlib.irradiance.aoi_projection``).

    cos(AOI) = cos(Z) cos(T) + sin(Z) sin(T) cos(A - A_s), with Z the solar zenith, T the tilt,
    A the solar and A_s the surface azimuth.

    Parameters
    ----------
    cos_zenith, sin_zenith : numpy.ndarray
        Sun position.
    cos_tilt, sin_tilt : numpy.ndarray
        Plane tilt.
    cos_azimuth_difference : numpy.ndarray
        cos(A - A_s).

    Returns
    -------
    numpy.ndarray, clipped to [-1, 1]
    """
    return np.clip(cos_zenith * cos_tilt + sin_zenith * sin_tilt * cos_azimuth_difference, -1.0, 1.0)


def hay_davies_poa_w_m2(cos_aoi: np.ndarray, cos_zenith: np.ndarray, cos_tilt: np.ndarray, dni_w_m2: np.ndarray,
                        ghi_w_m2: np.ndarray, dhi_w_m2: np.ndarray, dni_extra_w_m2: np.ndarray,
                        albedo: float) -> tuple[np.ndarray, np.ndarray]:
    """Beam and diffuse (sky + ground) POA irradiance with Hay & Davies (1980).

    Same as ``pvlib.irradiance.get_total_irradiance(model="haydavies")``.

    Parameters
    ----------
    cos_aoi, cos_zenith, cos_tilt, dni_w_m2, ghi_w_m2, dhi_w_m2, dni_extra_w_m2 : numpy.ndarray
    albedo : float

    Returns
    -------
    poa_direct_w_m2, poa_diffuse_w_m2 : numpy.ndarray
    """
    rb = np.maximum(cos_aoi, 0.0) / np.maximum(cos_zenith, 0.01745)
    anisotropy = dni_w_m2 / dni_extra_w_m2
    sky = (np.maximum(dhi_w_m2 * (1 - anisotropy) * 0.5 * (1 + cos_tilt), 0.0)
           + np.maximum(dhi_w_m2 * anisotropy * rb, 0.0))
    ground = ghi_w_m2 * albedo * (1 - cos_tilt) * 0.5
    return np.maximum(dni_w_m2 * cos_aoi, 0.0), sky + ground


_IAM_COS_GRID = np.linspace(0.0, 1.0, 20001)
_IAM_TABLE = np.asarray(pvlib.iam.physical(np.degrees(np.arccos(_IAM_COS_GRID))), dtype="float64")
_IAM_SLOPE = np.append(np.diff(_IAM_TABLE), 0.0)
_COS_87 = float(np.cos(np.radians(87.0)))
_AM_COS_GRID = np.linspace(0.0, 1.0, 20001)
_AM_TERM_TABLE = 0.50572 * (96.07995 - np.degrees(np.arccos(_AM_COS_GRID))) ** -1.6364
_AM_TERM_SLOPE = np.append(np.diff(_AM_TERM_TABLE), 0.0)


def _interp_uniform(x01: np.ndarray, table: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Linear interpolation in a table sampled uniformly on [0, 1] (x01 must be within [0, 1])."""
    position = x01 * (table.size - 1)
    index = position.astype(np.int32)
    return table.astype(x01.dtype)[index] + slope.astype(x01.dtype)[index] * (position - index)


def relative_airmass_from_cos(cos_zenith: np.ndarray) -> np.ndarray:
    """Kasten & Young (1989) relative airmass as a function of cos(zenith), by table interpolation.

    ``1 / (cos z + 0.50572 (96.07995° - z)^-1.6364)`` with the second term
    tabulated on a uniform cos(z) grid (20001 points); relative error < 1e-6
    against ``pvlib.atmosphere.get_relative_airmass``, and no arccos or power
    per hour.

    Parameters
    ----------
    cos_zenith : numpy.ndarray
        Within [0, 1].

    Returns
    -------
    numpy.ndarray
    """
    return 1.0 / (cos_zenith + _interp_uniform(cos_zenith, _AM_TERM_TABLE, _AM_TERM_SLOPE))


def iam_physical_from_cos(cos_aoi: np.ndarray) -> np.ndarray:
    """``pvlib.iam.physical`` (default n, K, L) as a function of cos(AOI), by table interpolation.

    Parameters
    ----------
    cos_aoi : numpy.ndarray

    Returns
    -------
    numpy.ndarray
        0 for AOI ≥ 90°; within 1e-4 of pvlib elsewhere.
    """
    return _interp_uniform(np.clip(cos_aoi, 0.0, 1.0), _IAM_TABLE, _IAM_SLOPE)


def _cos_zenith(lat_rad: np.ndarray, ha_rad: np.ndarray, dec_rad: np.ndarray) -> np.ndarray:
    """Cosine of the solar zenith (the expression of ``solar_zenith_analytical``)."""
    return np.cos(dec_rad) * np.cos(lat_rad) * np.cos(ha_rad) + np.sin(dec_rad) * np.sin(lat_rad)


# ----------------------------------------------------------------------------- clear sky


def _degrees_to_index(degrees: np.ndarray, n_cells: int, deg_first: float, deg_last: float) -> np.ndarray:
    """Vectorised ``pvlib.tools._degrees_to_index`` (row/column in LinkeTurbidities.h5)."""
    scale = n_cells / (deg_last - deg_first)
    center = deg_first + 1 / scale / 2
    index = (np.asarray(degrees, dtype="float64") - center) * scale
    return np.clip(np.around(index), 0, n_cells - 1).astype(np.int64)


def linke_turbidity_daily(monthly_linke: np.ndarray, year: int = 2019) -> np.ndarray:
    """Interpolate mid-month Linke turbidity to each day of year.

    As ``pvlib.clearsky._interpolate_turbidity``: values sit at the middle of
    each month, with December before January and January after December.

    Parameters
    ----------
    monthly_linke : numpy.ndarray, shape (n, 12)
    year : int

    Returns
    -------
    numpy.ndarray, shape (366, n)
        Row ``d - 1`` is day of year ``d``.
    """
    mdays = np.array(calendar.mdays[1:], dtype="float64")
    n_days = 365
    if calendar.isleap(year):
        mdays[1] += 1
        n_days = 366
    middles = np.concatenate([[-calendar.mdays[12] / 2.0], np.cumsum(mdays) - mdays / 2.0,
                              [n_days + calendar.mdays[1] / 2.0]])
    doy = np.arange(1, 367, dtype="float64")
    lt = np.concatenate([monthly_linke[:, -1:], monthly_linke, monthly_linke[:, :1]], axis=1)
    # linear interpolation, vectorised over cells
    pos = np.searchsorted(middles, doy, side="right") - 1
    pos = np.clip(pos, 0, len(middles) - 2)
    w = ((doy - middles[pos]) / (middles[pos + 1] - middles[pos]))[:, None]
    return lt[:, pos].T * (1 - w) + lt[:, pos + 1].T * w


def ineichen_cell_terms(elevation_m: np.ndarray, pressure_ratio: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell constants of the Ineichen GHI, so that per hour only one exponential is left.

    ``ghi = cg1 · I0 · cos(zenith) · exp(-AM_rel · (k0 + k1 · TL))`` with
    ``k0 = cg2 (fh1 - fh2) p/p0`` and ``k1 = cg2 fh2 p/p0``; identical to
    ``pvlib.clearsky.ineichen`` (GHI) with ``AM_abs = AM_rel · p/p0``.

    Parameters
    ----------
    elevation_m, pressure_ratio : numpy.ndarray, shape (n,)

    Returns
    -------
    cg1, k0, k1 : numpy.ndarray, shape (n,)
    """
    fh1 = np.exp(-elevation_m / 8000.0)
    fh2 = np.exp(-elevation_m / 1250.0)
    cg1 = 5.09e-05 * elevation_m + 0.868
    cg2 = 3.92e-05 * elevation_m + 0.0387
    return cg1, cg2 * (fh1 - fh2) * pressure_ratio, cg2 * fh2 * pressure_ratio


def monthly_scale_factors(clear_sky_mean_w_m2: np.ndarray, target_mean_w_m2: np.ndarray) -> np.ndarray:
    """Clear-sky index per month: the factor that makes the month's mean GHI equal the target (step 4).

    Parameters
    ----------
    clear_sky_mean_w_m2 : numpy.ndarray
        Mean clear-sky GHI of each month (nights included).
    target_mean_w_m2 : numpy.ndarray
        Input monthly mean GHI, same shape.

    Returns
    -------
    numpy.ndarray
        Target / clear sky; 0 where the clear-sky mean is 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(clear_sky_mean_w_m2 > 0, target_mean_w_m2 / clear_sky_mean_w_m2, 0.0)


# ----------------------------------------------------------------------------- temperature


def default_ambient_temperature_c(lat_deg: np.ndarray, elevation_m: np.ndarray) -> np.ndarray:
    """Default daytime ambient temperature per month from latitude and elevation (step 7).

    January and July 24-h means at sea level are interpolated from a small table
    against |latitude| (see ``_CLIM_*``; eastern-China station normals), the other
    months follow a cosine between them (coldest mid-January, warmest mid-July,
    shifted by six months in the southern hemisphere), 6.5 °C per km of elevation
    is subtracted and :data:`DAYTIME_WARMING_C` added.

    Parameters
    ----------
    lat_deg, elevation_m : numpy.ndarray, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n, 12), °C
    """
    lat_deg = np.asarray(lat_deg, dtype="float64")
    abs_lat = np.abs(lat_deg)
    jan_c = np.interp(abs_lat, _CLIM_LAT_DEG, _CLIM_JAN_C)
    jul_c = np.interp(abs_lat, _CLIM_LAT_DEG, _CLIM_JUL_C)
    month = np.arange(12, dtype="float64")
    phase = np.where(lat_deg[:, None] >= 0, month[None, :], month[None, :] + 6.0)
    cold_weight = 0.5 * (1 + np.cos(2 * np.pi * phase / 12.0))  # 1 in January (north), 0 in July
    temp_c = jul_c[:, None] + (jan_c - jul_c)[:, None] * cold_weight
    return temp_c - _LAPSE_RATE_C_PER_M * np.asarray(elevation_m, "float64")[:, None] + DAYTIME_WARMING_C


# ----------------------------------------------------------------------------- mounting, losses


SOLAR_CONSTANT_W_M2 = 1367.0


def extraterrestrial_horizontal_w_m2(lat_deg: np.ndarray, day_of_year: np.ndarray) -> np.ndarray:
    """Daily mean extraterrestrial irradiance on a horizontal surface (W/m², 24-hour mean).

    H0 = (Isc E0 / π) [cos φ cos δ sin ωs + ωs sin φ sin δ], with the Spencer (1971) declination and
    eccentricity correction (as ``pvlib.solarposition.declination_spencer71`` and
    ``pvlib.irradiance.get_extra_radiation``) and the sunset hour angle ωs = arccos(−tan φ tan δ),
    clipped for polar day and night (Duffie & Beckman, Solar Engineering of Thermal Processes, eq. 1.10.3).

    Parameters
    ----------
    lat_deg : numpy.ndarray
        Latitude, degrees (broadcast against ``day_of_year``).
    day_of_year : numpy.ndarray
        1..366.

    Returns
    -------
    numpy.ndarray
    """
    doy = np.asarray(day_of_year, dtype="float64") + 0.5  # the middle of the day (Spencer's day angle starts at 0 h)
    dec = np.asarray(pvlib.solarposition.declination_spencer71(doy), dtype="float64")
    e0 = np.asarray(pvlib.irradiance.get_extra_radiation(doy), dtype="float64") / SOLAR_CONSTANT_W_M2
    phi = np.radians(np.asarray(lat_deg, dtype="float64"))
    ws = np.arccos(np.clip(-np.tan(phi) * np.tan(dec), -1.0, 1.0))
    return SOLAR_CONSTANT_W_M2 * e0 / np.pi * (np.cos(phi) * np.cos(dec) * np.sin(ws) + ws * np.sin(phi) * np.sin(dec))


def monthly_extraterrestrial_horizontal_w_m2(lat_deg: np.ndarray, year: int = 2019) -> np.ndarray:
    """Monthly means of :func:`extraterrestrial_horizontal_w_m2`, shape (n, 12) for ``n`` latitudes."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype="float64"))
    n_days = 366 if calendar.isleap(year) else 365
    doy = np.arange(1, n_days + 1)
    month = np.array([m for m in range(12) for _ in range(calendar.monthrange(year, m + 1)[1])])
    daily = extraterrestrial_horizontal_w_m2(lat[:, None], doy[None, :])
    counts = np.bincount(month, minlength=12)
    return np.stack([daily[:, month == m].sum(axis=1) / counts[m] for m in range(12)], axis=1)


def latitude_optimal_tilt_deg(lat_deg: np.ndarray) -> np.ndarray:
    """Fixed tilt that maximises annual POA: 0.76·|lat| + 3.1° (Jacobson & Jadhav 2018).

    Parameters
    ----------
    lat_deg : numpy.ndarray

    Returns
    -------
    numpy.ndarray
        Tilt in degrees, within 0..90.
    """
    return np.clip(0.76 * np.abs(np.asarray(lat_deg, "float64")) + 3.1, 0.0, 90.0)


def total_dc_loss_fraction(system: PVSystemSpec) -> float:
    """Compounded DC-side loss fraction (as ``pvlib.pvsystem.pvwatts_losses``).

    Parameters
    ----------
    system : PVSystemSpec

    Returns
    -------
    float
    """
    return 1.0 - (1.0 - system.soiling_loss) * (1.0 - system.other_losses)


def inverter_dc_rating_kw_per_kwp(system: PVSystemSpec) -> float:
    """PVWatts inverter ``pdc0``: AC nameplate / nominal efficiency, per kWp DC.

    Parameters
    ----------
    system : PVSystemSpec

    Returns
    -------
    float
    """
    return 1.0 / system.dc_ac_ratio / system.inverter_efficiency


def sapm_cell_temperature_c(poa_global_w_m2: np.ndarray, temp_air_c: np.ndarray, wind_speed_m_s: float,
                            a: float = SAPM_PARAMETERS["a"], b: float = SAPM_PARAMETERS["b"],
                            delta_t_c: float = SAPM_PARAMETERS["deltaT"]) -> np.ndarray:
    """SAPM cell temperature (``pvlib.temperature.sapm_cell``), open rack glass/polymer by default.

    Parameters
    ----------
    poa_global_w_m2, temp_air_c : numpy.ndarray
    wind_speed_m_s : float
    a, b, delta_t_c : float

    Returns
    -------
    numpy.ndarray, °C
    """
    module_c = poa_global_w_m2 * np.exp(a + b * wind_speed_m_s) + temp_air_c
    return module_c + poa_global_w_m2 / 1000.0 * delta_t_c


def pvwatts_dc_kw_per_kwp(effective_irradiance_w_m2: np.ndarray, temp_cell_c: np.ndarray,
                          gamma_pdc_per_c: float) -> np.ndarray:
    """PVWatts DC power per kWp (``pvlib.pvsystem.pvwatts_dc`` with pdc0 = 1).

    Parameters
    ----------
    effective_irradiance_w_m2, temp_cell_c : numpy.ndarray
    gamma_pdc_per_c : float

    Returns
    -------
    numpy.ndarray, kW per kWp
    """
    return effective_irradiance_w_m2 / 1000.0 * (1.0 + gamma_pdc_per_c * (temp_cell_c - 25.0))


def pvwatts_inverter_kw(pdc_kw: np.ndarray, pdc0_kw: float, eta_inv_nom: float = 0.96,
                        eta_inv_ref: float = 0.9637) -> np.ndarray:
    """PVWatts inverter AC power with clipping at ``eta_inv_nom × pdc0_kw`` (``pvlib.inverter.pvwatts``).

    Parameters
    ----------
    pdc_kw : numpy.ndarray
    pdc0_kw : float
        DC input rating of the inverter.
    eta_inv_nom, eta_inv_ref : float

    Returns
    -------
    numpy.ndarray, kW, >= 0
    """
    # eta·pdc with eta = (nom/ref)(-0.0162 ζ - 0.0059/ζ + 0.9858), ζ = pdc/pdc0, multiplied out
    # (no division by ζ; at pdc = 0 the negative value is clipped to 0 as in pvlib)
    k = eta_inv_nom / eta_inv_ref
    power = k * (pdc_kw * (0.9858 - 0.0162 / pdc0_kw * pdc_kw) - 0.0059 * pdc0_kw)
    return np.clip(power, 0.0, eta_inv_nom * pdc0_kw)


# ----------------------------------------------------------------------------- validation


def validate_inputs(lat_deg, lon_deg, elevation_m, monthly_ghi_w_m2, ambient_temperature_c):
    """Check the inputs; return float arrays and the mask of cells with complete data."""
    ghi = np.asarray(monthly_ghi_w_m2, dtype="float64")
    if ghi.ndim == 1:
        ghi = ghi[None, :]
    if ghi.ndim != 2 or ghi.shape[1] != 12:
        months = ghi.shape[-1] if ghi.ndim else 0
        raise SitingError(f"monthly GHI: expected 12 months per cell, shape (n, 12); got shape {ghi.shape} "
                          f"({months} months): missing months")
    n = ghi.shape[0]
    arrays = []
    for name, values in (("latitude", lat_deg), ("longitude", lon_deg), ("elevation", elevation_m)):
        a = np.atleast_1d(np.asarray(values, dtype="float64"))
        if a.shape != (n,):
            raise SitingError(f"PV yield: {name} has shape {a.shape}, expected ({n},) like the monthly GHI")
        arrays.append(a)
    lat, lon, elev = arrays
    if np.any(np.abs(lat[np.isfinite(lat)]) > 90) or np.any(np.abs(lon[np.isfinite(lon)]) > 180):
        raise SitingError("PV yield: latitude must be within ±90° and longitude within ±180°")
    finite = np.isfinite(ghi)
    if np.any(ghi[finite] < 0):
        raise SitingError("monthly GHI: negative values; expected daily-mean irradiance in W/m²")
    if np.any(ghi[finite] > GHI_MAX_W_M2):
        raise SitingError(f"monthly GHI: values up to {np.nanmax(ghi):.0f} exceed {GHI_MAX_W_M2:.0f} W/m²; "
                          "expected daily-mean W/m² (wrong units, e.g. Wh/m²/day?)")
    valid = finite.all(axis=1) & np.isfinite(lat) & np.isfinite(lon) & np.isfinite(elev)
    cell_max = np.where(valid, np.nanmax(np.where(finite, ghi, -np.inf), axis=1), np.inf)
    low = valid & (cell_max < GHI_MIN_W_M2)
    if low.any():
        raise SitingError(f"monthly GHI: {int(low.sum())} cell(s) have all months below {GHI_MIN_W_M2:.0f}, "
                          "which looks like kWh/m²/day, not daily-mean W/m² (wrong units; "
                          "W/m² = kWh/m²/day × 1000/24)")
    if ambient_temperature_c is None:
        temp = default_ambient_temperature_c(np.where(valid, lat, 0.0), np.where(valid, elev, 0.0))
    else:
        temp = np.asarray(ambient_temperature_c, dtype="float64")
        if temp.ndim == 1 and temp.shape[0] == n:
            temp = temp[:, None]  # one value per cell (also when n == 12)
        try:
            temp = np.broadcast_to(temp, (n, 12))
        except ValueError:
            raise SitingError(f"ambient temperature: shape {temp.shape} is not a scalar, (n,), (12,) or (n, 12) "
                              f"with n = {n}") from None
        valid &= np.isfinite(temp).all(axis=1)
    return lat, lon, elev, ghi, np.asarray(temp, dtype="float64"), valid


# ----------------------------------------------------------------------------- core


def _simulate_block(lat_deg, lon_deg, elevation_m, monthly_ghi_w_m2, temp_c, linke_daily, axis: TimeAxis,
                    system: PVSystemSpec, wind_speed_m_s: float) -> dict[str, np.ndarray]:
    """Hourly simulation of a block of cells, returned as flattened sun-up (hour, cell) arrays.

    ``t`` and ``c`` are the hour and cell index of each element. ``scale`` is (12, n).
    """
    n = lat_deg.size
    lat_rad = np.radians(lat_deg)
    # cos(zenith) on the full (hour, cell) grid from outer products only:
    # cos(ha) = cos(ha_time + lon) = cos(ha_time)cos(lon) - sin(ha_time)sin(lon)
    ha_time_rad = np.radians(hour_angle_deg(axis.hour_utc_h, 0.0, axis.equation_of_time_min))
    lon_rad = np.radians(lon_deg)
    a_t = (np.cos(axis.declination_rad) * np.cos(ha_time_rad)).astype(F32)[:, None]
    b_t = (np.cos(axis.declination_rad) * np.sin(ha_time_rad)).astype(F32)[:, None]
    s_t = np.sin(axis.declination_rad).astype(F32)[:, None]
    cos_zen = (a_t * (np.cos(lat_rad) * np.cos(lon_rad)).astype(F32)
               - b_t * (np.cos(lat_rad) * np.sin(lon_rad)).astype(F32)
               + s_t * np.sin(lat_rad).astype(F32))
    sun_up = np.flatnonzero(cos_zen > 0)
    t, c = np.divmod(sun_up, n)
    # sun-up (hour, cell) pairs from here on, in float32
    cos_zen = np.minimum(cos_zen.ravel()[sun_up], 1.0)
    del sun_up
    sin_zen = np.sqrt(np.maximum(1.0 - cos_zen * cos_zen, 0.0))
    cos_azi_angle = cos_azimuth_angle(np.sin(lat_rad).astype(F32)[c], np.cos(lat_rad).astype(F32)[c],
                                       np.sin(axis.declination_rad).astype(F32)[t], cos_zen, sin_zen)
    south_facing_fixed = (system.mounting == "fixed" and system.azimuth_deg == 180.0
                          and system.transposition == "haydavies")
    if south_facing_fixed:
        az_deg = zen_deg = None  # cos(azimuth - 180°) = cos_azi_angle is all that is needed
    else:
        zen_deg = np.degrees(np.arccos(cos_zen))
        ha_deg = hour_angle_deg(axis.hour_utc_h, 0.0, axis.equation_of_time_min).astype(F32)[t] + lon_deg.astype(F32)[c]
        az_deg = np.degrees(np.sign((ha_deg + 180.0) % 360.0 - 180.0) * np.arccos(cos_azi_angle) + np.pi)
        del ha_deg
    dni_extra = axis.dni_extra_w_m2.astype(F32)[t]
    month = axis.month_index[t]

    # 3. clear sky
    pressure_ratio = (pvlib.atmosphere.alt2pres(elevation_m) / 101325.0).astype(F32)
    am_rel = relative_airmass_from_cos(cos_zen)
    linke = linke_daily.astype(F32).ravel()[(axis.day_of_year[t] - 1) * n + c]
    cg1, k0, k1 = ineichen_cell_terms(elevation_m, pressure_ratio)
    ghi_cs = (cg1.astype(F32)[c] * dni_extra * cos_zen
              * np.exp(-am_rel * (k0.astype(F32)[c] + k1.astype(F32)[c] * linke)))
    del linke

    # 4. monthly clear-sky index
    key = month * n + c  # flat (month, cell) index
    cs_mean = np.bincount(key, ghi_cs, minlength=12 * n).reshape(12, n) / axis.hours_per_month[:, None]
    scale = monthly_scale_factors(cs_mean, monthly_ghi_w_m2.T)
    ghi = ghi_cs * scale.astype(F32).ravel()[key]
    del ghi_cs

    # 5. decomposition
    dni, dhi = erbs_w_m2(ghi, cos_zen, dni_extra)

    # 9. mounting
    if system.mounting == "single_axis":
        trk = pvlib.tracking.singleaxis(zen_deg, az_deg, axis_tilt=0.0, axis_azimuth=180.0,
                                        max_angle=system.max_angle_deg, backtrack=True, gcr=system.gcr)
        tilt = np.nan_to_num(np.asarray(trk["surface_tilt"], "float64"))
        surf_az = np.nan_to_num(np.asarray(trk["surface_azimuth"], "float64"), nan=180.0)
        cos_aoi = np.cos(np.radians(np.nan_to_num(np.asarray(trk["aoi"], "float64"), nan=90.0)))
    else:
        tilt_cell = (latitude_optimal_tilt_deg(lat_deg) if system.tilt_deg is None
                     else np.full(n, float(system.tilt_deg)))
        tilt = tilt_cell.astype(F32)[c]
        surf_az = system.azimuth_deg
        cos_azi_diff = cos_azi_angle if az_deg is None else np.cos(np.radians(az_deg - F32(surf_az)))
        cos_aoi = cos_aoi_fixed(cos_zen, sin_zen, np.cos(np.radians(tilt_cell)).astype(F32)[c],
                                np.sin(np.radians(tilt_cell)).astype(F32)[c], cos_azi_diff)

    # 6. transposition and IAM
    if system.transposition == "haydavies":
        cos_tilt = (np.cos(np.radians(tilt)) if system.mounting == "single_axis"
                    else np.cos(np.radians(tilt_cell)).astype(F32)[c])
        poa_direct, poa_diffuse = hay_davies_poa_w_m2(cos_aoi, cos_zen, cos_tilt, dni, ghi, dhi, dni_extra,
                                                      system.albedo)
    else:
        poa = pvlib.irradiance.get_total_irradiance(tilt, surf_az, zen_deg, az_deg, dni, ghi, dhi,
                                                    dni_extra=dni_extra, airmass=am_rel, albedo=system.albedo,
                                                    model="perez")
        poa_direct, poa_diffuse = np.asarray(poa["poa_direct"]), np.asarray(poa["poa_diffuse"])
    poa_global = poa_direct + poa_diffuse
    effective = poa_direct * iam_physical_from_cos(cos_aoi) + DIFFUSE_IAM * poa_diffuse

    # 7. temperature
    temp_air = temp_c.T.astype(F32).ravel()[key]
    temp_cell = sapm_cell_temperature_c(poa_global, temp_air, wind_speed_m_s)

    # 8. DC, losses, inverter (kW per kWp)
    dc_raw = pvwatts_dc_kw_per_kwp(effective, temp_cell, system.gamma_pdc_per_c)
    dc = dc_raw * F32(1.0 - total_dc_loss_fraction(system))
    ac = pvwatts_inverter_kw(dc, inverter_dc_rating_kw_per_kwp(system), system.inverter_efficiency)
    return {"t": t, "c": c, "scale": scale, "ghi": ghi, "dni": dni, "dhi": dhi, "poa_global": poa_global,
            "effective": effective, "temp_cell": temp_cell, "dc_raw": dc_raw, "dc": dc,
            "ac": ac, "month": month}


def simulate_yield(lat_deg: np.ndarray, lon_deg: np.ndarray, elevation_m: np.ndarray,
                   monthly_ghi_w_m2: np.ndarray, linke_turbidity: np.ndarray, system: PVSystemSpec = PVSystemSpec(),
                   year: int = 2019, block_cells: int = 64, ambient_temperature_c: np.ndarray | float | None = None,
                   wind_speed_m_s: float = 1.0) -> YieldResult:
    """Typical-year PV yield for many cells (see the module docstring for the steps).

    Parameters
    ----------
    lat_deg, lon_deg, elevation_m : numpy.ndarray, shape (n,)
    monthly_ghi_w_m2 : numpy.ndarray, shape (n, 12)
        Monthly mean GHI (daily means), W/m².
    linke_turbidity : numpy.ndarray, shape (n, 12)
        Monthly Linke turbidity per cell (e.g. :func:`siting.io.irradiance.linke_turbidity_monthly`).
    system : PVSystemSpec
    year : int
        Calendar year of the hourly axis.
    block_cells : int
        Cells simulated together; memory grows with it (~1 MB per cell).
    ambient_temperature_c : numpy.ndarray or float, optional
        Daytime air temperature, scalar, (n,) or (n, 12); default
        :func:`default_ambient_temperature_c`.
    wind_speed_m_s : float

    Returns
    -------
    YieldResult

    Raises
    ------
    SitingError
        Months missing, units that are not daily-mean W/m², mismatched shapes.
    """
    lat, lon, elev, ghi_in, temp, valid = validate_inputs(lat_deg, lon_deg, elevation_m, monthly_ghi_w_m2,
                                                    ambient_temperature_c)
    if block_cells < 1:
        raise SitingError(f"block_cells must be >= 1, got {block_cells}")
    n = lat.size
    axis = time_axis(year)
    n_hours = float(axis.hour_utc_h.size)
    sums = {k: np.full(n, np.nan) for k in ("ac", "poa_global", "ghi", "effective", "dc_raw")}
    monthly_ac = np.full((n, 12), np.nan)
    scale_max = np.full(n, np.nan)
    idx = np.flatnonzero(valid)
    linke_all = np.asarray(linke_turbidity, dtype="float64")
    if linke_all.shape != (n, 12):
        raise SitingError(f"PV yield: Linke turbidity has shape {linke_all.shape}, expected ({n}, 12)")
    linke_monthly = linke_all[idx]

    def run_block(start: int) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
        sel = idx[start:start + block_cells]
        m = sel.size
        linke_daily = linke_turbidity_daily(linke_monthly[start:start + block_cells], year)
        out = _simulate_block(lat[sel], lon[sel], elev[sel], ghi_in[sel], temp[sel], linke_daily, axis, system,
                              wind_speed_m_s)
        c = out["c"]
        block_sums = {k: np.bincount(c, out[k], minlength=m) for k in sums}
        block_monthly = np.bincount(out["month"] * m + c, out["ac"], minlength=12 * m).reshape(12, m).T
        return sel, block_sums, block_monthly, out["scale"].max(axis=0)

    for sel, block_sums, block_monthly, block_scale_max in map(run_block, range(0, idx.size, block_cells)):
        for k in sums:
            sums[k][sel] = block_sums[k]
        monthly_ac[sel] = block_monthly
        scale_max[sel] = block_scale_max
    ac_kwh = sums["ac"]
    ac_nameplate_kw = 1.0 / system.dc_ac_ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        losses = {
            "iam": 1.0 - sums["effective"] / sums["poa_global"],
            "temperature": 1.0 - sums["dc_raw"] / (sums["effective"] / 1000.0),
            "soiling": np.where(valid, system.soiling_loss, np.nan),
            "other": np.where(valid, system.other_losses, np.nan),
            "inverter_clipping": 1.0 - ac_kwh / (sums["dc_raw"] * (1.0 - total_dc_loss_fraction(system))),
        }
    return YieldResult(
        specific_yield_kwh_per_kwp=ac_kwh,
        capacity_factor_ac=ac_kwh / (ac_nameplate_kw * n_hours),
        capacity_factor_dc=ac_kwh / n_hours,
        monthly_kwh_per_kwp=monthly_ac,
        poa_kwh_per_m2_yr=sums["poa_global"] / 1000.0,
        ghi_kwh_per_m2_yr=sums["ghi"] / 1000.0,
        losses=losses,
        clear_sky_scale_max=scale_max,
    )


def hourly_profile(lat_deg: float, lon_deg: float, elevation_m: float, monthly_ghi_w_m2: np.ndarray,
                   linke_turbidity: np.ndarray, system: PVSystemSpec = PVSystemSpec(), year: int = 2019,
                   ambient_temperature_c: np.ndarray | float | None = None,
                   wind_speed_m_s: float = 1.0) -> pd.DataFrame:
    """Hourly typical-year series of one site.

    Parameters
    ----------
    lat_deg, lon_deg, elevation_m : float
    monthly_ghi_w_m2 : numpy.ndarray, shape (12,)
    linke_turbidity : numpy.ndarray, shape (12,)
        Monthly Linke turbidity of the site.
    system : PVSystemSpec
    year : int
    ambient_temperature_c : numpy.ndarray or float, optional
        Scalar or (12,) monthly values; default :func:`default_ambient_temperature_c`.
    wind_speed_m_s : float

    Returns
    -------
    pandas.DataFrame
        Indexed by UTC time (hour-centred), columns ``ghi_w_m2``, ``dni_w_m2``,
        ``dhi_w_m2``, ``poa_w_m2``, ``cell_temperature_c`` (ambient at night),
        ``dc_kw_per_kwp``, ``ac_kw_per_kwp``. NaN throughout if an input is NaN.
    """
    temp_in = None if ambient_temperature_c is None else np.broadcast_to(
        np.asarray(ambient_temperature_c, dtype="float64"), (12,))[None, :]
    lat, lon, elev, ghi_in, temp, valid = validate_inputs([lat_deg], [lon_deg], [elevation_m],
                                                    np.asarray(monthly_ghi_w_m2, "float64").reshape(1, -1), temp_in)
    axis = time_axis(year)
    n_hours = axis.hour_utc_h.size
    columns = ["ghi_w_m2", "dni_w_m2", "dhi_w_m2", "poa_w_m2", "cell_temperature_c", "dc_kw_per_kwp",
               "ac_kw_per_kwp"]
    frame = pd.DataFrame(np.full((n_hours, len(columns)), np.nan), index=axis.times_utc, columns=columns)
    if not valid[0]:
        return frame
    linke_daily = linke_turbidity_daily(np.asarray(linke_turbidity, dtype="float64").reshape(1, 12), year)
    out = _simulate_block(lat, lon, elev, ghi_in, temp, linke_daily, axis, system, wind_speed_m_s)
    t = out["t"]
    for column, key in zip(columns, ["ghi", "dni", "dhi", "poa_global", "temp_cell", "dc", "ac"]):
        values = np.zeros(n_hours)
        if key == "temp_cell":
            values = temp[0, axis.month_index].copy()
        values[t] = out[key]
        frame[column] = values
    return frame
