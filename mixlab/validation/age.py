"""Version age for a named topology: exact values and Monte Carlo.

Normalization (DESIGN.md): every node gossips at total rate lambda, split
evenly over its neighbours (complete: lambda/(n-1) per pair; ring: lambda/2 to
each neighbour). Model ``yates``: a separate source pushes lambda/n to each of
the n nodes, versions at rate lambda_e = ``update_rate``. Model ``user``: user
0 of n users is the source of its own versions (mean rate u = ``update_rate``)
and the other n - 1 receive; every user gossips.

A run is described by its contact matrix C (agents x agents, agent 0 the
source, C[i, j] the rate at which i contacts j, contacts of the source
included). For version age a push is C with column 0 zeroed, and an exchange
at rate r delivers both ways, so it is C + C^T with column 0 zeroed.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.gossip_mc import GossipTopology, simulate_age
from mixlab.kernels.version_age_exact import MAX_NODES, check_rates, node_ages
from mixlab.theory import version_age as va
from mixlab.theory.graphs import make_graph
from mixlab.validate import require_choice

MODELS = ("yates", "user")
METHODS = ("exact", "mc", "both")


def contact_matrix(graph: nx.Graph, model: str, gossip_rate: float) -> np.ndarray:
    require_choice("model", model, MODELS)
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


def age_report(*, topology: str = "complete", n: int | None = None, rates_path=None,
               model: str = "yates", mode: str = "push", gossip_rate: float = 1.0,
               update_rate: float = 1.0, method: str = "both", events: int = 10**6,
               seed: int = 0) -> dict:
    """The ``mixlab age`` result: exact value(s) where computable (else None), and
    Monte Carlo mean and standard error if asked (else None). With ``rates_path``
    the values are per node (lists)."""
    require_choice("model", model, MODELS)
    require_choice("method", method, METHODS)
    require_choice("gossip mode", mode, va.MODES)
    per_node = rates_path is not None
    C = load_rates(rates_path) if per_node else contact_matrix(make_graph(topology, n, seed=seed),
                                                                model, gossip_rate)
    exact = mc_mean = mc_stderr = None
    if method != "mc":
        if not per_node:
            exact = _symmetric_exact(topology, n, model, mode, gossip_rate, update_rate)
        if exact is None and C.shape[0] - 1 <= MAX_NODES:
            ages = node_ages(push_rates(C, mode), update_rate)
            exact = ages.tolist() if per_node else float(ages.mean())
    if method != "exact":
        if not per_node and topology == "complete":
            top = GossipTopology.complete_graph(C.shape[0] - 1, gossip_rate, gossip_rate,
                                                source_is_user=model == "user")
        else:
            top = GossipTopology.from_contacts(C)
        est = simulate_age(top, update_rate=update_rate, mode=mode, events=events, seed=seed)
        mc_mean, mc_stderr = ((est.mean.tolist(), est.stderr.tolist()) if per_node
                              else (est.node_average, est.node_average_stderr))
    return {"n": C.shape[0] - 1 if per_node else n, "topology": None if per_node else topology,
            "model": model, "mode": mode, "gossip_rate": gossip_rate, "update_rate": update_rate,
            "exact": exact, "mc_mean": mc_mean, "mc_stderr": mc_stderr,
            "mc_events": None if mc_mean is None else events}


def capacity_report(n: int, target: float, update_rate: float = 1.0, mode: str = "push") -> dict:
    """Uniform-gossip and opportunistic capacity thresholds for mean staleness <= target."""
    uniform = va.uniform_capacity_threshold(n, target, update_rate, mode=mode)
    opportunistic = va.opportunistic_capacity_threshold(n, target, update_rate)
    return {"n": n, "target": target, "update_rate": update_rate, "mode": mode,
            "uniform_lambda": uniform, "opportunistic_lambda": opportunistic,
            "ratio": opportunistic / uniform}
