"""numba.cuda cores of the mixing kernels (grid-stride loops).

Imported only through :func:`mixlab.kernels.averaging.backends.cuda_cores`, after a check
that a GPU or the simulator is present. Defining the kernels compiles nothing,
so this module also imports on a machine without a CUDA driver. Each host
function accepts NumPy arrays (copied to the device and back) or device arrays
(left on the device).
"""

# The type stubs of numba.cuda describe the host API; device code (cuda.grid in a kernel) reads wrongly.
# mypy: disable-error-code="call-arg,var-annotated"

from __future__ import annotations

import numpy as np
from numba import cuda

from mixlab.kernels import config
from mixlab.kernels.averaging.arrays import is_device_array


def _to_device(a):
    return a if is_device_array(a) else cuda.to_device(np.ascontiguousarray(a))


def _finish(dev, host):
    """Copy a device result back into the host array it came from (if any)."""
    if is_device_array(host):
        return host
    dev.copy_to_host(host)
    return host


@cuda.jit
def _group_average_kernel(X, groups, self_weighted, use_stale, stale_mask, stale):
    m, S = groups.shape
    d = X.shape[1]
    scale = 1.0 / (S + 1) if self_weighted else 1.0 / S
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for item in range(start, m * d, stride):
        g = item // d
        c = item - g * d
        acc = 0.0
        for k in range(S):
            i = groups[g, k]
            acc += stale[i, c] if (use_stale and stale_mask[i]) else X[i, c]
        for k in range(S):
            i = groups[g, k]
            if self_weighted:
                X[i, c] = (acc + X[i, c]) * scale
            else:
                X[i, c] = acc * scale


@cuda.jit
def _sparse_mix_kernel(indptr, indices, data, X, out):
    n, d = X.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for item in range(start, n * d, stride):
        i = item // d
        c = item - i * d
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * X[indices[k], c]
        out[i, c] = acc


@cuda.jit
def _dense_mix_kernel(W, X, out):
    n, d = X.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for item in range(start, n * d, stride):
        i = item // d
        c = item - i * d
        acc = 0.0
        for j in range(n):
            acc += W[i, j] * X[j, c]
        out[i, c] = acc


def group_average(X, groups, self_weighted, use_stale, stale_mask, stale):
    dX = _to_device(X)
    blocks, threads = config.cuda_launch(groups.shape[0] * X.shape[1])
    _group_average_kernel[blocks, threads](
        dX, _to_device(groups), self_weighted, use_stale, _to_device(stale_mask), _to_device(stale)
    )
    return _finish(dX, X)


def sparse_mix(indptr, indices, data, X, out):
    dout = _to_device(out)
    blocks, threads = config.cuda_launch(X.shape[0] * X.shape[1])
    _sparse_mix_kernel[blocks, threads](
        _to_device(indptr), _to_device(indices), _to_device(data), _to_device(X), dout
    )
    return _finish(dout, out)


def dense_mix(W, X, out):
    dout = _to_device(out)
    blocks, threads = config.cuda_launch(X.shape[0] * X.shape[1])
    _dense_mix_kernel[blocks, threads](_to_device(W), _to_device(X), dout)
    return _finish(dout, out)
