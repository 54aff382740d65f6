"""What a scenario says and what its rules mean.

``scenario`` (the TOML schema, presets, overrides, validation), ``plan`` (the scenario resolved
once for one run: slope rules on derived layers, the typhoon rule, the user's wind layer),
``eligibility`` (classes, ranges, buffers, factors, minimum area, forced inclusion, turned into a
usable share per cell and the area each rule removed), ``patches`` (minimum-area patches that run
across tiles).

May import: ``siting.geo``, ``siting.model``, ``siting.io``, ``siting.errors``.
"""
