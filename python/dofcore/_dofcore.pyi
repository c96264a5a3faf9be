"""The Rust engine (dofcore-core through PyO3). Use the checked wrappers in `dofcore` instead."""

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_MIN_RADIUS",
    "MAX_BLADES",
    "MAX_BLUR_DIAMETER_PX",
    "MAX_THREADS",
    "SAME_SURFACE_TOLERANCE_PX",
    "MAX_SURFACE_SLOPE",
    "circle_of_confusion",
    "render_linear_rgb",
    "sharpen_depth_edges_map",
    "decode_srgb",
    "encode_srgb",
    "brightest_channel",
]

SAME_SURFACE_TOLERANCE_PX: float
MAX_SURFACE_SLOPE: float
MAX_BLUR_DIAMETER_PX: int
MAX_BLADES: int
MAX_THREADS: int
DEFAULT_MIN_RADIUS: float

def circle_of_confusion(
    depth: npt.NDArray[np.float32], aperture_m: float, focal_px: float, focus_m: float, threads: int = 0
) -> npt.NDArray[np.float32]: ...
def render_linear_rgb(
    rgb: npt.NDArray[np.float32],
    coc: npt.NDArray[np.float32],
    blades: int = 0,
    rotation_rad: float = 0.0,
    curvature: float = 0.0,
    threads: int = 0,
    min_radius: float | None = None,
) -> npt.NDArray[np.float32]: ...
def sharpen_depth_edges_map(
    colour: npt.NDArray[np.float32],
    depth: npt.NDArray[np.float32],
    nearest: float | None = None,
    threads: int = 0,
) -> npt.NDArray[np.float32]: ...
def decode_srgb(
    codes: npt.NDArray[np.generic], table: npt.NDArray[np.float32], threads: int = 0
) -> npt.NDArray[np.float32]: ...
def encode_srgb(
    linear: npt.NDArray[np.float32], thresholds: npt.NDArray[np.float32], threads: int = 0
) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16]: ...
def brightest_channel(linear: npt.NDArray[np.float32], threads: int = 0) -> npt.NDArray[np.float32]: ...
