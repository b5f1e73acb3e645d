import numpy as np
import pytest
from scipy.stats import special_ortho_group

from mixlab.errors import AssumptionError, ParameterError
from mixlab.kernels.algorithms import DPSGD
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import heterogeneous_quadratic, quadratic
from mixlab.runs import build_algorithm
from mixlab.theory import theorems as thm
from mixlab.theory.schedules import mixing_period
from mixlab.theory.second_moment import predict
from mixlab.validation.engine_checks import second_moment
from mixlab.validation.statistics import tolerance

N, D, T, R = 16, 4, 30, 300


@pytest.mark.parametrize(
    "name,kw",
    [
        ("dpsgd", {"topology": "ring"}),
        ("dpsgd", {"topology": "ring", "order": "atc"}),
        ("allreduce", {}),
        ("local_sgd", {"local_steps": 4}),
        ("wagma", {"group_size": 4, "sync_period": 3}),
    ],
)
def test_prediction_matches_the_average_of_independent_runs(name, kw):
    f = quadratic(N, D, zeta2=1.0, sigma2=0.5, seed=3)
    alg = build_algorithm(name, N, **kw)
    mats, order = alg.mixing_matrices(N, T)
    runs = np.array(
        [
            [simulate(f, alg, T, lr=0.3, seed=s, record_every=1)[m] for m in ("loss_gap", "consensus")]
            for s in range(R)
        ]
    )
    pred = predict(f.hdiag, f.centers, f.noise_std, np.zeros(D), mats, order, np.full(T, 0.3))
    mean, se = runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(R)
    for k, m in enumerate(("loss_gap", "consensus")):
        for t in (5, 15, T):  # a few separated steps, 4.5 s.e. each
            assert abs(mean[k][t] - pred[m][t]) <= 4.5 * se[k][t] + 1e-12, (m, t)


def test_noise_free_prediction_is_exact():
    f = quadratic(N, D, zeta2=1.0, sigma2=0.0, seed=1)
    alg = build_algorithm("dpsgd", N, topology="torus")
    tr = simulate(f, alg, 20, lr=0.4, record_every=1)
    pred = predict(
        f.hdiag, f.centers, 0.0, np.zeros(D), alg.mixing_matrices(N, 20)[0], "cta", np.full(20, 0.4)
    )
    np.testing.assert_allclose(tr["loss_gap"], pred["loss_gap"], rtol=1e-10)
    np.testing.assert_allclose(tr["consensus"], pred["consensus"], rtol=1e-9, atol=1e-14)


def test_theorem_check_passes_and_the_other_patterns_predictions_fail():
    """On the heterogeneous quadratic each pattern matches its own prediction and not the others'."""
    thm2 = thm.QUADRATIC_SECOND_MOMENT
    for pattern, other in (("dpsgd-ring", "dpsgd-complete"), ("no-communication", "dpsgd-ring")):
        for metric in ("loss_gap", "consensus"):
            measured, params = second_moment(pattern, 200, metric)
            assert thm2.check(measured.value, tolerance=tolerance(measured, "=="), **params).verdict == "pass"
            measured, params = second_moment(pattern, 200, metric, claimed=other)
            assert thm2.check(measured.value, tolerance=tolerance(measured, "=="), **params).verdict == "fail"
    with pytest.raises(AssumptionError, match=r"momentum = 0\.9"):
        thm2.check(0.0, predicted=0.0, momentum=0.9)


def test_mean_path_of_a_noise_free_run():
    """predict's xbar is the engine's average model when there is no noise."""
    f = heterogeneous_quadratic(8, 3, zeta2=1.0, sigma2=0.0, seed=4)
    alg = build_algorithm("dpsgd", 8, topology="ring")
    pred = predict(
        f.hessians, f.centers, 0.0, np.zeros(3), alg.mixing_matrices(8, 25)[0], "cta", np.full(25, 0.3)
    )
    tr = simulate(f, alg, 25, lr=0.3, record_every=1)
    np.testing.assert_allclose([f.loss(x) - f.f_star for x in pred["xbar"]], tr["loss_gap"], rtol=1e-9)


def test_common_diagonal_numbers_are_unchanged():
    """Values of the per-coordinate solver before per-worker Hessians were added."""
    f = quadratic(N, D, zeta2=1.0, sigma2=0.5, seed=3)
    for order, gaps, gammas in [
        (
            "cta",
            [0.42037718165235205, 0.02810494805786753, 0.005534118138430283],
            [4.3311003495756495, 5.526212697796865, 5.736510911783401],
        ),
        (
            "atc",
            [0.42037718165235227, 0.02810494805786758, 0.005534118138430291],
            [2.66504737211652, 3.874767280503365, 4.0933708779793365],
        ),
    ]:
        alg = build_algorithm("dpsgd", N, topology="ring", order=order)
        pred = predict(
            f.hdiag, f.centers, f.noise_std, np.zeros(D), alg.mixing_matrices(N, T)[0], order, np.full(T, 0.3)
        )
        np.testing.assert_allclose(pred["loss_gap"][[5, 15, 30]], gaps, rtol=1e-12)
        np.testing.assert_allclose(pred["consensus"][[5, 15, 30]], gammas, rtol=1e-12)


@pytest.mark.parametrize("order", ["cta", "atc"])
def test_hessian_forms_agree_and_rotations_leave_the_prediction_unchanged(order):
    """(d,), (n, d) and (n, d, d) give one answer for a common diagonal; per-worker
    diagonals H_i = diag(h_i) (the per-coordinate solver) and the same problem rotated
    by one R, R H_i R^T with centers and x0 rotated (the n d solver), give the same
    gap and consensus (both are rotation invariant)."""
    f = quadratic(6, 3, zeta2=1.0, sigma2=0.3, seed=2)
    mats = [mixing_period("ring", 6)[0].toarray()]
    x0 = np.array([0.5, -1.0, 0.2])
    run = lambda H, C, x: predict(H, C, f.noise_std, x, mats, order, np.full(15, 0.3))  # noqa: E731
    ref = run(f.hdiag, f.centers, x0)
    for H in (np.tile(f.hdiag, (6, 1)), f.hessians):
        for m in ref:
            np.testing.assert_allclose(run(H, f.centers, x0)[m], ref[m], rtol=1e-12, atol=1e-13)
    h = np.random.default_rng(0).uniform(0.1, 1.0, (6, 3))
    R = special_ortho_group.rvs(3, random_state=1)
    diagonal = run(h, f.centers, x0)
    rotated = run(np.einsum("ab,ib,cb->iac", R, h, R), f.centers @ R.T, R @ x0)
    for m in ("loss_gap", "consensus"):
        np.testing.assert_allclose(rotated[m], diagonal[m], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rotated["xbar"], diagonal["xbar"] @ R.T, rtol=1e-10, atol=1e-13)
    assert not np.allclose(diagonal["loss_gap"], ref["loss_gap"])


HN, HD, HT, HR, LR = 16, 4, 30, 400, 0.3
MIXINGS = {
    "ring": lambda n: mixing_period("ring", n)[0].toarray(),
    "complete": lambda n: np.full((n, n), 1 / n),
    "none": np.eye,
}


@pytest.mark.parametrize("order", ["cta", "atc"])
@pytest.mark.parametrize("mixing", MIXINGS)
def test_per_worker_hessians_noise_free_prediction_is_exact(mixing, order):
    f = heterogeneous_quadratic(HN, HD, zeta2=1.0, sigma2=0.0, seed=3)
    W = MIXINGS[mixing](HN)
    tr = simulate(f, DPSGD(mixing=(W,), order=order), HT, lr=LR, record_every=1)
    pred = predict(f.hessians, f.centers, 0.0, np.zeros(HD), [W], order, np.full(HT, LR))
    np.testing.assert_allclose(tr["loss_gap"], pred["loss_gap"], rtol=1e-10)
    np.testing.assert_allclose(
        tr["consensus"], pred["consensus"], rtol=1e-9, atol=1e-12
    )  # J: 0 up to rounding


@pytest.mark.parametrize("order", ["cta", "atc"])
def test_per_worker_hessians_make_the_loss_gap_depend_on_the_mixing(order):
    """Ring, complete graph (W = J) and no communication (W = I): the mean of HR runs
    (fixed seeds) lies within 4.5 standard errors of the prediction at steps 10, 20, 30,
    and the three predicted final loss gaps are at least 8 standard errors apart (with
    a common Hessian they coincide)."""
    q = quadratic(HN, HD, zeta2=1.0, sigma2=0.5, seed=3)
    common = [
        predict(q.hdiag, q.centers, q.noise_std, np.zeros(HD), [make(HN)], order, np.full(HT, LR))["loss_gap"]
        for make in MIXINGS.values()
    ]
    np.testing.assert_allclose(common[1:], [common[0]] * 2, rtol=1e-10)
    f = heterogeneous_quadratic(HN, HD, zeta2=1.0, sigma2=0.5, seed=3)
    final = {}
    for name, make in MIXINGS.items():
        W = make(HN)
        alg = DPSGD(mixing=(W,), order=order)
        runs = np.array(
            [
                [simulate(f, alg, HT, lr=LR, seed=s, record_every=10)[m] for m in ("loss_gap", "consensus")]
                for s in range(HR)
            ]
        )
        pred = predict(f.hessians, f.centers, f.noise_std, np.zeros(HD), [W], order, np.full(HT, LR))
        mean, se = runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(HR)
        for k, m in enumerate(("loss_gap", "consensus")):
            for r, t in enumerate((10, 20, 30), start=1):
                assert abs(mean[k][r] - pred[m][t]) <= 4.5 * se[k][r] + 1e-12, (name, m, t)
        final[name] = (pred["loss_gap"][-1], se[0][-1])
    for a, b in [("ring", "complete"), ("ring", "none"), ("complete", "none")]:
        (pa, sa), (pb, sb) = final[a], final[b]
        assert abs(pa - pb) >= 8 * np.hypot(sa, sb), (a, b, final)


@pytest.mark.parametrize(
    "H,match",
    [
        (
            np.ones((3, 2)),
            r"hessians must have shape \(d,\), \(n, d\) or \(n, d, d\) with \(n, d\) = \(4, 2\) "
            r"from the centers; got \(3, 2\)",
        ),
        (
            np.tile([[1.0, 0.5], [0.0, 1.0]], (4, 1, 1)),
            r"hessians must be symmetric; got max \|H_i - H_i\^T\| = 0.5",
        ),
    ],
)
def test_bad_hessians(H, match):
    with pytest.raises(ParameterError, match=match):
        predict(H, np.zeros((4, 2)), 0.1, np.zeros(2), [np.eye(4)], "cta", [0.1])


def test_bad_start():
    with pytest.raises(ParameterError, match=r"x0 must have shape \(d,\) = \(2,\); got \(3,\)"):
        predict(np.ones(2), np.zeros((4, 2)), 0.1, np.zeros(3), [np.eye(4)], "cta", [0.1])
