"""A multiplicative bias correction of modelled PV yield (or irradiance) fitted to reference values.

Given pairs (model value, reference value) at the same places, e.g. the tool's specific yield and Global
Solar Atlas PVOUT at a set of points, the correction is the geometric mean of the ratios reference / model
(robust to a few outliers in either direction, and symmetric: a factor and its inverse are equally likely).
Its uncertainty is a bootstrap interval over the pairs; the spread of the ratios themselves (how much the
correction varies from place to place) is reported beside it. Pure NumPy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class Calibration:
    """A fitted correction factor.

    Attributes
    ----------
    factor : float
        Multiply the model's values by this.
    low, high : float
        Bootstrap 5–95 % interval of the factor.
    ratio_p10, ratio_p90 : float
        10th and 90th percentile of the individual ratios (place-to-place variation).
    n : int
        Pairs used.
    error_before_pct, error_after_pct : float
        Mean absolute difference to the reference, in % of the reference, before and after the correction.
    """

    factor: float
    low: float
    high: float
    ratio_p10: float
    ratio_p90: float
    n: int
    error_before_pct: float
    error_after_pct: float

    def to_dict(self) -> dict:
        return asdict(self)


def fit_factor(model: np.ndarray, reference: np.ndarray, n_boot: int = 1000, seed: int = 0) -> Calibration:
    """Fit ``reference ≈ factor × model`` (geometric mean of the ratios) with a bootstrap interval.

    Pairs where either value is missing or not positive are left out.

    Raises
    ------
    ValueError
        With fewer than 3 usable pairs.
    """
    m, r = np.asarray(model, float), np.asarray(reference, float)
    ok = np.isfinite(m) & np.isfinite(r) & (m > 0) & (r > 0)
    m, r = m[ok], r[ok]
    if m.size < 3:
        raise ValueError(f"only {m.size} usable pairs of model and reference values (need at least 3)")
    logs = np.log(r / m)
    factor = float(np.exp(logs.mean()))
    rng = np.random.default_rng(seed)
    boots = np.exp(np.array([logs[rng.integers(0, logs.size, logs.size)].mean() for _ in range(n_boot)]))
    before = float(np.mean(np.abs(m - r) / r) * 100)
    after = float(np.mean(np.abs(m * factor - r) / r) * 100)
    return Calibration(factor=factor, low=float(np.percentile(boots, 5)), high=float(np.percentile(boots, 95)),
                       ratio_p10=float(np.exp(np.percentile(logs, 10))), ratio_p90=float(np.exp(np.percentile(logs, 90))),
                       n=int(m.size), error_before_pct=before, error_after_pct=after)
