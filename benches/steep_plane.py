"""The random scene of `fast_accuracy.py` (seed 0) whose whole frame is a steep plane in front of
the focus (283 x 212, f/1.4, CoC -210 to -19 px): the photo, the exact level and the fast level
side by side, for looking at (docs/model.md 5.2: a flat same-surface rule streaked here).

    python benches/steep_plane.py OUT.png
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image

import dofcore
from dofcore.color import from_linear, to_linear
from fast_accuracy import random_scene


def steep_plane_scene() -> tuple[np.ndarray, np.ndarray, float, dict[str, float | int]]:
    rng = np.random.default_rng(0)
    while True:  # the draws of fast_accuracy.py's loop, up to that scene
        img, depth = random_scene(rng)
        f = float(rng.choice([1.4, 2.0, 2.8, 4.0]))
        lens = dict(focus=float(rng.uniform(0.5, 5)), focal_px=img.shape[1] * float(rng.uniform(2.0, 8.0)),
                    blades=int(rng.choice([0, 5, 6])))
        if img.shape[:2] == (212, 283):
            return img, depth, f, lens


def main() -> None:
    img, depth, f, lens = steep_plane_scene()
    linear = to_linear(img)
    tiles = [img]
    for quality in ("exact", "fast"):
        out = dofcore.render(linear, depth, f, highlight_gain=16.0, quality=quality, **lens)
        tiles.append(np.asarray(from_linear(np.clip(out, 0, 1), np.dtype(np.uint8))))
    gap = np.full((img.shape[0], 4, 3), 255, np.uint8)
    Image.fromarray(np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1)).save(sys.argv[1])


if __name__ == "__main__":
    main()
