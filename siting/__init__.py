"""siting: how much solar PV and onshore wind each county of a Chinese province can host.

Quick start::

    import siting
    a = siting.assess("guangxi")          # or 广西, 450000, 柳州, a county adcode
    a.counties                            # GeoDataFrame, one row per county
    a.grid                                # xarray Dataset on the equal-area grid
    a.save("results/guangxi")

The names below are imported on first use, so that ``import siting`` (and ``siting --help``) stays
fast; ARCHITECTURE.md maps each step of the data flow to its sub-package.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Assessment": "siting.api", "assess": "siting.api", "load_results": "siting.api", "compare_scenarios": "siting.api",
    "ScenarioComparison": "siting.api",
    "SitingError": "siting.errors",
    "Region": "siting.io.regions", "list_regions": "siting.io.regions", "resolve": "siting.io.regions",
    "Scenario": "siting.rules.scenario", "load_scenario": "siting.rules.scenario",
    "with_overrides": "siting.rules.scenario",
    "Plan": "siting.rules.plan", "make_plan": "siting.rules.plan",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'siting' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
