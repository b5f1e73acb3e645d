"""The MPI engine against the Numba engine: per-step overhead, and the straggler throughput
of WAGMA-SGD against allreduce SGD on real processes.

(a) Per-step overhead. Allreduce SGD and D-PSGD (ring, Metropolis weights) on a
quadratic of n = 8 workers, d = 1000 and d = 10000, on the MPI engine in lockstep
mode (the same trajectory as the Numba engine) with P = 2 and 4 ranks, against the
Numba engine in this process at the same size. The MPI side runs under ``mpiexec``
(``bench/mpi_driver.py``, ``NUMBA_NUM_THREADS=1`` per rank): per case one untimed
run, then the best of a few timed runs, each started after a ``Barrier`` and timed
as the slowest rank's; the Numba side is the best of as many runs after one
untimed run, on one thread (``--numba-threads``), as each rank. Both record only
at the start and the end, and both are timed on runs of T and 2 T iterations:
seconds per iteration are the marginal (best of 2 T - best of T) / T, without a
run's fixed costs (building the objective's arrays, mixing plans, communicators,
the records). Reported: seconds per iteration of each, their ratio (MPI / Numba)
and the difference (the MPI engine's overhead per iteration: Python per step,
MPI calls and waits, one process per block of workers).

(b) Straggler throughput. 8 ranks, n = 8 workers (one per rank), constant compute
time 1 unit slept as ``--time-unit`` seconds (0.01 by default), 2 random stragglers
per iteration 5 times slower (``TimingModel("constant", stragglers=2,
slowdown=5.0)``), real mode (``MPIEngine(time_unit=...)``, no lockstep): WAGMA-SGD
(groups of 2, sync period 4, group activation, real wait avoidance on the
one-sided group collective) against allreduce SGD. Reported: the measured
wall-clock per iteration of each (final ``wall_time`` / iterations), their ratio
allreduce / WAGMA (how much faster WAGMA iterates), the simulator's ratio of the
same (final ``sim_time`` of the Numba engine, same timing model and seed) and
WAGMA's largest measured staleness, which must stay <= sync period - 1 = 3.

On a machine with fewer cores than ranks the ranks are oversubscribed: the
overhead figures then include time-sharing of the cores (MPICH's ranks poll while
they wait), and in (b) the sleeps dominate, so the ratio stays meaningful.

Run ``python -m bench.mpi`` (200 iterations per overhead run, 60 straggler
iterations), ``--quick`` for a short run (well under a minute), ``--json`` for one
JSON object instead of the table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba

from bench import common
from bench.common import best_of
from bench.mpi_driver import LR, WAGMA, straggler_algorithm, straggler_timing
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import quadratic
from mixlab.launch import mpiexec_path
from mixlab.runs import build_algorithm

ROOT = Path(__file__).resolve().parents[1]
N, DIMS, PROCS, ALGORITHMS = 8, (1000, 10000), (2, 4), ("allreduce", "dpsgd")
STRAGGLER_RANKS, STRAGGLERS, SLOWDOWN = 8, 2, 5.0
#: (overhead iterations, timed repeats, straggler iterations) of a full and a quick run.
FULL, QUICK = (200, 3, 60), (30, 2, 20)


def driver(procs: int, *args: str) -> dict:
    """Run ``python -m bench.mpi_driver ARGS`` on P ranks and return rank 0's JSON."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    cmd = [mpiexec_path(), "-n", str(procs), sys.executable, "-m", "bench.mpi_driver", *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench.mpi: the job on {procs} ranks failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def numba_seconds_per_step(name: str, d: int, steps: int, repeats: int) -> float:
    """Marginal seconds per iteration of the Numba engine: (best of 2 T - best of T) / T."""
    f, alg = quadratic(N, d, seed=0), build_algorithm(name, N)

    def go(T):
        return simulate(f, alg, T, lr=LR, seed=0, record_every=T, backend="numba")

    go(2)
    best = {T: best_of(lambda T=T: go(T), repeats)[0] for T in (steps, 2 * steps)}
    return (best[2 * steps] - best[steps]) / steps


def bench_overhead(steps: int, repeats: int) -> dict:
    numba_side = {
        f"{name}/{d}": numba_seconds_per_step(name, d, steps, repeats) for name in ALGORITHMS for d in DIMS
    }
    rows = []
    for procs in PROCS:
        mpi_side = driver(
            procs,
            "overhead",
            "--n",
            str(N),
            "--dims",
            ",".join(map(str, DIMS)),
            "--algorithms",
            ",".join(ALGORITHMS),
            "--steps",
            str(steps),
            "--repeats",
            str(repeats),
        )
        for case, numba_s in numba_side.items():
            mpi_s = mpi_side[case]["seconds_per_step"]
            name, d = case.split("/")
            rows.append(
                {
                    "algorithm": name,
                    "d": int(d),
                    "procs": procs,
                    "numba_s_per_step": numba_s,
                    "mpi_s_per_step": mpi_s,
                    "mpi_vs_numba": mpi_s / numba_s,
                    "overhead_s_per_step": mpi_s - numba_s,
                }
            )
    return {"n": N, "steps": steps, "repeats": repeats, "rows": rows}


def bench_straggler(steps: int, time_unit: float) -> dict:
    measured = driver(
        STRAGGLER_RANKS,
        "straggler",
        "--steps",
        str(steps),
        "--time-unit",
        repr(time_unit),
        "--stragglers",
        str(STRAGGLERS),
        "--slowdown",
        repr(SLOWDOWN),
    )
    f = quadratic(STRAGGLER_RANKS, 16, seed=0)
    timing = straggler_timing(STRAGGLERS, SLOWDOWN)
    simulated = {
        name: float(
            simulate(
                f,
                straggler_algorithm(name, STRAGGLER_RANKS),
                steps,
                lr=LR,
                timing=timing,
                seed=0,
                record_every=steps,
                backend="numba",
            )["sim_time"][-1]
        )
        for name in ("wagma", "allreduce")
    }
    wagma, allreduce = measured["wagma"], measured["allreduce"]
    limit = WAGMA["sync_period"] - 1
    return {
        "ranks": STRAGGLER_RANKS,
        "workers": STRAGGLER_RANKS,
        "stragglers": STRAGGLERS,
        "slowdown": SLOWDOWN,
        "time_unit": time_unit,
        "steps": steps,
        "wagma": dict(WAGMA),
        "measured_s_per_step": {"wagma": wagma["wall_per_step"], "allreduce": allreduce["wall_per_step"]},
        "simulated_units_per_step": {k: v / steps for k, v in simulated.items()},
        "mpi_sim_time_equals_numba": {
            name: abs(measured[name]["sim_time"] - simulated[name]) <= 1e-9 * simulated[name]
            for name in simulated
        },
        "measured_ratio": allreduce["wall_per_step"] / wagma["wall_per_step"],
        "simulated_ratio": simulated["allreduce"] / simulated["wagma"],
        "wagma_staleness_max": wagma["staleness_max"],
        "staleness_limit": limit,
        "staleness_ok": wagma["staleness_max"] <= limit,
        "loss_gap": {"wagma": wagma["loss_gap"], "allreduce": allreduce["loss_gap"]},
    }


def run(quick: bool, time_unit: float, numba_threads: int) -> dict:
    steps, repeats, straggler_steps = QUICK if quick else FULL
    numba.set_num_threads(numba_threads)
    return {
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "quick": quick,
        "overhead": bench_overhead(steps, repeats),
        "straggler": bench_straggler(straggler_steps, time_unit),
    }


def print_table(r: dict) -> None:
    o, s = r["overhead"], r["straggler"]
    print(
        f"mixlab MPI engine benchmark: {r['cpu_count']} cores (ranks beyond them are oversubscribed), "
        f"numba engine on {r['numba_threads']} thread(s), 1 per MPI rank"
    )
    print(
        f"\n(a) Per-step overhead, lockstep mode: quadratic, n = {o['n']} workers; per iteration "
        f"(best of {o['repeats']} runs of {2 * o['steps']} - best of {o['repeats']} of {o['steps']}) / "
        f"{o['steps']}.\n"
    )
    print(
        f"   {'algorithm':<11}{'d':>7}{'P':>4}{'numba ms/step':>15}{'mpi ms/step':>13}"
        f"{'mpi/numba':>11}{'overhead ms/step':>18}"
    )
    for row in o["rows"]:
        print(
            f"   {row['algorithm']:<11}{row['d']:>7}{row['procs']:>4}{1e3 * row['numba_s_per_step']:>15.3f}"
            f"{1e3 * row['mpi_s_per_step']:>13.3f}{row['mpi_vs_numba']:>10.1f}x"
            f"{1e3 * row['overhead_s_per_step']:>18.3f}"
        )
    print(
        f"\n(b) Straggler throughput, real mode: {s['ranks']} ranks, n = {s['workers']} workers, "
        f"{s['stragglers']} random stragglers per iteration {s['slowdown']:g}x slower, "
        f"1 unit = {s['time_unit']:g} s, {s['steps']} iterations."
    )
    print(
        f"   WAGMA-SGD: groups of {s['wagma']['group_size']}, sync period {s['wagma']['sync_period']}, "
        f"{s['wagma']['activation']} activation, real wait avoidance.\n"
    )
    print(f"   {'algorithm':<11}{'measured s/iter':>17}{'simulated s/iter':>18}")
    for name in ("allreduce", "wagma"):
        print(
            f"   {name:<11}{s['measured_s_per_step'][name]:>17.4f}"
            f"{s['simulated_units_per_step'][name] * s['time_unit']:>18.4f}"
        )
    print(
        f"\n   allreduce / WAGMA wall clock per iteration: measured {s['measured_ratio']:.2f}x, "
        f"simulator {s['simulated_ratio']:.2f}x"
    )
    verdict = "PASS" if s["staleness_ok"] else "FAIL"
    print(f"   WAGMA max staleness {s['wagma_staleness_max']:g} <= {s['staleness_limit']}: {verdict}")


def main(argv=None) -> None:
    parser = common.parser("mpi", __doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (well under a minute)")
    parser.add_argument(
        "--time-unit", type=float, default=0.01, help="seconds per simulated compute unit in (b)"
    )
    parser.add_argument(
        "--numba-threads",
        type=int,
        default=1,
        help="threads of the in-process Numba engine (default 1, as each MPI rank)",
    )
    args = parser.parse_args(argv)
    if not args.time_unit > 0:
        parser.error(f"--time-unit must be > 0, got {args.time_unit}")
    if not 1 <= args.numba_threads <= numba.config.NUMBA_NUM_THREADS:
        parser.error(
            f"--numba-threads must lie in [1, {numba.config.NUMBA_NUM_THREADS}], got {args.numba_threads}"
        )
    common.emit(run(args.quick, args.time_unit, args.numba_threads), args.json, print_table)


if __name__ == "__main__":
    main()
