"""The command line, end to end in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "portrait.png"
EXAMPLE_DEPTH = ROOT / "examples" / "portrait_depth.npz"


def dofcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dofcore", *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("quality", ["exact", "fast"])
def test_render_the_bundled_example_with_its_depth(tmp_path, quality):
    out = tmp_path / "bokeh.png"
    result = dofcore("render", EXAMPLE, "--depth", EXAMPLE_DEPTH, "-o", out, "--f", "2.8", "--focus-at", "600,300",
                     "--quality", quality)
    assert result.returncode == 0, result.stderr
    assert "rendering at f/2.8" in result.stderr  # progress on stderr
    photo, rendered = np.asarray(Image.open(EXAMPLE)), np.asarray(Image.open(out))
    assert rendered.shape == photo.shape
    assert np.array_equal(rendered[300, 600], photo[300, 600])  # the face, in focus
    assert np.abs(rendered[100:200, 100:300].astype(int) - photo[100:200, 100:300]).mean() > 5


def test_depth_and_render_with_depth_pro(tmp_path, tiny_weights):
    small = tmp_path / "small.jpg"
    Image.open(EXAMPLE).resize((120, 80)).save(small)
    depth, preview = tmp_path / "depth.png", tmp_path / "preview.png"
    result = dofcore("depth", "--quiet", small, "-o", depth, "--preview", preview, "--weights", tiny_weights, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert Image.open(depth).size == (120, 80) and Image.open(preview).mode == "RGB"
    out = tmp_path / "out.jpg"
    # Random weights give wild depths: f/32 keeps the blur within the frame.
    result = dofcore("render", small, "-o", out, "--f", "32", "--weights", tiny_weights, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "estimating depth with Depth Pro" in result.stderr
    assert Image.open(out).size == (120, 80)


def _bad_files(folder: Path) -> dict[str, Path]:
    files = {"truncated.png": EXAMPLE.read_bytes()[:5000], "text.jpg": b"hello\n", "empty.png": b"",
             "garbage.npy": b"garbage", "broken.npz": EXAMPLE_DEPTH.read_bytes()[:100]}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    np.save(folder / "cube.npy", np.ones((2, 3, 4), np.float32))
    np.save(folder / "pickled.npy", np.array([object()] * 4), allow_pickle=True)
    np.save(folder / "negative.npy", -np.ones((800, 1200), np.float32))
    (folder / "folder.png").mkdir()
    return {name: folder / name for name in [*files, "cube.npy", "pickled.npy", "negative.npy", "folder.png"]}


# (arguments, exit status, what the one line must say); {name} is a file from _bad_files.
BAD_CALLS = [
    (["render", "{missing.jpg}", "-o", "{out.png}", "--depth", EXAMPLE_DEPTH], 1, "no such file"),
    (["render", "{truncated.png}", "-o", "{out.png}", "--depth", EXAMPLE_DEPTH], 1, "truncated.png as an image"),
    (["render", "{text.jpg}", "-o", "{out.png}", "--depth", EXAMPLE_DEPTH], 1, "text.jpg as an image"),
    (["render", "{empty.png}", "-o", "{out.png}", "--depth", EXAMPLE_DEPTH], 1, "empty.png as an image"),
    (["render", "{folder.png}", "-o", "{out.png}", "--depth", EXAMPLE_DEPTH], 1, "folder.png as an image"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", "{garbage.npy}"], 1, "garbage.npy as a depth map"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", "{broken.npz}"], 1, "broken.npz as a depth map"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", "{pickled.npy}"], 1, "pickled.npy as a depth map"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", "{cube.npy}"], 1, "depth must be H x W"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", "{negative.npy}"], 1, "depth must be > 0 m"),
    (["render", EXAMPLE, "-o", "{nowhere/out.png}", "--depth", EXAMPLE_DEPTH], 1, "no folder"),
    (["render", EXAMPLE, "-o", "{out.xyz}", "--depth", EXAMPLE_DEPTH], 1, "unknown image format"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", EXAMPLE_DEPTH, "--f", "0"], 1, "f-number"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", EXAMPLE_DEPTH, "--f", "abc"], 2, "invalid float value: 'abc'"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", EXAMPLE_DEPTH, "--threads", "99999"], 1, "threads"),
    (["render", EXAMPLE, "-o", "{out.png}", "--depth", EXAMPLE_DEPTH, "--focus-at", "5000,3"], 1, "outside"),
    (["render", EXAMPLE, "-o", "{out.png}", "--focus-at", "12"], 2, "X,Y"),
    (["render", EXAMPLE, "-o", "{out.png}", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["render", EXAMPLE], 2, "required: -o/--output"),
    (["depth", EXAMPLE, "-o", "{depth.xyz}"], 1, "unknown depth format"),
    (["depth", EXAMPLE, "-o", "{depth.npy}", "--weights", "{none}"], 1, "save_pretrained"),
    ([], 2, "required: command"),
]


@pytest.mark.parametrize("args, status, message", BAD_CALLS, ids=[" ".join(map(str, c[0][:2])) + f" ..{i}" for i, c in enumerate(BAD_CALLS)])
def test_errors_are_one_readable_line_and_a_non_zero_exit(tmp_path, args, status, message):
    files = _bad_files(tmp_path)
    filled = [str(files.get(a[1:-1], tmp_path / a[1:-1])) if str(a).startswith("{") else a for a in args]
    result = dofcore(*filled, "-q") if args else dofcore()
    assert result.returncode == status
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dofcore") and message in lines[0], result.stderr
