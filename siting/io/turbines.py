"""The turbine library: power curves as TOML files, one per model.

Packaged turbines live in ``siting/data/turbines/*.toml`` (the provenance of each is in
``siting/data/turbines/README.md``); :func:`load_turbine` also accepts a path to a user's own
TOML file of the same layout. Each file becomes a :class:`siting.model.wind.Turbine`.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from siting.errors import SitingError
from siting.io.packagedata import data_path
from siting.model.wind import PowerCurve, Turbine, _curve_problem

_REQUIRED_KEYS = ("name", "rated_power_kw", "rotor_diameter_m", "power_curve_speed_ms", "power_curve_kw")


def turbines_dir() -> Path:
    """Folder of the packaged turbine TOML files."""
    return data_path("turbines")


def _turbine_from_toml(path: Path) -> Turbine:
    try:
        st = path.stat()
    except OSError as err:
        raise SitingError(f"{path}: cannot read turbine file ({err.strerror or err})") from None
    return _turbine_kept(path, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _turbine_kept(path: Path, mtime_ns: int, size: int) -> Turbine:
    """The turbine of a TOML file, read once per version of the file (every tile of a wind run asks for it)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SitingError(f"{path}: cannot read turbine file ({err.strerror or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise SitingError(f"{path}: not valid TOML ({err})") from None
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        what = "no power curve" if {"power_curve_speed_ms", "power_curve_kw"} & set(missing) else "missing keys"
        raise SitingError(f"{path}: {what} (missing {', '.join(missing)})")
    speed, power, problem = _curve_problem(data["power_curve_speed_ms"], data["power_curve_kw"], data["rated_power_kw"])
    if problem:
        raise SitingError(f"{path}: {problem}")
    try:
        diameter_m = float(data["rotor_diameter_m"])
        hubs = tuple(float(h) for h in data.get("hub_heights_m", []))
    except (TypeError, ValueError):
        raise SitingError(f"{path}: rotor_diameter_m and hub_heights_m must be numbers") from None
    if not diameter_m > 0:
        raise SitingError(f"{path}: rotor_diameter_m must be > 0")
    return Turbine(
        name=str(data["name"]),
        manufacturer=str(data.get("manufacturer", "")),
        rated_power_kw=float(data["rated_power_kw"]),
        rotor_diameter_m=diameter_m,
        hub_heights_m=hubs,
        iec_class=str(data.get("iec_class", "")),
        source=str(data.get("source", "")),
        licence=str(data.get("licence", "")),
        power_curve=PowerCurve(speed, power, float(data["rated_power_kw"])),
        path=path,
    )


def list_turbines() -> list[Turbine]:
    """All packaged turbines, sorted by file name."""
    return [_turbine_from_toml(p) for p in sorted(turbines_dir().glob("*.toml"))]


def load_turbine(name_or_path: str | Path) -> Turbine:
    """Load a packaged turbine by name, or any turbine TOML file by path.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A packaged turbine's file stem (e.g. ``"iea-3.4mw-130"``) or ``name`` field
        (case-insensitive), or the path of a TOML file with the keys ``name``,
        ``rated_power_kw``, ``rotor_diameter_m``, ``power_curve_speed_ms``,
        ``power_curve_kw`` (and optionally ``manufacturer``, ``hub_heights_m``,
        ``iec_class``, ``source``, ``licence``).

    Returns
    -------
    Turbine

    Raises
    ------
    SitingError
        If no such turbine exists, or the file lacks a power curve, has speeds that do
        not increase, negative power, lists of different lengths or power far above
        rating. The message names the file.
    """
    text = str(name_or_path)
    path = Path(text)
    # A string is a path if it ends in .toml; otherwise it is a packaged turbine's name.
    if isinstance(name_or_path, Path) or text.lower().endswith(".toml"):
        if not path.is_file():
            raise SitingError(f"{path}: turbine file not found")
        return _turbine_from_toml(path)
    folder = turbines_dir()
    candidate = folder / f"{text.lower()}.toml"
    if candidate.is_file():
        return _turbine_from_toml(candidate)
    for turbine in list_turbines():
        if turbine.name.lower() == text.lower():
            return turbine
    known = ", ".join(p.stem for p in sorted(folder.glob("*.toml")))
    raise SitingError(f"unknown turbine {text!r}; packaged turbines: {known}")


def turbine_table():
    """The packaged turbines as a table: id, name, maker, rated power, rotor, hub heights, specific power,
    IEC class, source."""
    import pandas as pd

    return pd.DataFrame([{"id": Path(t.path).stem if t.path else t.name, "name": t.name,
                          "manufacturer": t.manufacturer, "rated_power_kw": t.rated_power_kw,
                          "rotor_diameter_m": t.rotor_diameter_m,
                          "hub_heights_m": ", ".join(f"{h:g}" for h in t.hub_heights_m),
                          "specific_power_w_m2": round(t.specific_power_w_m2), "iec_class": t.iec_class or "",
                          "source": t.source} for t in list_turbines()])


TABLE_STORE_VERSION = "1"  # change when the table's layout or its computation changes


def capacity_factor_table_kept(power_curve: PowerCurve, n_mean: int = 600):
    """The curve's capacity-factor look-up table (:func:`siting.model.wind.capacity_factor_table`), its values
    kept in the cache folder (``wind_tables``) so that a later process loads them instead of computing them
    (about 0.4 s per turbine).

    A file is named by the power curve's values, the table's axes, the store's version and scipy's (the exact
    integral uses its incomplete gamma function), so a changed curve or computation never meets a stale table.
    A file that cannot be read or written leaves the table computed in the process, as without a cache.
    """
    import hashlib

    import numpy as np
    import scipy

    from siting.io.atomic import atomic_path
    from siting.io.cache import cache_dir
    from siting.model.wind import TABLE_K, TABLE_MEAN_MS, capacity_factor_table

    digest = hashlib.sha256()
    for part in (power_curve.speed_ms, power_curve.power_kw):
        digest.update(np.ascontiguousarray(part, dtype="float64").tobytes())
    digest.update(repr((power_curve.rated_power_kw, n_mean, TABLE_MEAN_MS, TABLE_K, TABLE_STORE_VERSION,
                        scipy.__version__)).encode())
    name = f"{digest.hexdigest()[:32]}.npy"

    def load():
        try:
            return np.load(cache_dir("wind_tables") / name, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def save(log_cf) -> None:
        try:
            with atomic_path(cache_dir("wind_tables") / name) as tmp:
                np.save(tmp, log_cf, allow_pickle=False)
        except (OSError, SitingError):
            pass

    return capacity_factor_table(power_curve, n_mean, load=load, save=save)
