"""`render` and `coc`: check what the user gave, then run the model of docs/model.md.

The pipeline is the same for every engine: decode to linear light, expand highlights, thin-lens
CoC, occlusion-aware gather, compress highlights, encode. An engine supplies the two middle
steps: the Rust one by default, `dofcore.reference.ENGINE` for the numpy transcription.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

from dofcore import _dofcore, depth_edges
from dofcore.color import FLOAT_DTYPES, INTEGER_DTYPES, Highlights, from_linear, to_linear
from dofcore.lens import Focus, ThinLens, thin_lens
from dofcore.memory import check_fits

THREADS_ENV = "DOFCORE_NUM_THREADS"
# Integer photos clip every light at white; linear float input is taken to be unclipped.
# Only nearly saturated pixels hide unknown light: below ~250/255 a pixel's value is true.
DEFAULT_HIGHLIGHT_THRESHOLD = 0.95
DEFAULT_HIGHLIGHT_GAIN_CLIPPED = 16.0
MIN_SIDE_PX = 2
MAX_THREADS = _dofcore.MAX_THREADS  # more is a mistake, not a machine: refused, not spawned
# "exact": the gather of docs/model.md 5; "fast": the pyramid of docs/model.md 8.
QUALITIES = ("exact", "fast")


@dataclass(frozen=True)
class Aperture:
    """Circle (blades=0) or a diaphragm of n >= 3 blades, rotated counter-clockwise by
    `rotation` degrees (0: a vertex points right), with blades rounded by `curvature`
    (0: straight, a polygon; 1: a circle)."""

    blades: int = 0
    rotation: float = 0.0
    curvature: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.blades, bool) or not isinstance(self.blades, (int, np.integer)):
            raise TypeError(f"blades must be an integer, got {self.blades!r}")
        if self.blades != 0 and not 3 <= self.blades <= _dofcore.MAX_BLADES:
            raise ValueError(
                f"blades must be 0 (circle) or 3..{_dofcore.MAX_BLADES}, got {self.blades}"
            )
        if not math.isfinite(self.rotation):
            raise ValueError(f"blade_rotation must be finite, got {self.rotation}")
        if not 0.0 <= self.curvature <= 1.0:
            raise ValueError(f"blade_curvature must be in [0, 1], got {self.curvature}")

    @property
    def rotation_rad(self) -> float:
        return math.radians(self.rotation)


class Engine(Protocol):
    """The two steps of the model that an engine computes."""

    def circle_of_confusion(
        self, depth: npt.NDArray[np.float32], lens: ThinLens
    ) -> npt.NDArray[np.float32]: ...

    def gather(
        self, linear: npt.NDArray[np.float32], coc: npt.NDArray[np.float32], aperture: Aperture
    ) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class RustEngine:
    """The native engine; threads=0 uses every core; fast: the pyramid (docs/model.md 8)."""

    threads: int = 0
    fast: bool = False

    def circle_of_confusion(
        self, depth: npt.NDArray[np.float32], lens: ThinLens
    ) -> npt.NDArray[np.float32]:
        return _dofcore.circle_of_confusion(depth, lens.aperture_m, lens.focal_px, lens.focus_m, self.threads)

    def gather(
        self, linear: npt.NDArray[np.float32], coc: npt.NDArray[np.float32], aperture: Aperture
    ) -> npt.NDArray[np.float32]:
        return _dofcore.render_linear_rgb(
            np.ascontiguousarray(linear),
            coc,
            aperture.blades,
            aperture.rotation_rad,
            aperture.curvature,
            self.threads,
            _dofcore.DEFAULT_MIN_RADIUS if self.fast else None,
        )


def default_threads() -> int:
    """DOFCORE_NUM_THREADS when set, else 0 (every core)."""
    value = os.environ.get(THREADS_ENV, "0")
    try:
        threads = int(value)
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a whole number, got {value!r}") from None
    if not 0 <= threads <= MAX_THREADS:
        raise ValueError(f"{THREADS_ENV} must be in 0..{MAX_THREADS}, got {threads}")
    return threads


def _first_bad(mask: npt.NDArray[np.bool_]) -> str:
    y, x = np.argwhere(mask)[0][:2]
    return f"{int(mask.sum())} pixel(s), the first at (x={x}, y={y})"


def check_image(img: object) -> npt.NDArray[np.generic]:
    """Shape and dtype only (no copy, no pass over the values): H x W x 3, or greyscale H x W or
    H x W x 1."""
    if not isinstance(img, np.ndarray):
        raise TypeError(f"img must be a numpy array, got {type(img).__name__}")
    if img.ndim == 3 and img.shape[2] == 4:
        raise ValueError(
            f"img has 4 channels (RGBA?), shape {img.shape}: dofcore blurs colour, not alpha; "
            "composite the image over a background or drop alpha (img[..., :3]) first"
        )
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (1, 3))):
        raise ValueError(f"img must be H x W x 3 (RGB) or H x W (greyscale), got shape {img.shape}")
    if min(img.shape[:2]) < MIN_SIDE_PX:
        raise ValueError(f"img must be at least {MIN_SIDE_PX} x {MIN_SIDE_PX} pixels, got shape {img.shape}")
    if img.dtype not in INTEGER_DTYPES + FLOAT_DTYPES:
        raise TypeError(
            f"img dtype must be uint8 or uint16 (sRGB) or float32/float64 (linear), got {img.dtype}"
        )
    return img


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_image_values(img: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """Finite, non-negative linear light; returned as RGB, C-contiguous."""
    img = np.ascontiguousarray(img)
    if img.ndim == 2 or img.shape[2] == 1:
        img = np.repeat(img.reshape(img.shape[0], img.shape[1], 1), 3, axis=2)
    if img.dtype in FLOAT_DTYPES:
        bad = np.asarray(~np.isfinite(img).all(axis=2))
        if bad.any():
            raise ValueError(f"img holds NaN or infinity at {_first_bad(bad)}")
        negative = np.asarray((cast(npt.NDArray[np.floating], img) < 0).any(axis=2))
        if negative.any():
            raise ValueError(f"img holds negative linear light at {_first_bad(negative)}")
    if img.dtype == np.float64:  # the engine works in float32, where this would be infinity
        too_bright = np.asarray((cast(npt.NDArray[np.float64], img) > FLOAT32_MAX).any(axis=2))
        if too_bright.any():
            raise ValueError(f"img holds light beyond float32's range ({FLOAT32_MAX:.3g}) at {_first_bad(too_bright)}")
    return img


def check_blur(coc: npt.NDArray[np.float32], depth: npt.NDArray[np.float32], lens: ThinLens) -> None:
    """A blur disc wider than the image is a wrong lens or a wrong depth, not a picture."""
    widest = float(np.abs(coc).max())
    height, width = coc.shape
    if widest > max(height, width):
        raise ValueError(
            f"a blur disc of {widest:.0f} px does not fit the {width} x {height} image (depth "
            f"{depth.min():.3g} to {depth.max():.3g} m, focus {lens.focus_m:.3g} m, aperture "
            f"{lens.aperture_m * 1e3:.3g} mm): use a larger f-number, or check the depth's units"
        )


def check_threads(threads: object) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an integer, got {threads!r}")
    if not 0 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be in 0..{MAX_THREADS} (0: every core), got {threads}")
    return int(threads)


def check_quality(quality: object, engine: Engine | None) -> bool:
    """True for the fast level: the built-in engine's default."""
    if quality is None:
        return engine is None
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, got {quality!r}")
    if engine is not None and quality != "exact":
        raise ValueError(f"quality={quality!r} is a level of the built-in engine; a given engine renders its own way")
    return quality == "fast"


def check_depth(depth: object, shape: tuple[int, ...] | None = None) -> npt.NDArray[np.float32]:
    if not isinstance(depth, np.ndarray):
        raise TypeError(f"depth must be a numpy array, got {type(depth).__name__}")
    if depth.ndim != 2:
        raise ValueError(f"depth must be H x W (metres), got shape {depth.shape}")
    if shape is not None and depth.shape != shape:
        raise ValueError(f"depth is {depth.shape} but the image is {shape}: they must match")
    if depth.size == 0:
        raise ValueError(f"depth is empty: shape {depth.shape}")
    if not (np.issubdtype(depth.dtype, np.floating) or np.issubdtype(depth.dtype, np.integer)):
        raise TypeError(f"depth must hold real numbers (metres), got dtype {depth.dtype}")
    depth = np.ascontiguousarray(depth, dtype=np.float32)
    bad = ~np.isfinite(depth)
    if bad.any():
        raise ValueError(f"depth holds NaN or infinity at {_first_bad(bad)}")
    non_positive = depth <= 0
    if non_positive.any():
        raise ValueError(f"depth must be > 0 m; it is not at {_first_bad(non_positive)}")
    return depth


def coc(
    depth: npt.NDArray[np.generic],
    f: float,
    *,
    focus: Focus = None,
    focal_length: float | None = None,
    focal_px: float | None = None,
    engine: Engine | None = None,
) -> npt.NDArray[np.float32]:
    """Signed circle-of-confusion diameter in pixels (negative in front of focus), H x W."""
    depth = check_depth(depth)
    lens = thin_lens(depth, f, focus, focal_length, focal_px)
    return (engine or RustEngine()).circle_of_confusion(depth, lens)


def render(
    img: npt.NDArray[np.generic],
    depth: npt.NDArray[np.generic],
    f: float,
    *,
    focus: Focus = None,
    focal_length: float | None = None,
    focal_px: float | None = None,
    blades: int = 0,
    blade_rotation: float = 0.0,
    blade_curvature: float = 0.0,
    highlight_threshold: float = DEFAULT_HIGHLIGHT_THRESHOLD,
    highlight_gain: float | None = None,
    sharpen_depth_edges: bool = True,
    quality: str | None = None,
    threads: int | None = None,
    engine: Engine | None = None,
) -> npt.NDArray[np.generic]:
    """The photo `img` as a thin lens at f-number `f` would have taken it.

    img: H x W x 3, uint8 or uint16 (sRGB) or float32/float64 (linear light); greyscale H x W
        or H x W x 1 is rendered as grey and returned in its own shape; RGBA is refused (blur
        colour only: composite or drop alpha first). Any strides; the input is never modified.
    depth: H x W, metres (planar z, as Depth Pro gives it).
    focus: metres, a pixel (x, y), or None for automatic: the 25th percentile of depth in the
        frame's central third (dofcore.lens.auto_focus_distance).
    focal_length: full-frame-equivalent mm; focal_px: the photo's focal length in pixels
        (dofcore.lens.focal_lengths says how each defaults from the other).
    blades, blade_rotation (degrees), blade_curvature: the aperture; 0 blades is a circle.
    highlight_threshold (linear, default 0.95) and highlight_gain: highlight recovery; the gain
        defaults to 16 for integer (clipped) photos and to 1 (off) for linear float input.
    sharpen_depth_edges: make depth edges agree with the photo's, as networks draw them blended
        or with near objects fattened: a pixel takes the depth of the side whose colour it
        matches (docs/model.md 2.4); False uses the depth as given.
    quality: "fast" (the default), a pyramid that gathers each pixel at the resolution its blur
        needs (docs/model.md 8): 10-20x faster on large blur, within 45 dB of exact (linear
        PSNR) on the scenes of docs/performance.md; or "exact", the model of docs/model.md 5.
        A given engine renders its own way (None or "exact").
    threads: worker threads; None reads DOFCORE_NUM_THREADS, else every core.
    engine: what computes the CoC and the gather; the Rust engine unless given.
    Returns an array of the input's shape and dtype.
    """
    original_shape = check_image(img).shape
    height, width = original_shape[:2]
    grey = len(original_shape) == 2 or original_shape[2] == 1
    # check_image_values copies a strided image, and makes RGB of a grey one.
    copies = 3 * img.nbytes if grey else (0 if img.flags.c_contiguous else img.nbytes)
    check_fits(height, width, copies=copies)
    img = check_image_values(img)
    depth = check_depth(depth, img.shape[:2])
    threads = check_threads(threads)
    threads = default_threads() if threads is None else threads
    if sharpen_depth_edges:
        depth = depth_edges.sharpen_depth_edges(img, depth, threads)
    lens = thin_lens(depth, f, focus, focal_length, focal_px)
    aperture = Aperture(blades, float(blade_rotation), float(blade_curvature))
    if highlight_gain is None:
        highlight_gain = DEFAULT_HIGHLIGHT_GAIN_CLIPPED if img.dtype in INTEGER_DTYPES else 1.0
    highlights = Highlights(float(highlight_threshold), float(highlight_gain))
    fast = check_quality(quality, engine)
    engine = engine or RustEngine(threads, fast)
    coc_map = engine.circle_of_confusion(depth, lens)
    check_blur(coc_map, depth, lens)
    del depth  # a copy of ours where its edges were sharpened: not needed past the CoC

    linear = to_linear(img, threads)
    gain = highlights.gain_field(linear, threads)
    # Peak memory (docs/reliability.md): expand our own linear copy in place, drop it once the
    # engine has its output, compress that output in place.
    ours = not np.may_share_memory(linear, img)  # not `is`: see depth_edges.perceptual_colour
    linear = highlights.expand(linear, gain, in_place=ours, threads=threads)
    blurred = engine.gather(linear, coc_map, aperture)
    del linear
    out = from_linear(highlights.compress(blurred, gain, in_place=True, threads=threads), img.dtype, threads)
    # Greyscale in, greyscale out: the three channels are equal.
    return out[..., 0].reshape(original_shape) if grey else out
