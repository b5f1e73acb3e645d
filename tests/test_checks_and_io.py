import json
import os

import pytest
from scipy import stats as scipy_stats

from mixlab.errors import ParameterError
from mixlab.io import atomic_write_json
from mixlab.validation import statistics as stats
from mixlab.validation.checks import Check, Control, judge
from mixlab.validation.statistics import Estimate


@pytest.mark.parametrize(
    "measured,bound,relation,tol,verdict",
    [
        (1.0, 1.0, "==", 0, "pass"),
        (1.0, 1.1, "==", 0.05, "fail"),
        (0.9, 1.0, "<=", 0, "pass"),
        (1.1, 1.0, "<=", 0, "fail"),
        (1.1, 1.0, "<=", 0.2, "pass"),
        (2.0, 1.0, ">=", 0, "pass"),
        (float("nan"), 1.0, "<=", 0, "fail"),
        (float("inf"), 1.0, ">=", 0, "fail"),
    ],
)
def test_judge(measured, bound, relation, tol, verdict):
    assert judge(measured, bound, relation, tol) == verdict


def _control(measured, bound):
    return Control("broken", lambda: (measured, bound))


def test_check_result_ratio_and_dict():
    r = Check("c", "x <= 2", "src", "<=", 0, lambda a: (a, 2.0), {"a": 1.0}, _control(3.0, 2.0))()
    assert r.verdict == "pass" and r.ratio == 0.5 and r.as_dict()["parameters"] == {"a": 1.0}
    control = r.as_dict()["control"]
    assert control["verdict"] == "fail" and control["measured"] == 3.0 and control["description"] == "broken"


def test_a_check_whose_control_also_passes_is_weak():
    r = Check("c", "x <= 2", "src", "<=", 0, lambda: (1.0, 2.0), control=_control(1.5, 2.0))()
    assert r.verdict == "weak" and r.control.verdict == "pass"
    failing = Check("c", "x <= 2", "src", "<=", 0, lambda: (3.0, 2.0), control=_control(1.5, 2.0))()
    assert failing.verdict == "fail"


def test_a_bound_without_a_control_is_refused_and_an_identity_needs_none():
    with pytest.raises(ParameterError, match=r"holds a run against a bound .<=. and needs a control"):
        Check("c", "x <= 2", "src", "<=", 0, lambda: (1.0, 2.0))
    assert Check("c", "x == 2", "src", "==", 0, lambda: (2.0, 2.0))().control is None


def test_statistical_tolerance_false_alarm_and_power():
    """Tolerance t_{1 - alpha, dof} * stderr (one-sided for bounds), stated false-alarm rate, and the
    control's power: near 1 far beyond the tolerance, near 1/2 at it."""
    est = Estimate(1.0, 0.1, 99)
    r = Check(
        "c", "x <= 1", "src", "<=", 0, lambda: (est, 1.0), control=_control(Estimate(2.0, 0.1, 99), 1.0)
    )()
    assert r.verdict == "pass" and r.false_alarm == stats.ALPHA
    assert r.tolerance == pytest.approx(scipy_stats.t.isf(stats.ALPHA, 99) * 0.1)
    assert r.control.verdict == "fail" and r.control.power > 0.999
    at_edge = Estimate(1.0 + r.tolerance, 0.1, 99)
    assert stats.power(at_edge, 1.0, "<=") == pytest.approx(0.5, abs=1e-9)
    assert stats.tolerance(Estimate(1.0, 0.1, 99, comparisons=10), "<=") > r.tolerance  # Bonferroni
    two_sided = stats.tolerance(est, "==")
    assert two_sided == pytest.approx(scipy_stats.t.isf(stats.ALPHA / 2, 99) * 0.1)


def test_worst_mean_and_mean_estimate_refuse_too_few_samples():
    with pytest.raises(ParameterError, match="at least 2 samples"):
        stats.mean_estimate([1.0])
    with pytest.raises(ParameterError, match=r"runs >= 2"):
        stats.worst_mean([[1.0, 2.0]])
    with pytest.raises(ParameterError, match=r"alpha must lie in \(0, 1\)"):
        stats.critical_value(0.0, 3, two_sided=True)


def test_json_writes_non_finite_measurements_as_strings(tmp_path):
    from mixlab.validation.report import write_json

    r = Check("c", "x == 0", "src", "==", 0, lambda: (float("inf"), 0.0))()
    write_json(tmp_path / "v.json", [r])
    out = json.loads((tmp_path / "v.json").read_text())
    assert out["checks"][0]["measured"] == "inf" and out["passed"] is False


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "r.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert os.listdir(target.parent) == ["r.json"]


def test_atomic_write_failure_keeps_old_file(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_json(target, {"ok": True})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"bad": float("nan")})  # NaN is not JSON
    assert json.loads(target.read_text()) == {"ok": True}
    assert os.listdir(tmp_path) == ["r.json"]
