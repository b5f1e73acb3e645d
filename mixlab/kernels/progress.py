"""Progress of long runs: engines call :func:`report` at every recorded step (the
compiled engine through ``numba.objmode``); a caller installs a callback with
:func:`reporting_to`, or shows a tqdm bar with :func:`progress_bar`. Without one,
reporting costs one Python call per record.

A record is also where Ctrl-C reaches a compiled run: inside
:func:`deferred_interrupts` (the compiled engine runs its driver there) SIGINT
only sets a flag, and the next :func:`report` raises ``KeyboardInterrupt`` from
ordinary Python code. (Left to itself, the signal would be raised wherever the
interpreter next runs, which can be numba's own object-mode glue, and there it
surfaces as a ``SystemError`` instead.)
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable

_callback: list[Callable[[int, int], None]] = []
_pending: list[list[int]] = []  # one list per active deferred_interrupts block: the signals received


def report(step: int, steps: int) -> None:
    """Pass progress to the innermost installed callback; no-op without one.

    Parameters
    ----------
    step : int
        Steps done so far.
    steps : int
        Steps of the whole run.

    Raises
    ------
    KeyboardInterrupt
        If Ctrl-C (SIGINT) arrived inside :func:`deferred_interrupts` since the last report.
    """
    if _pending and _pending[-1]:
        raise KeyboardInterrupt
    if _callback:
        _callback[-1](int(step), int(steps))


@contextlib.contextmanager
def deferred_interrupts():
    """Context manager: inside the block, Ctrl-C is raised at the next :func:`report`.

    SIGINT then only records itself; :func:`report` raises ``KeyboardInterrupt``
    (and so does the end of the block if no report came after the signal). Used
    around compiled code that calls :func:`report` through ``numba.objmode``.
    Outside the main thread, or when someone else has installed a SIGINT handler,
    nothing changes.

    Yields
    ------
    None
        Control, with the deferring handler installed; the previous handler is
        restored on exit.

    Raises
    ------
    KeyboardInterrupt
        At the first :func:`report` after a SIGINT, or at the end of the block.

    Examples
    --------
    >>> import os, signal
    >>> try:
    ...     with deferred_interrupts():
    ...         os.kill(os.getpid(), signal.SIGINT)   # only recorded here
    ...         report(1, 2)                         # raised here
    ... except KeyboardInterrupt:
    ...     print("interrupted at the report")
    interrupted at the report
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    pending: list[int] = []

    def record(signum, frame):
        pending.append(signum)

    previous = signal.signal(signal.SIGINT, record)
    _pending.append(pending)
    try:
        yield
    finally:
        _pending.pop()
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


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


@contextlib.contextmanager
def progress_bar(description: str, *, total: int | None = None, enabled: bool = True, unit: str = "step"):
    """Context manager: show the progress reported inside the block as a tqdm bar on stderr.

    The bar (tqdm) shows the steps done, the rate and the time left; it is drawn
    only when ``enabled`` and stderr is a terminal (tqdm's ``disable=None``), so
    redirected output and logs stay clean. Blocks nest like :func:`reporting_to`.

    Parameters
    ----------
    description : str
        The bar's label (e.g. ``"mixlab run"``).
    total : int, optional
        The count at the end (default: taken from the first report).
    enabled : bool, default True
        False draws nothing (``--quiet``).
    unit : str, default "step"
        The unit of the count (``"step"``, ``"check"``).

    Yields
    ------
    tqdm.tqdm
        The bar, with :func:`report` routed to it inside the block; it is closed on
        exit, also on an error or ``KeyboardInterrupt``.

    Examples
    --------
    >>> with progress_bar("demo", enabled=False) as bar:
    ...     report(5, 10)
    >>> bar.disable, bar.total                # nothing drawn; the total came from the report
    (True, 10)
    """
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        desc=description,
        unit=unit,
        file=sys.stderr,
        disable=None if enabled else True,
        dynamic_ncols=True,
    )

    def update(step: int, steps: int) -> None:
        if bar.total != steps:
            bar.total = steps
        bar.update(step - bar.n)

    try:
        with reporting_to(update):
            yield bar
    finally:
        bar.close()
