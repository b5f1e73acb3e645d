"""Monte Carlo of version age against the exact solvers (within 4 standard errors; the
time-age estimator within 4.5)."""

import numpy as np
import pytest
from test_version_age import complete_rates, ring_rates, user_rates

from mixlab.errors import ParameterError
from mixlab.kernels.gossip.exact import node_ages
from mixlab.kernels.gossip.monte_carlo import GossipTopology, simulate_age
from mixlab.theory import version_age as va

Z = 4.0


def within(estimate, exact, stderr, z=Z):
    assert abs(estimate - exact) <= z * stderr, (estimate, exact, stderr)


@pytest.mark.parametrize(
    "name,rates,exact",
    [
        ("complete", complete_rates(8), va.complete_graph_age(8)),
        ("ring", ring_rates(9), va.ring_age(9)),
        ("user", user_rates(7), va.user_staleness_complete(7)),
    ],
)
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
    R[0, 1] = 1.5  # the source reaches node 1 only
    R[1:, 1:][np.diag_indices(n)] = 0
    R[1:, 1:] += np.roll(np.eye(n), 1, axis=1) * 0.3  # a cycle: everyone reachable
    exact = node_ages(R, 0.7)
    est = simulate_age(GossipTopology.from_rate_matrix(R), update_rate=0.7, events=600_000, seed=2)
    for j in range(n):
        within(est.mean[j], exact[j], est.stderr[j])
    assert len(set(np.round(exact, 6))) == n  # really asymmetric


def test_a_chain_whose_last_node_pushes_to_nobody():
    """source -> 1 -> 2: agent 2 has no out-neighbour (an empty last CSR row)."""
    R = np.array([[0, 1.0, 0], [0, 0, 1.0], [0, 0, 0]])
    top = GossipTopology.from_rate_matrix(R)
    assert top.agent_rates().tolist() == [1.0, 1.0, 0.0]
    est = simulate_age(top, events=200_000, seed=3)
    for j, exact in enumerate(node_ages(R, 1.0)):
        within(est.mean[j], exact, est.stderr[j])


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


TOPOLOGIES = {
    "complete": lambda: GossipTopology.complete_graph(5, 1.0, 1.3),
    "user": lambda: GossipTopology.complete_graph(5, 1.0, 1.3, source_is_user=True),
    "ring": lambda: GossipTopology.from_rate_matrix(ring_rates(5)),
}


@pytest.mark.parametrize("estimator", ["version", "time"])
@pytest.mark.parametrize("topology", list(TOPOLOGIES))
@pytest.mark.parametrize("mode,shift", [("push", 0.0), ("exchange", 0.3)])
def test_compiled_loop_matches_reference_loop(topology, mode, shift, estimator):
    """Same draws, same path; the version estimator's age is a difference of integrals
    that grow with t (rounding relative to the age grows), the time estimator's is not."""
    top = TOPOLOGIES[topology]()
    kw = {
        "events": 3000,
        "seed": 9,
        "mode": mode,
        "renewal_shift": shift,
        "batches": 5,
        "estimator": estimator,
    }
    a, b = simulate_age(top, **kw), simulate_age(top, backend="reference", **kw)
    rtol = (1e-12, 1e-12) if estimator == "time" else (1e-10, 1e-8)
    np.testing.assert_allclose(a.mean, b.mean, rtol=rtol[0])
    np.testing.assert_allclose(a.stderr, b.stderr, rtol=rtol[1])
    assert a.sim_time == b.sim_time and a.estimator == b.estimator == estimator


def test_short_runs_warn_that_the_estimate_may_not_be_stationary():
    with pytest.warns(
        UserWarning, match=r"pushes per node after warm-up; the estimate may not be stationary"
    ):
        simulate_age(GossipTopology.complete_graph(1000, 1.0, 1.0), events=10_000)


def test_alias_table_draws_with_the_given_weights():
    from mixlab.kernels.gossip.monte_carlo import _pick_alias, alias_table

    w = np.array([0.5, 3.0, 1.0, 0.0, 2.5])
    prob, alias = alias_table(w)
    u = (np.arange(200_000) + 0.5) / 200_000  # a fine grid of uniforms
    counts = np.bincount([_pick_alias(prob, alias, x) for x in u], minlength=5)
    np.testing.assert_allclose(counts / u.size, w / w.sum(), atol=1e-4)


def test_same_seed_same_estimate():
    top = GossipTopology.complete_graph(20, 1.0, 1.0)
    a, b = simulate_age(top, events=10_000, seed=5), simulate_age(top, events=10_000, seed=5)
    np.testing.assert_array_equal(a.mean, b.mean)


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), mode="pull"),
            r"unknown gossip mode 'pull'",
        ),
        (
            lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), estimator="age"),
            r"unknown estimator 'age'; valid: version, time",
        ),
        (
            lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), update_rate=-1),
            r"update rate must be >= 1e-100, got -1",
        ),
        (
            lambda: simulate_age(GossipTopology.complete_graph(5, 1e-300, 1e-300)),
            r"every nonzero gossip rate must lie in \[1e-100, 1e\+100\]",
        ),
        (
            lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), renewal_shift=2.0),
            r"renewal shift must be < 1/update_rate = 1, got 2.0",
        ),
        (
            lambda: simulate_age(GossipTopology.complete_graph(5, 1, 1), events=10),
            r"events must be >= 100, got 10",
        ),
        (lambda: GossipTopology.complete_graph(5, float("nan"), 1), r"source rate must be finite, got nan"),
        (lambda: GossipTopology.complete_graph(5, 1, -2), r"gossip rate must be >= 0, got -2.0"),
        (
            lambda: GossipTopology.from_rate_matrix(np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]])),
            r"cannot be reached from the source",
        ),
    ],
)
def test_bad_monte_carlo_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


# The time-age estimator: u x time average of t - tau_j (see mixlab.kernels.gossip.monte_carlo).

Z_TIME = 4.5


def both_estimators(top, **kw):
    """The version and the time estimator on the same draws."""
    return simulate_age(top, estimator="version", **kw), simulate_age(top, estimator="time", **kw)


def assert_estimators_agree(version, time, z=Z_TIME):
    combined = np.hypot(version.node_average_stderr, time.node_average_stderr)
    assert abs(version.node_average - time.node_average) <= z * combined, (version, time)


@pytest.mark.parametrize("mode", ["push", "exchange"])
@pytest.mark.parametrize("model", ["yates", "user"])
def test_time_estimator_matches_exact_on_the_complete_graph(model, mode):
    """n = 100 at a mean age of about one version (update rate 0.2, gossip rate 1): the
    time estimator is unbiased and at least 3x more precise on the same run."""
    n, u = 100, 0.2
    if model == "yates":
        top, exact = GossipTopology.complete_graph(n, 1.0, 1.0), va.complete_graph_age(n, 1.0, u, mode=mode)
    else:
        top = GossipTopology.complete_graph(n - 1, 1.0, 1.0, source_is_user=True)
        exact = va.user_staleness_complete(n, 1.0, u, mode=mode)
    version, time = both_estimators(top, update_rate=u, mode=mode, events=200_000, seed=12)
    assert (version.estimator, time.estimator) == ("version", "time")
    within(time.node_average, exact, time.node_average_stderr, Z_TIME)
    within(version.node_average, exact, version.node_average_stderr, Z_TIME)
    assert_estimators_agree(version, time)
    assert version.node_average_stderr >= 3 * time.node_average_stderr
    assert time.node_average_stderr < 0.025 * exact


@pytest.mark.parametrize("mode", ["push", "exchange"])
def test_time_estimator_matches_exact_per_node_on_a_small_graph(mode):
    """Explicit contacts (asymmetric, the source reaching two nodes; in exchange mode the
    nodes' contacts of the source count) against the subset recursion, node by node."""
    from mixlab.age_and_capacity import push_rates

    rng = np.random.default_rng(5)
    n = 6
    C = rng.uniform(0.2, 1.5, (n + 1, n + 1)) * (rng.random((n + 1, n + 1)) < 0.4)
    np.fill_diagonal(C, 0.0)
    C[0, 1:] = 0.0
    C[0, 1], C[0, 4] = 1.2, 0.4
    C[1:, 1:] += np.roll(np.eye(n), 1, axis=1) * 0.5  # a cycle: everyone reachable
    C[3, 0] = 0.8  # a node that contacts the source
    exact = node_ages(push_rates(C, mode), 0.8)
    version, time = both_estimators(
        GossipTopology.from_contacts(C), update_rate=0.8, mode=mode, events=300_000, seed=6
    )
    for j in range(n):
        within(time.mean[j], exact[j], time.stderr[j], Z_TIME)
    assert_estimators_agree(version, time)
    assert np.all(time.stderr < version.stderr)


@pytest.mark.parametrize("mode", ["push", "exchange"])
def test_time_estimator_with_renewal_versions(mode):
    """Renewal versions (shift 0.6, rate 1): the time estimator never sees the versions
    (same output as Poisson) and gives the stationary mean, which the version estimator
    reaches after the warm-up."""
    n = 100
    top = GossipTopology.complete_graph(n - 1, 1.0, 1.0, source_is_user=True)
    exact = va.user_staleness_complete(n, 1.0, 1.0, mode=mode)
    version, time = both_estimators(top, renewal_shift=0.6, mode=mode, events=300_000, seed=13)
    poisson = simulate_age(top, mode=mode, events=300_000, seed=13, estimator="time")
    np.testing.assert_array_equal(time.mean, poisson.mean)
    within(time.node_average, exact, time.node_average_stderr, Z_TIME)
    within(version.node_average, exact, version.node_average_stderr, Z_TIME)
    assert_estimators_agree(version, time)
