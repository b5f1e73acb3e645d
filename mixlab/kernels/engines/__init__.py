"""Engines behind one protocol (:mod:`mixlab.kernels.engines.base`), found by name,
and :func:`simulate`, which runs an algorithm on an objective through one.

>>> import numpy as np
>>> from mixlab.kernels.objectives import quadratic
>>> from mixlab.kernels.algorithms.allreduce import AllreduceSGD
>>> f = quadratic(8, 4, sigma2=0.0, seed=0)    # no noise: gradient descent on x-bar
>>> tr = simulate(f, AllreduceSGD(), 100, lr=0.5, backend="reference")
>>> bool(tr["loss_gap"][-1] < 1e-3 * tr["loss_gap"][0])
True
"""

from __future__ import annotations

import warnings

import numpy as np

from mixlab.errors import DivergenceWarning, ParameterError
from mixlab.kernels.engines.base import Engine, unsupported
from mixlab.kernels.engines.compiled import CompiledEngine
from mixlab.kernels.engines.mpi import MPIEngine
from mixlab.kernels.engines.reference import ReferenceEngine
from mixlab.kernels.timing import TimingModel
from mixlab.kernels.trajectory import (
    DIVERGENCE_FACTOR,
    LOSS_GAP_DIVERGED,
    Trajectory,
    divergence_limits,
    first_divergence,
    model_scale,
)
from mixlab.seeding import SEED_MAX
from mixlab.validate import require_choice, require_finite, require_int

#: name -> engine; an engine added here runs every algorithm it supports.
ENGINES: dict[str, Engine] = {e.name: e for e in (CompiledEngine(), ReferenceEngine(), MPIEngine())}


def _step_sizes(lr, steps: int) -> np.ndarray:
    eta = np.asarray(lr, dtype=np.float64)
    if eta.ndim == 0:
        eta = np.full(steps, float(eta))
    if eta.shape != (steps,):
        raise ParameterError(
            f"step sizes must be a number or an array of length steps = {steps}, got shape {eta.shape}"
        )
    bad = ~(eta > 0)  # catches NaN too
    if bad.any():
        t = int(np.argmax(bad))
        raise ParameterError(f"step size must be > 0 and not NaN; eta[{t}] = {eta[t]}")
    require_finite("step size", eta)
    return eta


def _divergence_message(columns: dict, row: int, code: int, scale: float, eta, objective, momentum) -> str:
    """One line: where the run diverged, which quantity, and the likely cause."""
    step = int(columns["step"][row])
    limits = divergence_limits(
        float(columns["loss_gap"][0]), float(columns["consensus_normalized"][0]), scale
    )
    if code == LOSS_GAP_DIVERGED:
        name = "the loss gap f(xbar) - f*" if objective.f_star is not None else "the loss f(xbar)"
        value, limit = float(columns["loss_gap"][row]), limits[0]
        scale_text = "max(|its value at step 0|, 1)"
    else:
        name = "the consensus distance Gamma/n"
        value, limit = float(columns["consensus_normalized"][row]), limits[1]
        scale_text = "max(Gamma/n at step 0, ||xbar_0||^2, ||x*||^2, 1)"
    what = (
        f"{name} = {value:.3g} is not finite"
        if not np.isfinite(value)
        else f"{name} = {value:.3g} exceeds {DIVERGENCE_FACTOR:g} x {scale_text} = {limit:.3g}"
    )
    eta_max = float(np.max(eta[:step])) if step > 0 else float(eta[0])
    L = objective.L
    if L is None or not L > 0:
        cause = f"the objective declares no smoothness L to compare the step size eta = {eta_max:g} with"
    else:
        bound, bound_text = (2.0 / L, "2/L") if momentum == 0 else (2.0 * (1 + momentum) / L, "2(1 + m)/L")
        if eta_max > bound:
            cause = f"the step size eta = {eta_max:g} exceeds {bound_text} = {bound:.3g} for this objective"
        else:
            cause = (
                f"the step size eta = {eta_max:g} is within {bound_text} = {bound:.3g}, so the algorithm's "
                "communication (mixing, tracking or stale contributions) amplifies it; try a smaller step size"
            )
    return f"the run diverged at step {step} and stopped there: {what}; likely cause: {cause}"


def simulate(
    objective,
    algorithm,
    steps: int,
    *,
    lr=0.1,
    timing: TimingModel | None = None,
    seed: int = 0,
    record_every: int = 1,
    x0=None,
    backend: str | Engine = "numba",
) -> Trajectory:
    """Run ``algorithm`` on ``objective`` for ``steps`` iterations through an engine.

    Every worker starts from the same model x0; event-driven algorithms (AD-PSGD)
    run until every worker has done ``steps`` iterations. Public as ``mixlab.simulate``.

    Parameters
    ----------
    objective : Objective
        The problem on n workers in dimension d (e.g. :func:`mixlab.quadratic`).
    algorithm : Algorithm
        The spec, e.g. from :func:`mixlab.build_algorithm`; it must fit n workers.
    steps : int
        Number of iterations T >= 1.
    lr : float or array_like, default 0.1
        Step size eta > 0, or the per-iteration step sizes, shape (steps,).
    timing : TimingModel or None, default None
        Compute times, stragglers and alpha-beta costs; None: ``TimingModel()``.
    seed : int, default 0
        Seed >= 0 of the run's draws: gradient noise, minibatches, compute times, peers.
    record_every : int, default 1
        Record every this many steps, and after the last.
    x0 : array_like or None, default None
        The common initial model, (d,); None: zeros.
    backend : str or Engine, default "numba"
        The engine, a key of :data:`ENGINES` ("numba", "reference" or "mpi"; the same
        keyword chooses the implementation of every kernel), or a configured engine
        object such as ``MPIEngine(lockstep=True)``.

    Returns
    -------
    Trajectory
        The columns of :data:`mixlab.kernels.trajectory.COLUMNS` (step, loss_gap,
        grad_norm_sq, consensus, consensus_normalized, staleness_max, staleness_mean,
        sim_time) at step 0 and every recorded step, the run's parameters and the
        objective's constants. A run that diverges (its loss gap or Gamma / n not
        finite or past :data:`~mixlab.kernels.trajectory.DIVERGENCE_FACTOR` times its
        scale at step 0, checked at recorded steps) stops at that record, and its
        trajectory says so (``diverged``, ``diverged_at``).

    Raises
    ------
    ParameterError
        If the backend is unknown or does not implement the algorithm, the algorithm
        or the timing model does not fit n, steps or record_every < 1, seed < 0, a step
        size is not finite and > 0, the step-size array is not (steps,), or x0 is not
        a finite (d,) array.

    Warns
    -----
    DivergenceWarning
        When the run diverges: the step, the quantity that blew up, and the likely
        cause (a step size past 2/L, 2(1 + m)/L with momentum m, for the objective's L).

    Examples
    --------
    >>> import mixlab as ml
    >>> f = ml.quadratic(8, 4, sigma2=0.0, seed=0)
    >>> alg = ml.build_algorithm("dpsgd", 8, topology="ring")
    >>> tr = ml.simulate(f, alg, 20, lr=0.5, record_every=5, backend="reference")
    >>> tr["step"].tolist()
    [0.0, 5.0, 10.0, 15.0, 20.0]
    >>> bool(tr["loss_gap"][-1] < 0.01 * tr["loss_gap"][0]), tr.params["algorithm"]
    (True, 'dpsgd')

    References
    ----------
    Semantics of every algorithm and the simulated-time model: docs/design.md,
    section "Algorithms (synchronous and asynchronous)" and its timing-model
    paragraph. The allreduce cost 2 ceil(log2 m) alpha + 2 (m - 1)/m d w beta is
    that of Rabenseifner's algorithm in Thakur, Rabenseifner & Gropp, "Optimization
    of collective communication operations in MPICH", Int. J. High Perform. Comput.
    Appl. 19(1), 2005.
    """
    if isinstance(backend, str):
        require_choice("backend", backend, ENGINES)
        runner = ENGINES[backend]
    else:
        runner = backend
    steps = require_int("steps", steps, minimum=1)
    record_every = require_int("record_every", record_every, minimum=1)
    seed = require_int("seed", seed, minimum=0, maximum=SEED_MAX)
    timing = TimingModel() if timing is None else timing
    n, d = objective.n, objective.d
    if not runner.supports(algorithm):
        raise unsupported(runner.name, algorithm.name)
    algorithm.check_workers(n)
    timing.check_workers(n)
    eta = _step_sizes(lr, steps)
    x0 = np.zeros(d) if x0 is None else np.asarray(x0, dtype=np.float64)
    if x0.shape != (d,):
        raise ParameterError(f"x0 must have shape ({d},), got {x0.shape}")
    require_finite("x0", x0)
    X0 = np.tile(x0, (n, 1))
    columns = runner.run(objective, algorithm, steps, eta, timing, seed, record_every, X0)
    scale = model_scale(X0, objective.x_star)
    found = first_divergence(columns, scale)
    diverged_at = None
    if found is not None:  # the engines stop there; an engine that did not is cut there
        row, code = found
        columns = {name: column[: row + 1] for name, column in columns.items()}
        diverged_at = int(columns["step"][row])
        message = _divergence_message(columns, row, code, scale, eta, objective, algorithm.momentum)
        warnings.warn(DivergenceWarning(message), stacklevel=2)
    params = {
        **algorithm.params(),
        "objective": objective.name,
        "workers": n,
        "dim": d,
        "steps": steps,
        "lr": float(eta[0]),
        "lr_schedule_final": float(eta[-1]),
        "seed": seed,
        "backend": runner.name,
        "record_every": record_every,
        "timing": timing.as_dict(),
    }
    return Trajectory(columns, params, objective.constants(), diverged_at)


__all__ = ["ENGINES", "Engine", "simulate"]
