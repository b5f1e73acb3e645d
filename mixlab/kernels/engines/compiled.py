"""The compiled engine (``numba``): whole runs in Numba, one driver loop for every
synchronous algorithm and one for every event-driven one; the algorithm's
compiled step is an argument of the driver.

The driver takes the step as a first-class function of a fixed signature
(``numba.types.FunctionType``) and is compiled once per algorithm's parameter
type, so its machine code is cached on disk like any kernel (a driver that took
the step as an ordinary dispatcher argument would be recompiled in every
process). Semantics are those of :mod:`mixlab.kernels.engines.reference`; same
seed, same draws, so the two agree to rounding. Both stop at the first record
that :func:`~mixlab.kernels.trajectory.divergence_code` calls divergent (the
drivers compile that rule and return the number of rows they recorded).
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np
from numba import types

from mixlab.kernels import progress
from mixlab.kernels.algorithms.base import Costs, RunState
from mixlab.kernels.config import NUMBA_DRIVER, NUMBA_JIT
from mixlab.kernels.engines.base import record_count
from mixlab.kernels.events import heap_pop, heap_push
from mixlab.kernels.objectives import full_loss_grad
from mixlab.kernels.timing import allreduce_cost, compute_time, straggler_mask
from mixlab.kernels.trajectory import COLUMN, COLUMNS, divergence_code, divergence_limits, model_scale

NCOL = len(COLUMNS)
# The divergence rule, compiled from the plain-Python definition the reference engine runs.
_limits = numba.njit(**NUMBA_JIT)(divergence_limits)
_divergence = numba.njit(**NUMBA_JIT)(divergence_code)


def run_state(objective, timing, seed: int, momentum: float, X0: np.ndarray) -> RunState:
    """The initial :class:`RunState` of a compiled run from X0.

    Models X0 copied, gradients and buffers zero, push-sum weights one, clocks
    zero, staleness zero; the costs precomputed for n workers and d floats.

    Parameters
    ----------
    objective : Objective
        The problem; its compiled arrays go into the state.
    timing : TimingModel
        Compute times, stragglers and alpha-beta costs.
    seed : int
        Seed of the run's draws.
    momentum : float
        Heavy-ball momentum m.
    X0 : numpy.ndarray, (n, d)
        The initial models.

    Returns
    -------
    RunState
        The state the compiled drivers and steps update in place.
    """
    n, d = X0.shape
    costs = Costs(
        float(timing.alpha),
        float(timing.beta),
        int(timing.word_bytes),
        float(allreduce_cost(n, d, timing.alpha, timing.beta, timing.word_bytes)),
        float(timing.message_cost(d)),
    )
    return RunState(
        objective.arrays(),
        timing.arrays(seed),
        costs,
        float(momentum),
        X0.copy(),
        np.zeros((n, d)),
        np.zeros((n, d)),
        np.empty((n, d)),
        np.empty((n, d)),
        np.ones(n),
        np.empty(n),
        np.zeros(n),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.bool_),
        np.zeros(max(timing.stragglers, 1), dtype=np.int64),
    )


@numba.njit(**NUMBA_JIT)
def _record(s, row, step, debiased, stale_max, stale_sum, stale_count, sim_time, out):
    X, w = s.X, s.w
    n, d = X.shape
    xbar = np.zeros(d)
    for i in range(n):
        for j in range(d):
            xbar[j] += X[i, j]
    xbar /= n
    mbar = np.zeros(d)  # mean of the models (push-sum: de-biased)
    for i in range(n):
        f = 1.0 / w[i] if debiased else 1.0
        for j in range(d):
            mbar[j] += X[i, j] * f
    mbar /= n
    gamma = 0.0
    for i in range(n):
        f = 1.0 / w[i] if debiased else 1.0
        for j in range(d):
            r = X[i, j] * f - mbar[j]
            gamma += r * r
    g = np.empty(d)
    loss = full_loss_grad(s.objective, xbar, g)
    out[row, COLUMN.step] = step
    out[row, COLUMN.loss_gap] = loss - s.objective.f_star
    out[row, COLUMN.grad_norm_sq] = np.dot(g, g)
    out[row, COLUMN.consensus] = gamma
    out[row, COLUMN.consensus_normalized] = gamma / n
    out[row, COLUMN.staleness_max] = stale_max
    out[row, COLUMN.staleness_mean] = stale_sum / stale_count if stale_count > 0 else 0.0
    out[row, COLUMN.sim_time] = sim_time


@numba.njit(**NUMBA_JIT)
def _arrivals(s, t):
    n = s.a.shape[0]
    straggler_mask(s.timing, n, t, s.mask, s.scratch)
    for i in range(n):
        s.a[i] = s.clocks[i] + compute_time(s.timing, n, i, t, s.mask[i])


@numba.njit(**NUMBA_JIT)
def _diverged(out, row, limit_gap, limit_consensus):
    return _divergence(
        out[row, COLUMN.loss_gap], out[row, COLUMN.consensus_normalized], limit_gap, limit_consensus
    )


@numba.njit(**NUMBA_DRIVER)
def _drive(step, s, p, lr, record_every, debiased, scale, out):
    steps = lr.shape[0]
    n = s.X.shape[0]
    _record(s, 0, 0, debiased, 0.0, 0.0, 0, 0.0, out)
    limit_gap, limit_consensus = _limits(out[0, COLUMN.loss_gap], out[0, COLUMN.consensus_normalized], scale)
    row = 1
    stale_max, stale_sum, stale_count = 0.0, 0.0, 0
    for t in range(steps):
        _arrivals(s, t)
        step(t, lr[t], s, p)
        for i in range(n):
            stale_max = max(stale_max, float(s.back[i]))
            stale_sum += s.back[i]
        stale_count += n
        if (t + 1) % record_every == 0 or t + 1 == steps:
            _record(s, row, t + 1, debiased, stale_max, stale_sum, stale_count, s.clocks.max(), out)
            row += 1
            if _diverged(out, row - 1, limit_gap, limit_consensus) != 0:
                return row
            with numba.objmode():
                progress.report(t + 1, steps)
            stale_max, stale_sum, stale_count = 0.0, 0.0, 0
    return row


@numba.njit(**NUMBA_DRIVER)
def _drive_events(event, s, p, lr, record_every, scale, out):
    steps = lr.shape[0]
    n = s.X.shape[0]
    times = np.empty(n)
    ids = np.empty(n, dtype=np.int64)
    size = 0
    straggler_mask(s.timing, n, 0, s.mask, s.scratch)
    for i in range(n):
        size = heap_push(times, ids, size, compute_time(s.timing, n, i, 0, s.mask[i]), i)
    _record(s, 0, 0, False, 0.0, 0.0, 0, 0.0, out)
    limit_gap, limit_consensus = _limits(out[0, COLUMN.loss_gap], out[0, COLUMN.consensus_normalized], scale)
    row = 1
    events = 0
    stale_max, stale_sum, stale_count = 0.0, 0.0, 0
    while size > 0:
        time, i, size = heap_pop(times, ids, size)
        nxt, stale = event(i, time, lr, s, p)
        stale_max = max(stale_max, stale)
        stale_sum += stale
        stale_count += 1
        events += 1
        if nxt >= 0.0:
            size = heap_push(times, ids, size, nxt, i)
        if events % n == 0:
            step = events // n
            if step % record_every == 0 or step == steps:
                _record(s, row, step, False, stale_max, stale_sum, stale_count, time, out)
                row += 1
                if _diverged(out, row - 1, limit_gap, limit_consensus) != 0:
                    return row
                with numba.objmode():
                    progress.report(step, steps)
                stale_max, stale_sum, stale_count = 0.0, 0.0, 0
    return row


_LR = types.float64[::1]
_OUT = types.float64[:, ::1]


@cache
def _driver(kind: str, state_type, params_type):
    """The driver's entry point compiled (or loaded from the cache) for a step of
    (state_type, params_type)."""
    if kind == "events":
        fn = types.FunctionType(
            types.UniTuple(types.float64, 2)(types.int64, types.float64, _LR, state_type, params_type)
        )
        sig = types.int64(fn, state_type, params_type, _LR, types.int64, types.float64, _OUT)
        driver = _drive_events
    else:
        fn = types.FunctionType(types.void(types.int64, types.float64, state_type, params_type))
        sig = types.int64(fn, state_type, params_type, _LR, types.int64, types.boolean, types.float64, _OUT)
        driver = _drive
    if sig.args not in driver.overloads:
        driver.compile(sig)
    return driver.overloads[sig.args].entry_point


class CompiledEngine:
    """The compiled engine, ``numba``: whole runs in Numba, one driver per kind of algorithm.

    The algorithm's compiled step (``numba_step``, or ``numba_event`` for
    event-driven ones) is an argument of the driver; same seed, same draws as the
    reference engine, so the two agree to rounding.
    """

    name = "numba"

    def supports(self, algorithm) -> bool:
        """Whether the algorithm has a compiled step: ``numba_event`` or ``numba_step`` by its kind.

        Parameters
        ----------
        algorithm : Algorithm
            An algorithm spec.

        Returns
        -------
        bool
            True if :meth:`run` can run it.
        """
        return hasattr(algorithm, "numba_event" if algorithm.kind == "events" else "numba_step")

    def run(self, objective, algorithm, steps, lr, timing, seed, record_every, X0) -> dict:
        """Run ``algorithm`` through the compiled driver of its kind; see :meth:`Engine.run`.

        Parameters
        ----------
        objective : Objective
            The problem on n workers in dimension d.
        algorithm : Algorithm
            A spec with a compiled step, checked against n.
        steps : int
            Number of iterations T >= 1 (event-driven: per worker).
        lr : numpy.ndarray, (steps,)
            Step sizes eta_t > 0.
        timing : TimingModel
            Compute times, stragglers and alpha-beta costs.
        seed : int
            Seed of the run's draws.
        record_every : int
            Record every this many steps, and after the last.
        X0 : numpy.ndarray, (n, d)
            The initial models.

        Returns
        -------
        dict
            name -> (records,) array for every trajectory column; a divergent run's
            columns end at its first divergent record.
        """
        s = run_state(objective, timing, seed, algorithm.momentum, X0)
        p = algorithm.numba_params(s.X)
        out = np.zeros((record_count(steps, record_every), NCOL))
        drive = _driver(algorithm.kind, numba.typeof(s), numba.typeof(p))
        lr = np.ascontiguousarray(lr, dtype=np.float64)
        scale = model_scale(X0, objective.x_star)
        with progress.deferred_interrupts():  # Ctrl-C is raised at the next record's report
            if algorithm.kind == "events":
                rows = drive(algorithm.numba_event, s, p, lr, record_every, scale, out)
            else:
                rows = drive(algorithm.numba_step, s, p, lr, record_every, algorithm.debiased, scale, out)
        return {name: out[:rows, c].copy() for c, name in enumerate(COLUMNS)}
