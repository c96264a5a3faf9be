"""Peak memory of one render above its inputs, measured in a fresh process (Linux).

    python tests/peak_memory.py HEIGHT WIDTH F_NUMBER [uint8|float32] [fast|exact]

Prints JSON: seconds, peak_bytes (peak resident memory during the render minus resident memory
before it, inputs included in neither) and ratio (peak_bytes over the float32 RGB image's size).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import dofcore


def resident(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    height, width, f_number = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    dtype = sys.argv[4] if len(sys.argv) > 4 else "uint8"
    quality = sys.argv[5] if len(sys.argv) > 5 else "fast"
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    img[::97, ::89] = 255  # small clipped lights: highlight recovery does its full work
    photo = img if dtype == "uint8" else (img / 255.0).astype(np.float32)
    depth = np.full((height, width), 3.0, np.float32)
    depth[:, : width // 2] = 2.0
    lens = dict(focus=2.0, focal_length=85.0, quality=quality)
    dofcore.render(photo[:64, :64], depth[:64, :64], f_number, **lens)  # load everything first
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # restart the peak (VmHWM) from here
    before = resident("VmRSS")
    start = time.perf_counter()
    dofcore.render(photo, depth, f_number, **lens)
    seconds = time.perf_counter() - start
    peak = resident("VmHWM") - before
    print(json.dumps(dict(seconds=seconds, peak_bytes=peak, ratio=peak / (height * width * 3 * 4))))


if __name__ == "__main__":
    main()
