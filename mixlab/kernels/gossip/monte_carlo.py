"""Monte Carlo of version age: one source's versions spreading by gossip.

Agents: 0 is the source, 1..n the nodes. The source makes a new version at
Poisson rate lambda_e, or after renewal intervals shift + Exp(mean) (mean rate
1 / (shift + mean)). Agent i pushes to agent j at rate rates[i, j]; a push
replaces the receiver's version if the pushed one is newer (``exchange``: both
sides take the newer). The age of node j is N(t) - N_j(t), N the source's
count. Per node, the time average over the measured window is estimated with
a standard error from batch means.

Two estimators of that time average (``simulate_age(estimator=...)``):

* ``"version"``: the time average of N(t) - N_j(t) itself. When one source
  feeds many nodes, the source's own version process dominates its variance
  (every node's age moves with N), and more nodes do not average it out.
* ``"time"``: update_rate u times the time average of the *time age*
  t - tau_j. Every agent carries an information timestamp: the source's is the
  current time t, node j's, tau_j, is the time at which the information it
  holds left the source, and a push from i to j sets tau_j = max(tau_j, tau_i)
  (exchange: both ways). N is nondecreasing, so the newest information is the
  one of latest origin, and j's version is N(tau_j). The timestamps depend
  only on the pushes, which are independent of the versions, and the versions
  have stationary increments of rate u, so E[N(t) - N(tau_j) | pushes] =
  u (t - tau_j): the estimator is the version estimator conditioned on the
  pushes (Rao-Blackwell), unbiased with the version noise removed. This is
  exact for Poisson versions (stationary increments from time 0). Renewal
  versions started at time 0 reach stationary increments only after a warm-up;
  the time estimator does not see the version process at all (its output does
  not depend on ``renewal_shift``) and estimates the stationary mean age, which
  the version estimator approaches as the initial transient fades.

Both are lazy, O(1) per event: between events a node's state is constant, so
its integral is brought up to date only when its state changes (versions:
the integral of N_j, subtracted from the source's; time: the integral of
t - tau_j over [a, b], (b - a)((a + b)/2 - tau_j), accumulated directly and
computed as (b - a)((a - tau_j) + (b - a)/2): a sum of nonnegative terms, with
no cancellation between quantities that grow with t).

Topology: an explicit CSR of agents' out-neighbours and rates (memory O(n +
edges)), or ``complete`` (implicit; memory O(n), n = 10^6 is fine): the source
pushes at total rate ``source_rate`` to a uniform node and each node at total
rate ``node_rate`` to a uniform other node; with ``source_is_user`` the source
is one of the n + 1 users and nodes push to it too (no effect: it is newest).

Events e = 0, 1, ... use draws 3e, 3e+1, 3e+2 of stream GOSSIP (waiting time,
pusher, receiver) and renewal interval r uses draw r of stream UPDATE, so the
compiled loop and the reference loop follow the same path.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

from mixlab.errors import ParameterError, StationarityWarning
from mixlab.kernels import counter_rng as crng
from mixlab.kernels.config import NUMBA_JIT
from mixlab.seeding import SEED_MAX
from mixlab.validate import require_choice, require_int, require_real
from mixlab.vocabulary import CPU_BACKENDS, GOSSIP_MODES

ESTIMATORS = ("version", "time")
#: The most events of one run: the compiled loop counts them in int64.
MAX_EVENTS = 2**62
#: Rates (updates, pushes) the Monte Carlo accepts: ages depend only on their ratios,
#: but the simulated clock and the time integrals (of order 1/rate^2) are float64.
RATE_RANGE = (1e-100, 1e100)


@dataclass(frozen=True)
class AgeEstimate:
    """Time-averaged version age per node, with batch-means standard errors.

    Returned by :func:`simulate_age`.

    Parameters
    ----------
    mean : numpy.ndarray
        float64 (n,): estimated mean version age of nodes 1..n.
    stderr : numpy.ndarray
        float64 (n,): batch-means standard error of each entry of ``mean``.
    node_average : float
        The age averaged over the nodes.
    node_average_stderr : float
        Its batch-means standard error.
    events : int
        Gossip events simulated, warm-up included.
    sim_time : float
        Simulated time at the end.
    estimator : {"version", "time"}
        The estimator that gave the values (see the module docstring); default
        ``"version"``.
    """

    mean: np.ndarray
    stderr: np.ndarray
    node_average: float
    node_average_stderr: float
    events: int
    sim_time: float
    estimator: str = "version"


@dataclass(frozen=True)
class GossipTopology:
    """Who pushes to whom at which rate: agent 0 the source, agents 1..n the nodes.

    Build it with :meth:`from_rate_matrix`, :meth:`from_contacts` or
    :meth:`complete_graph` rather than field by field.

    Parameters
    ----------
    n : int
        Number of nodes (agents 1..n).
    complete : bool
        The implicit complete graph (``source_rate``, ``node_rate``) instead of the CSR.
    indptr : numpy.ndarray
        int64 (n + 2,): CSR row pointers of the agents' out-neighbours (explicit
        topology; ``[0]`` when complete).
    indices : numpy.ndarray
        int64: CSR out-neighbours (agents 0..n).
    rates : numpy.ndarray
        float64, aligned with ``indices``: push rate of each edge.
    source_rate : float
        Complete graph: total push rate of the source, to a uniform node (default 0).
    node_rate : float
        Complete graph: total push rate of each node, to a uniform other agent
        (default 0).
    source_is_user : bool
        Complete graph: nodes also push to the source, one of n + 1 users (no effect
        on ages: the source is always newest); default False.
    """

    n: int
    complete: bool
    indptr: np.ndarray
    indices: np.ndarray
    rates: np.ndarray
    source_rate: float = 0.0
    node_rate: float = 0.0
    source_is_user: bool = False

    @classmethod
    def from_rate_matrix(cls, R) -> GossipTopology:
        """Explicit topology of a push-rate matrix (validated).

        The matrix is checked by :func:`~mixlab.kernels.gossip.exact.check_rates`.

        Parameters
        ----------
        R : array_like
            (n+1, n+1) push rates, row/column 0 the source; column 0 must be 0.

        Returns
        -------
        GossipTopology
            The explicit (CSR) topology.
        """
        from mixlab.kernels.gossip.exact import check_rates

        return cls.from_contacts(check_rates(R))

    @classmethod
    def from_contacts(cls, C) -> GossipTopology:
        """Explicit topology of a contact-rate matrix (not validated).

        Unlike a push-rate matrix, column 0 may be nonzero: contacts to the source
        matter in ``exchange`` mode (the agent takes the source's version).

        Parameters
        ----------
        C : array_like or scipy.sparse matrix
            (n+1, n+1) nonnegative contact rates, ``C[i, j]`` from agent i to agent j
            (0 the source); sparse input is never densified.

        Returns
        -------
        GossipTopology
            The explicit (CSR) topology.
        """
        if sp.issparse(C):  # the same CSR as a dense C's nonzeros in row-major order
            S = sp.csr_matrix(C, dtype=np.float64)
            S.eliminate_zeros()
            S.sort_indices()
            indptr, indices, rates = S.indptr, S.indices, S.data
        else:
            D = np.asarray(C, dtype=np.float64)
            rows, indices = np.nonzero(D)
            indptr, rates = np.searchsorted(rows, np.arange(D.shape[0] + 1)), D[rows, indices]
        m = C.shape[0]
        return cls(m - 1, False, indptr.astype(np.int64), indices.astype(np.int64), rates.astype(np.float64))

    @classmethod
    def complete_graph(
        cls, n: int, source_rate: float, node_rate: float, source_is_user: bool = False
    ) -> GossipTopology:
        """Implicit complete graph (memory O(n)): uniform pushes at total rates per agent.

        Parameters
        ----------
        n : int
            Number of nodes (>= 2, or >= 1 with ``source_is_user``).
        source_rate : float
            Total push rate of the source (> 0), to a uniform node.
        node_rate : float
            Total push rate of each node (>= 0), to a uniform other node (or other
            agent with ``source_is_user``).
        source_is_user : bool
            The source is one of n + 1 users, so nodes push to it too (default False).

        Returns
        -------
        GossipTopology
            The complete topology.

        Raises
        ------
        ParameterError
            For n or a rate outside the ranges above.
        """
        n = require_int("n", n, minimum=1 if source_is_user else 2)
        return cls(
            n,
            True,
            np.zeros(1, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0),
            require_real("source rate", source_rate, low=0, low_open=True),
            require_real("gossip rate", node_rate, low=0),
            source_is_user,
        )

    def agent_rates(self) -> np.ndarray:
        """Total push rate of every agent.

        Returns
        -------
        numpy.ndarray
            float64 (n + 1,): agent 0 (the source) first, then nodes 1..n.
        """
        if self.complete:
            return np.r_[self.source_rate, np.full(self.n, self.node_rate)]
        pusher = np.repeat(np.arange(self.n + 1), np.diff(self.indptr))
        return np.bincount(pusher, weights=self.rates, minlength=self.n + 1)


def simulate_age(
    topology: GossipTopology,
    *,
    update_rate: float = 1.0,
    renewal_shift: float = 0.0,
    mode: str = "push",
    events: int = 10**6,
    warmup: float = 0.1,
    batches: int = 20,
    seed: int = 0,
    backend: str = "numba",
    estimator: str = "version",
) -> AgeEstimate:
    """Monte Carlo estimate of the mean version age of every node of a gossip network.

    Simulates ``events`` gossip events, of which the first ``warmup`` x events are
    discarded. Versions arrive after intervals renewal_shift + Exp(mean), mean =
    1/update_rate - renewal_shift (rate ``update_rate``; shift 0 is the Poisson
    process).

    ``estimator``: ``"version"`` averages N(t) - N_j(t); ``"time"`` averages
    update_rate x (t - tau_j), tau_j the origin time of node j's information, which
    is its conditional expectation given the pushes: the same mean (exactly for
    Poisson versions, after the warm-up for renewal versions) without the noise of
    the source's version process, which dominates when one source feeds many nodes
    (see the module docstring). Both follow the same draws; batches, standard
    errors and the warm-up are the same.

    Parameters
    ----------
    topology : GossipTopology
        Who pushes to whom at which rate.
    update_rate : float
        Rate u > 0 of the source's new versions (default 1).
    renewal_shift : float
        Constant part of an inter-version interval, 0 <= shift < 1/update_rate
        (default 0: Poisson versions).
    mode : {"push", "exchange"}
        ``push``: the receiver takes the newer version; ``exchange``: both sides do
        (default ``"push"``).
    events : int
        Gossip events to simulate, >= 100 (default 10^6).
    warmup : float
        Fraction of ``events`` discarded first, in [0, 1) (default 0.1).
    batches : int
        Batches of the batch-means standard errors, >= 2 (default 20).
    seed : int
        Seed of the draws, >= 0 (default 0).
    backend : {"numba", "reference"}
        Compiled O(1)-per-event loop, or the O(n)-per-event NumPy reference on the
        same draws (default ``"numba"``).
    estimator : {"version", "time"}
        See above (default ``"version"``).

    Returns
    -------
    AgeEstimate
        Per-node means and standard errors, their node average, events and
        simulated time.

    Raises
    ------
    ParameterError
        For a value outside the ranges above, or a topology in which nobody pushes.

    Warns
    -----
    UserWarning
        When fewer than 50 pushes per node remain after the warm-up.

    See Also
    --------
    mixlab.kernels.gossip.exact.node_ages : the exact ages for n <= 20 nodes.

    References
    ----------
    R. D. Yates, "The age of gossip in networks", ISIT 2021 (arXiv 2102.02893): the
    model and the exact recursion. The ``"time"`` estimator is derived in mixlab; see
    docs/design.md, section "Version age of gossip". Pushers are drawn with Walker's
    alias method (:func:`alias_table`).

    Examples
    --------
    The complete graph with Yates' normalization, against the exact age:

    >>> import mixlab as ml
    >>> from mixlab.kernels.gossip.monte_carlo import GossipTopology
    >>> from mixlab.theory.version_age import complete_graph_age
    >>> top = GossipTopology.complete_graph(4, source_rate=1.0, node_rate=1.0)
    >>> est = ml.simulate_age(top, events=20_000, estimator="time")
    >>> est.mean.shape, bool(abs(est.node_average - complete_graph_age(4)) < 3 * est.node_average_stderr)
    ((4,), True)
    """
    require_choice("gossip mode", mode, GOSSIP_MODES)
    require_choice("backend", backend, CPU_BACKENDS)
    require_choice("estimator", estimator, ESTIMATORS)
    le = require_real("update rate", update_rate, low=RATE_RANGE[0], high=RATE_RANGE[1])
    shift = require_real("renewal shift", renewal_shift, low=0)
    if shift >= 1 / le:
        raise ParameterError(f"renewal shift must be < 1/update_rate = {1 / le:g}, got {shift}")
    events = require_int("events", events, minimum=100, maximum=MAX_EVENTS)
    batches = require_int("batches", batches, minimum=2)
    warm = int(events * require_real("warmup", warmup, low=0, high=1, high_open=True))
    seed = require_int("seed", seed, minimum=0, maximum=SEED_MAX)
    agent = topology.agent_rates()
    if agent.sum() <= 0:
        raise ParameterError("no agent gossips: every push rate is 0")
    active = agent[agent > 0]
    if active.min() < RATE_RANGE[0] or active.max() > RATE_RANGE[1]:
        raise ParameterError(
            f"every nonzero gossip rate must lie in [{RATE_RANGE[0]:g}, {RATE_RANGE[1]:g}] (the simulated "
            f"clock and its time integrals are float64), got {active.min():g} .. {active.max():g}"
        )
    per_node = (events - warm) / topology.n
    if per_node < 50:
        warnings.warn(
            f"{events} events give {per_node:.0f} pushes per node after warm-up; the "
            "estimate may not be stationary (use >= 50 per node)",
            StationarityWarning,
            stacklevel=2,
        )
    prob, alias = alias_table(agent)
    args = (
        topology.n,
        topology.complete,
        topology.indptr,
        topology.indices,
        topology.rates,
        topology.source_rate,
        topology.node_rate,
        topology.source_is_user,
        prob,
        alias,
        agent.sum(),
        shift,
        1 / le - shift,
        mode == "exchange",
        estimator == "time",
        warm,
        (events - warm) // batches,
        batches,
        seed,
    )
    core = _simulate_numba if backend == "numba" else _simulate_reference
    batch_means, t_end = core(*args)  # (batches, n)
    if estimator == "time":
        batch_means = le * batch_means  # E[N(t) - N(tau_j) | pushes]
    mean = batch_means.mean(axis=0)
    stderr = batch_means.std(axis=0, ddof=1) / math.sqrt(batches)
    avg = batch_means.mean(axis=1)
    return AgeEstimate(
        mean,
        stderr,
        float(avg.mean()),
        float(avg.std(ddof=1) / math.sqrt(batches)),
        events,
        float(t_end),
        estimator,
    )


def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table (Vose's construction) for O(1) draws from discrete weights.

    To draw: k = floor(u K) for a uniform u; keep k if the fractional part of u K is
    below ``prob[k]``, else take ``alias[k]``.

    Parameters
    ----------
    weights : numpy.ndarray
        (K,) nonnegative weights with a positive sum.

    Returns
    -------
    prob : numpy.ndarray
        float64 (K,): probability of keeping each column.
    alias : numpy.ndarray
        int64 (K,): the alternative of each column.

    References
    ----------
    A. J. Walker, "An efficient method for generating discrete random variables with
    general distributions", ACM Trans. Math. Software 3(3), 1977; M. D. Vose, "A linear
    algorithm for generating random numbers with a given distribution", IEEE Trans.
    Software Eng. 17(9), 1991.

    Examples
    --------
    The table reproduces the normalized weights:

    >>> prob, alias = alias_table(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> implied = prob.copy()
    >>> np.add.at(implied, alias, 1 - prob)
    >>> (implied / 4).round(12).tolist()
    [0.1, 0.2, 0.3, 0.4]
    """
    K = weights.size
    scaled = weights * K / weights.sum()
    prob, alias = np.ones(K), np.arange(K, dtype=np.int64)
    small = [k for k in range(K) if scaled[k] < 1.0]
    large = [k for k in range(K) if scaled[k] >= 1.0]
    while small and large:
        s, l = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], l
        scaled[l] -= 1.0 - scaled[s]
        (small if scaled[l] < 1.0 else large).append(l)
    return prob, alias


@numba.njit(**NUMBA_JIT)
def _pick_alias(prob, alias, u):
    x = u * prob.shape[0]
    k = min(int(x), prob.shape[0] - 1)
    return k if x - k < prob[k] else alias[k]


@numba.njit(**NUMBA_JIT)
def _pusher(complete, source_rate, node_rate, n, prob, alias, u):
    """The agent that pushes: on the implicit complete graph the source with
    probability source_rate / total, else a uniform node (one uniform, O(1)); on
    an explicit graph Walker's alias table over the agents' total rates."""
    if complete:
        x = u * (source_rate + n * node_rate)
        if x < source_rate:
            return 0
        return 1 + min(int((x - source_rate) / node_rate), n - 1)
    return _pick_alias(prob, alias, u)


@numba.njit(**NUMBA_JIT)
def _target(n, complete, indptr, indices, rates, source_is_user, i, u):
    """Receiver of a push by agent i (agents 0..n), from the uniform u."""
    if complete:
        if i == 0:
            return 1 + min(int(u * n), n - 1)
        if source_is_user:  # uniform among the n other agents 0..n
            j = min(int(u * n), n - 1)
            return j if j < i else j + 1
        j = 1 + min(int(u * (n - 1)), n - 2)  # uniform among the other nodes 1..n
        return j if j < i else j + 1
    lo, hi = indptr[i], indptr[i + 1]
    total = 0.0
    for k in range(lo, hi):
        total += rates[k]
    x = u * total
    acc = 0.0
    for k in range(lo, hi - 1):
        acc += rates[k]
        if x < acc:
            return indices[k]
    return indices[hi - 1]


@numba.njit(**NUMBA_JIT)
def _settle(stamp, last, acc, j, t, time_age):
    """Bring node j's integral up to time t (its stamp is constant since last[j]): of
    its version, or of its time age t - tau_j (exact for a linear integrand)."""
    dt = t - last[j]
    if time_age:
        acc[j] += dt * ((last[j] - stamp[j]) + 0.5 * dt)
    else:
        acc[j] += stamp[j] * dt
    last[j] = t


@numba.njit(**NUMBA_JIT)
def _simulate_numba(
    n,
    complete,
    indptr,
    indices,
    rates,
    source_rate,
    node_rate,
    source_is_user,
    prob,
    alias,
    total,
    shift,
    mean_interval,
    exchange,
    time_age,
    warm,
    per_batch,
    batches,
    seed,
):
    """Event loop with lazy integrals: O(1) per event, O(n) per batch boundary.

    Every agent holds a stamp, its version N_j or (``time_age``) the origin time tau_j
    of its information; the source's is N or t, and a push carries the newer stamp.
    A node's integral (acc) is advanced only when its stamp changes: of N_j (the age
    integral is the source's minus it) or of t - tau_j (the age integral itself)."""
    stamp = np.zeros(n + 1)  # stamp[0] unused: the source's is N or t
    last = np.zeros(n + 1)
    acc = np.zeros(n + 1)  # integral since the batch began
    out = np.zeros((batches, n))
    t, N, renewals = 0.0, 0, 0
    src_acc, src_last, t_batch = 0.0, 0.0, 0.0
    next_update = shift - mean_interval * np.log(crng.uniform(seed, crng.UPDATE, 0))
    b = -1
    e = 0
    while True:
        if e >= warm and (e - warm) % per_batch == 0:
            src_acc += N * (t - src_last)
            src_last = t
            for j in range(1, n + 1):
                _settle(stamp, last, acc, j, t, time_age)
                if b >= 0:
                    out[b, j - 1] = (acc[j] if time_age else src_acc - acc[j]) / (t - t_batch)
                acc[j] = 0.0
            src_acc = 0.0
            t_batch = t
            b += 1
            if b == batches:
                return out, t
        t_next = t - np.log(crng.uniform(seed, crng.GOSSIP, 3 * e)) / total
        while next_update <= t_next:
            src_acc += N * (next_update - src_last)
            src_last = next_update
            N += 1
            renewals += 1
            next_update += shift - mean_interval * np.log(crng.uniform(seed, crng.UPDATE, renewals))
        t = t_next
        i = _pusher(
            complete, source_rate, node_rate, n, prob, alias, crng.uniform(seed, crng.GOSSIP, 3 * e + 1)
        )
        j = _target(
            n, complete, indptr, indices, rates, source_is_user, i, crng.uniform(seed, crng.GOSSIP, 3 * e + 2)
        )
        source = t if time_age else float(N)
        si = source if i == 0 else stamp[i]
        sj = source if j == 0 else stamp[j]
        if j != 0 and si > sj:
            _settle(stamp, last, acc, j, t, time_age)
            stamp[j] = si
        if exchange and i != 0 and sj > si:
            _settle(stamp, last, acc, i, t, time_age)
            stamp[i] = sj
        e += 1


def _simulate_reference(
    n,
    complete,
    indptr,
    indices,
    rates,
    source_rate,
    node_rate,
    source_is_user,
    prob,
    alias,
    total,
    shift,
    mean_interval,
    exchange,
    time_age,
    warm,
    per_batch,
    batches,
    seed,
):
    """Plain reference: every node's age integral (of N - N_j, or of the time age
    t - tau_j with ``time_age``) is advanced at every time point (O(n) per event),
    with the same draws; versions and timestamps are both tracked."""
    u = lambda stream, c: float(crng.uniform_np(seed, stream, np.array([c]))[0])  # noqa: E731
    ver = np.zeros(n + 1, dtype=np.int64)
    tau = np.zeros(n + 1)  # tau[0] unused: the source's is t
    integral = np.zeros(n + 1)
    out = np.zeros((batches, n))
    t, N, renewals, t_batch, b, e = 0.0, 0, 0, 0.0, -1, 0
    next_update = shift - mean_interval * math.log(u(crng.UPDATE, 0))

    def advance(to):
        nonlocal t
        if time_age:
            integral[1:] += (to - t) * ((t - tau[1:]) + 0.5 * (to - t))
        else:
            integral[1:] += (N - ver[1:]) * (to - t)
        t = to

    while True:
        if e >= warm and (e - warm) % per_batch == 0:
            if b >= 0:
                out[b] = integral[1:] / (t - t_batch)
            integral[:] = 0.0
            t_batch = t
            b += 1
            if b == batches:
                return out, t
        t_next = t - math.log(u(crng.GOSSIP, 3 * e)) / total
        while next_update <= t_next:
            advance(next_update)
            N += 1
            renewals += 1
            next_update += shift - mean_interval * math.log(u(crng.UPDATE, renewals))
        advance(t_next)
        i = int(_pusher(complete, source_rate, node_rate, n, prob, alias, u(crng.GOSSIP, 3 * e + 1)))
        j = int(_target(n, complete, indptr, indices, rates, source_is_user, i, u(crng.GOSSIP, 3 * e + 2)))
        pusher, pusher_tau = (N, t) if i == 0 else (ver[i], tau[i])
        receiver, receiver_tau = (N, t) if j == 0 else (ver[j], tau[j])
        if j != 0:
            ver[j], tau[j] = max(ver[j], pusher), max(tau[j], pusher_tau)
        if exchange and i != 0:
            ver[i], tau[i] = max(ver[i], receiver), max(tau[i], receiver_tau)
        e += 1
