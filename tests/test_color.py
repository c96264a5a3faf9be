"""The per-pixel colour passes run in the Rust core; the transfer curves of dofcore.color are
their definitions. Every code and every value must be the definition's own."""

from __future__ import annotations

import numpy as np
import pytest

from dofcore import _dofcore
from dofcore.color import (
    INTEGER_DTYPES,
    brightest_channel,
    encode_thresholds,
    from_linear,
    linear_to_srgb,
    srgb_to_linear,
    to_linear,
)


def defined_codes(linear: np.ndarray, dtype: np.dtype) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.rint(linear_to_srgb(linear) * top).astype(dtype)


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_every_code_decodes_to_its_defined_linear_light(dtype):
    codes = np.arange(np.iinfo(dtype).max + 1, dtype=dtype).reshape(-1, 1, 1)
    expected = srgb_to_linear(codes / np.iinfo(dtype).max).astype(np.float32)
    np.testing.assert_array_equal(to_linear(codes), expected)


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_encoding_gives_the_defined_code_at_every_step_between_codes(dtype):
    thresholds = encode_thresholds(dtype)
    bits = thresholds.view(np.uint32).astype(np.int64)
    # Each threshold and the floats just below and above it: where a code changes.
    around = np.concatenate([bits + step for step in (-2, -1, 0, 1, 2)])
    steps = around.astype(np.uint32).view(np.float32)
    rng = np.random.default_rng(0)
    anywhere = rng.uniform(-0.1, 1.1, 1_000_000).astype(np.float32)
    dark = rng.uniform(0, 0.01, 200_000).astype(np.float32)
    special = np.array([0.0, -0.0, 1.0, 1e-38, 1e-45, 3.0, np.inf, -np.inf], np.float32)
    for values in (steps, anywhere, dark, special):
        values = values.reshape(-1, 1, 1)
        np.testing.assert_array_equal(from_linear(values, dtype), defined_codes(values, dtype))


def test_codes_keep_the_shape_and_refuse_nan():
    linear = np.full((3, 4, 3), 0.5, np.float32)
    assert from_linear(linear, np.dtype(np.uint8)).shape == (3, 4, 3)
    linear[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="linear light to encode"):
        from_linear(linear, np.dtype(np.uint8))


def test_bad_tables_are_refused_not_read_past():
    with pytest.raises(RuntimeError, match="table of 16 entries for 256 codes"):
        _dofcore.decode_srgb(np.array([0], np.uint8), np.zeros(16, np.float32))
    with pytest.raises(RuntimeError, match="table of 256 entries for 65536 codes"):
        _dofcore.decode_srgb(np.array([0], np.uint16), np.zeros(256, np.float32))
    with pytest.raises(TypeError, match="uint8 or uint16"):
        _dofcore.decode_srgb(np.array([2], np.int32), np.zeros(16, np.float32))
    descending = np.linspace(1, 0.01, 255).astype(np.float32)
    with pytest.raises(RuntimeError, match="thresholds must ascend"):
        _dofcore.encode_srgb(np.array([0.5], np.float32), descending)
    with pytest.raises(ValueError, match="255 .uint8. or 65535"):
        _dofcore.encode_srgb(np.array([0.5], np.float32), np.array([0.25, 0.5], np.float32))


def test_brightest_channel_is_the_largest_of_three():
    rng = np.random.default_rng(1)
    linear = rng.uniform(0, 4, (37, 53, 3)).astype(np.float32)
    np.testing.assert_array_equal(brightest_channel(linear), linear.max(axis=2))


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_do_not_change_a_value(threads):
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    linear = to_linear(img, threads)
    np.testing.assert_array_equal(linear, to_linear(img))
    np.testing.assert_array_equal(from_linear(linear, np.dtype(np.uint8), threads), img)
