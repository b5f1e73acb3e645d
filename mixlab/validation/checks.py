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
    id: str
    theorem: str
    source: str
    parameters: dict
    measured: float
    bound: float
    relation: str
    tolerance: float
    verdict: str
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured / bound (None when the bound is 0)."""
        return None if self.bound == 0 else self.measured / self.bound

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
