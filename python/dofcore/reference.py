"""The numpy reference: a direct transcription of docs/model.md, slow and obvious.

Every step names the equation it implements. Loops run over kernel offsets, each vectorised
over the whole image, in float64. Use it on small images; `dofcore.render` is the fast engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dofcore import api
from dofcore.lens import ThinLens

F64 = npt.NDArray[np.float64]

# (5.2) Samples within this many pixels of the CoC of the centre's surface are that surface.
SAME_SURFACE_TOLERANCE_PX = np.float32(1.0)
# (5.2) Steeper CoC slopes (px per px) are not a surface's: the slope is taken as 0.
MAX_SURFACE_SLOPE = np.float32(1.0)


def circle_of_confusion(
    depth: npt.NDArray[np.float32], aperture_m: float, focal_px: float, focus_m: float
) -> npt.NDArray[np.float32]:
    """(2.1) c = A * f_px * (1/s - 1/z), in float64, stored as float32."""
    z = depth.astype(np.float64)
    return (aperture_m * focal_px * (1.0 / focus_m - 1.0 / z)).astype(np.float32)


def aperture_norm(
    x: F64, y: F64, blades: int, rotation_rad: float, curvature: float
) -> F64:
    """(3.1) The norm whose unit ball is the aperture; y points down the image."""
    euclidean = np.hypot(x, y)
    if blades == 0:
        return euclidean
    sector = 2 * math.pi / blades
    within_sector = np.mod(np.arctan2(-y, x) - rotation_rad, sector)
    polygon = euclidean * np.cos(within_sector - sector / 2) / math.cos(sector / 2)
    return np.asarray((1 - curvature) * polygon + curvature * euclidean)


def coverage(radius: F64 | np.float64, rho: F64) -> F64:
    """(3.2) Anti-aliased kernel coverage."""
    return np.clip(radius + 0.5 - rho, 0.0, 1.0)


def minmod(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """(5.2) 0 where a and b differ in sign (or one is 0), else the one of smaller magnitude."""
    smaller = np.where(np.abs(a) <= np.abs(b), a, b)
    same_sign = ((a > 0) & (b > 0)) | ((a < 0) & (b < 0))
    return np.where(same_sign, smaller, np.float32(0)).astype(np.float32)


def surface_slope(coc: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(5.2) The CoC slope of each pixel's surface, (s_x, s_y), px of CoC per px; the frame's
    edge pixels repeat beyond it (5.1); 0 where either exceeds MAX_SURFACE_SLOPE."""
    edged = np.pad(coc, 1, mode="edge")
    centre = edged[1:-1, 1:-1]
    s_x = minmod(edged[1:-1, 2:] - centre, centre - edged[1:-1, :-2])
    s_y = minmod(edged[2:, 1:-1] - centre, centre - edged[:-2, 1:-1])
    flat = np.maximum(np.abs(s_x), np.abs(s_y)) > MAX_SURFACE_SLOPE
    return np.where(flat, np.float32(0), s_x), np.where(flat, np.float32(0), s_y)


def gather_linear(
    rgb: npt.NDArray[np.float32],
    coc: npt.NDArray[np.float32],
    blades: int = 0,
    rotation_rad: float = 0.0,
    curvature: float = 0.0,
) -> npt.NDArray[np.float32]:
    """(5) The occlusion-aware gather, as a sum over kernel offsets."""
    height, width = coc.shape
    radius = np.abs(coc.astype(np.float64)) / 2
    half = max(1, math.ceil(radius.max() + 0.5))

    # (3.3) Kernel area K(R) = sum over all offsets of coverage(R, rho), exactly.
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    rho_table = aperture_norm(offsets[None, :], offsets[:, None], blades, rotation_rad, curvature)
    all_rho = np.sort(rho_table.ravel())
    area = np.array(
        [coverage(np.float64(r), all_rho).sum() for r in radius.ravel()]
    ).reshape(radius.shape)
    inverse_area = 1.0 / area

    # (5.1) Outside the frame the scene continues as its edge pixels.
    def padded(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        pad = [(half, half), (half, half)] + [(0, 0)] * (a.ndim - 2)
        return np.pad(a, pad, mode="edge")

    source_coc = padded(coc)
    source_radius = padded(radius)
    source_inverse_area = padded(inverse_area)
    source_rgb = padded(rgb.astype(np.float64))
    slope_x, slope_y = surface_slope(coc)

    layers = {name: Layer.empty(height, width) for name in ("near", "surface", "behind")}
    for dy in range(-half, half + 1):
        for dx in range(-half, half + 1):
            window = (slice(half + dy, half + dy + height), slice(half + dx, half + dx + width))
            c_j, r_j = source_coc[window], source_radius[window]
            # (5.2) The CoC the centre's surface would have at the source, and the groups.
            expected = (coc + slope_y * np.float32(dy)) + slope_x * np.float32(dx)
            nearer_than = expected - SAME_SURFACE_TOLERANCE_PX
            farther_than = expected + SAME_SURFACE_TOLERANCE_PX
            inv_j, rgb_j = source_inverse_area[window], source_rgb[window]
            # (3.4) The source's kernel at offset centre - source = (-dx, -dy), point-reflected
            # in front of the focus plane.
            rho = np.where(c_j < 0, rho_table[half + dy, half + dx], rho_table[half - dy, half - dx])
            own_weight = coverage(r_j, rho) * inv_j
            behind_weight = coverage(np.maximum(radius, r_j), rho) * np.minimum(inverse_area, inv_j)
            is_near = c_j < nearer_than
            is_surface = ~is_near & (c_j <= farther_than)
            is_behind = ~is_near & ~is_surface
            layers["near"].add(rgb_j, np.where(is_near, own_weight, 0.0))
            layers["surface"].add(rgb_j, np.where(is_surface, own_weight, 0.0))
            layers["behind"].add(rgb_j, np.where(is_behind, behind_weight, 0.0))

    # (5.3) Composite: nearer samples over the surface; the behind group fills as much of the
    # surface's gap as it covers, the surface's mean colour the rest.
    near, surface = layers["near"].clamped(), layers["surface"].clamped()
    behind = layers["behind"]
    gap = 1.0 - surface.weight
    seen_behind = np.minimum(behind.weight, gap)
    behind_mean = behind.colour / np.where(behind.weight > 0, behind.weight, 1.0)[..., None]
    surface_mean = surface.colour / surface.weight[..., None]
    inner = surface.colour + seen_behind[..., None] * behind_mean + (gap - seen_behind)[..., None] * surface_mean
    out = near.colour + (1.0 - near.weight)[..., None] * inner
    return np.asarray(out, dtype=np.float32)


@dataclass
class Layer:
    """(5.2) Premultiplied colour and coverage of one depth group."""

    colour: F64
    weight: F64

    @classmethod
    def empty(cls, height: int, width: int) -> Layer:
        return cls(np.zeros((height, width, 3)), np.zeros((height, width)))

    def add(self, rgb: F64, weight: F64) -> None:
        self.colour += weight[..., None] * rgb
        self.weight += weight

    def clamped(self) -> Layer:
        """A layer covers at most the whole aperture."""
        scale = 1.0 / np.maximum(self.weight, 1.0)
        return Layer(self.colour * scale[..., None], self.weight * scale)


class ReferenceEngine:
    """The two engine steps of `dofcore.api.Engine`, in numpy."""

    def circle_of_confusion(
        self, depth: npt.NDArray[np.float32], lens: ThinLens
    ) -> npt.NDArray[np.float32]:
        return circle_of_confusion(depth, lens.aperture_m, lens.focal_px, lens.focus_m)

    def gather(
        self, linear: npt.NDArray[np.float32], coc: npt.NDArray[np.float32], aperture: api.Aperture
    ) -> npt.NDArray[np.float32]:
        return gather_linear(linear, coc, aperture.blades, aperture.rotation_rad, aperture.curvature)


ENGINE = ReferenceEngine()


def render(img: npt.NDArray[np.generic], depth: npt.NDArray[np.generic], f: float, **options: Any) -> npt.NDArray[np.generic]:
    """`dofcore.render` with the numpy reference engine; the same parameters (threads aside)."""
    options.pop("threads", None)
    return api.render(img, depth, f, engine=ENGINE, **options)
