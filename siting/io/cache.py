"""Where derived data (converted boundaries, fetched rasters) is cached."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    """Return (and create) the cache folder for one kind of cached data.

    The root is ``$SITING_CACHE`` if set, else ``~/.cache/siting``.

    Parameters
    ----------
    kind : str
        Sub-folder name, e.g. ``"boundaries"``.
    """
    root = Path(os.environ.get("SITING_CACHE") or Path.home() / ".cache" / "siting")
    path = root / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
