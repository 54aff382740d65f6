"""The compiled per-cell passes against the NumPy definitions they follow, on tile-sized inputs.

For each pass: the NumPy definition and the compiled pass on the same inputs in the same process (best of
``--repeat``, after one warm-up call that loads or compiles the machine code), their ratio, and whether the
results are equal. Tiles of 510 x 510 cells, as the engine's:

- wind capacity factor: ``windgrid._net_capacity_factor_at`` (air density, look-up table, losses) against
  :func:`siting.model.windtable.net_capacity_factor_cells`, 70 % of cells usable, with and without elevation;
- LCOE and cost classes: ``lcoe_cny_per_kwh`` three times, ``np.digitize`` and ``cost_class`` against
  :mod:`siting.model.costcells`;
- bilinear resampling of a 250 m source: the NumPy definition of ``tests/test_resample.py`` against
  :mod:`siting.geo.cellsample` (the cell centres, shared by every layer of a tile, are computed once for both).

Usage::

    python benchmarks/bench_kernels.py
    python benchmarks/bench_kernels.py --side 1024 --repeat 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numba
import numpy as np
import pyproj
from affine import Affine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from siting.energy import windgrid  # noqa: E402
from siting.engine.sums import cost_class  # noqa: E402
from siting.geo import resample  # noqa: E402
from siting.geo.grid import CHINA_ALBERS, make_grid  # noqa: E402
from siting.model.cost import lcoe_cny_per_kwh  # noqa: E402
from siting.model.costcells import cost_classes, lcoe_at_three_costs  # noqa: E402
from siting.rules.scenario import WindModelParams  # noqa: E402
from tests.test_resample import reference_bilinear  # noqa: E402


def best_of(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up: loads (or compiles) the machine code
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def wind_case(side: int, rng, with_elevation: bool):
    model = WindModelParams()
    turbine = windgrid.load_turbine(model.turbine)
    shape = (side, side)
    speed = rng.uniform(4.0, 9.0, shape).astype("float32")
    k = rng.uniform(1.6, 2.6, shape).astype("float32")
    elevation = rng.uniform(0.0, 2000.0, shape).astype("float32") if with_elevation else None
    usable = np.where(rng.random(shape) < 0.7, rng.random(shape), 0.0).astype("float32")

    def numpy_path():
        cells = (usable > 0) & np.isfinite(speed)
        out = np.full(shape, np.nan, dtype="float32")
        out[cells] = windgrid._net_capacity_factor_at(cells, speed, k, elevation, model, turbine, None)
        return out

    def compiled():
        return windgrid.net_capacity_factor_grid(usable, speed, k, elevation, model)

    cells = int(((usable > 0) & np.isfinite(speed)).sum())
    return numpy_path, compiled, cells, lambda a, b: np.array_equal(a, b, equal_nan=True)


def cost_case(side: int, rng):
    n = int(side * side * 0.7)
    costs = [SimpleNamespace(capex_cny_per_kw=c, fixed_om_cny_per_kw_yr=o, lifetime_yr=y, degradation_per_yr=0.005)
             for c, o, y in ((3400.0, 40.0, 25), (3000.0, 35.0, 30), (3900.0, 48.0, 20))]
    rates = (0.06, 0.05, 0.08)
    energy = rng.uniform(800.0, 3000.0, n)
    conn = rng.uniform(0.0, 600.0, n)
    ok = np.ones(n, dtype=bool)
    bins = np.array([0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5])
    tariffs = rng.uniform(0.35, 0.45, 111)
    zone = rng.integers(0, 111, n)
    pos = np.arange(n)

    def numpy_path():
        lcoe = np.array([np.where(ok, lcoe_cny_per_kwh(c.capex_cny_per_kw + conn, c.fixed_om_cny_per_kw_yr, energy,
                                                       r, c.lifetime_yr, c.degradation_per_yr), np.nan)
                         for c, r in zip(costs, rates)])
        finite = np.isfinite(lcoe[0])
        lcoe_bin = np.where(finite, np.digitize(np.where(finite, lcoe[0], 0.0), bins), -1)
        t = tariffs[zone]
        return lcoe, np.where(finite, cost_class(lcoe_bin, *[lcoe[e] <= t for e in range(3)]), -1)

    def compiled():
        lcoe = lcoe_at_three_costs(costs, rates, energy, conn, ok)
        return lcoe, cost_classes(lcoe, pos, zone, tariffs, bins)

    return numpy_path, compiled, n, lambda a, b: np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def resample_case(side: int, rng):
    res = 100.0
    x0, y0 = 1_000_000.0, 2_500_000.0
    grid = make_grid((x0, y0, x0 + side * res, y0 + side * res), res)
    lon, lat = pyproj.Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(
        x0 + side * res / 2, y0 + side * res / 2)
    p = 0.0025
    n_src = int(side * res / 250.0) + 40
    transform = Affine(p, 0.0, lon - n_src * p / 2, 0.0, -p, lat + n_src * p / 2)
    values = rng.uniform(4.0, 9.0, (n_src, n_src)).astype("float32")
    resample.cell_centres_in(grid, "EPSG:4326")  # shared by every layer of a tile: computed before both
    return (lambda: reference_bilinear(values, transform, "EPSG:4326", grid),
            lambda: resample.bilinear(values, transform, "EPSG:4326", grid), side * side, np.array_equal)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=510, help="tile side in cells")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"numba {numba.__version__}, {dt.date.today()}")
    print(f"tile {args.side} x {args.side}, best of {args.repeat}\n")
    print(f"{'pass':<36}{'cells':>10}{'NumPy ms':>10}{'compiled ms':>13}{'ratio':>8}{'M cells/s':>11}  equal")
    cases = [("wind CF, ISA air from elevation", wind_case(args.side, rng, True)),
             ("wind CF, standard air", wind_case(args.side, rng, False)),
             ("LCOE x 3 and cost classes", cost_case(args.side, rng)),
             ("bilinear, 250 m source", resample_case(args.side, rng))]
    for name, (numpy_path, compiled, cells, same) in cases:
        t_ref, ref = best_of(numpy_path, args.repeat)
        t_new, new = best_of(compiled, args.repeat)
        print(f"{name:<36}{cells:>10,}{t_ref * 1e3:>10.1f}{t_new * 1e3:>13.1f}{t_new / t_ref:>8.2f}"
              f"{cells / t_new / 1e6:>11.1f}  {bool(same(ref, new))}")


if __name__ == "__main__":
    main()
