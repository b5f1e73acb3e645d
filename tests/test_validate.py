import itertools

import numpy as np
import pytest

from mixlab.errors import ParameterError
from mixlab.theory import spectral
from mixlab.theory.groups import ButterflyGroups
from mixlab.theory.schedules import OnePeerExponential
from mixlab.validate import require_choice, require_finite, require_int, require_real


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: require_int("k", "3"), r"k must be an integer, got '3'"),
        (lambda: require_int("k", True), r"k must be an integer, got True"),
        (lambda: require_int("k", 1, minimum=2), r"k must be >= 2, got 1"),
        (lambda: require_real("eta", "fast"), r"eta must be a real number, got 'fast'"),
        (lambda: require_real("eta", float("inf")), r"eta must be finite, got inf"),
        (lambda: require_real("eta", 0.0, low=0, low_open=True), r"eta must be > 0, got 0.0"),
        (lambda: require_real("p", 1.5, high=1), r"p must be <= 1, got 1.5"),
        (lambda: require_real("p", 1.0, high=1, high_open=True), r"p must be < 1, got 1.0"),
        (lambda: require_choice("rule", "x", ["a", "b"]), r"unknown rule 'x'; valid: a, b"),
        (lambda: require_finite("X", np.array([1.0, np.nan])), r"X must be finite; entry \(1,\) is nan"),
        (lambda: spectral.period_contraction([]), r"a period needs at least one matrix"),
    ],
)
def test_validation_messages(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_accepted_values_pass_through():
    assert require_int("k", np.int64(4), minimum=1) == 4
    assert require_real("x", np.float32(0.5), low=0, high=1) == 0.5
    require_finite("X", np.zeros((2, 2)))


def test_dense_limits_of_generic_schedule_computations(monkeypatch):
    monkeypatch.setattr(spectral, "DENSE_MAX_N", 8)
    sched = ButterflyGroups(16, 4, "self_weighted")
    with pytest.raises(ParameterError, match=r"non-circulant schedule needs n <= 8, got n = 16"):
        spectral.period_contraction(sched.matrix(t) for t in range(2))
    with pytest.raises(
        ParameterError, match=r"exact-consensus search of a non-circulant schedule needs n <= 8"
    ):
        spectral.steps_to_exact_average(sched.matrices(), 4)
    # circulant schedules have no such limit
    assert OnePeerExponential(16).steps_to_exact_average() == 4


def test_group_schedules_iterate_over_iterations():
    sched = ButterflyGroups(8, 2)
    for t, groups in enumerate(itertools.islice(sched, 5)):
        np.testing.assert_array_equal(groups, sched.groups(t))
