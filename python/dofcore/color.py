"""Light in and out: sRGB <-> linear, and highlight recovery (docs/model.md, sections 1 and 4).

Shared by the engine and the reference: both render the same linear light. The transfer curves
below are the definitions; the per-pixel passes over an image run in the Rust core on every
core (`threads`: 0 for all), from tables made here, and give the same values bit for bit
(tests/test_color.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from dofcore import _dofcore
from dofcore.mask import box_fraction, dilate, opening

FloatArray = npt.NDArray[np.floating]

# IEC 61966-2-1 sRGB transfer function.
_SRGB_KNEE_ENCODED = 0.04045
_SRGB_KNEE_LINEAR = 0.0031308
_SRGB_LINEAR_SLOPE = 12.92
_SRGB_GAMMA = 2.4
_SRGB_OFFSET = 0.055

INTEGER_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def srgb_to_linear(encoded: FloatArray) -> FloatArray:
    """sRGB-encoded values in [0, 1] to linear light."""
    encoded = np.asarray(encoded, dtype=np.float64)
    curve = ((encoded + _SRGB_OFFSET) / (1 + _SRGB_OFFSET)) ** _SRGB_GAMMA
    return np.where(encoded <= _SRGB_KNEE_ENCODED, encoded / _SRGB_LINEAR_SLOPE, curve)


def linear_to_srgb(linear: FloatArray) -> FloatArray:
    """Linear light in [0, 1] to sRGB-encoded values."""
    linear = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    curve = (1 + _SRGB_OFFSET) * linear ** (1 / _SRGB_GAMMA) - _SRGB_OFFSET
    return np.where(linear <= _SRGB_KNEE_LINEAR, linear * _SRGB_LINEAR_SLOPE, curve)


def _decode_table(dtype: np.dtype) -> npt.NDArray[np.float32]:
    top = np.iinfo(dtype).max
    return srgb_to_linear(np.arange(top + 1) / top).astype(np.float32)


DECODE_TABLES: dict[np.dtype[np.generic], npt.NDArray[np.float32]] = {
    dtype: _decode_table(dtype) for dtype in INTEGER_DTYPES
}


@cache
def encode_thresholds(dtype: np.dtype) -> npt.NDArray[np.float32]:
    """For each code j >= 1 of `dtype`, the least float32 linear value that encodes to j or more
    (rint(linear_to_srgb(x) * top)): a value's code is the number of thresholds it reaches.
    Found by bisection over the floats' bit patterns (which order non-negative floats), all
    codes at once, with linear_to_srgb itself, so the codes are its own."""
    top = np.iinfo(dtype).max
    wanted = np.arange(1, top + 1)

    def code(bits: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.rint(linear_to_srgb(bits.astype(np.uint32).view(np.float32)) * top)

    below = np.zeros(top, np.int64)  # encodes to less than its code: 0.0 encodes to 0
    reaches = np.full(top, np.float32(1.0).view(np.uint32), np.int64)  # 1.0 encodes to top
    while (reaches - below > 1).any():
        middle = (below + reaches) // 2
        reached = code(middle) >= wanted
        reaches = np.where(reached, middle, reaches)
        below = np.where(reached, below, middle)
    return reaches.astype(np.uint32).view(np.float32)


def to_linear(img: npt.NDArray[np.generic], threads: int = 0) -> npt.NDArray[np.float32]:
    """Integer images are sRGB-encoded; float images are already linear light (float32 C-order
    input is returned as is, not copied)."""
    img = np.ascontiguousarray(img)
    if img.dtype in INTEGER_DTYPES:
        return _dofcore.decode_srgb(img, DECODE_TABLES[img.dtype], threads)
    return np.asarray(img, dtype=np.float32)


def from_linear(linear: npt.NDArray[np.float32], dtype: np.dtype, threads: int = 0) -> npt.NDArray[np.generic]:
    """Back to the input's encoding: sRGB and rounded for integers, linear for floats."""
    if dtype in INTEGER_DTYPES:
        thresholds = encode_thresholds(np.dtype(dtype))
        return _dofcore.encode_srgb(np.ascontiguousarray(linear, dtype=np.float32), thresholds, threads)
    return linear.astype(dtype, copy=False)


def brightest_channel(linear: npt.NDArray[np.float32], threads: int = 0) -> npt.NDArray[np.float32]:
    """Max over the colour channels of an H x W x 3 image."""
    return _dofcore.brightest_channel(np.ascontiguousarray(linear, dtype=np.float32), threads)


@dataclass(frozen=True)
class Highlights:
    """Highlight recovery: a clipped photo stores every light brighter than white as white.

    Before the blur, the brightest channel m of each pixel above `threshold` (linear) is expanded
    to g(m) = m + (G - 1) * min(u, 1)**2 with u = (m - t) / (1 - t), so a saturated pixel
    (m = 1) carries G times its light; after the blur the exact inverse of g maps the result
    back. A pixel nothing blurred comes back unchanged; a clipped light spread into a disc keeps
    the energy of a light G times brighter than the photo could record.

    Only small light sources are expanded: bright regions that a square of `max_source_px` fits
    inside are surfaces (a sunlit wall, the sky), clipped only a little, and expanding them
    would spread false light around them. G is a field, `gain` away from such regions and 1
    inside them, ramping over `ramp_px`; expansion and its inverse use the same field.
    """

    threshold: float = 0.95
    gain: float = 1.0
    max_source_px: int = 16
    ramp_px: int = 24

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError(f"highlight_threshold must be in [0, 1), got {self.threshold}")
        if not (np.isfinite(self.gain) and self.gain >= 1.0):
            raise ValueError(f"highlight_gain must be finite and >= 1, got {self.gain}")

    def gain_field(self, linear: npt.NDArray[np.float32], threads: int = 0) -> npt.NDArray[np.float32] | None:
        """G per pixel, or None where nothing is expanded."""
        if self.gain == 1.0:
            return None
        bright = brightest_channel(linear, threads) > self.threshold
        if not bright.any():
            return None
        surfaces = opening(bright, self.max_source_px // 2)

        def ramp(near_surface: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
            np.clip(2.0 * near_surface, 0.0, 1.0, out=near_surface)
            return np.float32(1.0) + np.float32(self.gain - 1.0) * (np.float32(1.0) - near_surface)

        gain = np.full(bright.shape, ramp(np.zeros(1, np.float32))[0], np.float32)
        rows, columns = np.flatnonzero(surfaces.any(axis=1)), np.flatnonzero(surfaces.any(axis=0))
        if rows.size:
            # Away from the surfaces the field is the full gain: the filters need only run around
            # them, with a margin of zeros past their reach (the same field, in a fraction of the time).
            margin = 2 + self.ramp_px + 1
            around = (slice(max(rows[0] - margin, 0), rows[-1] + margin + 1),
                      slice(max(columns[0] - margin, 0), columns[-1] + margin + 1))
            gain[around] = ramp(box_fraction(dilate(surfaces[around], 2), self.ramp_px))
        return gain

    def expand(self, linear: npt.NDArray[np.float32], gain: npt.NDArray[np.float32] | None,
               in_place: bool = False, threads: int = 0) -> npt.NDArray[np.float32]:
        return self._rescale(linear, gain, self._expanded, in_place, threads)

    def compress(self, linear: npt.NDArray[np.float32], gain: npt.NDArray[np.float32] | None,
                 in_place: bool = False, threads: int = 0) -> npt.NDArray[np.float32]:
        return self._rescale(linear, gain, self._compressed, in_place, threads)

    def _expanded(self, peak: FloatArray, gain: FloatArray) -> FloatArray:
        t, extra = self.threshold, gain - 1.0
        u = np.minimum((peak - t) / (1.0 - t), 1.0)
        return np.asarray(peak + extra * u**2)

    def _compressed(self, peak: FloatArray, gain: FloatArray) -> FloatArray:
        # Inverse of _expanded: on [t, 1] a quadratic in u, solved without cancellation.
        t, extra = self.threshold, gain - 1.0
        width = 1.0 - t
        excess = peak - t
        u = 2.0 * excess / (width + np.sqrt(width**2 + 4.0 * extra * excess))
        return np.asarray(np.where(peak >= 1.0 + extra, peak - extra, t + u * width))

    def _rescale(
        self,
        linear: npt.NDArray[np.float32],
        gain: npt.NDArray[np.float32] | None,
        curve: Callable[[FloatArray, FloatArray], FloatArray],
        in_place: bool,
        threads: int,
    ) -> npt.NDArray[np.float32]:
        """in_place: overwrite `linear` (the caller's own copy) rather than a new array."""
        if gain is None:
            return linear
        peak = brightest_channel(linear, threads).ravel()
        bright = np.flatnonzero(peak > self.threshold)  # indices: one pass over the mask
        if bright.size == 0:
            return linear
        out = linear if in_place and linear.flags.c_contiguous else np.array(linear, order="C")
        peak_bright = peak[bright].astype(np.float64)
        scale = curve(peak_bright, gain.ravel()[bright].astype(np.float64)) / peak_bright
        pixels = out.reshape(-1, 3)
        pixels[bright] = (pixels[bright] * scale[:, None]).astype(np.float32)
        return out
