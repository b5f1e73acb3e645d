"""Jobs the MPI tests run under ``mpiexec``: ``python tests/mpi_jobs.py JOB``.

Every rank runs the same cases; rank 0 prints one JSON object.

- ``lockstep``: every synchronous algorithm (and option variants) on the MPI engine
  in lockstep mode against the numba engine, with stragglers: the largest relative
  difference of any column, per case.
- ``real``: real mode with compute-time sleeps on one worker per rank: WAGMA-SGD
  with wait avoidance (measured staleness), WAGMA-SGD without it (blocking group
  collectives: equal to the numba engine), and AD-PSGD (one-sided pairwise averaging).
"""

from __future__ import annotations

import json
import sys

import numpy as np

import mixlab as ml
from mixlab.kernels.algorithms.base import ALGORITHMS
from mixlab.kernels.engines.mpi import MPIEngine, mpi

STRAGGLERS = ml.TimingModel("exponential", stragglers=2, slowdown=4.0)


def _difference(a, b) -> float:
    return max(float(np.max(np.abs(a[c] - b[c]) / (1 + np.abs(b[c])))) for c in b.columns)


def _compare(f, alg, steps, timing, engine, lr=0.2):
    tr = ml.simulate(f, alg, steps, lr=lr, timing=timing, seed=3, record_every=3, backend=engine)
    ref = ml.simulate(f, alg, steps, lr=lr, timing=timing, seed=3, record_every=3, backend="numba")
    return tr, ref


def lockstep(size: int) -> dict:
    """Cases for P ranks; n = 8 workers on 4 ranks, n = 9 on 3 (uneven blocks where the algorithm allows)."""
    n = 8 if size in (1, 2, 4, 8) else 9
    f = ml.heterogeneous_quadratic(n, 4, sigma2=0.5, zeta2=1.0, seed=1)
    cases = {name: dict(cls.example) for name, cls in ALGORITHMS.items() if cls.kind != "events"}
    cases["wagma"]["group_size"] = 2 if n == 8 else 3
    cases.update(
        {
            "dpsgd/atc+momentum": {"order": "atc", "momentum": 0.5},
            "dpsgd/one_peer_exponential": {"topology": "one_peer_exponential"},
            "gradient_tracking/ring": {"topology": "ring"},
            "wagma/mean+group": {**cases["wagma"], "rule": "mean", "activation": "group"},
            "wagma/blocking": {**cases["wagma"], "wait_avoiding": False},
        }
    )
    if n == 9:  # blocks 3, 3, 3 and an uneven ring split
        cases["dpsgd/n7"] = {"topology": "ring"}
    out = {}
    for case, options in cases.items():
        name = case.split("/")[0]
        m = 7 if case.endswith("n7") else n
        g = f if m == n else ml.quadratic(m, 4, sigma2=0.5, zeta2=1.0, seed=1)
        alg = ml.build_algorithm(name, m, **options)
        lr = 0.05 if name == "gradient_tracking" else 0.2
        tr, ref = _compare(g, alg, 12, STRAGGLERS, MPIEngine(lockstep=True), lr)
        out[case] = {"difference": _difference(tr, ref), "staleness_max": float(tr["staleness_max"].max())}
    return out


def real(size: int) -> dict:
    """Real mode on n = P workers: compute times slept, 1 straggler (5x) per iteration."""
    n, tau = size, 3
    f = ml.quadratic(n, 4, sigma2=0.1, seed=1)
    timing = ml.TimingModel("constant", stragglers=1, slowdown=5.0)
    engine = MPIEngine(time_unit=0.004)
    out = {}
    wagma = ml.build_algorithm("wagma", n, group_size=2, sync_period=tau, activation="group")
    tr = ml.simulate(f, wagma, 30, lr=0.2, timing=timing, seed=5, record_every=5, backend=engine)
    out["wagma"] = {
        "staleness_max": float(tr["staleness_max"].max()),
        "staleness_mean": float(tr["staleness_mean"][1:].mean()),
        "loss_gap": [float(tr["loss_gap"][0]), float(tr["loss_gap"][-1])],
        "sync_period": tau,
        "wall_time": float(tr["wall_time"][-1]),
    }
    blocking = ml.build_algorithm("wagma", n, group_size=2, sync_period=tau, wait_avoiding=False)
    tr, ref = _compare(f, blocking, 12, timing, engine)
    out["wagma/blocking"] = {"difference": _difference(tr, ref)}
    adpsgd = ml.build_algorithm("adpsgd", n, topology="ring")
    tr = ml.simulate(f, adpsgd, 30, lr=0.2, timing=timing, seed=5, record_every=10, backend=engine)
    out["adpsgd"] = {
        "records": len(tr),
        "staleness_max": float(tr["staleness_max"].max()),
        "loss_gap": [float(tr["loss_gap"][0]), float(tr["loss_gap"][-1])],
    }
    return out


if __name__ == "__main__":
    comm = mpi().COMM_WORLD
    result = {"lockstep": lockstep, "real": real}[sys.argv[1]](comm.Get_size())
    if comm.Get_rank() == 0:
        print(json.dumps(result))
