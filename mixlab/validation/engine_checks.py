"""Checks of the optimizer engine: equivalences between algorithms, WAGMA-SGD's
wait avoidance under stragglers, agreement of the two engines, the exact
second-moment prediction on quadratics.

Sources: the ATC equivalences and the bounded staleness follow from the
algorithm definitions (DESIGN.md); the straggler experiment mirrors WAGMA-SGD's
(Li et al., IEEE TPDS 2021: two random processes delayed each iteration).
"""

from __future__ import annotations

import numpy as np

from mixlab.kernels.algorithms import AllreduceSGD, LocalSGD
from mixlab.kernels.engine import simulate
from mixlab.kernels.objectives import least_squares, quadratic
from mixlab.kernels.timing import TimingModel
from mixlab.theory import theorems as thm
from mixlab.validation.checks import Check, TheoremCheck
from mixlab.validation.runner import build_algorithm

WAGMA_SOURCE = "Li et al., WAGMA-SGD, IEEE TPDS 2021"


def _max_rel_diff(a, b, metrics=("loss_gap", "grad_norm_sq", "consensus")) -> float:
    worst = 0.0
    for m in metrics:
        scale = max(1e-300, float(np.abs(b[m]).max()))
        worst = max(worst, float(np.abs(a[m] - b[m]).max()) / scale)
    return worst


def atc_wagma_equals_allreduce(n: int, steps: int) -> tuple[float, float]:
    """Max relative difference of WAGMA (S = n, ATC, no stragglers) and allreduce SGD
    in loss and gradient norm (both keep exact consensus: inf if either drifts)."""
    f = least_squares(n, 8, batch=4, seed=1)
    wagma = build_algorithm("wagma", n, group_size=n, sync_period=steps + 1, order="atc", momentum=0.9)
    a = simulate(f, wagma, steps, lr=0.1, seed=2, engine="numba")
    b = simulate(f, AllreduceSGD(momentum=0.9), steps, lr=0.1, seed=2, engine="numba")
    if max(a["consensus"].max(), b["consensus"].max()) > 1e-20:
        return float("inf"), 1e-10
    return _max_rel_diff(a, b, ("loss_gap", "grad_norm_sq")), 1e-10


def engines_agree(n: int, steps: int) -> tuple[float, float]:
    """Max relative difference of the numba and reference engines (WAGMA with stragglers)."""
    f = least_squares(n, 8, batch=4, seed=3)
    alg = build_algorithm("wagma", n, group_size=4, sync_period=4, rule="self_weighted")
    timing = TimingModel("exponential", stragglers=2, slowdown=5.0)
    a = simulate(f, alg, steps, lr=0.1, timing=timing, seed=4, engine="numba")
    b = simulate(f, alg, steps, lr=0.1, timing=timing, seed=4, engine="reference")
    return _max_rel_diff(a, b), 1e-10


def _straggler_runs(n, steps, tau, persistent):
    timing = TimingModel(stragglers=1 if persistent else 2, persistent=persistent, slowdown=5.0)
    f = quadratic(n, 8, seed=5)
    wagma = simulate(f, build_algorithm("wagma", n, group_size=4, sync_period=tau), steps, lr=0.1,
                     timing=timing, seed=6, record_every=steps // 4)
    return f, timing, wagma


def straggler_speedup(n: int, steps: int, tau: int) -> tuple[float, float]:
    """Simulated time of allreduce over WAGMA, 2 random stragglers slowed 5x (>= 1.8)."""
    f, timing, wagma = _straggler_runs(n, steps, tau, persistent=False)
    allreduce = simulate(f, AllreduceSGD(), steps, lr=0.1, timing=timing, seed=6, record_every=steps)
    return allreduce["sim_time"][-1] / wagma["sim_time"][-1], 1.8


def staleness_bound(n: int, steps: int, tau: int) -> tuple[float, float]:
    """Max staleness of WAGMA under random stragglers, against tau."""
    return float(_straggler_runs(n, steps, tau, persistent=False)[2]["staleness_max"].max()), tau


def persistent_pace(n: int, steps: int, tau: int) -> tuple[float, float]:
    """Long-run time per iteration with one fixed 5x straggler / 5 (within 10% of 1)."""
    tr = _straggler_runs(n, steps, tau, persistent=True)[2]
    pace = (tr["sim_time"][-1] - tr["sim_time"][1]) / (tr["step"][-1] - tr["step"][1])
    return pace / 5.0, 1.0


def step_matrices(alg, n: int, steps: int) -> tuple[list, str]:
    """(W_0, ..., W_{steps-1}, update order) of a synchronous run without stragglers:
    allreduce is J with ATC; local SGD is J after every H-th step and I otherwise,
    with ATC; WAGMA's global steps (t mod tau = tau - 1) are J."""
    from mixlab.theory.groups import group_matrix

    J = np.full((n, n), 1.0 / n)
    if isinstance(alg, AllreduceSGD):
        return [J] * steps, "atc"
    if isinstance(alg, LocalSGD):
        H = alg.local_steps
        return [J if (t + 1) % H == 0 else np.eye(n) for t in range(steps)], "atc"
    if hasattr(alg, "groups"):
        phases = [group_matrix(g, n, alg.rule) for g in alg.groups]
        tau = alg.sync_period
        return [J if t % tau == tau - 1 else phases[t % len(phases)] for t in range(steps)], alg.order
    return [alg.mixing[t % len(alg.mixing)] for t in range(steps)], alg.order


def second_moment(algorithm: str, n: int, steps: int, runs: int, metric: str = "loss_gap", **kw):
    """Mean final loss gap (or consensus distance) over independent runs (quadratic, additive
    noise) against the exact second-moment prediction; tolerance 4 standard errors. On a
    common-Hessian quadratic the average model does not depend on the mixing, so the loss
    gaps agree across algorithms; the consensus distance tells them apart."""
    from mixlab.theory.second_moment import predict

    f = quadratic(n, 4, zeta2=1.0, sigma2=0.5, seed=3)
    alg = build_algorithm(algorithm, n, **kw)
    mats, order = step_matrices(alg, n, steps)
    finals = np.array([simulate(f, alg, steps, lr=0.3, seed=s, record_every=steps)[metric][-1]
                       for s in range(runs)])
    exact = predict(f.hdiag, f.centers, f.noise_std, np.zeros(4), mats, order, np.full(steps, 0.3))
    se = finals.std(ddof=1) / np.sqrt(runs)
    return float(finals.mean()), {"predicted": float(exact[metric][-1]), "momentum": alg.momentum}, 4 * se


def engine_checks(size: str = "default") -> list[Check]:
    n = {"quick": 64, "default": 256, "full": 1024}[size]
    steps = {"quick": 200, "default": 400, "full": 1000}[size]
    runs = {"quick": 100, "default": 400, "full": 2000}[size]
    return [
        TheoremCheck("second-moment-dpsgd-ring", thm.QUADRATIC_SECOND_MOMENT, second_moment,
                     {"algorithm": "dpsgd", "n": 16, "steps": 40, "runs": runs, "topology": "ring"}),
        TheoremCheck("second-moment-local-sgd", thm.QUADRATIC_SECOND_MOMENT, second_moment,
                     {"algorithm": "local_sgd", "n": 16, "steps": 40, "runs": runs, "local_steps": 5}),
        TheoremCheck("second-moment-wagma", thm.QUADRATIC_SECOND_MOMENT, second_moment,
                     {"algorithm": "wagma", "n": 16, "steps": 40, "runs": runs, "group_size": 4,
                      "sync_period": 5}),
        TheoremCheck("second-moment-consensus-dpsgd", thm.QUADRATIC_SECOND_MOMENT, second_moment,
                     {"algorithm": "dpsgd", "n": 16, "steps": 40, "runs": runs, "metric": "consensus",
                      "topology": "ring"}),
        TheoremCheck("second-moment-consensus-wagma", thm.QUADRATIC_SECOND_MOMENT, second_moment,
                     {"algorithm": "wagma", "n": 16, "steps": 38, "runs": runs, "metric": "consensus",
                      "group_size": 4, "sync_period": 5}),
        Check("wagma-atc-equals-allreduce", "WAGMA(S = n, ATC) = allreduce SGD (relative difference)",
              "DESIGN.md: update orders", "<=", 0, atc_wagma_equals_allreduce, {"n": 16, "steps": 50}),
        Check("engines-agree", "numba engine = NumPy reference engine (relative difference)",
              "engine specification", "<=", 0, engines_agree, {"n": 16, "steps": 40}),
        Check("wagma-straggler-speedup", "T_allreduce / T_WAGMA >= 1.8 with 2 random 5x stragglers",
              WAGMA_SOURCE, ">=", 0, straggler_speedup, {"n": n, "steps": steps, "tau": 8}),
        Check("wagma-staleness-bound", "max staleness <= tau", WAGMA_SOURCE, "<=", 0,
              staleness_bound, {"n": n, "steps": steps, "tau": 8}),
        Check("wagma-persistent-straggler-pace", "time per iteration / straggler's = 1 (within 10%)",
              WAGMA_SOURCE, "==", 0.1, persistent_pace, {"n": n, "steps": steps, "tau": 8}),
    ]
