"""Depth edges as a network draws them, made sharp again by the photo (docs/model.md, 2.4).

A depth network blends depth across a discontinuity over a few pixels; a pixel in that band has
the depth of neither side and would be blurred as if it floated between them. The photo's edge
is sharp: each such pixel takes the depth of the side whose colour it matches. The search runs in
the Rust core (`dofcore-core/src/depth_edges.rs`, its constants and tests beside it); this module
gives it the photo's colours.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dofcore import _dofcore
from dofcore.color import INTEGER_DTYPES, to_linear

F32 = npt.NDArray[np.float32]


def sharpen_depth_edges(img: npt.NDArray[np.generic], depth: F32, threads: int = 0) -> F32:
    """`depth` (H x W, metres) with each pixel of a blended edge band snapped to the near or far
    side of its 9 x 9 window: the side holding the pixel of nearest colour (in the photo `img`,
    H x W x 3 as `dofcore.render` takes it; linear light compared as cube roots, about even steps
    to the eye). Pixels already on a side, and windows without an edge, keep their depth."""
    return _dofcore.sharpen_depth_edges_map(perceptual_colour(img), np.ascontiguousarray(depth, np.float32), threads)


def perceptual_colour(img: npt.NDArray[np.generic]) -> F32:
    """Cube roots of linear light, H x W x 3 float32: through a table of every code for integer
    photos."""
    if img.dtype in INTEGER_DTYPES:
        codes = np.arange(int(np.iinfo(img.dtype.name).max) + 1).astype(img.dtype)
        return np.ascontiguousarray(np.cbrt(to_linear(codes))[img])
    return np.ascontiguousarray(np.cbrt(to_linear(img)), dtype=np.float32)
