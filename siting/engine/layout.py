"""Tiles of the analysis grid: their size and their place in the tile matrix.

The engine (:mod:`siting.engine.compute`) computes each tile on its own, so memory is bounded by
the tile size. Patches of usable land that run across tile borders are joined by
:mod:`siting.rules.patches`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass



@dataclass(frozen=True)
class Tile:
    """One tile: its place in the tile matrix and its cells in the grid (without halo)."""

    i: int
    j: int
    row_off: int
    col_off: int
    height: int
    width: int


MIN_TILES = 16
MIN_SIDE = 64


def tile_side(shape: tuple[int, int], tile_cells: int, min_tiles: int = MIN_TILES) -> int:
    """Tile side: ``tile_cells``, or smaller on a small grid so that there are about ``min_tiles`` tiles
    to share among workers (never below 64 cells)."""
    balanced = math.ceil(math.sqrt(shape[0] * shape[1] / min_tiles))
    return int(min(tile_cells, max(MIN_SIDE, balanced)))


def tile_layout(shape: tuple[int, int], tile_cells: int, multiple: int = 1) -> list[Tile]:
    """Split a grid of ``shape`` into tiles of about ``tile_cells`` x ``tile_cells`` cells.

    Tile sides are multiples of ``multiple`` (the overview factor), so that
    overview blocks never straddle two tiles; the last row and column of tiles
    take what is left.
    """
    rows, cols = shape
    side = max(multiple, (int(tile_cells) // multiple) * multiple)
    out = []
    for i, r0 in enumerate(range(0, rows, side)):
        for j, c0 in enumerate(range(0, cols, side)):
            out.append(Tile(i, j, r0, c0, min(side, rows - r0), min(side, cols - c0)))
    return out
