"""The exact gather's work on the benchmark scene: (output pixel, source) pairs it visits.

    python benches/count_pairs.py

Each pixel visits a (2h + 1)^2 window, h its 16 x 16 tile's search half-width, computed as
gather.rs `tile_reach` does: the largest kernel radius (+ 0.5) of any tile near enough to reach.
"""

from __future__ import annotations

import math

import numpy as np

import dofcore
from scene import F_NUMBER, LENS, benchmark_scene

TILE = 16


def pairs_visited(coc: np.ndarray) -> float:
    radius = np.abs(coc) / 2
    height, width = radius.shape
    tiles_y, tiles_x = math.ceil(height / TILE), math.ceil(width / TILE)
    padded = np.zeros((tiles_y * TILE, tiles_x * TILE), np.float32)
    padded[:height, :width] = radius
    tile_max = padded.reshape(tiles_y, TILE, tiles_x, TILE).max(axis=(1, 3))
    table_half_width = math.ceil(radius.max() + 0.5)
    reach_tiles = math.ceil(table_half_width / TILE) + 1

    def gap(steps: np.ndarray) -> np.ndarray:
        return np.where(steps == 0, 0, (steps - 1) * TILE + 1)

    total = 0.0
    for ty in range(tiles_y):
        for tx in range(tiles_x):
            rows = slice(max(0, ty - reach_tiles), min(tiles_y, ty + reach_tiles + 1))
            cols = slice(max(0, tx - reach_tiles), min(tiles_x, tx + reach_tiles + 1))
            oy, ox = np.mgrid[rows, cols]
            distance = np.maximum(gap(np.abs(oy - ty)), gap(np.abs(ox - tx)))
            others = tile_max[rows, cols]
            reach = max(tile_max[ty, tx], others[distance <= others + 0.5].max())
            half_width = min(math.ceil(reach + 0.5), table_half_width)
            pixels = min(TILE, height - ty * TILE) * min(TILE, width - tx * TILE)
            total += (2 * half_width + 1) ** 2 * pixels
    return total


def main() -> None:
    img, depth = benchmark_scene()
    for f_number in (8.0, 2.8, F_NUMBER, 1.4):
        coc = dofcore.coc(depth, f_number, **LENS)
        pairs = pairs_visited(coc)
        print(f"f/{f_number:g}: largest blur {np.abs(coc).max():.0f} px, {pairs / 1e9:.1f} G pairs, "
              f"{pairs / depth.size:.0f} per pixel")


if __name__ == "__main__":
    main()
