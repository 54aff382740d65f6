"""The science: pure functions of arrays, each with units in its names and a reference.

``solar`` (pvlib physics vectorised over hours × cells), ``wind`` (shear, air density, Weibull,
power-curve integral, spacing), ``terrain`` (Horn's slope and aspect, cell sizes on the ellipsoid),
``datum`` (GCJ-02 ↔ WGS-84), ``cost`` (LCOE, capital recovery, line costs, voltage text), ``uncertainty`` (draws of the ranged assumptions), ``validation`` (lift and
ROC AUC against a null model), ``calibration`` (a correction factor fitted to reference values). No file is read or written here and nothing is drawn: inputs come in as
arrays, results go out as arrays.

May import: NumPy, SciPy, pandas, shapely, pvlib, and ``siting.errors``. Nothing else of siting.
"""
