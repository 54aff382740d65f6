"""Everything that reads or writes files: inputs at the edge of the pipeline, and its caches.

Readers: ``regions`` (boundaries of provinces, cities, counties and name lookup), ``layers``
(rasters and vectors onto the grid), ``dem`` (slope pass-shares from a DEM), ``irradiance``
(Linke turbidity), ``turbines`` (the power-curve library), ``griddist`` (distance to grid lines and the
line's cost, on the whole grid), ``packagedata`` (files shipped in ``siting/data``: targets, tariffs ...). Downloads: ``fetch`` (the open-data catalogue) and ``vrt`` (mosaics).
Plumbing: ``atomic`` (write-then-rename), ``cache`` (the cache folder), ``layercache`` (layers on a
grid by content hash), ``handles`` (raster handles kept open per thread).

May import: ``siting.geo``, ``siting.model``, ``siting.rules``, ``siting.names``, ``siting.errors``.
"""
