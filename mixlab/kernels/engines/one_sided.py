"""One-sided MPI communication for the asynchronous algorithms of the MPI engine:
WAGMA-SGD's wait-avoiding group collective and AD-PSGD's pairwise averaging.

Both use passive-target windows (``MPI.Win.Allocate``, ``Lock``/``Unlock``), one
worker per rank. A rank that sleeps (a straggler) polls MPI
(:func:`~mixlab.kernels.engines.mpi.progress_sleep`), so operations aimed at
its windows complete while it sleeps; on a cluster where computation is long,
MPICH's progress thread (``MPIR_CVAR_ASYNC_PROGRESS=1``) does the same.

Wait-avoiding group collective (the reference code's externally triggerable
``ffallreduce``, group activation). Every rank publishes its model, stamped with
its iteration, in its ``published`` window at every collective call. At
iteration t a group's members race for the group's claim word (on its first
member, slot t mod tau, ``Fetch_and_op`` with ``MAX``): the first to arrive wins,
reads every member's published model (fresh if the member has already called,
otherwise its last published one, iteration t' < t, staleness t - t'), and puts
the sum, stamped t, into every member's ``results`` slot t mod tau; it never
waits for a member. The others find the claim taken and take the result from
their slot when it arrives. The blocking global average every tau iterations
bounds the staleness by tau - 1 (every rank publishes at the global step) and
keeps ranks within tau - 1 iterations of each other, so slots and claim words
indexed t mod tau are never overwritten before they are read.
"""

from __future__ import annotations

import time

import numpy as np

from mixlab.kernels import counter_rng as crng
from mixlab.kernels.engines.base import due
from mixlab.kernels.engines.mpi import POLL_SECONDS, mpi


def _window(comm, shape, dtype, fill):
    """A window of ``shape`` entries on every rank, filled with ``fill``, and its local array."""
    MPI = mpi()
    itemsize = np.dtype(dtype).itemsize
    win = MPI.Win.Allocate(int(np.prod(shape)) * itemsize, itemsize, comm=comm)
    local = np.frombuffer(win.tomemory(), dtype=dtype).reshape(shape)
    win.Lock(comm.Get_rank(), MPI.LOCK_EXCLUSIVE)
    local[...] = fill
    win.Unlock(comm.Get_rank())
    return win, local


class WaitAvoidingGroups:
    """The wait-avoiding group collective of WAGMA-SGD on one worker per rank.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        One rank per worker.
    X0 : numpy.ndarray, (d,)
        This rank's initial model, published as iteration -1.
    tau : int
        The global-average period; slots and claim words are indexed t mod tau.

    Examples
    --------
    In one process (P = 1) a group of one reduces its own fresh model (MPI is
    initialized on first use, so the example is not run by the doctests):

    >>> from mixlab.kernels.engines.mpi import mpi
    >>> col = WaitAvoidingGroups(mpi().COMM_WORLD, np.zeros(2), tau=2)  # doctest: +SKIP
    >>> total, stale = col.reduce(0, np.array([0]), np.array([1.0, 2.0]))  # doctest: +SKIP
    >>> total.tolist(), stale  # doctest: +SKIP
    ([1.0, 2.0], [0])
    >>> col.free()  # doctest: +SKIP
    """

    def __init__(self, comm, X0: np.ndarray, tau: int):
        self.comm, self.tau, self.d = comm, int(tau), X0.shape[0]
        self.rank = comm.Get_rank()
        self.published, self._published = _window(comm, (self.d + 1,), np.float64, 0.0)
        self.results, self._results = _window(comm, (self.tau, self.d + 1), np.float64, -np.inf)
        self.claims, _ = _window(comm, (self.tau,), np.int64, -1)
        self.publish(-1, X0)
        comm.Barrier()

    def publish(self, t: int, P: np.ndarray) -> None:
        """Publish this rank's model P for iteration t (the send buffer late members leave behind).

        Parameters
        ----------
        t : int
            The iteration of the call.
        P : numpy.ndarray, (d,)
            The published model.
        """
        MPI = mpi()
        self.published.Lock(self.rank, MPI.LOCK_EXCLUSIVE)
        self._published[: self.d] = P
        self._published[self.d] = t
        self.published.Unlock(self.rank)

    def reduce(self, t: int, members: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, list]:
        """Call the group collective of iteration t with this rank's fresh model P.

        Parameters
        ----------
        t : int
            The iteration.
        members : numpy.ndarray of int, (S,)
            The group's ranks, this one among them.
        P : numpy.ndarray, (d,)
            This rank's fresh model (published before the call).

        Returns
        -------
        total : numpy.ndarray, (d,)
            The sum of the members' contributions.
        staleness : list of int
            The staleness of every contribution when this rank activated the
            collective; empty when it took a result another member computed.
        """
        MPI = mpi()
        slot, leader = t % self.tau, int(members[0])
        old = np.empty(1, dtype=np.int64)
        self.claims.Lock(leader, MPI.LOCK_SHARED)
        self.claims.Fetch_and_op(np.array([t], dtype=np.int64), old, leader, slot, MPI.MAX)
        self.claims.Unlock(leader)
        if old[0] < t:
            return self._activate(t, slot, members, P)
        return self._take(t, slot), []

    def _activate(self, t, slot, members, P):
        MPI = mpi()
        total, stale, other = np.zeros(self.d), [], np.empty(self.d + 1)
        for j in members.tolist():
            if j == self.rank:
                total += P
                stale.append(0)
                continue
            self.published.Lock(j, MPI.LOCK_SHARED)
            self.published.Get(other, j)
            self.published.Unlock(j)
            total += other[: self.d]
            stale.append(t - int(other[self.d]))
        message = np.append(total, float(t))
        for j in members.tolist():
            if j != self.rank:
                self.results.Lock(j, MPI.LOCK_EXCLUSIVE)
                self.results.Put(message, j, (slot * (self.d + 1), self.d + 1, MPI.DOUBLE))
                self.results.Unlock(j)
        return total, stale

    def _take(self, t, slot):
        MPI = mpi()
        while True:
            self.results.Lock(self.rank, MPI.LOCK_SHARED)
            row = self._results[slot].copy()
            self.results.Unlock(self.rank)
            if row[self.d] == t:
                return row[: self.d]
            self.comm.Iprobe()
            time.sleep(POLL_SECONDS)

    def free(self) -> None:
        """Free the windows (collective)."""
        self.comm.Barrier()
        for win in (self.published, self.results, self.claims):
            win.Free()


def pairwise_events(algorithm, st, lr, steps, at_step, rec, record_every) -> None:
    """AD-PSGD on one worker per rank: one-sided pairwise averaging with a random neighbour.

    Worker i's model and its version (updates made to it) live in its window.
    On its iteration k it computes a gradient on the model it read, locks its own
    window and neighbour j's (in rank order, so two ranks never wait on each other),
    sets both to (x_i + x_j) / 2 (j's version + 1), applies x_i <- x_i - eta_k D_i
    and reads x_i again; staleness is the version of x_i at the update minus the
    version it read. j is draw k n + i of stream PEER, as on every engine.
    Records are collective (each rank's iteration k = s records step s).

    Parameters
    ----------
    algorithm : ADPSGD
        The spec (its CSR adjacency ``indptr``, ``indices``).
    st : RankState
        This rank's state (one worker); X is updated.
    lr : numpy.ndarray, (steps,)
        Step sizes by the worker's own iteration.
    steps : int
        Iterations per worker.
    at_step : callable
        Called with k before iteration k (status and fault injection).
    rec : object
        The engine's recorder (``staleness``, ``record``).
    record_every : int
        Record every this many iterations, and after the last.
    """
    MPI = mpi()
    comm, i, n, d = st.comm, st.rank, st.n, st.d
    win, model = _window(comm, (d + 1,), np.float64, 0.0)
    win.Lock(i, MPI.LOCK_EXCLUSIVE)
    model[:d] = st.X[0]
    win.Unlock(i)
    comm.Barrier()
    read, read_version = st.X[0].copy(), 0.0
    other = np.empty(d + 1)
    lo, hi = algorithm.indptr[i], algorithm.indptr[i + 1]
    for k in range(steps):
        at_step(k)
        st.compute(k)
        g = st.local_updates(st.gradients(k, read[None, :]))[0]
        u = float(crng.uniform_np(st.seed, crng.PEER, np.array([k * n + i]))[0])
        j = int(algorithm.indices[lo + int(u * (hi - lo))])
        pair = sorted({i, j})
        for r in pair:
            win.Lock(r, MPI.LOCK_EXCLUSIVE)
        win.Get(other, j)
        win.Flush(j)
        avg = (model[:d] + other[:d]) / 2
        win.Put(np.append(avg, other[d] + 1), j)
        stale = model[d] - read_version
        model[:d] = avg - lr[k] * g
        model[d] += 1
        read, read_version = model[:d].copy(), float(model[d])
        for r in reversed(pair):
            win.Unlock(r)
        st.clocks = st.a + st.costs.message
        rec.staleness([stale])
        if due(k, steps, record_every):
            win.Lock(i, MPI.LOCK_SHARED)
            st.X[0] = model[:d]
            win.Unlock(i)
            if rec.record(k + 1, st.X) != 0:
                break
    comm.Barrier()
    win.Free()
