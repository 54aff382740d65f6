"""Per-county sums of one tile or of the whole run: what the county table is made from.

Every value is a sum over grid cells of (county fraction of the cell) × (a per-cell quantity), so
that tiles add up and a county split over tiles gets the sum of its parts. Areas are in cells;
the county table multiplies by the cell area.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TechSums:
    """One technology's sums per county.

    Attributes
    ----------
    usable : numpy.ndarray
        Σ usable share (cells).
    removed : dict of str to numpy.ndarray
        Step name → Σ share the step removed (cells; negative where a forced inclusion added land).
    energy_mwh_per_mw : numpy.ndarray or None
        Σ usable share × energy per MW of capacity on the cell (MWh/MW/yr): kWh/kWp for PV,
        8,760 h × net capacity factor for wind. None when no energy was computed.
    usable_with_energy : numpy.ndarray or None
        Σ usable share over cells that have an energy figure.
    usable_by_weight : dict of str to numpy.ndarray
        ``weights.<rule>.<class>`` → Σ usable share on the cells of that class (for the classes whose
        partial weight has a range: what a draw of that weight scales). Offshore also
        ``foundation.<name>`` → Σ usable share on the cells of a foundation type, with ``.energy``
        (× MWh per MW) and ``.has`` (where energy is known) (see :func:`foundation_key`).
    """

    usable: np.ndarray
    removed: dict[str, np.ndarray] = field(default_factory=dict)
    energy_mwh_per_mw: np.ndarray | None = None
    usable_with_energy: np.ndarray | None = None
    usable_by_weight: dict[str, np.ndarray] = field(default_factory=dict)


def foundation_key(name: str, what: str = "") -> str:
    """Key of the sums on one foundation type's cells: ``foundation.<name>`` (usable share), with ``what``
    ``energy`` (usable share × MWh per MW) or ``has`` (usable share with an energy figure)."""
    return f"foundation.{name}" + (f".{what}" if what else "")


def economic_key(what: str, *parts) -> str:
    """Key of the economic sums of a technology (with ``[economics]`` and costs): ``econ.classes`` (usable share),
    ``econ.classes.energy`` (× MWh per MW), ``econ.classes.cost`` (× MWh per MW × LCOE), ``econ.classes.grid_km``
    and ``econ.classes.grid_known`` (× distance to the grid, and where it is known), each an array of shape
    (counties, cost classes) (:func:`cost_class`). Usable shares are weighted by each cell's packing density
    relative to the technology's."""
    return ".".join(["econ", what, *(str(p) for p in parts)])


def cost_class(lcoe_bin, pays_mid, pays_low, pays_high):
    """A cell's cost class: its LCOE class (bin) and whether it pays (LCOE ≤ tariff) at the mid, low and high
    costs, as ``bin × 8 + 4 pays_mid + 2 pays_low + pays_high``."""
    return (np.asarray(lcoe_bin, dtype="int64") * 8 + 4 * np.asarray(pays_mid, dtype="int64")
            + 2 * np.asarray(pays_low, dtype="int64") + np.asarray(pays_high, dtype="int64"))


def class_parts(n_classes: int) -> dict[str, np.ndarray]:
    """For the ``n_classes`` cost classes: their LCOE bin and the three parity flags (boolean masks)."""
    c = np.arange(n_classes)
    return {"bin": c // 8, "mid": (c // 4) % 2 == 1, "low": (c // 2) % 2 == 1, "high": c % 2 == 1}


@dataclass
class CountySums:
    """Sums per county (one entry per county index in ``zones`` for a tile, per county for the run).

    Attributes
    ----------
    area : numpy.ndarray
        Σ county fraction (cells).
    layer_total, layer_cells : dict of str to numpy.ndarray
        For layers averaged per county: Σ fraction × value and Σ fraction over cells with a value.
    tech : dict of str to TechSums
    """

    area: np.ndarray
    layer_total: dict[str, np.ndarray] = field(default_factory=dict)
    layer_cells: dict[str, np.ndarray] = field(default_factory=dict)
    tech: dict[str, TechSums] = field(default_factory=dict)

    @classmethod
    def zeros(cls, n: int) -> "CountySums":
        """Empty sums for ``n`` counties, to add tiles into."""
        return cls(area=np.zeros(n, dtype="float64"))

    def add(self, other: "CountySums", index: np.ndarray) -> None:
        """Add a tile's sums (for the counties ``index``) into these run-wide sums, in float64."""
        n = self.area.size

        def acc(target: dict, key: str, values: np.ndarray | None) -> None:
            if values is None:
                return
            if key not in target or target[key] is None:
                target[key] = np.zeros((n,) + np.shape(values)[1:], dtype="float64")  # per class: 2-D
            np.add.at(target[key], index, values)

        np.add.at(self.area, index, other.area)
        for k, v in other.layer_total.items():
            acc(self.layer_total, k, v)
        for k, v in other.layer_cells.items():
            acc(self.layer_cells, k, v)
        for t, ts in other.tech.items():
            mine = self.tech.setdefault(t, TechSums(usable=np.zeros(n, dtype="float64")))
            np.add.at(mine.usable, index, ts.usable)
            for step, v in ts.removed.items():
                acc(mine.removed, step, v)
            for key, v in ts.usable_by_weight.items():
                acc(mine.usable_by_weight, key, v)
            acc(mine.__dict__, "energy_mwh_per_mw", ts.energy_mwh_per_mw)
            acc(mine.__dict__, "usable_with_energy", ts.usable_with_energy)

    def tech_or_empty(self, tech: str) -> TechSums:
        """The sums of a technology; zeros when no tile had region cells for it."""
        return self.tech.get(tech) or TechSums(usable=np.zeros(self.area.size))
