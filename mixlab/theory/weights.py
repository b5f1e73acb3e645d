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

from mixlab.theory.graphs import from_networkx
from mixlab.theory.mixing_matrix import want_sparse
from mixlab.theory.spectral import laplacian_extreme_eigenvalues
from mixlab.validate import require_choice

RULES = ("metropolis", "max_degree", "uniform", "best_constant")


def _edges_and_degrees(G: nx.Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges = np.array(G.edges(), dtype=np.int64).reshape(-1, 2)
    deg = np.bincount(edges.ravel(), minlength=G.number_of_nodes()).astype(np.float64)
    return edges[:, 0], edges[:, 1], deg


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
    n = G.number_of_nodes()
    u, v, deg = _edges_and_degrees(G)
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
        lam_max, lam_2 = laplacian_extreme_eigenvalues(G)
        alpha = 2.0 / (lam_max + lam_2)
        rows, cols, vals = np.r_[u, v], np.r_[v, u], np.full(2 * u.size, alpha)
    off = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    W = (off + sp.diags(1.0 - np.asarray(off.sum(axis=1)).ravel())).tocsr()
    W.sort_indices()
    return W if want_sparse(n, sparse) else W.toarray()
