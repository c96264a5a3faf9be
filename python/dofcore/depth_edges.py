"""Depth edges as a network draws them, made sharp again by the photo (docs/model.md, 2.4).

A depth network blends depth across a discontinuity over a few pixels; a pixel in that band has
the depth of neither side and would be blurred as if it floated between them. The photo's edge
is sharp: each such pixel takes the depth of the side whose colour it matches.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dofcore.color import to_linear
from dofcore.mask import local_max, local_min

F32 = npt.NDArray[np.float32]

WINDOW_RADIUS_PX = 4
"""How far across an edge the two sides are looked for: wider than a network's blend."""
STEP_RATIO = 1.1
"""Nearest over farthest depth in the window above which it holds an edge (as eval's depth_edges)."""
SIDE_SHARE = 0.1
"""Within this share of the step from one side's inverse depth, a pixel belongs to that side."""
SLOPE_SHARE = 0.02
"""A blended pixel's nearer and farther neighbours differ from it by at least this share."""


def sharpen_depth_edges(img: npt.NDArray[np.generic], depth: F32) -> F32:
    """`depth` (H x W, metres) with each pixel of a blended edge band snapped to the near or far
    side of its window: the side holding the pixel of nearest colour (in the photo `img`, H x W
    x 3 as `dofcore.render` takes it; linear light compared as cube roots, about even steps to
    the eye). Pixels already on a side, and windows without an edge, keep their depth. Only the
    undecided pixels' neighbourhoods are decoded, so this costs little memory beside the render."""
    inverse = 1.0 / depth
    near, far = local_max(inverse, WINDOW_RADIUS_PX), local_min(inverse, WINDOW_RADIUS_PX)
    margin = SIDE_SHARE * (near - far)
    undecided = (near > far * STEP_RATIO) & (inverse < near - margin) & (inverse > far + margin)
    # A blend is a slope: a nearer and a farther neighbour. A pixel of a third surface between
    # the two (a subject between a foreground and the background) has its own neighbours.
    slope = SLOPE_SHARE * (near - far)
    undecided &= (local_max(inverse, 1) > inverse + slope) & (local_min(inverse, 1) < inverse - slope)
    ys, xs = np.nonzero(undecided)
    if ys.size == 0:
        return depth
    height, width = depth.shape

    def colour(rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        return np.cbrt(to_linear(img[rows, cols]))

    own = colour(ys, xs)
    near_at, far_at, margin_at = near[ys, xs], far[ys, xs], margin[ys, xs]
    closest_near = np.full(ys.size, np.inf)
    closest_far = np.full(ys.size, np.inf)
    for dy in range(-WINDOW_RADIUS_PX, WINDOW_RADIUS_PX + 1):
        for dx in range(-WINDOW_RADIUS_PX, WINDOW_RADIUS_PX + 1):
            sy, sx = np.clip(ys + dy, 0, height - 1), np.clip(xs + dx, 0, width - 1)
            distance = ((colour(sy, sx) - own) ** 2).sum(axis=-1)
            other = inverse[sy, sx]
            np.minimum(closest_near, np.where(other >= near_at - margin_at, distance, np.inf), out=closest_near)
            np.minimum(closest_far, np.where(other <= far_at + margin_at, distance, np.inf), out=closest_far)
    sharpened = depth.copy()
    sharpened[ys, xs] = 1.0 / np.where(closest_near <= closest_far, near_at, far_at)
    return sharpened
