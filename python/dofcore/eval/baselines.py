"""What dofcore is measured against, from the same pinhole photo and depth.

- layered Gaussian: depth cut into slices of CoC, each blurred by a Gaussian of the disc's
  standard deviation and composited back to front (what simple tools do);
- brute-force scatter: the 2.5D scene the photo and depth describe, ray traced through a thin
  lens: for each of many aperture samples every pixel lands where the lens sends it and the
  nearest wins; pixels nothing lands on (disoccluded) average the samples that did reach them.
  The best a post-process can do from one pinhole photo, up to its sampling.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from dofcore.eval.metrics import gaussian_blur

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
LAYERS = 16
APERTURE_SAMPLES = 256


def layered_gaussian(linear: npt.NDArray[np.floating], coc: npt.NDArray[np.floating], layers: int = LAYERS) -> F64:
    edges = np.linspace(float(coc.min()), float(coc.max()) + 1e-6, layers + 1)
    out: F64 | None = None
    for far, near in zip(edges[:0:-1], edges[-2::-1]):  # back to front: CoC grows with depth
        mask = ((coc >= near) & (coc < far)).astype(np.float64)
        if not mask.any():
            continue
        # A disc of diameter d has standard deviation d / 4.
        sigma = abs(0.5 * (near + far)) / 4
        if sigma > 0.3:
            alpha = gaussian_blur(mask, sigma)
            colour = gaussian_blur(linear * mask[..., None], sigma)
        else:
            alpha, colour = mask, linear * mask[..., None]
        layer = colour / np.maximum(alpha, 1e-6)[..., None]
        alpha = np.clip(alpha, 0.0, 1.0)[..., None]
        out = layer if out is None else layer * alpha + out * (1 - alpha)
    assert out is not None
    return out


def aperture_samples(count: int = APERTURE_SAMPLES, seed: int = 0) -> F64:
    """Stratified points on the unit disc (concentric map of a jittered grid)."""
    side = math.isqrt(count)
    rng = np.random.default_rng(seed)
    u = (np.arange(side)[:, None] + rng.uniform(size=(side, side))) / side * 2 - 1
    v = (np.arange(side)[None, :] + rng.uniform(size=(side, side))) / side * 2 - 1
    u, v = u.ravel(), v.ravel()
    wide = np.abs(u) > np.abs(v)
    radius = np.where(wide, u, v)
    angle = np.where(wide, np.pi / 4 * v / np.where(u == 0, 1, u), np.pi / 2 - np.pi / 4 * u / np.where(v == 0, 1, v))
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def scatter(linear: npt.NDArray[np.floating], coc: npt.NDArray[np.floating], samples: int = APERTURE_SAMPLES) -> F64:
    height, width = coc.shape
    ys, xs = np.mgrid[:height, :width]
    radius = coc.astype(np.float64) / 2  # signed: the aperture image flips in front of focus
    colours = linear.reshape(-1, 3).astype(np.float64)
    order_key = coc.ravel()  # CoC grows with depth: nearest first
    total = np.zeros((height * width, 3))
    hits = np.zeros(height * width)
    for ax, ay in aperture_samples(samples):
        tx = np.rint(xs + ax * radius).astype(np.int64).ravel()
        ty = np.rint(ys + ay * radius).astype(np.int64).ravel()
        inside = (tx >= 0) & (tx < width) & (ty >= 0) & (ty < height)
        target = (ty * width + tx)[inside]
        source = np.flatnonzero(inside)
        order = np.lexsort((order_key[source], target))
        target, source = target[order], source[order]
        first = np.r_[True, target[1:] != target[:-1]]
        total[target[first]] += colours[source[first]]
        hits[target[first]] += 1
    out = np.where(hits[:, None] > 0, total / np.maximum(hits, 1)[:, None], colours)
    return out.reshape(height, width, 3)
