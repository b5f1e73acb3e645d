"""A check holds one measured quantity against a bound or an exact value, and
runs a control that must fail.

Verdicts: ``pass``; ``fail``; ``not_applicable`` when an assumption of the
statement does not hold for the run (never counted as a pass); ``weak`` when
the statement holds but so does its control: a control breaks the statement's
mechanism (no communication, singleton groups, staleness past tau, the wrong
topology's rho, an understated constant) while keeping the claimed constants,
and a check whose control also passes proves nothing. Every check against an
upper or lower bound has a control; ``control`` is None only for exact
identities and equalities.

A run returns its measurement as a float (deterministic) or a
:class:`~mixlab.validation.statistics.Estimate` (mean and standard error);
statistical comparisons use t * stderr at the false-alarm rate
:data:`~mixlab.validation.statistics.ALPHA` (one-sided for bounds).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from mixlab.errors import ParameterError
from mixlab.theory.theorems import Theorem
from mixlab.validation import statistics as st

RELATIONS = ("<=", "==", ">=")
RELATION_OF_KIND = {"upper": "<=", "lower": ">=", "equality": "==", "equality_in_expectation": "=="}


@dataclass(frozen=True)
class Control:
    """An experiment that breaks the statement's mechanism; ``run`` has the
    signature of the check's own run, and the statement must fail on it."""

    description: str
    run: Callable[..., tuple]
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ControlResult:
    """``verdict`` is ``fail`` when the control fails, as it must; ``power`` is the
    estimated probability of that for a statistical control."""

    description: str
    parameters: dict
    measured: float
    bound: float | None
    tolerance: float
    verdict: str
    power: float | None
    note: str = ""


@dataclass(frozen=True)
class CheckResult:
    """One verdict; ``bound`` is None when the statement does not apply."""

    id: str
    theorem: str
    source: str
    proof: str | None
    proof_label: str | None
    parameters: dict
    measured: float
    stderr: float
    bound: float | None
    relation: str
    tolerance: float
    false_alarm: float | None
    verdict: str
    control: ControlResult | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured / bound (None when the bound is 0 or absent)."""
        return None if not self.bound else self.measured / self.bound

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def judge(measured: float, bound: float, relation: str, tolerance: float) -> str:
    """'pass' if ``measured relation bound`` holds up to ``tolerance`` (absolute)."""
    if not (math.isfinite(measured) and math.isfinite(bound)):
        return "fail"
    ok = {
        "<=": measured <= bound + tolerance,
        ">=": measured >= bound - tolerance,
        "==": abs(measured - bound) <= tolerance,
    }[relation]
    return "pass" if ok else "fail"


def _estimate(measured) -> st.Estimate:
    return measured if isinstance(measured, st.Estimate) else st.exact(measured)


@dataclass(frozen=True)
class _Outcome:
    measured: st.Estimate
    bound: float | None
    tolerance: float
    verdict: str
    parameters: dict
    note: str = ""


class CheckBase:
    """What both kinds of check share: an id, a run with its parameters, a relation,
    a control, and the verdict logic."""

    id: str
    run: Callable[..., tuple]
    parameters: dict
    control: Control | None
    relation: str

    def __call__(self) -> CheckResult:
        raise NotImplementedError

    def _require_control(self) -> None:
        if self.relation != "==" and self.control is None:
            raise ParameterError(
                f"check {self.id!r} holds a run against a bound ({self.relation}) "
                "and needs a control that must fail"
            )

    def _outcome(self, run, parameters) -> _Outcome:
        raise NotImplementedError

    def _results(self) -> tuple[_Outcome, ControlResult | None, str]:
        main = self._outcome(self.run, self.parameters)
        control = None
        if self.control is not None:
            c = self._outcome(self.control.run, self.control.parameters)
            pw = None if c.bound is None else st.power(c.measured, c.bound, self.relation)
            control = ControlResult(
                self.control.description,
                c.parameters,
                c.measured.value,
                c.bound,
                c.tolerance,
                c.verdict,
                pw,
                c.note,
            )
        verdict = main.verdict
        if verdict == "pass" and control is not None and control.verdict != "fail":
            verdict = "weak"
        return main, control, verdict


def _plain(value) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


@dataclass(frozen=True)
class Check(CheckBase):
    """A named statement and the experiment that measures it.

    ``run(**parameters)`` returns (measured, bound); the relation and the
    tolerance (rounding, added to the statistical one) say how they are compared.
    """

    id: str
    theorem: str
    source: str
    relation: str
    tolerance: float
    run: Callable[..., tuple]
    parameters: dict = field(default_factory=dict)
    control: Control | None = None
    proof: str | None = None

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise ParameterError(f"unknown relation {self.relation!r}; valid: {', '.join(RELATIONS)}")
        self._require_control()

    def _outcome(self, run, parameters) -> _Outcome:
        measured, bound = run(**parameters)
        m = _estimate(measured)
        tol = self.tolerance + st.tolerance(m, self.relation)
        return _Outcome(m, float(bound), tol, judge(m.value, float(bound), self.relation, tol), parameters)

    def __call__(self) -> CheckResult:
        main, control, verdict = self._results()
        return CheckResult(
            self.id,
            self.theorem,
            self.source,
            self.proof,
            _label(self.proof),
            self.parameters,
            main.measured.value,
            main.measured.stderr,
            main.bound,
            self.relation,
            main.tolerance,
            _false_alarm(main),
            verdict,
            control,
        )


@dataclass(frozen=True)
class TheoremCheck(CheckBase):
    """A :class:`mixlab.theory.theorems.Theorem` held against a fresh measurement.

    ``run(**parameters)`` returns (measured, theorem parameters); a failed
    assumption gives the verdict ``not_applicable``, never a pass.
    """

    id: str
    theorem: Theorem
    run: Callable[..., tuple]
    parameters: dict = field(default_factory=dict)
    control: Control | None = None
    tolerance: float = 0.0

    def __post_init__(self):
        self._require_control()

    @property
    def relation(self) -> str:  # type: ignore[override]  # the theorem's kind decides
        return RELATION_OF_KIND[self.theorem.kind]

    def _outcome(self, run, parameters) -> _Outcome:
        from mixlab.errors import AssumptionError

        measured, tparams = run(**parameters)
        m = _estimate(measured)
        tol = self.tolerance + st.tolerance(m, self.relation)
        shown = {**parameters, **{k: v for k, v in tparams.items() if _plain(v)}}
        try:
            v = self.theorem.check(m.value, tolerance=tol, **tparams)
        except AssumptionError as exc:
            return _Outcome(m, None, tol, "not_applicable", shown, str(exc))
        return _Outcome(m, v.bound, tol, v.verdict, shown)

    def __call__(self) -> CheckResult:
        thm = self.theorem
        main, control, verdict = self._results()
        return CheckResult(
            self.id,
            thm.statement,
            thm.source,
            thm.proof,
            _label(thm.proof),
            main.parameters,
            main.measured.value,
            main.measured.stderr,
            main.bound,
            self.relation,
            main.tolerance,
            _false_alarm(main),
            verdict,
            control,
            main.note,
        )


def _false_alarm(outcome: _Outcome) -> float | None:
    return st.ALPHA if outcome.measured.statistical and outcome.measured.stderr > 0 else None


def _label(proof: str | None) -> str | None:
    if proof is None:
        return None
    from mixlab.proofs.derivations import DERIVATIONS

    return DERIVATIONS[proof].label
