"""How much memory a render takes, and a refusal before it starts when the machine lacks it.

`render` holds, at its peak, the linear image and its highlight-expanded copy (float32 RGB),
the gain field, the CoC and the engine's output and per-pixel radius tables: about
RENDER_BYTES_PER_PIXEL bytes beyond the caller's own arrays (measured: docs/reliability.md).
"""

from __future__ import annotations

import os

RENDER_BYTES_PER_PIXEL = 48


class ImageTooLargeError(MemoryError):
    """The render would need more memory than the machine has available."""


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), else the free physical pages; None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(height: int, width: int, copies: int = 0) -> None:
    """Refuse, before allocating anything, a render the available memory cannot hold; `copies`:
    bytes of input the render must copy first (a strided or greyscale image)."""
    need = height * width * RENDER_BYTES_PER_PIXEL + copies
    have = available_bytes()
    if have is not None and need > have:
        raise ImageTooLargeError(
            f"a {width} x {height} render needs about {need / 2**30:.1f} GiB, "
            f"but only {have / 2**30:.1f} GiB of memory is available"
        )
