"""Each DEM pixel's slope-rule outcome, kept on disk so that later runs on any grid skip the slope work.

A cell's slope pass share is the (area-weighted) share of the DEM pixels whose centres it holds that pass the
rule; it stays exact only if every pixel's outcome is known, so a coarse grid cannot be served from a coarser
DEM. What does not depend on the grid is the outcome of each pixel: whether it has a slope, and per rule whether
it passes and whether the north-facing penalty applies. That fits in one byte per pixel. The first run computes
it from the elevations (Horn's method) and writes it here; any later run, on any grid, with the same DEM and the
same rules reads the byte instead of the elevations and maps it to its cells exactly as a computed pixel: the
same pass marks, the same weights to the last bit, so the shares are those of a run without this store. A block
that is only partly stored (the edge of another run's region) computes only its unknown pixels that a wanted cell
needs, in a few rectangles.

Layout of a byte: bit 7 "known", bit 0 "has a slope", and for rule ``k`` (at most three) bit ``1 + 2k``
"passes" and bit ``2 + 2k`` "penalised" (the rule's north-facing weight applies instead of 1). A byte without
bit 7 was never written, so a run that stops half-way leaves bytes that are either right or unknown.

The file is ``slope_codes/<key>.codes`` in the cache folder: a 128-byte header (magic, the key, the DEM's
shape) and the bytes row by row, created sparse. The key is the SHA-256 of the DEM file's SHA-256, the band, the
rules and a format version. Rules with an aspect filter other than
:func:`siting.model.terrain.aspect_factor` (with keywords) are not stored: their weights cannot be named by a
byte. Nothing is stored when the layer cache is disabled (``SITING_NO_CACHE``).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
from pathlib import Path

import numpy as np

FORMAT_VERSION = "1"
MAX_RULES = 3
KNOWN = np.uint8(0x80)
_MAGIC = b"SITING-SLOPE-CODES-1\n"
_HEADER_BYTES = 128


def filter_parameters(aspect_filter) -> dict | None:
    """The keywords of an aspect filter that is :func:`aspect_factor` (bare or a keyword partial), else None.

    Returns
    -------
    dict or None
        ``{"min_slope_deg", "north_sector_deg", "factor"}`` with the defaults filled in; None when the filter is
        anything else (then its outcome cannot be stored).
    """
    from siting.model.terrain import aspect_factor

    if aspect_filter is aspect_factor:
        kwargs: dict = {}
    elif (isinstance(aspect_filter, functools.partial) and aspect_filter.func is aspect_factor
          and not aspect_filter.args):
        kwargs = dict(aspect_filter.keywords)
    else:
        return None
    sig = inspect.signature(aspect_factor)
    try:
        bound = sig.bind_partial(None, None, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    params = {name: bound.arguments[name] for name in ("min_slope_deg", "north_sector_deg", "factor")}
    try:
        return {"min_slope_deg": float(params["min_slope_deg"]),
                "north_sector_deg": [float(v) for v in params["north_sector_deg"]],
                "factor": float(params["factor"])}
    except (TypeError, ValueError):
        return None


def coded_rules(rules) -> list[dict] | None:
    """The rules as :func:`siting.model.dempixels.slope_codes` takes them, or None when their outcomes do not fit
    a byte (more than three rules, or an aspect filter other than :func:`aspect_factor`)."""
    if not 1 <= len(rules) <= MAX_RULES:
        return None
    out = []
    for max_slope_deg, aspect_filter in rules:
        params = None if aspect_filter is None else filter_parameters(aspect_filter)
        if aspect_filter is not None and params is None:
            return None
        out.append({"max_slope_deg": float(max_slope_deg), **(params or {})})
    return out


class PixelCodes:
    """The stored outcome of the slope rules for every pixel of one DEM (see the module's docstring).

    Parameters
    ----------
    path : pathlib.Path
        The store's file (created when missing or not this store's).
    key : str
        64 hexadecimal digits naming the DEM's content, the band and the rules.
    shape : (int, int)
        The DEM's rows and columns.
    """

    def __init__(self, path: Path, key: str, shape: tuple[int, int]):
        self.path, self.key, self.shape = Path(path), key, (int(shape[0]), int(shape[1]))
        self._codes = self._open()

    def _header(self) -> bytes:
        head = _MAGIC + self.key.encode() + b"\n" + np.asarray(self.shape, dtype="<i8").tobytes()
        return head.ljust(_HEADER_BYTES, b"\0")

    def _open(self) -> np.memmap:
        head = self._header()
        try:
            with open(self.path, "rb") as f:
                ok = f.read(_HEADER_BYTES) == head and os.fstat(f.fileno()).st_size == _HEADER_BYTES + self.size
        except OSError:
            ok = False
        if not ok:  # missing, damaged or another store's: start an empty one (sparse: unwritten bytes are 0)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{id(self)}.tmp")
            with open(tmp, "wb") as f:
                f.write(head)
                f.truncate(_HEADER_BYTES + self.size)
            os.replace(tmp, self.path)
        return np.memmap(self.path, dtype="uint8", mode="r+", offset=_HEADER_BYTES, shape=self.shape)

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def codes(self, rows: slice, cols: slice, compute, wanted=None) -> np.ndarray:
        """The outcome bytes of a block's pixels: stored ones read, the others computed and stored.

        Parameters
        ----------
        rows, cols : slice
            The block, in the DEM's pixels.
        compute : callable
            ``compute(rows, cols) -> uint8 array``: the bytes of a rectangle of pixels
            (:func:`siting.model.dempixels.slope_codes`).
        wanted : callable, optional
            ``wanted() -> bool array`` of the block: the pixels whose outcome is needed. In a block that is partly
            stored only the unknown ones of them are computed (in a few rectangles); unknown pixels that are not
            wanted come back as bytes without bit 7 (and so without a slope). None: every pixel is wanted.

        Returns
        -------
        numpy.ndarray of uint8, the block's shape
        """
        block = np.array(self._codes[rows, cols])
        unknown = block < KNOWN
        if unknown.all():  # nothing stored yet (a first run): computed, stored, used as they are
            block = compute(rows, cols)
            self._codes[rows, cols] = block
            return block
        if unknown.any():  # partly stored (the edge of another run's region): compute what is wanted of the rest
            if wanted is not None:
                unknown &= wanted()
            for r, c in _rectangles(unknown):
                sub_r = slice(rows.start + r.start, rows.start + r.stop)
                sub_c = slice(cols.start + c.start, cols.start + c.stop)
                block[r, c] = compute(sub_r, sub_c)
                self._codes[sub_r, sub_c] = block[r, c]
        return block


def _rectangles(mask: np.ndarray, band_rows: int = 64) -> list[tuple[slice, slice]]:
    """Rectangles, without overlap, that cover every True pixel of a 2-D mask (and some False ones).

    The mask is cut into bands of ``band_rows`` rows; in each band, every run of columns holding a True pixel
    gives one rectangle, cut down to the rows where that run has one. A rectangle wastes at most the False pixels
    of its band and run, and there are few of them: reading and sloping a rectangle costs a window read.
    """
    out: list[tuple[slice, slice]] = []
    for r0 in range(0, mask.shape[0], band_rows):
        band = mask[r0:r0 + band_rows]
        cols = np.zeros(band.shape[1] + 2, dtype="int8")
        cols[1:-1] = band.any(axis=0)
        edges = np.flatnonzero(np.diff(cols))  # where runs of columns start, where they end (alternating)
        for a, b in zip(edges[::2], edges[1::2]):
            rr = np.flatnonzero(band[:, a:b].any(axis=1))
            out.append((slice(r0 + int(rr[0]), r0 + int(rr[-1]) + 1), slice(int(a), int(b))))
    return out


def store_for(dem_sha256: str, band: int, shape: tuple[int, int], rules, folder: Path) -> PixelCodes | None:
    """The store of a DEM (by content) and rules, or None when the rules' outcomes cannot be stored.

    Parameters
    ----------
    dem_sha256 : str
        SHA-256 of the DEM file.
    band : int
    shape : (int, int)
        The DEM's rows and columns.
    rules : sequence of (max_slope_deg, aspect_filter or None)
    folder : pathlib.Path
        Where stores live.
    """
    described = coded_rules(rules)
    if described is None:
        return None
    doc = {"dem": dem_sha256, "band": int(band), "shape": list(shape), "rules": described,
           "format": FORMAT_VERSION}
    key = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    try:
        return PixelCodes(folder / f"{key}.codes", key, shape)
    except OSError:  # a read-only or full cache: compute without storing
        return None
