"""The existing wind fleet: load the GEM tracker, match it to counties, validate a scenario.

The built-in fleet is the Global Energy Monitor *Global Wind Power Tracker*,
May 2023 release (CC BY 4.0; see ``data/GEM_ATTRIBUTION.md``): every China
phase of at least 10 MW. A user may pass a newer release (CSV or XLSX with the
same GEM column names).

Phases are assigned to counties by **text**, never by their point: many rows
with an *approximate* location sit on a shared placeholder point (Guangxi
uses 24.0001 N, 109.0001 E for phases all over the province). The county
text (``Local area``, e.g. ``"Binyang County"``) is normalised to tone-less
pinyin and compared with the county names of the province; the prefecture
text (``Major area``) breaks ties. Rows that still cannot be placed stay at
province level and are reported as such.

:func:`validate` checks an :class:`~siting.api.Assessment` against the
operating fleet: how much of the capacity with an *exact* location stands on
land the scenario calls usable for wind, and which counties already host more
wind than the scenario says they can.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from siting.errors import SitingError
from siting.names import (_ascii_key, _glued_variants, _unit_keys, _unit_syllables, is_abbreviation, normalise_area_name)
from siting.io.packagedata import data_path
from siting.model.validation import Discrimination, discrimination, neighbourhood_mean

TRACKER_FILE = "gem_gwpt_2023-05_china.csv.gz"
TRACKER_CITATION = "Global Wind Power Tracker, Global Energy Monitor, May 2023 release (CC BY 4.0)"

#: GEM column name -> normalised column name, for the columns a tracker must have.
REQUIRED_COLUMNS = {
    "GEM phase ID": "phase_id",
    "Capacity (MW)": "capacity_mw",
    "Installation Type": "installation_type",
    "Status": "status",
    "Latitude": "lat_deg",
    "Longitude": "lon_deg",
    "Location accuracy": "location_accuracy",
    "Local area (taluk, county)": "local_area",
    "Major area (prefecture, district)": "major_area",
    "State/Province": "province_en",
}
#: Columns used when present.
OPTIONAL_COLUMNS = {
    "Project Name": "project_name",
    "Phase Name": "phase_name",
    "Project Name in Local Language / Script": "project_name_zh",
    "Start year": "start_year",
}
NORMALISED_COLUMNS = ["phase_id", "project_name", "project_name_zh", "capacity_mw", "installation_type", "status",
                      "start_year", "lat_deg", "lon_deg", "location_exact", "local_area", "major_area",
                      "province_en"]
STATUSES = ("operating", "construction", "pre-construction", "announced", "shelved", "mothballed", "retired",
            "cancelled")
MATCH_KINDS = ("county text", "county text + prefecture", "unmatched")
REMAINDER_LABEL = "province remainder (county not identified)"

# GEM English province names that are not the pinyin of the short Chinese name.
_PROVINCE_ALIASES = {
    "innermongolia": "150000", "neimenggu": "150000", "neimongol": "150000",
    "tibet": "540000", "xizang": "540000",
    "xinjiang": "650000", "ningxia": "640000", "guangxi": "450000",
    "shanxi": "140000", "shaanxi": "610000",  # same pinyin (山西 / 陕西): GEM spells 陕西 "Shaanxi"
    "hongkong": "810000", "xianggang": "810000",
    "macau": "820000", "macao": "820000", "aomen": "820000",
    "taiwan": "710000",
}

# --------------------------------------------------------------------------- loading


def _tracker_resource() -> Path:
    return data_path(TRACKER_FILE)


def _read_table(path: Path) -> pd.DataFrame:
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            sheets = pd.ExcelFile(path).sheet_names
            sheet = next((s for s in sheets if s.strip().lower() == "data"), sheets[0])
            return pd.read_excel(path, sheet_name=sheet, dtype=str)
        if suffix in (".csv", ".csv.gz", ".txt"):
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except Exception as exc:
        raise SitingError(f"tracker file {path}: cannot be read ({exc})") from exc
    raise SitingError(f"tracker file {path}: unknown format '{suffix or path.name}'; use a GEM .csv, .csv.gz or .xlsx")


def _rename_gem_columns(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Map GEM column names (case and spacing tolerant) to normalised names."""
    def key(name: str) -> str:
        return re.sub(r"\s+", " ", str(name)).strip().lower()

    have = {key(c): c for c in raw.columns}
    missing = [c for c in REQUIRED_COLUMNS if key(c) not in have]
    if missing:
        raise SitingError(f"tracker file {path}: missing column(s) {', '.join(repr(m) for m in missing)}; "
                          "expected the column names of the GEM Global Wind Power Tracker")
    mapping = {have[key(c)]: new for c, new in {**REQUIRED_COLUMNS, **OPTIONAL_COLUMNS}.items() if key(c) in have}
    out = raw[list(mapping)].rename(columns=mapping)
    if "country" in have:
        out = out[raw[have["country"]].astype(str).str.strip().str.lower() == "china"]
    return out


def _to_number(values: pd.Series, column: str, path: Path) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & (values.astype(str).str.strip() != "") & num.isna()
    if bad.any():
        raise SitingError(f"tracker file {path}: column {column!r} has non-numeric values, "
                          f"e.g. {values[bad].iloc[0]!r}")
    return num.astype("float64")


def load_tracker(path: str | Path | None = None) -> pd.DataFrame:
    """Load the wind-power tracker with normalised columns.

    Parameters
    ----------
    path : str or Path, optional
        A GEM Global Wind Power Tracker file (CSV, CSV.GZ or XLSX; the
        ``Data`` sheet is read). Default: the built-in May 2023 China rows.
        Rows of other countries are dropped when a ``Country`` column exists.

    Returns
    -------
    pandas.DataFrame
        One row per phase with ``phase_id``, ``project_name``,
        ``project_name_zh``, ``capacity_mw``, ``installation_type``
        (lower case), ``status`` (lower case), ``start_year`` (nullable
        Int64), ``lat_deg``, ``lon_deg``, ``location_exact`` (bool),
        ``local_area``, ``major_area``, ``province_en``. ``attrs["source"]``
        names the file.

    Raises
    ------
    SitingError
        If the file does not exist, cannot be read or lacks a GEM column
        (the message names the file and the columns).
    """
    builtin = path is None
    path = _tracker_resource() if builtin else Path(path)
    if not path.is_file():
        raise SitingError(f"tracker file {path}: does not exist")
    df = _rename_gem_columns(_read_table(path), path).reset_index(drop=True)
    for col in OPTIONAL_COLUMNS.values():
        if col not in df.columns:
            df[col] = None
    text_cols = ["phase_id", "project_name", "phase_name", "project_name_zh", "local_area", "major_area",
                 "province_en"]
    for col in text_cols:
        df[col] = df[col].astype("string").str.strip().replace("", pd.NA)
    for col in ("installation_type", "status", "location_accuracy"):
        df[col] = df[col].astype("string").str.strip().str.lower()
    for col in ("capacity_mw", "lat_deg", "lon_deg", "start_year"):
        df[col] = _to_number(df[col], col, path)
    df["start_year"] = df["start_year"].round().astype("Int64")
    df["location_exact"] = (df["location_accuracy"] == "exact").fillna(False).astype(bool)
    phase = df["phase_name"].fillna("")
    df["project_name"] = df["project_name"].where(phase == "", df["project_name"].fillna("") + " " + phase)
    out = df[NORMALISED_COLUMNS].copy()
    out.attrs["source"] = TRACKER_CITATION if builtin else str(path)
    return out


# --------------------------------------------------------------------------- names


@functools.lru_cache(maxsize=64)
def _province_units(province_adcode: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counties and cities of a province with their pinyin key sets."""
    from siting.io.regions import region_index

    index = region_index()
    rows = index[index["province_adcode"] == province_adcode]
    counties = rows[rows["level"] == "county"].copy()
    cities = rows[rows["level"] == "city"].copy()
    counties["keys"] = [_unit_keys(n, s) for n, s in zip(counties["name_zh"], counties["short_zh"])]
    counties["syllables"] = [_unit_syllables(n) for n in counties["name_zh"]]
    cities["keys"] = [_unit_keys(n, s) for n, s in zip(cities["name_zh"], cities["short_zh"])]
    return counties.reset_index(drop=True), cities.reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def province_codes() -> dict[str, str]:
    """GEM English province name key → province adcode.

    Built from the pinyin of the provinces in :func:`siting.io.regions.region_index`
    (``guangxi`` → ``450000``) plus explicit entries for names that are not
    plain pinyin (Inner Mongolia, Tibet, Xinjiang, Ningxia, Shaanxi, Hong Kong,
    Macau, Taiwan). Keys are :func:`normalise_area_name` forms.
    """
    from siting.io.regions import region_index

    index = region_index()
    prov = index[index["level"] == "province"]
    codes: dict[str, str] = {}
    for _, row in prov.iterrows():
        for key in (row["short_pinyin"], row["pinyin"]):
            codes.setdefault(_ascii_key(key), row["adcode"])
    codes.update(_PROVINCE_ALIASES)
    return codes


def province_adcode_of(name_en: str | None) -> str | None:
    """Province adcode for a GEM ``State/Province`` name (``"Guangxi"`` → ``"450000"``), None if unknown."""
    key = normalise_area_name(name_en)
    if not key:
        return None
    key = re.sub(r"(province|autonomousregion|municipality|sar)$", "", key) or key
    return province_codes().get(key)


def _resolve_province(province: str | int) -> str:
    from siting.io.regions import region_index, resolve

    text = str(province).strip()
    index = region_index()
    if text in set(index.loc[index["level"] == "province", "adcode"]):
        return text
    region = resolve(text)
    if region.level != "province":
        raise SitingError(f"province '{province}': is a {region.level} ({region.label}); give a province")
    return region.adcode


# --------------------------------------------------------------------------- matching


def placeholder_mask(tracker: pd.DataFrame, min_rows: int = 3) -> pd.Series:
    """Rows whose point is a shared placeholder, not the farm's location.

    A row is a placeholder when both coordinates have the form ``N.0001``
    (GEM's province default, e.g. 24.0001, 109.0001), or when it is one of at
    least ``min_rows`` *approximate* rows of a province at identical
    coordinates that name two or more different counties (a province or
    prefecture default point; several phases of one farm in one county sharing
    a point are not flagged).

    Parameters
    ----------
    tracker : pandas.DataFrame
        Output of :func:`load_tracker`.
    min_rows : int, default 3

    Returns
    -------
    pandas.Series of bool
    """
    lat, lon = tracker["lat_deg"].to_numpy(float), tracker["lon_deg"].to_numpy(float)

    def is_0001(v: np.ndarray) -> np.ndarray:
        frac = np.round(np.abs(v) * 1e4) % 1e4
        return frac == 1

    pattern = is_0001(lat) & is_0001(lon)
    approx = ~tracker["location_exact"].to_numpy(bool)
    areas = tracker["local_area"].astype("string").fillna("")
    area_key = {a: normalise_area_name(a) for a in areas.unique()}
    key = pd.DataFrame({"p": tracker["province_en"].astype("string").fillna("").to_numpy(),
                        "lat": np.round(lat, 4), "lon": np.round(lon, 4),
                        "area": areas.map(area_key).replace("", pd.NA).to_numpy()})
    sub = key[approx & np.isfinite(lat) & np.isfinite(lon)]
    stats = sub.groupby(["p", "lat", "lon"])["area"].agg(["size", "nunique"])
    stats.columns = ["n", "n_areas"]
    shared = stats[(stats["n"] >= min_rows) & (stats["n_areas"] >= 2)].index
    in_shared = pd.MultiIndex.from_frame(key[["p", "lat", "lon"]]).isin(shared) & approx
    return pd.Series(pattern | np.asarray(in_shared), index=tracker.index, name="placeholder")


def _spelling_hits(key: str, counties: pd.DataFrame, min_ratio: float = 0.85) -> pd.DataFrame:
    """Counties whose name is close to a misspelt key (``dainbai`` → 电白): same first letter, similarity ≥ 0.85."""
    import difflib

    if len(key) < 5:
        return counties.iloc[0:0]
    scores = np.array([max((difflib.SequenceMatcher(None, key, k).ratio() for k in keys if k[:1] == key[:1]),
                           default=0.0) for keys in counties["keys"]])
    if scores.size == 0 or scores.max() < min_ratio:
        return counties.iloc[0:0]
    return counties[scores >= max(scores.max() - 0.05, min_ratio)]  # near-ties stay ambiguous


def _narrow_by_prefecture(hits: pd.DataFrame, major_area: str | None, cities: pd.DataFrame) -> pd.DataFrame:
    pref = normalise_area_name(major_area)
    if not pref:
        return hits.iloc[0:0]
    pref_keys = {pref} | _glued_variants(pref)
    city_codes = set(cities.loc[[bool(pref_keys & k) for k in cities["keys"]], "adcode"])
    return hits[hits["city_adcode"].isin(city_codes)]


_ADMIN_TYPES = (  # English word or glued pinyin in the GEM text -> ending of the Chinese county name
    (re.compile(r"(\bcounty\b|xian\b)"), ("县",)),
    (re.compile(r"\bdistrict\b|qu\b"), ("区",)),
    (re.compile(r"\b(municipality|city)\b|shi\b"), ("市",)),
    (re.compile(r"\bbanner\b|qi\b"), ("旗",)),
)


def _narrow_by_type(hits: pd.DataFrame, local_area: str | None) -> pd.DataFrame:
    """Counties of the administrative type the text names (``Yining County`` → 伊宁县, not 伊宁市)."""
    text = _ascii_key(local_area or "")
    for pattern, endings in _ADMIN_TYPES:
        if pattern.search(text):
            return hits[hits["name_zh"].str.endswith(endings)]
    return hits.iloc[0:0]


def _match_one(local_area: str | None, major_area: str | None, counties: pd.DataFrame,
               cities: pd.DataFrame) -> tuple[str | None, str, str]:
    """County adcode, match kind and how the name matched for one (county text, prefecture text)."""
    key = normalise_area_name(local_area)
    if not key:
        return None, "unmatched", "no county text"
    variants = _glued_variants(key)
    tiers = (
        ("name", lambda: counties[[key in k for k in counties["keys"]]]),
        ("name without glued suffix", lambda: counties[[bool(variants & k) for k in counties["keys"]]]),
        ("abbreviation", lambda: counties[[is_abbreviation(key, s) for s in counties["syllables"]]]),
        ("spelling variant", lambda: _spelling_hits(key, counties)),
    )
    for detail, find in tiers:
        hits = find()
        if hits.empty:
            continue
        if detail == "spelling variant":  # a guess: the prefecture text must confirm it
            narrowed = _narrow_by_prefecture(hits, major_area, cities)
            if len(narrowed) == 1:
                return narrowed["adcode"].iloc[0], "county text + prefecture", detail
            return None, "unmatched", f"no county named '{key}' (close spellings not confirmed by the prefecture)"
        if len(hits) == 1:
            return hits["adcode"].iloc[0], "county text", detail
        typed = _narrow_by_type(hits, local_area)
        if len(typed) == 1:
            return typed["adcode"].iloc[0], "county text", detail + " and type"
        narrowed = _narrow_by_prefecture(typed if len(typed) > 1 else hits, major_area, cities)
        if len(narrowed) == 1:
            return narrowed["adcode"].iloc[0], "county text + prefecture", detail
        return None, "unmatched", f"{len(hits)} counties share the name '{key}'"
    return None, "unmatched", f"no county named '{key}' in the province"


def match_counties(tracker: pd.DataFrame, province_adcode: str | int) -> pd.DataFrame:
    """Assign the phases of one province to counties by their county text.

    Parameters
    ----------
    tracker : pandas.DataFrame
        Output of :func:`load_tracker`.
    province_adcode : str or int
        Province adcode (``"450000"``) or any province query (``"guangxi"``).

    Returns
    -------
    pandas.DataFrame
        The tracker rows of the province (by ``province_en``) with
        ``province_adcode``, ``county_adcode`` (None when not placed),
        ``county_zh``, ``match`` (``"county text"``,
        ``"county text + prefecture"`` or ``"unmatched"``), ``match_detail`` and
        ``placeholder`` (see :func:`placeholder_mask`). The point is never
        used to place a row.

    Notes
    -----
    ``Local area`` is normalised with :func:`normalise_area_name` and compared
    with every pinyin reading of the county's full name, short name, name
    without ethnic groups and autonomy suffix (``巴里坤哈萨克自治县`` →
    ``balikun``) and name without its suffix character (``容县`` → ``rong``).
    Tiers, first hit wins: the name; the name without a glued suffix
    (``Tengxian``); a Chinese-style abbreviation (``Damao`` → 达尔罕茂明安联合旗,
    see :func:`is_abbreviation`); a clear spelling variant (``Dainbai`` →
    电白, similarity ≥ 0.85). Column ``match_detail`` says which. If several
    counties of the province fit, ``Major area`` must name the city (by its
    pinyin) of exactly one of them; otherwise the row is unmatched.
    """
    prov = _resolve_province(province_adcode)
    codes = tracker["province_en"].map(province_adcode_of)
    rows = tracker[codes == prov].copy()
    rows["province_adcode"] = prov
    rows["placeholder"] = placeholder_mask(tracker).loc[rows.index].to_numpy()
    counties, cities = _province_units(prov)
    cache: dict[tuple, tuple[str | None, str, str]] = {}
    found = []
    for local, major in zip(rows["local_area"], rows["major_area"]):
        k = (None if pd.isna(local) else str(local), None if pd.isna(major) else str(major))
        if k not in cache:
            cache[k] = _match_one(k[0], k[1], counties, cities)
        found.append(cache[k])
    rows["county_adcode"] = pd.Series([f[0] for f in found], index=rows.index, dtype=object)
    rows["match"] = [f[1] for f in found]
    rows["match_detail"] = [f[2] for f in found]
    names = dict(zip(counties["adcode"], counties["name_zh"]))
    rows["county_zh"] = rows["county_adcode"].map(names)
    return rows.reset_index(drop=True)


def _check_status(status: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    wanted = (status,) if isinstance(status, str) else tuple(status)
    wanted = tuple(s.strip().lower() for s in wanted)
    bad = [s for s in wanted if s not in STATUSES]
    if bad or not wanted:
        raise SitingError(f"status {', '.join(bad) or '(empty)'}: use one or more of {', '.join(STATUSES)}")
    return wanted


def _select(rows: pd.DataFrame, status: tuple[str, ...], onshore_only: bool, offshore_only: bool = False
            ) -> pd.DataFrame:
    keep = rows["status"].isin(status).fillna(False)
    if onshore_only:
        keep &= (rows["installation_type"] == "onshore").fillna(False)
    if offshore_only:
        keep &= (rows["installation_type"] != "onshore").fillna(True)
    return rows[keep.to_numpy(bool)]


def county_fleet(tracker: pd.DataFrame, province_adcode: str | int, status: tuple[str, ...] = ("operating",),
                 onshore_only: bool = True, offshore_only: bool = False) -> pd.DataFrame:
    """Existing wind capacity per county of a province (matched by text).

    Parameters
    ----------
    tracker : pandas.DataFrame
        Output of :func:`load_tracker`.
    province_adcode : str or int
    status : tuple of str, default ("operating",)
        GEM statuses to count.
    onshore_only : bool, default True
        Drop offshore phases.
    offshore_only : bool, default False
        Keep offshore phases only (hard-mount, floating or mount unknown); their county text names the coastal
        county or city they are reported under.

    Returns
    -------
    pandas.DataFrame
        One row per county with at least one phase (``level="county"``) and
        one last row ``level="province remainder (county not identified)"``
        with ``adcode`` None for the phases whose county text could not be
        matched. Columns ``level``, ``adcode``, ``name_zh``,
        ``existing_wind_mw``, ``n_phases``. The rows sum to the province
        total for the selection.
    """
    wanted = _check_status(status)
    matched = _select(match_counties(tracker, province_adcode), wanted, onshore_only and not offshore_only)
    if offshore_only:
        matched = matched[(matched["installation_type"] != "onshore").fillna(False).to_numpy(bool)]
    placed = matched[matched["county_adcode"].notna()]
    per = (placed.groupby("county_adcode")
           .agg(name_zh=("county_zh", "first"), existing_wind_mw=("capacity_mw", "sum"),
                n_phases=("phase_id", "size"))
           .reset_index().rename(columns={"county_adcode": "adcode"}).sort_values("adcode"))
    per.insert(0, "level", "county")
    rest = matched[matched["county_adcode"].isna()]
    remainder = pd.DataFrame({"level": [REMAINDER_LABEL], "adcode": [None], "name_zh": [None],
                              "existing_wind_mw": [float(rest["capacity_mw"].sum())],
                              "n_phases": [len(rest)]})
    out = pd.concat([per, remainder], ignore_index=True)
    out["existing_wind_mw"] = out["existing_wind_mw"].astype("float64")
    out["n_phases"] = out["n_phases"].astype("int64")
    return out


# --------------------------------------------------------------------------- validation


@dataclass
class ValidationResult:
    """A scenario checked against the existing onshore wind fleet.

    Attributes
    ----------
    share_on_usable : float
        Share (0..1, by MW) of the checked capacity whose farm is on usable
        land (mean usable fraction within ``radius_m`` > 0). NaN if nothing
        could be checked.
    share_on_usable_point : float
        The same with the single cell under the point (usable fraction > 0).
    mw_checked : float
        Capacity with an exact location inside the assessed region.
    mw_skipped_approximate : float
        Capacity not checked because its location is approximate.
    mw_outside_region : float
        Exact-location capacity whose point is outside the assessed area.
    radius_m : float
        Sampling radius around each exact point.
    per_farm : pandas.DataFrame
        One row per phase of the selection with the sampled values and why
        a phase was skipped.
    counties_over : pandas.DataFrame
        Counties whose existing capacity (matched by text) exceeds the
        scenario's ``capacity_wind_mw``: ``adcode``, ``name_zh``,
        ``existing_wind_mw``, ``capacity_wind_mw``, ``excess_mw``.
    verdict : str
    flagged : bool
        True when the scenario does worse than chance (lift and AUC both below it), or when less than half of
        the checked capacity is on usable land.
    discrimination : siting.model.validation.Discrimination or None
        Null share (the share of the region that is usable by the same rule), lift, ROC AUC and their
        bootstrap intervals; None when nothing could be checked.
    tech : str
        ``wind`` or ``pv``: whose usable land was checked.
    notes : list of str
    """

    share_on_usable: float
    share_on_usable_point: float
    mw_checked: float
    mw_skipped_approximate: float
    mw_outside_region: float
    radius_m: float
    per_farm: pd.DataFrame
    counties_over: pd.DataFrame
    verdict: str
    flagged: bool
    discrimination: Discrimination | None = None
    tech: str = "wind"
    notes: list[str] = field(default_factory=list)


def grid_crs(ds) -> str:
    """The CRS of an assessment grid: ``attrs["crs"]``, else the CF ``spatial_ref`` variable."""
    if ds.attrs.get("crs"):
        return ds.attrs["crs"]
    if "spatial_ref" in ds.coords or "spatial_ref" in ds:
        ref = ds["spatial_ref"].attrs
        for key in ("crs_wkt", "spatial_ref"):
            if ref.get(key):
                return ref[key]
    raise SitingError("assessment grid: no CRS (neither attrs['crs'] nor a spatial_ref variable)")


def grid_indices(ds, lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest cell (row, column) of lon/lat points on an assessment grid.

    Parameters
    ----------
    ds : xarray.Dataset
        ``Assessment.grid`` with coords ``x``, ``y`` (cell centres, m) and a
        CRS (see :func:`grid_crs`).
    lon_deg, lat_deg : numpy.ndarray
        WGS-84 degrees.

    Returns
    -------
    x_m, y_m : numpy.ndarray
        Points in the grid CRS.
    row, col : numpy.ndarray of int
        Cell indices; -1 where the point is off the grid.
    """
    to_grid = pyproj.Transformer.from_crs("EPSG:4326", grid_crs(ds), always_xy=True)
    x_m, y_m = to_grid.transform(np.asarray(lon_deg, float), np.asarray(lat_deg, float))
    x_m, y_m = np.asarray(x_m, float), np.asarray(y_m, float)
    xs, ys = ds["x"].to_numpy(), ds["y"].to_numpy()
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    with np.errstate(invalid="ignore"):
        col = np.round((x_m - xs[0]) / dx)
        row = np.round((y_m - ys[0]) / dy)
    ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < xs.size) & (row >= 0) & (row < ys.size)
    return x_m, y_m, np.where(ok, row, -1).astype(int), np.where(ok, col, -1).astype(int)


def sample_radius(usable: np.ndarray, inside: np.ndarray, xs: np.ndarray, ys: np.ndarray, row: int, col: int,
                  x_m: float, y_m: float, radius_m: float) -> tuple[float, float, float, int]:
    """Usable fraction at a point and over the in-region cells within a radius.

    The cells whose centres lie within ``radius_m`` of the point, plus the
    cell under the point, are sampled; cells outside the region are ignored.

    Returns
    -------
    point, mean, max : float
    n_cells : int
    """
    res = abs(xs[1] - xs[0])
    k = int(math.ceil(radius_m / res)) + 1
    r0, r1 = max(row - k, 0), min(row + k + 1, ys.size)
    c0, c1 = max(col - k, 0), min(col + k + 1, xs.size)
    yy, xx = np.meshgrid(ys[r0:r1], xs[c0:c1], indexing="ij")
    near = np.hypot(xx - x_m, yy - y_m) <= radius_m
    near[row - r0, col - c0] = True
    near &= inside[r0:r1, c0:c1]
    vals = np.nan_to_num(usable[r0:r1, c0:c1][near].astype(float), nan=0.0)
    point = float(np.nan_to_num(usable[row, col], nan=0.0))
    if vals.size == 0:
        return point, 0.0, 0.0, 0
    return point, float(vals.mean()), float(vals.max()), int(vals.size)


def sample_farms(ds, rows: pd.DataFrame, adcodes: np.ndarray, radius_m: float, tech: str = "wind") -> pd.DataFrame:
    """Sample ``wind_usable_fraction`` around every exact, non-placeholder phase.

    Parameters
    ----------
    ds : xarray.Dataset
        ``Assessment.grid``.
    rows : pandas.DataFrame
        Tracker rows with ``lat_deg``, ``lon_deg``, ``location_exact`` and
        ``placeholder``.
    adcodes : numpy.ndarray
        ``Assessment.counties["adcode"]`` (what ``county_index`` points to).
    radius_m : float

    Returns
    -------
    pandas.DataFrame
        Aligned with ``rows``: ``usable_point``, ``usable_mean``,
        ``usable_max``, ``n_cells``, ``grid_county_adcode`` and
        ``skip_reason`` (None when sampled; else ``"approximate location"``,
        ``"placeholder point"`` or ``"point outside the assessed area"``).
    """
    x_m, y_m, row, col = grid_indices(ds, rows["lon_deg"].to_numpy(float), rows["lat_deg"].to_numpy(float))
    county_index = ds["county_index"].to_numpy()
    inside = county_index >= 0
    usable = ds[f"{tech}_usable_fraction"].to_numpy()
    xs, ys = ds["x"].to_numpy(), ds["y"].to_numpy()
    exact = rows["location_exact"].to_numpy(bool)
    placeholder = rows["placeholder"].to_numpy(bool)
    n = len(rows)
    out = {"usable_point": np.full(n, np.nan), "usable_mean": np.full(n, np.nan), "usable_max": np.full(n, np.nan),
           "n_cells": np.zeros(n, int), "grid_county_adcode": np.full(n, None, dtype=object),
           "skip_reason": np.full(n, None, dtype=object)}
    for i in range(n):
        if not exact[i] or placeholder[i]:
            out["skip_reason"][i] = "placeholder point" if exact[i] else "approximate location"
        elif row[i] < 0 or not inside[row[i], col[i]]:
            out["skip_reason"][i] = "point outside the assessed area"
        else:
            vals = sample_radius(usable, inside, xs, ys, row[i], col[i], x_m[i], y_m[i], radius_m)
            for key, v in zip(("usable_point", "usable_mean", "usable_max", "n_cells"), vals):
                out[key][i] = v
            out["grid_county_adcode"][i] = adcodes[county_index[row[i], col[i]]]
    return pd.DataFrame(out, index=rows.index)


def distance_to_usable_km(ds, tech: str, lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """Distance (km) from each point to the nearest grid cell with usable share > 0 (NaN off the grid or when no
    cell is usable), by a Euclidean distance transform of the grid."""
    from scipy.ndimage import distance_transform_edt

    _, _, row, col = grid_indices(ds, lon_deg, lat_deg)
    usable = np.nan_to_num(ds[f"{tech}_usable_fraction"].to_numpy()) > 0
    out = np.full(row.shape, np.nan)
    if not usable.any():
        return out
    cell_m = float(ds.attrs.get("resolution_m") or abs(float(ds["x"][1] - ds["x"][0])))
    dist = distance_transform_edt(~usable) * cell_m / 1000.0
    ok = row >= 0
    out[ok] = dist[row[ok], col[ok]]
    return out


def _region_province(assessment) -> str | None:
    from siting.io.regions import region_index

    reg = assessment.region
    if reg is None:
        return None
    if reg.level == "province":
        return reg.adcode
    index = region_index()
    hit = index.loc[index["adcode"] == reg.adcode, "province_adcode"]
    return None if hit.empty else hit.iloc[0]


def _counties_over(assessment, fleet: pd.DataFrame, tech: str = "wind") -> pd.DataFrame:
    cap = f"capacity_{tech}_mw"  # capacity_wind_mw, or capacity_offshore_mw
    cols = ["adcode", "name_zh", "existing_wind_mw", cap, "excess_mw"]
    if cap not in assessment.counties.columns:
        return pd.DataFrame(columns=cols)
    table = pd.DataFrame(assessment.counties[["adcode", "name_zh", cap]])
    merged = fleet[fleet["level"] == "county"][["adcode", "existing_wind_mw"]].merge(table, on="adcode")
    merged["excess_mw"] = merged["existing_wind_mw"] - merged[cap]
    over = merged[merged["excess_mw"] > 0].sort_values("excess_mw", ascending=False)
    return over[cols].reset_index(drop=True)


def _verdict(share: float, mw_checked: float, n_over: int, disc: Discrimination | None, what: str,
             ground: str = "land") -> tuple[str, bool]:
    if mw_checked <= 0 or not np.isfinite(share) or disc is None:
        return (f"not checked: no {what} with an exact location lies in the assessed area", False)
    tail = f"; {n_over} counties already host more wind than the scenario allows" if n_over else ""
    stats = (f"{share:.0%} of the checked capacity ({mw_checked:,.0f} MW) stands on {ground} this scenario calls "
             f"usable, and {disc.null_share:.1%} of the region does (lift {disc.lift:.2f}, "
             f"{disc.lift_interval[0]:.2f}-{disc.lift_interval[1]:.2f}; ROC AUC {disc.auc:.2f}, "
             f"{disc.auc_interval[0]:.2f}-{disc.auc_interval[1]:.2f})")
    if disc.verdict == "worse than chance":
        return f"FLAGGED, worse than chance: {stats}; the scenario excludes where {what} were built{tail}", True
    if share < 0.5:
        return (f"FLAGGED: {stats}; the scenario excludes the {ground} under most existing {what}{tail}", True)
    if disc.verdict == "no discriminating power":
        return (f"no discriminating power: {stats}; a random point does as well, so this check cannot support "
                f"the scenario{tail}", False)
    return f"discriminates: {stats}{tail}", False


PLANT_TECHS = ("pv", "agri_pv", "fishery_pv", "rooftop_pv", "wind")
LAND_PV_MODES = ("pv", "agri_pv", "fishery_pv")


def load_plants(path: str | Path) -> pd.DataFrame:
    """A user's file of existing plants (CSV, XLSX, or a point vector file) in the layout :func:`validate` uses.

    Columns: ``lat`` and ``lon`` (WGS-84 degrees; not needed for point geometries), ``capacity_mw``, ``tech``
    (``pv`` or ``wind``), and optionally ``name`` and ``status`` (default ``operating``).
    """
    path = Path(path)
    if not path.exists():
        raise SitingError(f"--plants {path}: file does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(path)
        elif suffix in (".xlsx", ".xls"):
            df = pd.read_excel(path)
        else:
            import geopandas as gpd

            gdf = gpd.read_file(path).to_crs("EPSG:4326")
            df = pd.DataFrame(gdf.drop(columns="geometry"))
            df["lon"], df["lat"] = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    except Exception as exc:  # noqa: BLE001 - any reader error becomes one line naming the file
        raise SitingError(f"--plants {path}: cannot read ({exc})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("lat", "lon", "capacity_mw", "tech") if c not in df.columns]
    if missing:
        raise SitingError(f"--plants {path}: missing column(s) {', '.join(missing)} (need lat, lon, capacity_mw, tech)")
    tech = df["tech"].astype(str).str.strip().str.lower()
    bad = sorted(set(tech) - set(PLANT_TECHS))
    if bad:
        raise SitingError(f"--plants {path}: tech must be one of {', '.join(PLANT_TECHS)}, found {', '.join(bad)}")
    for col in ("lat", "lon", "capacity_mw"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    if df[["lat", "lon", "capacity_mw"]].isna().any().any():
        raise SitingError(f"--plants {path}: lat, lon and capacity_mw must be numbers in every row")
    n = len(df)
    return pd.DataFrame({
        "phase_id": [f"plant-{i + 1}" for i in range(n)],
        "project_name": df["name"].astype(str) if "name" in df else [f"plant {i + 1}" for i in range(n)],
        "project_name_zh": None, "capacity_mw": df["capacity_mw"].astype(float), "tech": tech,
        "status": df["status"].astype(str).str.lower() if "status" in df else "operating",
        "installation_type": "onshore", "lat_deg": df["lat"].astype(float), "lon_deg": df["lon"].astype(float),
        "location_exact": True, "placeholder": False, "county_adcode": None, "match": "unmatched",
    }).assign(source=str(path))


def _discrimination(ds, tech: str, radius_m: float, point_scores: np.ndarray, point_mw: np.ndarray
                    ) -> Discrimination | None:
    if point_scores.size == 0 or np.sum(point_mw) <= 0:
        return None
    inside = ds["county_index"].to_numpy() >= 0
    cell_m = float(ds.attrs.get("resolution_m") or abs(float(ds["x"][1] - ds["x"][0])))
    scores = neighbourhood_mean(ds[f"{tech}_usable_fraction"].to_numpy(), inside, radius_m, cell_m)
    area = ds["region_fraction"].to_numpy()[inside]
    return discrimination(point_scores, point_mw, scores[inside], area)


def validate(assessment, tracker: pd.DataFrame | None = None, status: tuple[str, ...] = ("operating",),
             radius_m: float = 1000.0, plants: pd.DataFrame | None = None, tech: str = "wind") -> ValidationResult:
    """Check a wind scenario against the existing onshore wind fleet.

    Parameters
    ----------
    assessment : siting.Assessment
        A run that includes wind (``wind_usable_fraction`` on the grid).
    tracker : pandas.DataFrame, optional
        Output of :func:`load_tracker`; default the built-in tracker.
    status : tuple of str, default ("operating",)
    radius_m : float, default 1000
        Radius around each exact point within which the grid is sampled
        (a farm covers several km²).
    plants : pandas.DataFrame, optional
        The user's own plants (:func:`load_plants`) instead of the tracker; PV plants check PV land.
    tech : {"wind", "pv", "agri_pv", "fishery_pv"}
        Whose usable land is checked (PV needs ``plants``: the tracker has wind only). ``pv`` checks every PV
        plant of the file against the land of every PV mode on land (ground, agri- and fishery PV together).

    Returns
    -------
    ValidationResult

    Notes
    -----
    Rule: a phase with an *exact* location counts as **on usable land** when
    the mean ``wind_usable_fraction`` of the in-region cells within
    ``radius_m`` of its point (always including the cell under the point) is
    above zero, i.e. when at least part of that neighbourhood is usable. The
    share is by MW. Phases with an approximate location are not sampled (their
    point may be a province placeholder); their MW are reported as skipped.
    The county comparison uses every selected onshore phase placed by its
    county text, whatever its location accuracy.
    """
    ds = assessment.grid
    adcodes = assessment.counties["adcode"].to_numpy()
    sea = tech == "offshore"
    if sea:  # offshore farms are checked against the usable sea of the sea run's grid
        ds = assessment.sea_grid
        if f"{tech}_usable_fraction" not in ds:
            raise SitingError("validate: the assessment has no offshore results (no coast in the region, or run "
                              "siting.assess(..., tech='offshore'))")
        adcodes = np.array(str(ds.attrs["unit_adcodes"]).split(","), dtype=object)
    elif tech not in PLANT_TECHS or tech == "rooftop_pv":
        raise SitingError(f"validate: --tech {tech}: use wind, offshore, pv (every PV mode on land), agri_pv or "
                          "fishery_pv")
    if f"{tech}_usable_fraction" not in ds:
        raise SitingError(f"validate: the assessment has no {tech} results; run siting.assess(..., tech='{tech}')")
    if sea and plants is not None:
        raise SitingError("validate: --tech offshore checks the wind tracker's offshore phases; --plants holds "
                          "PV or onshore wind plants")
    if tech not in ("wind", "offshore") and plants is None:
        raise SitingError(f"validate: --tech {tech} needs --plants FILE (the built-in tracker holds wind farms only)")
    if tech == "pv":
        # a PV plant stands on land some PV mode may use: ground, agri- or fishery PV (their shares of a cell add
        # up to at most 1), and every PV plant of the file is checked against it
        modes = [m for m in LAND_PV_MODES if f"{m}_usable_fraction" in ds]
        ds = ds.assign(pv_usable_fraction=sum(ds[f"{m}_usable_fraction"].fillna(0.0) for m in modes).where(
            ds["pv_usable_fraction"].notnull()))
        if plants is not None:
            plants = plants.assign(tech=plants["tech"].where(~plants["tech"].isin(LAND_PV_MODES), "pv"))
        notes_modes = [f"PV land = {' + '.join(modes)}"]
    else:
        notes_modes = []
    if radius_m is None or not np.isfinite(radius_m) or radius_m < 0:
        raise SitingError(f"validate: radius_m {radius_m}: use a radius of 0 m or more")
    wanted = _check_status(status)
    tracker = load_tracker() if tracker is None else tracker
    prov = _region_province(assessment)
    notes: list[str] = list(notes_modes)

    if plants is not None:
        rows = _select(plants[plants["tech"] == tech], wanted, False).copy()
        left = plants[(plants["tech"] == tech) & ~plants["status"].isin(wanted)]
        fleet = None
        notes.append(f"Plants: {plants['source'].iloc[0] if len(plants) else 'user file'}; {len(rows)} {tech} "
                     f"plants with status {', '.join(wanted)}"
                     + (f"; left out {left['capacity_mw'].sum():,.0f} MW of other statuses" if len(left) else ""))
        prov = None
    elif prov is not None:
        rows = _select(match_counties(tracker, prov), wanted, not sea, sea).copy()
        fleet = county_fleet(tracker, prov, wanted, onshore_only=not sea, offshore_only=sea)
    else:
        rows = _select(tracker, wanted, not sea, sea).copy()
        rows["county_adcode"], rows["match"], rows["placeholder"] = None, "unmatched", placeholder_mask(tracker)[
            rows.index].to_numpy()
        fleet = None
        notes.append("User boundaries: phases are selected by their exact point only; the county comparison by "
                     "text is not possible.")

    sampled = sample_farms(ds, rows, adcodes, radius_m, tech)
    if prov is not None and assessment.region.level != "province":
        # A city or county: keep the phases placed in it by text or by an exact point inside it.
        keep = (rows["county_adcode"].isin(set(adcodes)) | sampled["skip_reason"].isna()).to_numpy(bool)
        rows, sampled = rows[keep], sampled[keep]
        notes.append(f"Region {assessment.region.name_zh}: phases selected by county text or exact point inside it.")
    reason = sampled["skip_reason"].to_numpy()
    point, mean, vmax = (sampled[c].to_numpy(float) for c in ("usable_point", "usable_mean", "usable_max"))
    grid_county = sampled["grid_county_adcode"].to_numpy()
    labels = np.array(["" if r is None else r for r in reason], dtype=object)
    exact = ~np.isin(labels, ["approximate location", "placeholder point"])
    in_region = exact & (labels != "point outside the assessed area")
    checked = pd.isna(reason)
    n = len(rows)
    on_usable = checked & (np.nan_to_num(mean) > 0)
    cap = rows["capacity_mw"].fillna(0.0).to_numpy(float)

    per_farm = pd.DataFrame({
        "phase_id": rows["phase_id"].to_numpy(), "project_name": rows["project_name"].to_numpy(),
        "project_name_zh": rows["project_name_zh"].to_numpy(), "capacity_mw": cap,
        "status": rows["status"].to_numpy(), "location_exact": rows["location_exact"].to_numpy(bool),
        "placeholder": rows["placeholder"].to_numpy(bool), "lat_deg": rows["lat_deg"].to_numpy(float),
        "lon_deg": rows["lon_deg"].to_numpy(float), "county_adcode": rows["county_adcode"].to_numpy(),
        "grid_county_adcode": grid_county, "checked": checked, "skip_reason": reason,
        "usable_point": point, "usable_mean": mean, "usable_max": vmax, "n_cells": sampled["n_cells"].to_numpy(),
        "on_usable": on_usable, "distance_to_usable_km": np.where(in_region, distance_to_usable_km(
            ds, tech, rows["lon_deg"].to_numpy(float), rows["lat_deg"].to_numpy(float)), np.nan),
    })
    mw_checked = float(cap[checked].sum())
    share = float(cap[on_usable].sum() / mw_checked) if mw_checked > 0 else float("nan")
    share_point = float(cap[checked & (np.nan_to_num(point) > 0)].sum() / mw_checked) if mw_checked > 0 \
        else float("nan")
    mw_approx = float(cap[~exact].sum())
    mw_outside = float(cap[exact & ~in_region].sum())

    if fleet is not None and assessment.region is not None and assessment.region.level != "province":
        fleet = fleet[fleet["adcode"].isin(set(adcodes)) | fleet["adcode"].isna()]
    counties_over = _counties_over(assessment, fleet, "offshore" if sea else "wind") if fleet is not None else \
        pd.DataFrame(columns=["adcode", "name_zh", "existing_wind_mw", f"capacity_{'offshore' if sea else 'wind'}_mw",
                              "excess_mw"])
    disc = _discrimination(ds, tech, radius_m, np.nan_to_num(mean[checked]), cap[checked])
    what = {"wind": "wind farms", "offshore": "offshore wind farms"}.get(tech, "PV plants")
    verdict, flagged = _verdict(share, mw_checked, len(counties_over), disc, what, "sea" if sea else "land")

    if plants is None:
        notes.insert(0, f"Fleet: {tracker.attrs.get('source', 'user tracker')}; status {', '.join(wanted)}, "
                        f"{'offshore' if sea else 'onshore'}; {n} phases, {cap.sum():,.0f} MW in the selection.")
        if prov is not None:
            region_rows = match_counties(tracker, prov)
            other = region_rows[~region_rows["status"].isin(wanted)]
            onshore = (region_rows["installation_type"] == "onshore").to_numpy(bool)
            offshore = region_rows[region_rows["status"].isin(wanted).to_numpy(bool) & (onshore if sea else ~onshore)]
            if len(other):
                by = other.groupby("status")["capacity_mw"].sum()
                notes.append("Left out by status: " + ", ".join(f"{s} {v:,.0f} MW" for s, v in by.items()
                                                                 if v > 0) + " (choose with --status).")
            if len(offshore):
                notes.append(f"Left out: {offshore['capacity_mw'].sum():,.0f} MW "
                             + ("onshore (the sea is checked)." if sea else "offshore (onshore land is checked)."))
    for status_name in wanted:
        sel = checked & (per_farm["status"].to_numpy() == status_name)
        if sel.any():
            notes.append(f"{status_name}: {cap[sel].sum():,.0f} MW checked, "
                         f"{cap[sel & on_usable].sum() / cap[sel].sum():.0%} on usable {'sea' if sea else 'land'}.")
    far = checked & ~on_usable
    if far.any():
        d = per_farm["distance_to_usable_km"].to_numpy(float)[far]
        notes.append(f"{cap[far].sum():,.0f} MW checked off usable {'sea' if sea else 'land'}: the nearest usable "
                     f"cell is {np.nanmedian(d):.1f} km away (median; up to {np.nanmax(d):.1f} km).")
    notes.append(f"Rule: an exact-location phase is on usable {'sea' if sea else 'land'} when the mean {tech} usable "
                 f"fraction within "
                 f"{radius_m:,.0f} m of its point is > 0 ({share_point:.0%} by MW if only the cell under the "
                 f"point counts)." if mw_checked > 0 else "No exact-location phase could be sampled.")
    notes.append(f"Skipped {mw_approx:,.0f} MW ({int((~exact).sum())} phases) with an approximate location or on a "
                 f"placeholder point: their point is not the farm's location.")
    if mw_outside > 0:
        notes.append(f"Skipped {mw_outside:,.0f} MW with an exact point outside the assessed area.")
    both = checked & pd.notna(per_farm["county_adcode"]).to_numpy()
    if both.any():
        agree = float(cap[both & (per_farm["county_adcode"].to_numpy() == grid_county)].sum() / cap[both].sum())
        notes.append(f"County text and exact point agree for {agree:.0%} of the checked MW placed by text.")
    if fleet is not None:
        rest = float(fleet.loc[fleet["adcode"].isna(), "existing_wind_mw"].sum())
        notes.append(f"County comparison: {rest:,.0f} MW could not be placed in a county by its text and is "
                     f"left at province level.")
    notes.append("Existing capacity covers only GEM phases of at least 10 MW; "
                 + ("capacity_offshore_mw is the sea areas' (siting.geo.sea)." if sea else
                    "capacity_wind_mw is land-based."))
    return ValidationResult(share_on_usable=share, share_on_usable_point=share_point, mw_checked=mw_checked,
                            mw_skipped_approximate=mw_approx, mw_outside_region=mw_outside, radius_m=float(radius_m),
                            per_farm=per_farm, counties_over=counties_over, verdict=verdict, flagged=flagged,
                            discrimination=disc, tech=tech, notes=notes)
