"""Lift and AUC: points on random cells show no discriminating power; points on the best cells do."""

from __future__ import annotations

import numpy as np
import pytest

from siting.model.validation import discrimination, disk, neighbourhood_mean, weighted_auc


def _landscape(seed=0):
    rng = np.random.default_rng(seed)
    usable = (rng.random((120, 120)) > 0.55).astype("float32") * rng.random((120, 120)).astype("float32")
    inside = np.ones_like(usable, dtype=bool)
    inside[:10] = False
    score = neighbourhood_mean(usable, inside, 1000.0, 1000.0)
    return score, inside


def test_points_on_random_cells_have_no_discriminating_power():
    score, inside = _landscape()
    cells = score[inside]
    rng = np.random.default_rng(1)
    pick = rng.integers(0, cells.size, 300)
    d = discrimination(cells[pick], np.full(300, 50.0), cells, np.ones(cells.size), n_boot=300)
    assert d.lift == pytest.approx(1.0, abs=0.1) and d.auc == pytest.approx(0.5, abs=0.06)
    assert d.verdict == "no discriminating power"


def test_points_on_the_best_cells_discriminate():
    score, inside = _landscape()
    cells = score[inside]
    best = np.sort(cells)[-300:]
    d = discrimination(best, np.full(300, 50.0), cells, np.ones(cells.size), n_boot=300)
    assert d.auc > 0.95 and d.verdict == "discriminates"


def test_points_on_the_worst_cells_are_worse_than_chance():
    score, inside = _landscape()
    cells = score[inside]
    worst = np.sort(cells)[:300]
    d = discrimination(worst, np.full(300, 50.0), cells, np.ones(cells.size), n_boot=300)
    assert d.auc < 0.1 and d.verdict == "worse than chance"


def test_auc_counts_ties_half_and_weights():
    assert weighted_auc(np.array([1.0]), np.array([1.0]), np.array([0.0, 1.0, 2.0]), np.ones(3)) == pytest.approx(0.5)
    assert weighted_auc(np.array([5.0]), np.array([1.0]), np.array([0.0, 1.0]), np.array([3.0, 1.0])) == 1.0


def test_neighbourhood_mean_matches_a_direct_average():
    score, inside = _landscape(3)
    fp = disk(1500.0, 1000.0)
    assert fp.sum() == 9  # centres within 1.5 km: the 3 x 3 block
    rng = np.random.default_rng(2)
    usable = rng.random((20, 20))
    ins = np.ones((20, 20), bool)
    m = neighbourhood_mean(usable, ins, 1000.0, 1000.0)
    assert m[5, 5] == pytest.approx(np.mean([usable[5, 5], usable[4, 5], usable[6, 5], usable[5, 4], usable[5, 6]]))
