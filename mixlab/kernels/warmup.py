"""Compile every kernel once, in one process: ``python -m mixlab.kernels.warmup``.

Numba names the parallel-loop functions it generates from object addresses, so
machine code cached by *different* processes can define the same symbol twice;
loaded together in a later process, one call then runs the other's code (a
segfault). A cache filled by one process is consistent. Run this before starting
several processes on a fresh cache (``make test`` does, before its pytest
workers); a single process needs nothing.

>>> compile_all(progress=False)                      # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np
import scipy.sparse as sp


@numba.njit(cache=True)
def _identity_grad(i, k, x, out, seed, data):
    out[:] = x


@numba.njit(cache=True)
def _half_square(x, out, data):
    out[:] = x
    return 0.5 * (x @ x)


def compile_all(*, progress: bool = True) -> float:
    """Run every compiled kernel on a tiny input, filling numba's cache from one process.

    Both float widths are compiled where kernels take both (the averaging kernels).

    Parameters
    ----------
    progress : bool
        Print one line per objective to stderr (default True).

    Returns
    -------
    float
        Seconds taken (wall clock).
    """
    from mixlab.kernels.algorithms import ALGORITHMS, build
    from mixlab.kernels.averaging.group_averaging import group_average
    from mixlab.kernels.averaging.mixing import dense_mix, sparse_mix
    from mixlab.kernels.engines import simulate
    from mixlab.kernels.engines.mpi import compile_block_kernels
    from mixlab.kernels.gossip.exact import node_ages
    from mixlab.kernels.gossip.learning import simulate_gossip_learning
    from mixlab.kernels.gossip.monte_carlo import GossipTopology, simulate_age
    from mixlab.kernels.objectives import OBJECTIVES, custom_objective, make_objective
    from mixlab.kernels.timing import TimingModel

    start = time.perf_counter()
    n = 16
    for dtype in (np.float64, np.float32):
        X = np.ones((n, 3), dtype=dtype)
        group_average(X, np.arange(n).reshape(4, 4), "mean")
        group_average(
            X, np.arange(n).reshape(4, 4), "self_weighted", stale_mask=np.zeros(n, dtype=bool), stale=X.copy()
        )
        sparse_mix(sp.identity(n, format="csr"), X)
        dense_mix(np.eye(n), X)
    timing = TimingModel("exponential", stragglers=2, slowdown=2.0)
    for name in OBJECTIVES:
        f = make_objective(name, n, d=3)
        f.loss(np.zeros(3))
        for alg_name, cls in ALGORITHMS.items():
            simulate(f, build(alg_name, n, **cls.example), 2, timing=timing)
        compile_block_kernels(f.arrays(), 3)  # what MPI ranks call from Python
        if progress:
            print(f"warmup: {name} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    custom = custom_objective(n, 3, _identity_grad, _half_square, L=1.0)  # the user-function kind
    for alg_name, cls in ALGORITHMS.items():
        simulate(custom, build(alg_name, n, **cls.example), 2, timing=timing)
    compile_block_kernels(custom.arrays(), 3)
    simulate_gossip_learning(make_objective("quadratic", 4, d=2), duration=2.0)
    simulate_gossip_learning(custom_objective(4, 2, _identity_grad, _half_square, L=1.0), duration=2.0)
    for source_is_user in (False, True):
        simulate_age(GossipTopology.complete_graph(4, 1.0, 1.0, source_is_user=source_is_user), events=2000)
    for estimator in ("version", "time"):
        simulate_age(
            GossipTopology.from_contacts(np.ones((4, 4)) - np.eye(4)),
            events=200,
            estimator=estimator,
            mode="exchange",
        )
    rates = np.ones((4, 4)) - np.eye(4)
    rates[:, 0] = 0.0  # nobody pushes to the source
    node_ages(rates)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"warmup: every kernel compiled or loaded in {compile_all():.0f} s", file=sys.stderr)
