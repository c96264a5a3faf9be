"""Depth Pro: the real loading and inference code, on a tiny random model of its architecture."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import dofcore
from dofcore.depth import WeightsNotFoundError, estimate_depth, load_model
from conftest import stopped_down
from tiny_depth_pro import FOV_DEG


@pytest.fixture
def photo():
    return np.random.default_rng(3).integers(0, 256, (45, 70, 3), dtype=np.uint8)


def test_depth_has_the_photo_resolution_and_is_finite_and_positive(photo, tiny_weights):
    estimate = dofcore.estimate_depth(photo, weights=tiny_weights, device="cpu")
    assert estimate.depth.shape == photo.shape[:2] and estimate.depth.dtype == np.float32
    assert np.isfinite(estimate.depth).all() and (estimate.depth > 0).all()
    # No focal length given: Depth Pro's field of view sets it.
    assert estimate.focal_from == "depth pro"
    assert estimate.focal_px == pytest.approx(0.5 * 70 / math.tan(math.radians(FOV_DEG / 2)), rel=1e-3)


def test_a_known_focal_length_is_used_and_scales_depth(photo, tiny_weights):
    wide = estimate_depth(photo, weights=tiny_weights, device="cpu", focal_px=40.0)
    tele = estimate_depth(photo, weights=tiny_weights, device="cpu", focal_px=80.0)
    assert (wide.focal_px, wide.focal_from) == (40.0, "given")
    # Metric depth is canonical inverse depth rescaled by f_px / W: twice the focal, twice as far
    # (where the random network's inverse depth is not clamped at the 10 km limit).
    unclamped = tele.depth < 1e4
    assert unclamped.mean() > 0.3
    np.testing.assert_allclose(tele.depth[unclamped], 2 * wide.depth[unclamped], rtol=1e-5)


def test_the_model_is_loaded_once_and_reused(photo, tiny_weights):
    load_model.cache_clear()
    for _ in range(3):
        estimate_depth(photo, weights=tiny_weights, device="cpu")
    assert load_model.cache_info().misses == 1 and load_model.cache_info().hits == 2


def test_float_and_16_bit_photos_give_the_same_depth(photo, tiny_weights):
    eight = estimate_depth(photo, weights=tiny_weights, device="cpu", focal_px=50.0).depth
    sixteen = estimate_depth(photo.astype(np.uint16) * 257, weights=tiny_weights, device="cpu", focal_px=50.0).depth
    linear = dofcore.color.to_linear(photo)
    floating = estimate_depth(linear, weights=tiny_weights, device="cpu", focal_px=50.0).depth
    np.testing.assert_allclose(sixteen, eight, rtol=1e-5)
    np.testing.assert_allclose(1 / floating, 1 / eight, rtol=1e-4, atol=1e-3)  # float rounding


def test_depth_feeds_the_render(photo, tiny_weights):
    estimate = estimate_depth(photo, weights=tiny_weights, device="cpu")
    # Random weights give wild depths: stop down until the blur fits the frame.
    lens = dict(focal_px=estimate.focal_px, focus=float(np.median(estimate.depth)))
    f_number = stopped_down(estimate.depth, 1.8, **lens)
    out = dofcore.render(photo, estimate.depth, f_number, **lens)
    assert out.shape == photo.shape


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_half_precision_on_cuda_agrees_with_float32_on_cpu(photo, tiny_weights):
    cuda = estimate_depth(photo, weights=tiny_weights)  # the default device when there is one
    cpu = estimate_depth(photo, weights=tiny_weights, device="cpu")
    assert cuda.focal_px == pytest.approx(cpu.focal_px, rel=1e-3)
    # float16 keeps about three significant digits (an H100 gave a median of 2e-4, at most 3e-3).
    relative = np.abs(cuda.depth / cpu.depth - 1)
    assert np.median(relative) < 2e-3 and relative.max() < 2e-2


def test_missing_weights_say_where_to_put_them(photo, tmp_path):
    with pytest.raises(WeightsNotFoundError, match="save_pretrained"):
        estimate_depth(photo, weights=tmp_path / "nowhere", device="cpu")


def test_weights_from_the_environment(photo, tiny_weights, monkeypatch):
    monkeypatch.setenv("DOFCORE_DEPTHPRO_WEIGHTS", str(tiny_weights))
    assert estimate_depth(photo, device="cpu").depth.shape == photo.shape[:2]


def test_apple_backend_without_its_package_is_a_clear_error(photo, tmp_path):
    with pytest.raises(ImportError, match="ml-depth-pro"):
        estimate_depth(photo, weights=tmp_path / "depth_pro.pt", device="cpu", backend="apple")


def test_bad_photo_and_focal_length_are_refused(tiny_weights):
    with pytest.raises(ValueError, match="RGBA"):
        estimate_depth(np.zeros((10, 10, 4), np.uint8), weights=tiny_weights)
    with pytest.raises(ValueError, match="focal_px"):
        estimate_depth(np.zeros((10, 10, 3), np.uint8), weights=tiny_weights, focal_px=-5.0)
