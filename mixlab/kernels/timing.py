"""Simulated wall-clock: compute times, stragglers and alpha-beta communication.

Compute time of worker i on its iteration k (uniform u = draw k n + i of stream
COMPUTE under the run seed), with ``scale`` s:

- ``constant``: s
- ``exponential``: Exp with mean s
- ``shifted_exponential``: ``shift`` + Exp with mean s
- ``lognormal``: exp(N(ln s - sigma^2/2, sigma^2)), mean s

A straggler's time becomes ``time * slowdown + delay``. Stragglers are
``stragglers`` = K workers drawn uniformly without replacement for every
iteration k (uniforms k K ... k K + K - 1 of stream STRAGGLER), or with
``persistent`` one fixed set drawn once.

Communication (alpha-beta model, w bytes per float): an allreduce of m workers
on d floats costs 2 ceil(log2 m) alpha + 2 (m - 1)/m d w beta; a point-to-point
message costs alpha + d w beta.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numba
import numpy as np

from mixlab.kernels import counter_rng as crng
from mixlab.kernels.config import NUMBA_JIT
from mixlab.validate import require_choice, require_int, require_real
from mixlab.vocabulary import COMPUTE_DISTRIBUTIONS

_CODES = {name: code for code, name in enumerate(COMPUTE_DISTRIBUTIONS)}
#: Counter base of the persistent straggler set (far from per-iteration draws).
PERSISTENT_BASE = 1 << 60


class TimingArrays(NamedTuple):
    """What the compiled timing functions read: the model's numbers and the run seed.

    Built by :meth:`TimingModel.arrays`; the fields mirror :class:`TimingModel`.

    Parameters
    ----------
    distribution : int
        Index of the compute-time distribution in
        ``mixlab.vocabulary.COMPUTE_DISTRIBUTIONS`` (0 constant, 1 exponential,
        2 shifted exponential, 3 lognormal).
    scale : float
        Mean s of the compute time (of its exponential part for ``shifted_exponential``).
    shift : float
        Constant part of a shifted-exponential compute time.
    sigma : float
        Log-standard deviation of a lognormal compute time.
    stragglers : int
        K, the number of stragglers per iteration (or of the persistent set).
    persistent : bool
        One straggler set for the whole run instead of one per iteration.
    slowdown : float
        A straggler's compute time is multiplied by this (>= 1) ...
    delay : float
        ... and then increased by this (>= 0).
    seed : int
        The run seed of the draws.
    """

    distribution: int
    scale: float
    shift: float
    sigma: float
    stragglers: int
    persistent: bool
    slowdown: float
    delay: float
    seed: int


@dataclass(frozen=True)
class TimingModel:
    """Simulated wall clock of a run: compute-time distribution, stragglers, alpha-beta costs.

    Worker i's compute time on its iteration k is a pure function of (seed, i, k)
    (see the module docstring); stragglers take ``time * slowdown + delay``. A
    frozen dataclass: every field is validated on construction.

    Parameters
    ----------
    distribution : {"constant", "exponential", "shifted_exponential", "lognormal"}
        Law of a compute time (default ``"constant"``).
    scale : float
        Mean compute time s > 0 (for ``shifted_exponential`` the mean of the
        exponential part; default 1).
    shift : float
        ``shifted_exponential``: the constant part, >= 0 (default 0).
    sigma : float
        ``lognormal``: the log-standard deviation, >= 0 (default 0.5; the mean stays s).
    stragglers : int
        K >= 0 stragglers per iteration, drawn uniformly without replacement
        (default 0; K <= n is checked by :meth:`check_workers`).
    persistent : bool
        Draw one straggler set for the whole run instead of one per iteration
        (default False).
    slowdown : float
        Factor >= 1 on a straggler's compute time (default 1).
    delay : float
        Time >= 0 added to a straggler's compute time (default 0).
    alpha : float
        Latency per message, in time units (default 1e-4).
    beta : float
        Time per byte (default 1e-9).
    word_bytes : int
        Bytes w per model entry, >= 1 (default 8).

    Raises
    ------
    ParameterError
        For an unknown distribution or a value outside the ranges above.

    See Also
    --------
    mixlab.simulate : takes a TimingModel as ``timing``.

    References
    ----------
    Alpha-beta cost model: R. W. Hockney, "The communication challenge for MPP: Intel
    Paragon and Meiko CS-2", Parallel Computing 20(3), 1994. The allreduce cost is
    that of the reduce-scatter/allgather allreduce in R. Thakur, R. Rabenseifner and
    W. Gropp, "Optimization of collective communication operations in MPICH", Int. J.
    High Performance Computing Applications 19(1), 2005, without the reduction term.
    Compute-time and straggler model: mixlab's own; see docs/design.md, section
    "Algorithms (synchronous and asynchronous)", Timing model.

    Examples
    --------
    >>> import mixlab as ml
    >>> tm = ml.TimingModel("exponential", scale=2.0, stragglers=1, slowdown=3.0)
    >>> int(tm.straggler_mask(8, 0, seed=0).sum())
    1
    >>> tm.compute_times(8, 0, seed=0).shape      # one iteration of 8 workers
    (8,)
    >>> round(tm.allreduce_cost(8, 10**6), 4), round(tm.message_cost(10**6), 4)
    (0.0146, 0.0081)
    """

    distribution: str = "constant"
    scale: float = 1.0
    shift: float = 0.0
    sigma: float = 0.5
    stragglers: int = 0
    persistent: bool = False
    slowdown: float = 1.0
    delay: float = 0.0
    alpha: float = 1e-4
    beta: float = 1e-9
    word_bytes: int = 8

    def __post_init__(self):
        require_choice("compute-time distribution", self.distribution, COMPUTE_DISTRIBUTIONS)
        for name in ("scale", "shift", "sigma", "delay", "alpha", "beta"):
            require_real(name, getattr(self, name), low=0)
        require_real("scale", self.scale, low=0, low_open=True)
        require_real("slowdown", self.slowdown, low=1)
        require_int("stragglers", self.stragglers, minimum=0)
        require_int("word_bytes", self.word_bytes, minimum=1)

    def as_dict(self) -> dict:
        """The model's fields as a plain dict (for the run's recorded parameters).

        Returns
        -------
        dict
            Field name -> value.
        """
        return asdict(self)

    def check_workers(self, n: int) -> None:
        """Refuse a run of n workers with more than n stragglers.

        Parameters
        ----------
        n : int
            Number of workers of the run.

        Raises
        ------
        ParameterError
            If ``stragglers > n``.
        """
        if self.stragglers > n:
            from mixlab.errors import ParameterError

            raise ParameterError(f"stragglers must be <= n = {n}, got {self.stragglers}")

    def arrays(self, seed: int) -> TimingArrays:
        """The model as the compiled timing functions read it.

        Parameters
        ----------
        seed : int
            The run seed.

        Returns
        -------
        TimingArrays
            The model's numbers (distribution as an index) and ``seed``.
        """
        return TimingArrays(
            _CODES[self.distribution],
            float(self.scale),
            float(self.shift),
            float(self.sigma),
            int(self.stragglers),
            bool(self.persistent),
            float(self.slowdown),
            float(self.delay),
            int(seed),
        )

    def allreduce_cost(self, m: int, d: int) -> float:
        """Time of an allreduce of m workers on d floats: 2 ceil(log2 m) alpha + 2 (m - 1)/m d w beta.

        Parameters
        ----------
        m : int
            Workers taking part (0 cost for m <= 1).
        d : int
            Floats per worker.

        Returns
        -------
        float
            The cost, in time units.
        """
        return float(allreduce_cost(m, d, self.alpha, self.beta, self.word_bytes))

    def message_cost(self, d: int) -> float:
        """Time of one point-to-point message of d floats: alpha + d w beta.

        Parameters
        ----------
        d : int
            Floats in the message.

        Returns
        -------
        float
            The cost, in time units.
        """
        return self.alpha + d * self.word_bytes * self.beta

    # ---- NumPy reference -----------------------------------------------------------------
    def straggler_mask(self, n: int, k: int, seed: int) -> np.ndarray:
        """The stragglers of iteration k (NumPy reference of :func:`straggler_mask`).

        Floyd's sampling on uniforms of stream STRAGGLER, the same draws as the
        compiled twin.

        Parameters
        ----------
        n : int
            Number of workers.
        k : int
            Iteration (ignored with ``persistent``).
        seed : int
            The run seed.

        Returns
        -------
        numpy.ndarray
            bool (n,), ``stragglers`` entries True.
        """
        mask = np.zeros(n, dtype=bool)
        K = self.stragglers
        base = PERSISTENT_BASE if self.persistent else k * K
        chosen: list[int] = []
        for j in range(n - K, n):
            u = float(crng.uniform_np(seed, crng.STRAGGLER, np.array([base + j - (n - K)]))[0])
            r = int(u * (j + 1))
            chosen.append(j if r in chosen else r)
        mask[chosen] = True
        return mask

    def compute_times(self, n: int, k, seed: int) -> np.ndarray:
        """Compute times of every worker (NumPy reference of :func:`compute_time`).

        Parameters
        ----------
        n : int
            Number of workers.
        k : int or array_like of int
            The iteration: one for all workers, or (n,) one per worker.
        seed : int
            The run seed.

        Returns
        -------
        numpy.ndarray
            float64 (n,): worker i's compute time on its iteration ``k`` (or ``k[i]``),
            straggler slowdown and delay included.
        """
        k = np.broadcast_to(np.asarray(k, dtype=np.int64), (n,))
        u = crng.uniform_np(seed, crng.COMPUTE, k * n + np.arange(n))
        if self.distribution == "constant":
            t = np.full(n, self.scale)
        elif self.distribution == "exponential":
            t = -self.scale * np.log(u)
        elif self.distribution == "shifted_exponential":
            t = self.shift - self.scale * np.log(u)
        else:
            z = crng.normal_np(seed, crng.COMPUTE, k * n + np.arange(n))
            t = np.exp(math.log(self.scale) - self.sigma**2 / 2 + self.sigma * z)
        if self.stragglers:
            slow = np.zeros(n, dtype=bool)
            for kk in np.unique(k):
                slow |= (k == kk) & self.straggler_mask(n, int(kk), seed)
            t = np.where(slow, t * self.slowdown + self.delay, t)
        return t


@numba.njit(**NUMBA_JIT)
def allreduce_cost(m, d, alpha, beta, word_bytes):
    """Allreduce cost 2 ceil(log2 m) alpha + 2 (m - 1)/m d w beta (compiled, for the engines).

    Parameters
    ----------
    m : int
        Workers taking part (cost 0 for m <= 1).
    d : int
        Floats per worker.
    alpha : float
        Latency per message.
    beta : float
        Time per byte.
    word_bytes : int
        Bytes w per float.

    Returns
    -------
    float
        The cost, in time units.
    """
    if m <= 1:
        return 0.0
    return 2 * math.ceil(math.log2(m)) * alpha + 2 * (m - 1) / m * d * word_bytes * beta


@numba.njit(**NUMBA_JIT)
def straggler_mask(tm, n, k, mask, scratch):
    """Mark the stragglers of iteration k in ``mask`` (compiled).

    The compiled twin of :meth:`TimingModel.straggler_mask`.

    Parameters
    ----------
    tm : TimingArrays
        The timing model and run seed.
    n : int
        Number of workers.
    k : int
        Iteration (ignored when ``tm.persistent``).
    mask : numpy.ndarray
        bool (n,), overwritten: True for the stragglers.
    scratch : numpy.ndarray
        int64 work array of size >= ``tm.stragglers``.
    """
    mask[:] = False
    K = tm.stragglers
    if K == 0:
        return
    base = PERSISTENT_BASE if tm.persistent else k * K
    crng.sample_without_replacement(tm.seed, crng.STRAGGLER, base, n, K, scratch)
    for q in range(K):
        mask[scratch[q]] = True


@numba.njit(**NUMBA_JIT)
def compute_time(tm, n, i, k, is_straggler):
    """Compute time of worker i on its iteration k (compiled).

    The compiled twin of :meth:`TimingModel.compute_times`.

    Parameters
    ----------
    tm : TimingArrays
        The timing model and run seed.
    n : int
        Number of workers (the draw's counter is k n + i).
    i : int
        The worker.
    k : int
        The worker's iteration.
    is_straggler : bool
        Apply the straggler slowdown and delay.

    Returns
    -------
    float
        The compute time.
    """
    dist, scale, shift, sigma, seed = tm.distribution, tm.scale, tm.shift, tm.sigma, tm.seed
    c = k * n + i
    if dist == 0:
        t = scale
    elif dist == 1:
        t = -scale * np.log(crng.uniform(seed, crng.COMPUTE, c))
    elif dist == 2:
        t = shift - scale * np.log(crng.uniform(seed, crng.COMPUTE, c))
    else:
        t = np.exp(np.log(scale) - sigma * sigma / 2 + sigma * crng.normal(seed, crng.COMPUTE, c))
    if is_straggler:
        t = t * tm.slowdown + tm.delay
    return t
