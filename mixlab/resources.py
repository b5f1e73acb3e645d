"""Resource guards: estimate what a computation needs before allocating it, and refuse
what will not fit with a message that says how much it needs and what to use instead.

A guard compares an estimate (bytes, counted from the arrays the computation
allocates) with :data:`MEMORY_FRACTION` of the memory available now
(``MemAvailable`` of ``/proc/meminfo``, else free physical pages), so a refused
request never reaches ``MemoryError`` or the kernel's out-of-memory killer.
"""

from __future__ import annotations

import os

from mixlab.errors import ResourceError

#: The share of the currently available memory a single computation may plan to use.
MEMORY_FRACTION = 0.8


def available_memory() -> int:
    """Bytes of memory available to a new allocation on this machine now.

    Returns
    -------
    int
        ``MemAvailable`` from ``/proc/meminfo`` where it exists, else the free physical
        pages times the page size.

    Examples
    --------
    >>> available_memory() > 0
    True
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def format_bytes(nbytes: float) -> str:
    """A byte count in binary units with three significant digits.

    Parameters
    ----------
    nbytes : float
        Bytes, >= 0.

    Returns
    -------
    str
        E.g. ``"745 GiB"``.

    Examples
    --------
    >>> format_bytes(800 * 2**30 - 1), format_bytes(512)
    ('800 GiB', '512 B')
    """
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def require_memory(what: str, nbytes: float, instead: str = "") -> None:
    """Refuse ``what`` if its estimated ``nbytes`` exceed the share of memory available.

    Parameters
    ----------
    what : str
        The computation, as the user asked for it (e.g. ``"a run with n = 10^6, d = 10^5"``).
    nbytes : float
        Its estimated peak memory in bytes.
    instead : str, optional
        What to use instead, appended to the message.

    Raises
    ------
    ResourceError
        Naming what was asked, the estimate and what this machine has.

    Examples
    --------
    >>> require_memory("a tiny array", 800)
    >>> try:
    ...     require_memory("a huge array", 2.0**80, "use a smaller one")
    ... except ResourceError as exc:
    ...     print(str(exc)[:45], "...", str(exc)[-17:])
    a huge array needs about 1.07e+09 PiB of memo ... use a smaller one
    """
    budget = MEMORY_FRACTION * available_memory()
    if nbytes > budget:
        hint = f"; {instead}" if instead else ""
        raise ResourceError(
            f"{what} needs about {format_bytes(nbytes)} of memory, more than the "
            f"{format_bytes(budget)} this machine can spare now{hint}"
        )
