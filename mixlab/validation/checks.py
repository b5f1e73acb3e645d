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
from mixlab.validate import require_choice
from mixlab.validation import statistics as st

RELATIONS = ("<=", "==", ">=")
RELATION_OF_KIND = {"upper": "<=", "lower": ">=", "equality": "==", "equality_in_expectation": "=="}


@dataclass(frozen=True)
class Control:
    """An experiment that breaks the statement's mechanism; the statement must fail on it.

    Parameters
    ----------
    description : str
        What the control breaks and which constants it still claims.
    run : callable
        Same signature and return convention as the check's own run.
    parameters : dict, optional
        Keyword arguments of ``run`` (default: none).
    """

    description: str
    run: Callable[..., tuple]
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ControlResult:
    """The outcome of a control run, judged like the check itself.

    Parameters
    ----------
    description : str
        The control's description.
    parameters : dict
        Parameters of the control run (with the theorem's plain parameters for a
        :class:`TheoremCheck`).
    measured : float
        The control's measured value.
    bound : float or None
        The bound it was held against; None when an assumption does not hold.
    tolerance : float
        Absolute tolerance used (rounding plus t * stderr).
    verdict : {"fail", "pass", "not_applicable"}
        ``fail`` when the control fails, as it must.
    power : float or None
        Estimated probability that the control fails (statistical controls only).
    note : str, default ""
        Why the statement did not apply, if it did not.
    """

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
    """One verdict of a check, with everything the report shows.

    Parameters
    ----------
    id : str
        The check's id.
    theorem : str
        The statement (LaTeX).
    source : str
        Where the statement comes from (a citation or "derived in mixlab").
    proof : str or None
        Key of its derivation in :data:`mixlab.proofs.derivations.DERIVATIONS`, if any.
    proof_label : str or None
        That derivation's label (complete / bookkeeping), if any.
    parameters : dict
        Parameters of the run (and the theorem's plain parameters).
    measured : float
        The measured value (a mean for a statistical check).
    stderr : float
        Its standard error (0 when deterministic).
    bound : float or None
        The bound or exact value; None when the statement does not apply.
    relation : {"<=", ">=", "=="}
        How ``measured`` is compared with ``bound``.
    tolerance : float
        Absolute tolerance used (rounding plus t * stderr).
    false_alarm : float or None
        False-alarm rate of a statistical check (:data:`~mixlab.validation.statistics.ALPHA`),
        None for a deterministic one.
    verdict : {"pass", "weak", "fail", "not_applicable"}
        ``weak``: the check passed but so did its control.
    control : ControlResult or None
        The control's outcome; None for exact identities and equalities without one.
    note : str, default ""
        Why the statement did not apply, if it did not.
    """

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
        """measured / bound.

        Returns
        -------
        float or None
            The ratio; None when the bound is 0 or absent.
        """
        return None if not self.bound else self.measured / self.bound

    def as_dict(self) -> dict:
        """The result as a plain dict (the JSON record of ``mixlab verify``).

        Returns
        -------
        dict
            Every field (``control`` as a nested dict) plus ``ratio``.
        """
        return {**asdict(self), "ratio": self.ratio}


def judge(measured: float, bound: float, relation: str, tolerance: float) -> str:
    """'pass' if ``measured relation bound`` holds up to ``tolerance`` (absolute).

    Parameters
    ----------
    measured : float
        The measured value.
    bound : float
        The bound or exact value.
    relation : {"<=", ">=", "=="}
        The comparison.
    tolerance : float
        Absolute slack added to the bound (either side for ``==``).

    Returns
    -------
    {"pass", "fail"}
        The verdict; ``fail`` whenever ``measured`` or ``bound`` is not finite.

    Examples
    --------
    >>> judge(1.05, 1.0, "<=", 0.1), judge(1.05, 1.0, "==", 0.01), judge(float("nan"), 1.0, ">=", 1.0)
    ('pass', 'fail', 'fail')
    """
    require_choice("relation", relation, RELATIONS)
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
    a control, and the verdict logic.

    Calling a check runs the experiment and its control and returns a
    :class:`CheckResult`.
    """

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

    Parameters
    ----------
    id : str
        Unique id of the check.
    theorem : str
        The statement (LaTeX).
    source : str
        Where the statement comes from.
    relation : {"<=", ">=", "=="}
        How the measurement is compared with the bound.
    tolerance : float
        Absolute rounding tolerance, added to the statistical one.
    run : callable
        ``run(**parameters) -> (measured, bound)``, measured a float or an
        :class:`~mixlab.validation.statistics.Estimate`.
    parameters : dict, optional
        Keyword arguments of ``run``.
    control : Control, optional
        Required when ``relation`` is a bound (``<=`` or ``>=``).
    proof : str, optional
        Key of the statement's derivation in :data:`mixlab.proofs.derivations.DERIVATIONS`.

    Raises
    ------
    ParameterError
        If ``relation`` is unknown, or a bound has no control.

    Examples
    --------
    >>> check = Check(
    ...     "half", "x <= 1", "example", "<=", 0.0, lambda x: (x, 1.0), {"x": 0.5},
    ...     Control("x = 2", lambda x: (x, 1.0), {"x": 2.0}),
    ... )
    >>> result = check()
    >>> result.verdict, result.control.verdict, result.ratio
    ('pass', 'fail', 0.5)
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
        require_choice("relation", self.relation, RELATIONS)
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
    assumption gives the verdict ``not_applicable``, never a pass. The relation
    follows from the theorem's kind.

    Parameters
    ----------
    id : str
        Unique id of the check.
    theorem : Theorem
        The statement, its bound and its assumptions.
    run : callable
        ``run(**parameters) -> (measured, theorem_parameters)``, measured a float or an
        :class:`~mixlab.validation.statistics.Estimate`.
    parameters : dict, optional
        Keyword arguments of ``run``.
    control : Control, optional
        Required unless the theorem is an equality.
    tolerance : float, default 0.0
        Absolute rounding tolerance, added to the statistical one.

    Raises
    ------
    ParameterError
        If the theorem is a bound and there is no control.

    Examples
    --------
    >>> from mixlab.theory import theorems as thm
    >>> check = TheoremCheck("b", thm.BUTTERFLY_EXACT, lambda n, S: (2, {"n": n, "S": S}), {"n": 16, "S": 4})
    >>> result = check()
    >>> result.relation, result.bound, result.verdict
    ('==', 2.0, 'pass')
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
        """The comparison of the theorem's kind: ``<=`` (upper), ``>=`` (lower), ``==`` (equality).

        Returns
        -------
        {"<=", ">=", "=="}
            The relation.
        """
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
