"""WAGMA-SGD (Li et al., "Breaking (Global) Barriers in Parallel Stochastic
Optimization with Wait-Avoiding Group Averaging", IEEE TPDS 2021).

Iteration t: the butterfly groups of phase t mod k (the reference code's
``ffallreduce_nh`` step). Each worker publishes P_i = x_i (CTA) or x_i - eta D_i
(ATC) when it calls the collective, at a_i. If t mod tau = tau - 1 the group step
is replaced by a blocking global mean of the published models (the reference
code's ``LIMITER``). Otherwise, with wait avoidance, the first arrival activates
the collective and member j contributes P_j(t) if it has arrived by the
activation window W of its group (a_j <= W, below), otherwise the model it
published at its latest earlier call that happened by W (the send buffer of the
reference code; iteration t' < t, staleness t - t'; before any call, the initial
model). Two activations:

- ``global`` (the reference code, ``ffactivation.c``): the first arrival
  anywhere, A = min_i a_i over all n workers, activates everyone by a binomial
  broadcast, W = A + ceil(log2 n) alpha, and every group then reduces: its
  result is ready at R_G = W + allreduce_cost(S). A group whose members all
  arrive after W is reduced from stale send buffers only.
- ``group``: group G is activated at its own first arrival A_G = min_{i in G} a_i;
  the activation reaches the members within ceil(log2 S) alpha (recursive
  doubling), W_G = A_G + ceil(log2 S) alpha, and the result is ready at
  R_G = A_G + allreduce_cost(S).

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.algorithms.base import (
    Algorithm,
    allreduce_cost,
    axpy_into,
    gradients,
    local_updates,
    local_updates_np,
    register,
)
from mixlab.kernels.config import NUMBA_JIT, NUMBA_PARALLEL
from mixlab.kernels.timing import allreduce_cost as compiled_allreduce_cost
from mixlab.validate import require_choice, require_int
from mixlab.vocabulary import ACTIVATIONS, GROUP_RULES


class WagmaParams(NamedTuple):
    """The parameters of :func:`wagma_step`: groups, options and the send-buffer history.

    Parameters
    ----------
    groups : numpy.ndarray of int64, (k, n/S, S)
        The groups of each phase.
    tau : int
        Sync period tau >= 1.
    self_weighted : bool
        True for the ``self_weighted`` rule, False for ``mean``.
    wait_avoiding : bool
        True: stale contributions instead of waiting.
    global_activation : bool
        True for ``global`` activation, False for ``group``.
    cta : bool
        True for combine-then-adapt.
    hist : numpy.ndarray, (tau, n, d)
        Published models of the last tau iterations (slot t mod tau); iteration -1 is x0.
    calls : numpy.ndarray, (tau, n)
        Times of those calls (-inf before any call).
    """

    groups: np.ndarray
    tau: int
    self_weighted: bool
    wait_avoiding: bool
    global_activation: bool
    cta: bool
    hist: np.ndarray
    calls: np.ndarray


@numba.njit(**NUMBA_JIT)
def wagma_step(t, eta, s, p):
    """One WAGMA-SGD iteration: publish, then the group step of phase t mod k or the global mean.

    Every worker publishes P_i (x_i under CTA, x_i - eta D_i under ATC) at its
    arrival; iterations with t mod tau = tau - 1 take the blocking global mean,
    the others reduce the butterfly groups with wait avoidance (module docstring).

    Parameters
    ----------
    t : int
        Iteration.
    eta : float
        Step size of this iteration.
    s : RunState
        The run; X, G, U, the clocks and the staleness ``back`` are updated in place.
    p : WagmaParams
        Groups, options and the history, updated in place.
    """
    gradients(s.objective, s.timing.seed, t, s.X, s.G)
    D = local_updates(s)
    n = s.X.shape[0]
    tau = p.tau
    slot = t % tau
    if p.cta:
        p.hist[slot] = s.X
    else:
        axpy_into(p.hist[slot], s.X, eta, D)
    p.calls[slot] = s.a
    if t % tau == tau - 1:
        d = s.X.shape[1]
        pbar = np.zeros(d)
        for i in range(n):
            pbar += p.hist[slot, i]
        pbar /= n
        for i in range(n):
            s.X[i] = pbar - eta * D[i] if p.cta else pbar
        s.clocks[:] = s.a.max() + s.costs.allreduce_n
        s.back[:] = 0
    else:
        _groups(p.groups[t % p.groups.shape[0]], t, eta, s, D, p)


@numba.njit(**NUMBA_JIT)
def _groups(groups, t, eta, s, D, p):
    d = s.X.shape[1]
    cost = compiled_allreduce_cost(groups.shape[1], d, s.costs.alpha, s.costs.beta, s.costs.word_bytes)
    _reduce_groups(
        groups,
        t,
        eta,
        s.a,
        s.X,
        D,
        s.clocks,
        s.back,
        p.hist,
        p.calls,
        p.tau,
        s.costs.alpha,
        cost,
        p.self_weighted,
        p.wait_avoiding,
        p.global_activation,
        p.cta,
    )


@numba.njit(**NUMBA_PARALLEL)
def _reduce_groups(
    groups,
    t,
    eta,
    a,
    X,
    D,
    clocks,
    back,
    hist,
    calls,
    tau,
    alpha,
    cost,
    self_weighted,
    wait_avoiding,
    global_activation,
    cta,
):
    """Every group of this phase reduces, in parallel (plain arrays: a parallel loop takes no tuples)."""
    m, S = groups.shape
    d = X.shape[1]
    slot = t % tau
    global_window = a.min() + math.ceil(math.log2(a.shape[0])) * alpha
    for g in numba.prange(m):
        first, last = np.inf, -np.inf
        for k in range(S):
            first = min(first, a[groups[g, k]])
            last = max(last, a[groups[g, k]])
        if wait_avoiding:
            if global_activation:
                window = global_window
                ready = global_window + cost
            else:
                window = first + math.ceil(math.log2(S)) * alpha
                ready = first + cost
            for k in range(S):
                j = groups[g, k]
                b = 0
                if a[j] > window:
                    b = 1
                    while b < tau and t - b >= -1 and calls[(t - b) % tau, j] > window:
                        b += 1
                back[j] = b
        else:
            ready = last + cost
            for k in range(S):
                back[groups[g, k]] = 0
        total = np.zeros(d)
        for k in range(S):
            j = groups[g, k]
            src = hist[(t - back[j]) % tau, j]
            for c in range(d):
                total[c] += src[c]
        inv = 1.0 / (S + 1) if self_weighted else 1.0 / S
        step = eta if cta else 0.0
        for k in range(S):
            i = groups[g, k]
            own = hist[slot, i]
            dst, upd = X[i], D[i]
            if self_weighted:
                for c in range(d):
                    dst[c] = (total[c] + own[c]) * inv - step * upd[c]
            else:
                for c in range(d):
                    dst[c] = total[c] * inv - step * upd[c]
            clocks[i] = max(a[i], ready)


@register
@dataclass(frozen=True, kw_only=True)
class WAGMA(Algorithm):
    """WAGMA-SGD (Li et al., IEEE TPDS 2021): wait-avoiding group averaging, a global mean every tau.

    The defaults (``self_weighted`` rule, ``global`` activation, CTA) are those of
    the reference code; semantics and timing: the module docstring.

    Parameters
    ----------
    momentum : float, default 0.0
        Heavy-ball momentum m in [0, 1).
    order : {"cta", "atc"}, default "cta"
        Update order.
    groups : numpy.ndarray of int, (k, n/S, S)
        The groups of phase t mod k; every phase partitions the workers.
    sync_period : int, default 8
        tau >= 1: iterations with t mod tau = tau - 1 take a blocking global mean.
    rule : {"self_weighted", "mean"}, default "self_weighted"
        Group averaging rule: (sum of contributions + own P_i) / (S + 1), or the mean.
    wait_avoiding : bool, default True
        True: late members contribute stale send buffers; False: groups wait for
        their slowest member.
    activation : {"global", "group"}, default "global"
        Who activates a group collective: the first arrival anywhere, or in the group.

    Raises
    ------
    ParameterError
        If tau < 1, the rule or activation is unknown, ``groups`` is not a
        non-empty (k, n/S, S) array, m is outside [0, 1) or the order is unknown.
    """

    groups: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.int64), repr=False)
    sync_period: int = 8
    rule: str = "self_weighted"
    wait_avoiding: bool = True
    activation: str = "global"
    name = "wagma"
    options = ("momentum", "group_size", "sync_period", "rule", "activation", "wait_avoiding", "order")
    example: ClassVar[dict] = {"group_size": 4, "sync_period": 4}
    numba_step = staticmethod(wagma_step)

    def __post_init__(self):
        super().__post_init__()
        require_int("sync period tau", self.sync_period, minimum=1)
        require_choice("averaging rule", self.rule, GROUP_RULES)
        require_choice("activation", self.activation, ACTIVATIONS)
        g = np.asarray(self.groups)
        if g.ndim != 3 or g.shape[0] < 1:
            raise ParameterError(f"groups must be a (phases, n/S, S) array, got shape {g.shape}")
        object.__setattr__(self, "groups", np.ascontiguousarray(g, dtype=np.int64))

    @classmethod
    def from_options(
        cls, n: int, *, seed: int = 0, group_size: int | None = None, rule: str = "self_weighted", **options
    ) -> WAGMA:
        """WAGMA on the butterfly groups of size S of n workers.

        Parameters
        ----------
        n : int
            Number of workers, a power of S.
        seed : int, default 0
            Unused (butterfly groups are deterministic).
        group_size : int or None, default None
            Group size S; required.
        rule : {"self_weighted", "mean"}, default "self_weighted"
            Group averaging rule.
        **options
            ``momentum``, ``order``, ``sync_period``, ``activation``, ``wait_avoiding``.

        Returns
        -------
        WAGMA
            The spec with the k = log_S n phases of :class:`mixlab.ButterflyGroups`.

        Raises
        ------
        ParameterError
            If S is not given or n is not a power of S.
        """
        from mixlab.theory.groups import ButterflyGroups

        if group_size is None:
            raise ParameterError("wagma needs a group size S (--group-size)")
        sched = ButterflyGroups(n, group_size, rule)
        return cls(groups=np.stack([sched.groups(t) for t in range(sched.period)]), rule=rule, **options)

    @property
    def group_size(self) -> int:
        """The group size S.

        Returns
        -------
        int
            The last dimension of ``groups``.
        """
        return self.groups.shape[2]

    def check_workers(self, n: int) -> None:
        """Check that the n/S groups of S cover n workers and every phase partitions them.

        Parameters
        ----------
        n : int
            Number of workers of the problem.

        Raises
        ------
        ParameterError
            If m S != n or a phase is not a partition of 0..n-1.
        """
        _k, m, S = self.groups.shape
        if m * S != n:
            raise ParameterError(
                f"inconsistent n: the problem has n = {n} workers, the groups "
                f"cover {m * S} ({m} groups of S = {S})"
            )
        for phase in self.groups:
            if sorted(phase.ravel().tolist()) != list(range(n)):
                raise ParameterError("every phase of groups must partition the workers 0..n-1")

    def params(self) -> dict:
        """The common run parameters, the WAGMA options and the number of phases k.

        Returns
        -------
        dict
            ``algorithm``, ``momentum``, ``order``, ``group_size``, ``sync_period``,
            ``rule``, ``wait_avoiding``, ``activation`` and ``phases``.
        """
        return {
            **super().params(),
            "group_size": self.group_size,
            "sync_period": self.sync_period,
            "rule": self.rule,
            "wait_avoiding": self.wait_avoiding,
            "activation": self.activation,
            "phases": self.groups.shape[0],
        }

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """The group matrices of each phase, J at the global steps (no stragglers).

        Parameters
        ----------
        n : int
            Number of workers.
        steps : int
            Number of iterations T.

        Returns
        -------
        tuple of (list, str)
            The T dense (n, n) matrices (the group matrix of phase t mod k under the
            spec's rule, J when t mod tau = tau - 1) and the update order.
        """
        from mixlab.theory.groups import group_matrix

        phases = [group_matrix(g, n, self.rule) for g in self.groups]
        J, tau = np.full((n, n), 1.0 / n), self.sync_period
        return [J if t % tau == tau - 1 else phases[t % len(phases)] for t in range(steps)], self.order

    def _history(self, X0):
        """Published models and call times of the last tau iterations; iteration -1 is x0."""
        tau = self.sync_period
        hist = np.empty((tau,) + X0.shape)
        hist[tau - 1] = X0
        return hist, np.full((tau, X0.shape[0]), -np.inf)

    def numba_params(self, X0: np.ndarray) -> WagmaParams:
        """Groups, options and a history holding only x0 (as iteration -1).

        Parameters
        ----------
        X0 : numpy.ndarray, (n, d)
            The initial models, the send buffers before any call.

        Returns
        -------
        WagmaParams
            The parameters of :func:`wagma_step`.
        """
        hist, calls = self._history(X0)
        return WagmaParams(
            self.groups,
            int(self.sync_period),
            self.rule == "self_weighted",
            bool(self.wait_avoiding),
            self.activation == "global",
            self.order == "cta",
            hist,
            calls,
        )

    def reference_step(self, st, t, eta):
        """One WAGMA-SGD iteration in NumPy: publish, then the global mean or the group step.

        The history of published models and call times lives in ``st.extra``,
        created at t = 0; ``st.back`` gets each worker's staleness.

        Parameters
        ----------
        st : ReferenceState
            The reference run; X, U, the clocks and ``back`` are rebound or updated.
        t : int
            Iteration.
        eta : float
            Step size of this iteration.
        """
        if t == 0:
            st.extra["hist"], st.extra["calls"] = self._history(st.X)
        hist, calls = st.extra["hist"], st.extra["calls"]
        D = local_updates_np(st, st.objective.stochastic_grads(st.X, t, st.seed))
        n, d = st.n, st.d
        tau = self.sync_period
        P = st.X if self.order == "cta" else st.X - eta * D
        hist[t % tau] = P
        calls[t % tau] = st.a
        step = (lambda avg, rows: avg - eta * D[rows]) if self.order == "cta" else (lambda avg, rows: avg)
        if t % tau == tau - 1:  # blocking global mean
            st.back = np.zeros(n, dtype=np.int64)
            st.X = step(np.tile(P.mean(axis=0), (n, 1)), slice(None))
            st.clocks = np.full(n, st.a.max() + st.costs.allreduce_n)
            return
        groups = self.groups[t % self.groups.shape[0]]  # (m, S)
        S = groups.shape[1]
        back, st.clocks = self.schedule(t, st.a, calls, st.costs, d)
        st.back = back.ravel()
        C = hist[(t - back) % tau, groups]  # (m, S, d)
        total = C.sum(axis=1)
        if self.rule == "mean":
            avg = np.broadcast_to((total / S)[:, None, :], C.shape)
        else:
            avg = (total[:, None, :] + P[groups]) / (S + 1)
        X_new = np.empty_like(st.X)
        X_new[groups] = step(avg, groups)
        st.X = X_new

    def schedule(self, t: int, a: np.ndarray, calls: np.ndarray, costs, d: int) -> tuple:
        """The simulated group step of iteration t (not a global step): staleness and next clocks.

        Parameters
        ----------
        t : int
            Iteration, with t mod tau != tau - 1.
        a : numpy.ndarray, (n,)
            Arrival times of this iteration.
        calls : numpy.ndarray, (tau, n)
            Call times of the last tau iterations (slot t mod tau holds ``a``).
        costs : Costs
            The alpha-beta costs.
        d : int
            Model dimension (the cost of a group allreduce).

        Returns
        -------
        back : numpy.ndarray of int64, (m, S)
            Staleness of each member's contribution, by group.
        clocks : numpy.ndarray, (n,)
            Start times of iteration t + 1.
        """
        groups = self.groups[t % self.groups.shape[0]]
        m, S = groups.shape
        tau = self.sync_period
        aG = a[groups]
        cost = allreduce_cost(S, d, costs.alpha, costs.beta, costs.word_bytes)
        back = np.zeros((m, S), dtype=np.int64)
        if self.wait_avoiding:
            if self.activation == "global":
                window = np.full(m, a.min() + math.ceil(math.log2(a.shape[0])) * costs.alpha)
                ready = window + cost
            else:
                first = aG.min(axis=1)
                window = first + math.ceil(math.log2(S)) * costs.alpha
                ready = first + cost
            found = aG <= window[:, None]
            for b in range(1, tau):
                if t - b < -1:
                    break
                ok = ~found & (calls[(t - b) % tau][groups] <= window[:, None])
                back[ok] = b
                found |= ok
            assert found.all(), "an earlier call always exists after the last global step"
        else:
            ready = aG.max(axis=1) + cost
        clocks = np.empty(a.shape[0])
        clocks[groups] = np.maximum(aG, ready[:, None])
        return back, clocks

    def mpi_check(self, n: int, procs: int, lockstep: bool) -> None:
        """Refuse what the MPI engine cannot run: real wait avoidance needs one worker per rank.

        Parameters
        ----------
        n : int
            Number of workers.
        procs : int
            Number of ranks.
        lockstep : bool
            Whether the run follows the simulated schedule.

        Raises
        ------
        ParameterError
            If the groups do not align with the ranks' blocks
            (:meth:`~mixlab.kernels.engines.mpi.GroupPlan.check`), or in real mode with
            wait avoidance, if n != procs or the activation is global.
        """
        from mixlab.kernels.engines.mpi import GroupPlan, block_bounds

        GroupPlan.check(self.groups, block_bounds(n, procs))
        if lockstep or not self.wait_avoiding:
            return
        if n != procs:
            raise ParameterError(
                f"real wait avoidance runs one worker per rank: n = {n} workers on {procs} ranks "
                "(use as many ranks as workers, --lockstep, or --no-wait-avoiding)"
            )
        if self.activation == "global":
            raise ParameterError(
                "real wait avoidance on MPI activates each group at its first member's arrival: "
                "use --activation group (the global activation is simulated: --lockstep)"
            )

    def mpi_step(self, st, t, eta):
        """One WAGMA-SGD iteration on MPI ranks.

        Every rank replicates the simulated schedule (arrival and call times of all n
        workers, O(n) per iteration) for ``sim_time``. The global step is an
        ``Allreduce`` of the published models. A group step reduces the group sums
        on the phase's communicator (:class:`~mixlab.kernels.engines.mpi.GroupPlan`):
        in lockstep mode of the contributions the simulated schedule picks from each
        rank's history (stale ones included), without wait avoidance of fresh
        models; in real mode with wait avoidance the one-sided collective of
        :class:`~mixlab.kernels.engines.one_sided.WaitAvoidingGroups` (measured staleness).

        Parameters
        ----------
        st : RankState
            This rank's block; X, U, the clocks, ``back`` and ``st.extra`` are updated.
        t : int
            Iteration.
        eta : float
            Step size of this iteration.
        """
        tau, n, d = self.sync_period, st.n, st.d
        real = not st.lockstep and self.wait_avoiding
        if t == 0:
            hist = np.empty((tau,) + st.X.shape)
            hist[tau - 1] = st.X
            st.extra.update(hist=hist, calls=np.full((tau, n), -np.inf), clocks=np.zeros(n))
            if real:
                from mixlab.kernels.engines.one_sided import WaitAvoidingGroups

                st.extra["windows"] = WaitAvoidingGroups(st.comm, st.X[0], tau)
        hist, calls = st.extra["hist"], st.extra["calls"]
        a = st.extra["clocks"] + st.timing.compute_times(n, t, st.seed)
        D = st.local_updates(st.gradients(t))
        P = st.X if self.order == "cta" else st.X - eta * D
        hist[t % tau] = P
        calls[t % tau] = a
        step = eta if self.order == "cta" else 0.0
        if real:
            st.extra["windows"].publish(t, P[0])
        if t % tau == tau - 1:
            st.back = np.zeros(st.X.shape[0], dtype=np.int64)
            st.X = st.allreduce_sum(P) / n - step * D
            st.extra["clocks"] = np.full(n, a.max() + st.costs.allreduce_n)
        else:
            phase = t % self.groups.shape[0]
            groups = self.groups[phase]
            S = groups.shape[1]
            back, st.extra["clocks"] = self.schedule(t, a, calls, st.costs, d)
            if real:
                g = int(np.flatnonzero((groups == st.rank).any(axis=1))[0])
                total, stale = st.extra["windows"].reduce(t, groups[g], P[0])
                totals, mine = total[None, :], np.zeros(1, dtype=np.int64)
                st.back = np.asarray(stale, dtype=np.int64)
            else:
                plan = st.group_plan(self.groups)
                touched = plan.touched(phase)
                partial = np.zeros((touched.size, d))
                mine = np.empty(st.X.shape[0], dtype=np.int64)  # the touched group of each local worker
                local_back = np.empty(st.X.shape[0], dtype=np.int64)
                for r, g in enumerate(touched.tolist()):
                    for k, j in enumerate(groups[g].tolist()):
                        if st.lo <= j < st.hi:
                            b = int(back[g, k])
                            partial[r] += hist[(t - b) % tau, j - st.lo]
                            mine[j - st.lo], local_back[j - st.lo] = r, b
                totals = plan.sums(phase, partial)
                st.back = local_back
            if self.rule == "self_weighted":
                st.X = (totals[mine] + P) / (S + 1) - step * D
            else:
                st.X = totals[mine] / S - step * D
        st.clocks = st.extra["clocks"][st.lo : st.hi].copy()

    def mpi_finish(self, st) -> None:
        """Free the one-sided windows of a real run (collective; called once after the last step).

        Parameters
        ----------
        st : RankState
            This rank's block.
        """
        if "windows" in st.extra:
            st.extra.pop("windows").free()
