"""Hypothesis strategies for mixing and averaging.

- :func:`connected_graphs`: connected undirected graphs, built by construction
  (a random spanning tree plus random extra edges), never by rejection;
- :func:`doubly_stochastic_matrices`: convex combinations of permutation
  matrices (Birkhoff), optionally symmetrized;
- :func:`model_matrices`: finite n x d float arrays of bounded magnitude;
- :func:`group_partitions`: a partition of range(n) into groups of size S.

>>> from hypothesis import given
>>> @given(connected_graphs(max_n=6))
... def test(G):
...     assert nx.is_connected(G)
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: Magnitude bound of generated model entries (keeps sums far from overflow).
MAX_ABS = 1e6


@st.composite
def connected_graphs(draw, min_n: int = 2, max_n: int = 12) -> nx.Graph:
    """A connected graph on nodes 0..n-1: random tree, then extra edges."""
    n = draw(st.integers(min_n, max_n))
    G = nx.empty_graph(n)
    order = draw(st.permutations(range(n)))
    for k in range(1, n):
        parent = order[draw(st.integers(0, k - 1))]
        G.add_edge(order[k], parent)
    non_edges = [(i, j) for i in range(n) for j in range(i + 1, n) if not G.has_edge(i, j)]
    if non_edges:
        G.add_edges_from(draw(st.lists(st.sampled_from(non_edges), unique=True, max_size=len(non_edges))))
    return G


@st.composite
def doubly_stochastic_matrices(draw, min_n: int = 2, max_n: int = 10, symmetric: bool = False) -> np.ndarray:
    """sum_k w_k P_k over random permutation matrices P_k with weights w on the
    simplex (symmetric: each term (P_k + P_k^T)/2)."""
    n = draw(st.integers(min_n, max_n))
    terms = draw(st.integers(1, 4))
    raw = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=terms, max_size=terms)))
    weights = raw / raw.sum()
    W = np.zeros((n, n))
    for w in weights:
        P = np.eye(n)[draw(st.permutations(range(n)))]
        W += w * ((P + P.T) / 2 if symmetric else P)
    return W


def model_matrices(n: int, d: int | st.SearchStrategy | None = None, dtype=np.float64) -> st.SearchStrategy:
    """Finite (n x d) arrays with |entries| <= MAX_ABS (d: an int, a strategy, or 1..8)."""
    d = st.integers(1, 8) if d is None else d
    d_strategy = d if isinstance(d, st.SearchStrategy) else st.just(d)
    elements = st.floats(
        -MAX_ABS, MAX_ABS, allow_nan=False, allow_infinity=False, width=32 if dtype == np.float32 else 64
    )
    return d_strategy.flatmap(lambda dd: hnp.arrays(dtype, (n, dd), elements=elements))


@st.composite
def group_partitions(draw, n: int, group_size: int) -> np.ndarray:
    """A uniformly drawn partition of range(n) into (n // S, S) groups."""
    perm = np.array(draw(st.permutations(range(n))), dtype=np.int64)
    return perm.reshape(-1, group_size)
