"""Capacity and energy on the grid: the science of ``siting.model`` applied to layers.

``pvgrid`` (PV yield per resource cell, simulated once per run and scaled to a finer GHI layer),
``pvyield`` (the PV model over many cells: Linke turbidity looked up, cells over threads),
``pvpoint`` (one point, for ``siting yield``), ``windgrid`` (hub-height speed, net capacity factor,
capacity density from turbine spacing).

May import: ``siting.io``, ``siting.rules``, ``siting.geo``, ``siting.model``, ``siting.errors``.
"""
