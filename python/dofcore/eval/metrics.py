"""Image metrics, on what a user sees: sRGB-encoded values in [0, 1], clipped like a photo."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dofcore.color import linear_to_srgb
from dofcore.mask import dilate

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


def display(linear: npt.NDArray[np.floating]) -> F64:
    """Linear light as an 8-bit photo would record it, before quantisation."""
    return np.asarray(linear_to_srgb(np.clip(linear, 0.0, 1.0)))


def psnr(a: F64, b: F64, mask: Mask | None = None) -> float:
    error = (a - b) ** 2
    mse = float(error[mask].mean() if mask is not None else error.mean())
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def gaussian_blur(image: F64, sigma: float) -> F64:
    """Separable Gaussian with edge clamping."""
    radius = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = np.asarray(image, dtype=np.float64)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        out = sum(taps[k] * np.take(padded, np.arange(k, k + out.shape[axis]), axis=axis) for k in range(len(taps)))
    return out


def ssim(a: F64, b: F64) -> float:
    """Mean SSIM over the image (Wang et al. 2004: Gaussian window of sigma 1.5), averaged over
    the colour channels."""
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = gaussian_blur(a, 1.5), gaussian_blur(b, 1.5)
    var_a = gaussian_blur(a * a, 1.5) - mu_a**2
    var_b = gaussian_blur(b * b, 1.5) - mu_b**2
    cov = gaussian_blur(a * b, 1.5) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


def depth_edges(depth: npt.NDArray[np.floating], ratio: float = 1.1) -> Mask:
    """Pixels beside a depth discontinuity: a neighbour more than `ratio` times nearer or farther."""
    log_depth = np.log(np.asarray(depth, dtype=np.float64))
    jump = np.log(ratio)
    edges = np.zeros(depth.shape, dtype=bool)
    horizontal = np.abs(np.diff(log_depth, axis=1)) > jump
    vertical = np.abs(np.diff(log_depth, axis=0)) > jump
    edges[:, 1:] |= horizontal
    edges[:, :-1] |= horizontal
    edges[1:] |= vertical
    edges[:-1] |= vertical
    return edges


def edge_band(depth: npt.NDArray[np.floating], width: int = 8) -> Mask:
    return dilate(depth_edges(depth), width)


def highlight_region(photo_hdr: npt.NDArray[np.floating], coc: npt.NDArray[np.floating]) -> Mask:
    """Where clipped light lands: within the largest blur radius of any clipped pixel."""
    clipped: Mask = np.asarray(np.asarray(photo_hdr).max(axis=-1) > 1.0, dtype=bool)
    if not clipped.any():
        return clipped
    reach = int(np.ceil(np.abs(coc[clipped]).max() / 2)) + 1
    return np.asarray(dilate(clipped, reach), dtype=bool)
