"""What a figure rests on (its *basis*), and the verdict on a target that the basis allows.

Potential comes in tiers: a **land-only upper bound** (land that passes the rules whose layers exist, some
asked-for layer missing: protected areas, slope, the resource ...), then **technical potential** (every
layer the scenario asks for, the resource included). Economic potential (cost) and achievable potential
(grid hosting capacity) need layers this version does not model; the basis says so.

A plan target counts *components* (ground-mounted PV, agri- and fishery-PV, rooftop and distributed PV,
onshore and offshore wind). A verdict never claims more than its basis:

==========================  ===================================================================================
verdict                     when
==========================  ===================================================================================
``can_be_met``              technical potential of the computed components reaches the target in at least
                            90 % of the uncertainty draws (more components could only add to it)
``cannot_be_met``           every component the target counts was computed, and even the P90 of the
                            land-only upper bound or of the technical potential falls short in 90 % of draws
``uncertain``               technical potential of every counted component, reaching the target in 10-90 %
                            of the draws
``not_decidable``           anything else: a land-only upper bound above the target, or components the target
                            counts that were not computed
==========================  ===================================================================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from siting.columns import energy_column
from siting.rules.scenario import rule_category

COMPONENTS = ("ground_pv", "agri_pv", "fishery_pv", "rooftop_pv", "onshore_wind", "offshore_wind")
COMPONENT_LABEL = {"ground_pv": "ground-mounted PV", "agri_pv": "agrivoltaics (农光互补)",
                   "fishery_pv": "fishery PV (渔光互补)", "rooftop_pv": "rooftop/distributed PV",
                   "onshore_wind": "onshore wind", "offshore_wind": "offshore wind"}
TECH_COMPONENT = {"pv": "ground_pv", "agri_pv": "agri_pv", "fishery_pv": "fishery_pv", "rooftop_pv": "rooftop_pv",
                  "wind": "onshore_wind", "offshore": "offshore_wind"}
# the technologies a target's scope may count
SCOPE_TECHS = {"pv": ("pv", "agri_pv", "fishery_pv", "rooftop_pv"), "wind": ("wind", "offshore"),
               "wind+pv": ("pv", "agri_pv", "fishery_pv", "rooftop_pv", "wind", "offshore")}
LAYER_KINDS = ("protection", "land cover", "terrain", "resource", "cost", "grid")
LAND_ONLY, TECHNICAL = "land-only upper bound", "technical potential"
P_CAN, P_CANNOT = 0.9, 0.1


def target_components(scope: str, metric: str) -> tuple[str, ...]:
    """The components a capacity target counts, from its scope (pv, wind, wind+pv) and metric text."""
    metric = str(metric).lower()
    if "rooftop" in metric or "roof" in metric or "distributed" in metric:
        pv: tuple[str, ...] = ("rooftop_pv",)
    elif "centralised" in metric:
        pv = ("ground_pv", "agri_pv", "fishery_pv")
    else:
        pv = ("ground_pv", "agri_pv", "fishery_pv", "rooftop_pv")
    if "onshore" in metric:
        wind: tuple[str, ...] = ("onshore_wind",)
    elif "offshore" in metric and scope == "wind":
        wind = ("offshore_wind",)
    else:
        wind = ("onshore_wind", "offshore_wind")
    return {"pv": pv, "wind": wind, "wind+pv": pv + wind}.get(scope, ())


@dataclass
class TechBasis:
    """What one computed technology's figure rests on.

    Attributes
    ----------
    tech : str
    component : str
    layers : dict
        Kind (protection, land cover, terrain, resource, cost, grid) → ``applied``, ``coarse`` (applied,
        from coarse data), ``proxy`` (a rule's layer is missing and the rule its ``proxy`` names stands in),
        ``missing`` (the scenario asks for it, the layer is not there), ``none asked`` or ``not modelled``.
    missing_rules : list of str
        Rules not applied for want of their layer.
    tier : str
        ``land-only upper bound`` or ``technical potential``.
    """

    tech: str
    component: str
    layers: dict[str, str] = field(default_factory=dict)
    missing_rules: list[str] = field(default_factory=list)
    tier: str = LAND_ONLY

    def missing(self) -> list[str]:
        return [k for k, v in self.layers.items() if v == "missing"]


def tech_bases(a) -> dict[str, TechBasis]:
    """The basis of every technology of an assessment, from its plan and the layers its run read."""
    inputs = {i["layer"]: i for i in a.provenance["inputs"]}
    out = {}
    for t in a.technologies:
        spec = a.plan.tech_specs[t]
        b = TechBasis(tech=t, component=TECH_COMPONENT[t])
        status: dict[str, str] = {}
        for name, rule in spec.rules.items():
            kind = rule_category(name, rule)
            kind = kind if kind in LAYER_KINDS else None
            layer = getattr(rule, "layer", None)
            if layer is None:
                continue
            here = layer in inputs
            proxy = spec.rules.get(rule.proxy) if getattr(rule, "proxy", None) else None
            by_proxy = not here and proxy is not None and getattr(proxy, "layer", None) in inputs
            if not here:
                b.missing_rules.append(name)
            if kind is None:
                continue
            if here:
                state = "coarse" if inputs[layer].get("coarse") else "applied"
            else:
                state = ("proxy" if not inputs[proxy.layer].get("coarse") else "coarse") if by_proxy else "missing"
            # one missing layer of a kind makes the kind missing; coarse (or a proxy) beats applied
            rank = {"missing": 2, "coarse": 1, "proxy": 1, "applied": 0}
            if kind not in status or rank[state] > rank[status[kind]]:
                status[kind] = state
        energy = energy_column(t)
        if energy in a.counties and a.counties[energy].notna().any():
            resource_layer = (("wind_speed_ms",) if t in ("wind", "offshore") else
                              ("pvout_kwh_per_kwp", "ghi_kwh_per_m2_yr"))
            coarse = any(inputs.get(n, {}).get("coarse") for n in resource_layer if n in inputs)
            res = "coarse" if coarse else "applied"
            status["resource"] = "missing" if status.get("resource") == "missing" else res
        else:
            status["resource"] = "missing"
        for kind in ("protection", "land cover", "terrain"):
            status.setdefault(kind, "none asked")
        status["cost"] = status["grid"] = "not modelled"
        b.layers = {k: status[k] for k in LAYER_KINDS}
        b.tier = LAND_ONLY if b.missing() else TECHNICAL
        out[t] = b
    return out


def layers_text(bases: dict[str, TechBasis]) -> str:
    """One line: ``pv: protection missing, terrain missing, resource coarse; wind: ...``."""
    parts = []
    for t, b in bases.items():
        items = [f"{k} {v}" for k, v in b.layers.items() if v not in ("applied",)]
        parts.append(f"{t}: " + (", ".join(items) if items else "every layer applied"))
    return "; ".join(parts)


@dataclass
class Verdict:
    """A target set beside what was computed for it.

    Attributes
    ----------
    code : str
        ``can_be_met``, ``cannot_be_met``, ``uncertain`` or ``not_decidable``.
    text : str
        The wording to show.
    tier : str
        The weakest tier among the computed components.
    components, missing_components : list of str
    probability : float or None
        Share of the uncertainty draws in which the computed components reach the target.
    """

    code: str
    text: str
    tier: str
    components: list[str]
    missing_components: list[str]
    probability: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def verdict(target_components_: tuple[str, ...], bases: dict[str, TechBasis], meets_draws: np.ndarray | None,
            achievable_mw: float, achievable_p90_mw: float | None, target_mw: float) -> Verdict:
    """The verdict on one target from the bases of the computed technologies and the draws.

    Parameters
    ----------
    target_components_ : tuple of str
        What the target counts (:func:`target_components`).
    bases : dict of str to TechBasis
        The computed technologies whose component the target counts.
    meets_draws : numpy.ndarray of bool or None
        Per draw: does the computed total meet the target (qualifier honoured)? None without draws.
    achievable_mw, achievable_p90_mw, target_mw : float
    """
    computed = [b.component for b in bases.values()]
    missing = [c for c in target_components_ if c not in computed]
    tier = LAND_ONLY if any(b.tier == LAND_ONLY for b in bases.values()) else TECHNICAL
    p = None if meets_draws is None or meets_draws.size == 0 else float(np.mean(meets_draws))
    if p is None:
        p = 1.0 if achievable_mw >= target_mw else 0.0
    share = achievable_mw / target_mw if target_mw > 0 else np.nan
    names = " + ".join(COMPONENT_LABEL[c] for c in computed) or "nothing"
    not_computed = ", ".join(COMPONENT_LABEL[c] for c in missing)
    gaps = sorted({k for b in bases.values() for k in b.missing()})
    if not computed:
        return Verdict("not_decidable", "not decidable: none of the components this target counts was computed",
                       tier, computed, missing, None)
    upper = achievable_p90_mw if achievable_p90_mw is not None else achievable_mw
    if tier == TECHNICAL:
        if p >= P_CAN:
            text = f"can be met by {names} alone (in {_pct(p)} of the draws)"
            return Verdict("can_be_met", text, tier, computed, missing, p)
        if not missing and p <= P_CANNOT:
            text = f"cannot be met: {names} reach {share:.0%} of the target (met in {_pct(p)} of the draws)"
            return Verdict("cannot_be_met", text, tier, computed, missing, p)
        if not missing:
            return Verdict("uncertain", f"uncertain: met in {_pct(p)} of the draws", tier, computed, missing, p)
        text = (f"not decidable: {names} meet the target in only {_pct(p)} of the draws, and {not_computed} "
                "(also counted) were not computed")
        return Verdict("not_decidable", text, tier, computed, missing, p)
    # land-only upper bound
    if not missing and upper < target_mw:
        text = (f"cannot be met: even the land-only upper bound of {names} (P90 {upper:,.0f} MW) stays below the "
                "target")
        return Verdict("cannot_be_met", text, tier, computed, missing, p)
    text = (f"not decidable: {names} give a land-only upper bound ({share:.1f}x the target) - not a verdict; "
            f"missing: {', '.join(gaps)}")
    if missing:
        text += f"; not computed: {not_computed}"
    return Verdict("not_decidable", text, tier, computed, missing, p)
