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
from mixlab.theory.weights import mixing_matrix
from mixlab.validate import require_int
from mixlab.vocabulary import TIME_VARYING_TOPOLOGIES


class Schedule(ABC):
    """A sequence W_0, W_1, ... of n x n mixing matrices."""

    n: int
    period: int | None
    period_rho_kind = "worst_case"

    @abstractmethod
    def matrix(self, t: int, *, sparse: bool | None = None):
        """W_t (dense for small n unless ``sparse``; see mixing_matrix.DENSE_MAX_N)."""

    def matrices(self, start: int = 0) -> Iterator:
        """W_start, W_{start+1}, ... (endless)."""
        t = start
        while True:
            yield self.matrix(t)
            t += 1

    def period_rho(self) -> float:
        """||W_{q-1} ... W_0 - J||_2 over one period."""
        return spectral.period_contraction(self.matrix(t) for t in range(self.whole_period()))

    def whole_period(self) -> int:
        """The period q, or a ParameterError for a random (aperiodic) schedule."""
        if self.period is None:
            raise ParameterError(f"{type(self).__name__} is random: it has no period")
        return self.period

    def steps_to_exact_average(self, max_steps: int | None = None) -> int | None:
        """Smallest t with W_{t-1} ... W_0 = J, searched up to ``max_steps``
        (default: two periods plus log2 n)."""
        if max_steps is None:
            max_steps = 2 * self.whole_period() + math.ceil(math.log2(self.n))
        return spectral.steps_to_exact_average(self.matrices(), max_steps)


class FixedMixing(Schedule):
    """The same mixing matrix W at every iteration."""

    period = 1

    def __init__(self, W):
        self.W = check_mixing_matrix(W)
        self.n = self.W.shape[0]

    def matrix(self, t: int, *, sparse: bool | None = None):
        W = self.W
        if want_sparse(self.n, sparse) != sp.issparse(W):
            W = sp.csr_matrix(W) if not sp.issparse(W) else W.toarray()
        return W

    def period_rho(self) -> float:
        return spectral.rho(self.W)


class OnePeerExponential(Schedule):
    """One-peer exponential graph (Ying et al., "Exponential Graph is Provably
    Efficient for Decentralized Deep Training", NeurIPS 2021): at iteration t
    worker i averages with worker (i + 2^(t mod tau)) mod n, tau = ceil(log2 n):
    W_t = (I + P^(2^(t mod tau))) / 2. Circulant, doubly stochastic, not
    symmetric; for n a power of 2 any tau consecutive steps average exactly."""

    period: int

    def __init__(self, n: int):
        self.n = require_int("n", n, minimum=2)
        self.period = max(1, math.ceil(math.log2(self.n)))

    def peer_offset(self, t: int) -> int:
        """Worker i receives from (i + peer_offset(t)) mod n at iteration t."""
        return 1 << (require_int("t", t, minimum=0) % self.period)

    def matrix(self, t: int, *, sparse: bool | None = None):
        h = self.peer_offset(t)
        i = np.arange(self.n)
        W = sp.csr_matrix(
            (np.full(2 * self.n, 0.5), (np.r_[i, i], np.r_[i, (i + h) % self.n])), shape=(self.n, self.n)
        )
        return W if want_sparse(self.n, sparse) else W.toarray()


def mixing_period(topology: str, n: int, weights: str = "metropolis", seed: int = 0) -> tuple:
    """The sparse mixing matrices of one period of a named topology: the one-peer
    exponential schedule's log2-period, or the single W of a static graph under a
    weight rule (``seed`` draws random graphs).

    >>> [W.shape for W in mixing_period("one_peer_exponential", 8)]
    [(8, 8), (8, 8), (8, 8)]
    """
    if topology in TIME_VARYING_TOPOLOGIES:
        sched = OnePeerExponential(n)
        return tuple(sched.matrix(t, sparse=True) for t in range(sched.period))
    return (mixing_matrix(make_graph(topology, n, seed=seed), weights, sparse=True),)
