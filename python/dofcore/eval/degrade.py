"""Depth as a network gives it: the ways Depth Pro's depth departs from the truth."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from dofcore.eval.metrics import depth_edges, gaussian_blur
from dofcore.mask import box_mean, dilate, local_min

F32 = npt.NDArray[np.float32]


def soft_edges(depth: F32, radius: int = 3) -> F32:
    """Inverse depth blended across discontinuities over a few pixels."""
    inverse = 1.0 / depth.astype(np.float64)
    near_edges = dilate(depth_edges(depth), radius)
    return (1.0 / np.where(near_edges, box_mean(inverse, radius), inverse)).astype(np.float32)


def fattened(depth: F32, pixels: int = 3) -> F32:
    """Near objects grown by a few pixels (a minimum filter on depth)."""
    return np.asarray(local_min(depth, pixels), dtype=np.float32)


def noisy(depth: F32, amount: float = 0.05, seed: int = 0) -> F32:
    """Smooth multiplicative noise of +/- amount."""
    field = gaussian_blur(np.random.default_rng(seed).normal(size=depth.shape), 16.0)
    field *= amount / np.abs(field).max()
    return (depth * (1 + field)).astype(np.float32)


def scaled(depth: F32, factor: float = 1.15) -> F32:
    return (depth * factor).astype(np.float32)


DEGRADATIONS: dict[str, Callable[[F32], F32]] = {
    "soft edges (3 px)": soft_edges,
    "near objects fattened (3 px)": fattened,
    "smooth noise (5 %)": noisy,
    "scale error (15 %)": scaled,
}
