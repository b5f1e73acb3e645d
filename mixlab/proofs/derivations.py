"""SymPy derivations behind the statements mixlab derives itself. Each function
checks its identities symbolically and returns True, or raises AssertionError
naming the identity that failed.

:data:`DERIVATIONS` labels each one honestly: ``complete`` when every step of the
chain is a checked identity (given the cited facts it starts from), or
``bookkeeping`` when SymPy checks the constants and the algebra while some steps
(standard inequalities, induction, a general-n matrix argument) are argued in
the docstring only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

import sympy as sp


def _zero(expr, what: str) -> None:
    if sp.simplify(expr) != 0:
        raise AssertionError(f"identity failed: {what}: residual {sp.simplify(expr)}")


def telescoping() -> bool:
    """Check that the user-as-source recursion on the complete graph solves to a_1 = H_{n-1}.

    With m = n - 1 receivers and a_k = v_k lambda / u, the recursion (all users
    push at lambda/m per pair)
        a_k k (1 + m - k) = m + (m - k) k a_{k+1},  a_m = 1
    is solved by a_k = m (H_m - H_{k-1}) / (m - k + 1), so a_1 = H_m = H_{n-1}; the
    recursion itself is Yates' subset recursion with |S| = k receivers.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    m, k, D = sp.symbols("m k D", positive=True)  # D = H_m - H_k
    a_k = m * (D + 1 / k) / (m - k + 1)  # H_m - H_{k-1} = D + 1/k
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


def owner_only() -> bool:
    """Check the owner-only staleness E[S_i^j] = u (n-1)/lambda and its threshold lambda = u (n-1)/s*.

    Owner-only gossip (only user i spreads its model, lambda/(n-1) to each other user):
    receiver j last heard from i an Exp(lambda/(n-1)) time A ago (stationary Poisson pushes),
    and its staleness counts i's versions since then, u E[A] in the stationary version
    process: E[S_i^j] = u (n-1)/lambda, so staleness s* needs lambda = u (n-1)/s*.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    u, r, a, lam, n, target = sp.symbols("u r a lambda n s_star", positive=True)
    _zero(sp.integrate(u * a * r * sp.exp(-r * a), (a, 0, sp.oo)) - u / r, "u E[A] = u/r for A ~ Exp(r)")
    _zero((u / r).subs(r, lam / (n - 1)) - u * (n - 1) / lam, "r = lambda/(n-1)")
    _zero((u * (n - 1) / lam).subs(lam, u * (n - 1) / target) - target, "lambda = u (n-1)/s* gives s*")
    return True


def random_group_factor() -> bool:
    """Check E[P] = a I + (1 - a) J, a = (n - S)/(S (n - 1)), for uniform random groups.

    P is the group-mean projection of a uniform random partition into groups of
    size S; P^T P = P and J P = J then give E||(P - J) Y||_F^2 = a ||(I - J) Y||_F^2.
    SymPy checks E[P_ii] and E[P_ij]; the projection algebra is argued.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    n, S = sp.symbols("n S", positive=True)
    a = (n - S) / (S * (n - 1))
    same_group = (S - 1) / (n - 1)  # P(j in i's group), j != i
    _zero(1 / S - (a + (1 - a) / n), "E[P_ii] = 1/S")
    _zero(same_group / S - (1 - a) / n, "E[P_ij] = P(same group)/S")
    return True


def _butterfly_phase(n: int, S: int, phase: int) -> sp.Matrix:
    """Exact self-weighted phase matrix: member i gets (sum of its group + x_i)/(S+1)."""
    from mixlab.theory.groups import ButterflyGroups

    W = sp.zeros(n, n)
    for group in ButterflyGroups(n, S).groups(phase):
        for i in group:
            W[int(i), int(i)] += sp.Rational(1, S + 1)
            for j in group:
                W[int(i), int(j)] += sp.Rational(1, S + 1)
    return W


def _digit_factor(S: int, power: int) -> sp.Matrix:
    """J_S + (1/(S+1))^power (I - J_S): a self-weighted phase applied ``power`` times to one digit."""
    J = sp.ones(S, S) / S
    return J + sp.Rational(1, S + 1) ** power * (sp.eye(S) - J)


def _kron(factors: list[sp.Matrix]) -> sp.Matrix:
    from sympy.physics.quantum import TensorProduct

    out = factors[0]
    for f in factors[1:]:
        out = TensorProduct(f, out)  # digit 0 varies fastest
    return out


def self_weighted_period() -> bool:
    """Check that a period of self-weighted butterfly phases contracts by exactly 1/(S+1).

    ||W_{k-1} ... W_0 - J||_2 = 1/(S+1) for self-weighted butterfly phases, n = S^k.

    Phase j averages the ranks that agree on every base-S digit but digit j, so
    W_j = I (x) ... (x) M (x) ... (x) I with M = (S J_S + I)/(S+1) = J_S + (I - J_S)/(S+1)
    in digit j. Factors in different digits commute, and a product in which digit j
    is covered m_j times is the Kronecker product of J_S + (S+1)^{-m_j} (I - J_S), whose
    eigenvalues are products of per-digit values in {1, (S+1)^{-m_j}}: every
    non-constant eigenvector picks up at least one (S+1)^{-m_j}. Checked exactly
    (rational arithmetic) for (n, S) = (8, 2), (9, 3), (16, 4): the phases commute, the
    Kronecker form of every phase and of the period, and the per-digit power rule;
    the general-n Kronecker argument is argued.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    delta, _m = sp.symbols("delta m", positive=True)
    Jv, Iv = sp.symbols("J I", commutative=False)
    # M = J + delta (I - J) with J^2 = J: M^2 = J + delta^2 (I - J) (and by induction M^m)
    square = sp.expand((Jv + delta * (Iv - Jv)) ** 2).subs({Jv**2: Jv, Iv * Jv: Jv, Jv * Iv: Jv, Iv**2: Iv})
    _zero(sp.expand(square - (Jv + delta**2 * (Iv - Jv))), "M^2 = J + delta^2 (I - J) when J^2 = J")
    for n, S in ((8, 2), (9, 3), (16, 4)):
        k = round(math.log(n, S))
        phases = [_butterfly_phase(n, S, j) for j in range(k)]
        for a, b in product(range(k), repeat=2):
            if phases[a] * phases[b] != phases[b] * phases[a]:
                raise AssertionError(f"identity failed: phases {a}, {b} commute (n = {n}, S = {S})")
        for j in range(k):
            if phases[j] != _kron([_digit_factor(S, int(d == j)) for d in range(k)]):
                raise AssertionError(f"identity failed: phase {j} is a Kronecker product (n = {n}, S = {S})")
        period = sp.eye(n)
        for W in phases:
            period = W * period
        if period != _kron([_digit_factor(S, 1)] * k):
            raise AssertionError(f"identity failed: period = (x)_j (J + (I - J)/(S+1)) (n = {n}, S = {S})")
    return True


def second_moment_recursion() -> bool:
    """Check the mean and covariance recursion of x' = A x + b + xi and the bias-variance split.

    Checked with symbolic 2 x 2 matrices and a symbolic Gaussian-free argument:
    expectations are linear, E[xi] = 0 and E[x xi^T] = 0 (independence), so
    Cov x' = A P A^T + Q, and E[(xbar - x*)^2] = (E xbar - x*)^2 + Var(xbar).

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    A = sp.Matrix(2, 2, sp.symbols("a0:4"))
    b = sp.Matrix(sp.symbols("b0:2"))
    m = sp.Matrix(sp.symbols("m0:2"))
    P = sp.Matrix(2, 2, sp.symbols("p0:4"))
    P = (P + P.T) / 2
    Q = sp.Matrix(2, 2, sp.symbols("q0:4"))
    Q = (Q + Q.T) / 2
    second = P + m * m.T  # E[x x^T]
    # E[x' x'^T] = A E[x x^T] A^T + A m b^T + b m^T A^T + b b^T + Q
    e_next = A * second * A.T + A * m * b.T + b * m.T * A.T + b * b.T + Q
    mean_next = A * m + b
    for i in range(2):
        for j in range(2):
            _zero(
                e_next[i, j] - mean_next[i] * mean_next[j] - (A * P * A.T + Q)[i, j],
                f"Cov x' [{i},{j}] = (A P A^T + Q)[{i},{j}]",
            )
    h, xs = sp.symbols("h x_star", positive=True)
    ones = sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2)])
    e_sq = (ones.T * second * ones)[0] - 2 * xs * (ones.T * m)[0] + xs**2  # E[(xbar - x*)^2]
    split = ((ones.T * m)[0] - xs) ** 2 + (ones.T * P * ones)[0]
    _zero(h / 2 * (e_sq - split), "E[(xbar - x*)^2] = (mean - x*)^2 + Var(xbar)")
    return True


def ring_spectrum() -> bool:
    """Check the Metropolis ring's eigenpairs: eigenvalue 1/3 + (2/3) cos(2 pi k / n).

    (W v)_j = (v_{j-1} + v_j + v_{j+1}) / 3 with v_j = exp(i j theta), theta = 2 pi k / n:
    W v = (1/3 + 2/3 cos theta) v, for every j (the ring closes since n theta = 2 pi k).

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    j, theta = sp.symbols("j theta", real=True)
    v = lambda q: sp.exp(sp.I * q * theta)  # noqa: E731
    lhs = (v(j - 1) + v(j) + v(j + 1)) / 3
    _zero(
        sp.expand_complex(lhs - (sp.Rational(1, 3) + sp.Rational(2, 3) * sp.cos(theta)) * v(j)),
        "Metropolis ring eigenpair",
    )
    return True


def _vec(name: str, dim: int = 2) -> sp.Matrix:
    return sp.Matrix(sp.symbols(f"{name}0:{dim}", real=True))


def _young_and_jensen() -> None:
    """||u + v||^2 <= 2||u||^2 + 2||v||^2 and -<a, m> = -|a|^2/2 - |m|^2/2 + |a - m|^2/2."""
    u, v = _vec("u"), _vec("v")
    _zero(
        2 * u.dot(u) + 2 * v.dot(v) - (u + v).dot(u + v) - (u - v).dot(u - v),
        "2|u|^2 + 2|v|^2 - |u + v|^2 = |u - v|^2 >= 0",
    )
    _zero(-u.dot(v) - (-u.dot(u) / 2 - v.dot(v) / 2 + (u - v).dot(u - v) / 2), "polarization")


def averaged_strongly_convex() -> bool:
    """Check the strongly convex rate of :mod:`mixlab.theory.convergence` for any consensus bound B.

    With r = ||xbar - x*||^2, e = f(xbar) - f*, Gamma = sum_i ||x_i - xbar||^2 and
    m = (1/n) sum_i grad f_i(x_i):
    (1) <grad f_i(x_i), xbar - x*> >= f_i(xbar) - f_i(x*) + mu/2 ||x_i - x*||^2 - L/2 ||xbar - x_i||^2
        (L-smoothness at x_i toward xbar plus mu-strong convexity of f_i);
    (2) ||x_i - x*||^2 >= ||xbar - x*||^2/2 - ||x_i - xbar||^2, so averaging (1):
        <m, xbar - x*> >= e + mu r/4 - (L + mu) Gamma/(2n);
    (3) ||m||^2 <= 2 L^2 Gamma/n + 4 L e (Jensen, smoothness, ||grad f||^2 <= 2 L e);
    (4) E r' = r - 2 eta <m, xbar - x*> + eta^2 (||m||^2 + sigma2/n) (independent zero-mean noise), so
        E r' <= (1 - eta mu/2) r - 2 eta (1 - 2 eta L) e + eta (L + mu + 2 eta L^2) Gamma/n + eta^2 sigma2/n;
    (5) eta <= 1/(4L) makes the e term <= 0; unrolling with sum_t (1 - eta mu/2)^t <= 2/(eta mu)
        and f(xbar_T) - f* <= L r_T/2 gives the rate.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    _young_and_jensen()
    fb, fi, fs, dxi, _dstar, dxbar, _g1, _g2 = sp.symbols("f_xbar f_xi f_star d_xi d_star d_xbar g1 g2")
    L, mu, eta, n, r, e, Gam, s2, B, T, r0 = sp.symbols("L mu eta n r e Gamma sigma2 B T r0", positive=True)
    smooth = fb - fi - L / 2 * dxbar  # <g, xbar - x_i> >= smooth
    convex = fi - fs + mu / 2 * dxi  # <g, x_i - x*> >= convex
    _zero(smooth + convex - (fb - fs + mu / 2 * dxi - L / 2 * dxbar), "(1) sum of the two inequalities")
    lower = e + mu / 4 * r - (L + mu) / (2 * n) * Gam  # (2): averaged, with d_xi >= r/2 - |x_i - xbar|^2
    _zero((mu / 2) * (r / 2 - Gam / n) - L / 2 * Gam / n + e - lower, "(2) averaged lower bound")
    upper = 2 * L**2 * Gam / n + 4 * L * e  # (3)
    step = r - 2 * eta * lower + eta**2 * (upper + s2 / n)
    target = (
        (1 - eta * mu / 2) * r
        - 2 * eta * (1 - 2 * eta * L) * e
        + eta * (L + mu + 2 * eta * L**2) * Gam / n
        + eta**2 * s2 / n
    )
    _zero(step - target, "(4) one step of the averaged model")
    x = sp.Symbol("x", positive=True)  # eta = x/(4L), 0 < x <= 1
    _zero((1 - 2 * L * x / (4 * L)) - (sp.Rational(1, 2) + (1 - x) / 2), "(5) 1 - 2 eta L >= 1/2")
    q = 1 - eta * mu / 2
    _zero(
        sp.summation(q ** sp.Symbol("t"), (sp.Symbol("t"), 0, T - 1)).simplify() - (1 - q**T) / (1 - q),
        "(5) geometric sum",
    )
    const = eta**2 * s2 / n + eta * (L + mu + 2 * eta * L**2) * B / n
    from mixlab.theory import convergence as cv

    rate = L / 2 * (q**T * r0 + 2 / (eta * mu) * const)
    _zero(
        cv.strongly_convex_rate(B).subs(
            {cv.L: L, cv.mu: mu, cv.eta: eta, cv.n: n, cv.sigma2: s2, cv.T: T, cv.r0: r0}
        )
        - rate,
        "the theorem's rate is (L/2)(q^T r0 + (2/(eta mu)) C)",
    )
    return True


def averaged_nonconvex() -> bool:
    """Check the nonconvex rate of :mod:`mixlab.theory.convergence` for any consensus bound B.

    With a = grad f(xbar), m = (1/n) sum_i grad f_i(x_i): L-smoothness of f gives
    E f(xbar') <= f(xbar) - eta <a, m> + L eta^2/2 (||m||^2 + sigma2/n); polarization and
    ||a - m||^2 <= (1/n) sum_i ||grad f_i(xbar) - grad f_i(x_i)||^2 <= L^2 Gamma/n give
    E f(xbar') <= f(xbar) - eta/2 ||a||^2 - eta/2 (1 - L eta) ||m||^2 + eta L^2 Gamma/(2n) + L eta^2 sigma2/(2n);
    with eta <= 1/L, summing over t < T and f(xbar_T) >= inf f gives the rate.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    _young_and_jensen()
    L, eta, n, A, M, D, Gam, s2, B, T, f0 = sp.symbols("L eta n A M D Gamma sigma2 B T f0", positive=True)
    inner = -A / 2 - M / 2 + D / 2  # -<a, m>, D = ||a - m||^2 <= L^2 Gamma/n
    descent = eta * inner.subs(D, L**2 * Gam / n) + L * eta**2 / 2 * (M + s2 / n)
    _zero(
        descent
        - (
            -eta / 2 * A
            - eta / 2 * (1 - L * eta) * M
            + eta * L**2 * Gam / (2 * n)
            + L * eta**2 * s2 / (2 * n)
        ),
        "one-step descent",
    )
    from mixlab.theory import convergence as cv

    # eta/2 sum A <= f0 + T (eta L^2 B/(2n) + L eta^2 sigma2/(2n)), divided by eta T/2:
    rate = (f0 + T * (eta * L**2 * B / (2 * n) + L * eta**2 * s2 / (2 * n))) / (eta * T / 2)
    _zero(
        cv.nonconvex_rate(B).subs({cv.L: L, cv.eta: eta, cv.n: n, cv.sigma2: s2, cv.T: T, cv.f0: f0}) - rate,
        "telescoped rate",
    )
    return True


def dpsgd_consensus() -> bool:
    """Check the D-PSGD consensus bound E Gamma_t <= B for ||W - J||_2 <= rho (CTA and ATC).

    Uniform zeta2 and sigma2. With Y = (I - J) X: CTA Y' = (W - J) Y - eta (I - J)(grad F(X) + Xi), ATC
    Y' = (W - J)(Y - eta (I - J)(grad F(X) + Xi)); row-wise L-smoothness and
    ||(I - J) grad F(Xbar)||^2 <= n zeta2 bound the noise-free part by a ||Y|| + b sqrt(n zeta2)
    (a = rho + eta L, b = eta for CTA; a = rho(1 + eta L), b = rho eta for ATC) and the
    noise adds b^2 n sigma2. Young with eps = (1 - a)/a: E Gamma' <= a Gamma + c,
    c = b^2 n zeta2/(1 - a) + b^2 n sigma2, whose fixed point c/(1 - a) bounds every
    E Gamma_t since Gamma_0 = 0 (a = 0 only for ATC with rho = 0, where b = 0 and Gamma stays 0).

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    a, b, n, z, s2, _Gm = sp.symbols("a b n zeta2 sigma2 Gamma", positive=True)
    eps = (1 - a) / a
    _zero((1 + eps) * a**2 - a, "(1 + eps) a^2 = a")
    _zero((1 + 1 / eps) - 1 / (1 - a), "1 + 1/eps = 1/(1 - a)")
    c = b**2 * n * z / (1 - a) + b**2 * n * s2
    B = c / (1 - a)
    _zero(a * B + c - B, "B is the fixed point of Gamma -> a Gamma + c")
    from mixlab.theory import convergence as cv

    rho, eta, L = sp.symbols("rho eta L", positive=True)
    subs = {cv.rho: rho, cv.eta: eta, cv.L: L, cv.n: n, cv.zeta2: z, cv.sigma2: s2}
    for order, (av, bv) in {0: (rho + eta * L, eta), 1: (rho * (1 + eta * L), rho * eta)}.items():
        _zero(
            cv.DPSGD_CONSENSUS_BOUND.subs({**subs, cv.atc: order}) - B.subs({a: av, b: bv}),
            f"the theorem's B for {'ATC' if order else 'CTA'}",
        )
    return True


def local_sgd_consensus() -> bool:
    """Check the local SGD consensus bound E Gamma_t <= c (q^(H-1) - 1)/(q - 1).

    Local SGD (ATC, averaging every H steps): an averaging step leaves Gamma = 0; a
    local step gives E Gamma' <= q Gamma + c with q = (1 + eps)(1 + eta L)^2,
    c = (1 + 1/eps) eta^2 n zeta2 + eta^2 n sigma2, eps = 1/H; after k <= H - 1 local
    steps Gamma <= c (q^k - 1)/(q - 1), increasing in k (q > 1).

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    q, c, _e, kk = sp.symbols("q c e k", positive=True)
    _zero(q * (c * (q**kk - 1) / (q - 1)) + c - c * (q ** (kk + 1) - 1) / (q - 1), "k-step growth from 0")
    from mixlab.theory import convergence as cv

    H, eta, L, n, z, s2 = sp.symbols("H eta L n zeta2 sigma2", positive=True)
    eps = 1 / H
    qv = (1 + eps) * (1 + eta * L) ** 2
    cv_ = (1 + 1 / eps) * eta**2 * n * z + eta**2 * n * s2
    _zero(
        cv.LOCAL_SGD_CONSENSUS_BOUND.subs(
            {cv.H: H, cv.eta: eta, cv.L: L, cv.n: n, cv.zeta2: z, cv.sigma2: s2}
        )
        - (c * (q ** (kk) - 1) / (q - 1)).subs({q: qv, c: cv_, kk: H - 1}),
        "the theorem's B (eps = 1/H)",
    )
    return True


def async_nonconvex() -> bool:
    """Check the nonconvex rate of SGD with bounded staleness tau_t <= tau.

    x_{t+1} = x_t - eta (grad f(x_{s_t}) + xi_t), s_t = t - tau_t.
    With A_t = E||grad f(x_t)||^2, G_t = E||grad f(x_{s_t})||^2, D_t = E||x_t - x_{s_t}||^2:
    E f_{t+1} <= E f_t - eta/2 A_t - eta/2 G_t + eta L^2 D_t/2 + L eta^2 (G_t + sigma2)/2
    (smoothness, polarization, E[xi_t | past] = 0), and
    D_t <= 2 eta^2 tau sum_{j=s_t}^{t-1} G_j + 2 eta^2 tau sigma2 (Young, Cauchy-Schwarz over <= tau
    terms, martingale noise). Each G_j enters at most tau of the sums, so over t < T the
    G terms total -(eta/2)(1 - eta L - 2 eta^2 L^2 tau^2) sum G <= 0 under the assumption, and
    eta/2 sum A <= f0 + T (eta^3 L^2 tau sigma2 + L eta^2 sigma2/2).

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    _young_and_jensen()
    eta, L, tau, s2, T, f0, SG, SA = sp.symbols("eta L tau sigma2 T f0 SumG SumA", positive=True)
    sum_D = 2 * eta**2 * tau * tau * SG + 2 * eta**2 * tau * s2 * T
    total = -eta / 2 * SA - eta / 2 * SG + eta * L**2 / 2 * sum_D + L * eta**2 / 2 * (SG + s2 * T)
    g_coef = sp.expand(total).coeff(SG)
    _zero(g_coef + eta / 2 * (1 - eta * L - 2 * eta**2 * L**2 * tau**2), "coefficient of sum G")
    rest = sp.expand(total - g_coef * SG)
    _zero(rest - (-eta / 2 * SA + T * (eta**3 * L**2 * tau * s2 + L * eta**2 * s2 / 2)), "remaining terms")
    from mixlab.theory import convergence as cv

    rate = (f0 + T * (eta**3 * L**2 * tau * s2 + L * eta**2 * s2 / 2)) / (eta * T / 2)
    _zero(
        cv.ASYNC_NONCONVEX_BOUND.subs({cv.eta: eta, cv.L: L, cv.tau: tau, cv.sigma2: s2, cv.T: T, cv.f0: f0})
        - rate,
        "telescoped rate",
    )
    return True


def wagma_stale_window() -> bool:
    """Check the consensus bound of WAGMA-SGD (CTA) with stale contributions.

    Gamma_{g+k} <= n (w_k sqrt(Gamma_g) + k eta G)^2, 1 <= k <= tau.

    Let a = xbar_g and delta_j = x_j^g - a (the models published at global step g).
    Claim, for 1 <= k <= tau: x_i^{g+k} = a + sum_j W_ij delta_j + e_i with W >= 0, row sums
    <= w_k and ||e_i|| <= k eta G. k = 1: x_i^{g+1} = a - eta g_i (w_1 = 0). Step: a group's
    contributions are models x_j^{t'} with g <= t' <= g + k (staleness stays within the
    period), each with row sum <= 1 (the pre-average x_j^g) and <= w_k when fresh.
    Group activation: the group's first arriver is fresh, so the mean rule gives row sum
    <= (S - 1 + w_k)/S = w_{k+1} and the self-weighted rule (own fresh model added)
    (S - 1 + 2 w_k)/(S + 1). Global activation: a whole group may be stale; only the own
    model of the self-weighted rule is surely fresh: (S + w_k)/(S + 1) (the mean rule gets
    no contraction, w_k = 1). Averaging keeps ||e|| <= k eta G and the step adds eta G.
    Then ||x_i - a|| <= w_k max||delta_j|| + k eta G, max ||delta_j||^2 <= Gamma_g and
    Gamma = sum ||x_i - a||^2 - n ||xbar - a||^2 <= n max ||x_i - a||^2.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    S, kk = sp.symbols("S k", positive=True)
    from mixlab.theory import convergence as cv

    recursions = {
        ("group", "mean"): lambda w: (S - 1 + w) / S,
        ("group", "self_weighted"): lambda w: (S - 1 + 2 * w) / (S + 1),
        ("global", "self_weighted"): lambda w: (S + w) / (S + 1),
    }
    for variant, step in recursions.items():
        w = cv.stale_weight(*variant).subs({cv.S: S, cv.k: kk})
        _zero(w.subs(kk, 1), f"w_1 = 0 ({variant})")
        _zero(step(w) - w.subs(kk, kk + 1), f"w_(k+1) from w_k ({variant})")
    x1, x2, a = _vec("x"), _vec("y"), _vec("a")
    xbar = (x1 + x2) / 2
    _zero(
        (x1 - xbar).dot(x1 - xbar)
        + (x2 - xbar).dot(x2 - xbar)
        - ((x1 - a).dot(x1 - a) + (x2 - a).dot(x2 - a) - 2 * (xbar - a).dot(xbar - a)),
        "sum ||x_i - xbar||^2 = sum ||x_i - a||^2 - n ||xbar - a||^2 (n = 2)",
    )
    return True


def windowed_consensus() -> bool:
    """Check the windowed consensus bound for any deterministic sequence of doubly stochastic W_t.

    E Gamma_t <= n eta^2 (A1 zeta + sqrt(A2) sigma)^2/(1 - eta L A1)^2 (no momentum, no
    stale contributions).

    With Y = (I - J) X: (I - J) W = (W - J)(I - J) (checked below from W J = J W = J^2 = J),
    so CTA gives Y_{t+1} = (W_t - J) Y_t - eta (I - J) G_t and, unrolled from Y_0 = 0 (checked
    below for three steps), Y_t = -eta sum_{s<t} (W_{t-1} - J)...(W_{s+1} - J)(I - J) G_s;
    ATC includes the factor W_s - J. A product of l factors has norm <= c_l. Split
    G_s = (grad F(X_s) - grad F(Xbar_s)) + grad F(Xbar_s) + Xi_s: row-wise L-smoothness
    bounds the first by L ||Y_s||, the heterogeneity at xbar_s the second by sqrt(n) zeta,
    and the noise terms are orthogonal in L2 (martingale differences times deterministic
    matrices), so with y_t = sqrt(E||Y_t||^2) and Minkowski's inequality
    y_t <= eta A1 (L max_{s<t} y_s + sqrt(n) zeta) + eta sqrt(n A2) sigma. The fixed point
    Y* of that map (checked below) bounds every y_t by induction from y_0 = 0.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    W0, W1, W2, J, I, G0, G1, G2 = sp.symbols("W0 W1 W2 J I G0 G1 G2", commutative=False)
    eta = sp.Symbol("eta", positive=True)
    rules = {J**2: J, I * J: J, J * I: J, I**2: I}
    for W in (W0, W1, W2):
        rules.update({W * J: J, J * W: J, I * W: W, W * I: W})

    def reduce(expr):
        for _ in range(4):
            expr = sp.expand(expr).subs(rules)
        return sp.expand(expr)

    for W in (W0, W1, W2):
        _zero(reduce((I - J) * W - (W - J) * (I - J)), "(I - J) W = (W - J)(I - J)")
    Ws, Gs = (W0, W1, W2), (G0, G1, G2)
    for order in ("cta", "atc"):
        Y = sp.Integer(0)
        for s in range(3):  # the recursion, from Y_0 = 0
            Y = (
                (Ws[s] - J) * Y - eta * (I - J) * Gs[s]
                if order == "cta"
                else (Ws[s] - J) * (Y - eta * (I - J) * Gs[s])
            )
        unrolled = sp.Integer(0)
        for s in range(3):  # the claimed sum
            prod = I
            for r in range(2, s if order == "cta" else s - 1, -1):
                prod = prod * (Ws[r] - J)
            unrolled += -eta * prod * (I - J) * Gs[s]
        _zero(reduce(Y - unrolled), f"unrolled {order.upper()} recursion (3 steps)")
    L, n, z, sg, a1, a2, _y = sp.symbols("L n zeta sigma A1 A2 y", positive=True)
    fixed = eta * sp.sqrt(n) * (a1 * z + sp.sqrt(a2) * sg) / (1 - eta * L * a1)
    _zero(
        eta * a1 * (L * fixed + sp.sqrt(n) * z) + eta * sp.sqrt(n * a2) * sg - fixed,
        "Y* is the fixed point of y -> eta A1 (L y + sqrt(n) zeta) + eta sqrt(n A2) sigma",
    )
    from mixlab.theory import convergence as cv

    _zero(
        cv.WINDOWED_CONSENSUS_BOUND.subs(
            {cv.eta: eta, cv.L: L, cv.n: n, cv.zeta2: z**2, cv.sigma2: sg**2, cv.A1: a1, cv.A2: a2}
        )
        - fixed**2,
        "the theorem's bound is Y*^2",
    )
    return True


def wagma_window_sums() -> bool:
    """Check the closed-form window sums of WAGMA-SGD's butterfly schedule (CTA, no stale contributions).

    The product of l consecutive phases covers each digit floor(l/k) or floor(l/k) + 1
    times, so c_l = delta^floor(l/k) (self_weighted_period's Kronecker argument; mean:
    delta = 0); a product through a global step is J, and between global steps there
    are tau - 1 group steps, so l < tau. Checked below: the sum over full cycles and
    the remainder, and (exactly, n = 9, S = 3) that l consecutive self-weighted phases
    multiply to the Kronecker product of per-digit powers; then the windowed bound.

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    d, kk, j = sp.symbols("delta k j", positive=True)
    cycles = kk * (1 - d**j) / (1 - d)  # k sum_{i<j} delta^i, by induction on j:
    _zero(cycles.subs(j, 0), "no full cycle: 0")
    _zero(cycles.subs(j, j + 1) - cycles - kk * d**j, "one more cycle adds k delta^j")
    from mixlab.theory import convergence as cv

    closed = cv.butterfly_window_sum(d).subs({cv.phases: 3, cv.tau: 8})  # j = 2, r = 2
    _zero(closed - sum(d ** (ell // 3) for ell in range(8)), "closed form at k = 3, tau = 8")
    n, S, k = 9, 3, 2
    phases = [_butterfly_phase(n, S, p) for p in range(k)]
    for start in range(k):
        P = sp.eye(n)
        for ell in range(1, 2 * k + 2):
            P = phases[(start + ell - 1) % k] * P
            covered = [(ell + k - 1 - (digit - start) % k) // k for digit in range(k)]
            if _kron([_digit_factor(S, c) for c in covered]) != P:
                raise AssertionError(f"identity failed: {ell} phases from {start} (n = 9, S = 3)")
    _zero(
        cv.WAGMA_CONSENSUS_BOUND
        - cv.WINDOWED_CONSENSUS_BOUND.subs(
            {
                cv.A1: cv.butterfly_window_sum(cv.self_weighted / (cv.S + 1)),
                cv.A2: cv.butterfly_window_sum((cv.self_weighted / (cv.S + 1)) ** 2),
            },
            simultaneous=True,
        ),
        "WAGMA's bound is the windowed bound with these sums",
    )
    return True


def pairwise_gossip_second_moment() -> bool:
    """Check the second-moment recursion M_{t+1} = (1/m) sum_e W_e M_t W_e of randomized pairwise gossip.

    Independent uniform edges, W_e = I - v v^T/2:
    W_e M W_e = M - (v v^T M + M v v^T)/2 + (v^T M v) v v^T/4 (checked with a symbolic
    symmetric 3 x 3 M and symbolic v); sum_e v_e v_e^T = L (checked on the path 0-1-2);
    E||x - xbar 1||^2 = tr((I - J) M) since I - J is a symmetric projection (checked).

    Returns
    -------
    bool
        True when every identity holds.

    Raises
    ------
    AssertionError
        Naming the identity that failed.
    """
    M = sp.Matrix(3, 3, lambda a, b: sp.Symbol(f"m{min(a, b)}{max(a, b)}"))
    v = sp.Matrix(sp.symbols("v0:3"))
    W = sp.eye(3) - v * v.T / 2
    _zero(
        sp.expand(W * M * W - (M - (v * v.T * M + M * v * v.T) / 2 + (v.T * M * v)[0] * v * v.T / 4)).norm(),
        "W_e M W_e expansion",
    )
    edges = [(0, 1), (1, 2)]
    lap = sp.zeros(3, 3)
    for a, b in edges:
        e = sp.Matrix([int(c == a) - int(c == b) for c in range(3)])
        lap += e * e.T
    _zero((lap - sp.Matrix([[1, -1, 0], [-1, 2, -1], [0, -1, 1]])).norm(), "sum_e v_e v_e^T = L (path)")
    x = sp.Matrix(sp.symbols("x0:3"))
    C = sp.eye(3) - sp.ones(3, 3) / 3
    xbar = sum(x) / 3
    _zero(
        sum((x[c] - xbar) ** 2 for c in range(3)) - (C * x * x.T).trace(),
        "||x - xbar 1||^2 = tr((I - J) x x^T)",
    )
    return True


@dataclass(frozen=True)
class Derivation:
    """A derivation, its label (``complete`` or ``bookkeeping``) and what SymPy checks.

    Parameters
    ----------
    function : callable
        Takes no argument; returns True or raises AssertionError naming the failed identity.
    label : {"complete", "bookkeeping"}
        ``complete``: every step is a checked identity; ``bookkeeping``: SymPy checks
        the constants and the algebra, some steps are argued in the docstring.
    checks : str
        What SymPy checks, in words.

    Examples
    --------
    >>> d = DERIVATIONS["random_group_factor"]
    >>> d.label, d.function()
    ('bookkeeping', True)
    """

    function: Callable[[], bool]
    label: str
    checks: str


DERIVATIONS = {
    "telescoping": Derivation(
        telescoping, "complete", "every step from Yates' recursion to (u/lambda) H_{n-1}"
    ),
    "ring_spectrum": Derivation(ring_spectrum, "complete", "the eigenpair identity for every j and k"),
    "owner_only": Derivation(owner_only, "complete", "u E[A] for exponential A and the threshold"),
    "random_group_factor": Derivation(
        random_group_factor, "bookkeeping", "E[P_ii], E[P_ij]; the projection algebra is argued"
    ),
    "self_weighted_period": Derivation(
        self_weighted_period,
        "bookkeeping",
        "commuting Kronecker phases, exactly for three sizes; general n argued",
    ),
    "second_moment_recursion": Derivation(
        second_moment_recursion, "bookkeeping", "mean/covariance recursion and bias-variance split (2 x 2)"
    ),
    "pairwise_gossip_second_moment": Derivation(
        pairwise_gossip_second_moment,
        "bookkeeping",
        "W M W expansion (3 x 3 symbolic), Laplacian sum, trace form",
    ),
    "averaged_strongly_convex": Derivation(
        averaged_strongly_convex, "bookkeeping", "sums of the inequalities, one-step assembly, geometric sum"
    ),
    "averaged_nonconvex": Derivation(averaged_nonconvex, "bookkeeping", "one-step descent and telescoping"),
    "dpsgd_consensus": Derivation(dpsgd_consensus, "bookkeeping", "Young's constants and the fixed point"),
    "local_sgd_consensus": Derivation(local_sgd_consensus, "bookkeeping", "k-step growth and the constants"),
    "windowed_consensus": Derivation(
        windowed_consensus,
        "bookkeeping",
        "(I - J)W = (W - J)(I - J), the unrolled recursions, the fixed point",
    ),
    "wagma_window_sums": Derivation(
        wagma_window_sums, "bookkeeping", "the closed-form sums, phase products exactly at n = 9"
    ),
    "async_nonconvex": Derivation(async_nonconvex, "bookkeeping", "coefficients of the telescoped sum"),
    "wagma_stale_window": Derivation(
        wagma_stale_window, "bookkeeping", "the weight recursions of three variants, the centering identity"
    ),
}
