"""AD-PSGD (Lian et al., ICML 2018): asynchronous pairwise averaging.

Worker i reads its model, computes a gradient on that read for c_i(k), then
averages x_i and x_j <- (x_i + x_j)/2 with a uniformly random neighbour j (draw
k n + i of stream PEER), applies x_i <- x_i - eta_k D_i, and starts iteration
k + 1 after one message. Events run in (time, worker) order. Staleness: updates
made to x_i by other workers between the read and the application of the
gradient. A run of ``steps`` means every worker performs ``steps`` iterations;
step s of the trajectory is recorded after n s events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx
import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels import counter_rng as crng
from mixlab.kernels.algorithms.base import Algorithm, register
from mixlab.kernels.config import NUMBA_JIT
from mixlab.kernels.objectives import stochastic_grad
from mixlab.kernels.timing import compute_time, straggler_mask
from mixlab.vocabulary import TIME_VARYING_TOPOLOGIES


class PairwiseParams(NamedTuple):
    """The parameters of :func:`adpsgd_event`: the graph (CSR adjacency) and the state.

    Parameters
    ----------
    indptr : numpy.ndarray of int64, (n + 1,)
        CSR row pointers of the adjacency.
    indices : numpy.ndarray of int64
        CSR column indices: the neighbours of each worker.
    read : numpy.ndarray, (n, d)
        The model each worker read at the start of its current iteration.
    version : numpy.ndarray of int64, (n,)
        Updates made to each x_i so far.
    read_version : numpy.ndarray of int64, (n,)
        ``version`` of x_i when worker i read it.
    k : numpy.ndarray of int64, (n,)
        Each worker's iteration counter.
    g : numpy.ndarray, (d,)
        Gradient buffer.
    """

    indptr: np.ndarray
    indices: np.ndarray
    read: np.ndarray
    version: np.ndarray
    read_version: np.ndarray
    k: np.ndarray
    g: np.ndarray


@numba.njit(**NUMBA_JIT)
def adpsgd_event(i, time, lr, s, p):
    """One AD-PSGD event: worker i finishes computing at ``time`` and updates.

    Worker i takes its gradient on the model it read, averages pairwise with a
    random neighbour j (x_i, x_j <- (x_i + x_j)/2), applies x_i <- x_i - eta_k D_i,
    reads x_i again and starts its next iteration after one message.

    Parameters
    ----------
    i : int
        The worker.
    time : float
        Simulated time at which it finished computing.
    lr : numpy.ndarray, (steps,)
        Step sizes eta_k by the worker's own iteration k.
    s : RunState
        The run; X, U, mask and scratch are updated in place.
    p : PairwiseParams
        The graph and AD-PSGD's state, updated in place.

    Returns
    -------
    next_time : float
        When worker i next finishes computing, or -1.0 after its last iteration.
    staleness : float
        Updates made to x_i by other workers between the read and the update.
    """
    n = s.X.shape[0]
    seed = s.timing.seed
    k = p.k[i]
    g = p.g
    stochastic_grad(s.objective, seed, i, k, p.read[i], g)
    if s.momentum != 0.0:
        s.U[i] = s.momentum * s.U[i] + g
        g[:] = s.U[i]
    deg = p.indptr[i + 1] - p.indptr[i]
    j = p.indices[p.indptr[i] + int(crng.uniform(seed, crng.PEER, k * n + i) * deg)]
    for c in range(s.X.shape[1]):
        avg = (s.X[i, c] + s.X[j, c]) / 2
        s.X[i, c] = avg
        s.X[j, c] = avg
    p.version[j] += 1
    stale = float(p.version[i] - p.read_version[i])
    xi = s.X[i]
    xi -= lr[k] * g
    p.version[i] += 1
    p.k[i] = k + 1
    if k + 1 >= lr.shape[0]:
        return -1.0, stale
    p.read[i] = s.X[i]
    p.read_version[i] = p.version[i]
    straggler_mask(s.timing, n, k + 1, s.mask, s.scratch)
    return time + s.costs.message + compute_time(s.timing, n, i, k + 1, s.mask[i]), stale


@register
@dataclass(frozen=True, kw_only=True)
class ADPSGD(Algorithm):
    """AD-PSGD (Lian et al., ICML 2018): asynchronous pairwise averaging on a static graph.

    Event-driven (``kind = "events"``): a run of T steps means every worker does T
    iterations; see the module docstring for the semantics.

    Parameters
    ----------
    momentum : float, default 0.0
        Heavy-ball momentum m in [0, 1).
    order : str, default "cta"
        Accepted for the common interface; the event's order (average, then the
        gradient step on the read model) is fixed.
    indptr : numpy.ndarray of int64, (n + 1,)
        CSR row pointers of the undirected communication graph.
    indices : numpy.ndarray of int64
        CSR column indices: the neighbours of each worker.
    """

    indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64), repr=False)
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    name = "adpsgd"
    kind = "events"
    options = ("momentum", "topology")
    numba_event = staticmethod(adpsgd_event)

    @classmethod
    def from_options(cls, n: int, *, seed: int = 0, topology: str | None = None, **options) -> ADPSGD:
        """AD-PSGD on the graph ``topology`` (default: the ring) of n workers.

        Parameters
        ----------
        n : int
            Number of workers.
        seed : int, default 0
            Seeds a random topology.
        topology : str or None, default None
            A static graph family of :func:`mixlab.make_graph`; None: "ring".
        **options
            ``momentum``.

        Returns
        -------
        ADPSGD
            The spec with the graph's CSR adjacency.

        Raises
        ------
        ParameterError
            If the topology is time-varying (AD-PSGD needs a static graph).
        """
        from mixlab.theory.graphs import make_graph

        topology = topology or "ring"
        if topology in TIME_VARYING_TOPOLOGIES:
            raise ParameterError(f"adpsgd needs a static graph; {topology} is time-varying")
        A = nx.to_scipy_sparse_array(make_graph(topology, n, seed=seed), nodelist=range(n), format="csr")
        return cls(indptr=A.indptr.astype(np.int64), indices=A.indices.astype(np.int64), **options)

    def check_workers(self, n: int) -> None:
        """Check that the graph has n nodes and that every worker has a neighbour to average with.

        Parameters
        ----------
        n : int
            Number of workers of the problem.

        Raises
        ------
        ParameterError
            If the adjacency does not cover n workers or a worker has no neighbour.
        """
        if self.indptr.shape != (n + 1,):
            raise ParameterError(
                f"inconsistent n: the problem has n = {n} workers, the "
                f"neighbour lists cover {self.indptr.size - 1}"
            )
        if (np.diff(self.indptr) < 1).any():
            raise ParameterError("AD-PSGD needs every worker to have at least one neighbour")

    def numba_params(self, X0: np.ndarray) -> PairwiseParams:
        """The graph and a fresh state: every worker has read X0, no updates yet.

        Parameters
        ----------
        X0 : numpy.ndarray, (n, d)
            The initial models (copied as the read models).

        Returns
        -------
        PairwiseParams
            The parameters of :func:`adpsgd_event`.
        """
        n, d = X0.shape
        return PairwiseParams(
            self.indptr,
            self.indices,
            X0.copy(),
            np.zeros(n, np.int64),
            np.zeros(n, np.int64),
            np.zeros(n, np.int64),
            np.empty(d),
        )

    def reference_event(self, st, i, time, lr):
        """One AD-PSGD event in NumPy, the specification of :func:`adpsgd_event`.

        Its state (read models, version and iteration counters) lives in
        ``st.extra``, created on the first event.

        Parameters
        ----------
        st : ReferenceState
            The reference run; X and U are updated in place.
        i : int
            The worker that finished computing.
        time : float
            Simulated time at which it finished.
        lr : numpy.ndarray, (steps,)
            Step sizes eta_k by the worker's own iteration k.

        Returns
        -------
        next_time : float or None
            When worker i next finishes computing; None after its last iteration.
        staleness : float
            Updates made to x_i by other workers between the read and the update.
        """
        if "read" not in st.extra:
            st.extra.update(
                read=st.X.copy(),
                version=np.zeros(st.n, np.int64),
                read_version=np.zeros(st.n, np.int64),
                k=np.zeros(st.n, np.int64),
            )
        read, version, read_version, iters = (
            st.extra[key] for key in ("read", "version", "read_version", "k")
        )
        k = int(iters[i])
        g = st.objective.stochastic_grads(read[i : i + 1], k, st.seed, workers=[i])[0]
        if st.momentum != 0.0:
            st.U[i] *= st.momentum
            st.U[i] += g
            g = st.U[i]
        deg = self.indptr[i + 1] - self.indptr[i]
        u = float(crng.uniform_np(st.seed, crng.PEER, np.array([k * st.n + i]))[0])
        j = int(self.indices[self.indptr[i] + int(u * deg)])
        avg = (st.X[i] + st.X[j]) / 2
        st.X[i] = avg
        st.X[j] = avg
        version[j] += 1
        stale = float(version[i] - read_version[i])
        st.X[i] -= lr[k] * g
        version[i] += 1
        iters[i] = k + 1
        if k + 1 >= len(lr):
            return None, stale
        read[i] = st.X[i]
        read_version[i] = version[i]
        return time + st.costs.message + float(st.timing.compute_times(st.n, k + 1, st.seed)[i]), stale

    def mpi_check(self, n: int, procs: int, lockstep: bool) -> None:
        """Refuse what the MPI engine cannot run: AD-PSGD is asynchronous, one worker per rank.

        Parameters
        ----------
        n : int
            Number of workers.
        procs : int
            Number of ranks.
        lockstep : bool
            Whether a lockstep schedule was asked for.

        Raises
        ------
        ParameterError
            With lockstep, or if n != procs.
        """
        if lockstep:
            raise ParameterError(
                "AD-PSGD is asynchronous: it has no lockstep schedule on MPI (leave out --lockstep)"
            )
        if n != procs:
            raise ParameterError(f"AD-PSGD on MPI runs one worker per rank: n = {n} workers on {procs} ranks")

    def mpi_events(self, st, lr, steps, at_step, rec, record_every) -> None:
        """AD-PSGD on MPI ranks: one-sided pairwise averaging (:func:`~mixlab.kernels.engines.one_sided.pairwise_events`).

        Parameters
        ----------
        st : RankState
            This rank's state (one worker).
        lr : numpy.ndarray, (steps,)
            Step sizes by the worker's own iteration.
        steps : int
            Iterations per worker.
        at_step : callable
            Called with k before iteration k.
        rec : object
            The engine's recorder.
        record_every : int
            Record every this many iterations, and after the last.
        """
        from mixlab.kernels.engines.one_sided import pairwise_events

        pairwise_events(self, st, lr, steps, at_step, rec, record_every)
