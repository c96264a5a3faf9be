"""The evaluation scenes, in code: what users photograph and complain about.

Each is seen by a pinhole camera (the photo a user has, and its depth) and by a thin lens of
the same field of view (the truth). Units are metres; the lens is 85 mm full-frame equivalent at
f/1.8 focused at 2 m, whose aperture radius F / 2N is Mitsuba's `thinlens` aperture_radius.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dofcore.eval.mitsuba import mitsuba

FOCAL_LENGTH_MM = 85.0
F_NUMBER = 1.8
FOCUS_M = 2.0
CAMERA_ORIGIN = (0.0, 1.5, 0.0)
CAMERA_FORWARD = (0.0, 0.0, -1.0)


def horizontal_fov_deg(focal_length_mm: float = FOCAL_LENGTH_MM) -> float:
    return math.degrees(2 * math.atan(18.0 / focal_length_mm))


def focal_px(width: int) -> float:
    return width * FOCAL_LENGTH_MM / 36.0


def sensor(size: int, spp: int, thin_lens: bool) -> dict[str, Any]:
    mi = mitsuba()
    origin = np.array(CAMERA_ORIGIN)
    camera: dict[str, Any] = {
        "type": "thinlens" if thin_lens else "perspective",
        "fov": horizontal_fov_deg(),
        "fov_axis": "x",
        "to_world": mi.ScalarTransform4f().look_at(
            origin=origin.tolist(), target=(origin + CAMERA_FORWARD).tolist(), up=[0, 1, 0]
        ),
        "film": {"type": "hdrfilm", "width": size, "height": size, "pixel_format": "rgb",
                 "rfilter": {"type": "box"}},
        # Stratified: the aperture's coverage of small bright discs converges far faster than
        # with independent samples (40 dB where independent gave 35 at 1024 spp).
        "sampler": {"type": "multijitter", "sample_count": spp},
    }
    if thin_lens:
        camera["aperture_radius"] = FOCAL_LENGTH_MM * 1e-3 / (2 * F_NUMBER)
        camera["focus_distance"] = FOCUS_M
    return camera


def _texture(seed: int, colour: tuple[float, float, float], contrast: float = 0.6, cells: int = 64) -> dict[str, Any]:
    """A diffuse material with fine random texture, so sharpness shows."""
    mi = mitsuba()
    rng = np.random.default_rng(seed)
    noise = rng.uniform(1 - contrast, 1.0, (cells, cells, 1)) * np.array(colour)
    return {"type": "diffuse", "reflectance": {
        "type": "bitmap", "bitmap": mi.Bitmap(noise.astype(np.float32)), "filter_type": "nearest"}}


def _diffuse(colour: tuple[float, float, float]) -> dict[str, Any]:
    return {"type": "diffuse", "reflectance": {"type": "rgb", "value": list(colour)}}


def _rectangle(centre: tuple[float, float, float], half_size: tuple[float, float], material: dict[str, Any],
               tilt_deg: float = 0.0) -> dict[str, Any]:
    mi = mitsuba()
    transform = mi.ScalarTransform4f().translate(list(centre)).rotate([1, 0, 0], tilt_deg).scale([*half_size, 1])
    return {"type": "rectangle", "to_world": transform, "bsdf": material}


def _cylinder(p0: np.ndarray, p1: np.ndarray, radius: float, material: dict[str, Any]) -> dict[str, Any]:
    return {"type": "cylinder", "p0": p0.tolist(), "p1": p1.tolist(), "radius": radius, "bsdf": material}


def _lights_common() -> dict[str, Any]:
    return {
        "sky": {"type": "constant", "radiance": {"type": "rgb", "value": [0.25, 0.27, 0.32]}},
        "sun": {"type": "directional", "direction": [0.4, -0.7, -0.6],
                "irradiance": {"type": "rgb", "value": [1.5, 1.4, 1.25]}},
    }


def _subject(z: float = -FOCUS_M) -> dict[str, Any]:
    """A textured head and shoulders at the focus distance."""
    return {
        "head": {"type": "sphere", "center": [0.0, 1.52, z - 0.1], "radius": 0.1,
                 "bsdf": _texture(1, (0.75, 0.55, 0.45), 0.3)},
        "body": _cylinder(np.array([0.0, 0.6, z - 0.12]), np.array([0.0, 1.36, z - 0.12]), 0.16,
                          _texture(2, (0.3, 0.35, 0.6), 0.7)),
    }


def lights(seed: int = 11) -> dict[str, Any]:
    """Small bright lights far behind the subject: bokeh balls from clipped highlights."""
    rng = np.random.default_rng(seed)
    scene = {"sky": {"type": "constant", "radiance": {"type": "rgb", "value": [0.05, 0.05, 0.08]}},
             "key": {"type": "directional", "direction": [0.3, -0.4, -1.0],
                     "irradiance": {"type": "rgb", "value": [1.2, 1.1, 1.0]}},
             "wall": _rectangle((0, 5, -30), (20, 10), _texture(3, (0.25, 0.22, 0.2), 0.5))}
    scene.update(_subject())
    mi = mitsuba()
    for index in range(36):
        # 10-40 times the white of the photo: clipped hard, yet the truth's disc edges converge.
        radiance = (rng.uniform(10, 40) * np.array([1.0, rng.uniform(0.6, 0.95), rng.uniform(0.3, 0.8)])).tolist()
        centre = [float(rng.uniform(-3.2, 3.2)), float(rng.uniform(-1.5, 4.5)), float(-rng.uniform(12, 22))]
        # One-sided disks facing the camera (lamps, lit windows). They light nothing the camera
        # sees, so light sampling should not pick them: with equal weights 36 of 38 light
        # samples were wasted and the truth needed ten times the samples to converge.
        scene[f"light_{index}"] = {
            "type": "disk",
            "to_world": mi.ScalarTransform4f().translate(centre).scale(float(rng.uniform(0.03, 0.07))),
            "emitter": {"type": "area", "radiance": {"type": "rgb", "value": radiance}, "sampling_weight": 1e-3}}
    return scene


def foreground() -> dict[str, Any]:
    """A near branch with leaves, 0.7-0.9 m away, across a sharp textured subject."""
    scene = _lights_common()
    scene["board"] = _rectangle((0, 1.5, -FOCUS_M), (0.3, 0.3), _texture(4, (0.9, 0.85, 0.8), 0.8, 96))
    scene["backdrop"] = _rectangle((0, 1.5, -6), (3, 3), _texture(5, (0.3, 0.5, 0.3), 0.5))
    leaf = {"type": "twosided", "bsdf": _texture(6, (0.15, 0.4, 0.1), 0.4)}
    scene["branch"] = _cylinder(np.array([-0.2, 1.38, -0.8]), np.array([0.2, 1.58, -0.8]), 0.008, _diffuse((0.3, 0.2, 0.1)))
    mi = mitsuba()
    for index, (x, y, angle) in enumerate([(-0.1, 1.42, 30), (0.02, 1.5, -20), (0.12, 1.53, 60)]):
        scene[f"leaf_{index}"] = {"type": "disk", "bsdf": leaf, "to_world": mi.ScalarTransform4f()
                                  .translate([x, y, -0.75]).rotate([0, 0, 1], angle).scale([0.05, 0.02, 1])}
    return scene


def thin(seed: int = 13) -> dict[str, Any]:
    """Hair and twigs at the focus distance against a far background."""
    rng = np.random.default_rng(seed)
    scene = _lights_common()
    scene["background"] = _rectangle((0, 3, -40), (15, 15), _texture(7, (0.35, 0.45, 0.6), 0.5))
    scene.update(_subject())
    hair = _diffuse((0.08, 0.05, 0.03))
    head = np.array([0.0, 1.52, -FOCUS_M - 0.1])
    for index in range(60):
        angle = rng.uniform(-1.4, 1.4)
        root = head + 0.097 * np.array([math.sin(angle), math.cos(angle), 0.0])
        direction = np.array([math.sin(angle) + rng.normal(0, 0.3), math.cos(angle), rng.normal(0, 0.2)])
        end = root + direction / np.linalg.norm(direction) * rng.uniform(0.05, 0.14)
        scene[f"hair_{index}"] = _cylinder(root, end, 0.0005, hair)
    bark = _diffuse((0.25, 0.17, 0.1))
    for index in range(24):
        start = np.array([rng.uniform(0.2, 0.45), rng.uniform(1.2, 1.75), -FOCUS_M + rng.uniform(-0.05, 0.05)])
        end = start + np.array([rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15), 0.0])
        scene[f"twig_{index}"] = _cylinder(start, end, 0.0015, bark)
    return scene


def tilted() -> dict[str, Any]:
    """A textured ground plane from 1.2 m to 22 m: smooth depth change through the focus."""
    scene = _lights_common()
    scene["ground"] = _rectangle((0, 1.25, -11), (4, 11), _texture(8, (0.7, 0.6, 0.5), 0.7, 128), tilt_deg=-90)
    scene["far"] = _rectangle((0, 4, -22), (8, 4), _texture(9, (0.4, 0.45, 0.55), 0.4))
    return scene


def sunlit() -> dict[str, Any]:
    """Large overexposed surfaces (a white wall in sun, bright sky) behind a subject: highlight
    recovery must tell these from small lights and leave them alone."""
    scene = {"sky": {"type": "constant", "radiance": {"type": "rgb", "value": [1.6, 1.7, 1.9]}},
             "sun": {"type": "directional", "direction": [0.2, -0.5, -0.8],
                     "irradiance": {"type": "rgb", "value": [6.0, 5.8, 5.4]}},
             "wall": _rectangle((-1.0, 2.5, -9), (2.0, 2.5), _diffuse((0.95, 0.95, 0.93))),
             "shade": _rectangle((2.6, 2.0, -12), (1.5, 2.0), _texture(10, (0.3, 0.3, 0.35), 0.5))}
    scene.update(_subject())
    return scene


@dataclass(frozen=True)
class Scene:
    name: str
    objects: Callable[[], dict[str, Any]]
    # Linear scale from scene radiance to the photo: the subject mid-grey, lights clipped.
    exposure: float


SCENES = {
    scene.name: scene
    for scene in [
        Scene("lights", lights, 1.0),
        Scene("foreground", foreground, 0.8),
        Scene("thin", thin, 0.8),
        Scene("tilted", tilted, 0.8),
        Scene("sunlit", sunlit, 0.5),
    ]
}


def scene_dict(scene: Scene, size: int, spp: int, thin_lens: bool) -> dict[str, Any]:
    return {"type": "scene", "integrator": {"type": "path", "max_depth": 3},
            "sensor": sensor(size, spp, thin_lens), **scene.objects()}
