"""Which lens, which scale, which focus: the parameters of the thin-lens model (docs/model.md, 2).

The CoC formula itself lives in the engines (Rust `Lens::circle_of_confusion`, and its numpy
transcription in `dofcore.reference`); this module turns what a user says into its inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FULL_FRAME_WIDTH_MM = 36.0
DEFAULT_FOCAL_LENGTH_MM = 50.0

Focus = float | tuple[int, int] | None


@dataclass(frozen=True)
class ThinLens:
    """What the CoC formula c = A * f_px * (1/s - 1/z) needs, with the focal length it came from."""

    aperture_m: float
    focal_px: float
    focus_m: float
    focal_length_mm: float


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return value


def focal_lengths(width_px: int, focal_length: float | None, focal_px: float | None) -> tuple[float, float]:
    """(F in mm full-frame equivalent, the photo's focal length in pixels).

    Given the photo's focal_px, F defaults to the photo's own lens (F = f_px * 36 mm / W). A named
    F with no focal_px fixes the scale (f_px = W * F / 36 mm); with both, F sets the aperture and
    f_px the photo's scale, as if the named lens shot from the same place and the photo were its
    crop or widening. With neither, F is DEFAULT_FOCAL_LENGTH_MM.
    """
    if focal_px is not None:
        focal_px = _positive("focal_px", focal_px)
    if focal_length is not None:
        focal_length = _positive("focal_length", focal_length)
    if focal_length is None:
        if focal_px is None:
            focal_length = DEFAULT_FOCAL_LENGTH_MM
        else:
            focal_length = focal_px * FULL_FRAME_WIDTH_MM / width_px
    if focal_px is None:
        focal_px = width_px * focal_length / FULL_FRAME_WIDTH_MM
    return focal_length, focal_px


# Automatic focus: this percentile of the depths in the central third of the frame.
AUTO_FOCUS_PERCENTILE = 25.0


def auto_focus_distance(depth: npt.NDArray[np.float32]) -> float:
    """The nearest quarter of the frame's central third: a subject stands in front of its
    background and fills a good part of the centre, so it sets this percentile even where the
    background shows around it (the median would land on the background)."""
    height, width = depth.shape
    rows = slice(height // 3, max(height - height // 3, height // 3 + 1))
    cols = slice(width // 3, max(width - width // 3, width // 3 + 1))
    return float(np.percentile(depth[rows, cols], AUTO_FOCUS_PERCENTILE))


def focus_distance(depth: npt.NDArray[np.float32], focus: Focus) -> float:
    """Focus distance in metres: given, read at a pixel (x, y), or automatic when None."""
    if focus is None:
        return auto_focus_distance(depth)
    if isinstance(focus, tuple | list):
        if len(focus) != 2 or not all(isinstance(v, (int, np.integer)) for v in focus):
            raise TypeError(f"focus pixel must be two integers (x, y), got {focus!r}")
        x, y = int(focus[0]), int(focus[1])
        height, width = depth.shape
        if not (0 <= x < width and 0 <= y < height):
            raise ValueError(f"focus pixel (x={x}, y={y}) is outside the {width} x {height} image")
        return float(depth[y, x])
    return _positive("focus", focus)


def thin_lens(
    depth: npt.NDArray[np.float32],
    f_number: float,
    focus: Focus,
    focal_length: float | None,
    focal_px: float | None,
) -> ThinLens:
    f_number = _positive("f-number f", f_number)
    focal_length_mm, focal_px = focal_lengths(depth.shape[1], focal_length, focal_px)
    focus_m = focus_distance(depth, focus)
    if focus_m <= focal_length_mm * 1e-3:
        # A focus read from the depth map: the depth's units, or the lens's, are likely wrong.
        from_depth = focus is None or isinstance(focus, tuple | list)
        hint = " (read from the depth map: check that it is in metres and the lens in mm)" if from_depth else ""
        raise ValueError(
            f"focus {focus_m:g} m{hint} is at or inside the focal length {focal_length_mm:g} mm: "
            "a lens cannot focus there"
        )
    return ThinLens(focal_length_mm * 1e-3 / f_number, focal_px, focus_m, focal_length_mm)
