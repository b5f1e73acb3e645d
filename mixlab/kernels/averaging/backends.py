"""Backend names and the lazy, guarded access to the CUDA cores."""

from __future__ import annotations

import os

from mixlab.errors import BackendUnavailableError
from mixlab.validate import require_choice
from mixlab.vocabulary import BACKENDS


def check_backend(backend: str) -> str:
    """Validate a backend name.

    Parameters
    ----------
    backend : str
        One of ``"numba"``, ``"cuda"``, ``"reference"``.

    Returns
    -------
    str
        ``backend``.

    Raises
    ------
    ParameterError
        For any other name (the message lists the valid ones).
    """
    return require_choice("backend", backend, BACKENDS)


def cuda_available() -> bool:
    """Whether numba.cuda can run kernels here (a working GPU, or the CUDA simulator).

    Returns
    -------
    bool
        False when numba.cuda cannot be imported or its driver fails.
    """
    try:
        from numba import cuda
    except ImportError:
        return False
    try:
        return bool(cuda.is_available())
    except Exception:  # driver present but broken: the backend is unavailable
        return False


def cuda_cores():
    """Import the CUDA cores module, checking first that CUDA is available.

    Returns
    -------
    module
        :mod:`mixlab.kernels.averaging.cuda_cores`.

    Raises
    ------
    BackendUnavailableError
        When :func:`cuda_available` is False; the message says how to get a backend.
    """
    if not cuda_available():
        sim = os.environ.get("NUMBA_ENABLE_CUDASIM", "0")
        raise BackendUnavailableError(
            "backend 'cuda' needs a CUDA GPU with a working driver (numba.cuda.is_available() "
            f"is False; NUMBA_ENABLE_CUDASIM={sim}); use backend='numba', or set "
            "NUMBA_ENABLE_CUDASIM=1 before importing numba to run the CUDA simulator"
        )
    from mixlab.kernels.averaging import cuda_cores

    return cuda_cores
