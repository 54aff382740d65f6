"""Running a plan over the grid, tile by tile, and adding the results up.

``layout`` (tiles of the grid), ``compute`` (one tile: layers, eligibility, energy, county sums),
``scheduler`` (tiles on local threads or a dask.distributed cluster), ``reduce`` (tile results
added in tile order; minimum-area patches joined across tiles), ``table`` (the county table from
the sums).

May import: ``siting.energy``, ``siting.io``, ``siting.rules``, ``siting.geo``, ``siting.model``,
``siting.columns``, ``siting.errors``.
"""
