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
    """Max relative difference of WAGMA (S = n, mean rule, no stragglers) and allreduce SGD.

    Both run least squares (d = 8) with momentum 0.9 at eta = 0.1 and the same draws.

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations (WAGMA's global period is steps + 1: never reached).
    order : {"atc", "cta"}, default "atc"
        WAGMA's update order; only "atc" reproduces allreduce SGD ("cta" is the control).

    Returns
    -------
    measured : float
        The larger of the max relative difference in loss gap and squared gradient norm
        and the largest consensus distance of either run (allreduce's is 0).
    bound : float
        0.0, the exact value.
    """
    f = least_squares(n, 8, batch=4, seed=1)
    wagma = build_algorithm(
        "wagma", n, group_size=n, sync_period=steps + 1, order=order, momentum=0.9, rule="mean"
    )
    a = simulate(f, wagma, steps, lr=0.1, seed=2, backend="numba")
    b = simulate(f, AllreduceSGD(momentum=0.9), steps, lr=0.1, seed=2, backend="numba")
    drift = float(max(a["consensus"].max(), b["consensus"].max()))
    return max(drift, _max_rel_diff(a, b, ("loss_gap", "grad_norm_sq"))), 0.0


def engines_agree(n: int, steps: int, activation: str) -> tuple[float, float]:
    """Max relative difference of the numba and reference engines (WAGMA with stragglers).

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations (least squares, S = 4, tau = 4, exponential compute times, 2 random 5x stragglers).
    activation : {"global", "group"}
        WAGMA's activation rule.

    Returns
    -------
    measured : float
        Max relative difference in loss gap, squared gradient norm and consensus distance.
    bound : float
        0.0, the exact value.
    """
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
    """Simulated time of allreduce SGD over WAGMA-SGD's with 5x stragglers, against 1.8.

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations (quadratic, d = 8, S = 4).
    tau : int
        WAGMA's global averaging period.
    persistent : bool, default False
        One fixed straggler instead of 2 random ones per iteration (a control: WAGMA's
        global average waits for it every tau iterations as allreduce does every iteration).

    Returns
    -------
    measured : float
        T_allreduce / T_WAGMA after ``steps`` iterations.
    bound : float
        1.8, the lower bound claimed.
    """
    f, timing, wagma = _straggler_run(n, steps, tau, persistent)
    allreduce = simulate(f, AllreduceSGD(), steps, lr=0.1, timing=timing, seed=6, record_every=steps)
    return allreduce["sim_time"][-1] / wagma["sim_time"][-1], 1.8


def staleness_bound(
    n: int, steps: int, tau: int, persistent: bool = False, claimed_tau: int | None = None
) -> tuple[float, float]:
    """Max staleness of WAGMA-SGD under 5x stragglers, against tau - 1.

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations (quadratic, d = 8, S = 4).
    tau : int
        WAGMA's global averaging period.
    persistent : bool, default False
        One fixed straggler instead of 2 random ones per iteration.
    claimed_tau : int, optional
        The period to claim instead of ``tau`` (a control).

    Returns
    -------
    measured : float
        The largest recorded staleness.
    bound : int
        (claimed) tau - 1.
    """
    tr = _straggler_run(n, steps, tau, persistent)[2]
    return float(tr["staleness_max"].max()), (claimed_tau or tau) - 1


def persistent_pace(n: int, steps: int, tau: int) -> tuple[float, float]:
    """Long-run time per iteration of WAGMA-SGD with one fixed 5x straggler, over 5.

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations (quadratic, d = 8, S = 4).
    tau : int
        WAGMA's global averaging period.

    Returns
    -------
    measured : float
        Simulated time per iteration (after the first recorded point) divided by 5, the
        straggler's compute time (unit compute times).
    bound : float
        1.0: WAGMA ends up at the straggler's pace.
    """
    tr = _straggler_run(n, steps, tau, True)[2]
    pace = (tr["sim_time"][-1] - tr["sim_time"][1]) / (tr["step"][-1] - tr["step"][1])
    return pace / 5.0, 1.0


class SecondMomentSetup(NamedTuple):
    """The second-moment experiments: a heterogeneous quadratic (zeta2 = 1, sigma2 = 0.5) from 0.

    Parameters
    ----------
    n : int, default 16
        Number of workers.
    d : int, default 4
        Model dimension.
    steps : int, default 40
        Iterations.
    lr : float, default 0.3
        Constant step size eta.
    """

    n: int = 16
    d: int = 4
    steps: int = 40
    lr: float = 0.3


SECOND_MOMENT = SecondMomentSetup()
#: The communication patterns compared: name -> builder of the algorithm for n workers.
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
    """The exact expected final loss gap (or consensus distance) of a pattern without stragglers.

    Parameters
    ----------
    pattern : str
        A key of :data:`PATTERNS`.
    metric : {"loss_gap", "consensus"}, default "loss_gap"
        E f(xbar_T) - f* or E Gamma_T.

    Returns
    -------
    float
        The prediction of :func:`mixlab.theory.second_moment.predict` for
        :data:`SECOND_MOMENT`.

    Examples
    --------
    >>> abs(predicted_second_moment("allreduce", "consensus")) < 1e-12
    True
    >>> predicted_second_moment("dpsgd-ring") < predicted_second_moment("no-communication")
    True
    """
    from mixlab.theory.second_moment import predict

    n, d, steps = SECOND_MOMENT.n, SECOND_MOMENT.d, SECOND_MOMENT.steps
    f = _second_moment_objective()
    mats, order = PATTERNS[pattern](n).mixing_matrices(n, steps)
    exact = predict(
        f.hessians, f.centers, f.noise_std, np.zeros(d), mats, order, np.full(steps, SECOND_MOMENT.lr)
    )
    return float(exact[metric][-1])


def second_moment(pattern: str, runs: int, metric: str = "loss_gap", claimed: str | None = None):
    """Mean final loss gap (or consensus distance) over runs of a pattern, against its exact prediction.

    Parameters
    ----------
    pattern : str
        A key of :data:`PATTERNS`: the algorithm run.
    runs : int
        Independent runs (seeds 0..runs-1) on the heterogeneous quadratic of :data:`SECOND_MOMENT`.
    metric : {"loss_gap", "consensus"}, default "loss_gap"
        The final quantity measured.
    claimed : str, optional
        The pattern whose prediction is claimed instead of ``pattern``'s (a control).

    Returns
    -------
    measured : Estimate
        Mean over runs and its standard error.
    params : dict
        Theorem parameters ``predicted`` and ``momentum`` (0.0).
    """
    est = mean_estimate(_finals(pattern, runs, metric))
    return est, {"predicted": predicted_second_moment(claimed or pattern, metric), "momentum": 0.0}


def engine_checks(size: str = "default") -> list[CheckBase]:
    """The engine checks: second-moment predictions, equivalences, engine agreement, stragglers.

    Parameters
    ----------
    size : {"quick", "default", "full"}, default "default"
        Sets the straggler runs' n (64, 256, 1024) and steps (200, 400, 1000) and the
        second-moment runs (100, 400, 2000).

    Returns
    -------
    list of CheckBase
        The checks, not yet run.

    Raises
    ------
    KeyError
        If ``size`` is not one of the three.
    """
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
