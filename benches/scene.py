"""The benchmark scene of the issues: 1500 x 1500, 85 mm, f/1.8, focus 2 m, depth from 0.7 m
to far, so blur discs reach 100+ px (155 px in front, 84 px at infinity)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SIZE = 1500
F_NUMBER = 1.8
LENS = dict(focus=2.0, focal_length=85.0, focal_px=SIZE * 85.0 / 36.0)


def benchmark_scene(size: int = SIZE, seed: int = 0) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """A textured sRGB photo with small clipped lights, and its depth: a ground plane from far
    (top) to 0.7 m (bottom), a subject at the focus distance in the middle."""
    rng = np.random.default_rng(seed)
    img = rng.integers(30, 200, (size, size, 3), dtype=np.uint8)
    lights = rng.integers(0, size, (size // 30, 2))
    img[lights[:, 0], lights[:, 1]] = 255
    rows = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None]
    inverse_depth = rows * (1 / 0.7)  # 0 at the top (infinity, here 1000 m) to 1/0.7 m at the bottom
    depth = np.broadcast_to(1.0 / np.maximum(inverse_depth, 1e-3), (size, size)).copy()
    yy, xx = np.mgrid[:size, :size]
    subject = (xx - size / 2) ** 2 / 0.09 + (yy - size / 2) ** 2 / 0.16 < (size / 2) ** 2 * 0.25
    depth[subject] = 2.0
    return img, depth.astype(np.float32)
