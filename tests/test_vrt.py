"""Tile mosaics (VRT) and the fetch command end to end on the loopback server."""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from typer.testing import CliRunner

from siting import SitingError
from siting.ui.cli import app
from siting.io.vrt import build_vrt

from .test_fetch import SMALL_BBOX, served  # noqa: F401  (the loopback server fixture)


def tile(path, west, north, values, crs="EPSG:4326", res=0.5):
    h, w = values.shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=crs,
                       transform=Affine(res, 0, west, 0, -res, north), nodata=-9999.0) as dst:
        dst.write(values.astype("float32"), 1)
    return path


def test_vrt_mosaic_equals_the_tiles(tmp_path):
    rng = np.random.default_rng(0)
    a, b, c, d = (rng.normal(size=(4, 4)) for _ in range(4))
    tiles = [tile(tmp_path / "nw.tif", 108, 24, a), tile(tmp_path / "ne.tif", 110, 24, b),
             tile(tmp_path / "sw.tif", 108, 22, c), tile(tmp_path / "se.tif", 110, 22, d)]
    out = build_vrt(tiles, tmp_path / "sub" / "mosaic.vrt")
    with rasterio.open(out) as src:
        assert src.shape == (8, 8) and src.transform == Affine(0.5, 0, 108, 0, -0.5, 24)
        assert np.allclose(src.read(1), np.block([[a, b], [c, d]]))
    tile(tmp_path / "other.tif", 112, 24, a, crs="EPSG:3857")
    with pytest.raises(SitingError, match="cannot mosaic"):
        build_vrt([tmp_path / "nw.tif", tmp_path / "other.tif"], tmp_path / "bad.vrt")


def test_fetch_command(served, tmp_path, monkeypatch):  # noqa: F811
    server, _ = served
    import siting.io.regions as region

    box = gpd.GeoDataFrame(geometry=[shapely.box(*SMALL_BBOX)], crs="EPSG:4326")
    monkeypatch.setattr(region, "counties", lambda reg: box)
    r = CliRunner().invoke(app, ["fetch", "450521", "--datasets", "dem,landcover,wind", "--cache", str(tmp_path),
                                 "--base-url", server.base_url, "-q", "--timeout", "5"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "manifest.json").exists()
    assert list((tmp_path / "copernicus-dem-90m").glob("*.vrt"))
    r = CliRunner().invoke(app, ["fetch", "450521", "--datasets", "dems", "--cache", str(tmp_path), "-q"])
    assert r.exit_code == 2
