"""The spatial frame of a run: the equal-area analysis grid and resampling onto it.

``grid`` (the Albers grid, windows of it, county coverage fractions per cell), ``resample``
(nearest and bilinear on an origin-anchored lattice, so a cell's value does not depend on the
window it is read in).

May import: ``siting.model``, ``siting.errors``.
"""
