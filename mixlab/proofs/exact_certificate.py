"""Exact certificates of consensus contraction: ||W - J||_2 <= rho_hat, proved in
rational arithmetic, without floating point.

For rational W (n x n) and rational rho_hat >= 0, ||W - J||_2 <= rho_hat iff
M = rho_hat^2 I - (W - J)^T (W - J) is positive semidefinite. The certificate
is an exact factorization M = L D L^T with L unit lower triangular and D >= 0
diagonal (symmetric Gaussian elimination over the rationals; a zero pivot is
allowed only when the rest of its column is zero, as PSD requires). Checking
it needs only rational multiplication: L D L^T is recomputed and compared with
M entry by entry.

>>> from fractions import Fraction as F
>>> W = [[F(1, 2), F(1, 2), 0], [0, F(1, 2), F(1, 2)], [F(1, 2), 0, F(1, 2)]]
>>> cert = certify_contraction(W, F(1, 2))      # ||W - J||_2 = 1/2 exactly
>>> cert.verify()
True
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from mixlab.errors import CertificateError, ParameterError


def to_fraction(x) -> Fraction:
    """Exact rational value of an int, Fraction, SymPy Rational or decimal string."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, sp.Rational):
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, float):
        raise ParameterError(
            f"exact certificates need rational entries, got the float {x!r}; "
            "pass Fractions (e.g. Fraction(1, 3)) or strings like '0.25'"
        )
    try:
        return Fraction(x)
    except (TypeError, ValueError):
        raise ParameterError(f"cannot read {x!r} as an exact rational") from None


def rational_upper_bound(value: float, slack: float = 1e-9, max_denominator: int = 10**12) -> Fraction:
    """A rational rho_hat with value + slack <= rho_hat <= value + 2 slack (to certify a
    numerically computed rho)."""
    q = Fraction(value + 1.5 * slack).limit_denominator(max_denominator)
    return q if q >= Fraction(value + slack) else Fraction(value + 2 * slack)


@dataclass(frozen=True)
class ExactCertificate:
    """M = rho_hat^2 I - (W - J)^T (W - J) = L D L^T with D >= 0, all rational."""

    W: tuple
    rho_hat: Fraction
    L: tuple
    D: tuple

    def verify(self) -> bool:
        """Recompute L D L^T exactly and compare with M; check D >= 0."""
        M = _gram_gap(self.W, self.rho_hat)
        n = len(M)
        if any(d < 0 for d in self.D):
            return False
        for i in range(n):
            for j in range(n):
                s = sum(self.L[i][k] * self.D[k] * self.L[j][k] for k in range(min(i, j) + 1))
                if s != M[i][j]:
                    return False
        return True


def _gram_gap(W, rho_hat: Fraction) -> list[list[Fraction]]:
    n = len(W)
    A = [[W[i][j] - Fraction(1, n) for j in range(n)] for i in range(n)]  # W - J
    return [
        [(rho_hat * rho_hat if i == j else 0) - sum(A[k][i] * A[k][j] for k in range(n)) for j in range(n)]
        for i in range(n)
    ]


def certify_contraction(W, rho_hat) -> ExactCertificate:
    """Prove ||W - J||_2 <= rho_hat exactly, or raise CertificateError at the
    elimination step that shows the bound is false."""
    rows = [[to_fraction(x) for x in row] for row in W]
    n = len(rows)
    if n < 2 or any(len(r) != n for r in rows):
        raise ParameterError(
            f"W must be a square matrix with n >= 2, got {n} rows of lengths {sorted({len(r) for r in rows})}"
        )
    rho = to_fraction(rho_hat)
    if rho < 0:
        raise ParameterError(f"rho_hat must be >= 0, got {rho}")
    M = _gram_gap(rows, rho)
    L = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    D = [Fraction(0)] * n
    S = [row[:] for row in M]  # Schur complement, updated in place
    for k in range(n):
        pivot = S[k][k]
        if pivot < 0:
            raise CertificateError(
                f"||W - J||_2 <= {rho} is false: elimination step {k} has pivot {float(pivot):.3g} < 0"
            )
        if pivot == 0:
            if any(S[i][k] != 0 for i in range(k + 1, n)):
                raise CertificateError(
                    f"||W - J||_2 <= {rho} is false: zero pivot at step {k} with a nonzero column below it"
                )
            continue
        D[k] = pivot
        for i in range(k + 1, n):
            L[i][k] = S[i][k] / pivot
        for i in range(k + 1, n):  # S <- S - L[:, k] D_k L[:, k]^T below row k
            for j in range(k + 1, i + 1):
                S[i][j] -= L[i][k] * S[j][k]
                S[j][i] = S[i][j]
    return ExactCertificate(tuple(map(tuple, rows)), rho, tuple(map(tuple, L)), tuple(D))
