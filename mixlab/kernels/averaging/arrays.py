"""Validation of the arrays the kernels work on."""

from __future__ import annotations

import numpy as np

from mixlab.errors import ParameterError
from mixlab.validate import require_finite

FLOAT_DTYPES = (np.float32, np.float64)


def is_device_array(a) -> bool:
    """True for a CUDA device array (it is passed to the cuda backend as is): an
    object with ``__cuda_array_interface__``, or a numba device array (the
    simulator's has only ``copy_to_host``)."""
    return hasattr(a, "__cuda_array_interface__") or hasattr(a, "copy_to_host")


def check_models(name: str, X, *, writeable: bool = False, check_finite: bool = True):
    """X must be a 2-D C-contiguous float32/float64 array (n workers x d)."""
    if is_device_array(X):
        dtype, shape = np.dtype(X.dtype), X.shape
    else:
        if not isinstance(X, np.ndarray):
            raise ParameterError(f"{name} must be a NumPy array, got {type(X).__name__}")
        dtype, shape = X.dtype, X.shape
    if dtype not in FLOAT_DTYPES:
        raise ParameterError(f"{name} must be float32 or float64, got dtype {dtype}")
    if len(shape) != 2:
        raise ParameterError(f"{name} must be 2-D (n workers x d), got shape {shape}")
    if not is_device_array(X):
        if not X.flags.c_contiguous:
            raise ParameterError(f"{name} must be C-contiguous")
        if writeable and not X.flags.writeable:
            raise ParameterError(f"{name} must be writeable (it is updated in place)")
        if check_finite:
            require_finite(name, X)
    return X


def check_out(out, X, shape: tuple[int, int]):
    """An output array: given, it must match ``shape`` and X's dtype and not alias X."""
    if out is None:
        return np.empty(shape, dtype=X.dtype)
    check_models("out", out, writeable=True, check_finite=False)
    if out.shape != shape or np.dtype(out.dtype) != np.dtype(X.dtype):
        raise ParameterError(f"out must have shape {shape} and dtype {X.dtype}, got {out.shape} {out.dtype}")
    if not is_device_array(out) and np.shares_memory(out, X):
        raise ParameterError("out must not overlap X (mixing is not in place)")
    return out
