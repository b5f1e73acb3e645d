"""Validation of the arrays the kernels work on."""

from __future__ import annotations

import numpy as np

from mixlab.errors import ParameterError
from mixlab.validate import require_finite

FLOAT_DTYPES = (np.float32, np.float64)


def is_device_array(a) -> bool:
    """Whether ``a`` is a CUDA device array (passed to the cuda backend as is).

    Parameters
    ----------
    a : object
        Any object.

    Returns
    -------
    bool
        True for an object with ``__cuda_array_interface__``, or a numba device array
        (the CUDA simulator's has only ``copy_to_host``).
    """
    return hasattr(a, "__cuda_array_interface__") or hasattr(a, "copy_to_host")


def check_models(name: str, X, *, writeable: bool = False, check_finite: bool = True):
    """Validate stacked models: a 2-D C-contiguous float32/float64 array (n workers x d).

    A CUDA device array is checked for dtype and shape only.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    X : numpy.ndarray or CUDA device array
        The models, (n, d).
    writeable : bool
        Also require a writeable array (it is updated in place); default False.
    check_finite : bool
        Also scan for NaN/inf (O(nd)); default True.

    Returns
    -------
    numpy.ndarray or CUDA device array
        ``X`` itself.

    Raises
    ------
    ParameterError
        Naming the violated condition.
    """
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
    """Validate, or allocate, the output array of a mixing kernel.

    Parameters
    ----------
    out : numpy.ndarray, CUDA device array or None
        The caller's output array; None allocates one.
    X : numpy.ndarray or CUDA device array
        The (validated) input models.
    shape : tuple of (int, int)
        The required shape of ``out``.

    Returns
    -------
    numpy.ndarray or CUDA device array
        ``out``, or a new uninitialized array of ``shape`` and X's dtype.

    Raises
    ------
    ParameterError
        If ``out`` is not a writeable C-contiguous array of ``shape`` and X's dtype,
        or (host arrays) shares memory with X.
    """
    if out is None:
        return np.empty(shape, dtype=X.dtype)
    check_models("out", out, writeable=True, check_finite=False)
    if out.shape != shape or np.dtype(out.dtype) != np.dtype(X.dtype):
        raise ParameterError(f"out must have shape {shape} and dtype {X.dtype}, got {out.shape} {out.dtype}")
    if not is_device_array(out) and np.shares_memory(out, X):
        raise ParameterError("out must not overlap X (mixing is not in place)")
    return out
