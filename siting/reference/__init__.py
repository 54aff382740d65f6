"""What the results are compared with: plan targets, the existing fleet, allocation.

``targets`` (every quantitative target of the plans, with quotes and units), ``basis`` (what a figure rests
on, and the verdict it allows), ``compare`` (targets beside computed and existing capacity, with verdicts),
``fleet`` (the wind-farm tracker matched to counties, and the check of a scenario against where plants stand),
``allocate`` (a target distributed among counties, yield and cost supply curves), ``economics`` (tariffs,
economic potential, hosting capacity and what limits the achievable capacity), ``calibration`` (PV yield
against reference values), ``scenarios`` (two scenarios side by side).

May import: everything below it (engine, energy, io, rules, geo, model); not the API, outputs or UI.
"""
