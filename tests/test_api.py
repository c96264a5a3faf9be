"""The Python contract: shapes, dtypes, parameters, errors, threads and the GIL."""

from __future__ import annotations

import numpy as np
import pytest

import dofcore
from conftest import FOCUS_M, LENS, depth_for_diameter, longest_python_pause, textured
from dofcore.lens import DEFAULT_FOCAL_LENGTH_MM, FULL_FRAME_WIDTH_MM


@pytest.fixture
def photo():
    img = textured(30, 40)
    depth = np.full((30, 40), FOCUS_M, np.float32)
    depth[:, 20:] = depth_for_diameter(12.0, 1.8)
    return img, depth


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_result_has_the_input_shape_and_dtype_and_input_is_untouched(photo, dtype):
    img, depth = photo
    if np.issubdtype(dtype, np.integer):
        img = (img.astype(np.uint32) * np.iinfo(dtype).max // 255).astype(dtype)
    else:
        img = (img / 255.0).astype(dtype)
    before, depth_before = img.copy(), depth.copy()
    out = dofcore.render(img, depth, 1.8, **LENS)
    assert out.shape == img.shape and out.dtype == img.dtype
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(depth, depth_before)
    assert not np.array_equal(out, img)


def test_strided_and_fortran_inputs_give_the_same_result(photo):
    img, depth = photo
    expected = dofcore.render(img, depth, 1.8, **LENS)
    wide = np.zeros((30, 80, 3), np.uint8)
    wide[:, ::2] = img
    np.testing.assert_array_equal(dofcore.render(wide[:, ::2], depth, 1.8, **LENS), expected)
    np.testing.assert_array_equal(dofcore.render(np.asfortranarray(img), np.asfortranarray(depth), 1.8, **LENS), expected)
    np.testing.assert_array_equal(dofcore.render(img, depth.astype(np.float64), 1.8, **LENS), expected)


def test_focus_in_metres_at_a_pixel_or_automatic(photo):
    img, depth = photo
    by_metres = dofcore.render(img, depth, 1.8, focus=float(depth[5, 30]), focal_length=85, focal_px=LENS["focal_px"])
    by_pixel = dofcore.render(img, depth, 1.8, focus=(30, 5), focal_length=85, focal_px=LENS["focal_px"])
    np.testing.assert_array_equal(by_metres, by_pixel)
    # The right half is now sharp, beyond the reach of the left half, now a 12 px foreground.
    np.testing.assert_array_equal(by_metres[:, 27:], img[:, 27:])
    assert not np.array_equal(by_metres[:, 20:24], img[:, 20:24])
    # Automatic: the subject in the frame's centre, even with background around it.
    subject = np.full((30, 30), 9.0, np.float32)
    subject[10:20, 12:17] = 1.5  # half of the central third
    assert dofcore.lens.auto_focus_distance(subject) == 1.5
    c = dofcore.coc(subject, 2.0)
    assert c[15, 15] == 0 and c[0, 0] > 0


def test_focal_length_defaults():
    depth = np.full((10, 100), 5.0, np.float32)
    default = dofcore.coc(depth, 2.0, focus=2.0)
    named = dofcore.coc(depth, 2.0, focus=2.0, focal_length=DEFAULT_FOCAL_LENGTH_MM)
    np.testing.assert_array_equal(default, named)
    # The photo's own focal length in pixels implies its full-frame-equivalent F.
    focal_px = 120.0
    from_photo = dofcore.coc(depth, 2.0, focus=2.0, focal_px=focal_px)
    implied_mm = focal_px * FULL_FRAME_WIDTH_MM / 100
    both = dofcore.coc(depth, 2.0, focus=2.0, focal_px=focal_px, focal_length=implied_mm)
    np.testing.assert_allclose(from_photo, both, rtol=1e-6)


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(img=np.zeros((30, 40, 2), np.uint8)), ValueError, "H x W x 3"),
        (dict(img=np.zeros((30, 40, 3, 1), np.uint8)), ValueError, "H x W x 3"),
        (dict(img=np.zeros((30, 40, 4), np.uint8)), ValueError, "RGBA"),
        (dict(img=np.zeros((1, 1, 3), np.uint8), depth=np.ones((1, 1), np.float32)), ValueError, "at least 2"),
        (dict(img=np.zeros((0, 40, 3), np.uint8)), ValueError, "at least 2"),
        (dict(img=np.zeros((30, 40, 3), np.int32)), TypeError, "dtype"),
        (dict(img=np.zeros((30, 40, 3), bool)), TypeError, "dtype"),
        (dict(img=np.full((30, 40, 3), np.inf, np.float32)), ValueError, "infinity"),
        (dict(img=[[0, 0, 0]]), TypeError, "numpy array"),
        (dict(depth=np.ones((30, 41), np.float32)), ValueError, "must match"),
        (dict(depth=np.ones((30, 40, 1), np.float32)), ValueError, "H x W"),
        (dict(depth=np.full((30, 40), np.nan, np.float32)), ValueError, "NaN"),
        (dict(depth=np.zeros((30, 40), np.float32)), ValueError, "> 0 m"),
        (dict(depth=-np.ones((30, 40), np.float32)), ValueError, "> 0 m"),
        (dict(depth=np.full((30, 40), np.inf)), ValueError, "infinity"),
        (dict(depth=np.ones((30, 40), complex)), TypeError, "real numbers"),
        (dict(f=0.0), ValueError, "f-number"),
        (dict(f=-1.8), ValueError, "f-number"),
        (dict(focus=0.05), ValueError, "focal length"),
        # Depth in kilometres (1000x too small): the automatic focus lands inside the lens.
        (dict(focus=None, depth=np.full((30, 40), 0.002, np.float32)), ValueError, "read from the depth map"),
        (dict(img=np.full((30, 40, 3), 1e39)), ValueError, "beyond float32's range"),
        (dict(focus=(40, 0)), ValueError, "outside"),
        (dict(focus=(1.5, 2)), TypeError, "two integers"),
        (dict(blades=2), ValueError, "blades"),
        (dict(blade_curvature=1.5), ValueError, "curvature"),
        (dict(highlight_gain=0.5), ValueError, "highlight_gain"),
        (dict(highlight_threshold=1.0), ValueError, "highlight_threshold"),
        (dict(threads=-1), ValueError, "threads"),
        (dict(threads=2.5), TypeError, "threads"),
        (dict(threads=10**6), ValueError, "threads"),
        (dict(focal_px=-1.0), ValueError, "focal_px"),
        (dict(focal_length=0.0), ValueError, "focal_length"),
    ],
)
def test_bad_input_raises_a_clear_error(photo, change, error, message):
    img, depth = photo
    args = dict(img=img, depth=depth, f=1.8, focus=2.0, focal_length=85)
    args.update(change)
    with pytest.raises(error, match=message):
        dofcore.render(**args)


def test_nan_in_a_float_image_is_refused(photo):
    img, depth = photo
    linear = img / 255.0
    linear[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*x=4, y=3"):
        dofcore.render(linear, depth, 1.8)


def test_absurd_blur_is_refused_not_attempted(photo):
    img, depth = photo
    depth[0, 0] = 0.1  # 0.1 m at f/1 with a 100 px focal length: an 81 px disc
    with pytest.raises(ValueError, match=r"disc of \d+ px does not fit the 40 x 30 image"):
        dofcore.render(img, depth, 1.0, focus=2.0, focal_length=85, focal_px=100.0)
    # The engine refuses a disc beyond any image on its own.
    coc = np.zeros(depth.shape, np.float32)
    coc[0, 0] = 5000.0
    with pytest.raises(ValueError, match="exceeds the limit"):
        dofcore._dofcore.render_linear_rgb(np.zeros((30, 40, 3), np.float32), coc)


def test_thread_count_from_argument_and_environment(photo, monkeypatch):
    img, depth = photo
    one = dofcore.render(img, depth, 1.8, threads=1, **LENS)
    np.testing.assert_array_equal(one, dofcore.render(img, depth, 1.8, threads=2, **LENS))
    monkeypatch.setenv("DOFCORE_NUM_THREADS", "1")
    np.testing.assert_array_equal(one, dofcore.render(img, depth, 1.8, **LENS))
    monkeypatch.setenv("DOFCORE_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="DOFCORE_NUM_THREADS"):
        dofcore.render(img, depth, 1.8, **LENS)


def test_render_releases_the_gil():
    img = textured(400, 400)
    depth = np.full((400, 400), depth_for_diameter(40.0, 1.4), np.float32)
    pause, span = longest_python_pause(lambda: dofcore.render(img, depth, 1.4, threads=1, **LENS))
    # The Rust gather is most of this render; holding the GIL, it would pause Python that long.
    assert pause < 0.25 * span


def test_the_renderer_loads_without_torch():
    # torch and transformers are the depth extra: importing and rendering must not load them.
    import subprocess
    import sys

    code = ("import sys, numpy as np, dofcore; "
            "dofcore.render(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4)), 2.0); "
            "print('torch' in sys.modules or 'transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
