"""Eligibility: turn layers into the usable share (0..1) of each cell, rule by rule.

The rules of a technology are applied in order (minimum-area rules and then
forced inclusions last, wherever they are written): :func:`cell_rules` applies
the rules that judge each cell by itself (classes, ranges, factors, buffers),
:func:`apply_tail_rules` the minimum-area rules and forced inclusions, and
:func:`usable_share` both on one whole grid. The tiled engine calls the first
two per tile; a patch that reaches a tile border is decided once the tiles are
joined (:mod:`siting.rules.patches`). Each one multiplies the
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
from functools import cached_property

import numpy as np
from scipy import ndimage

from siting.rules.patches import PatchEdges, first_failed_rule, label_patches
from siting.rules.scenario import BufferRule, ClassesRule, FactorRule, ForceIncludeRule, MinAreaRule, RangeRule, TechSpec


@dataclass(frozen=True)
class LayerArray:
    """The data of one layer on the grid and where it has none."""

    data: np.ndarray
    nodata: np.ndarray

    @cached_property
    def has_nodata(self) -> bool:
        """Whether any cell lacks data."""
        return bool(self.nodata.any())

    @cached_property
    def class_codes(self) -> np.ndarray:
        """The classes as array indices (``numpy.intp``), 0 where there is no data: one conversion for every
        classes rule that reads the layer (an index array of another integer type is converted on each use)."""
        codes = self.data.astype(np.intp)
        if self.has_nodata:
            codes[self.nodata] = 0
        return codes


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
    """Factor per cell of a classes rule on an array of non-negative integer classes."""
    lut = class_weights(rule, int(max(int(data.max(initial=0)) + 1, 1 + max(
        [*rule.exclude, *(rule.include or []), *rule.weights.keys(), 0]))))
    return np.take(lut, data)


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


# Up to this reach (cells) a buffer is a dilation by the disk of cell offsets within the distance, in about 4 x
# reach passes over the box; beyond it one Euclidean distance transform is quicker (measured:
# benchmarks/README.md, "Buffers"). Both give the same cells (tests/test_eligibility.py).
DISK_MAX_REACH_CELLS = 24


def disk_half_widths(distance_m: float, resolution_m: float) -> np.ndarray:
    """For each row offset ``dr = 0, 1, ...`` (cells), the largest column offset ``dc`` whose cell centre is within
    ``distance_m`` of the centre of cell (0, 0), i.e. ``sqrt((dr*res)**2 + (dc*res)**2) <= distance_m`` evaluated in
    float64 exactly as :func:`scipy.ndimage.distance_transform_edt` evaluates it; rows beyond reach are left out.
    """
    reach = int(np.ceil(distance_m / resolution_m)) + 1
    off = np.arange(reach + 1, dtype="float64") * resolution_m
    within = np.sqrt(off[:, None] * off[:, None] + off[None, :] * off[None, :]) <= distance_m
    rows = within[:, 0]
    return within[rows].sum(axis=1) - 1


def _disk_dilation(features: np.ndarray, half_widths: np.ndarray) -> np.ndarray:
    """Cells within the disk (``half_widths`` per row offset, see :func:`disk_half_widths`) of a feature cell."""
    n_rows = features.shape[0]
    out = np.zeros_like(features)
    wide = features.copy()  # features dilated along the rows by the current half width
    by_width = {}
    for dr, w in enumerate(half_widths.tolist()):
        by_width.setdefault(w, []).append(dr)
    for w in range(int(half_widths.max(initial=0)) + 1):
        if w:
            wide[:, w:] |= features[:, :-w]
            wide[:, :-w] |= features[:, w:]
        for dr in by_width.get(w, ()):
            if dr >= n_rows:
                continue
            if dr == 0:
                out |= wide
            else:
                out[dr:] |= wide[:n_rows - dr]
                out[:n_rows - dr] |= wide[dr:]
    return out


def buffer_factor(features: np.ndarray, distance_m: float, resolution_m: float) -> np.ndarray:
    """0 within ``distance_m`` of any feature cell (centre to centre, Euclidean), else 1.

    Feature cells themselves are 0. Only the features' bounding box grown by the distance is looked at: no cell
    outside it can be within reach. Short buffers are a dilation by the disk of cell offsets within the distance
    (:func:`disk_half_widths`), longer ones a Euclidean distance transform in metres; the two mark the same cells.
    """
    out = np.ones(features.shape, dtype="float32")
    rows = np.flatnonzero(features.any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero(features.any(axis=0))
    reach = int(np.ceil(distance_m / resolution_m)) + 1
    r0, r1 = max(0, rows[0] - reach), min(features.shape[0], rows[-1] + reach + 1)
    c0, c1 = max(0, cols[0] - reach), min(features.shape[1], cols[-1] + reach + 1)
    box = features[r0:r1, c0:c1]
    if reach <= DISK_MAX_REACH_CELLS:
        out[r0:r1, c0:c1] = ~_disk_dilation(box, disk_half_widths(distance_m, resolution_m))
    else:
        dist = ndimage.distance_transform_edt(~box, sampling=(resolution_m, resolution_m))
        out[r0:r1, c0:c1] = dist > distance_m
    return out


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


def cell_rules(tech: TechSpec, layers: Mapping[str, LayerArray], in_region: np.ndarray, resolution_m: float,
               record: Record | None = None) -> np.ndarray:
    """Usable share (0..1, float32) of each cell after the rules that judge a cell by itself and its
    neighbourhood (classes, ranges, factors, buffers): every rule but the tail rules (:func:`tail_rules`).

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

    Returns
    -------
    numpy.ndarray
        float32 usable share per cell.
    """
    # Every factor lies in 0..1 (the scenario checks class weights; ranges and buffers give 0 or 1, factor
    # layers are clipped), so the share stays 0 outside the region without masking each step again.
    usable = in_region.astype("float32")
    nothing = np.zeros(in_region.shape, dtype="float32")  # what a step that removes nothing records

    def step(name: str, new: np.ndarray | None) -> None:
        """``new``: the share after the step; None where the step removes nothing."""
        nonlocal usable
        if new is None:
            if record is not None:
                record(name, nothing)
            return
        new = new.astype("float32", copy=False)
        if record is not None:
            record(name, usable - new)
        usable = new

    # 1. Cells without data in a layer that a rule needs are not usable (unless the rule says "pass").
    for layer in rule_layers(tech, layers):
        policies = {r.on_nodata for r in tech.rules.values() if getattr(r, "layer", None) == layer}
        if "exclude" in policies:
            lay = layers[layer]
            step(f"nodata:{layer}", np.where(lay.nodata, 0.0, usable) if lay.has_nodata else None)

    # 2. The rules, in order; minimum-area rules and forced inclusions come after them whatever their position
    #    (apply_tail_rules), so that a scenario extending a preset can add exclusions after its min_area rule.
    for name, rule in tech.rules.items():
        if isinstance(rule, (MinAreaRule, ForceIncludeRule)):
            continue
        if rule.layer not in layers:
            continue
        lay = layers[rule.layer]
        if isinstance(rule, ClassesRule):
            factor = classes_factor(rule, lay.class_codes)
        elif isinstance(rule, RangeRule):
            factor = range_factor(lay.data, rule.min, rule.max)
        elif isinstance(rule, FactorRule):
            factor = np.clip(np.nan_to_num(lay.data.astype("float32"), nan=0.0), 0.0, 1.0)
        elif isinstance(rule, BufferRule):
            feats = condition_mask(lay.data, rule.classes, rule.min, rule.max) & ~lay.nodata
            factor = buffer_factor(feats, rule.distance_m, resolution_m)
        else:  # pragma: no cover - the scenario model admits no other type
            raise TypeError(type(rule))
        if rule.on_nodata == "pass" and lay.has_nodata:
            factor = np.where(lay.nodata, 1.0, factor)
        step(name, usable * factor)
    return usable


@dataclass
class TailOutcome:
    """The minimum-area rules and forced inclusions applied to a tile (or a whole grid).

    A patch that touches the tile border and is smaller than the largest minimum area can only be
    judged once the tiles are joined: its cells are *undecided*, and both outcomes are carried
    (``keep_usable`` / ``drop_usable`` and the forced inclusions after each).

    Attributes
    ----------
    final : numpy.ndarray
        Usable share after every rule; 0 on undecided cells.
    cell_rule : numpy.ndarray of int16
        Per cell: index of the minimum-area rule that dropped its patch, -1 kept, -2 undecided.
    keep_usable, drop_usable : numpy.ndarray
        Usable share if the cell's patch is kept, or dropped, after the forced inclusions.
    keep_forced, drop_forced : list of numpy.ndarray
        Per forced-inclusion rule, the share it removed (negative: added) in either outcome.
    pre : numpy.ndarray
        Usable share before the tail rules.
    labels : numpy.ndarray or None
        Patch label per cell (None without minimum-area rules).
    edges : PatchEdges or None
        The labels on the tile's borders, for joining tiles.
    min_area : list of (str, MinAreaRule)
    forced : list of str
        Names of the forced-inclusion rules whose layer exists, in order.
    """

    final: np.ndarray
    cell_rule: np.ndarray
    keep_usable: np.ndarray
    drop_usable: np.ndarray
    keep_forced: list[np.ndarray]
    drop_forced: list[np.ndarray]
    pre: np.ndarray
    labels: np.ndarray | None
    edges: PatchEdges | None
    min_area: list
    forced: list[str]

    @property
    def decided(self) -> np.ndarray:
        return self.cell_rule != -2

    @property
    def kept(self) -> np.ndarray:
        return self.cell_rule == -1

    def removed_by_min_area(self, j: int) -> np.ndarray:
        """Share of each decided cell that minimum-area rule ``j`` removed."""
        return np.where(self.cell_rule == j, self.pre, 0.0)

    def removed_by_forced(self, k: int) -> np.ndarray:
        """Share of each decided cell that forced-inclusion rule ``k`` removed (negative: added)."""
        return np.where(self.decided, np.where(self.kept, self.keep_forced[k], self.drop_forced[k]), 0.0)


def apply_tail_rules(tech: TechSpec, layers: Mapping[str, LayerArray], pre: np.ndarray, in_region: np.ndarray,
                     cell_area_km2: float, inner=(slice(None), slice(None)), whole_grid: bool = False) -> TailOutcome:
    """Minimum-area rules, then forced inclusions, on the usable share after :func:`cell_rules`.

    Parameters
    ----------
    tech : TechSpec
    layers : mapping of str to LayerArray
        The layers, possibly with a halo around the tile; ``inner`` selects the tile.
    pre : numpy.ndarray
        Usable share of the tile's cells after :func:`cell_rules`.
    in_region : numpy.ndarray of bool
        The tile's cells with any part in the region.
    cell_area_km2 : float
    inner : tuple of slice
        The tile within the layers' arrays.
    whole_grid : bool, default False
        The tile is the whole grid: patches on its border are complete, so every cell is decided.

    Returns
    -------
    TailOutcome
    """
    tails = tail_rules(tech)
    min_rules = [(n, r) for n, r in tails if isinstance(r, MinAreaRule)]
    forced = []
    for name, rule in tails:
        if isinstance(rule, ForceIncludeRule) and rule.layer in layers:
            lay = layers[rule.layer]
            mask = (condition_mask(lay.data, rule.classes, rule.min, rule.max) & ~lay.nodata)[inner] & in_region
            forced.append((name, rule, mask))

    def after_force(u: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        deltas = []
        for _, rule, mask in forced:
            new = np.where(mask, np.maximum(u, rule.weight), u).astype("float32")
            deltas.append(u - new)
            u = new
        return u, deltas

    keep_u, keep_d = after_force(pre)
    drop_u, drop_d = after_force(np.zeros_like(pre))
    labels = edges = None
    if min_rules:
        labels, area, edges = label_patches(pre, cell_area_km2)
        thresholds = np.array([r.min_area_km2 for _, r in min_rules])
        drop_rule = first_failed_rule(area, thresholds)  # per label
        drop_rule[0] = -1
        if not whole_grid:
            on_edge = edges.labels
            drop_rule[on_edge[area[on_edge] < thresholds.max()]] = -2
        cell_rule = drop_rule[labels]
    else:
        cell_rule = np.full(pre.shape, -1, dtype="int16")
    final = np.where(cell_rule != -2, np.where(cell_rule == -1, keep_u, drop_u), 0.0).astype("float32")
    return TailOutcome(final=final, cell_rule=cell_rule, keep_usable=keep_u, drop_usable=drop_u, keep_forced=keep_d,
                       drop_forced=drop_d, pre=pre, labels=labels, edges=edges, min_area=min_rules,
                       forced=[n for n, _, _ in forced])


def usable_share(tech: TechSpec, layers: Mapping[str, LayerArray], in_region: np.ndarray, resolution_m: float,
                 record: Record | None = None) -> np.ndarray:
    """Usable share (0..1, float32) of each cell of one whole grid after every rule of a technology.

    The same functions as the tiled engine (:func:`cell_rules`, :func:`apply_tail_rules`) on a single
    tile that is the whole grid. ``record(step, removed)`` is called for every step, as in
    :func:`cell_rules`, then for each minimum-area rule and forced inclusion.
    """
    pre = cell_rules(tech, layers, in_region, resolution_m, record)
    out = apply_tail_rules(tech, layers, pre, in_region, (resolution_m / 1000.0) ** 2, whole_grid=True)
    if record is not None:
        for j, (name, _) in enumerate(out.min_area):
            record(name, out.removed_by_min_area(j))
        for k, name in enumerate(out.forced):
            record(name, out.removed_by_forced(k))
    return out.final


def used_by_step(after) -> str:
    """Waterfall step of the land a technology leaves to those whose land comes first, e.g. ``used_by_pv``."""
    return "used_by_" + "_and_".join(after)
