"""Embedded in other people's processes: any array layout, any thread, any input, no crash."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dofcore
from conftest import LENS, depth_for_diameter, longest_python_pause, textured
from dofcore import _dofcore

HERE = Path(__file__).resolve().parent


def scene(seed: int, size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """A photo with clipped lights and a depth with a sharp subject, blurred front and back."""
    img = textured(size, size, seed)
    img[seed % size, :: 7] = 255
    depth = np.full((size, size), depth_for_diameter(14.0, 1.8), np.float32)
    depth[size // 4 : size // 2] = 2.0
    depth[size - 8 :] = depth_for_diameter(10.0, 1.8, behind=False)
    return img, depth


def render(img: np.ndarray, depth: np.ndarray, **options: object) -> np.ndarray:
    return dofcore.render(img, depth, 1.8, **{**LENS, **options})


# Array layouts --------------------------------------------------------------------------------

def _negative_strides(a: np.ndarray) -> np.ndarray:
    flipped = np.ascontiguousarray(a[::-1, ::-1])
    return flipped[::-1, ::-1]  # same values, read backwards in memory


def _strided(a: np.ndarray) -> np.ndarray:
    return np.repeat(a, 2, axis=1)[:, ::2]


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


@pytest.mark.parametrize("layout", [np.asfortranarray, _negative_strides, _strided, _read_only])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_any_array_layout_gives_the_same_picture_as_a_contiguous_copy(layout, dtype):
    img, depth = scene(1)
    if dtype == np.float32:
        img = (img / 64.0).astype(np.float32)  # linear light, lights up to 4x white
    expected = render(img, depth, highlight_gain=4.0)
    got = render(layout(img), layout(depth), highlight_gain=4.0)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("pickled", [False, True])
def test_the_input_arrays_are_never_modified(dtype, pickled):
    img, depth = scene(2)
    img = img.astype(dtype) if dtype != np.float32 else (img / 64.0).astype(np.float32)
    if pickled:  # as multiprocessing hands arrays to a worker: a float32 photo was overwritten
        img, depth = pickle.loads(pickle.dumps((img, depth)))
    before_img, before_depth = img.copy(), depth.copy()
    render(img, depth, highlight_gain=8.0)
    np.testing.assert_array_equal(img, before_img)
    np.testing.assert_array_equal(depth, before_depth)


def test_greyscale_is_rendered_as_grey_and_returned_in_its_own_shape():
    img, depth = scene(3)
    grey = img[..., 1]
    as_rgb = render(np.repeat(grey[..., None], 3, axis=2), depth)
    np.testing.assert_array_equal(render(grey, depth), as_rgb[..., 0])
    np.testing.assert_array_equal(render(grey[..., None], depth), as_rgb[..., :1])
    assert np.array_equal(as_rgb[..., 0], as_rgb[..., 2])


# Threads ----------------------------------------------------------------------------------------

def test_eight_python_threads_at_once_give_the_serial_results():
    inputs = [scene(seed) for seed in range(8)]
    serial = [render(img, depth, threads=2) for img, depth in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda pair: render(*pair, threads=2), inputs))
    for one, other in zip(serial, concurrent, strict=True):
        np.testing.assert_array_equal(one, other)


def test_other_python_threads_run_while_the_engine_renders():
    """The GIL is released: a pure-Python loop keeps going during the Rust gather."""
    rng = np.random.default_rng(0)
    linear = rng.random((320, 320, 3), dtype=np.float32)
    coc = rng.uniform(-40, 40, (320, 320)).astype(np.float32)
    pause, span = longest_python_pause(lambda: _dofcore.render_linear_rgb(linear, coc, threads=1))
    assert pause < 0.25 * span


def test_same_input_same_output_bit_for_bit_across_runs_and_thread_counts():
    img, depth = scene(4, size=64)
    results = [render(img, depth, threads=threads) for threads in (1, 2, 3, 8, 0, 1)]
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
    # and in another process
    script = ("import hashlib, sys, numpy as np, dofcore; sys.path.insert(0, sys.argv[1]); "
              "from test_reliability import scene, render; "
              "print(hashlib.sha256(render(*scene(4, size=64), threads=2).tobytes()).hexdigest())")
    other = subprocess.run([sys.executable, "-c", script, str(HERE)], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == hashlib.sha256(results[0].tobytes()).hexdigest()


@pytest.mark.parametrize("quality", ["exact", "fast"])
def test_the_scalar_loop_renders_what_the_vector_loop_does(tmp_path, quality):
    """On a CPU without AVX2 (or not x86-64) the gather's lanes are compiled for the baseline CPU;
    here DOFCORE_NO_SIMD=1 makes it so in another process. Every lane does the same sums in the
    same order, so the render is the same to the bit."""
    img, depth = scene(5, size=96)
    linear = dofcore.color.to_linear(img)
    options = dict(quality=quality, highlight_gain=16.0, blades=5, blade_rotation=10.0)
    script = ("import sys, numpy as np, dofcore; sys.path.insert(0, sys.argv[1]); "
              "from test_reliability import scene, render; img, depth = scene(5, size=96); "
              f"np.save(sys.argv[2], render(dofcore.color.to_linear(img), depth, **{options!r}))")
    out = tmp_path / "scalar.npy"
    subprocess.run([sys.executable, "-c", script, str(HERE), str(out)], check=True,
                   env={**os.environ, "DOFCORE_NO_SIMD": "1"})
    np.testing.assert_array_equal(np.load(out), render(linear, depth, **options))


# Memory -----------------------------------------------------------------------------------------

def test_an_image_too_large_for_memory_is_refused_before_allocation():
    # 200 000 x 200 000 pixels that take no memory (zero strides): a render would need ~2 TB.
    img = np.broadcast_to(np.zeros(3, np.uint8), (200_000, 200_000, 3))
    depth = np.broadcast_to(np.float32(2.0), (200_000, 200_000))
    with pytest.raises(dofcore.ImageTooLargeError, match=r"200000 x 200000 render needs about .* GiB"):
        render(img, depth)
    assert issubclass(dofcore.ImageTooLargeError, MemoryError)


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="peak memory is read from Linux /proc")
@pytest.mark.parametrize("arguments, what", [
    (["4000", "6000", "16"], "24 MP render (6000 x 4000 uint8, f/16)"),
    (["1500", "1500", "1.8", "uint8", "fast"], "fast level, 1500 x 1500 uint8 f/1.8"),
])
def test_a_render_stays_within_4x_the_float32_image(record, arguments, what):
    measured = subprocess.run([sys.executable, HERE / "peak_memory.py", *arguments],
                              capture_output=True, text=True, check=True)
    result = json.loads(measured.stdout)
    record(f"{what}: {result['seconds']:.1f} s, peak "
           f"{result['peak_bytes'] / 2**20:.0f} MiB above the inputs = {result['ratio']:.2f}x the float32 image")
    assert result["ratio"] <= 4.0


# Bad input, fuzzed ------------------------------------------------------------------------------

JUNK_DTYPES = [np.uint8, np.uint16, np.int32, np.float16, np.float32, np.float64, np.bool_, np.complex64, object]
SPECIAL = [0.0, -1.0, 1e-30, 1e30, np.nan, np.inf, -np.inf, 0.5, 3.0, 255.0]
sides = st.integers(2, 7)


@st.composite
def junk_arrays(draw, shapes):
    """Any dtype, any shape, a share of NaN, infinities, zeros and negatives, any memory order."""
    shape = draw(shapes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.uniform(0.0, draw(st.sampled_from([1.0, 255.0, 40.0])), shape)
    special = rng.random(shape) < draw(st.sampled_from([0.0, 0.02, 0.5]))
    values[special] = rng.choice(SPECIAL, int(special.sum()))
    with np.errstate(invalid="ignore", over="ignore"):
        array = values.astype(draw(st.sampled_from(JUNK_DTYPES)))
    return np.asfortranarray(array) if draw(st.booleans()) else array


@st.composite
def photos(draw, height, width):
    """A valid photo: RGB or greyscale, sRGB integers or linear floats (lights above white)."""
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.float32, np.float64]))
    shape = draw(st.sampled_from([(height, width, 3), (height, width), (height, width, 1)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    top = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else draw(st.sampled_from([1.0, 50.0]))
    return (rng.uniform(0, 1, shape) ** 3 * top).astype(dtype)


@st.composite
def depths(draw, height, width):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    near, far = sorted(draw(st.tuples(st.floats(0.05, 1e4), st.floats(0.05, 1e4))))
    return np.exp(rng.uniform(np.log(near), np.log(far), (height, width))).astype(np.float32)


any_shape = st.lists(st.integers(0, 7), min_size=0, max_size=4).map(tuple)
junk = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**6), st.none(),
                 st.text(max_size=3), st.tuples(st.floats(), st.floats()), st.lists(st.integers(0, 3), max_size=3))
VALID_OPTIONS = {
    "focus": st.one_of(st.none(), st.floats(0.1, 100.0), st.tuples(st.integers(0, 1), st.integers(0, 1))),
    "focal_length": st.floats(10.0, 300.0),
    "focal_px": st.floats(1.0, 50.0),
    "blades": st.sampled_from([0, 3, 6, 9]),
    "blade_rotation": st.floats(-360.0, 360.0),
    "blade_curvature": st.floats(0.0, 1.0),
    "highlight_threshold": st.floats(0.0, 0.99),
    "highlight_gain": st.floats(1.0, 32.0),
    "threads": st.integers(0, 3),
    "quality": st.sampled_from(["exact", "fast"]),
}


# The counter is shared across examples on purpose.
@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_input_gives_a_picture_or_a_clear_error(data, fuzz_count):
    height, width = data.draw(sides, "height"), data.draw(sides, "width")
    # Mostly one or two things wrong at a time (or none), so that each check is reached and
    # renders happen too.
    broken = data.draw(st.sets(st.sampled_from(["img", "depth", "f", *VALID_OPTIONS]), max_size=2), "broken")
    img = data.draw(junk_arrays(st.one_of(st.just((height, width, 3)), any_shape)) if "img" in broken
                    else photos(height, width), "img")
    depth = data.draw(junk_arrays(st.one_of(st.just((height, width)), any_shape)) if "depth" in broken
                      else depths(height, width), "depth")
    f_number = data.draw(junk if "f" in broken else st.floats(0.7, 64.0), "f")
    options = {name: data.draw(junk if name in broken else valid, name)
               for name, valid in VALID_OPTIONS.items() if name in broken or data.draw(st.booleans())}
    fuzz_count("render, fuzzed arguments")
    try:
        out = dofcore.render(img, depth, f_number, **options)
    except (ValueError, TypeError) as err:
        assert str(err), "an error must say what is wrong"
        fuzz_count("render, fuzzed arguments: refused with ValueError or TypeError")
        return
    fuzz_count("render, fuzzed arguments: rendered")
    assert out.shape == img.shape and out.dtype == img.dtype
    assert np.isfinite(out).all()
    if not broken:
        np.testing.assert_array_equal(out, dofcore.render(img, depth, f_number, **options))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_raw_engine_refuses_what_would_break_it(data, fuzz_count):
    """Bypassing the Python checks, the Rust engine still answers bad input with an exception."""
    height, width = data.draw(sides, "height"), data.draw(sides, "width")
    broken = data.draw(st.sets(st.sampled_from(["rgb", "coc", "threads"]), max_size=2), "broken")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), "seed"))
    rgb = (data.draw(junk_arrays(st.tuples(sides, sides, st.sampled_from([3, 3, 1, 4]))), "rgb") if "rgb" in broken
           else rng.uniform(0, 20, (height, width, 3)).astype(np.float32))
    coc = (data.draw(junk_arrays(st.one_of(st.just(rgb.shape[:2]), st.tuples(sides, sides))), "coc")
           if "coc" in broken else rng.uniform(-30, 30, (height, width)).astype(np.float32))
    threads = data.draw(st.sampled_from([5000, 10**9]) if "threads" in broken else st.integers(0, 3), "threads")
    fuzz_count("raw engine, fuzzed arrays")
    try:
        out = _dofcore.render_linear_rgb(rgb, coc, threads=threads)
    except (ValueError, TypeError) as err:
        assert str(err)
        fuzz_count("raw engine, fuzzed arrays: refused with ValueError or TypeError")
        return
    fuzz_count("raw engine, fuzzed arrays: rendered")
    assert out.shape == rgb.shape and np.isfinite(out).all()
