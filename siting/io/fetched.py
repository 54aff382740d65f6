"""A ready scenario for the files ``siting fetch`` brought: every dataset declared as the layer the rules expect.

After a fetch, :func:`write_scenario` writes ``<cache>/<region>.toml`` (e.g. ``rasters/guangxi_450000.toml``):

==============  ==========================================  =====================================================
dataset         layer(s)                                    as declared
==============  ==========================================  =====================================================
dem             ``slope_deg`` (derived), ``elevation_m``    the region's VRT mosaic of Copernicus DEM tiles
landcover       ``land_cover``                              the VRT mosaic of ESA WorldCover tiles; the scenario
                                                            extends the ``worldcover`` preset (class mapping)
wind            ``wind_speed_ms`` (+ ``weibull_a_ms``,      Global Wind Atlas country GeoTIFF, ``height_m`` 100
                ``weibull_k``)
solar           ``ghi_kwh_per_m2_yr``, ``pvout_kwh_per_kwp``  Global Solar Atlas long-term *daily* totals, scaled
                                                            by 365.25 to annual
reserves        ``protected``                               the nature-reserve polygons from the Zenodo zip,
                                                            rasterised (1 = reserve)
bathymetry      ``water_depth_m``                           the VRT mosaic of ETOPO 2022 15 arc-second tiles,
                                                            scale -1 (elevation below sea level → depth,
                                                            positive down): the offshore depth rule and
                                                            foundation types
==============  ==========================================  =====================================================

Only what is in the folder is declared, so a partial fetch gives a partial scenario (the report then says
which rules are not applied); fetching more later adds it. Each layer carries a comment with its files'
sources, licences, dates and checksums. The first line of the file holds a digest of the rest: when a later
fetch finds the file changed by hand, it writes ``<region>.new.toml`` beside it instead and says so.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from siting.errors import SitingError
from siting.io.atomic import write_text_atomic
from siting.io.fetch import STATUS_OK, FetchOptions, plan, read_manifest

DIGEST_PREFIX = "# siting fetch scenario, digest "
VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")
DAYS_PER_YEAR = 365.25


@dataclass
class WrittenScenario:
    """What :func:`write_scenario` did.

    Attributes
    ----------
    path : Path
        The scenario file written.
    layers : list of str
        Layers it declares.
    missing : list of str
        Datasets not (yet) in the folder, whose rules the report will list as not applied.
    note : str
        One line for the user.
    """

    path: Path
    layers: list[str]
    missing: list[str]
    note: str


def scenario_path(folder: Path, region) -> Path:
    """Where the scenario of a region's fetched data lives: ``<folder>/<pinyin>_<adcode>.toml``."""
    return Path(folder) / f"{region.name_pinyin.lower()}_{region.adcode}.toml"


def _present(folder: Path, manifest: dict, bbox, dataset: str, options: FetchOptions) -> list:
    """Manifest entries (status ok, file on disk) of the files a dataset needs for the bbox."""
    out = []
    for _, item in plan(bbox, dataset, options):
        entry = manifest.get(item.path)
        if entry is not None and entry.status == STATUS_OK and (folder / item.path).exists():
            out.append(entry)
    return out


def _members(folder: Path, manifest: dict, zip_entry) -> list:
    return [e for e in manifest.values() if e.extracted_from == zip_entry.path and e.status == STATUS_OK
            and (folder / e.path).exists()]


def _comment(entries) -> str:
    lines = []
    for e in entries[:6]:
        lines.append(f"#   {e.path}: {e.url} (fetched {e.fetched_utc[:10]}, sha256 {str(e.sha256)[:16]}…)")
    if len(entries) > 6:
        lines.append(f"#   … and {len(entries) - 6} more tiles")
    if entries:
        lines.append(f"#   licence: {entries[0].licence}")
    return "\n".join(lines)


def _mosaic(folder: Path, entries, stem: str) -> Path:
    from siting.io.vrt import build_vrt

    tiles = [folder / e.path for e in entries if str(e.path).endswith(".tif")]
    return build_vrt(tiles, tiles[0].parent / f"{stem}.vrt")


def _reserves_vector(folder: Path, zip_entry) -> Path:
    """The vector file inside the reserves zip, extracted once beside it."""
    zpath = folder / zip_entry.path
    out = zpath.with_suffix("")
    try:
        with zipfile.ZipFile(zpath) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            vectors = [n for n in names if n.lower().endswith(VECTOR_SUFFIXES)]
            if not vectors:
                raise SitingError(f"{zpath}: no shapefile, GeoPackage or GeoJSON inside the reserves zip")
            for n in names:
                dest = out / Path(n).name
                if not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(zf.read(n))
    except zipfile.BadZipFile as exc:
        raise SitingError(f"{zpath}: not a valid zip ({exc})") from None
    return out / Path(sorted(vectors)[0]).name


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def scenario_text(folder: Path, region, bbox, options: FetchOptions | None = None) -> tuple[str, list[str], list[str]]:
    """The scenario for what the folder holds for a region: (TOML text, layers declared, datasets missing)."""
    options = options or FetchOptions()
    folder = Path(folder)
    stem = f"{region.name_pinyin.lower()}_{region.adcode}"
    manifest = read_manifest(folder)  # read once for every dataset
    blocks, layers, missing = [], [], []

    def layer(name: str, source: Path | str, comment: str, **fields) -> None:
        rel = Path(source).relative_to(folder).as_posix() if Path(source).is_absolute() else str(source)
        body = [f"[layers.{name}]", f"source = {_toml_str(rel)}"]
        for k, v in fields.items():
            body.append(f"{k} = {_toml_str(v) if isinstance(v, str) else ('true' if v is True else 'false' if v is False else v)}")
        blocks.append(comment + "\n" + "\n".join(body))
        layers.append(name)

    dem = _present(folder, manifest, bbox, "dem", options)
    if dem:
        mosaic = _mosaic(folder, dem, stem)
        c = "# Copernicus DEM tiles, mosaicked:\n" + _comment(dem)
        layer("slope_deg", mosaic, c, kind="continuous", units="degrees", derive="slope_deg",
              description="slope from the Copernicus DEM (Horn's method at the DEM's resolution)",
              licence=dem[0].licence)
        layer("elevation_m", mosaic, "# the same DEM as elevation (wind elevation rule, PV simulation)",
              kind="continuous", units="m", description="Copernicus DEM elevation", licence=dem[0].licence,
              coarse=False, valid_min=-450.0, valid_max=9000.0)
    else:
        missing.append("dem")
    land = _present(folder, manifest, bbox, "landcover", options)
    if land:
        mosaic = _mosaic(folder, land, stem)
        layer("land_cover", mosaic, "# ESA WorldCover tiles, mosaicked (class mapping: the worldcover preset):\n"
              + _comment(land), kind="categorical", units="WorldCover class", nodata=0, coarse=False,
              description="ESA WorldCover 10 m v200 (2021)", licence=land[0].licence)
    else:
        missing.append("landcover")
    wind = _present(folder, manifest, bbox, "wind", options)
    height = float(options.wind_height_m)
    names = {"wind-speed": ("wind_speed_ms", "m/s", "mean wind speed"), "weibull-a": ("weibull_a_ms", "m/s", "Weibull A"),
             "weibull-k": ("weibull_k", "1", "Weibull k")}
    if wind:
        for e in wind:
            key = next(k for k in names if f"_{k}_" in Path(e.path).name)
            name, units, what = names[key]
            extra = {"height_m": height} if name != "weibull_k" else {}
            layer(name, folder / e.path, "# Global Wind Atlas:\n" + _comment([e]), kind="continuous", units=units,
                  description=f"{what} at {height:g} m (Global Wind Atlas 3)", licence=e.licence, **extra)
    else:
        missing.append("wind")
    solar = _present(folder, manifest, bbox, "solar", options)
    members = _members(folder, manifest, solar[0]) if solar else []
    if members:
        for e in members:
            base = Path(e.path).name.upper()
            if base.startswith("GHI"):
                layer("ghi_kwh_per_m2_yr", folder / e.path, "# Global Solar Atlas GHI, long-term daily totals "
                      "(kWh/m²/day) x 365.25:\n" + _comment([e]), kind="continuous", units="kWh/m²/yr",
                      scale=DAYS_PER_YEAR, coarse=False, description="Global Solar Atlas 2 GHI", licence=e.licence,
                      valid_min=300.0, valid_max=3000.0)
            elif base.startswith("PVOUT"):
                layer("pvout_kwh_per_kwp", folder / e.path, "# Global Solar Atlas PVOUT, long-term daily totals "
                      "(kWh/kWp/day) x 365.25; used as the PV yield without simulation:\n" + _comment([e]),
                      kind="continuous", units="kWh/kWp/yr", scale=DAYS_PER_YEAR, coarse=False,
                      description="Global Solar Atlas 2 PVOUT (crystalline-silicon ground plant)", licence=e.licence,
                      valid_min=300.0, valid_max=3000.0)
    else:
        missing.append("solar")
    reserves = _present(folder, manifest, bbox, "reserves", options)
    if reserves:
        vector = _reserves_vector(folder, reserves[0])
        layer("protected", vector, "# China nature reserves (Zenodo record), rasterised, 1 = reserve:\n"
              + _comment(reserves), kind="categorical", units="1 = nature reserve", burn_value=1,
              description="China nature reserves (polygons)", licence=reserves[0].licence)
    else:
        missing.append("reserves")
    sea = _present(folder, manifest, bbox, "bathymetry", options)
    if sea:
        mosaic = _mosaic(folder, sea, stem)
        layer("water_depth_m", mosaic, "# ETOPO 2022 15 arc-second relief tiles, mosaicked; elevation x -1 = water "
              "depth (positive down, negative on land):\n" + _comment(sea), kind="continuous",
              units="m (positive down)", scale=-1.0, coarse=False,
              description="water depth from ETOPO 2022 (15 arc-second surface elevation, sign reversed)",
              licence=sea[0].licence, valid_min=-9000.0, valid_max=11000.0)
    else:
        missing.append("bathymetry")
    head = [f'extends = "{"worldcover" if land else "china"}"', "", "[meta]",
            f"name = {_toml_str(stem + '-fetched')}",
            f"description = {_toml_str('open data fetched by siting fetch for ' + region.label)}", ""]
    if missing:
        head.insert(0, f"# not fetched yet: {', '.join(missing)} (siting fetch {region.name_pinyin.lower()} "
                       f"--datasets {','.join(missing)}); their rules are reported as not applied")
    return "\n".join(head + ["\n\n".join(blocks), ""]), layers, missing


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def write_scenario(folder: Path, region, bbox, options: FetchOptions | None = None) -> WrittenScenario:
    """Write (or update) the scenario of a region's fetched data; a hand-edited file is never overwritten."""
    body, layers, missing = scenario_text(folder, region, bbox, options)
    text = f"{DIGEST_PREFIX}{_digest(body)}; edit freely (a later fetch then writes a .new.toml)\n{body}"
    path = scenario_path(folder, region)
    note = f"scenario: {path} ({len(layers)} layers" + (f"; not fetched: {', '.join(missing)})" if missing else ")")
    if path.exists():
        old = path.read_text(encoding="utf-8")
        first, _, rest = old.partition("\n")
        edited = not first.startswith(DIGEST_PREFIX) or first[len(DIGEST_PREFIX):].split(";")[0] != _digest(rest)
        if edited and rest != body:
            path = path.with_suffix(".new.toml")
            note = (f"scenario: {scenario_path(folder, region)} was edited by hand and is kept; the scenario for "
                    f"the files now fetched is {path} ({len(layers)} layers)")
    write_text_atomic(path, text)
    return WrittenScenario(path=path, layers=layers, missing=missing, note=note)


def scenario_for(folder: str | Path, region_query) -> Path:
    """The fetched-data scenario of a region in a folder (``--data``), or an error saying how to make it."""
    from siting.io.regions import Region, resolve

    reg = region_query if isinstance(region_query, Region) else resolve(region_query)
    path = scenario_path(Path(folder), reg)
    if not path.exists():
        raise SitingError(f"--data {folder}: no scenario {path.name} for {reg.label}; run "
                          f"siting fetch {reg.name_pinyin.lower()} --cache {folder} first")
    return path
