"""Where derived data (converted boundaries, layers on a grid, slope shares) is cached.

The root is ``$SITING_CACHE`` if set, else the user cache folder of the platform from platformdirs
(``~/.cache/siting`` on Linux, ``~/Library/Caches/siting`` on macOS, ``%LOCALAPPDATA%\\siting\\Cache``
on Windows). Fetched rasters do not live here by default: see :mod:`siting.io.fetch`.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SITING_CACHE"


def cache_root() -> Path:
    """``$SITING_CACHE``, else the platform's user cache folder for siting (not created)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("siting", appauthor=False))


def cache_dir(kind: str) -> Path:
    """Return (and create) the cache folder for one kind of cached data.

    Parameters
    ----------
    kind : str
        Sub-folder name, e.g. ``"boundaries"``.
    """
    path = cache_root() / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


# What each folder of the cache holds (``siting cache`` lists them; another folder is listed as it is).
KINDS = {
    "boundaries": "counties converted from GCJ-02, the name index, sea areas and region masks",
    "layers": "layers and slope shares put on a grid (per input, rule and grid)",
    "slope_codes": "each DEM pixel's slope-rule outcome (one byte a pixel, per DEM and rule set)",
    "griddist": "distances to the grid lines (per grid-line file and grid)",
    "wind_tables": "each turbine's capacity-factor look-up table (per power curve)",
    "resource": "the MERRA-2 monthly mean irradiance of each 3° cell (from gsee-climate-data's distributions)",
}


def usage() -> list[dict]:
    """What the cache folder holds, per kind.

    Returns
    -------
    list of dict
        One per sub-folder (known kinds first): ``kind``, ``holds``, ``files``, ``disk_mb`` (space taken on
        disk: stores are sparse files, so less than their length), ``newest`` (modification time of the newest
        file, ISO 8601, or None).
    """
    import datetime as dt

    root = cache_root()
    present = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    rows = []
    for kind in [k for k in KINDS if k in present] + [k for k in present if k not in KINDS]:
        files, disk, newest = 0, 0, None
        for f in (root / kind).rglob("*"):
            if not f.is_file():
                continue
            st = f.stat()
            files += 1
            disk += st.st_blocks * 512 if hasattr(st, "st_blocks") else st.st_size  # Windows: the length
            newest = st.st_mtime if newest is None else max(newest, st.st_mtime)
        when = None if newest is None else dt.datetime.fromtimestamp(newest).isoformat(timespec="seconds")
        rows.append({"kind": kind, "holds": KINDS.get(kind, "(not written by this version of siting)"),
                     "files": files, "disk_mb": round(disk / 1e6, 1), "newest": when})
    return rows


def clear(kind: str) -> tuple[int, float]:
    """Delete one kind of cached data (a sub-folder of the cache) or ``"all"``; returns (files, MB on disk) freed.

    Everything in the cache is derived: what is deleted is rebuilt by the next run that needs it (the sea areas of
    all of China take about 2 minutes). Runs going on keep the files they have open.

    Raises
    ------
    SitingError
        If ``kind`` is neither ``"all"`` nor a folder of the cache.
    """
    import shutil

    from siting.errors import SitingError

    rows = {r["kind"]: r for r in usage()}
    if kind != "all" and kind not in rows:
        known = ", ".join(sorted(set(rows) | set(KINDS)))
        raise SitingError(f"cache kind {kind!r}: not in the cache folder {cache_root()} (kinds: {known}, or all)")
    files, mb = 0, 0.0
    for name in (list(rows) if kind == "all" else [kind]):
        shutil.rmtree(cache_root() / name, ignore_errors=True)
        files += rows[name]["files"]
        mb += rows[name]["disk_mb"]
    return files, round(mb, 1)
