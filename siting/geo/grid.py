"""The analysis grid and the share of each cell that belongs to each county.

Every run uses one grid in an equal-area CRS (Albers for China), so every
cell has the same true area. Counties are burned onto the grid with their
*coverage fraction*: interior cells belong wholly to one county; cells on a
boundary are split between the counties (and the outside) in proportion to
the area each covers, measured by supersampling the cell. Zonal sums with these
fractions conserve each county's area, which a centre-of-cell rule does not
for small districts.
"""

from __future__ import annotations

import contextlib
import gc
import math
import threading
from dataclasses import dataclass, field

import numpy as np
import pyproj
import shapely
from affine import Affine
from rasterio import features

# Albers equal-area conic for China (standard parallels 25°N and 47°N, central meridian 105°E).
CHINA_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"


_TRANSFORMERS = threading.local()


def transformer(src_crs, dst_crs) -> pyproj.Transformer:
    """``pyproj.Transformer.from_crs(src, dst, always_xy=True)``, made once per thread and CRS pair.

    Making a transformer costs tens of milliseconds; tiles make many. Transformers
    are not shared between threads.
    """
    cache = getattr(_TRANSFORMERS, "cache", None)
    if cache is None:
        cache = _TRANSFORMERS.cache = {}
    key = (str(src_crs), str(dst_crs))
    if key not in cache:
        cache[key] = pyproj.Transformer.from_crs(src_crs, dst_crs, always_xy=True)
    return cache[key]


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid in an equal-area CRS.

    Attributes
    ----------
    crs : str
        PROJ string or WKT of the equal-area CRS.
    transform : affine.Affine
        Pixel-to-CRS transform (upper-left origin).
    width, height : int
        Number of columns and rows.
    resolution_m : float
        Cell size in metres (square cells).
    """

    crs: str
    transform: Affine
    width: int
    height: int
    resolution_m: float

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.height, self.width)

    @property
    def cell_area_km2(self) -> float:
        """True area of one cell in km² (exact on an equal-area grid)."""
        return (self.resolution_m / 1000.0) ** 2

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in CRS metres."""
        left, top = self.transform.c, self.transform.f
        return (left, top - self.height * self.resolution_m, left + self.width * self.resolution_m, top)

    def x_coords(self) -> np.ndarray:
        """Cell-centre x coordinates (m)."""
        return self.transform.c + (np.arange(self.width) + 0.5) * self.resolution_m

    def y_coords(self) -> np.ndarray:
        """Cell-centre y coordinates (m), north to south."""
        return self.transform.f - (np.arange(self.height) + 0.5) * self.resolution_m

    def window(self, row_off: int, col_off: int, height: int, width: int) -> "Grid":
        """The sub-grid of ``height`` x ``width`` cells starting at (``row_off``, ``col_off``).

        Offsets may be negative and the window may reach past the grid (a halo);
        the cells keep their positions, so sub-grids align with the parent.
        """
        r = self.resolution_m
        tr = Affine(r, 0.0, self.transform.c + col_off * r, 0.0, -r, self.transform.f - row_off * r)
        return Grid(crs=self.crs, transform=tr, width=int(width), height=int(height), resolution_m=r)

    def padded_to_multiple(self, factor: int) -> "Grid":
        """The same grid with columns and rows added (right and bottom) up to a multiple of ``factor``."""
        f = int(factor)
        return self.window(0, 0, -(-self.height // f) * f, -(-self.width // f) * f)

    def lonlat_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude (degrees, WGS-84) of every cell centre, shape (rows, cols)."""
        xx, yy = np.meshgrid(self.x_coords(), self.y_coords())
        to_ll = transformer(self.crs, "EPSG:4326")
        lon, lat = to_ll.transform(xx, yy)
        return lon, lat


def make_grid(bounds_m: tuple[float, float, float, float], resolution_m: float, crs: str = CHINA_ALBERS,
              margin_m: float = 0.0) -> Grid:
    """Grid covering ``bounds_m`` (+ margin) with edges snapped to multiples of the resolution.

    Snapping makes grids of the same resolution align across runs and regions.

    Parameters
    ----------
    bounds_m : tuple
        (left, bottom, right, top) in the CRS, metres.
    resolution_m : float
        Cell size in metres, > 0.
    crs : str, default :data:`CHINA_ALBERS`
    margin_m : float, default 0
        Extra border, e.g. the largest buffer distance of the rules.
    """
    if not resolution_m > 0:
        raise ValueError("resolution_m must be positive")
    left, bottom, right, top = bounds_m
    r = float(resolution_m)
    left = math.floor((left - margin_m) / r) * r
    bottom = math.floor((bottom - margin_m) / r) * r
    right = math.ceil((right + margin_m) / r) * r
    top = math.ceil((top + margin_m) / r) * r
    width = int(round((right - left) / r))
    height = int(round((top - bottom) / r))
    return Grid(crs=crs, transform=Affine(r, 0.0, left, 0.0, -r, top), width=width, height=height, resolution_m=r)


@dataclass
class Coverage:
    """Which county each cell belongs to, with fractions on boundaries.

    Attributes
    ----------
    zone : numpy.ndarray of int32, shape (rows, cols)
        Index of the county that covers the whole cell, -1 for cells that are
        outside every county or split (see the ``mixed_*`` arrays).
    mixed_cell : numpy.ndarray of int64
        Flat index of split cells, one entry per (cell, county) pair.
    mixed_zone : numpy.ndarray of int32
        County index of each pair.
    mixed_frac : numpy.ndarray of float32
        Share of the cell's area in that county (0..1].
    n_zones : int
        Number of counties.
    """

    zone: np.ndarray
    mixed_cell: np.ndarray
    mixed_zone: np.ndarray
    mixed_frac: np.ndarray
    n_zones: int
    _inside_cell: np.ndarray | None = field(default=None, repr=False)
    _inside_zone: np.ndarray | None = field(default=None, repr=False)
    _runs_by_ring: dict = field(default_factory=dict, repr=False)

    def _inside(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices and county of the wholly-inside cells (computed once)."""
        if self._inside_cell is None:
            z = self.zone.reshape(-1)
            self._inside_cell = np.flatnonzero(z >= 0)
            self._inside_zone = z[self._inside_cell]
        return self._inside_cell, self._inside_zone

    def _runs(self, ring: int = 0) -> tuple["Runs", np.ndarray]:
        """The cells in runs of one county (or none) in row-major order, and the flat index of each mixed pair's
        cell, in an array with ``ring`` more cells on every side (computed once per ring)."""
        if ring not in self._runs_by_ring:
            rows, cols = self.zone.shape
            padded = np.pad(self.zone, ring, constant_values=-1) if ring else self.zone
            r, c = np.divmod(self.mixed_cell, cols)
            self._runs_by_ring[ring] = (Runs.of(padded.reshape(-1)), (r + ring) * (cols + 2 * ring) + (c + ring))
        return self._runs_by_ring[ring]

    def present_zones(self) -> np.ndarray:
        """The counties with any share of a cell, ascending (int64): the keys of the runs and of the split cells."""
        runs, _ = self._runs(0)
        seen = np.zeros(self.n_zones, dtype=bool)
        seen[runs.keys[runs.keys >= 0]] = True
        seen[self.mixed_zone] = True
        return np.flatnonzero(seen).astype("int64")

    def region_fraction(self) -> np.ndarray:
        """Share (0..1) of each cell inside any county, float32 (rows, cols)."""
        frac = (self.zone >= 0).astype("float32")
        np.add.at(frac.reshape(-1), self.mixed_cell, self.mixed_frac)
        return np.minimum(frac, 1.0, out=frac)

    def majority_zone(self) -> np.ndarray:
        """County index with the largest share of each cell (-1 if the outside is larger)."""
        out = self.zone.copy().reshape(-1)
        if self.mixed_cell.size:
            order = np.lexsort((-self.mixed_frac, self.mixed_cell))
            cells, first = np.unique(self.mixed_cell[order], return_index=True)
            pick = order[first]
            frac = self.mixed_frac[pick]
            total = np.zeros(out.size, dtype="float32")
            np.add.at(total, self.mixed_cell, self.mixed_frac)
            inside_wins = frac >= (1.0 - total[cells])
            out[cells[inside_wins]] = self.mixed_zone[pick][inside_wins]
        return out.reshape(self.zone.shape)

    def zonal_sum(self, values: np.ndarray, ring: int = 0) -> np.ndarray:
        """Σ fraction × value per county (NaN values count as 0).

        Multiply by the cell area to turn per-cell densities into areas. With ``ring``, ``values`` has that many
        more cells on every side (a tile's halo), which are not read: the array is summed where it lies, without
        copying its inner part out.
        """
        values = np.asarray(values)
        want = (self.zone.shape[0] + 2 * ring, self.zone.shape[1] + 2 * ring)
        if values.shape != want:
            raise ValueError(f"values have shape {values.shape}, the coverage with a ring of {ring} {want}")
        v = values.reshape(-1)
        runs, mixed_cell = self._runs(ring)
        out = runs.sum(v, self.n_zones)
        if self.mixed_cell.size:
            vm = v[mixed_cell].astype("float64")
            out += _finite_bincount(self.mixed_zone, self.mixed_frac * vm, self.n_zones)
        return out

    def class_index(self, cls: np.ndarray, n_classes: int, mixed_cls: np.ndarray | None = None) -> "ClassIndex":
        """The cells with a class (``cls >= 0``) and their (county, class) keys, found once for several sums."""
        c = np.asarray(cls).reshape(-1)
        cells = np.flatnonzero(c >= 0)
        zone = self.zone.reshape(-1)[cells]
        inside = zone >= 0
        cells = cells[inside]
        keys = zone[inside].astype("int64") * n_classes + c[cells]
        if self.mixed_cell.size:
            cm = c[self.mixed_cell] if mixed_cls is None else np.asarray(mixed_cls)
            pos = np.flatnonzero(cm >= 0)
            mkeys = self.mixed_zone[pos].astype("int64") * n_classes + cm[pos]
        else:
            pos, mkeys = np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
        return ClassIndex(cells=cells, keys=keys, mixed_pos=pos, mixed_keys=mkeys, n_zones=self.n_zones,
                          n_classes=n_classes)

    def sums_by_class(self, index: "ClassIndex", common: np.ndarray, each: "CellValues") -> dict[str, np.ndarray]:
        """Σ fraction × ``common`` × ``each[k]`` per county and class over ``index``'s cells, for every quantity
        ``k`` of ``each`` (NaN products count as 0); ``common`` is gathered once for all of them.

        Returns arrays of shape (counties, classes), float64, by the names of ``each``'s quantities.
        """
        from siting.geo.classsums import class_sums

        size = index.n_zones * index.n_classes
        c = np.asarray(common).reshape(-1)
        mixed_at = self.mixed_cell[index.mixed_pos] if index.mixed_pos.size else np.zeros(0, dtype=np.intp)
        mixed_frac = self.mixed_frac[index.mixed_pos] if index.mixed_pos.size else np.zeros(0, dtype="float32")
        sums = class_sums(index.keys, index.cells, c, each.position, each.rows, size, index.mixed_keys, mixed_at,
                          mixed_frac)
        return {key: sums[q].reshape(index.n_zones, index.n_classes) for q, key in enumerate(each.names)}


@dataclass(frozen=True)
class CellValues:
    """Quantities given on some cells of a tile and 0 on all others, stored for those cells only (a technology's
    cost quantities exist where it has land, often a small part of the tile): no tile-sized array per quantity.

    ``position`` holds, per flat cell, where its values lie in each row of ``rows`` (-1: not given); ``rows`` has one
    float64 row per quantity, in the order of ``names``.
    """

    position: np.ndarray
    names: tuple[str, ...]
    rows: np.ndarray

    @property
    def values(self) -> dict[str, np.ndarray]:
        """Each quantity's values on the given cells, by name (views of ``rows``)."""
        return dict(zip(self.names, self.rows))

    @classmethod
    def of(cls, n_cells: int, cells: np.ndarray, values: dict[str, np.ndarray]) -> "CellValues":
        """The quantities ``values`` (each one value per cell of ``cells``, flat indices without repeats)."""
        rows = np.empty((len(values), len(cells)), dtype="float64")
        for q, v in enumerate(values.values()):
            rows[q] = v
        return cls.of_rows(n_cells, cells, list(values), rows)

    @classmethod
    def of_rows(cls, n_cells: int, cells: np.ndarray, names: list[str], rows: np.ndarray) -> "CellValues":
        """The quantities ``names``, given as the rows of one float64 array (one column per cell of ``cells``),
        kept as they are."""
        if rows.dtype != np.float64 or rows.shape != (len(names), len(cells)):
            raise ValueError(f"rows of shape {rows.shape} ({rows.dtype}) for {len(names)} quantities on "
                             f"{len(cells)} cells")
        position = np.full(n_cells, -1, dtype="int32" if n_cells < 2**31 else "int64")
        position[cells] = np.arange(len(cells))
        return cls(position=position, names=tuple(names), rows=rows)

    def at(self, cells: np.ndarray) -> dict[str, np.ndarray]:
        """Every quantity at the flat ``cells`` (0 where not given), by name."""
        pos = self.position[cells].astype(np.intp)  # converted once, not by each gather
        missing = pos < 0
        if not missing.any():
            return {k: v[pos] for k, v in self.values.items()}
        pos[missing] = 0
        out = {}
        for k, v in self.values.items():
            out[k] = np.zeros(pos.size) if v.size == 0 else v[pos]
            out[k][missing] = 0.0
        return out


@dataclass(frozen=True)
class Runs:
    """A tile's cells as runs of neighbouring cells (in row-major order) with the same key, for sums by key with
    no gather: one :func:`numpy.add.reduceat` over the values as they lie, then the few run sums added per key.

    A county's cells in a tile form a few hundred runs (one or two per row), so this reads the values once,
    contiguously, where grouping them first would gather each one. Sums are taken in float64; they agree with
    a sum over the gathered cells to rounding.
    """

    starts: np.ndarray  # flat index where each run begins
    keys: np.ndarray  # the key of each run, negative: not summed

    @classmethod
    def of(cls, keys: np.ndarray) -> "Runs":
        """Runs of equal values in ``keys`` (flat ints, one per cell; negative for cells summed under no key)."""
        keys = np.asarray(keys).reshape(-1)
        starts = (np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if keys.size
                  else np.zeros(0, dtype="int64"))
        return cls(starts=starts, keys=keys[starts].astype("int64"))

    def sum(self, values: np.ndarray, n_keys: int) -> np.ndarray:
        """Σ values (flat, per cell) per key, NaN counted as 0 (see :func:`_finite_bincount`)."""
        out = np.zeros(n_keys, dtype="float64")
        keep = self.keys >= 0
        if not keep.any():
            return out
        v = np.asarray(values).reshape(-1)
        # converted first: reducing float64 as it lies lets NumPy release the GIL, a reduction that casts as it
        # goes holds it (the tiles' other thread then waits); the copy costs no more than the cast would
        v64 = v.astype("float64", copy=False)
        sums = np.add.reduceat(v64, self.starts)[keep]
        if v.dtype.kind == "f" and not np.isfinite(sums).all():
            sums = np.add.reduceat(np.nan_to_num(v, nan=0.0).astype("float64", copy=False), self.starts)[keep]
        return np.bincount(self.keys[keep], weights=sums, minlength=n_keys)


@dataclass
class ClassIndex:
    """The cells of a tile that have a class and their (county, class) keys (see :meth:`Coverage.class_index`).

    ``cells`` are the wholly-inside cells (flat, ascending), ``keys`` their keys ``county * n_classes + class``;
    ``mixed_pos`` are positions in the coverage's mixed (cell, county) pairs, ``mixed_keys`` their keys.
    """

    cells: np.ndarray
    keys: np.ndarray
    mixed_pos: np.ndarray
    mixed_keys: np.ndarray
    n_zones: int
    n_classes: int


def _finite_bincount(zones: np.ndarray, weights: np.ndarray, n_zones: int) -> np.ndarray:
    """Σ weights per zone with NaN counted as 0 (and ±inf as ±the largest float, as :func:`numpy.nan_to_num`).

    The plain sum is taken first and the weights cleaned only when it is not finite: the same figures as cleaning
    first, without a pass over the (mostly finite) values.
    """
    out = np.bincount(zones, weights=weights, minlength=n_zones).astype("float64")
    if weights.dtype.kind == "f" and not np.isfinite(out).all():
        out = np.bincount(zones, weights=np.nan_to_num(weights, nan=0.0), minlength=n_zones).astype("float64")
    return out


_GC_LOCK = threading.Lock()
_GC_PAUSES = [0, False]  # threads inside _gc_paused, and whether the collector was on when the first came in


@contextlib.contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector (for every thread) while building many small lists.

    Millions of coordinate lists make the collector scan every object of the process again and again (4x the
    time of building them); lists of floats hold no cycles, so nothing is left for it to find afterwards. The
    collector runs again when the last thread inside leaves, if it ran before.
    """
    with _GC_LOCK:
        if _GC_PAUSES[0] == 0:
            _GC_PAUSES[1] = gc.isenabled()
            gc.disable()
        _GC_PAUSES[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES[0] -= 1
            if _GC_PAUSES[0] == 0 and _GC_PAUSES[1]:
                gc.enable()


def geojson_polygons(geoms) -> list:
    """GeoJSON-like mappings of (multi)polygons for rasterio, built from coordinate arrays.

    ``rasterio.features.rasterize`` reads a shapely geometry through ``__geo_interface__``, which walks the
    outline point by point in Python (about 1 µs a point: 4 s for China's 4 M county outline points). The
    mappings here hold the same coordinates (float64, the same rings in the same order, closed as in shapely), so
    GDAL burns the same pixels. Anything other than a Polygon or MultiPolygon is passed through as it is.

    Parameters
    ----------
    geoms : sequence of shapely geometries

    Returns
    -------
    list
        One item per geometry: a dict (``type``, ``coordinates``) or the geometry itself.
    """
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    out = list(arr)
    types = shapely.get_type_id(arr)
    sel = np.flatnonzero(((types == 3) | (types == 6)) & ~shapely.is_empty(arr))
    if sel.size == 0:
        return out
    parts, part_of = shapely.get_parts(arr[sel], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    ends = np.cumsum(np.bincount(coord_of, minlength=len(rings))).tolist()
    with _gc_paused():
        points = coords.tolist()
        polygons: list[list] = [[] for _ in range(len(parts))]
        start = 0
        for end, p in zip(ends, ring_of.tolist()):
            polygons[p].append(points[start:end])
            start = end
        multi: list[list] = [[] for _ in range(sel.size)]
        for poly, g in zip(polygons, part_of.tolist()):
            if poly:  # an empty part has no ring
                multi[g].append(poly)
        for k, i in enumerate(sel.tolist()):
            if types[i] == 3:
                out[i] = {"type": "Polygon", "coordinates": multi[k][0]}
            else:
                out[i] = {"type": "MultiPolygon", "coordinates": multi[k]}
    return out


def supersample_factor(resolution_m: float, target_m: float = 250.0, max_factor: int = 8) -> int:
    """Supersampling factor so that sub-cells are about ``target_m`` wide (1..max_factor)."""
    return int(min(max_factor, max(1, round(resolution_m / target_m))))


def _block_min_max(fine: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of each f x f block (strided passes; no copy of the blocks side by side)."""
    lo = fine[:, 0::f].copy()
    hi = lo.copy()
    for k in range(1, f):
        np.minimum(lo, fine[:, k::f], out=lo)
        np.maximum(hi, fine[:, k::f], out=hi)
    out_lo, out_hi = lo[0::f].copy(), hi[0::f].copy()
    for k in range(1, f):
        np.minimum(out_lo, lo[k::f], out=out_lo)
        np.maximum(out_hi, hi[k::f], out=out_hi)
    return out_lo, out_hi


def _burn_dtype(n_zones: int) -> str:
    """The type of the burned sub-cells (zone index + 1, 0 for none): two bytes while they fit, so that GDAL
    writes and the block passes read half as much."""
    return "uint16" if n_zones < np.iinfo(np.uint16).max else "int32"


# sub-cells per grid column burned at a time: 256 grid rows at 8 x 8 sub-cells per cell, a whole tile at one (the
# memory of a strip is this times the grid's width times two to four bytes)
STRIP_SUBCELLS_PER_COLUMN = 256 * 8 * 8


def county_coverage(geoms_grid_crs, grid: Grid, factor: int | None = None, strip_rows: int | None = None
                    ) -> Coverage:
    """Burn polygons onto the grid with boundary fractions.

    Parameters
    ----------
    geoms_grid_crs : sequence of shapely geometries
        County polygons already in the grid's CRS; their order defines the
        county index.
    grid : Grid
    factor : int, optional
        Sub-cells per cell side used to measure boundary fractions; default
        :func:`supersample_factor`. 1 means the centre-of-cell rule.
    strip_rows : int, optional
        Grid rows burned at a time, to bound memory; default as many as make
        :data:`STRIP_SUBCELLS_PER_COLUMN` sub-cells per column (256 rows at 8 x 8 sub-cells, a whole tile at one),
        so that each county outline is clipped and converted as few times as memory allows.

    Returns
    -------
    Coverage
    """
    f = factor or supersample_factor(grid.resolution_m)
    strip_rows = strip_rows or max(1, STRIP_SUBCELLS_PER_COLUMN // (f * f))
    n = len(geoms_grid_crs)
    zone = np.full(grid.shape, -1, dtype="int32")
    m_cell, m_zone, m_frac = [], [], []
    index = [i for i, g in enumerate(geoms_grid_crs) if g is not None and not g.is_empty]
    geoms = [geoms_grid_crs[i] for i in index]
    tree = shapely.STRtree(geoms)
    fine_res = grid.resolution_m / f
    burn_dtype = _burn_dtype(n)
    left, right = grid.bounds[0], grid.bounds[2]
    for r0 in range(0, grid.height, strip_rows):
        rows = min(strip_rows, grid.height - r0)
        top = grid.transform.f - r0 * grid.resolution_m
        bottom = top - rows * grid.resolution_m
        tr = Affine(fine_res, 0.0, grid.transform.c, 0.0, -fine_res, top)
        # only the counties that reach the strip, clipped to it (a margin of two cells): the same cells burn,
        # and a long outline is not converted for every strip
        m = 2 * grid.resolution_m
        hits = np.sort(tree.query(shapely.box(left, bottom, right, top)))
        shapes = [(shapely.clip_by_rect(geoms[k], left - m, bottom - m, right + m, top + m), index[k] + 1)
                  for k in hits]
        shapes = [(g, v) for g, v in shapes if not g.is_empty]
        if not shapes:
            continue
        shapes = list(zip(geojson_polygons([g for g, _ in shapes]), [v for _, v in shapes]))
        fine = features.rasterize(shapes, out_shape=(rows * f, grid.width * f), transform=tr, fill=0,
                                  dtype=burn_dtype)
        if f == 1:  # the centre-of-cell rule: every cell is pure
            np.subtract(fine, 1, out=zone[r0:r0 + rows], dtype="int32", casting="unsafe")
            continue
        lo, hi = _block_min_max(fine, f)
        pure = lo == hi
        zone[r0:r0 + rows][pure] = lo[pure].astype("int32") - 1
        if f == 1 or pure.all():
            continue
        rr, cc = np.nonzero(~pure)
        sub = fine.reshape(rows, f, grid.width, f)[rr, :, cc, :].reshape(len(rr), f * f)  # the mixed cells' sub-cells
        flat = ((rr + r0).astype("int64") * grid.width + cc)
        key = np.repeat(np.arange(len(rr), dtype="int64"), f * f) * (n + 1) + sub.reshape(-1)
        uniq, counts = np.unique(key, return_counts=True)
        which, val = np.divmod(uniq, n + 1)
        keep = val > 0
        m_cell.append(flat[which[keep]])
        m_zone.append((val[keep] - 1).astype("int32"))
        m_frac.append((counts[keep] / (f * f)).astype("float32"))
    cat = (lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dtype=dt))
    return Coverage(zone=zone, mixed_cell=cat(m_cell, "int64"), mixed_zone=cat(m_zone, "int32"),
                    mixed_frac=cat(m_frac, "float32"), n_zones=n)
