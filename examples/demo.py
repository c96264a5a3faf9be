"""Render the bundled example photo at 85 mm f/1.8 and write it beside the input.

    python examples/demo.py [--f 1.8] [--out out/]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

import dofcore

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--f", type=float, default=1.8, help="f-number")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args()

    photo = np.asarray(Image.open(HERE / "portrait.png").convert("RGB"))
    stored = np.load(HERE / "portrait_depth.npz")
    depth, focal_px = stored["depth"], float(stored["focal_px"])

    start = time.perf_counter()
    # Focus chosen automatically; the photo's own focal length keeps its framing.
    bokeh = dofcore.render(photo, depth, args.f, focal_px=focal_px)
    seconds = time.perf_counter() - start

    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(bokeh).save(args.out / "portrait_bokeh.png")
    Image.fromarray(np.concatenate([photo, bokeh], axis=1)).save(args.out / "portrait_side_by_side.png")
    focus_m = dofcore.lens.auto_focus_distance(depth)
    print(f"rendered {photo.shape[1]}x{photo.shape[0]} at f/{args.f:g}, focus {focus_m:.2f} m, "
          f"in {seconds:.1f} s -> {args.out / 'portrait_bokeh.png'}")


if __name__ == "__main__":
    main()
