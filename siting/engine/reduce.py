"""Reducing tile results: county sums, the overview grid and minimum-area decisions across tiles.

Tile results are added in tile order, in float64, so the outcome does not depend
on where or in which order the tiles were computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from siting.rules.eligibility import tail_rules
from siting.engine.compute import RunContext
from siting.engine.sums import CountySums
from siting.errors import SitingError
from siting.io.layers import CATEGORICAL_NODATA
from siting.rules.scenario import MinAreaRule
from siting.rules.patches import first_failed_rule, merge_patch_areas


@dataclass
class Combined:
    """The region-wide results of all tiles."""

    sums: CountySums
    overview: dict[str, np.ndarray]
    coverage: dict[str, tuple[float, float, float]]
    classes: dict[str, np.ndarray]
    samples: dict[str, np.ndarray]
    steps: dict[str, list[str]]
    pv_keys: np.ndarray | None
    provenance: dict[str, dict]
    seconds: dict[str, float] = field(default_factory=dict)


def combine(ctx: RunContext, outs, n_zones: int) -> Combined:
    """Reduce tile results (an iterable, in tile order): county sums, overview grids, minimum-area decisions."""
    f, g = ctx.factor, ctx.grid
    oshape = (g.height // f, g.width // f)
    sums = CountySums.zeros(n_zones)
    overview: dict[str, np.ndarray] = {}
    coverage: dict[str, list[float]] = {}
    classes: dict[str, set] = {}
    samples: dict[str, list] = {}
    provenance: dict[str, dict] = {}
    pv_keys = []
    steps: dict[str, list[str]] = {}
    present = []  # tiles with region cells, reduced to what the minimum-area step needs

    def ov(name: str, dtype, fill) -> np.ndarray:
        if name not in overview:
            overview[name] = np.full(oshape, fill, dtype=dtype)
        return overview[name]

    seconds: dict[str, float] = {}
    for o in outs:
        if o is None:
            continue
        for stage, sec in o.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + sec
        t = o.tile
        osl = (slice(t.row_off // f, (t.row_off + t.height) // f), slice(t.col_off // f, (t.col_off + t.width) // f))
        sums.add(o.sums, o.zones)
        for name, arr in o.overview.items():
            # outside every tile with region cells: no county, no region, no data
            fill = {"county_index": -1, "region_fraction": 0.0}.get(
                name, CATEGORICAL_NODATA if arr.dtype.kind == "u" else np.nan)
            ov(name, arr.dtype, fill)[osl] = arr
        for name, (tot, out, nod) in o.coverage.items():
            c = coverage.setdefault(name, [0.0, 0.0, 0.0])
            c[0] += tot
            c[1] += out
            c[2] += nod
        for name, cl in o.classes.items():
            classes.setdefault(name, set()).update(cl.tolist())
        for name, s in o.samples.items():
            samples.setdefault(name, []).append(s)
        for name, p in o.provenance.items():
            if name not in provenance or provenance[name].get("no_overlap"):
                provenance[name] = p
        if o.pv_keys is not None:
            pv_keys.append(o.pv_keys)
        for tech, to in o.tech.items():
            steps.setdefault(tech, to.steps)
            ov(f"{tech}_usable_sum", "float32", 0.0)[osl] = to.usable
            ov(f"{tech}_best", "float32", 0.0)[osl] = to.best
            ov(f"{tech}_which", "int16", -1)[osl] = to.which
            for name, a in to.min_area.items():
                ov(f"{tech}_minarea:{name}", "float32", 0.0)[osl] = a
            if to.energy_map is not None:
                ov(f"{tech}_energy_map", "float32", np.nan)[osl] = to.energy_map
            to.best = to.which = to.usable = to.energy_map = None
            to.min_area = {}
        o.overview = {}
        present.append(o)
    if not present:
        raise SitingError("no grid cell lies inside the region")

    for tech in ctx.techs:
        _resolve_tail(ctx, tech, present, sums, overview, n_zones, oshape)
        _finish_overview(ctx, tech, steps.get(tech, []), overview)
    return Combined(sums=sums, overview=overview, coverage={k: tuple(v) for k, v in coverage.items()},
                    classes={k: np.array(sorted(v)) for k, v in classes.items()},
                    samples={k: np.concatenate(v) for k, v in samples.items()}, steps=steps,
                    pv_keys=np.unique(np.concatenate(pv_keys)) if pv_keys else None, provenance=provenance,
                    seconds={k: round(v, 3) for k, v in seconds.items()})


def _resolve_tail(ctx, tech, present, sums, overview, n_zones, oshape) -> None:
    spec = ctx.plan.tech_specs[tech]
    tails = tail_rules(spec)
    min_rules = [(n, r) for n, r in tails if isinstance(r, MinAreaRule)]
    if not min_rules:
        return
    thresholds = np.array([r.min_area_km2 for _, r in min_rules])
    edges = {(o.tile.i, o.tile.j): o.tech[tech].edges for o in present}
    whole = merge_patch_areas(edges)
    for o in present:
        to = o.tech[tech]
        if to.tables is None:
            continue
        key = (o.tile.i, o.tile.j)
        area_of = dict(zip(edges[key].labels.tolist(), whole[key].tolist()))
        tb = to.tables
        nz = n_zones
        # county sums
        lab = tb.county_keys // nz
        zone = tb.county_keys % nz
        rule = first_failed_rule(np.array([area_of[int(l)] for l in lab], dtype="float64"), thresholds)
        keep = rule == -1

        ts = sums.tech_or_empty(tech)
        sums.tech[tech] = ts

        def add(values: np.ndarray, target: dict | None = None, key: str = "") -> np.ndarray:
            shape = (n_zones,) + np.shape(values)[1:]  # sums per class are 2-D
            acc = np.zeros(shape, dtype="float64") if target is None else target.setdefault(
                key, np.zeros(shape, dtype="float64"))
            np.add.at(acc, zone, values)
            return acc

        np.add.at(ts.usable, zone, tb.usable.pick(keep))
        if tb.energy is not None:
            extra = {"e": ts.energy_mwh_per_mw, "w": ts.usable_with_energy}
            add(tb.energy.pick(keep), extra, "e")
            add(tb.with_energy.pick(keep), extra, "w")
            ts.energy_mwh_per_mw, ts.usable_with_energy = extra["e"], extra["w"]
        for j, (name, _) in enumerate(min_rules):
            add(np.where(rule == j, tb.pre, 0.0), ts.removed, name)
        for name, outcomes in tb.forced.items():
            add(outcomes.pick(keep), ts.removed, name)
        for key, outcomes in tb.by_weight.items():
            add(outcomes.pick(keep), ts.usable_by_weight, key)
        # overview
        t = o.tile
        tw = t.width // ctx.factor
        n_oc = (t.height // ctx.factor) * tw
        olab = tb.overview_keys // n_oc
        ocell = tb.overview_keys % n_oc
        orow = t.row_off // ctx.factor + ocell // tw
        ocol = t.col_off // ctx.factor + ocell % tw
        orule = first_failed_rule(np.array([area_of[int(l)] for l in olab], dtype="float64"), thresholds)
        np.add.at(overview[f"{tech}_usable_sum"], (orow, ocol),
                  tb.overview_usable.pick(orule == -1))
        for j, (name, _) in enumerate(min_rules):
            np.add.at(overview[f"{tech}_minarea:{name}"], (orow, ocol), np.where(orule == j, tb.overview_pre, 0.0))


def _finish_overview(ctx, tech, steps: list[str], overview: dict) -> None:
    """Turn the overview accumulators of a technology into its usable share and main exclusion."""
    f2 = ctx.factor * ctx.factor
    if f"{tech}_usable_sum" not in overview:
        return
    overview[f"{tech}_usable_fraction"] = (overview.pop(f"{tech}_usable_sum") / f2).astype("float32")
    best = overview.pop(f"{tech}_best")
    which = overview.pop(f"{tech}_which")
    for name in [n for n in steps]:
        key = f"{tech}_minarea:{name}"
        if key in overview:
            s = overview.pop(key)
            more = s > best
            best[more] = s[more]
            which[more] = steps.index(name)
    for key in [k for k in overview if k.startswith(f"{tech}_minarea:")]:
        overview.pop(key)
    which[overview["region_fraction"] <= 0] = -1
    overview[f"{tech}_main_exclusion"] = which
    if f"{tech}_energy_map" in overview:
        name = f"{tech}_capacity_factor" if tech in ("wind", "offshore") else f"{tech}_specific_yield_kwh_per_kwp"
        overview[name] = overview.pop(f"{tech}_energy_map")
