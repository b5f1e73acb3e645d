import math

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mixlab.errors import ParameterError
from mixlab.kernels import counter_rng as crng
from mixlab.kernels import objectives as ob


def rows(n, d, seed, classes=False):
    """Data for the objectives from data: 5 n + 1 rows (one left over), features of
    unequal scales, targets from a noisy linear teacher ({0, 1} classes or reals)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((5 * n + 1, d)) * np.geomspace(1.0, 0.3, d)
    t = A @ rng.standard_normal(d) + 0.3 * rng.standard_normal(A.shape[0])
    return A, (t > 0).astype(float) if classes else t


BUILDERS = {
    "quadratic": lambda n, d, seed: ob.quadratic(n, d, zeta2=0.7, sigma2=0.05, seed=seed),
    "least_squares": lambda n, d, seed: ob.least_squares(n, d, zeta2=0.7, batch=4, seed=seed),
    "logistic": lambda n, d, seed: ob.logistic(n, d, samples=24, batch=4, seed=seed),
    "robust": lambda n, d, seed: ob.robust(n, d, samples=24, batch=4, seed=seed),
    "heterogeneous_quadratic": lambda n, d, seed: ob.heterogeneous_quadratic(
        n, d, zeta2=0.7, sigma2=0.05, seed=seed
    ),
    "least_squares_from_data": lambda n, d, seed: ob.least_squares_from_data(
        *rows(n, d, seed), n, batch=4, partition="label", seed=seed
    ),
    "logistic_from_data": lambda n, d, seed: ob.logistic_from_data(
        *rows(n, d, seed, classes=True), n, batch=4, reg=0.05, seed=seed
    ),
}
SAMPLE_BASED = ("least_squares", "logistic", "robust", "least_squares_from_data", "logistic_from_data")


def hessian_fd(f, x, eps=1e-5):
    d = x.size
    H = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = eps
        H[:, j] = (f.grad(x + e) - f.grad(x - e)) / (2 * eps)
    return (H + H.T) / 2


@pytest.mark.parametrize("name", BUILDERS)
@given(seed=st.integers(0, 2**20), k=st.integers(0, 50))
def test_compiled_stochastic_gradient_matches_reference(name, seed, k):
    f = BUILDERS[name](5, 4, seed)
    X = np.random.default_rng(seed).standard_normal((5, 4))
    G = f.stochastic_grads(X, k, seed + 1)
    out = np.empty(4)
    for i in range(5):
        ob.stochastic_grad(f.arrays(), seed + 1, i, k, X[i], out)
        np.testing.assert_allclose(out, G[i], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", BUILDERS)
def test_stochastic_gradients_are_unbiased_with_the_stated_variance(name):
    """Over K independent draws: mean within 4.5 standard errors of grad f_i; for
    exact constants the empirical variance at x* matches sigma2 within 5%, for
    uniform bounds it stays below."""
    f = BUILDERS[name](4, 3, 11)
    x = f.x_star if f.x_star is not None else np.zeros(3)
    X = np.tile(x, (4, 1))
    K = 4000
    draws = np.stack([f.stochastic_grads(X, k, 5) for k in range(K)])  # (K, n, d)
    exact = f.local_grads(x)
    se = draws.std(axis=0, ddof=1) / math.sqrt(K)
    assert (np.abs(draws.mean(axis=0) - exact) <= 4.5 * se + 1e-15).all()
    var = float(((draws - exact) ** 2).sum(axis=2).mean())
    if f.constants_kind in ("exact", "computed from data"):
        assert var == pytest.approx(f.sigma2, rel=0.05)
    else:
        assert var <= f.sigma2


@pytest.mark.parametrize(
    "name",
    [
        "quadratic",
        "least_squares",
        "logistic",
        "heterogeneous_quadratic",
        "least_squares_from_data",
        "logistic_from_data",
    ],
)
def test_optimum_and_heterogeneity(name):
    f = BUILDERS[name](6, 5, 3)
    assert np.linalg.norm(f.grad(f.x_star)) < 1e-12
    assert f.loss(f.x_star) == pytest.approx(f.f_star, rel=1e-12)
    assert f.zeta2_of(f.x_star) == pytest.approx(f.zeta2, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(5):  # x* minimizes
        assert f.loss(f.x_star + 0.1 * rng.standard_normal(5)) > f.f_star


@pytest.mark.parametrize("name", BUILDERS)
def test_gradient_matches_finite_differences_of_the_loss(name):
    """Central differences (h = 1e-5: truncation error of order h^2) at random points,
    and grad f = mean of the local gradients."""
    f = BUILDERS[name](5, 4, 7)
    rng = np.random.default_rng(8)
    eps = 1e-5
    for _ in range(3):
        x = 1.5 * rng.standard_normal(4)
        fd = np.array([(f.loss(x + eps * e) - f.loss(x - eps * e)) / (2 * eps) for e in np.eye(4)])
        g = f.grad(x)
        assert np.linalg.norm(fd - g) <= 1e-6 * np.linalg.norm(g), name
        np.testing.assert_allclose(f.local_grads(x).mean(axis=0), g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", SAMPLE_BASED)
def test_minibatch_gradients_average_to_the_local_gradients(name):
    """Away from x*: the mean of K iterations of draws lies within 4.5 standard errors
    of grad f_i (every worker, every coordinate)."""
    f = BUILDERS[name](4, 3, 12)
    X = np.random.default_rng(13).standard_normal((4, 3))
    exact = np.stack([f.local_grads(x)[i] for i, x in enumerate(X)])
    K = 3000
    draws = np.stack([f.stochastic_grads(X, k, 9) for k in range(K)])
    se = draws.std(axis=0, ddof=1) / math.sqrt(K)
    assert (np.abs(draws.mean(axis=0) - exact) <= 4.5 * se + 1e-15).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: ob.least_squares(3, 1, mu=1.0, samples=1, batch=3, seed=1),
        lambda: ob.logistic(3, 2, samples=1, batch=3, seed=1),
        lambda: ob.robust(3, 2, samples=1, batch=3, seed=1),
        lambda: ob.least_squares_from_data(*rows(3, 2, 1), 16, batch=3, seed=1),
        lambda: ob.logistic_from_data(*rows(3, 2, 1, classes=True), 16, batch=3, seed=1),
    ],
)
def test_one_sample_makes_minibatch_gradients_exact(make):
    """With m = 1 sample (per worker: n = rows for the objectives from data) every draw
    picks it: stochastic = local gradient, exactly (compiled and NumPy)."""
    f = make()
    X = np.random.default_rng(2).standard_normal((f.n, f.d))
    exact = np.stack([f.local_grads(x)[i] for i, x in enumerate(X)])
    out = np.empty(f.d)
    for k in range(5):
        np.testing.assert_allclose(f.stochastic_grads(X, k, 4), exact, rtol=1e-13, atol=1e-15)
        for i in range(f.n):
            ob.stochastic_grad(f.arrays(), 4, i, k, X[i], out)
            np.testing.assert_allclose(out, exact[i], rtol=1e-13, atol=1e-15)


def test_quadratic_and_least_squares_have_the_same_local_functions():
    q = ob.quadratic(5, 4, zeta2=0.3, seed=9)
    ls = ob.least_squares(5, 4, zeta2=0.3, seed=9)
    x = np.random.default_rng(1).standard_normal(4)
    np.testing.assert_allclose(ls.local_grads(x), q.local_grads(x), atol=1e-12)
    np.testing.assert_allclose(
        ls.features.T @ ls.features / ls.features.shape[0], np.diag(q.hdiag), atol=1e-12
    )
    assert q.zeta2 == ls.zeta2 == 0.3


@pytest.mark.parametrize("name", BUILDERS)
def test_curvature_within_mu_and_L(name):
    f = BUILDERS[name](4, 4, 5)
    rng = np.random.default_rng(2)
    for _ in range(5):
        ev = np.linalg.eigvalsh(hessian_fd(f, 2 * rng.standard_normal(4)))
        assert ev.max() <= f.L + 1e-6
        if f.convex:
            assert ev.min() >= f.mu - 1e-6
    if name in ("quadratic", "least_squares"):  # tight: L and mu are attained
        ev = np.linalg.eigvalsh(hessian_fd(f, np.zeros(4)))
        assert ev.max() == pytest.approx(f.L, abs=1e-6) and ev.min() == pytest.approx(f.mu, abs=1e-6)


def test_robust_zeta2_bound_holds_everywhere():
    f = ob.robust(6, 3, samples=20, seed=4)
    rng = np.random.default_rng(3)
    assert max(f.zeta2_of(3 * rng.standard_normal(3)) for _ in range(50)) <= f.zeta2
    assert f.f_star is None and not f.convex and f.constants_kind == "uniform_bound"


def test_mu_zero_quadratic_is_convex_not_strongly():
    f = ob.quadratic(3, 4, mu=0.0, seed=0)
    assert f.hdiag[-1] == 0.0 and f.hdiag[0] == 1.0


def test_same_seed_same_problem():
    a, b = ob.logistic(4, 3, seed=8), ob.logistic(4, 3, seed=8)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.x_star, b.x_star)
    assert not np.array_equal(a.features, ob.logistic(4, 3, seed=9).features)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: ob.quadratic(4, 3, mu=2.0), r"mu must be <= L; got mu = 2.0, L = 1.0"),
        (lambda: ob.quadratic(4, 1, mu=0.5), r"d = 1 needs mu = L"),
        (lambda: ob.heterogeneous_quadratic(1, 1, mu=0.5), r"n = d = 1 needs mu = L"),
        (lambda: ob.heterogeneous_quadratic(1, 3, zeta2=1.0), r"zeta2 = 1.0 > 0 needs n >= 2 workers"),
        (lambda: ob.heterogeneous_quadratic(4, 3, sigma2=-1), r"sigma2 must be >= 0, got -1.0"),
        (lambda: ob.logistic(4, 3).hessians, r"hessians need a quadratic objective; got 'logistic'"),
        (lambda: ob.quadratic(4, 3, L=0), r"L must be > 0"),
        (lambda: ob.quadratic(4, 3, zeta2=-1), r"zeta2 must be >= 0, got -1.0"),
        (lambda: ob.quadratic(1, 3, zeta2=1.0), r"zeta2 = 1.0 > 0 needs n >= 2 workers"),
        (lambda: ob.quadratic(4, 3, sigma2=float("nan")), r"sigma2 must be finite, got nan"),
        (lambda: ob.least_squares(4, 8, samples=4), r"samples must be >= 8, got 4"),
        (lambda: ob.logistic(4, 3, reg=1.5), r"reg must be < L; got reg = 1.5, L = 1.0"),
        (lambda: ob.logistic(4, 3, batch=0), r"batch must be >= 1, got 0"),
        (lambda: ob.robust(4, 3, outliers=2), r"outliers must be <= 1, got 2.0"),
        (lambda: ob.make_objective("rosenbrock", 4), r"unknown objective 'rosenbrock'; valid: quadratic"),
    ],
)
def test_bad_objective_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


# ---- a user-supplied compiled loss -----------------------------------------------------------


@numba.njit
def shifted_grad(i, k, x, out, seed, data):
    """f_i(x) = ||x - c_i||^2 / 2 (c_i = data[i]), plus noise of variance 0.01 per coordinate."""
    n, d = data.shape
    for j in range(d):
        out[j] = x[j] - data[i, j] + 0.1 * crng.normal(seed, crng.NOISE, (k * n + i) * d + j)


@numba.njit
def shifted_loss(x, out, data):
    n, d = data.shape
    f = 0.0
    out[:] = 0.0
    for i in range(n):
        for j in range(d):
            f += 0.5 * (x[j] - data[i, j]) ** 2 / n
            out[j] += (x[j] - data[i, j]) / n
    return f


def shifted(n=8, d=3, **declared):
    """The custom objective of shifted_grad / shifted_loss; its exact constants are
    L = mu = 1, zeta2 = mean ||c_i - c-bar||^2 at every x, sigma2 = 0.01 d."""
    c = np.random.default_rng(5).standard_normal((n, d))
    return ob.custom_objective(n, d, shifted_grad, shifted_loss, L=1.0, data=c, **declared), c


def test_custom_objective_compiled_and_reference_gradients_agree():
    f, c = shifted(mu=1.0)
    X = np.random.default_rng(1).standard_normal((8, 3))
    out = np.empty(3)
    for k in (0, 7):
        G = f.stochastic_grads(X, k, 3)
        for i in range(8):
            ob.stochastic_grad(f.arrays(), 3, i, k, X[i], out)
            np.testing.assert_allclose(out, G[i], rtol=1e-13, atol=1e-15)
    draws = np.stack([f.stochastic_grads(X, k, 3) for k in range(2000)])
    np.testing.assert_allclose(draws.mean(axis=0), X - c, atol=4.5 * 0.1 / math.sqrt(2000))
    x = X[0]
    assert f.loss(x) == pytest.approx(f.reference_loss(x), rel=1e-14)
    np.testing.assert_allclose(f.grad(x), f.reference_grad(x), rtol=1e-14)
    np.testing.assert_allclose(f.grad(x), x - c.mean(axis=0), rtol=1e-13)


def test_custom_objective_runs_on_both_engines_alike():
    """One test (not parametrized): the compiled kernels for the custom type are compiled
    by one process (see mixlab.kernels.warmup on parallel-loop caches)."""
    from mixlab.kernels.algorithms import build
    from mixlab.kernels.engines import simulate
    from mixlab.kernels.timing import TimingModel

    f, _ = shifted(mu=1.0)
    timing = TimingModel("exponential", stragglers=2, slowdown=2.0)
    for name, options in (("dpsgd", {"topology": "ring"}), ("adpsgd", {}), ("allreduce", {})):
        alg = build(name, 8, **options)
        a, b = (
            simulate(f, alg, 25, lr=0.3, timing=timing, seed=2, record_every=5, backend=e)
            for e in ("numba", "reference")
        )
        for m in b.columns:
            np.testing.assert_allclose(a[m], b[m], rtol=1e-10, atol=1e-13, err_msg=f"{name}: {m}")
        assert a["loss_gap"][-1] < a["loss_gap"][0]


def test_custom_objective_constants_are_the_declarations():
    f, c = shifted()
    zeta2 = float(((c - c.mean(axis=0)) ** 2).sum(axis=1).mean())
    assert f.constants() == {
        "L": 1.0,
        "mu": 0.0,
        "zeta2": None,
        "sigma2": None,
        "f_star": None,
        "convex": False,
        "each_strongly_convex": False,
        "grad_bound": None,
        "constants_kind": "declared",
        "zeta2_uniform": False,
        "sigma2_uniform": False,
    }
    g, _ = shifted(mu=1.0, zeta2=zeta2, sigma2=0.03, x_star=c.mean(axis=0), f_star=zeta2 / 2)
    assert g.constants()["each_strongly_convex"] and g.constants()["zeta2_uniform"] and g.x_star.shape == (3,)
    assert g.loss(g.x_star) == pytest.approx(g.f_star, rel=1e-14)


def test_a_convergence_theorem_refuses_a_run_of_a_custom_objective_without_zeta2():
    """Judging a run needs zeta2; undeclared, the theorem's heterogeneity assumption fails
    (AssumptionError naming zeta2); declared, the bound is computed."""
    from mixlab.errors import AssumptionError
    from mixlab.kernels.engines import simulate
    from mixlab.runs import build_algorithm
    from mixlab.theory import convergence as cv
    from mixlab.validation.convergence_checks import theorem_params

    alg = build_algorithm("dpsgd", 8, topology="ring")
    f, c = shifted(mu=1.0, sigma2=0.03)
    measured = simulate(f, alg, 30, lr=0.1, backend="reference")["consensus"].max()
    with pytest.raises(
        AssumptionError,
        match=r"assumption 'heterogeneity bounded at every averaged iterate' "
        r"fails: zeta2 is not declared",
    ):
        cv.DPSGD_CONSENSUS.check(measured, **theorem_params(f, alg, 30, 0.1))
    declared, _ = shifted(mu=1.0, sigma2=0.03, zeta2=float(((c - c.mean(axis=0)) ** 2).sum(axis=1).mean()))
    assert math.isfinite(cv.DPSGD_CONSENSUS.evaluate(**theorem_params(declared, alg, 30, 0.1)))


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: ob.custom_objective(2, 3, np.sum, shifted_loss, L=1.0),
            r"grad must be a numba.njit function; got",
        ),
        (
            lambda: ob.custom_objective(2, 3, shifted_loss, shifted_loss, L=1.0),
            r"grad must compile as grad\(int64, int64, array\(float64, 1d, C\), array\(float64, 1d, C\), "
            r"int64, array\(float64, 2d, C\)\) -> none; numba: Signature mismatch",
        ),
        (
            lambda: ob.custom_objective(2, 3, shifted_grad, shifted_grad, L=1.0),
            r"loss must compile as loss\(array\(float64, 1d, C\), array\(float64, 1d, C\), "
            r"array\(float64, 2d, C\)\) -> float64",
        ),
        (lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=0.0), r"L must be > 0"),
        (lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=1.0, mu=2.0), r"mu must be <= L"),
        (
            lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=1.0, zeta2=-1),
            r"zeta2 must be >= 0",
        ),
        (
            lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=1.0, sigma2=-1),
            r"sigma2 must be >= 0",
        ),
        (
            lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=1.0, f_star=math.nan),
            r"f_star must be finite",
        ),
        (
            lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=1.0, x_star=np.zeros(2)),
            r"x_star must have shape \(d,\) = \(3,\); got \(2,\)",
        ),
        (
            lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=1.0, x_star=[0, math.inf, 0]),
            r"x_star must be finite; entry \(1,\) is inf",
        ),
        (
            lambda: ob.custom_objective(2, 3, shifted_grad, shifted_loss, L=1.0, data=np.zeros(3)),
            r"data must be a 2-D array \(the functions' last argument\); got shape \(3,\)",
        ),
        (lambda: shifted()[0].local_grads(np.zeros(3)), r"a custom objective has no local gradients"),
        (lambda: shifted()[0].zeta2_of(np.zeros(3)), r"a custom objective has no local gradients"),
    ],
)
def test_bad_custom_objective_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
