"""The checks of the foundation: mixing matrices, group schedules and the
averaging kernels, each measured on a fresh run and held against theory.

Sources: the Metropolis ring spectrum is the DFT of a circulant; the
hypercube spectrum is that of the Boolean cube; best constant is Xiao & Boyd
(2004), eq. (16); butterfly exact averaging is WAGMA-SGD (Li et al., IEEE TPDS
2021); one-peer exponential exact averaging is Ying et al. (NeurIPS 2021);
the random-group factor, the self-weighted butterfly contraction and the
exact second moment of randomized gossip are derived in mixlab; the
randomized-gossip bound is Boyd, Ghosh, Prabhakar & Shah (2006).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from mixlab.kernels.averaging.group_averaging import group_average
from mixlab.kernels.averaging.mixing import sparse_mix
from mixlab.theory import graphs, spectral
from mixlab.theory import pairwise_gossip as pg
from mixlab.theory import theorems as thm
from mixlab.theory.groups import ButterflyGroups, RandomGroups
from mixlab.theory.schedules import OnePeerExponential
from mixlab.theory.weights import mixing_matrix
from mixlab.validation.checks import Check, CheckBase, Control, TheoremCheck
from mixlab.validation.statistics import mean_estimate

EXACT = 1e-12


def consensus_distance(X: np.ndarray) -> float:
    """Gamma = sum_i ||x_i - xbar||^2 (the sum, not the normalized Gamma/n).

    Parameters
    ----------
    X : ndarray, shape (n, d)
        One model per row.

    Returns
    -------
    float
        The consensus distance Gamma.

    Examples
    --------
    >>> consensus_distance(np.array([[0.0, 1.0], [2.0, 1.0]]))
    2.0
    """
    return float(((X - X.mean(axis=0)) ** 2).sum())


def ring_spectrum_deviation(n: int) -> tuple[float, float]:
    """Max deviation of the Metropolis ring's spectrum from 1/3 + 2/3 cos(2 pi k / n) (a circulant's DFT).

    Parameters
    ----------
    n : int
        Number of nodes of the ring (n >= 3).

    Returns
    -------
    measured : float
        max_k |lambda_k(W) - (1/3 + 2/3 cos(2 pi k / n))| over the sorted eigenvalues.
    bound : float
        0.0, the exact value.

    Examples
    --------
    >>> measured, bound = ring_spectrum_deviation(8)
    >>> measured < 1e-12, bound
    (True, 0.0)
    """
    W = mixing_matrix(graphs.ring(n), "metropolis")
    expected = np.sort(1 / 3 + 2 / 3 * np.cos(2 * np.pi * np.arange(n) / n))
    return float(np.abs(np.linalg.eigvalsh(W) - expected).max()), 0.0


def hypercube_rho(k: int) -> tuple[float, float]:
    """rho of the Metropolis weights on the k-cube (n = 2^k), against (k - 1)/(k + 1).

    Parameters
    ----------
    k : int
        Dimension of the hypercube.

    Returns
    -------
    measured : float
        rho = ||W - J||_2 computed from the matrix.
    bound : float
        (k - 1)/(k + 1), from the spectrum of the Boolean cube.

    Examples
    --------
    >>> [round(v, 10) for v in hypercube_rho(3)]
    [0.5, 0.5]
    """
    return spectral.rho(mixing_matrix(graphs.hypercube(2**k), "metropolis")), (k - 1) / (k + 1)


def best_constant_rho(family: str, n: int) -> tuple[float, float]:
    """rho of the best-constant edge weights against Xiao & Boyd (2004), eq. (16).

    Parameters
    ----------
    family : str
        Graph family of :func:`mixlab.theory.graphs.make_graph` (ring, torus, exponential, ...).
    n : int
        Number of workers.

    Returns
    -------
    measured : float
        rho of ``mixing_matrix(G, "best_constant")``.
    bound : float
        (lambda_1(L) - lambda_{n-1}(L)) / (lambda_1(L) + lambda_{n-1}(L)), L the graph
        Laplacian (largest and second-smallest eigenvalues).
    """
    G = graphs.make_graph(family, n)
    lam = np.linalg.eigvalsh(nx.laplacian_matrix(G).toarray().astype(float))
    return spectral.rho(mixing_matrix(G, "best_constant")), (lam[-1] - lam[1]) / (lam[-1] + lam[1])


def _worst_contraction(step, n: int, d: int, steps: int, seed: int) -> float:
    """max_t ||step(Y_t) - J step(Y_t)||_F / ||Y_t - J Y_t||_F along a power iteration
    (centered and renormalized, so the consensus part never drowns in rounding)."""
    Y = np.random.default_rng(seed).standard_normal((n, d))
    worst = 0.0
    for _ in range(steps):
        Z = step(Y)
        worst = max(worst, math.sqrt(consensus_distance(Z) / consensus_distance(Y)))
        Z -= Z.mean(axis=0)
        Y = Z / np.linalg.norm(Z)
    return worst


def contraction_ratio(family: str, n: int, d: int, steps: int, seed: int, claimed_rho: float | None = None):
    """The worst one-step contraction of the sparse mixing kernel, against rho.

    The ratio sqrt(Gamma(WY) / Gamma(Y)) along a power iteration climbs toward rho, so
    the bound is tested near its tight point.

    Parameters
    ----------
    family : str
        Graph family of :func:`mixlab.theory.graphs.make_graph` (ring, torus, exponential, ...).
    n : int
        Number of workers.
    d : int
        Model dimension of the random start.
    steps : int
        Power-iteration steps.
    seed : int
        Seed of the random start.
    claimed_rho : float, optional
        The rho to claim instead of the Metropolis matrix's own (a control).

    Returns
    -------
    measured : float
        max_t ||W Y_t - J W Y_t||_F / ||Y_t - J Y_t||_F.
    params : dict
        Theorem parameters ``rho``, ``initial`` (1.0) and ``doubly_stochastic``.
    """
    W = mixing_matrix(graphs.make_graph(family, n), "metropolis", sparse=True)
    worst = _worst_contraction(lambda Y: sparse_mix(W, Y), n, d, steps, seed)
    rho = spectral.rho(W) if claimed_rho is None else claimed_rho
    return worst, {"rho": rho, "initial": 1.0, "doubly_stochastic": True}


def contraction_claiming(family: str, claimed: str, n: int, d: int, steps: int, seed: int):
    """Control: the run of ``family`` held against the rho of another topology.

    Parameters
    ----------
    family : str
        Graph family of :func:`mixlab.theory.graphs.make_graph` (ring, torus, exponential, ...).
    claimed : str
        The family whose Metropolis rho is claimed.
    n : int
        Number of workers.
    d : int
        Model dimension of the random start.
    steps : int
        Power-iteration steps.
    seed : int
        Seed of the random start.

    Returns
    -------
    measured : float
        The worst contraction of ``family``'s run (see :func:`contraction_ratio`).
    params : dict
        Theorem parameters with ``claimed``'s rho.
    """
    rho = spectral.rho(mixing_matrix(graphs.make_graph(claimed, n), "metropolis"))
    return contraction_ratio(family, n, d, steps, seed, claimed_rho=rho)


def contraction_squared(family: str, n: int, d: int, steps: int, seed: int):
    """Control: one mixing step held against rho^2 (the contraction of two steps).

    Parameters
    ----------
    family : str
        Graph family of :func:`mixlab.theory.graphs.make_graph` (ring, torus, exponential, ...).
    n : int
        Number of workers.
    d : int
        Model dimension of the random start.
    steps : int
        Power-iteration steps.
    seed : int
        Seed of the random start.

    Returns
    -------
    measured : float
        The worst one-step contraction (see :func:`contraction_ratio`).
    params : dict
        Theorem parameters with rho^2 claimed as ``rho``.
    """
    rho = spectral.rho(mixing_matrix(graphs.make_graph(family, n), "metropolis"))
    return contraction_ratio(family, n, d, steps, seed, claimed_rho=rho**2)


def mean_drift(family: str, n: int, d: int, steps: int, seed: int, weights: str = "metropolis"):
    """max |xbar_t - xbar_0| after ``steps`` mixing steps (0 for doubly stochastic weights).

    Parameters
    ----------
    family : str
        Graph family of :func:`mixlab.theory.graphs.make_graph` (ring, torus, exponential, ...).
    n : int
        Number of workers.
    d : int
        Model dimension of the random start.
    steps : int
        Mixing steps.
    seed : int
        Seed of the random start.
    weights : str, default "metropolis"
        Weight rule of :func:`mixlab.theory.weights.mixing_matrix` ("uniform": row
        stochastic only, a control).

    Returns
    -------
    measured : float
        Largest coordinate drift of the average model.
    bound : float
        0.0, the exact value.
    """
    W = mixing_matrix(graphs.make_graph(family, n), weights, sparse=True)
    X = np.random.default_rng(seed).standard_normal((n, d))
    mean0, Y = X.mean(axis=0), X
    for _ in range(steps):
        Y = sparse_mix(W, Y)
    return float(np.abs(Y.mean(axis=0) - mean0).max()), 0.0


def butterfly_steps(n: int, S: int, d: int, seed: int):
    """Steps of the numba group-averaging kernel (butterfly groups) until Gamma <= 1e-24 Gamma_0.

    Parameters
    ----------
    n : int
        Number of workers, a power of ``S``.
    S : int
        Group size.
    d : int
        Model dimension of the random start.
    seed : int
        Seed of the random start.

    Returns
    -------
    measured : int or float
        Steps to exact averaging; inf if not reached within 4 periods.
    params : dict
        Theorem parameters ``n`` and ``S`` (the bound is log_S n).

    Examples
    --------
    >>> butterfly_steps(16, 4, 2, 0)
    (2, {'n': 16, 'S': 4})
    """
    sched = ButterflyGroups(n, S, "mean")
    X = np.random.default_rng(seed).standard_normal((n, d))
    g0 = consensus_distance(X)
    steps = math.inf
    for t in range(1, 4 * sched.period + 1):
        group_average(X, sched.groups(t - 1), "mean")
        if consensus_distance(X) <= 1e-24 * g0:
            steps = t
            break
    return steps, {"n": n, "S": S}


def self_weighted_period_rho(n: int, S: int):
    """||W_{k-1} ... W_0 - J||_2 over one period of self-weighted butterfly groups.

    Parameters
    ----------
    n : int
        Number of workers, a power of ``S``.
    S : int
        Group size.

    Returns
    -------
    measured : float
        The period's contraction.
    params : dict
        Theorem parameters ``n`` and ``S`` (the exact value is 1/(S + 1)).

    Examples
    --------
    >>> measured, params = self_weighted_period_rho(16, 4)
    >>> round(measured, 10)
    0.2
    """
    sched = ButterflyGroups(n, S, "self_weighted")
    measured = spectral.period_contraction(sched.matrix(t) for t in range(sched.period))
    return measured, {"n": n, "S": S}


def one_peer_steps(n: int) -> tuple[float, float]:
    """Steps of the one-peer exponential schedule to exact averaging, against log2 n.

    Parameters
    ----------
    n : int
        Number of workers (a power of 2 for exact averaging).

    Returns
    -------
    measured : int or float
        Smallest t with W_{t-1} ... W_0 = J; inf if none within 4 n steps.
    bound : float
        log2 n (Ying et al., NeurIPS 2021).

    Examples
    --------
    >>> one_peer_steps(8)
    (3, 3.0)
    """
    steps = spectral.steps_to_exact_average(OnePeerExponential(n).matrices(), 4 * n)
    return (math.inf if steps is None else steps), math.log2(n)


def random_group_factor(n: int, S: int, rounds: int, seed: int, claimed_S: int | None = None):
    """Mean of Gamma'/Gamma over independent rounds of random groups, against the factor for S.

    Parameters
    ----------
    n : int
        Number of workers, a multiple of ``S``.
    S : int
        Group size of the run.
    rounds : int
        Independent rounds (one group draw each) from the same random start, d = 4.
    seed : int
        Seed of the group draws (``seed + 1`` for the start).
    claimed_S : int, optional
        The group size to claim instead of ``S`` (a control).

    Returns
    -------
    measured : Estimate
        Mean of Gamma'/Gamma_0 and its standard error, ``rounds - 1`` dof.
    params : dict
        Theorem parameters ``n``, ``S`` (claimed) and ``initial`` (1.0).
    """
    sched = RandomGroups(n, S, "mean", seed=seed)
    X0 = np.random.default_rng(seed + 1).standard_normal((n, 4))
    g0 = consensus_distance(X0)
    ratios = np.empty(rounds)
    for t in range(rounds):
        X = X0.copy()
        group_average(X, sched.groups(t), "mean")
        ratios[t] = consensus_distance(X) / g0
    return mean_estimate(ratios), {"n": n, "S": claimed_S or S, "initial": 1.0}


def _gossip_runs(family: str, n: int, x0: np.ndarray, steps: int, runs: int, seed: int) -> np.ndarray:
    """||x(steps) - xbar||^2 of ``runs`` independent randomized-gossip runs from x0
    (a uniform random edge averages per tick)."""
    edges = np.array(sorted(tuple(sorted(e)) for e in graphs.make_graph(family, n).edges()))
    rng = np.random.default_rng(seed)
    out = np.empty(runs)
    for r in range(runs):
        x = x0.copy()
        for i, j in edges[rng.integers(len(edges), size=steps)]:
            x[i] = x[j] = (x[i] + x[j]) / 2
        out[r] = ((x - x.mean()) ** 2).sum()
    return out


def pairwise_gossip(family: str, n: int, steps: int, runs: int, seed: int, claimed: str | None = None):
    """Randomized gossip from its slowest start, against Boyd et al.'s rate lambda_2(E W)^t.

    The start is the eigenvector of lambda_2(E W) (the Laplacian's Fiedler vector).

    Parameters
    ----------
    family : str
        Graph family of :func:`mixlab.theory.graphs.make_graph` (ring, torus, exponential, ...).
    n : int
        Number of workers.
    steps : int
        Gossip ticks (one uniformly random edge averages per tick).
    runs : int
        Independent runs.
    seed : int
        Seed of the random start.
    claimed : str, optional
        The family whose prediction is claimed instead of ``family``'s (a control).

    Returns
    -------
    measured : Estimate
        Mean over runs of ||x(t) - xbar||^2 / ||x(0) - xbar||^2 at t = ``steps``.
    params : dict
        Theorem parameters ``rho`` (lambda_2(E W)), ``t`` and ``initial`` (1.0).
    """
    G = graphs.make_graph(family, n)
    x0 = pg.slowest_start(G)
    est = mean_estimate(_gossip_runs(family, n, x0, steps, runs, seed) / float(x0 @ x0))
    lam2 = pg.expected_matrix_lambda2(graphs.make_graph(claimed or family, n))
    return est, {"rho": lam2, "t": steps, "initial": 1.0}


def gossip_second_moment(family: str, n: int, steps: int, runs: int, seed: int, claimed: str | None = None):
    """Randomized gossip from a random start, against the exact second-moment recursion.

    Parameters
    ----------
    family : str
        Graph family of :func:`mixlab.theory.graphs.make_graph` (ring, torus, exponential, ...).
    n : int
        Number of workers.
    steps : int
        Gossip ticks (one uniformly random edge averages per tick).
    runs : int
        Independent runs.
    seed : int
        Seed of the random start.
    claimed : str, optional
        The family whose prediction is claimed instead of ``family``'s (a control).

    Returns
    -------
    measured : Estimate
        Mean over runs of ||x(t) - xbar||^2 at t = ``steps``.
    params : dict
        Theorem parameter ``predicted``: E||x(t) - xbar||^2 from
        :func:`mixlab.theory.pairwise_gossip.mean_square_error`.
    """
    x0 = np.random.default_rng(seed).standard_normal(n)
    est = mean_estimate(_gossip_runs(family, n, x0, steps, runs, seed + 1))
    predicted = pg.mean_square_error(graphs.make_graph(claimed or family, n), x0, steps)[-1]
    return est, {"predicted": float(predicted)}


def one_peer_period_contraction(n: int, steps: int, seed: int, drop_last: bool = False):
    """Worst contraction of one period P of the one-peer exponential schedule, against ||P - J||_2.

    With n not a power of 2 the schedule does not average exactly, so the bound is
    tested along a power iteration (d = 2).

    Parameters
    ----------
    n : int
        Number of workers (not a power of 2).
    steps : int
        Power-iteration steps.
    seed : int
        Seed of the random start.
    drop_last : bool, default False
        Apply the period without its last matrix (a control).

    Returns
    -------
    measured : float
        max_t ||P Y_t - J P Y_t||_F / ||Y_t - J Y_t||_F.
    params : dict
        Theorem parameters ``rho`` (the full period's), ``initial`` and ``doubly_stochastic``.
    """
    sched = OnePeerExponential(n)
    mats = [sched.matrix(t) for t in range(sched.period)]

    def period(Y):
        for W in mats[:-1] if drop_last else mats:
            Y = W @ Y
        return Y

    worst = _worst_contraction(period, n, 2, steps, seed)
    return worst, {"rho": sched.period_rho(), "initial": 1.0, "doubly_stochastic": True}


def backend_agreement(n: int, d: int, seed: int) -> tuple[float, float]:
    """Max relative difference of the numba and NumPy reference kernels.

    Compares group averaging (random groups of 4, both rules) and sparse mixing
    (Metropolis exponential graph) on one random (n, d) start.

    Parameters
    ----------
    n : int
        Number of workers.
    d : int
        Model dimension of the random start.
    seed : int
        Seed of the start and of the groups.

    Returns
    -------
    measured : float
        max |numba - reference| / max |reference| over the three kernels.
    bound : float
        0.0, the exact value.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = mixing_matrix(graphs.make_graph("exponential", n), "metropolis", sparse=True)
    groups = RandomGroups(n, 4, seed=seed).groups(0)
    worst = 0.0
    for rule in ("mean", "self_weighted"):
        a = group_average(X.copy(), groups, rule, backend="numba")
        b = group_average(X.copy(), groups, rule, backend="reference")
        worst = max(worst, float(np.abs(a - b).max() / np.abs(b).max()))
    a, b = sparse_mix(W, X, backend="numba"), sparse_mix(W, X, backend="reference")
    return max(worst, float(np.abs(a - b).max() / np.abs(b).max())), 0.0


def foundation_checks(size: str = "default") -> list[CheckBase]:
    """The foundation checks (mixing matrices, group schedules, averaging kernels).

    Parameters
    ----------
    size : {"quick", "default", "full"}, default "default"
        Sets the large n (64, 1024, 4096) and the Monte Carlo rounds (1000, 4000, 20000).

    Returns
    -------
    list of CheckBase
        The checks, not yet run.

    Raises
    ------
    KeyError
        If ``size`` is not one of the three.
    """
    big = {"quick": 64, "default": 1024, "full": 4096}[size]
    rounds = {"quick": 1000, "default": 4000, "full": 20000}[size]
    dft = "DFT of a circulant matrix"
    ring = {"family": "ring", "n": big, "d": 4, "steps": 300, "seed": 0}
    expo = {"family": "exponential", "n": big, "d": 4, "steps": 300, "seed": 1}
    drift = {"family": "torus", "n": 256, "d": 8, "steps": 50, "seed": 2}
    one_peer = {"n": 12, "steps": 200, "seed": 8}
    groups = {"n": 64, "S": 8, "rounds": rounds, "seed": 6}
    gossip = {"family": "ring", "n": 16, "steps": 200, "runs": rounds // 4, "seed": 9}
    gossip2 = {"family": "ring", "n": 16, "steps": 120, "runs": rounds // 4, "seed": 10}
    return [
        Check(
            "ring-metropolis-spectrum",
            r"\lambda_k(W) = 1/3 + 2/3\cos(2\pi k/n)",
            dft,
            "==",
            EXACT,
            ring_spectrum_deviation,
            {"n": 64},
            proof="ring_spectrum",
        ),
        Check(
            "hypercube-rho",
            r"\rho = (k-1)/(k+1) on the k-cube",
            "spectrum of the Boolean cube",
            "==",
            EXACT,
            hypercube_rho,
            {"k": 6},
        ),
        Check(
            "best-constant-rho",
            r"\rho = (\lambda_1 - \lambda_{n-1})/(\lambda_1 + \lambda_{n-1})",
            "Xiao & Boyd 2004, eq. (16)",
            "==",
            1e-10,
            best_constant_rho,
            {"family": "torus", "n": 64},
        ),
        TheoremCheck(
            "mixing-contraction-ring",
            thm.CONSENSUS_CONTRACTION,
            contraction_ratio,
            ring,
            Control(
                "wrong topology: the ring's run against the 2-D torus's rho",
                contraction_claiming,
                {**ring, "claimed": "torus"},
            ),
            EXACT,
        ),
        TheoremCheck(
            "mixing-contraction-exponential",
            thm.CONSENSUS_CONTRACTION,
            contraction_ratio,
            expo,
            Control("understated constant: one step against rho^2", contraction_squared, expo),
            EXACT,
        ),
        TheoremCheck(
            "one-peer-period-contraction",
            thm.PERIOD_CONTRACTION,
            one_peer_period_contraction,
            one_peer,
            Control(
                "the period without its last matrix, against the period's rho",
                one_peer_period_contraction,
                {**one_peer, "drop_last": True},
            ),
            EXACT,
        ),
        Check(
            "mixing-preserves-mean",
            r"\bar x(WX) = \bar x(X) for doubly stochastic W",
            "1^T W = 1^T",
            "==",
            EXACT,
            mean_drift,
            drift,
            Control(
                "row-stochastic only: uniform weights 1/(deg+1) on a star",
                mean_drift,
                {**drift, "family": "star", "weights": "uniform"},
            ),
        ),
        TheoremCheck(
            "butterfly-exact-64-8",
            thm.BUTTERFLY_EXACT,
            butterfly_steps,
            {"n": 64, "S": 8, "d": 8, "seed": 3},
            tolerance=1e-9,
        ),
        TheoremCheck(
            "butterfly-exact-81-3",
            thm.BUTTERFLY_EXACT,
            butterfly_steps,
            {"n": 81, "S": 3, "d": 8, "seed": 4},
            tolerance=1e-9,
        ),
        TheoremCheck(
            "butterfly-exact-large",
            thm.BUTTERFLY_EXACT,
            butterfly_steps,
            {"n": 4 ** round(math.log(big, 4)), "S": 4, "d": 64, "seed": 5},
            tolerance=1e-9,
        ),
        TheoremCheck(
            "butterfly-self-weighted-period",
            thm.SELF_WEIGHTED_PERIOD,
            self_weighted_period_rho,
            {"n": 64, "S": 4},
            tolerance=EXACT,
        ),
        Check(
            "one-peer-exponential-exact",
            r"\prod_{t<\log_2 n} (I + P^{2^t})/2 = J",
            "Ying et al., NeurIPS 2021",
            "==",
            0,
            one_peer_steps,
            {"n": 64},
        ),
        TheoremCheck(
            "random-groups-expectation",
            thm.RANDOM_GROUPS,
            random_group_factor,
            groups,
            Control(
                "the factor of groups of S/2 claimed",
                random_group_factor,
                {**groups, "claimed_S": groups["S"] // 2},
            ),
        ),
        TheoremCheck(
            "randomized-pairwise-gossip",
            thm.PAIRWISE_GOSSIP,
            pairwise_gossip,
            gossip,
            Control(
                "wrong topology: the ring's run against the complete graph's lambda_2",
                pairwise_gossip,
                {**gossip, "claimed": "complete"},
            ),
        ),
        TheoremCheck(
            "gossip-second-moment",
            thm.GOSSIP_SECOND_MOMENT,
            gossip_second_moment,
            gossip2,
            Control(
                "the prediction for a 4 x 4 torus held against the ring's runs",
                gossip_second_moment,
                {**gossip2, "claimed": "torus"},
            ),
        ),
        Check(
            "backend-agreement",
            "numba kernels = NumPy reference (relative difference)",
            "kernel specification",
            "==",
            1e-12,
            backend_agreement,
            {"n": 256, "d": 64, "seed": 7},
        ),
    ]
