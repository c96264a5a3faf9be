"""Photos and depth maps on disk.

Photos: whatever Pillow reads (JPEG, PNG, TIFF, ...), 8-bit RGB, greyscale (8 or 16 bit, made
RGB), turned upright as their EXIF orientation says, with the focal length from EXIF; a render
is written with its photo's colour profile. RGBA and 16-bit-per-channel colour files are refused
with a message that says what to do. Depth maps: .npy, .npz (key `depth`), float32 TIFF, EXR
(the `openexr` package, in the depth extra) and 16-bit PNG, whose encoding is stated in its
metadata (see `write_depth`). `depth_preview` colours a depth map for people to look at.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, ImageOps, PngImagePlugin, UnidentifiedImageError

from dofcore.color import from_linear

# EXIF tags (the Exif IFD holds the camera's).
EXIF_IFD = 0x8769
FOCAL_LENGTH = 0x920A
FOCAL_LENGTH_35MM = 0xA405
FOCAL_PLANE_X_RESOLUTION = 0xA20E
FOCAL_PLANE_RESOLUTION_UNIT = 0xA210
PIXEL_X_DIMENSION = 0xA002
# FocalPlaneResolutionUnit: 2 inch, 3 centimetre, 4 millimetre, 5 micrometre.
RESOLUTION_UNIT_MM = {2: 25.4, 3: 10.0, 4: 1.0, 5: 1e-3}
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)

# 16-bit PNG depth: the value v stores inverse depth, z = near_m * 65535 / v, so precision is
# finest where blur changes fastest (near) and no depth is clipped far away.
PNG_ENCODING_KEY = "dofcore:depth_encoding"
PNG_NEAR_KEY = "dofcore:depth_near_m"
PNG_INVERSE = "inverse"
UINT16_TOP = 65535
DEPTH_SUFFIXES = (".npy", ".npz", ".tif", ".tiff", ".exr", ".png")

Photo = npt.NDArray[np.uint8] | npt.NDArray[np.uint16]


def _open(path: str | os.PathLike[str]) -> ImageFile.ImageFile:
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"cannot read {path} as an image: {err}") from None


def read_photo(path: str | os.PathLike[str]) -> tuple[Photo, float | None]:
    """(H x W x 3 uint8 or uint16 sRGB photo, focal length in pixels from EXIF or None). The photo
    is upright as its EXIF orientation shows it (a phone stores a portrait shot on its side): as
    a viewer shows it, and as a depth network and a depth map of it see it."""
    with _open(path) as image:
        try:
            image.load()
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            raise ValueError(f"cannot read {path} as an image: {err}") from None
        rawmode = image.tile[0][1] if image.tile else ""
        if image.mode in ("RGBA", "LA", "PA") or "A" in image.getbands():
            raise ValueError(
                f"{path} has an alpha channel ({image.mode}): a depth-of-field render has no "
                "meaning for transparency; flatten it onto a background first"
            )
        if image.mode == "RGB" and "16" in str(rawmode):
            raise ValueError(
                f"{path} has 16 bits per colour channel, which Pillow reads at 8 bits only: load "
                "it yourself as an H x W x 3 uint16 array and call dofcore.render, which keeps 16 bits"
            )
        # In pixels the focal length is the same either way up; the tags count the stored width.
        focal_px = exif_focal_px(image, image.width, image.height)
        upright = ImageOps.exif_transpose(image)
        if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
            grey = np.asarray(upright, dtype=np.uint16)
            photo: Photo = np.repeat(grey[..., None], 3, axis=2)
        else:
            photo = np.asarray(upright.convert("RGB"))
        return photo, focal_px


def read_colour_profile(path: str | os.PathLike[str]) -> bytes | None:
    """The photo's ICC colour profile (Display P3 on recent phones), or None for plain sRGB."""
    with _open(path) as image:
        profile = image.info.get("icc_profile")
        return profile if isinstance(profile, bytes) and profile else None


def exif_focal_px(image: Image.Image, width: int, height: int) -> float | None:
    """The focal length in pixels from EXIF: the 35 mm-equivalent tag over the full-frame
    diagonal (as Apple's Depth Pro reads it), else the focal length and the focal-plane
    resolution (the sensor's pixel pitch); None when neither is there."""
    camera = image.getexif().get_ifd(EXIF_IFD)
    f35 = camera.get(FOCAL_LENGTH_35MM)
    if f35 and float(f35) > 0:
        return float(f35) * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM
    focal_mm, resolution = camera.get(FOCAL_LENGTH), camera.get(FOCAL_PLANE_X_RESOLUTION)
    unit_mm = RESOLUTION_UNIT_MM.get(int(camera.get(FOCAL_PLANE_RESOLUTION_UNIT, 2)))
    if focal_mm and resolution and unit_mm and float(focal_mm) > 0 and float(resolution) > 0:
        # Pixels per mm at the resolution the camera wrote, rescaled to this file's width.
        recorded_width = float(camera.get(PIXEL_X_DIMENSION) or width)
        return float(focal_mm) * float(resolution) / unit_mm * width / recorded_width
    return None


def write_photo(
    path: str | os.PathLike[str], photo: npt.NDArray[np.generic], colour_profile: bytes | None = None
) -> None:
    """Write by the file's extension (JPEG at quality 95). 8-bit RGB as is; 16-bit greyscale
    (equal channels, as `read_photo` makes of a 16-bit grey file) as a 16-bit PNG or TIFF;
    float (linear light) encoded to 8-bit sRGB. `colour_profile`: the photo's ICC profile, so that
    a wide-gamut photo's render keeps its colours (the blur is linear in any RGB primaries)."""
    path = Path(path)
    suffix = path.suffix.lower()
    check_photo_path(path)
    image: Image.Image
    if photo.dtype == np.uint16:
        if not (np.array_equal(photo[..., 0], photo[..., 1]) and np.array_equal(photo[..., 0], photo[..., 2])):
            raise ValueError(
                "Pillow cannot write 16-bit colour: save the array with a library that can "
                "(tifffile, imageio) or render an 8-bit photo"
            )
        if suffix not in (".png", ".tif", ".tiff"):
            raise ValueError(f"a 16-bit greyscale result needs a .png or .tif file, not {suffix!r}")
        image = Image.fromarray(np.ascontiguousarray(photo[..., 0]))
    elif photo.dtype == np.uint8:
        image = Image.fromarray(photo)
    else:
        image = Image.fromarray(from_linear(np.asarray(photo, np.float32), np.dtype(np.uint8)))
    options: dict[str, Any] = {"quality": 95} if suffix in (".jpg", ".jpeg") else {}
    if colour_profile is not None:
        options["icc_profile"] = colour_profile
    image.save(path, **options)


def check_photo_path(path: str | os.PathLike[str]) -> None:
    """Refuse, before any work, a photo path that cannot be written: unknown format, no folder."""
    path = Path(path)
    if path.suffix.lower() not in Image.registered_extensions():
        raise ValueError(f"cannot write {path}: unknown image format {path.suffix!r} (use .jpg, .png, .tif, ...)")
    _check_folder(path)


def check_depth_path(path: str | os.PathLike[str]) -> None:
    """Refuse, before any work, a depth path that cannot be written."""
    path = Path(path)
    if path.suffix.lower() not in DEPTH_SUFFIXES:
        raise ValueError(f"unknown depth format {path.suffix!r}: use .npy, .npz, .tif, .exr or .png")
    _check_folder(path)


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: no folder {path.parent}")


def read_depth(path: str | os.PathLike[str]) -> npt.NDArray[np.float32]:
    """A depth map in metres from .npy, .npz, float TIFF, EXR or a dofcore 16-bit PNG."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if suffix in (".npy", ".npz"):
        depth = _load_numpy(path)
    elif suffix == ".exr":
        depth = _read_exr(path)
    else:
        with _open(path) as image:
            if image.mode == "F":
                depth = np.asarray(image)
            elif image.mode.startswith("I;16") and suffix == ".png":
                depth = _decode_png_depth(np.asarray(image, dtype=np.uint16), image.info, path)
            else:
                raise ValueError(
                    f"{path} is a {image.mode} image, not a depth map: use a float32 TIFF, EXR, "
                    ".npy or a 16-bit PNG written by dofcore"
                )
    return np.asarray(depth, dtype=np.float32)


def _load_numpy(path: Path) -> npt.NDArray[Any]:
    """An .npy array, or the array named 'depth' in an .npz (no pickles either way)."""
    try:
        if path.suffix.lower() == ".npy":
            return np.asarray(np.load(path))
        with np.load(path) as stored:
            names = list(stored)
            depth = np.asarray(stored["depth"]) if "depth" in names else None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(f"cannot read {path} as a depth map: {err}") from None
    if depth is None:
        raise ValueError(f"{path} holds no array named 'depth' (it has {names})")
    return depth


def _decode_png_depth(
    values: npt.NDArray[np.uint16], info: dict[Any, Any], path: Path
) -> npt.NDArray[np.float32]:
    if info.get(PNG_ENCODING_KEY) != PNG_INVERSE or PNG_NEAR_KEY not in info:
        raise ValueError(
            f"{path} is a 16-bit PNG without dofcore's depth metadata ({PNG_ENCODING_KEY}, "
            f"{PNG_NEAR_KEY}): its scale is unknown; save depth as .npy, float TIFF or EXR"
        )
    if (values == 0).any():
        raise ValueError(f"{path} holds zero values: infinite depth cannot be stored")
    near_m = float(str(info[PNG_NEAR_KEY]))
    return (near_m * UINT16_TOP / values.astype(np.float64)).astype(np.float32)


def write_depth(path: str | os.PathLike[str], depth: npt.NDArray[np.floating]) -> None:
    """Write metres by extension: .npy, .npz, .tif/.tiff (float32), .exr, or .png (16-bit
    inverse depth, v = 65535 * near / z, with `near` stored in the PNG's text metadata)."""
    path = Path(path)
    check_depth_path(path)
    suffix = path.suffix.lower()
    depth = np.asarray(depth, dtype=np.float32)
    if suffix == ".npy":
        np.save(path, depth)
    elif suffix == ".npz":
        np.savez_compressed(path, depth=depth)
    elif suffix in (".tif", ".tiff"):
        Image.fromarray(depth, mode="F").save(path)
    elif suffix == ".exr":
        _write_exr(path, depth)
    elif suffix == ".png":
        near_m = float(depth.min())
        values = np.clip(np.rint(UINT16_TOP * near_m / depth.astype(np.float64)), 1, UINT16_TOP)
        metadata = PngImagePlugin.PngInfo()
        metadata.add_text(PNG_ENCODING_KEY, PNG_INVERSE)
        metadata.add_text(PNG_NEAR_KEY, repr(near_m))
        Image.fromarray(values.astype(np.uint16)).save(path, pnginfo=metadata)


def _read_exr(path: Path) -> npt.NDArray[np.float32]:
    import OpenEXR

    with OpenEXR.File(str(path)) as exr:
        channels = exr.channels()
        name = "Z" if "Z" in channels else next(iter(channels))
        return np.asarray(channels[name].pixels, dtype=np.float32)


def _write_exr(path: Path, depth: npt.NDArray[np.float32]) -> None:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"Z": depth}) as exr:
        exr.write(str(path))


# A perceptually ordered ramp (dark violet, near, to pale yellow, far) for depth previews.
_RAMP = np.array(
    [[252, 253, 191], [252, 137, 97], [183, 55, 121], [81, 18, 124], [0, 0, 4]], dtype=np.float64
)


def depth_preview(depth: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """Colour a depth map by inverse depth, near bright, far dark, stretched between its 1st
    and 99th percentiles."""
    inverse = 1.0 / np.asarray(depth, dtype=np.float64)
    low, high = np.percentile(inverse, [1, 99])
    t = np.clip((high - inverse) / max(high - low, 1e-12), 0, 1) * (len(_RAMP) - 1)
    lower = np.floor(t).astype(int).clip(0, len(_RAMP) - 2)
    frac = (t - lower)[..., None]
    return np.asarray(np.rint(_RAMP[lower] * (1 - frac) + _RAMP[lower + 1] * frac), dtype=np.uint8)
