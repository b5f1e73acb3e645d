"""What ``bench.mpi`` runs under ``mpiexec``: ``python -m bench.mpi_driver JOB [options]``.

Every rank runs the same cases; rank 0 prints one JSON object (its last line).

- ``overhead``: lockstep runs of allreduce SGD and D-PSGD (``--algorithms``) on a
  quadratic of ``--n`` workers for each ``--dims``; per case one untimed run
  (compiles or loads the kernels, first messages), then ``--repeats`` timed runs
  of T = ``--steps`` and of 2 T iterations (records only at the start and the
  end), each started after a ``Barrier`` and timed as the slowest rank's
  ``perf_counter`` around ``simulate``. Seconds per iteration are the marginal
  (best of the 2 T runs - best of the T runs) / T, without the fixed costs of a
  run (plans, communicators, the first and last records).
- ``straggler``: real mode (``MPIEngine(time_unit=...)``), one worker per rank,
  ``TimingModel("constant", stragglers=K, slowdown=F)``: WAGMA-SGD (groups of 2,
  sync period 4, group activation, wait avoidance) and allreduce SGD; per
  algorithm the final ``wall_time`` over the iterations, the final ``sim_time``
  and the largest measured staleness.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from mixlab.kernels.engines import simulate
from mixlab.kernels.engines.mpi import MPIEngine, mpi
from mixlab.kernels.objectives import quadratic
from mixlab.kernels.timing import TimingModel
from mixlab.runs import build_algorithm

LR = 0.1
#: WAGMA-SGD of the straggler job (the issue's setting).
WAGMA = {"group_size": 2, "sync_period": 4, "activation": "group"}


def straggler_timing(stragglers: int, slowdown: float) -> TimingModel:
    """The straggler job's timing model: constant compute 1, K random stragglers F times slower."""
    return TimingModel("constant", stragglers=stragglers, slowdown=slowdown)


def straggler_algorithm(name: str, n: int):
    """``wagma`` (the issue's WAGMA-SGD) or ``allreduce``."""
    return build_algorithm(name, n, **(WAGMA if name == "wagma" else {}))


def _timed(comm, fn) -> float:
    """Seconds of ``fn()`` on the slowest rank, started together after a Barrier."""
    comm.Barrier()
    start = time.perf_counter()
    fn()
    return float(comm.allreduce(time.perf_counter() - start, op=mpi().MAX))


def overhead(comm, args) -> dict:
    engine = MPIEngine(lockstep=True)
    out: dict = {}
    for name in args.algorithms.split(","):
        for d in (int(v) for v in args.dims.split(",")):
            f = quadratic(args.n, d, seed=0)
            alg = build_algorithm(name, args.n)

            def go(steps, f=f, alg=alg):
                return simulate(f, alg, steps, lr=LR, seed=0, record_every=steps, backend=engine)

            go(2)
            best = {
                steps: min(_timed(comm, lambda steps=steps: go(steps)) for _ in range(args.repeats))
                for steps in (args.steps, 2 * args.steps)
            }
            out[f"{name}/{d}"] = {
                "seconds_per_step": (best[2 * args.steps] - best[args.steps]) / args.steps,
                "seconds_per_run": best[args.steps],
                "steps": args.steps,
            }
    return out


def straggler(comm, args) -> dict:
    n = comm.Get_size()
    timing = straggler_timing(args.stragglers, args.slowdown)
    engine = MPIEngine(time_unit=args.time_unit)
    f = quadratic(n, args.d, seed=0)
    out: dict = {}
    for name in ("wagma", "allreduce"):
        alg = straggler_algorithm(name, n)
        comm.Barrier()
        tr = simulate(
            f, alg, args.steps, lr=LR, timing=timing, seed=0, record_every=args.steps, backend=engine
        )
        out[name] = {
            "wall_per_step": float(tr["wall_time"][-1]) / args.steps,
            "sim_time": float(tr["sim_time"][-1]),
            "staleness_max": float(np.max(tr["staleness_max"])),
            "loss_gap": [float(tr["loss_gap"][0]), float(tr["loss_gap"][-1])],
        }
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.mpi_driver", description=__doc__.split("\n")[0])
    p.add_argument("job", choices=("overhead", "straggler"))
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--dims", default="1000,10000")
    p.add_argument("--algorithms", default="allreduce,dpsgd")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--stragglers", type=int, default=2)
    p.add_argument("--slowdown", type=float, default=5.0)
    p.add_argument("--time-unit", type=float, default=0.01)
    args = p.parse_args(argv)
    comm = mpi().COMM_WORLD
    result = overhead(comm, args) if args.job == "overhead" else straggler(comm, args)
    if comm.Get_rank() == 0:
        print(json.dumps({"procs": comm.Get_size(), **result}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
