"""Score renders of each scene against its thin-lens truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

import dofcore
from dofcore.color import from_linear, to_linear
from dofcore.eval import baselines, scenes
from dofcore.eval.degrade import DEGRADATIONS
from dofcore.eval.metrics import display, edge_band, highlight_region, psnr, ssim
from dofcore.eval.truth import SceneRender
from dofcore.mask import erode

F64 = npt.NDArray[np.float64]


@dataclass
class Scores:
    whole: float
    ssim: float
    edges: float
    highlights: float | None


@dataclass
class SceneResult:
    name: str
    seeds_agree_db: float
    scores: dict[str, Scores] = field(default_factory=dict)
    degraded: dict[str, Scores] = field(default_factory=dict)
    images: dict[str, F64] = field(default_factory=dict)


def photo_of(render: SceneRender) -> npt.NDArray[np.uint8]:
    """The 8-bit photo a user has: the pinhole render clipped and encoded like a JPEG."""
    clipped = np.clip(render.photo_hdr, 0.0, 1.0).astype(np.float32)
    return np.asarray(from_linear(clipped, np.dtype(np.uint8)), dtype=np.uint8)


def focus_pixel(depth: npt.NDArray[np.float32]) -> tuple[int, int]:
    """The pixel nearest the frame's centre well inside a surface at the focus distance (within
    1 %, and as far from its edges as the scene allows, up to 12 px): where a user with a
    network's depth map would click to focus, on the subject rather than on its outline."""
    at_focus = np.abs(depth / scenes.FOCUS_M - 1) < 0.01
    margin = next(m for m in (12, 8, 4, 2, 0) if erode(at_focus, m).any())
    ys, xs = np.nonzero(erode(at_focus, margin))
    height, width = depth.shape
    nearest = np.argmin((ys - height / 2) ** 2 + (xs - width / 2) ** 2)
    return int(xs[nearest]), int(ys[nearest])


def evaluate(render: SceneRender, with_degraded: bool = True, **render_options: object) -> SceneResult:
    """render_options go to every dofcore render (highlight_threshold, highlight_gain, ...)."""
    lens: dict[str, object] = dict(focus=scenes.FOCUS_M, focal_length=scenes.FOCAL_LENGTH_MM, focal_px=render.focal_px)
    photo = photo_of(render)
    coc = dofcore.coc(render.depth, scenes.F_NUMBER, focus=scenes.FOCUS_M, focal_length=scenes.FOCAL_LENGTH_MM,
                      focal_px=render.focal_px)
    truth = display(render.truth)
    edges = edge_band(render.depth)
    lights = highlight_region(render.photo_hdr, coc)

    def score(image: F64) -> Scores:
        return Scores(psnr(image, truth), ssim(image, truth), psnr(image, truth, edges),
                      psnr(image, truth, lights) if lights.any() else None)

    def dofcore_render(depth: npt.NDArray[np.float32], **options: object) -> F64:
        out = dofcore.render(photo, depth, scenes.F_NUMBER, **{**lens, **render_options, **options})  # type: ignore[arg-type]
        return np.asarray(out, dtype=np.float64) / 255.0

    linear_photo = to_linear(photo)
    renders: dict[str, Callable[[], F64]] = {
        "dofcore": lambda: dofcore_render(render.depth),
        "dofcore, exact level": lambda: dofcore_render(render.depth, quality="exact"),
        "dofcore, no highlight recovery": lambda: dofcore_render(render.depth, highlight_gain=1.0),
        "layered Gaussian": lambda: display(baselines.layered_gaussian(linear_photo, coc)),
        "brute-force scatter": lambda: display(baselines.scatter(linear_photo, coc)),
        "brute-force scatter of the unclipped HDR": lambda: display(baselines.scatter(render.photo_hdr, coc)),
    }
    result = SceneResult(render.name, psnr(display(render.truth_other_seed), truth))
    result.images = {"input": photo / 255.0, "truth": truth}
    for name, make in renders.items():
        image = make()
        result.images[name] = image
        result.scores[name] = score(image)
    if with_degraded:
        # A network's depth has no trusted metric focus: focus on the subject's pixel, as a
        # user would, so a scale error scales the blur instead of moving the focus.
        clicked = focus_pixel(render.depth)
        result.scores["dofcore, focus at the subject's pixel"] = score(dofcore_render(render.depth, focus=clicked))
        for name, degrade in DEGRADATIONS.items():
            result.degraded[name] = score(dofcore_render(degrade(render.depth), focus=clicked))
    return result
