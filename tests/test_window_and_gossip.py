"""Window sums of mixing sequences and the exact second moment of randomized gossip:
property tests against closed forms and brute-force enumeration."""

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixlab.errors import GraphError, ParameterError
from mixlab.testing.strategies import connected_graphs, doubly_stochastic_matrices
from mixlab.theory import pairwise_gossip as pg
from mixlab.theory import spectral


@settings(max_examples=25)
@given(W=doubly_stochastic_matrices(min_n=3, max_n=8, symmetric=True))
def test_fixed_symmetric_matrix_sums_are_geometric(W):
    """c_l = rho^l for a fixed symmetric W, so A1 = 1/(1 - rho) and A2 = 1/(1 - rho^2) (CTA)
    and one term less under ATC, tail included."""
    r = spectral.rho(W)
    if r > 0.95:  # slow tails need long windows; not this test's point
        return
    cta, atc = spectral.window_sums([W], "cta", 40), spectral.window_sums([W], "atc", 40)
    assert cta.profile[:6] == pytest.approx([r**ell for ell in range(6)], abs=1e-9)
    assert (
        pytest.approx(1 / (1 - r), rel=1e-9) == cta.A1 and pytest.approx(1 / (1 - r * r), rel=1e-9) == cta.A2
    )
    assert pytest.approx(cta.A1 - 1, abs=1e-9) == atc.A1 and pytest.approx(cta.A2 - 1, abs=1e-9) == atc.A2


@settings(max_examples=25)
@given(mats=st.lists(doubly_stochastic_matrices(min_n=4, max_n=4), min_size=1, max_size=3))
def test_window_sums_bound_every_product_and_are_submultiplicative(mats):
    """c_l is the worst product norm over positions of the periodic sequence, and the tail bound
    makes the sums at least the exact partial sums."""
    s = spectral.window_sums(mats, "cta", 6)
    J = np.full((4, 4), 0.25)
    q = len(mats)
    for end, ell in itertools.product(range(q), range(6)):
        P = np.eye(4)
        for r in range(ell):
            P = P @ mats[(end - r - 1) % q]
        assert np.linalg.norm(P - J, 2) <= s.profile[ell] + 1e-12
    for a, b in itertools.product(range(3), repeat=2):
        assert s.profile[a + b] <= s.profile[a] * s.profile[b] + 1e-12
    assert s.profile.sum() - 1e-12 <= s.A1


def test_a_global_average_ends_the_window_and_bad_input_is_refused():
    W = np.full((4, 4), 0.25)
    s = spectral.window_sums([np.eye(4), np.eye(4), W], "cta", 8)
    assert pytest.approx(3.0) == s.A1 and pytest.approx(3.0) == s.A2  # like local SGD, H = 3
    assert np.inf == spectral.window_sums([np.eye(4)], "cta", 8).A1  # no communication
    with pytest.raises(ParameterError, match="unknown update order 'late'"):
        spectral.window_sums([W], "late", 8)
    with pytest.raises(ParameterError, match="a period needs at least one matrix"):
        spectral.window_sums([], "cta", 8)


def _enumerated(G, x0, steps):
    edges = list(G.edges())
    out = []
    for t in range(steps + 1):
        total = 0.0
        for seq in itertools.product(edges, repeat=t):
            x = x0.copy()
            for i, j in seq:
                x[i] = x[j] = (x[i] + x[j]) / 2
            total += ((x - x.mean()) ** 2).sum()
        out.append(total / len(edges) ** t)
    return out


@settings(max_examples=15)
@given(G=connected_graphs(min_n=2, max_n=5), seed=st.integers(0, 100))
def test_gossip_second_moment_equals_enumeration(G, seed):
    """The recursion equals the average over every sequence of edges (all equally likely)."""
    x0 = np.random.default_rng(seed).standard_normal(G.number_of_nodes())
    steps = 3 if G.number_of_edges() <= 6 else 2
    assert pg.mean_square_error(G, x0, steps) == pytest.approx(
        _enumerated(G, x0, steps), rel=1e-12, abs=1e-14
    )


def test_gossip_bound_rate_and_slowest_start():
    G = nx.cycle_graph(8)
    lam2 = pg.expected_matrix_lambda2(G)
    assert lam2 == pytest.approx(1 - (2 - 2 * np.cos(2 * np.pi / 8)) / 16)
    v = pg.slowest_start(G)
    errors = pg.mean_square_error(G, v, 60)
    assert np.all(errors <= lam2 ** np.arange(61) * (v @ v) + 1e-12)  # Boyd et al.'s bound holds
    assert errors[60] > 0.1 * lam2**60  # within a factor 10 from this start (0.18)
    with pytest.raises(GraphError, match="at least one edge"):
        pg.mean_square_error(nx.empty_graph(3), np.zeros(3), 2)
    with pytest.raises(ParameterError, match=r"x0 must have shape \(8,\)"):
        pg.mean_square_error(G, np.zeros(3), 2)
