"""Speed and quality of the first-order FMMC solver at n = 1000, where the SDP is too slow.

1. For each graph (ring, random 4-regular, Erdos-Renyi G(n, 6/n) conditioned on
   connectivity, 2-D torus; random graphs with seed 0), one run of
   ``fmmc_subgradient(G, iterations=I)`` (projected subgradient from the
   Metropolis weights; it may stop earlier when the improvement stalls): wall
   time, iterations, rho of the Metropolis weights and of the answer (both
   recomputed by ``spectral.rho``), the answer's certified lower bound and gap,
   and the mixing-time speed-up log(rho_answer) / log(rho_metropolis) (the
   epsilon-mixing time of the Metropolis weights over that of the answer). One
   run, not a best of several: a run lasts seconds and is deterministic for
   its seed.
2. On a ring of ``--sdp-n`` nodes (default 100) the SDP
   ``optimal_weights(G, "fmmc")`` (SCS, certified) against the subgradient
   method: time and rho of each.

Run ``python -m bench.fmmc`` (n = 1000, I = 500), ``--n/--iterations/--sdp-n``
for smaller runs, ``--json`` for one JSON object instead of the table.
"""

from __future__ import annotations

import math
import os

from bench import common
from bench.common import best_of
from mixlab.proofs.fmmc_first_order import fmmc_subgradient
from mixlab.proofs.optimal_weights import optimal_weights
from mixlab.theory import spectral
from mixlab.theory.graphs import make_graph, torus_shape
from mixlab.theory.weights import mixing_matrix

#: name -> the graph on n nodes.
GRAPHS = {
    "ring": lambda n: make_graph("ring", n),
    "random_4_regular": lambda n: make_graph("random_regular", n, seed=0, degree=4),
    "erdos_renyi_6/n": lambda n: make_graph("erdos_renyi", n, seed=0, p=6 / n),
    "torus": lambda n: make_graph("torus", n),
}


def speedup(rho_before: float, rho_after: float) -> float:
    """Ratio of the epsilon-mixing times log(eps) / log(rho), before over after."""
    return math.log(rho_after) / math.log(rho_before) if rho_after > 0 else math.inf


def bench_graph(G, iterations: int) -> dict:
    seconds, res = best_of(lambda: fmmc_subgradient(G, iterations=iterations), 1)
    metropolis = spectral.rho(mixing_matrix(G, "metropolis"))
    return {
        "n": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "seconds": seconds,
        "iterations": res.iterations,
        "status": res.status,
        "rho_metropolis": metropolis,
        "rho_subgradient": res.rho,
        "lower_bound": res.lower_bound,
        "gap": res.gap,
        "mixing_speedup": speedup(metropolis, res.rho),
    }


def bench_sdp(n: int, iterations: int) -> dict:
    G = make_graph("ring", n)
    sdp_seconds, sdp = best_of(lambda: optimal_weights(G, "fmmc"), 1)
    sub_seconds, sub = best_of(lambda: fmmc_subgradient(G, iterations=iterations), 1)
    return {
        "n": n,
        "sdp_seconds": sdp_seconds,
        "sdp_rho": sdp.rho,
        "sdp_gap": sdp.gap,
        "subgradient_seconds": sub_seconds,
        "subgradient_rho": sub.rho,
        "subgradient_iterations": sub.iterations,
        "subgradient_gap": sub.gap,
    }


def run(n: int, iterations: int, sdp_n: int) -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "n": n,
        "max_iterations": iterations,
        "torus_shape": "x".join(map(str, torus_shape(n))),
        "graphs": {name: bench_graph(make(n), iterations) for name, make in GRAPHS.items()},
        "sdp_ring": bench_sdp(sdp_n, iterations),
    }


def print_table(r: dict) -> None:
    print(
        f"mixlab FMMC benchmark: {r['cpu_count']} cores, n = {r['n']} (torus {r['torus_shape']}), "
        f"at most {r['max_iterations']} subgradient iterations"
    )
    print("\n1. fmmc_subgradient from the Metropolis weights; rho recomputed by spectral.rho.\n")
    print(
        f"   {'graph':<18}{'edges':>6}{'rho Metropolis':>16}{'rho subgrad.':>14}{'lower bound':>13}"
        f"{'gap':>9}{'mixing x':>9}{'iters':>7}{'status':>17}{'seconds':>9}"
    )
    for name, g in r["graphs"].items():
        print(
            f"   {name:<18}{g['edges']:>6}{g['rho_metropolis']:>16.8f}{g['rho_subgradient']:>14.8f}"
            f"{g['lower_bound']:>13.8f}{g['gap']:>9.1e}{g['mixing_speedup']:>9.2f}{g['iterations']:>7}"
            f"{g['status']:>17}{g['seconds']:>9.1f}"
        )
    print("\n   mixing x: epsilon-mixing time of Metropolis / that of the answer; gap: rho - lower bound.")
    s = r["sdp_ring"]
    print(f"\n2. Ring of n = {s['n']}: SDP (SCS, certified) against the subgradient method.\n")
    print(f"   {'method':<14}{'rho':>14}{'gap':>10}{'seconds':>9}")
    print(f"   {'SDP':<14}{s['sdp_rho']:>14.10f}{s['sdp_gap']:>10.1e}{s['sdp_seconds']:>9.2f}")
    print(
        f"   {'subgradient':<14}{s['subgradient_rho']:>14.10f}{s['subgradient_gap']:>10.1e}"
        f"{s['subgradient_seconds']:>9.2f}  ({s['subgradient_iterations']} iterations)"
    )


def main(argv=None) -> None:
    parser = common.parser("fmmc", __doc__)
    parser.add_argument("--n", type=int, default=1000, help="nodes of every graph of part 1")
    parser.add_argument("--iterations", type=int, default=500, help="subgradient iteration budget")
    parser.add_argument("--sdp-n", type=int, default=100, help="ring size of the SDP comparison")
    args = parser.parse_args(argv)
    if args.n < 9 or args.iterations < 1 or args.sdp_n < 3:
        parser.error("--n must be >= 9 (torus), --iterations >= 1 and --sdp-n >= 3")
    common.emit(run(args.n, args.iterations, args.sdp_n), args.json, print_table)


if __name__ == "__main__":
    main()
