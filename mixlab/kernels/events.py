"""Primitives of the compiled event loops (AD-PSGD, gossip learning, version age):
a binary min-heap of (time, id) pairs in two arrays, ordered by time then id,
and the choice of an agent from cumulative rates.

>>> import numpy as np
>>> times, ids = np.empty(3), np.empty(3, dtype=np.int64)
>>> size = heap_push(times, ids, 0, 2.0, 0)
>>> size = heap_push(times, ids, size, 1.0, 1)
>>> heap_pop(times, ids, size)[:2]
(1.0, 1)
>>> int(pick_cumulative(np.array([1.0, 3.0, 6.0]), 0.4))   # 0.4 * 6 = 2.4 falls in [1, 3)
1
"""

from __future__ import annotations

import numba

from mixlab.kernels.config import NUMBA_JIT


@numba.njit(**NUMBA_JIT)
def _less(times, ids, p, q):
    return times[p] < times[q] or (times[p] == times[q] and ids[p] < ids[q])


@numba.njit(**NUMBA_JIT)
def _swap(times, ids, p, q):
    times[p], times[q] = times[q], times[p]
    ids[p], ids[q] = ids[q], ids[p]


@numba.njit(**NUMBA_JIT)
def heap_push(times, ids, size, time, item):
    """Insert (time, item) into the heap of ``size`` entries, in place.

    Parameters
    ----------
    times : numpy.ndarray
        float64 (capacity,): the heap's times; entries ``[:size]`` are the heap.
    ids : numpy.ndarray
        int64 (capacity,): the heap's ids, aligned with ``times``.
    size : int
        Current number of entries (< capacity; not checked).
    time : float
        Time of the new entry.
    item : int
        Id of the new entry (ties in time are broken by smaller id first).

    Returns
    -------
    int
        The new size, ``size + 1``.
    """
    p = size
    times[p] = time
    ids[p] = item
    while p > 0:
        parent = (p - 1) // 2
        if _less(times, ids, p, parent):
            _swap(times, ids, p, parent)
            p = parent
        else:
            break
    return size + 1


@numba.njit(**NUMBA_JIT)
def heap_pop(times, ids, size):
    """Remove the earliest entry (smallest time, then smallest id) from the heap, in place.

    Parameters
    ----------
    times : numpy.ndarray
        float64 (capacity,): the heap's times; entries ``[:size]`` are the heap.
    ids : numpy.ndarray
        int64 (capacity,): the heap's ids, aligned with ``times``.
    size : int
        Current number of entries (>= 1; not checked).

    Returns
    -------
    tuple of (float, int, int)
        ``(time, item, size - 1)``: the removed entry and the new size.
    """
    time, item = times[0], ids[0]
    size -= 1
    times[0], ids[0] = times[size], ids[size]
    p = 0
    while True:
        left, right, best = 2 * p + 1, 2 * p + 2, p
        if left < size and _less(times, ids, left, best):
            best = left
        if right < size and _less(times, ids, right, best):
            best = right
        if best == p:
            break
        _swap(times, ids, p, best)
        p = best
    return time, item, size


@numba.njit(**NUMBA_JIT)
def pick_cumulative(cum, u):
    """Draw an index with probability proportional to its rate, by binary search.

    Parameters
    ----------
    cum : numpy.ndarray
        float64 (K,): cumulative rates, nondecreasing, total ``cum[-1]`` > 0.
    u : float
        A uniform in (0, 1).

    Returns
    -------
    int
        The smallest i with ``u * cum[-1] < cum[i]`` (K - 1 if there is none).
    """
    x = u * cum[-1]
    lo, hi = 0, cum.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo
