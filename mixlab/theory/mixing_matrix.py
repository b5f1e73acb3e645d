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
    """The storage decision: explicit request, else sparse above DENSE_MAX_N."""
    return n > DENSE_MAX_N if sparse is None else bool(sparse)


def as_matrix(W) -> np.ndarray | sp.csr_matrix:
    """Return W as a float64 dense array or CSR matrix, checking it is square and finite."""
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
    return np.asarray(W.sum(axis=1)).ravel()


def col_sums(W) -> np.ndarray:
    return np.asarray(W.sum(axis=0)).ravel()


def asymmetry(W) -> float:
    """max |W - W^T| (0 for a symmetric matrix)."""
    D = W - W.T
    return float(abs(D).max()) if D.shape[0] else 0.0


def min_entry(W) -> float:
    if sp.issparse(W):
        return float(min(W.data.min(initial=0.0), 0.0 if W.nnz < W.shape[0] ** 2 else np.inf))
    return float(W.min())


@dataclass(frozen=True)
class MatrixProperties:
    """Which of the standard properties a mixing matrix has (within ATOL)."""

    row_stochastic: bool
    column_stochastic: bool
    symmetric: bool
    nonnegative: bool

    @property
    def doubly_stochastic(self) -> bool:
        return self.row_stochastic and self.column_stochastic


def properties(W, atol: float = ATOL) -> MatrixProperties:
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
    column-stochastic too, symmetric, nonnegative. Raises :class:`MatrixError`
    naming the first violated condition and the worst deviation.
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
