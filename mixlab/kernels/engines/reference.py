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
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from mixlab.kernels import progress
from mixlab.kernels.algorithms.base import Costs, allreduce_cost
from mixlab.kernels.engines.base import due
from mixlab.kernels.trajectory import COLUMNS


@dataclass
class ReferenceState:
    """What a reference step reads and rebinds: models X, heavy-ball buffers U,
    push-sum weights w, arrivals a, clocks, the staleness ``back`` of this step's
    contributions, and ``extra`` for an algorithm's own state."""

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
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    def models(self, debiased: bool) -> np.ndarray:
        return self.X / self.w[:, None] if debiased else self.X


class Recorder:
    """Collects the trajectory columns at recorded steps."""

    def __init__(self, objective, steps: int):
        self.objective = objective
        self.steps = steps
        self.rows: list[tuple] = []
        self.stale_max = 0.0
        self.stale_sum = 0.0
        self.stale_count = 0

    def staleness(self, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.size:
            self.stale_max = max(self.stale_max, float(values.max()))
            self.stale_sum += float(values.sum())
            self.stale_count += values.size

    def record(self, step: int, xbar: np.ndarray, models: np.ndarray, sim_time: float) -> None:
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
        if step:
            progress.report(step, self.steps)

    def columns(self) -> dict:
        data = np.array(self.rows, dtype=np.float64).reshape(-1, len(COLUMNS))
        return {name: data[:, c].copy() for c, name in enumerate(COLUMNS)}


class ReferenceEngine:
    name = "reference"

    def supports(self, algorithm) -> bool:
        return hasattr(algorithm, "reference_event" if algorithm.kind == "events" else "reference_step")

    def run(self, objective, algorithm, steps, lr, timing, seed, record_every, X0) -> dict:
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
        rec = Recorder(objective, steps)
        rec.record(0, st.X.mean(axis=0), st.X, 0.0)
        if algorithm.kind == "events":
            return self._events(algorithm, st, rec, steps, lr, record_every)
        for t in range(steps):
            st.a = st.clocks + timing.compute_times(n, t, seed)
            algorithm.reference_step(st, t, lr[t])
            rec.staleness(st.back)
            if due(t, steps, record_every):
                rec.record(t + 1, st.X.mean(axis=0), st.models(algorithm.debiased), float(st.clocks.max()))
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
            if events % n == 0 and due(events // n - 1, steps, record_every):
                rec.record(events // n, st.X.mean(axis=0), st.X, time)
        return rec.columns()
