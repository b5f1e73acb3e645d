"""Mixing Y = W X: sparse (CSR W, any n) and dense (small n).

>>> import numpy as np, scipy.sparse as sp
>>> W = sp.csr_matrix(np.array([[0.5, 0.5], [0.5, 0.5]]))
>>> sparse_mix(W, np.array([[0.0], [2.0]]), backend="reference").tolist()
[[1.0], [1.0]]
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from mixlab.errors import MatrixError, ParameterError
from mixlab.kernels.averaging.arrays import check_models, check_out, is_device_array
from mixlab.kernels.averaging.backends import check_backend, cuda_cores
from mixlab.kernels.config import CPU_COLUMN_BLOCK, NUMBA_JIT, NUMBA_PARALLEL
from mixlab.validate import require_finite


def _check_weights(W, X, *, sparse: bool):
    n = X.shape[0]
    if sparse != sp.issparse(W):
        raise MatrixError(
            f"W must be a {'scipy.sparse' if sparse else 'dense NumPy'} matrix "
            f"for {'sparse' if sparse else 'dense'}_mix, got {type(W).__name__}"
        )
    if W.shape != (n, n):
        raise MatrixError(f"W must be n x n with n = X.shape[0] = {n}, got shape {W.shape}")
    if sparse:
        W = sp.csr_matrix(W)
        if not W.has_canonical_format:  # never reorder the caller's arrays
            W = W.copy()
            W.sum_duplicates()
        values = W.data
    else:
        W = values = np.asarray(W)
    require_finite("W", values)
    return W


def sparse_mix(W, X, out=None, *, backend: str = "numba", check_finite: bool = True):
    """Y = W X for a scipy.sparse W (converted to CSR) and X (n x d); returns Y.

    The weights are cast to X's dtype; ``out`` (n x d, X's dtype) must not overlap X.
    """
    check_backend(backend)
    X = check_models("X", X, check_finite=check_finite)
    W = _check_weights(W, X, sparse=True)
    out = check_out(out, X, X.shape)
    indptr = W.indptr.astype(np.int64)
    indices = W.indices.astype(np.int64)
    data = W.data.astype(X.dtype)
    if backend == "cuda":
        return cuda_cores().sparse_mix(indptr, indices, data, X, out)
    _reject_device(X, backend)
    core = sparse_mix_numba if backend == "numba" else sparse_mix_reference
    core(indptr, indices, data, X, out)
    return out


def dense_mix(W, X, out=None, *, backend: str = "numba", check_finite: bool = True):
    """Y = W X for a dense n x n W (meant for small n); returns Y."""
    check_backend(backend)
    X = check_models("X", X, check_finite=check_finite)
    W = np.ascontiguousarray(_check_weights(W, X, sparse=False), dtype=X.dtype)
    out = check_out(out, X, X.shape)
    if backend == "cuda":
        return cuda_cores().dense_mix(W, X, out)
    _reject_device(X, backend)
    core = dense_mix_numba if backend == "numba" else dense_mix_reference
    core(W, X, out)
    return out


def _reject_device(X, backend):
    if is_device_array(X):
        raise ParameterError(f"a CUDA device array needs backend='cuda', got {backend!r}")


def sparse_mix_reference(indptr, indices, data, X, out):
    """NumPy/SciPy reference (the specification)."""
    n = X.shape[0]
    out[...] = sp.csr_matrix((data, indices, indptr), shape=(n, n)) @ X


def dense_mix_reference(W, X, out):
    """NumPy reference (the specification)."""
    np.matmul(W, X, out=out)


@numba.njit(**NUMBA_JIT)
def _row_block(task, n, d):
    """Task -> (row i, columns c0:c1): column block outermost, so consecutive tasks
    are consecutive rows of one block and reuse the cached panel X[:, c0:c1]."""
    b = task // n
    c0 = b * CPU_COLUMN_BLOCK
    return task - b * n, c0, min(c0 + CPU_COLUMN_BLOCK, d)


@numba.njit(**NUMBA_PARALLEL)
def sparse_mix_numba(indptr, indices, data, X, out):
    """Numba core: (column block, row) tasks in parallel (graphs with far-apart
    neighbours, e.g. exponential, reuse the cached panel); 0-based slices so
    loops vectorize."""
    n, d = X.shape
    blocks = (d + CPU_COLUMN_BLOCK - 1) // CPU_COLUMN_BLOCK
    for task in numba.prange(blocks * n):
        i, c0, c1 = _row_block(task, n, d)
        dst = out[i, c0:c1]
        dst[:] = 0
        for k in range(indptr[i], indptr[i + 1]):
            w = data[k]
            src = X[indices[k], c0:c1]
            for c in range(c1 - c0):
                dst[c] += w * src[c]


@numba.njit(**NUMBA_PARALLEL)
def dense_mix_numba(W, X, out):
    """Numba core: out[i] = sum_j W[i, j] X[j], skipping zero weights; same
    task layout as sparse_mix_numba."""
    n, d = X.shape
    blocks = (d + CPU_COLUMN_BLOCK - 1) // CPU_COLUMN_BLOCK
    for task in numba.prange(blocks * n):
        i, c0, c1 = _row_block(task, n, d)
        dst = out[i, c0:c1]
        dst[:] = 0
        for j in range(n):
            w = W[i, j]
            if w != 0:
                src = X[j, c0:c1]
                for c in range(c1 - c0):
                    dst[c] += w * src[c]
