"""Re-make the pictures in docs/images from the bundled example: `python docs/make_figures.py`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import dofcore

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"


def save(name: str, rgb: np.ndarray) -> None:
    Image.fromarray(rgb).save(IMAGES / name, optimize=True)
    print("wrote", IMAGES / name)


def apertures() -> np.ndarray:
    """A point light behind and in front of the focus plane, for several diaphragms."""
    size, tiles = 121, []
    light = np.zeros((size, size, 3), np.float32)
    light[size // 2, size // 2] = [3000.0, 2400.0, 1500.0]
    for blades, rotation, curvature in [(0, 0, 0), (5, 90, 0), (6, 0, 0), (6, 0, 0.5), (9, 0, 0.2)]:
        row = []
        for depth_m in (8.0, 1.35):  # behind the 2 m focus, in front of it
            depth = np.full((size, size), depth_m, np.float32)
            out = dofcore.render(light, depth, 1.4, focus=2.0, focal_length=85, focal_px=3541.7,
                                 blades=blades, blade_rotation=rotation, blade_curvature=curvature)
            row.append(dofcore.color.from_linear(np.clip(out, 0, 1), np.dtype(np.uint8)))
        tiles.append(np.concatenate(row, axis=0))
    return np.concatenate(tiles, axis=1)


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    photo = np.asarray(Image.open(ROOT / "examples" / "portrait.png").convert("RGB"))
    stored = np.load(ROOT / "examples" / "portrait_depth.npz")
    depth, focal_px = stored["depth"], float(stored["focal_px"])
    bokeh = dofcore.render(photo, depth, 1.8, focal_px=focal_px)
    flat = dofcore.render(photo, depth, 1.8, focal_px=focal_px, highlight_gain=1.0)

    side = np.concatenate([photo, bokeh], axis=1)
    save("portrait_side_by_side.png", np.asarray(Image.fromarray(side).resize((side.shape[1] // 2, side.shape[0] // 2), Image.LANCZOS)))
    # Lights behind the hair, and the near leaf over the ground: input | render, full resolution.
    hair = (slice(40, 300), slice(420, 820))
    save("edges_hair.png", np.concatenate([photo[hair], bokeh[hair]], axis=1))
    leaf = (slice(560, 800), slice(0, 360))
    save("edges_leaf.png", np.concatenate([photo[leaf], bokeh[leaf]], axis=1))
    lights = (slice(100, 400), slice(150, 450))
    save("highlights_off_on.png", np.concatenate([photo[lights], flat[lights], bokeh[lights]], axis=1))
    save("apertures.png", apertures())


if __name__ == "__main__":
    main()
