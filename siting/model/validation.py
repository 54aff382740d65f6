"""Does a scenario tell existing plants' land from any land? Lift and ROC AUC against a null model.

A scenario that calls 98 % of a province usable puts 98 % of any set of points on usable land, wind farms
included: "the farms stand on usable land" says nothing until it is compared with what a random point
gets. Each location gets a *score*, the mean usable share of the region cells within a radius (the same
neighbourhood for plants and for every cell), and is *on usable land* when that score is above zero.

- **null share**: the area-weighted share of the region's cells that are on usable land;
- **lift**: the share of plant capacity on usable land divided by the null share (1: no better than
  chance);
- **AUC**: the probability that a plant's score exceeds a random cell's (ties count half), weighted by MW
  and by area (0.5: no better than chance; 1: every plant scores above every cell).

Bootstrap 95 % intervals over the plants say whether lift and AUC differ from chance; a verdict either way
needs both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


def disk(radius_m: float, cell_m: float) -> np.ndarray:
    """Footprint of the cells whose centres lie within ``radius_m`` of a cell centre (the centre included)."""
    k = int(np.ceil(radius_m / cell_m))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1] * cell_m
    out = np.hypot(xx, yy) <= radius_m
    out[k, k] = True
    return out


def neighbourhood_mean(usable: np.ndarray, inside: np.ndarray, radius_m: float, cell_m: float) -> np.ndarray:
    """Mean usable share over the in-region cells within ``radius_m`` of every cell (NaN outside the region)."""
    fp = disk(radius_m, cell_m).astype("float64")
    u = np.where(inside, np.nan_to_num(usable.astype("float64")), 0.0)
    num = ndimage.correlate(u, fp, mode="constant", cval=0.0)
    den = ndimage.correlate(inside.astype("float64"), fp, mode="constant", cval=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inside & (den > 0), num / np.maximum(den, 1e-12), np.nan)


def weighted_auc(point_scores: np.ndarray, point_weights: np.ndarray, cell_scores: np.ndarray,
                 cell_weights: np.ndarray) -> float:
    """P(point score > cell score) + ½ P(equal), weighted by point and cell weights (Mann–Whitney)."""
    order = np.argsort(cell_scores, kind="stable")
    s, w = cell_scores[order], cell_weights[order]
    cum = np.concatenate([[0.0], np.cumsum(w)])
    total = cum[-1]
    below = cum[np.searchsorted(s, point_scores, side="left")]
    upto = cum[np.searchsorted(s, point_scores, side="right")]
    frac = (below + 0.5 * (upto - below)) / total
    return float(np.sum(point_weights * frac) / np.sum(point_weights))


@dataclass
class Discrimination:
    """How well a scenario's usable land tells plants from any land.

    Attributes
    ----------
    share_on_usable, null_share, lift, auc : float
    lift_interval, auc_interval : tuple of float
        Bootstrap 95 % intervals over the plants.
    verdict : str
        ``discriminates`` (both intervals above chance), ``worse than chance`` (both below) or
        ``no discriminating power``.
    """

    share_on_usable: float
    null_share: float
    lift: float
    lift_interval: tuple[float, float]
    auc: float
    auc_interval: tuple[float, float]
    verdict: str


def discrimination(point_scores: np.ndarray, point_mw: np.ndarray, cell_scores: np.ndarray,
                   cell_area: np.ndarray, n_boot: int = 1000, seed: int = 0) -> Discrimination:
    """Lift and AUC of plant locations against all region cells, with bootstrap intervals.

    Parameters
    ----------
    point_scores, point_mw : numpy.ndarray
        Neighbourhood usable share at each plant, and its capacity (the weight).
    cell_scores, cell_area : numpy.ndarray
        The same score for every region cell, and its area in the region (the weight).
    """
    p, w = np.asarray(point_scores, float), np.asarray(point_mw, float)
    c, a = np.asarray(cell_scores, float), np.asarray(cell_area, float)
    null = float(np.sum(a * (c > 0)) / np.sum(a))
    share = float(np.sum(w * (p > 0)) / np.sum(w))
    lift = share / null if null > 0 else float("nan")
    auc = weighted_auc(p, w, c, a)
    rng = np.random.default_rng(seed)
    lifts, aucs = np.empty(n_boot), np.empty(n_boot)
    for b in range(n_boot):
        i = rng.integers(0, p.size, p.size)
        lifts[b] = (np.sum(w[i] * (p[i] > 0)) / np.sum(w[i])) / null if null > 0 else np.nan
        aucs[b] = weighted_auc(p[i], w[i], c, a)
    li = (float(np.nanpercentile(lifts, 2.5)), float(np.nanpercentile(lifts, 97.5)))
    ai = (float(np.percentile(aucs, 2.5)), float(np.percentile(aucs, 97.5)))
    if li[1] < 1.0 and ai[1] < 0.5:
        verdict = "worse than chance"
    elif li[0] > 1.0 and ai[0] > 0.5:
        verdict = "discriminates"
    else:
        verdict = "no discriminating power"
    return Discrimination(share, null, lift, li, auc, ai, verdict)
