"""Mosaic tiles (DEM, land cover) into one GDAL VRT file, so that a layer can name a single source."""

from __future__ import annotations

import html
import os
from pathlib import Path

import rasterio

from siting.io.atomic import write_text_atomic
from siting.errors import SitingError


def build_vrt(tiles: list[Path], out_path: Path) -> Path:
    """Write a VRT mosaic of same-CRS, same-resolution, north-up single-band tiles.

    Paths inside the VRT are relative to it, so the cache folder can move.

    Raises
    ------
    SitingError
        If the tiles differ in CRS, resolution, data type or band count.
    """
    if not tiles:
        raise SitingError(f"{out_path}: no tiles to mosaic")
    infos = []
    for t in sorted(tiles):
        with rasterio.open(t) as src:
            infos.append((t, src.crs, src.transform, src.width, src.height, src.dtypes[0], src.nodata, src.count))
    crs, tr0 = infos[0][1], infos[0][2]
    dx, dy = tr0.a, tr0.e
    for t, c, tr, _w, _h, dtype, _nd, count in infos:
        if c != crs or abs(tr.a - dx) > 1e-12 or abs(tr.e - dy) > 1e-12 or count != 1 or dtype != infos[0][5]:
            raise SitingError(f"{t}: differs from {infos[0][0]} in CRS, resolution, type or bands; cannot mosaic")
    left = min(tr.c for _, _, tr, *_ in infos)
    top = max(tr.f for _, _, tr, *_ in infos)
    right = max(tr.c + w * dx for _, _, tr, w, *_ in infos)
    bottom = min(tr.f + h * dy for _, _, tr, _w, h, *_ in infos)
    width, height = round((right - left) / dx), round((bottom - top) / dy)
    vrt_type = {"uint8": "Byte", "int16": "Int16", "uint16": "UInt16", "int32": "Int32", "uint32": "UInt32",
                "float32": "Float32", "float64": "Float64"}[infos[0][5]]
    nodata = infos[0][6]
    sources = []
    for t, _c, tr, w, h, *_ in infos:
        xoff, yoff = round((tr.c - left) / dx), round((tr.f - top) / dy)
        rel = os.path.relpath(t, out_path.parent)
        sources.append(
            f'    <SimpleSource><SourceFilename relativeToVRT="1">{html.escape(rel)}</SourceFilename>'
            f'<SourceBand>1</SourceBand><SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
            f'<DstRect xOff="{xoff}" yOff="{yoff}" xSize="{w}" ySize="{h}"/></SimpleSource>')
    nd = f"    <NoDataValue>{nodata}</NoDataValue>\n" if nodata is not None else ""
    text = (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">\n'
            f"  <SRS>{html.escape(crs.to_wkt())}</SRS>\n"
            f"  <GeoTransform>{left!r}, {dx!r}, 0.0, {top!r}, 0.0, {dy!r}</GeoTransform>\n"
            f'  <VRTRasterBand dataType="{vrt_type}" band="1">\n{nd}' + "\n".join(sources) +
            "\n  </VRTRasterBand>\n</VRTDataset>\n")
    write_text_atomic(out_path, text)
    return out_path
