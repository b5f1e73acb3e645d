"""FMMC by the projected subgradient method, for graphs too large for the SDP.

The fastest mixing Markov chain problem (Boyd, Diaconis & Xiao, "Fastest mixing
Markov chain on a graph", SIAM Review 46(4), 2004) minimizes
rho(W) = max(lambda_2(W), -lambda_n(W)) over W = I - sum_e w_e b_e b_e^T
(b_e = e_i - e_j for the edge e = ij) with w >= 0 and sum_{e at i} w_e <= 1 at
every node, i.e. over symmetric nonnegative doubly stochastic W on the graph's
edges. :func:`mixlab.proofs.optimal_weights.optimal_weights` solves it as an
SDP with n x n matrix variables; this module follows the paper's Section 5
(subgradient method), whose iterations cost sparse matrix-vector products
(Lanczos) and O(m) work on the edge weights.

Subgradient: if rho = lambda_2 with unit eigenvector u orthogonal to
1, g_e = -(u_i - u_j)^2; if rho = -lambda_n with unit eigenvector v,
g_e = (v_i - v_j)^2. Step: w <- P(w - alpha_k g / ||g||) with the
diminishing nonsummable alpha_k = step / sqrt(k); the best iterate is kept.
Extreme eigenpairs: Lanczos (ARPACK) on the deflated operator W - J for
lambda_2 and on W for lambda_n, each started from the previous iterate's
eigenvector plus a 1% random part, asking for :data:`LANCZOS_K` Ritz pairs. With
one Ritz pair and a pure warm start, ARPACK converged to an eigenvalue below the
top one once eigenvalues crossed (on a 25 x 40 torus the loop's rho came out up
to 1e-3 too small); with four and the random part it agreed with LAPACK to
1e-9 at every iterate on the n = 1000 graphs of bench/fmmc.py (200 iterations;
50 on the ring). Graphs with fewer than :data:`LANCZOS_MIN_N` nodes use LAPACK
on the complement of 1.

Projection P onto {w >= 0, A w <= 1} (A the node-edge incidence): it has no
closed form, as the per-node sets overlap on the edges; it is computed by exact
coordinate ascent on its dual (Hildreth's method, which is Dykstra's
alternating projection for these sets), max over lambda >= 0 of
g(lambda) = min_{w >= 0} 1/2 ||w - y||^2 + lambda^T (A w - 1), whose minimizer is
w(lambda) = max(0, y - A^T lambda). The nodes of one colour class of a greedy
colouring share no edge, so their multipliers are maximized together, each by a
capped-simplex threshold. The repaired point w_f (w(lambda) scaled into the
feasible set) and the dual value certify ||w_f - P(y)||^2 <= 2 (1/2 ||w_f - y||^2
- g(lambda)) (strong convexity); sweeps stop when that distance is at most
:data:`PROJECTION_RTOL` alpha_k^2, the order of the method's own step error.
The multipliers carry over to the next projection (warm start).

Certificate, re-checked without trusting the loop: W is rebuilt sparse from the
best w; symmetry, row sums, nonnegativity and support are measured; rho(W) is
recomputed by :func:`mixlab.theory.spectral.rho`. A first-order method has no
dual iterate, so the lower bound is built (derived in mixlab) from the weak
duality of the SDP in :mod:`mixlab.proofs.optimal_weights`: for PSD Z1, Z2 with
tr Z1 + tr Z2 = 1, D = Z1 - Z2 and nu >= 0 with
b_e^T (Z2 - Z1) b_e + nu_i + nu_j >= 0 on every edge, the optimum is at least
tr(D (I - J)) - sum nu. Restricting Z1, Z2 to nonnegative combinations of
:data:`BOUND_VECTORS` unit eigenvectors of W at each end of the spectrum makes
the best such bound a linear program (HiGHS); its answer is then repaired to
exact dual feasibility (weights clipped and normalized, nu raised until every
edge constraint holds) and the bound recomputed from it. The bound is valid for
any vectors; it is tight only if the optimal dual lives on those eigenvectors,
so ``gap`` = rho - lower_bound is an honest, possibly loose, certified gap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import null_space
from scipy.optimize import linprog

from mixlab.errors import SolverError, SolverWarning
from mixlab.proofs.optimal_weights import (
    OptimalWeights,
    fmmc_dual_bound,
    fmmc_feasible,
    node_sums,
    sorted_edges,
)
from mixlab.seeding import Seed, as_generator
from mixlab.theory import spectral
from mixlab.theory.graphs import from_networkx
from mixlab.theory.mixing_matrix import asymmetry, min_entry, row_sums, want_sparse
from mixlab.theory.weights import mixing_matrix
from mixlab.validate import require_choice, require_int, require_real

#: Feasible starting rules (nonnegative, doubly stochastic).
INITIAL_RULES = ("metropolis", "max_degree")
#: Graphs with at least this many nodes use Lanczos (ARPACK); smaller ones LAPACK.
LANCZOS_MIN_N = 200
#: ARPACK inside the loop (the certificate recomputes rho): relative residual tolerance,
#: Krylov dimension (40 rather than the default 20 halved the matrix-vector products in
#: an eigenvalue cluster), Ritz pairs per end, and the random part of each start vector
#: (see the module docstring).
LANCZOS_TOL, LANCZOS_NCV, LANCZOS_K, START_NOISE = 1e-6, 40, 4, 0.01
#: Projection accuracy: ||w_f - P(y)|| <= PROJECTION_RTOL * alpha_k^2.
PROJECTION_RTOL = 0.1
#: Coordinate-ascent sweeps allowed per projection (the iterate is feasible regardless).
MAX_SWEEPS = 500
#: Eigenvectors per end of the spectrum that span the lower bound's dual matrices.
BOUND_VECTORS = 6
#: Largest feasibility residual (asymmetry, row sums, negativity) accepted in the certificate.
FEASIBILITY_TOL = 1e-12


@dataclass(frozen=True)
class SubgradientWeights(OptimalWeights):
    """:class:`~mixlab.proofs.optimal_weights.OptimalWeights` of the subgradient method, plus its run.

    Parameters
    ----------
    W : numpy.ndarray or scipy.sparse.csr_matrix
        The (n, n) mixing matrix of the best iterate (sparse for large n).
    edge_weights : numpy.ndarray
        The (m,) edge weights w, in the order of ``edges``.
    edges : numpy.ndarray
        The (m, 2) int64 edges (i, j), i < j, in lexicographic order.
    rho : float
        ||W - J||_2, recomputed by the certificate.
    lower_bound : float
        The restricted-dual lower bound on the optimum (module docstring); -inf if
        its linear program failed.
    solver_value : float
        The best rho seen by the loop's eigensolver.
    residuals : dict
        ``asymmetry``, ``row_sum``, ``min_entry``, ``outside_support`` of W.
    problem : str
        Always ``"fmmc"``.
    solver : str
        Always ``"subgradient"``.
    status : {"iteration_limit", "stalled", "optimal"}
        Why the loop stopped (``optimal``: zero subgradient).
    iterations : int
        Subgradient steps taken (the index of the last iterate).
    history : numpy.ndarray
        ``history[k]`` is rho of iterate k as the loop measured it (iterate 0 is the
        starting rule).
    """

    iterations: int
    history: np.ndarray


def fmmc_subgradient(
    G: nx.Graph,
    *,
    iterations: int = 500,
    step: float = 1.0,
    initial: str = "metropolis",
    tol: float = 1e-3,
    patience: int = 100,
    seed: Seed = 0,
) -> SubgradientWeights:
    """Compute fastest mixing weights on the connected graph G by projected subgradient descent.

    Runs at most ``iterations`` steps of length ``step / sqrt(k)`` from the
    ``initial`` rule's weights and keeps the best iterate; the answer is then
    certified (module docstring).

    Parameters
    ----------
    G : networkx.Graph
        A connected undirected graph on n nodes.
    iterations : int, default 500
        Most subgradient steps (>= 1).
    step : float, default 1.0
        Step scale (> 0); step k has length ``step / sqrt(k)``.
    initial : {"metropolis", "max_degree"}, default "metropolis"
        The starting weight rule.
    tol : float, default 1e-3
        Stop when the best spectral gap 1 - rho has grown by less than this fraction
        over the last ``patience`` iterations (>= 0; 0: never stop early).
    patience : int, default 100
        Window of the stopping rule (>= 1).
    seed : int, numpy.random.Generator or None, default 0
        Draws the random part of the Lanczos start vectors (n >= :data:`LANCZOS_MIN_N`).

    Returns
    -------
    SubgradientWeights
        The certified weights; ``edge_weights`` follow ``edges``, the sorted edge list.

    Raises
    ------
    ParameterError
        On an invalid argument.
    SolverError
        If the best iterate is not feasible to :data:`FEASIBILITY_TOL` or the lower
        bound exceeds rho (weak duality violated).

    References
    ----------
    S. Boyd, P. Diaconis and L. Xiao, "Fastest mixing Markov chain on a graph",
    SIAM Review 46(4), 2004, Section 5 (the subgradient method). The lower bound is
    derived in mixlab (module docstring).

    Examples
    --------
    >>> res = fmmc_subgradient(nx.path_graph(3), iterations=20)
    >>> round(res.rho, 4), np.round(res.edge_weights, 4).tolist(), res.status
    (0.5, [0.5, 0.5], 'iteration_limit')
    """
    iterations = require_int("iterations", iterations, minimum=1)
    step = require_real("step", step, low=0, low_open=True)
    require_choice("initial rule", initial, INITIAL_RULES)
    tol = require_real("tol", tol, low=0)
    patience = require_int("patience", patience, minimum=1)
    rng = as_generator(seed)
    G = from_networkx(G)
    chain = _Chain(G)
    start = mixing_matrix(G, initial, sparse=True)
    w = np.asarray(start[chain.edges[:, 0], chain.edges[:, 1]]).ravel()
    multipliers = np.zeros(chain.n)
    starts = rng.standard_normal((2, chain.n))
    history = np.empty(iterations + 1)  # rho of iterate k, as the loop measured it
    best = np.empty(iterations + 1)  # min(history[:k + 1])
    best_w, status, k = w, "iteration_limit", 0
    for k in range(iterations + 1):
        lam2, u, lamn, v = chain.extremes(w, starts)
        starts = np.stack([u, v]) + START_NOISE * rng.standard_normal((2, chain.n)) / np.sqrt(chain.n)
        history[k] = max(lam2, -lamn)
        best[k] = min(history[k], best[k - 1]) if k else history[k]
        if history[k] == best[k]:
            best_w = w
        if k == iterations:
            break
        if k >= patience and best[k - patience] - best[k] < tol * (1.0 - best[k]):
            status = "stalled"
            break
        if lam2 >= -lamn:  # rho = lambda_2: g_e = -(u_i - u_j)^2
            g = -((u[chain.edges[:, 0]] - u[chain.edges[:, 1]]) ** 2)
        else:  # rho = -lambda_n: g_e = (v_i - v_j)^2
            g = (v[chain.edges[:, 0]] - v[chain.edges[:, 1]]) ** 2
        norm = np.linalg.norm(g)
        if norm == 0.0:  # u = 0: rho = 0 (W = J), nothing to improve
            status = "optimal"
            break
        alpha = step / np.sqrt(k + 1)
        w = chain.project(w - alpha * g / norm, multipliers, PROJECTION_RTOL * alpha**2)
    history = history[: k + 1]
    return _certify(chain, best_w, float(history.min()), status, k, history)


class _Chain:
    """A graph's FMMC structure: sorted edges, the CSR pattern of W, colour classes."""

    def __init__(self, G: nx.Graph):
        self.n = n = G.number_of_nodes()
        self.edges = sorted_edges(G)
        u, v = self.edges[:, 0], self.edges[:, 1]
        m = len(self.edges)
        rows, cols = np.r_[u, v, np.arange(n)], np.r_[v, u, np.arange(n)]
        self.W = sp.csr_matrix((np.arange(1.0, 2 * m + n + 1), (rows, cols)), shape=(n, n))
        self._order = self.W.data.astype(np.int64) - 1  # CSR slot -> (w, w, diagonal) index
        self.dense = n < LANCZOS_MIN_N
        if self.dense:  # orthonormal basis of the complement of 1
            self._basis = null_space(np.ones((1, n)))
        colour = nx.greedy_color(G, strategy="largest_first")
        ends = np.r_[u, v]
        edge_ids, others = np.r_[np.arange(m), np.arange(m)], np.r_[v, u]
        by_node = np.argsort(ends, kind="stable")
        degree = np.bincount(ends, minlength=n)
        first = np.r_[0, np.cumsum(degree)]
        self.classes = []
        for c in sorted(set(colour.values())):
            nodes = np.array(sorted(i for i in range(n) if colour[i] == c), dtype=np.int64)
            width = int(degree[nodes].max())
            slot = first[nodes][:, None] + np.arange(width)
            pad = np.arange(width) >= degree[nodes][:, None]
            slot = by_node[np.where(pad, first[nodes][:, None], slot)]
            self.classes.append((nodes, edge_ids[slot], others[slot], pad))

    def matrix(self, w: np.ndarray) -> sp.csr_matrix:
        """W(w) in the fixed CSR pattern (the matrix is reused: copy to keep it)."""
        use = self.node_sums(w)
        self.W.data[:] = np.r_[w, w, 1.0 - use][self._order]
        return self.W

    def node_sums(self, w: np.ndarray) -> np.ndarray:
        return node_sums(w, self.edges, self.n)

    def extremes(self, w: np.ndarray, starts: np.ndarray):
        """(lambda_2, u, lambda_n, v) of W(w): extreme eigenvalues on the complement
        of 1 and unit eigenvectors, u orthogonal to 1."""
        W = self.matrix(w)
        if self.dense:
            lam, V = self.eigh(W, 1)
            return float(lam[1]), V[:, 1], float(lam[0]), V[:, 0]
        lam2, u = _eigsh(spectral.deflated_operator(W), "LA", starts[0])
        lamn, v = _eigsh(W, "SA", starts[1])
        u = u - u.mean()
        if np.linalg.norm(u) < 0.5:  # the top of W - J is the 0 of 1: lambda_2 <= 0 < -lambda_n
            return lam2, np.zeros(self.n), lamn, v
        return lam2, u / np.linalg.norm(u), lamn, v

    def eigh(self, W, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k lowest, then the k highest eigenpairs of W on the complement of 1 (LAPACK)."""
        lam, Y = np.linalg.eigh(self._basis.T @ (W @ self._basis))
        keep = np.r_[np.arange(k), np.arange(len(lam) - k, len(lam))]
        return lam[keep], self._basis @ Y[:, keep]

    def project(self, y: np.ndarray, multipliers: np.ndarray, accuracy: float) -> np.ndarray:
        """A feasible point within ``accuracy`` of the projection of y; updates the
        dual ``multipliers`` in place (warm start for the next call)."""
        u, v = self.edges[:, 0], self.edges[:, 1]
        for _ in range(MAX_SWEEPS):
            for nodes, edge_ids, others, pad in self.classes:
                z = np.where(pad, -np.inf, y[edge_ids] - multipliers[others])
                multipliers[nodes] = _threshold(z)
            w = np.maximum(y - multipliers[u] - multipliers[v], 0.0)
            feasible = fmmc_feasible(w, self.edges, self.n)
            dual = 0.5 * np.dot(w - y, w - y) + multipliers @ (self.node_sums(w) - 1.0)
            if np.dot(feasible - y, feasible - y) - 2.0 * dual <= accuracy**2:
                break
        return feasible


def _eigsh(A, which: str, start: np.ndarray) -> tuple[float, np.ndarray]:
    lam, V = spla.eigsh(A, k=LANCZOS_K, which=which, v0=start, tol=LANCZOS_TOL, ncv=LANCZOS_NCV)
    i = int(np.argmax(lam)) if which == "LA" else int(np.argmin(lam))
    return float(lam[i]), V[:, i]


def _threshold(z: np.ndarray) -> np.ndarray:
    """Per row, the least t >= 0 with sum_j max(z_j - t, 0) <= 1 (-inf entries are padding)."""
    zs = -np.sort(-z, axis=1)
    cs = np.cumsum(np.where(np.isfinite(zs), zs, 0.0), axis=1)
    t = (cs - 1.0) / np.arange(1, z.shape[1] + 1)
    last = z.shape[1] - 1 - np.argmax((zs > t)[:, ::-1], axis=1)
    return np.maximum(t[np.arange(len(z)), last], 0.0)


def _certify(
    chain: _Chain, w: np.ndarray, loop_rho: float, status: str, iterations: int, history: np.ndarray
) -> SubgradientWeights:
    n, edges = chain.n, chain.edges
    W = chain.matrix(w).copy()
    coo = W.tocoo()
    on_edge = np.isin(
        np.minimum(coo.row, coo.col) * n + np.maximum(coo.row, coo.col), edges[:, 0] * n + edges[:, 1]
    )
    outside = np.abs(coo.data[(coo.row != coo.col) & ~on_edge])
    residuals = {
        "asymmetry": asymmetry(W),
        "row_sum": float(np.abs(row_sums(W) - 1.0).max()),
        "min_entry": min_entry(W),
        "outside_support": float(outside.max(initial=0.0)),
    }
    worst = max(
        residuals["asymmetry"], residuals["row_sum"], -residuals["min_entry"], residuals["outside_support"]
    )
    if worst > FEASIBILITY_TOL:
        raise SolverError(f"subgradient FMMC answer is not feasible: residuals {residuals}")
    rho = spectral.rho(W)
    bound = _lower_bound(chain, W)
    if bound > rho + FEASIBILITY_TOL:
        raise SolverError(f"weak duality fails: lower bound {bound:.12f} > rho(W) = {rho:.12f}")
    W = W if want_sparse(n, None) else W.toarray()
    return SubgradientWeights(
        W, w, edges, rho, bound, loop_rho, residuals, "fmmc", "subgradient", status, iterations, history
    )


def _lower_bound(chain: _Chain, W: sp.csr_matrix) -> float:
    """The restricted-dual lower bound on the FMMC optimum (module docstring)."""
    n, edges = chain.n, chain.edges
    k = min(BOUND_VECTORS, n - 1)
    if chain.dense:
        V = chain.eigh(W, k)[1]
        top, bottom = V[:, k:], V[:, :k]
    else:
        v0 = spectral.lanczos_start(W.shape[0])
        top = spla.eigsh(spectral.deflated_operator(W), k=k, which="LA", v0=v0, tol=LANCZOS_TOL)[1]
        bottom = spla.eigsh(W, k=k, which="SA", v0=v0, tol=LANCZOS_TOL)[1]
    X = np.c_[top, bottom] / np.linalg.norm(np.c_[top, bottom], axis=0)
    sign = np.repeat([1.0, -1.0], k)  # Z1 columns, then Z2 columns
    base = sign * (1.0 - X.sum(axis=0) ** 2 / n)  # tr(x x^T (I - J))
    coupling = -sign * (X[edges[:, 0]] - X[edges[:, 1]]) ** 2  # b_e^T (x x^T) b_e, signed
    m, c = len(edges), X.shape[1]
    # variables (p, nu) >= 0: max base.p - sum nu, coupling p + nu_i + nu_j >= 0, sum p = 1
    incidence = sp.csr_matrix(
        (np.ones(2 * m), (np.r_[np.arange(m), np.arange(m)], np.r_[edges[:, 0], edges[:, 1]])), shape=(m, n)
    )
    res = linprog(
        np.r_[-base, np.ones(n)],
        A_ub=-sp.hstack([sp.csr_matrix(coupling), incidence]),
        b_ub=np.zeros(m),
        A_eq=np.r_[np.ones(c), np.zeros(n)][None, :],
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        warnings.warn(
            f"no lower bound: the restricted dual LP failed ({res.message})", SolverWarning, stacklevel=4
        )
        return -np.inf
    p = np.maximum(res.x[:c], 0.0)
    p /= p.sum()
    return fmmc_dual_bound(float(base @ p), coupling @ p, res.x[c:], edges)
