"""Render each scene once (pinhole photo, its depth, thin-lens truth at two seeds) and keep it
small: float16 .npz in the cache folder (DOFCORE_EVAL_CACHE, default .eval-cache)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dofcore.eval import scenes
from dofcore.eval.mitsuba import mitsuba, planar_depth, render_rgb

CACHE_ENV = "DOFCORE_EVAL_CACHE"
SIZE = 750
TRUTH_SPP = 2048
PHOTO_SPP = 512

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SceneRender:
    name: str
    photo_hdr: F32
    """The pinhole photo in linear light before any clipping (exposure applied)."""
    depth: F32
    """Planar depth at pixel centres, metres."""
    truth: F32
    """The thin-lens render, linear light, exposure applied."""
    truth_other_seed: F32

    @property
    def focal_px(self) -> float:
        return scenes.focal_px(self.depth.shape[1])


def cache_folder() -> Path:
    return Path(os.environ.get(CACHE_ENV, ".eval-cache"))


def render_scene(scene: scenes.Scene, size: int = SIZE, truth_spp: int = TRUTH_SPP,
                 photo_spp: int = PHOTO_SPP) -> SceneRender:
    mi = mitsuba()
    pinhole = mi.load_dict(scenes.scene_dict(scene, size, photo_spp, thin_lens=False))
    thin_lens = mi.load_dict(scenes.scene_dict(scene, size, truth_spp, thin_lens=True))
    return SceneRender(
        scene.name,
        render_rgb(pinhole) * scene.exposure,
        planar_depth(pinhole, scenes.CAMERA_ORIGIN, scenes.CAMERA_FORWARD),
        render_rgb(thin_lens, seed=1) * scene.exposure,
        render_rgb(thin_lens, seed=2) * scene.exposure,
    )


def save(render: SceneRender, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    half = {key: getattr(render, key).astype(np.float16) for key in ("photo_hdr", "truth", "truth_other_seed")}
    np.savez_compressed(path, depth=render.depth, **half)


def load(name: str, path: Path) -> SceneRender:
    with np.load(path) as stored:
        arrays = {key: stored[key].astype(np.float32) for key in ("photo_hdr", "depth", "truth", "truth_other_seed")}
    return SceneRender(name, **arrays)


def scene_render(name: str, size: int = SIZE, truth_spp: int = TRUTH_SPP) -> SceneRender:
    """From the cache, rendering it first when missing."""
    path = cache_folder() / f"{name}_{size}_{truth_spp}spp.npz"
    if not path.exists():
        save(render_scene(scenes.SCENES[name], size, truth_spp), path)
    return load(name, path)
