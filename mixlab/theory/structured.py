"""Vertex-transitive topologies at any size: sparse adjacency and closed-form spectra.

The complete graph, ring, torus, hypercube and static exponential graph are
d-regular and vertex-transitive. On a d-regular graph every weight rule of
:mod:`mixlab.theory.weights` gives every edge the same weight alpha (metropolis,
max_degree and uniform: 1/(d + 1); best_constant: 2/(lambda_max(L) + lambda_2(L))),
so W = I - alpha L with L = d I - A, and the eigenvalues of W are 1 - alpha (d - mu)
over the adjacency eigenvalues mu, which are known in closed form:

* complete K_n: n - 1 once, -1 with multiplicity n - 1;
* ring C_n: 2 cos(2 pi k / n), k = 0..n-1;
* torus C_a x C_b: 2 cos(2 pi i / a) + 2 cos(2 pi j / b);
* hypercube Q_k: k - 2 popcount(j), j = 0..2^k - 1;
* exponential graph (a circulant): the DFT of its first row.

Everything here is O(n) memory (the torus O(a b) = O(n), the exponential graph
an FFT): no graph object and no n x n array, so n = 10^6 takes well under a
second. :func:`sparse_adjacency` builds the CSR adjacency directly for the
families whose edges are O(n log n) (all but the complete graph).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mixlab.errors import ParameterError
from mixlab.resources import require_memory
from mixlab.theory.graphs import exponential_hops, hypercube_dimension, torus_shape
from mixlab.theory.spectral import laplacian_extreme_eigenvalues
from mixlab.theory.weights import RULES as WEIGHT_RULES
from mixlab.theory.weights import edge_mixing_matrix
from mixlab.validate import require_choice, require_int

#: The families with a closed-form spectrum.
STRUCTURED = ("complete", "ring", "torus", "hypercube", "exponential")
#: The largest n of the sparse families (finding a torus's shape takes sqrt(n) steps).
STRUCTURED_MAX_N = 10**12
#: Peak bytes per node of a spectrum (eigenvalues, their transform, temporaries).
SPECTRUM_BYTES_PER_NODE = 64
#: Peak bytes per stored adjacency entry (neighbour table, its sort, the CSR arrays).
ADJACENCY_BYTES_PER_ENTRY = 48


def _offsets(n: int) -> list[int]:
    """Neighbour offsets (mod n) of the exponential graph, sorted: +-h for every hop, 0 excluded."""
    hops = exponential_hops(n)
    return sorted(({h % n for h in hops} | {-h % n for h in hops}) - {0})


def degree(topology: str, n: int) -> int:
    """The common degree d of the n-node graph of a structured family.

    Parameters
    ----------
    topology : {"complete", "ring", "torus", "hypercube", "exponential"}
        The family.
    n : int
        Number of nodes; each family's own conditions apply (ring n >= 3, torus a
        factorization with both sides >= 3, hypercube a power of 2).

    Returns
    -------
    int
        d: n - 1, 2, 4, log2 n, or the number of distinct offsets +-2^j mod n.

    Raises
    ------
    ParameterError
        If ``topology`` is not structured or ``n`` is invalid for it (GraphError).

    Examples
    --------
    >>> degree("hypercube", 1024), degree("exponential", 8), degree("torus", 10**6)
    (10, 5, 4)

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    """
    require_choice("structured topology", topology, STRUCTURED)
    if topology == "complete":  # closed forms in O(1): any n
        return require_int("n", n, minimum=2) - 1
    require_int("n", n, maximum=STRUCTURED_MAX_N)
    if topology == "ring":
        require_int("n", n, minimum=3)
        return 2
    if topology == "torus":
        torus_shape(n)
        return 4
    if topology == "hypercube":
        return hypercube_dimension(n)
    return len(_offsets(require_int("n", n, minimum=2)))


def adjacency_eigenvalues(topology: str, n: int) -> np.ndarray:
    """All n eigenvalues of the adjacency matrix of a structured family, in closed form.

    Parameters
    ----------
    topology : {"complete", "ring", "torus", "hypercube", "exponential"}
        The family.
    n : int
        Number of nodes (see :func:`degree` for each family's conditions).

    Returns
    -------
    numpy.ndarray
        float64 (n,), with multiplicity; entry 0 is the degree d (the all-ones
        eigenvector), the others in the family's natural order (not sorted).

    Raises
    ------
    ParameterError
        If ``topology`` is not structured or ``n`` is invalid for it.

    Examples
    --------
    >>> (adjacency_eigenvalues("ring", 4).round(12) + 0.0).tolist()
    [2.0, 0.0, -2.0, 0.0]
    >>> sorted(adjacency_eigenvalues("hypercube", 4).tolist())
    [-2.0, 0.0, 0.0, 2.0]

    References
    ----------
    A. E. Brouwer and W. H. Haemers, "Spectra of Graphs", Springer, 2012, section 1.4
    (complete graph, cycle, hypercube) and section 1.4.6 (Cartesian products).
    """
    d = degree(topology, n)
    if topology == "complete":
        mu = np.full(n, -1.0)
        mu[0] = d
        return mu
    if topology == "ring":
        return 2.0 * np.cos(2.0 * np.pi * np.arange(n) / n)
    if topology == "torus":
        a, b = torus_shape(n)
        ring_a = 2.0 * np.cos(2.0 * np.pi * np.arange(a) / a)
        ring_b = 2.0 * np.cos(2.0 * np.pi * np.arange(b) / b)
        return (ring_a[:, None] + ring_b[None, :]).ravel()
    if topology == "hypercube":
        j = np.arange(n, dtype=np.int64)
        popcount = np.zeros(n, dtype=np.int64)
        for bit in range(d):
            popcount += (j >> bit) & 1
        return d - 2.0 * popcount
    row = np.zeros(n)
    row[np.array(_offsets(n), dtype=np.int64)] = 1.0
    return np.fft.fft(row).real


def edge_weight(topology: str, n: int, rule: str = "metropolis") -> float:
    """The weight alpha every edge gets under ``rule``, so that W = I - alpha L.

    Parameters
    ----------
    topology : {"complete", "ring", "torus", "hypercube", "exponential"}
        The family.
    n : int
        Number of nodes.
    rule : {"metropolis", "max_degree", "uniform", "best_constant"}, default "metropolis"
        The weight rule of :func:`mixlab.mixing_matrix`.

    Returns
    -------
    float
        1/(d + 1), or 2/(lambda_max(L) + lambda_2(L)) for best_constant.

    Raises
    ------
    ParameterError
        If the rule is unknown, ``topology`` is not structured or ``n`` is invalid.

    Examples
    --------
    >>> edge_weight("ring", 10), round(edge_weight("complete", 10, "best_constant"), 12)
    (0.3333333333333333, 0.1)

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004 (the best constant edge weight, eq. (16)).
    """
    require_choice("weight rule", rule, WEIGHT_RULES)
    d = degree(topology, n)
    if rule != "best_constant":
        return 1.0 / (d + 1.0)
    lap = np.sort(d - adjacency_eigenvalues(topology, n))
    return float(2.0 / (lap[-1] + lap[1]))


@dataclass(frozen=True)
class StructuredSpectrum:
    """rho, spectral gap and beta of W = I - alpha L on a structured family.

    Parameters
    ----------
    n : int
        Number of nodes.
    topology : str
        The family.
    rule : str
        The weight rule.
    degree : int
        The common degree d.
    edge_weight : float
        alpha.
    rho : float
        ||W - J||_2: the largest |eigenvalue| of W but one copy of 1.
    spectral_gap : float
        1 - rho.
    beta : float
        ||I - W||_2 = alpha lambda_max(L).
    nonnegative : bool
        Whether W's diagonal 1 - alpha d is >= 0 (the off-diagonal entries are alpha > 0).
    edges : int
        n d / 2.
    """

    n: int
    topology: str
    rule: str
    degree: int
    edge_weight: float
    rho: float
    spectral_gap: float
    beta: float
    nonnegative: bool
    edges: int


def structured_spectrum(topology: str, n: int, rule: str = "metropolis") -> StructuredSpectrum:
    """The spectral summary of a structured family's mixing matrix, without building it.

    W is symmetric and doubly stochastic (every rule gives a regular graph equal
    edge weights), so rho = max |1 - alpha (d - mu)| over the adjacency eigenvalues
    mu but the one equal to d.

    Parameters
    ----------
    topology : {"complete", "ring", "torus", "hypercube", "exponential"}
        The family.
    n : int
        Number of nodes.
    rule : {"metropolis", "max_degree", "uniform", "best_constant"}, default "metropolis"
        The weight rule.

    Returns
    -------
    StructuredSpectrum
        rho, gap, beta, alpha, degree, nonnegativity and edge count.

    Raises
    ------
    ParameterError
        If the rule is unknown, ``topology`` is not structured or ``n`` is invalid.

    Examples
    --------
    >>> s = structured_spectrum("ring", 10**6)
    >>> s.degree, s.edges, s.spectral_gap < 1e-10
    (2, 1000000, True)
    >>> round(structured_spectrum("ring", 4).rho, 12)  # the dense solver agrees: 1/3
    0.333333333333

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004. A. E. Brouwer and W. H. Haemers, "Spectra of Graphs",
    Springer, 2012, section 1.4.
    """
    d = degree(topology, n)
    if topology == "complete":  # mu = n - 1 once, -1 otherwise: O(1) at any n
        alpha = 1.0 / (d + 1.0) if rule != "best_constant" else 1.0 / n  # lambda(L) = n, n - 1 times
        rho, beta = abs(1.0 - alpha * n), alpha * n
    else:
        require_memory(f"the spectrum of the {topology} graph on n = {n} nodes", SPECTRUM_BYTES_PER_NODE * n)
        alpha = edge_weight(topology, n, rule)
        lam = 1.0 - alpha * (d - adjacency_eigenvalues(topology, n))
        rho = float(np.abs(lam[1:]).max())  # entry 0 is the all-ones eigenvector
        beta = float(np.abs(1.0 - lam).max())
    return StructuredSpectrum(
        n=n,
        topology=topology,
        rule=rule,
        degree=d,
        edge_weight=alpha,
        rho=rho,
        spectral_gap=1.0 - rho,
        beta=beta,
        nonnegative=bool(1.0 - alpha * d >= 0.0),
        edges=n * d // 2,
    )


def sparse_adjacency(topology: str, n: int) -> sp.csr_matrix:
    """The CSR adjacency matrix of a structured family, built without a graph object.

    Parameters
    ----------
    topology : {"ring", "torus", "hypercube", "exponential"}
        The family; the complete graph is refused (n (n - 1) entries: use its
        closed forms or an implicit rule instead).
    n : int
        Number of nodes.

    Returns
    -------
    scipy.sparse.csr_matrix
        (n, n), 0/1 entries, symmetric, n d stored entries, sorted indices.

    Raises
    ------
    ParameterError
        For the complete graph, a topology that is not structured, or an invalid n.

    Examples
    --------
    >>> sparse_adjacency("ring", 5)[0].indices.tolist()
    [1, 4]
    >>> sparse_adjacency("hypercube", 8)[0].indices.tolist()
    [1, 2, 4]

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    """
    d = degree(topology, n)
    if topology == "complete":
        raise ParameterError(
            f"the complete graph has n (n - 1) = {n * (n - 1)} adjacency entries; "
            "use its closed forms (structured_spectrum) or an implicit neighbour rule"
        )
    require_memory(f"the {topology} graph's adjacency on n = {n} nodes", ADJACENCY_BYTES_PER_ENTRY * n * d)
    i = np.arange(n, dtype=np.int64)
    if topology == "ring":
        cols = np.stack([(i - 1) % n, (i + 1) % n], axis=1)
    elif topology == "torus":
        a, b = torus_shape(n)
        r, c = np.divmod(i, b)
        cols = np.stack(
            [((r - 1) % a) * b + c, ((r + 1) % a) * b + c, r * b + (c - 1) % b, r * b + (c + 1) % b], axis=1
        )
    elif topology == "hypercube":
        cols = i[:, None] ^ (np.int64(1) << np.arange(d, dtype=np.int64))[None, :]
    else:
        cols = (i[:, None] + np.array(_offsets(n), dtype=np.int64)[None, :]) % n
    cols = np.sort(cols, axis=1)
    indptr = np.arange(0, n * d + 1, d, dtype=np.int64)
    return sp.csr_matrix((np.ones(n * d), cols.ravel(), indptr), shape=(n, n))


def structured_mixing_matrix(topology: str, n: int, rule: str = "metropolis") -> sp.csr_matrix:
    """The CSR mixing matrix of a structured family, without a graph object.

    Bit for bit the matrix :func:`mixlab.mixing_matrix` gives for the networkx graph
    (the same edge arithmetic, :func:`mixlab.theory.weights.edge_mixing_matrix`), in
    O(n d) memory.

    Parameters
    ----------
    topology : {"ring", "torus", "hypercube", "exponential"}
        The family (the complete graph is refused: n^2 entries).
    n : int
        Number of nodes.
    rule : {"metropolis", "max_degree", "uniform", "best_constant"}, default "metropolis"
        The weight rule.

    Returns
    -------
    scipy.sparse.csr_matrix
        (n, n) symmetric doubly stochastic W, sorted indices.

    Raises
    ------
    ParameterError
        For the complete graph, an unknown rule or topology, or an invalid n.

    Examples
    --------
    >>> W = structured_mixing_matrix("ring", 10**6)
    >>> W.nnz, float(W[0, 1])
    (3000000, 0.3333333333333333)

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    """
    A = sparse_adjacency(topology, n)
    upper = sp.triu(A, k=1).tocoo()
    extremes = laplacian_extreme_eigenvalues(A) if rule == "best_constant" else None
    return edge_mixing_matrix(
        n,
        upper.row.astype(np.int64),
        upper.col.astype(np.int64),
        rule,
        sparse=True,
        laplacian_extremes=extremes,
    )
