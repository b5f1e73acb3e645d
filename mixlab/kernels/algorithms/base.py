"""What an algorithm unit provides, the registry that finds it, and the pieces
its steps share.

An algorithm is one module of :mod:`mixlab.kernels.algorithms`: a frozen
dataclass (the spec: plain numbers and arrays) registered under its name, with

- ``options`` and :meth:`Algorithm.from_options`: the keyword options a user
  (or a command-line flag) may give, turned into a spec; any other option is
  refused by :func:`build` with a message naming the options that apply;
- its semantics once for every engine: ``reference_step(state, t, eta)`` in
  NumPy (the specification) and ``numba_step(t, eta, state, params)``, a
  compiled function the compiled engine drives, with ``numba_params`` giving
  its typed parameters (a NamedTuple). Event-driven algorithms (``kind =
  "events"``) give ``reference_event`` and ``numba_event`` instead.

Synchronous steps see one :class:`RunState` (models X, gradients G, heavy-ball
buffers U, scratch Y and Z, push-sum weights w, arrival times a, clocks, the
staleness ``back`` of each worker's contribution, the objective, the timing
model and the communication costs) and update X, the clocks and ``back`` in
place. Semantics of every algorithm: docs/design.md, "Algorithms".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.config import NUMBA_JIT, NUMBA_PARALLEL
from mixlab.kernels.objectives import ObjectiveArrays, stochastic_grad
from mixlab.kernels.timing import TimingArrays
from mixlab.theory.graphs import FAMILIES
from mixlab.theory.weights import RULES as WEIGHT_RULES
from mixlab.validate import require_choice, require_real
from mixlab.vocabulary import ACTIVATIONS, GROUP_RULES, TIME_VARYING_TOPOLOGIES, UPDATE_ORDERS

#: name -> algorithm class, filled by :func:`register`.
ALGORITHMS: dict[str, type[Algorithm]] = {}


class Option(NamedTuple):
    """A user option of some algorithm: its type, default and help (the CLI flag is
    ``--`` + name with dashes)."""

    type: type
    default: object
    help: str
    choices: tuple | None = None


#: Every option an algorithm may accept; an algorithm names the ones it takes.
OPTIONS = {
    "momentum": Option(float, 0.0, "heavy-ball momentum m in [0, 1)"),
    "order": Option(str, None, "update order (default: the source's)", UPDATE_ORDERS),
    "topology": Option(
        str, None, "communication graph (default: the algorithm's)", (*FAMILIES, *TIME_VARYING_TOPOLOGIES)
    ),
    "weights": Option(str, "metropolis", "weight rule of the mixing matrix", WEIGHT_RULES),
    "local_steps": Option(int, 4, "local SGD H: steps between global averages"),
    "group_size": Option(int, None, "WAGMA group size S (n must be a power of S)"),
    "sync_period": Option(int, 8, "WAGMA global average period tau"),
    "rule": Option(str, "self_weighted", "WAGMA group averaging rule", GROUP_RULES),
    "activation": Option(
        str, "global", "WAGMA wait-avoiding activation: the first arrival anywhere, or per group", ACTIVATIONS
    ),
    "wait_avoiding": Option(bool, True, "WAGMA: stale contributions instead of waiting"),
}


def register(cls: type[Algorithm]) -> type[Algorithm]:
    """Class decorator: make ``cls`` available by its ``name``."""
    unknown = set(cls.options) - set(OPTIONS)
    if unknown:
        raise ParameterError(f"algorithm {cls.name!r} declares unknown options {sorted(unknown)}")
    ALGORITHMS[cls.name] = cls
    return cls


def build(name: str, n: int, *, seed: int = 0, **options) -> Algorithm:
    """The spec of algorithm ``name`` on n workers from keyword options; an option the
    algorithm does not take is refused (``seed`` seeds random topologies)."""
    require_choice("algorithm", name, ALGORITHMS)
    cls = ALGORITHMS[name]
    given = {k: v for k, v in options.items() if v is not None}
    refused = sorted(set(given) - set(cls.options))
    if refused:
        flags = ", ".join("--" + o.replace("_", "-") for o in refused)
        takes = ", ".join("--" + o.replace("_", "-") for o in cls.options) or "none"
        raise ParameterError(f"{name} does not take {flags} (its options: {takes})")
    return cls.from_options(n, seed=seed, **given)


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    """Common parameters: momentum m in [0, 1) and the update order."""

    momentum: float = 0.0
    order: str = "cta"
    name: ClassVar[str] = "algorithm"
    kind: ClassVar[str] = "synchronous"
    options: ClassVar[tuple[str, ...]] = ("momentum",)
    #: the recorded models are x_i / w_i (push-sum)
    debiased: ClassVar[bool] = False
    #: options of a small example run (tests generate the engine-agreement runs from them)
    example: ClassVar[dict] = {}

    def __post_init__(self):
        require_real("momentum", self.momentum, low=0, high=1, high_open=True)
        require_choice("update order", self.order, UPDATE_ORDERS)

    @classmethod
    def from_options(cls, n: int, *, seed: int = 0, **options) -> Algorithm:
        return cls(**options)

    def check_workers(self, n: int) -> None:
        """Raise if the spec does not fit n workers."""

    def params(self) -> dict:
        return {"algorithm": self.name, "momentum": self.momentum, "order": self.order}

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """(W_0, ..., W_{steps-1}, update order): the linear mixing of a run without
        stragglers, for exact (second-moment) predictions; algorithms whose update is
        not such a sequence refuse."""
        raise ParameterError(f"{self.name} is not a sequence of mixing matrices")

    def numba_params(self, X0: np.ndarray) -> tuple:
        """The typed parameters of ``numba_step`` (a NamedTuple) for a run from the
        initial models X0 (n, d); they may hold the algorithm's own state."""
        return ()


# ---- the state every synchronous step sees ---------------------------------------------------


class Costs(NamedTuple):
    """alpha-beta model: per-message latency, per-byte time, bytes per float; and the
    precomputed cost of an allreduce of all n workers and of one message."""

    alpha: float
    beta: float
    word_bytes: int
    allreduce_n: float
    message: float


class RunState(NamedTuple):
    """Arrays and numbers of a compiled run (see the module docstring)."""

    objective: ObjectiveArrays
    timing: TimingArrays
    costs: Costs
    momentum: float
    X: np.ndarray
    G: np.ndarray
    U: np.ndarray
    Y: np.ndarray
    Z: np.ndarray
    w: np.ndarray
    a: np.ndarray
    clocks: np.ndarray
    back: np.ndarray
    mask: np.ndarray
    scratch: np.ndarray


# ---- compiled pieces the steps share ----------------------------------------------------------


@numba.njit(**NUMBA_PARALLEL)
def gradients(obj, seed, t, Z, G):
    """G[i] = worker i's stochastic gradient at Z[i] on iteration t, workers in parallel
    (the parallel loop takes arrays, not tuples: ``obj`` is rebuilt inside it)."""
    (
        kind,
        hdiag,
        centers,
        noise_std,
        features,
        labels,
        reg,
        batch,
        f_star,
        row_stride,
        user_grad,
        user_loss,
    ) = obj
    for i in numba.prange(Z.shape[0]):
        arrays = ObjectiveArrays(
            kind,
            hdiag,
            centers,
            noise_std,
            features,
            labels,
            reg,
            batch,
            f_star,
            row_stride,
            user_grad,
            user_loss,
        )
        stochastic_grad(arrays, seed, i, t, Z[i], G[i])


@numba.njit(**NUMBA_JIT)
def local_updates(s):
    """The local update D: the gradients, or the heavy-ball buffers U <- m U + G
    (buffers stay local, never averaged)."""
    if s.momentum == 0.0:
        return s.G
    U = s.U
    U *= s.momentum
    U += s.G
    return U


@numba.njit(**NUMBA_PARALLEL)
def axpy_into(out, X, eta, D):
    """out = X - eta D, rows in parallel."""
    for i in numba.prange(X.shape[0]):
        out[i] = X[i] - eta * D[i]


@numba.njit(**NUMBA_JIT)
def wait_for_all(a, cost, clocks):
    """A blocking collective: everyone starts the next iteration at max_j a_j + cost."""
    clocks[:] = a.max() + cost


@numba.njit(**NUMBA_JIT)
def neighbourhood_clocks(indptr, indices, a, cost, clocks):
    """clocks[i] = max over i's in-neighbours j (W_ij != 0) of a_j, plus cost."""
    for i in range(a.shape[0]):
        m = -np.inf
        for k in range(indptr[i], indptr[i + 1]):
            m = max(m, a[indices[k]])
        clocks[i] = m + cost


@numba.njit(**NUMBA_JIT)
def row_mean(X, out):
    """out = the mean of the rows of X."""
    out[:] = 0.0
    for i in range(X.shape[0]):
        out += X[i]
    out /= X.shape[0]


def allreduce_cost(m: int, d: int, alpha: float, beta: float, word_bytes: int) -> float:
    """2 ceil(log2 m) alpha + 2 (m - 1)/m d w beta (0 for m = 1), in NumPy for the reference."""
    if m <= 1:
        return 0.0
    return 2 * math.ceil(math.log2(m)) * alpha + 2 * (m - 1) / m * d * word_bytes * beta


# ---- NumPy counterparts for the reference steps ---------------------------------------------


def local_updates_np(state, G):
    """The local update D from gradients G (heavy ball keeps its buffers U local)."""
    if state.momentum == 0.0:
        return G
    state.U *= state.momentum
    state.U += G
    return state.U


def neighbourhood_clocks_np(W, arrivals, cost):
    """max over in-neighbours of the arrival times, plus cost (CSR W)."""
    return np.maximum.reduceat(arrivals[W.indices], W.indptr[:-1]) + cost
