from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

# Test images are crops of a 1500 px wide photo taken with an 85 mm lens focused at 2 m.
FOCAL_LENGTH_MM = 85.0
FOCAL_PX = 1500 * FOCAL_LENGTH_MM / 36.0
FOCUS_M = 2.0
LENS = dict(focus=FOCUS_M, focal_length=FOCAL_LENGTH_MM, focal_px=FOCAL_PX)


def thin_lens_diameter_px(depth_m: float, f_number: float) -> float:
    """The physics contract's formula, written out independently of the package."""
    aperture_m = FOCAL_LENGTH_MM * 1e-3 / f_number
    return aperture_m * FOCAL_PX * abs(1.0 / depth_m - 1.0 / FOCUS_M)


def depth_for_diameter(diameter_px: float, f_number: float, behind: bool = True) -> float:
    """Inverse of the formula: the depth whose blur diameter is `diameter_px`."""
    aperture_m = FOCAL_LENGTH_MM * 1e-3 / f_number
    delta = diameter_px / (aperture_m * FOCAL_PX)
    return 1.0 / (1.0 / FOCUS_M - delta) if behind else 1.0 / (1.0 / FOCUS_M + delta)


def stopped_down(depth: npt.NDArray[np.float32], f_number: float, budget_px: float | None = None,
                 **lens: object) -> float:
    """f_number, or the smallest larger one whose widest blur disc fits `budget_px` (default: the
    frame's longer side; render refuses discs wider than the image). c is proportional to 1/N."""
    import dofcore

    budget = max(depth.shape) if budget_px is None else min(budget_px, max(depth.shape))
    widest = float(np.abs(dofcore.coc(depth, f_number, **lens)).max())  # type: ignore[arg-type]
    return max(f_number, f_number * widest / budget * (1 + 1e-6))


def equivalent_diameter(lit_pixels: int) -> float:
    return math.sqrt(4.0 * lit_pixels / math.pi)


def textured(height: int, width: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def longest_python_pause(work: Callable[[], object]) -> tuple[float, float]:
    """Runs `work` in a thread while this one ticks; returns the longest pause between ticks over
    the span of `work`, and that span (seconds). Holding the GIL through `work` would pause this
    thread for all of it, however fast `work` is."""
    span: list[float] = []
    failed: list[BaseException] = []

    def timed() -> None:
        start = time.perf_counter()
        try:
            work()
        except BaseException as error:  # raised again in the caller's thread
            failed.append(error)
        span.extend([start, time.perf_counter()])

    worker = threading.Thread(target=timed)
    ticks = [time.perf_counter()]
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    ticks.append(time.perf_counter())
    if failed:
        raise failed[0]
    start, end = span
    around = ticks[np.searchsorted(ticks, start) - 1 : np.searchsorted(ticks, end) + 1]
    return float(np.diff(around).max()), end - start


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    from tiny_depth_pro import save_tiny_depth_pro

    return save_tiny_depth_pro(tmp_path_factory.mktemp("tiny-depth-pro"))


# What the reliability tests tried and measured, printed after the run ------------------------

_REPORT = pytest.StashKey[dict[str, object]]()


def pytest_configure(config):
    config.stash[_REPORT] = {}


@pytest.fixture
def fuzz_count(request):
    """Call with a name for each input tried; the totals are printed at the end of the run."""
    counts = request.config.stash[_REPORT]

    def count(name: str) -> None:
        counts[name] = int(counts.get(name, 0)) + 1

    return count


@pytest.fixture
def record(request):
    """Record a measured line to print at the end of the run."""
    return lambda line: request.config.stash[_REPORT].__setitem__(line, None)


def pytest_terminal_summary(terminalreporter, config):
    report = config.stash.get(_REPORT, {})
    if report:
        terminalreporter.section("tried and measured")
        for name, value in report.items():
            terminalreporter.write_line(name if value is None else f"fuzz: {value} inputs tried: {name}")
