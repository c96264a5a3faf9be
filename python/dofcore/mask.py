"""Square-window image filters (numpy only): binary morphology, local extremes, box means."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_]


def _square(mask: Mask, radius: int, grow: bool) -> Mask:
    """OR (grow) or AND (shrink) over the (2r+1)^2 square; outside the image counts as not set
    (grow) or set (shrink), so erosion does not eat in from the border."""
    return _window_reduce(mask, radius, np.logical_or if grow else np.logical_and)


def dilate(mask: Mask, radius: int) -> Mask:
    """Pixels within `radius` (Chebyshev) of a set pixel."""
    return _square(mask, radius, grow=True)


def erode(mask: Mask, radius: int) -> Mask:
    """Pixels whose whole (2 radius + 1)-square neighbourhood is set."""
    return _square(mask, radius, grow=False)


def local_min(values: npt.NDArray[Any], radius: int) -> npt.NDArray[Any]:
    """Smallest value in the (2 radius + 1)-square around each pixel (edges clamped)."""
    return _window_reduce(values, radius, np.minimum)


def _window_reduce(values: npt.NDArray[Any], radius: int, reduce: Any) -> npt.NDArray[Any]:
    """`reduce` (an associative ufunc: maximum, logical_or, ...) over the (2r+1)^2 square around
    each pixel, the image continued beyond its border as its edge values; separable, and the
    window doubled at each step, so a few passes over the image whatever the radius."""
    out = np.asarray(values)
    for axis in (0, 1):
        out = _line_reduce(out, radius, axis, reduce)
    return out


def _line_reduce(values: npt.NDArray[Any], radius: int, axis: int, reduce: Any) -> npt.NDArray[Any]:
    """`reduce` over the 2r+1 values around each one along `axis` (edge values repeated)."""
    padded = np.pad(values, [(radius, radius) if a == axis else (0, 0) for a in range(values.ndim)], mode="edge")

    def part(start: int, stop: int) -> tuple[slice, ...]:
        return tuple(slice(start, stop) if a == axis else slice(None) for a in range(values.ndim))

    length = 2 * radius + 1
    # After each step, out[i] covers the `covered` values from padded[i].
    out, covered = padded, 1
    while covered < length:
        step = min(covered, length - covered)
        n = out.shape[axis] - step
        out = reduce(out[part(0, n)], out[part(step, step + n)])
        covered += step
    return out[part(0, values.shape[axis])]


def opening(mask: Mask, radius: int) -> Mask:
    """The parts of `mask` a (2 radius + 1)-square fits inside: its large regions."""
    # A pixel the square fits around has a row of min(radius + 1, width) set pixels (the edge
    # repeats beyond the border): scattered lights are seen to have none in one cheap pass.
    if np.count_nonzero(mask, axis=-1).max(initial=0) < min(radius + 1, mask.shape[-1]):
        return np.zeros_like(mask)
    return dilate(erode(mask, radius), radius)


def _box_sums(values: npt.NDArray[Any], radius: int, dtype: type) -> npt.NDArray[Any]:
    """Sum over the (2 radius + 1)-square around each pixel (edges clamped), by an integral image
    summed in place: two image-sized arrays of `dtype` at the peak."""
    integral: npt.NDArray[Any] = np.pad(np.asarray(values, dtype=dtype), radius + 1, mode="edge")
    integral.cumsum(axis=0, out=integral)
    integral.cumsum(axis=1, out=integral)
    side = 2 * radius + 1
    height, width = values.shape
    total: npt.NDArray[Any] = integral[side:side + height, side:side + width] - integral[:height, side:side + width]
    total -= integral[side:side + height, :width]
    total += integral[:height, :width]
    return total


def box_mean(values: npt.NDArray[np.floating], radius: int) -> npt.NDArray[np.float64]:
    """Mean over the (2 radius + 1)-square around each pixel (edges clamped)."""
    total = _box_sums(values, radius, np.float64)
    total /= (2 * radius + 1) ** 2
    return total


def box_fraction(mask: Mask, radius: int) -> npt.NDArray[np.float32]:
    """The share of set pixels in the (2 radius + 1)-square around each pixel (edges clamped);
    counted exactly in integers, at a third of box_mean's memory."""
    counts = _box_sums(mask, radius, np.int32 if mask.size < 2**31 else np.int64)
    return np.asarray(np.divide(counts, (2 * radius + 1) ** 2, dtype=np.float32))
