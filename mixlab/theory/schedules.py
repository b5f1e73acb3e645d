"""Time-varying communication patterns: a schedule gives the mixing matrix W_t
of every iteration t.

A schedule has ``n`` workers and a ``period`` q (W_{t+q} = W_t), or ``period =
None`` for a random schedule. ``period_rho()`` is the per-period contraction
||W_{q-1} ... W_0 - J||_2 (``period_rho_kind == "worst_case"``), or for random
schedules the mean-square factor sqrt(E||(W - J) X||_F^2 / ||X - JX||_F^2)
(``"mean_square"``). ``steps_to_exact_average()`` is the smallest t with
W_{t-1}...W_0 = J, or None.

>>> s = OnePeerExponential(8)
>>> s.period, s.steps_to_exact_average(), round(s.period_rho(), 12)
(3, 3, 0.0)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from mixlab.errors import ParameterError
from mixlab.theory import spectral
from mixlab.theory.graphs import make_graph
from mixlab.theory.mixing_matrix import check_mixing_matrix, want_sparse
from mixlab.theory.structured import STRUCTURED, structured_mixing_matrix
from mixlab.theory.weights import mixing_matrix
from mixlab.validate import require_int
from mixlab.vocabulary import TIME_VARYING_TOPOLOGIES


class Schedule(ABC):
    """A sequence W_0, W_1, ... of n x n mixing matrices (abstract base class).

    Subclasses set ``n`` and ``period`` (None for a random schedule) and implement
    :meth:`matrix`; ``period_rho_kind`` says what :meth:`period_rho` measures
    (``"worst_case"`` or ``"mean_square"``).
    """

    n: int
    period: int | None
    period_rho_kind = "worst_case"

    @abstractmethod
    def matrix(self, t: int, *, sparse: bool | None = None):
        """The mixing matrix W_t of iteration t.

        Parameters
        ----------
        t : int
            Iteration, >= 0.
        sparse : bool or None, optional
            Force CSR (True) or dense (False); None: dense for n <= DENSE_MAX_N.

        Returns
        -------
        numpy.ndarray or scipy.sparse.csr_matrix
            (n, n) W_t.
        """

    def matrices(self, start: int = 0) -> Iterator:
        """Iterate W_start, W_{start+1}, ... (endless).

        Parameters
        ----------
        start : int, default 0
            First iteration.

        Yields
        ------
        numpy.ndarray or scipy.sparse.csr_matrix
            W_t for t = start, start + 1, ..., in the default storage.
        """
        t = start
        while True:
            yield self.matrix(t)
            t += 1

    def period_rho(self) -> float:
        """Per-period contraction ||W_{q-1} ... W_0 - J||_2.

        Returns
        -------
        float
            The contraction of one period (0 when a period averages exactly).

        Raises
        ------
        ParameterError
            If the schedule is random (no period).
        """
        return spectral.period_contraction(self.matrix(t) for t in range(self.whole_period()))

    def whole_period(self) -> int:
        """The period q (W_{t+q} = W_t) of a periodic schedule.

        Returns
        -------
        int
            The period q.

        Raises
        ------
        ParameterError
            If the schedule is random (``period is None``).
        """
        if self.period is None:
            raise ParameterError(f"{type(self).__name__} is random: it has no period")
        return self.period

    def steps_to_exact_average(self, max_steps: int | None = None) -> int | None:
        """Smallest t with W_{t-1} ... W_0 = J, or None.

        Parameters
        ----------
        max_steps : int, optional
            Longest prefix searched; default two periods plus ceil(log2 n).

        Returns
        -------
        int or None
            The first t whose prefix product is J, None if none within ``max_steps``.
        """
        if max_steps is None:
            max_steps = 2 * self.whole_period() + math.ceil(math.log2(self.n))
        return spectral.steps_to_exact_average(self.matrices(), max_steps)


class FixedMixing(Schedule):
    """The same mixing matrix W at every iteration (period 1).

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        (n, n) row-stochastic mixing matrix (validated by
        :func:`~mixlab.theory.mixing_matrix.check_mixing_matrix`).
    """

    period = 1

    def __init__(self, W):
        self.W = check_mixing_matrix(W)
        self.n = self.W.shape[0]

    def matrix(self, t: int, *, sparse: bool | None = None):
        """The fixed W, whatever t.

        Parameters
        ----------
        t : int
            Iteration (ignored).
        sparse : bool or None, optional
            Force CSR (True) or dense (False); None: dense for n <= DENSE_MAX_N.

        Returns
        -------
        numpy.ndarray or scipy.sparse.csr_matrix
            (n, n) W in the requested storage.
        """
        W = self.W
        if want_sparse(self.n, sparse) != sp.issparse(W):
            W = sp.csr_matrix(W) if not sp.issparse(W) else W.toarray()
        return W

    def period_rho(self) -> float:
        """Per-step contraction rho(W) = ||W - J||_2.

        Returns
        -------
        float
            rho of the fixed W.
        """
        return spectral.rho(self.W)


class OnePeerExponential(Schedule):
    """One-peer exponential graph (Ying et al., "Exponential Graph is Provably
    Efficient for Decentralized Deep Training", NeurIPS 2021): at iteration t
    worker i averages with worker (i + 2^(t mod tau)) mod n, tau = ceil(log2 n):
    W_t = (I + P^(2^(t mod tau))) / 2. Circulant, doubly stochastic, not
    symmetric; for n a power of 2 any tau consecutive steps average exactly.

    Parameters
    ----------
    n : int
        Number of workers, >= 2.

    Attributes
    ----------
    period : int
        tau = ceil(log2 n) (1 for n = 2).

    Examples
    --------
    >>> import mixlab as ml
    >>> s = ml.OnePeerExponential(4)
    >>> s.period, [s.peer_offset(t) for t in range(3)], s.steps_to_exact_average()
    (2, [1, 2, 1], 2)
    >>> ml.OnePeerExponential(6).steps_to_exact_average() is None   # n not a power of 2
    True

    References
    ----------
    B. Ying, K. Yuan, Y. Chen, H. Hu, P. Pan and W. Yin, "Exponential graph is provably
    efficient for decentralized deep training", NeurIPS 2021.
    """

    period: int

    def __init__(self, n: int):
        self.n = require_int("n", n, minimum=2)
        self.period = max(1, math.ceil(math.log2(self.n)))

    def peer_offset(self, t: int) -> int:
        """Offset h = 2^(t mod period): worker i receives from (i + h) mod n at iteration t.

        Parameters
        ----------
        t : int
            Iteration, >= 0.

        Returns
        -------
        int
            The peer offset h.
        """
        return 1 << (require_int("t", t, minimum=0) % self.period)

    def matrix(self, t: int, *, sparse: bool | None = None):
        """W_t = (I + P^h) / 2 with h = :meth:`peer_offset` (t) and P the cyclic shift.

        Parameters
        ----------
        t : int
            Iteration, >= 0.
        sparse : bool or None, optional
            Force CSR (True) or dense (False); None: dense for n <= DENSE_MAX_N.

        Returns
        -------
        numpy.ndarray or scipy.sparse.csr_matrix
            (n, n) W_t, weight 1/2 on the diagonal and on entry (i, (i + h) mod n).
        """
        h = self.peer_offset(t)
        i = np.arange(self.n)
        W = sp.csr_matrix(
            (np.full(2 * self.n, 0.5), (np.r_[i, i], np.r_[i, (i + h) % self.n])), shape=(self.n, self.n)
        )
        return W if want_sparse(self.n, sparse) else W.toarray()


def mixing_period(topology: str, n: int, weights: str = "metropolis", seed: int = 0) -> tuple:
    """The sparse mixing matrices of one period of a named topology: the one-peer
    exponential schedule's log2-period, or the single W of a static graph under a
    weight rule.

    Parameters
    ----------
    topology : str
        ``"one_peer_exponential"`` or a graph family of
        :func:`~mixlab.theory.graphs.make_graph`.
    n : int
        Number of workers.
    weights : str, default "metropolis"
        Weight rule of :func:`~mixlab.theory.weights.mixing_matrix` (static graphs only).
    seed : int, default 0
        Seed of the random graph families.

    Returns
    -------
    tuple of scipy.sparse.csr_matrix
        The (n, n) matrices W_0, ..., W_{q-1} of one period (one matrix for a static graph).

    Raises
    ------
    ParameterError
        If the topology, weight rule or n is invalid.

    Examples
    --------
    >>> import mixlab as ml
    >>> [W.shape for W in ml.mixing_period("one_peer_exponential", 8)]
    [(8, 8), (8, 8), (8, 8)]
    >>> len(ml.mixing_period("ring", 8, "max_degree"))
    1

    References
    ----------
    B. Ying, K. Yuan, Y. Chen, H. Hu, P. Pan and W. Yin, "Exponential graph is provably
    efficient for decentralized deep training", NeurIPS 2021.
    docs/design.md, section Communication patterns.
    """
    if topology in TIME_VARYING_TOPOLOGIES:
        sched = OnePeerExponential(n)
        return tuple(sched.matrix(t, sparse=True) for t in range(sched.period))
    if topology in STRUCTURED and topology != "complete":  # no graph object: O(n d) memory
        return (structured_mixing_matrix(topology, n, weights),)
    return (mixing_matrix(make_graph(topology, n, seed=seed), weights, sparse=True),)
