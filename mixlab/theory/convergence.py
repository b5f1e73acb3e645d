"""Convergence theorems with explicit constants, all derived in mixlab.

Every decentralized method here moves the average the same way: with doubly
stochastic W_t (either update order), xbar_{t+1} = xbar_t - eta (1/n) sum_i g_i(x_i^t).
Two lemmas turn a bound E Gamma_t <= B on the consensus distance
Gamma = sum_i ||x_i - xbar||^2 into a rate for the averaged model
(proofs: :func:`mixlab.proofs.derivations.averaged_strongly_convex` and
:func:`~mixlab.proofs.derivations.averaged_nonconvex`):

- strongly convex (each f_i mu-strongly convex and L-smooth, eta <= 1/(4L)):
  E f(xbar_T) - f* <= (L/2) [ (1 - eta mu/2)^T r0 + (2/mu)(eta sigma2/n + (L + mu + 2 eta L^2) B/n) ],
  r0 = ||xbar_0 - x*||^2;
- nonconvex (L-smooth f_i, eta <= 1/L):
  (1/T) sum_{t<T} E||grad f(xbar_t)||^2 <= 2 f0/(eta T) + L^2 B/n + L eta sigma2/n,
  f0 = f(xbar_0) - inf f.

The consensus bounds B (proofs in :mod:`mixlab.proofs.derivations`):

- D-PSGD, fixed W with ||W - J||_2 <= rho: a = rho + eta L (CTA) or rho (1 + eta L)
  (ATC), b2 = eta^2 (CTA) or rho^2 eta^2 (ATC), B = b2 n (zeta2/(1-a)^2 + sigma2/(1-a)), a < 1;
  for a time-varying schedule rho is max_t ||W_t - J||_2 (1 for the one-peer exponential
  graph, whose single matrices do not contract: use the windowed bound);
- local SGD, averaging every H steps (after the local step, as the engine does): B = c (q^(H-1) - 1)/(q - 1),
  q = (1 + 1/H)(1 + eta L)^2, c = (1 + H) eta^2 n zeta2 + eta^2 n sigma2;
- any deterministic sequence of doubly stochastic W_t (the windowed bound):
  B = n eta^2 (A1 zeta + sqrt(A2) sigma)^2 / (1 - eta L A1)^2, eta L A1 < 1, with
  c_l = max_t ||W_{t-1} ... W_{t-l} - J||_2, A1 = sum c_l, A2 = sum c_l^2 over l >= 0 (CTA)
  or l >= 1 (ATC) (:func:`mixlab.theory.spectral.window_sums` computes them for a run's
  matrices);
- WAGMA-SGD without stale contributions (CTA): the windowed bound of its schedule, in
  closed form: k = log_S n butterfly phases, a global average every tau steps, and the
  period contraction delta of the group rule (mean: 0, any k consecutive phases multiply
  to J; self-weighted: 1/(S+1)) give c_l = delta^floor(l/k) for l < tau and 0 beyond, so
  A1 = k (1 - delta^j)/(1 - delta) + r delta^j, A2 the same with delta^2, tau = j k + r.

Each f_i L-smooth; zeta2 bounds the heterogeneity (1/n) sum_i ||grad f_i(x) - grad f(x)||^2 at
every averaged iterate x = xbar_t (a uniform bound, or, for a deterministic run, its maximum
along the run's path) and sigma2 the gradient variance at every x.

>>> from mixlab.theory.convergence import DPSGD_NONCONVEX as thm
>>> round(thm.evaluate(eta=0.1, L=1.0, n=16, rho=0.5, atc=0, zeta2=1.0, sigma2=1.0, f0=2.0, T=100,
...                    doubly_stochastic=True, zeta2_uniform=True, sigma2_uniform=True, momentum=0.0), 3)
0.494
"""

from __future__ import annotations

import sympy as sp

from mixlab.errors import AssumptionError
from mixlab.theory.theorems import Assumption, S, Theorem, n, rho
from mixlab.validate import require_choice
from mixlab.vocabulary import ACTIVATIONS, GROUP_RULES

eta, L, zeta2, sigma2, tau = sp.symbols("eta L zeta2 sigma2 tau", positive=True)
mu, T, H, r0, f0, G, k, gamma_g, atc = sp.symbols("mu T H r0 f0 G k gamma_g atc", nonnegative=True)
A1, A2, phases, self_weighted = sp.symbols("A1 A2 phases self_weighted", nonnegative=True)

# ---- consensus bounds ------------------------------------------------------------------------

_a = (1 - atc) * (rho + eta * L) + atc * rho * (1 + eta * L)
_b2 = (1 - atc) * eta**2 + atc * rho**2 * eta**2
DPSGD_CONSENSUS_BOUND = _b2 * n * (zeta2 / (1 - _a) ** 2 + sigma2 / (1 - _a))

_q_local = (1 + 1 / H) * (1 + eta * L) ** 2
_c_local = (1 + H) * eta**2 * n * zeta2 + eta**2 * n * sigma2
LOCAL_SGD_CONSENSUS_BOUND = _c_local * (_q_local ** (H - 1) - 1) / (_q_local - 1)

WINDOWED_CONSENSUS_BOUND = (
    n * eta**2 * (A1 * sp.sqrt(zeta2) + sp.sqrt(A2 * sigma2)) ** 2 / (1 - eta * L * A1) ** 2
)


def butterfly_window_sum(delta: sp.Expr) -> sp.Expr:
    """Window sum sum_{l=0}^{tau-1} delta^floor(l/k) of a butterfly schedule, k = phases.

    With a global average every tau steps, c_l = delta^floor(l/k) for l < tau and 0
    beyond, so this is A1; pass delta**2 for A2. In closed form,
    k (1 - delta^j) / (1 - delta) + r delta^j with tau = j k + r.

    Parameters
    ----------
    delta : sympy.Expr
        Period contraction of the group rule: 0 (mean) or 1/(S+1) (self-weighted).

    Returns
    -------
    sympy.Expr
        The sum in the symbols ``tau`` and ``phases`` (and those of ``delta``).

    Examples
    --------
    >>> import sympy as sp
    >>> from mixlab.theory.convergence import butterfly_window_sum, phases, tau
    >>> butterfly_window_sum(sp.Rational(1, 3)).subs({tau: 6, phases: 2})    # 1 + 1 + 2/3 + 2/9
    26/9
    >>> butterfly_window_sum(sp.Integer(0)).subs({tau: 6, phases: 2})         # mean: only l < k count
    2

    References
    ----------
    Derived in mixlab; see docs/design.md, section Consensus bounds (derived in mixlab),
    and :func:`mixlab.proofs.derivations.wagma_window_sums`.
    S. Li, T. Ben-Nun, G. Nadiradze, S. Di Girolamo, N. Dryden, D. Alistarh and
    T. Hoefler, "Breaking (global) barriers in parallel stochastic optimization with
    wait-avoiding group averaging" (WAGMA-SGD), IEEE TPDS 32(7), 2021 (the setting).
    """
    j = sp.floor(tau / phases)
    return phases * (1 - delta**j) / (1 - delta) + (tau - j * phases) * delta**j


_delta = self_weighted / (S + 1)
WAGMA_CONSENSUS_BOUND = WINDOWED_CONSENSUS_BOUND.subs(
    {A1: butterfly_window_sum(_delta), A2: butterfly_window_sum(_delta**2)}, simultaneous=True
)


def strongly_convex_rate(consensus: sp.Expr) -> sp.Expr:
    """Bound on E f(xbar_T) - f* of the averaged model, given E Gamma_t <= consensus.

    (L/2) [(1 - eta mu/2)^T r0 + (2/mu)(eta sigma2/n + (L + mu + 2 eta L^2) B/n)] with
    B = ``consensus``; valid for mu-strongly convex, L-smooth f_i and eta <= 1/(4L).

    Parameters
    ----------
    consensus : sympy.Expr
        Bound B on the consensus distance E Gamma_t, uniform in t.

    Returns
    -------
    sympy.Expr
        The rate in the symbols L, mu, eta, T, r0, sigma2, n and those of B.

    Examples
    --------
    >>> import sympy as sp
    >>> from mixlab.theory.convergence import L, T, eta, mu, n, r0, sigma2, strongly_convex_rate
    >>> bound = strongly_convex_rate(sp.Integer(0))                   # exact consensus
    >>> round(float(bound.subs({L: 1, mu: 1, eta: sp.Rational(1, 4), T: 10, r0: 1, sigma2: 1, n: 4})), 4)
    0.194

    References
    ----------
    Derived in mixlab; see docs/design.md, section Consensus bounds (derived in mixlab),
    and :func:`mixlab.proofs.derivations.averaged_strongly_convex`.
    """
    return (
        L
        / 2
        * (
            (1 - eta * mu / 2) ** T * r0
            + 2 / mu * (eta * sigma2 / n + (L + mu + 2 * eta * L**2) * consensus / n)
        )
    )


def nonconvex_rate(consensus: sp.Expr) -> sp.Expr:
    """Bound on (1/T) sum_t E||grad f(xbar_t)||^2, given E Gamma_t <= consensus.

    2 f0/(eta T) + L^2 B/n + L eta sigma2/n with B = ``consensus``; valid for
    L-smooth f_i and eta <= 1/L.

    Parameters
    ----------
    consensus : sympy.Expr
        Bound B on the consensus distance E Gamma_t, uniform in t.

    Returns
    -------
    sympy.Expr
        The rate in the symbols f0, eta, T, L, sigma2, n and those of B.

    Examples
    --------
    >>> import sympy as sp
    >>> from mixlab.theory.convergence import L, T, eta, f0, n, nonconvex_rate, sigma2
    >>> nonconvex_rate(sp.Integer(0)).subs({f0: 1, eta: sp.Rational(1, 10), T: 100, L: 1, n: 4, sigma2: 1})
    9/40

    References
    ----------
    Derived in mixlab; see docs/design.md, section Consensus bounds (derived in mixlab),
    and :func:`mixlab.proofs.derivations.averaged_nonconvex`.
    """
    return 2 * f0 / (eta * T) + L**2 * consensus / n + L * eta * sigma2 / n


ASYNC_NONCONVEX_BOUND = 2 * f0 / (eta * T) + L * eta * sigma2 + 2 * eta**2 * L**2 * tau * sigma2


def stale_weight(activation: str, rule: str):
    """w_k: the largest total weight that pre-average models can keep k iterations after a global step.

    Group activation: the first arriver of a group is always fresh; global
    activation: only a member's own model in the self-weighted rule is.

    Parameters
    ----------
    activation : {"group", "global"}
        Who starts a group collective (see :data:`STALE_VARIANTS`).
    rule : {"mean", "self_weighted"}
        Averaging rule; with ``"global"`` only ``"self_weighted"`` has a bound.

    Returns
    -------
    sympy.Expr
        w_k in the symbols S and k: 1 - S^(1-k) (group, mean), 1 - (2/(S+1))^(k-1)
        (group, self-weighted), 1 - (S+1)^(1-k) (global).

    Raises
    ------
    ParameterError
        If ``activation`` or ``rule`` is unknown.
    AssumptionError
        For global activation with the mean rule: a whole group may be reduced from stale
        buffers, so w_k = 1 and there is no contraction to state.

    Examples
    --------
    >>> from mixlab.theory.convergence import S, k, stale_weight
    >>> stale_weight("group", "mean").subs({S: 4, k: 2})
    3/4
    >>> stale_weight("global", "self_weighted").subs({S: 3, k: 3})
    15/16

    References
    ----------
    Derived in mixlab; see :func:`mixlab.proofs.derivations.wagma_stale_window`.
    S. Li et al., "Breaking (global) barriers in parallel stochastic optimization with
    wait-avoiding group averaging" (WAGMA-SGD), IEEE TPDS 32(7), 2021 (semantics of the
    reference code).
    """
    require_choice("activation", activation, ACTIVATIONS)
    require_choice("group rule", rule, GROUP_RULES)
    if activation == "group":
        return 1 - S ** (1 - k) if rule == "mean" else 1 - (2 / (S + 1)) ** (k - 1)
    if rule == "mean":
        raise AssumptionError(
            "global activation with the mean rule has no stale-window bound: a whole group "
            "may be reduced from stale buffers (w_k = 1)"
        )
    return 1 - (S + 1) ** (1 - k)


WAGMA_STALE_BOUNDS = {
    v: n * (stale_weight(*v) * sp.sqrt(gamma_g) + k * eta * G) ** 2
    for v in (("group", "mean"), ("group", "self_weighted"), ("global", "self_weighted"))
}

# ---- assumptions -------------------------------------------------------------------------------

_NO_MOMENTUM = Assumption("no momentum", lambda p: p["momentum"] == 0.0, "momentum = {momentum}")
_DOUBLY = Assumption(
    "doubly stochastic mixing",
    lambda p: bool(p["doubly_stochastic"]),
    "the mixing matrices are not doubly stochastic",
)
_ZETA = Assumption(
    "heterogeneity bounded at every averaged iterate",
    lambda p: bool(p["zeta2_uniform"]) or bool(p.get("zeta2_along_path", False)),
    "zeta2 is not declared or bounds the heterogeneity at x* only, not at every x (nor along the run's path)",
)
_SIGMA = Assumption(
    "uniform variance bound",
    lambda p: bool(p["sigma2_uniform"]),
    "sigma2 is not declared or bounds the gradient variance at x* only, not at every x",
)
_EACH_SC = Assumption(
    "each f_i mu-strongly convex",
    lambda p: bool(p["each_strongly_convex"]) and p["mu"] > 0,
    "the local objectives are not all mu-strongly convex (mu = {mu})",
)
_ETA_SC = Assumption("eta <= 1/(4L)", lambda p: p["eta"] * p["L"] <= 0.25, "eta L = {eta} * {L} > 1/4")
_ETA_NC = Assumption("eta <= 1/L", lambda p: p["eta"] * p["L"] <= 1.0, "eta L = {eta} * {L} > 1")
_MIXING = Assumption(
    "a < 1 (rho + eta L for CTA, rho (1 + eta L) for ATC)",
    lambda p: float(_a.subs({atc: p["atc"], rho: p["rho"], eta: p["eta"], L: p["L"]})) < 1,
    "the mixing does not contract fast enough: rho = {rho}, eta = {eta}, L = {L}, atc = {atc}",
)
_CTA = Assumption("combine-then-adapt", lambda p: p["order"] == "cta", "order = {order}")
_FRESH = Assumption(
    "no stale contributions",
    lambda p: p["staleness_max"] == 0,
    "the run had stale contributions (max staleness {staleness_max})",
)
_WINDOW = Assumption(
    "eta L A1 < 1",
    lambda p: p["eta"] * p["L"] * _window_a1(p) < 1,
    "eta L A1 >= 1: the step is too large for the schedule's window (eta = {eta}, L = {L})",
)
_BUTTERFLY = Assumption(
    "n = S^phases",
    lambda p: p["S"] ** p["phases"] == p["n"],
    "n = {n} is not S^phases with S = {S}, phases = {phases}",
)
_WAGMA_ASSUMPTIONS = (_CTA, _FRESH, _DOUBLY, _BUTTERFLY, _WINDOW)


def _window_a1(p: dict) -> float:
    if "A1" in p:
        return float(p["A1"])
    sw = float(p["self_weighted"])
    return float(
        butterfly_window_sum(sp.Float(sw) / (S + 1)).subs({S: p["S"], phases: p["phases"], tau: p["tau"]})
    )


_AVERAGED = "derived in mixlab (with the consensus bound's derivation)"
_SC_STATEMENT = (
    r"E f(\bar x_T) - f^* \le \tfrac L2\big[(1-\tfrac{\eta\mu}2)^T r_0 + \tfrac2\mu"
    r"(\tfrac{\eta\sigma^2}n + (L+\mu+2\eta L^2)\tfrac Bn)\big]"
)
_NC_STATEMENT = (
    r"\tfrac1T\sum_{t<T} E\|\nabla f(\bar x_t)\|^2 \le \tfrac{2 f_0}{\eta T}"
    r" + \tfrac{L^2 B}{n} + \tfrac{L\eta\sigma^2}{n}"
)


def _sc(id_, name, consensus, consensus_text, extra):
    return Theorem(
        id_,
        name,
        f"{_SC_STATEMENT},\\ {consensus_text}",
        _AVERAGED,
        "upper",
        False,
        strongly_convex_rate(consensus),
        (_EACH_SC, _ETA_SC, _ZETA, _SIGMA, _NO_MOMENTUM, *extra),
        proof="averaged_strongly_convex",
    )


def _nc(id_, name, consensus, consensus_text, extra):
    return Theorem(
        id_,
        name,
        f"{_NC_STATEMENT},\\ {consensus_text}",
        _AVERAGED,
        "upper",
        False,
        nonconvex_rate(consensus),
        (_ETA_NC, _ZETA, _SIGMA, _NO_MOMENTUM, *extra),
        proof="averaged_nonconvex",
    )


_DPSGD_B = r"B = b^2 n(\tfrac{\zeta^2}{(1-a)^2} + \tfrac{\sigma^2}{1-a})"
_LOCAL_B = r"B = c\tfrac{q^{H-1}-1}{q-1}"
_WINDOW_B = r"B = \frac{n\eta^2(A_1\zeta + \sqrt{A_2}\sigma)^2}{(1-\eta L A_1)^2}"
_WAGMA_B = _WINDOW_B + r",\ A_{1,2} \text{ of the butterfly schedule}"

DPSGD_STRONGLY_CONVEX = _sc(
    "dpsgd-strongly-convex",
    "D-PSGD on smooth strongly convex objectives",
    DPSGD_CONSENSUS_BOUND,
    _DPSGD_B,
    (_DOUBLY, _MIXING),
)
DPSGD_NONCONVEX = _nc(
    "dpsgd-nonconvex",
    "D-PSGD on smooth nonconvex objectives",
    DPSGD_CONSENSUS_BOUND,
    _DPSGD_B,
    (_DOUBLY, _MIXING),
)
LOCAL_SGD_STRONGLY_CONVEX = _sc(
    "local-sgd-strongly-convex",
    "Local SGD on smooth strongly convex objectives",
    LOCAL_SGD_CONSENSUS_BOUND,
    _LOCAL_B,
    (),
)
LOCAL_SGD_NONCONVEX = _nc(
    "local-sgd-nonconvex", "Local SGD on smooth nonconvex objectives", LOCAL_SGD_CONSENSUS_BOUND, _LOCAL_B, ()
)

DPSGD_CONSENSUS = Theorem(
    "dpsgd-consensus",
    "Expected consensus distance of D-PSGD",
    r"E\,\Gamma_t \le b^2 n\big(\tfrac{\zeta^2}{(1-a)^2} + \tfrac{\sigma^2}{1-a}\big),\ "
    r"(a, b) = (\rho + \eta L, \eta)\ \text{(CTA)},\ (\rho(1+\eta L), \rho\eta)\ \text{(ATC)}",
    "derived in mixlab",
    "upper",
    False,
    DPSGD_CONSENSUS_BOUND,
    (_DOUBLY, _MIXING, _ZETA, _SIGMA, _NO_MOMENTUM),
    proof="dpsgd_consensus",
)
LOCAL_SGD_CONSENSUS = Theorem(
    "local-sgd-consensus",
    "Expected consensus distance of local SGD",
    r"E\,\Gamma_t \le c\,\tfrac{q^{H-1}-1}{q-1},\ q = (1+\tfrac1H)(1+\eta L)^2,\ "
    r"c = (1+H)\eta^2 n\zeta^2 + \eta^2 n\sigma^2",
    "derived in mixlab",
    "upper",
    False,
    LOCAL_SGD_CONSENSUS_BOUND,
    (_ZETA, _SIGMA, _NO_MOMENTUM),
    proof="local_sgd_consensus",
)
WINDOWED_CONSENSUS = Theorem(
    "windowed-consensus",
    "Expected consensus distance under any deterministic mixing sequence",
    r"E\,\Gamma_t \le " + _WINDOW_B[4:] + r",\ A_1 = \sum_\ell c_\ell,\ A_2 = \sum_\ell c_\ell^2,\ "
    r"c_\ell = \max_t \|W_{t-1}\cdots W_{t-\ell} - J\|_2",
    "derived in mixlab",
    "upper",
    False,
    WINDOWED_CONSENSUS_BOUND,
    (_DOUBLY, _FRESH, _WINDOW, _ZETA, _SIGMA, _NO_MOMENTUM),
    proof="windowed_consensus",
)
WAGMA_CONSENSUS = Theorem(
    "wagma-consensus",
    "Expected consensus distance of WAGMA-SGD (no stale contributions)",
    r"E\,\Gamma_t \le " + _WINDOW_B[4:] + r",\ A_1 = \sum_{\ell<\tau}\delta^{\lfloor \ell/k\rfloor},\ "
    r"A_2 = \sum_{\ell<\tau}\delta^{2\lfloor \ell/k\rfloor},\ k = \log_S n,\ "
    r"\delta = 0\ \text{(mean)},\ \tfrac1{S+1}\ \text{(self-weighted)}",
    "derived in mixlab (the windowed bound for the butterfly schedule); setting of Li et al., "
    "WAGMA-SGD, IEEE TPDS 2021",
    "upper",
    False,
    WAGMA_CONSENSUS_BOUND,
    (*_WAGMA_ASSUMPTIONS, _ZETA, _SIGMA, _NO_MOMENTUM),
    proof="wagma_window_sums",
)
WAGMA_NONCONVEX = _nc(
    "wagma-nonconvex",
    "WAGMA-SGD averaged model, smooth nonconvex objectives",
    WAGMA_CONSENSUS_BOUND,
    _WAGMA_B,
    _WAGMA_ASSUMPTIONS,
)
WAGMA_STRONGLY_CONVEX = _sc(
    "wagma-strongly-convex",
    "WAGMA-SGD averaged model, smooth strongly convex objectives",
    WAGMA_CONSENSUS_BOUND,
    _WAGMA_B,
    _WAGMA_ASSUMPTIONS,
)

ASYNC_SGD_NONCONVEX = Theorem(
    "async-sgd-nonconvex",
    "SGD with bounded staleness on smooth nonconvex objectives",
    r"\tfrac1T\sum_{t<T} E\|\nabla f(x_t)\|^2 \le \tfrac{2f_0}{\eta T} + L\eta\sigma^2 + 2\eta^2L^2\tau\sigma^2",
    "derived in mixlab; setting of Lian, Huang, Li & Liu, NeurIPS 2015 (AsySG)",
    "upper",
    False,
    ASYNC_NONCONVEX_BOUND,
    (
        _ETA_NC,
        Assumption(
            "2 eta^2 L^2 tau^2 <= 1 - eta L",
            lambda p: 2 * (p["eta"] * p["L"] * p["tau"]) ** 2 <= 1 - p["eta"] * p["L"],
            "eta = {eta} is too large for staleness tau = {tau} (L = {L})",
        ),
        Assumption(
            "staleness <= tau",
            lambda p: p["staleness_max"] <= p["tau"],
            "the run's staleness {staleness_max} exceeds tau = {tau}",
        ),
        Assumption(
            "uniform variance bound",
            lambda p: bool(p["sigma2_uniform"]),
            "sigma2 bounds the gradient variance at x* only, not at every x",
        ),
    ),
    proof="async_nonconvex",
)

#: (activation, rule) -> LaTeX of w_k. Global activation with the mean rule has no such
#: theorem: a whole group may be reduced from stale buffers, so w_k = 1 for every k.
STALE_VARIANTS = {
    ("group", "mean"): r"w_k = 1 - S^{1-k}",
    ("group", "self_weighted"): r"w_k = 1 - (\tfrac2{S+1})^{k-1}",
    ("global", "self_weighted"): r"w_k = 1 - (S+1)^{1-k}",
}


def _stale_theorem(activation: str, rule: str) -> Theorem:
    return Theorem(
        f"wagma-stale-consensus-{activation}-{rule.replace('_', '-')}",
        f"WAGMA-SGD consensus with stale contributions ({activation} activation, {rule} rule)",
        r"\Gamma_{g+k} \le n\,(w_k\sqrt{\Gamma_g} + k\eta G)^2,\ " + STALE_VARIANTS[activation, rule],
        "derived in mixlab; semantics of Li et al., WAGMA-SGD, IEEE TPDS 2021 (reference code)",
        "upper",
        False,
        WAGMA_STALE_BOUNDS[activation, rule],
        (
            _CTA,
            _NO_MOMENTUM,
            Assumption(
                f"{activation} activation",
                lambda p: p["activation"] == activation,
                f"the run uses {{activation}} activation; this bound is for {activation} activation",
            ),
            Assumption(
                f"{rule} rule",
                lambda p: p["rule"] == rule,
                f"the run uses the {{rule}} rule; this bound is for the {rule} rule",
            ),
            Assumption(
                "bounded stochastic gradients",
                lambda p: p["G"] is not None,
                "the objective's stochastic gradients are unbounded (no G)",
            ),
            Assumption(
                "1 <= k <= tau",
                lambda p: 1 <= p["k"] <= p["tau"],
                "k = {k} is not within one period (tau = {tau}) of a global step",
            ),
        ),
        proof="wagma_stale_window",
    )


WAGMA_STALE = {variant: _stale_theorem(*variant) for variant in STALE_VARIANTS}

CONVERGENCE_THEOREMS = (
    DPSGD_CONSENSUS,
    LOCAL_SGD_CONSENSUS,
    WINDOWED_CONSENSUS,
    WAGMA_CONSENSUS,
    DPSGD_STRONGLY_CONVEX,
    DPSGD_NONCONVEX,
    LOCAL_SGD_STRONGLY_CONVEX,
    LOCAL_SGD_NONCONVEX,
    ASYNC_SGD_NONCONVEX,
    WAGMA_STRONGLY_CONVEX,
    WAGMA_NONCONVEX,
    *WAGMA_STALE.values(),
)
