"""Asynchronous gossip learning (Mitra & Ulukus, arXiv 2404.19749): no synchronization.

User i repeats blocks: a block lasts c_i + Exp with mean 1/mu_i (``shift`` and
``mean_block``, scalars or per-user arrays; block j of user i uses draw j n + i
of stream COMPUTE); when it ends, the user applies K
local SGD steps to its current model (gradient draws keyed (i, j K + s), as in
the optimizer engine) and increments its own version counter V[i, i]. The
model and versions are then those the user publishes. Independently, every
user gossips at Poisson rate ``gossip_rate`` to a uniformly random neighbour
(event e: draws 3e, 3e+1, 3e+2 of stream GOSSIP for time, sender, receiver).
Push: the receiver j averages x_j <- (x_j + x_i)/2 and takes V[j] <- max(V[j],
V[i]) componentwise; exchange: both sides do it. User i gossips at its own
capacity lambda_i (``gossip_rate``, scalar or per-user): the sender of a
gossip event is drawn with probability lambda_i / sum lambda. Staleness of
i's model at j is S_i^j = V[i, i] - V[j, i].

Measured: f(xbar) - f*, the users' mean loss gap, ||grad f(xbar)||^2, Gamma, and
the staleness averaged over ordered pairs, time-averaged with batch means
after ``warmup``. Theory (complete graph, push): (u/lambda) H_{n-1} with u =
1/(shift + mean_block), the block rate (mixlab.theory.version_age); with
heterogeneous capacities it lies between the values at lambda_max and lambda_min.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels import counter_rng as crng
from mixlab.kernels.config import NUMBA_DRIVER, NUMBA_JIT
from mixlab.kernels.events import heap_pop, heap_push, pick_cumulative
from mixlab.kernels.objectives import full_loss_grad, stochastic_grad
from mixlab.seeding import SEED_MAX
from mixlab.validate import require_choice, require_int, require_real
from mixlab.vocabulary import CPU_BACKENDS, GOSSIP_MODES

COLUMNS = (
    "time",
    "loss_gap",
    "user_loss_gap",
    "grad_norm_sq",
    "consensus",
    "staleness_mean",
    "staleness_max",
)


@dataclass(frozen=True)
class GossipLearningRun:
    """The result of :func:`simulate_gossip_learning`: recorded metrics and the staleness estimate.

    Index it by column name (``run["loss_gap"]``).

    Parameters
    ----------
    columns : dict of str to numpy.ndarray
        One entry per record (every ``record_every``, from time 0), for each name of
        :data:`COLUMNS`: ``time``, ``loss_gap`` (f(xbar) - f*), ``user_loss_gap`` (the
        users' mean f(x_i) - f*), ``grad_norm_sq`` (||grad f(xbar)||^2), ``consensus``
        (Gamma), ``staleness_mean`` (averaged over ordered pairs and over the time since
        the previous record; 0 at the first) and ``staleness_max`` (at the record).
    staleness : float
        Mean staleness S_i^j over ordered pairs (i, j), time-averaged after the warm-up.
    staleness_stderr : float
        Its batch-means standard error.
    blocks : int
        Local-SGD blocks completed by all users.
    gossips : int
        Gossip events.
    params : dict
        The run's parameters (per-user rates as lists, ``block_rate`` included).
    """

    columns: dict
    staleness: float
    staleness_stderr: float
    blocks: int
    gossips: int
    params: dict

    def __getitem__(self, name):
        return self.columns[name]


def _per_user(name: str, value, n: int, *, positive: bool) -> np.ndarray:
    a = (
        np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
        if np.ndim(value) == 0
        else np.asarray(value, dtype=np.float64)
    )
    if a.shape != (n,):
        raise ParameterError(f"{name} must be a number or one value per user (n = {n}), got shape {a.shape}")
    for v in a:
        require_real(name, v, low=0, low_open=positive)
    return a


def simulate_gossip_learning(
    objective,
    *,
    duration: float,
    gossip_rate=1.0,
    local_steps: int = 1,
    lr: float = 0.05,
    shift=0.2,
    mean_block=0.8,
    neighbors=None,
    mode: str = "push",
    record_every: float | None = None,
    warmup: float = 0.2,
    batches: int = 10,
    seed: int = 0,
    x0=None,
    backend: str = "numba",
) -> GossipLearningRun:
    """Simulate asynchronous gossip learning for ``duration`` units of time.

    Users run blocks of local SGD and gossip with no synchronization; the
    staleness of the users' models is their version age (see the module docstring).

    Parameters
    ----------
    objective : Objective
        The problem (:func:`~mixlab.kernels.objectives.make_objective`); its n >= 2 is
        the number of users.
    duration : float
        Simulated time > 0.
    gossip_rate : float or array_like
        Gossip capacity lambda_i > 0 of each user: a scalar or (n,) (default 1).
    local_steps : int
        K >= 1 SGD steps per block (default 1).
    lr : float
        Step size eta > 0 (default 0.05).
    shift : float or array_like
        Constant part c_i >= 0 of a block time, scalar or (n,) (default 0.2).
    mean_block : float or array_like
        Mean 1/mu_i > 0 of the exponential part of a block time, scalar or (n,)
        (default 0.8; block rate u_i = 1/(c_i + 1/mu_i)).
    neighbors : tuple of (array_like, array_like), optional
        ``(indptr, indices)``: CSR of the communication graph, every user with at
        least one neighbour; default the complete graph.
    mode : {"push", "exchange"}
        ``push``: the receiver averages; ``exchange``: both sides do (default ``"push"``).
    record_every : float, optional
        Time between records (> 0); default ``duration / 50``.
    warmup : float
        Fraction of ``duration`` before the staleness is measured, in [0, 1)
        (default 0.2).
    batches : int
        Batches of the staleness standard error, >= 2 (default 10).
    seed : int
        Seed of every draw, >= 0 (default 0).
    x0 : array_like, optional
        (d,) initial model of every user; default zeros.
    backend : {"numba", "reference"}
        Compiled event loop, or the NumPy reference on the same draws (default
        ``"numba"``).

    Returns
    -------
    GossipLearningRun
        The recorded metrics, the staleness estimate and the run's parameters.

    Raises
    ------
    ParameterError
        For n < 2 or a value outside the ranges above.

    References
    ----------
    P. Mitra and S. Ulukus, "Scale-robust timely asynchronous decentralized
    learning", arXiv 2404.19749, 2024 (the model); R. D. Yates, "The age of gossip in
    networks", ISIT 2021 (version age). Pairwise averaging as in S. Boyd, A. Ghosh,
    B. Prabhakar and D. Shah, "Randomized gossip algorithms", IEEE Trans. Inf. Theory
    52(6), 2006. The staleness (u/lambda) H_{n-1} on the complete graph is derived in
    mixlab; see docs/design.md, section "Version age of gossip".

    Examples
    --------
    Four users on the complete graph, gossip capacity 2, block rate 1: the measured
    staleness matches (u/lambda) H_3 = 11/12:

    >>> import mixlab as ml
    >>> from mixlab.theory.version_age import user_staleness_complete
    >>> run = ml.simulate_gossip_learning(ml.quadratic(4, 2), duration=500.0, gossip_rate=2.0)
    >>> theory = user_staleness_complete(4, gossip_rate=2.0, update_rate=1.0)
    >>> len(run["time"]), bool(abs(run.staleness - theory) < 3 * run.staleness_stderr)
    (51, True)
    """
    require_choice("gossip mode", mode, GOSSIP_MODES)
    require_choice("backend", backend, CPU_BACKENDS)
    n, d = objective.n, objective.d
    if n < 2:
        raise ParameterError(f"gossip learning needs n >= 2 users, got {n}")
    duration = require_real("duration", duration, low=0, low_open=True)
    lam = _per_user("gossip rate", gossip_rate, n, positive=True)
    K = require_int("local steps K", local_steps, minimum=1)
    lr = require_real("step size", lr, low=0, low_open=True)
    shift = _per_user("block shift c", shift, n, positive=False)
    mean_block = _per_user("mean block time 1/mu", mean_block, n, positive=True)
    batches = require_int("batches", batches, minimum=2)
    warm = duration * require_real("warmup", warmup, low=0, high=1, high_open=True)
    every = (
        duration / 50
        if record_every is None
        else require_real("record_every", record_every, low=0, low_open=True)
    )
    seed = require_int("seed", seed, minimum=0, maximum=SEED_MAX)
    if neighbors is None:
        indptr, indices, complete = np.zeros(1, np.int64), np.zeros(0, np.int64), True
    else:
        indptr, indices = (np.asarray(a, dtype=np.int64) for a in neighbors)
        complete = False
        if indptr.shape != (n + 1,) or (np.diff(indptr) < 1).any():
            raise ParameterError(f"neighbors must give every one of the n = {n} users a neighbour")
    x0 = np.zeros(d) if x0 is None else np.asarray(x0, dtype=np.float64)
    record_times = np.arange(0.0, duration + every / 2, every)
    batch_times = warm + (duration - warm) * np.arange(batches + 1) / batches
    checkpoints = np.unique(np.r_[record_times, batch_times])
    obj = objective.arrays()
    core = _run_numba if backend == "numba" else _run_reference
    snaps, G, blocks, gossips = core(
        obj,
        n,
        K,
        lr,
        shift,
        mean_block,
        np.cumsum(lam),
        indptr,
        indices,
        complete,
        mode == "exchange",
        seed,
        checkpoints,
        x0,
    )
    pairs = n * (n - 1)
    at = {float(c): k for k, c in enumerate(checkpoints)}
    rec = np.array([at[float(c)] for c in record_times])
    cols = snaps[rec].copy()
    cols[1:, 5] = np.diff(G[rec]) / (np.diff(record_times) * pairs)  # time-averaged per interval
    bidx = np.array([at[float(c)] for c in batch_times])
    batch_means = np.diff(G[bidx]) / (np.diff(batch_times) * pairs)
    return GossipLearningRun(
        {name: cols[:, c] for c, name in enumerate(COLUMNS)},
        float(batch_means.mean()),
        float(batch_means.std(ddof=1) / math.sqrt(batches)),
        int(blocks),
        int(gossips),
        {
            "n": n,
            "gossip_rate": lam.tolist(),
            "local_steps": K,
            "lr": lr,
            "shift": shift.tolist(),
            "mean_block": mean_block.tolist(),
            "block_rate": (1 / (shift + mean_block)).tolist(),
            "mode": mode,
            "duration": duration,
            "seed": seed,
            "objective": objective.name,
            "topology": "complete" if complete else "graph",
        },
    )


@numba.njit(**NUMBA_JIT)
def _peer(n, indptr, indices, complete, i, u):
    if complete:
        j = min(int(u * (n - 1)), n - 2)
        return j if j < i else j + 1
    deg = indptr[i + 1] - indptr[i]
    return indices[indptr[i] + min(int(u * deg), deg - 1)]


@numba.njit(**NUMBA_JIT)
def _snapshot(obj, X, V, t, row):
    """One record: time, loss gaps, grad norm, consensus, -, current max staleness."""
    n, d = X.shape
    xbar = np.zeros(d)
    for i in range(n):
        xbar += X[i]
    xbar /= n
    g = np.empty(d)
    user = 0.0
    for i in range(n):
        user += full_loss_grad(obj, X[i], g)
    loss = full_loss_grad(obj, xbar, g)
    gamma = 0.0
    for i in range(n):
        for c in range(d):
            gamma += (X[i, c] - xbar[c]) ** 2
    worst = 0
    for i in range(n):
        for j in range(n):
            worst = max(worst, V[i, i] - V[j, i])
    row[0] = t
    row[1] = loss - obj.f_star
    row[2] = user / n - obj.f_star
    row[3] = np.dot(g, g)
    row[4] = gamma
    row[6] = worst


@numba.njit(**NUMBA_JIT)
def _block_time(seed, n, i, j, shift, mean_block):
    return shift[i] - mean_block[i] * np.log(crng.uniform(seed, crng.COMPUTE, j * n + i))


@numba.njit(**NUMBA_JIT)
def _local_steps(obj, seed, i, first, K, lr, x, g):
    for s in range(K):
        stochastic_grad(obj, seed, i, first + s, x, g)
        for c in range(x.shape[0]):
            x[c] -= lr * g[c]


@numba.njit(**NUMBA_DRIVER)
def _run_numba(
    obj, n, K, lr, shift, mean_block, lam_cum, indptr, indices, complete, exchange, seed, checkpoints, x0
):
    """Event loop; pair_sum = sum over ordered pairs of staleness, kept incrementally."""
    d = x0.shape[0]
    X = np.empty((n, d))
    for i in range(n):
        X[i] = x0
    V = np.zeros((n, n), dtype=np.int64)
    g = np.empty(d)
    blocks_done = np.zeros(n, dtype=np.int64)
    times = np.empty(n)
    ids = np.empty(n, dtype=np.int64)
    size = 0
    for i in range(n):
        size = heap_push(times, ids, size, _block_time(seed, n, i, 0, shift, mean_block), i)
    snaps = np.zeros((checkpoints.shape[0], len(COLUMNS)))
    G = np.zeros(checkpoints.shape[0])
    end = checkpoints[-1]
    pair_sum, integral, t = 0, 0.0, 0.0
    cp, e, gossips, total_blocks = 0, 0, 0, 0
    total_rate = lam_cum[-1]
    next_gossip = -np.log(crng.uniform(seed, crng.GOSSIP, 0)) / total_rate
    while True:
        t_next = min(next_gossip, times[0], end)
        while cp < checkpoints.shape[0] and checkpoints[cp] <= t_next:
            G[cp] = integral + pair_sum * (checkpoints[cp] - t)
            _snapshot(obj, X, V, checkpoints[cp], snaps[cp])
            cp += 1
        integral += pair_sum * (t_next - t)
        t = t_next
        if t >= end:
            return snaps, G, total_blocks, gossips
        if times[0] <= next_gossip:
            tb, i, size = heap_pop(times, ids, size)
            _local_steps(obj, seed, i, blocks_done[i] * K, K, lr, X[i], g)
            V[i, i] += 1
            pair_sum += n - 1
            blocks_done[i] += 1
            total_blocks += 1
            size = heap_push(
                times, ids, size, tb + _block_time(seed, n, i, blocks_done[i], shift, mean_block), i
            )
        else:
            i = pick_cumulative(lam_cum, crng.uniform(seed, crng.GOSSIP, 3 * e + 1))
            j = _peer(n, indptr, indices, complete, i, crng.uniform(seed, crng.GOSSIP, 3 * e + 2))
            for c in range(d):
                g[c] = (X[i, c] + X[j, c]) / 2
            X[j] = g
            for k in range(n):
                if V[i, k] > V[j, k]:
                    pair_sum -= V[i, k] - V[j, k]
                    V[j, k] = V[i, k]
            if exchange:
                X[i] = g
                for k in range(n):
                    if V[j, k] > V[i, k]:
                        pair_sum -= V[j, k] - V[i, k]
                        V[i, k] = V[j, k]
            gossips += 1
            e += 1
            next_gossip += -np.log(crng.uniform(seed, crng.GOSSIP, 3 * e)) / total_rate


def _run_reference(
    obj, n, K, lr, shift, mean_block, lam_cum, indptr, indices, complete, exchange, seed, checkpoints, x0
):
    """Plain loop: staleness recomputed from the whole version matrix at every event."""
    import heapq

    u = lambda stream, c: float(crng.uniform_np(seed, stream, np.array([c]))[0])  # noqa: E731
    block = lambda i, j: shift[i] - mean_block[i] * math.log(u(crng.COMPUTE, j * n + i))  # noqa: E731
    d = x0.shape[0]
    X = np.tile(x0, (n, 1))
    V = np.zeros((n, n), dtype=np.int64)
    g = np.empty(d)
    done = [0] * n
    heap = [(block(i, 0), i) for i in range(n)]
    heapq.heapify(heap)
    snaps = np.zeros((checkpoints.size, len(COLUMNS)))
    G = np.zeros(checkpoints.size)
    integral, t, cp, e, gossips, blocks = 0.0, 0.0, 0, 0, 0, 0
    next_gossip = -math.log(u(crng.GOSSIP, 0)) / lam_cum[-1]
    while True:
        t_next = min(next_gossip, heap[0][0], checkpoints[-1])
        staleness = float((np.diag(V)[None, :] - V).sum())
        while cp < checkpoints.size and checkpoints[cp] <= t_next:
            G[cp] = integral + staleness * (checkpoints[cp] - t)
            _snapshot(obj, X, V, checkpoints[cp], snaps[cp])
            cp += 1
        integral += staleness * (t_next - t)
        t = t_next
        if t >= checkpoints[-1]:
            return snaps, G, blocks, gossips
        if heap[0][0] <= next_gossip:
            tb, i = heapq.heappop(heap)
            for s in range(K):
                stochastic_grad(obj, seed, i, done[i] * K + s, X[i], g)
                X[i] -= lr * g
            V[i, i] += 1
            done[i] += 1
            blocks += 1
            heapq.heappush(heap, (tb + block(i, done[i]), i))
        else:
            i = int(pick_cumulative(lam_cum, u(crng.GOSSIP, 3 * e + 1)))
            j = int(_peer(n, indptr, indices, complete, i, u(crng.GOSSIP, 3 * e + 2)))
            avg = (X[i] + X[j]) / 2
            merged = np.maximum(V[i], V[j])
            X[j], V[j] = avg, merged
            if exchange:
                X[i], V[i] = avg, merged
            gossips += 1
            e += 1
            next_gossip += -math.log(u(crng.GOSSIP, 3 * e)) / lam_cum[-1]
