"""Checks of the optimizer engine: equivalences between algorithms, WAGMA-SGD's
wait avoidance under stragglers, agreement of the two engines, the exact
second-moment prediction on quadratics with worker-specific Hessians (where
the average model depends on the communication, so each algorithm has its own
prediction and the controls hold a run against another pattern's).

Sources: the ATC equivalences and the bounded staleness follow from the
algorithm definitions (docs/design.md); the straggler experiment mirrors WAGMA-SGD's
(Li et al., IEEE TPDS 2021: two random processes delayed each iteration).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from mixlab.kernels.algorithms.allreduce import AllreduceSGD
from mixlab.kernels.algorithms.wagma import WAGMA
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import heterogeneous_quadratic, least_squares, quadratic
from mixlab.kernels.timing import TimingModel
from mixlab.runs import build_algorithm
from mixlab.theory import theorems as thm
from mixlab.validation import controls
from mixlab.validation.checks import Check, CheckBase, Control, TheoremCheck
from mixlab.validation.statistics import mean_estimate

WAGMA_SOURCE = "Li et al., WAGMA-SGD, IEEE TPDS 2021"
DESIGN = "docs/design.md: update orders"


def _max_rel_diff(a, b, metrics=("loss_gap", "grad_norm_sq", "consensus")) -> float:
    worst = 0.0
    for m in metrics:
        scale = max(1e-300, float(np.abs(b[m]).max()))
        worst = max(worst, float(np.abs(a[m] - b[m]).max()) / scale)
    return worst


def wagma_equals_allreduce(n: int, steps: int, order: str = "atc") -> tuple[float, float]:
    """Max relative difference of WAGMA (S = n, mean rule, no stragglers) and allreduce SGD
    in loss and gradient norm, or the larger consensus distance if either drifts from
    exact consensus (allreduce never does)."""
    f = least_squares(n, 8, batch=4, seed=1)
    wagma = build_algorithm(
        "wagma", n, group_size=n, sync_period=steps + 1, order=order, momentum=0.9, rule="mean"
    )
    a = simulate(f, wagma, steps, lr=0.1, seed=2, backend="numba")
    b = simulate(f, AllreduceSGD(momentum=0.9), steps, lr=0.1, seed=2, backend="numba")
    drift = float(max(a["consensus"].max(), b["consensus"].max()))
    return max(drift, _max_rel_diff(a, b, ("loss_gap", "grad_norm_sq"))), 0.0


def engines_agree(n: int, steps: int, activation: str) -> tuple[float, float]:
    """Max relative difference of the numba and reference engines (WAGMA with stragglers)."""
    f = least_squares(n, 8, batch=4, seed=3)
    alg = build_algorithm("wagma", n, group_size=4, sync_period=4, activation=activation)
    timing = TimingModel("exponential", stragglers=2, slowdown=5.0)
    a = simulate(f, alg, steps, lr=0.1, timing=timing, seed=4, backend="numba")
    b = simulate(f, alg, steps, lr=0.1, timing=timing, seed=4, backend="reference")
    return _max_rel_diff(a, b), 0.0


def _straggler_run(n, steps, tau, persistent, **kw):
    timing = TimingModel(stragglers=1 if persistent else 2, persistent=persistent, slowdown=5.0)
    f = quadratic(n, 8, seed=5)
    wagma = simulate(
        f,
        build_algorithm("wagma", n, group_size=4, sync_period=tau, **kw),
        steps,
        lr=0.1,
        timing=timing,
        seed=6,
        record_every=steps // 4,
    )
    return f, timing, wagma


def straggler_speedup(n: int, steps: int, tau: int, persistent: bool = False) -> tuple[float, float]:
    """Simulated time of allreduce over WAGMA, 5x stragglers (>= 1.8): 2 random ones per
    iteration, or (``persistent``, a control) one fixed worker, whom WAGMA's global average
    every tau iterations waits for as allreduce does every iteration."""
    f, timing, wagma = _straggler_run(n, steps, tau, persistent)
    allreduce = simulate(f, AllreduceSGD(), steps, lr=0.1, timing=timing, seed=6, record_every=steps)
    return allreduce["sim_time"][-1] / wagma["sim_time"][-1], 1.8


def staleness_bound(
    n: int, steps: int, tau: int, persistent: bool = False, claimed_tau: int | None = None
) -> tuple[float, float]:
    """Max staleness of WAGMA under stragglers, against tau - 1 (of ``claimed_tau``)."""
    tr = _straggler_run(n, steps, tau, persistent)[2]
    return float(tr["staleness_max"].max()), (claimed_tau or tau) - 1


def persistent_pace(n: int, steps: int, tau: int) -> tuple[float, float]:
    """Long-run time per iteration with one fixed 5x straggler / 5 (within 10% of 1)."""
    tr = _straggler_run(n, steps, tau, True)[2]
    pace = (tr["sim_time"][-1] - tr["sim_time"][1]) / (tr["step"][-1] - tr["step"][1])
    return pace / 5.0, 1.0


#: The second-moment experiments: heterogeneous quadratic (n = 16, d = 4, zeta2 = 1,
#: sigma2 = 0.5), 40 steps at eta = 0.3 from 0, and the communication patterns compared.
class SecondMomentSetup(NamedTuple):
    n: int = 16
    d: int = 4
    steps: int = 40
    lr: float = 0.3


SECOND_MOMENT = SecondMomentSetup()
PATTERNS = {
    "dpsgd-ring": lambda n: build_algorithm("dpsgd", n, topology="ring"),
    "dpsgd-complete": lambda n: build_algorithm("dpsgd", n, topology="complete"),
    "no-communication": lambda n: controls.isolated(n),
    "local-sgd": lambda n: build_algorithm("local_sgd", n, local_steps=5),
    "allreduce": lambda n: build_algorithm("allreduce", n),
    "wagma": lambda n: build_algorithm("wagma", n, group_size=4, sync_period=5),
    "wagma-singleton": lambda n: controls.singleton_groups(
        WAGMA.from_options(n, group_size=4, sync_period=5)
    ),
}


@lru_cache(maxsize=1)
def _second_moment_objective():
    return heterogeneous_quadratic(SECOND_MOMENT.n, SECOND_MOMENT.d, zeta2=1.0, sigma2=0.5, seed=3)


@lru_cache(maxsize=32)
def _finals(pattern: str, runs: int, metric: str) -> np.ndarray:
    """The final loss gap (or consensus distance) of ``runs`` independent runs (seeds 0..runs-1)."""
    n, steps = SECOND_MOMENT.n, SECOND_MOMENT.steps
    f, alg = _second_moment_objective(), PATTERNS[pattern](n)
    return np.array(
        [
            simulate(f, alg, steps, lr=SECOND_MOMENT.lr, seed=s, record_every=steps)[metric][-1]
            for s in range(runs)
        ]
    )


def predicted_second_moment(pattern: str, metric: str = "loss_gap") -> float:
    """The exact expected final loss gap (or consensus distance) of a pattern without stragglers."""
    from mixlab.theory.second_moment import predict

    n, d, steps = SECOND_MOMENT.n, SECOND_MOMENT.d, SECOND_MOMENT.steps
    f = _second_moment_objective()
    mats, order = PATTERNS[pattern](n).mixing_matrices(n, steps)
    exact = predict(
        f.hessians, f.centers, f.noise_std, np.zeros(d), mats, order, np.full(steps, SECOND_MOMENT.lr)
    )
    return float(exact[metric][-1])


def second_moment(pattern: str, runs: int, metric: str = "loss_gap", claimed: str | None = None):
    """Mean final loss gap (or consensus distance) over independent runs of ``pattern`` on the
    heterogeneous quadratic, against the exact prediction for that pattern (or, a control,
    for the ``claimed`` one)."""
    est = mean_estimate(_finals(pattern, runs, metric))
    return est, {"predicted": predicted_second_moment(claimed or pattern, metric), "momentum": 0.0}


def engine_checks(size: str = "default") -> list[CheckBase]:
    n = {"quick": 64, "default": 256, "full": 1024}[size]
    steps = {"quick": 200, "default": 400, "full": 1000}[size]
    runs = {"quick": 100, "default": 400, "full": 2000}[size]
    straggle = {"n": n, "steps": steps, "tau": 8}

    def sm(id_, pattern, claimed, metric="loss_gap"):
        spec = {"pattern": pattern, "runs": runs, "metric": metric}
        return TheoremCheck(
            id_,
            thm.QUADRATIC_SECOND_MOMENT,
            second_moment,
            spec,
            Control(
                f"the prediction for {claimed} held against {pattern}",
                second_moment,
                {**spec, "claimed": claimed},
            ),
        )

    return [
        sm("second-moment-dpsgd-ring", "dpsgd-ring", "dpsgd-complete"),
        sm("second-moment-dpsgd-complete", "dpsgd-complete", "dpsgd-ring"),
        sm("second-moment-no-communication", "no-communication", "dpsgd-ring"),
        sm("second-moment-local-sgd", "local-sgd", "no-communication"),
        sm("second-moment-wagma", "wagma", "no-communication"),
        sm("second-moment-consensus-dpsgd", "dpsgd-ring", "dpsgd-complete", "consensus"),
        sm("second-moment-consensus-wagma", "wagma", "wagma-singleton", "consensus"),
        Check(
            "wagma-atc-equals-allreduce",
            "WAGMA(S = n, mean rule, ATC) = allreduce SGD (relative difference)",
            DESIGN,
            "==",
            1e-10,
            wagma_equals_allreduce,
            {"n": 16, "steps": 50},
            Control(
                "combine-then-adapt, which does not reproduce allreduce SGD",
                wagma_equals_allreduce,
                {"n": 16, "steps": 50, "order": "cta"},
            ),
        ),
        Check(
            "engines-agree-global",
            "numba engine = NumPy reference engine (WAGMA, global activation)",
            "engine specification",
            "==",
            1e-10,
            engines_agree,
            {"n": 16, "steps": 40, "activation": "global"},
        ),
        Check(
            "engines-agree-group",
            "numba engine = NumPy reference engine (WAGMA, group activation)",
            "engine specification",
            "==",
            1e-10,
            engines_agree,
            {"n": 16, "steps": 40, "activation": "group"},
        ),
        Check(
            "wagma-straggler-speedup",
            "T_allreduce / T_WAGMA >= 1.8 with 2 random 5x stragglers",
            WAGMA_SOURCE,
            ">=",
            0,
            straggler_speedup,
            straggle,
            Control(
                "a persistent straggler (the same worker every iteration), whom the global average waits for",
                straggler_speedup,
                {**straggle, "persistent": True},
            ),
        ),
        Check(
            "wagma-staleness-bound",
            "max staleness <= tau - 1",
            WAGMA_SOURCE,
            "<=",
            0,
            staleness_bound,
            straggle,
            Control(
                "no global average (tau = steps + 1) with one persistent straggler, claimed tau",
                staleness_bound,
                {**straggle, "tau": steps + 1, "persistent": True, "claimed_tau": 8},
            ),
        ),
        Check(
            "wagma-persistent-straggler-pace",
            "time per iteration / straggler's = 1 (within 10%)",
            WAGMA_SOURCE,
            "==",
            0.1,
            persistent_pace,
            straggle,
        ),
    ]
