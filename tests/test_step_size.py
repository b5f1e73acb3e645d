import math

import pytest
import sympy as sp

from mixlab.errors import AssumptionError, ParameterError
from mixlab.theory import convergence as cv
from mixlab.theory.step_size import closed_form_step_size, minimizing_step_size

NC = {
    "L": 1.0,
    "n": 8,
    "zeta2": 1.0,
    "sigma2": 0.5,
    "f0": 1.0,
    "T": 400,
    "momentum": 0.0,
    "zeta2_uniform": True,
    "sigma2_uniform": True,
}


def test_local_sgd_with_h_1_is_minibatch_sgd_and_matches_the_closed_form():
    eta_star = closed_form_step_size(cv.nonconvex_rate(sp.Integer(0)))
    assert len(eta_star) == 1
    expected = float(eta_star[0].subs({cv.f0: 1.0, cv.n: 8, cv.L: 1.0, cv.T: 400, cv.sigma2: 0.5}))
    assert expected == pytest.approx(math.sqrt(2 * 8 / (0.5 * 400)))
    best = minimizing_step_size(cv.LOCAL_SGD_NONCONVEX, **NC, H=1)
    assert best.interior and best.eta == pytest.approx(expected, rel=1e-9)


def test_async_minimizer_solves_the_cubic_and_beats_its_neighbours():
    p = {"L": 1.0, "tau": 4, "sigma2": 0.5, "f0": 1.0, "T": 400, "staleness_max": 4, "sigma2_uniform": True}
    best = minimizing_step_size(cv.ASYNC_SGD_NONCONVEX, **p)
    e = best.eta
    # d/d eta (2 f0/(eta T) + L eta s2 + 2 eta^2 L^2 tau s2) = 0  <=>  4 L^2 tau s2 eta^3 + L s2 eta^2 = 2 f0/T
    assert 4 * 4 * 0.5 * e**3 + 0.5 * e**2 == pytest.approx(2 / 400, rel=1e-9)
    for other in (0.9 * e, 1.1 * e, best.eta_max):
        assert cv.ASYNC_SGD_NONCONVEX.evaluate(**p, eta=other) >= best.bound


def test_dpsgd_minimizer_lies_inside_the_admissible_range():
    best = minimizing_step_size(cv.DPSGD_NONCONVEX, **NC, rho=0.8, atc=0, doubly_stochastic=True)
    assert 0 < best.eta < best.eta_max == pytest.approx(0.2, rel=1e-9)  # rho + eta L < 1
    for other in (best.eta * 0.95, best.eta * 1.05):
        assert (
            cv.DPSGD_NONCONVEX.evaluate(**NC, rho=0.8, atc=0, doubly_stochastic=True, eta=other) >= best.bound
        )


def test_the_ceiling_wins_when_the_bound_decreases_up_to_it():
    best = minimizing_step_size(cv.LOCAL_SGD_NONCONVEX, upper=0.01, **NC, H=1)
    assert not best.interior and best.eta == 0.01


def test_bad_requests_are_refused():
    with pytest.raises(ParameterError, match="chooses eta"):
        minimizing_step_size(cv.LOCAL_SGD_NONCONVEX, **NC, H=1, eta=0.1)
    with pytest.raises(AssumptionError, match="no step size"):
        minimizing_step_size(cv.DPSGD_NONCONVEX, **NC, rho=1.0, atc=0, doubly_stochastic=True)
    with pytest.raises(AssumptionError, match=r"needs parameters \['f0'\]"):
        minimizing_step_size(cv.LOCAL_SGD_NONCONVEX, **{k: v for k, v in NC.items() if k != "f0"}, H=1)


@pytest.mark.parametrize(
    "schedule,expected",
    [
        ("constant", [0.4] * 6),
        ("cosine", [0.4 * (1 + math.cos(math.pi * t / 6)) / 2 for t in range(6)]),
        ("inverse_sqrt", [0.4 / math.sqrt(t + 1) for t in range(6)]),
        ("step", [0.4, 0.4, 0.04, 0.04, 0.004, 0.004]),
    ],
)
def test_every_schedule_has_its_closed_form_and_runs(schedule, expected):
    from mixlab import run, step_sizes

    assert step_sizes(0.4, 6, schedule) == pytest.approx(expected, rel=1e-15)
    result = run(algorithm="dpsgd", objective="quadratic", workers=4, steps=6, lr=0.4, lr_schedule=schedule)
    assert math.isfinite(result.final["loss_gap"])


def test_a_step_schedule_refuses_bad_decays():
    from mixlab import step_sizes

    with pytest.raises(ParameterError, match="decay_every must be >= 1, got 0"):
        step_sizes(1.0, 6, "step", decay_every=0)
