"""File to file: a photo in, its portrait render out, depth estimated on the way."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dofcore.api import render
from dofcore.depth import Backend
from dofcore.io import read_colour_profile, read_depth, read_photo, write_photo


@contextmanager
def step(message: str, quiet: bool) -> Iterator[None]:
    """Say what a long step is doing, then how long it took (on stderr)."""
    start = time.perf_counter()
    if not quiet:
        print(f"{message}...", end="", file=sys.stderr, flush=True)
    try:
        yield
    except BaseException:
        if not quiet:
            print(" failed", file=sys.stderr, flush=True)
        raise
    if not quiet:
        print(f" {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def portrait(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    f: float = 1.8,
    *,
    depth: str | os.PathLike[str] | npt.NDArray[np.floating] | None = None,
    focal_px: float | None = None,
    weights: str | os.PathLike[str] | None = None,
    device: str | None = None,
    backend: Backend = "transformers",
    quiet: bool = True,
    **options: Any,
) -> npt.NDArray[np.generic]:
    """Render the photo at `src` as a lens at f-number `f` would have taken it, into `dst`.

    depth: a depth map (array or file, metres); estimated with Depth Pro when None.
    focal_px: the photo's focal length in pixels; default from EXIF, else Depth Pro's estimate.
    The same focal length goes to Depth Pro and to the render, so the lens keeps the photo's
    framing. Other keywords go to `dofcore.render` (focus, focal_length, blades, ...).
    """
    with step(f"reading {src}", quiet):
        photo, exif_focal_px = read_photo(src)
        colour_profile = read_colour_profile(src)
    focal_px = focal_px if focal_px is not None else exif_focal_px
    if depth is None:
        from dofcore.depth import estimate_depth

        with step("estimating depth with Depth Pro", quiet):
            estimate = estimate_depth(photo, weights=weights, device=device, focal_px=focal_px,
                                      backend=backend)
        depth_m, focal_px = estimate.depth, estimate.focal_px
    elif isinstance(depth, np.ndarray):
        depth_m = depth
    else:
        with step(f"reading depth {depth}", quiet):
            depth_m = read_depth(Path(depth))
    with step(f"rendering at f/{f:g}", quiet):
        out = render(photo, depth_m, f, focal_px=focal_px, **options)
    with step(f"writing {dst}", quiet):
        write_photo(dst, out, colour_profile)
    return out
