"""The physics contract of DESIGN.md, items 1-7, each on an image made for it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dofcore
from conftest import (FOCUS_M, LENS, depth_for_diameter, equivalent_diameter, stopped_down, textured,
                      thin_lens_diameter_px)
from dofcore.color import srgb_to_linear



# 1. Energy -------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    f_number=st.floats(1.0, 16.0),
    blades=st.sampled_from([0, 5, 6]),
    colour=st.tuples(*[st.integers(0, 255)] * 3),
)
def test_flat_colour_renders_to_the_same_colour_for_any_depth(seed, f_number, blades, colour):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(8, 40, 2)
    depth = np.exp(rng.uniform(np.log(0.8), np.log(50.0), (height, width))).astype(np.float32)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = colour
    f_number = stopped_down(depth, f_number, **LENS)
    out = dofcore.render(img, depth, f_number, blades=blades, **LENS)
    np.testing.assert_array_equal(out, img)  # borders included

    linear = np.broadcast_to(srgb_to_linear(np.array(colour) / 255), img.shape).astype(np.float32)
    out = dofcore.render(linear, depth, f_number, blades=blades, **LENS)
    np.testing.assert_allclose(out, linear, atol=1e-5)


# 2. Focus --------------------------------------------------------------------------------------

def test_pixels_with_sharp_neighbourhoods_come_out_unchanged():
    img = textured(48, 64)
    depth = np.full((48, 64), FOCUS_M, np.float32)
    depth[:, 40:] = depth_for_diameter(16.0, 1.4)  # blurred background on the right
    depth[20:24, 8:12] = FOCUS_M * 1.004  # within a fraction of a pixel of the focus plane
    out = dofcore.render(img, depth, 1.4, **LENS)
    assert abs(dofcore.coc(depth, 1.4, **LENS)[:, :40]).max() < 0.5
    np.testing.assert_array_equal(out[:, :40], img[:, :40])
    assert np.abs(out[:, 44:].astype(int) - img[:, 44:]).mean() > 20  # the background did blur


# 3. No bleeding --------------------------------------------------------------------------------

def test_sharp_subject_keeps_its_colours_in_front_of_a_blurred_background():
    height, width = 40, 80
    img = np.zeros((height, width, 3), np.uint8)
    img[:, :, 1] = textured(height, width, 2)[:, :, 1] // 2 + 128  # textured green background
    subject = np.zeros((height, width), bool)
    yy, xx = np.mgrid[:height, :width]
    subject[(xx - 40) ** 2 + (yy - 20) ** 2 < 12**2] = True
    img[subject] = textured(height, width, 1)[subject] // 2 * [1, 0, 1]  # no green in the subject
    depth = np.where(subject, FOCUS_M, depth_for_diameter(24.0, 1.4)).astype(np.float32)
    out = dofcore.render(img, depth, 1.4, **LENS)
    assert dofcore.coc(depth, 1.4, **LENS).max() == pytest.approx(24.0)
    assert np.abs(out[~subject].astype(int) - img[~subject]).max() > 50  # it blurred
    np.testing.assert_array_equal(out[subject], img[subject])  # edge pixels too: no halo


# 4. Spreading ----------------------------------------------------------------------------------

def test_blurred_foreground_spreads_semi_transparently_over_a_sharp_subject():
    height, width, edge = 24, 96, 48
    img = np.full((height, width, 3), 1.0, np.float32)  # white subject, linear
    img[:, :edge] = [0.0, 0.0, 1.0]  # blue foreground on the left
    diameter = 20.0
    fg_depth = depth_for_diameter(diameter, 2.0, behind=False)
    depth = np.full((height, width), FOCUS_M, np.float32)
    depth[:, :edge] = fg_depth
    out = dofcore.render(img, depth, 2.0, **LENS)
    red = out[height // 2, edge:, 0]  # 1 where the subject shows, 0 under the foreground
    # Right at the edge about half the aperture sees the foreground; it fades out to its radius.
    assert 0.4 < red[0] < 0.65
    assert np.all(np.diff(red[: int(diameter / 2)]) > 0)
    assert red[int(diameter / 2) + 1 :].min() == 1.0
    # The foreground itself stays foreground-coloured where the subject is far from it.
    np.testing.assert_allclose(out[:, :edge - 12], img[:, :edge - 12], atol=1e-5)


def test_a_floor_receding_in_front_of_the_focus_blurs_evenly():
    """A plane is one surface however fast its blur grows (model.md 5.2): a noisy floor whose
    blur diameter grows from 8 to 36 px down the frame comes out as an even blur, without the
    streaks along rows of equal blur that a flat same-surface rule draws (0.026 here)."""
    height, width = 48, 64
    img = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    diameters = np.linspace(8.0, 36.0, height)
    rows = np.array([depth_for_diameter(d, 1.4, behind=False) for d in diameters], np.float32)
    depth = np.repeat(rows[:, None], width, axis=1)
    out = srgb_to_linear(dofcore.render(img, depth, 1.4, **LENS) / 255)
    row_means = out[20:-8, 16:-16].mean(axis=(1, 2))  # blurred over 11-17 px radii, off the frame's edges
    assert np.abs(np.diff(row_means, 2)).max() < 0.012


# 5. CoC ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth_m, f_number", [(2.3, 1.4), (3.0, 2.8), (1.4, 2.0), (1.25, 4.0)])
def test_point_light_is_a_disc_of_the_thin_lens_diameter_with_its_energy(depth_m, f_number):
    size = 81
    img = np.zeros((size, size, 3), np.float32)
    img[size // 2, size // 2] = [50.0, 20.0, 10.0]
    depth = np.full((size, size), depth_m, np.float32)
    out = dofcore.render(img, depth, f_number, **LENS)
    expected = thin_lens_diameter_px(depth_m, f_number)
    assert 6 < expected < size - 10
    lit = out[..., 0] > 0.5 * out[..., 0].max()
    assert abs(equivalent_diameter(int(lit.sum())) - expected) <= 1.0
    np.testing.assert_allclose(out.sum(axis=(0, 1)), [50.0, 20.0, 10.0], rtol=1e-4)


def test_small_light_in_front_of_its_background_is_an_even_disc_with_its_energy():
    # A 5 x 5 lamp 2 px of CoC nearer than a dark wall: its own pixels see the wall through
    # the rest of the aperture, and the disc has no brighter core there.
    size = 61
    img = np.zeros((size, size, 3), np.float32)
    img[28:33, 28:33] = 4.0
    depth = np.full((size, size), depth_for_diameter(24.0, 1.4), np.float32)
    depth[28:33, 28:33] = depth_for_diameter(22.0, 1.4)
    out = dofcore.render(img, depth, 1.4, **LENS)[..., 0]
    core = out[30, 30]
    assert out[30, 22] == pytest.approx(core, rel=0.01) == pytest.approx(out[24, 30], rel=0.01)
    assert out.sum() == pytest.approx(25 * 4.0, rel=1e-3)


def test_coc_uses_the_framing_preserving_thin_lens_formula():
    depth = np.array([[0.7, 1.0, 2.0, 5.0, 1e6]], np.float32)
    width = depth.shape[1]
    c = dofcore.coc(depth, 1.8, focus=2.0, focal_length=85)  # scale from F: f_px = W F / 36
    aperture_m, focal_px = 0.085 / 1.8, width * 85 / 36
    np.testing.assert_allclose(c, aperture_m * focal_px * (1 / 2.0 - 1 / depth.astype(float)), rtol=1e-6)
    assert c[0, 0] < 0 < c[0, 3] and c[0, 2] == 0
    # The textbook sensor form is s / (s - F) larger: +4.4 % at 2 m with 85 mm.
    textbook = aperture_m * 0.085 / (2.0 - 0.085) * np.abs(depth[0, 3] - 2.0) / depth[0, 3] / (0.036 / width)
    assert textbook / c[0, 3] == pytest.approx(2.0 / (2.0 - 0.085)) == pytest.approx(1.0444, abs=1e-4)


# 6. Highlights ---------------------------------------------------------------------------------

def _clipped_light_photo(size: int = 61) -> tuple[np.ndarray, np.ndarray]:
    img = np.full((size, size, 3), 20, np.uint8)
    img[size // 2 - 1 : size // 2 + 2, size // 2 - 1 : size // 2 + 2] = 255  # a clipped 3x3 lamp
    return img, np.full((size, size), depth_for_diameter(24.0, 1.4), np.float32)


def test_clipped_highlight_becomes_a_bright_disc_not_a_grey_smudge():
    img, depth = _clipped_light_photo()
    recovered = dofcore.render(img, depth, 1.4, **LENS)
    plain = dofcore.render(img, depth, 1.4, highlight_gain=1.0, **LENS)
    centre = img.shape[0] // 2
    # Without recovery the lamp's 9 pixels of white spread over ~450 px: a dull smudge; with it
    # the lamp carries `gain` times the light the photo could record.
    assert plain[centre, centre, 0] < 50
    assert recovered[centre, centre, 0] > 2 * plain[centre, centre, 0] > 80
    # The disc keeps the lamp's expanded energy, measured in linear light.
    background = srgb_to_linear(np.array(20 / 255))
    excess = srgb_to_linear(recovered[..., 0] / 255).sum() - background * img.shape[0] ** 2
    expected = 9 * (dofcore.api.DEFAULT_HIGHLIGHT_GAIN_CLIPPED - background)
    assert excess == pytest.approx(expected, rel=0.1)


def test_large_clipped_surfaces_are_not_taken_for_lights():
    # A clipped white wall (the left half) beside a small clipped lamp far from it: the wall's
    # blurred edge is what it would be without recovery; the lamp still becomes a bright disc.
    img = np.full((80, 160, 3), 60, np.uint8)
    img[:, :60] = 255
    img[39:42, 129:132] = 255
    depth = np.full((80, 160), depth_for_diameter(20.0, 1.4), np.float32)
    recovered = dofcore.render(img, depth, 1.4, **LENS)
    plain = dofcore.render(img, depth, 1.4, highlight_gain=1.0, **LENS)
    np.testing.assert_array_equal(recovered[:, :90], plain[:, :90])
    assert recovered[40, 130, 0] > plain[40, 130, 0] + 40


def test_in_focus_highlights_are_unchanged_by_recovery():
    img, depth = _clipped_light_photo()
    img[10:14, 10:14] = [250, 240, 230]  # bright but not clipped
    out = dofcore.render(img, np.full(depth.shape, FOCUS_M, np.float32), 1.4, **LENS)
    np.testing.assert_array_equal(out, img)


def test_input_is_processed_in_linear_light():
    # A black and grey checkerboard blurred flat: the mean of linear light, not of sRGB codes.
    img = np.zeros((40, 40, 3), np.uint8)
    img[(np.add.outer(np.arange(40), np.arange(40)) % 2) == 0] = 200
    depth = np.full((40, 40), depth_for_diameter(16.0, 2.0), np.float32)
    out = dofcore.render(img, depth, 2.0, highlight_gain=1.0, **LENS)
    expected = round(255 * float(np.asarray(dofcore.color.linear_to_srgb(srgb_to_linear(200 / 255) / 2))))
    assert abs(np.mean(out[15:25, 15:25, 0]) - expected) <= 1
    assert expected > 140  # while averaging the codes would give 100


# 7. Aperture -----------------------------------------------------------------------------------

def _point_light(blades, rotation=0.0, curvature=0.0, behind=True, size=71, diameter=40.0):
    img = np.zeros((size, size, 3), np.float32)
    img[size // 2, size // 2] = 1.0
    depth = np.full((size, size), depth_for_diameter(diameter, 2.0, behind), np.float32)
    out = dofcore.render(img, depth, 2.0, blades=blades, blade_rotation=rotation,
                         blade_curvature=curvature, **LENS)
    return out[..., 0]


def _polygon_mask(size, radius, blades, rotation_deg):
    """Pixels inside a regular polygon of circumradius `radius`, a vertex at `rotation_deg`."""
    yy, xx = np.mgrid[:size, :size] - size // 2
    angle = np.arctan2(-yy, xx) - math.radians(rotation_deg)
    sector = 2 * math.pi / blades
    boundary = radius * math.cos(sector / 2) / np.cos(np.mod(angle, sector) - sector / 2)
    return np.hypot(xx, yy), boundary


@pytest.mark.parametrize("blades, rotation", [(5, 0.0), (6, 15.0), (7, 90.0)])
def test_point_light_shows_the_polygonal_aperture(blades, rotation):
    out = _point_light(blades, rotation)
    distance, boundary = _polygon_mask(out.shape[0], 20.0, blades, rotation)
    inside, outside = distance < boundary - 1.0, distance > boundary + 1.0
    level = np.median(out[inside])
    assert out[inside].min() > 0.99 * level
    assert out[outside].max() == 0.0
    assert out.sum() == pytest.approx(1.0, rel=1e-4)


def test_rounded_blades_make_a_circle_and_odd_polygons_flip_in_front_of_focus():
    circle = _point_light(0)
    np.testing.assert_allclose(_point_light(5, 20.0, curvature=1.0), circle, atol=1e-7)
    behind, front = _point_light(5, 90.0), _point_light(5, 90.0, behind=False)
    np.testing.assert_allclose(front, behind[::-1, ::-1], atol=1e-7)
    assert not np.allclose(front, behind, atol=1e-4)
