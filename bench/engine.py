"""Throughput of whole simulated runs: worker-steps per second of the engines.

One worker-step is one worker's iteration: a minibatch gradient (B rows of the
shared features, O(B d) flops) and its share of the mixing. The rate of a run of
T iterations on n workers is n * T / wall seconds. Measured on least squares
(``least_squares(n, d, batch=16, seed=0)``) for WAGMA-SGD (butterfly groups of
S = 4, global average every tau = 8 iterations, wait avoidance on, CTA) and
D-PSGD on the ring (Metropolis weights, CTA), for four implementations:

- the Numba engine, ``simulate(..., backend="numba")``;
- the NumPy reference engine, ``simulate(..., backend="reference")``, on fewer
  iterations (it is slow; the rate is per worker-step, so it compares);
- a naive per-worker Python loop as research code writes it: for every worker
  a NumPy minibatch gradient from its own ``np.random.default_rng``, then dense
  mixing X <- W X - lr G with the n x n mixing matrix (for WAGMA the dense
  group-averaging matrix of the butterfly phase, or J / n at global steps;
  matrices built once, outside the timing). It does less work than the
  engines: no simulated time, no wait avoidance or stale models, no metrics;
- JAX as a strong user writes it (the optional extra ``pip install -e .[bench]``;
  reported as unavailable without it): the whole run in one ``jax.jit`` with
  ``lax.fori_loop``, float64; the minibatch gradients accumulated sample by sample
  (a gather of one row of A per worker, the residuals by ``einsum``); D-PSGD's ring
  mixing as neighbour rolls, WAGMA's group averaging as a reshape per butterfly
  phase and the global mean every tau, one ``lax.switch``. Like the naive loop, no
  simulated time, no stragglers or wait avoidance, no metrics. Minibatch rows come
  from ``jax.random``, other draws than mixlab's counter streams: the work per step
  is the same, the trajectory is not (``tests/test_bench_smoke.py`` checks one step
  against NumPy on the same rows). Compilation is excluded by one untimed run first.

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
import sys

import numba
import numpy as np

try:
    import jax
    import jax.numpy as jnp
    from jax import lax

    jax.config.update("jax_enable_x64", True)
except ImportError:
    jax = None

from bench import common
from bench.common import best_of
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import least_squares
from mixlab.runs import build_algorithm
from mixlab.theory.graphs import make_graph
from mixlab.theory.groups import ButterflyGroups, group_matrix
from mixlab.theory.weights import mixing_matrix

S, TAU, BATCH, LR = 4, 8, 16, 0.05
#: iterations timed: the engine runs ``--steps``; the slow implementations at most these.
REFERENCE_STEPS, NAIVE_STEPS = 50, 10
NUMBA_REPEATS, REFERENCE_REPEATS, NAIVE_REPEATS, JAX_REPEATS = 3, 2, 3, 3
JAX_MISSING = "JAX not installed: its column is unavailable (pip install -e .[bench])"
#: ratio name -> minimum value wanted (PASS/MISS in the table).
TARGETS = {"numba_vs_reference": 10.0, "numba_vs_naive": 100.0}
ALGORITHMS = {
    "wagma": (
        "WAGMA-SGD",
        f"butterfly groups S = {S}, global average every tau = {TAU}",
        {"group_size": S, "sync_period": TAU},
    ),
    "dpsgd": ("D-PSGD", "ring, Metropolis weights", {"topology": "ring"}),
}


def engine_run(objective, algorithm, steps: int, backend: str):
    return simulate(objective, algorithm, steps, lr=LR, seed=0, record_every=steps, backend=backend)


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


def jax_gradients(A, labels, X, rows):
    """(n, d): worker i's minibatch gradient (1/B) sum_b (a_r . x_i - y_ir) a_r, r = rows[i, b],
    accumulated one sample at a time (per b a gather of one row of A per worker; ``scan``
    unrolled by 4). Gathering all B rows at once, (n, B, d), and two einsums is 3x slower
    here: XLA's CPU batched matrix-vector products of 16 x 256 are slow."""
    workers = jnp.arange(X.shape[0])

    def add_sample(G, r):
        a = A[r]  # (n, d): a row per worker
        return G + (jnp.einsum("nd,nd->n", a, X) - labels[workers, r])[:, None] * a, None

    return lax.scan(add_sample, jnp.zeros_like(X), rows.T, unroll=4)[0] / rows.shape[1]


def jax_mixing(name: str, n: int):
    """(t, X) -> W_t X without a matrix: ring rolls with the Metropolis weights
    (D-PSGD), or WAGMA's butterfly group means and the global mean every tau."""
    if name == "dpsgd":
        W = mixing_matrix(make_graph("ring", n), "metropolis", sparse=False)
        own, neighbour = W[0, 0], W[0, 1]  # the same in every row
        return lambda t, X: own * X + neighbour * (jnp.roll(X, 1, 0) + jnp.roll(X, -1, 0))
    k = ButterflyGroups(n, S).period

    def phase(j):
        """Phase j's groups are axis 1 of the ranks as (S^(k-j-1), S, S^j) (ButterflyGroups);
        their mean as the sum of the S slices, which XLA fuses (faster than ``mean(axis=1)``)."""

        def mean(X):
            Y = X.reshape(S ** (k - j - 1), S, S**j, X.shape[1])
            return jnp.broadcast_to(sum(Y[:, g] for g in range(S))[:, None] / S, Y.shape).reshape(X.shape)

        return mean

    branches = [phase(j) for j in range(k)] + [lambda X: jnp.broadcast_to(X.mean(axis=0), X.shape)]
    return lambda t, X: lax.switch(jnp.where(t % TAU == TAU - 1, k, t % k), branches, X)


def jax_step(mix, A, labels, t, X, rows):
    """One CTA iteration on minibatch rows (n, B): X <- W_t X - lr G."""
    return mix(t, X) - LR * jax_gradients(A, labels, X, rows)


def jax_runner(name: str, objective, steps: int):
    """() -> the final models of a jitted run of ``steps`` iterations from X = 0, blocked
    until computed; minibatch rows of iteration t from ``jax.random.fold_in(key, t)``."""
    mix = jax_mixing(name, objective.n)
    n, d, B, m = objective.n, objective.d, objective.batch, objective.features.shape[0]

    @jax.jit
    def run(A, labels, key):
        def body(t, X):
            rows = jax.random.randint(jax.random.fold_in(key, t), (n, B), 0, m)
            return jax_step(mix, A, labels, t, X, rows)

        return lax.fori_loop(0, steps, body, jnp.zeros((n, d)))

    args = jnp.asarray(objective.features), jnp.asarray(objective.labels), jax.random.key(0)
    return lambda: run(*args).block_until_ready()


def bench_algorithm(name: str, objective, steps: dict) -> dict:
    n = objective.n
    alg = build_algorithm(name, n, **ALGORITHMS[name][2])
    check = {e: engine_run(objective, alg, steps["reference"], e) for e in ("numba", "reference")}
    for column, ref in check["reference"].columns.items():
        np.testing.assert_allclose(check["numba"][column], ref, rtol=1e-10, atol=1e-12)
    mixing = dense_mixing(name, n)
    seconds = {
        "numba": best_of(lambda: engine_run(objective, alg, steps["numba"], "numba"), NUMBA_REPEATS)[0],
        "reference": best_of(
            lambda: engine_run(objective, alg, steps["reference"], "reference"), REFERENCE_REPEATS
        )[0],
        "naive": best_of(lambda: naive_run(objective, mixing, steps["naive"]), NAIVE_REPEATS)[0],
        "jax": None
        if jax is None
        else best_of(jax_runner(name, objective, steps["jax"]), JAX_REPEATS, warm_up=True)[0],
    }
    rates = {k: None if s is None else n * steps[k] / s for k, s in seconds.items()}
    ratios = {
        "numba_vs_reference": rates["numba"] / rates["reference"],
        "numba_vs_naive": rates["numba"] / rates["naive"],
        "numba_vs_jax": None if jax is None else rates["numba"] / rates["jax"],
    }
    return {
        "seconds": seconds,
        "worker_steps_per_s": rates,
        "ratios": ratios,
        "pass": {k: ratios[k] >= v for k, v in TARGETS.items()},
    }


def run(n: int, d: int, steps: int) -> dict:
    objective = least_squares(n, d, batch=BATCH, seed=0)
    iters = {
        "numba": steps,
        "reference": min(steps, REFERENCE_STEPS),
        "naive": min(steps, NAIVE_STEPS),
        "jax": steps,
    }
    results = {name: bench_algorithm(name, objective, iters) for name in ALGORITHMS}
    return {
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "threading_layer": numba.threading_layer(),
        "jax_version": None if jax is None else jax.__version__,
        "n": n,
        "d": d,
        "batch": BATCH,
        "samples": objective.features.shape[0],
        "lr": LR,
        "iterations": iters,
        "repeats": {
            "numba": NUMBA_REPEATS,
            "reference": REFERENCE_REPEATS,
            "naive": NAIVE_REPEATS,
            "jax": JAX_REPEATS,
        },
        "algorithms": results,
    }


def print_table(r: dict) -> None:
    it, rep = r["iterations"], r["repeats"]
    print(
        f"mixlab engine benchmark: {r['cpu_count']} cores, {r['numba_threads']} numba threads "
        f"({r['threading_layer']}), least squares n = {r['n']} workers, d = {r['d']}, "
        f"batch {r['batch']} of m = {r['samples']} rows, lr = {r['lr']}"
    )
    print(
        f"Iterations: numba {it['numba']}, reference {it['reference']}, naive {it['naive']}, "
        f"jax {it['jax']} (fewer for the slow ones; rates compare per worker-step)."
    )
    print(
        "Rate = workers * iterations / wall s, best of "
        f"{rep['numba']}/{rep['reference']}/{rep['naive']}/{rep['jax']} runs. Compile time excluded:"
    )
    print("every implementation ran once before timing (numba compiles or loads its on-disk cache")
    print("then, jax compiles); the first runs also checked that the numba and reference")
    print("trajectories agree (rtol 1e-10).")
    labels = {
        "numba": 'simulate(backend="numba")',
        "reference": 'simulate(backend="reference")  [NumPy]',
        "naive": "naive per-worker loop + dense W @ X",
        "jax": f"jax.jit + lax.fori_loop  [jax {r['jax_version'] or '-'}]",
    }
    ratio_labels = {
        "numba_vs_reference": "numba / reference",
        "numba_vs_naive": "numba / naive",
        "numba_vs_jax": "numba / jax",
    }
    for i, (name, (title, detail, _)) in enumerate(ALGORITHMS.items(), 1):
        a = r["algorithms"][name]
        print(f"\n{i}. {title} ({detail}), CTA.\n")
        print(f"   {'implementation':<40}{'iters':>7}{'best ms':>10}{'worker-steps/s':>16}")
        for key, label in labels.items():
            sec, rate = a["seconds"][key], a["worker_steps_per_s"][key]
            ms, ws = ("-", "-") if sec is None else (f"{1e3 * sec:.1f}", f"{rate:,.0f}")
            print(f"   {label:<40}{it[key]:>7}{ms:>10}{ws:>16}")
        print(f"\n   {'ratio of rates':<40}{'value':>7}{'target':>10}")
        for key, label in ratio_labels.items():
            value = a["ratios"][key]
            shown = "-" if value is None else f"{value:.1f}x"
            target = (
                f"{'>= ' + f'{TARGETS[key]:g}x':>10}  {'PASS' if a['pass'][key] else 'MISS'}"
                if key in TARGETS
                else ""
            )
            print(f"   {label:<40}{shown:>7}{target}")
    print("\nThe naive loop and jax do less work than the engines: no simulated time, no wait")
    print("avoidance or stale models, no metrics; the naive loop's dense matrices are built once,")
    print("outside the timing; jax draws its minibatch rows with jax.random (not mixlab's streams).")
    if r["jax_version"] is None:
        print(JAX_MISSING)


def main(argv=None) -> None:
    parser = common.parser("engine", __doc__)
    parser.add_argument(
        "--n", type=int, default=1024, help=f"workers (a power of {S}, for WAGMA's butterfly groups)"
    )
    parser.add_argument("--d", type=int, default=256, help="parameters per worker (>= 2)")
    parser.add_argument("--steps", type=int, default=500, help="iterations of the numba engine")
    args = parser.parse_args(argv)
    if args.n < S or S ** round(math.log(args.n, S)) != args.n:
        parser.error(f"--n must be a power of {S} (>= {S}), got {args.n}")
    if args.d < 2 or args.steps < 1:
        parser.error("--d must be >= 2 and --steps >= 1")
    if jax is None and args.json:
        print(JAX_MISSING, file=sys.stderr)
    common.emit(run(args.n, args.d, args.steps), args.json, print_table)


if __name__ == "__main__":
    main()
