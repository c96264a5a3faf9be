"""Render benchmarks (pytest-benchmark): `make bench`. Every ratio in docs/benchmarks.md comes
from one run of this file, so it compares like with like.

The exact level (`quality="exact"`, docs/model.md 5):
- the 1500 x 1500 benchmark scene (85 mm, f/1.8, focus 2 m), median of 10;
- the same scene at f/1.4, f/2.8 and f/8: how cost grows with the blur;
- the same scene (same framing and lens) at 0.5, 1 and 8 megapixels: how cost grows with size;
- 1 and 2 threads on a 512 x 512 crop;
- engine and numpy reference on the same 96 x 96 crop, where the reference finishes in seconds.

The fast level, the default (docs/model.md 8): the full frame, median of 10, by f-number, by
megapixels, and 1 vs 2 threads.
"""

from __future__ import annotations

import math

import pytest

import dofcore
from scene import F_NUMBER, LENS, SIZE, benchmark_scene

IMG, DEPTH = benchmark_scene()
EXACT = dict(LENS, quality="exact")
CROP = (slice(800, 896), slice(814, 910))
TILE = (slice(744, 1256), slice(494, 1006))


def lens_for(size: int) -> dict[str, float]:
    """The benchmark lens on a frame `size` pixels wide: the same photo at another resolution."""
    return dict(LENS, focal_px=LENS["focal_px"] * size / SIZE)


@pytest.mark.benchmark(group="1500x1500 exact level")
def test_engine_full_size(benchmark):
    out = benchmark.pedantic(dofcore.render, (IMG, DEPTH, F_NUMBER), EXACT, rounds=10, iterations=1)
    assert out.shape == IMG.shape


@pytest.mark.benchmark(group="1500x1500 exact level by f-number")
@pytest.mark.parametrize("f_number", [1.4, 2.8, 8.0])
def test_f_number(benchmark, f_number):
    benchmark.extra_info["largest blur px"] = float(abs(dofcore.coc(DEPTH, f_number, **LENS)).max())
    benchmark.pedantic(dofcore.render, (IMG, DEPTH, f_number), EXACT, rounds=2, iterations=1)


@pytest.mark.benchmark(group="exact level f/1.8 by megapixels")
@pytest.mark.parametrize("megapixels", [0.5, 1.0, 8.0])
def test_megapixels(benchmark, megapixels):
    size = round(math.sqrt(megapixels * 1e6))
    img, depth = benchmark_scene(size)
    benchmark.pedantic(dofcore.render, (img, depth, F_NUMBER), dict(lens_for(size), quality="exact"),
                       rounds=1 if megapixels > 4 else 3, iterations=1)


@pytest.mark.benchmark(group="exact level 512x512 crop: threads")
@pytest.mark.parametrize("threads", [1, 2])
def test_threads(benchmark, threads):
    options = dict(EXACT, threads=threads)
    benchmark.pedantic(dofcore.render, (IMG[TILE], DEPTH[TILE], F_NUMBER), options, rounds=3, iterations=1)


@pytest.mark.benchmark(group="96x96 crop: engine vs reference")
@pytest.mark.parametrize("engine", ["rust", "reference"])
def test_crop(benchmark, engine):
    render = dofcore.render if engine == "rust" else dofcore.reference.render
    options = EXACT if engine == "rust" else LENS
    benchmark.pedantic(render, (IMG[CROP], DEPTH[CROP], F_NUMBER), options, rounds=3, iterations=1)


@pytest.mark.benchmark(group="1500x1500 fast level")
def test_fast_full_size(benchmark):
    benchmark.pedantic(dofcore.render, (IMG, DEPTH, F_NUMBER), dict(LENS, quality="fast"),
                       rounds=10, iterations=1)


@pytest.mark.benchmark(group="1500x1500 fast level by f-number")
@pytest.mark.parametrize("f_number", [1.4, 2.8, 8.0])
def test_fast_f_number(benchmark, f_number):
    benchmark.pedantic(dofcore.render, (IMG, DEPTH, f_number), dict(LENS, quality="fast"),
                       rounds=5, iterations=1)


@pytest.mark.benchmark(group="fast level by megapixels")
@pytest.mark.parametrize("megapixels", [0.5, 1.0, 2.25, 8.0])
def test_fast_megapixels(benchmark, megapixels):
    size = round(math.sqrt(megapixels * 1e6))
    img, depth = benchmark_scene(size)
    benchmark.pedantic(dofcore.render, (img, depth, F_NUMBER), dict(lens_for(size), quality="fast"),
                       rounds=3, iterations=1)


@pytest.mark.benchmark(group="1500x1500 fast level: threads")
@pytest.mark.parametrize("threads", [1, 2])
def test_fast_threads(benchmark, threads):
    benchmark.pedantic(dofcore.render, (IMG, DEPTH, F_NUMBER), dict(LENS, quality="fast", threads=threads),
                       rounds=5, iterations=1)
