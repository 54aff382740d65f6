"""Uncertainty of county capacity and energy from the ranges of the judgement defaults.

Each judgement default (packing density, utilisation, partial class weights, PV and wind losses, the
built-in irradiance) has a low–high range in the scenario. A *draw* takes every assumption from a
triangular distribution whose mode is the default; one draw applies to every county at once, because
the assumptions are not county-specific (a higher packing density is higher everywhere). County figures
follow from the sums a run keeps, without reading any raster again:

- usable land: ``A = A0 + Σ_k (w_k / w0_k − 1) · A_k`` where ``A_k`` is the usable land on the cells
  of a class with the partial weight ``w0_k`` (the weight multiplies those cells' usable share);
- capacity: ``MW = A · density · utilisation``;
- PV energy: ``E = E0 · MW / MW0 · (1 − s)(1 − o) / ((1 − s0)(1 − o0)) · g`` with soiling ``s``,
  other losses ``o`` (both on the DC side, so energy scales with them; inverter clipping is neglected)
  and, for the built-in irradiance only, an irradiance factor ``g``;
- wind energy: ``E = E0 · MW / MW0 · Π(1 − loss) / Π(1 − loss0)`` over wake, availability and
  electrical losses.

Changing a weight also changes the mix of cells behind the county's mean yield; that second-order effect
is neglected (the yield per MW is kept). Everything here is NumPy on arrays; no file is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PERCENTILES = (10, 50, 90)


@dataclass(frozen=True)
class Assumption:
    """One judgement default and its range.

    Attributes
    ----------
    tech : str
    key : str
        ``capacity_density_mw_per_km2``, ``utilisation``, ``soiling_loss``, ``other_losses``,
        ``irradiance_factor``, ``wake_loss``, ``availability_loss``, ``electrical_loss`` or
        ``weights.<rule>.<class>``.
    default, low, high : float
    source : str
    """

    tech: str
    key: str
    default: float
    low: float
    high: float
    source: str = ""

    @property
    def name(self) -> str:
        return f"{self.tech}.{self.key}"


@dataclass
class TechInputs:
    """What a draw needs of one technology, per county (arrays of the same length).

    Attributes
    ----------
    usable_km2 : numpy.ndarray
        Usable land at the default assumptions.
    usable_by_weight_km2 : dict of str to numpy.ndarray
        ``weights.<rule>.<class>`` → usable land on the cells of that class.
    energy_gwh : numpy.ndarray or None
        Annual energy at the defaults (None where energy was not computed).
        Offshore also ``foundation.<name>`` → usable sea on the cells of a foundation type.
    energy_gwh : numpy.ndarray or None
        Annual energy at the defaults (None where energy was not computed).
    density_mw_per_km2, utilisation : float
        The defaults.
    foundation_density_mw_per_km2 : dict of str to float
        Offshore: the default packing density of each foundation type (its cells do not use
        ``density_mw_per_km2``).
    """

    usable_km2: np.ndarray
    usable_by_weight_km2: dict[str, np.ndarray] = field(default_factory=dict)
    energy_gwh: np.ndarray | None = None
    density_mw_per_km2: float = 1.0
    utilisation: float = 1.0
    foundation_density_mw_per_km2: dict[str, float] = field(default_factory=dict)

    def capacity_mw(self, usable_km2: np.ndarray, density: np.ndarray, utilisation: np.ndarray,
                    foundation_density: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """MW of every county in every draw: usable km² × density × utilisation, each foundation type's
        sea at its own density (arrays of draws, shape (n_draws,), or scalars)."""
        density = np.atleast_1d(density)[:, None]
        util = np.atleast_1d(utilisation)[:, None]
        mw = usable_km2 * density * util
        for name, default in self.foundation_density_mw_per_km2.items():
            on = self.usable_by_weight_km2.get(f"foundation.{name}")
            if on is not None:
                d_f = np.atleast_1d((foundation_density or {}).get(name, default))[:, None]
                mw = mw + on[None, :] * (d_f - density) * util
        return mw


def triangular_draws(assumptions: list[Assumption], n_draws: int, seed: int = 0) -> np.ndarray:
    """Draws of every assumption, shape (n_draws, n_assumptions), triangular with the default as mode.

    An assumption whose low equals its high is constant.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n_draws, len(assumptions)))
    for j, a in enumerate(assumptions):
        if a.high > a.low:
            out[:, j] = rng.triangular(a.low, min(max(a.default, a.low), a.high), a.high, n_draws)
        else:
            out[:, j] = a.default
    return out


def _value(values: dict[str, np.ndarray], defaults: dict[str, float], key: str, n: int) -> np.ndarray:
    return values[key] if key in values else np.full(n, defaults[key])


def tech_draws(tech: str, inputs: TechInputs, assumptions: list[Assumption], draws: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """Capacity (MW, or MWp for PV) and energy (GWh/yr) of every county in every draw.

    Parameters
    ----------
    tech : str
        ``wind``, or a PV technology (``pv``, ``agri_pv``, ``fishery_pv``, ``rooftop_pv``), which shares
        ground PV's irradiance-factor draw.
    inputs : TechInputs
    assumptions : list of Assumption
        All assumptions of the run (those of other technologies are ignored).
    draws : numpy.ndarray, shape (n_draws, len(assumptions))

    Returns
    -------
    mw : numpy.ndarray, shape (n_draws, n_counties)
    gwh : numpy.ndarray or None, shape (n_draws, n_counties)
    """
    n = draws.shape[0]
    values = {a.key: draws[:, j] for j, a in enumerate(assumptions) if a.tech == tech}
    defaults = {a.key: a.default for a in assumptions if a.tech == tech}
    pv_family = tech.endswith("pv")
    for j, a in enumerate(assumptions):  # the irradiance of the built-in data is one: every PV mode shares its draw
        if pv_family and a.tech == "pv" and a.key == "irradiance_factor" and a.key not in values:
            values[a.key], defaults[a.key] = draws[:, j], a.default
    usable = np.broadcast_to(inputs.usable_km2, (n, inputs.usable_km2.size)).astype("float64")
    for key, on_class in inputs.usable_by_weight_km2.items():
        if key in values and defaults[key] > 0:
            usable = usable + (values[key] / defaults[key] - 1.0)[:, None] * on_class[None, :]
    density = values.get("capacity_density_mw_per_km2", np.full(n, inputs.density_mw_per_km2))
    util = values.get("utilisation", np.full(n, inputs.utilisation))
    found = {name: values[f"foundations.{name}.capacity_density_mw_per_km2"]
             for name in inputs.foundation_density_mw_per_km2
             if f"foundations.{name}.capacity_density_mw_per_km2" in values}
    mw = inputs.capacity_mw(usable, density, util, found)
    if inputs.energy_gwh is None:
        return mw, None
    # energy per MW of each county stays that of the defaults (its sites' capacity factor)
    mw0 = inputs.capacity_mw(inputs.usable_km2, np.array([inputs.density_mw_per_km2]),
                             np.array([inputs.utilisation]))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_mw = np.where(mw0 > 0, inputs.energy_gwh / mw0, 0.0)
    if pv_family:
        factor = np.ones(n)
        for key in ("soiling_loss", "other_losses"):
            if key in values:
                factor *= (1.0 - values[key]) / (1.0 - defaults[key])
        factor *= values.get("irradiance_factor", np.ones(n))
    else:
        factor = np.ones(n)
        for key in ("wake_loss", "availability_loss", "electrical_loss"):
            if key in values:
                factor *= (1.0 - values[key]) / (1.0 - defaults[key])
    return mw, mw * per_mw[None, :] * factor[:, None]


def percentiles(samples: np.ndarray, qs=PERCENTILES, axis: int = 0) -> dict[int, np.ndarray]:
    """P10/P50/P90 (by default) over the draws (along ``axis``, 0 by default)."""
    values = np.percentile(samples, qs, axis=axis)
    return {q: values[i] for i, q in enumerate(qs)}


def one_at_a_time(tech: str, inputs: TechInputs, assumptions: list[Assumption]) -> list[dict]:
    """Totals over all counties with one assumption at its low and at its high end, the others at default.

    Returns
    -------
    list of dict
        Per assumption of ``tech``: ``name``, ``low``, ``high``, and the total MW and GWh at the default,
        at low and at high (GWh None without energy).
    """
    rows = []
    base_draw = np.array([[a.default for a in assumptions]])
    mw0, gwh0 = tech_draws(tech, inputs, assumptions, base_draw)
    for j, a in enumerate(assumptions):
        if a.tech != tech:
            continue
        row = {"assumption": a.name, "low": a.low, "default": a.default, "high": a.high, "source": a.source,
               "mw_default": float(mw0.sum()), "gwh_default": None if gwh0 is None else float(gwh0.sum())}
        for end in ("low", "high"):
            d = base_draw.copy()
            d[0, j] = getattr(a, end)
            mw, gwh = tech_draws(tech, inputs, assumptions, d)
            row[f"mw_at_{end}"] = float(mw.sum())
            row[f"gwh_at_{end}"] = None if gwh is None else float(gwh.sum())
        rows.append(row)
    return rows
