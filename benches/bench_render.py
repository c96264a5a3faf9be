"""Render benchmarks (pytest-benchmark): `make bench`. Ratios come from one run of this file.

- the 1500 x 1500 benchmark scene with the Rust engine;
- engine and numpy reference on the same 96 x 96 crop (the subject's edge with the near ground
  spreading over it, blur up to ~70 px), where the reference finishes in seconds;
- 1 and 2 threads on a 512 x 512 crop.
"""

from __future__ import annotations

import pytest

import dofcore
from scene import F_NUMBER, LENS, benchmark_scene

IMG, DEPTH = benchmark_scene()
CROP = (slice(800, 896), slice(814, 910))
TILE = (slice(744, 1256), slice(494, 1006))


@pytest.mark.benchmark(group="1500x1500")
def test_engine_full_size(benchmark):
    out = benchmark.pedantic(dofcore.render, (IMG, DEPTH, F_NUMBER), LENS, rounds=2, iterations=1)
    assert out.shape == IMG.shape


@pytest.mark.benchmark(group="96x96 crop: engine vs reference")
@pytest.mark.parametrize("engine", ["rust", "reference"])
def test_crop(benchmark, engine):
    render = dofcore.render if engine == "rust" else dofcore.reference.render
    benchmark.pedantic(render, (IMG[CROP], DEPTH[CROP], F_NUMBER), LENS, rounds=3, iterations=1)


@pytest.mark.benchmark(group="512x512 crop: threads")
@pytest.mark.parametrize("threads", [1, 2])
def test_threads(benchmark, threads):
    options = dict(LENS, threads=threads)
    benchmark.pedantic(dofcore.render, (IMG[TILE], DEPTH[TILE], F_NUMBER), options, rounds=3, iterations=1)
