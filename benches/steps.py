"""Where a render's time goes, 1 thread against 2: each step `dofcore.render` takes, timed alone
on the benchmark scene, and the render end to end; medians of alternating rounds in one process.

    python benches/steps.py [--quality fast] [--rounds 5]

Prints a markdown table (ms) as docs/performance.md shows it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import dofcore
from dofcore import _dofcore, depth_edges
from dofcore.api import Aperture, RustEngine
from dofcore.color import Highlights, from_linear, to_linear
from dofcore.lens import thin_lens
from scene import F_NUMBER, LENS, benchmark_scene


def timed_steps(quality: str, threads: int) -> dict[str, float]:
    img, depth = benchmark_scene()
    times: dict[str, float] = {}

    def timed(name: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = step()
        times[name] = time.perf_counter() - start
        return result

    timed("depth-edge sharpening", lambda: depth_edges.sharpen_depth_edges(img, depth, threads))
    colour = depth_edges.perceptual_colour(img, threads)
    nearest = float(depth.min())
    timed("its Rust call alone, whole map",
          lambda: _dofcore.sharpen_depth_edges_map(colour, depth, nearest, threads))
    linear = timed("sRGB to linear", lambda: to_linear(img, threads))
    highlights = Highlights(0.95, 16.0)
    gain = timed("highlight gain field", lambda: highlights.gain_field(linear, threads))
    linear = timed("expansion", lambda: highlights.expand(linear, gain, in_place=True, threads=threads))
    lens = thin_lens(depth, F_NUMBER, LENS["focus"], LENS["focal_length"], LENS["focal_px"])
    engine = RustEngine(threads, fast=quality == "fast")
    coc = timed("circle of confusion", lambda: engine.circle_of_confusion(depth, lens))
    timed("engine (the gather)", lambda: engine.gather(linear, coc, Aperture()))
    timed("compression", lambda: highlights.compress(linear.copy(), gain, in_place=True, threads=threads))
    timed("linear to sRGB", lambda: from_linear(linear, img.dtype, threads))
    timed("render, end to end", lambda: dofcore.render(img, depth, F_NUMBER, quality=quality, threads=threads, **LENS))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", choices=("exact", "fast"), default="fast")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rounds: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(args.rounds):
        for threads in rounds:
            rounds[threads].append(timed_steps(args.quality, threads))
    print("| step | 1 thread | 2 threads | ratio |\n|---|---|---|---|")
    for name in rounds[1][0]:
        one, two = (statistics.median(r[name] for r in rounds[t]) * 1e3 for t in (1, 2))
        print(f"| {name} | {one:.0f} | {two:.0f} | {one / two:.2f}x |")


if __name__ == "__main__":
    main()
