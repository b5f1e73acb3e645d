"""Mixing matrices: storage convention and the checks every consumer relies on.

W is n x n, row i mixes into worker i (Y = W X). Small matrices are dense NumPy
arrays; above :data:`DENSE_MAX_N` workers (or on request) they are
``scipy.sparse`` CSR matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mixlab.errors import MatrixError
from mixlab.validate import require_finite

#: Largest n for which mixing matrices are returned dense by default.
DENSE_MAX_N = 2048

#: Absolute tolerance of the stochasticity / symmetry checks.
ATOL = 1e-10


def want_sparse(n: int, sparse: bool | None) -> bool:
    """The storage decision: the explicit request, else sparse above :data:`DENSE_MAX_N`.

    Parameters
    ----------
    n : int
        Number of workers.
    sparse : bool or None
        True / False forces CSR / dense storage; None decides by ``n``.

    Returns
    -------
    bool
        Whether an n x n mixing matrix should be stored as ``scipy.sparse`` CSR.

    Examples
    --------
    >>> from mixlab.theory.mixing_matrix import want_sparse
    >>> want_sparse(16, None), want_sparse(4096, None), want_sparse(16, True)
    (False, True, True)

    References
    ----------
    docs/design.md, sections Notation and Communication patterns (storage and row convention).
    """
    return n > DENSE_MAX_N if sparse is None else bool(sparse)


def as_matrix(W) -> np.ndarray | sp.csr_matrix:
    """Return W as a float64 dense array or CSR matrix, checking it is square and finite.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        Candidate (n, n) mixing matrix.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
        ``W`` in float64, CSR if it was sparse, dense otherwise.

    Raises
    ------
    MatrixError
        If W is not square or has n < 2.
    ParameterError
        If an entry is not finite.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from mixlab.theory.mixing_matrix import as_matrix
    >>> as_matrix([[1, 0], [0, 1]]).dtype, as_matrix(sp.eye(3)).format
    (dtype('float64'), 'csr')

    References
    ----------
    docs/design.md, sections Notation and Communication patterns (storage and row convention).
    """
    if sp.issparse(W):
        W = sp.csr_matrix(W, dtype=np.float64)
        values = W.data
    else:
        W = np.asarray(W, dtype=np.float64)
        values = W
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise MatrixError(f"mixing matrix must be square, got shape {W.shape}")
    if W.shape[0] < 2:
        raise MatrixError(f"mixing matrix needs n >= 2 workers, got n = {W.shape[0]}")
    require_finite("mixing matrix", values)
    return W


def row_sums(W) -> np.ndarray:
    """Row sums of W (all 1 for a row-stochastic matrix).

    Parameters
    ----------
    W : numpy.ndarray or scipy.sparse matrix
        (n, n) matrix.

    Returns
    -------
    numpy.ndarray
        (n,) array, entry i = sum_j W[i, j].

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.theory.mixing_matrix import row_sums
    >>> row_sums(np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]])).tolist()
    [1.0, 1.0, 1.0]

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    """
    return np.asarray(W.sum(axis=1)).ravel()


def col_sums(W) -> np.ndarray:
    """Column sums of W (all 1 for a column-stochastic matrix).

    Parameters
    ----------
    W : numpy.ndarray or scipy.sparse matrix
        (n, n) matrix.

    Returns
    -------
    numpy.ndarray
        (n,) array, entry j = sum_i W[i, j].

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.theory.mixing_matrix import col_sums
    >>> col_sums(np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]])).tolist()
    [0.75, 1.5, 0.75]

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    """
    return np.asarray(W.sum(axis=0)).ravel()


def asymmetry(W) -> float:
    """Largest entry of |W - W^T| (0 for a symmetric matrix).

    Parameters
    ----------
    W : numpy.ndarray or scipy.sparse matrix
        (n, n) matrix.

    Returns
    -------
    float
        max_ij |W_ij - W_ji|.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.theory.mixing_matrix import asymmetry
    >>> asymmetry(np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]]))
    0.25

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    """
    D = W - W.T
    return float(abs(D).max()) if D.shape[0] else 0.0


def min_entry(W) -> float:
    """Smallest entry of W, counting the implicit zeros of a sparse matrix.

    Parameters
    ----------
    W : numpy.ndarray or scipy.sparse matrix
        (n, n) matrix.

    Returns
    -------
    float
        min_ij W_ij (negative iff some weight is negative).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.theory.mixing_matrix import min_entry
    >>> min_entry(np.array([[1.5, -0.5], [-0.5, 1.5]]))
    -0.5

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    """
    if sp.issparse(W):
        return float(min(W.data.min(initial=0.0), 0.0 if W.nnz < W.shape[0] ** 2 else np.inf))
    return float(W.min())


@dataclass(frozen=True)
class MatrixProperties:
    """Which of the standard properties a mixing matrix has (within :data:`ATOL`).

    Parameters
    ----------
    row_stochastic : bool
        Every row sums to 1 (W 1 = 1).
    column_stochastic : bool
        Every column sums to 1 (1^T W = 1^T).
    symmetric : bool
        W = W^T.
    nonnegative : bool
        No negative entry.
    """

    row_stochastic: bool
    column_stochastic: bool
    symmetric: bool
    nonnegative: bool

    @property
    def doubly_stochastic(self) -> bool:
        """Whether W is both row- and column-stochastic (then W J = J W = J).

        Returns
        -------
        bool
            ``row_stochastic and column_stochastic``.
        """
        return self.row_stochastic and self.column_stochastic


def properties(W, atol: float = ATOL) -> MatrixProperties:
    """Check which standard properties W has, without raising.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        (n, n) matrix, n >= 2, finite.
    atol : float, default ATOL
        Absolute tolerance of every check.

    Returns
    -------
    MatrixProperties
        Row/column stochasticity, symmetry and nonnegativity of W.

    Raises
    ------
    MatrixError
        If W is not square or has n < 2 (see :func:`as_matrix`).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.theory.mixing_matrix import properties
    >>> p = properties(np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]]))
    >>> p.row_stochastic, p.doubly_stochastic, p.symmetric
    (True, False, False)

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    """
    W = as_matrix(W)
    return MatrixProperties(
        row_stochastic=bool(np.abs(row_sums(W) - 1).max() <= atol),
        column_stochastic=bool(np.abs(col_sums(W) - 1).max() <= atol),
        symmetric=asymmetry(W) <= atol,
        nonnegative=min_entry(W) >= -atol,
    )


def check_mixing_matrix(
    W,
    *,
    doubly_stochastic: bool = False,
    symmetric: bool = False,
    nonnegative: bool = True,
    atol: float = ATOL,
):
    """Validate W and return it (dense float64 or CSR).

    Always required: square, n >= 2, finite, row-stochastic. On request:
    column-stochastic too, symmetric, nonnegative.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        Candidate (n, n) mixing matrix (row i mixes into worker i).
    doubly_stochastic : bool, default False
        Also require every column to sum to 1.
    symmetric : bool, default False
        Also require W = W^T.
    nonnegative : bool, default True
        Require every entry >= -atol.
    atol : float, default ATOL
        Absolute tolerance of every check.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
        ``W`` as float64 (see :func:`as_matrix`).

    Raises
    ------
    MatrixError
        Naming the first violated condition and the worst deviation.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.errors import MatrixError
    >>> from mixlab.theory.mixing_matrix import check_mixing_matrix
    >>> W = np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]])
    >>> check_mixing_matrix(W).shape
    (3, 3)
    >>> try:
    ...     check_mixing_matrix(W, doubly_stochastic=True)
    ... except MatrixError as exc:
    ...     print(exc)
    mixing matrix must be doubly stochastic; column 1 sums to 1.5 (worst column deviation 0.5 > 1e-10)

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    docs/design.md, sections Notation and Communication patterns (storage and row convention).
    """
    W = as_matrix(W)
    dev = row_sums(W) - 1
    i = int(np.abs(dev).argmax())
    if abs(dev[i]) > atol:
        raise MatrixError(
            f"mixing matrix must be row-stochastic; row {i} sums to {float(1 + dev[i]):.12g} "
            f"(worst row deviation {abs(dev[i]):.3g} > {atol:g})"
        )
    if doubly_stochastic:
        dev = col_sums(W) - 1
        j = int(np.abs(dev).argmax())
        if abs(dev[j]) > atol:
            raise MatrixError(
                f"mixing matrix must be doubly stochastic; column {j} sums to {float(1 + dev[j]):.12g} "
                f"(worst column deviation {abs(dev[j]):.3g} > {atol:g})"
            )
    if symmetric and (a := asymmetry(W)) > atol:
        raise MatrixError(f"mixing matrix must be symmetric; max |W - W^T| = {a:.3g} > {atol:g}")
    if nonnegative and (m := min_entry(W)) < -atol:
        raise MatrixError(f"mixing matrix must have nonnegative weights; min entry is {m!r}")
    return W
