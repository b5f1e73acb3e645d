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
    """What the compiled timing functions read: the model's numbers and the run seed."""

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
    """Compute-time distribution, straggler injection and alpha-beta costs."""

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
        return asdict(self)

    def check_workers(self, n: int) -> None:
        if self.stragglers > n:
            from mixlab.errors import ParameterError

            raise ParameterError(f"stragglers must be <= n = {n}, got {self.stragglers}")

    def arrays(self, seed: int) -> TimingArrays:
        """The model for the compiled timing functions, with the run's ``seed``."""
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
        return float(allreduce_cost(m, d, self.alpha, self.beta, self.word_bytes))

    def message_cost(self, d: int) -> float:
        return self.alpha + d * self.word_bytes * self.beta

    # ---- NumPy reference -----------------------------------------------------------------
    def straggler_mask(self, n: int, k: int, seed: int) -> np.ndarray:
        """Bool (n,): the stragglers of iteration k (Floyd's algorithm, as compiled)."""
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
        """(n,) compute times of every worker on iteration(s) k (scalar or (n,))."""
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
    """2 ceil(log2 m) alpha + 2 (m - 1)/m d w beta (0 for m = 1); compiled, so the
    engines call the same function."""
    if m <= 1:
        return 0.0
    return 2 * math.ceil(math.log2(m)) * alpha + 2 * (m - 1) / m * d * word_bytes * beta


@numba.njit(**NUMBA_JIT)
def straggler_mask(tm, n, k, mask, scratch):
    """Compiled twin of TimingModel.straggler_mask (``tm``: :class:`TimingArrays`;
    ``scratch``: int64 array of size >= K)."""
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
    """Compiled twin of TimingModel.compute_times for one (worker, iteration)."""
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
