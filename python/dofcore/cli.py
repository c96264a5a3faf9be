"""The command line: `dofcore render` and `dofcore depth` (python -m dofcore works too)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from dofcore.portrait import portrait, step


def _focus_pixel(text: str) -> tuple[int, int]:
    try:
        x, y = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in pixels, got {text!r}") from None
    return x, y


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages (for scripts)")
    group = parser.add_argument_group("depth estimation (Depth Pro)")
    group.add_argument("--weights", help="folder written by save_pretrained, hub id, or .pt for --backend apple")
    group.add_argument("--device", help="cuda, mps or cpu (default: the first available)")
    group.add_argument("--backend", choices=["transformers", "apple"], default="transformers")
    group.add_argument("--focal-px", type=float, help="the photo's focal length in pixels (default: EXIF, else estimated)")


class _Parser(argparse.ArgumentParser):
    """Bad flags are one line and exit status 2 (`dofcore render -h` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="dofcore", description="Physically-based depth of field from one photo.")
    commands = root.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="render a photo as a lens would have taken it")
    render.add_argument("photo")
    render.add_argument("-o", "--output", required=True)
    render.add_argument("--f", type=float, default=1.8, help="f-number (default 1.8)")
    focus = render.add_mutually_exclusive_group()
    focus.add_argument("--focus", type=float, help="focus distance in metres (default: automatic)")
    focus.add_argument("--focus-at", type=_focus_pixel, metavar="X,Y", help="focus on this pixel")
    render.add_argument("--depth", help="depth map in metres (.npy, .npz, .tif, .exr, dofcore .png); estimated if absent")
    render.add_argument("--focal-length", type=float, help="full-frame-equivalent focal length of the lens, mm")
    render.add_argument("--blades", type=int, default=0, help="aperture blades (0: circle)")
    render.add_argument("--blade-rotation", type=float, default=0.0, help="degrees")
    render.add_argument("--blade-curvature", type=float, default=0.0, help="0 straight to 1 round")
    render.add_argument("--highlight-gain", type=float, help="highlight recovery gain (1: off)")
    render.add_argument("--threads", type=int, help="worker threads (default: every core)")
    render.add_argument("--quality", choices=("exact", "fast"), default="fast",
                        help="fast (default): a pyramid, 10-20x faster on large blur than exact")
    _common_options(render)

    depth = commands.add_parser("depth", help="estimate a photo's metric depth with Depth Pro")
    depth.add_argument("photo")
    depth.add_argument("-o", "--output", required=True, help=".npy, .npz, .tif, .exr or .png (16-bit)")
    depth.add_argument("--preview", help="also write a colourised preview (PNG) for people")
    _common_options(depth)
    return root


def _render(args: argparse.Namespace) -> None:
    from dofcore.io import check_photo_path

    check_photo_path(args.output)  # before minutes of depth estimation
    options: dict[str, Any] = dict(
        focus=args.focus_at if args.focus_at is not None else args.focus,
        focal_length=args.focal_length,
        blades=args.blades,
        blade_rotation=args.blade_rotation,
        blade_curvature=args.blade_curvature,
        highlight_gain=args.highlight_gain,
        threads=args.threads,
        quality=args.quality,
    )
    portrait(args.photo, args.output, args.f, depth=args.depth, focal_px=args.focal_px,
             weights=args.weights, device=args.device, backend=args.backend, quiet=args.quiet, **options)


def _depth(args: argparse.Namespace) -> None:
    from dofcore.depth import estimate_depth
    from dofcore.io import check_depth_path, check_photo_path, depth_preview, read_photo, write_depth, write_photo

    check_depth_path(args.output)  # before minutes of depth estimation
    if args.preview:
        check_photo_path(args.preview)
    with step(f"reading {args.photo}", args.quiet):
        photo, exif_focal_px = read_photo(args.photo)
    with step("estimating depth with Depth Pro", args.quiet):
        estimate = estimate_depth(photo, weights=args.weights, device=args.device,
                                  focal_px=args.focal_px or exif_focal_px, backend=args.backend)
    with step(f"writing {args.output}", args.quiet):
        write_depth(args.output, estimate.depth)
        if args.preview:
            write_photo(args.preview, depth_preview(estimate.depth))
    if not args.quiet:
        depth = estimate.depth
        print(f"depth {depth.min():.2f}-{depth.max():.2f} m, focal length {estimate.focal_px:.0f} px "
              f"({estimate.focal_from})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.quiet:
        # Hugging Face's own progress bars (weight loading) go quiet too; set before its import.
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        (_render if args.command == "render" else _depth)(args)
    except (ValueError, TypeError, OSError, ImportError, MemoryError, RuntimeError) as err:
        print(f"dofcore: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dofcore: interrupted", file=sys.stderr)
        return 130
    return 0
