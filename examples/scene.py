"""The example portrait scene, described in code for Mitsuba 3 (scene units are metres).

A subject 2 m away with stray hairs, bare twigs beside it at the focus distance, a leaf 0.7 m
from the camera, a ground plane running from near to far, buildings 25-40 m away and small
bright lights among them. The camera is a pinhole (`perspective`): the sharp photo a user has.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dofcore.eval.mitsuba import mitsuba, planar_depth, render_rgb

mi = mitsuba()

CAMERA_ORIGIN = (0.0, 1.5, 0.0)
CAMERA_TARGET = (0.0, 1.42, -2.0)
FOCAL_LENGTH_MM = 85.0  # full-frame equivalent: horizontal field of 2 atan(18 / 85)
SUBJECT_DISTANCE_M = 2.0


def horizontal_fov_deg(focal_length_mm: float = FOCAL_LENGTH_MM) -> float:
    return math.degrees(2 * math.atan(18.0 / focal_length_mm))


def _diffuse(rgb: tuple[float, float, float]) -> dict[str, Any]:
    return {"type": "diffuse", "reflectance": {"type": "rgb", "value": list(rgb)}}


def _checker(a: tuple[float, ...], b: tuple[float, ...], scale: float) -> dict[str, Any]:
    return {
        "type": "diffuse",
        "reflectance": {
            "type": "checkerboard",
            "color0": {"type": "rgb", "value": list(a)},
            "color1": {"type": "rgb", "value": list(b)},
            "to_uv": mi.ScalarTransform4f().scale([scale, scale, 1]),
        },
    }


def _cylinder(p0: np.ndarray, p1: np.ndarray, radius: float, bsdf: dict[str, Any]) -> dict[str, Any]:
    return {"type": "cylinder", "p0": p0.tolist(), "p1": p1.tolist(), "radius": radius, "bsdf": bsdf}


def _hairs(rng: np.random.Generator, head: np.ndarray, head_radius: float) -> dict[str, Any]:
    """Stray hairs: thin strands leaving the top and sides of the head, at the focus distance."""
    shapes = {}
    hair = _diffuse((0.09, 0.06, 0.04))
    for index in range(40):
        angle = rng.uniform(-1.3, 1.3)  # around the top of the head, in the image plane
        root = head + head_radius * 0.97 * np.array([math.sin(angle), math.cos(angle), 0.0])
        direction = np.array([math.sin(angle) + rng.normal(0, 0.3), math.cos(angle), rng.normal(0, 0.2)])
        direction /= np.linalg.norm(direction)
        length = rng.uniform(0.04, 0.11)
        # Two segments per strand so it curls a little.
        bend = direction + rng.normal(0, 0.35, 3)
        bend /= np.linalg.norm(bend)
        middle = root + direction * length * 0.5
        shapes[f"hair_{index}_a"] = _cylinder(root, middle, 0.0006, hair)
        shapes[f"hair_{index}_b"] = _cylinder(middle, middle + bend * length * 0.5, 0.0005, hair)
    return shapes


def _twigs(rng: np.random.Generator) -> dict[str, Any]:
    """A bare branch to the right of the subject, at about the focus distance."""
    shapes = {}
    bark = _diffuse((0.25, 0.17, 0.1))
    stack = [(np.array([0.55, 0.9, -2.05]), np.array([-0.15, 1.0, 0.02]), 0.006, 0)]
    index = 0
    while stack:
        start, direction, radius, depth = stack.pop()
        direction = direction / np.linalg.norm(direction)
        end = start + direction * rng.uniform(0.12, 0.22) * (0.8**depth)
        shapes[f"twig_{index}"] = _cylinder(start, end, radius, bark)
        index += 1
        if depth < 4:
            for turn in (-0.6, 0.5):
                new = direction + np.array([turn, rng.uniform(-0.1, 0.3), rng.normal(0, 0.1)])
                stack.append((end, new, radius * 0.7, depth + 1))
    return shapes


def _background(rng: np.random.Generator) -> dict[str, Any]:
    shapes: dict[str, Any] = {}
    for index in range(9):
        x = -12.0 + index * 3.0 + rng.uniform(-0.5, 0.5)
        z = -rng.uniform(25.0, 40.0)
        height = rng.uniform(6.0, 14.0)
        colour = tuple(rng.uniform(0.15, 0.6, 3))
        shapes[f"building_{index}"] = {
            "type": "cube",
            "to_world": mi.ScalarTransform4f()
            .translate([x, height / 2, z])
            .scale([1.3, height / 2, 1.5]),
            "bsdf": _diffuse(colour),  # type: ignore[arg-type]
        }
    # Small bright lights: street lamps and windows, far brighter than the photo can hold.
    for index in range(28):
        position = [rng.uniform(-4.5, 4.5), rng.uniform(0.3, 4.5), -rng.uniform(14.0, 24.0)]
        warmth = rng.uniform(0.0, 1.0)
        radiance = (np.array([1.0, 0.75 + 0.2 * warmth, 0.45 + 0.4 * warmth]) * rng.uniform(40, 150)).tolist()
        shapes[f"light_{index}"] = {
            "type": "sphere",
            "center": position,
            "radius": rng.uniform(0.04, 0.09),
            "emitter": {"type": "area", "radiance": {"type": "rgb", "value": radiance}},
        }
    return shapes


def scene_description(width: int, height: int, samples: int, seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    head = np.array([0.0, 1.52, -(SUBJECT_DISTANCE_M + 0.1)])
    head_radius = 0.1
    shirt = _checker((0.55, 0.1, 0.12), (0.85, 0.8, 0.72), 14.0)
    scene: dict[str, Any] = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": 5},
        "sensor": {
            "type": "perspective",
            "fov": horizontal_fov_deg(),
            "fov_axis": "x",
            "to_world": mi.ScalarTransform4f().look_at(
                origin=list(CAMERA_ORIGIN), target=list(CAMERA_TARGET), up=[0, 1, 0]
            ),
            "film": {
                "type": "hdrfilm",
                "width": width,
                "height": height,
                "pixel_format": "rgb",
                "rfilter": {"type": "gaussian"},
            },
            "sampler": {"type": "independent", "sample_count": samples, "seed": seed},
        },
        "sky": {"type": "constant", "radiance": {"type": "rgb", "value": [0.18, 0.2, 0.26]}},
        "sun": {
            "type": "directional",
            "direction": [0.5, -0.6, -0.6],
            "irradiance": {"type": "rgb", "value": [1.6, 1.45, 1.25]},
        },
        "ground": {
            "type": "rectangle",
            "to_world": mi.ScalarTransform4f()
            .translate([0, 0, -30])
            .rotate([1, 0, 0], -90)
            .scale([40, 40, 1]),
            "bsdf": _checker((0.22, 0.24, 0.2), (0.3, 0.3, 0.27), 80.0),
        },
        "head": {"type": "sphere", "center": head.tolist(), "radius": head_radius,
                 "bsdf": _diffuse((0.75, 0.52, 0.42))},
        "hair_cap": {"type": "sphere", "center": (head + [0, 0.035, -0.025]).tolist(),
                     "radius": head_radius * 0.98, "bsdf": _diffuse((0.09, 0.06, 0.04))},
        "neck": _cylinder(head - [0, 0.2, 0], head - [0, 0.06, 0], 0.045, _diffuse((0.7, 0.48, 0.39))),
        "torso": _cylinder(head - [0, 0.9, -0.03], head - [0, 0.24, -0.03], 0.17, shirt),
        "shoulders": _cylinder(head - [0.17, 0.26, -0.03], head - [-0.17, 0.26, -0.03], 0.065, shirt),
        "shoulder_left": {"type": "sphere", "center": (head - [0.17, 0.26, -0.03]).tolist(),
                          "radius": 0.065, "bsdf": shirt},
        "shoulder_right": {"type": "sphere", "center": (head - [-0.17, 0.26, -0.03]).tolist(),
                           "radius": 0.065, "bsdf": shirt},
        # A leaf close to the camera, entering from the lower left.
        "leaf": {
            "type": "disk",
            "to_world": mi.ScalarTransform4f()
            .translate([-0.16, 1.35, -0.72])
            .rotate([0, 0, 1], 35)
            .scale([0.09, 0.035, 1]),
            "bsdf": {"type": "twosided", "bsdf": _diffuse((0.12, 0.35, 0.08))},
        },
    }
    scene.update(_hairs(rng, head, head_radius))
    scene.update(_twigs(rng))
    scene.update(_background(rng))
    return scene


def render_pinhole(width: int, height: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(linear HDR RGB, planar depth in metres) of the example scene."""
    scene = mi.load_dict(scene_description(width, height, samples))
    forward = np.subtract(CAMERA_TARGET, CAMERA_ORIGIN)
    return render_rgb(scene), planar_depth(scene, CAMERA_ORIGIN, forward)
