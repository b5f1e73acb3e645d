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
- local SGD, averaging every H steps (after the local step, as the engine does): B = c (q^(H-1) - 1)/(q - 1),
  q = (1 + 1/H)(1 + eta L)^2, c = (1 + H) eta^2 n zeta2 + eta^2 n sigma2;
- WAGMA-SGD without stale contributions: :data:`mixlab.theory.theorems.WAGMA_CONSENSUS_BOUND`.

Asynchronous SGD with staleness <= tau (x_{t+1} = x_t - eta g(x_{t - tau_t})), nonconvex:
(1/T) sum E||grad f(x_t)||^2 <= 2 f0/(eta T) + L eta sigma2 + 2 eta^2 L^2 tau sigma2
when 2 eta^2 L^2 tau^2 <= 1 - eta L (:func:`~mixlab.proofs.derivations.async_nonconvex`).

WAGMA-SGD with stale contributions (CTA, stochastic gradients bounded by G):
for the state k iterations after global step g (1 <= k <= tau),
Gamma_{g+k} <= n (w_k sqrt(Gamma_g) + k eta G)^2, w_k = 1 - S^(1-k) (mean rule) or
1 - (2/(S+1))^(k-1) (self-weighted); a sure bound, holding on every run
(:func:`~mixlab.proofs.derivations.wagma_stale_window`).

>>> from mixlab.theory.convergence import DPSGD_NONCONVEX as thm
>>> round(thm.evaluate(eta=0.1, L=1.0, n=16, rho=0.5, atc=0, zeta2=1.0, sigma2=1.0, f0=2.0, T=100,
...                    doubly_stochastic=True, zeta2_uniform=True, sigma2_uniform=True, momentum=0.0), 3)
0.494
"""

from __future__ import annotations

import sympy as sp

from mixlab.theory.theorems import (WAGMA_CONSENSUS, WAGMA_CONSENSUS_BOUND, Assumption, Theorem, L,
                                    S, eta, n, rho, sigma2, tau, zeta2)

mu, T, H, r0, f0, G, k, gamma_g, atc = sp.symbols("mu T H r0 f0 G k gamma_g atc", nonnegative=True)

# ---- consensus bounds ------------------------------------------------------------------------

_a = (1 - atc) * (rho + eta * L) + atc * rho * (1 + eta * L)
_b2 = (1 - atc) * eta**2 + atc * rho**2 * eta**2
DPSGD_CONSENSUS_BOUND = _b2 * n * (zeta2 / (1 - _a) ** 2 + sigma2 / (1 - _a))

_q_local = (1 + 1 / H) * (1 + eta * L) ** 2
_c_local = (1 + H) * eta**2 * n * zeta2 + eta**2 * n * sigma2
LOCAL_SGD_CONSENSUS_BOUND = _c_local * (_q_local ** (H - 1) - 1) / (_q_local - 1)


def strongly_convex_rate(consensus: sp.Expr) -> sp.Expr:
    """E f(xbar_T) - f* bound given E Gamma_t <= consensus."""
    return L / 2 * ((1 - eta * mu / 2) ** T * r0
                    + 2 / mu * (eta * sigma2 / n + (L + mu + 2 * eta * L**2) * consensus / n))


def nonconvex_rate(consensus: sp.Expr) -> sp.Expr:
    """(1/T) sum_t E||grad f(xbar_t)||^2 bound given E Gamma_t <= consensus."""
    return 2 * f0 / (eta * T) + L**2 * consensus / n + L * eta * sigma2 / n


ASYNC_NONCONVEX_BOUND = 2 * f0 / (eta * T) + L * eta * sigma2 + 2 * eta**2 * L**2 * tau * sigma2


def stale_weight(rule: str):
    """w_k: the largest total weight that pre-average models can keep k iterations
    after a global step (the first arriver of a group is always fresh)."""
    return 1 - S ** (1 - k) if rule == "mean" else 1 - (2 / (S + 1)) ** (k - 1)


WAGMA_STALE_BOUNDS = {rule: n * (stale_weight(rule) * sp.sqrt(gamma_g) + k * eta * G) ** 2
                      for rule in ("mean", "self_weighted")}

# ---- assumptions -------------------------------------------------------------------------------

_NO_MOMENTUM = Assumption("no momentum", lambda p: p["momentum"] == 0.0, "momentum = {momentum}")
_DOUBLY = Assumption("doubly stochastic mixing", lambda p: bool(p["doubly_stochastic"]),
                     "the mixing matrices are not doubly stochastic")
_ZETA = Assumption("uniform heterogeneity bound", lambda p: bool(p["zeta2_uniform"]),
                   "zeta2 bounds the heterogeneity at x* only, not at every x")
_SIGMA = Assumption("uniform variance bound", lambda p: bool(p["sigma2_uniform"]),
                    "sigma2 bounds the gradient variance at x* only, not at every x")
_EACH_SC = Assumption("each f_i mu-strongly convex", lambda p: bool(p["each_strongly_convex"]) and p["mu"] > 0,
                      "the local objectives are not all mu-strongly convex (mu = {mu})")
_ETA_SC = Assumption("eta <= 1/(4L)", lambda p: p["eta"] * p["L"] <= 0.25,
                     "eta L = {eta} * {L} > 1/4")
_ETA_NC = Assumption("eta <= 1/L", lambda p: p["eta"] * p["L"] <= 1.0, "eta L = {eta} * {L} > 1")
_MIXING = Assumption("a < 1 (rho + eta L for CTA, rho (1 + eta L) for ATC)",
                     lambda p: float(_a.subs({atc: p["atc"], rho: p["rho"], eta: p["eta"], L: p["L"]})) < 1,
                     "the mixing does not contract fast enough: rho = {rho}, eta = {eta}, L = {L}, atc = {atc}")
_WAGMA_ASSUMPTIONS = tuple(a for a in WAGMA_CONSENSUS.assumptions
                           if a.name not in (_ZETA.name, _SIGMA.name, _NO_MOMENTUM.name))

_AVERAGED = ("derived in mixlab (proofs: mixlab.proofs.derivations.averaged_strongly_convex / "
             "averaged_nonconvex and the consensus bound's derivation)")
_SC_STATEMENT = (r"E f(\bar x_T) - f^* \le \tfrac L2\big[(1-\tfrac{\eta\mu}2)^T r_0 + \tfrac2\mu"
                 r"(\tfrac{\eta\sigma^2}n + (L+\mu+2\eta L^2)\tfrac Bn)\big]")
_NC_STATEMENT = (r"\tfrac1T\sum_{t<T} E\|\nabla f(\bar x_t)\|^2 \le \tfrac{2 f_0}{\eta T}"
                 r" + \tfrac{L^2 B}{n} + \tfrac{L\eta\sigma^2}{n}")


def _sc(id_, name, consensus, consensus_text, extra):
    return Theorem(id_, name, f"{_SC_STATEMENT},\\ {consensus_text}", _AVERAGED, "upper", False,
                   strongly_convex_rate(consensus), (_EACH_SC, _ETA_SC, _ZETA, _SIGMA, _NO_MOMENTUM, *extra))


def _nc(id_, name, consensus, consensus_text, extra):
    return Theorem(id_, name, f"{_NC_STATEMENT},\\ {consensus_text}", _AVERAGED, "upper", False,
                   nonconvex_rate(consensus), (_ETA_NC, _ZETA, _SIGMA, _NO_MOMENTUM, *extra))


_DPSGD_B = r"B = b^2 n(\tfrac{\zeta^2}{(1-a)^2} + \tfrac{\sigma^2}{1-a})"
_LOCAL_B = r"B = c\tfrac{q^{H-1}-1}{q-1}"
_WAGMA_B = r"B = \text{WAGMA consensus bound}"

DPSGD_STRONGLY_CONVEX = _sc("dpsgd-strongly-convex", "D-PSGD on smooth strongly convex objectives",
                            DPSGD_CONSENSUS_BOUND, _DPSGD_B, (_DOUBLY, _MIXING))
DPSGD_NONCONVEX = _nc("dpsgd-nonconvex", "D-PSGD on smooth nonconvex objectives",
                      DPSGD_CONSENSUS_BOUND, _DPSGD_B, (_DOUBLY, _MIXING))
LOCAL_SGD_STRONGLY_CONVEX = _sc("local-sgd-strongly-convex", "Local SGD on smooth strongly convex objectives",
                                LOCAL_SGD_CONSENSUS_BOUND, _LOCAL_B, ())
LOCAL_SGD_NONCONVEX = _nc("local-sgd-nonconvex", "Local SGD on smooth nonconvex objectives",
                          LOCAL_SGD_CONSENSUS_BOUND, _LOCAL_B, ())

DPSGD_CONSENSUS = Theorem(
    "dpsgd-consensus", "Expected consensus distance of D-PSGD",
    r"E\,\Gamma_t \le b^2 n\big(\tfrac{\zeta^2}{(1-a)^2} + \tfrac{\sigma^2}{1-a}\big),\ "
    r"(a, b) = (\rho + \eta L, \eta)\ \text{(CTA)},\ (\rho(1+\eta L), \rho\eta)\ \text{(ATC)}",
    "derived in mixlab (proof: mixlab.proofs.derivations.dpsgd_consensus)", "upper", False,
    DPSGD_CONSENSUS_BOUND, (_DOUBLY, _MIXING, _ZETA, _SIGMA, _NO_MOMENTUM))
LOCAL_SGD_CONSENSUS = Theorem(
    "local-sgd-consensus", "Expected consensus distance of local SGD",
    r"E\,\Gamma_t \le c\,\tfrac{q^{H-1}-1}{q-1},\ q = (1+\tfrac1H)(1+\eta L)^2,\ "
    r"c = (1+H)\eta^2 n\zeta^2 + \eta^2 n\sigma^2",
    "derived in mixlab (proof: mixlab.proofs.derivations.local_sgd_consensus)", "upper", False,
    LOCAL_SGD_CONSENSUS_BOUND, (_ZETA, _SIGMA, _NO_MOMENTUM))
WAGMA_NONCONVEX = _nc("wagma-nonconvex", "WAGMA-SGD averaged model, smooth nonconvex objectives",
                      WAGMA_CONSENSUS_BOUND, _WAGMA_B, _WAGMA_ASSUMPTIONS)
WAGMA_STRONGLY_CONVEX = _sc("wagma-strongly-convex", "WAGMA-SGD averaged model, smooth strongly convex objectives",
                            WAGMA_CONSENSUS_BOUND, _WAGMA_B, _WAGMA_ASSUMPTIONS)

ASYNC_SGD_NONCONVEX = Theorem(
    "async-sgd-nonconvex", "SGD with bounded staleness on smooth nonconvex objectives",
    r"\tfrac1T\sum_{t<T} E\|\nabla f(x_t)\|^2 \le \tfrac{2f_0}{\eta T} + L\eta\sigma^2 + 2\eta^2L^2\tau\sigma^2",
    "derived in mixlab (proof: mixlab.proofs.derivations.async_nonconvex); setting of "
    "Lian, Huang, Li & Liu, NeurIPS 2015 (AsySG)",
    "upper", False, ASYNC_NONCONVEX_BOUND,
    (_ETA_NC,
     Assumption("2 eta^2 L^2 tau^2 <= 1 - eta L",
                lambda p: 2 * (p["eta"] * p["L"] * p["tau"]) ** 2 <= 1 - p["eta"] * p["L"],
                "eta = {eta} is too large for staleness tau = {tau} (L = {L})"),
     Assumption("staleness <= tau", lambda p: p["staleness_max"] <= p["tau"],
                "the run's staleness {staleness_max} exceeds tau = {tau}"),
     Assumption("uniform variance bound", lambda p: bool(p["sigma2_uniform"]),
                "sigma2 bounds the gradient variance at x* only, not at every x")))


def _stale_theorem(rule: str) -> Theorem:
    return Theorem(
        f"wagma-stale-consensus-{rule.replace('_', '-')}",
        f"WAGMA-SGD consensus with stale contributions ({rule} rule)",
        r"\Gamma_{g+k} \le n\,(w_k\sqrt{\Gamma_g} + k\eta G)^2,\ "
        + (r"w_k = 1 - S^{1-k}" if rule == "mean" else r"w_k = 1 - (\tfrac2{S+1})^{k-1}"),
        "derived in mixlab (proof: mixlab.proofs.derivations.wagma_stale_window); "
        "semantics of Li et al., WAGMA-SGD, IEEE TPDS 2021",
        "upper", False, WAGMA_STALE_BOUNDS[rule],
        (Assumption("combine-then-adapt", lambda p: p["order"] == "cta", "order = {order}"),
         _NO_MOMENTUM,
         Assumption("bounded stochastic gradients", lambda p: p["G"] is not None,
                    "the objective's stochastic gradients are unbounded (no G)"),
         Assumption("1 <= k <= tau", lambda p: 1 <= p["k"] <= p["tau"],
                    "k = {k} is not within one period (tau = {tau}) of a global step")))


WAGMA_STALE_MEAN = _stale_theorem("mean")
WAGMA_STALE_SELF_WEIGHTED = _stale_theorem("self_weighted")

CONVERGENCE_THEOREMS = (DPSGD_CONSENSUS, LOCAL_SGD_CONSENSUS, DPSGD_STRONGLY_CONVEX, DPSGD_NONCONVEX, LOCAL_SGD_STRONGLY_CONVEX,
                        LOCAL_SGD_NONCONVEX, ASYNC_SGD_NONCONVEX, WAGMA_STRONGLY_CONVEX, WAGMA_NONCONVEX,
                        WAGMA_STALE_MEAN, WAGMA_STALE_SELF_WEIGHTED)
