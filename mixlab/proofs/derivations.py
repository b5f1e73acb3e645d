"""SymPy derivations behind the statements mixlab derives itself. Each function
checks its identities symbolically and returns True, or raises AssertionError
naming the identity that failed.

- :func:`telescoping`: the user-as-source recursion solves to (u/lambda) H_{n-1}.
- :func:`random_group_factor`: E[Gamma'] = (n - S)/(S (n - 1)) Gamma for one
  round of uniformly random groups with the group mean.
- :func:`self_weighted_period`: each self-weighted butterfly phase has
  eigenvalues 1 and 1/(S+1), so the period contracts by exactly 1/(S+1).
- :func:`wagma_consensus`: the bound of mixlab.theory.theorems.WAGMA_CONSENSUS.
- :func:`ring_spectrum`: the Metropolis ring (1/3 to itself and each
  neighbour) has eigenvectors (w^{jk})_j and eigenvalues 1/3 + 2/3 cos(2 pi k/n).
- :func:`second_moment_recursion`: x' = A x + b + xi (xi independent, mean 0,
  covariance Q) has E x' = A m + b and Cov x' = A P A^T + Q, and the expected
  quadratic error of the average splits into bias and variance
  (mixlab.theory.second_moment).
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


def second_moment_recursion() -> bool:
    """Checked with symbolic 2 x 2 matrices and a symbolic Gaussian-free argument:
    expectations are linear, E[xi] = 0 and E[x xi^T] = 0 (independence)."""
    A = sp.Matrix(2, 2, sp.symbols("a0:4"))
    b = sp.Matrix(sp.symbols("b0:2"))
    m = sp.Matrix(sp.symbols("m0:2"))
    P = sp.Matrix(2, 2, sp.symbols("p0:4"))
    P = (P + P.T) / 2
    Q = sp.Matrix(2, 2, sp.symbols("q0:4"))
    Q = (Q + Q.T) / 2
    second = P + m * m.T                                   # E[x x^T]
    # E[x' x'^T] = A E[x x^T] A^T + A m b^T + b m^T A^T + b b^T + Q
    e_next = A * second * A.T + A * m * b.T + b * m.T * A.T + b * b.T + Q
    mean_next = A * m + b
    for i in range(2):
        for j in range(2):
            _zero(e_next[i, j] - mean_next[i] * mean_next[j] - (A * P * A.T + Q)[i, j],
                  f"Cov x' [{i},{j}] = (A P A^T + Q)[{i},{j}]")
    h, xs = sp.symbols("h x_star", positive=True)
    ones = sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2)])
    e_sq = (ones.T * second * ones)[0] - 2 * xs * (ones.T * m)[0] + xs**2     # E[(xbar - x*)^2]
    split = ((ones.T * m)[0] - xs) ** 2 + (ones.T * P * ones)[0]
    _zero(h / 2 * (e_sq - split), "E[(xbar - x*)^2] = (mean - x*)^2 + Var(xbar)")
    return True


def ring_spectrum() -> bool:
    """(W v)_j = (v_{j-1} + v_j + v_{j+1}) / 3 with v_j = exp(i j theta), theta = 2 pi k / n:
    W v = (1/3 + 2/3 cos theta) v, for every j (the ring closes since n theta = 2 pi k)."""
    j, theta = sp.symbols("j theta", real=True)
    v = lambda q: sp.exp(sp.I * q * theta)  # noqa: E731
    lhs = (v(j - 1) + v(j) + v(j + 1)) / 3
    _zero(sp.expand_complex(lhs - (sp.Rational(1, 3) + sp.Rational(2, 3) * sp.cos(theta)) * v(j)),
          "Metropolis ring eigenpair")
    return True


def wagma_consensus() -> bool:
    """E Gamma_t <= B for WAGMA-SGD (CTA, synchronous, no momentum), L-smooth f_i,
    uniform heterogeneity zeta2 and gradient variance sigma2.

    With Y = (I - J) X and (I - J) W_t = (W_t - J)(I - J), a group step gives
    Y' = (W_t - J) Y - eta (I - J)(grad F(X) - grad F(Xbar)) - eta (I - J) grad F(Xbar) - eta (I - J) Xi,
    so with ||W_t - J|| <= 1, L-smoothness (row-wise), ||(I - J) grad F(Xbar)||^2 <= n zeta2,
    zero-mean independent noise (E||(I - J) Xi||^2 <= n sigma2) and
    (a + b)^2 <= (1 + eps) a^2 + (1 + 1/eps) b^2 (checked below):
        e' <= (1 + eps)(1 + eta L)^2 e + c,     c = (1 + 1/eps) eta^2 n zeta2 + eta^2 n sigma2;
    a global step (W = J) gives e' <= (1 + eps)(eta L)^2 e + c. If e <= B at a
    global step, after the next global step and tau - 1 group steps
        e <= q^(tau-1) ((1 + eps) eta^2 L^2 B + c) + c (q^(tau-1) - 1)/(q - 1),
    and B is the fixed point of that map (checked below); e_0 = 0 starts below B,
    so by induction every e_t <= B. eps = 1/tau."""
    a, b, eps = sp.symbols("a b epsilon", positive=True)
    _zero(((1 + eps) * a**2 + (1 + 1 / eps) * b**2 - (a + b) ** 2)
          - (sp.sqrt(eps) * a - b / sp.sqrt(eps)) ** 2, "(a+b)^2 <= (1+eps)a^2 + (1+1/eps)b^2")
    q, c, r, B, k = sp.symbols("q c r B k", positive=True)                # r = (1+eps)(eta L)^2
    # growth over k group steps from e: q^k e + c (q^k - 1)/(q - 1)
    e = sp.Symbol("e", positive=True)
    _zero(q * (q**k * e + c * (q**k - 1) / (q - 1)) + c - (q ** (k + 1) * e + c * (q ** (k + 1) - 1) / (q - 1)),
          "k-step growth formula")
    after_period = q ** (k) * (r * B + c) + c * (q**k - 1) / (q - 1)       # k = tau - 1 group steps
    fixed = c * (q**k + (q**k - 1) / (q - 1)) / (1 - q**k * r)
    _zero(after_period.subs(B, fixed) - fixed, "B is the fixed point of the period map")
    from mixlab.theory.theorems import WAGMA_CONSENSUS_BOUND, eta, L, n, sigma2, tau, zeta2

    tq = (1 + 1 / tau) * (1 + eta * L) ** 2
    tc = (1 + tau) * eta**2 * n * zeta2 + eta**2 * n * sigma2
    tr = (1 + 1 / tau) * (eta * L) ** 2
    _zero(WAGMA_CONSENSUS_BOUND - fixed.subs({q: tq, c: tc, r: tr, k: tau - 1}),
          "the theorem's bound is this fixed point with eps = 1/tau")
    return True
