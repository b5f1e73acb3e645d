"""Build a run from names (objective, algorithm, topology) and simulate it.

This is the glue between the theory layer (graphs, weights, schedules) and
the engines, which take plain arrays.

>>> tr = run("wagma", "quadratic", workers=16, steps=50, group_size=4, engine="reference")
>>> tr.params["algorithm"], tr.params["group_size"], len(tr)
('wagma', 4, 51)
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels import algorithms as al
from mixlab.kernels.engine import simulate
from mixlab.kernels.objectives import OBJECTIVES, make_objective
from mixlab.kernels.timing import TimingModel
from mixlab.theory.graphs import make_graph
from mixlab.theory.groups import ButterflyGroups
from mixlab.theory.schedules import OnePeerExponential
from mixlab.theory.weights import mixing_matrix
from mixlab.validate import require_choice

ALGORITHMS = ("allreduce", "local_sgd", "dpsgd", "adpsgd", "sgp", "wagma")
TIME_VARYING = "one_peer_exponential"


def mixing_period(topology: str, n: int, weights: str = "metropolis", seed: int = 0) -> tuple:
    """The mixing matrices of one period of a topology (a single W for static graphs)."""
    if topology == TIME_VARYING:
        sched = OnePeerExponential(n)
        return tuple(sched.matrix(t, sparse=True) for t in range(sched.period))
    return (mixing_matrix(make_graph(topology, n, seed=seed), weights, sparse=True),)


def build_algorithm(name: str, n: int, *, group_size: int | None = None, sync_period: int = 8,
                    topology: str | None = None, weights: str = "metropolis",
                    rule: str = "self_weighted", order: str | None = None, momentum: float = 0.0,
                    local_steps: int = 4, wait_avoiding: bool = True, activation: str = "global",
                    seed: int = 0) -> al.Algorithm:
    """The algorithm spec for ``name`` on n workers (defaults: CTA where the source is
    CTA, ring topology for D-PSGD/AD-PSGD, one-peer exponential for SGP, WAGMA's rule
    and activation as in its reference code)."""
    require_choice("algorithm", name, ALGORITHMS)
    common = {"momentum": momentum}
    if name == "allreduce":
        return al.AllreduceSGD(**common)
    if name == "local_sgd":
        return al.LocalSGD(local_steps=local_steps, order=order or "atc", **common)
    if name == "wagma":
        if group_size is None:
            raise ParameterError("wagma needs a group size S (--group-size)")
        sched = ButterflyGroups(n, group_size, rule)
        return al.WAGMA(groups=np.stack([sched.groups(t) for t in range(sched.period)]),
                        sync_period=sync_period, rule=rule, order=order or "cta",
                        wait_avoiding=wait_avoiding, activation=activation, **common)
    if name == "sgp":
        return al.SGP(mixing=mixing_period(topology or TIME_VARYING, n, weights, seed),
                      order=order or "atc", **common)
    if name == "dpsgd":
        return al.DPSGD(mixing=mixing_period(topology or "ring", n, weights, seed),
                        order=order or "cta", **common)
    if (topology or "ring") == TIME_VARYING:
        raise ParameterError("adpsgd needs a static graph; one_peer_exponential is time-varying")
    G = make_graph(topology or "ring", n, seed=seed)
    A = nx.to_scipy_sparse_array(G, nodelist=range(n), format="csr")
    return al.ADPSGD(indptr=A.indptr.astype(np.int64), indices=A.indices.astype(np.int64), **common)


def run(algorithm: str, objective: str, *, workers: int, steps: int, dim: int = 16, lr: float = 0.1,
        lr_schedule: str = "constant", seed: int = 0, engine: str = "numba",
        record_every: int | None = None, timing: TimingModel | None = None,
        objective_params: dict | None = None, **algorithm_params):
    """Generate the objective (from ``seed``), build the algorithm, simulate; returns a Trajectory."""
    require_choice("objective", objective, OBJECTIVES)
    f = make_objective(objective, workers, d=dim, seed=seed, **(objective_params or {}))
    alg = build_algorithm(algorithm, workers, seed=seed, **algorithm_params)
    eta = al.step_sizes(lr, steps, lr_schedule)
    every = record_every or max(1, steps // 100)
    return simulate(f, alg, steps, lr=eta, timing=timing, seed=seed, record_every=every, engine=engine)
