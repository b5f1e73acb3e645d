"""The one place for compiled-kernel settings.

Numba CPU kernels are compiled with ``cache=True`` (in the directory and with the
process-safe saves of :mod:`mixlab.kernels.numba_cache`) and without fastmath
(their outputs are held against exact identities and bounds). CUDA kernels use
grid-stride loops; the launch size comes from :data:`CUDA_THREADS_PER_BLOCK`
and :data:`CUDA_MAX_BLOCKS` (environment: ``MIXLAB_CUDA_THREADS``,
``MIXLAB_CUDA_MAX_BLOCKS``), read at every launch so tests can shrink them.
"""

from __future__ import annotations

import os
from typing import Any

from mixlab.kernels import numba_cache

numba_cache.configure()  # before any kernel is decorated: see mixlab.kernels.numba_cache

NUMBA_JIT: dict[str, Any] = {"cache": True, "nogil": True}
#: Only for stochastic gradients (a dot product and an axpy per sample): LLVM may
#: reorder the reduction and fuse multiply-adds to vectorize them (the engine's
#: speed in bench/engine.py depends on it). Rounding changes at the last-bit
#: level (the engines still agree to 1e-10) and stays deterministic for a
#: compiled function; no NaN/inf assumptions are made. Averaging and mixing
#: kernels, whose outputs are held against exact identities, never use it.
NUMBA_REDUCTION: dict[str, Any] = {**NUMBA_JIT, "fastmath": {"reassoc", "contract"}}
NUMBA_PARALLEL: dict[str, Any] = {**NUMBA_JIT, "parallel": True}
#: Engine driver loops: they report progress through ``numba.objmode``, which needs the GIL.
NUMBA_DRIVER: dict[str, Any] = {"cache": True}

#: Columns per task of the CPU kernels (a 16 KiB float64 row block: L1/L2-resident).
CPU_COLUMN_BLOCK = 2048

CUDA_THREADS_PER_BLOCK = int(os.environ.get("MIXLAB_CUDA_THREADS", "256"))
CUDA_MAX_BLOCKS = int(os.environ.get("MIXLAB_CUDA_MAX_BLOCKS", "4096"))


def cuda_launch(work_items: int) -> tuple[int, int]:
    """Launch configuration of a grid-stride CUDA loop over ``work_items`` items.

    Parameters
    ----------
    work_items : int
        Number of items the loop visits (>= 0).

    Returns
    -------
    tuple of (int, int)
        ``(blocks, threads)``: threads = :data:`CUDA_THREADS_PER_BLOCK`, blocks =
        ceil(work_items / threads) clipped to [1, :data:`CUDA_MAX_BLOCKS`].

    Examples
    --------
    >>> blocks, threads = cuda_launch(1000)
    >>> blocks * threads >= 1000 or blocks == CUDA_MAX_BLOCKS
    True
    """
    threads = CUDA_THREADS_PER_BLOCK
    blocks = max(1, min(CUDA_MAX_BLOCKS, -(-work_items // threads)))
    return blocks, threads
