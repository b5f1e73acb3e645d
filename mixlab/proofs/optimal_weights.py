"""Optimal symmetric mixing weights by semidefinite programming, with checked certificates.

FMMC (fastest mixing Markov chain; Boyd, Diaconis & Xiao, SIAM Review 2004) and
FDLA (fastest distributed linear averaging; Xiao & Boyd, Systems & Control
Letters 2004) minimize rho(W) = ||W - J||_2 over symmetric W = I - B diag(w) B^T
supported on a graph's edges (B the incidence matrix, w the edge weights); FMMC
also needs W >= 0 (w >= 0 and sum_{e at i} w_e <= 1), FDLA does not.

Structure: the variables are the m edge weights and the constraints the two
LMIs -s I <= W - J <= s I, W sparse and affine in w (max-eigenvalue form). (A
version projected onto the complement of 1 makes every matrix dense, which
slows SCS and made Clarabel fail.)

Certificate, re-checked without trusting the solver: W is rebuilt from w;
symmetry, stochasticity, support and (FMMC) nonnegativity are measured; rho(W)
is computed by eigenvalues; and a lower bound on the optimum is rebuilt from
the solver's dual matrices (FMMC weights are first repaired to exact
feasibility: scaled so that no diagonal entry is negative): Z1, Z2 are projected onto the PSD cone and scaled
to tr Z1 + tr Z2 = 1, and (FMMC) the node multipliers nu are raised until every
edge's dual constraint holds, which makes tr Z1 - tr Z2 - sum nu a valid lower
bound by weak duality. The certified gap is rho(W) minus that bound.

For FMMC on graphs too large for the SDP, ``method="subgradient"`` runs the
first-order method of :mod:`mixlab.proofs.fmmc_first_order`.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np

from mixlab.errors import ParameterError, SolverError, SolverWarning
from mixlab.theory.graphs import from_networkx
from mixlab.validate import require_choice

PROBLEMS = ("fmmc", "fdla")
METHODS = ("sdp", "subgradient")
#: Gap between rho(W) and the rebuilt dual bound above which the answer is refused.
GAP_TOL = 1e-4
#: Largest FDLA edge stationarity residual accepted.
STATIONARITY_TOL = 1e-5
#: Solver accuracy asked for unless the caller says otherwise: at SCS's default
#: (1e-4) a 100-node ring's answer can miss GAP_TOL; at 1e-7 it certifies
#: (tests/test_optimal_weights.py).
DEFAULT_OPTIONS = {"SCS": {"eps_abs": 1e-7, "eps_rel": 1e-7}}


@dataclass(frozen=True)
class OptimalWeights:
    """Optimal symmetric mixing weights on a graph with their checked certificate.

    Returned by :func:`optimal_weights`; the residuals, ``rho`` and ``lower_bound``
    are recomputed from the weights, not taken from the solver.

    Parameters
    ----------
    W : numpy.ndarray or scipy.sparse.csr_matrix
        The (n, n) mixing matrix I - B diag(w) B^T (the subgradient method returns
        it sparse for large n).
    edge_weights : numpy.ndarray
        The (m,) edge weights w, in the order of ``edges``.
    edges : numpy.ndarray
        The (m, 2) int64 edges (i, j), i < j, in lexicographic order.
    rho : float
        ||W - J||_2, recomputed from W.
    lower_bound : float
        A certified lower bound on the optimal rho (weak duality); -inf if none
        could be built.
    solver_value : float
        The optimal value the solver reported (subgradient: the best rho its loop saw).
    residuals : dict
        Measured feasibility: ``asymmetry``, ``row_sum``, ``min_entry``,
        ``outside_support`` (and ``stationarity`` of the SDP's duals).
    problem : {"fmmc", "fdla"}
        The problem solved.
    solver : str
        The CVXPY solver's name, or ``"subgradient"``.
    status : str
        The solver's status (e.g. ``"optimal"``).
    """

    W: np.ndarray
    edge_weights: np.ndarray
    edges: np.ndarray
    rho: float
    lower_bound: float
    solver_value: float
    residuals: dict
    problem: str
    solver: str
    status: str

    @property
    def gap(self) -> float:
        """Certified optimality gap ``rho - lower_bound``.

        Returns
        -------
        float
            How far rho(W) can be above the optimum (inf without a lower bound).
        """
        return self.rho - self.lower_bound


def optimal_weights(
    G: nx.Graph,
    problem: str = "fmmc",
    *,
    method: str = "sdp",
    solver: str = "SCS",
    solver_options: dict | None = None,
) -> OptimalWeights:
    """Solve FMMC or FDLA on the connected graph G and certify the answer.

    Minimizes rho(W) = ||W - J||_2 over symmetric W = I - B diag(w) B^T supported on
    G's edges; FMMC also requires W >= 0. The answer is re-checked without trusting
    the solver (see the module docstring).

    Parameters
    ----------
    G : networkx.Graph
        A connected undirected graph on n nodes.
    problem : {"fmmc", "fdla"}, default "fmmc"
        Fastest mixing Markov chain (W >= 0), or fastest distributed linear averaging
        (negative weights allowed).
    method : {"sdp", "subgradient"}, default "sdp"
        ``sdp``: solve the SDP with CVXPY and refuse an answer whose certified gap
        exceeds :data:`GAP_TOL`. ``subgradient`` (FMMC only, for graphs too large for
        the SDP): :func:`mixlab.proofs.fmmc_first_order.fmmc_subgradient`, whose
        certified gap is reported, not bounded.
    solver : str, default "SCS"
        An installed CVXPY solver (``sdp`` only).
    solver_options : dict, optional
        ``sdp``: keyword arguments of the solve (default :data:`DEFAULT_OPTIONS`);
        ``subgradient``: keyword arguments of ``fmmc_subgradient``.

    Returns
    -------
    OptimalWeights
        The weights, W, rho, the certified lower bound and the residuals
        (:class:`~mixlab.proofs.fmmc_first_order.SubgradientWeights` for ``subgradient``).

    Raises
    ------
    ParameterError
        On an unknown problem, method, solver or subgradient option, or
        ``subgradient`` with ``fdla``.
    SolverError
        If the solver fails or its answer is not certified (infeasible status,
        non-stationary duals, a negative FMMC entry, or a gap above GAP_TOL).

    Warns
    -----
    UserWarning
        If the solver reports an inaccurate solution (the certificate still decides).

    References
    ----------
    S. Boyd, P. Diaconis and L. Xiao, "Fastest mixing Markov chain on a graph",
    SIAM Review 46(4), 2004 (FMMC). L. Xiao and S. Boyd, "Fast linear iterations for
    distributed averaging", Systems & Control Letters 53(1), 2004 (FDLA). The
    certificate's dual bound is derived in mixlab (module docstring).

    Examples
    --------
    >>> import networkx as nx
    >>> import mixlab as ml
    >>> opt = ml.optimal_weights(nx.cycle_graph(4))
    >>> round(opt.rho, 4), np.round(opt.edge_weights, 4).tolist(), bool(opt.gap < 1e-4)
    (0.3333, [0.3333, 0.3333, 0.3333, 0.3333], True)
    >>> sub = ml.optimal_weights(nx.cycle_graph(4), method="subgradient", solver_options={"iterations": 50})
    >>> round(sub.rho, 4), bool(sub.gap < 1e-4)
    (0.3333, True)
    """
    require_choice("method", method, METHODS)
    require_choice("problem", problem, PROBLEMS)
    if method == "subgradient":
        return _subgradient(G, problem, solver_options or {})
    import cvxpy as cp

    G = from_networkx(G)
    n = G.number_of_nodes()
    edges = sorted_edges(G)
    m = len(edges)
    B = np.zeros((n, m))
    B[edges[:, 0], np.arange(m)] = 1.0
    B[edges[:, 1], np.arange(m)] = -1.0
    w = cp.Variable(m)
    s = cp.Variable()
    centered = np.eye(n) - 1.0 / n - B @ cp.diag(w) @ B.T  # W - J
    upper = s * np.eye(n) - centered >> 0
    lower = s * np.eye(n) + centered >> 0
    constraints = [upper, lower]
    if problem == "fmmc":
        degree_use = np.abs(B) @ w <= 1
        constraints += [w >= 0, degree_use]
    prob = cp.Problem(cp.Minimize(s), constraints)
    if solver not in cp.installed_solvers():
        raise ParameterError(
            f"unknown or missing solver {solver!r}; installed: {', '.join(cp.installed_solvers())}"
        )
    options = DEFAULT_OPTIONS.get(solver, {}) if solver_options is None else solver_options
    try:
        prob.solve(solver=solver, **options)
    except cp.error.SolverError as exc:
        raise SolverError(f"{solver} failed on {problem} (n = {n}): {exc}") from None
    if prob.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE, cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
        raise SolverError(f"{solver} reports {problem} as {prob.status}; it is feasible by construction")
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or w.value is None:
        raise SolverError(f"{solver} returned status {prob.status!r} for {problem} (n = {n})")
    if prob.status == cp.OPTIMAL_INACCURATE:
        warnings.warn(
            f"{solver} solved {problem} inaccurately; the certificate below is what counts",
            SolverWarning,
            stacklevel=2,
        )
    weights = np.asarray(w.value, dtype=np.float64)
    if problem == "fmmc":  # repair solver noise: exactly feasible
        weights = fmmc_feasible(weights, edges, n)
    W = np.eye(n) - (B * weights) @ B.T
    ev = np.linalg.eigvalsh(W - 1.0 / n)
    rho = float(np.abs(ev).max())
    residuals = {
        "asymmetry": float(np.abs(W - W.T).max()),
        "row_sum": float(np.abs(W.sum(axis=1) - 1).max()),
        "min_entry": float(W.min()),
        "outside_support": 0.0,
    }
    bound, stationarity = _dual_bound(
        B,
        edges,
        n,
        weights,
        upper.dual_value,
        lower.dual_value,
        degree_use.dual_value if problem == "fmmc" else None,
    )
    residuals["stationarity"] = stationarity
    result = OptimalWeights(
        W, weights, edges, rho, bound, float(prob.value), residuals, problem, solver, prob.status
    )
    if stationarity > STATIONARITY_TOL:
        raise SolverError(
            f"{solver}'s {problem} duals are not stationary: max edge residual "
            f"{stationarity:.2e} > {STATIONARITY_TOL:g}"
        )
    if problem == "fmmc" and residuals["min_entry"] < -1e-9:
        raise SolverError(f"FMMC answer has a negative entry {residuals['min_entry']:.3g}")
    if result.gap > GAP_TOL:
        raise SolverError(
            f"{solver}'s {problem} answer is not certified: rho(W) = {rho:.9f} but the "
            f"rebuilt dual bound is {bound:.9f} (gap {result.gap:.2e} > {GAP_TOL:g})"
        )
    return result


def _subgradient(G: nx.Graph, problem: str, options: dict) -> OptimalWeights:
    from mixlab.proofs.fmmc_first_order import fmmc_subgradient

    if problem != "fmmc":
        raise ParameterError(f"the subgradient method solves fmmc only, got problem {problem!r}")
    valid = [
        p.name for p in inspect.signature(fmmc_subgradient).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ParameterError(f"unknown subgradient option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    return fmmc_subgradient(G, **options)


def sorted_edges(G: nx.Graph) -> np.ndarray:
    """Return the edges (i, j), i < j, of G in lexicographic order (the order of the edge weights).

    Parameters
    ----------
    G : networkx.Graph
        An undirected graph.

    Returns
    -------
    numpy.ndarray
        The edges, int64, shape (m, 2).

    Examples
    --------
    >>> sorted_edges(nx.cycle_graph(4)).tolist()
    [[0, 1], [0, 3], [1, 2], [2, 3]]
    """
    return np.array(sorted(tuple(sorted(e)) for e in G.edges()), dtype=np.int64).reshape(-1, 2)


def node_sums(weights: np.ndarray, edges: np.ndarray, n: int) -> np.ndarray:
    """Return sum_{e at i} w_e for every node i.

    Parameters
    ----------
    weights : numpy.ndarray
        Edge weights w, shape (m,).
    edges : numpy.ndarray
        The (m, 2) edges, in the order of ``weights``.
    n : int
        Number of nodes.

    Returns
    -------
    numpy.ndarray
        Shape (n,); 1 minus it is W's diagonal.

    Examples
    --------
    >>> node_sums(np.array([0.5, 0.25]), np.array([[0, 1], [1, 2]]), 3).tolist()
    [0.5, 0.75, 0.25]
    """
    return np.bincount(edges[:, 0], weights, minlength=n) + np.bincount(edges[:, 1], weights, minlength=n)


def fmmc_feasible(weights: np.ndarray, edges: np.ndarray, n: int) -> np.ndarray:
    """Make edge weights FMMC-feasible (w >= 0 and every node sum <= 1).

    Negative weights are set to 0, then each edge is divided by the larger node
    sum sum_{e at i} w_e of its ends where that exceeds 1.

    Parameters
    ----------
    weights : numpy.ndarray
        Edge weights w, shape (m,), e.g. a solver's slightly infeasible answer.
    edges : numpy.ndarray
        The (m, 2) edges, in the order of ``weights``.
    n : int
        Number of nodes.

    Returns
    -------
    numpy.ndarray
        New feasible weights, shape (m,).

    Examples
    --------
    >>> fmmc_feasible(np.array([0.75, 0.5, -0.1]), np.array([[0, 1], [1, 2], [0, 2]]), 3).tolist()
    [0.6, 0.4, 0.0]
    """
    weights = np.maximum(weights, 0.0)
    use = node_sums(weights, edges, n)
    return weights / np.maximum(1.0, np.maximum(use[edges[:, 0]], use[edges[:, 1]]))


def fmmc_dual_bound(base: float, coupling: np.ndarray, nu: np.ndarray, edges: np.ndarray) -> float:
    """Return a valid FMMC lower bound tr(D (I - J)) - sum nu from possibly infeasible duals.

    The node multipliers nu are clipped at 0 and raised (all by the same amount)
    until every edge's dual constraint coupling_e + nu_i + nu_j >= 0 holds; the
    result is then a lower bound on the FMMC optimum by weak duality (D = Z1 - Z2
    with PSD Z1, Z2 of total trace 1).

    Parameters
    ----------
    base : float
        The trace tr(D (I - J)).
    coupling : numpy.ndarray
        Shape (m,): b_e^T (Z2 - Z1) b_e for each edge e.
    nu : numpy.ndarray
        Shape (n,): the node multipliers of the constraints sum_{e at i} w_e <= 1.
    edges : numpy.ndarray
        The (m, 2) edges, in the order of ``coupling``.

    Returns
    -------
    float
        The lower bound.
    """
    nu = np.maximum(nu, 0.0)
    deficit = coupling + nu[edges[:, 0]] + nu[edges[:, 1]]
    nu = nu + max(0.0, -float(deficit.min())) / 2
    return base - float(nu.sum())


def _psd_part(Z) -> np.ndarray:
    Z = (np.asarray(Z) + np.asarray(Z).T) / 2
    lam, V = np.linalg.eigh(Z)
    return (V * np.maximum(lam, 0)) @ V.T


def _dual_bound(B, edges, n, weights, Z1, Z2, nu) -> tuple[float, float]:
    """(lower bound on the optimum, FDLA stationarity residual) from possibly inexact duals."""
    if Z1 is None or Z2 is None:
        return -np.inf, np.inf
    Z1, Z2 = _psd_part(Z1), _psd_part(Z2)
    total = np.trace(Z1) + np.trace(Z2)
    if total <= 0:
        return -np.inf, np.inf
    D = (Z1 - Z2) / total
    base = float(np.trace(D) - D.sum() / n)  # tr(D (I - J))
    coupling = -np.einsum("ie,ij,je->e", B, D, B)  # b_e^T (Z2 - Z1) b_e
    if nu is None:  # FDLA: Lagrangian at w
        return base + float(weights @ coupling), float(np.abs(coupling).max())
    return fmmc_dual_bound(base, coupling, np.asarray(nu, dtype=np.float64) / total, edges), 0.0
