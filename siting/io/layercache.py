"""Cache of layers already put on a grid, keyed by the content of their inputs and the parameters.

Reading, reprojecting and deriving layers (slope from a DEM) is most of the work of a run; a second
scenario on the same data and grid reuses the results. The key is a SHA-256 of the input file's
SHA-256 (or the built-in package version), the layer declaration, the grid (CRS, transform, shape) and
a cache format version, so a changed file, rule parameter or grid never hits a stale entry. Entries are
``.npz`` files in the cache folder's ``layers/``, written atomically; each holds its own key and is
dropped when it sits under another name (a swapped or copied file never passes as another entry).
Set ``SITING_NO_CACHE=1`` to bypass it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from siting.io.atomic import atomic_path
from siting.io.cache import cache_dir
from siting.geo.grid import Grid

FORMAT_VERSION = "2"  # 2: every entry stores its own key


def enabled() -> bool:
    """False when ``SITING_NO_CACHE`` is set to a non-empty value other than 0."""
    return os.environ.get("SITING_NO_CACHE", "") in ("", "0")


def key(kind: str, inputs: dict, grid: Grid) -> str:
    """Content key of one cached result."""
    doc = {"kind": kind, "inputs": inputs, "format": FORMAT_VERSION,
           "grid": {"crs": grid.crs, "transform": list(grid.transform)[:6], "shape": list(grid.shape)}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _path(k: str) -> Path:
    return cache_dir("layers") / f"{k}.npz"


def load(k: str) -> tuple[dict[str, np.ndarray], dict] | None:
    """Arrays and metadata of a cached entry, or None (missing, disabled or unreadable)."""
    if not enabled():
        return None
    p = _path(k)
    if not p.exists():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {n: z[n] for n in z.files if n not in ("__meta__", "__key__")}
            meta = json.loads(str(z["__meta__"]))
            own = str(z["__key__"]) if "__key__" in z.files else None
        if own != k:  # an entry carries its own key: a file moved or copied under another name is not trusted
            p.unlink(missing_ok=True)
            return None
        return arrays, meta
    except Exception:  # a damaged entry is dropped, never trusted
        p.unlink(missing_ok=True)
        return None


def store(k: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write an entry atomically (silently skipped when the cache is disabled or not writable)."""
    if not enabled():
        return
    try:
        with atomic_path(_path(k)) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, __meta__=np.array(json.dumps(meta, default=str)), __key__=np.array(k), **arrays)
    except OSError:
        pass
