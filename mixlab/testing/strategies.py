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


def connected_graphs(min_n: int = 2, max_n: int = 12) -> st.SearchStrategy[nx.Graph]:
    """Strategy for connected graphs on nodes 0..n-1: a random spanning tree, then extra edges.

    Parameters
    ----------
    min_n : int, default 2
        Fewest nodes.
    max_n : int, default 12
        Most nodes.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Connected ``networkx.Graph`` objects, built by construction (never by rejection).
    """
    return _connected_graph(min_n, max_n)


@st.composite
def _connected_graph(draw, min_n: int, max_n: int) -> nx.Graph:
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


def doubly_stochastic_matrices(
    min_n: int = 2, max_n: int = 10, symmetric: bool = False
) -> st.SearchStrategy[np.ndarray]:
    """Strategy for W = sum_k w_k P_k over 1 to 4 random permutation matrices P_k, w on the simplex.

    Parameters
    ----------
    min_n : int, default 2
        Smallest n.
    max_n : int, default 10
        Largest n.
    symmetric : bool, default False
        Use (P_k + P_k^T)/2 for each term, so that W is symmetric.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        (n, n) doubly stochastic arrays (Birkhoff: every one is such a combination).
    """
    return _doubly_stochastic_matrix(min_n, max_n, symmetric)


@st.composite
def _doubly_stochastic_matrix(draw, min_n: int, max_n: int, symmetric: bool) -> np.ndarray:
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
    """Strategy for finite (n, d) model arrays with entries of magnitude at most :data:`MAX_ABS`.

    Parameters
    ----------
    n : int
        Rows (workers).
    d : int or hypothesis.strategies.SearchStrategy, optional
        Columns: a fixed int, a strategy of ints, or (default) 1 to 8.
    dtype : numpy dtype, default numpy.float64
        Element type; ``numpy.float32`` draws 32-bit floats.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Arrays of shape (n, d) and type ``dtype``, without NaN or infinities.
    """
    d = st.integers(1, 8) if d is None else d
    d_strategy = d if isinstance(d, st.SearchStrategy) else st.just(d)
    elements = st.floats(
        -MAX_ABS, MAX_ABS, allow_nan=False, allow_infinity=False, width=32 if dtype == np.float32 else 64
    )
    return d_strategy.flatmap(lambda dd: hnp.arrays(dtype, (n, dd), elements=elements))


def group_partitions(n: int, group_size: int) -> st.SearchStrategy[np.ndarray]:
    """Strategy for uniformly random partitions of range(n) into n // S groups of size S.

    Parameters
    ----------
    n : int
        Workers; must be a multiple of ``group_size`` (else ``ValueError`` when drawn).
    group_size : int
        Group size S.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        int64 arrays of shape (n // S, S): row g lists the members of group g.
    """
    return st.permutations(range(n)).map(lambda perm: np.array(perm, dtype=np.int64).reshape(-1, group_size))
