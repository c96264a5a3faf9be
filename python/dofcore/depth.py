"""Metric depth and focal length from one photo with Apple's Depth Pro.

    d = dofcore.estimate_depth(img)              # d.depth: H x W float32 metres, d.focal_px
    d = dofcore.estimate_depth(img, weights="path/to/DepthPro-hf", device="cuda", focal_px=1200.0)

Two backends run the same network. "transformers" (default): Hugging Face's
`DepthProForDepthEstimation`, weights as `save_pretrained` writes them (a folder) or a hub id
(default `apple/DepthPro-hf`, from the Hugging Face cache, downloaded there when the network
allows). "apple": Apple's own `depth_pro` package (github apple/ml-depth-pro, not on PyPI)
with its .pt checkpoint. The weights carry Apple's licence.

Depth Pro predicts canonical inverse depth and, from its field-of-view head, the focal length.
A known focal length (EXIF) replaces the estimate, as Apple's `infer` does:
depth = 1 / clamp(canonical_inverse_depth * W / f_px, 1e-4, 1e4), at the photo's resolution.
Needs the depth extra: pip install 'dofcore[depth]'.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dofcore.api import check_image, check_image_values
from dofcore.color import INTEGER_DTYPES, linear_to_srgb

DEFAULT_WEIGHTS = "apple/DepthPro-hf"
APPLE_DEFAULT_CHECKPOINT = "./checkpoints/depth_pro.pt"
WEIGHTS_ENV = "DOFCORE_DEPTHPRO_WEIGHTS"
# Inverse depth is clamped to this range before inverting (Apple's `infer`), metres^-1.
INVERSE_DEPTH_RANGE = (1e-4, 1e4)
# Depth Pro's processor: scale to [0, 1], then normalise with mean 0.5 and std 0.5 per channel.
NORMALISE_MEAN = NORMALISE_STD = 0.5

Backend = Literal["transformers", "apple"]


class WeightsNotFoundError(FileNotFoundError):
    """No Depth Pro weights where they were looked for."""


@dataclass(frozen=True)
class DepthEstimate:
    depth: npt.NDArray[np.float32]
    """H x W planar depth in metres, at the photo's resolution."""
    focal_px: float
    """The focal length in pixels the depth was computed with."""
    focal_from: Literal["given", "depth pro"]


def _depth_extra() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as err:
        raise ImportError(
            f"depth estimation needs torch and transformers ({err.name} is missing): "
            "pip install 'dofcore[depth]'"
        ) from err
    return torch, transformers


def default_device() -> str:
    torch, _ = _depth_extra()
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _weights_not_found(weights: str, backend: Backend, reason: object) -> WeightsNotFoundError:
    return WeightsNotFoundError(
        f"Depth Pro weights not found at {weights!r} ({reason}). Give weights= (or set "
        f"{WEIGHTS_ENV}) to a local folder written by save_pretrained, or to a hub id such as "
        f"{DEFAULT_WEIGHTS!r} already in the Hugging Face cache (downloaded there with network "
        "access; Apple's licence applies)"
        + (". For backend='apple', the path of depth_pro.pt." if backend == "apple" else ".")
    )


class _TransformersDepthPro:
    def __init__(self, weights: str, device: str) -> None:
        torch, transformers = _depth_extra()
        self.torch = torch
        self.device = device
        # Half precision on CUDA, as Depth Pro is meant to run; float32 elsewhere.
        self.dtype = torch.float16 if device.startswith("cuda") else torch.float32
        try:
            model = transformers.DepthProForDepthEstimation.from_pretrained(weights, dtype=self.dtype)
        except OSError as err:
            raise _weights_not_found(weights, "transformers", err) from err
        self.model = model.to(device).eval()
        config = model.config
        # The network sees a square of its patch size over its smallest scale (1536 for Apple's).
        self.input_size = round(config.patch_size / min(config.scaled_images_ratios))

    def __call__(self, srgb: npt.NDArray[np.float32], focal_px: float | None) -> tuple[npt.NDArray[np.float32], float]:
        torch = self.torch
        height, width = srgb.shape[:2]
        pixels = torch.from_numpy(np.ascontiguousarray(srgb)).permute(2, 0, 1)[None]
        pixels = (pixels.to(self.device, torch.float32) - NORMALISE_MEAN) / NORMALISE_STD
        pixels = torch.nn.functional.interpolate(
            pixels, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False
        )
        with torch.inference_mode():
            output = self.model(pixel_values=pixels.to(self.dtype))
        if focal_px is None:
            if output.field_of_view is None:
                raise ValueError("this Depth Pro has no field-of-view head: give focal_px")
            fov_deg = float(output.field_of_view.float().reshape(-1)[0])
            if not 0.0 < fov_deg < 180.0:
                raise ValueError(
                    f"Depth Pro estimated a field of view of {fov_deg:.3g} degrees, which no lens "
                    "has: give focal_px (are these the trained weights?)"
                )
            focal_px = 0.5 * width / math.tan(math.radians(0.5 * fov_deg))
        canonical_inverse = output.predicted_depth.float()
        inverse = canonical_inverse.reshape(1, 1, *canonical_inverse.shape[-2:]) * (width / focal_px)
        inverse = torch.nn.functional.interpolate(inverse, size=(height, width), mode="bilinear", align_corners=False)
        depth = 1.0 / inverse.clamp(*INVERSE_DEPTH_RANGE)
        return depth[0, 0].cpu().numpy().astype(np.float32), float(focal_px)


class _AppleDepthPro:
    def __init__(self, weights: str, device: str) -> None:
        torch, _ = _depth_extra()
        try:
            import depth_pro
            from depth_pro.depth_pro import DEFAULT_MONODEPTH_CONFIG_DICT
        except ImportError as err:
            raise ImportError(
                "backend='apple' needs Apple's depth_pro package (github apple/ml-depth-pro, "
                "not on PyPI): pip install it from a clone, or use backend='transformers'"
            ) from err
        if not os.path.isfile(weights):
            raise _weights_not_found(weights, "apple", "no such file")
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        config = dataclasses.replace(DEFAULT_MONODEPTH_CONFIG_DICT, checkpoint_uri=weights)
        self.model, self.transform = depth_pro.create_model_and_transforms(
            config=config, device=torch.device(device), precision=dtype
        )
        self.model.eval()

    def __call__(self, srgb: npt.NDArray[np.float32], focal_px: float | None) -> tuple[npt.NDArray[np.float32], float]:
        prediction = self.model.infer(self.transform(srgb), f_px=focal_px)
        depth = prediction["depth"].float().cpu().numpy().astype(np.float32)
        return depth, float(prediction["focallength_px"])


@functools.lru_cache(maxsize=2)
def load_model(backend: Backend, weights: str, device: str) -> _TransformersDepthPro | _AppleDepthPro:
    """Load once, reuse across calls (the two most recent models stay in memory)."""
    if backend == "transformers":
        return _TransformersDepthPro(weights, device)
    if backend == "apple":
        return _AppleDepthPro(weights, device)
    raise ValueError(f"backend must be 'transformers' or 'apple', got {backend!r}")


def _srgb01(img: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    """The photo as Depth Pro sees it: sRGB-encoded values in [0, 1]."""
    values = np.asarray(img, dtype=np.float64)
    if img.dtype in INTEGER_DTYPES:
        return np.asarray(values / np.iinfo(img.dtype.name).max, dtype=np.float32)
    return np.asarray(linear_to_srgb(values), dtype=np.float32)  # linear float input


def estimate_depth(
    img: npt.NDArray[np.generic],
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str | None = None,
    focal_px: float | None = None,
    backend: Backend = "transformers",
) -> DepthEstimate:
    """Metric depth (H x W, metres) of a photo (H x W x 3, as `dofcore.render` takes it).

    weights: a folder written by `save_pretrained`, a hub id, or for backend="apple" a .pt
    checkpoint; default from DOFCORE_DEPTHPRO_WEIGHTS, else apple/DepthPro-hf (or Apple's
    ./checkpoints/depth_pro.pt). device: "cuda", "mps" or "cpu"; default the first available.
    focal_px: the photo's focal length in pixels when known (EXIF); else Depth Pro estimates it.
    """
    img = check_image_values(check_image(img))
    if focal_px is not None and not (math.isfinite(focal_px) and focal_px > 0):
        raise ValueError(f"focal_px must be finite and > 0, got {focal_px}")
    if weights is None:
        weights = os.environ.get(WEIGHTS_ENV) or (
            APPLE_DEFAULT_CHECKPOINT if backend == "apple" else DEFAULT_WEIGHTS
        )
    model = load_model(backend, os.fspath(weights), device or default_device())
    depth, used_focal_px = model(_srgb01(img), focal_px)
    return DepthEstimate(depth, used_focal_px, "depth pro" if focal_px is None else "given")
