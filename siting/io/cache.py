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
