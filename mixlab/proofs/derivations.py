"""SymPy derivations behind the statements mixlab derives itself. Each function
checks its identities symbolically and returns True, or raises AssertionError
naming the identity that failed.

- :func:`telescoping`: the user-as-source recursion solves to (u/lambda) H_{n-1}.
- :func:`random_group_factor`: E[Gamma'] = (n - S)/(S (n - 1)) Gamma for one
  round of uniformly random groups with the group mean.
- :func:`self_weighted_period`: each self-weighted butterfly phase has
  eigenvalues 1 and 1/(S+1), so the period contracts by exactly 1/(S+1).
"""

from __future__ import annotations

import sympy as sp


def _zero(expr, what: str) -> None:
    if sp.simplify(expr) != 0:
        raise AssertionError(f"identity failed: {what}: residual {sp.simplify(expr)}")


def telescoping() -> bool:
    """With m = n - 1 receivers and a_k = v_k lambda / u, the recursion (all users
    push at lambda/m per pair)
        a_k k (1 + m - k) = m + (m - k) k a_{k+1},  a_m = 1
    is solved by a_k = m (H_m - H_{k-1}) / (m - k + 1), so a_1 = H_m = H_{n-1}."""
    m, k, D = sp.symbols("m k D", positive=True)          # D = H_m - H_k
    a_k = m * (D + 1 / k) / (m - k + 1)                    # H_m - H_{k-1} = D + 1/k
    a_next = m * D / (m - k)
    _zero(a_k * k * (1 + m - k) - m - (m - k) * k * a_next, "recursion step")
    _zero((m * (1 / m) / 1) - 1, "boundary a_m = m (H_m - H_{m-1}) = 1")
    H = sp.Symbol("H_m", positive=True)
    _zero(m * (H - 0) / m - H, "a_1 = H_m (H_0 = 0)")
    # and the recursion itself follows from Yates' formula with |S| = k receivers:
    lam, u = sp.symbols("lambda u", positive=True)
    v_k, v_next = u / lam * a_k, u / lam * a_next
    src, inflow = k * lam / m, (m - k) * k * lam / m
    _zero(v_k - (u + inflow * v_next) / (src + inflow), "Yates' recursion, user-as-source")
    return True


def random_group_factor() -> bool:
    """E[P] = a I + (1 - a) J for the group-mean projection P of a uniform random
    partition, a = (n - S)/(S (n - 1)); P^T P = P and J P = J then give
    E||(P - J) Y||_F^2 = a ||(I - J) Y||_F^2."""
    n, S = sp.symbols("n S", positive=True)
    a = (n - S) / (S * (n - 1))
    same_group = (S - 1) / (n - 1)                          # P(j in i's group), j != i
    _zero(1 / S - (a + (1 - a) / n), "E[P_ii] = 1/S")
    _zero(same_group / S - (1 - a) / n, "E[P_ij] = P(same group)/S")
    return True


def self_weighted_period() -> bool:
    """W = (S P + I)/(S + 1) with P a projection: W v = v on range(P) and
    W v = v/(S+1) on null(P). The phases' projections act on different base-S
    digits and commute, so the period product has eigenvalue 1 only on constant
    vectors and at most 1/(S+1) elsewhere, attained by vectors varying in one digit."""
    S, v = sp.symbols("S v", positive=True)
    _zero((S * v + v) / (S + 1) - v, "W v = v when P v = v")
    _zero((S * 0 + v) / (S + 1) - v / (S + 1), "W v = v/(S+1) when P v = 0")
    return True
