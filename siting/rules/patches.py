"""Patches of usable land for the minimum-area rules, within a tile and across tiles.

Each tile labels its own 8-connected patches and reports the labels along its four borders with
their areas (:func:`label_patches`); :func:`merge_patch_areas` joins labels that touch across
borders and returns the area of the whole patch each border label belongs to. The result is exactly
that of labelling the whole grid at once. :func:`first_failed_rule` says which minimum-area rule,
if any, drops a patch of a given area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass
class PatchEdges:
    """A tile's patch labels along its borders (0 = not usable) and their areas within the tile."""

    top: np.ndarray
    bottom: np.ndarray
    left: np.ndarray
    right: np.ndarray
    labels: np.ndarray
    area_km2: np.ndarray


EIGHT = np.ones((3, 3), dtype=bool)


def label_patches(usable: np.ndarray, cell_area_km2: float) -> tuple[np.ndarray, np.ndarray, PatchEdges]:
    """8-connected patches of cells with usable share > 0.

    Returns
    -------
    labels : numpy.ndarray of int32
        Patch label per cell, 0 where nothing is usable.
    area_km2 : numpy.ndarray of float64
        Usable area (Σ share × cell area) of each label within the tile; index 0 is unused.
    edges : PatchEdges
    """
    labels, n = ndimage.label(usable > 0, structure=EIGHT)
    labels = labels.astype("int32", copy=False)
    area = np.bincount(labels.reshape(-1), weights=usable.reshape(-1).astype("float64") * cell_area_km2,
                       minlength=n + 1)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    on_edge = np.unique(border[border > 0])
    edges = PatchEdges(top=labels[0].copy(), bottom=labels[-1].copy(), left=labels[:, 0].copy(),
                       right=labels[:, -1].copy(), labels=on_edge, area_km2=area[on_edge])
    return labels, area, edges


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label pairs of two facing border lines that touch (same, previous or next position)."""
    left, right = [], []
    n = min(a.size, b.size)
    for d in (-1, 0, 1):
        ia = np.arange(max(0, -d), min(n, n - d))
        la, lb = a[ia], b[ia + d]
        ok = (la > 0) & (lb > 0)
        left.append(la[ok])
        right.append(lb[ok])
    return np.concatenate(left), np.concatenate(right)


def merge_patch_areas(edges: dict[tuple[int, int], PatchEdges]) -> dict[tuple[int, int], np.ndarray]:
    """Whole-patch area of every border label, joining patches across tile borders.

    Parameters
    ----------
    edges : dict
        (tile row, tile column) → :class:`PatchEdges` of that tile.

    Returns
    -------
    dict
        (tile row, tile column) → area (km²) of the whole patch of each label
        in ``edges[key].labels``.
    """
    keys = sorted(edges)
    offset, n = {}, 0
    for k in keys:
        offset[k] = n
        n += edges[k].labels.size
    if n == 0:
        return {k: np.zeros(0) for k in keys}
    src, dst = [], []

    def connect(ka, la, kb, lb):
        if la.size:
            src.append(offset[ka] + np.searchsorted(edges[ka].labels, la))
            dst.append(offset[kb] + np.searchsorted(edges[kb].labels, lb))

    for (i, j) in keys:
        e = edges[(i, j)]
        if (i, j + 1) in edges:
            la, lb = _pairs(e.right, edges[(i, j + 1)].left)
            connect((i, j), la, (i, j + 1), lb)
        if (i + 1, j) in edges:
            la, lb = _pairs(e.bottom, edges[(i + 1, j)].top)
            connect((i, j), la, (i + 1, j), lb)
        if (i + 1, j + 1) in edges:  # corner: bottom-right cell touches the top-left cell diagonally
            a, b = e.bottom[-1:], edges[(i + 1, j + 1)].top[:1]
            ok = (a > 0) & (b > 0)
            connect((i, j), a[ok], (i + 1, j + 1), b[ok])
        if (i + 1, j - 1) in edges:  # corner: bottom-left cell touches the top-right cell diagonally
            a, b = e.bottom[:1], edges[(i + 1, j - 1)].top[-1:]
            ok = (a > 0) & (b > 0)
            connect((i, j), a[ok], (i + 1, j - 1), b[ok])
    area = np.concatenate([edges[k].area_km2 for k in keys])
    if src:
        s, d = np.concatenate(src), np.concatenate(dst)
        graph = coo_matrix((np.ones(s.size, dtype="int8"), (s, d)), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        total = np.bincount(comp, weights=area)[comp]
    else:
        total = area
    return {k: total[offset[k]:offset[k] + edges[k].labels.size] for k in keys}


def first_failed_rule(area_km2: np.ndarray, thresholds_km2: np.ndarray) -> np.ndarray:
    """Index of the first minimum-area rule a patch fails (its area below the threshold), -1 if none.

    Parameters
    ----------
    area_km2 : numpy.ndarray
        Usable area of each patch, km².
    thresholds_km2 : numpy.ndarray
        Minimum areas of the rules, in rule order, km².

    Returns
    -------
    numpy.ndarray of int16
    """
    area = np.asarray(area_km2, dtype="float64")
    out = np.full(area.shape, -1, dtype="int16")
    for j in range(len(thresholds_km2) - 1, -1, -1):
        out[area < thresholds_km2[j]] = j
    return out
