"""Onshore wind resource and turbine yield for many grid cells at once.

Small, pure NumPy functions that turn a gridded wind resource (mean wind speed at a
measured height, typically the Global Wind Atlas 100 m layer, optionally with Weibull A
and k) into a gross and net capacity factor per cell for a chosen turbine, plus the
helpers around it: vertical extrapolation (power and log law), surface roughness from
land cover, air density from elevation, IEC density normalisation of a power curve,
turbine power curves stored as TOML files, and the capacity density implied by a
turbine spacing.

Conventions
-----------
* Every quantity carries its unit in its name: ``wind_speed_ms`` (m/s),
  ``hub_height_m``, ``rotor_diameter_m``, ``air_density_kg_m3``, ``rated_power_kw``.
  A ``capacity_factor`` is a fraction in [0, 1].
* Array inputs broadcast against each other (NumPy rules). NaN marks a cell without
  data and gives NaN out; inputs that cannot be right (negative speeds, a Weibull k
  <= 0, ...) raise :class:`siting.errors.SitingError` naming the input.

Capacity factor
---------------
The gross capacity factor of a cell is the expected power of the turbine over the
Weibull distribution of hub-height wind speed, divided by its rated power::

    CF = 1/P_rated * integral_0^inf P(v) f(v; A, k) dv

``P(v)`` is the power curve interpolated linearly between its points and zero below
its first and above its last point (cut-in and cut-out), the same convention as
``windpowerlib.power_output.power_curve``. Because ``P`` is piecewise linear,
``P(v) = a_i + b_i v`` on segment ``i``, the integral is evaluated exactly, with no
discretisation of the wind speed axis::

    integral_{v_i}^{v_i+1} (a_i + b_i v) f(v) dv
        = a_i [F(v_i+1) - F(v_i)] + b_i [M(v_i+1) - M(v_i)]

with the Weibull CDF ``F(v) = 1 - exp(-(v/A)^k)`` and the partial first moment
``M(v) = A Gamma(1 + 1/k) P(1 + 1/k, (v/A)^k)``, where ``P`` is the regularised lower
incomplete gamma function (:func:`scipy.special.gammainc`). Summed over segments this
is a weighted sum of ``F`` and ``M`` at the curve's breakpoints; breakpoints where the
curve does not bend (e.g. along the flat rated-power part) drop out. The result agrees
with adaptive quadrature (:func:`scipy.integrate.quad`) to about 1e-10; the tests check
1e-4. Cells are processed ``block_cells`` at a time to bound memory.

Air density enters through the IEC 61400-12-1 normalisation for pitch-regulated
turbines: at density ``rho`` the turbine produces at speed ``v`` what it produces at
the standard density ``rho_0 = 1.225 kg/m3`` at ``v (rho/rho_0)^(1/3)``. For a Weibull
wind this is the same as evaluating the standard curve with the scale parameter
``A (rho/rho_0)^(1/3)`` and the same ``k``, which is how :func:`capacity_factor` applies
it (exact, also for the shift of cut-out).

Turbines
--------
A :class:`Turbine` holds a power curve and its metadata. The library of power curves is data,
``siting/data/turbines/*.toml``, read by :mod:`siting.io.turbines` (this module reads no file).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from siting.errors import SitingError

__all__ = [
    "DEFAULT_SHEAR_EXPONENT",
    "DEFAULT_WEIBULL_K",
    "STANDARD_AIR_DENSITY_KG_M3",
    "IGBP_ROUGHNESS_LENGTH_M",
    "WORLDCOVER_ROUGHNESS_LENGTH_M",
    "PowerCurve",
    "Turbine",
    "power_law_speed_ms",
    "log_law_speed_ms",
    "roughness_length_m",
    "air_density_kg_m3",
    "density_adjusted_speed_ms",
    "density_corrected_power_curve",
    "weibull_scale_from_mean_ms",
    "weibull_mean_from_scale_ms",
    "capacity_factor",
    "capacity_factor_constant",
    "net_capacity_factor",
    "spacing_density_mw_per_km2",
    "check_wind_speed_ms",
    "check_weibull_k",
]

# ----------------------------------------------------------------------------- constants

#: Standard air density of IEC 61400-12-1 and of the ISA at sea level, kg/m³.
STANDARD_AIR_DENSITY_KG_M3 = 1.225

#: Power-law shear exponent of the "1/7 law" (0.143), the usual default for neutral
#: flow over open, flat terrain. Real exponents over Chinese terrain range from ~0.1
#: (open, unstable) to > 0.3 (forest, stable nights).
DEFAULT_SHEAR_EXPONENT = 0.143

#: Default Weibull shape parameter k when no k layer is available: 2.0, the Rayleigh
#: distribution. This is a generic default, not a regional fit. Annual k over China's
#: land typically lies between about 1.5 and 2.5, lower in the calm, convective south
#: than over the plateaus of the north; where a measured or modelled k layer exists
#: (e.g. the Global Wind Atlas Weibull k at 100 m) use it instead.
DEFAULT_WEIBULL_K = 2.0

# International Standard Atmosphere (ISO 2533:1975, troposphere), used by air_density_kg_m3.
ISA_SEA_LEVEL_PRESSURE_PA = 101_325.0
ISA_SEA_LEVEL_TEMPERATURE_K = 288.15
ISA_LAPSE_RATE_K_PER_M = 0.0065
GRAVITY_M_S2 = 9.80665
MOLAR_MASS_DRY_AIR_KG_PER_MOL = 0.0289644
UNIVERSAL_GAS_CONSTANT_J_PER_MOL_K = 8.3144598
#: Specific gas constant of dry air, J/(kg K) (= R / M = 287.05).
GAS_CONSTANT_DRY_AIR_J_PER_KG_K = UNIVERSAL_GAS_CONSTANT_J_PER_MOL_K / MOLAR_MASS_DRY_AIR_KG_PER_MOL

#: Aerodynamic roughness length per MODIS IGBP land-cover class (MCD12 LC_Type1), m.
#: Values are the ``Z0`` column of WRF's ``VEGPARM.TBL``, section ``MODI-RUC`` (the
#: 20-category MODIS/IGBP table of the RUC land-surface model, Skamarock et al.,
#: "A Description of the Advanced Research WRF Model", NCAR/TN). Water is 0 in
#: MCD12C1 and 17 in MCD12Q1; both map to water. 255 (fill) and any other code is
#: unknown (NaN). For comparison, the WAsP / European Wind Atlas roughness classes
#: (Troen & Petersen 1989) are 0.0002 m (water), 0.03 m (open farmland), 0.1 m
#: (farmland with some shelter) and 0.4 m and above (forest, towns).
IGBP_ROUGHNESS_LENGTH_M: dict[int, float] = {
    0: 0.0001,  # water (MCD12C1 numbering)
    1: 0.70,  # evergreen needleleaf forest
    2: 0.70,  # evergreen broadleaf forest
    3: 0.70,  # deciduous needleleaf forest
    4: 0.70,  # deciduous broadleaf forest
    5: 0.70,  # mixed forest
    6: 0.10,  # closed shrublands
    7: 0.10,  # open shrublands
    8: 0.15,  # woody savannas
    9: 0.15,  # savannas
    10: 0.075,  # grasslands
    11: 0.30,  # permanent wetlands
    12: 0.20,  # croplands
    13: 1.00,  # urban and built-up
    14: 0.20,  # cropland / natural vegetation mosaic
    15: 0.011,  # snow and ice
    16: 0.065,  # barren or sparsely vegetated
    17: 0.0001,  # water (MCD12Q1 numbering)
}

#: Roughness length per ESA WorldCover 2020/2021 class, m. Each class takes the value of
#: the closest IGBP class in :data:`IGBP_ROUGHNESS_LENGTH_M` (same source); moss and
#: lichen takes the ``Barren Tundra`` value (0.06 m) of the same WRF table.
WORLDCOVER_ROUGHNESS_LENGTH_M: dict[int, float] = {
    10: 0.70,  # tree cover -> forest
    20: 0.10,  # shrubland -> shrublands
    30: 0.075,  # grassland -> grasslands
    40: 0.20,  # cropland -> croplands
    50: 1.00,  # built-up -> urban and built-up
    60: 0.065,  # bare / sparse vegetation -> barren
    70: 0.011,  # snow and ice
    80: 0.0001,  # permanent water bodies -> water
    90: 0.30,  # herbaceous wetland -> permanent wetlands
    95: 0.70,  # mangroves -> forest
    100: 0.06,  # moss and lichen -> barren tundra
}

_ROUGHNESS_TABLES = {"igbp": IGBP_ROUGHNESS_LENGTH_M, "worldcover": WORLDCOVER_ROUGHNESS_LENGTH_M}

#: An annual-mean wind speed above this is not physical anywhere on land, m/s.
MAX_PLAUSIBLE_MEAN_SPEED_MS = 40.0
#: A layer of annual-mean speeds whose median exceeds this, or whose 95th percentile
#: exceeds :data:`KMH_P95_THRESHOLD_MS`, is taken to be in km/h (3.6 x m/s). Annual
#: means at 100 m over China's land are ~2-11 m/s.
KMH_MEDIAN_THRESHOLD_MS = 15.0
KMH_P95_THRESHOLD_MS = 25.0

DEFAULT_BLOCK_CELLS = 65_536


def _as_float(values: Any) -> np.ndarray:
    return np.asarray(values, dtype="float64")


# ----------------------------------------------------------------------------- input checks


def check_wind_speed_ms(values: Any, source_name: str) -> np.ndarray:
    """Check that an array holds annual-mean wind speeds in m/s.

    Parameters
    ----------
    values : array_like
        Mean wind speeds, m/s. NaN marks cells without data and is allowed.
    source_name : str
        Name of the input (file, layer or argument) used in the error message.

    Returns
    -------
    numpy.ndarray
        ``values`` as float64.

    Raises
    ------
    SitingError
        If a value is negative, if the layer looks like km/h (median above
        :data:`KMH_MEDIAN_THRESHOLD_MS` or 95th percentile above
        :data:`KMH_P95_THRESHOLD_MS`), or if a value exceeds
        :data:`MAX_PLAUSIBLE_MEAN_SPEED_MS`.
    """
    speed_ms = _as_float(values)
    finite = speed_ms[np.isfinite(speed_ms)]
    if finite.size == 0:
        return speed_ms
    low = float(finite.min())
    if low < 0:
        raise SitingError(f"{source_name}: negative wind speed {low:g} m/s; wind speeds must be >= 0")
    high = float(finite.max())
    # no percentile exceeds the largest value: below both thresholds, the percentiles need not be found
    median, p95 = ((high, high) if high <= min(KMH_MEDIAN_THRESHOLD_MS, KMH_P95_THRESHOLD_MS)
                   else (float(q) for q in np.percentile(finite, [50, 95])))
    if median > KMH_MEDIAN_THRESHOLD_MS or p95 > KMH_P95_THRESHOLD_MS:
        raise SitingError(
            f"{source_name}: mean wind speeds look like km/h, not m/s (median {median:.1f}, "
            f"95th percentile {p95:.1f}); divide by 3.6 to convert km/h to m/s"
        )
    if high > MAX_PLAUSIBLE_MEAN_SPEED_MS:
        raise SitingError(
            f"{source_name}: mean wind speed {high:g} m/s is not plausible "
            f"(> {MAX_PLAUSIBLE_MEAN_SPEED_MS:g} m/s); check the units and the nodata value"
        )
    return speed_ms


def check_weibull_k(values: Any, source_name: str) -> np.ndarray:
    """Check that an array holds Weibull shape parameters k (dimensionless).

    Parameters
    ----------
    values : array_like
        Weibull k. NaN is allowed (no data).
    source_name : str
        Name of the input used in the error message.

    Returns
    -------
    numpy.ndarray
        ``values`` as float64.

    Raises
    ------
    SitingError
        If a value is <= 0 or above 20 (annual wind-speed distributions have k of
        roughly 1-4; larger values are usually a scaled integer raster).
    """
    k = _as_float(values)
    finite = k[np.isfinite(k)]
    if finite.size and float(finite.min()) <= 0:
        raise SitingError(f"{source_name}: Weibull k must be > 0, found {float(finite.min()):g}")
    if finite.size and float(finite.max()) > 20:
        raise SitingError(
            f"{source_name}: Weibull k {float(finite.max()):g} is not plausible (> 20); is the layer scaled (e.g. x100)?"
        )
    return k


# ----------------------------------------------------------------------------- shear


def power_law_speed_ms(
    speed_ms: Any, from_height_m: Any, to_height_m: Any, shear_exponent: Any = DEFAULT_SHEAR_EXPONENT
) -> np.ndarray:
    """Extrapolate wind speed to another height with the power law.

    ``v2 = v1 * (z2 / z1) ** alpha``.

    Parameters
    ----------
    speed_ms : array_like
        Wind speed at ``from_height_m``, m/s.
    from_height_m, to_height_m : array_like
        Heights above ground, m (> 0).
    shear_exponent : array_like, default :data:`DEFAULT_SHEAR_EXPONENT`
        Power-law exponent alpha (dimensionless).

    Returns
    -------
    numpy.ndarray
        Wind speed at ``to_height_m``, m/s.
    """
    z1, z2 = _as_float(from_height_m), _as_float(to_height_m)
    if np.any(z1 <= 0) or np.any(z2 <= 0):
        raise SitingError("power_law_speed_ms: heights must be > 0 m")
    return _as_float(speed_ms) * (z2 / z1) ** _as_float(shear_exponent)


def log_law_speed_ms(speed_ms: Any, from_height_m: Any, to_height_m: Any, roughness_length_m: Any) -> np.ndarray:
    """Extrapolate wind speed to another height with the neutral logarithmic profile.

    ``v2 = v1 * ln(z2 / z0) / ln(z1 / z0)`` (no displacement height, neutral stability).

    Parameters
    ----------
    speed_ms : array_like
        Wind speed at ``from_height_m``, m/s.
    from_height_m, to_height_m : array_like
        Heights above ground, m; both must exceed the roughness length.
    roughness_length_m : array_like
        Aerodynamic roughness length z0, m (> 0), e.g. from :func:`roughness_length_m`.
        NaN gives NaN.

    Returns
    -------
    numpy.ndarray
        Wind speed at ``to_height_m``, m/s.
    """
    z1, z2, z0 = _as_float(from_height_m), _as_float(to_height_m), _as_float(roughness_length_m)
    with np.errstate(invalid="ignore"):
        if np.any(z0 <= 0):
            raise SitingError("log_law_speed_ms: roughness_length_m must be > 0 m")
        if np.any(z1 <= z0) or np.any(z2 <= z0):
            raise SitingError("log_law_speed_ms: heights must exceed the roughness length")
    return _as_float(speed_ms) * np.log(z2 / z0) / np.log(z1 / z0)


def roughness_length_m(classes: Any, scheme: str = "igbp", *, strict: bool = False) -> np.ndarray:
    """Roughness length per land-cover class.

    Parameters
    ----------
    classes : array_like of int
        Land-cover codes: MODIS IGBP (0..17, see :data:`IGBP_ROUGHNESS_LENGTH_M`) or
        ESA WorldCover (10..100, see :data:`WORLDCOVER_ROUGHNESS_LENGTH_M`).
    scheme : {"igbp", "worldcover"}
        The classification of ``classes``.
    strict : bool, default False
        If True, an unknown code raises; otherwise it gives NaN.

    Returns
    -------
    numpy.ndarray
        Roughness length z0, m, same shape as ``classes``.
    """
    if scheme not in _ROUGHNESS_TABLES:
        raise SitingError(f"roughness_length_m: unknown land-cover scheme {scheme!r}; use 'igbp' or 'worldcover'")
    table = _ROUGHNESS_TABLES[scheme]
    codes = np.asarray(classes)
    valid = np.isfinite(codes) if codes.dtype.kind == "f" else np.ones(codes.shape, dtype=bool)
    codes_int = np.where(valid, codes, -1).astype("int64")
    lookup = np.full(max(table) + 2, np.nan)
    for code, z0 in table.items():
        lookup[code] = z0
    inside = (codes_int >= 0) & (codes_int <= max(table))
    z0_m = np.full(codes.shape, np.nan)
    z0_m[inside] = lookup[codes_int[inside]]
    if strict:
        unknown = np.unique(codes[valid & np.isnan(z0_m)])
        if unknown.size:
            raise SitingError(f"roughness_length_m: land-cover codes {unknown.tolist()[:10]} are not {scheme} classes")
    return z0_m


# ----------------------------------------------------------------------------- air density


def air_density_kg_m3(elevation_m: Any, temperature_c: Any = None) -> np.ndarray:
    """Air density from elevation with the International Standard Atmosphere.

    Pressure follows the ISA barometric formula of the troposphere::

        p = p0 * (1 - L h / T0) ** (g M / (R L))

    with p0 = 101325 Pa, T0 = 288.15 K, L = 0.0065 K/m, g = 9.80665 m/s², M = 0.0289644
    kg/mol, R = 8.3144598 J/(mol K). Density is ``p / (R_d T)`` with R_d = R/M = 287.05
    J/(kg K) (dry air) and T the ISA temperature ``T0 - L h``, or ``temperature_c`` if
    given (e.g. a mean annual temperature at hub height; pressure stays ISA). At 0 m
    and ISA temperature the density is 1.225 kg/m³.

    Parameters
    ----------
    elevation_m : array_like
        Height above sea level of the point of interest (ground elevation plus hub
        height), m. Valid up to 11 km.
    temperature_c : array_like, optional
        Air temperature, °C.

    Returns
    -------
    numpy.ndarray
        Air density, kg/m³.
    """
    h = _as_float(elevation_m)
    if np.any(h > 11_000):
        raise SitingError("air_density_kg_m3: elevation_m above 11 000 m is outside the ISA troposphere")
    isa_temperature_k = ISA_SEA_LEVEL_TEMPERATURE_K - ISA_LAPSE_RATE_K_PER_M * h
    exponent = GRAVITY_M_S2 * MOLAR_MASS_DRY_AIR_KG_PER_MOL / (UNIVERSAL_GAS_CONSTANT_J_PER_MOL_K * ISA_LAPSE_RATE_K_PER_M)
    pressure_pa = ISA_SEA_LEVEL_PRESSURE_PA * (isa_temperature_k / ISA_SEA_LEVEL_TEMPERATURE_K) ** exponent
    if temperature_c is None:
        temperature_k = isa_temperature_k
    else:
        temperature_k = _as_float(temperature_c) + 273.15
        if np.any(temperature_k <= 0):
            raise SitingError("air_density_kg_m3: temperature_c below absolute zero")
    return pressure_pa / (GAS_CONSTANT_DRY_AIR_J_PER_KG_K * temperature_k)


def density_adjusted_speed_ms(speed_ms: Any, air_density_kg_m3: Any) -> np.ndarray:
    """Normalise a wind speed to standard air density (IEC 61400-12-1, pitch-regulated).

    ``V_n = V * (rho / 1.225) ** (1/3)``: the speed at standard density at which the
    turbine produces what it produces at ``V`` and density ``rho``.

    Parameters
    ----------
    speed_ms : array_like
        Wind speed at site density, m/s.
    air_density_kg_m3 : array_like
        Site air density, kg/m³ (> 0).

    Returns
    -------
    numpy.ndarray
        Density-normalised wind speed, m/s.
    """
    rho = _as_float(air_density_kg_m3)
    if np.any(rho <= 0):
        raise SitingError("air_density_kg_m3 must be > 0")
    return _as_float(speed_ms) * (rho / STANDARD_AIR_DENSITY_KG_M3) ** (1.0 / 3.0)


# ----------------------------------------------------------------------------- Weibull


def weibull_scale_from_mean_ms(mean_ms: Any, k: Any) -> np.ndarray:
    """Weibull scale parameter A from the mean and the shape k: ``A = mean / Gamma(1 + 1/k)``.

    Parameters
    ----------
    mean_ms : array_like
        Mean wind speed, m/s.
    k : array_like
        Weibull shape parameter (> 0).

    Returns
    -------
    numpy.ndarray
        Weibull scale A, m/s.
    """
    return _as_float(mean_ms) / special.gamma(1.0 + 1.0 / _as_float(k))


def weibull_mean_from_scale_ms(scale_ms: Any, k: Any) -> np.ndarray:
    """Mean of a Weibull distribution: ``A * Gamma(1 + 1/k)``, m/s."""
    return _as_float(scale_ms) * special.gamma(1.0 + 1.0 / _as_float(k))


# ----------------------------------------------------------------------------- power curves


@dataclass(frozen=True, eq=False)
class PowerCurve:
    """A turbine power curve at standard air density (1.225 kg/m³).

    Power is linear between points and zero below the first and above the last speed.

    Attributes
    ----------
    speed_ms : numpy.ndarray
        Hub-height wind speeds, strictly increasing, m/s.
    power_kw : numpy.ndarray
        Electrical power at those speeds, kW (>= 0).
    rated_power_kw : float
        Rated (nameplate) power, kW; the capacity factor is relative to it.
    """

    speed_ms: np.ndarray
    power_kw: np.ndarray
    rated_power_kw: float

    def __post_init__(self) -> None:
        speed, power, problem = _curve_problem(self.speed_ms, self.power_kw, self.rated_power_kw)
        if problem:
            raise SitingError(f"power curve: {problem}")
        speed.flags.writeable = False
        power.flags.writeable = False
        object.__setattr__(self, "speed_ms", speed)
        object.__setattr__(self, "power_kw", power)
        object.__setattr__(self, "rated_power_kw", float(self.rated_power_kw))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PowerCurve):
            return NotImplemented
        return (
            self.rated_power_kw == other.rated_power_kw
            and np.array_equal(self.speed_ms, other.speed_ms)
            and np.array_equal(self.power_kw, other.power_kw)
        )

    def __hash__(self) -> int:
        return hash((self.rated_power_kw, self.speed_ms.tobytes(), self.power_kw.tobytes()))

    def power_at_kw(self, speed_ms: Any) -> np.ndarray:
        """Power at the given standard-density wind speeds, kW (0 outside the curve)."""
        return np.interp(_as_float(speed_ms), self.speed_ms, self.power_kw, left=0.0, right=0.0)


def _curve_problem(speed_ms: Any, power_kw: Any, rated_power_kw: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """Validate curve arrays; return them as float64 and a problem description ('' if none)."""
    try:
        speed = np.array(speed_ms, dtype="float64")
        power = np.array(power_kw, dtype="float64")
        rated = float(rated_power_kw)
    except (TypeError, ValueError) as err:
        return np.empty(0), np.empty(0), f"values are not numbers ({err})"
    if speed.ndim != 1 or power.ndim != 1:
        return speed, power, "power_curve_speed_ms and power_curve_kw must be flat lists"
    if speed.size != power.size:
        return speed, power, f"power_curve_speed_ms has {speed.size} values but power_curve_kw has {power.size}"
    if speed.size < 2:
        return speed, power, "the power curve needs at least 2 points"
    if not (np.isfinite(speed).all() and np.isfinite(power).all()):
        return speed, power, "the power curve contains non-finite values"
    if not np.all(np.diff(speed) > 0):
        bad = int(np.argmax(np.diff(speed) <= 0)) + 1
        return speed, power, f"power_curve_speed_ms must be strictly increasing (value {bad}: {speed[bad]:g} m/s)"
    if speed[0] < 0:
        return speed, power, "power_curve_speed_ms has negative speeds"
    if power.min() < 0:
        return speed, power, f"power_curve_kw has negative power ({power.min():g} kW)"
    if not (np.isfinite(rated) and rated > 0):
        return speed, power, f"rated_power_kw must be > 0, got {rated:g}"
    if power.max() > 1.05 * rated:
        return speed, power, f"power_curve_kw reaches {power.max():g} kW, more than 5 % above rated_power_kw {rated:g}"
    return speed, power, ""


def density_corrected_power_curve(power_curve: PowerCurve, air_density_kg_m3: float) -> PowerCurve:
    """The power curve at a site air density (IEC 61400-12-1, pitch-regulated turbines).

    Each standard-density point ``(V_std, P)`` moves to ``(V_std * (1.225/rho)^(1/3), P)``,
    the site speed whose normalised speed (:func:`density_adjusted_speed_ms`) is
    ``V_std``. Interpolating the result at site speeds is therefore the same as
    interpolating the standard curve at the density-adjusted speeds. (windpowerlib's
    ``power_curve_density_correction`` uses this exponent of 1/3 only up to 7.5 m/s and
    raises it to 2/3 towards 12.5 m/s, following Svenningsen 2010.)

    Parameters
    ----------
    power_curve : PowerCurve
        Curve at standard density.
    air_density_kg_m3 : float
        Site air density, kg/m³.

    Returns
    -------
    PowerCurve
        Curve valid at ``air_density_kg_m3``.
    """
    rho = float(air_density_kg_m3)
    if not rho > 0:
        raise SitingError(f"air_density_kg_m3 must be > 0, got {rho:g}")
    factor = (STANDARD_AIR_DENSITY_KG_M3 / rho) ** (1.0 / 3.0)
    return PowerCurve(power_curve.speed_ms * factor, power_curve.power_kw.copy(), power_curve.rated_power_kw)


# ----------------------------------------------------------------------------- capacity factor


@dataclass(frozen=True)
class _Breakpoints:
    """Power curve as weights on the Weibull CDF and partial first moment at its bends."""

    log_speed_ms: np.ndarray  # log of breakpoint speeds (> 0)
    cdf_weight_kw: np.ndarray  # a_{j-1} - a_j, kW
    moment_weight_kw_per_ms: np.ndarray  # b_{j-1} - b_j, kW/(m/s)
    moment_mask: np.ndarray = field(repr=False)  # breakpoints where the slope changes


def _breakpoints(power_curve: PowerCurve) -> _Breakpoints:
    v, p = power_curve.speed_ms, power_curve.power_kw
    slope = np.diff(p) / np.diff(v)  # b_i on segment i = [v_i, v_i+1]
    intercept = p[:-1] - slope * v[:-1]  # a_i
    # Outside the curve a = b = 0: pad so that segment "left of v_j" is index j.
    a = np.concatenate([[0.0], intercept, [0.0]])
    b = np.concatenate([[0.0], slope, [0.0]])
    cdf_w = a[:-1] - a[1:]
    mom_w = b[:-1] - b[1:]
    scale_kw = max(power_curve.rated_power_kw, 1e-300)
    keep = (v > 0) & ((np.abs(cdf_w) > 1e-12 * scale_kw) | (np.abs(mom_w) > 1e-12 * scale_kw))
    return _Breakpoints(np.log(v[keep]), cdf_w[keep], mom_w[keep], np.abs(mom_w[keep]) > 1e-12 * scale_kw)


def _expected_power_kw(scale_ms: np.ndarray, k: np.ndarray, bp: _Breakpoints) -> np.ndarray:
    """E[P(V)] for V ~ Weibull(scale_ms, k), 1-D arrays of one block of cells."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = bp.log_speed_ms[None, :] - np.log(scale_ms)[:, None]
        x = np.exp(k[:, None] * log_ratio)  # (v_j / A)^k
        expected = -np.expm1(-x) @ bp.cdf_weight_kw  # sum_j c_j F(v_j)
        if bp.moment_mask.any():
            shape = 1.0 + 1.0 / k
            partial = special.gammainc(shape[:, None], x[:, bp.moment_mask])
            mean_ms = scale_ms * special.gamma(shape)
            moment = partial @ bp.moment_weight_kw_per_ms[bp.moment_mask]
            # A = 0 (calm cell): the moment term is 0 * finite; keep it 0, not NaN.
            expected = expected + np.where(mean_ms == 0, 0.0, mean_ms * moment)
    return expected


@dataclass(frozen=True, eq=False)
class CapacityFactorTable:
    """The exact gross capacity factor of one power curve tabulated over the log of the density-adjusted mean
    speed and the Weibull k, for look-up by bilinear interpolation of log CF (:func:`capacity_factor_table`)."""

    power_curve: PowerCurve
    log_mean_start: float
    log_mean_step: float
    k_start: float
    k_step: float
    log_cf: np.ndarray  # (n_k, n_mean)

    def lookup(self, mean_eff_ms: np.ndarray, k: np.ndarray) -> np.ndarray:
        """CF at density-adjusted mean speeds and k (1-D float arrays); NaN outside the table."""
        n_k, n_m = self.log_cf.shape
        with np.errstate(divide="ignore", invalid="ignore"):
            fm = (np.log(mean_eff_ms) - self.log_mean_start) / self.log_mean_step
            fk = (k - self.k_start) / self.k_step
            inside = (fm >= 0) & (fm < n_m - 1) & (fk >= 0) & (fk < n_k - 1)
        fm, fk = np.where(inside, fm, 0.0), np.where(inside, fk, 0.0)
        im, ik = fm.astype(np.int64), fk.astype(np.int64)
        wm, wk = fm - im, fk - ik
        flat = self.log_cf.reshape(-1)
        base = ik * n_m + im
        v = ((flat[base] * (1.0 - wm) + flat[base + 1] * wm) * (1.0 - wk)
             + (flat[base + n_m] * (1.0 - wm) + flat[base + n_m + 1] * wm) * wk)
        return np.where(inside, np.exp(v), np.nan)


TABLE_MEAN_MS = (0.5, 40.0)  # density-adjusted mean speeds the table covers, m/s (log-spaced, 600 points)
TABLE_K = (1.0, 4.5, 0.025)  # Weibull k: first, last, step


_TABLE_LOCK = threading.Lock()
_TABLES: dict[tuple[PowerCurve, int], CapacityFactorTable] = {}  # per power curve and size, for the process


def capacity_factor_table(power_curve: PowerCurve, n_mean: int = 600, *, load=None, save=None
                          ) -> CapacityFactorTable:
    """Tabulate the exact capacity factor of a power curve for fast look-up (computed once per curve and process,
    by the first thread that asks; the others wait for it rather than computing it too).

    Mean speeds 0.5–40 m/s on a log axis (600 points), k 1.0–4.5 in steps of 0.025: bilinear interpolation of
    log CF on it stays within 0.05 % of the exact integral where CF ≥ 1 % and within 5e-5 below, for the
    turbines of the library (``tests/test_wind.py``).

    Parameters
    ----------
    power_curve : PowerCurve
    n_mean : int
        Points on the mean-speed axis.
    load, save : callable, optional
        Keep the table's values between processes (:func:`siting.io.turbines.capacity_factor_table_kept`):
        ``load()`` returns the log CF array kept earlier, or None; ``save(log_cf)`` keeps a newly computed one.
        A loaded array of the wrong shape or with non-finite values is computed again.
    """
    key = (power_curve, n_mean)
    with _TABLE_LOCK:
        table = _TABLES.get(key)
        if table is None:
            kept = load() if load is not None else None
            log_mean, k = _table_axes(n_mean)
            if kept is not None and kept.shape == (k.size, n_mean) and np.isfinite(kept).all():
                table = _table_on(power_curve, log_mean, kept)
            else:
                table = _build_table(power_curve, n_mean)
                if save is not None:
                    save(table.log_cf)
            _TABLES[key] = table
        return table


def _table_axes(n_mean: int) -> tuple[np.ndarray, np.ndarray]:
    """The table's log mean-speed axis and its k axis."""
    log_mean = np.linspace(np.log(TABLE_MEAN_MS[0]), np.log(TABLE_MEAN_MS[1]), n_mean)
    return log_mean, np.arange(TABLE_K[0], TABLE_K[1] + TABLE_K[2] / 2, TABLE_K[2])


def _table_on(power_curve: PowerCurve, log_mean: np.ndarray, log_cf: np.ndarray) -> CapacityFactorTable:
    return CapacityFactorTable(power_curve, float(log_mean[0]), float(log_mean[1] - log_mean[0]), TABLE_K[0],
                               TABLE_K[2], log_cf)


def _build_table(power_curve: PowerCurve, n_mean: int) -> CapacityFactorTable:
    log_mean, k = _table_axes(n_mean)
    mm, kk = np.meshgrid(np.exp(log_mean), k)
    scale = mm.ravel() / special.gamma(1.0 + 1.0 / kk.ravel())
    cf = _expected_power_kw(scale, kk.ravel(), _breakpoints(power_curve)) / power_curve.rated_power_kw
    log_cf = np.log(np.maximum(cf, 1e-300)).reshape(mm.shape)
    return _table_on(power_curve, log_mean, log_cf)


def capacity_factor(
    mean_speed_hub_ms: Any,
    weibull_k: Any,
    power_curve: PowerCurve,
    air_density_kg_m3: Any = None,
    weibull_scale_ms: Any = None,
    block_cells: int = DEFAULT_BLOCK_CELLS,
    method: str = "exact",
) -> np.ndarray:
    """Gross capacity factor of a turbine for Weibull-distributed hub-height wind.

    ``CF = E[P(V)] / P_rated`` with ``V ~ Weibull(A, k)``, integrated exactly over the
    piecewise-linear power curve (see the module notes). No losses: see
    :func:`net_capacity_factor`.

    Parameters
    ----------
    mean_speed_hub_ms : array_like or None
        Mean wind speed at hub height, m/s; gives ``A = mean / Gamma(1 + 1/k)``. Pass
        None when ``weibull_scale_ms`` is given.
    weibull_k : array_like
        Weibull shape parameter k (> 0), e.g. :data:`DEFAULT_WEIBULL_K`.
    power_curve : PowerCurve
        Power curve at standard air density.
    air_density_kg_m3 : array_like, optional
        Air density at hub height, kg/m³. None means standard density (no correction).
    weibull_scale_ms : array_like, optional
        Weibull scale A at hub height, m/s, instead of the mean.
    block_cells : int
        Cells per block; memory is about ``block_cells * n_breakpoints * 24`` bytes.
    method : {"exact", "table"}
        ``table`` looks the capacity factor up in :func:`capacity_factor_table` (tens of millions of cells per
        second, within 0.05 % of the exact value where CF ≥ 1 %); cells outside the table are computed exactly.

    Returns
    -------
    numpy.ndarray
        Gross capacity factor in [0, 1], broadcast shape of the inputs. NaN where any
        input is NaN.
    """
    if (mean_speed_hub_ms is None) == (weibull_scale_ms is None):
        raise SitingError("capacity_factor: give exactly one of mean_speed_hub_ms and weibull_scale_ms")
    k = _as_float(weibull_k)
    with np.errstate(invalid="ignore"):
        if np.any(k <= 0):
            raise SitingError("capacity_factor: weibull_k must be > 0")
        if weibull_scale_ms is None:
            speed = _as_float(mean_speed_hub_ms)
            name = "mean_speed_hub_ms"
        else:
            speed = _as_float(weibull_scale_ms)
            name = "weibull_scale_ms"
        if np.any(speed < 0):
            raise SitingError(f"capacity_factor: {name} has negative wind speeds")
        rho = _as_float(STANDARD_AIR_DENSITY_KG_M3 if air_density_kg_m3 is None else air_density_kg_m3)
        if np.any(rho <= 0):
            raise SitingError("capacity_factor: air_density_kg_m3 must be > 0")
    speed, k, rho = np.broadcast_arrays(speed, k, rho)
    shape = speed.shape
    speed, k, rho = speed.ravel(), k.ravel(), rho.ravel()
    if method == "table":
        density = np.cbrt(rho / STANDARD_AIR_DENSITY_KG_M3)
        mean_eff = speed * density if weibull_scale_ms is None else speed * special.gamma(1.0 + 1.0 / k) * density
        cf = capacity_factor_table(power_curve).lookup(mean_eff, k)
        off = np.isnan(cf) & np.isfinite(mean_eff) & np.isfinite(k)  # outside the table: the exact integral
        if off.any():
            cf[off] = capacity_factor(speed[off], k[off], power_curve, rho[off], block_cells=block_cells) \
                if weibull_scale_ms is None else capacity_factor(None, k[off], power_curve, rho[off],
                                                                 weibull_scale_ms=speed[off], block_cells=block_cells)
        return cf.reshape(shape)
    if method != "exact":
        raise SitingError(f"capacity_factor: method {method!r}: use exact or table")
    bp = _breakpoints(power_curve)
    out = np.empty(speed.size)
    block = max(int(block_cells), 1)
    for start in range(0, speed.size, block):
        sl = slice(start, start + block)
        kb = k[sl]
        scale = speed[sl] if weibull_scale_ms is not None else speed[sl] / special.gamma(1.0 + 1.0 / kb)
        scale = scale * np.cbrt(rho[sl] / STANDARD_AIR_DENSITY_KG_M3)
        out[sl] = _expected_power_kw(scale, kb, bp)
    cf = np.maximum(out / power_curve.rated_power_kw, 0.0)  # clip rounding below 0; NaN stays NaN
    return cf.reshape(shape)


def capacity_factor_constant(speed_ms: Any, power_curve: PowerCurve, air_density_kg_m3: Any = None) -> np.ndarray:
    """Capacity factor for a steady wind: ``P(V_n) / P_rated`` (the k -> infinity limit).

    Parameters
    ----------
    speed_ms : array_like
        Steady hub-height wind speed, m/s.
    power_curve : PowerCurve
        Power curve at standard air density.
    air_density_kg_m3 : array_like, optional
        Air density, kg/m³; the speed is normalised with :func:`density_adjusted_speed_ms`.

    Returns
    -------
    numpy.ndarray
        ``P / P_rated``; NaN where the speed is NaN.
    """
    speed = _as_float(speed_ms)
    if air_density_kg_m3 is not None:
        speed = density_adjusted_speed_ms(speed, air_density_kg_m3)
    cf = power_curve.power_at_kw(speed) / power_curve.rated_power_kw
    return np.where(np.isnan(speed), np.nan, cf)


def net_capacity_factor(
    gross: Any, wake_loss: float = 0.10, availability_loss: float = 0.03, electrical_loss: float = 0.02
) -> np.ndarray:
    """Net capacity factor: ``gross * (1 - wake) * (1 - availability) * (1 - electrical)``.

    The default losses (total 14.4 %) are typical pre-construction assumptions for
    large onshore arrays, following the loss categories of Clifton et al. (2016), "Wind
    Plant Preconstruction Energy Estimates: Current Practice and Opportunities", NREL/
    TP-5000-64735: wake (array) 10 % (the usual 5-15 % range for multi-row onshore
    arrays at 5D x 7D spacing), turbine availability 3 % (97 %, a common contractual
    availability) and electrical losses 2 % (collection system and substation
    transformer, 1-3 %). Other categories (icing, curtailment, degradation, power-curve
    performance) are left out and can be folded into one of these.

    Parameters
    ----------
    gross : array_like
        Gross capacity factor(s), e.g. from :func:`capacity_factor`.
    wake_loss, availability_loss, electrical_loss : float
        Fractional losses in [0, 1).

    Returns
    -------
    numpy.ndarray
        Net capacity factor(s).
    """
    for name, loss in (("wake_loss", wake_loss), ("availability_loss", availability_loss), ("electrical_loss", electrical_loss)):
        if not 0 <= loss < 1:
            raise SitingError(f"net_capacity_factor: {name} must be in [0, 1), got {loss}")
    return _as_float(gross) * (1 - wake_loss) * (1 - availability_loss) * (1 - electrical_loss)


def spacing_density_mw_per_km2(
    rated_power_kw: Any, rotor_diameter_m: Any, spacing_crosswind_d: float = 5, spacing_downwind_d: float = 7
) -> np.ndarray:
    """Installed capacity per land area for a regular array: ``P_rated / (s_c D * s_d D)``.

    Parameters
    ----------
    rated_power_kw : array_like
        Turbine rating, kW.
    rotor_diameter_m : array_like
        Rotor diameter D, m.
    spacing_crosswind_d, spacing_downwind_d : float
        Spacing between turbines across and along the prevailing wind, in rotor
        diameters (default 5D x 7D).

    Returns
    -------
    numpy.ndarray
        Capacity density, MW/km². E.g. 3.3 MW with a 148 m rotor at 5D x 7D gives 4.3.
    """
    d = _as_float(rotor_diameter_m)
    if np.any(d <= 0) or spacing_crosswind_d <= 0 or spacing_downwind_d <= 0:
        raise SitingError("spacing_density_mw_per_km2: rotor diameter and spacings must be > 0")
    area_km2 = spacing_crosswind_d * d * spacing_downwind_d * d / 1e6
    return _as_float(rated_power_kw) / 1000.0 / area_km2


# ----------------------------------------------------------------------------- turbines


@dataclass(frozen=True)
class Turbine:
    """A wind turbine model and its power curve.

    Attributes
    ----------
    name, manufacturer : str
        Model name and maker.
    rated_power_kw : float
        Rated power, kW.
    rotor_diameter_m : float
        Rotor diameter, m.
    hub_heights_m : tuple of float
        Hub heights offered, m.
    iec_class : str
        IEC 61400-1 class as given by the source (e.g. "IIIA", "S", a "T" suffix for
        typhoon class); empty if the source gives none.
    source, licence : str
        Where the data come from, and their licence.
    power_curve : PowerCurve
        Power curve at standard air density.
    path : pathlib.Path or None
        The TOML file it was read from.
    """

    name: str
    manufacturer: str
    rated_power_kw: float
    rotor_diameter_m: float
    hub_heights_m: tuple[float, ...]
    iec_class: str
    source: str
    licence: str
    power_curve: PowerCurve
    path: Path | None = None

    @property
    def rotor_area_m2(self) -> float:
        """Swept area, m²."""
        return math.pi / 4 * self.rotor_diameter_m**2

    @property
    def specific_power_w_m2(self) -> float:
        """Rated power per swept area, W/m² (low values suit low-wind sites)."""
        return self.rated_power_kw * 1000.0 / self.rotor_area_m2
