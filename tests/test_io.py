"""Photos and depth maps on disk: EXIF focal length, image modes, depth formats."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageCms

from dofcore.io import (
    EXIF_IFD, FOCAL_LENGTH, FOCAL_LENGTH_35MM, FOCAL_PLANE_RESOLUTION_UNIT, FOCAL_PLANE_X_RESOLUTION,
    depth_preview, read_colour_profile, read_depth, read_photo, write_depth, write_photo,
)
from dofcore.portrait import portrait

ORIENTATION = 0x0112


def _jpeg_with_exif(path, tags, size=(60, 40)):
    exif = Image.Exif()
    exif[EXIF_IFD] = tags
    Image.fromarray(np.full((size[1], size[0], 3), 128, np.uint8)).save(path, exif=exif)
    return path


def test_focal_length_from_the_35mm_equivalent_tag(tmp_path):
    photo, focal_px = read_photo(_jpeg_with_exif(tmp_path / "a.jpg", {FOCAL_LENGTH_35MM: 26}))
    assert photo.shape == (40, 60, 3) and photo.dtype == np.uint8
    assert focal_px == pytest.approx(26 * math.hypot(60, 40) / math.hypot(36, 24))


def test_focal_length_from_focal_length_and_sensor_resolution(tmp_path):
    # 4.2 mm lens, 1000 pixels per cm on the sensor: 420 px.
    tags = {FOCAL_LENGTH: 4.2, FOCAL_PLANE_X_RESOLUTION: 1000.0, FOCAL_PLANE_RESOLUTION_UNIT: 3}
    _, focal_px = read_photo(_jpeg_with_exif(tmp_path / "b.jpg", tags))
    assert focal_px == pytest.approx(420.0)


@pytest.mark.parametrize(("orientation", "turns"), [(1, 0), (3, 2), (6, -1), (8, 1)])
def test_a_photo_stored_on_its_side_is_read_upright(tmp_path, orientation, turns):
    """A phone stores a portrait shot on its side with an orientation tag (6: turn it 90 degrees
    clockwise to view); read as stored, its render came out on its side and its depth map, made
    from the upright photo, did not fit it."""
    stored = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[EXIF_IFD] = {FOCAL_LENGTH: 4.2, FOCAL_PLANE_X_RESOLUTION: 1000.0, FOCAL_PLANE_RESOLUTION_UNIT: 3}
    Image.fromarray(stored).save(tmp_path / "side.png", exif=exif)
    photo, focal_px = read_photo(tmp_path / "side.png")
    np.testing.assert_array_equal(photo, np.rot90(stored, k=turns))
    assert focal_px == pytest.approx(420.0)  # the same in pixels whichever way up


def test_a_render_keeps_its_photos_colour_profile(tmp_path):
    """A wide-gamut photo (Display P3 on recent phones) written without its profile would be
    shown as sRGB, its colours dulled."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(tmp_path / "profiled.png", icc_profile=profile)
    assert read_colour_profile(tmp_path / "profiled.png") == profile
    for name in ("out.png", "out.jpg"):
        portrait(tmp_path / "profiled.png", tmp_path / name, 2.0, depth=np.full((24, 32), 2.0, np.float32))
        assert read_colour_profile(tmp_path / name) == profile
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(tmp_path / "srgb.png")
    assert read_colour_profile(tmp_path / "srgb.png") is None


def test_no_exif_no_focal_length(tmp_path):
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "c.png")
    assert read_photo(tmp_path / "c.png")[1] is None


def test_greyscale_is_made_rgb_and_16_bit_grey_keeps_its_bits(tmp_path):
    Image.fromarray(np.arange(20, dtype=np.uint8).reshape(4, 5)).save(tmp_path / "g.png")
    grey, _ = read_photo(tmp_path / "g.png")
    assert grey.shape == (4, 5, 3) and (grey[..., 0] == grey[..., 2]).all()
    deep = (np.arange(20, dtype=np.uint16) * 3000).reshape(4, 5)
    Image.fromarray(deep).save(tmp_path / "g16.png")
    grey16, _ = read_photo(tmp_path / "g16.png")
    assert grey16.dtype == np.uint16 and (grey16[..., 1] == deep).all()
    write_photo(tmp_path / "out16.png", grey16)
    np.testing.assert_array_equal(read_photo(tmp_path / "out16.png")[0], grey16)


def test_alpha_unreadable_and_missing_files_are_refused(tmp_path):
    Image.fromarray(np.zeros((4, 4, 4), np.uint8)).save(tmp_path / "rgba.png")
    with pytest.raises(ValueError, match="alpha"):
        read_photo(tmp_path / "rgba.png")
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read"):
        read_photo(tmp_path / "junk.jpg")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_photo(tmp_path / "missing.jpg")


@pytest.mark.parametrize("suffix, rtol", [(".npy", 0), (".npz", 0), (".tif", 0), (".exr", 0), (".png", 1e-4)])
def test_depth_round_trips(tmp_path, suffix, rtol):
    depth = np.geomspace(0.7, 1000.0, 12 * 9).reshape(12, 9).astype(np.float32)
    write_depth(tmp_path / f"d{suffix}", depth)
    back = read_depth(tmp_path / f"d{suffix}")
    assert back.dtype == np.float32 and back.shape == depth.shape
    if suffix == ".png":
        # 16-bit inverse depth: finest near, where blur changes fastest.
        np.testing.assert_allclose(back[depth < 10], depth[depth < 10], rtol=2e-4)
        np.testing.assert_allclose(back, depth, rtol=0.02)
    else:
        np.testing.assert_array_equal(back, depth)


def test_a_png_without_dofcore_metadata_is_not_guessed(tmp_path):
    Image.fromarray(np.ones((4, 4), np.uint16)).save(tmp_path / "plain.png")
    with pytest.raises(ValueError, match="scale is unknown"):
        read_depth(tmp_path / "plain.png")
    with pytest.raises(ValueError, match="unknown depth format"):
        write_depth(tmp_path / "d.bmp", np.ones((2, 2)))


def test_depth_preview_is_an_rgb_picture_near_bright():
    depth = np.tile(np.linspace(0.5, 50, 30, dtype=np.float32), (10, 1))
    preview = depth_preview(depth)
    assert preview.shape == (10, 30, 3) and preview.dtype == np.uint8
    assert preview[0, 0].sum() > preview[0, -1].sum()
