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

from mixlab.errors import AssumptionError
from mixlab.validate import require_choice

KINDS = ("upper", "lower", "equality", "equality_in_expectation")


@dataclass(frozen=True)
class Assumption:
    """A checkable assumption of a theorem.

    Parameters
    ----------
    name : str
        Short statement of the assumption, e.g. ``"doubly stochastic W"``.
    holds : callable
        ``holds(params) -> bool`` decides it from the theorem's parameter dict; a
        missing parameter raises KeyError.
    message : str
        What failed, a ``str.format`` template filled with the parameters.
    """

    name: str
    holds: Callable[[dict], bool]
    message: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of judging one measurement against one theorem's bound.

    Parameters
    ----------
    theorem : str
        Id of the theorem.
    source : str
        The theorem's source (paper and result, or "derived in mixlab").
    parameters : dict
        The parameters the bound was evaluated at.
    measured : float
        The measured value.
    bound : float
        The bound (or predicted value) at ``parameters``.
    kind : str
        One of :data:`KINDS`: upper, lower, equality, equality_in_expectation.
    tolerance : float
        Slack allowed in the comparison.
    verdict : {"pass", "fail"}
        The judgement.
    """

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
        """measured / bound, None when the bound is 0.

        Returns
        -------
        float or None
            How close the measurement came to the bound (<= 1 passes an upper bound).
        """
        return None if self.bound == 0 else self.measured / self.bound


@dataclass(frozen=True)
class Theorem:
    """A theorem as an object: statement, checkable assumptions, SymPy bound, kind and source.

    Parameters
    ----------
    id : str
        Stable identifier, e.g. ``"consensus-contraction"``.
    name : str
        Human-readable title.
    statement : str
        The statement in LaTeX.
    source : str
        Paper and result it comes from, or "derived in mixlab".
    kind : str
        One of :data:`KINDS`: upper, lower, equality, equality_in_expectation.
    tight : bool
        Whether the bound is attained (for some admissible input).
    bound : sympy.Expr
        The bound (or predicted value); its free symbols name the parameters.
    assumptions : tuple of Assumption, default ()
        Checked before every evaluation.
    proof : str or None, default None
        Key of the derivation in :data:`mixlab.proofs.derivations.DERIVATIONS`
        (statements derived in mixlab).

    Raises
    ------
    ParameterError
        If ``kind`` is not one of :data:`KINDS`.

    Examples
    --------
    >>> from mixlab.theory.theorems import CONSENSUS_CONTRACTION as thm
    >>> thm.symbols, thm.evaluate(rho=0.5, initial=2.0, doubly_stochastic=True)
    (('initial', 'rho'), 1.0)
    """

    id: str
    name: str
    statement: str
    source: str
    kind: str
    tight: bool
    bound: sp.Expr
    assumptions: tuple[Assumption, ...] = field(default_factory=tuple)
    #: name of the derivation in :data:`mixlab.proofs.derivations.DERIVATIONS` (statements derived in mixlab)
    proof: str | None = None

    def __post_init__(self):
        require_choice("theorem kind", self.kind, KINDS)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Names of the bound's free symbols, sorted.

        Returns
        -------
        tuple of str
            The parameters the bound needs (assumptions may need more).
        """
        return tuple(sorted(str(s) for s in self.bound.free_symbols))

    def check_assumptions(self, **params) -> None:
        """Raise unless every assumption holds at ``params``.

        Parameters
        ----------
        **params
            The theorem's parameters (bound symbols and assumption flags).

        Raises
        ------
        AssumptionError
            Naming the first violated assumption and the offending value, or the
            parameter an assumption needs but did not get.
        """
        for a in self.assumptions:
            try:
                ok = a.holds(params)
            except KeyError as exc:
                raise AssumptionError(f"{self.name}: assumption '{a.name}' needs parameter {exc}") from None
            if not ok:
                raise AssumptionError(
                    f"{self.name}: assumption '{a.name}' fails: " + a.message.format(**params)
                )

    def evaluate(self, **params) -> float:
        """The bound at ``params``, after checking the assumptions.

        Parameters
        ----------
        **params
            Values of every symbol in :attr:`symbols` and of the assumptions' flags.

        Returns
        -------
        float
            The bound evaluated at ``params``.

        Raises
        ------
        AssumptionError
            If an assumption fails or a symbol of the bound has no value.
        """
        self.check_assumptions(**params)
        missing = [s for s in self.symbols if params.get(s) is None]
        if missing:
            raise AssumptionError(f"{self.name}: the bound needs parameters {missing}")
        return float(self.bound.subs({sym: params[str(sym)] for sym in self.bound.free_symbols}).evalf(30))

    def check(self, measured: float, *, tolerance: float = 1e-9, **params) -> Verdict:
        """Judge ``measured`` against the bound at ``params``.

        Passes when measured <= bound + tolerance (upper), >= bound - tolerance
        (lower), or |measured - bound| <= tolerance (equality kinds).

        Parameters
        ----------
        measured : float
            The measured value.
        tolerance : float, default 1e-9
            Allowed slack; for expectations pass the confidence half-width.
        **params
            As for :meth:`evaluate`.

        Returns
        -------
        Verdict
            Bound, measurement and ``"pass"`` or ``"fail"``.

        Raises
        ------
        AssumptionError
            If an assumption fails or a parameter is missing: a measurement is never
            judged against a statement that does not apply.
        """
        bound = self.evaluate(**params)
        m = float(measured)
        ok = {
            "upper": m <= bound + tolerance,
            "lower": m >= bound - tolerance,
            "equality": abs(m - bound) <= tolerance,
            "equality_in_expectation": abs(m - bound) <= tolerance,
        }[self.kind]
        return Verdict(self.id, self.source, params, m, bound, self.kind, tolerance, "pass" if ok else "fail")


# ---- symbols and shared assumptions ---------------------------------------------------------

rho, initial, n, S, u, lam, t = sp.symbols("rho initial n S u lam t", nonnegative=True)

DOUBLY_STOCHASTIC = Assumption(
    "doubly stochastic W",
    lambda p: bool(p["doubly_stochastic"]),
    "W is not doubly stochastic (doubly_stochastic = {doubly_stochastic})",
)
BUTTERFLY_SIZE = Assumption(
    "n = S^k", lambda p: _is_power(p["n"], p["S"]), "n = {n} is not a power of S = {S}"
)
DIVISIBLE = Assumption("S divides n", lambda p: p["n"] % p["S"] == 0, "S = {S} does not divide n = {n}")


def _is_power(n_value: int, base: int) -> bool:
    if base < 2:
        return False
    k = 1
    while k < n_value:
        k *= base
    return k == n_value


CONSENSUS_CONTRACTION = Theorem(
    "consensus-contraction",
    "Consensus contraction of a mixing step",
    r"\|W X - J X\|_F \le \rho \|X - J X\|_F,\quad \rho = \|W - J\|_2",
    "definition of the operator norm (W J = J W = J for doubly stochastic W)",
    "upper",
    True,
    rho * initial,
    (DOUBLY_STOCHASTIC,),
)

PERIOD_CONTRACTION = Theorem(
    "period-contraction",
    "Consensus contraction of a time-varying period",
    r"\|W_{q-1}\cdots W_0 X - J X\|_F \le \|W_{q-1}\cdots W_0 - J\|_2 \|X - J X\|_F",
    "definition of the operator norm",
    "upper",
    True,
    rho * initial,
    (DOUBLY_STOCHASTIC,),
)

BUTTERFLY_EXACT = Theorem(
    "butterfly-exact-averaging",
    "Butterfly groups average exactly in log_S n steps",
    r"W_{k-1}\cdots W_0 = J,\ k = \log_S n",
    "Li et al., WAGMA-SGD, IEEE TPDS 2021 (group schedule)",
    "equality",
    True,
    sp.log(n) / sp.log(S),
    (BUTTERFLY_SIZE,),
)

SELF_WEIGHTED_PERIOD = Theorem(
    "self-weighted-period",
    "Self-weighted butterfly period contraction",
    r"\|W_{k-1}\cdots W_0 - J\|_2 = 1/(S+1)",
    "derived in mixlab",
    "equality",
    True,
    1 / (S + 1),
    (BUTTERFLY_SIZE,),
    proof="self_weighted_period",
)

RANDOM_GROUPS = Theorem(
    "random-groups-expectation",
    "One random-group round shrinks Gamma in expectation",
    r"E[\Gamma'] = \frac{n-S}{S(n-1)}\,\Gamma",
    "derived in mixlab",
    "equality_in_expectation",
    True,
    (n - S) / (S * (n - 1)) * initial,
    (DIVISIBLE,),
    proof="random_group_factor",
)

PAIRWISE_GOSSIP = Theorem(
    "randomized-gossip",
    "Randomized pairwise gossip converges in mean square",
    r"E\|x(t) - \bar x 1\|^2 \le \lambda_2(\bar W)^t \|x(0) - \bar x 1\|^2",
    "Boyd, Ghosh, Prabhakar & Shah, IEEE Trans. Inf. Theory 2006, Lemma 1 / Thm. 3",
    "upper",
    False,
    rho**t * initial,
    (Assumption("lambda_2 < 1", lambda p: p["rho"] < 1, "lambda_2(E W) = {rho} >= 1 (graph not connected)"),),
)

USER_STALENESS = Theorem(
    "user-staleness",
    "Mean staleness of gossip learning on the complete graph",
    r"\lim E[S_i^j] = \frac{u}{\lambda} H_{n-1}",
    "derived in mixlab from Yates' recursion (ISIT 2021, Thm. 1); model of Mitra & Ulukus, "
    "arXiv 2404.19749 (fully connected network)",
    "equality_in_expectation",
    True,
    u / lam * sp.harmonic(n - 1),
    (Assumption("n >= 2", lambda p: p["n"] >= 2, "n = {n} < 2"),),
    proof="telescoping",
)

predicted = sp.Symbol("predicted", real=True)

QUADRATIC_SECOND_MOMENT = Theorem(
    "quadratic-second-moment",
    "Exact expected error and consensus of decentralized SGD on a quadratic",
    r"E[f(\bar x_T)] - f^* = \tfrac12 \operatorname{tr}(\bar H(\operatorname{Cov}\bar x_T"
    r" + (E\bar x_T - x^*)(E\bar x_T - x^*)^\top)),\ "
    r"E\,\Gamma_T = \operatorname{tr}(((I-J)\otimes I_d)(P + m m^\top))"
    r"\ \text{from } m' = A m + b,\ P' = A P A^\top + Q \text{ in } \mathbb R^{nd}",
    "derived in mixlab (solver: mixlab.theory.second_moment)",
    "equality_in_expectation",
    True,
    predicted,
    (
        Assumption(
            "no momentum",
            lambda p: p.get("momentum", 0.0) == 0.0,
            "momentum = {momentum} (the recursion covers plain SGD steps)",
        ),
        Assumption(
            "no stale contributions",
            lambda p: p.get("staleness_max", 0) == 0,
            "the run had stale contributions (max staleness {staleness_max})",
        ),
    ),
    proof="second_moment_recursion",
)

GOSSIP_SECOND_MOMENT = Theorem(
    "gossip-second-moment",
    "Exact mean-square error of randomized pairwise gossip",
    r"E\|x(t) - \bar x 1\|^2 = \operatorname{tr}((I-J) M_t),\ "
    r"M_{t+1} = \tfrac1m \sum_{e} W_e M_t W_e,\ M_0 = x(0) x(0)^\top",
    "derived in mixlab (solver: mixlab.theory.pairwise_gossip)",
    "equality_in_expectation",
    True,
    predicted,
    (),
    proof="pairwise_gossip_second_moment",
)

_BASE = (
    CONSENSUS_CONTRACTION,
    PERIOD_CONTRACTION,
    BUTTERFLY_EXACT,
    SELF_WEIGHTED_PERIOD,
    RANDOM_GROUPS,
    PAIRWISE_GOSSIP,
    GOSSIP_SECOND_MOMENT,
    USER_STALENESS,
    QUADRATIC_SECOND_MOMENT,
)


def all_theorems() -> dict[str, Theorem]:
    """Every theorem mixlab knows, by id (this module's and mixlab.theory.convergence's).

    Returns
    -------
    dict of str to Theorem
        Theorem id -> :class:`Theorem`, in a fixed order.

    Examples
    --------
    >>> import mixlab as ml
    >>> thm = ml.all_theorems()["randomized-gossip"]
    >>> thm.kind, thm.check(0.2, rho=0.5, t=2, initial=1.0).verdict
    ('upper', 'pass')

    References
    ----------
    Each theorem names its own source in ``Theorem.source`` (e.g. Boyd, Ghosh, Prabhakar
    & Shah, IEEE Trans. Inf. Theory 2006, for ``randomized-gossip``; Li et al.,
    WAGMA-SGD, IEEE TPDS 2021, for ``butterfly-exact-averaging``), or says "derived in
    mixlab" and names its derivation in ``Theorem.proof``; see docs/design.md, section
    Conventions.
    """
    from mixlab.theory.convergence import CONVERGENCE_THEOREMS

    return {t.id: t for t in (*_BASE, *CONVERGENCE_THEOREMS)}
