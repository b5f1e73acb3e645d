"""Gradient tracking (DIGing / GT-DSGD): exact convergence where D-PSGD stalls."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mixlab.errors import ParameterError
from mixlab.kernels.algorithms import build
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import heterogeneous_quadratic

N, D = 8, 4


def runs(zeta2, steps=600, lr=0.1, backend="numba"):
    f = heterogeneous_quadratic(N, D, zeta2=zeta2, sigma2=0.0, seed=5)
    return {
        name: simulate(f, build(name, N), steps, lr=lr, record_every=50, backend=backend)
        for name in ("gradient_tracking", "dpsgd")
    }


def test_exact_linear_convergence_where_dpsgd_stalls():
    """Noise-free heterogeneous quadratic, constant step: tracking reaches x* (loss gap
    < 1e-10, decaying geometrically); D-PSGD stalls at a floor that grows with zeta2."""
    tr = runs(1.0)
    gap = tr["gradient_tracking"]["loss_gap"]
    assert gap[-1] < 1e-10
    rates = gap[2:8] / gap[1:7]  # per 50 steps, before rounding takes over
    assert rates.max() < 0.5 and rates.max() / rates.min() < 3  # geometric
    floor1 = tr["dpsgd"]["loss_gap"][-1]
    floor4 = runs(4.0)["dpsgd"]["loss_gap"][-1]
    assert floor1 > 1e-4 and floor4 == pytest.approx(4 * floor1, rel=1e-6)  # quadratic in the offsets


def test_trackers_keep_the_mean_gradient():
    """With doubly stochastic W the mean of the trackers is the mean gradient at every step."""
    from mixlab.kernels.algorithms.base import Costs
    from mixlab.kernels.engines.reference import ReferenceState
    from mixlab.kernels.timing import TimingModel

    f = heterogeneous_quadratic(N, D, zeta2=1.0, sigma2=0.5, seed=2)
    alg = build("gradient_tracking", N, topology="exponential")
    X = np.random.default_rng(0).standard_normal((N, D))
    st = ReferenceState(
        f,
        TimingModel(),
        3,
        Costs(0.0, 0.0, 8, 0.0, 0.0),
        0.0,
        X,
        np.zeros((N, D)),
        np.ones(N),
        np.zeros(N),
        np.zeros(N),
        np.zeros(N, dtype=np.int64),
    )
    for t in range(6):
        grads = f.stochastic_grads(st.X, t, 3)
        alg.reference_step(st, t, 0.05)
        np.testing.assert_allclose(st.extra["y"].mean(axis=0), grads.mean(axis=0), atol=1e-12)


def test_command_line_run_converges_and_refuses_momentum():
    cmd = [
        sys.executable,
        "-m",
        "mixlab.cli",
        "run",
        "--algorithm",
        "gradient_tracking",
        "--objective",
        "heterogeneous_quadratic",
        "--workers",
        "8",
        "--steps",
        "600",
        "--lr",
        "0.1",
        "--noise",
        "0",
        "--json",
    ]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert out["final_loss_gap"] < 1e-10 and out["params"]["algorithm"] == "gradient_tracking"
    with pytest.raises(ParameterError, match="gradient_tracking does not take --momentum"):
        build("gradient_tracking", N, momentum=0.9)
