"""Synthetic distributed objectives f(x) = (1/n) sum_i f_i(x) with known constants.

Every objective is generated from a seed and carries L (smoothness of every
f_i), mu (strong convexity, 0 when none), zeta2 (heterogeneity
(1/n) sum_i ||grad f_i(x*) - grad f(x*)||^2, or a uniform bound where no x* is
known) and sigma2 (variance of a worker's stochastic gradient; uniform for
additive noise, at x* for minibatch sampling, or a uniform bound). Defaults
are normalized so that L = 1.

Kinds (one compiled gradient handles all, see :func:`stochastic_grad`):

- ``quadratic``: f_i(x) = 1/2 (x - c_i)^T H (x - c_i), H = diag(h), h from L
  down to mu; zeta2 exact by construction; gradient noise additive Gaussian
  with E||noise||^2 = sigma2.
- ``heterogeneous_quadratic``: f_i(x) = 1/2 (x - c_i)^T H_i (x - c_i) with
  worker-specific H_i = Q_i diag(h_i) Q_i^T (random rotations, h_i in [mu, L],
  both attained); x* = (sum H_i)^{-1} sum H_i c_i, zeta2 exact at x*; the
  noise of ``quadratic`` (same draws). Unlike a common Hessian, it makes the
  average model depend on the mixing.
- ``least_squares``: f_i(x) = 1/(2m) ||A x - y_i||^2 with shared features A
  (A^T A / m = H exactly) and worker labels y_i = A c_i + r_i, r_i orthogonal to
  range(A): the same f_i as ``quadratic`` up to a constant; stochastic
  gradients from minibatches of B rows drawn with replacement.
- ``logistic``: f_i(x) = (1/m) sum_j log(1 + exp(-y_ij a_j^T x)) + reg/2 ||x||^2,
  labels from per-worker teachers; L = lambda_max(A^T A / m)/4 + reg, mu = reg.
- ``robust``: nonconvex regression f_i(x) = (1/m) sum_j phi(a_j^T x - y_ij),
  phi(r) = r^2 / (1 + r^2) (Geman-McClure, bounded), |phi''| <= 2, so
  L = 2 lambda_max(A^T A / m); f* unknown.

The user's own data (:func:`least_squares_from_data`, :func:`logistic_from_data`):
the same sample losses, but every worker has its own m rows A_i (an iid or a
by-label split of the user's rows), stored one worker after the other in
``features`` (n m, d): worker i's sample r is row i m + r (``row_stride`` m; the
synthetic objectives share their rows, ``row_stride`` 0). Constants computed
from the data (``constants_kind`` "computed from data").

A user-supplied compiled loss (:func:`custom_objective`): the user's
``numba.njit`` gradient and loss, which the compiled kernels call as first-class
functions and the reference engine through their ``py_func``; its constants are
the user's declarations (``constants_kind`` "declared"), None where not given.

Stochastic gradient draws are keyed by the run seed and (worker i, the
worker's iteration k):
(heterogeneous) quadratic noise component j uses counter (k n + i) d + j of stream NOISE;
minibatch row b uses counter (k n + i) B + b of stream BATCH (a custom objective
makes its own draws; :func:`custom_objective` says how to key them).

>>> f = quadratic(4, 3, zeta2=2.0, seed=0)
>>> round(f.zeta2_of(f.x_star), 12), f.L, f.mu
(2.0, 1.0, 0.1)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numba
import numpy as np
from numba import types
from numba.core.dispatcher import Dispatcher
from numba.core.errors import NumbaError
from numba.core.types.function_type import CompileResultWAP
from scipy import special

from mixlab.errors import ParameterError
from mixlab.kernels import counter_rng as crng
from mixlab.kernels.config import NUMBA_JIT, NUMBA_REDUCTION
from mixlab.seeding import Seed, as_generator
from mixlab.validate import require_choice, require_finite, require_int, require_real

QUADRATIC, SQUARED, LOGISTIC, GEMAN_MCCLURE, HETERO_QUADRATIC, CUSTOM = 0, 1, 2, 3, 4, 5
#: sup_r |phi'(r)| of the Geman-McClure loss (at r = 1/sqrt(3)).
GM_MAX_SLOPE = 2 / math.sqrt(3) * 9 / 16
#: The compiled signatures of a custom objective's functions (see :func:`custom_objective`):
#: grad(i, k, x, out, seed, data) and loss(x, out, data) -> f(x).
GRAD_SIGNATURE = types.none(
    types.int64, types.int64, types.float64[::1], types.float64[::1], types.int64, types.float64[:, ::1]
)
LOSS_SIGNATURE = types.float64(types.float64[::1], types.float64[::1], types.float64[:, ::1])


class ObjectiveArrays(NamedTuple):
    """What the compiled gradients and losses read (built by :meth:`Objective.arrays`).

    Parameters
    ----------
    kind : int
        The loss: ``QUADRATIC``, ``SQUARED``, ``LOGISTIC``, ``GEMAN_MCCLURE``,
        ``HETERO_QUADRATIC`` or ``CUSTOM`` (module constants).
    hdiag : numpy.ndarray
        (d,) the common diagonal Hessian of ``quadratic`` (empty otherwise).
    centers : numpy.ndarray
        (n, d) the centers c_i of the quadratic kinds (empty otherwise).
    noise_std : float
        Standard deviation of each coordinate of the additive gradient noise.
    features : numpy.ndarray
        The samples of the sample losses, worker i's sample r in row i ``row_stride``
        + r ((m, d) shared rows with ``row_stride`` 0, or (n m, d) with ``row_stride``
        m); the stacked Hessians (n d, d) of ``heterogeneous_quadratic``; or the user's
        ``data`` of a custom objective.
    labels : numpy.ndarray
        (n, m) worker i's targets (sample losses; empty otherwise).
    reg : float
        Ridge term reg/2 ||x||^2.
    batch : int
        Minibatch size B of the sample losses.
    f_star : float
        min f, 0 when unknown.
    row_stride : int
        Rows of ``features`` per worker (0: rows shared by all workers).
    user_grad : object
        A custom objective's gradient as a typed first-class function; None for the
        other kinds (compiled out).
    user_loss : object
        A custom objective's loss, likewise.
    """

    kind: int
    hdiag: np.ndarray
    centers: np.ndarray
    noise_std: float
    features: np.ndarray
    labels: np.ndarray
    reg: float
    batch: int
    f_star: float
    row_stride: int
    user_grad: object
    user_loss: object


@dataclass(frozen=True, eq=False)
class Objective:
    """A generated problem: data arrays for the compiled gradient and its constants.

    ``features``: the samples of the sample losses, worker i's sample r in row
    i ``row_stride`` + r: the (m, d) rows every worker shares (``row_stride`` 0) or,
    from the user's data, (n m, d) with every worker's own m rows one after the other
    (``row_stride`` m); ``labels`` (n, m): worker i's targets. For
    ``heterogeneous_quadratic`` the stacked Hessians (n d, d), rows i d .. i d + d - 1
    holding H_i (see :attr:`hessians`), so that the compiled argument tuple keeps
    one layout for every kind; for a custom objective the user's ``data``.
    ``hdiag``: the common diagonal Hessian of ``quadratic``. ``user_grad``,
    ``user_loss``: a custom objective's ``numba.njit`` functions.

    Build one with :func:`make_objective` or a builder (:func:`quadratic`, ...).

    Parameters
    ----------
    name : str
        The builder's name (``"quadratic"``, ``"least_squares_from_data"``, ``"custom"``, ...).
    kind : int
        The loss kind (module constants ``QUADRATIC`` .. ``CUSTOM``).
    n : int
        Number of workers.
    d : int
        Model dimension.
    L : float
        Smoothness of every f_i.
    mu : float
        Strong convexity (0 when none claimed).
    zeta2 : float or None
        Heterogeneity (1/n) sum_i ||grad f_i - grad f||^2, at x* or a uniform bound
        (see :meth:`constants`); None when unknown.
    sigma2 : float or None
        Variance of a worker's stochastic gradient, uniform or at x*; None when unknown.
    x_star : numpy.ndarray or None
        (d,) a minimizer of f, where known.
    f_star : float or None
        min f, where known.
    data_seed : int or None
        The integer seed the data was generated from (None for a Generator or a
        custom objective).
    hdiag : numpy.ndarray
        (d,) the common diagonal Hessian of ``quadratic``.
    centers : numpy.ndarray
        (n, d) the centers c_i of the quadratic kinds.
    noise_std : float
        Standard deviation of each coordinate of the additive gradient noise.
    features : numpy.ndarray
        The samples, stacked Hessians or user data (see above).
    labels : numpy.ndarray
        (n, m) worker i's targets of the sample losses.
    reg : float
        Ridge term reg/2 ||x||^2.
    batch : int
        Minibatch size B of the sample losses.
    constants_kind : str
        How the constants were obtained: ``"exact"``, ``"uniform_bound"``,
        ``"computed from data"`` or ``"declared"``.
    row_stride : int
        Rows of ``features`` per worker (0: shared rows).
    user_grad : numba dispatcher or None
        A custom objective's gradient function.
    user_loss : numba dispatcher or None
        A custom objective's loss function.
    """

    name: str
    kind: int
    n: int
    d: int
    L: float
    mu: float
    zeta2: float | None
    sigma2: float | None
    x_star: np.ndarray | None
    f_star: float | None
    data_seed: int | None
    hdiag: np.ndarray = field(default_factory=lambda: np.zeros(0))
    centers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    noise_std: float = 0.0
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    reg: float = 0.0
    batch: int = 1
    constants_kind: str = "exact"
    row_stride: int = 0
    # numba Dispatchers (typed Any: a Dispatcher is a descriptor, which type checkers misread)
    user_grad: Any = None
    user_loss: Any = None

    @property
    def convex(self) -> bool:
        """Whether f is convex (a custom objective claims it through mu > 0 only).

        Returns
        -------
        bool
            False for the robust (Geman-McClure) loss and a custom objective with mu = 0.
        """
        if self.kind == CUSTOM:
            return self.mu > 0
        return self.kind != GEMAN_MCCLURE

    def constants(self) -> dict:
        """The constants a theorem check needs, and how they were obtained.

        ``zeta2_uniform`` / ``sigma2_uniform``: the value bounds the heterogeneity /
        gradient variance at every x (common-Hessian quadratics and least
        squares on shared rows have x-independent heterogeneity; worker-specific
        Hessians and per-worker samples do not; additive noise has uniform
        variance; the robust loss has uniform bounds; a custom objective's
        declared values are bounds at every x by contract, and an undeclared one
        bounds nothing), not only at x*.
        ``each_strongly_convex``: every f_i (not only f) is mu-strongly convex
        (every H_i >= mu I, the least lambda_min over the workers' samples, the
        ridge term, or a declaration). ``grad_bound``: a G with ||g|| <= G for
        every stochastic gradient at every x (the robust loss: sup|phi'|
        max_j ||a_j||), None where gradients are unbounded or unknown. A custom
        objective's undeclared constants are None.

        Returns
        -------
        dict
            ``L``, ``mu``, ``zeta2``, ``sigma2``, ``f_star``, ``convex``,
            ``each_strongly_convex``, ``grad_bound``, ``constants_kind``,
            ``zeta2_uniform`` and ``sigma2_uniform``.
        """
        grad_bound = None
        if self.kind == GEMAN_MCCLURE:
            grad_bound = float(GM_MAX_SLOPE * np.linalg.norm(self.features, axis=1).max())
        return {
            "L": self.L,
            "mu": self.mu,
            "zeta2": self.zeta2,
            "sigma2": self.sigma2,
            "f_star": self.f_star,
            "convex": self.convex,
            "each_strongly_convex": self.convex and self.mu > 0,
            "grad_bound": grad_bound,
            "constants_kind": self.constants_kind,
            "zeta2_uniform": (
                self.zeta2 is not None
                if self.kind == CUSTOM
                else self.kind not in (LOGISTIC, HETERO_QUADRATIC) and self.row_stride == 0
            ),
            "sigma2_uniform": (
                self.sigma2 is not None
                if self.kind == CUSTOM
                else self.kind in (QUADRATIC, HETERO_QUADRATIC, GEMAN_MCCLURE)
            ),
        }

    @property
    def hessians(self) -> np.ndarray:
        """The Hessian H_i of every worker, for the quadratic kinds (constant Hessians).

        Returns
        -------
        numpy.ndarray
            (n, d, d); for ``quadratic`` a read-only broadcast view of diag(hdiag).

        Raises
        ------
        ParameterError
            For any other kind.
        """
        if self.kind == HETERO_QUADRATIC:
            return self.features.reshape(self.n, self.d, self.d)
        if self.kind == QUADRATIC:
            return np.broadcast_to(np.diag(self.hdiag), (self.n, self.d, self.d))
        raise ParameterError(f"hessians need a quadratic objective; got {self.name!r}")

    def arrays(self) -> ObjectiveArrays:
        """The objective's data for the compiled gradient and loss functions.

        Returns
        -------
        ObjectiveArrays
            The arrays, with a custom objective's functions as first-class values.
        """
        return ObjectiveArrays(
            self.kind,
            self.hdiag,
            self.centers,
            float(self.noise_std),
            self.features,
            self.labels,
            float(self.reg),
            int(self.batch),
            float(self.f_star or 0.0),
            int(self.row_stride),
            _first_class(self.user_grad, GRAD_SIGNATURE),
            _first_class(self.user_loss, LOSS_SIGNATURE),
        )

    # ---- exact (noise-free) quantities, NumPy -------------------------------------------
    def loss(self, x: np.ndarray) -> float:
        """The loss f(x) = (1/n) sum_i f_i(x), by the compiled kernel.

        Parameters
        ----------
        x : array_like
            (d,) a model.

        Returns
        -------
        float
            f(x).
        """
        g = np.empty(self.d)
        return float(full_loss_grad(self.arrays(), np.ascontiguousarray(x, float), g))

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The full gradient grad f(x), by the compiled kernel.

        Parameters
        ----------
        x : array_like
            (d,) a model.

        Returns
        -------
        numpy.ndarray
            (d,) grad f(x).
        """
        g = np.empty(self.d)
        full_loss_grad(self.arrays(), np.ascontiguousarray(x, float), g)
        return g

    def reference_loss(self, x: np.ndarray) -> float:
        """The loss f(x) in plain NumPy (no compiled code): the reference engine's metric.

        Parameters
        ----------
        x : array_like
            (d,) a model.

        Returns
        -------
        float
            f(x).
        """
        x = np.asarray(x, dtype=np.float64)
        if self.kind in (QUADRATIC, HETERO_QUADRATIC):
            R = x - self.centers
            return float(
                0.5
                * np.einsum(
                    "ij,ij->i", R, self._quadratic_grads(np.broadcast_to(x, R.shape), np.arange(self.n))
                ).mean()
            )
        if self.kind == CUSTOM:
            return float(self.user_loss.py_func(np.ascontiguousarray(x), np.empty(self.d), self.features))
        return float(_loss_np(self.kind, self._margins(x), self.labels).mean() + 0.5 * self.reg * (x @ x))

    def reference_grad(self, x: np.ndarray) -> np.ndarray:
        """The full gradient grad f(x) in plain NumPy: the mean of the local gradients.

        A custom objective's comes from its loss function's ``py_func``.

        Parameters
        ----------
        x : array_like
            (d,) a model.

        Returns
        -------
        numpy.ndarray
            (d,) grad f(x).
        """
        x = np.asarray(x, dtype=np.float64)
        if self.kind == CUSTOM:
            g = np.empty(self.d)
            self.user_loss.py_func(np.ascontiguousarray(x), g, self.features)
            return g
        return self.local_grads(x).mean(axis=0)

    def local_grads(self, x: np.ndarray) -> np.ndarray:
        """The local gradients grad f_i(x) of every worker i at the same point x (NumPy).

        Parameters
        ----------
        x : array_like
            (d,) a model.

        Returns
        -------
        numpy.ndarray
            (n, d): row i is grad f_i(x).

        Raises
        ------
        ParameterError
            For a custom objective, which has no local gradients.
        """
        if self.kind in (QUADRATIC, HETERO_QUADRATIC):
            return self._quadratic_grads(np.broadcast_to(x, (self.n, self.d)), np.arange(self.n))
        if self.kind == CUSTOM:
            raise ParameterError(
                "a custom objective has no local gradients grad f_i(x): it gives stochastic "
                "gradients and f only"
            )
        m = self.labels.shape[1]
        return self._worker_sums(_dloss_np(self.kind, self._margins(x), self.labels)) / m + self.reg * x

    def zeta2_of(self, x: np.ndarray) -> float:
        """The heterogeneity at x, (1/n) sum_i ||grad f_i(x) - grad f(x)||^2.

        Parameters
        ----------
        x : array_like
            (d,) a model.

        Returns
        -------
        float
            The heterogeneity at x (equal to ``zeta2`` at ``x_star`` for the
            exact-constant objectives).

        Raises
        ------
        ParameterError
            For a custom objective, which has no local gradients.
        """
        G = self.local_grads(x)
        return float(((G - G.mean(axis=0)) ** 2).sum(axis=1).mean())

    # ---- the samples of the sample losses, NumPy -----------------------------------------
    def _margins(self, x: np.ndarray) -> np.ndarray:
        """z[i, r] = a_ir . x: (n, m), or (1, m) for shared rows (broadcasts over workers)."""
        return (self.features @ x).reshape(-1, self.labels.shape[1])

    def _worker_sums(self, c: np.ndarray) -> np.ndarray:
        """(n, d): sum_r c[i, r] a_ir for every worker i, from c (n, m)."""
        if self.row_stride == 0:
            return c @ self.features
        return np.einsum("ir,ird->id", c, self.features.reshape(self.n, -1, self.d))

    def _row_weights(self, c: np.ndarray) -> np.ndarray:
        """The weight of each row of ``features`` in (1/n) sum_i sum_r c[i, r] (.)_ir."""
        return c.mean(axis=0) if self.row_stride == 0 else c.ravel() / self.n

    # ---- stochastic gradients, NumPy reference ------------------------------------------
    def stochastic_grads(self, X: np.ndarray, iterations, seed: int, workers=None) -> np.ndarray:
        """Stochastic gradients in NumPy, on the same draws as :func:`stochastic_grad`.

        Parameters
        ----------
        X : numpy.ndarray
            (r, d): row r is the model of worker ``workers[r]``.
        iterations : int or array_like of int
            The workers' iterations k: one for all rows, or (r,).
        seed : int
            The run seed of the draws (not the data seed).
        workers : array_like of int, optional
            (r,) the worker of each row; default all n workers in order (r = n).

        Returns
        -------
        numpy.ndarray
            (r, d): row r is worker ``workers[r]``'s stochastic gradient at X[r] on its
            iteration ``iterations[r]``.
        """
        n, d = self.n, X.shape[1]
        i = np.arange(n, dtype=np.int64) if workers is None else np.asarray(workers, dtype=np.int64)
        k = np.broadcast_to(np.asarray(iterations, dtype=np.int64), i.shape)
        if self.kind in (QUADRATIC, HETERO_QUADRATIC):
            counters = (k * n + i)[:, None] * d + np.arange(d)[None, :]
            noise = crng.normal_np(seed, crng.NOISE, counters)
            return self._quadratic_grads(X, i) + self.noise_std * noise
        if self.kind == CUSTOM:
            X = np.ascontiguousarray(X, dtype=np.float64)
            G = np.empty_like(X)
            for r in range(i.shape[0]):
                self.user_grad.py_func(int(i[r]), int(k[r]), X[r], G[r], int(seed), self.features)
            return G
        B, m = self.batch, self.labels.shape[1]
        counters = (k * n + i)[:, None] * B + np.arange(B)[None, :]
        rows = (crng.uniform_np(seed, crng.BATCH, counters) * m).astype(np.int64)
        A = self.features[rows + (i * self.row_stride)[:, None]]  # (r, B, d)
        z = np.einsum("rbd,rd->rb", A, X)
        r = _dloss_np(self.kind, z, np.take_along_axis(self.labels[i], rows, axis=1))
        return np.einsum("rb,rbd->rd", r, A) / B + self.reg * X

    def _quadratic_grads(self, X: np.ndarray, workers: np.ndarray) -> np.ndarray:
        """Row r: H_i (X[r] - c_i) for i = workers[r] (the quadratic kinds, noise-free)."""
        R = X - self.centers[workers]
        if self.kind == QUADRATIC:
            return self.hdiag * R
        return np.einsum("rjl,rl->rj", self.hessians[workers], R)


def _first_class(fn: Dispatcher | None, signature) -> CompileResultWAP | None:
    """A user's compiled function as a value the kernels call (its overload for
    ``signature``, compiled by :func:`custom_objective`); None stays None."""
    return None if fn is None else CompileResultWAP(fn.overloads[signature.args])


@numba.njit(**NUMBA_JIT)
def _loss(kind, z, y):
    if kind == SQUARED:
        return 0.5 * (z - y) ** 2
    if kind == LOGISTIC:
        t = -y * z
        return t + np.log1p(np.exp(-t)) if t > 0 else np.log1p(np.exp(t))
    r = z - y
    return r * r / (1 + r * r)


@numba.njit(**NUMBA_JIT)
def _dloss(kind, z, y):
    if kind == SQUARED:
        return z - y
    if kind == LOGISTIC:
        return -y / (1.0 + np.exp(y * z))
    r = z - y
    return 2 * r / (1 + r * r) ** 2


def _loss_np(kind, z, y):
    """The sample loss in NumPy, elementwise (the reference's own formula)."""
    if kind == SQUARED:
        return 0.5 * (z - y) ** 2
    if kind == LOGISTIC:
        return np.logaddexp(0.0, -y * z)
    r = z - y
    return r * r / (1 + r * r)


def _dloss_np(kind, z, y):
    """d loss / d z in NumPy, elementwise (the reference's own formula)."""
    if kind == SQUARED:
        return z - y
    if kind == LOGISTIC:
        return -y * special.expit(-y * z)
    r = z - y
    return 2 * r / (1 + r * r) ** 2


@numba.njit(**NUMBA_REDUCTION)
def _dot(a, x):
    """a . x, vectorized (reordered reduction: config.NUMBA_REDUCTION)."""
    s = 0.0
    for j in range(x.shape[0]):
        s += a[j] * x[j]
    return s


@numba.njit(**NUMBA_JIT)
def stochastic_grad(obj, seed, i, k, x, out):
    """Worker i's stochastic gradient at x on its iteration k, written into ``out`` (compiled).

    The draws are keyed by (seed, i, k) (see the module docstring), so every engine
    and evaluation order gets the same gradient.

    Parameters
    ----------
    obj : ObjectiveArrays
        The objective's data (:meth:`Objective.arrays`).
    seed : int
        The run's seed of the draws, not the seed the data was generated from.
    i : int
        The worker.
    k : int
        The worker's iteration.
    x : numpy.ndarray
        (d,) float64, C-contiguous: the worker's model.
    out : numpy.ndarray
        (d,) float64, C-contiguous, receives the gradient (must not alias x).
    """
    if obj.kind == QUADRATIC or obj.kind == HETERO_QUADRATIC:
        _quadratic_grad(obj.kind, obj.hdiag, obj.features, obj.centers, obj.noise_std, seed, i, k, x, out)
    elif obj.kind == CUSTOM:
        _call_user_grad(obj.user_grad, i, k, x, out, seed, obj.features)
    else:
        _sample_grad(
            obj.kind, obj.features, obj.labels, obj.row_stride, obj.reg, obj.batch, seed, i, k, x, out
        )


@numba.njit(**NUMBA_JIT)
def _call_user_grad(fn, i, k, x, out, seed, data):
    """A custom objective's gradient; compiled to nothing where ``fn`` is None (the other
    kinds). A first-class function takes its exact argument types, hence the casts (a
    parallel loop's worker index is unsigned)."""
    if fn is not None:
        fn(np.int64(i), np.int64(k), x, out, np.int64(seed), data)


@numba.njit(**NUMBA_JIT)
def _call_user_loss(fn, x, grad, data):
    """A custom objective's f(x), grad f(x) into ``grad``; 0 where ``fn`` is None."""
    if fn is not None:
        return fn(x, grad, data)
    return 0.0


@numba.njit(**NUMBA_JIT)
def _quadratic_grad(kind, hdiag, hessians, centers, noise_std, seed, i, k, x, out):
    d = x.shape[0]
    base = (k * centers.shape[0] + i) * d
    for j in range(d):
        out[j] = _curvature(kind, hdiag, hessians, centers, i, j, x) + noise_std * crng.normal(
            seed, crng.NOISE, base + j
        )


@numba.njit(**NUMBA_JIT)
def _curvature(kind, hdiag, hessians, centers, i, j, x):
    """(H_i (x - c_i))_j, with H_i = diag(hdiag) (QUADRATIC) or rows i d .. i d + d - 1
    of the stacked ``hessians`` (HETERO_QUADRATIC)."""
    if kind == QUADRATIC:
        return hdiag[j] * (x[j] - centers[i, j])
    d = x.shape[0]
    row = hessians[i * d + j]
    s = 0.0
    for l in range(d):
        s += row[l] * (x[l] - centers[i, l])
    return s


@numba.njit(**NUMBA_REDUCTION)
def _sample_grad(kind, features, labels, row_stride, reg, batch, seed, i, k, x, out):
    """Minibatch gradient of a sample loss: (1/B) sum_b l'(a_b . x, y_ib) a_b + reg x.

    Samples are taken four at a time so that each pass over ``out`` adds four
    scaled rows (a quarter of the memory traffic of one axpy per sample)."""
    d = x.shape[0]
    n, m = labels.shape
    for j in range(d):
        out[j] = reg * x[j]
    scale = 1.0 / batch
    base = (k * n + i) * batch
    for b in range(0, batch, 4):
        r0, c0 = _sample(kind, features, labels, row_stride, seed, base, b, batch, i, m, x, scale)
        r1, c1 = _sample(kind, features, labels, row_stride, seed, base, b + 1, batch, i, m, x, scale)
        r2, c2 = _sample(kind, features, labels, row_stride, seed, base, b + 2, batch, i, m, x, scale)
        r3, c3 = _sample(kind, features, labels, row_stride, seed, base, b + 3, batch, i, m, x, scale)
        a0, a1, a2, a3 = features[r0], features[r1], features[r2], features[r3]
        for j in range(d):
            out[j] += (c0 * a0[j] + c1 * a1[j]) + (c2 * a2[j] + c3 * a3[j])


@numba.njit(**NUMBA_REDUCTION)
def _sample(kind, features, labels, row_stride, seed, base, b, batch, i, m, x, scale):
    """(row of ``features``, coefficient) of sample b of the minibatch: worker i's sample
    r is row i row_stride + r; (0, 0.0) past its end."""
    if b >= batch:
        return 0, 0.0
    r = int(crng.uniform(seed, crng.BATCH, base + b) * m)
    row = i * row_stride + r
    return row, _dloss(kind, _dot(features[row], x), labels[i, r]) * scale


@numba.njit(**NUMBA_JIT)
def full_loss_grad(obj, x, grad):
    """The loss f(x) = (1/n) sum_i f_i(x) and its gradient, noise-free (compiled).

    Parameters
    ----------
    obj : ObjectiveArrays
        The objective's data (:meth:`Objective.arrays`).
    x : numpy.ndarray
        (d,) float64, C-contiguous: the model.
    grad : numpy.ndarray
        (d,) float64, overwritten with grad f(x).

    Returns
    -------
    float
        f(x).
    """
    kind, hdiag, centers, features, labels, reg = (
        obj.kind,
        obj.hdiag,
        obj.centers,
        obj.features,
        obj.labels,
        obj.reg,
    )
    d = x.shape[0]
    if kind in (QUADRATIC, HETERO_QUADRATIC):
        n = centers.shape[0]
        f = 0.0
        for j in range(d):
            grad[j] = 0.0
        for i in range(n):
            for j in range(d):
                hr = _curvature(kind, hdiag, features, centers, i, j, x)
                f += 0.5 * (x[j] - centers[i, j]) * hr
                grad[j] += hr
        for j in range(d):
            grad[j] /= n
        return f / n
    if kind == CUSTOM:
        return _call_user_loss(obj.user_loss, x, grad, features)
    n, m = labels.shape
    z = features @ x
    f = 0.0
    coef = np.zeros(features.shape[0])  # per row of features: shared or one worker's
    for i in range(n):
        for r in range(m):
            row = i * obj.row_stride + r
            f += _loss(kind, z[row], labels[i, r])
            coef[row] += _dloss(kind, z[row], labels[i, r])
    sq = 0.0
    for j in range(d):
        grad[j] = reg * x[j]
        sq += x[j] * x[j]
    for r in range(features.shape[0]):
        c = coef[r] / (n * m)
        for j in range(d):
            grad[j] += c * features[r, j]
    return f / (n * m) + 0.5 * reg * sq


# ---- builders ------------------------------------------------------------------------------


def _spectrum(d: int, L: float, mu: float) -> np.ndarray:
    if d == 1:
        return np.array([L])
    if mu > 0:
        return np.geomspace(L, mu, d)
    return np.linspace(L, 0.0, d)


def _check_curvature(L, mu):
    """Validated (L, mu): 0 <= mu <= L, L > 0."""
    L = require_real("L", L, low=0, low_open=True)
    mu = require_real("mu", mu, low=0)
    if mu > L:
        raise ParameterError(f"mu must be <= L; got mu = {mu}, L = {L}")
    return L, mu


def _check_constants(n, d, L, mu, *, per_worker=False):
    """Validated (n, d, L, mu); ``per_worker``: each worker has its own d curvatures."""
    n = require_int("n", n, minimum=1)
    d = require_int("d", d, minimum=1)
    L, mu = _check_curvature(L, mu)
    if (n * d if per_worker else d) == 1 and mu not in (0.0, L):
        where = "n = d = 1" if per_worker else "d = 1"
        raise ParameterError(f"{where} needs mu = L (one curvature); got mu = {mu}, L = {L}")
    return n, d, L, mu


def _data_rng(seed: Seed) -> tuple[np.random.Generator, int | None]:
    """The generator of the data, and the seed to record (None for a Generator)."""
    return as_generator(seed), (int(seed) if isinstance(seed, (int, np.integer)) else None)


def _shifts(rng, n, d, h, zeta2):
    """Centered offsets delta_i with (1/n) sum_i ||H delta_i||^2 = zeta2."""
    delta = rng.standard_normal((n, d))
    delta -= delta.mean(axis=0)
    return _scaled(delta, h * delta, zeta2)


def _scaled(offsets, grads, zeta2):
    """``offsets`` times the factor that makes (1/n) sum_i ||grads_i||^2 = zeta2, where
    grads_i = grad f_i(x*) (centered, linear in the offsets: zeta2 is of degree 2)."""
    n = offsets.shape[0]
    energy = float((grads**2).sum(axis=1).mean())
    if zeta2 == 0 or n == 1 or energy == 0:
        if zeta2 > 0:
            raise ParameterError(f"zeta2 = {zeta2} > 0 needs n >= 2 workers and L > 0")
        return np.zeros_like(offsets)
    return offsets * math.sqrt(zeta2 / energy)


def quadratic(
    n: int,
    d: int = 16,
    *,
    L: float = 1.0,
    mu: float = 0.1,
    zeta2: float = 1.0,
    sigma2: float = 0.01,
    seed: Seed = 0,
) -> Objective:
    """Distributed quadratic with exact L, mu, zeta2 and additive Gaussian noise sigma2.

    f_i(x) = 1/2 (x - c_i)^T H (x - c_i) with H = diag(h), h from L down to mu
    (geometric; linear to 0 when mu = 0), and centers c_i = x* + delta_i, sum_i
    delta_i = 0, scaled so that (1/n) sum_i ||H delta_i||^2 = zeta2. Every worker has
    the same Hessian: the average model follows centralized SGD whatever the mixing
    (use :func:`heterogeneous_quadratic` to see the effect of communication).

    Parameters
    ----------
    n : int
        Number of workers (>= 1).
    d : int
        Model dimension (>= 1; default 16).
    L : float
        Largest curvature, > 0 (default 1).
    mu : float
        Smallest curvature, 0 <= mu <= L (default 0.1); a single curvature (d = 1)
        needs mu = L or mu = 0.
    zeta2 : float
        Heterogeneity at x*, >= 0 (default 1); > 0 needs n >= 2.
    sigma2 : float
        E||noise||^2 of a worker's stochastic gradient, >= 0 (default 0.01).
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed of the data (default 0); the run's draws have their own seed.

    Returns
    -------
    Objective
        Kind ``QUADRATIC``, ``constants_kind`` "exact"; zeta2 and sigma2 hold at every x.

    Raises
    ------
    ParameterError
        For a value outside the ranges above.

    References
    ----------
    Construction derived in mixlab; see docs/design.md, section "Objectives". L, mu,
    zeta2 and sigma2 are the constants of the decentralized SGD bounds, e.g.
    A. Koloskova, N. Loizou, S. Boreiri, M. Jaggi and S. U. Stich, "A unified theory
    of decentralized SGD with changing topology and local updates", ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlab as ml
    >>> f = ml.quadratic(4, 3, zeta2=2.0, seed=0)
    >>> f.L, f.mu, round(f.zeta2_of(f.x_star), 12), f.sigma2
    (1.0, 0.1, 2.0, 0.01)
    >>> bool(np.allclose(f.grad(f.x_star), 0.0))
    True
    """
    n, d, L, mu = _check_constants(n, d, L, mu)
    zeta2 = require_real("zeta2", zeta2, low=0)
    sigma2 = require_real("sigma2", sigma2, low=0)
    rng, s = _data_rng(seed)
    h = _spectrum(d, L, mu)
    x_star = rng.standard_normal(d)
    delta = _shifts(rng, n, d, h, zeta2)
    f_star = float(0.5 * (h * delta**2).sum(axis=1).mean())
    return Objective(
        "quadratic",
        QUADRATIC,
        n,
        d,
        L,
        mu,
        zeta2,
        sigma2,
        x_star,
        f_star,
        s,
        hdiag=h,
        centers=x_star + delta,
        noise_std=math.sqrt(sigma2 / d),
    )


def heterogeneous_quadratic(
    n: int,
    d: int = 16,
    *,
    L: float = 1.0,
    mu: float = 0.1,
    zeta2: float = 1.0,
    sigma2: float = 0.01,
    seed: Seed = 0,
) -> Objective:
    """Quadratics with worker-specific Hessians, so that communication matters.

    With a common Hessian (:func:`quadratic`) the average model follows centralized
    SGD whatever the mixing.

    H_i = Q_i diag(h_i) Q_i^T with random orthogonal Q_i and h_i in [mu, L]
    (log-uniform; uniform when mu = 0); worker 0 attains L and worker n - 1 mu, so
    L = max_i lambda_max(H_i) and mu = min_i lambda_min(H_i). Centers c_i = x* + o_i
    with sum_i H_i o_i = 0 (x* = (sum H_i)^{-1} sum H_i c_i) and the o_i scaled to
    make zeta2 exact at x*. Noise: that of :func:`quadratic` (same draws).

    Parameters
    ----------
    n : int
        Number of workers (>= 1).
    d : int
        Model dimension (>= 1; default 16).
    L : float
        Largest curvature, > 0 (default 1).
    mu : float
        Smallest curvature, 0 <= mu <= L (default 0.1); n = d = 1 needs mu = L or
        mu = 0.
    zeta2 : float
        Heterogeneity at x*, >= 0 (default 1); > 0 needs n >= 2.
    sigma2 : float
        E||noise||^2 of a worker's stochastic gradient, >= 0 (default 0.01).
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed of the data (default 0); the run's draws have their own seed.

    Returns
    -------
    Objective
        Kind ``HETERO_QUADRATIC``, ``constants_kind`` "exact"; zeta2 exact at x* only
        (not uniform), sigma2 uniform. The Hessians are in :attr:`Objective.hessians`.

    Raises
    ------
    ParameterError
        For a value outside the ranges above.

    References
    ----------
    Construction derived in mixlab; see docs/design.md, section "Objectives" (its
    exact second-moment dynamics: :mod:`mixlab.theory.second_moment`). zeta2 at x* as
    in A. Koloskova, N. Loizou, S. Boreiri, M. Jaggi and S. U. Stich, "A unified theory
    of decentralized SGD with changing topology and local updates", ICML 2020.

    Examples
    --------
    >>> import mixlab as ml
    >>> f = ml.heterogeneous_quadratic(4, 3, zeta2=2.0, seed=0)
    >>> round(f.zeta2_of(f.x_star), 12), f.constants()["zeta2_uniform"], f.hessians.shape
    (2.0, False, (4, 3, 3))
    """
    n, d, L, mu = _check_constants(n, d, L, mu, per_worker=True)
    zeta2 = require_real("zeta2", zeta2, low=0)
    sigma2 = require_real("sigma2", sigma2, low=0)
    rng, s = _data_rng(seed)
    x_star = rng.standard_normal(d)
    u = rng.random((n, d))
    h = mu * (L / mu) ** u if mu > 0 else L * u
    h[-1, -1] = mu
    h[0, 0] = L  # L wins when n = d = 1
    Q = np.linalg.qr(rng.standard_normal((n, d, d)))[0]
    H = (Q * h[:, None, :]) @ Q.transpose(0, 2, 1)
    H = (H + H.transpose(0, 2, 1)) / 2  # exactly symmetric
    delta = rng.standard_normal((n, d))
    p = np.linalg.lstsq(H.sum(axis=0), np.einsum("ijl,il->j", H, delta), rcond=None)[0]
    offsets = _scaled(delta - p, np.einsum("ijl,il->ij", H, delta - p), zeta2)
    f_star = float(0.5 * np.einsum("ij,ijl,il->i", offsets, H, offsets).mean())
    return Objective(
        "heterogeneous_quadratic",
        HETERO_QUADRATIC,
        n,
        d,
        L,
        mu,
        zeta2,
        sigma2,
        x_star,
        f_star,
        s,
        centers=x_star + offsets,
        noise_std=math.sqrt(sigma2 / d),
        features=np.ascontiguousarray(H.reshape(n * d, d)),
    )


def least_squares(
    n: int,
    d: int = 16,
    *,
    L: float = 1.0,
    mu: float = 0.1,
    zeta2: float = 1.0,
    samples: int | None = None,
    batch: int = 16,
    label_noise: float = 0.1,
    seed: Seed = 0,
) -> Objective:
    """Least squares with shared features and minibatch gradients: :func:`quadratic`'s f_i.

    The features satisfy A^T A/m = diag(h) exactly, so for the same seed its f_i equal
    those of :func:`quadratic` up to constants: f_i(x) = 1/(2m) ||A x - y_i||^2 with
    labels y_i = A c_i + r_i, r_i orthogonal to range(A), and c_i the centers of
    :func:`quadratic` (same seed, same draws).

    Parameters
    ----------
    n : int
        Number of workers (>= 1).
    d : int
        Model dimension (>= 1; default 16).
    L : float
        Largest curvature, > 0 (default 1).
    mu : float
        Smallest curvature, 0 <= mu <= L (default 0.1); a single curvature (d = 1)
        needs mu = L or mu = 0.
    zeta2 : float
        Heterogeneity at x*, >= 0 (default 1); > 0 needs n >= 2.
    samples : int, optional
        Rows m of the shared features A, >= d (default 2 d).
    batch : int
        Minibatch size B >= 1, rows drawn with replacement (default 16).
    label_noise : float
        rms of the residuals r_i, >= 0 (sets sigma2 at x*; default 0.1).
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed of the data (default 0); the run's draws have their own seed.

    Returns
    -------
    Objective
        Kind ``SQUARED``, ``constants_kind`` "exact": L, mu and zeta2 exact (zeta2
        uniform), sigma2 the minibatch variance at x*.

    Raises
    ------
    ParameterError
        For a value outside the ranges above.

    References
    ----------
    Construction derived in mixlab; see docs/design.md, section "Objectives". The
    constants are those of A. Koloskova, N. Loizou, S. Boreiri, M. Jaggi and S. U.
    Stich, "A unified theory of decentralized SGD with changing topology and local
    updates", ICML 2020.

    Examples
    --------
    Its local gradients are those of the quadratic of the same seed:

    >>> import numpy as np
    >>> import mixlab as ml
    >>> ls, q = ml.least_squares(4, 3, seed=0), ml.quadratic(4, 3, seed=0)
    >>> bool(np.allclose(ls.local_grads(np.ones(3)), q.local_grads(np.ones(3))))
    True
    >>> ls.constants()["sigma2_uniform"], round(ls.sigma2, 4)
    (False, 0.0651)
    """
    n, d, L, mu = _check_constants(n, d, L, mu)
    zeta2 = require_real("zeta2", zeta2, low=0)
    m = require_int("samples", 2 * d if samples is None else samples, minimum=d)
    batch = require_int("batch", batch, minimum=1)
    label_noise = require_real("label_noise", label_noise, low=0)
    rng, s = _data_rng(seed)
    h = _spectrum(d, L, mu)
    x_star = rng.standard_normal(d)  # same draws as quadratic(seed)
    centers = x_star + _shifts(rng, n, d, h, zeta2)
    Q, _ = np.linalg.qr(rng.standard_normal((m, d)))
    A = math.sqrt(m) * Q * np.sqrt(h)
    R = rng.standard_normal((n, m))
    R -= (R @ Q) @ Q.T  # residuals orthogonal to range(A)
    R *= label_noise / max(math.sqrt(float((R**2).mean())), 1e-300)
    labels = centers @ A.T + R
    f_star = float(((A @ x_star - labels) ** 2).sum(axis=1).mean() / (2 * m))
    obj = Objective(
        "least_squares",
        SQUARED,
        n,
        d,
        L,
        mu,
        zeta2,
        0.0,
        x_star,
        f_star,
        s,
        features=np.ascontiguousarray(A),
        labels=np.ascontiguousarray(labels),
        batch=batch,
    )
    return _with_sigma2_at(obj, x_star)


def _with_sigma2_at(obj: Objective, x: np.ndarray) -> Objective:
    """Set sigma2 = (1/n) sum_i E||g_i(x) - grad f_i(x)||^2 for minibatches drawn with replacement."""
    m = obj.labels.shape[1]
    c = _dloss_np(obj.kind, obj._margins(x), obj.labels)  # (n, m)
    norms2 = (obj.features**2).sum(axis=1).reshape(-1, m)  # ||a_ir||^2
    second = (c**2 * norms2).sum(axis=1) / m  # E||l' a||^2 per worker
    mean = obj._worker_sums(c) / m
    var = (second - (mean**2).sum(axis=1)) / obj.batch
    return _replace(obj, sigma2=float(var.mean()))


def _at_optimum(obj: Objective, x: np.ndarray) -> Objective:
    """The objective with x* = x and f*, zeta2 and sigma2 (minibatches) measured there."""
    obj = _replace(obj, x_star=x, f_star=obj.loss(x), zeta2=obj.zeta2_of(x))
    return _with_sigma2_at(obj, x)


def _replace(obj: Objective, **changes) -> Objective:
    from dataclasses import replace

    return replace(obj, **changes)


def _scaled_features(rng, m, d, curvature_per_unit, L, reg):
    """Gaussian features scaled so that curvature_per_unit * lambda_max(A^T A/m) + reg = L."""
    A = rng.standard_normal((m, d))
    lam = float(np.linalg.eigvalsh(A.T @ A / m)[-1])
    if reg >= L:
        raise ParameterError(f"reg must be < L; got reg = {reg}, L = {L}")
    return A * math.sqrt((L - reg) / (curvature_per_unit * lam))


def logistic(
    n: int,
    d: int = 16,
    *,
    samples: int = 64,
    reg: float = 0.01,
    heterogeneity: float = 1.0,
    batch: int = 8,
    L: float = 1.0,
    seed: Seed = 0,
) -> Objective:
    """Regularized logistic regression on synthetic data; x* by Newton's method.

    f_i(x) = (1/m) sum_j log(1 + exp(-y_ij a_j^T x)) + reg/2 ||x||^2 on m shared
    Gaussian feature rows a_j, scaled so that lambda_max(A^T A / m)/4 + reg = L; the
    labels y_ij in {-1, +1} are drawn from worker i's teacher, the shared teacher
    plus ``heterogeneity`` times a worker-specific Gaussian.

    Parameters
    ----------
    n : int
        Number of workers (>= 1).
    d : int
        Model dimension (>= 1; default 16).
    samples : int
        Rows m of the shared features, >= 1 (default 64).
    reg : float
        Ridge term, 0 < reg < L (default 0.01); mu = reg.
    heterogeneity : float
        Spread of the workers' teachers, >= 0 (default 1).
    batch : int
        Minibatch size B >= 1, rows drawn with replacement (default 8).
    L : float
        Smoothness, > reg (default 1).
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed of the data (default 0); the run's draws have their own seed.

    Returns
    -------
    Objective
        Kind ``LOGISTIC``: x* to ||grad f(x*)|| <= 1e-13, f* = f(x*), zeta2 and sigma2
        (minibatches) measured at x* (not uniform).

    Raises
    ------
    ParameterError
        For a value outside the ranges above.

    References
    ----------
    Constants at x* as in A. Koloskova, N. Loizou, S. Boreiri, M. Jaggi and S. U.
    Stich, "A unified theory of decentralized SGD with changing topology and local
    updates", ICML 2020; data and teachers: mixlab's own (docs/design.md, section
    "Objectives").

    Examples
    --------
    >>> import numpy as np
    >>> import mixlab as ml
    >>> f = ml.logistic(4, 3, seed=0)
    >>> f.L, f.mu, bool(np.linalg.norm(f.grad(f.x_star)) < 1e-12), f.constants()["zeta2_uniform"]
    (1.0, 0.01, True, False)
    """
    n = require_int("n", n, minimum=1)
    d = require_int("d", d, minimum=1)
    m = require_int("samples", samples, minimum=1)
    batch = require_int("batch", batch, minimum=1)
    reg = require_real("reg", reg, low=0, low_open=True)
    L = require_real("L", L, low=0, low_open=True)
    heterogeneity = require_real("heterogeneity", heterogeneity, low=0)
    rng, s = _data_rng(seed)
    A = _scaled_features(rng, m, d, 0.25, L, reg)
    teachers = rng.standard_normal(d) + heterogeneity * rng.standard_normal((n, d))
    p = 1 / (1 + np.exp(-(teachers @ A.T)))
    labels = np.where(rng.random((n, m)) < p, 1.0, -1.0)
    obj = Objective(
        "logistic",
        LOGISTIC,
        n,
        d,
        L,
        reg,
        0.0,
        0.0,
        None,
        None,
        s,
        features=np.ascontiguousarray(A),
        labels=labels,
        reg=reg,
        batch=batch,
    )
    return _at_optimum(obj, _logistic_optimum(obj, 1e-13))


def _logistic_optimum(obj: Objective, tol: float) -> np.ndarray:
    """x* of a logistic objective: Newton's method from 0 until ||grad f|| <= tol (at most
    100 steps)."""
    A, m = obj.features, obj.labels.shape[1]
    x = np.zeros(obj.d)
    for _ in range(100):
        g = obj.grad(x)
        if np.linalg.norm(g) <= tol:
            break
        w = 1 / (1 + np.exp(obj.labels * obj._margins(x)))
        H = (A.T * obj._row_weights(w * (1 - w))) @ A / m + obj.reg * np.eye(obj.d)
        x = x - np.linalg.solve(H, g)
    return x


def robust(
    n: int,
    d: int = 16,
    *,
    samples: int = 64,
    heterogeneity: float = 1.0,
    outliers: float = 0.1,
    batch: int = 8,
    L: float = 1.0,
    seed: Seed = 0,
) -> Objective:
    """Nonconvex robust regression (Geman-McClure loss); f* unknown.

    zeta2 and sigma2 are uniform bounds over x from sup|phi'| (constants_kind
    "uniform_bound"): ||grad f_i - grad f|| <= 2 sup|phi'| mean_j ||a_j||, and
    E||g - grad f_i||^2 <= sup|phi'|^2 mean_j ||a_j||^2 / B.

    f_i(x) = (1/m) sum_j phi(a_j^T x - y_ij), phi(r) = r^2 / (1 + r^2), on m shared
    Gaussian rows scaled so that 2 lambda_max(A^T A / m) = L; worker i's labels come
    from its teacher (shared plus ``heterogeneity`` times its own) with Gaussian
    noise 0.1, a fraction ``outliers`` of them shifted by 10 N(0, 1).

    Parameters
    ----------
    n : int
        Number of workers (>= 1).
    d : int
        Model dimension (>= 1; default 16).
    samples : int
        Rows m of the shared features, >= 1 (default 64).
    heterogeneity : float
        Spread of the workers' teachers, >= 0 (default 1).
    outliers : float
        Probability in [0, 1] that a label is an outlier (default 0.1).
    batch : int
        Minibatch size B >= 1, rows drawn with replacement (default 8).
    L : float
        Smoothness bound, > 0 (default 1).
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed of the data (default 0); the run's draws have their own seed.

    Returns
    -------
    Objective
        Kind ``GEMAN_MCCLURE``, nonconvex (mu = 0), x* and f* None, zeta2 and sigma2
        uniform bounds; ``constants()["grad_bound"]`` bounds every stochastic gradient.

    Raises
    ------
    ParameterError
        For a value outside the ranges above.

    References
    ----------
    The loss: S. Geman and D. E. McClure, "Statistical methods for tomographic image
    reconstruction", Bulletin of the International Statistical Institute 52(4), 1987.
    The bounds are derived in mixlab (above).

    Examples
    --------
    >>> import mixlab as ml
    >>> f = ml.robust(4, 3, seed=0)
    >>> f.convex, f.f_star, f.constants_kind, f.constants()["sigma2_uniform"]
    (False, None, 'uniform_bound', True)
    """
    n = require_int("n", n, minimum=1)
    d = require_int("d", d, minimum=1)
    m = require_int("samples", samples, minimum=1)
    batch = require_int("batch", batch, minimum=1)
    L = require_real("L", L, low=0, low_open=True)
    heterogeneity = require_real("heterogeneity", heterogeneity, low=0)
    outliers = require_real("outliers", outliers, low=0, high=1)
    rng, s = _data_rng(seed)
    A = _scaled_features(rng, m, d, 2.0, L, 0.0)
    teachers = rng.standard_normal(d) + heterogeneity * rng.standard_normal((n, d))
    labels = teachers @ A.T + 0.1 * rng.standard_normal((n, m))
    flip = rng.random((n, m)) < outliers
    labels[flip] += 10 * rng.standard_normal(int(flip.sum()))
    norms = np.linalg.norm(A, axis=1)
    zeta2 = float((2 * GM_MAX_SLOPE * norms.mean()) ** 2)
    sigma2 = float(GM_MAX_SLOPE**2 * (norms**2).mean() / batch)
    return Objective(
        "robust",
        GEMAN_MCCLURE,
        n,
        d,
        L,
        0.0,
        zeta2,
        sigma2,
        None,
        None,
        s,
        features=np.ascontiguousarray(A),
        labels=labels,
        batch=batch,
        constants_kind="uniform_bound",
    )


# ---- the user's data -----------------------------------------------------------------------

#: How the rows of the user's data are split across the workers (see :func:`least_squares_from_data`).
PARTITIONS = ("iid", "label")
#: Newton's method stops at ||grad f|| <= this for a logistic objective from data.
DATA_NEWTON_TOL = 1e-12


def _data_arrays(A, b, target: str) -> tuple[np.ndarray, np.ndarray]:
    """A (rows, d) and its targets ``target`` (rows,) as finite float64 arrays."""
    try:
        A, b = np.asarray(A, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"A and {target} must be arrays of real numbers: {exc}") from None
    if A.ndim != 2 or 0 in A.shape:
        raise ParameterError(
            f"A must be a 2-D array (rows x features, at least one of each); got shape {A.shape}"
        )
    if b.shape != (A.shape[0],):
        raise ParameterError(f"{target} must have shape (rows of A,) = ({A.shape[0]},); got {b.shape}")
    require_finite("A", A)
    require_finite(target, b)
    return A, b


def _partition(A, b, n, partition: str, seed: Seed):
    """(features (n m, d), worker after worker; labels (n, m); the seed to record): the
    rows of (A, b) in n equal parts of m = rows // n rows. A seeded shuffle of the rows
    leaves out its last rows % n (< n) rows, then gives consecutive blocks of m (iid)
    or sorts by b first (label; ties stay in shuffled order)."""
    n = require_int("n", n, minimum=1)
    require_choice("partition", partition, PARTITIONS)
    rows = A.shape[0]
    if n > rows:
        raise ParameterError(
            f"n must be <= the rows of A (every worker needs a sample); got n = {n}, rows = {rows}"
        )
    m = rows // n
    rng, s = _data_rng(seed)
    keep = rng.permutation(rows)[: n * m]
    if partition == "label":
        keep = keep[np.argsort(b[keep], kind="stable")]
    return np.ascontiguousarray(A[keep]), b[keep].reshape(n, m), s


def _worker_curvatures(features: np.ndarray, n: int) -> tuple[float, float]:
    """(min over workers of lambda_min, max over workers of lambda_max) of A_i^T A_i / m;
    a lambda_min within rounding of 0 (d eps lambda_max) counts as 0."""
    F = features.reshape(n, -1, features.shape[1])
    ev = np.linalg.eigvalsh(F.transpose(0, 2, 1) @ F / F.shape[1])
    low, high = float(ev[:, 0].min()), float(ev[:, -1].max())
    return (0.0 if low <= features.shape[1] * np.finfo(float).eps * high else low), high


def _signed_labels(y: np.ndarray) -> np.ndarray:
    """Class labels in {-1, +1}; labels in {0, 1} become 0 -> -1, 1 -> +1."""
    values = np.unique(y)
    if np.isin(values, (-1.0, 1.0)).all():
        return y
    if np.isin(values, (0.0, 1.0)).all():
        return 2 * y - 1
    raise ParameterError(
        f"y must hold class labels in {{-1, +1}} or {{0, 1}}; got the values "
        f"{values[:6].tolist()}{' ...' if values.size > 6 else ''}"
    )


def least_squares_from_data(
    A, b, n: int, *, partition: str = "iid", batch: int = 16, reg: float = 0.0, seed: Seed = 0
) -> Objective:
    """Least squares on the user's data, the rows split across n workers.

    f_i(x) = 1/(2m) ||A_i x - b_i||^2 + reg/2 ||x||^2 on worker i's m rows (A_i, b_i);
    stochastic gradients from minibatches of ``batch`` of the worker's rows drawn with
    replacement (the draws of :func:`least_squares`).

    Parameters
    ----------
    A : array_like, (rows, d)
        The samples, one per row (finite).
    b : array_like, (rows,)
        The targets (finite).
    n : int
        Workers, 1 <= n <= rows. Every worker gets m = rows // n rows; the
        rows % n rows left over (fewer than n) are left out, chosen by the seed.
    partition : {"iid", "label"}
        "iid": a seeded shuffle cut into n consecutive parts (every worker sees the
        whole distribution); "label": the shuffled rows sorted by b, then cut
        (contiguous ranges of the target per worker: strong heterogeneity). For one
        seed both partitions keep the same rows, so f, x* and f* are the same and only
        zeta2 and sigma2 differ.
    batch : int
        Minibatch size B >= 1.
    reg : float
        Ridge term >= 0.
    seed : int or numpy.random.Generator
        The shuffle.

    Returns
    -------
    Objective
        Constants computed from the data (``constants_kind`` "computed from data"):
        L = max_i lambda_max(A_i^T A_i / m) + reg, mu = min_i lambda_min(A_i^T A_i / m)
        + reg (each f_i is mu-strongly convex); x* minimizes the whole sum (its normal
        equations (A^T A/(n m) + reg I) x = A^T b/(n m), solved by least squares on the
        stacked rows for accuracy), f* = f(x*); zeta2 exact at x* (not uniform: the
        workers' Hessians differ); sigma2 at x*, exact for minibatches drawn with
        replacement.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((100, 3))
    >>> b = A @ np.ones(3) + 0.1 * rng.standard_normal(100)
    >>> f = least_squares_from_data(A, b, 4, partition="label")
    >>> f.features.shape, f.labels.shape, bool(np.linalg.norm(f.grad(f.x_star)) < 1e-12)
    ((100, 3), (4, 25), True)
    >>> f.constants()["zeta2_uniform"], f.constants_kind
    (False, 'computed from data')

    References
    ----------
    The heterogeneity zeta2 and the variance sigma2 at x* are those of the convergence
    bounds of :mod:`mixlab.theory.convergence`; the label split is the non-iid
    partition of McMahan et al., "Communication-efficient learning of deep networks
    from decentralized data", AISTATS 2017.
    """
    A, b = _data_arrays(A, b, "b")
    batch = require_int("batch", batch, minimum=1)
    reg = require_real("reg", reg, low=0)
    features, labels, s = _partition(A, b, n, partition, seed)
    n, (rows, d) = labels.shape[0], features.shape
    low, high = _worker_curvatures(features, n)
    stacked = np.vstack([features / math.sqrt(rows), math.sqrt(reg) * np.eye(d)])
    x_star = np.linalg.lstsq(stacked, np.r_[labels.ravel() / math.sqrt(rows), np.zeros(d)], rcond=None)[0]
    obj = Objective(
        "least_squares_from_data",
        SQUARED,
        n,
        d,
        high + reg,
        low + reg,
        0.0,
        0.0,
        None,
        None,
        s,
        features=features,
        labels=labels,
        reg=reg,
        batch=batch,
        row_stride=rows // n,
        constants_kind="computed from data",
    )
    return _at_optimum(obj, x_star)


def logistic_from_data(
    A, y, n: int, *, partition: str = "iid", batch: int = 8, reg: float = 1e-3, seed: Seed = 0
) -> Objective:
    """Regularized logistic regression on the user's data, the rows split across n workers.

    f_i(x) = (1/m) sum_r log(1 + exp(-y_ir a_ir^T x)) + reg/2 ||x||^2 on worker i's m
    rows; the split and the minibatch gradients are those of
    :func:`least_squares_from_data` (``partition`` "label": most workers see one
    class only).

    Parameters
    ----------
    A : array_like, (rows, d)
        The samples, one per row (finite). No intercept is added: append a column of
        ones for one.
    y : array_like, (rows,)
        Class labels in {-1, +1}, or in {0, 1} (mapped 0 -> -1, 1 -> +1).
    n, partition, batch, seed
        As in :func:`least_squares_from_data`.
    reg : float
        Ridge term > 0 (x* exists even for separable data; mu = reg).

    Returns
    -------
    Objective
        Constants computed from the data: L = max_i lambda_max(A_i^T A_i / m)/4 + reg,
        mu = reg; x* by Newton's method to ||grad f(x*)|| <= 1e-12 (refused if 100
        steps do not get there), f* = f(x*); zeta2 exact at x* (not uniform);
        sigma2 at x*, exact for minibatches drawn with replacement.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> A = rng.standard_normal((60, 2))
    >>> y = (A[:, 0] + 0.5 * rng.standard_normal(60) > 0).astype(float)      # {0, 1}
    >>> iid, label = (logistic_from_data(A, y, 3, partition=p) for p in ("iid", "label"))
    >>> bool(label.zeta2 > iid.zeta2), bool(abs(iid.f_star - label.f_star) < 1e-12)
    (True, True)

    References
    ----------
    As in :func:`least_squares_from_data`.
    """
    A, y = _data_arrays(A, y, "y")
    y = _signed_labels(y)
    batch = require_int("batch", batch, minimum=1)
    reg = require_real("reg", reg, low=0, low_open=True)
    features, labels, s = _partition(A, y, n, partition, seed)
    n, d = labels.shape[0], features.shape[1]
    obj = Objective(
        "logistic_from_data",
        LOGISTIC,
        n,
        d,
        0.25 * _worker_curvatures(features, n)[1] + reg,
        reg,
        0.0,
        0.0,
        None,
        None,
        s,
        features=features,
        labels=labels,
        reg=reg,
        batch=batch,
        row_stride=features.shape[0] // n,
        constants_kind="computed from data",
    )
    x = _logistic_optimum(obj, DATA_NEWTON_TOL)
    residual = float(np.linalg.norm(obj.grad(x)))
    if residual > DATA_NEWTON_TOL:
        raise ParameterError(
            f"Newton's method must reach ||grad f|| <= {DATA_NEWTON_TOL} in 100 steps; got "
            f"{residual:.3g} (a larger reg helps)"
        )
    return _at_optimum(obj, x)


# ---- a user-supplied compiled loss -----------------------------------------------------------


def _compile_user(name: str, fn, signature) -> None:
    """Compile the user's function ``name`` for ``signature``, or refuse it."""
    if not isinstance(fn, Dispatcher):
        raise ParameterError(f"{name} must be a numba.njit function; got {type(fn).__name__}")
    try:
        fn.compile(signature)
    except (NumbaError, TypeError) as exc:  # TypeError: a wrong number of arguments
        reason = " ".join(str(exc).split())[:300]
        typed = f"{name}({', '.join(map(str, signature.args))}) -> {signature.return_type}"
        raise ParameterError(f"{name} must compile as {typed}; numba: {reason}") from None


def custom_objective(
    n: int,
    d: int,
    grad,
    loss,
    *,
    L: float,
    mu: float = 0.0,
    zeta2: float | None = None,
    sigma2: float | None = None,
    x_star=None,
    f_star: float | None = None,
    data=None,
) -> Objective:
    """An objective whose gradients and loss are the user's ``numba.njit`` functions.

    The compiled engine calls them as first-class functions (no recompilation per
    function: the kernels are compiled once for these signatures); the reference
    engine calls their ``py_func``, so the two engines agree.

    Parameters
    ----------
    n, d : int
        Workers and model dimension.
    grad : numba.njit function
        ``grad(i, k, x, out, seed, data) -> None``: worker i's stochastic gradient
        at x on its iteration k, written into ``out``. Types: i, k, seed int64; x, out
        float64[::1] (C-contiguous, length d; x is read only); data float64[:, ::1].
        ``seed`` is the run's seed: draw from :mod:`mixlab.kernels.counter_rng` keyed
        by (seed, i, k) (e.g. ``uniform(seed, stream, (k * n + i) * B + b)``) to make
        the run reproducible and the engines agree.
    loss : numba.njit function
        ``loss(x, out, data) -> float``: f(x) = (1/n) sum_i f_i(x), with grad f(x)
        written into ``out`` (the trajectory records f(x-bar) - f* and
        ||grad f(x-bar)||^2).
    L : float
        Every f_i is L-smooth (L > 0).
    mu : float
        Every f_i is mu-strongly convex (0 <= mu <= L; 0 claims no convexity).
    zeta2, sigma2 : float or None
        Bounds, at every x, on the heterogeneity (1/n) sum_i ||grad f_i(x) -
        grad f(x)||^2 and on the variance of a worker's stochastic gradient; None:
        not known (``constants()`` says ``zeta2_uniform`` / ``sigma2_uniform``
        False), so a theorem that needs one refuses to judge a run
        (:class:`~mixlab.errors.AssumptionError` from its bounded-heterogeneity or
        uniform-variance assumption).
    x_star : array_like (d,) or None
        A minimizer of f, where known.
    f_star : float or None
        min f, where known (the recorded loss gap is f(x-bar) - f*, or f(x-bar)).
    data : array_like, 2-D, or None
        The arrays the functions read, passed as their last argument (default
        empty): functions should not read global arrays, which numba would freeze
        into their machine code.

    Returns
    -------
    Objective
        Kind ``CUSTOM``, ``constants_kind`` "declared": the declarations are its
        constants, unchecked. It has no local gradients (``zeta2_of`` refuses).

    Examples
    --------
    f_i(x) = ||x - c_i||^2 / 2 with c_i the rows of ``data``, and additive
    Gaussian noise of variance 0.01 per coordinate:

    >>> import numba
    >>> from mixlab.kernels import counter_rng as crng
    >>> @numba.njit
    ... def grad(i, k, x, out, seed, data):
    ...     n, d = data.shape
    ...     for j in range(d):
    ...         noise = crng.normal(seed, crng.NOISE, (k * n + i) * d + j)
    ...         out[j] = x[j] - data[i, j] + 0.1 * noise
    >>> @numba.njit
    ... def loss(x, out, data):
    ...     n, d = data.shape
    ...     f = 0.0
    ...     out[:] = 0.0
    ...     for i in range(n):
    ...         for j in range(d):
    ...             f += 0.5 * (x[j] - data[i, j]) ** 2 / n
    ...             out[j] += (x[j] - data[i, j]) / n
    ...     return f
    >>> c = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    >>> f = custom_objective(4, 2, grad, loss, L=1.0, mu=1.0, zeta2=2.5, sigma2=0.02,
    ...                      x_star=np.zeros(2), f_star=1.25, data=c)
    >>> f.loss(np.zeros(2)), f.reference_loss(np.zeros(2))
    (1.25, 1.25)
    >>> custom_objective(4, 2, grad, loss, L=1.0).constants()["zeta2"] is None
    True

    References
    ----------
    Numba's first-class function types:
    https://numba.readthedocs.io/en/stable/reference/types.html#functions
    """
    n = require_int("n", n, minimum=1)
    d = require_int("d", d, minimum=1)
    L, mu = _check_curvature(L, mu)
    zeta2 = None if zeta2 is None else require_real("zeta2", zeta2, low=0)
    sigma2 = None if sigma2 is None else require_real("sigma2", sigma2, low=0)
    f_star = None if f_star is None else require_real("f_star", f_star)
    if x_star is not None:
        x_star = np.asarray(x_star, dtype=np.float64)
        if x_star.shape != (d,):
            raise ParameterError(f"x_star must have shape (d,) = ({d},); got {x_star.shape}")
        require_finite("x_star", x_star)
    data = np.zeros((0, 0)) if data is None else np.ascontiguousarray(data, dtype=np.float64)
    if data.ndim != 2:
        raise ParameterError(
            f"data must be a 2-D array (the functions' last argument); got shape {data.shape}"
        )
    _compile_user("grad", grad, GRAD_SIGNATURE)
    _compile_user("loss", loss, LOSS_SIGNATURE)
    return Objective(
        "custom",
        CUSTOM,
        n,
        d,
        L,
        mu,
        zeta2,
        sigma2,
        x_star,
        f_star,
        None,
        features=data,
        constants_kind="declared",
        user_grad=grad,
        user_loss=loss,
    )


OBJECTIVES: dict[str, Callable[..., Objective]] = {
    "quadratic": quadratic,
    "least_squares": least_squares,
    "logistic": logistic,
    "robust": robust,
    "heterogeneous_quadratic": heterogeneous_quadratic,
}


#: Objectives built from the user's data (A, b): name -> builder(A, b, n, **params).
DATA_OBJECTIVES: dict[str, Callable[..., Objective]] = {
    "least_squares": least_squares_from_data,
    "logistic": logistic_from_data,
}


#: Command-line names of objective parameters: --noise SIGMA2, --heterogeneity ZETA2,
#: --partition (objectives from data).
CLI_PARAMETERS = {"noise": "sigma2", "heterogeneity": "zeta2", "partition": "partition"}


def objective_parameters(name: str, *, data: bool = False) -> tuple[str, ...]:
    """The keyword parameters a builder takes after n (from data: after A, b, n).

    Parameters
    ----------
    name : str
        A name of :data:`OBJECTIVES`, or with ``data`` of :data:`DATA_OBJECTIVES`.
    data : bool
        Ask about the builder from the user's data (default False).

    Returns
    -------
    tuple of str
        The parameter names, in signature order.

    Raises
    ------
    ParameterError
        For an unknown name.

    Examples
    --------
    >>> objective_parameters("logistic", data=True)
    ('partition', 'batch', 'reg', 'seed')
    """
    import inspect

    builders = DATA_OBJECTIVES if data else OBJECTIVES
    require_choice("objective from data" if data else "objective", name, builders)
    names = list(inspect.signature(builders[name]).parameters)
    return tuple(names[names.index("n") + 1 :])


def make_objective(name: str, n: int, *, data: tuple | None = None, **params) -> Objective:
    """Build objective ``name`` on n workers, synthetic or from the user's data (A, b).

    Dispatches to the builder of :data:`OBJECTIVES` (``quadratic``,
    ``heterogeneous_quadratic``, ``least_squares``, ``logistic``, ``robust``) or, with
    ``data``, of :data:`DATA_OBJECTIVES`; a parameter the builder does not take is
    refused by name.

    Parameters
    ----------
    name : str
        The objective.
    n : int
        Number of workers.
    data : tuple of (array_like, array_like), optional
        ``(A, b)``: the user's samples (rows, d) and targets (rows,); default None,
        a synthetic objective.
    **params
        Keyword parameters of the builder (see :func:`objective_parameters`).

    Returns
    -------
    Objective
        The objective with its constants.

    Raises
    ------
    ParameterError
        For an unknown name, a parameter the builder does not take (the message lists
        those it takes), or an invalid value.

    References
    ----------
    See the builders; docs/design.md, section "Objectives".

    Examples
    --------
    >>> import numpy as np
    >>> import mixlab as ml
    >>> ml.make_objective("quadratic", 4, d=2, sigma2=0.0).sigma2
    0.0
    >>> A = np.random.default_rng(0).standard_normal((40, 3))
    >>> ml.make_objective("least_squares", 4, data=(A, A @ np.ones(3)), partition="label").name
    'least_squares_from_data'
    """
    takes = objective_parameters(name, data=data is not None)
    refused = sorted(set(params) - set(takes))
    if refused:
        flags = {param: flag for flag, param in CLI_PARAMETERS.items()}
        named = ", ".join(f"{p} (--{flags[p]})" if p in flags else p for p in refused)
        what = f"objective {name}" + (" from data" if data is not None else "")
        raise ParameterError(f"{what} does not take {named} (it takes: {', '.join(takes)})")
    if data is None:
        return OBJECTIVES[name](n, **params)
    return DATA_OBJECTIVES[name](*data, n, **params)
