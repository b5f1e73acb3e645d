"""A check holds one measured quantity against a bound or an exact value.

``verdict`` is ``pass`` or ``fail``, or ``not_applicable`` when an assumption
of the statement does not hold for the run (never counted as a pass).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

RELATIONS = ("<=", "==", ">=")


@dataclass(frozen=True)
class CheckResult:
    """One verdict; ``bound`` is None when the statement does not apply."""

    id: str
    theorem: str
    source: str
    parameters: dict
    measured: float
    bound: float | None
    relation: str
    tolerance: float
    verdict: str
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
    ok = {"<=": measured <= bound + tolerance,
          ">=": measured >= bound - tolerance,
          "==": abs(measured - bound) <= tolerance}[relation]
    return "pass" if ok else "fail"


@dataclass(frozen=True)
class Check:
    """A named statement and the experiment that measures it.

    ``run(**parameters)`` returns (measured, bound); the relation and the
    tolerance say how they are compared.
    """

    id: str
    theorem: str
    source: str
    relation: str
    tolerance: float
    run: Callable[..., tuple[float, float]]
    parameters: dict = field(default_factory=dict)

    def __call__(self) -> CheckResult:
        measured, bound = self.run(**self.parameters)
        return CheckResult(self.id, self.theorem, self.source, self.parameters,
                           float(measured), float(bound), self.relation, self.tolerance,
                           judge(float(measured), float(bound), self.relation, self.tolerance))


RELATION_OF_KIND = {"upper": "<=", "lower": ">=", "equality": "==", "equality_in_expectation": "=="}


@dataclass(frozen=True)
class TheoremCheck:
    """A :class:`mixlab.theory.theorems.Theorem` held against a fresh measurement.

    ``run(**parameters)`` returns (measured, theorem parameters, tolerance); a
    failed assumption gives the verdict ``not_applicable``, never a pass.
    """

    id: str
    theorem: object
    run: Callable[..., tuple[float, dict, float]]
    parameters: dict = field(default_factory=dict)

    def __call__(self) -> CheckResult:
        from mixlab.theory.theorems import AssumptionError

        thm = self.theorem
        relation = RELATION_OF_KIND[thm.kind]
        measured, tparams, tol = self.run(**self.parameters)
        params = {**self.parameters, **{k: v for k, v in tparams.items() if _plain(v)}}
        try:
            v = thm.check(measured, tolerance=tol, **tparams)
        except AssumptionError as exc:
            return CheckResult(self.id, thm.statement, thm.source, params, float(measured), None,
                               relation, tol, "not_applicable", str(exc))
        return CheckResult(self.id, thm.statement, thm.source, params, v.measured, v.bound,
                           relation, tol, v.verdict)


def _plain(value) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None
