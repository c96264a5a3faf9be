"""Re-make the regression fixture of tests/test_quality.py (needs Mitsuba):
python -m dofcore.eval.regression"""

from __future__ import annotations

from pathlib import Path

from dofcore.eval import scenes, truth
from dofcore.eval.metrics import display, psnr

FIXTURE = Path("tests/data/foreground_192.npz")

if __name__ == "__main__":
    render = truth.render_scene(scenes.SCENES["foreground"], size=192, truth_spp=2048, photo_spp=1024)
    truth.save(render, FIXTURE)
    print(f"wrote {FIXTURE}; seeds agree at {psnr(display(render.truth), display(render.truth_other_seed)):.1f} dB")
