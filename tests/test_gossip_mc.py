"""Monte Carlo of version age against the exact solvers (within 4 standard errors)."""

import numpy as np
import pytest

from mixlab.errors import ParameterError
from mixlab.kernels.gossip_mc import GossipTopology, simulate_age
from mixlab.kernels.version_age_exact import node_ages
from mixlab.theory import version_age as va

from test_version_age import complete_rates, ring_rates, user_rates

Z = 4.0


def within(estimate, exact, stderr):
    assert abs(estimate - exact) <= Z * stderr, (estimate, exact, stderr)


@pytest.mark.parametrize("name,rates,exact", [
    ("complete", complete_rates(8), va.complete_graph_age(8)),
    ("ring", ring_rates(9), va.ring_age(9)),
    ("user", user_rates(7), va.user_staleness_complete(7)),
])
def test_monte_carlo_matches_exact_symmetric(name, rates, exact):
    est = simulate_age(GossipTopology.from_rate_matrix(rates), events=400_000, seed=1)
    within(est.node_average, exact, est.node_average_stderr)
    assert est.node_average_stderr < 0.02 * exact


def test_monte_carlo_matches_exact_on_an_asymmetric_graph():
    rng = np.random.default_rng(7)
    n = 6
    R = rng.uniform(0.2, 2.0, (n + 1, n + 1)) * (rng.random((n + 1, n + 1)) < 0.5)
    R[:, 0] = 0
    R[0, 1:] = 0
    R[0, 1] = 1.5                                         # the source reaches node 1 only
    R[1:, 1:][np.diag_indices(n)] = 0
    R[1:, 1:] += np.roll(np.eye(n), 1, axis=1) * 0.3     # a cycle: everyone reachable
    exact = node_ages(R, 0.7)
    est = simulate_age(GossipTopology.from_rate_matrix(R), update_rate=0.7, events=600_000, seed=2)
    for j in range(n):
        within(est.mean[j], exact[j], est.stderr[j])
    assert len(set(np.round(exact, 6))) == n              # really asymmetric


def test_renewal_updates_give_the_poisson_mean():
    top = GossipTopology.complete_graph(9, 1.0, 1.0, source_is_user=True)
    exact = va.user_staleness_complete(10, 1.0, 1.0)
    for shift in (0.0, 0.6):
        est = simulate_age(top, renewal_shift=shift, events=400_000, seed=3)
        within(est.node_average, exact, est.node_average_stderr)


def test_exchange_halves_user_staleness():
    top = GossipTopology.complete_graph(15, 1.0, 1.0, source_is_user=True)
    push = simulate_age(top, events=400_000, seed=4)
    exch = simulate_age(top, mode="exchange", events=400_000, seed=4)
    within(push.node_average, va.user_staleness_complete(16), push.node_average_stderr)
    within(exch.node_average, va.user_staleness_complete(16) / 2, exch.node_average_stderr)


@pytest.mark.parametrize("complete", [True, False])
@pytest.mark.parametrize("mode,shift", [("push", 0.0), ("exchange", 0.3)])
def test_compiled_loop_matches_reference_loop(complete, mode, shift):
    top = GossipTopology.complete_graph(5, 1.0, 1.3) if complete else GossipTopology.from_rate_matrix(ring_rates(5))
    kw = dict(events=3000, seed=9, mode=mode, renewal_shift=shift, batches=5)
    a, b = simulate_age(top, **kw), simulate_age(top, backend="reference", **kw)
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-10)
    np.testing.assert_allclose(a.stderr, b.stderr, rtol=1e-8)
    assert a.sim_time == b.sim_time


def test_short_runs_warn_that_the_estimate_may_not_be_stationary():
    with pytest.warns(UserWarning, match=r"pushes per node after warm-up; the estimate may not be stationary"):
        simulate_age(GossipTopology.complete_graph(1000, 1.0, 1.0), events=10_000)


def test_alias_table_draws_with_the_given_weights():
    from mixlab.kernels.gossip_mc import _pick_alias, alias_table

    w = np.array([0.5, 3.0, 1.0, 0.0, 2.5])
    prob, alias = alias_table(w)
    u = (np.arange(200_000) + 0.5) / 200_000                  # a fine grid of uniforms
    counts = np.bincount([_pick_alias(prob, alias, x) for x in u], minlength=5)
    np.testing.assert_allclose(counts / u.size, w / w.sum(), atol=1e-4)


def test_same_seed_same_estimate():
    top = GossipTopology.complete_graph(20, 1.0, 1.0)
    a, b = simulate_age(top, events=10_000, seed=5), simulate_age(top, events=10_000, seed=5)
    np.testing.assert_array_equal(a.mean, b.mean)


@pytest.mark.parametrize("call,match", [
    (lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), mode="pull"), r"unknown gossip mode 'pull'"),
    (lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), update_rate=-1), r"update rate must be > 0"),
    (lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), renewal_shift=2.0), r"renewal shift must be < 1/update_rate = 1, got 2.0"),
    (lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), events=10), r"events must be >= 100, got 10"),
    (lambda: GossipTopology.complete_graph(5, float("nan"), 1), r"source rate must be finite, got nan"),
    (lambda: GossipTopology.complete_graph(5, 1, -2), r"gossip rate must be >= 0, got -2.0"),
    (lambda: GossipTopology.from_rate_matrix(np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]])), r"cannot be reached from the source"),
])
def test_bad_monte_carlo_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
