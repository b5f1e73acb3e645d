"""Bandwidth benchmark of the CPU mixing kernels (n workers x d parameters, float64).

Group averaging (one round of WAGMA-style averaging, S = 8, rule ``mean``, in
place) and sparse mixing Y = W X read every model once and write every model
once, with O(1) flops per byte. They are memory-bound: no implementation can
beat a plain copy of X, which moves the same bytes (one read, one write) with no
arithmetic at all. Copy bandwidth is therefore the physical limit, and the
figure of merit of a kernel is its bandwidth as a fraction of copy bandwidth.
Two copies are measured: ``np.copyto`` (one thread) and a numba ``prange`` copy
over rows (all numba threads, the machine's parallel copy bandwidth). Where the
last-level cache holds the working set (X, and Y for copies and mixing), these
are cache rather than DRAM bandwidths, and in-place averaging, whose working set
is X alone, can run faster than a copy.

Bytes counted: 2 * X.nbytes for averaging and copies, X.nbytes + Y.nbytes for
sparse mixing (the ideal of one read of X and one write of Y; a graph whose
neighbours are far apart in memory re-reads X rows from cache or DRAM).
The baselines are the NumPy/SciPy references of the kernels, dense ``W @ X``
(what a peer that builds the mixing matrix would do) and scipy.sparse CSR
``W @ X`` (the natural library call). Each timing is the best of several
back-to-back runs after one warm-up run, which excludes JIT compilation and
lets the thread pools of the previous candidate (OpenBLAS, numba) go idle.

Run ``python -m bench.mixing`` (n = 1024, d = 8192), ``--n/--d`` for smaller
runs, ``--json`` for one JSON object instead of the table.
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np

from bench import common
from bench.common import best_of
from mixlab.kernels.averaging.group_averaging import group_average_numba, group_average_reference
from mixlab.kernels.averaging.mixing import sparse_mix_numba, sparse_mix_reference
from mixlab.theory.graphs import make_graph
from mixlab.theory.groups import RandomGroups, group_matrix
from mixlab.theory.weights import mixing_matrix

S = 8
GRAPHS = ("ring", "exponential")
FAST_REPEATS, SLOW_REPEATS, DENSE_REPEATS = 10, 5, 3
#: ratio name -> minimum value wanted (PASS/MISS in the table).
TARGETS = {"numba_vs_copyto": 0.85, "speedup_vs_reference": 1.3, "speedup_vs_dense": 20.0}


def gbps(nbytes: int, seconds: float) -> float:
    return nbytes / seconds / 1e9


@numba.njit(parallel=True, cache=True)
def parallel_copy(dst, src):
    for i in numba.prange(src.shape[0]):
        dst[i, :] = src[i, :]


def bench_group_averaging(X: np.ndarray) -> dict:
    n, d = X.shape
    groups = RandomGroups(n, S, seed=0).groups(0)
    core_args = (groups, False, False, np.zeros(0, np.bool_), np.zeros((0, d)))
    A, B = X.copy(), X.copy()
    group_average_numba(A, *core_args)
    group_average_reference(B, *core_args)
    np.testing.assert_allclose(A, B, rtol=1e-12, atol=1e-12)

    Y = np.empty_like(X)
    W = group_matrix(groups, n, "mean", sparse=False)
    seconds = {
        "np_copyto": best_of(lambda: np.copyto(Y, X), FAST_REPEATS, warm_up=True)[0],
        "parallel_copy": best_of(lambda: parallel_copy(Y, X), FAST_REPEATS, warm_up=True)[0],
        "numba": best_of(lambda: group_average_numba(A, *core_args), FAST_REPEATS, warm_up=True)[0],
        "reference": best_of(lambda: group_average_reference(B, *core_args), SLOW_REPEATS, warm_up=True)[0],
        "dense_matmul": best_of(lambda W=W: W @ X, DENSE_REPEATS, warm_up=True)[0],
    }
    rates = {k: gbps(2 * X.nbytes, t) for k, t in seconds.items()}
    ratios = {
        "numba_vs_copyto": rates["numba"] / rates["np_copyto"],
        "numba_vs_parallel_copy": rates["numba"] / rates["parallel_copy"],
        "speedup_vs_reference": seconds["reference"] / seconds["numba"],
        "speedup_vs_dense": seconds["dense_matmul"] / seconds["numba"],
    }
    return {
        "groups": f"RandomGroups({n}, {S}, seed=0).groups(0)",
        "n_groups": n // S,
        "butterfly_possible": S ** round(math.log(n, S)) == n,
        "kernel_timed": "group_average_numba (core, no argument checks)",
        "seconds": seconds,
        "gbps": rates,
        "ratios": ratios,
        "pass": {k: ratios[k] >= v for k, v in TARGETS.items()},
    }


def bench_sparse_mixing(X: np.ndarray, copy_rates: dict) -> dict:
    n = X.shape[0]
    out, ref_out = np.empty_like(X), np.empty_like(X)
    results = {}
    for name in GRAPHS:
        W = mixing_matrix(make_graph(name, n), "metropolis", sparse=True)
        csr = (W.indptr.astype(np.int64), W.indices.astype(np.int64), W.data.astype(np.float64))
        sparse_mix_numba(*csr, X, out)
        sparse_mix_reference(*csr, X, ref_out)
        np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
        seconds = {
            "numba": best_of(lambda csr=csr: sparse_mix_numba(*csr, X, out), FAST_REPEATS, warm_up=True)[0],
            "scipy_csr": best_of(lambda W=W: W @ X, SLOW_REPEATS, warm_up=True)[0],
            "reference": best_of(
                lambda csr=csr: sparse_mix_reference(*csr, X, ref_out), SLOW_REPEATS, warm_up=True
            )[0],
        }
        rates = {k: gbps(X.nbytes + out.nbytes, t) for k, t in seconds.items()}
        results[name] = {
            "nnz_per_row": W.nnz / n,
            "seconds": seconds,
            "gbps": rates,
            "ratios": {
                "numba_vs_copyto": rates["numba"] / copy_rates["np_copyto"],
                "numba_vs_parallel_copy": rates["numba"] / copy_rates["parallel_copy"],
                "speedup_vs_scipy_csr": seconds["scipy_csr"] / seconds["numba"],
                "speedup_vs_reference": seconds["reference"] / seconds["numba"],
            },
        }
    return results


def run(n: int, d: int) -> dict:
    X = np.random.default_rng(0).standard_normal((n, d))
    groups = bench_group_averaging(X)
    return {
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "n": n,
        "d": d,
        "dtype": str(X.dtype),
        "model_stack_mib": X.nbytes / 2**20,
        "group_averaging": groups,
        "sparse_mixing": bench_sparse_mixing(X, groups["gbps"]),
    }


def print_table(r: dict) -> None:
    g = r["group_averaging"]
    print(
        f"mixlab mixing benchmark: {r['cpu_count']} cores, {r['numba_threads']} numba threads, "
        f"n = {r['n']}, d = {r['d']}, {r['dtype']} ({r['model_stack_mib']:.1f} MiB per stack)"
    )
    print(f"\n1. Group averaging, S = {S}, rule 'mean', in place; bytes = 2 * X.nbytes.")
    print(f"   Groups: {g['groups']}, a random partition into {g['n_groups']} groups of {S},")
    print("   standing in for one phase of the WAGMA butterfly schedule, which needs n to be a")
    print(f"   power of {S} (n = {r['n']} {'is' if g['butterfly_possible'] else 'is not'}).")
    print(f"   Timed: {g['kernel_timed']}.\n")
    labels = {
        "np_copyto": "np.copyto(Y, X)  [1 thread]",
        "parallel_copy": f"numba prange copy  [{r['numba_threads']} threads]",
        "numba": "group_average_numba",
        "reference": "group_average_reference  [NumPy]",
        "dense_matmul": "dense W @ X  [NumPy matmul]",
    }
    print(f"   {'kernel':<36}{'best ms':>10}{'GB/s':>9}")
    for key, label in labels.items():
        print(f"   {label:<36}{1e3 * g['seconds'][key]:>10.3f}{g['gbps'][key]:>9.2f}")
    print(f"\n   {'ratio':<36}{'value':>10}{'target':>10}")
    ratio_labels = {
        "numba_vs_copyto": ("numba / np.copyto bandwidth", ""),
        "numba_vs_parallel_copy": ("numba / parallel copy bandwidth", ""),
        "speedup_vs_reference": ("numba speedup over reference", "x"),
        "speedup_vs_dense": ("numba speedup over dense W @ X", "x"),
    }
    for key, (label, unit) in ratio_labels.items():
        value = f"{g['ratios'][key]:.2f}{unit}"
        target = f">= {TARGETS[key]:g}{unit}" if key in TARGETS else ""
        verdict = ("PASS" if g["pass"][key] else "MISS") if key in TARGETS else ""
        print(f"   {label:<36}{value:>10}{target:>10}  {verdict}".rstrip())

    print("\n2. Sparse mixing Y = W X, sparse_mix_numba, metropolis weights (CSR, int64 indices);")
    print("   bytes = X.nbytes + Y.nbytes (ideal: one read of X, one write of Y).\n")
    print(
        f"   {'graph':<13}{'nnz/row':>8}{'best ms':>9}{'GB/s':>8}{'/copyto':>9}{'/par.copy':>11}"
        f"{'vs scipy':>10}{'vs ref':>8}"
    )
    for name, s in r["sparse_mixing"].items():
        q = s["ratios"]
        print(
            f"   {name:<13}{s['nnz_per_row']:>8.1f}{1e3 * s['seconds']['numba']:>9.3f}"
            f"{s['gbps']['numba']:>8.2f}{q['numba_vs_copyto']:>9.2f}{q['numba_vs_parallel_copy']:>11.2f}"
            f"{q['speedup_vs_scipy_csr']:>9.1f}x{q['speedup_vs_reference']:>7.1f}x"
        )
    print("\n   /copyto, /par.copy: bandwidth over the copy bandwidths of section 1;")
    print("   vs scipy: over scipy.sparse CSR W @ X; vs ref: over sparse_mix_reference.")


def main(argv=None) -> None:
    parser = common.parser("mixing", __doc__)
    parser.add_argument("--n", type=int, default=1024, help=f"workers (a multiple of {S})")
    parser.add_argument("--d", type=int, default=8192, help="parameters per worker")
    args = parser.parse_args(argv)
    if args.n < S or args.n % S or args.d < 1:
        parser.error(f"--n must be a positive multiple of {S} and --d positive")
    common.emit(run(args.n, args.d), args.json, print_table)


if __name__ == "__main__":
    main()
