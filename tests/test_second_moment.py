import numpy as np
import pytest

from mixlab.kernels.engine import simulate
from mixlab.kernels.objectives import quadratic
from mixlab.theory import theorems as thm
from mixlab.theory.second_moment import predict
from mixlab.validation.engine_checks import second_moment, step_matrices
from mixlab.validation.runner import build_algorithm

N, D, T, R = 16, 4, 30, 300


@pytest.mark.parametrize("name,kw", [("dpsgd", {"topology": "ring"}), ("dpsgd", {"topology": "ring", "order": "atc"}),
                                     ("allreduce", {}), ("local_sgd", {"local_steps": 4}),
                                     ("wagma", {"group_size": 4, "sync_period": 3})])
def test_prediction_matches_the_average_of_independent_runs(name, kw):
    f = quadratic(N, D, zeta2=1.0, sigma2=0.5, seed=3)
    alg = build_algorithm(name, N, **kw)
    mats, order = step_matrices(alg, N, T)
    runs = np.array([[simulate(f, alg, T, lr=0.3, seed=s, record_every=1)[m] for m in ("loss_gap", "consensus")]
                     for s in range(R)])
    pred = predict(f.hdiag, f.centers, f.noise_std, np.zeros(D), mats, order, np.full(T, 0.3))
    mean, se = runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(R)
    for k, m in enumerate(("loss_gap", "consensus")):
        for t in (5, 15, T):                       # a few separated steps, 4.5 s.e. each
            assert abs(mean[k][t] - pred[m][t]) <= 4.5 * se[k][t] + 1e-12, (m, t)


def test_noise_free_prediction_is_exact():
    f = quadratic(N, D, zeta2=1.0, sigma2=0.0, seed=1)
    alg = build_algorithm("dpsgd", N, topology="torus")
    tr = simulate(f, alg, 20, lr=0.4, record_every=1)
    pred = predict(f.hdiag, f.centers, 0.0, np.zeros(D), step_matrices(alg, N, 20)[0], "cta", np.full(20, 0.4))
    np.testing.assert_allclose(tr["loss_gap"], pred["loss_gap"], rtol=1e-10)
    np.testing.assert_allclose(tr["consensus"], pred["consensus"], rtol=1e-9, atol=1e-14)


def test_theorem_check_passes_and_a_wrong_prediction_fails():
    measured, params, tol = second_moment("dpsgd", 16, 30, 200, topology="ring")
    assert thm.QUADRATIC_SECOND_MOMENT.check(measured, tolerance=tol, **params).verdict == "pass"
    f = quadratic(16, 4, zeta2=1.0, sigma2=0.5, seed=3)
    alg = build_algorithm("dpsgd", 16, topology="ring")
    wrong = predict(f.hdiag, f.centers, f.noise_std, np.zeros(4), step_matrices(alg, 16, 30)[0], "cta",
                    np.full(30, 0.25))
    assert thm.QUADRATIC_SECOND_MOMENT.check(measured, tolerance=tol, predicted=float(wrong["loss_gap"][-1]),
                                             momentum=0.0).verdict == "fail"
    with pytest.raises(thm.AssumptionError, match="momentum = 0.9"):
        thm.QUADRATIC_SECOND_MOMENT.check(measured, predicted=0.0, momentum=0.9)


def test_consensus_check_tells_topologies_apart():
    measured, params, tol = second_moment("dpsgd", 16, 30, 200, metric="consensus", topology="ring")
    assert thm.QUADRATIC_SECOND_MOMENT.check(measured, tolerance=tol, **params).verdict == "pass"
    f = quadratic(16, 4, zeta2=1.0, sigma2=0.5, seed=3)
    wrong = predict(f.hdiag, f.centers, f.noise_std, np.zeros(4),
                    step_matrices(build_algorithm("dpsgd", 16, topology="torus"), 16, 30)[0], "cta",
                    np.full(30, 0.3))
    assert thm.QUADRATIC_SECOND_MOMENT.check(measured, tolerance=tol, predicted=float(wrong["consensus"][-1]),
                                             momentum=0.0).verdict == "fail"
