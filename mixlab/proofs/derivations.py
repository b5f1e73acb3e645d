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


def _vec(name: str, dim: int = 2) -> sp.Matrix:
    return sp.Matrix(sp.symbols(f"{name}0:{dim}", real=True))


def _young_and_jensen() -> None:
    """||u + v||^2 <= 2||u||^2 + 2||v||^2 and -<a, m> = -|a|^2/2 - |m|^2/2 + |a - m|^2/2."""
    u, v = _vec("u"), _vec("v")
    _zero(2 * u.dot(u) + 2 * v.dot(v) - (u + v).dot(u + v) - (u - v).dot(u - v),
          "2|u|^2 + 2|v|^2 - |u + v|^2 = |u - v|^2 >= 0")
    _zero(-u.dot(v) - (-u.dot(u) / 2 - v.dot(v) / 2 + (u - v).dot(u - v) / 2), "polarization")


def averaged_strongly_convex() -> bool:
    """The strongly convex rate of mixlab.theory.convergence for any consensus bound B.

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
        and f(xbar_T) - f* <= L r_T/2 gives the rate."""
    _young_and_jensen()
    fb, fi, fs, dxi, dstar, dxbar, g1, g2 = sp.symbols("f_xbar f_xi f_star d_xi d_star d_xbar g1 g2")
    L, mu, eta, n, r, e, Gam, s2, B, T, r0 = sp.symbols("L mu eta n r e Gamma sigma2 B T r0", positive=True)
    smooth = fb - fi - L / 2 * dxbar                      # <g, xbar - x_i> >= smooth
    convex = fi - fs + mu / 2 * dxi                       # <g, x_i - x*> >= convex
    _zero(smooth + convex - (fb - fs + mu / 2 * dxi - L / 2 * dxbar), "(1) sum of the two inequalities")
    lower = e + mu / 4 * r - (L + mu) / (2 * n) * Gam     # (2): averaged, with d_xi >= r/2 - |x_i - xbar|^2
    _zero((mu / 2) * (r / 2 - Gam / n) - L / 2 * Gam / n + e - lower, "(2) averaged lower bound")
    upper = 2 * L**2 * Gam / n + 4 * L * e                # (3)
    step = r - 2 * eta * lower + eta**2 * (upper + s2 / n)
    target = (1 - eta * mu / 2) * r - 2 * eta * (1 - 2 * eta * L) * e \
        + eta * (L + mu + 2 * eta * L**2) * Gam / n + eta**2 * s2 / n
    _zero(step - target, "(4) one step of the averaged model")
    x = sp.Symbol("x", positive=True)                     # eta = x/(4L), 0 < x <= 1
    _zero((1 - 2 * L * x / (4 * L)) - (sp.Rational(1, 2) + (1 - x) / 2), "(5) 1 - 2 eta L >= 1/2")
    q = 1 - eta * mu / 2
    _zero(sp.summation(q ** sp.Symbol("t"), (sp.Symbol("t"), 0, T - 1)).simplify()
          - (1 - q**T) / (1 - q), "(5) geometric sum")
    const = eta**2 * s2 / n + eta * (L + mu + 2 * eta * L**2) * B / n
    from mixlab.theory import convergence as cv

    rate = L / 2 * (q**T * r0 + 2 / (eta * mu) * const)
    _zero(cv.strongly_convex_rate(B).subs(
        {cv.L: L, cv.mu: mu, cv.eta: eta, cv.n: n, cv.sigma2: s2, cv.T: T, cv.r0: r0}) - rate,
        "the theorem's rate is (L/2)(q^T r0 + (2/(eta mu)) C)")
    return True


def averaged_nonconvex() -> bool:
    """The nonconvex rate of mixlab.theory.convergence for any consensus bound B.
    With a = grad f(xbar), m = (1/n) sum_i grad f_i(x_i): L-smoothness of f gives
    E f(xbar') <= f(xbar) - eta <a, m> + L eta^2/2 (||m||^2 + sigma2/n); polarization and
    ||a - m||^2 <= (1/n) sum_i ||grad f_i(xbar) - grad f_i(x_i)||^2 <= L^2 Gamma/n give
    E f(xbar') <= f(xbar) - eta/2 ||a||^2 - eta/2 (1 - L eta) ||m||^2 + eta L^2 Gamma/(2n) + L eta^2 sigma2/(2n);
    with eta <= 1/L, summing over t < T and f(xbar_T) >= inf f gives the rate."""
    _young_and_jensen()
    L, eta, n, A, M, D, Gam, s2, B, T, f0 = sp.symbols("L eta n A M D Gamma sigma2 B T f0", positive=True)
    inner = -A / 2 - M / 2 + D / 2                        # -<a, m>, D = ||a - m||^2 <= L^2 Gamma/n
    descent = eta * inner.subs(D, L**2 * Gam / n) + L * eta**2 / 2 * (M + s2 / n)
    _zero(descent - (-eta / 2 * A - eta / 2 * (1 - L * eta) * M + eta * L**2 * Gam / (2 * n)
                     + L * eta**2 * s2 / (2 * n)), "one-step descent")
    from mixlab.theory import convergence as cv

    # eta/2 sum A <= f0 + T (eta L^2 B/(2n) + L eta^2 sigma2/(2n)), divided by eta T/2:
    rate = (f0 + T * (eta * L**2 * B / (2 * n) + L * eta**2 * s2 / (2 * n))) / (eta * T / 2)
    _zero(cv.nonconvex_rate(B).subs(
        {cv.L: L, cv.eta: eta, cv.n: n, cv.sigma2: s2, cv.T: T, cv.f0: f0}) - rate, "telescoped rate")
    return True


def dpsgd_consensus() -> bool:
    """E Gamma_t <= B for D-PSGD with ||W - J||_2 <= rho, uniform zeta2, sigma2.
    With Y = (I - J) X: CTA Y' = (W - J) Y - eta (I - J)(grad F(X) + Xi), ATC
    Y' = (W - J)(Y - eta (I - J)(grad F(X) + Xi)); row-wise L-smoothness and
    ||(I - J) grad F(Xbar)||^2 <= n zeta2 bound the noise-free part by a ||Y|| + b sqrt(n zeta2)
    (a = rho + eta L, b = eta for CTA; a = rho(1 + eta L), b = rho eta for ATC) and the
    noise adds b^2 n sigma2. Young with eps = (1 - a)/a: E Gamma' <= a Gamma + c,
    c = b^2 n zeta2/(1 - a) + b^2 n sigma2, whose fixed point c/(1 - a) bounds every
    E Gamma_t since Gamma_0 = 0 (a = 0 only for ATC with rho = 0, where b = 0 and Gamma stays 0)."""
    a, b, n, z, s2, Gm = sp.symbols("a b n zeta2 sigma2 Gamma", positive=True)
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
        _zero(cv.DPSGD_CONSENSUS_BOUND.subs({**subs, cv.atc: order}) - B.subs({a: av, b: bv}),
              f"the theorem's B for {'ATC' if order else 'CTA'}")
    return True


def local_sgd_consensus() -> bool:
    """E Gamma_t <= c (q^(H-1) - 1)/(q - 1) for local SGD (ATC, averaging every H steps):
    an averaging step leaves Gamma = 0; a local step gives E Gamma' <= q Gamma + c with
    q = (1 + eps)(1 + eta L)^2, c = (1 + 1/eps) eta^2 n zeta2 + eta^2 n sigma2, eps = 1/H;
    after k <= H - 1 local steps Gamma <= c (q^k - 1)/(q - 1), increasing in k (q > 1)."""
    q, c, e, kk = sp.symbols("q c e k", positive=True)
    _zero(q * (c * (q**kk - 1) / (q - 1)) + c - c * (q ** (kk + 1) - 1) / (q - 1), "k-step growth from 0")
    from mixlab.theory import convergence as cv

    H, eta, L, n, z, s2 = sp.symbols("H eta L n zeta2 sigma2", positive=True)
    eps = 1 / H
    qv = (1 + eps) * (1 + eta * L) ** 2
    cv_ = (1 + 1 / eps) * eta**2 * n * z + eta**2 * n * s2
    _zero(cv.LOCAL_SGD_CONSENSUS_BOUND.subs({cv.H: H, cv.eta: eta, cv.L: L, cv.n: n, cv.zeta2: z,
                                             cv.sigma2: s2})
          - (c * (q ** (kk) - 1) / (q - 1)).subs({q: qv, c: cv_, kk: H - 1}), "the theorem's B (eps = 1/H)")
    return True


def async_nonconvex() -> bool:
    """SGD with staleness tau_t <= tau: x_{t+1} = x_t - eta (grad f(x_{s_t}) + xi_t), s_t = t - tau_t.
    With A_t = E||grad f(x_t)||^2, G_t = E||grad f(x_{s_t})||^2, D_t = E||x_t - x_{s_t}||^2:
    E f_{t+1} <= E f_t - eta/2 A_t - eta/2 G_t + eta L^2 D_t/2 + L eta^2 (G_t + sigma2)/2
    (smoothness, polarization, E[xi_t | past] = 0), and
    D_t <= 2 eta^2 tau sum_{j=s_t}^{t-1} G_j + 2 eta^2 tau sigma2 (Young, Cauchy-Schwarz over <= tau
    terms, martingale noise). Each G_j enters at most tau of the sums, so over t < T the
    G terms total -(eta/2)(1 - eta L - 2 eta^2 L^2 tau^2) sum G <= 0 under the assumption, and
    eta/2 sum A <= f0 + T (eta^3 L^2 tau sigma2 + L eta^2 sigma2/2)."""
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
    _zero(cv.ASYNC_NONCONVEX_BOUND.subs({cv.eta: eta, cv.L: L, cv.tau: tau, cv.sigma2: s2, cv.T: T,
                                         cv.f0: f0}) - rate, "telescoped rate")
    return True


def wagma_stale_window() -> bool:
    """Gamma_{g+k} <= n (w_k sqrt(Gamma_g) + k eta G)^2 for WAGMA-SGD (CTA) with stale contributions.

    Let a = xbar_g and delta_j = x_j^g - a (the models published at global step g).
    Claim, for 1 <= k <= tau: x_i^{g+k} = a + sum_j W_ij delta_j + e_i with W >= 0, row sums
    <= w_k and ||e_i|| <= k eta G. k = 1: x_i^{g+1} = a - eta g_i (w_1 = 0). Step: a group's
    contributions are models x_j^{t'} with g <= t' <= g + k (staleness stays within the
    period), at least one of them fresh (the first arriver; row sum <= w_k), the others
    with row sums <= 1 (the pre-average x_j^g); the mean rule gives row sum
    <= (S - 1 + w_k)/S = w_{k+1}, self-weighted (own fresh model added) (S - 1 + 2 w_k)/(S + 1);
    averaging keeps ||e|| <= k eta G and the step adds eta G. Then ||x_i - a|| <= w_k max||delta_j|| + k eta G,
    max ||delta_j||^2 <= Gamma_g and Gamma = sum ||x_i - a||^2 - n ||xbar - a||^2 <= n max ||x_i - a||^2."""
    S, kk = sp.symbols("S k", positive=True)
    from mixlab.theory import convergence as cv

    w = {r: cv.stale_weight(r).subs({cv.S: S, cv.k: kk}) for r in ("mean", "self_weighted")}
    _zero(w["mean"].subs(kk, 1), "w_1 = 0 (mean)")
    _zero(w["self_weighted"].subs(kk, 1), "w_1 = 0 (self-weighted)")
    _zero((S - 1 + w["mean"]) / S - w["mean"].subs(kk, kk + 1), "mean rule: w_{k+1} = (S - 1 + w_k)/S")
    _zero((S - 1 + 2 * w["self_weighted"]) / (S + 1) - w["self_weighted"].subs(kk, kk + 1),
          "self-weighted: w_{k+1} = (S - 1 + 2 w_k)/(S + 1)")
    x1, x2, a = _vec("x"), _vec("y"), _vec("a")
    xbar = (x1 + x2) / 2
    _zero((x1 - xbar).dot(x1 - xbar) + (x2 - xbar).dot(x2 - xbar)
          - ((x1 - a).dot(x1 - a) + (x2 - a).dot(x2 - a) - 2 * (xbar - a).dot(xbar - a)),
          "sum ||x_i - xbar||^2 = sum ||x_i - a||^2 - n ||xbar - a||^2 (n = 2)")
    return True
