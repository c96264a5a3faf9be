"""Depth edges as a network draws them, made sharp again by the photo (docs/model.md, 2.4).

A depth network blends depth across a discontinuity over a few pixels; a pixel in that band has
the depth of neither side and would be blurred as if it floated between them. The photo's edge
is sharp: each such pixel takes the depth of the side whose colour it matches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from dofcore.color import INTEGER_DTYPES, to_linear
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
    the eye). Pixels already on a side, and windows without an edge, keep their depth. The photo
    and the inverse depth are padded by the window (a copy of each, at their own precision);
    only the undecided pixels' neighbourhoods are decoded."""
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
    # Neighbours as flat indices into edge-padded copies (the image continued as its edge).
    r = WINDOW_RADIUS_PX
    padded_inverse = np.pad(inverse, r, mode="edge").ravel()
    padded_rgb = np.pad(img, ((r, r), (r, r), (0, 0)), mode="edge").reshape(-1, 3)
    padded_width = depth.shape[1] + 2 * r
    centres = (ys + r) * padded_width + (xs + r)
    colour = _perceptual_colour(padded_rgb)

    own = colour(centres)
    near_at, far_at, margin_at = near[ys, xs], far[ys, xs], margin[ys, xs]
    closest_near = np.full(ys.size, np.inf, dtype=np.float32)
    closest_far = np.full(ys.size, np.inf, dtype=np.float32)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            neighbours = centres + (dy * padded_width + dx)
            difference = colour(neighbours) - own
            distance = np.einsum("ij,ij->i", difference, difference)
            other = padded_inverse[neighbours]
            np.minimum(closest_near, np.where(other >= near_at - margin_at, distance, np.inf), out=closest_near)
            np.minimum(closest_far, np.where(other <= far_at + margin_at, distance, np.inf), out=closest_far)
    sharpened = depth.copy()
    sharpened[ys, xs] = 1.0 / np.where(closest_near <= closest_far, near_at, far_at)
    return sharpened


def _perceptual_colour(rgb: npt.NDArray[np.generic]) -> Callable[[npt.NDArray[np.intp]], npt.NDArray[np.float32]]:
    """Colour of the pixels at the given rows of `rgb` (N x 3) as cube roots of linear light
    (about even steps to the eye); through a table of every code for integer photos."""
    if rgb.dtype in INTEGER_DTYPES:
        codes = np.arange(int(np.iinfo(rgb.dtype.name).max) + 1).astype(rgb.dtype)
        table = np.cbrt(to_linear(codes))
        return lambda rows: table[rgb[rows]]
    return lambda rows: np.cbrt(to_linear(rgb[rows]))
