"""Convergence theorems: each holds on its own runs, refuses where an assumption
fails, and fails when the run is misdescribed (a broken claim)."""

import numpy as np
import pytest

from mixlab.theory import convergence as cv
from mixlab.theory.theorems import WAGMA_CONSENSUS, AssumptionError
from mixlab.validation import convergence_checks as cc

SMALL = {"n": 8, "steps": 120, "runs": 30}
ALGORITHMS = {"dpsgd": {"lr": 0.05, "topology": "ring"},
              "local_sgd": {"lr": 0.05, "local_steps": 4},
              "wagma": {"lr": 0.05, "group_size": 2, "sync_period": 4}}


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_consensus_bound_holds_and_understated_noise_fails(algorithm):
    thm = cc.CONSENSUS_THEOREM[algorithm]
    measured, params, tol = cc.consensus(algorithm, 8, 40, 60, **ALGORITHMS[algorithm])
    v = thm.check(measured, tolerance=tol, **params)
    assert v.verdict == "pass" and 0 < measured < v.bound
    assert thm.check(measured, tolerance=tol, **{**params, "sigma2": 1e-4, "zeta2": 1e-4}).verdict == "fail"


def test_dpsgd_consensus_holds_for_atc_too():
    measured, params, tol = cc.consensus("dpsgd", 8, 40, 60, lr=0.05, topology="ring", order="atc")
    assert params["atc"] == 1
    v = cv.DPSGD_CONSENSUS.check(measured, tolerance=tol, **params)
    assert v.verdict == "pass"
    # ATC's bound is the smaller one: the mixing also damps the fresh gradient step
    assert v.bound < cv.DPSGD_CONSENSUS.evaluate(**{**params, "atc": 0})


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
@pytest.mark.parametrize("regime", ["sc", "nc"])
def test_averaged_model_rate_holds_and_a_broken_claim_fails(algorithm, regime):
    thm = cc.THEOREM_OF[algorithm, regime]
    measured, params, tol = cc.averaged_model(algorithm, regime, **SMALL, **ALGORITHMS[algorithm])
    v = thm.check(measured, tolerance=tol, **params)
    assert v.verdict == "pass" and 0 < measured < v.bound
    # claiming a noise-free, homogeneous run that starts (almost) at the optimum
    broken = {**params, "sigma2": 0.0, "zeta2": 0.0, "mu": 1.0, "r0": 1e-6, "f0": 1e-6}
    assert thm.check(measured, tolerance=tol, **broken).verdict == "fail"


@pytest.mark.parametrize("theorem,change,match", [
    (cv.DPSGD_STRONGLY_CONVEX, {"eta": 0.3}, r"eta <= 1/\(4L\)"),
    (cv.DPSGD_NONCONVEX, {"eta": 0.5, "rho": 0.9}, r"does not contract fast enough"),
    (cv.DPSGD_NONCONVEX, {"doubly_stochastic": False}, r"not doubly stochastic"),
    (cv.DPSGD_STRONGLY_CONVEX, {"each_strongly_convex": False}, r"not all mu-strongly convex"),
    (cv.LOCAL_SGD_NONCONVEX, {"momentum": 0.9}, r"momentum = 0.9"),
    (cv.LOCAL_SGD_STRONGLY_CONVEX, {"sigma2_uniform": False}, r"variance at x\* only"),
    (cv.WAGMA_NONCONVEX, {"staleness_max": 2.0}, r"stale contributions"),
    (cv.WAGMA_STRONGLY_CONVEX, {"eta": 2.0}, r"eta <= 1/\(4L\)"),
])
def test_convergence_theorems_refuse_when_an_assumption_fails(theorem, change, match):
    params = {"eta": 0.05, "L": 1.0, "mu": 0.1, "n": 8, "T": 100, "rho": 0.8, "atc": 0, "H": 4, "tau": 4,
              "zeta2": 1.0, "sigma2": 1.0, "r0": 1.0, "f0": 1.0, "momentum": 0.0, "order": "cta",
              "staleness_max": 0.0, "doubly_stochastic": True, "zeta2_uniform": True, "sigma2_uniform": True,
              "each_strongly_convex": True}
    theorem.evaluate(**params)
    with pytest.raises(AssumptionError, match=match):
        theorem.evaluate(**{**params, **change})


def test_logistic_regression_is_not_applicable():
    _, params, _ = cc.consensus("wagma", 8, 5, 3, regime="logistic", group_size=2, sync_period=4)
    with pytest.raises(AssumptionError, match=r"heterogeneity at x\* only"):
        WAGMA_CONSENSUS.evaluate(**params)
    with pytest.raises(AssumptionError, match="step size small enough"):
        WAGMA_CONSENSUS.evaluate(**{**params, "zeta2_uniform": True, "sigma2_uniform": True, "eta": 2.0})


def test_delayed_sgd_without_delay_is_plain_sgd():
    f = cc.objective_for("nc", 4)
    grad_sq, loss = cc.delayed_sgd(f, 20, 3, 0.1, tau=0, seed=5)
    from mixlab.kernels import counter_rng as crng

    x = np.zeros((3, f.d))
    r = np.arange(3)
    for t in range(20):
        assert loss[:, t] == pytest.approx([f.loss(xi) for xi in x], rel=1e-12)
        workers = np.minimum((crng.uniform_np(5, crng.PEER, (t * 3 + r) * 2) * 4).astype(np.int64), 3)
        x = x - 0.1 * f.stochastic_grads(x, t * 3 + r, 5, workers=workers)
    assert grad_sq[:, 20] == pytest.approx([np.sum(f.grad(xi) ** 2) for xi in x], rel=1e-12)


def test_async_sgd_bound_holds_refuses_and_fails_when_broken():
    measured, params, tol = cc.async_sgd(8, 120, 30, 0.05, 4)
    thm = cv.ASYNC_SGD_NONCONVEX
    v = thm.check(measured, tolerance=tol, **params)
    assert v.verdict == "pass" and 0 < measured < v.bound
    assert thm.check(measured, tolerance=tol, **{**params, "sigma2": 0.0, "f0": 1e-6}).verdict == "fail"
    with pytest.raises(AssumptionError, match=r"too large for staleness tau = 20"):
        thm.evaluate(**{**params, "tau": 20, "staleness_max": 4})
    with pytest.raises(AssumptionError, match=r"staleness 9 exceeds tau = 4"):
        thm.evaluate(**{**params, "staleness_max": 9})
    # more staleness, larger bound
    assert thm.evaluate(**{**params, "tau": 5}) > v.bound


@pytest.mark.parametrize("rule", ["mean", "self_weighted"])
def test_stale_window_bound_holds_on_every_step_with_stragglers(rule):
    measured, params, tol = cc.wagma_stale_window(16, 40, 2, 0.05, rule, 4, 4)
    thm = cv.WAGMA_STALE_MEAN if rule == "mean" else cv.WAGMA_STALE_SELF_WEIGHTED
    assert params["staleness_max"] >= 1                        # the runs had stale contributions
    v = thm.check(measured, tolerance=tol, **params)
    assert v.verdict == "pass" and measured > 0
    # an understated gradient bound fails at the worst step
    assert thm.check(measured, **{**params, "G": params["G"] / 30}).verdict == "fail"


def test_stale_window_refuses_unbounded_gradients_and_steps_outside_a_period():
    from mixlab.validation.checks import TheoremCheck

    params = {"eta": 0.1, "n": 8, "S": 2, "tau": 4, "G": 1.0, "k": 2, "gamma_g": 1.0, "order": "cta",
              "momentum": 0.0}
    assert cv.WAGMA_STALE_MEAN.evaluate(**params) == pytest.approx(8 * (0.5 + 0.2) ** 2)
    assert cv.WAGMA_STALE_SELF_WEIGHTED.evaluate(**params) == pytest.approx(8 * ((1 - 2 / 3) + 0.2) ** 2)
    with pytest.raises(AssumptionError, match="k = 5 is not within one period"):
        cv.WAGMA_STALE_MEAN.evaluate(**{**params, "k": 5})
    check = TheoremCheck("q", cv.WAGMA_STALE_MEAN,
                         lambda: (0.0, {**params, "G": None}, 0.0))
    assert check().verdict == "not_applicable"


def test_stale_weights_at_one_step_and_limit():
    import sympy as sp

    for rule in ("mean", "self_weighted"):
        w = cv.stale_weight(rule)
        assert w.subs({cv.S: 4, cv.k: 1}) == 0
        assert 0 < float(w.subs({cv.S: 4, cv.k: 6})) < 1
        assert sp.limit(w.subs(cv.S, 4), cv.k, sp.oo) == 1
