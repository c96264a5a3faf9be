"""Depth edges blended by a network are snapped back to the photo's edge (docs/model.md 2.4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import dofcore
from conftest import LENS, depth_for_diameter
from dofcore import _dofcore, depth_edges
from dofcore.color import from_linear
from dofcore.depth_edges import sharpen_depth_edges
from dofcore.mask import box_mean, local_min

NEAR_M, FAR_M = 2.0, 10.0


def step_scene(size: int = 40, edge: int = 17):
    """A red subject (left, 2 m) against a green background (right, 10 m)."""
    img = np.zeros((size, size, 3), np.uint8)
    img[:, :edge] = (200, 40, 30)
    img[:, edge:] = (40, 160, 60)
    depth = np.full((size, size), FAR_M, np.float32)
    depth[:, :edge] = NEAR_M
    return img, depth


def blended(depth: np.ndarray, radius: int = 3) -> np.ndarray:
    """Inverse depth averaged over a (2 radius + 1)-square: an edge as a network draws it."""
    return (1.0 / box_mean(1.0 / depth, radius)).astype(np.float32)


def test_a_blended_edge_snaps_to_the_side_each_pixel_looks_like():
    img, depth = step_scene()
    soft = blended(depth)
    assert (np.abs(soft / depth - 1) > 0.05).sum() > 100  # the blend moved a band of pixels
    np.testing.assert_allclose(sharpen_depth_edges(img, soft), depth, rtol=1e-5)


def test_exact_depth_is_left_alone_even_with_a_third_surface_between_two_others():
    img, depth = step_scene()
    depth[:, 20:24] = 4.0  # a post at 4 m between the subject and the background
    img[:, 20:24] = (90, 90, 200)
    np.testing.assert_array_equal(sharpen_depth_edges(img, depth), depth)


def test_a_smooth_slope_is_left_alone():
    img, _ = step_scene()
    rows = np.linspace(3.0, 3.6, 40, dtype=np.float32)  # < 10 % over any 9 px
    depth = np.repeat(rows[:, None], 40, axis=1)
    np.testing.assert_array_equal(sharpen_depth_edges(img, depth), depth)


def test_a_blended_outline_renders_as_sharp_as_the_exact_one():
    img, depth = step_scene(48, 24)
    depth[:, 24:] = depth_for_diameter(16.0, 1.8)
    soft = blended(depth)
    exact = dofcore.render(img, depth, 1.8, **LENS).astype(int)
    sharpened = dofcore.render(img, soft, 1.8, **LENS).astype(int)
    as_given = dofcore.render(img, soft, 1.8, sharpen_depth_edges=False, **LENS).astype(int)
    assert np.abs(sharpened - exact).max() <= 1
    assert np.abs(as_given - exact).max() > 20  # without it the subject's outline is smeared


def test_a_fattened_outline_renders_as_sharp_as_the_exact_one():
    img, depth = step_scene(48, 24)
    img[:, 24:, 1] = np.where(np.arange(24) % 4 < 2, 90, 220)  # a background of stripes
    depth[:, 24:] = depth_for_diameter(16.0, 1.8)
    fattened = local_min(depth, 3)  # the subject grown 3 px over the background, as networks do
    exact = dofcore.render(img, depth, 1.8, **LENS).astype(int)
    trimmed = dofcore.render(img, fattened, 1.8, **LENS).astype(int)
    as_given = dofcore.render(img, fattened, 1.8, sharpen_depth_edges=False, **LENS).astype(int)
    assert np.abs(trimmed - exact).max() <= 1
    assert np.abs(as_given - exact).max() > 20  # without it a band of background stays sharp


def test_a_hair_of_exact_depth_keeps_it_even_where_it_is_faint():
    """A hair one pixel wide at the subject's depth, drawn faintly over the background (as an
    anti-aliased hair is): it has the background on both sides, so it is not a fattened band."""
    img, depth = step_scene()
    img[:, 30] = (50, 150, 58)  # a tenth of the way from the background's green to a dark hair
    depth[:, 30] = NEAR_M
    np.testing.assert_array_equal(sharpen_depth_edges(img, depth), depth)


def test_the_bundled_examples_exact_depth_renders_as_without_the_step():
    """The example's path-traced depth, sampled at pixel centres, is exact: hairs thinner than a
    pixel are near depth in one pixel or two and far beside them, with a leaf at 0.7 m making the
    map's nearest depth. Its render changes little with the depth-edge step (before the step
    asked a ridge to spread over 5 px, it lifted some of those hairs toward the leaf: 43.9 dB
    with the 13 x 13 reach of a ridge's estimate, 45.9 dB with the 7 x 7 one)."""
    root = Path(__file__).parent.parent / "examples"
    photo = np.asarray(Image.open(root / "portrait.png").convert("RGB"))
    stored = np.load(root / "portrait_depth.npz")
    depth, focal_px = stored["depth"], float(stored["focal_px"])
    with_step = dofcore.render(photo, depth, 1.8, focal_px=focal_px).astype(float)
    without = dofcore.render(photo, depth, 1.8, focal_px=focal_px, sharpen_depth_edges=False)
    mse = np.mean(((with_step - without) / 255) ** 2)
    assert 10 * np.log10(1 / mse) > 45  # measured 48.1 dB


def test_a_steep_plane_is_not_taken_for_a_blend():
    """A floor receding from 0.8 m to 8 m over 40 rows: its inverse depth falls by a third over 9
    rows, as steeply as a blend, but it goes on past any window a blend would fill."""
    img = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    rows = 1.0 / np.linspace(1.25, 0.125, 40, dtype=np.float32)
    depth = np.repeat(rows[:, None], 40, axis=1).astype(np.float32)
    np.testing.assert_array_equal(sharpen_depth_edges(img, depth), depth)


def test_a_blended_hair_gets_its_depth_back_and_stays_sharp():
    """A dark hair one pixel wide at the subject's depth over a far background, its depth blended
    over 7 px (the ridge reads 3.4 m): the ridge's mass over the photo's coverage of the
    hair's colour gives its depth back (docs/model.md 2.4)."""
    img, depth = step_scene(64, 20)
    depth[:, 20:] = depth_for_diameter(40.0, 1.8)
    img[:, 44] = (30, 20, 15)
    depth[:, 44] = NEAR_M
    soft = blended(depth)
    assert soft[:, 44].min() > 1.6 * NEAR_M
    np.testing.assert_allclose(sharpen_depth_edges(img, soft)[:, 44], NEAR_M, rtol=0.01)
    exact = dofcore.render(img, depth, 1.8, **LENS).astype(int)
    lifted = dofcore.render(img, soft, 1.8, **LENS).astype(int)
    as_given = dofcore.render(img, soft, 1.8, sharpen_depth_edges=False, **LENS).astype(int)
    assert np.abs(lifted[:, 44] - exact[:, 44]).max() <= 2
    assert np.abs(as_given[:, 44] - exact[:, 44]).max() > 40  # without it the hair is blurred away


def test_strips_sharpen_as_the_whole_map_does(monkeypatch):
    """The map is sharpened in strips with the rows around each that its windows read: the shipped
    192 px foreground scene (a branch with leaves over a textured board), its depth blended, gives
    the same depth in strips of 40 rows as in one piece."""
    scene = np.load(Path(__file__).parent / "data" / "foreground_192.npz")
    linear = np.clip(scene["photo_hdr"].astype(np.float32), 0.0, 1.0)
    img = from_linear(linear, np.dtype(np.uint8))
    soft = blended(scene["depth"])
    whole = _dofcore.sharpen_depth_edges_map(depth_edges.perceptual_colour(img), soft)
    monkeypatch.setattr(depth_edges, "STRIP_ROWS", 40)
    np.testing.assert_array_equal(sharpen_depth_edges(img, soft), whole)
    assert (np.abs(whole / soft - 1) > 0.05).sum() > 1000  # the step did change the map
