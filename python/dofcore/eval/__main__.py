"""python -m dofcore.eval [--scenes lights thin ...] [--no-degraded] [--figures docs/images]
[--highlight-threshold T] [--highlight-gain G]"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

import dofcore
from dofcore.eval import scenes, truth
from dofcore.eval.degrade import fattened, soft_edges
from dofcore.eval.evaluate import SceneResult, Scores, evaluate, focus_pixel, photo_of
from dofcore.eval.metrics import display


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(results: list[SceneResult]) -> str:
    lines = ["| scene | render | PSNR (dB) | SSIM | PSNR edge band (dB) | PSNR highlights (dB) |",
             "|---|---|---|---|---|---|"]
    for result in results:
        for name, s in result.scores.items():
            lines.append(f"| {result.name} | {name} | {s.whole:.2f} | {s.ssim:.4f} | {s.edges:.2f} | {_cell(s.highlights)} |")
    return "\n".join(lines)


def degraded_table(results: list[SceneResult]) -> str:
    lines = ["| scene | depth | PSNR (dB) | loss (dB) | PSNR edge band (dB) | loss (dB) |", "|---|---|---|---|---|---|"]
    for result in results:
        perfect = result.scores["dofcore, focus at the subject's pixel"]
        for name, s in result.degraded.items():
            lines.append(f"| {result.name} | {name} | {s.whole:.2f} | {perfect.whole - s.whole:.2f} | "
                         f"{s.edges:.2f} | {perfect.edges - s.edges:.2f} |")
    return "\n".join(lines)


def save_crops(result: SceneResult, folder: Path, box: tuple[slice, slice], tag: str) -> None:
    names = ["input", "truth", "dofcore", "layered Gaussian"]
    tiles = [np.rint(np.clip(result.images[n][box], 0, 1) * 255).astype(np.uint8) for n in names]
    gap = np.full((tiles[0].shape[0], 4, 3), 255, np.uint8)
    row = np.concatenate(sum(([t, gap] for t in tiles), [])[:-1], axis=1)
    Image.fromarray(row).save(folder / f"quality_{result.name}_{tag}.png")


def save_depth_edge_crops(render: truth.SceneRender, folder: Path, crop: DepthEdgeCrop) -> None:
    """Truth, and the render from degraded depth as given and with its edges sharpened."""
    prefix, degrade, box = crop
    photo, clicked, degraded = photo_of(render), focus_pixel(render.depth), degrade(render.depth)
    tiles = [np.rint(display(render.truth) * 255).astype(np.uint8)]
    for sharpen in (False, True):
        tiles.append(np.asarray(dofcore.render(photo, degraded, scenes.F_NUMBER, focus=clicked, focal_px=render.focal_px,
                                               focal_length=scenes.FOCAL_LENGTH_MM, sharpen_depth_edges=sharpen)))
    gap = np.full((box[0].stop - box[0].start, 4, 3), 255, np.uint8)
    row = np.concatenate(sum(([t[box], gap] for t in tiles), [])[:-1], axis=1)
    Image.fromarray(row).save(folder / f"{prefix}_{render.name}.png")


DepthEdgeCrop = tuple[str, Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]], tuple[slice, slice]]
DEPTH_EDGE_CROPS: dict[str, list[DepthEdgeCrop]] = {
    "sunlit": [("depth_edges", soft_edges, (slice(250, 430), slice(260, 440)))],
    "thin": [("fattened", fattened, (slice(170, 350), slice(300, 480))),
             ("depth_edges", soft_edges, (slice(150, 350), slice(230, 430)))],
}

CROPS = {
    "lights": {"highlights": (slice(120, 370), slice(400, 650))},
    "foreground": {"edges": (slice(250, 500), slice(250, 500))},
    "thin": {"edges": (slice(150, 400), slice(250, 500))},
    "tilted": {"edges": (slice(350, 600), slice(250, 500))},
    "sunlit": {"highlights": (slice(200, 450), slice(450, 700))},
}


def main() -> None:
    parser = argparse.ArgumentParser(description="dofcore against path-traced thin-lens truth")
    parser.add_argument("--scenes", nargs="*", default=list(scenes.SCENES))
    parser.add_argument("--no-degraded", action="store_true", help="skip the degraded-depth renders")
    parser.add_argument("--figures", type=Path, help="write side-by-side crops here")
    parser.add_argument("--highlight-threshold", type=float, help="dofcore's highlight threshold (default its own)")
    parser.add_argument("--highlight-gain", type=float, help="dofcore's highlight gain (default its own)")
    args = parser.parse_args()
    results = []
    for name in args.scenes:
        options = {key: value for key, value in [("highlight_threshold", args.highlight_threshold),
                                                 ("highlight_gain", args.highlight_gain)] if value is not None}
        result = evaluate(truth.scene_render(name), with_degraded=not args.no_degraded, **options)
        print(f"{name}: seeds agree at {result.seeds_agree_db:.1f} dB", file=sys.stderr, flush=True)
        results.append(result)
        if args.figures:
            args.figures.mkdir(parents=True, exist_ok=True)
            for tag, box in CROPS.get(name, {}).items():
                save_crops(result, args.figures, box, tag)
            for crop in DEPTH_EDGE_CROPS.get(name, []):
                save_depth_edge_crops(truth.scene_render(name), args.figures, crop)
    print(table(results))
    if not args.no_degraded:
        print()
        print(degraded_table(results))


if __name__ == "__main__":
    main()
