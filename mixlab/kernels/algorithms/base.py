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
    """A user option of some algorithm: its type, default and help.

    The command-line flag is ``--`` + the name with dashes (``local_steps``:
    ``--local-steps``).

    Parameters
    ----------
    type : type
        The type the value is converted to (``float``, ``int``, ``str`` or ``bool``).
    default : object
        The value when the option is not given; None: the algorithm's own default.
    help : str
        One line of help for the command-line flag.
    choices : tuple or None, default None
        The allowed values; None: any value of ``type``.
    """

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
    """Class decorator: make an algorithm class available by its ``name``.

    ``cls`` is the algorithm class (a subclass of :class:`Algorithm`); every name in
    its ``options`` must be a key of :data:`OPTIONS`.

    Returns
    -------
    type[Algorithm]
        ``cls`` itself, now in :data:`ALGORITHMS` under ``cls.name``.

    Raises
    ------
    ParameterError
        If ``cls.options`` names an option that :data:`OPTIONS` does not define.
    """
    unknown = set(cls.options) - set(OPTIONS)
    if unknown:
        raise ParameterError(f"algorithm {cls.name!r} declares unknown options {sorted(unknown)}")
    ALGORITHMS[cls.name] = cls
    return cls


def build(name: str, n: int, *, seed: int = 0, **options) -> Algorithm:
    """Build the spec of algorithm ``name`` on n workers from keyword options.

    An option the algorithm does not take is refused; an option given as None
    counts as not given (the algorithm's default applies). Public as
    ``mixlab.build_algorithm``.

    Parameters
    ----------
    name : str
        A key of :data:`ALGORITHMS`: "adpsgd", "allreduce", "dpsgd",
        "gradient_tracking", "local_sgd", "sgp" or "wagma".
    n : int
        Number of workers the graph, groups or mixing matrices are built for.
    seed : int, default 0
        Seeds random topologies (random regular, Erdos-Renyi).
    **options
        The algorithm's keyword options, a subset of its ``options`` (defined in
        :data:`OPTIONS`: momentum, order, topology, weights, local_steps, group_size,
        sync_period, rule, activation, wait_avoiding).

    Returns
    -------
    Algorithm
        The frozen spec, ready for :func:`mixlab.simulate`.

    Raises
    ------
    ParameterError
        If ``name`` is not registered, an option is not one the algorithm takes (the
        message lists the flags it takes) or an option value is invalid.

    Examples
    --------
    >>> import mixlab as ml
    >>> alg = ml.build_algorithm("wagma", 16, group_size=4, sync_period=4)
    >>> alg.group_size, alg.sync_period, alg.groups.shape  # k = log_S n = 2 phases of 4 groups
    (4, 4, (2, 4, 4))
    >>> ml.build_algorithm("dpsgd", 8, topology="ring", momentum=None).params()
    {'algorithm': 'dpsgd', 'momentum': 0.0, 'order': 'cta', 'period': 1}
    >>> ml.build_algorithm("allreduce", 8, topology="ring")
    Traceback (most recent call last):
    ...
    mixlab.errors.ParameterError: allreduce does not take --topology (its options: --momentum)

    References
    ----------
    The algorithms, their options and update orders: docs/design.md, section
    "Algorithms (synchronous and asynchronous)". Sources: D-PSGD, Lian et al.,
    NeurIPS 2017; AD-PSGD, Lian et al., ICML 2018; SGP, Assran et al., ICML 2019;
    WAGMA-SGD, Li et al., IEEE TPDS 2021; gradient tracking (DIGing), Nedic,
    Olshevsky & Shi, SIAM J. Optim. 2017; local SGD, Stich, ICLR 2019.
    """
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
    """The spec every algorithm extends: heavy-ball momentum and the update order.

    An algorithm is a frozen, keyword-only dataclass subclass registered with
    :func:`register`; its class attributes ``name``, ``kind`` ("synchronous" or
    "events"), ``options``, ``debiased`` and ``example`` describe it to the registry,
    the engines and the tests.

    Parameters
    ----------
    momentum : float, default 0.0
        Heavy-ball momentum m in [0, 1); the buffers U <- m U + g stay local.
    order : {"cta", "atc"}, default "cta"
        Update order: combine-then-adapt, x <- (average) - eta D, or
        adapt-then-combine, x <- average of (x - eta D).

    Raises
    ------
    ParameterError
        If m is outside [0, 1) or the order is unknown.
    """

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
        """Build the spec for n workers from the options :func:`build` accepted.

        Parameters
        ----------
        n : int
            Number of workers (this base spec does not depend on it).
        seed : int, default 0
            Seeds random topologies (unused here).
        **options
            The algorithm's options, passed to the constructor.

        Returns
        -------
        Algorithm
            ``cls(**options)``.
        """
        return cls(**options)

    def check_workers(self, n: int) -> None:
        """Raise if the spec does not fit n workers; the base spec fits any n.

        Parameters
        ----------
        n : int
            Number of workers of the problem.
        """

    def params(self) -> dict:
        """The spec as run parameters, recorded in the trajectory's ``params``.

        Returns
        -------
        dict
            ``algorithm`` (the name), ``momentum`` and ``order``.
        """
        return {"algorithm": self.name, "momentum": self.momentum, "order": self.order}

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """The linear mixing of a run without stragglers, for exact second-moment predictions.

        Algorithms whose update is not a sequence of mixing matrices refuse; this base
        method always does.

        Parameters
        ----------
        n : int
            Number of workers.
        steps : int
            Number of iterations T.

        Returns
        -------
        tuple of (list, str)
            In an algorithm that overrides it: (W_0, ..., W_{T-1}), each (n, n), and the
            update order "cta" or "atc".

        Raises
        ------
        ParameterError
            Always here: the base spec is not a sequence of mixing matrices.
        """
        raise ParameterError(f"{self.name} is not a sequence of mixing matrices")

    def numba_params(self, X0: np.ndarray) -> tuple:
        """The typed parameters of the compiled step for a run from the initial models X0.

        Parameters
        ----------
        X0 : numpy.ndarray, (n, d)
            The initial models; the parameters may hold copies of them as the
            algorithm's own state.

        Returns
        -------
        tuple
            A NamedTuple of arrays and numbers; the empty tuple here.
        """
        return ()


# ---- the state every synchronous step sees ---------------------------------------------------


class Costs(NamedTuple):
    """The alpha-beta communication model of a run, with its precomputed costs.

    Parameters
    ----------
    alpha : float
        Per-message latency (simulated time).
    beta : float
        Transfer time per byte.
    word_bytes : int
        Bytes per float, w.
    allreduce_n : float
        Cost of an allreduce of all n workers on d floats,
        2 ceil(log2 n) alpha + 2 (n - 1)/n d w beta.
    message : float
        Cost of one message of d floats, alpha + d w beta.
    """

    alpha: float
    beta: float
    word_bytes: int
    allreduce_n: float
    message: float


class RunState(NamedTuple):
    """Arrays and numbers of a compiled run; a synchronous step updates them in place.

    Parameters
    ----------
    objective : ObjectiveArrays
        The objective in compiled form.
    timing : TimingArrays
        The timing model in compiled form, with the run's seed.
    costs : Costs
        Communication costs.
    momentum : float
        Heavy-ball momentum m.
    X : numpy.ndarray, (n, d)
        The models, row i = worker i.
    G : numpy.ndarray, (n, d)
        The stochastic gradients of this iteration.
    U : numpy.ndarray, (n, d)
        Heavy-ball buffers (local, never averaged).
    Y, Z : numpy.ndarray, (n, d)
        Scratch for the steps.
    w : numpy.ndarray, (n,)
        Push-sum weights (ones unless the algorithm is push-sum).
    a : numpy.ndarray, (n,)
        Arrival times of this iteration, a_i = s_i + c_i.
    clocks : numpy.ndarray, (n,)
        Start times s_i; a step sets those of the next iteration.
    back : numpy.ndarray of int64, (n,)
        Staleness, in iterations, of each worker's contribution to this step.
    mask : numpy.ndarray of bool, (n,)
        The stragglers of this iteration.
    scratch : numpy.ndarray of int64, (max(stragglers, 1),)
        Work space of the straggler draw.
    """

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
    """Stochastic gradients G[i] of every worker i at Z[i] on iteration t, in parallel.

    The parallel loop takes arrays, not tuples: ``obj`` is rebuilt inside it.

    Parameters
    ----------
    obj : ObjectiveArrays
        The objective in compiled form.
    seed : int
        The run's seed (gradient noise, minibatches).
    t : int
        Iteration; keys the draws.
    Z : numpy.ndarray, (n, d)
        The points, row i for worker i.
    G : numpy.ndarray, (n, d)
        Output, overwritten.
    """
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
    """The local update D: the gradients, or the heavy-ball buffers U <- m U + G.

    Buffers stay local, never averaged.

    Parameters
    ----------
    s : RunState
        The run; ``s.U`` is updated in place when m > 0.

    Returns
    -------
    numpy.ndarray, (n, d)
        ``s.G`` when m = 0, else ``s.U`` (the arrays themselves, not copies).
    """
    if s.momentum == 0.0:
        return s.G
    U = s.U
    U *= s.momentum
    U += s.G
    return U


@numba.njit(**NUMBA_PARALLEL)
def axpy_into(out, X, eta, D):
    """out = X - eta D, rows in parallel.

    Parameters
    ----------
    out : numpy.ndarray, (n, d)
        Output; may be ``X`` itself.
    X : numpy.ndarray, (n, d)
        The models.
    eta : float
        Step size.
    D : numpy.ndarray, (n, d)
        The local updates.
    """
    for i in numba.prange(X.shape[0]):
        out[i] = X[i] - eta * D[i]


@numba.njit(**NUMBA_JIT)
def wait_for_all(a, cost, clocks):
    """A blocking collective: everyone starts the next iteration at max_j a_j + cost.

    Parameters
    ----------
    a : numpy.ndarray, (n,)
        Arrival times.
    cost : float
        Cost of the collective.
    clocks : numpy.ndarray, (n,)
        Output: the next start times.
    """
    clocks[:] = a.max() + cost


@numba.njit(**NUMBA_JIT)
def neighbourhood_clocks(indptr, indices, a, cost, clocks):
    """Neighbourhood synchronization: clocks[i] = max of a_j over i's in-neighbours j, plus cost.

    Parameters
    ----------
    indptr, indices : numpy.ndarray of int64
        CSR structure of W, (n + 1,) and (nnz,); the in-neighbours of i are the
        columns j stored in row i (i itself when W_ii is stored).
    a : numpy.ndarray, (n,)
        Arrival times.
    cost : float
        Cost of one message.
    clocks : numpy.ndarray, (n,)
        Output: the next start times.
    """
    for i in range(a.shape[0]):
        m = -np.inf
        for k in range(indptr[i], indptr[i + 1]):
            m = max(m, a[indices[k]])
        clocks[i] = m + cost


@numba.njit(**NUMBA_JIT)
def row_mean(X, out):
    """out = the mean of the rows of X.

    Parameters
    ----------
    X : numpy.ndarray, (n, d)
        The rows.
    out : numpy.ndarray, (d,)
        Output, overwritten.
    """
    out[:] = 0.0
    for i in range(X.shape[0]):
        out += X[i]
    out /= X.shape[0]


def allreduce_cost(m: int, d: int, alpha: float, beta: float, word_bytes: int) -> float:
    """Alpha-beta cost of an allreduce of m workers on d floats, in plain Python for the reference.

    2 ceil(log2 m) alpha + 2 (m - 1)/m d w beta, and 0 for m <= 1.

    Parameters
    ----------
    m : int
        Number of workers taking part.
    d : int
        Floats per worker.
    alpha : float
        Per-message latency.
    beta : float
        Transfer time per byte.
    word_bytes : int
        Bytes per float, w.

    Returns
    -------
    float
        The simulated time of the collective.

    Examples
    --------
    >>> allreduce_cost(4, 10, 1.0, 0.5, 8)  # 2 * 2 * 1 + 2 * 3/4 * 80 * 0.5
    64.0
    """
    if m <= 1:
        return 0.0
    return 2 * math.ceil(math.log2(m)) * alpha + 2 * (m - 1) / m * d * word_bytes * beta


# ---- NumPy counterparts for the reference steps ---------------------------------------------


def local_updates_np(state, G):
    """The local update D from gradients G, in NumPy; heavy ball keeps its buffers U local.

    Parameters
    ----------
    state : ReferenceState
        The reference run; ``state.U`` is updated in place when m > 0.
    G : numpy.ndarray, (n, d)
        Stochastic gradients.

    Returns
    -------
    numpy.ndarray, (n, d)
        G when m = 0, else the buffers U <- m U + G (``state.U`` itself).
    """
    if state.momentum == 0.0:
        return G
    state.U *= state.momentum
    state.U += G
    return state.U


def neighbourhood_clocks_np(W, arrivals, cost):
    """Neighbourhood synchronization in NumPy: max of the in-neighbours' arrivals, plus cost.

    Parameters
    ----------
    W : scipy.sparse.csr_matrix, (n, n)
        The mixing matrix in canonical CSR; the in-neighbours of i are the columns
        stored in row i (every row needs one).
    arrivals : numpy.ndarray, (n,)
        Arrival times.
    cost : float
        Cost of one message.

    Returns
    -------
    numpy.ndarray, (n,)
        The next start times.
    """
    return np.maximum.reduceat(arrivals[W.indices], W.indptr[:-1]) + cost
