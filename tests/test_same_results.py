"""Work on speed must not move the figures: the county table of a synthetic scenario with every kind of layer
(slope from a ~300 m DEM, land cover, protected areas with a wind buffer, farmland, a wind speed and Weibull k
layer, power lines for the grid connection; every technology, costs on) stays what it was.

``tests/golden/liuzhou_every_layer_1000m/counties.csv`` was written by the code before the performance work on
the engine (tiles, zonal sums, slope); regenerate it with ``python tests/test_same_results.py`` only for a
change that is meant to move figures, and say why in the commit. Numbers are compared to 1e-9 relative (the
noise of summing the same float64 values in another order), text exactly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from . import synthetic

REFERENCE = Path(__file__).resolve().parent / "golden" / "liuzhou_every_layer_1000m" / "counties.csv"


def _run(folder: Path, tile_cells: int | None = None) -> pd.DataFrame:
    import siting
    from siting.io.regions import counties, resolve

    scen, lines = synthetic.write_real_size_like(folder, tuple(counties(resolve("柳州")).total_bounds))
    a = siting.assess("柳州", resolution_m=1000.0, scenario=scen, grid_lines=lines, draws=0, tile_cells=tile_cells)
    return pd.DataFrame(a.counties.drop(columns="geometry"))


def _compare(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert list(new.columns) == list(old.columns)
    assert len(new) == len(old)
    for col in old.columns:
        a, b = old[col], new[col]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            assert np.allclose(b.to_numpy(float), a.to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True), col
        else:
            assert (a.fillna("").astype(str) == b.fillna("").astype(str)).all(), col


@pytest.mark.slow
@pytest.mark.parametrize("tile_cells", [None, 37])
def test_county_table_of_the_every_layer_scenario_is_unchanged(tmp_path, tile_cells):
    new = _run(tmp_path, tile_cells)
    new.to_csv(tmp_path / "counties.csv", index=False)  # through CSV, as the reference was written
    _compare(pd.read_csv(tmp_path / "counties.csv"), pd.read_csv(REFERENCE))


if __name__ == "__main__":  # regenerate the reference
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        table = _run(Path(tmp))
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(sys.argv[1] if len(sys.argv) > 1 else REFERENCE, index=False)
