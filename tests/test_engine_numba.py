"""The compiled engine reproduces the reference engine (1e-10 relative, float64)."""

import numpy as np
import pytest
from test_engine_reference import ALGORITHMS, N, butterfly

from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import least_squares, logistic, quadratic, robust
from mixlab.kernels.timing import TimingModel
from mixlab.vocabulary import ACTIVATIONS

OBJECTIVES = {
    "quadratic": lambda: quadratic(N, 3, seed=1),
    "least_squares": lambda: least_squares(N, 3, batch=3, seed=1),
    "logistic": lambda: logistic(N, 3, samples=12, batch=3, seed=1),
    "robust": lambda: robust(N, 3, samples=12, batch=3, seed=1),
}
TIMINGS = {
    "constant": TimingModel(),
    "stragglers": TimingModel("shifted_exponential", shift=0.5, stragglers=3, slowdown=4.0, delay=0.1),
}


def compare(f, alg, timing, steps=30, **kw):
    a = simulate(f, alg, steps, lr=0.2, timing=timing, seed=11, record_every=7, backend="numba", **kw)
    b = simulate(f, alg, steps, lr=0.2, timing=timing, seed=11, record_every=7, backend="reference", **kw)
    for m in b.columns:
        np.testing.assert_allclose(a[m], b[m], rtol=1e-10, atol=1e-13, err_msg=m)
    return a


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("name", ALGORITHMS)
def test_numba_engine_matches_reference(name, timing):
    compare(OBJECTIVES["least_squares"](), ALGORITHMS[name](), TIMINGS[timing])


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_numba_engine_matches_reference_on_every_objective(objective):
    compare(
        OBJECTIVES[objective](),
        butterfly(N, 4, rule="self_weighted", momentum=0.5, sync_period=3),
        TIMINGS["stragglers"],
    )


@pytest.mark.parametrize("order", ["cta", "atc"])
@pytest.mark.parametrize("wait_avoiding", [True, False])
def test_numba_wagma_variants_match_reference(order, wait_avoiding):
    alg = butterfly(N, 2, order=order, wait_avoiding=wait_avoiding, sync_period=5, momentum=0.9)
    tr = compare(quadratic(N, 3, seed=2), alg, TimingModel("lognormal", sigma=1.0, alpha=0.01), steps=40)
    assert (tr["staleness_max"].max() > 0) == wait_avoiding


@pytest.mark.parametrize("rule", ["mean", "self_weighted"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_numba_wagma_activations_match_reference(activation, rule):
    """Exponential compute times, 2 random 5x stragglers: both variants see stale contributions."""
    alg = butterfly(N, 2, rule=rule, activation=activation, sync_period=6)
    timing = TimingModel("exponential", stragglers=2, slowdown=5.0, alpha=0.05)
    tr = compare(quadratic(N, 3, seed=2), alg, timing, steps=40)
    assert tr["staleness_max"].max() > 0


def test_numba_engine_is_deterministic():
    f = least_squares(N, 3, seed=1)
    a = simulate(f, ALGORITHMS["adpsgd"](), 20, timing=TIMINGS["stragglers"], seed=4)
    b = simulate(f, ALGORITHMS["adpsgd"](), 20, timing=TIMINGS["stragglers"], seed=4)
    for m in a.columns:
        np.testing.assert_array_equal(a[m], b[m])
