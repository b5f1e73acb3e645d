"""Closed-form spectra and direct sparse adjacency of the structured families, against
the graphs networkx builds and the dense spectral solver."""

import networkx as nx
import numpy as np
import pytest

from mixlab.errors import GraphError, ParameterError
from mixlab.theory import graphs, spectral, structured
from mixlab.theory.weights import RULES, mixing_matrix

SIZES = {
    "complete": [2, 5, 9],
    "ring": [3, 4, 7, 16],
    "torus": [9, 12, 36, 40],
    "hypercube": [2, 4, 16, 64],
    "exponential": [2, 3, 5, 8, 12, 33],
}
CASES = [(top, n) for top, ns in SIZES.items() for n in ns]


@pytest.mark.parametrize("topology,n", CASES)
@pytest.mark.parametrize("rule", RULES)
def test_closed_form_spectrum_equals_the_dense_solver(topology, n, rule):
    G = graphs.make_graph(topology, n)
    W = mixing_matrix(G, rule, sparse=False)
    dense = spectral.spectral_summary(W)
    closed = structured.structured_spectrum(topology, n, rule)
    assert closed.rho == pytest.approx(dense.rho, abs=1e-12)
    assert closed.beta == pytest.approx(dense.beta, abs=1e-12)
    assert closed.edges == G.number_of_edges()
    assert closed.nonnegative == bool(W.min() >= 0)
    assert closed.edge_weight == pytest.approx(W[tuple(next(iter(G.edges())))], rel=1e-14)


@pytest.mark.parametrize("topology,n", [c for c in CASES if c[0] != "complete"])
def test_sparse_adjacency_is_the_networkx_graph(topology, n):
    A = structured.sparse_adjacency(topology, n)
    expected = nx.to_numpy_array(graphs.make_graph(topology, n), nodelist=range(n))
    np.testing.assert_array_equal(A.toarray(), expected)
    assert A.has_sorted_indices


def test_adjacency_eigenvalues_have_the_right_multiset():
    """The closed forms against numpy's eigensolver on the adjacency matrix."""
    for topology, n in CASES:
        A = nx.to_numpy_array(graphs.make_graph(topology, n), nodelist=range(n))
        closed = np.sort(structured.adjacency_eigenvalues(topology, n))
        np.testing.assert_allclose(closed, np.linalg.eigvalsh(A), atol=1e-10)


def test_a_million_nodes_need_no_graph():
    s = structured.structured_spectrum("torus", 10**6)
    assert (s.degree, s.edges) == (4, 2 * 10**6)
    # W = I - L/5; the slowest mode of the 1000 x 1000 torus has mu = 2 + 2 cos(2 pi / 1000)
    assert s.spectral_gap == pytest.approx((2 - 2 * np.cos(2 * np.pi / 1000)) / 5, rel=1e-6)
    assert structured.sparse_adjacency("exponential", 10**6).nnz == 10**6 * structured.degree(
        "exponential", 10**6
    )


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: structured.degree("star", 8), ParameterError, "unknown structured topology 'star'"),
        (lambda: structured.degree("hypercube", 12), GraphError, "power of 2, got n = 12"),
        (lambda: structured.degree("torus", 7), ParameterError, "n must be >= 9, got 7"),
        (lambda: structured.degree("ring", 2), ParameterError, "n must be >= 3"),
        (lambda: structured.sparse_adjacency("complete", 10**6), ParameterError, "closed forms"),
        (lambda: structured.edge_weight("ring", 8, "nope"), ParameterError, "unknown weight rule 'nope'"),
    ],
)
def test_bad_requests_name_the_condition(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "topology,n", [c for c in CASES if c[0] != "complete"] + [("ring", 3000), ("torus", 2500)]
)
@pytest.mark.parametrize("rule", RULES)
def test_structured_mixing_matrix_is_the_networkx_one_bit_for_bit(topology, n, rule):
    """So runs on these families (which now skip networkx) keep their trajectories."""
    ours = structured.structured_mixing_matrix(topology, n, rule)
    theirs = mixing_matrix(graphs.make_graph(topology, n), rule, sparse=True)
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name
