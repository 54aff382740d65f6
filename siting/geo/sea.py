"""Sea areas off a region's coast, each assigned to the nearest coastal county, in distance-to-shore bands.

Offshore wind needs sea cells that belong to a county (and so to its city and province), as the plans
count offshore capacity by jurisdiction. The sea within ``extent_m`` of the shore is split among the
points of the coastline, a point every ``spacing_m``, by nearest point (a Voronoi partition). A coast point
belongs to the run's county that holds it; the coast of land outside the run (a neighbouring province or
country) keeps its own sea, so no county gets the sea off another's shore. Each county's sea is then cut
into bands of distance from the shore (any land, islands included).

Every function here is pure geometry on an equal-area projection (metres): no file is read.
"""

from __future__ import annotations

import numpy as np
import shapely
import shapely.geometry

OTHER = "-"  # label of coast that is not the run's


def coast_points(land: shapely.Geometry, spacing_m: float) -> np.ndarray:
    """Points every ``spacing_m`` along the shore of ``land`` (its polygons' rings), as shapely points."""
    rings = shapely.get_rings(shapely.get_parts(land))
    dense = shapely.segmentize(rings, spacing_m)
    coords = shapely.get_coordinates(dense)
    return shapely.points(np.unique(np.round(coords, 1), axis=0))


def sea_zones(units: list[shapely.Geometry], ids: list[str], land: shapely.Geometry, bands_m: tuple[float, ...],
              spacing_m: float = 1000.0, touch_m: float = 2000.0, min_sea_m2: float = 500e6
              ) -> list[tuple[str, int, shapely.Geometry]]:
    """The sea off each unit, by band of distance from the shore.

    Parameters
    ----------
    units : list of shapely geometries
        The run's counties (equal-area CRS, metres).
    ids : list of str
        Their ids, in the same order.
    land : shapely geometry
        All land around them (the counties and every other country's or province's land), same CRS.
    bands_m : tuple of float
        Band limits from the shore, ascending, e.g. ``(0, 10_000, 22_224, 100_000)``: band k lies between
        ``bands_m[k]`` and ``bands_m[k + 1]``; the last limit is how far the sea areas reach.
    spacing_m : float, default 1000
        Spacing of the coast points that share out the sea.
    touch_m : float, default 2000
        A coast point belongs to the unit within this distance (the run's outline and the land polygons
        are not drawn from the same source).
    min_sea_m2 : float, default 500 km²
        Water bodies smaller than this (lakes; gaps between neighbouring countries' outlines) are not sea.

    Returns
    -------
    list of (id, band index, geometry)
        Non-empty polygons; every sea point within the last limit of a unit's coast lies in exactly one.
    """
    extent = float(bands_m[-1])
    w, s_, e, n = shapely.total_bounds(np.asarray(units, dtype=object))
    reach = extent + spacing_m
    window = shapely.box(w - reach, s_ - reach, e + reach, n + reach)
    # the shore at a tenth of the coast-point spacing is enough for bands of kilometres (and buffers fast)
    big = shapely.box(w - reach - extent, s_ - reach - extent, e + reach + extent, n + reach + extent)
    land = shapely.make_valid(shapely.intersection(land, big).simplify(spacing_m / 10.0))
    sea = shapely.difference(window, land)
    # open water only: lakes, and the slivers between two countries' outlines along a land border, are not sea
    parts = shapely.get_parts(sea)
    sea = shapely.multipolygons(parts[shapely.area(parts) >= min_sea_m2])  # disjoint parts of one geometry
    if sea.is_empty:
        return []
    points = coast_points(land, spacing_m)
    points = points[shapely.intersects(window, points)]
    if points.size == 0:
        return []
    # which unit's coast each point is (nearest unit within touch_m), or someone else's
    tree = shapely.STRtree(units)
    p_idx, u_idx = tree.query(points, predicate="dwithin", distance=touch_m)
    label = np.full(points.size, -1, dtype="int64")
    if p_idx.size:
        dist = shapely.distance(points[p_idx], np.asarray(units, dtype=object)[u_idx])
        order = np.lexsort((dist, p_idx))
        first = np.unique(p_idx[order], return_index=True)[1]
        p_first, u_first, d_first = p_idx[order][first], u_idx[order][first], dist[order][first]
        # a point nearer to land that is not the run's (beyond the slivers between outlines) is that land's coast;
        # "not nearer to it than to the unit" is asked of the prepared geometry (a full distance to a continent's
        # outline per point took minutes for China's coast)
        # (the run's land near the coast is that of the units within touch_m of a coast point: only they are unioned)
        region = shapely.union_all(np.asarray(units, dtype=object)[np.unique(u_idx)])
        other = shapely.difference(land, shapely.buffer(region.simplify(spacing_m / 10.0), touch_m, quad_segs=4))
        if other.is_empty:
            mine = np.ones(p_first.size, dtype=bool)
        else:
            shapely.prepare(other)
            mine = ~shapely.dwithin(other, points[p_first], d_first)
        label[p_first[mine]] = u_first[mine]
    if not (label >= 0).any():
        return []
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=window))
    c_idx, pt_idx = shapely.STRtree(points).query(cells, predicate="contains")
    owner = np.full(cells.size, -1, dtype="int64")
    owner[c_idx] = label[pt_idx]
    rings = _distance_bands(land, window, bands_m, spacing_m)
    out = []
    for u in np.unique(owner[owner >= 0]):
        # the Voronoi cells of a unit's coast points tile its sea side by side (a coverage); the sea and the bands
        # are cut to the unit's box first, so that each unit pays for its own stretch of coast, not the country's
        area = shapely.make_valid(shapely.coverage_union_all(cells[owner == u]))
        area = shapely.intersection(area, _near(sea, area))
        for k in range(len(bands_m) - 1):
            band = shapely.make_valid(shapely.intersection(area, _near(rings[k], area)))
            if not band.is_empty and band.area > 0:
                out.append((ids[int(u)], k, band))
    return out


def _near(big: shapely.Geometry, small: shapely.Geometry) -> shapely.Geometry:
    """``big`` cut to a box a little larger than ``small``'s (valid, and the same where ``small`` is)."""
    if small.is_empty:
        return small
    w, s, e, n = small.bounds
    pad = 1.0 + 1e-6 * max(e - w, n - s)
    return shapely.make_valid(shapely.clip_by_rect(big, w - pad, s - pad, e + pad, n + pad))


def _distance_bands(land: shapely.Geometry, window: shapely.Geometry, bands_m, cell_m: float) -> list:
    """Polygons of the points of ``window`` in each band of distance from ``land``, on a grid of ``cell_m``.

    Band k holds the cells whose distance is at least ``bands_m[k]`` and below ``bands_m[k + 1]``; land cells
    themselves are at distance 0 (in the first band). A distance transform of the rasterised land is far faster
    than buffering a coastline by 100 km, and a band limit is needed to a cell, not to a metre.
    """
    from affine import Affine
    from rasterio import features
    from scipy.ndimage import distance_transform_edt

    w, s, e, n = window.bounds
    width, height = int(np.ceil((e - w) / cell_m)), int(np.ceil((n - s) / cell_m))
    transform = Affine(cell_m, 0.0, w, 0.0, -cell_m, n)
    is_land = features.rasterize([(land, 1)], out_shape=(height, width), transform=transform, fill=0,
                                 dtype="uint8").astype(bool)
    # from a sea cell's centre to the edge of the nearest land cell (not to its centre): half a cell less
    distance = np.where(is_land, 0.0, (distance_transform_edt(~is_land) - 0.5) * cell_m)
    out = []
    for k in range(len(bands_m) - 1):
        inside = distance < bands_m[k + 1]
        if k:
            inside &= distance >= bands_m[k]
        mask = inside.astype("uint8")
        # the polygons of one mask's connected regions touch at most at corners: a valid multipolygon as they are
        polys = [shapely.geometry.shape(g) for g, v in features.shapes(mask, mask=inside, transform=transform)
                 if v == 1]
        out.append(shapely.multipolygons(polys) if polys else shapely.Polygon())
    return out
