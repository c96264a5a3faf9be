"""Square-window image filters (numpy only): binary morphology, local extremes, box means."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

Mask = npt.NDArray[np.bool_]


def _square(mask: Mask, radius: int, grow: bool) -> Mask:
    """Any (grow) or all (shrink) of each (2 radius + 1)-square, separably. Outside the frame
    counts as unset when growing and as set when shrinking, so nothing is lost at the border."""
    if radius <= 0:
        return mask
    window = 2 * radius + 1
    reduce = np.any if grow else np.all
    padded = np.pad(mask, radius, mode="constant", constant_values=not grow)
    rows = reduce(sliding_window_view(padded, window, axis=0), axis=-1)
    return np.asarray(reduce(sliding_window_view(rows, window, axis=1), axis=-1), dtype=bool)


def dilate(mask: Mask, radius: int) -> Mask:
    """Pixels within `radius` (Chebyshev) of a set pixel."""
    return _square(mask, radius, grow=True)


def erode(mask: Mask, radius: int) -> Mask:
    """Pixels whose whole (2 radius + 1)-square neighbourhood is set."""
    return _square(mask, radius, grow=False)


def local_max(values: npt.NDArray[Any], radius: int) -> npt.NDArray[Any]:
    """Largest value in the (2 radius + 1)-square around each pixel (edges clamped)."""
    return _window_reduce(values, radius, np.max)


def local_min(values: npt.NDArray[Any], radius: int) -> npt.NDArray[Any]:
    """Smallest value in the (2 radius + 1)-square around each pixel (edges clamped)."""
    return _window_reduce(values, radius, np.min)


def _window_reduce(values: npt.NDArray[Any], radius: int, reduce: Any) -> npt.NDArray[Any]:
    window = 2 * radius + 1
    padded = np.pad(values, radius, mode="edge")
    rows = reduce(sliding_window_view(padded, window, axis=0), axis=-1)
    return np.asarray(reduce(sliding_window_view(rows, window, axis=1), axis=-1))


def opening(mask: Mask, radius: int) -> Mask:
    """The parts of `mask` a (2 radius + 1)-square fits inside: its large regions."""
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
