"""Mitsuba 3 helpers shared by the eval scenes and the bundled example (the dev extra)."""

from __future__ import annotations

import glob
import os
import re
from typing import Any

import numpy as np
import numpy.typing as npt


def newest_llvm() -> str | None:
    """The newest libLLVM in the system's library folders (Debian names them libLLVM-15.so,
    libLLVM.so.19.1, ...): Dr.Jit looks for an unversioned libLLVM.so, which Debian does not ship."""

    def version(path: str) -> int:
        found = re.match(r"libLLVM[-.](?:so\.)?(\d+)", os.path.basename(path))
        return int(found.group(1)) if found else -1

    libraries = [path for path in glob.glob("/usr/lib/*/libLLVM*.so*") if version(path) >= 0]
    return max(libraries, key=version, default=None)


def mitsuba() -> Any:
    """Mitsuba's LLVM variant (llvm_ad_rgb): it renders on every core, and the depth maps trace
    a ray per pixel at once, which the scalar variants cannot."""
    try:
        import mitsuba as mi
    except ImportError as err:
        raise ImportError("rendering ground truth needs Mitsuba 3: pip install 'dofcore[dev]'") from err
    if mi.variant() is None:
        llvm = newest_llvm()
        if llvm is not None:
            os.environ.setdefault("DRJIT_LIBLLVM_PATH", llvm)
        try:
            mi.set_variant("llvm_ad_rgb")
        except (ImportError, AttributeError, RuntimeError) as err:
            raise RuntimeError(
                "rendering ground truth needs Mitsuba's LLVM variant, and Dr.Jit could not load LLVM "
                f"({os.environ.get('DRJIT_LIBLLVM_PATH', 'none found in /usr/lib')}): install it "
                "(Debian: apt install libllvm15) or set DRJIT_LIBLLVM_PATH to a libLLVM .so"
            ) from err
    return mi


def render_rgb(scene: Any, seed: int = 0, spp: int | None = None) -> npt.NDArray[np.float32]:
    """Linear HDR RGB of the scene's sensor."""
    mi = mitsuba()
    image = mi.render(scene, seed=seed, spp=spp or 0)
    return np.array(image, dtype=np.float32)[..., :3]


def planar_depth(scene: Any, origin: npt.ArrayLike, forward: npt.ArrayLike, sky_m: float = 1000.0) -> npt.NDArray[np.float32]:
    """Planar depth (along the optical axis) at pixel centres: one ray per pixel, no jitter, so
    edges carry no mixed depths. Rays that leave the scene see the sky, `sky_m` away."""
    mi = mitsuba()
    sensor = scene.sensors()[0]
    width, height = sensor.film().crop_size()
    xs, ys = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    position = mi.Point2f(xs.ravel() / width, ys.ravel() / height)
    rays, _ = sensor.sample_ray(0.0, 0.5, position, mi.Point2f(0.5, 0.5))
    hit = scene.ray_intersect(rays)
    axis = np.asarray(forward, dtype=np.float64)
    axis /= np.linalg.norm(axis)
    points = np.stack([np.array(c) for c in (hit.p.x, hit.p.y, hit.p.z)], axis=-1)
    depth = (points - np.asarray(origin, dtype=np.float64)) @ axis
    depth = np.where(np.array(hit.is_valid()), depth, sky_m)
    return depth.reshape(height, width).astype(np.float32)
