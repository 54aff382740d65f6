"""Running a plan over the grid, tile by tile, and adding the results up.

``layout`` (tiles of the grid), ``compute`` (one tile: layers, eligibility, energy, county sums),
``scheduler`` (tiles on local threads or a dask.distributed cluster), ``reduce`` (tile results
added in tile order; minimum-area patches joined across tiles), ``sums`` (the typed per-county sums),
``table`` (the county table from the sums), ``ranges`` (P10/P50/P90 from the sums and the plan's ranges),
``memory`` (the C allocator and Python's garbage collector during a run).

May import: ``siting.energy``, ``siting.io``, ``siting.rules``, ``siting.geo``, ``siting.model``,
``siting.columns``, ``siting.errors``.
"""
