"""Before vs after, side by side in one run: the same render timed in two Python environments
(this one, and one with another build of dofcore installed), alternating round by round.

    python benches/before_after.py OTHER_PYTHON [--crop 512] [--rounds 5] [--quality fast] [--threads 1]
                                   [--depth-edges] [--warm]

OTHER_PYTHON: an interpreter with the other build installed (for instance a venv holding
`maturin build --release` of an older commit). Prints each side's median and their ratio.
--depth-edges times the depth-edge step alone (`dofcore.depth_edges.sharpen_depth_edges`).
Each round times one call in a fresh process; --warm times the fastest of three calls after a
first one in that process (what a slider drag sees: the process and its thread pool started).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMER = """
import sys, time
sys.path.insert(0, {benches!r})
import dofcore
from dofcore.depth_edges import sharpen_depth_edges
from scene import F_NUMBER, LENS, benchmark_scene
img, depth = benchmark_scene()
if {crop}:
    top, left = (1500 - {crop}) // 2, (1500 - {crop}) // 2
    img, depth = img[top:top + {crop}, left:left + {crop}], depth[top:top + {crop}, left:left + {crop}]
def once():
    start = time.perf_counter()
    if {depth_edges}:
        sharpen_depth_edges(img, depth, {threads})
    else:
        dofcore.render(img, depth, F_NUMBER, quality={quality!r}, threads={threads}, **LENS)
    return time.perf_counter() - start
if {warm}:
    once()
print(min(once() for _ in range(3)) if {warm} else once())
"""


def time_once(python: str, crop: int, quality: str, threads: int, depth_edges: bool, warm: bool) -> float:
    code = TIMER.format(benches=str(HERE), crop=crop, quality=quality, threads=threads, depth_edges=depth_edges,
                        warm=warm)
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other_python")
    parser.add_argument("--crop", type=int, default=0, help="central crop side (0: the full 1500 x 1500)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quality", choices=("exact", "fast"), default="exact")
    parser.add_argument("--threads", type=int, default=0, help="0: every core")
    parser.add_argument("--depth-edges", action="store_true", help="time the depth-edge step alone")
    parser.add_argument("--warm", action="store_true", help="the fastest of three calls after a first one")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"this build": [], "other build": []}
    for _ in range(args.rounds):
        for name, python in (("this build", sys.executable), ("other build", args.other_python)):
            times[name].append(time_once(python, args.crop, args.quality, args.threads, args.depth_edges,
                                         args.warm))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"{name}: median {medians[name]:.3f} s, min {min(values):.3f} s over {len(values)} rounds")
    print(f"other / this: {medians['other build'] / medians['this build']:.2f}x")


if __name__ == "__main__":
    main()
