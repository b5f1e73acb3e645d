"""The benchmarks run at tiny sizes (no timing is asserted: speed is measured in bench/)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mixing_benchmark_runs_and_reports_every_ratio():
    proc = subprocess.run([sys.executable, "-m", "bench.mixing", "--n", "64", "--d", "256", "--json"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    r = json.loads(proc.stdout)
    assert r["n"] == 64 and r["d"] == 256
    assert set(r["group_averaging"]["ratios"]) >= {"numba_vs_copyto", "speedup_vs_reference",
                                                   "speedup_vs_dense"}
    assert set(r["sparse_mixing"]) == {"ring", "exponential"}
    assert all(v > 0 for v in r["group_averaging"]["gbps"].values())


def run_bench(module, *args):
    proc = subprocess.run([sys.executable, "-m", module, *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_engine_benchmark_runs():
    r = run_bench("bench.engine", "--n", "16", "--d", "4", "--steps", "6")
    assert r["n"] == 16 and {"wagma", "dpsgd"} <= set(r["algorithms"])


def test_gossip_benchmark_runs():
    r = run_bench("bench.gossip", "--events", "20000", "--n-max", "8")
    assert r["monte_carlo"]["runs"] and r["exact_solver"]


def test_fmmc_benchmark_runs():
    r = run_bench("bench.fmmc", "--n", "36", "--iterations", "5", "--sdp-n", "8")
    assert r["n"] == 36 and set(r["graphs"]) == {"ring", "random_4_regular", "erdos_renyi_6/n", "torus"}
    assert all(g["rho_subgradient"] <= g["rho_metropolis"] + 1e-12 for g in r["graphs"].values())
    assert r["sdp_ring"]["sdp_rho"] <= r["sdp_ring"]["subgradient_rho"] + 1e-6
