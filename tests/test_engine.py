"""The tiled engine: patches across tiles, tile-size invariance, and the same results on a dask cluster."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

import siting
from siting.engine.compute import block_nanmean, block_sum, overview_factor
from siting.engine.layout import tile_layout
from siting.rules.patches import label_patches, merge_patch_areas

from . import synthetic

KM = 1000.0


# ---------------------------------------------------------------------------
# Patches joined across tiles equal patches labelled on the whole grid
# ---------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 60), cols=st.integers(1, 60), side=st.integers(1, 25),
       density=st.floats(0.2, 0.8))
def test_patch_areas_across_tiles_equal_whole_grid_labelling(seed, rows, cols, side, density):
    rng = np.random.default_rng(seed)
    usable = np.where(rng.random((rows, cols)) < density, rng.random((rows, cols)), 0.0).astype("float32")
    labels, n = ndimage.label(usable > 0, structure=np.ones((3, 3), dtype=bool))
    whole_area = np.bincount(labels.reshape(-1), weights=usable.reshape(-1).astype("float64"), minlength=n + 1)
    tiles = tile_layout((rows, cols), side)
    edges, local = {}, {}
    for t in tiles:
        part = usable[t.row_off:t.row_off + t.height, t.col_off:t.col_off + t.width]
        lab, area, e = label_patches(part, 1.0)
        edges[(t.i, t.j)] = e
        local[(t.i, t.j)] = (lab, area)
    merged = merge_patch_areas(edges)
    for t in tiles:
        lab, area = local[(t.i, t.j)]
        glob = labels[t.row_off:t.row_off + t.height, t.col_off:t.col_off + t.width]
        e = edges[(t.i, t.j)]
        border = set(e.labels.tolist())
        for l in range(1, area.size):
            g = np.unique(glob[lab == l])
            assert g.size == 1  # a tile's patch lies in one whole-grid patch
            expected = whole_area[g[0]]
            if l in border:
                got = merged[(t.i, t.j)][np.searchsorted(e.labels, l)]
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
            else:  # not on a border: the tile's own area is the whole patch
                assert area[l] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_tile_layout_covers_the_grid_once():
    tiles = tile_layout((103, 250), 40, multiple=4)
    hit = np.zeros((103, 250), dtype=int)
    for t in tiles:
        assert t.height % 4 == 0 or t.row_off + t.height == 103
        hit[t.row_off:t.row_off + t.height, t.col_off:t.col_off + t.width] += 1
    assert (hit == 1).all()


def test_block_reductions():
    a = np.arange(16, dtype="float32").reshape(4, 4)
    assert block_sum(a, 2).tolist() == [[10.0, 18.0], [42.0, 50.0]]
    b = a.copy()
    b[0, 0] = np.nan
    assert block_nanmean(b, 2)[0, 0] == pytest.approx((1 + 4 + 5) / 3)
    assert overview_factor((1000, 1000), 250_000) == 2 and overview_factor((10, 10)) == 1


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), f=st.integers(2, 7), nan_share=st.sampled_from([0.0, 0.0, 0.1, 1.0]))
def test_block_means_are_the_mean_of_each_blocks_finite_values(seed, f, nan_share):
    """Bit for bit the masked mean (Σ finite values / their count, float64, then float32), with or without NaN."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1e3, 1e3, (3 * f, 4 * f)).astype("float32")
    a[rng.random(a.shape) < nan_share] = np.nan
    ok = np.isfinite(a)
    s, n = block_sum(np.where(ok, a, 0.0), f), block_sum(ok, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = np.where(n > 0, s / np.maximum(n, 1), np.nan).astype("float32")
    np.testing.assert_array_equal(block_nanmean(a, f), want)


# ---------------------------------------------------------------------------
# A region on a grid-aligned raster: every tile size gives identical numbers
# ---------------------------------------------------------------------------

TILED_SCENARIO = synthetic.SCENARIO + """
[pv.rules.village_setback]
type = "buffer"
layer = "lc"
classes = [3]
distance_m = 600.0
source = "test"

[pv.rules.min_area]
type = "min_area"
min_area_km2 = 3.0
source = "test"

[pv.rules.brownfield]
type = "force_include"
layer = "lc"
classes = [5]
weight = 1.0
source = "test"
"""


def _write_case(folder, seed: int):
    """The two synthetic squares and a patchy 250 m class raster aligned with the analysis grid."""
    bnd = synthetic.write_boundaries(folder)
    x0, y0 = synthetic.origin()
    left, top = x0 - 3 * KM, y0 + 23 * KM
    res = 250.0
    h, w = int(26 * KM / res), int(46 * KM / res)
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal((h, w)), 3.0)
    lc = np.full((h, w), 10, dtype="uint8")
    lc[field < -0.05] = 0
    lc[rng.random((h, w)) < 0.004] = 3
    lc[(field > 0.12) & (rng.random((h, w)) < 0.3)] = 5
    path = folder / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="uint8", nodata=255,
                       crs=synthetic.CHINA_ALBERS, transform=Affine(res, 0, left, 0, -res, top)) as dst:
        dst.write(lc, 1)
    scen = folder / "tiled.toml"
    scen.write_text(TILED_SCENARIO.format(raster=path.name), encoding="utf-8")
    return bnd, scen


def _run(bnd, scen, **kw) -> pd.DataFrame:
    a = siting.assess(boundaries=bnd, id_column="code", name_column="name", scenario=scen, tech="pv",
                      resolution_m=250, **kw)
    return a


@pytest.mark.parametrize("seed", [1, 7])
def test_every_tile_size_gives_identical_county_figures(tmp_path, seed):
    bnd, scen = _write_case(tmp_path, seed)
    one = _run(bnd, scen, tile_cells=4096)
    assert one.provenance["grid"]["tiles"] == 1
    cols = [c for c in one.counties.columns if c.endswith(("_km2", "_mwp", "_gwh"))]
    removed = one.counties["removed_pv_min_area_km2"].sum()
    assert removed > 0  # the case has small patches, some of them cut by tile borders below
    assert one.counties["removed_pv_brownfield_km2"].sum() < 0  # forced inclusion adds land back
    for side in (7, 16, 33):
        tiled = _run(bnd, scen, tile_cells=side, scheduler="sync")
        assert tiled.provenance["grid"]["tiles"] > 1
        np.testing.assert_allclose(tiled.counties[cols].to_numpy(), one.counties[cols].to_numpy(),
                                   rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(tiled.grid["pv_usable_fraction"].to_numpy(),
                                   one.grid["pv_usable_fraction"].to_numpy(), atol=1e-6)
        assert (tiled.grid["pv_main_exclusion"].to_numpy() == one.grid["pv_main_exclusion"].to_numpy()).all()


def test_threads_and_sync_are_bit_identical(tmp_path):
    bnd, scen = _write_case(tmp_path, 3)
    a = _run(bnd, scen, tile_cells=20, scheduler="sync").counties.drop(columns="geometry")
    b = _run(bnd, scen, tile_cells=20, workers=2).counties.drop(columns="geometry")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.slow
def test_distributed_localcluster_gives_identical_results(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    bnd, scen = _write_case(tmp_path, 4)
    local = _run(bnd, scen, tile_cells=20).counties.drop(columns="geometry")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        by_client = _run(bnd, scen, tile_cells=20, scheduler=client).counties.drop(columns="geometry")
        by_address = _run(bnd, scen, tile_cells=20, scheduler=cluster.scheduler_address).counties.drop(
            columns="geometry")
    pd.testing.assert_frame_equal(local, by_client, check_exact=True)
    pd.testing.assert_frame_equal(local, by_address, check_exact=True)


def test_bad_scheduler_is_a_clear_error(tmp_path):
    bnd, scen = _write_case(tmp_path, 5)
    with pytest.raises(siting.SitingError, match="scheduler"):
        _run(bnd, scen, scheduler="carrier-pigeon")
    with pytest.raises(siting.SitingError, match="--workers 0"):
        _run(bnd, scen, workers=0)
    with pytest.raises(siting.SitingError, match="cannot connect"):
        _run(bnd, scen, scheduler="tcp://127.0.0.1:9")


def test_overview_grid_for_large_runs(tmp_path, monkeypatch):
    """Above the overview limit the grid is block means; county figures are unchanged and the map still draws."""
    import siting.engine.compute

    bnd, scen = _write_case(tmp_path, 1)
    full = _run(bnd, scen, tile_cells=40)
    monkeypatch.setattr(siting.engine.compute, "MAX_OVERVIEW_CELLS", 3_000)
    over = _run(bnd, scen, tile_cells=40)
    f = over.grid.attrs["overview_factor"]
    assert f > 1 and full.grid.attrs["overview_factor"] == 1
    assert over.grid.sizes["x"] * f <= over.provenance["grid"]["shape"][1]
    assert any("overview" in n for n in over.notes)
    cols = [c for c in full.counties.columns if c.endswith("_km2")]
    np.testing.assert_allclose(over.counties[cols].to_numpy(), full.counties[cols].to_numpy(), rtol=1e-9)
    # the overview's usable share, times its cell area, adds up to the usable land of the counties
    cell_km2 = (over.grid.attrs["resolution_m"] / 1000.0) ** 2
    assert float(over.grid["pv_usable_fraction"].sum()) * cell_km2 == pytest.approx(
        over.counties["usable_pv_km2"].sum(), rel=0.01)
    steps = json.loads(over.grid["pv_main_exclusion"].attrs["steps"])
    which = over.grid["pv_main_exclusion"].to_numpy()
    assert which.max() < len(steps) and (which >= 0).any()
    from siting.outputs.maps import make_map

    html = make_map(over, None).get_root().render()
    assert html.count("data:image/png;base64,") >= 1  # the raster overlays are drawn from the overview
