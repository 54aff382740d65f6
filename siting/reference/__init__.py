"""What the results are compared with: plan targets, the existing fleet, allocation.

``targets`` (every quantitative target of the plans, with quotes and units), ``compare`` (targets
beside achievable and existing capacity), ``fleet`` (the wind-farm tracker matched to counties, and
the check of a scenario against it), ``allocate`` (a target distributed among counties, supply
curves).

May import: everything below it (engine, energy, io, rules, geo, model); not the API, outputs or UI.
"""
