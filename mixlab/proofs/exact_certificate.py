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
    """Return the exact rational value of an int, Fraction, SymPy Rational or decimal string.

    Parameters
    ----------
    x : int, fractions.Fraction, sympy.Rational or str
        The value; a string is anything ``Fraction`` parses (``"0.25"``, ``"1/3"``).
        Floats are refused: their binary value is rarely the rational meant.

    Returns
    -------
    fractions.Fraction
        The exact value.

    Raises
    ------
    ParameterError
        If ``x`` is a float or cannot be read as a rational.

    Examples
    --------
    >>> to_fraction("0.25"), to_fraction(sp.Rational(1, 3))
    (Fraction(1, 4), Fraction(1, 3))
    """
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
    """Return a rational rho_hat with value + slack <= rho_hat <= value + 2 slack.

    Used to certify a numerically computed rho: the slack absorbs its rounding
    error, and a small denominator keeps the exact arithmetic cheap.

    Parameters
    ----------
    value : float
        The numerical value to bound from above.
    slack : float, default 1e-9
        Smallest margin above ``value``.
    max_denominator : int, default 10**12
        Largest denominator tried before falling back to the exact binary value of
        ``value + 2 slack``.

    Returns
    -------
    fractions.Fraction
        The bound rho_hat.

    Examples
    --------
    >>> rational_upper_bound(0.5, slack=1e-3, max_denominator=1000)
    Fraction(167, 333)
    """
    q = Fraction(value + 1.5 * slack).limit_denominator(max_denominator)
    return q if q >= Fraction(value + slack) else Fraction(value + 2 * slack)


@dataclass(frozen=True)
class ExactCertificate:
    """Exact proof of ||W - J||_2 <= rho_hat: M = rho_hat^2 I - (W - J)^T (W - J) = L D L^T, D >= 0.

    Built by :func:`certify_contraction`; all entries are ``Fraction``.

    Parameters
    ----------
    W : tuple of tuple of Fraction
        The n x n matrix, row by row.
    rho_hat : fractions.Fraction
        The certified bound on ||W - J||_2.
    L : tuple of tuple of Fraction
        Unit lower triangular factor, n x n, row by row.
    D : tuple of Fraction
        The n diagonal entries of D, each >= 0.
    """

    W: tuple
    rho_hat: Fraction
    L: tuple
    D: tuple

    def verify(self) -> bool:
        """Recompute L D L^T exactly and compare it with M entry by entry; check D >= 0.

        Returns
        -------
        bool
            True if the certificate proves ||W - J||_2 <= rho_hat.
        """
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
    """Prove ||W - J||_2 <= rho_hat exactly, or raise at the elimination step that refutes it.

    Runs symmetric Gaussian elimination over the rationals on
    M = rho_hat^2 I - (W - J)^T (W - J) (J = 11^T / n).

    Parameters
    ----------
    W : sequence of sequences
        The n x n matrix (n >= 2), row by row; entries as accepted by
        :func:`to_fraction` (no floats).
    rho_hat : int, fractions.Fraction, sympy.Rational or str
        The claimed bound, >= 0.

    Returns
    -------
    ExactCertificate
        The factorization M = L D L^T; ``verify()`` re-checks it.

    Raises
    ------
    ParameterError
        If W is not square with n >= 2, an entry is not an exact rational, or
        rho_hat < 0.
    CertificateError
        If the bound is false (a negative pivot, or a zero pivot with a nonzero
        column below it).

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> W = [[F(1, 2), F(1, 2), 0], [0, F(1, 2), F(1, 2)], [F(1, 2), 0, F(1, 2)]]
    >>> certify_contraction(W, "1/2").verify()
    True
    >>> certify_contraction(W, "0.49")
    Traceback (most recent call last):
    ...
    mixlab.errors.CertificateError: ||W - J||_2 <= 49/100 is false: elimination step 1 has pivot -0.0211 < 0
    """
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
