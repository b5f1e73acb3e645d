import networkx as nx
import numpy as np
import pytest

from mixlab.errors import ParameterError
from mixlab.kernels.gossip.learning import simulate_gossip_learning
from mixlab.kernels.objectives import least_squares, quadratic
from mixlab.theory import version_age as va


def test_measured_staleness_matches_theory_and_learning_progresses():
    """Complete graph, push, u = 1/(0.2 + 0.8) = 1, lambda = 1.5: the time-averaged
    staleness matches (u/lambda) H_{n-1} within 4 standard errors (batch means)."""
    f = quadratic(10, 4, zeta2=0.2, seed=0)
    run = simulate_gossip_learning(f, duration=2500, gossip_rate=1.5, seed=1)
    exact = va.user_staleness_complete(10, 1.5, 1.0)
    assert abs(run.staleness - exact) <= 4 * run.staleness_stderr
    assert run.staleness_stderr < 0.02 * exact
    assert run["loss_gap"][-1] < 0.1 * run["loss_gap"][0]
    assert run["user_loss_gap"][-1] < 0.1 * run["user_loss_gap"][0]
    assert run.blocks == pytest.approx(10 * 2500, rel=0.05)  # block rate u = 1 per user


def test_exchange_halves_measured_staleness():
    f = quadratic(8, 2, seed=1)
    run = simulate_gossip_learning(
        f, duration=2000, gossip_rate=1.0, mode="exchange", seed=2, shift=0.0, mean_block=0.5
    )
    exact = va.user_staleness_complete(8, 1.0, 2.0, mode="exchange")
    assert abs(run.staleness - exact) <= 4 * run.staleness_stderr


def test_models_reach_consensus():
    """Homogeneous users without gradient noise: asynchronous blocks spread the
    models apart, gossip pulls them together, and Gamma falls 10^10-fold."""
    f = quadratic(8, 3, zeta2=0.0, sigma2=0.0, seed=3)
    run = simulate_gossip_learning(f, duration=300, gossip_rate=2.0, lr=0.3, seed=4, x0=np.ones(3))
    assert run["consensus"].max() > 0.1 and run["consensus"][-1] < 1e-10 * run["consensus"].max()
    assert run["loss_gap"][-1] < 1e-8 * run["loss_gap"][0]


@pytest.mark.parametrize("mode", ["push", "exchange"])
@pytest.mark.parametrize("graph", [None, "ring"])
def test_compiled_loop_matches_reference(mode, graph):
    f = least_squares(6, 3, batch=2, seed=5)
    neighbors = None
    if graph:
        A = nx.to_scipy_sparse_array(nx.cycle_graph(6), format="csr")
        neighbors = (A.indptr, A.indices)
    kw = {
        "duration": 30,
        "mode": mode,
        "local_steps": 3,
        "neighbors": neighbors,
        "seed": 6,
        "record_every": 3,
    }
    a = simulate_gossip_learning(f, **kw)
    b = simulate_gossip_learning(f, backend="reference", **kw)
    for c in a.columns:
        np.testing.assert_allclose(a[c], b[c], rtol=1e-12, atol=1e-14, err_msg=c)
    assert (a.staleness, a.blocks, a.gossips) == (b.staleness, b.blocks, b.gossips)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda f: simulate_gossip_learning(f, duration=0), r"duration must be > 0"),
        (lambda f: simulate_gossip_learning(f, duration=1, gossip_rate=-1), r"gossip rate must be > 0"),
        (lambda f: simulate_gossip_learning(f, duration=1, local_steps=0), r"local steps K must be >= 1"),
        (
            lambda f: simulate_gossip_learning(f, duration=1, mean_block=float("nan")),
            r"mean block time 1/mu must be finite",
        ),
        (lambda f: simulate_gossip_learning(f, duration=1, mode="gossip"), r"unknown gossip mode 'gossip'"),
        (
            lambda f: simulate_gossip_learning(
                f, duration=1, neighbors=(np.array([0, 1, 1, 1]), np.array([1]))
            ),
            r"neighbors must give every one of the n = 3 users a neighbour",
        ),
        (
            lambda f: simulate_gossip_learning(quadratic(1, 2, zeta2=0), duration=1),
            r"needs n >= 2 users, got 1",
        ),
    ],
)
def test_bad_gossip_learning_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call(quadratic(3, 2, seed=0))


def test_heterogeneous_capacities_lie_between_lambda_max_and_lambda_min():
    n = 10
    lam = np.linspace(0.5, 2.0, n)
    run = simulate_gossip_learning(quadratic(n, 2, seed=6), duration=2000, gossip_rate=lam, seed=7)
    low, high = va.user_staleness_complete(n, lam.max(), 1.0), va.user_staleness_complete(n, lam.min(), 1.0)
    assert low + 4 * run.staleness_stderr < run.staleness < high - 4 * run.staleness_stderr


def test_per_user_block_parameters():
    f = quadratic(4, 2, seed=8)
    run = simulate_gossip_learning(
        f, duration=500, shift=[0, 0, 0, 0.5], mean_block=[0.5, 0.5, 0.5, 1.5], seed=9
    )
    assert run.params["block_rate"] == [2.0, 2.0, 2.0, 0.5]
    assert run.blocks == pytest.approx(500 * 6.5, rel=0.1)
    with pytest.raises(ParameterError, match=r"gossip rate must be a number or one value per user \(n = 4\)"):
        simulate_gossip_learning(f, duration=1, gossip_rate=[1.0, 2.0])
    with pytest.raises(ParameterError, match=r"gossip rate must be > 0, got 0.0"):
        simulate_gossip_learning(f, duration=1, gossip_rate=[1.0, 0.0, 1.0, 1.0])
