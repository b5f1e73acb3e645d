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
    """Pass progress to the innermost installed callback; no-op without one.

    Parameters
    ----------
    step : int
        Steps done so far.
    steps : int
        Steps of the whole run.
    """
    if _callback:
        _callback[-1](int(step), int(steps))


@contextlib.contextmanager
def reporting_to(callback: Callable[[int, int], None]):
    """Context manager: send progress to ``callback(step, steps)`` inside the block.

    Blocks nest; the innermost callback receives the reports.

    Parameters
    ----------
    callback : callable
        ``callback(step, steps)``, called at every recorded step of a run.

    Yields
    ------
    None
        Control, with ``callback`` installed; it is removed on exit, also on error.

    Examples
    --------
    >>> seen = []
    >>> with reporting_to(lambda step, steps: seen.append((step, steps))):
    ...     report(3, 10)
    >>> report(4, 10)            # outside the block: nobody listens
    >>> seen
    [(3, 10)]
    """
    _callback.append(callback)
    try:
        yield
    finally:
        _callback.pop()


def stderr_bar(width: int = 30) -> Callable[[int, int], None]:
    """A progress callback that draws a one-line bar on stderr (newline at the end).

    Parameters
    ----------
    width : int
        Characters of the bar (default 30).

    Returns
    -------
    callable
        ``draw(step, steps)``, to pass to :func:`reporting_to`.
    """

    def draw(step: int, steps: int) -> None:
        done = int(width * step / max(steps, 1))
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] step {step}/{steps}")
        if step >= steps:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return draw
