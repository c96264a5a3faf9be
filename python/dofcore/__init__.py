"""dofcore: the photo a real lens would have taken, from one photo and its metric depth.

    out = dofcore.render(img, depth, f=1.8)
    c = dofcore.coc(depth, f=1.8, focus=2.0, focal_length=85)
    ref = dofcore.reference.render(img, depth, f=1.8)   # the slow numpy transcription
"""

from dofcore import reference
from dofcore.api import Aperture, coc, render

__all__ = ["Aperture", "coc", "reference", "render"]
