"""Theorems as objects: a statement, checkable assumptions, a SymPy bound, a kind
(upper / lower / equality / equality in expectation), tightness and a source.

``check(measured, **params)`` evaluates the bound at ``params`` and returns a
:class:`Verdict`; it raises :class:`AssumptionError` (naming the violated
assumption and the offending value) when an assumption does not hold, so a
measurement is never judged against a statement that does not apply.

>>> from mixlab.theory.theorems import CONSENSUS_CONTRACTION as thm
>>> thm.check(0.5, rho=0.8, initial=1.0, doubly_stochastic=True).verdict
'pass'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from mixlab.errors import MixlabError
from mixlab.validate import require_choice

KINDS = ("upper", "lower", "equality", "equality_in_expectation")


class AssumptionError(MixlabError, ValueError):
    """A theorem's assumption does not hold for the given parameters."""


@dataclass(frozen=True)
class Assumption:
    """``holds(params)`` decides; ``message`` (format-able with params) says what failed."""

    name: str
    holds: Callable[[dict], bool]
    message: str


@dataclass(frozen=True)
class Verdict:
    theorem: str
    source: str
    parameters: dict
    measured: float
    bound: float
    kind: str
    tolerance: float
    verdict: str

    @property
    def ratio(self) -> float | None:
        return None if self.bound == 0 else self.measured / self.bound


@dataclass(frozen=True)
class Theorem:
    id: str
    name: str
    statement: str
    source: str
    kind: str
    tight: bool
    bound: sp.Expr
    assumptions: tuple[Assumption, ...] = field(default_factory=tuple)

    def __post_init__(self):
        require_choice("theorem kind", self.kind, KINDS)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(sorted(str(s) for s in self.bound.free_symbols))

    def check_assumptions(self, **params) -> None:
        for a in self.assumptions:
            try:
                ok = a.holds(params)
            except KeyError as exc:
                raise AssumptionError(f"{self.name}: assumption '{a.name}' needs parameter {exc}") from None
            if not ok:
                raise AssumptionError(f"{self.name}: assumption '{a.name}' fails: "
                                      + a.message.format(**params))

    def evaluate(self, **params) -> float:
        """The bound at ``params`` (after checking the assumptions)."""
        self.check_assumptions(**params)
        missing = [s for s in self.symbols if s not in params]
        if missing:
            raise AssumptionError(f"{self.name}: the bound needs parameters {missing}")
        return float(self.bound.subs({sym: params[str(sym)] for sym in self.bound.free_symbols}).evalf(30))

    def check(self, measured: float, *, tolerance: float = 1e-9, **params) -> Verdict:
        """Judge ``measured`` against the bound: <= (upper), >= (lower), == within
        ``tolerance`` (equality kinds; for expectations pass the confidence
        half-width as tolerance)."""
        bound = self.evaluate(**params)
        m = float(measured)
        ok = {"upper": m <= bound + tolerance, "lower": m >= bound - tolerance,
              "equality": abs(m - bound) <= tolerance,
              "equality_in_expectation": abs(m - bound) <= tolerance}[self.kind]
        return Verdict(self.id, self.source, params, m, bound, self.kind, tolerance,
                       "pass" if ok else "fail")


# ---- symbols and shared assumptions ---------------------------------------------------------

rho, initial, n, S, u, lam, t = sp.symbols("rho initial n S u lam t", nonnegative=True)

DOUBLY_STOCHASTIC = Assumption("doubly stochastic W", lambda p: bool(p["doubly_stochastic"]),
                               "W is not doubly stochastic (doubly_stochastic = {doubly_stochastic})")
BUTTERFLY_SIZE = Assumption("n = S^k", lambda p: _is_power(p["n"], p["S"]),
                            "n = {n} is not a power of S = {S}")
DIVISIBLE = Assumption("S divides n", lambda p: p["n"] % p["S"] == 0, "S = {S} does not divide n = {n}")


def _is_power(n_value: int, base: int) -> bool:
    if base < 2:
        return False
    k = 1
    while k < n_value:
        k *= base
    return k == n_value


CONSENSUS_CONTRACTION = Theorem(
    "consensus-contraction", "Consensus contraction of a mixing step",
    r"\|W X - J X\|_F \le \rho \|X - J X\|_F,\quad \rho = \|W - J\|_2",
    "definition of the operator norm (W J = J W = J for doubly stochastic W)",
    "upper", True, rho * initial, (DOUBLY_STOCHASTIC,))

PERIOD_CONTRACTION = Theorem(
    "period-contraction", "Consensus contraction of a time-varying period",
    r"\|W_{q-1}\cdots W_0 X - J X\|_F \le \|W_{q-1}\cdots W_0 - J\|_2 \|X - J X\|_F",
    "definition of the operator norm", "upper", True, rho * initial, (DOUBLY_STOCHASTIC,))

BUTTERFLY_EXACT = Theorem(
    "butterfly-exact-averaging", "Butterfly groups average exactly in log_S n steps",
    r"W_{k-1}\cdots W_0 = J,\ k = \log_S n",
    "Li et al., WAGMA-SGD, IEEE TPDS 2021 (group schedule)", "equality", True,
    sp.log(n) / sp.log(S), (BUTTERFLY_SIZE,))

SELF_WEIGHTED_PERIOD = Theorem(
    "self-weighted-period", "Self-weighted butterfly period contraction",
    r"\|W_{k-1}\cdots W_0 - J\|_2 = 1/(S+1)",
    "derived in mixlab (proof: mixlab.proofs.derivations.self_weighted_period)", "equality", True,
    1 / (S + 1), (BUTTERFLY_SIZE,))

RANDOM_GROUPS = Theorem(
    "random-groups-expectation", "One random-group round shrinks Gamma in expectation",
    r"E[\Gamma'] = \frac{n-S}{S(n-1)}\,\Gamma",
    "derived in mixlab (proof: mixlab.proofs.derivations.random_group_factor)",
    "equality_in_expectation", True, (n - S) / (S * (n - 1)) * initial, (DIVISIBLE,))

PAIRWISE_GOSSIP = Theorem(
    "randomized-gossip", "Randomized pairwise gossip converges in mean square",
    r"E\|x(t) - \bar x 1\|^2 \le \lambda_2(\bar W)^t \|x(0) - \bar x 1\|^2",
    "Boyd, Ghosh, Prabhakar & Shah, IEEE Trans. Inf. Theory 2006, Lemma 1 / Thm. 3",
    "upper", False, rho**t * initial,
    (Assumption("lambda_2 < 1", lambda p: p["rho"] < 1, "lambda_2(E W) = {rho} >= 1 (graph not connected)"),))

USER_STALENESS = Theorem(
    "user-staleness", "Mean staleness of gossip learning on the complete graph",
    r"\lim E[S_i^j] = \frac{u}{\lambda} H_{n-1}",
    "derived in mixlab from Yates' recursion (proof: mixlab.proofs.derivations.telescoping); "
    "model: Mitra & Ulukus, arXiv 2404.19749",
    "equality_in_expectation", True, u / lam * sp.harmonic(n - 1),
    (Assumption("n >= 2", lambda p: p["n"] >= 2, "n = {n} < 2"),))

predicted = sp.Symbol("predicted", real=True)

QUADRATIC_SECOND_MOMENT = Theorem(
    "quadratic-second-moment", "Exact expected error and consensus of decentralized SGD on a quadratic",
    r"E[f(\bar x_T)] - f^* = \tfrac12 \sum_k h_k E[(\bar x_{T,k} - x^*_k)^2],\ "
    r"E\,\Gamma_T = \sum_k \operatorname{tr}((I-J)(P_k + m_k m_k^\top))"
    r"\ \text{from } m' = A m + b,\ P' = A P A^\top + Q",
    "derived in mixlab (proof: mixlab.proofs.derivations.second_moment_recursion; "
    "solver: mixlab.theory.second_moment)",
    "equality_in_expectation", True, predicted,
    (Assumption("no momentum", lambda p: p.get("momentum", 0.0) == 0.0,
                "momentum = {momentum} (the recursion covers plain SGD steps)"),))

eta, L, zeta2, sigma2, tau = sp.symbols("eta L zeta2 sigma2 tau", positive=True)
_eps = 1 / tau
_q = (1 + _eps) * (1 + eta * L) ** 2                       # growth factor of a group step
_c = (1 + 1 / _eps) * eta**2 * n * zeta2 + eta**2 * n * sigma2
_reset = (1 + _eps) * (eta * L) ** 2                         # factor of the global step
WAGMA_CONSENSUS_BOUND = _c * (_q ** (tau - 1) + (_q ** (tau - 1) - 1) / (_q - 1)) \
    / (1 - _q ** (tau - 1) * _reset)


def _wagma_condition(p: dict) -> bool:
    e, lip, t = p["eta"], p["L"], p["tau"]
    q = (1 + 1 / t) * (1 + e * lip) ** 2
    return q ** (t - 1) * (1 + 1 / t) * (e * lip) ** 2 < 1


WAGMA_CONSENSUS = Theorem(
    "wagma-consensus", "Expected consensus distance of WAGMA-SGD under periodic global averaging",
    r"E\,\Gamma_t \le \frac{c\,(q^{\tau-1} + \frac{q^{\tau-1}-1}{q-1})}{1 - q^{\tau-1}(1+\tfrac1\tau)\eta^2L^2},\ "
    r"q = (1+\tfrac1\tau)(1+\eta L)^2,\ c = (1+\tau)\eta^2 n\zeta^2 + \eta^2 n\sigma^2",
    "derived in mixlab (proof: mixlab.proofs.derivations.wagma_consensus); setting of Li et al., "
    "WAGMA-SGD, IEEE TPDS 2021",
    "upper", False, WAGMA_CONSENSUS_BOUND,
    (Assumption("combine-then-adapt", lambda p: p["order"] == "cta", "order = {order}"),
     Assumption("no momentum", lambda p: p["momentum"] == 0.0, "momentum = {momentum}"),
     Assumption("no stale contributions", lambda p: p["staleness_max"] == 0,
                "the run had stale contributions (max staleness {staleness_max})"),
     Assumption("uniform heterogeneity bound", lambda p: bool(p["zeta2_uniform"]),
                "zeta2 bounds the heterogeneity at x* only, not at every x"),
     Assumption("uniform variance bound", lambda p: bool(p["sigma2_uniform"]),
                "sigma2 bounds the gradient variance at x* only, not at every x"),
     Assumption("step size small enough", _wagma_condition,
                "(1+1/tau) (eta L)^2 q^(tau-1) >= 1 at eta = {eta}, L = {L}, tau = {tau}")))

_BASE = (CONSENSUS_CONTRACTION, PERIOD_CONTRACTION, BUTTERFLY_EXACT, SELF_WEIGHTED_PERIOD, RANDOM_GROUPS,
         PAIRWISE_GOSSIP, USER_STALENESS, QUADRATIC_SECOND_MOMENT, WAGMA_CONSENSUS)


def all_theorems() -> dict[str, Theorem]:
    """Every theorem mixlab knows, by id (this module's and mixlab.theory.convergence's)."""
    from mixlab.theory.convergence import CONVERGENCE_THEOREMS

    return {t.id: t for t in (*_BASE, *CONVERGENCE_THEOREMS)}
