"""The command line, end to end in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "portrait.png"
EXAMPLE_DEPTH = ROOT / "examples" / "portrait_depth.npz"


def dofcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dofcore", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_render_the_bundled_example_with_its_depth(tmp_path):
    out = tmp_path / "bokeh.png"
    result = dofcore("render", EXAMPLE, "--depth", EXAMPLE_DEPTH, "-o", out, "--f", "2.8", "--focus-at", "600,300")
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


def test_errors_are_one_readable_line_and_a_non_zero_exit(tmp_path):
    missing = dofcore("render", tmp_path / "missing.jpg", "-o", tmp_path / "o.jpg", "--depth", EXAMPLE_DEPTH, "-q")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [f"dofcore: error: no such file: {tmp_path / 'missing.jpg'}"]
    bad_f = dofcore("render", EXAMPLE, "-o", tmp_path / "o.jpg", "--depth", EXAMPLE_DEPTH, "--f", "0", "-q")
    assert bad_f.returncode == 1 and "f-number" in bad_f.stderr
    no_weights = dofcore("depth", EXAMPLE, "-o", tmp_path / "d.npy", "--weights", tmp_path / "none", "-q")
    assert no_weights.returncode == 1 and "save_pretrained" in no_weights.stderr
    bad_flag = dofcore("render", EXAMPLE, "--focus-at", "12")
    assert bad_flag.returncode == 2 and "X,Y" in bad_flag.stderr
