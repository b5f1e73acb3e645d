"""The NumPy reference engine: the specification every other engine must match.
It shares no compiled code with them: steps, gradients, losses, metrics, costs
and timing draws are plain NumPy.

Synchronous algorithms are vectorized over workers, one Python step per
iteration through the algorithm's ``reference_step``; event-driven ones
(AD-PSGD) are a plain event loop over ``reference_event``. Every random draw
comes from :mod:`mixlab.kernels.counter_rng` keyed by (worker, iteration), so a
compiled engine reproduces these trajectories.

Simulated time. Worker i starts iteration t at s_i(t), computes for c_i(t)
(:class:`~mixlab.kernels.timing.TimingModel`) and arrives at a_i(t) = s_i + c_i;
each algorithm sets the next start times (its module docstring says how).

Divergence. Every record is checked with
:func:`~mixlab.kernels.trajectory.divergence_code`; the run stops at the first
divergent record (the compiled engine applies the same rule to the same rows).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from mixlab.kernels import progress
from mixlab.kernels.algorithms.base import Costs, allreduce_cost
from mixlab.kernels.engines.base import due
from mixlab.kernels.trajectory import COLUMNS, STABLE, divergence_code, divergence_limits, model_scale


@dataclass
class ReferenceState:
    """What a reference step reads and rebinds; an algorithm's own state goes in ``extra``.

    Parameters
    ----------
    objective : Objective
        The problem (its NumPy gradients and losses).
    timing : TimingModel
        Compute times, stragglers and alpha-beta costs.
    seed : int
        Seed of the run's draws.
    costs : Costs
        Communication costs.
    momentum : float
        Heavy-ball momentum m.
    X : numpy.ndarray, (n, d)
        The models, row i = worker i.
    U : numpy.ndarray, (n, d)
        Heavy-ball buffers (local, never averaged).
    w : numpy.ndarray, (n,)
        Push-sum weights (ones unless the algorithm is push-sum).
    a : numpy.ndarray, (n,)
        Arrival times of this iteration, a_i = s_i + c_i.
    clocks : numpy.ndarray, (n,)
        Start times s_i; a step sets those of the next iteration.
    back : numpy.ndarray of int64, (n,)
        Staleness, in iterations, of each worker's contribution to this step.
    extra : dict, default {}
        The algorithm's own state (trackers, histories, counters).
    """

    objective: object
    timing: object
    seed: int
    costs: Costs
    momentum: float
    X: np.ndarray
    U: np.ndarray
    w: np.ndarray
    a: np.ndarray
    clocks: np.ndarray
    back: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of workers n.

        Returns
        -------
        int
            Rows of X.
        """
        return self.X.shape[0]

    @property
    def d(self) -> int:
        """Model dimension d.

        Returns
        -------
        int
            Columns of X.
        """
        return self.X.shape[1]

    def models(self, debiased: bool) -> np.ndarray:
        """The recorded models: X, or the push-sum de-biased X / w.

        Parameters
        ----------
        debiased : bool
            True for push-sum algorithms (the models are x_i / w_i).

        Returns
        -------
        numpy.ndarray, (n, d)
            X itself, or a new array x_i / w_i.
        """
        return self.X / self.w[:, None] if debiased else self.X


class Recorder:
    """Collects the trajectory columns at recorded steps.

    Staleness values accumulate between records; each record takes their maximum
    and mean and starts over. Every record after the first is checked for
    divergence against limits set by the first
    (:func:`~mixlab.kernels.trajectory.divergence_limits`).

    Parameters
    ----------
    objective : Objective
        The problem; losses and gradients are taken at the mean model.
    steps : int
        Number of steps T of the run (for the progress report).
    scale : float, default 0.0
        The squared size of the models, :func:`~mixlab.kernels.trajectory.model_scale`.
    """

    def __init__(self, objective, steps: int, scale: float = 0.0):
        self.objective = objective
        self.steps = steps
        self.scale = scale
        self.limits = (0.0, 0.0)
        self.rows: list[tuple] = []
        self.stale_max = 0.0
        self.stale_sum = 0.0
        self.stale_count = 0

    def staleness(self, values) -> None:
        """Add staleness values (in iterations or updates) to the current record.

        Parameters
        ----------
        values : array_like
            The staleness of each contribution since the last call; may be empty.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.size:
            self.stale_max = max(self.stale_max, float(values.max()))
            self.stale_sum += float(values.sum())
            self.stale_count += values.size

    def record(self, step: int, xbar: np.ndarray, models: np.ndarray, sim_time: float) -> int:
        """Append one row: loss gap and squared gradient norm at xbar, consensus, staleness, time.

        Parameters
        ----------
        step : int
            The step just ended (0: the initial state).
        xbar : numpy.ndarray, (d,)
            The mean model, where the loss gap f(xbar) - f* and ||grad f(xbar)||^2 are taken.
        models : numpy.ndarray, (n, d)
            The models of the consensus distance Gamma = sum_i ||x_i - mean||^2 (de-biased
            for push-sum).
        sim_time : float
            Simulated time of the record.

        Returns
        -------
        int
            The row's :func:`~mixlab.kernels.trajectory.divergence_code`: 0 while the
            run has not diverged (always for the first row, which sets the limits).
        """
        f = self.objective
        g = f.reference_grad(xbar)
        loss = f.reference_loss(xbar)
        gamma = float(((models - models.mean(axis=0)) ** 2).sum())
        mean_stale = self.stale_sum / self.stale_count if self.stale_count else 0.0
        self.rows.append(
            (
                step,
                loss - (f.f_star or 0.0),
                float(g @ g),
                gamma,
                gamma / models.shape[0],
                self.stale_max,
                mean_stale,
                sim_time,
            )
        )
        self.stale_max, self.stale_sum, self.stale_count = 0.0, 0.0, 0
        gap, consensus = self.rows[-1][1], self.rows[-1][4]
        if len(self.rows) == 1:
            self.limits = divergence_limits(gap, consensus, self.scale)
            return STABLE
        code = divergence_code(gap, consensus, *self.limits)
        if code == STABLE:
            progress.report(step, self.steps)
        return code

    def columns(self) -> dict:
        """The recorded rows as trajectory columns.

        Returns
        -------
        dict
            name -> (records,) array for every name of
            :data:`mixlab.kernels.trajectory.COLUMNS`.
        """
        data = np.array(self.rows, dtype=np.float64).reshape(-1, len(COLUMNS))
        return {name: data[:, c].copy() for c, name in enumerate(COLUMNS)}


class ReferenceEngine:
    """The NumPy reference engine, ``reference``: the specification every engine must match.

    Synchronous algorithms run one ``reference_step`` per iteration; event-driven
    ones an event loop over ``reference_event`` in (time, worker) order.
    """

    name = "reference"

    def supports(self, algorithm) -> bool:
        """Whether the algorithm has a reference step: ``reference_event`` or ``reference_step`` by its kind.

        Parameters
        ----------
        algorithm : Algorithm
            An algorithm spec.

        Returns
        -------
        bool
            True if :meth:`run` can run it.
        """
        return hasattr(algorithm, "reference_event" if algorithm.kind == "events" else "reference_step")

    def run(self, objective, algorithm, steps, lr, timing, seed, record_every, X0) -> dict:
        """Run ``algorithm`` step by step in NumPy; see :meth:`Engine.run`.

        Parameters
        ----------
        objective : Objective
            The problem on n workers in dimension d.
        algorithm : Algorithm
            A spec with a reference step, checked against n.
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
        n, d = X0.shape
        costs = Costs(
            timing.alpha,
            timing.beta,
            timing.word_bytes,
            allreduce_cost(n, d, timing.alpha, timing.beta, timing.word_bytes),
            timing.message_cost(d),
        )
        st = ReferenceState(
            objective,
            timing,
            seed,
            costs,
            algorithm.momentum,
            X0.copy(),
            np.zeros((n, d)),
            np.ones(n),
            np.zeros(n),
            np.zeros(n),
            np.zeros(n, dtype=np.int64),
        )
        rec = Recorder(objective, steps, model_scale(X0, objective.x_star))
        # A diverging run overflows before it is caught at a record; that is reported as
        # divergence (mixlab.simulate warns), not as NumPy floating-point warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            rec.record(0, st.X.mean(axis=0), st.X, 0.0)
            if algorithm.kind == "events":
                return self._events(algorithm, st, rec, steps, lr, record_every)
            return self._steps(algorithm, st, rec, steps, lr, record_every)

    @staticmethod
    def _steps(algorithm, st, rec, steps, lr, record_every) -> dict:
        n, timing, seed = st.n, st.timing, st.seed
        for t in range(steps):
            st.a = st.clocks + timing.compute_times(n, t, seed)
            algorithm.reference_step(st, t, lr[t])
            rec.staleness(st.back)
            if due(t, steps, record_every):
                models = st.models(algorithm.debiased)
                if rec.record(t + 1, st.X.mean(axis=0), models, float(st.clocks.max())) != STABLE:
                    break
        return rec.columns()

    @staticmethod
    def _events(algorithm, st, rec, steps, lr, record_every) -> dict:
        n = st.n
        c0 = st.timing.compute_times(n, 0, st.seed)
        heap = [(float(c0[i]), i) for i in range(n)]
        heapq.heapify(heap)
        events = 0
        while heap:
            time, i = heapq.heappop(heap)
            nxt, stale = algorithm.reference_event(st, i, time, lr)
            rec.staleness([stale])
            events += 1
            if nxt is not None:
                heapq.heappush(heap, (nxt, i))
            if (
                events % n == 0
                and due(events // n - 1, steps, record_every)
                and rec.record(events // n, st.X.mean(axis=0), st.X, time) != STABLE
            ):
                break
        return rec.columns()
