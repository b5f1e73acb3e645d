"""Randomized pairwise gossip (Boyd, Ghosh, Prabhakar & Shah, IEEE Trans. Inf.
Theory 2006): at every tick a uniformly random edge e = {i, j} of the graph
averages, x <- W_e x with W_e = I - (e_i - e_j)(e_i - e_j)^T / 2.

Exact second moment (derived in mixlab; proof:
:func:`mixlab.proofs.derivations.pairwise_gossip_second_moment`): with
M_t = E[x(t) x(t)^T] and v_e = e_i - e_j,

    M_{t+1} = (1/m) sum_e W_e M_t W_e
            = M_t - (L M_t + M_t L)/(2m) + (1/(4m)) sum_e (v_e^T M_t v_e) v_e v_e^T,

L the graph Laplacian, so E||x(t) - xbar 1||^2 = tr((I - J) M_t) exactly.
Boyd et al.'s bound E||x(t) - xbar 1||^2 <= lambda_2(E W)^t ||x(0) - xbar 1||^2,
E W = I - L/(2m), is attained in the limit by the start x(0) = the
eigenvector of lambda_2(E W) (:func:`slowest_start`).

>>> import networkx as nx
>>> import numpy as np
>>> x0 = np.array([1.0, -1.0, 0.0])
>>> [float(v) for v in mean_square_error(nx.path_graph(3), x0, 2)]   # edge {0,1}: 0, edge {1,2}: 3/2
[2.0, 0.75, 0.46875]
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from mixlab.errors import GraphError, ParameterError
from mixlab.validate import require_finite, require_int


def _edges(graph: nx.Graph) -> np.ndarray:
    n = graph.number_of_nodes()
    if sorted(graph.nodes()) != list(range(n)):
        raise GraphError("gossip graphs must have nodes 0..n-1")
    edges = np.array(sorted(tuple(sorted(e)) for e in graph.edges()), dtype=np.int64).reshape(-1, 2)
    if edges.shape[0] == 0:
        raise GraphError("randomized gossip needs at least one edge")
    return edges


def expected_matrix_lambda2(graph: nx.Graph) -> float:
    """lambda_2(E W) = 1 - lambda_{n-1}(L) / (2m), the rate of Boyd et al.'s bound.

    Parameters
    ----------
    graph : networkx.Graph
        Undirected graph on nodes 0..n-1 with m >= 1 edges.

    Returns
    -------
    float
        Second largest eigenvalue of E W = I - L / (2m); < 1 iff the graph is connected.

    Raises
    ------
    GraphError
        If the nodes are not 0..n-1 or the graph has no edge.

    Examples
    --------
    >>> import networkx as nx
    >>> expected_matrix_lambda2(nx.cycle_graph(4)), round(expected_matrix_lambda2(nx.complete_graph(4)), 4)
    (0.75, 0.6667)

    References
    ----------
    S. Boyd, A. Ghosh, B. Prabhakar and D. Shah, "Randomized gossip algorithms", IEEE
    Transactions on Information Theory 52(6), 2006.
    """
    edges = _edges(graph)
    lap = nx.laplacian_matrix(graph, nodelist=range(graph.number_of_nodes())).toarray().astype(float)
    return float(1 - np.linalg.eigvalsh(lap)[1] / (2 * edges.shape[0]))


def slowest_start(graph: nx.Graph) -> np.ndarray:
    """The unit eigenvector of lambda_2(E W), the start at which Boyd et al.'s bound is approached.

    It is the Fiedler vector of the graph Laplacian (one of them, when lambda_2 is
    repeated; its sign is arbitrary).

    Parameters
    ----------
    graph : networkx.Graph
        Undirected graph on nodes 0..n-1 with at least one edge.

    Returns
    -------
    numpy.ndarray
        (n,) unit vector orthogonal to 1.

    Raises
    ------
    GraphError
        If the nodes are not 0..n-1 or the graph has no edge.

    Examples
    --------
    >>> import networkx as nx
    >>> import numpy as np
    >>> np.abs(slowest_start(nx.path_graph(3))).round(4).tolist()
    [0.7071, 0.0, 0.7071]

    References
    ----------
    S. Boyd, A. Ghosh, B. Prabhakar and D. Shah, "Randomized gossip algorithms", IEEE
    Transactions on Information Theory 52(6), 2006.
    """
    _edges(graph)
    lap = nx.laplacian_matrix(graph, nodelist=range(graph.number_of_nodes())).toarray().astype(float)
    return np.linalg.eigh(lap)[1][:, 1].copy()


def mean_square_error(graph: nx.Graph, x0, steps: int) -> np.ndarray:
    """Exact E||x(t) - xbar 1||^2 of randomized pairwise gossip for t = 0..steps.

    Iterates M_{t+1} = (1/m) sum_e W_e M_t W_e from M_0 = x0 x0^T at O(n^2 + m n) per tick.

    Parameters
    ----------
    graph : networkx.Graph
        Undirected graph on nodes 0..n-1 with m >= 1 edges.
    x0 : array_like
        (n,) initial values, finite.
    steps : int
        Number of ticks (one random edge each), >= 0.

    Returns
    -------
    numpy.ndarray
        (steps + 1,) expected squared distance to the average, tick 0 first.

    Raises
    ------
    GraphError
        If the nodes are not 0..n-1 or the graph has no edge.
    ParameterError
        If ``x0`` has the wrong shape or a non-finite entry, or ``steps`` < 0.

    Examples
    --------
    >>> import networkx as nx
    >>> mean_square_error(nx.cycle_graph(4), [1.0, -1.0, 1.0, -1.0], 3).tolist()
    [4.0, 2.0, 1.25, 0.84375]

    References
    ----------
    Derived in mixlab; see :func:`mixlab.proofs.derivations.pairwise_gossip_second_moment`
    (the statement is :data:`mixlab.theory.theorems.GOSSIP_SECOND_MOMENT`).
    S. Boyd, A. Ghosh, B. Prabhakar and D. Shah, "Randomized gossip algorithms", IEEE
    Transactions on Information Theory 52(6), 2006 (the algorithm and its lambda_2 bound).
    """
    edges = _edges(graph)
    n = graph.number_of_nodes()
    steps = require_int("steps", steps, minimum=0)
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.shape != (n,):
        raise ParameterError(f"x0 must have shape ({n},), got {x0.shape}")
    require_finite("x0", x0)
    m = edges.shape[0]
    i, j = edges[:, 0], edges[:, 1]
    lap = nx.laplacian_matrix(graph, nodelist=range(n)).toarray().astype(float)
    M = np.outer(x0, x0)
    out = np.empty(steps + 1)
    for t in range(steps + 1):
        out[t] = np.trace(M) - M.sum() / n  # tr((I - J) M)
        if t == steps:
            break
        q = M[i, i] + M[j, j] - 2 * M[i, j]  # v_e^T M v_e
        weighted = np.zeros((n, n))  # sum_e q_e v_e v_e^T
        np.add.at(weighted, (i, i), q)
        np.add.at(weighted, (j, j), q)
        np.add.at(weighted, (i, j), -q)
        np.add.at(weighted, (j, i), -q)
        LM = lap @ M
        M = M - (LM + LM.T) / (2 * m) + weighted / (4 * m)
    return out
