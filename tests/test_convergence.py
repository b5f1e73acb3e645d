"""Convergence theorems: each holds on its own runs, its control (a run with the
theorem's mechanism broken, the claimed constants kept) fails, and it refuses
where an assumption fails."""

import numpy as np
import pytest
import sympy as sp

from mixlab.errors import AssumptionError
from mixlab.runs import build_algorithm
from mixlab.theory import convergence as cv
from mixlab.theory import spectral
from mixlab.theory.groups import ButterflyGroups
from mixlab.validation import convergence_checks as cc
from mixlab.validation.statistics import tolerance


def judged(theorem, run, **kw):
    """(verdict of the run, verdict of its control) for a run function of convergence_checks."""
    out = []
    for control in (False, True):
        measured, params = run(**kw, control=control)
        value = getattr(measured, "value", measured)
        tol = tolerance(measured, "<=") if hasattr(measured, "stderr") else 0.0
        out.append(theorem.check(value, tolerance=tol, **params).verdict)
    return tuple(out)


@pytest.mark.parametrize("setup,n", [("dpsgd", 8), ("one_peer", 16), ("local_sgd", 8), ("wagma", 16)])
def test_consensus_bound_holds_and_its_no_communication_control_fails(setup, n):
    assert judged(cc.SETUPS[setup][0], cc.consensus, setup=setup, n=n, steps=40, runs=30) == ("pass", "fail")


def test_dpsgd_atc_bound_is_smaller():
    _, params = cc.consensus("dpsgd", 8, 2, 2)
    assert cv.DPSGD_CONSENSUS.evaluate(**{**params, "atc": 1}) < cv.DPSGD_CONSENSUS.evaluate(**params)


def test_time_varying_mixing_uses_the_worst_matrix_and_is_not_applicable():
    """The one-peer exponential graph's single matrices do not contract (rho = 1), so the
    fixed-W bound refuses; the windowed bound applies to the schedule."""
    _, params = cc.consensus("one_peer", 8, 2, 2)
    assert params["rho"] == pytest.approx(1.0)
    with pytest.raises(AssumptionError, match="does not contract fast enough"):
        cv.DPSGD_CONSENSUS.evaluate(**params)
    assert params["A1"] == pytest.approx(3.0) and np.isfinite(cv.WINDOWED_CONSENSUS.evaluate(**params))


@pytest.mark.parametrize("rule", ["mean", "self_weighted"])
@pytest.mark.parametrize("n,S,tau", [(16, 4, 8), (16, 2, 3), (27, 3, 7), (64, 4, 2)])
def test_wagma_window_sums_match_the_schedule_matrices(rule, n, S, tau):
    """The closed form of WAGMA_CONSENSUS equals the window sums of the run's own matrices."""
    alg = build_algorithm("wagma", n, group_size=S, sync_period=tau, rule=rule)
    mats, _ = alg.mixing_matrices(n, int(np.lcm(alg.groups.shape[0], tau)))
    sums = spectral.window_sums(mats, "cta", 3 * tau + 4)
    delta = sp.Rational(int(rule == "self_weighted"), S + 1)
    closed = {
        s: float(cv.butterfly_window_sum(delta**p).subs({cv.phases: alg.groups.shape[0], cv.tau: tau}))
        for s, p in (("A1", 1), ("A2", 2))
    }
    assert pytest.approx(closed["A1"], rel=1e-12) == sums.A1
    assert pytest.approx(closed["A2"], rel=1e-12) == sums.A2


def test_wagma_bound_sees_the_groups():
    """The bound depends on S, the phases and the rule, and grows when the groups shrink."""
    assert {"S", "phases", "self_weighted", "tau"} <= {str(s) for s in cv.WAGMA_CONSENSUS.bound.free_symbols}
    _, params = cc.consensus("wagma", 16, 2, 2)
    mean = cv.WAGMA_CONSENSUS.evaluate(**{**params, "self_weighted": 0})
    weighted = cv.WAGMA_CONSENSUS.evaluate(**params)
    pairs = cv.WAGMA_CONSENSUS.evaluate(**{**params, "S": 2, "phases": 4})
    assert mean < weighted < pairs


@pytest.mark.parametrize("setup,n", [("dpsgd", 8), ("local_sgd", 8), ("wagma", 16)])
@pytest.mark.parametrize("regime,start", [("sc", "optimum"), ("nc", "zero")])
def test_rate_holds_and_fails_without_communication(setup, n, regime, start):
    thm = cc.RATE_THEOREMS[setup, regime]
    assert judged(thm, cc.rate, setup=setup, regime=regime, n=n, steps=3000, lr=0.01, start=start) == (
        "pass",
        "fail",
    )


def test_rates_measure_communication_on_the_heterogeneous_quadratic():
    """With worker-specific Hessians the average model depends on the mixing: the ring and
    no communication give different rates (on the common-Hessian quadratic they would not)."""
    ring, _ = cc.rate("dpsgd", "sc", 8, 2000, 0.01)
    alone, _ = cc.rate("dpsgd", "sc", 8, 2000, 0.01, control=True)
    assert alone > 1000 * ring


def test_path_heterogeneity_bounds_every_iterate():
    """zeta2 along the path is the maximum over the averaged iterates, at least zeta2(x*)."""
    f = cc.heterogeneous(8)
    path_max = cc._path_zeta2("dpsgd", 8, 500, 0.01, "zero")
    assert path_max >= f.zeta2_of(f.x_star) - 1e-12 and path_max >= f.zeta2_of(np.zeros(f.d)) - 1e-12


@pytest.mark.parametrize(
    "theorem,change,match",
    [
        (cv.DPSGD_STRONGLY_CONVEX, {"eta": 0.3}, r"eta <= 1/\(4L\)"),
        (cv.DPSGD_NONCONVEX, {"eta": 0.5, "rho": 0.9}, r"does not contract fast enough"),
        (cv.DPSGD_NONCONVEX, {"doubly_stochastic": False}, r"not doubly stochastic"),
        (cv.DPSGD_STRONGLY_CONVEX, {"each_strongly_convex": False}, r"not all mu-strongly convex"),
        (cv.LOCAL_SGD_NONCONVEX, {"momentum": 0.9}, r"momentum = 0.9"),
        (cv.LOCAL_SGD_STRONGLY_CONVEX, {"sigma2_uniform": False}, r"variance at x\* only"),
        (cv.LOCAL_SGD_CONSENSUS, {"zeta2_uniform": False}, r"heterogeneity at x\* only"),
        (cv.WAGMA_NONCONVEX, {"staleness_max": 2.0}, r"stale contributions"),
        (cv.WAGMA_STRONGLY_CONVEX, {"eta": 2.0}, r"eta <= 1/\(4L\)"),
        (cv.WAGMA_CONSENSUS, {"eta": 0.5}, r"too large for the schedule's window"),
        (cv.WAGMA_CONSENSUS, {"phases": 3}, r"n = 16 is not S\^phases"),
        (cv.WAGMA_CONSENSUS, {"order": "atc"}, r"order = atc"),
        (cv.WINDOWED_CONSENSUS, {"A1": 30.0}, r"too large for the schedule's window"),
    ],
)
def test_convergence_theorems_refuse_when_an_assumption_fails(theorem, change, match):
    params = {
        "eta": 0.05,
        "L": 1.0,
        "mu": 0.1,
        "n": 16,
        "T": 100,
        "rho": 0.8,
        "atc": 0,
        "H": 4,
        "tau": 8,
        "S": 4,
        "phases": 2,
        "self_weighted": 1,
        "A1": 3.0,
        "A2": 3.0,
        "zeta2": 1.0,
        "sigma2": 1.0,
        "r0": 1.0,
        "f0": 1.0,
        "momentum": 0.0,
        "order": "cta",
        "staleness_max": 0.0,
        "doubly_stochastic": True,
        "zeta2_uniform": True,
        "sigma2_uniform": True,
        "each_strongly_convex": True,
    }
    theorem.evaluate(**params)
    with pytest.raises(AssumptionError, match=match):
        theorem.evaluate(**{**params, **change})


def test_path_heterogeneity_stands_in_for_a_uniform_bound():
    params = {
        "eta": 0.05,
        "L": 1.0,
        "n": 8,
        "rho": 0.8,
        "atc": 0,
        "zeta2": 1.0,
        "sigma2": 0.0,
        "momentum": 0.0,
        "doubly_stochastic": True,
        "zeta2_uniform": False,
        "sigma2_uniform": True,
    }
    with pytest.raises(AssumptionError, match="nor along the run's path"):
        cv.DPSGD_CONSENSUS.evaluate(**params)
    assert cv.DPSGD_CONSENSUS.evaluate(**params, zeta2_along_path=True) > 0


def test_delayed_sgd_without_delay_is_plain_sgd():
    from mixlab.kernels import counter_rng as crng

    f = cc.noisy_quadratic(4)
    grad_sq, loss = cc.delayed_sgd(f, 20, 3, 0.1, tau=0, seed=5)
    x = np.zeros((3, f.d))
    r = np.arange(3)
    for t in range(20):
        assert loss[:, t] == pytest.approx([f.loss(xi) for xi in x], rel=1e-12)
        workers = np.minimum((crng.uniform_np(5, crng.PEER, (t * 3 + r) * 2) * 4).astype(np.int64), 3)
        x = x - 0.1 * f.stochastic_grads(x, t * 3 + r, 5, workers=workers)
    assert grad_sq[:, 20] == pytest.approx([np.sum(f.grad(xi) ** 2) for xi in x], rel=1e-12)


def test_async_sgd_bound_holds_and_fails_past_its_staleness():
    thm = cv.ASYNC_SGD_NONCONVEX
    measured, params = cc.async_sgd(8, 200, 30, 0.1, 4)
    assert thm.check(measured.value, tolerance=tolerance(measured, "<="), **params).verdict == "pass"
    broken, claimed = cc.async_sgd(8, 200, 30, 0.1, 24, claimed_tau=4)
    assert claimed["tau"] == 4
    assert thm.check(broken.value, tolerance=tolerance(broken, "<="), **claimed).verdict == "fail"
    with pytest.raises(AssumptionError, match=r"too large for staleness tau = 20"):
        thm.evaluate(**{**params, "tau": 20, "staleness_max": 4})
    with pytest.raises(AssumptionError, match=r"staleness 9 exceeds tau = 4"):
        thm.evaluate(**{**params, "staleness_max": 9})


@pytest.mark.parametrize("activation,rule", list(cv.STALE_VARIANTS))
def test_stale_window_bound_holds_on_every_step_and_fails_without_communication(activation, rule):
    thm = cv.WAGMA_STALE[activation, rule]
    kw = {
        "n": 16,
        "steps": 40,
        "runs": 2,
        "lr": 0.05,
        "activation": activation,
        "rule": rule,
        "group_size": 4,
        "sync_period": 4,
    }
    measured, params = cc.wagma_stale_window(**kw)
    assert params["staleness_max"] >= 1  # the runs had stale contributions
    assert thm.check(measured, **params).verdict == "pass"
    measured, params = cc.wagma_stale_window(**kw, control=True)
    assert thm.check(measured, **params).verdict == "fail"


def test_stale_window_refuses_the_other_variant_and_steps_outside_a_period():
    from mixlab.validation.checks import Control, TheoremCheck

    params = {
        "eta": 0.1,
        "n": 8,
        "S": 2,
        "tau": 4,
        "G": 1.0,
        "k": 2,
        "gamma_g": 1.0,
        "order": "cta",
        "momentum": 0.0,
        "activation": "group",
        "rule": "mean",
    }
    assert cv.WAGMA_STALE["group", "mean"].evaluate(**params) == pytest.approx(8 * (0.5 + 0.2) ** 2)
    assert cv.WAGMA_STALE["group", "self_weighted"].evaluate(
        **{**params, "rule": "self_weighted"}
    ) == pytest.approx(8 * ((1 - 2 / 3) + 0.2) ** 2)
    assert cv.WAGMA_STALE["global", "self_weighted"].evaluate(
        **{**params, "rule": "self_weighted", "activation": "global"}
    ) == pytest.approx(8 * ((1 - 1 / 3) + 0.2) ** 2)
    with pytest.raises(AssumptionError, match="k = 5 is not within one period"):
        cv.WAGMA_STALE["group", "mean"].evaluate(**{**params, "k": 5})
    with pytest.raises(AssumptionError, match="the run uses group activation; this bound is for global"):
        cv.WAGMA_STALE["global", "self_weighted"].evaluate(**{**params, "rule": "self_weighted"})
    run = lambda: (0.0, {**params, "G": None})  # noqa: E731
    check = TheoremCheck("q", cv.WAGMA_STALE["group", "mean"], run, control=Control("same", run))
    assert check().verdict == "not_applicable"


def test_stale_weights_at_one_step_and_limit():
    for variant in cv.STALE_VARIANTS:
        w = cv.stale_weight(*variant)
        assert w.subs({cv.S: 4, cv.k: 1}) == 0
        assert 0 < float(w.subs({cv.S: 4, cv.k: 6})) < 1
        assert sp.limit(w.subs(cv.S, 4), cv.k, sp.oo) == 1


def test_butterfly_window_profile_is_a_power_of_the_period_contraction():
    """c_l = delta^floor(l/k) for the self-weighted butterfly (k = 2 phases, delta = 1/5)."""
    sched = ButterflyGroups(16, 4, "self_weighted")
    sums = spectral.window_sums([sched.matrix(t) for t in range(2)], "cta", 8)
    assert sums.profile == pytest.approx([0.2 ** (ell // 2) for ell in range(8)], abs=1e-12)
