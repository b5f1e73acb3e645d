"""The MPI engine (``mpi``): the algorithm units on real processes, one MPI rank
per block of workers.

Ranks and workers. The P ranks of ``COMM_WORLD`` hold the n workers in
contiguous blocks (rank r: workers floor(r n / P) .. floor((r + 1) n / P) - 1);
every rank builds the same objective and algorithm from the same seed and keeps
only its block's models. Gradients are the compiled
:func:`~mixlab.kernels.objectives.stochastic_grad` keyed by (worker, iteration),
so the draws do not depend on P. How each algorithm maps onto MPI calls is in
its ``mpi_step`` (docs/design.md, "Real processes"):

- allreduce SGD and local SGD: ``Allreduce`` of row sums;
- D-PSGD, gradient tracking and SGP: neighbour exchange on a distributed graph
  communicator (``Create_dist_graph_adjacent``; its edges are the union over the
  mixing period) with ``Neighbor_alltoallv``, zero counts on edges a matrix
  does not use;
- WAGMA-SGD: one communicator per phase, split once (``Split``), ``Allreduce``
  of the group sums; with real wait avoidance the one-sided collective of
  :mod:`mixlab.kernels.engines.one_sided`;
- AD-PSGD: one-sided pairwise averaging (:mod:`mixlab.kernels.engines.one_sided`).

Two modes. ``lockstep``: simulated time drives every decision exactly as in the
other engines (WAGMA's stale contributions come from the simulated schedule,
replicated on every rank), so trajectories equal the compiled engine's to
rounding. Real (the default): compute times are slept (``time_unit`` seconds per
simulated unit, polling MPI so one-sided operations progress), WAGMA's group
collective is started by the first member to arrive and late members contribute
their last published model; ``wall_time`` (seconds, on rank 0) is recorded beside
``sim_time`` (the simulated schedule's time).

Records are collective: rank 0 gets the mean model and Gamma by reductions (no
model is gathered), checks divergence and broadcasts its verdict; every rank
returns the same columns.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from mixlab.errors import BackendUnavailableError, ParameterError
from mixlab.kernels import progress
from mixlab.kernels.algorithms.base import Costs, allreduce_cost, local_updates_np
from mixlab.kernels.config import NUMBA_JIT
from mixlab.kernels.engines.base import due
from mixlab.kernels.objectives import full_loss_grad, stochastic_grad
from mixlab.kernels.trajectory import COLUMNS, STABLE, divergence_code, divergence_limits, model_scale
from mixlab.validate import require_int, require_real

#: Seconds between MPI progress polls while a rank sleeps or waits.
POLL_SECONDS = 2e-4
#: Environment variable naming the status file of a launched job (see mixlab.launch).
STATUS_VARIABLE = "MIXLAB_MPI_STATUS"


def mpi():
    """The ``mpi4py.MPI`` module, or a clear error when it is not installed.

    Returns
    -------
    module
        ``mpi4py.MPI`` (importing it initializes MPI).

    Raises
    ------
    BackendUnavailableError
        If mpi4py or its MPI library cannot be imported.
    """
    try:
        from mpi4py import MPI
    except ImportError as exc:  # pragma: no cover - the mpi extra is part of mixlab[all]
        raise BackendUnavailableError(
            f"the mpi engine needs mpi4py and an MPI library (pip install 'mixlab[mpi]'): {exc}"
        ) from exc
    return MPI


def block_bounds(n: int, procs: int) -> np.ndarray:
    """The contiguous worker blocks of P ranks: rank r holds bounds[r] .. bounds[r + 1] - 1.

    Parameters
    ----------
    n : int
        Number of workers.
    procs : int
        Number of ranks P, 1 <= P <= n.

    Returns
    -------
    numpy.ndarray of int64, (P + 1,)
        floor(r n / P) for r = 0, ..., P; block sizes differ by at most one.

    Examples
    --------
    >>> block_bounds(8, 3).tolist()
    [0, 2, 5, 8]
    """
    return (np.arange(procs + 1, dtype=np.int64) * n) // procs


@numba.njit(**NUMBA_JIT)
def block_gradients(obj, seed, t, first, Z, G):
    """Stochastic gradients of workers first, first + 1, ... at the rows of Z on iteration t.

    Parameters
    ----------
    obj : ObjectiveArrays
        The objective in compiled form.
    seed : int
        The run's seed.
    t : int
        Iteration (every row's).
    first : int
        The worker of row 0.
    Z : numpy.ndarray, (b, d)
        The points.
    G : numpy.ndarray, (b, d)
        Output, overwritten.
    """
    for r in range(Z.shape[0]):
        stochastic_grad(obj, seed, first + r, t, Z[r], G[r])


class MixingPlan:
    """Neighbour exchange of one rank for a period of mixing matrices.

    The rank's rows of W_q read its own block and the rows of other ranks
    (its halo); the plan stores, for every q, which of its rows each neighbour
    rank needs and which rows it receives, on one distributed graph communicator
    whose edges are the union over the period.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        ``COMM_WORLD`` (or any communicator whose ranks hold the blocks).
    mixing : sequence of scipy.sparse.csr_matrix
        The period W_0, ..., W_{q-1}, canonical CSR, (n, n).
    bounds : numpy.ndarray of int64
        :func:`block_bounds` of the ranks.
    """

    def __init__(self, comm, mixing, bounds):
        MPI = mpi()
        rank, size = comm.Get_rank(), comm.Get_size()
        lo, hi = int(bounds[rank]), int(bounds[rank + 1])
        owner = np.searchsorted(bounds, np.arange(bounds[-1]), side="right") - 1
        self.rows = []  # per q: (indptr, remapped indices, data) of this rank's rows
        recv: list[dict] = []  # per q: {rank: global rows} this rank receives
        send: list[dict] = []  # per q: {rank: global rows} this rank sends
        for W in mixing:
            needs = [self._needs(W, int(bounds[p]), int(bounds[p + 1]), owner, p) for p in range(size)]
            recv.append(needs[rank])
            send.append({p: needs[p][rank] for p in range(size) if rank in needs[p]})
        self.sources = sorted({p for r in recv for p in r})
        self.destinations = sorted({p for s in send for p in s})
        self.graph = comm.Create_dist_graph_adjacent(self.sources, self.destinations, reorder=False)
        self.exchanges = []
        for q, W in enumerate(mixing):
            halo = np.concatenate([_NONE] + [recv[q].get(p, _NONE) for p in self.sources]).astype(np.int64)
            position = np.full(int(bounds[-1]), -1, dtype=np.int64)
            position[lo:hi] = np.arange(hi - lo)
            position[halo] = (hi - lo) + np.arange(halo.size)
            sub = W[lo:hi]
            self.rows.append(
                (sub.indptr.astype(np.int64), position[sub.indices], sub.data.astype(np.float64))
            )
            send_rows = [send[q].get(p, _NONE) - lo for p in self.destinations]
            self.exchanges.append(
                (
                    np.concatenate([_NONE] + send_rows).astype(np.int64),
                    np.array([r.size for r in send_rows], dtype=np.int64),
                    np.array([recv[q].get(p, _NONE).size for p in self.sources], dtype=np.int64),
                    halo.size,
                )
            )
        self._double = MPI.DOUBLE

    @staticmethod
    def _needs(W, lo, hi, owner, rank) -> dict:
        """Rows of other ranks that rows lo..hi - 1 of W read: {owner rank: sorted global rows}."""
        cols = np.unique(W[lo:hi].indices)
        cols = cols[(cols < lo) | (cols >= hi)]
        return {int(p): cols[owner[cols] == p] for p in np.unique(owner[cols]) if p != rank}

    def halo(self, q: int, M: np.ndarray) -> np.ndarray:
        """This rank's rows of M followed by the rows W_q reads from other ranks.

        Parameters
        ----------
        q : int
            Index of the matrix in the period.
        M : numpy.ndarray, (b, c)
            This rank's rows (models, with extra columns such as weights or arrival times).

        Returns
        -------
        numpy.ndarray, (b + h, c)
            M and the h received rows, in the order the remapped indices of W_q use.
        """
        send_rows, send_counts, recv_counts, h = self.exchanges[q]
        b, c = M.shape
        out = np.empty((b + h, c))
        out[:b] = M
        if self.sources or self.destinations:
            sendbuf = np.ascontiguousarray(M[send_rows])
            recvbuf = out[b:]
            self.graph.Neighbor_alltoallv(
                [sendbuf, (send_counts * c, _displacements(send_counts * c)), self._double],
                [recvbuf, (recv_counts * c, _displacements(recv_counts * c)), self._double],
            )
        return out

    def mix(self, q: int, ext: np.ndarray) -> np.ndarray:
        """This rank's rows of W_q times the halo-extended ext, entry order as in W_q.

        Parameters
        ----------
        q : int
            Index of the matrix in the period.
        ext : numpy.ndarray, (b + h, c)
            :meth:`halo` output.

        Returns
        -------
        numpy.ndarray, (b, c)
            Row i: sum over stored k of W_q[i, k] ext[k].
        """
        from mixlab.kernels.averaging.mixing import sparse_mix_numba

        indptr, indices, data = self.rows[q]
        out = np.empty((indptr.size - 1, ext.shape[1]))
        sparse_mix_numba(indptr, indices, data, np.ascontiguousarray(ext), out)
        return out

    def neighbour_max(self, q: int, values: np.ndarray) -> np.ndarray:
        """Row i: the largest value over the in-neighbours of i in W_q (its stored columns).

        Parameters
        ----------
        q : int
            Index of the matrix in the period.
        values : numpy.ndarray, (b + h,)
            Values of the halo-extended rows (e.g. arrival times).

        Returns
        -------
        numpy.ndarray, (b,)
            The maxima.
        """
        indptr, indices, _ = self.rows[q]
        return np.maximum.reduceat(values[indices], indptr[:-1])


_NONE = np.zeros(0, dtype=np.int64)


def _displacements(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


class GroupPlan:
    """The group reductions of one rank: a communicator per phase, split once.

    In phase p the ranks holding members of a group must all hold members of the
    same groups (true for butterfly groups on blocks of any P dividing n as a
    power of S, and whenever every rank holds one worker); the ranks are split
    by the groups they touch, and a phase's group sums are one ``Allreduce`` of
    this rank's partial sums on its communicator.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        The ranks holding the blocks.
    groups : numpy.ndarray of int64, (k, m, S)
        The groups of each phase.
    bounds : numpy.ndarray of int64
        :func:`block_bounds` of the ranks.

    Raises
    ------
    ParameterError
        If a group of some phase spans ranks that hold members of different groups.
    """

    def __init__(self, comm, groups, bounds):
        rank = comm.Get_rank()
        self.phases = []  # per phase: (communicator, touched group indices)
        for touched in self.check(groups, bounds):
            colours = {key: c for c, key in enumerate(dict.fromkeys(touched))}
            self.phases.append((comm.Split(colours[touched[rank]], rank), np.array(touched[rank], np.int64)))

    @staticmethod
    def check(groups, bounds) -> list:
        """Check that every group's ranks hold members of the same groups, phase by phase.

        Parameters
        ----------
        groups : numpy.ndarray of int64, (k, m, S)
            The groups of each phase.
        bounds : numpy.ndarray of int64
            :func:`block_bounds` of the ranks.

        Returns
        -------
        list
            Per phase, per rank: the tuple of the groups it touches.

        Raises
        ------
        ParameterError
            If a group spans ranks that hold members of different groups.

        Examples
        --------
        >>> groups = np.array([[[0, 1], [2, 3]], [[0, 2], [1, 3]]])  # butterfly, n = 4, S = 2
        >>> GroupPlan.check(groups, block_bounds(4, 2))  # phase 0 local, phase 1 across
        [[(0,), (1,)], [(0, 1), (0, 1)]]
        """
        size = len(bounds) - 1
        owner = np.searchsorted(bounds, np.arange(bounds[-1]), side="right") - 1
        out = []
        for p, phase in enumerate(groups):
            touched = [tuple(np.flatnonzero((owner[phase] == r).any(axis=1)).tolist()) for r in range(size)]
            for g, members in enumerate(phase):
                ranks = set(owner[members].tolist())
                if len({touched[r] for r in ranks}) != 1:
                    raise ParameterError(
                        f"the groups of phase {p} do not align with the blocks of {size} ranks: group {g} "
                        f"spans ranks {sorted(ranks)}, which hold members of different groups; use a number "
                        "of ranks that divides n into blocks of whole groups (e.g. n / S^j)"
                    )
            out.append(touched)
        return out

    def sums(self, phase: int, partial: np.ndarray) -> np.ndarray:
        """The group sums of the groups this rank touches in ``phase``.

        Parameters
        ----------
        phase : int
            The phase.
        partial : numpy.ndarray, (g, d)
            This rank's sums over its members of each touched group (in the order of
            :meth:`touched`).

        Returns
        -------
        numpy.ndarray, (g, d)
            The sums over all members.
        """
        sub = self.phases[phase][0]
        if sub.Get_size() == 1:
            return partial
        out = np.empty_like(partial)
        sub.Allreduce(np.ascontiguousarray(partial), out)
        return out

    def touched(self, phase: int) -> np.ndarray:
        """Indices of the groups of ``phase`` with a member on this rank.

        Parameters
        ----------
        phase : int
            The phase.

        Returns
        -------
        numpy.ndarray of int64
            Sorted group indices.
        """
        return self.phases[phase][1]


@dataclass
class RankState:
    """What an ``mpi_step`` reads and rebinds on one rank: its block of workers.

    The arrays hold rows lo .. hi - 1 of the corresponding
    :class:`~mixlab.kernels.engines.reference.ReferenceState` arrays; an
    algorithm's own state goes in ``extra``.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        The ranks of the run.
    objective : Objective
        The problem (all ranks hold the same).
    timing : TimingModel
        Compute times, stragglers and alpha-beta costs.
    seed : int
        Seed of the run's draws.
    costs : Costs
        Communication costs of the simulated schedule.
    momentum : float
        Heavy-ball momentum m.
    bounds : numpy.ndarray of int64
        :func:`block_bounds` of the ranks.
    X : numpy.ndarray, (b, d)
        This rank's models.
    lockstep : bool
        True: simulated time drives every decision; False: real wait avoidance.
    time_unit : float
        Seconds slept per unit of simulated compute time (0: no sleeps).

    Attributes
    ----------
    U, w, a, clocks, back, extra
        Heavy-ball buffers (b, d), push-sum weights (b,), arrival times (b,),
        start times (b,), staleness (b,) and the algorithm's own state, as in the
        reference state; set at construction.
    """

    comm: Any
    objective: Any
    timing: Any
    seed: int
    costs: Costs
    momentum: float
    bounds: np.ndarray
    X: np.ndarray
    lockstep: bool = True
    time_unit: float = 0.0
    U: np.ndarray = field(init=False)
    w: np.ndarray = field(init=False)
    a: np.ndarray = field(init=False)
    clocks: np.ndarray = field(init=False)
    back: np.ndarray = field(init=False)
    extra: dict = field(init=False, default_factory=dict)

    def __post_init__(self):
        b = self.X.shape[0]
        self.U = np.zeros_like(self.X)
        self.w = np.ones(b)
        self.a = np.zeros(b)
        self.clocks = np.zeros(b)
        self.back = np.zeros(b, dtype=np.int64)
        self.arrays = self.objective.arrays()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.lo, self.hi = int(self.bounds[self.rank]), int(self.bounds[self.rank + 1])

    @property
    def n(self) -> int:
        """Number of workers n of the run.

        Returns
        -------
        int
            The last block bound.
        """
        return int(self.bounds[-1])

    @property
    def d(self) -> int:
        """Model dimension d.

        Returns
        -------
        int
            Columns of X.
        """
        return self.X.shape[1]

    def gradients(self, t: int, Z: np.ndarray | None = None) -> np.ndarray:
        """This block's stochastic gradients on iteration t at Z (default: the models X).

        Parameters
        ----------
        t : int
            Iteration.
        Z : numpy.ndarray or None, (b, d)
            The points; None: X.

        Returns
        -------
        numpy.ndarray, (b, d)
            Row r: worker lo + r's gradient, the same draw as on every engine.
        """
        Z = self.X if Z is None else np.ascontiguousarray(Z)
        G = np.empty_like(Z)
        block_gradients(self.arrays, self.seed, t, self.lo, Z, G)
        return G

    def local_updates(self, G: np.ndarray) -> np.ndarray:
        """The local updates D: G, or the heavy-ball buffers U <- m U + G (kept local).

        Parameters
        ----------
        G : numpy.ndarray, (b, d)
            Stochastic gradients.

        Returns
        -------
        numpy.ndarray, (b, d)
            G, or ``U`` itself after the update.
        """
        return local_updates_np(self, G)

    def allreduce_sum(self, A: np.ndarray) -> np.ndarray:
        """Sum over all workers of the rows of A: row sums here, then ``Allreduce``.

        Parameters
        ----------
        A : numpy.ndarray, (b, c)
            This rank's rows.

        Returns
        -------
        numpy.ndarray, (c,)
            The sum over the n rows of all ranks.
        """
        local = A.sum(axis=0)
        out = np.empty_like(local)
        self.comm.Allreduce(local, out)
        return out

    def allreduce_max(self, value: float) -> float:
        """The largest ``value`` over the ranks.

        Parameters
        ----------
        value : float
            This rank's value.

        Returns
        -------
        float
            The maximum.
        """
        out = np.empty(1)
        self.comm.Allreduce(np.array([value], dtype=np.float64), out, op=mpi().MAX)
        return float(out[0])

    def wait_for_all(self, cost: float) -> None:
        """A blocking collective of all n: every clock becomes max_j a_j + cost.

        Parameters
        ----------
        cost : float
            Simulated cost of the collective.
        """
        self.clocks[:] = self.allreduce_max(float(self.a.max())) + cost

    def mixing_plan(self, mixing) -> MixingPlan:
        """The neighbour exchange of a mixing period, built on first use and kept in ``extra``.

        Parameters
        ----------
        mixing : sequence of scipy.sparse.csr_matrix
            The period.

        Returns
        -------
        MixingPlan
            The plan of this rank.
        """
        if "plan" not in self.extra:
            self.extra["plan"] = MixingPlan(self.comm, mixing, self.bounds)
        return self.extra["plan"]

    def group_plan(self, groups) -> GroupPlan:
        """The group communicators of a schedule, split on first use and kept in ``extra``.

        Parameters
        ----------
        groups : numpy.ndarray of int64, (k, m, S)
            The groups of each phase.

        Returns
        -------
        GroupPlan
            The plan of this rank.
        """
        if "groups" not in self.extra:
            self.extra["groups"] = GroupPlan(self.comm, groups, self.bounds)
        return self.extra["groups"]

    def compute(self, t: int) -> None:
        """Arrive at iteration t: a = clocks + compute times, slept when ``time_unit`` > 0.

        Parameters
        ----------
        t : int
            Iteration (each worker's own).
        """
        c = self.timing.compute_times(self.n, t, self.seed)[self.lo : self.hi]
        self.a = self.clocks + c
        if self.time_unit > 0:  # lockstep too: its decisions follow the simulated schedule anyway
            progress_sleep(float(c.max()) * self.time_unit)


def progress_sleep(seconds: float) -> None:
    """Sleep, polling MPI so that one-sided operations aimed at this rank progress.

    Parameters
    ----------
    seconds : float
        How long to sleep.
    """
    comm = mpi().COMM_WORLD
    end = time.perf_counter() + seconds
    while True:
        comm.Iprobe()
        left = end - time.perf_counter()
        if left <= 0:
            return
        time.sleep(min(POLL_SECONDS, left))


class _RankRecorder:
    """Collective records: reductions to rank 0, which checks divergence and broadcasts it."""

    def __init__(self, st: RankState, steps: int, scale: float, debiased: bool):
        self.st, self.steps, self.scale, self.debiased = st, steps, scale, debiased
        self.rows: list[tuple] = []
        self.limits = (0.0, 0.0)
        self.stale = np.zeros(3)  # max, sum, count since the last record
        self.start = time.perf_counter()

    def staleness(self, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.size:
            self.stale[0] = max(self.stale[0], float(values.max()))
            self.stale[1] += float(values.sum())
            self.stale[2] += values.size

    def record(self, step: int, X: np.ndarray) -> int:
        st, MPI = self.st, mpi()
        n, d = st.n, st.d
        models = X / st.w[:, None] if self.debiased else X
        sums = st.allreduce_sum(np.hstack([X, models]) if self.debiased else X)
        xbar, mbar = sums[:d] / n, sums[-d:] / n
        local = np.array([float(((models - mbar) ** 2).sum()), self.stale[1], self.stale[2]])
        totals, maxima = np.empty(3), np.empty(2)
        st.comm.Allreduce(local, totals)
        st.comm.Allreduce(np.array([self.stale[0], float(st.clocks.max())]), maxima, op=MPI.MAX)
        self.stale[:] = 0.0
        code = np.zeros(1, dtype=np.int64)
        if st.rank == 0:
            g = np.empty(d)
            loss = full_loss_grad(st.arrays, xbar, g)
            gamma = float(totals[0])
            self.rows.append(
                (
                    step,
                    loss - (st.objective.f_star or 0.0),
                    float(g @ g),
                    gamma,
                    gamma / n,
                    float(maxima[0]),
                    float(totals[1] / totals[2]) if totals[2] else 0.0,
                    float(maxima[1]),
                    time.perf_counter() - self.start,
                )
            )
            gap, consensus = self.rows[-1][1], self.rows[-1][4]
            if len(self.rows) == 1:
                self.limits = divergence_limits(gap, consensus, self.scale)
            else:
                code[0] = divergence_code(gap, consensus, *self.limits)
                if code[0] == STABLE:
                    progress.report(step, self.steps)
        st.comm.Bcast(code, root=0)
        return int(code[0])

    def columns(self) -> dict:
        names = (*COLUMNS, "wall_time")
        data = np.array(self.rows, dtype=np.float64).reshape(-1, len(names))
        return {name: data[:, c].copy() for c, name in enumerate(names)}


class MPIEngine:
    """The MPI engine, ``mpi``: every algorithm with an ``mpi_step`` (or ``mpi_events``) on real ranks.

    Run it under ``mpiexec -n P`` (each rank calls :func:`mixlab.simulate` with the
    same arguments) or in one process (P = 1). See the module docstring.

    Parameters
    ----------
    lockstep : bool, default False
        True: simulated time drives every decision (trajectories equal the compiled
        engine's); False: real compute-time sleeps and real wait avoidance.
    time_unit : float, default 0.0
        Seconds slept per unit of simulated compute time (0: none); the block's
        slowest worker sets a rank's sleep.
    fail_rank, fail_step : int or None, default None
        Fault injection: rank ``fail_rank`` kills itself (SIGKILL) when it starts
        step ``fail_step``.

    Raises
    ------
    ParameterError
        If time_unit < 0, or only one of fail_rank and fail_step is given.

    Examples
    --------
    >>> import mixlab as ml
    >>> f = ml.quadratic(4, 3, sigma2=0.0, seed=0)
    >>> engine = MPIEngine(lockstep=True)
    >>> engine.name, engine.supports(ml.build_algorithm("allreduce", 4))
    ('mpi', True)

    Under ``mpiexec -n P python script.py`` every rank runs the same script (MPI is
    initialized on first use; in one process P = 1 rank holds all workers):

    >>> tr = ml.simulate(f, ml.build_algorithm("allreduce", 4), 5, backend=engine)  # doctest: +SKIP
    >>> tr.params["backend"], len(tr)  # doctest: +SKIP
    ('mpi', 6)
    """

    name = "mpi"

    def __init__(self, *, lockstep: bool = False, time_unit: float = 0.0, fail_rank=None, fail_step=None):
        self.lockstep = bool(lockstep)
        self.time_unit = require_real("time unit", time_unit, low=0)
        if (fail_rank is None) != (fail_step is None):
            raise ParameterError("fault injection needs both a rank and a step (--fail-rank and --fail-step)")
        self.fail_rank = None if fail_rank is None else require_int("fail rank", fail_rank, minimum=0)
        self.fail_step = None if fail_step is None else require_int("fail step", fail_step, minimum=0)

    def supports(self, algorithm) -> bool:
        """Whether the algorithm has an MPI step: ``mpi_events`` or ``mpi_step`` by its kind.

        Parameters
        ----------
        algorithm : Algorithm
            An algorithm spec.

        Returns
        -------
        bool
            True if :meth:`run` can run it.
        """
        return hasattr(algorithm, "mpi_events" if algorithm.kind == "events" else "mpi_step")

    def run(self, objective, algorithm, steps, lr, timing, seed, record_every, X0) -> dict:
        """Run ``algorithm`` on the ranks of ``COMM_WORLD``; see :meth:`Engine.run`.

        Every rank returns the same columns: those of :data:`~mixlab.kernels.trajectory.COLUMNS`
        and ``wall_time`` (seconds since the start, measured on rank 0).

        Parameters
        ----------
        objective : Objective
            The problem on n workers in dimension d.
        algorithm : Algorithm
            A spec with an MPI step, checked against n.
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
            name -> (records,) array; a divergent run's columns end at its first
            divergent record.

        Raises
        ------
        ParameterError
            If there are more ranks than workers, the algorithm's real mode needs one
            worker per rank, or its groups do not align with the ranks' blocks.
        """
        MPI = mpi()
        comm = MPI.COMM_WORLD
        n, d = X0.shape
        size = comm.Get_size()
        if size > n:
            raise ParameterError(f"{size} ranks for n = {n} workers: at most one rank per worker")
        check = getattr(algorithm, "mpi_check", None)
        if check is not None:
            check(n, size, self.lockstep)
        bounds = block_bounds(n, size)
        rank = comm.Get_rank()
        costs = Costs(
            timing.alpha,
            timing.beta,
            timing.word_bytes,
            allreduce_cost(n, d, timing.alpha, timing.beta, timing.word_bytes),
            timing.message_cost(d),
        )
        st = RankState(
            comm,
            objective,
            timing,
            seed,
            costs,
            algorithm.momentum,
            bounds,
            X0[bounds[rank] : bounds[rank + 1]].copy(),
            lockstep=self.lockstep,
            time_unit=self.time_unit,
        )
        self._compile(st)
        status = _status(rank)
        rec = _RankRecorder(st, steps, model_scale(X0, objective.x_star), algorithm.debiased)
        comm.Barrier()
        rec.start = time.perf_counter()
        try:
            self._loop(algorithm, st, rec, status, steps, lr, record_every)
        except Exception as exc:  # one rank's error would leave the others waiting in a collective
            if size == 1:
                raise
            import sys

            from mixlab.errors import MixlabError

            print(f"mixlab: rank {rank}: error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            comm.Abort(2 if isinstance(exc, MixlabError) else 1)
        return comm.bcast(rec.columns() if rank == 0 else None, root=0)

    def _loop(self, algorithm, st, rec, status, steps, lr, record_every) -> None:
        rank = st.rank
        with np.errstate(over="ignore", invalid="ignore"):
            rec.record(0, st.X)
            if algorithm.kind == "events":
                algorithm.mpi_events(
                    st, lr, steps, lambda k: self._at_step(status, rank, k), rec, record_every
                )
            else:
                for t in range(steps):
                    self._at_step(status, rank, t)
                    st.compute(t)
                    algorithm.mpi_step(st, t, lr[t])
                    rec.staleness(st.back)
                    if due(t, steps, record_every) and rec.record(t + 1, st.X) != STABLE:
                        break
            finish = getattr(algorithm, "mpi_finish", None)
            if finish is not None:
                finish(st)

    def _at_step(self, status, rank: int, t: int) -> None:
        if status is not None:
            status[1] = t
        if rank == self.fail_rank and t == self.fail_step:
            os.kill(os.getpid(), signal.SIGKILL)

    @staticmethod
    def _compile(st: RankState) -> None:
        """Compile (or load) the block kernels on rank 0 first, so ranks never write one cache together."""
        if st.rank == 0:
            compile_block_kernels(st.arrays, st.d)
        st.comm.Barrier()
        if st.rank != 0:
            compile_block_kernels(st.arrays, st.d)


def compile_block_kernels(arrays, d: int) -> None:
    """Run the compiled kernels a rank calls from Python on a tiny input (compiling or loading them).

    Parameters
    ----------
    arrays : ObjectiveArrays
        The objective in compiled form (its type selects the specialization).
    d : int
        Model dimension.
    """
    from mixlab.kernels.averaging.mixing import sparse_mix_numba

    Z = np.zeros((1, d))
    block_gradients(arrays, 0, 0, 0, Z, np.empty_like(Z))
    full_loss_grad(arrays, Z[0], np.empty(d))
    sparse_mix_numba(np.array([0, 1], np.int64), np.zeros(1, np.int64), np.ones(1), Z, np.empty_like(Z))


def _status(rank: int):
    """This rank's row of the job's status file (pid, step), when a launcher asked for one."""
    path = os.environ.get(STATUS_VARIABLE)
    if not path:
        return None
    try:
        table = np.memmap(path, dtype=np.int64, mode="r+")
    except (OSError, ValueError):
        return None
    if table.size < 2 * (rank + 1):
        return None
    row = table[2 * rank : 2 * rank + 2]
    row[0] = os.getpid()
    return row
