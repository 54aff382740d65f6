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

OTHER = "-"  # label of coast that is not the run's


def coast_points(land: shapely.Geometry, spacing_m: float) -> np.ndarray:
    """Points every ``spacing_m`` along the shore of ``land`` (its polygons' rings), as shapely points."""
    rings = shapely.get_rings(shapely.get_parts(land))
    dense = shapely.segmentize(rings, spacing_m)
    coords = shapely.get_coordinates(dense)
    return shapely.points(np.unique(np.round(coords, 1), axis=0))


def sea_zones(units: list[shapely.Geometry], ids: list[str], land: shapely.Geometry, bands_m: tuple[float, ...],
              spacing_m: float = 1000.0, touch_m: float = 2000.0) -> list[tuple[str, int, shapely.Geometry]]:
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

    Returns
    -------
    list of (id, band index, geometry)
        Non-empty polygons; every sea point within the last limit of a unit's coast lies in exactly one.
    """
    extent = float(bands_m[-1])
    region = shapely.union_all(units)
    window = shapely.box(*region.buffer(extent + spacing_m).bounds)
    # the shore at a tenth of the coast-point spacing is enough for bands of kilometres (and buffers fast)
    land = shapely.make_valid(shapely.intersection(land, window.buffer(extent)).simplify(spacing_m / 10.0))
    sea = shapely.difference(window, land)
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
        # a point nearer to land that is not the run's (beyond the slivers between outlines) is that land's coast
        other = shapely.difference(land, region.buffer(touch_m))
        d_other = shapely.distance(points[p_first], other) if not other.is_empty else np.full(p_first.size, np.inf)
        mine = d_first < d_other
        label[p_first[mine]] = u_first[mine]
    if not (label >= 0).any():
        return []
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=window))
    c_idx, pt_idx = shapely.STRtree(points).query(cells, predicate="contains")
    owner = np.full(cells.size, -1, dtype="int64")
    owner[c_idx] = label[pt_idx]
    shore = [shapely.buffer(land, b) if b > 0 else land for b in bands_m]
    out = []
    for u in np.unique(owner[owner >= 0]):
        area = shapely.intersection(shapely.union_all(cells[owner == u]), sea)
        for k in range(len(bands_m) - 1):
            band = shapely.intersection(area, shapely.difference(shore[k + 1], shore[k]))
            band = shapely.make_valid(band)
            if not band.is_empty and band.area > 0:
                out.append((ids[int(u)], k, band))
    return out
