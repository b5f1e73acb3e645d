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
    """Mix stacked models, Y = W X, for a sparse mixing matrix W (any n).

    Row i of Y is sum_j W[i, j] X[j]: worker i's new model from its neighbours'.

    Parameters
    ----------
    W : scipy.sparse matrix or array
        (n, n) finite weights; converted to CSR (duplicates summed on a copy) and cast
        to X's dtype.
    X : numpy.ndarray or CUDA device array
        (n, d) float32/float64 models, C-contiguous; not modified.
    out : numpy.ndarray or CUDA device array, optional
        (n, d), X's dtype, must not overlap X; allocated when None.
    backend : {"numba", "cuda", "reference"}
        Kernel backend (default ``"numba"``); a device array needs ``"cuda"``.
    check_finite : bool
        Scan X for NaN/inf, O(nd) (default True; W is always checked).

    Returns
    -------
    numpy.ndarray or CUDA device array
        Y = W X, (n, d) (``out`` when given).

    Raises
    ------
    MatrixError
        If W is of the wrong kind (sparse/dense), not n x n, or not finite.
    ParameterError
        For an unknown backend, invalid X or out, or a device array without
        ``backend="cuda"``.
    BackendUnavailableError
        For ``backend="cuda"`` without a usable CUDA device or simulator.

    See Also
    --------
    dense_mix : the same for a dense W (small n).
    mixlab.mixing_matrix : builds W for a graph and a weight rule.

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004 (the iteration x <- W x); X. Lian, C. Zhang, H. Zhang,
    C.-J. Hsieh, W. Zhang and J. Liu, "Can decentralized algorithms outperform
    centralized algorithms? A case study for decentralized parallel stochastic
    gradient descent", NeurIPS 2017 (D-PSGD, whose averaging step is X <- W X).

    Examples
    --------
    Metropolis-Hastings weights on a ring of 4 workers (1/3 to itself and to each
    neighbour) move every model towards the average, which W preserves:

    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> import mixlab as ml
    >>> W = sp.csr_matrix((np.eye(4) + np.roll(np.eye(4), 1, 1) + np.roll(np.eye(4), -1, 1)) / 3)
    >>> X = np.array([[3.0], [0.0], [0.0], [1.0]])
    >>> Y = ml.sparse_mix(W, X)
    >>> np.round(Y.ravel(), 4).tolist(), float(Y.mean())
    ([1.3333, 1.0, 0.3333, 1.3333], 1.0)
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
    """Mix stacked models, Y = W X, for a dense mixing matrix W (meant for small n).

    Zero weights are skipped by the compiled core; for large sparse graphs use
    :func:`sparse_mix`.

    Parameters
    ----------
    W : array_like
        (n, n) finite weights, not scipy.sparse; cast to X's dtype.
    X : numpy.ndarray or CUDA device array
        (n, d) float32/float64 models, C-contiguous; not modified.
    out : numpy.ndarray or CUDA device array, optional
        (n, d), X's dtype, must not overlap X; allocated when None.
    backend : {"numba", "cuda", "reference"}
        Kernel backend (default ``"numba"``); a device array needs ``"cuda"``.
    check_finite : bool
        Scan X for NaN/inf, O(nd) (default True; W is always checked).

    Returns
    -------
    numpy.ndarray or CUDA device array
        Y = W X, (n, d) (``out`` when given).

    Raises
    ------
    MatrixError
        If W is of the wrong kind (sparse/dense), not n x n, or not finite.
    ParameterError
        For an unknown backend, invalid X or out, or a device array without
        ``backend="cuda"``.
    BackendUnavailableError
        For ``backend="cuda"`` without a usable CUDA device or simulator.

    See Also
    --------
    sparse_mix : the same for a sparse W (any n).

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004 (the iteration x <- W x); X. Lian, C. Zhang, H. Zhang,
    C.-J. Hsieh, W. Zhang and J. Liu, "Can decentralized algorithms outperform
    centralized algorithms? A case study for decentralized parallel stochastic
    gradient descent", NeurIPS 2017 (D-PSGD, whose averaging step is X <- W X).

    Examples
    --------
    With W = J = 11^T / n one mixing step reaches the average (exact consensus):

    >>> import numpy as np
    >>> import mixlab as ml
    >>> X = np.array([[4.0, 0.0], [0.0, 2.0]])
    >>> ml.dense_mix(np.full((2, 2), 0.5), X).tolist()
    [[2.0, 1.0], [2.0, 1.0]]
    """
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
    """Sparse mixing in SciPy: the reference core, and the specification of the others.

    Takes validated arrays (see :func:`sparse_mix`); writes ``out``.

    Parameters
    ----------
    indptr : numpy.ndarray
        int64 (n + 1,): CSR row pointers of W.
    indices : numpy.ndarray
        int64 (nnz,): CSR column indices of W.
    data : numpy.ndarray
        (nnz,) weights of W, in X's dtype.
    X : numpy.ndarray
        (n, d) float32/float64 models, C-contiguous.
    out : numpy.ndarray
        (n, d), X's dtype, not overlapping X: receives W X.
    """
    n = X.shape[0]
    out[...] = sp.csr_matrix((data, indices, indptr), shape=(n, n)) @ X


def dense_mix_reference(W, X, out):
    """Dense mixing in NumPy: the reference core, and the specification of the others.

    Takes validated arrays (see :func:`dense_mix`); writes ``out``.

    Parameters
    ----------
    W : numpy.ndarray
        (n, n) weights, C-contiguous, in X's dtype.
    X : numpy.ndarray
        (n, d) float32/float64 models, C-contiguous.
    out : numpy.ndarray
        (n, d), X's dtype, not overlapping X: receives W X.
    """
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
    """Sparse mixing, compiled core: out = W X for W in CSR form.

    (column block, row) tasks run in parallel, so graphs with far-apart neighbours
    (e.g. exponential) reuse the cached panel X[:, c0:c1]; loops over 0-based slices
    vectorize. Takes validated arrays (see :func:`sparse_mix`); writes ``out``.

    Parameters
    ----------
    indptr : numpy.ndarray
        int64 (n + 1,): CSR row pointers of W.
    indices : numpy.ndarray
        int64 (nnz,): CSR column indices of W.
    data : numpy.ndarray
        (nnz,) weights of W, in X's dtype.
    X : numpy.ndarray
        (n, d) float32/float64 models, C-contiguous.
    out : numpy.ndarray
        (r, d), X's dtype, not overlapping X: receives W X for the r = len(indptr) - 1
        rows of W (r = n for a square W; a block of rows, as an MPI rank holds, reads
        the n rows of X).
    """
    n, d = out.shape
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
    """Dense mixing, compiled core: out[i] = sum_j W[i, j] X[j], skipping zero weights.

    Same task layout as :func:`sparse_mix_numba`. Takes validated arrays (see
    :func:`dense_mix`); writes ``out``.

    Parameters
    ----------
    W : numpy.ndarray
        (n, n) weights, C-contiguous, in X's dtype.
    X : numpy.ndarray
        (n, d) float32/float64 models, C-contiguous.
    out : numpy.ndarray
        (n, d), X's dtype, not overlapping X: receives W X.
    """
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
