"""Distribute a provincial capacity target among counties, and the supply curve behind it.

Each county offers one *block* per technology: its achievable capacity (MW)
and, where known, its annual energy yield per MW (MWh/MW/yr, i.e. kWh/kW).

- ``merit``: blocks are taken best yield first until the target is reached
  (the last block partly). Blocks without a yield (e.g. wind when no wind
  resource layer was given) cannot be ranked; they are left out and the
  result says so.
- ``cost``: the supply curve's blocks (per county, technology and LCOE class, with ``[economics]`` and costs:
  :attr:`siting.Assessment.supply`) are taken cheapest first; a county never receives more than its
  achievable capacity (economic potential, capped by the grid's hosting capacity where given). PV and wind
  compete on LCOE where both have a yield.
- ``proportional``: every block gets the same share of its capacity,
  target / total achievable (all of it if the target exceeds the total).

In both, no county ever receives more than its achievable capacity, and the
allocations add up to the target, or to the total achievable capacity when
that is smaller (the shortfall is reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.io.atomic import write_folder

METHODS = ("merit", "cost", "proportional")


@dataclass
class Allocation:
    """Result of :func:`allocate`.

    Attributes
    ----------
    target_mw : float
    method : str
    blocks : DataFrame
        One row per county and technology: adcode, name_zh, tech,
        capacity_mw, yield_mwh_per_mw, allocated_mw, in merit order for
        ``merit`` (``rank``) with cumulative_mw.
    counties : DataFrame
        Allocated MW per county and technology (wide).
    allocated_mw, shortfall_mw : float
    notes : list of str
    curve : DataFrame or None
        The supply curve of every block with a yield (:func:`supply_curve`).
    source : dict or None
        The document whose target is distributed (document, value, qualifier, quote), for a plan's target.
    target_total_mw, existing_mw : float or None
        For a plan's target: the target itself, and the capacity that already exists (subtracted: what is
        distributed is ``target_mw = target_total_mw - existing_mw``).
    existing_vintage : str or None
        The date and source of each existing figure.
    sources : list of dict
        Every document that states this target (they may differ).
    """

    target_mw: float
    method: str
    blocks: pd.DataFrame
    counties: pd.DataFrame
    allocated_mw: float
    shortfall_mw: float
    notes: list[str] = field(default_factory=list)
    curve: pd.DataFrame | None = None
    source: dict | None = None
    target_total_mw: float | None = None
    existing_mw: float | None = None
    existing_vintage: str | None = None
    sources: list[dict] = field(default_factory=list)
    # draws the supply curve: plot(allocation, path, title); None: yield against cumulative GW
    plot: object = None

    def save(self, out_dir, title: str = "") -> list:
        """Write ``allocation.csv`` and ``allocation.xlsx``, ``supply_curve.csv`` and the supply curve as PNG and
        SVG into ``out_dir``.

        All files or none (see :func:`siting.io.atomic.write_folder`). Returns the paths written.
        """
        curve = self.curve if self.curve is not None else pd.DataFrame(
            columns=["tech", "capacity_mw", "yield_mwh_per_mw"])

        def figure(p):
            if self.plot is not None:
                self.plot(self, p, title)
            else:
                plot_supply_curve(curve, self.target_mw, p, title=title)

        def workbook(p):
            with pd.ExcelWriter(p, engine="openpyxl") as xl:
                self.counties.to_excel(xl, sheet_name="allocation", index=False)
                curve.to_excel(xl, sheet_name="supply_curve", index=False)
                pd.DataFrame({"note": self.notes or [""]}).to_excel(xl, sheet_name="notes", index=False)

        return write_folder(out_dir, {
            "allocation.csv": lambda p: self.counties.to_csv(p, index=False),
            "allocation.xlsx": workbook,
            "supply_curve.csv": lambda p: curve.to_csv(p, index=False),
            "supply_curve.png": figure,
            "supply_curve.svg": figure,
        })


def supply_blocks(counties: pd.DataFrame, techs=("pv", "wind")) -> pd.DataFrame:
    """Capacity and yield blocks per county and technology from a county table.

    PV capacity (every PV mode) is MWp and its yield the specific yield (kWh/kWp = MWh/MWp);
    wind yield is capacity factor × 8,760 h where a wind resource was given.
    """
    from siting.columns import capacity_column, pv_columns

    rows = []
    for tech in techs:
        cap_col = capacity_column(tech)
        if cap_col not in counties:
            continue
        if tech != "wind":
            yld = counties.get(pv_columns(tech)["yield"], pd.Series(np.nan, index=counties.index))
        else:
            yld = counties.get("capacity_factor_wind", pd.Series(np.nan, index=counties.index)) * 8760.0
        rows.append(pd.DataFrame({"adcode": counties["adcode"].to_numpy(), "name_zh": counties["name_zh"].to_numpy(),
                                  "tech": tech, "capacity_mw": counties[cap_col].to_numpy(dtype="float64"),
                                  "yield_mwh_per_mw": np.asarray(yld, dtype="float64")}))
    if not rows:
        raise SitingError("allocation needs capacity columns: assess pv and/or wind first")
    blocks = pd.concat(rows, ignore_index=True)
    return blocks[blocks.capacity_mw > 1e-9].reset_index(drop=True)  # ignore sub-watt dust


def supply_curve(blocks: pd.DataFrame) -> pd.DataFrame:
    """Blocks with a yield, best first, with cumulative capacity (MW) and energy (GWh/yr)."""
    ranked = blocks[np.isfinite(blocks.yield_mwh_per_mw)].sort_values(
        ["yield_mwh_per_mw", "capacity_mw"], ascending=[False, False], kind="mergesort").reset_index(drop=True)
    ranked["cumulative_mw"] = ranked.capacity_mw.cumsum()
    ranked["cumulative_energy_gwh"] = (ranked.capacity_mw * ranked.yield_mwh_per_mw).cumsum() / 1000.0
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    return ranked


def cost_curve(supply: pd.DataFrame) -> pd.DataFrame:
    """The supply blocks cheapest first with cumulative capacity (MW) and energy (GWh/yr): a supply curve that
    never falls (LCOE is non-decreasing along it)."""
    supply = supply.astype({"lcoe_cny_per_kwh": "float64", "capacity_mw": "float64", "energy_gwh": "float64"})
    ranked = supply[np.isfinite(supply.lcoe_cny_per_kwh) & (supply.capacity_mw > 0)].sort_values(
        ["lcoe_cny_per_kwh", "capacity_mw", "adcode", "tech"], ascending=[True, False, True, True],
        kind="mergesort").reset_index(drop=True)
    ranked["cumulative_mw"] = ranked.capacity_mw.cumsum()
    ranked["cumulative_energy_gwh"] = ranked.energy_gwh.cumsum()
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    return ranked


def allocate_by_cost(counties: pd.DataFrame, supply: pd.DataFrame, target_mw: float) -> Allocation:
    """Distribute ``target_mw`` cheapest block first, no county above its achievable capacity.

    Parameters
    ----------
    counties : DataFrame
        The county table with ``economic_achievable_mw`` (economic potential, capped by hosting capacity).
    supply : DataFrame
        :attr:`siting.Assessment.supply`.
    target_mw : float

    Returns
    -------
    Allocation
    """
    if supply is None or "economic_achievable_mw" not in counties:
        raise SitingError("--method cost needs LCOE per block: a scenario with [economics] and costs (the china "
                          "preset has them) and a yield for PV or a wind resource layer")
    curve = cost_curve(supply)
    room = dict(zip(counties["adcode"].astype(str), counties["economic_achievable_mw"].fillna(0.0).to_numpy(float)))
    tariff = dict(zip(counties["adcode"].astype(str), counties.get("tariff_cny_per_kwh", pd.Series(
        np.nan, index=counties.index)).to_numpy(float)))
    left = float(target_mw)
    alloc = np.zeros(len(curve))
    for i, (code, cap) in enumerate(zip(curve["adcode"].astype(str), curve["capacity_mw"].to_numpy(float))):
        if left <= 0:
            break
        take = max(0.0, min(cap, room.get(code, 0.0), left))
        alloc[i] = take
        room[code] = room.get(code, 0.0) - take
        left -= take
    curve["allocated_mw"] = alloc
    curve["tariff_cny_per_kwh"] = curve["adcode"].astype(str).map(tariff)
    notes = []
    allocated = float(alloc.sum())
    shortfall = max(0.0, float(target_mw) - allocated)
    if shortfall > 1e-6:
        notes.append(f"the achievable capacity ({allocated:,.0f} MW: economic potential, capped by hosting capacity "
                     f"where given) falls short of the target by {shortfall:,.0f} MW")
    if len(curve) and alloc.any():
        last = curve[alloc > 0].iloc[-1]
        notes.append(f"the last block taken costs {last.lcoe_cny_per_kwh:.3f} CNY/kWh ({last.tech}, {last.name_zh})")
    return Allocation(target_mw=float(target_mw), method="cost", blocks=curve, counties=_per_county(curve),
                      allocated_mw=allocated, shortfall_mw=shortfall, notes=notes, curve=curve)


def _per_county(blocks: pd.DataFrame) -> pd.DataFrame:
    """MW allocated per county and technology (``allocated_<tech>_mw``) and in all, largest first."""
    wide = blocks.pivot_table(index=["adcode", "name_zh"], columns="tech", values="allocated_mw", aggfunc="sum",
                              fill_value=0.0)
    wide.columns = [f"allocated_{t}_mw" for t in wide.columns]
    wide["allocated_mw"] = wide.sum(axis=1)
    return wide.reset_index().sort_values("allocated_mw", ascending=False).reset_index(drop=True)


def allocate(counties: pd.DataFrame, target_mw: float, method: str = "merit", techs=("pv", "wind")) -> Allocation:
    """Distribute ``target_mw`` among counties.

    Parameters
    ----------
    counties : DataFrame
        The assessment's county table.
    target_mw : float
        Capacity to distribute, MW (> 0).
    method : {"merit", "proportional"}
    techs : sequence of str
        Technologies that may carry the target.

    Returns
    -------
    Allocation
    """
    if method not in METHODS:
        raise SitingError(f"--method {method}: use merit, cost or proportional")
    if method == "cost":
        raise SitingError("--method cost: use allocate_by_cost (it needs the assessment's supply blocks)")
    if not np.isfinite(target_mw) or target_mw < 0:
        raise SitingError(f"target {target_mw} MW: must be a number of 0 or more")
    blocks = supply_blocks(counties, techs)
    notes = []
    if method == "merit":
        curve = supply_curve(blocks)
        unranked = blocks[~np.isfinite(blocks.yield_mwh_per_mw)]
        if len(unranked):
            techs_out = sorted(set(unranked.tech))
            notes.append(f"{', '.join(techs_out)}: {unranked.capacity_mw.sum():,.0f} MW have no energy yield "
                         "(no resource layer) and are left out of the merit order; use --method proportional "
                         "to include them, or give a resource layer")
        before = (curve.cumulative_mw - curve.capacity_mw).to_numpy()
        alloc = np.clip(target_mw - before, 0.0, curve.capacity_mw.to_numpy())
        curve["allocated_mw"] = alloc
        out = curve
    else:
        total = blocks.capacity_mw.sum()
        share = min(1.0, target_mw / total) if total > 0 else 0.0
        out = blocks.copy()
        out["allocated_mw"] = out.capacity_mw * share
    allocated = float(out.allocated_mw.sum())
    shortfall = max(0.0, target_mw - allocated)
    if shortfall > 1e-6:
        notes.append(f"the achievable capacity ({allocated:,.0f} MW) falls short of the target by {shortfall:,.0f} MW")
    return Allocation(target_mw=float(target_mw), method=method, blocks=out.reset_index(drop=True),
                      counties=_per_county(out),
                      allocated_mw=allocated, shortfall_mw=shortfall, notes=notes,
                      curve=supply_curve(supply_blocks(counties, techs)))


def plot_supply_curve(curve: pd.DataFrame, target_mw: float | None, path, title: str = "") -> None:
    """Save the supply curve (yield against cumulative GW) as PNG or SVG, with the target marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    colours = {"pv": "#e69f00", "agri_pv": "#009e73", "fishery_pv": "#56b4e9", "rooftop_pv": "#d55e00",
               "wind": "#0072b2"}
    left = 0.0
    for _, b in curve.iterrows():
        ax.bar(left / 1000.0, b.yield_mwh_per_mw, width=b.capacity_mw / 1000.0, align="edge",
               color=colours.get(b.tech, "grey"), edgecolor="none")
        left += b.capacity_mw
    if target_mw:
        ax.axvline(target_mw / 1000.0, color="black", linestyle="--", linewidth=1)
        ax.annotate(f"target {target_mw / 1000:,.1f} GW", (target_mw / 1000.0, ax.get_ylim()[1] * 0.95),
                    ha="right", va="top", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for t, c in colours.items() if t in set(curve.tech)]
    ax.legend(handles, [t for t in colours if t in set(curve.tech)], loc="lower left")
    if len(curve):
        ax.set_ylim(bottom=0.8 * float(curve.yield_mwh_per_mw.min()))
    ax.set_xlabel("cumulative achievable capacity (GW)")
    ax.set_ylabel("annual yield (MWh per MW)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
