"""Throughput of whole simulated runs: worker-steps per second of the engines.

One worker-step is one worker's iteration: a minibatch gradient (B rows of the
shared features, O(B d) flops) and its share of the mixing. The rate of a run of
T iterations on n workers is n * T / wall seconds. Measured on least squares
(``least_squares(n, d, batch=16, seed=0)``) for WAGMA-SGD (butterfly groups of
S = 4, global average every tau = 8 iterations, wait avoidance on, CTA) and
D-PSGD on the ring (Metropolis weights, CTA), for three implementations:

- the Numba engine, ``simulate(..., engine="numba")``;
- the NumPy reference engine, ``simulate(..., engine="reference")``, on fewer
  iterations (it is slow; the rate is per worker-step, so it compares);
- a naive per-worker Python loop as research code writes it: for every worker
  a NumPy minibatch gradient from its own ``np.random.default_rng``, then dense
  mixing X <- W X - lr G with the n x n mixing matrix (for WAGMA the dense
  group-averaging matrix of the butterfly phase, or J / n at global steps;
  matrices built once, outside the timing). It does less work than the
  engines: no simulated time, no wait avoidance or stale models, no metrics.

The engines record metrics only at the end (``record_every = steps``). Each
engine first runs once on the reference's iteration count, which compiles (or
loads from numba's on-disk cache) every kernel, so compilation is excluded, and
checks that the two engines agree. Timings are the best of a few runs.

Run ``python -m bench.engine`` (n = 1024, d = 256, 500 iterations), ``--n/--d/--steps``
for smaller runs (n a power of 4), ``--json`` for one JSON object instead of the table.
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np

from bench import common
from bench.common import best_of
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import least_squares
from mixlab.theory.graphs import make_graph
from mixlab.theory.groups import ButterflyGroups, group_matrix
from mixlab.theory.weights import mixing_matrix
from mixlab.validation.runner import build_algorithm

S, TAU, BATCH, LR = 4, 8, 16, 0.05
#: iterations timed: the engine runs ``--steps``; the slow implementations at most these.
REFERENCE_STEPS, NAIVE_STEPS = 50, 10
NUMBA_REPEATS, REFERENCE_REPEATS, NAIVE_REPEATS = 3, 2, 3
#: ratio name -> minimum value wanted (PASS/MISS in the table).
TARGETS = {"numba_vs_reference": 10.0, "numba_vs_naive": 100.0}
ALGORITHMS = {
    "wagma": ("WAGMA-SGD", f"butterfly groups S = {S}, global average every tau = {TAU}",
              {"group_size": S, "sync_period": TAU}),
    "dpsgd": ("D-PSGD", "ring, Metropolis weights", {"topology": "ring"}),
}




def engine_run(objective, algorithm, steps: int, engine: str):
    return simulate(objective, algorithm, steps, lr=LR, seed=0, record_every=steps, engine=engine)


def dense_mixing(name: str, n: int):
    """t -> the dense n x n mixing matrix of iteration t, as naive code would use it."""
    if name == "dpsgd":
        W = mixing_matrix(make_graph("ring", n), "metropolis", sparse=False)
        return lambda t: W
    sched = ButterflyGroups(n, S)
    phases = [group_matrix(sched.groups(p), n, "mean", sparse=False) for p in range(sched.period)]
    J = np.full((n, n), 1.0 / n)
    return lambda t: J if t % TAU == TAU - 1 else phases[t % sched.period]


def naive_run(objective, mixing, steps: int, seed: int = 0) -> np.ndarray:
    """The per-worker loop (CTA): G[i] = minibatch gradient at x_i, then X <- W_t X - lr G."""
    A, labels = objective.features, objective.labels
    n, d, B, m = objective.n, objective.d, objective.batch, A.shape[0]
    rngs = [np.random.default_rng([seed, i]) for i in range(n)]
    X, G = np.zeros((n, d)), np.empty((n, d))
    for t in range(steps):
        for i in range(n):
            rows = rngs[i].integers(m, size=B)
            Ab = A[rows]
            G[i] = Ab.T @ (Ab @ X[i] - labels[i, rows]) / B
        X = mixing(t) @ X - LR * G
    return X


def bench_algorithm(name: str, objective, steps: dict) -> dict:
    n = objective.n
    alg = build_algorithm(name, n, **ALGORITHMS[name][2])
    check = {e: engine_run(objective, alg, steps["reference"], e) for e in ("numba", "reference")}
    for column, ref in check["reference"].columns.items():
        np.testing.assert_allclose(check["numba"][column], ref, rtol=1e-10, atol=1e-12)
    mixing = dense_mixing(name, n)
    seconds = {
        "numba": best_of(lambda: engine_run(objective, alg, steps["numba"], "numba"), NUMBA_REPEATS)[0],
        "reference": best_of(lambda: engine_run(objective, alg, steps["reference"], "reference"),
                             REFERENCE_REPEATS)[0],
        "naive": best_of(lambda: naive_run(objective, mixing, steps["naive"]), NAIVE_REPEATS)[0],
    }
    rates = {k: n * steps[k] / s for k, s in seconds.items()}
    ratios = {"numba_vs_reference": rates["numba"] / rates["reference"],
              "numba_vs_naive": rates["numba"] / rates["naive"]}
    return {"seconds": seconds, "worker_steps_per_s": rates, "ratios": ratios,
            "pass": {k: ratios[k] >= v for k, v in TARGETS.items()}}


def run(n: int, d: int, steps: int) -> dict:
    objective = least_squares(n, d, batch=BATCH, seed=0)
    iters = {"numba": steps, "reference": min(steps, REFERENCE_STEPS), "naive": min(steps, NAIVE_STEPS)}
    results = {name: bench_algorithm(name, objective, iters) for name in ALGORITHMS}
    return {
        "cpu_count": os.cpu_count(), "numba_threads": numba.get_num_threads(),
        "threading_layer": numba.threading_layer(),
        "n": n, "d": d, "batch": BATCH, "samples": objective.features.shape[0], "lr": LR,
        "iterations": iters,
        "repeats": {"numba": NUMBA_REPEATS, "reference": REFERENCE_REPEATS, "naive": NAIVE_REPEATS},
        "algorithms": results,
    }


def print_table(r: dict) -> None:
    it, rep = r["iterations"], r["repeats"]
    print(f"mixlab engine benchmark: {r['cpu_count']} cores, {r['numba_threads']} numba threads "
          f"({r['threading_layer']}), least squares n = {r['n']} workers, d = {r['d']}, "
          f"batch {r['batch']} of m = {r['samples']} rows, lr = {r['lr']}")
    print(f"Iterations: numba {it['numba']}, reference {it['reference']}, naive {it['naive']} "
          "(fewer for the slow ones; rates compare per worker-step).")
    print("Rate = workers * iterations / wall s, best of "
          f"{rep['numba']}/{rep['reference']}/{rep['naive']} runs. Compile time excluded: every engine")
    print("ran once before timing (numba compiles or loads its on-disk cache then); that run also")
    print("checked that the numba and reference trajectories agree (rtol 1e-10).")
    labels = {
        "numba": 'simulate(engine="numba")',
        "reference": 'simulate(engine="reference")  [NumPy]',
        "naive": "naive per-worker loop + dense W @ X",
    }
    ratio_labels = {"numba_vs_reference": "numba / reference", "numba_vs_naive": "numba / naive"}
    for i, (name, (title, detail, _)) in enumerate(ALGORITHMS.items(), 1):
        a = r["algorithms"][name]
        print(f"\n{i}. {title} ({detail}), CTA.\n")
        print(f"   {'implementation':<40}{'iters':>7}{'best ms':>10}{'worker-steps/s':>16}")
        for key, label in labels.items():
            print(f"   {label:<40}{it[key]:>7}{1e3 * a['seconds'][key]:>10.1f}"
                  f"{a['worker_steps_per_s'][key]:>16,.0f}")
        print(f"\n   {'ratio of rates':<40}{'value':>7}{'target':>10}")
        for key, label in ratio_labels.items():
            verdict = "PASS" if a["pass"][key] else "MISS"
            print(f"   {label:<40}{a['ratios'][key]:>6.1f}x{'>= ' + f'{TARGETS[key]:g}x':>10}  {verdict}")
    print("\nThe naive loop does less work than the engines: no simulated time, no wait avoidance or")
    print("stale models, no metrics; its dense matrices are built once, outside the timing.")


def main(argv=None) -> None:
    parser = common.parser("engine", __doc__)
    parser.add_argument("--n", type=int, default=1024,
                        help=f"workers (a power of {S}, for WAGMA's butterfly groups)")
    parser.add_argument("--d", type=int, default=256, help="parameters per worker (>= 2)")
    parser.add_argument("--steps", type=int, default=500, help="iterations of the numba engine")
    args = parser.parse_args(argv)
    if args.n < S or S ** round(math.log(args.n, S)) != args.n:
        parser.error(f"--n must be a power of {S} (>= {S}), got {args.n}")
    if args.d < 2 or args.steps < 1:
        parser.error("--d must be >= 2 and --steps >= 1")
    common.emit(run(args.n, args.d, args.steps), args.json, print_table)


if __name__ == "__main__":
    main()
