"""dofcore: the photo a real lens would have taken, from one photo and its metric depth.

    out = dofcore.render(img, depth, f=1.8)
    c = dofcore.coc(depth, f=1.8, focus=2.0, focal_length=85)
    ref = dofcore.reference.render(img, depth, f=1.8)   # the slow numpy transcription
    d = dofcore.estimate_depth(img)                      # Depth Pro (the depth extra)
    dofcore.portrait("photo.jpg", "photo_bokeh.jpg", f=1.8)
"""

from typing import Any

from dofcore import reference
from dofcore.api import Aperture, coc, render
from dofcore.memory import ImageTooLargeError
from dofcore.portrait import portrait

__all__ = ["Aperture", "ImageTooLargeError", "coc", "estimate_depth", "portrait", "reference", "render"]


def __getattr__(name: str) -> Any:
    # estimate_depth imports torch only when first used: the renderer installs and loads light.
    if name == "estimate_depth":
        from dofcore.depth import estimate_depth

        return estimate_depth
    raise AttributeError(f"module 'dofcore' has no attribute {name!r}")
