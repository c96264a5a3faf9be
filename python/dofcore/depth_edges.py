"""Depth edges as a network draws them, made sharp again by the photo (docs/model.md, 2.4).

A depth network blends depth across a discontinuity over a few pixels, and fattens near objects
by a few: a pixel in a blended band has the depth of neither side, and a fattened band shows the
far side with the near depth. The photo's edge is sharp: each such pixel takes the depth of the
side whose colour it matches. The search runs in
the Rust core (`dofcore-core/src/depth_edges.rs`, its constants and tests beside it); this module
gives it the photo's colours.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dofcore import _dofcore
from dofcore.color import DECODE_TABLES, to_linear

F32 = npt.NDArray[np.float32]

STRIP_ROWS = 512
"""At most this many rows per strip, and at most half the map's. Each strip's phases wait for
their slowest row (the ridge search's work is all on the far ground), so fewer strips share the
work better between threads (benchmark scene, two threads: the step 91 -> 79 ms from 256 rows);
the whole map in one piece would hold 4.2x the float32 image at its peak, above the render's
3.6x."""
CONTEXT_ROWS = 24
"""Lifting a thin ridge reads the ridge tops within 3 rows, each of which reads 6 rows each way
(9 rows). Snapping a blended pixel reads 9 px each way down its slope and
trimming a fattened band the snapped depth in the 9 x 9 windows of a pixel's 3 x 3 neighbours (5
rows), so 23 rows each way in all; one more for safety costs nothing."""


def sharpen_depth_edges(img: npt.NDArray[np.generic], depth: F32, threads: int = 0) -> F32:
    """`depth` (H x W, metres) with each thin blended ridge (a hair, a twig) lifted to the depth
    its mass gives, then each pixel of a blended edge band snapped to the near or far
    side of its 9 x 9 window: the side holding the pixel of nearest colour (in the photo `img`,
    H x W x 3 as `dofcore.render` takes it; linear light compared as cube roots, about even steps
    to the eye); then each pixel of a fattened band (near depth, far colour, more than a pixel
    deep) given the depth of the far pixel of nearest colour. Other pixels keep their depth.

    Works in strips (STRIP_ROWS), each with the CONTEXT_ROWS rows above and below that its
    windows read, so that its memory stays small beside the render's."""
    depth = np.ascontiguousarray(depth, np.float32)
    height = depth.shape[0]
    sharpened = depth  # copied at the first change: nothing to sharpen costs no memory
    nearest = float(depth.min())
    strip_rows = min(STRIP_ROWS, -(-height // 2))
    for first in range(0, height, strip_rows):
        last = min(first + strip_rows, height)
        top, bottom = max(first - CONTEXT_ROWS, 0), min(last + CONTEXT_ROWS, height)
        strip = _dofcore.sharpen_depth_edges_map(perceptual_colour(img[top:bottom], threads), depth[top:bottom],
                                                  nearest, threads)
        rows = strip[first - top:last - top]
        if sharpened is depth and not np.array_equal(rows, depth[first:last]):
            sharpened = depth.copy()
        if sharpened is not depth:
            sharpened[first:last] = rows
    return sharpened


_CUBE_ROOT_TABLES = {dtype: np.cbrt(table) for dtype, table in DECODE_TABLES.items()}
"""Each sRGB code's cube root of linear light: integer photos are decoded to it directly, on
every core (a cube root of every value in numpy was a serial pass of ~20 ms at 1500 x 1500)."""


def perceptual_colour(img: npt.NDArray[np.generic], threads: int = 0) -> F32:
    """Cube roots of linear light, H x W x 3 float32. The root of a float photo is taken in
    place, so this holds one float image."""
    img = np.ascontiguousarray(img)
    if img.dtype in _CUBE_ROOT_TABLES:
        return _dofcore.decode_srgb(img, _CUBE_ROOT_TABLES[img.dtype], threads)
    linear = to_linear(img, threads)
    # float32 input is used as given, not ours to overwrite. Not an identity test: numpy may give
    # a new view of the same memory (it does for an array unpickled, as multiprocessing sends it).
    if np.may_share_memory(linear, img):
        return np.cbrt(linear)
    return np.cbrt(linear, out=linear)
