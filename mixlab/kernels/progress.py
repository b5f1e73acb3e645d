"""Progress of long runs: engines call :func:`report` at every recorded step (the
compiled engine through ``numba.objmode``); a caller installs a callback with
:func:`reporting_to`. Without one, reporting costs one Python call per record.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

_callback: list[Callable[[int, int], None]] = []


def report(step: int, steps: int) -> None:
    if _callback:
        _callback[-1](int(step), int(steps))


@contextlib.contextmanager
def reporting_to(callback: Callable[[int, int], None]):
    """Send progress to ``callback(step, steps)`` inside the block."""
    _callback.append(callback)
    try:
        yield
    finally:
        _callback.pop()


def stderr_bar(width: int = 30) -> Callable[[int, int], None]:
    """A one-line progress bar on stderr (newline at the end)."""

    def draw(step: int, steps: int) -> None:
        done = int(width * step / max(steps, 1))
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] step {step}/{steps}")
        if step >= steps:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return draw
