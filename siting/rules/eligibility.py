"""Eligibility: turn layers into the usable share (0..1) of each cell, rule by rule.

The rules of a technology are applied in order (minimum-area rules and then
forced inclusions last, wherever they are written). Each one multiplies the
usable share by a factor 0..1 (classes, range, buffer), drops small patches
(min_area) or raises the share where a condition holds (force_include). The
share a rule removes from each cell is handed to a ``record`` callback, so the
caller can sum it per county (the exclusion waterfall) without keeping every
step in memory.

All functions are pure numpy; the only inputs are arrays on the grid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from siting.rules.scenario import BufferRule, ClassesRule, FactorRule, ForceIncludeRule, MinAreaRule, RangeRule, TechSpec


@dataclass(frozen=True)
class LayerArray:
    """The data of one layer on the grid and where it has none."""

    data: np.ndarray
    nodata: np.ndarray


def class_weights(rule: ClassesRule, n_classes: int = 65536) -> np.ndarray:
    """Look-up table class → factor (float32) for a classes rule."""
    lut = np.ones(n_classes, dtype="float32")
    if rule.include is not None:
        lut[:] = 0.0
        lut[np.asarray(rule.include, dtype="int64")] = 1.0
    for cls, w in rule.weights.items():
        lut[cls] = w
    if rule.exclude:
        lut[np.asarray(rule.exclude, dtype="int64")] = 0.0
    return lut


def classes_factor(rule: ClassesRule, data: np.ndarray) -> np.ndarray:
    """Factor per cell of a classes rule on an integer class array."""
    lut = class_weights(rule, int(max(int(data.max(initial=0)) + 1, 1 + max(
        [*rule.exclude, *(rule.include or []), *rule.weights.keys(), 0]))))
    return lut[data]


def range_factor(data: np.ndarray, vmin: float | None, vmax: float | None) -> np.ndarray:
    """1 where ``vmin <= data <= vmax`` (either bound optional), else 0; NaN gives 0."""
    ok = np.isfinite(data)
    if vmin is not None:
        ok &= data >= vmin
    if vmax is not None:
        ok &= data <= vmax
    return ok.astype("float32")


def condition_mask(data: np.ndarray, classes: list[int] | None, vmin: float | None, vmax: float | None) -> np.ndarray:
    """Cells that match a class list and/or a value range."""
    if classes is not None:
        mask = np.isin(data, np.asarray(classes))
        if vmin is not None or vmax is not None:
            mask &= range_factor(data.astype("float64"), vmin, vmax).astype(bool)
        return mask
    return range_factor(data.astype("float64"), vmin, vmax).astype(bool)


def buffer_factor(features: np.ndarray, distance_m: float, resolution_m: float) -> np.ndarray:
    """0 within ``distance_m`` of any feature cell (centre to centre, Euclidean), else 1.

    Uses a Euclidean distance transform in metres; feature cells themselves are 0.
    The transform runs only over the features' bounding box grown by the
    distance: no cell outside it can be within reach.
    """
    out = np.ones(features.shape, dtype="float32")
    rows = np.flatnonzero(features.any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero(features.any(axis=0))
    reach = int(np.ceil(distance_m / resolution_m)) + 1
    r0, r1 = max(0, rows[0] - reach), min(features.shape[0], rows[-1] + reach + 1)
    c0, c1 = max(0, cols[0] - reach), min(features.shape[1], cols[-1] + reach + 1)
    dist = ndimage.distance_transform_edt(~features[r0:r1, c0:c1], sampling=(resolution_m, resolution_m))
    out[r0:r1, c0:c1] = dist > distance_m
    return out


def min_area_keep(usable: np.ndarray, cell_area_km2: float, min_area_km2: float) -> np.ndarray:
    """Boolean mask of cells in 8-connected patches whose usable area ≥ ``min_area_km2``.

    The usable area of a patch is Σ usable share × cell area over its cells.
    """
    labels, n = ndimage.label(usable > 0, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return np.zeros(usable.shape, dtype=bool)
    area = np.bincount(labels.reshape(-1), weights=usable.reshape(-1).astype("float64") * cell_area_km2)
    keep = area >= min_area_km2
    keep[0] = False
    return keep[labels]


Record = Callable[[str, np.ndarray], None]


def rule_layers(tech: TechSpec, available: Mapping[str, object]) -> list[str]:
    """Names of the layers the tech's applicable rules read, in first-use order."""
    out: list[str] = []
    for rule in tech.rules.values():
        layer = getattr(rule, "layer", None)
        if layer is not None and layer in available and layer not in out:
            out.append(layer)
    return out


def skipped_rules(tech: TechSpec, available: Mapping[str, object]) -> list[tuple[str, str]]:
    """(rule name, missing layer) for optional rules whose layer is not available."""
    return [(name, rule.layer) for name, rule in tech.rules.items()
            if getattr(rule, "layer", None) is not None and rule.layer not in available]


def tail_rules(tech: TechSpec) -> list[tuple[str, MinAreaRule | ForceIncludeRule]]:
    """The rules applied after all others, in order: minimum-area rules, then forced inclusions."""
    rank = {MinAreaRule: 1, ForceIncludeRule: 2}
    return sorted(((n, r) for n, r in tech.rules.items() if type(r) in rank), key=lambda item: rank[type(item[1])])


def evaluate(tech: TechSpec, layers: Mapping[str, LayerArray], in_region: np.ndarray, resolution_m: float,
             record: Record | None = None, tail: bool = True) -> np.ndarray:
    """Usable share (0..1, float32) of each cell for one technology.

    Parameters
    ----------
    tech : TechSpec
        Its rules, in order.
    layers : mapping of str to LayerArray
        The layers on the grid. Rules whose layer is missing are skipped (the
        scenario has already checked that such rules are optional).
    in_region : numpy.ndarray of bool
        Cells with any part inside the region; the share is 0 elsewhere.
    resolution_m : float
        Cell size (m), for buffers and patch areas.
    record : callable, optional
        Called as ``record(step_name, removed)`` for every step, where
        ``removed`` is the share of each cell the step removed (negative where
        a force_include rule added area back). Step names are the rule names,
        preceded by ``nodata:<layer>`` steps for layers with missing data.
    tail : bool, default True
        Apply the minimum-area and force-include rules (:func:`tail_rules`).
        The tiled engine passes False and applies them itself, because a patch
        can span several tiles.

    Returns
    -------
    numpy.ndarray
        float32 usable share per cell.
    """
    cell_area_km2 = (resolution_m / 1000.0) ** 2
    usable = in_region.astype("float32")

    def step(name: str, new: np.ndarray) -> None:
        nonlocal usable
        new = np.where(in_region, new, 0.0).astype("float32")
        if record is not None:
            record(name, usable - new)
        usable = new

    # 1. Cells without data in a layer that a rule needs are not usable (unless the rule says "pass").
    for layer in rule_layers(tech, layers):
        policies = {r.on_nodata for r in tech.rules.values() if getattr(r, "layer", None) == layer}
        if "exclude" in policies:
            step(f"nodata:{layer}", np.where(layers[layer].nodata, 0.0, usable))

    # 2. The rules, in order; minimum-area rules then forced inclusions come last, whatever their position,
    #    so that a scenario extending a preset can add exclusions after the preset's min_area rule.
    rank = {MinAreaRule: 1, ForceIncludeRule: 2}
    ordered = sorted(tech.rules.items(), key=lambda item: rank.get(type(item[1]), 0))
    for name, rule in ordered:
        if not tail and isinstance(rule, (MinAreaRule, ForceIncludeRule)):
            break
        if isinstance(rule, MinAreaRule):
            keep = min_area_keep(usable, cell_area_km2, rule.min_area_km2)
            step(name, np.where(keep, usable, 0.0))
            continue
        if rule.layer not in layers:
            continue
        lay = layers[rule.layer]
        if isinstance(rule, ClassesRule):
            factor = classes_factor(rule, np.where(lay.nodata, 0, lay.data))
        elif isinstance(rule, RangeRule):
            factor = range_factor(lay.data, rule.min, rule.max)
        elif isinstance(rule, FactorRule):
            factor = np.clip(np.nan_to_num(lay.data.astype("float32"), nan=0.0), 0.0, 1.0)
        elif isinstance(rule, BufferRule):
            feats = condition_mask(lay.data, rule.classes, rule.min, rule.max) & ~lay.nodata
            factor = buffer_factor(feats, rule.distance_m, resolution_m)
        elif isinstance(rule, ForceIncludeRule):
            forced = condition_mask(lay.data, rule.classes, rule.min, rule.max) & ~lay.nodata
            step(name, np.where(forced, np.maximum(usable, rule.weight), usable))
            continue
        else:  # pragma: no cover - the scenario model admits no other type
            raise TypeError(type(rule))
        if rule.on_nodata == "pass":
            factor = np.where(lay.nodata, 1.0, factor)
        step(name, usable * factor)
    return usable
