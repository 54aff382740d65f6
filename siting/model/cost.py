"""Levelised cost of energy, grid-connection cost and voltage classes: pure functions of arrays.

LCOE is the constant real price per kWh that recovers the investment and the operating cost over the plant's
life at the discount rate:

    LCOE = (capex + Σ_t fixed_om / (1 + r)^t) / Σ_t E (1 - d)^(t-1) / (1 + r)^t,   t = 1 … n

with capex in CNY/kW (the plant and, where computed, its grid connection), fixed O&M in CNY/kW/yr, E the
first year's energy in kWh/kW (a PV plant's kWh/kWp, a wind farm's capacity factor × 8,760 h) and d the
yearly degradation. Without degradation this is the textbook form ``(capex × CRF + fixed_om) / E`` with the
capital recovery factor ``CRF = r (1 + r)^n / ((1 + r)^n - 1)`` (NREL, Simple Levelized Cost of Energy
Calculator documentation).
"""

from __future__ import annotations

import re

import numpy as np


def capital_recovery_factor(discount_rate: float, lifetime_yr: int) -> float:
    """Capital recovery factor: the annuity that repays 1 over ``lifetime_yr`` years at ``discount_rate``.

    Parameters
    ----------
    discount_rate : float
        Real discount rate per year (0.06 for 6 %); 0 gives 1 / lifetime.
    lifetime_yr : int

    Returns
    -------
    float
    """
    r, n = float(discount_rate), int(lifetime_yr)
    if r == 0.0:
        return 1.0 / n
    # r / (1 - (1 + r)^-n), written with expm1/log1p so that tiny rates tend to 1 / n without cancellation
    return r / -np.expm1(-n * np.log1p(r))


def discounted_energy_factor(discount_rate: float, lifetime_yr: int, degradation_per_yr: float = 0.0) -> float:
    """Σ_t (1 - d)^(t-1) / (1 + r)^t for t = 1 … n: the present value of one kWh/yr of first-year energy."""
    t = np.arange(1, int(lifetime_yr) + 1, dtype="float64")
    return float(np.sum((1.0 - degradation_per_yr) ** (t - 1.0) / (1.0 + discount_rate) ** t))


def lcoe_cny_per_kwh(capex_cny_per_kw, fixed_om_cny_per_kw_yr, energy_kwh_per_kw_yr, discount_rate: float,
                     lifetime_yr: int, degradation_per_yr: float = 0.0):
    """Levelised cost of energy (CNY/kWh) of a plant per kW of capacity.

    Parameters
    ----------
    capex_cny_per_kw : float or numpy.ndarray
        Overnight investment, including the grid connection where it is costed (CNY/kW).
    fixed_om_cny_per_kw_yr : float or numpy.ndarray
        Fixed operation and maintenance (CNY/kW/yr), constant in real terms.
    energy_kwh_per_kw_yr : float or numpy.ndarray
        First-year net energy per kW (kWh/kW/yr). Zero or less gives ``inf``; NaN gives NaN.
    discount_rate : float
        Real discount rate per year.
    lifetime_yr : int
    degradation_per_yr : float, default 0
        Share of output lost each year.

    Returns
    -------
    float or numpy.ndarray
        CNY/kWh.
    """
    annuity = 1.0 / capital_recovery_factor(discount_rate, lifetime_yr)  # Σ_t 1 / (1 + r)^t
    energy = discounted_energy_factor(discount_rate, lifetime_yr, degradation_per_yr)
    cost = np.asarray(capex_cny_per_kw, dtype="float64") + np.asarray(fixed_om_cny_per_kw_yr, dtype="float64") * annuity
    e = np.asarray(energy_kwh_per_kw_yr, dtype="float64") * energy
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(e > 0, cost / np.where(e > 0, e, 1.0), np.where(np.isnan(e), np.nan, np.inf))
    return out if out.ndim else float(out)


def connection_cny_per_kw(distance_km, cny_per_kw_km, route_factor: float = 1.0):
    """Cost of the line from a plant to the grid (CNY/kW): straight-line distance × route factor × cost per km."""
    return np.asarray(distance_km, dtype="float64") * float(route_factor) * np.asarray(cny_per_kw_km, dtype="float64")


_NUMBER = re.compile(r"^[±+]?\s*(\d+(?:\.\d+)?)\s*(kv|v)?$")


def parse_voltage_kv(text) -> float | None:
    """The highest voltage of an OpenStreetMap-style ``voltage`` value, in kV; None when it is empty.

    Accepts volts (``220000``), kV (``220 kV``, ``±800kV``) and several circuits separated by ``;``, ``,`` or
    ``/`` (``110000;35000`` → 110). Plain numbers above 1,000 are volts, others kV.

    Raises
    ------
    ValueError
        For text in no known format (e.g. ``high``).
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    if isinstance(text, (int, float, np.integer, np.floating)):
        value = float(text)
        return value / 1000.0 if value > 1000.0 else value
    s = str(text).strip().lower().replace("千伏", "kv")
    if not s:
        return None
    best = None
    for part in re.split(r"[;,/]", s):
        m = _NUMBER.match(part.strip())
        if m is None:
            raise ValueError(f"'{text}'")
        value = float(m.group(1))
        kv = value if m.group(2) == "kv" else (value / 1000.0 if m.group(2) == "v" or value > 1000.0 else value)
        best = kv if best is None else max(best, kv)
    return best
