"""The NumPy reference engine: the specification of every algorithm.

Synchronous algorithms are vectorized over workers, one Python step per
iteration; AD-PSGD is a plain event loop. Every random draw comes from
:mod:`mixlab.kernels.counter_rng` keyed by (worker, iteration), so the
compiled engine reproduces these trajectories.

Simulated time. Worker i starts iteration t at s_i(t), computes for c_i(t)
(:class:`~mixlab.kernels.timing.TimingModel`) and arrives at a_i(t) = s_i + c_i.

- allreduce, local SGD's averaging steps, WAGMA's global steps: all wait for
  the slowest, then an allreduce of n: s(t+1) = max_j a_j + allreduce_cost(n).
- local SGD's local steps: s_i(t+1) = a_i.
- D-PSGD, SGP: neighbourhood-synchronous, messages in parallel:
  s_i(t+1) = max_{j: W_ij != 0} a_j + message_cost.

WAGMA-SGD (Li et al., TPDS 2021), iteration t, the butterfly groups of phase
t mod k (the reference code's ``ffallreduce_nh`` step). Each worker publishes
P_i = x_i (CTA) or x_i - eta D_i (ATC) when it calls the collective, at a_i.
If t mod tau = tau - 1 the group step is replaced by a blocking global mean
of the published models (the reference code's ``LIMITER``). Otherwise, with
wait avoidance, the first arrival activates the collective and member j
contributes P_j(t) if it has arrived by the activation window W of its group
(a_j <= W, below), otherwise the model it published at its latest earlier call that happened by
W (the send buffer of the reference code; iteration t' < t, staleness t - t';
before any call, the initial model). Two activations:

- ``global`` (the reference code, ``ffactivation.c``): the first arrival
  anywhere, A = min_i a_i over all n workers, activates everyone by a
  binomial broadcast, W = A + ceil(log2 n) alpha, and every group then
  reduces: its result is ready at R_G = W + allreduce_cost(S). A group whose
  members all arrive after W is reduced from stale send buffers only.
- ``group``: group G is activated at its own first arrival
  A_G = min_{i in G} a_i; the activation reaches the members within
  ceil(log2 S) alpha (recursive doubling), W_G = A_G + ceil(log2 S) alpha,
  and the result is ready at R_G = A_G + allreduce_cost(S).

The result is the ``mean`` of the contributions, or ``self_weighted`` (sum of
contributions + own current P_i) / (S + 1) as the reference code computes it.
Every member takes the result when it has arrived: x_i <- result_i - eta D_i
(CTA) or x_i <- result_i (ATC), and s_i(t+1) = max(a_i, R_G). Without wait
avoidance, groups wait for their slowest member: R_G = max_{j in G} a_j +
allreduce_cost(S), all fresh. Staleness never exceeds tau - 1 under either
activation: the global step g, the last one before t, waits for everyone, so
every call of g happened by s(g+1) <= min_i a_i(t) <= W; an earlier call at
most t - g <= tau - 1 iterations back (or the initial model before the first
global step) is always found.

AD-PSGD (Lian et al., ICML 2018): worker i reads its model, computes a
gradient on that read for c_i(k), then averages x_i and x_j <- (x_i + x_j)/2
with a uniformly random neighbour j (draw k n + i of stream PEER), applies
x_i <- x_i - eta_k D_i, and starts iteration k + 1 after message_cost.
Events run in (time, worker) order. Staleness: updates made to x_i by other
workers between the read and the application of the gradient. A run of
``steps`` means every worker performs ``steps`` iterations; step s of the
trajectory is recorded after n s events.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from mixlab.kernels import counter_rng as crng
from mixlab.kernels import progress
from mixlab.kernels.algorithms import ADPSGD, SGP, WAGMA, AllreduceSGD, DPSGD, LocalSGD
from mixlab.kernels.timing import TimingModel


class Recorder:
    """Collects the trajectory columns at recorded steps."""

    def __init__(self, objective, steps: int):
        self.objective = objective
        self.steps = steps
        self.rows = []
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
        g = f.grad(xbar)
        loss = f.loss(xbar)
        gamma = float(((models - models.mean(axis=0)) ** 2).sum())
        mean_stale = self.stale_sum / self.stale_count if self.stale_count else 0.0
        self.rows.append((step, loss - (f.f_star or 0.0), float(g @ g), gamma, gamma / models.shape[0],
                          self.stale_max, mean_stale, sim_time))
        self.stale_max, self.stale_sum, self.stale_count = 0.0, 0.0, 0
        if step:
            progress.report(step, self.steps)

    def columns(self) -> dict:
        from mixlab.kernels.trajectory import COLUMNS

        data = np.array(self.rows, dtype=np.float64).reshape(-1, len(COLUMNS))
        return {name: data[:, c].copy() for c, name in enumerate(COLUMNS)}


def due(t: int, steps: int, record_every: int) -> bool:
    """Record after step t (0-based) ends: every record_every steps and at the end."""
    return (t + 1) % record_every == 0 or t + 1 == steps


def _updates(alg, G, U):
    """Local update D from gradients G (heavy ball keeps its buffer U local)."""
    if alg.momentum == 0.0:
        return G
    U *= alg.momentum
    U += G
    return U


def _neighbourhood_clock(W, arrivals, cost):
    return np.maximum.reduceat(arrivals[W.indices], W.indptr[:-1]) + cost


def run_reference(objective, alg, steps: int, lr: np.ndarray, timing: TimingModel, seed: int,
                  record_every: int, x0: np.ndarray) -> dict:
    """Run ``alg`` for ``steps`` iterations; returns the trajectory columns."""
    if isinstance(alg, ADPSGD):
        return _run_adpsgd(objective, alg, steps, lr, timing, seed, record_every, x0)
    n, d = objective.n, objective.d
    X = np.tile(x0, (n, 1))
    U = np.zeros((n, d))
    clocks = np.zeros(n)
    rec = Recorder(objective, steps)
    rec.record(0, X.mean(axis=0), X, 0.0)
    w = np.ones(n)                                                      # SGP weights
    if isinstance(alg, WAGMA):
        tau = alg.sync_period
        hist = np.empty((tau, n, d))
        hist[tau - 1] = X                                               # iteration -1: x0
        arr = np.full((tau, n), -np.inf)
    for t in range(steps):
        eta = lr[t]
        a = clocks + timing.compute_times(n, t, seed)
        Z = X / w[:, None] if isinstance(alg, SGP) else X
        D = _updates(alg, objective.stochastic_grads(Z, t, seed), U)
        if isinstance(alg, AllreduceSGD):
            X = np.tile(X.mean(axis=0) - eta * D.mean(axis=0), (n, 1))
            clocks[:] = a.max() + timing.allreduce_cost(n, d)
        elif isinstance(alg, LocalSGD):
            X = X - eta * D
            if (t + 1) % alg.local_steps == 0:
                X = np.tile(X.mean(axis=0), (n, 1))
                clocks[:] = a.max() + timing.allreduce_cost(n, d)
            else:
                clocks = a
        elif isinstance(alg, SGP):
            P = alg.mixing[t % len(alg.mixing)]
            X = P @ (X - eta * D)
            w = P @ w
            clocks = _neighbourhood_clock(P, a, timing.message_cost(d))
        elif isinstance(alg, DPSGD):
            W = alg.mixing[t % len(alg.mixing)]
            X = W @ X - eta * D if alg.order == "cta" else W @ (X - eta * D)
            clocks = _neighbourhood_clock(W, a, timing.message_cost(d))
        else:
            X, clocks = _wagma_step(alg, t, X, D, eta, a, hist, arr, timing, rec, d)
        if due(t, steps, record_every):
            models = X / w[:, None] if isinstance(alg, SGP) else X
            rec.record(t + 1, X.mean(axis=0), models, float(clocks.max()))
    return rec.columns()


def _wagma_step(alg, t, X, D, eta, a, hist, arr, timing, rec, d):
    n = X.shape[0]
    tau = alg.sync_period
    P = X if alg.order == "cta" else X - eta * D
    hist[t % tau] = P
    arr[t % tau] = a
    step = (lambda avg, rows: avg - eta * D[rows]) if alg.order == "cta" else (lambda avg, rows: avg)
    if t % tau == tau - 1:                                             # blocking global mean
        rec.staleness(np.zeros(n))
        return step(np.tile(P.mean(axis=0), (n, 1)), slice(None)), \
            np.full(n, a.max() + timing.allreduce_cost(n, d))
    groups = alg.groups[t % alg.groups.shape[0]]                       # (m, S)
    m, S = groups.shape
    aG = a[groups]
    cost = timing.allreduce_cost(S, d)
    if alg.wait_avoiding:
        if alg.activation == "global":
            window = np.full(m, a.min() + math.ceil(math.log2(n)) * timing.alpha)
            ready = window + cost
        else:
            first = aG.min(axis=1)
            window = first + math.ceil(math.log2(S)) * timing.alpha
            ready = first + cost
        back = np.zeros((m, S), dtype=np.int64)
        found = aG <= window[:, None]
        for b in range(1, tau):
            if t - b < -1:
                break
            ok = ~found & (arr[(t - b) % tau][groups] <= window[:, None])
            back[ok] = b
            found |= ok
        assert found.all(), "an earlier call always exists after the last global step"
    else:
        ready = aG.max(axis=1) + cost
        back = np.zeros((m, S), dtype=np.int64)
    rec.staleness(back)
    C = hist[(t - back) % tau, groups]                                 # (m, S, d)
    total = C.sum(axis=1)
    if alg.rule == "mean":
        avg = np.broadcast_to((total / S)[:, None, :], C.shape)
    else:
        avg = (total[:, None, :] + P[groups]) / (S + 1)
    X_new = np.empty_like(X)
    X_new[groups] = step(avg, groups)
    clocks = np.empty(n)
    clocks[groups] = np.maximum(aG, ready[:, None])
    return X_new, clocks


def _run_adpsgd(objective, alg, steps, lr, timing, seed, record_every, x0):
    n, d = objective.n, objective.d
    X = np.tile(x0, (n, 1))
    U = np.zeros((n, d))
    rec = Recorder(objective, steps)
    rec.record(0, X.mean(axis=0), X, 0.0)
    read = X.copy()
    version = np.zeros(n, dtype=np.int64)
    read_version = np.zeros(n, dtype=np.int64)
    k = np.zeros(n, dtype=np.int64)
    c0 = timing.compute_times(n, 0, seed)
    heap = [(float(c0[i]), i) for i in range(n)]
    heapq.heapify(heap)
    msg = timing.message_cost(d)
    events = 0
    while heap:
        time, i = heapq.heappop(heap)
        G = objective.stochastic_grads(read[i:i + 1], k[i], seed, workers=[i])
        Ui = U[i:i + 1]
        D = _updates(alg, G, Ui)
        deg = alg.indptr[i + 1] - alg.indptr[i]
        u = float(crng.uniform_np(seed, crng.PEER, np.array([k[i] * n + i]))[0])
        j = int(alg.indices[alg.indptr[i] + int(u * deg)])
        avg = (X[i] + X[j]) / 2
        X[i] = avg
        X[j] = avg
        version[j] += 1
        rec.staleness([version[i] - read_version[i]])
        X[i] -= lr[k[i]] * D[0]
        version[i] += 1
        k[i] += 1
        events += 1
        if k[i] < steps:
            read[i] = X[i]
            read_version[i] = version[i]
            start = time + msg
            heapq.heappush(heap, (start + float(timing.compute_times(n, k[i], seed)[i]), i))
        if events % n == 0 and due(events // n - 1, steps, record_every):
            rec.record(events // n, X.mean(axis=0), X, time)
    return rec.columns()
