import networkx as nx
import numpy as np
from hypothesis import given

from mixlab.testing.strategies import (
    MAX_ABS,
    connected_graphs,
    doubly_stochastic_matrices,
    group_partitions,
    model_matrices,
)


@given(connected_graphs(min_n=2, max_n=15))
def test_connected_graphs_are_connected_simple_and_labelled(G):
    assert nx.is_connected(G)
    assert sorted(G.nodes()) == list(range(G.number_of_nodes()))
    assert nx.number_of_selfloops(G) == 0


@given(doubly_stochastic_matrices())
def test_doubly_stochastic_matrices(W):
    assert (W >= 0).all()
    np.testing.assert_allclose(W.sum(axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(W.sum(axis=1), 1, atol=1e-12)


@given(doubly_stochastic_matrices(symmetric=True))
def test_symmetric_doubly_stochastic_matrices(W):
    np.testing.assert_array_equal(W, W.T)
    np.testing.assert_allclose(W.sum(axis=1), 1, atol=1e-12)


@given(model_matrices(5))
def test_model_matrices_are_finite_and_bounded(X):
    assert X.shape[0] == 5 and np.isfinite(X).all() and np.abs(X).max(initial=0) <= MAX_ABS


@given(group_partitions(12, 3))
def test_group_partitions_partition(groups):
    assert groups.shape == (4, 3)
    assert sorted(groups.ravel().tolist()) == list(range(12))
