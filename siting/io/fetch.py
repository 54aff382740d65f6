"""Download the public rasters and polygons a region needs into a cache folder.

:func:`fetch` downloads only the files that cover a region's lon/lat bounding
box (tiled datasets) or the country files (single-file datasets), and
registers every file in ``manifest.json`` in the cache folder.

Cache folder
    The ``cache_dir`` argument, else ``$SITING_CACHE/rasters``, else
    ``./rasters`` (relative to the working directory).

Mirrors and tests
    The ``base_url`` argument, or else the ``SITING_FETCH_BASE_URL``
    environment variable, replaces the scheme and host of every URL while
    keeping the path layout: ``https://HOST/PATH?QUERY`` becomes
    ``BASE_URL/HOST/PATH?QUERY``.

Safety
    Each file is written to ``<name>.part``, fsynced, verified (sha256 when
    known, GeoTIFFs opened with rasterio, zips CRC-checked) and only then
    renamed to its final name, so a failed or interrupted download never
    replaces a good file. An interrupted ``.part`` is resumed with an HTTP
    ``Range`` request on the next attempt or run. The manifest is rewritten
    atomically after every file.

Transport
    Each request goes through pooch's ``HTTPDownloader`` (requests). pooch
    itself cannot resume: it writes every download into a new temporary file.
    So this module keeps the ``.part`` file, asks pooch's downloader for the
    rest of it with a ``Range`` header, and checks the answer in a requests
    response hook before the body is written (206 from the right offset
    appends; 200 starts over). Retries with back-off, 404 handling and the
    verification are this module's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from siting.io.atomic import atomic_path
from siting.errors import SitingError

BBox = tuple[float, float, float, float]
"""Lon/lat bounding box ``(west, south, east, north)`` in degrees (WGS-84)."""

ProgressCallback = Callable[[int, "int | None"], None]
"""Called with ``(bytes_done, bytes_total_or_None)`` while a file downloads."""

BASE_URL_ENV = "SITING_FETCH_BASE_URL"
CACHE_ENV = "SITING_CACHE"
MANIFEST_NAME = "manifest.json"
STATUS_OK = "ok"
STATUS_MISSING = "missing (404)"
USER_AGENT = "siting-fetch/0.2 (pooch)"
CHUNK_BYTES = 1 << 16
# Bytes per write while downloading: a connection cut loses at most this much of what was received.
DOWNLOAD_CHUNK_BYTES = 1 << 14

COPERNICUS_LICENCE = ("Copernicus DEM licence: free and open, attribution required "
                      "(© DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH 2014-2018 provided under "
                      "COPERNICUS by the European Union and ESA; all rights reserved)")
GWA_BASE_URL = "https://globalwindatlas.info"
GSA_BASE_URL = "https://api.globalsolaratlas.info"
SOLAR_URL = (f"{GSA_BASE_URL}/download/China/"
             "China_GISdata_LTAy_AvgDailyTotals_GlobalSolarAtlas-v2_GEOTIFF.zip")
SOLAR_MEMBERS = ("GHI.tif", "PVOUT.tif")
WORLDCOVER_BASE_URL = "https://esa-worldcover.s3.eu-central-1.amazonaws.com"
WORLDCOVER_TILE_DEG = 3
ETOPO_BASE_URL = "https://www.ngdc.noaa.gov"
ETOPO_FOLDER = "/mgg/global/relief/ETOPO2022/data/15s/15s_surface_elev_gtif"
ETOPO_TILE_DEG = 15
ETOPO_LICENCE = ("public domain (U.S. Government work); cite: NOAA National Centers for Environmental Information "
                 "2022, ETOPO 2022 15 Arc-Second Global Relief Model, doi:10.25921/fd45-gt74")
ZENODO_BASE_URL = "https://zenodo.org"
RESERVES_RECORD = "14875797"
RESERVES_FILENAME = "China_Nature_Reserves.zip"


# --------------------------------------------------------------------------- registry


class Download(NamedTuple):
    """One file to download.

    Attributes
    ----------
    url : str
        Public URL (before any base-URL override).
    path : str
        Path relative to the cache folder, with ``/`` separators.
    sha256 : str or None
        Expected sha256 (hex) when published, else None.
    resolution : str or None
        Resolution text for this file when it differs from the dataset's.
    """

    url: str
    path: str
    sha256: str | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class DemVariant:
    """One Copernicus DEM product on its public bucket."""

    base_url: str
    code: str
    resolution: str


DEM_VARIANTS: dict[str, DemVariant] = {
    "glo90": DemVariant("https://copernicus-dem-90m.s3.amazonaws.com", "30", "3 arc-second (~90 m), 1°×1° tiles"),
    "glo30": DemVariant("https://copernicus-dem-30m.s3.amazonaws.com", "10", "1 arc-second (~30 m), 1°×1° tiles"),
}


@dataclass(frozen=True)
class FetchOptions:
    """Choices that change which files a dataset needs.

    Attributes
    ----------
    dem : str
        ``"glo90"`` (default) or ``"glo30"``.
    wind_weibull : bool
        Also fetch the Weibull A and k layers of the Global Wind Atlas.
    wind_country : str
        ISO 3166-1 alpha-3 code of the Global Wind Atlas country file.
    wind_height_m : int
        Height above ground of the Global Wind Atlas layers (10, 50, 100, 150 or 200).
    solar_url : str
        URL of the Global Solar Atlas GIS-data zip.
    solar_members : tuple of str
        GeoTIFFs extracted from the solar zip (matched by file name).
    reserves_filename : str
        File name in Zenodo record 14875797.
    sea_reach_deg : float
        Bathymetry: how far beyond the region's bounding box to fetch, in degrees (the sea areas of
        offshore wind reach 100 km from the shore, about 0.9° of latitude).
    """

    dem: str = "glo90"
    wind_weibull: bool = False
    wind_country: str = "CHN"
    wind_height_m: int = 100
    solar_url: str = SOLAR_URL
    solar_members: tuple[str, ...] = SOLAR_MEMBERS
    reserves_filename: str = RESERVES_FILENAME
    sea_reach_deg: float = 1.0


@dataclass(frozen=True)
class Dataset:
    """A downloadable public dataset.

    Attributes
    ----------
    name : str
        Key used on the command line.
    description : str
        What the files contain.
    licence : str
        Licence and attribution, copied into the manifest.
    resolution : str
        Nominal resolution text, copied into the manifest.
    base_url : str
        Default origin of the files (replaced by the base-URL override).
    urls : callable
        ``urls(bbox, options) -> list[Download]``.
    tiled : bool
        A 404 means "no tile here" (open ocean) and is recorded, not raised.
    extract : callable or None
        ``extract(options) -> tuple of member names`` to unpack from a
        downloaded zip, or None to keep the file as downloaded.
    """

    name: str
    description: str
    licence: str
    resolution: str
    base_url: str
    urls: Callable[[BBox, FetchOptions], list[Download]]
    tiled: bool = False
    extract: Callable[[FetchOptions], tuple[str, ...]] | None = None


def tile_corners(bbox: BBox, step_deg: int) -> list[tuple[int, int]]:
    """South-west corners ``(lat, lon)`` of the grid tiles covering a bbox.

    Parameters
    ----------
    bbox : tuple of float
        ``(west, south, east, north)`` in degrees.
    step_deg : int
        Tile size in degrees; tiles start at multiples of it.

    Returns
    -------
    list of tuple of int
        Sorted by latitude, then longitude.
    """
    west, south, east, north = _check_bbox(bbox)
    lats = _grid_steps(south, north, step_deg, -90, 90)
    lons = _grid_steps(west, east, step_deg, -180, 180)
    return [(lat, lon) for lat in lats for lon in lons]


def _grid_steps(lo_deg: float, hi_deg: float, step_deg: int, min_deg: int, max_deg: int) -> range:
    """Starts of the ``step_deg`` intervals that overlap ``[lo_deg, hi_deg]``."""
    first = max(min_deg, math.floor(lo_deg / step_deg) * step_deg)
    last = min(max_deg - step_deg, math.ceil(hi_deg / step_deg) * step_deg - step_deg)
    return range(first, max(first, last) + 1, step_deg)


def _hemi(value: int, positive: str, negative: str, width: int) -> str:
    return f"{positive if value >= 0 else negative}{abs(value):0{width}d}"


def dem_tile_name(lat: int, lon: int, dem: str = "glo90") -> str:
    """Copernicus DEM tile name for a south-west corner, e.g. ``Copernicus_DSM_COG_30_N22_00_E108_00_DEM``."""
    code = _dem_variant(dem).code
    return f"Copernicus_DSM_COG_{code}_{_hemi(lat, 'N', 'S', 2)}_00_{_hemi(lon, 'E', 'W', 3)}_00_DEM"


def worldcover_tile_name(lat: int, lon: int) -> str:
    """ESA WorldCover v200 (2021) tile file name for a south-west corner at multiples of 3°."""
    return f"ESA_WorldCover_10m_2021_v200_{_hemi(lat, 'N', 'S', 2)}{_hemi(lon, 'E', 'W', 3)}_Map.tif"


def etopo_tile_name(lat: int, lon: int) -> str:
    """ETOPO 2022 15 arc-second tile for a south-west corner at multiples of 15°; the name gives its
    north-west corner, e.g. ``ETOPO_2022_v1_15s_N30E105_surface.tif`` for 15-30° N, 105-120° E."""
    return f"ETOPO_2022_v1_15s_{_hemi(lat + ETOPO_TILE_DEG, 'N', 'S', 2)}{_hemi(lon, 'E', 'W', 3)}_surface.tif"


def _dem_variant(dem: str) -> DemVariant:
    try:
        return DEM_VARIANTS[dem]
    except KeyError:
        raise SitingError(f"--dem {dem}: unknown DEM; choose from {', '.join(DEM_VARIANTS)}") from None


def _dem_urls(bbox: BBox, options: FetchOptions) -> list[Download]:
    variant = _dem_variant(options.dem)
    folder = urllib.parse.urlsplit(variant.base_url).netloc.split(".")[0]
    out = []
    for lat, lon in tile_corners(bbox, 1):
        name = dem_tile_name(lat, lon, options.dem)
        out.append(Download(f"{variant.base_url}/{name}/{name}.tif", f"{folder}/{name}.tif",
                            resolution=variant.resolution))
    return out


def _wind_urls(bbox: BBox, options: FetchOptions) -> list[Download]:
    layers = ["wind-speed"] + (["weibull-a", "weibull-k"] if options.wind_weibull else [])
    iso3, height = options.wind_country.upper(), int(options.wind_height_m)
    return [Download(f"{GWA_BASE_URL}/api/gis/country/{iso3}/{layer}/{height}", f"gwa/{iso3}_{layer}_{height}m.tif")
            for layer in layers]


def _solar_urls(bbox: BBox, options: FetchOptions) -> list[Download]:
    name = PurePosixPath(urllib.parse.urlsplit(options.solar_url).path).name or "solar.zip"
    return [Download(options.solar_url, f"gsa/{name}")]


def _solar_members(options: FetchOptions) -> tuple[str, ...]:
    return tuple(options.solar_members)


def _landcover_urls(bbox: BBox, options: FetchOptions) -> list[Download]:
    out = []
    for lat, lon in tile_corners(bbox, WORLDCOVER_TILE_DEG):
        name = worldcover_tile_name(lat, lon)
        out.append(Download(f"{WORLDCOVER_BASE_URL}/v200/2021/map/{name}", f"esa-worldcover/{name}"))
    return out


def sea_bbox(bbox: BBox, reach_deg: float) -> BBox:
    """A bounding box widened by ``reach_deg`` on every side (clipped to the globe)."""
    west, south, east, north = _check_bbox(bbox)
    return (max(-180.0, west - reach_deg), max(-90.0, south - reach_deg), min(180.0, east + reach_deg),
            min(90.0, north + reach_deg))


def _bathymetry_urls(bbox: BBox, options: FetchOptions) -> list[Download]:
    out = []
    for lat, lon in tile_corners(sea_bbox(bbox, options.sea_reach_deg), ETOPO_TILE_DEG):
        name = etopo_tile_name(lat, lon)
        out.append(Download(f"{ETOPO_BASE_URL}{ETOPO_FOLDER}/{name}", f"etopo2022/{name}"))
    return out


def _reserves_urls(bbox: BBox, options: FetchOptions) -> list[Download]:
    name = options.reserves_filename
    quoted = urllib.parse.quote(name)
    return [Download(f"{ZENODO_BASE_URL}/records/{RESERVES_RECORD}/files/{quoted}?download=1", f"reserves/{name}")]


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("dem", "Copernicus DEM GLO-90 (or GLO-30) elevation, 1°×1° Cloud-Optimized GeoTIFF tiles",
            COPERNICUS_LICENCE, DEM_VARIANTS["glo90"].resolution, DEM_VARIANTS["glo90"].base_url,
            _dem_urls, tiled=True),
    Dataset("wind", "Global Wind Atlas 3 country GeoTIFF: mean wind speed (and Weibull A, k) at 100 m",
            "CC BY 4.0 (Global Wind Atlas 3.x, DTU Wind Energy and the World Bank Group)",
            "0.0025° (~250 m)", GWA_BASE_URL, _wind_urls),
    Dataset("solar", "Global Solar Atlas 2 long-term daily averages for China: GHI and PVOUT GeoTIFFs (from a zip)",
            "CC BY 4.0 (Global Solar Atlas 2.0, the World Bank Group and Solargis)",
            "nominal 9 arc-second (~250 m); see the pixel_size recorded per file", GSA_BASE_URL, _solar_urls,
            extract=_solar_members),
    Dataset("landcover", "ESA WorldCover 10 m v200 (2021) land cover, 3°×3° GeoTIFF tiles",
            "CC BY 4.0 (© ESA WorldCover project 2021; contains modified Copernicus Sentinel data (2021) "
            "processed by the ESA WorldCover consortium)",
            "10 m (1/12000°), 3°×3° tiles", WORLDCOVER_BASE_URL, _landcover_urls, tiled=True),
    Dataset("bathymetry", "ETOPO 2022 15 arc-second relief (sea-floor depth and land heights), 15°×15° GeoTIFF "
            "tiles covering the region and the sea off it", ETOPO_LICENCE, "15 arc-second (~450 m), 15°×15° tiles",
            ETOPO_BASE_URL, _bathymetry_urls, tiled=True),
    Dataset("reserves", f"China nature-reserve polygons (Zenodo record {RESERVES_RECORD})",
            f"as stated on Zenodo record {RESERVES_RECORD}; check it before redistributing",
            "vector polygons", ZENODO_BASE_URL, _reserves_urls),
)}


def resolve_datasets(datasets: str | Iterable[str | Dataset]) -> list[Dataset]:
    """Turn ``"dem,wind"`` or a list of names / :class:`Dataset` objects into datasets.

    Raises
    ------
    SitingError
        For an unknown name.
    """
    items = datasets.split(",") if isinstance(datasets, str) else list(datasets)
    out: list[Dataset] = []
    for item in items:
        if isinstance(item, Dataset):
            out.append(item)
            continue
        key = str(item).strip().lower()
        if not key:
            continue
        if key not in DATASETS:
            raise SitingError(f"dataset '{key}': unknown; choose from {', '.join(DATASETS)}")
        out.append(DATASETS[key])
    if not out:
        raise SitingError(f"--datasets: none given; choose from {', '.join(DATASETS)}")
    return out


def rebase_url(url: str, base_url: str | None) -> str:
    """Replace scheme and host of ``url`` with ``base_url``, keeping the host as the first path part.

    ``rebase_url("https://h.example/a/b?x=1", "http://127.0.0.1:8000")`` is
    ``"http://127.0.0.1:8000/h.example/a/b?x=1"``. ``base_url=None`` or
    ``""`` returns ``url`` unchanged.
    """
    if not base_url:
        return url
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        raise SitingError(f"base URL '{base_url}': must start with http:// or https://")
    parts = urllib.parse.urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url.rstrip('/')}/{parts.netloc}{parts.path}{query}"


def plan(bbox: BBox, datasets: str | Iterable[str | Dataset],
         options: FetchOptions | None = None) -> list[tuple[Dataset, Download]]:
    """List the files :func:`fetch` would need for a bbox, without any network access.

    Parameters
    ----------
    bbox : tuple of float
        ``(west, south, east, north)`` in degrees.
    datasets : str or iterable
        Names (``"dem,wind"``) or :class:`Dataset` objects.
    options : FetchOptions, optional

    Returns
    -------
    list of (Dataset, Download)
        Public URLs (before any base-URL override).
    """
    _check_bbox(bbox)
    options = options or FetchOptions()
    return [(ds, item) for ds in resolve_datasets(datasets) for item in ds.urls(bbox, options)]


def _check_bbox(bbox: BBox) -> BBox:
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise SitingError(f"bounding box {bbox!r}: give four numbers (west, south, east, north)") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise SitingError(f"bounding box {bbox!r}: not finite")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise SitingError(f"bounding box {bbox!r}: need -180 <= west < east <= 180 and -90 <= south < north <= 90")
    return west, south, east, north


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class ManifestEntry:
    """One file registered in ``manifest.json``.

    Attributes
    ----------
    dataset, url, path : str
        Dataset name, URL downloaded from, path relative to the cache folder.
    size_bytes : int
        File size (0 when missing).
    sha256 : str or None
        Hex digest of the file (None when missing).
    licence, resolution : str
        Copied from the registry.
    fetched_utc : str
        ISO 8601 UTC time of the download.
    status : str
        ``"ok"`` or ``"missing (404)"``.
    pixel_size : str or None
        Pixel size and CRS read from a raster, e.g. ``"0.0025 x 0.0025 EPSG:4326"``.
    extracted_from : str or None
        Cache path of the zip the file was extracted from.
    reused : bool
        True when :func:`fetch` found the file already present (not stored).
    """

    dataset: str
    url: str
    path: str
    size_bytes: int
    sha256: str | None
    licence: str
    resolution: str
    fetched_utc: str
    status: str = STATUS_OK
    pixel_size: str | None = None
    extracted_from: str | None = None
    reused: bool = dataclasses.field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (without ``reused``)."""
        doc = dataclasses.asdict(self)
        doc.pop("reused")
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ManifestEntry:
        """Build from a manifest dict, tolerating missing optional keys."""
        names = {f.name for f in dataclasses.fields(cls)} - {"reused"}
        values = {k: doc.get(k) for k in names}
        values["size_bytes"] = int(values["size_bytes"] or 0)
        for key in ("dataset", "url", "path", "licence", "resolution", "fetched_utc"):
            values[key] = str(values[key] or "")
        values["status"] = str(values["status"] or STATUS_OK)
        return cls(**values)


def default_cache_dir() -> Path:
    """``$SITING_CACHE/rasters`` if ``SITING_CACHE`` is set, else ``./rasters``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) / "rasters" if root else Path("rasters")


def read_manifest(cache_dir: str | os.PathLike) -> dict[str, ManifestEntry]:
    """Entries of ``manifest.json`` in ``cache_dir`` keyed by path (empty when absent)."""
    return {d["path"]: ManifestEntry.from_dict(d) for d in _read_manifest_docs(Path(cache_dir))
            if isinstance(d, dict) and d.get("path")}


def _read_manifest_docs(cache_dir: Path) -> list[Any]:
    path = cache_dir / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SitingError(f"{path}: not a readable manifest ({exc}); fix or delete it") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise SitingError(f"{path}: not a manifest (no 'files' list); fix or delete it")
    return files


def _record(cache_dir: Path, entry: ManifestEntry) -> None:
    """Add or replace one entry, re-reading the manifest first; entries of other tools are kept."""
    docs = [d for d in _read_manifest_docs(cache_dir) if not (isinstance(d, dict) and d.get("path") == entry.path)]
    docs.append(entry.to_dict())
    docs.sort(key=lambda d: str(d.get("path", "")) if isinstance(d, dict) else "")
    text = json.dumps({"files": docs}, ensure_ascii=False, indent=1) + "\n"
    with atomic_path(cache_dir / MANIFEST_NAME) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    _fsync_dir(cache_dir)


def _now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- HTTP


class _Retryable(Exception):
    """A transient failure: connection error, timeout, HTTP 5xx/429 or a body cut short."""


class _NotFound(Exception):
    """HTTP 404."""


class _RangeNotSatisfiable(_Retryable):
    """HTTP 416: the ``.part`` file does not fit the remote file; start again."""


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _content_range_start(value: str | None) -> int | None:
    """First byte of ``Content-Range: bytes START-END/TOTAL``, or None."""
    if not value or not value.strip().lower().startswith("bytes "):
        return None
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


class _Progress:
    """The progress object pooch's downloader updates (tqdm's interface), forwarding to a callback."""

    def __init__(self, on_progress: ProgressCallback, offset_bytes: int, chunk_bytes: int) -> None:
        self.on_progress, self.offset, self.chunk = on_progress, offset_bytes, chunk_bytes
        self.total = 0
        self.done = 0

    def update(self, n: int) -> None:
        self.done = min(self.done + n, self.total) if self.total else self.done + n
        self.on_progress(self.offset + self.done, self.offset + self.total if self.total else None)

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        pass


def _attempt(url: str, part: Path, timeout_s: float, on_progress: ProgressCallback) -> None:
    """One GET through pooch's HTTP downloader, appending to ``part`` when resuming.

    pooch downloads a whole file into a fresh temporary file; it has no resume. A ``Range`` header
    (passed through to requests) asks for the rest of ``part``, and a requests response hook looks at
    the answer before the body is written: 206 from the expected offset appends, 200 (the server
    ignored the range) truncates ``part`` and writes the whole file, anything else raises.
    """
    import pooch
    import requests

    offset_bytes = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset_bytes:
        headers["Range"] = f"bytes={offset_bytes}-"
    expected: dict[str, int | None] = {"total": None}

    with open(part, "ab") as fh:
        def check(response, *args, **kwargs):
            if response.status_code == 206:
                if _content_range_start(response.headers.get("Content-Range")) != offset_bytes:
                    fh.truncate(0)
                    raise _Retryable("server resumed at an unexpected offset; restarting")
                start = offset_bytes
            elif response.status_code == 200:
                fh.truncate(0)  # the whole file follows
                start = 0
            else:
                return response  # raise_for_status() reports it
            length = response.headers.get("Content-Length")
            expected["total"] = start + int(length) if length and length.isdigit() else None
            progress.offset = start
            return response

        progress = _Progress(on_progress, offset_bytes, DOWNLOAD_CHUNK_BYTES)
        download = pooch.HTTPDownloader(progressbar=progress, chunk_size=DOWNLOAD_CHUNK_BYTES, headers=headers,
                                        timeout=timeout_s, hooks={"response": check})
        try:
            download(url, fh, None)
        except requests.HTTPError as exc:
            code = exc.response.status_code if exc.response is not None else 0
            if code == 404:
                raise _NotFound() from None
            if code == 416:
                fh.truncate(0)
                raise _RangeNotSatisfiable("HTTP 416 (range not satisfiable); restarting") from None
            if code >= 500 or code in (408, 429):
                raise _Retryable(f"HTTP {code} {exc.response.reason}") from None
            raise SitingError(f"{url}: HTTP {code} {exc.response.reason}") from None
        except requests.Timeout:
            raise _Retryable(f"timeout after {timeout_s:g} s") from None
        except (requests.RequestException, OSError) as exc:  # connection errors, bodies cut short
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        finally:
            fh.flush()
            os.fsync(fh.fileno())
    size = part.stat().st_size
    if expected["total"] is not None and size < expected["total"]:
        raise _Retryable(f"connection closed after {size} of {expected['total']} bytes")


def download_part(url: str, part: Path, *, timeout_s: float = 30.0, retries: int = 4, backoff_s: float = 1.0,
                  on_progress: ProgressCallback | None = None) -> None:
    """Download ``url`` into ``part``, resuming an existing ``part`` with HTTP Range.

    Parameters
    ----------
    url : str
    part : Path
        The ``.part`` file; kept after a final failure so a later run resumes.
    timeout_s : float
        Socket timeout for connecting and for each read.
    retries : int
        Extra attempts after the first, on connection errors, timeouts,
        HTTP 5xx/429 and bodies cut short.
    backoff_s : float
        Wait before retry ``k`` is ``backoff_s * 2 ** (k - 1)``.
    on_progress : callable, optional
        ``on_progress(bytes_done, bytes_total_or_None)``.

    Raises
    ------
    _NotFound
        On HTTP 404 (the caller decides whether that is an error).
    SitingError
        On other HTTP 4xx, or when every attempt failed (the message names
        the URL and the last problem, e.g. a timeout).
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    callback = on_progress or (lambda done, total: None)
    last = "no attempt made"
    for attempt in range(max(0, int(retries)) + 1):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        try:
            _attempt(url, part, timeout_s, callback)
            return
        except _Retryable as exc:
            last = str(exc)
    raise SitingError(f"{url}: download failed after {attempt + 1} attempt(s); last error: {last}")


# --------------------------------------------------------------------------- verification


def _check_geotiff(path: Path, url: str) -> str:
    """Open a GeoTIFF with rasterio and read its first and last pixel; return its pixel size text.

    Raises
    ------
    SitingError
        Naming ``url`` when the file is not a readable GeoTIFF.
    """
    import rasterio
    from rasterio.windows import Window

    try:
        with rasterio.open(path) as src:
            if src.driver != "GTiff":
                raise ValueError(f"{src.driver} file, not a GeoTIFF")
            src.read(1, window=Window(0, 0, 1, 1))
            src.read(src.count, window=Window(src.width - 1, src.height - 1, 1, 1))
            crs = src.crs.to_string() if src.crs else "no CRS"
            return f"{src.res[0]:.10g} x {src.res[1]:.10g} {crs}"
    except Exception as exc:  # any failure to open or read means the file is unusable
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SitingError(f"{url}: downloaded file is not a readable GeoTIFF ({first_line}); discarded") from None


def _check_zip(path: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SitingError(f"{url}: downloaded file is not a valid zip ({exc}); discarded") from None
    if bad is not None:
        raise SitingError(f"{url}: downloaded zip is corrupt (CRC error in {bad}); discarded")


def _verify(part: Path, url: str, expected_sha256: str | None) -> tuple[str, str | None]:
    """Check a finished ``.part`` file; return ``(sha256, pixel_size)``. Deletes it on failure."""
    try:
        digest = sha256_file(part)
        if expected_sha256 and digest != expected_sha256.lower():
            raise SitingError(f"{url}: sha256 mismatch (expected {expected_sha256.lower()}, got {digest}); "
                              "download discarded")
        suffix = part.name[: -len(".part")].lower().rsplit(".", 1)[-1]
        pixel_size = _check_geotiff(part, url) if suffix in ("tif", "tiff") else None
        if suffix == "zip":
            _check_zip(part, url)
        return digest, pixel_size
    except SitingError:
        part.unlink(missing_ok=True)
        raise


def _install(part: Path, dest: Path) -> None:
    """Rename a verified ``.part`` to its final name (atomic on one file system)."""
    os.replace(part, dest)
    _fsync_dir(dest.parent)


# --------------------------------------------------------------------------- progress


class _Bars:
    """Rich progress bars on stderr, or nothing when disabled."""

    def __init__(self, enabled: bool) -> None:
        self._progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                                       TransferSpeedColumn)

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                      TransferSpeedColumn(), TimeRemainingColumn(),
                                      console=Console(stderr=True))

    @contextmanager
    def running(self) -> Iterator[_Bars]:
        if self._progress is None:
            yield self
            return
        with self._progress:
            yield self

    def task(self, label: str) -> ProgressCallback:
        if self._progress is None:
            return lambda done, total: None
        progress = self._progress
        task_id = progress.add_task(label, total=None)

        def update(done_bytes: int, total_bytes: int | None) -> None:
            progress.update(task_id, completed=done_bytes, total=total_bytes)

        return update

    def note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, highlight=False, markup=False)


# --------------------------------------------------------------------------- fetch


@dataclass
class _Context:
    cache_dir: Path
    manifest: dict[str, ManifestEntry]
    base_url: str | None
    timeout_s: float
    retries: int
    backoff_s: float
    bars: _Bars
    options: FetchOptions

    def record(self, entry: ManifestEntry) -> ManifestEntry:
        _record(self.cache_dir, entry)
        self.manifest[entry.path] = entry
        return entry


def _entry(ds: Dataset, item: Download, url: str, path: Path, ctx: _Context, sha256: str | None,
           pixel_size: str | None = None, status: str = STATUS_OK, extracted_from: str | None = None,
           rel_path: str | None = None) -> ManifestEntry:
    return ManifestEntry(dataset=ds.name, url=url, path=rel_path or item.path,
                         size_bytes=path.stat().st_size if status == STATUS_OK else 0, sha256=sha256,
                         licence=ds.licence, resolution=item.resolution or ds.resolution,
                         fetched_utc=_now_utc(), status=status, pixel_size=pixel_size,
                         extracted_from=extracted_from)


def _is_current(prior: ManifestEntry | None, dest: Path, expected_sha256: str | None) -> bool:
    """The manifest lists ``dest`` as ok and the file on disk still has that sha256 (and the expected one)."""
    if prior is None or prior.status != STATUS_OK or not prior.sha256 or not dest.is_file():
        return False
    if expected_sha256 and prior.sha256 != expected_sha256.lower():
        return False
    return dest.stat().st_size == prior.size_bytes and sha256_file(dest) == prior.sha256


def _adoptable(prior: ManifestEntry | None, dest: Path, expected_sha256: str | None) -> bool:
    """An unregistered file already on disk that matches a published sha256."""
    return prior is None and bool(expected_sha256) and dest.is_file() and \
        sha256_file(dest) == str(expected_sha256).lower()


def _download_item(ds: Dataset, item: Download, ctx: _Context) -> ManifestEntry:
    """Download, verify and install one file; a 404 on a tiled dataset is recorded as missing."""
    url = rebase_url(item.url, ctx.base_url)
    dest = ctx.cache_dir / item.path
    part = _part_path(dest)
    try:
        download_part(url, part, timeout_s=ctx.timeout_s, retries=ctx.retries, backoff_s=ctx.backoff_s,
                      on_progress=ctx.bars.task(PurePosixPath(item.path).name))
    except _NotFound:
        part.unlink(missing_ok=True)
        if not ds.tiled:
            raise SitingError(f"{url}: not found (HTTP 404)") from None
        ctx.bars.note(f"{PurePosixPath(item.path).name}: no tile (HTTP 404), recorded as missing")
        return ctx.record(_entry(ds, item, url, dest, ctx, None, status=STATUS_MISSING))
    digest, pixel_size = _verify(part, url, item.sha256)
    _install(part, dest)
    return ctx.record(_entry(ds, item, url, dest, ctx, digest, pixel_size))


def _fetch_item(ds: Dataset, item: Download, ctx: _Context) -> ManifestEntry:
    """One file: reuse it when current, skip a tile known to be missing, else download it."""
    dest = ctx.cache_dir / item.path
    prior = ctx.manifest.get(item.path)
    url = rebase_url(item.url, ctx.base_url)
    if _is_current(prior, dest, item.sha256):
        return dataclasses.replace(prior, reused=True)
    if prior is not None and prior.status == STATUS_MISSING and prior.url == url and ds.tiled:
        return dataclasses.replace(prior, reused=True)
    if _adoptable(prior, dest, item.sha256):
        return ctx.record(_entry(ds, item, url, dest, ctx, str(item.sha256).lower(),
                                 _check_geotiff(dest, url) if dest.suffix.lower() in (".tif", ".tiff") else None))
    return _download_item(ds, item, ctx)


def _extract_member(zf: zipfile.ZipFile, member: str, dest: Path, url: str) -> tuple[str, str | None]:
    """Copy one zip member (matched by file name, any folder) to ``dest`` via a verified ``.part``."""
    infos = {PurePosixPath(i.filename).name.lower(): i for i in zf.infolist() if not i.is_dir()}
    info = infos.get(member.lower())
    if info is None:
        raise SitingError(f"{url}: the zip has no {member} (it holds {', '.join(sorted(infos)) or 'nothing'})")
    part = _part_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(part, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK_BYTES)
        dst.flush()
        os.fsync(dst.fileno())
    result = _verify(part, f"{url} ({member})", None)
    _install(part, dest)
    return result


def _extract_items(ds: Dataset, item: Download, zip_entry: ManifestEntry, ctx: _Context) -> list[ManifestEntry]:
    """Unpack the dataset's members from a zip into ``<zip stem>/``.

    Members extracted earlier are reused only when the zip itself was reused
    (a freshly downloaded zip is always unpacked again).
    """
    zip_path = ctx.cache_dir / item.path
    folder = PurePosixPath(item.path).with_suffix("")
    out = []
    for member in ds.extract(ctx.options) if ds.extract else ():
        rel = str(folder / member)
        dest = ctx.cache_dir / rel
        prior = ctx.manifest.get(rel)
        if zip_entry.reused and _is_current(prior, dest, None):
            out.append(dataclasses.replace(prior, reused=True))
            continue
        with zipfile.ZipFile(zip_path) as zf:
            digest, pixel_size = _extract_member(zf, member, dest, zip_entry.url)
        out.append(ctx.record(_entry(ds, item, zip_entry.url, dest, ctx, digest, pixel_size,
                                     extracted_from=item.path, rel_path=rel)))
    return out


def resolve_cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    """The ``cache_dir`` argument, else :func:`default_cache_dir`; created if needed."""
    path = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SitingError(f"{path}: cannot create the cache folder ({exc.strerror or exc})") from None
    return path


def fetch(region_bounds_ll: BBox, datasets: str | Iterable[str | Dataset] = tuple(DATASETS),
          cache_dir: str | os.PathLike | None = None, base_url: str | None = None, timeout_s: float = 30.0,
          retries: int = 4, backoff_s: float = 1.0, progress: bool = True,
          options: FetchOptions | None = None) -> list[ManifestEntry]:
    """Download the files of ``datasets`` that cover a lon/lat bounding box and register them.

    Parameters
    ----------
    region_bounds_ll : tuple of float
        ``(west, south, east, north)`` in degrees, e.g. ``counties(region).total_bounds``.
    datasets : str or iterable
        ``"dem,wind,solar,landcover,reserves"``, a list of names, or :class:`Dataset` objects.
    cache_dir : path, optional
        Cache folder; default ``$SITING_CACHE/rasters``, else ``./rasters``.
    base_url : str, optional
        Mirror replacing scheme and host of every URL (see :func:`rebase_url`);
        default ``$SITING_FETCH_BASE_URL``, else the public hosts.
    timeout_s : float
        Socket timeout for connecting and each read, in seconds.
    retries : int
        Extra attempts per file on connection errors, timeouts, HTTP 5xx/429
        and bodies cut short; each resumes the ``.part`` file with HTTP Range.
    backoff_s : float
        Wait before retry ``k`` is ``backoff_s * 2 ** (k - 1)`` seconds.
    progress : bool
        Show rich progress bars on stderr.
    options : FetchOptions, optional
        DEM variant, Weibull layers, solar URL, reserves file name.

    Returns
    -------
    list of ManifestEntry
        One per requested file (extracted zip members included), in plan
        order; ``reused`` is True for files that were already current.

    Raises
    ------
    SitingError
        On a bad bbox or dataset name, a 404 for a single-file dataset, a
        non-retryable HTTP error, exhausted retries (e.g. timeouts), a sha256
        mismatch or a corrupt GeoTIFF/zip. The message names the URL. Files
        already in the cache and their manifest entries are never lost.
    """
    options = options or FetchOptions()
    items = plan(region_bounds_ll, datasets, options)
    base = base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or None
    rebase_url("https://check.invalid/", base)  # validate the override before any download
    folder = resolve_cache_dir(cache_dir)
    ctx = _Context(folder, read_manifest(folder), base, float(timeout_s), int(retries), float(backoff_s),
                   _Bars(progress), options)
    entries: list[ManifestEntry] = []
    with ctx.bars.running():
        for ds, item in items:
            entry = _fetch_item(ds, item, ctx)
            entries.append(entry)
            if ds.extract is not None and entry.status == STATUS_OK:
                entries.extend(_extract_items(ds, item, entry, ctx))
    return entries


@dataclass
class RegionFetch:
    """What :func:`fetch_region` brought into the cache for one region."""

    region: Any
    bounds_ll: BBox
    folder: Path
    entries: list[ManifestEntry]
    mosaics: list[Path]
    scenario: Any = None  # siting.io.fetched.WrittenScenario

    def summary(self) -> str:
        new = sum(e.status == STATUS_OK and not e.reused for e in self.entries)
        kept = sum(e.status == STATUS_OK and e.reused for e in self.entries)
        missing = sum(e.status != STATUS_OK for e in self.entries)
        return (f"{self.region.name_pinyin} ({self.region.adcode}) bbox "
                f"{', '.join(f'{v:.2f}' for v in self.bounds_ll)}: {new} downloaded, {kept} already present, "
                f"{missing} tiles with no data (HTTP 404)")


def fetch_region(region, datasets: str | Iterable[str | Dataset] = tuple(DATASETS), *,
                 cache_dir: str | os.PathLike | None = None, base_url: str | None = None, timeout_s: float = 30.0,
                 progress: bool = True, options: FetchOptions | None = None) -> RegionFetch:
    """Fetch the open data covering a region and mosaic tiled datasets (DEM, land cover) into one VRT each.

    Parameters
    ----------
    region : str or Region
        Province, city or county (adcode, Chinese name or pinyin).
    Other parameters as :func:`fetch`.

    Returns
    -------
    RegionFetch
    """
    from siting.io.fetched import write_scenario
    from siting.io.regions import Region, counties, resolve

    reg = region if isinstance(region, Region) else resolve(region)
    bounds = tuple(float(v) for v in counties(reg).total_bounds)
    entries = fetch(bounds, datasets, cache_dir=cache_dir, base_url=base_url, timeout_s=timeout_s,
                    progress=progress, options=options)
    folder = resolve_cache_dir(cache_dir)
    empty = sorted({e.dataset for e in entries} - {e.dataset for e in entries if e.status == STATUS_OK})
    if empty:
        origin = base_url or os.environ.get(BASE_URL_ENV) or "the public hosts"
        asked = sum(e.dataset in empty for e in entries)
        raise SitingError(f"siting fetch {reg.name_pinyin.lower()}: nothing came for {', '.join(empty)} from {origin}: "
                          f"all {asked} files answered 404 (no data); check --base-url or {BASE_URL_ENV}")
    written = write_scenario(folder, reg, bounds, options)
    stem = reg.name_pinyin.lower() + "_" + reg.adcode
    mosaics = sorted(p for p in folder.glob(f"*/{stem}.vrt"))
    return RegionFetch(region=reg, bounds_ll=bounds, folder=folder, entries=entries, mosaics=mosaics,
                       scenario=written)
