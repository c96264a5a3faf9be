"""How close the fast level comes to the exact one, in linear light (PSNR, peak 1): on the
benchmark scene, the bundled example (lamps, hair) at f/1.4 and f/2.8, and on random scenes (a tilted ground, flat shapes in front of it, noisy
texture, clipped lights, lenses blurring up to the frame's size), rendered from linear light with
highlight recovery on; then on as many random scenes again, each given as a user might: an
8-bit photo, linear float (recovery off), float with lights far above white, or greyscale, with
or without depth-edge sharpening, and apertures of 0, 5, 6 or 9 blades, straight or rounded.

    python benches/fast_accuracy.py [SEED] [SCENES]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import dofcore
from dofcore.color import to_linear
from dofcore.io import read_photo
from scene import F_NUMBER, LENS, benchmark_scene

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# Below this largest blur radius (px) the fast level is the exact one (docs/model.md 8, band 0).
EXACT_BELOW_RADIUS = 4 / 3 * dofcore._dofcore.DEFAULT_MIN_RADIUS


def random_scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    h, w = int(rng.integers(60, 300)), int(rng.integers(60, 300))
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    a, b, c = rng.uniform(-1, 1, 3)
    inverse = np.clip(0.5 + 0.4 * (a * xx / w + b * yy / h) + 0.2 * c, 0.02, 2.0)
    for _ in range(rng.integers(1, 6)):
        cx, cy, rx, ry = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, w / 3), rng.uniform(3, h / 3)
        if rng.random() < 0.6:
            shape = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
        else:
            shape = (abs(xx - cx) < rx) & (abs(yy - cy) < ry)
        inverse = np.where(shape, rng.uniform(0.05, 2.5), inverse)
    patches = np.kron(rng.uniform(0, 1, (h // 8 + 2, w // 8 + 2, 3)), np.ones((8, 8, 1)))[:h, :w]
    img = np.clip(0.6 * patches + rng.uniform(-0.3, 0.3, (h, w, 3)) * rng.uniform(0, 1), 0, 1)
    img = (img * 255).astype(np.uint8)
    lights = rng.integers(0, 30)
    img[rng.integers(0, h, lights), rng.integers(0, w, lights)] = 255
    return img, (1 / inverse).astype(np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def compare(img: np.ndarray, depth: np.ndarray, f: float, **lens: object) -> tuple[float, float, float]:
    """PSNR of fast against exact, and the two times (s). Linear input, highlights recovered."""
    linear = to_linear(img)
    options = dict(lens, highlight_gain=16.0)
    start = time.perf_counter()
    exact = dofcore.render(linear, depth, f, quality="exact", **options)
    middle = time.perf_counter()
    fast = dofcore.render(linear, depth, f, quality="fast", **options)
    return psnr(fast, exact), middle - start, time.perf_counter() - middle


def varied_input(rng: np.random.Generator) -> tuple[float, tuple[int, int]] | None:
    """A random scene given as a user might (module docstring): fast against exact, and the
    scene's size; None where its lens blurs too little for the levels, or more than the frame."""
    img, depth = random_scene(rng)
    f = float(rng.choice([1.2, 1.4, 2.0, 2.8, 4.0]))
    lens = dict(focus=float(rng.uniform(0.5, 5)), focal_px=img.shape[1] * float(rng.uniform(2.0, 8.0)))
    options = dict(lens, blades=int(rng.choice([0, 5, 6, 9])), blade_curvature=float(rng.choice([0.0, 0.5])),
                   blade_rotation=float(rng.uniform(0, 90)), sharpen_depth_edges=bool(rng.random() < 0.7))
    kind = rng.integers(0, 4)
    photo: np.ndarray = img
    if kind == 1:
        photo = to_linear(img)
    elif kind == 2:
        photo = to_linear(img).copy()
        lights = rng.integers(0, 40)
        photo[rng.integers(0, img.shape[0], lights), rng.integers(0, img.shape[1], lights)] = rng.uniform(1, 50, (lights, 1))
    elif kind == 3:
        photo = to_linear(img)[..., 1].copy()
    try:
        radius = float(np.abs(dofcore.coc(depth, f, **lens)).max()) / 2
        if radius < EXACT_BELOW_RADIUS:
            return None
        exact = dofcore.render(photo, depth, f, quality="exact", **options)
    except ValueError:  # a blur disc wider than the frame
        return None
    fast = dofcore.render(photo, depth, f, quality="fast", **options)
    if photo.dtype == np.uint8:
        exact, fast = to_linear(exact), to_linear(fast)
    return psnr(fast, exact), (img.shape[1], img.shape[0])


def summary(scores: list[float], what: str) -> str:
    values = np.array(scores)
    return (f"{len(values)} {what}: median {np.median(values):.2f} dB, min {values.min():.2f} dB, "
            f"{int((values >= 45).sum())} of {len(values)} at 45 dB or more")


def main() -> None:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    img, depth = benchmark_scene()
    score, exact_s, fast_s = compare(img, depth, F_NUMBER, **LENS)
    print(f"benchmark scene 1500 x 1500 f/{F_NUMBER}: {score:.2f} dB (exact {exact_s:.1f} s, fast {fast_s:.2f} s)")
    photo, example = read_photo(EXAMPLES / "portrait.png")[0], np.load(EXAMPLES / "portrait_depth.npz")
    for f_number in (1.4, 2.8):
        score, exact_s, fast_s = compare(photo, example["depth"], f_number, focal_px=float(example["focal_px"]))
        print(f"bundled example f/{f_number}: {score:.2f} dB (exact {exact_s:.1f} s, fast {fast_s:.2f} s)")
    rng = np.random.default_rng(seed)
    scores = []
    while len(scores) < count:
        img, depth = random_scene(rng)
        f = float(rng.choice([1.4, 2.0, 2.8, 4.0]))
        lens = dict(focus=float(rng.uniform(0.5, 5)), focal_px=img.shape[1] * float(rng.uniform(2.0, 8.0)),
                    blades=int(rng.choice([0, 5, 6])))
        radius = float(np.abs(dofcore.coc(depth, f, focus=lens["focus"], focal_px=lens["focal_px"])).max()) / 2
        if radius < EXACT_BELOW_RADIUS:
            continue
        try:
            score, _, _ = compare(img, depth, f, **lens)
        except ValueError:  # a blur disc wider than the frame
            continue
        scores.append(score)
        print(f"{img.shape[1]} x {img.shape[0]}, largest blur radius {radius:.0f} px: {score:.2f} dB")
    print(summary(scores, f"random scenes (seed {seed})"))
    varied: list[float] = []
    while len(varied) < count:
        result = varied_input(rng)
        if result is not None:
            varied.append(result[0])
            print(f"{result[1][0]} x {result[1][1]}, varied input: {result[0]:.2f} dB")
    print(summary(varied, f"random scenes, varied input (seed {seed})"))


if __name__ == "__main__":
    main()
