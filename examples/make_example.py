"""Path-trace the bundled example: examples/portrait.png (8-bit sRGB, clipped like a JPEG) and
examples/portrait_depth.npz (planar depth in metres, and the photo's focal length in pixels).

    python examples/make_example.py          # needs the dev extra (mitsuba); a few minutes
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

import scene
from dofcore.color import from_linear
from dofcore.io import EXIF_IFD, FOCAL_LENGTH_35MM

HERE = Path(__file__).parent
# Exposure: the face at this linear level, so the lights (40-150x brighter) clip as in a JPEG.
FACE_LEVEL = 0.3


def lens_exif() -> Image.Exif:
    """FocalLengthIn35mmFilm, as a camera writes it: the photo's framing in full-frame terms."""
    exif = Image.Exif()
    exif[EXIF_IFD] = {FOCAL_LENGTH_35MM: int(scene.FOCAL_LENGTH_MM)}
    return exif


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--samples", type=int, default=384)
    args = parser.parse_args()

    hdr, depth = scene.render_pinhole(args.width, args.height, args.samples)
    h, w = args.height, args.width
    face = hdr[int(0.3 * h) : int(0.4 * h), int(0.47 * w) : int(0.53 * w)]
    exposed = hdr * (FACE_LEVEL / float(np.median(face.mean(axis=-1))))
    photo = from_linear(np.clip(exposed, 0.0, 1.0).astype(np.float32), np.dtype(np.uint8))
    Image.fromarray(photo).save(HERE / "portrait.png", optimize=True, exif=lens_exif())
    focal_px = args.width * scene.FOCAL_LENGTH_MM / 36.0
    np.savez_compressed(HERE / "portrait_depth.npz", depth=depth, focal_px=np.float64(focal_px))
    clipped = (photo.max(axis=-1) == 255).mean()
    print(f"wrote portrait.png {w}x{h}, depth {depth.min():.2f}-{depth.max():.0f} m, "
          f"focal {focal_px:.0f} px, {clipped:.2%} clipped pixels")


if __name__ == "__main__":
    main()
