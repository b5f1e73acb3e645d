"""Weight rules: from an undirected graph to a mixing matrix W.

=================  ==========================================  ==========================
rule               off-diagonal weight W_ij for an edge ij      properties
=================  ==========================================  ==========================
metropolis         1 / (1 + max(deg_i, deg_j))                  symmetric, doubly stochastic
max_degree         1 / (1 + deg_max)                            symmetric, doubly stochastic
uniform            1 / (1 + deg_i)                              row-stochastic (doubly iff regular)
best_constant      alpha, W = I - alpha L,                      symmetric, doubly stochastic,
                   alpha = 2 / (lambda_1(L) + lambda_{n-1}(L))  may have negative diagonal
=================  ==========================================  ==========================

The diagonal takes the rest of each row. Best constant is Xiao & Boyd, "Fast
linear iterations for distributed averaging", Systems & Control Letters 2004,
Sec. 4.1. FDLA / FMMC (optimal, by SDP) live in :mod:`mixlab.proofs`.

>>> import networkx as nx
>>> W = mixing_matrix(nx.cycle_graph(4), "metropolis")
>>> W[0].round(12).tolist()
[0.333333333333, 0.333333333333, 0.0, 0.333333333333]
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from mixlab.errors import ParameterError
from mixlab.theory.graphs import from_networkx
from mixlab.theory.mixing_matrix import want_sparse
from mixlab.theory.spectral import laplacian_extreme_eigenvalues
from mixlab.validate import require_choice

RULES = ("metropolis", "max_degree", "uniform", "best_constant")


def _edges(G: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    edges = np.array(G.edges(), dtype=np.int64).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def mixing_matrix(G: nx.Graph, rule: str = "metropolis", *, sparse: bool | None = None):
    """Mixing matrix of the connected undirected graph ``G`` under a weight rule.

    Nodes are relabelled 0..n-1 in sorted order; the diagonal takes the rest of each
    row (see the table in the module docstring).

    Parameters
    ----------
    G : networkx.Graph
        Connected undirected graph on n >= 2 nodes (self-loops are ignored).
    rule : {"metropolis", "max_degree", "uniform", "best_constant"}, default "metropolis"
        Weight rule.
    sparse : bool or None, optional
        Force CSR (True) or dense (False) storage; None: dense for n <= DENSE_MAX_N.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
        (n, n) row-stochastic W (doubly stochastic and symmetric except ``uniform``
        on a non-regular graph).

    Raises
    ------
    ParameterError
        If ``rule`` is unknown; GraphError (a subclass) if ``G`` is directed, too small
        or disconnected.

    Examples
    --------
    >>> import mixlab as ml
    >>> ml.mixing_matrix(ml.make_graph("star", 4), "uniform")[1].tolist()
    [0.5, 0.5, 0.0, 0.0]
    >>> ml.mixing_matrix(ml.make_graph("ring", 4), "best_constant")[0].round(4).tolist()
    [0.3333, 0.3333, 0.0, 0.3333]

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004 (constant edge weights; best constant: Sec. 4.1).
    L. Xiao, S. Boyd and S. Lall, "A scheme for robust distributed sensor fusion based
    on average consensus", IPSN 2005 (Metropolis weights).
    S. Boyd, P. Diaconis and L. Xiao, "Fastest mixing Markov chain on a graph", SIAM
    Review 46(4), 2004 (maximum-degree and Metropolis-Hastings chains).
    """
    require_choice("weight rule", rule, RULES)
    G = from_networkx(G)
    u, v = _edges(G)
    extremes = laplacian_extreme_eigenvalues(G) if rule == "best_constant" else None
    return edge_mixing_matrix(G.number_of_nodes(), u, v, rule, sparse=sparse, laplacian_extremes=extremes)


def edge_mixing_matrix(
    n: int,
    u: np.ndarray,
    v: np.ndarray,
    rule: str = "metropolis",
    *,
    sparse: bool | None = None,
    laplacian_extremes: tuple[float, float] | None = None,
):
    """Mixing matrix of the undirected graph with edges (u[k], v[k]) on nodes 0..n-1.

    The arithmetic of :func:`mixing_matrix` on an edge list (in any order: the
    result is the same CSR matrix, entry for entry), so a graph that is never held
    by networkx (:mod:`mixlab.theory.structured`) gets the same W bit for bit.

    Parameters
    ----------
    n : int
        Number of nodes.
    u, v : numpy.ndarray
        int64 (m,) endpoints of the m edges, each edge once, no self-loops; every
        node on some edge.
    rule : {"metropolis", "max_degree", "uniform", "best_constant"}, default "metropolis"
        Weight rule.
    sparse : bool or None, optional
        Force CSR (True) or dense (False) storage; None: dense for n <= DENSE_MAX_N.
    laplacian_extremes : tuple of float, optional
        ``(lambda_1(L), lambda_{n-1}(L))``, required by ``best_constant``.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
        (n, n) row-stochastic W, sorted indices.

    Raises
    ------
    ParameterError
        If ``rule`` is unknown, or ``best_constant`` comes without its extremes.

    Examples
    --------
    >>> W = edge_mixing_matrix(3, np.array([0, 1]), np.array([1, 2]), sparse=False)
    >>> W.round(4).tolist()[1]
    [0.3333, 0.3333, 0.3333]

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    """
    require_choice("weight rule", rule, RULES)
    deg = np.bincount(np.r_[u, v], minlength=n).astype(np.float64)
    if rule == "metropolis":
        w = 1.0 / (1.0 + np.maximum(deg[u], deg[v]))
        rows, cols, vals = np.r_[u, v], np.r_[v, u], np.r_[w, w]
    elif rule == "max_degree":
        w = np.full(u.size, 1.0 / (1.0 + deg.max()))
        rows, cols, vals = np.r_[u, v], np.r_[v, u], np.r_[w, w]
    elif rule == "uniform":
        rows, cols = np.r_[u, v], np.r_[v, u]
        vals = 1.0 / (1.0 + deg[rows])
    else:  # best_constant
        if laplacian_extremes is None:
            raise ParameterError("the best_constant rule needs the Laplacian's extreme eigenvalues")
        lam_max, lam_2 = laplacian_extremes
        alpha = 2.0 / (lam_max + lam_2)
        rows, cols, vals = np.r_[u, v], np.r_[v, u], np.full(2 * u.size, alpha)
    off = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    W = (off + sp.diags(1.0 - np.asarray(off.sum(axis=1)).ravel())).tocsr()
    W.sort_indices()
    return W if want_sparse(n, sparse) else W.toarray()
