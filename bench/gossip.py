"""Speed of the version-age tools: the gossip Monte Carlo and the exact solvers.

Model (Yates' normalization, every rate 1): the source makes versions at Poisson
rate 1 and pushes at total rate 1 to a uniform node; each of the n nodes pushes
at rate 1 to a neighbour (complete graph: a uniform other node; ring: either
neighbour). Measured in one run:

1. Events per second of the compiled simulator
   ``simulate_age(topology, events=E, seed=0)`` (one event is one push; version
   updates come on top; E counts the 10% warm-up events) on the implicit
   complete graph (n = 1000 and 10^6) and on the ring given as an explicit rate
   matrix (CSR, n = 1000). The simulator is single-threaded, so the rate is per
   core. Baselines: a plain-Python event loop as a peer would write it for the
   complete graph (``random.random``, ``math.log``, lists, lazy age integrals,
   O(1) per event), on fewer events, and, for information, the file's reference
   backend, which is deliberately naive (O(n) per event), at n = 100, checked
   to reproduce the compiled estimate. Small warm-up runs come first, so JIT
   compilation (or the load of numba's on-disk cache) is excluded. Every run's
   node-average age is printed next to the exact value: the runs estimate a
   known number.
2. The general exact solver ``node_ages(R, 1.0)`` (Yates' recursion over all
   2^n - 1 node subsets, compiled) on complete-graph rate matrices.
3. The symmetric O(n) solvers ``complete_graph_age``, ``ring_age`` and
   ``user_staleness_complete`` at n = 10^6.

Timings are the best of a few runs. Run ``python -m bench.gossip`` (E = 2e7,
solver n up to 20), ``--events/--n-max`` for smaller runs, ``--json`` for one
JSON object instead of the table.
"""

from __future__ import annotations

import math
import os
import random
import warnings

import numba
import numpy as np

from bench import common
from bench.common import best_of
from mixlab.kernels.gossip.exact import MAX_NODES, node_ages
from mixlab.kernels.gossip.monte_carlo import GossipTopology, simulate_age
from mixlab.theory.version_age import (
    EULER_GAMMA,
    complete_graph_age,
    harmonic,
    ring_age,
    user_staleness_complete,
)

#: Monte Carlo cases (topology, n); the first is the one the plain-Python loop runs.
MC_CASES = (("complete", 1000), ("complete", 10**6), ("ring", 1000))
WARM_EVENTS = 1000
#: events of the slow baselines (at most --events), their n, and the warm-up fraction.
PYTHON_EVENTS, REFERENCE_EVENTS, REFERENCE_N, WARMUP = 2 * 10**5, 5000, 100, 0.1
MC_REPEATS, PYTHON_REPEATS, REFERENCE_REPEATS, EXACT_REPEATS, SYMMETRIC_REPEATS = 3, 3, 2, 3, 3
SYMMETRIC_N = 10**6
#: name -> minimum value wanted (PASS/MISS in the table).
TARGETS = {"events_per_s": 2e7, "compiled_vs_python": 50.0}


def complete_rates(n: int) -> np.ndarray:
    """Rate matrix of the complete graph: source 1/n to each node, 1/(n-1) per node pair."""
    R = np.zeros((n + 1, n + 1))
    R[0, 1:] = 1 / n
    R[1:, 1:] = 1 / (n - 1)
    np.fill_diagonal(R[1:, 1:], 0)
    return R


def ring_rates(n: int) -> np.ndarray:
    """Rate matrix of the ring: source 1/n to each node, 1/2 to each neighbour."""
    R = np.zeros((n + 1, n + 1))
    R[0, 1:] = 1 / n
    i = np.arange(n)
    R[i + 1, (i + 1) % n + 1] = R[i + 1, (i - 1) % n + 1] = 0.5
    return R


def topology(kind: str, n: int) -> GossipTopology:
    if kind == "complete":
        return GossipTopology.complete_graph(n, 1.0, 1.0)
    return GossipTopology.from_rate_matrix(ring_rates(n))


def exact_age(kind: str, n: int) -> float:
    return complete_graph_age(n) if kind == "complete" else ring_age(n)


def python_loop(n: int, events: int, seed: int = 0) -> float:
    """Node-average version age on the complete graph from a plain-Python event loop,
    measured after WARMUP x events (the model of the module docstring)."""
    random.seed(seed)
    rand, log = random.random, math.log
    warm, total = int(events * WARMUP), n + 1.0  # pushes: the source and n nodes, rate 1 each
    ver, last, acc = [0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1)
    t = t0 = src_last = src_acc = 0.0
    N = 0
    next_update = -log(1.0 - rand())
    for e in range(events):
        if e == warm:  # integrals restart at time t
            t0 = src_last = t
            src_acc = 0.0
            last, acc = [t] * (n + 1), [0.0] * (n + 1)
        t -= log(1.0 - rand()) / total
        while next_update <= t:
            src_acc += N * (next_update - src_last)
            src_last = next_update
            N += 1
            next_update -= log(1.0 - rand())
        i = int(rand() * total)  # 0: the source, else node i
        if i == 0:
            j, v = 1 + int(rand() * n), N
        else:
            j, v = 1 + int(rand() * (n - 1)), ver[i]
            if j >= i:
                j += 1
        if v > ver[j]:
            acc[j] += ver[j] * (t - last[j])
            last[j] = t
            ver[j] = v
    src_acc += N * (t - src_last)
    held = sum(a + v * (t - s) for v, s, a in zip(ver[1:], last[1:], acc[1:], strict=True))
    return (n * src_acc - held) / (n * (t - t0))


#: Fewer pushes per node than this (after warm-up) and the estimate is not stationary.
STATIONARY_PUSHES_PER_NODE = 50


def mc_entry(seconds: float, events: int, est, exact: float, n: int) -> dict:
    return {
        "events": events,
        "seconds": seconds,
        "events_per_s": events / seconds,
        "age": est.node_average,
        "age_stderr": est.node_average_stderr,
        "sim_time": est.sim_time,
        "exact_age": exact,
        "stationary": 0.9 * events / n >= STATIONARY_PUSHES_PER_NODE,
    }


def bench_monte_carlo(events: int) -> dict:
    simulate_age(topology("complete", 1000), events=WARM_EVENTS)
    runs = {}
    for kind, n in MC_CASES:
        top = topology(kind, n)
        with warnings.catch_warnings():  # short runs at large n: timed, age marked below
            warnings.simplefilter("ignore")
            seconds, est = best_of(lambda top=top: simulate_age(top, events=events, seed=0), MC_REPEATS)
        runs[f"{kind}_{n}"] = {
            "topology": kind,
            "n": n,
            **mc_entry(seconds, events, est, exact_age(kind, n), n),
        }

    ref_events = min(events, REFERENCE_EVENTS)
    small = topology("complete", REFERENCE_N)
    simulate_age(small, events=WARM_EVENTS, backend="reference")
    compiled = simulate_age(small, events=ref_events, seed=0)
    seconds, est = best_of(
        lambda: simulate_age(small, events=ref_events, seed=0, backend="reference"), REFERENCE_REPEATS
    )
    np.testing.assert_allclose(est.mean, compiled.mean, rtol=1e-9)
    reference = {
        "n": REFERENCE_N,
        **mc_entry(seconds, ref_events, est, complete_graph_age(REFERENCE_N), REFERENCE_N),
    }

    kind, n = MC_CASES[0]
    py_events = min(events, PYTHON_EVENTS)
    seconds, age = best_of(lambda: python_loop(n, py_events), PYTHON_REPEATS)
    python = {
        "n": n,
        "events": py_events,
        "seconds": seconds,
        "events_per_s": py_events / seconds,
        "age": age,
        "exact_age": exact_age(kind, n),
    }

    ratio = runs[f"{kind}_{n}"]["events_per_s"] / python["events_per_s"]
    return {
        "runs": runs,
        "python_loop": python,
        "reference_backend": reference,
        "ratios": {"compiled_vs_python": ratio},
        "pass": {
            "compiled_vs_python": ratio >= TARGETS["compiled_vs_python"],
            **{k: r["events_per_s"] >= TARGETS["events_per_s"] for k, r in runs.items()},
        },
    }


def bench_exact_solver(n_max: int) -> dict:
    node_ages(complete_rates(4), 1.0)
    results = {}
    for n in (n_max - 4, n_max - 2, n_max):
        R = complete_rates(n)
        repeats = 2 if n == MAX_NODES else EXACT_REPEATS
        seconds, v = best_of(lambda R=R: node_ages(R, 1.0), repeats)
        exact = complete_graph_age(n)
        results[n] = {
            "subsets": 2**n - 1,
            "repeats": repeats,
            "seconds": seconds,
            "age": float(v.mean()),
            "max_rel_err_vs_symmetric": float(np.abs(v / exact - 1).max()),
        }
    return results


def bench_symmetric_solvers(n: int) -> dict:
    solvers = {
        "complete_graph_age": (complete_graph_age, math.log(n) + EULER_GAMMA, "ln n + gamma"),
        "ring_age": (ring_age, math.sqrt(math.pi * n / 2), "sqrt(pi n / 2)"),
        "user_staleness_complete": (user_staleness_complete, harmonic(n - 1), "H_{n-1}"),
    }
    results = {}
    for name, (solver, approx, formula) in solvers.items():
        seconds, value = best_of(lambda solver=solver: solver(n), SYMMETRIC_REPEATS)
        results[name] = {"seconds": seconds, "value": value, "approx": approx, "approx_formula": formula}
    return results


def run(events: int, n_max: int) -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "events": events,
        "warmup_fraction": WARMUP,
        "warm_events": WARM_EVENTS,
        "repeats": {
            "compiled": MC_REPEATS,
            "python_loop": PYTHON_REPEATS,
            "reference_backend": REFERENCE_REPEATS,
            "symmetric": SYMMETRIC_REPEATS,
        },
        "monte_carlo": bench_monte_carlo(events),
        "exact_solver": bench_exact_solver(n_max),
        "symmetric_solvers": {"n": SYMMETRIC_N, **bench_symmetric_solvers(SYMMETRIC_N)},
    }


def print_table(r: dict) -> None:
    mc, rep = r["monte_carlo"], r["repeats"]
    print(
        f"mixlab gossip benchmark: {r['cpu_count']} cores, {r['numba_threads']} numba threads "
        "(simulator and solvers are single-threaded: rates are per core)"
    )
    print(f"\n1. Version-age Monte Carlo, simulate_age(topology, events=E, seed=0), E = {r['events']:,}")
    print(
        f"   pushes including {r['warmup_fraction']:.0%} warm-up. Best of {rep['compiled']} "
        f"(compiled), {rep['python_loop']} (Python loop), {rep['reference_backend']} (reference),"
    )
    print(
        f"   after a {r['warm_events']:,}-event warm-up run. Age: node average +- stderr "
        "(batch means) against the exact value.\n"
    )
    print(
        f"   {'implementation, topology':<36}{'n':>9}{'events':>12}{'best s':>8}{'events/s':>13}"
        f"{'sim time':>10}{'age':>16}{'exact':>8}"
    )
    form = {"complete": "implicit", "ring": "CSR"}
    rows = [(f"compiled, {x['topology']} ({form[x['topology']]})", x) for x in mc["runs"].values()]
    rows += [
        ("plain Python loop, complete", mc["python_loop"]),
        ("reference backend, complete  [info]", mc["reference_backend"]),
    ]
    for label, x in rows:
        age = f"{x['age']:.3f}" + (f" +- {x['age_stderr']:.3f}" if "age_stderr" in x else "")
        if not x.get("stationary", True):
            age = "not stationary"
        sim = f"{x['sim_time']:>10,.1f}" if "sim_time" in x else f"{'':>10}"
        print(
            f"   {label:<36}{x['n']:>9}{x['events']:>12,}{x['seconds']:>8.3f}{x['events_per_s']:>13,.0f}"
            f"{sim}{age:>16}{x['exact_age']:>8.3f}"
        )
    print(f"\n   {'target':<52}{'value':>13}{'target':>15}")
    target = f">= {TARGETS['events_per_s']:,.0f}"
    for key, x in mc["runs"].items():
        label = f"compiled events/s per core, {x['topology']}, n = {x['n']}"
        verdict = "PASS" if mc["pass"][key] else "MISS"
        print(f"   {label:<52}{x['events_per_s']:>13,.0f}{target:>15}  {verdict}")
    label = f"compiled / plain Python events/s, complete n = {mc['python_loop']['n']}"
    target = f">= {TARGETS['compiled_vs_python']:g}x"
    verdict = "PASS" if mc["pass"]["compiled_vs_python"] else "MISS"
    print(f"   {label:<52}{mc['ratios']['compiled_vs_python']:>12.1f}x{target:>15}  {verdict}")

    print("\n2. General exact solver node_ages(R, 1.0), complete-graph R (2^n - 1 subsets).\n")
    print(f"   {'n':>4}{'subsets':>11}{'best of':>9}{'best ms':>10}{'age':>10}{'rel. err vs symmetric':>24}")
    for n, x in r["exact_solver"].items():
        print(
            f"   {n:>4}{x['subsets']:>11,}{x['repeats']:>9}{1e3 * x['seconds']:>10.2f}{x['age']:>10.5f}"
            f"{x['max_rel_err_vs_symmetric']:>24.1e}"
        )

    sym = r["symmetric_solvers"]
    print(f"\n3. Symmetric O(n) solvers at n = {sym['n']:,}, best of {rep['symmetric']}.\n")
    print(f"   {'solver':<26}{'best ms':>10}{'value':>14}{'asymptotic':>14}  formula")
    for name in ("complete_graph_age", "ring_age", "user_staleness_complete"):
        x = sym[name]
        print(
            f"   {name + '(n)':<26}{1e3 * x['seconds']:>10.2f}{x['value']:>14.6f}{x['approx']:>14.6f}"
            f"  {x['approx_formula']}"
        )


def count(text: str) -> int:
    """An integer given as 20000000 or 2e7."""
    return int(float(text))


def main(argv=None) -> None:
    parser = common.parser("gossip", __doc__)
    parser.add_argument(
        "--events",
        type=count,
        default=2 * 10**7,
        help="events of each timed compiled Monte Carlo run (e.g. 2e7)",
    )
    parser.add_argument(
        "--n-max",
        type=int,
        default=MAX_NODES,
        help=f"largest n of the general exact solver (runs n-4, n-2, n; <= {MAX_NODES})",
    )
    args = parser.parse_args(argv)
    if args.events < WARM_EVENTS:
        parser.error(f"--events must be >= {WARM_EVENTS}")
    if not 6 <= args.n_max <= MAX_NODES:
        parser.error(f"--n-max must be in [6, {MAX_NODES}]")
    common.emit(run(args.events, args.n_max), args.json, print_table)


if __name__ == "__main__":
    main()
