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
    """Gamma = sum_i ||x_i - xbar||^2 (the sum, not the normalized Gamma/n)."""
    return float(((X - X.mean(axis=0)) ** 2).sum())


def ring_spectrum_deviation(n: int) -> tuple[float, float]:
    W = mixing_matrix(graphs.ring(n), "metropolis")
    expected = np.sort(1 / 3 + 2 / 3 * np.cos(2 * np.pi * np.arange(n) / n))
    return float(np.abs(np.linalg.eigvalsh(W) - expected).max()), 0.0


def hypercube_rho(k: int) -> tuple[float, float]:
    return spectral.rho(mixing_matrix(graphs.hypercube(2**k), "metropolis")), (k - 1) / (k + 1)


def best_constant_rho(family: str, n: int) -> tuple[float, float]:
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
    """The worst one-step contraction of the sparse mixing kernel, against rho (or
    ``claimed_rho``): the ratio climbs toward rho, so the bound is tested near its
    tight point."""
    W = mixing_matrix(graphs.make_graph(family, n), "metropolis", sparse=True)
    worst = _worst_contraction(lambda Y: sparse_mix(W, Y), n, d, steps, seed)
    rho = spectral.rho(W) if claimed_rho is None else claimed_rho
    return worst, {"rho": rho, "initial": 1.0, "doubly_stochastic": True}


def contraction_claiming(family: str, claimed: str, n: int, d: int, steps: int, seed: int):
    """Control: the run of ``family`` held against the rho of another topology."""
    rho = spectral.rho(mixing_matrix(graphs.make_graph(claimed, n), "metropolis"))
    return contraction_ratio(family, n, d, steps, seed, claimed_rho=rho)


def contraction_squared(family: str, n: int, d: int, steps: int, seed: int):
    """Control: one mixing step held against rho^2 (the contraction of two steps)."""
    rho = spectral.rho(mixing_matrix(graphs.make_graph(family, n), "metropolis"))
    return contraction_ratio(family, n, d, steps, seed, claimed_rho=rho**2)


def mean_drift(family: str, n: int, d: int, steps: int, seed: int, weights: str = "metropolis"):
    """max |xbar_t - xbar_0| over ``steps`` mixing steps (0 for doubly stochastic weights)."""
    W = mixing_matrix(graphs.make_graph(family, n), weights, sparse=True)
    X = np.random.default_rng(seed).standard_normal((n, d))
    mean0, Y = X.mean(axis=0), X
    for _ in range(steps):
        Y = sparse_mix(W, Y)
    return float(np.abs(Y.mean(axis=0) - mean0).max()), 0.0


def butterfly_steps(n: int, S: int, d: int, seed: int):
    """Steps of the numba kernel until Gamma <= 1e-24 Gamma_0, against log_S n."""
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
    sched = ButterflyGroups(n, S, "self_weighted")
    measured = spectral.period_contraction(sched.matrix(t) for t in range(sched.period))
    return measured, {"n": n, "S": S}


def one_peer_steps(n: int) -> tuple[float, float]:
    steps = spectral.steps_to_exact_average(OnePeerExponential(n).matrices(), 4 * n)
    return (math.inf if steps is None else steps), math.log2(n)


def random_group_factor(n: int, S: int, rounds: int, seed: int, claimed_S: int | None = None):
    """Mean of Gamma'/Gamma over independent rounds of random groups (S), against the
    factor for S (or ``claimed_S``)."""
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
    """Randomized gossip from the slowest start (the eigenvector of lambda_2(E W)):
    mean of ||x(t) - xbar||^2 / ||x(0) - xbar||^2, against lambda_2(E W)^t of ``family``
    (or of ``claimed``)."""
    G = graphs.make_graph(family, n)
    x0 = pg.slowest_start(G)
    est = mean_estimate(_gossip_runs(family, n, x0, steps, runs, seed) / float(x0 @ x0))
    lam2 = pg.expected_matrix_lambda2(graphs.make_graph(claimed or family, n))
    return est, {"rho": lam2, "t": steps, "initial": 1.0}


def gossip_second_moment(family: str, n: int, steps: int, runs: int, seed: int, claimed: str | None = None):
    """Randomized gossip from a random start: mean of ||x(t) - xbar||^2 over runs, against the
    exact second-moment recursion of ``family`` (or of ``claimed``)."""
    x0 = np.random.default_rng(seed).standard_normal(n)
    est = mean_estimate(_gossip_runs(family, n, x0, steps, runs, seed + 1))
    predicted = pg.mean_square_error(graphs.make_graph(claimed or family, n), x0, steps)[-1]
    return est, {"predicted": float(predicted)}


def one_peer_period_contraction(n: int, steps: int, seed: int, drop_last: bool = False):
    """Worst contraction of one period P of the one-peer exponential schedule (n not a
    power of 2: no exact averaging) along a power iteration, against ||P - J||_2;
    ``drop_last`` applies the period without its last matrix (a control)."""
    sched = OnePeerExponential(n)
    mats = [sched.matrix(t) for t in range(sched.period)]

    def period(Y):
        for W in mats[:-1] if drop_last else mats:
            Y = W @ Y
        return Y

    worst = _worst_contraction(period, n, 2, steps, seed)
    return worst, {"rho": sched.period_rho(), "initial": 1.0, "doubly_stochastic": True}


def backend_agreement(n: int, d: int, seed: int) -> tuple[float, float]:
    """max relative difference numba vs reference over group averaging and mixing."""
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
    """The foundation checks at ``size`` in {"quick", "default", "full"}."""
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
