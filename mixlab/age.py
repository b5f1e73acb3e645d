"""Version age for a named topology: exact values and Monte Carlo.

Normalization (docs/design.md): every node gossips at total rate lambda, split
evenly over its neighbours (complete: lambda/(n-1) per pair; ring: lambda/2 to
each neighbour). Model ``yates``: a separate source pushes lambda/n to each of
the n nodes, versions at rate lambda_e = ``update_rate``. Model ``user``: user
0 of n users is the source of its own versions (mean rate u = ``update_rate``)
and the other n - 1 receive; every user gossips.

A run is described by its contact matrix C (agents x agents, agent 0 the
source, C[i, j] the rate at which i contacts j, contacts of the source
included). For version age a push is C with column 0 zeroed, and an exchange
at rate r delivers both ways, so it is C + C^T with column 0 zeroed.

Capacity (``capacity``): the per-user gossip rate that keeps the mean
staleness at a target s*, for uniform gossip and for the owner-only scheme
(only the owner spreads its model), optionally measured by Monte Carlo at those
rates. Mitra & Ulukus ("Scale-Robust Timely Asynchronous Decentralized
Learning", arXiv 2404.19749, fully connected network) state that "the bounded
staleness can only be guaranteed by any distributed opportunistic scheme by
Omega(n) scaling"; their definition of an opportunistic scheme is not
reproduced in mixlab, the owner-only scheme is mixlab's model of it, and both
closed forms are derived in mixlab (see :mod:`mixlab.theory.version_age`).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.gossip.exact import MAX_NODES, check_rates, node_ages
from mixlab.kernels.gossip.monte_carlo import GossipTopology, simulate_age
from mixlab.theory import version_age as va
from mixlab.theory.graphs import make_graph
from mixlab.validate import require_choice, require_int
from mixlab.vocabulary import AGE_MODELS, GOSSIP_MODES

METHODS = ("exact", "mc", "both")


def contact_matrix(graph: nx.Graph, model: str, gossip_rate: float) -> np.ndarray:
    require_choice("model", model, AGE_MODELS)
    n = graph.number_of_nodes()
    A = nx.to_numpy_array(graph, nodelist=range(n))
    node = gossip_rate * A / A.sum(axis=1, keepdims=True)
    if model == "user":
        return node
    C = np.zeros((n + 1, n + 1))
    C[0, 1:] = gossip_rate / n
    C[1:, 1:] = node
    return C


def push_rates(C: np.ndarray, mode: str) -> np.ndarray:
    """The push-rate matrix whose version ages equal those of contacts C in ``mode``."""
    R = C + C.T if mode == "exchange" else C.copy()
    R[:, 0] = 0.0
    return R


def load_rates(path) -> np.ndarray:
    """An (n+1) x (n+1) push-rate matrix from .npy or .csv."""
    path = Path(path)
    if path.suffix == ".npy":
        R = np.load(path)
    elif path.suffix == ".csv":
        R = np.loadtxt(path, delimiter=",", ndmin=2)
    else:
        raise ParameterError(f"rate matrices are read from .npy or .csv, got {path.name!r}")
    return check_rates(R)


def _symmetric_exact(topology: str, n: int, model: str, mode: str, lam: float, u: float):
    if topology == "complete":
        solver = va.user_staleness_complete if model == "user" else va.complete_graph_age
        return solver(n, lam, u, mode=mode)
    if topology == "ring" and model == "yates":
        return va.ring_age(n, lam, u, mode=mode)
    return None


def age(
    *,
    topology: str = "complete",
    n: int | None = None,
    rates_path=None,
    model: str = "yates",
    mode: str = "push",
    gossip_rate: float = 1.0,
    update_rate: float = 1.0,
    method: str = "both",
    events: int = 10**6,
    seed: int = 0,
) -> dict:
    """The ``mixlab age`` result: exact value(s) where computable (else None), and
    Monte Carlo mean and standard error if asked (else None). With ``rates_path``
    the values are per node (lists)."""
    require_choice("model", model, AGE_MODELS)
    require_choice("method", method, METHODS)
    require_choice("gossip mode", mode, GOSSIP_MODES)
    per_node = rates_path is not None
    if rates_path is not None:
        C = load_rates(rates_path)
        nodes = C.shape[0] - 1  # row 0 is the source
    elif n is None:
        raise ParameterError("the version age needs n (nodes of the topology) or rates_path (a rates file)")
    else:
        C = contact_matrix(make_graph(topology, n, seed=seed), model, gossip_rate)
        nodes = n
    exact = mc_mean = mc_stderr = None
    if method != "mc":
        if not per_node:
            exact = _symmetric_exact(topology, nodes, model, mode, gossip_rate, update_rate)
        if exact is None and C.shape[0] - 1 <= MAX_NODES:
            ages = node_ages(push_rates(C, mode), update_rate)
            exact = ages.tolist() if per_node else float(ages.mean())
    if method != "exact":
        if not per_node and topology == "complete":
            top = GossipTopology.complete_graph(
                C.shape[0] - 1, gossip_rate, gossip_rate, source_is_user=model == "user"
            )
        else:
            top = GossipTopology.from_contacts(C)
        est = simulate_age(top, update_rate=update_rate, mode=mode, events=events, seed=seed)
        mc_mean, mc_stderr = (
            (est.mean.tolist(), est.stderr.tolist())
            if per_node
            else (est.node_average, est.node_average_stderr)
        )
    return {
        "n": nodes,
        "topology": None if per_node else topology,
        "model": model,
        "mode": mode,
        "gossip_rate": gossip_rate,
        "update_rate": update_rate,
        "exact": exact,
        "mc_mean": mc_mean,
        "mc_stderr": mc_stderr,
        "mc_events": None if mc_mean is None else events,
    }


#: Default Monte Carlo length of ``capacity``: 100 H_{n-1} events per user (at least
#: 10^6 events, which small n get almost for free). The mean age at the threshold is one
#: version, which the uniform scheme reaches in H_{n-1}/lambda time units, so each of the
#: 20 batches must span several of those for the batch means to be independent: with a
#: fixed 300 events per user the reported stderr was 23% too small at n = 10^4.
MEASURE_EVENTS_PER_HARMONIC = 100
MEASURE_MIN_EVENTS = 10**6


#: Estimator of every capacity measurement (see :mod:`mixlab.kernels.gossip.monte_carlo`): u times
#: the time average of the time age t - tau_j, the version age conditioned on the pushes.
#: The owner feeds all n - 1 others, so the version estimator's error is dominated by the
#: owner's own version process (17% of the mean at n = 10^4, uniform, 3e6 events); this
#: one removes that noise and is unbiased (the owner's versions are Poisson).
MEASURE_ESTIMATOR = "time"


def default_measure_events(n: int) -> int:
    """Events per capacity run: O(n log n); about 6 s per run at n = 10^5 on two cores."""
    return max(MEASURE_MIN_EVENTS, round(MEASURE_EVENTS_PER_HARMONIC * va.harmonic(n - 1) * n))


def _measured_staleness(
    n: int, source_rate: float, node_rate: float, update_rate: float, mode: str, events: int, seed: int
) -> tuple[float, float]:
    """Mean staleness of one user's model at the n - 1 others (Monte Carlo, implicit
    complete graph, :data:`MEASURE_ESTIMATOR`): the owner pushes at ``source_rate``,
    every other user at ``node_rate``."""
    top = GossipTopology.complete_graph(n - 1, source_rate, node_rate, source_is_user=True)
    est = simulate_age(
        top, update_rate=update_rate, mode=mode, events=events, seed=seed, estimator=MEASURE_ESTIMATOR
    )
    return est.node_average, est.node_average_stderr


def capacity(
    n: int,
    target: float,
    update_rate: float = 1.0,
    mode: str = "push",
    *,
    measure: bool = False,
    events: int | None = None,
    seed: int = 0,
) -> dict:
    """Uniform-gossip and owner-only capacity thresholds for mean staleness <= target.

    With ``measure`` the thresholds are not restated but measured: the Monte Carlo
    (user-as-source, n users; ``events`` for each run, default
    :func:`default_measure_events`; seeds ``seed``, ``seed + 1``, ``seed + 2``, so that the
    three measurements are independent) runs uniform gossip at its threshold lambda_u
    and the owner-only scheme at its threshold lambda_o (both should give s*), and
    the owner-only scheme at lambda_u, predicted u (n-1)/lambda_u = s* (n-1)/H_{n-1}
    (twice that for exchange): Theta(n / log n) times s*. Each ``*_measured`` has a
    ``*_measured_stderr`` (batch means); all three use the time-age estimator
    (``measure_estimator``: ``"time"``, see :data:`MEASURE_ESTIMATOR`).
    """
    uniform = va.uniform_capacity_threshold(n, target, update_rate, mode=mode)
    opportunistic = va.opportunistic_capacity_threshold(n, target, update_rate)
    out = {
        "n": n,
        "target": target,
        "update_rate": update_rate,
        "mode": mode,
        "uniform_lambda": uniform,
        "opportunistic_lambda": opportunistic,
        "ratio": opportunistic / uniform,
    }
    events = default_measure_events(n) if events is None else require_int("events", events, minimum=1)
    if not measure:
        return out
    out.update(
        measure_events=events,
        measure_seed=seed,
        measure_estimator=MEASURE_ESTIMATOR,
        opportunistic_at_uniform_predicted=va.opportunistic_staleness(n, uniform, update_rate),
    )
    runs = {
        "uniform": (uniform, uniform),
        "opportunistic": (opportunistic, 0.0),
        "opportunistic_at_uniform": (uniform, 0.0),
    }
    for k, (name, (source_rate, node_rate)) in enumerate(runs.items()):
        out[f"{name}_measured"], out[f"{name}_measured_stderr"] = _measured_staleness(
            n, source_rate, node_rate, update_rate, mode, events, seed + k
        )
    return out
