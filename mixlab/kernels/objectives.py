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

Stochastic gradient draws are keyed by the run seed and (worker i, the
worker's iteration k):
(heterogeneous) quadratic noise component j uses counter (k n + i) d + j of stream NOISE;
minibatch row b uses counter (k n + i) B + b of stream BATCH.

>>> f = quadratic(4, 3, zeta2=2.0, seed=0)
>>> round(f.zeta2_of(f.x_star), 12), f.L, f.mu
(2.0, 1.0, 0.1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np
from scipy import special

from mixlab.errors import ParameterError
from mixlab.kernels import counter_rng as crng
from mixlab.kernels.config import NUMBA_JIT, NUMBA_REDUCTION
from mixlab.seeding import Seed, as_generator
from mixlab.validate import require_choice, require_int, require_real

QUADRATIC, SQUARED, LOGISTIC, GEMAN_MCCLURE, HETERO_QUADRATIC = 0, 1, 2, 3, 4
#: sup_r |phi'(r)| of the Geman-McClure loss (at r = 1/sqrt(3)).
GM_MAX_SLOPE = 2 / math.sqrt(3) * 9 / 16


class ObjectiveArrays(NamedTuple):
    """What the compiled gradients and losses read: ``kind`` selects the loss;
    ``features`` holds the samples (m, d) of the sample losses, or the stacked
    Hessians (n d, d) of ``heterogeneous_quadratic``; ``f_star`` is 0 when unknown."""

    kind: int
    hdiag: np.ndarray
    centers: np.ndarray
    noise_std: float
    features: np.ndarray
    labels: np.ndarray
    reg: float
    batch: int
    f_star: float


@dataclass(frozen=True, eq=False)
class Objective:
    """A generated problem: data arrays for the compiled gradient and its constants.

    ``features``: the (m, d) samples of the sample losses; for
    ``heterogeneous_quadratic`` the stacked Hessians (n d, d), rows i d .. i d + d - 1
    holding H_i (see :attr:`hessians`), so that the compiled argument tuple keeps
    one layout for every kind. ``hdiag``: the common diagonal Hessian of ``quadratic``.
    """

    name: str
    kind: int
    n: int
    d: int
    L: float
    mu: float
    zeta2: float
    sigma2: float
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

    @property
    def convex(self) -> bool:
        return self.kind != GEMAN_MCCLURE

    def constants(self) -> dict:
        """The constants a theorem check needs, and how they were obtained.

        ``zeta2_uniform`` / ``sigma2_uniform``: the value bounds the heterogeneity /
        gradient variance at every x (common-Hessian quadratics and least
        squares have x-independent heterogeneity, worker-specific Hessians do
        not; additive noise has uniform variance; the robust loss has uniform
        bounds), not only at x*.
        ``each_strongly_convex``: every f_i (not only f) is mu-strongly convex
        (every H_i >= mu I, shared features, or the ridge term). ``grad_bound``: a
        G with ||g|| <= G for every stochastic gradient at every x (the robust
        loss: sup|phi'| max_j ||a_j||), None where gradients are unbounded.
        """
        grad_bound = None
        if self.kind == GEMAN_MCCLURE:
            grad_bound = float(GM_MAX_SLOPE * np.linalg.norm(self.features, axis=1).max())
        return {"L": self.L, "mu": self.mu, "zeta2": self.zeta2, "sigma2": self.sigma2,
                "f_star": self.f_star, "convex": self.convex,
                "each_strongly_convex": self.convex and self.mu > 0, "grad_bound": grad_bound,
                "constants_kind": self.constants_kind,
                "zeta2_uniform": self.kind not in (LOGISTIC, HETERO_QUADRATIC),
                "sigma2_uniform": self.kind in (QUADRATIC, HETERO_QUADRATIC, GEMAN_MCCLURE)}

    @property
    def hessians(self) -> np.ndarray:
        """(n, d, d): H_i of every worker, for the quadratic kinds (constant Hessians)."""
        if self.kind == HETERO_QUADRATIC:
            return self.features.reshape(self.n, self.d, self.d)
        if self.kind == QUADRATIC:
            return np.broadcast_to(np.diag(self.hdiag), (self.n, self.d, self.d))
        raise ParameterError(f"hessians need a quadratic objective; got {self.name!r}")

    def arrays(self) -> ObjectiveArrays:
        """The objective's data for the compiled gradient and loss functions."""
        return ObjectiveArrays(self.kind, self.hdiag, self.centers, float(self.noise_std), self.features,
                               self.labels, float(self.reg), int(self.batch), float(self.f_star or 0.0))

    # ---- exact (noise-free) quantities, NumPy -------------------------------------------
    def loss(self, x: np.ndarray) -> float:
        """f(x)."""
        g = np.empty(self.d)
        return float(full_loss_grad(self.arrays(), np.ascontiguousarray(x, float), g))

    def grad(self, x: np.ndarray) -> np.ndarray:
        """grad f(x)."""
        g = np.empty(self.d)
        full_loss_grad(self.arrays(), np.ascontiguousarray(x, float), g)
        return g

    def reference_loss(self, x: np.ndarray) -> float:
        """f(x) in plain NumPy (no compiled code): the reference engine's metric."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind in (QUADRATIC, HETERO_QUADRATIC):
            R = x - self.centers
            return float(0.5 * np.einsum("ij,ij->i", R, self._quadratic_grads(np.broadcast_to(x, R.shape),
                                                                              np.arange(self.n))).mean())
        z = self.features @ x
        return float(_loss_np(self.kind, z[None, :], self.labels).mean() + 0.5 * self.reg * (x @ x))

    def reference_grad(self, x: np.ndarray) -> np.ndarray:
        """grad f(x) in plain NumPy: the mean of the local gradients."""
        return self.local_grads(np.asarray(x, dtype=np.float64)).mean(axis=0)

    def local_grads(self, x: np.ndarray) -> np.ndarray:
        """(n, d): grad f_i(x) for every worker i at the same point x."""
        if self.kind in (QUADRATIC, HETERO_QUADRATIC):
            return self._quadratic_grads(np.broadcast_to(x, (self.n, self.d)), np.arange(self.n))
        z = self.features @ x
        return (_dloss_np(self.kind, z[None, :], self.labels) @ self.features) / self.features.shape[0] \
            + self.reg * x

    def zeta2_of(self, x: np.ndarray) -> float:
        """(1/n) sum_i ||grad f_i(x) - grad f(x)||^2."""
        G = self.local_grads(x)
        return float(((G - G.mean(axis=0)) ** 2).sum(axis=1).mean())

    # ---- stochastic gradients, NumPy reference ------------------------------------------
    def stochastic_grads(self, X: np.ndarray, iterations, seed: int, workers=None) -> np.ndarray:
        """Row r: the stochastic gradient of worker ``workers[r]`` (default: all, in
        order) at X[r] on its iteration iterations[r], from the draws of run seed ``seed``."""
        n, d = self.n, X.shape[1]
        i = np.arange(n, dtype=np.int64) if workers is None else np.asarray(workers, dtype=np.int64)
        k = np.broadcast_to(np.asarray(iterations, dtype=np.int64), i.shape)
        if self.kind in (QUADRATIC, HETERO_QUADRATIC):
            counters = ((k * n + i)[:, None] * d + np.arange(d)[None, :])
            noise = crng.normal_np(seed, crng.NOISE, counters)
            return self._quadratic_grads(X, i) + self.noise_std * noise
        B, m = self.batch, self.features.shape[0]
        counters = (k * n + i)[:, None] * B + np.arange(B)[None, :]
        rows = (crng.uniform_np(seed, crng.BATCH, counters) * m).astype(np.int64)
        A = self.features[rows]                                   # (r, B, d)
        z = np.einsum("rbd,rd->rb", A, X)
        r = _dloss_np(self.kind, z, np.take_along_axis(self.labels[i], rows, axis=1))
        return np.einsum("rb,rbd->rd", r, A) / B + self.reg * X

    def _quadratic_grads(self, X: np.ndarray, workers: np.ndarray) -> np.ndarray:
        """Row r: H_i (X[r] - c_i) for i = workers[r] (the quadratic kinds, noise-free)."""
        R = X - self.centers[workers]
        if self.kind == QUADRATIC:
            return self.hdiag * R
        return np.einsum("rjl,rl->rj", self.hessians[workers], R)


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
    """Worker i's stochastic gradient at x on its iteration k, into out (d,).
    ``obj``: :class:`ObjectiveArrays`; ``seed`` is the run's seed (draws), not the seed
    the data was generated from."""
    if obj.kind == QUADRATIC or obj.kind == HETERO_QUADRATIC:
        _quadratic_grad(obj.kind, obj.hdiag, obj.features, obj.centers, obj.noise_std, seed, i, k, x, out)
    else:
        _sample_grad(obj.kind, obj.features, obj.labels, obj.reg, obj.batch, seed, i, k, x, out)


@numba.njit(**NUMBA_JIT)
def _quadratic_grad(kind, hdiag, hessians, centers, noise_std, seed, i, k, x, out):
    d = x.shape[0]
    base = (k * centers.shape[0] + i) * d
    for j in range(d):
        out[j] = _curvature(kind, hdiag, hessians, centers, i, j, x) \
            + noise_std * crng.normal(seed, crng.NOISE, base + j)


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
def _sample_grad(kind, features, labels, reg, batch, seed, i, k, x, out):
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
        r0, c0 = _sample(kind, features, labels, seed, base, b, batch, i, m, x, scale)
        r1, c1 = _sample(kind, features, labels, seed, base, b + 1, batch, i, m, x, scale)
        r2, c2 = _sample(kind, features, labels, seed, base, b + 2, batch, i, m, x, scale)
        r3, c3 = _sample(kind, features, labels, seed, base, b + 3, batch, i, m, x, scale)
        a0, a1, a2, a3 = features[r0], features[r1], features[r2], features[r3]
        for j in range(d):
            out[j] += (c0 * a0[j] + c1 * a1[j]) + (c2 * a2[j] + c3 * a3[j])


@numba.njit(**NUMBA_REDUCTION)
def _sample(kind, features, labels, seed, base, b, batch, i, m, x, scale):
    """(row, coefficient) of sample b of the minibatch; (0, 0.0) past its end."""
    if b >= batch:
        return 0, 0.0
    row = int(crng.uniform(seed, crng.BATCH, base + b) * m)
    return row, _dloss(kind, _dot(features[row], x), labels[i, row]) * scale


@numba.njit(**NUMBA_JIT)
def full_loss_grad(obj, x, grad):
    """f(x) = (1/n) sum_i f_i(x) of :class:`ObjectiveArrays` ``obj``; grad f(x) into ``grad``."""
    kind, hdiag, centers, features, labels, reg = obj.kind, obj.hdiag, obj.centers, obj.features, \
        obj.labels, obj.reg
    d = x.shape[0]
    if kind == QUADRATIC or kind == HETERO_QUADRATIC:
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
    n, m = labels.shape
    z = features @ x
    f = 0.0
    coef = np.zeros(m)
    for i in range(n):
        for r in range(m):
            f += _loss(kind, z[r], labels[i, r])
            coef[r] += _dloss(kind, z[r], labels[i, r])
    sq = 0.0
    for j in range(d):
        grad[j] = reg * x[j]
        sq += x[j] * x[j]
    for r in range(m):
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


def _check_constants(n, d, L, mu, *, per_worker=False):
    """Validated (n, d, L, mu); ``per_worker``: each worker has its own d curvatures."""
    n = require_int("n", n, minimum=1)
    d = require_int("d", d, minimum=1)
    L = require_real("L", L, low=0, low_open=True)
    mu = require_real("mu", mu, low=0)
    if mu > L:
        raise ParameterError(f"mu must be <= L; got mu = {mu}, L = {L}")
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


def quadratic(n: int, d: int = 16, *, L: float = 1.0, mu: float = 0.1, zeta2: float = 1.0,
              sigma2: float = 0.01, seed: Seed = 0) -> Objective:
    """Distributed quadratic with exact L, mu, zeta2 and additive Gaussian noise sigma2."""
    n, d, L, mu = _check_constants(n, d, L, mu)
    zeta2 = require_real("zeta2", zeta2, low=0)
    sigma2 = require_real("sigma2", sigma2, low=0)
    rng, s = _data_rng(seed)
    h = _spectrum(d, L, mu)
    x_star = rng.standard_normal(d)
    delta = _shifts(rng, n, d, h, zeta2)
    f_star = float(0.5 * (h * delta**2).sum(axis=1).mean())
    return Objective("quadratic", QUADRATIC, n, d, L, mu, zeta2, sigma2, x_star, f_star, s,
                     hdiag=h, centers=x_star + delta, noise_std=math.sqrt(sigma2 / d))


def heterogeneous_quadratic(n: int, d: int = 16, *, L: float = 1.0, mu: float = 0.1,
                            zeta2: float = 1.0, sigma2: float = 0.01, seed: Seed = 0) -> Objective:
    """Quadratics with worker-specific Hessians, so that communication matters: with a
    common Hessian the average model follows centralized SGD whatever the mixing.

    H_i = Q_i diag(h_i) Q_i^T with random orthogonal Q_i and h_i in [mu, L]
    (log-uniform; uniform when mu = 0); worker 0 attains L and worker n - 1 mu, so
    L = max_i lambda_max(H_i) and mu = min_i lambda_min(H_i). Centers c_i = x* + o_i
    with sum_i H_i o_i = 0 (x* = (sum H_i)^{-1} sum H_i c_i) and the o_i scaled to
    make zeta2 exact at x*. Noise: that of :func:`quadratic` (same draws).

    >>> f = heterogeneous_quadratic(4, 3, zeta2=2.0, seed=0)
    >>> round(f.zeta2_of(f.x_star), 12), f.constants()["zeta2_uniform"]
    (2.0, False)
    """
    n, d, L, mu = _check_constants(n, d, L, mu, per_worker=True)
    zeta2 = require_real("zeta2", zeta2, low=0)
    sigma2 = require_real("sigma2", sigma2, low=0)
    rng, s = _data_rng(seed)
    x_star = rng.standard_normal(d)
    u = rng.random((n, d))
    h = mu * (L / mu) ** u if mu > 0 else L * u
    h[-1, -1] = mu
    h[0, 0] = L                                             # L wins when n = d = 1
    Q = np.linalg.qr(rng.standard_normal((n, d, d)))[0]
    H = (Q * h[:, None, :]) @ Q.transpose(0, 2, 1)
    H = (H + H.transpose(0, 2, 1)) / 2                      # exactly symmetric
    delta = rng.standard_normal((n, d))
    p = np.linalg.lstsq(H.sum(axis=0), np.einsum("ijl,il->j", H, delta), rcond=None)[0]
    offsets = _scaled(delta - p, np.einsum("ijl,il->ij", H, delta - p), zeta2)
    f_star = float(0.5 * np.einsum("ij,ijl,il->i", offsets, H, offsets).mean())
    return Objective("heterogeneous_quadratic", HETERO_QUADRATIC, n, d, L, mu, zeta2, sigma2,
                     x_star, f_star, s, centers=x_star + offsets, noise_std=math.sqrt(sigma2 / d),
                     features=np.ascontiguousarray(H.reshape(n * d, d)))


def least_squares(n: int, d: int = 16, *, L: float = 1.0, mu: float = 0.1, zeta2: float = 1.0,
                  samples: int | None = None, batch: int = 16, label_noise: float = 0.1,
                  seed: Seed = 0) -> Objective:
    """Least squares with shared features (A^T A/m = diag(h) exactly) and minibatch
    sampling; for the same seed its f_i equal those of :func:`quadratic` up to constants.

    ``label_noise``: rms of the residual r_i orthogonal to range(A) (sets sigma2 at x*).
    """
    n, d, L, mu = _check_constants(n, d, L, mu)
    zeta2 = require_real("zeta2", zeta2, low=0)
    m = require_int("samples", 2 * d if samples is None else samples, minimum=d)
    batch = require_int("batch", batch, minimum=1)
    label_noise = require_real("label_noise", label_noise, low=0)
    rng, s = _data_rng(seed)
    h = _spectrum(d, L, mu)
    x_star = rng.standard_normal(d)                        # same draws as quadratic(seed)
    centers = x_star + _shifts(rng, n, d, h, zeta2)
    Q, _ = np.linalg.qr(rng.standard_normal((m, d)))
    A = math.sqrt(m) * Q * np.sqrt(h)
    R = rng.standard_normal((n, m))
    R -= (R @ Q) @ Q.T                                      # residuals orthogonal to range(A)
    R *= label_noise / max(math.sqrt(float((R**2).mean())), 1e-300)
    labels = centers @ A.T + R
    f_star = float(((A @ x_star - labels) ** 2).sum(axis=1).mean() / (2 * m))
    obj = Objective("least_squares", SQUARED, n, d, L, mu, zeta2, 0.0, x_star, f_star, s,
                    features=np.ascontiguousarray(A), labels=np.ascontiguousarray(labels),
                    batch=batch)
    return _with_sigma2_at(obj, x_star)


def _with_sigma2_at(obj: Objective, x: np.ndarray) -> Objective:
    """Set sigma2 = (1/n) sum_i E||g_i(x) - grad f_i(x)||^2 for minibatches drawn with replacement."""
    A, m = obj.features, obj.features.shape[0]
    c = _dloss_np(obj.kind, (A @ x)[None, :], obj.labels)             # (n, m)
    second = (c**2 * (A**2).sum(axis=1)[None, :]).sum(axis=1) / m       # E||l' a||^2 per worker
    mean = c @ A / m
    var = (second - (mean**2).sum(axis=1)) / obj.batch
    return _replace(obj, sigma2=float(var.mean()))


def _replace(obj: Objective, **changes) -> Objective:
    from dataclasses import replace

    return replace(obj, **changes)


def _scaled_features(rng, m, d, curvature_per_unit, L, reg):
    """Gaussian features scaled so that curvature_per_unit * lambda_max(A^T A/m) + reg = L."""
    A = rng.standard_normal((m, d))
    lam = float(np.linalg.eigvalsh(A.T @ A / m)[-1])
    if L <= reg:
        raise ParameterError(f"reg must be < L; got reg = {reg}, L = {L}")
    return A * math.sqrt((L - reg) / (curvature_per_unit * lam))


def logistic(n: int, d: int = 16, *, samples: int = 64, reg: float = 0.01, heterogeneity: float = 1.0,
             batch: int = 8, L: float = 1.0, seed: Seed = 0) -> Objective:
    """Regularized logistic regression; x* by Newton's method to ||grad f|| <= 1e-13."""
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
    obj = Objective("logistic", LOGISTIC, n, d, L, reg, 0.0, 0.0, None, None, s,
                    features=np.ascontiguousarray(A), labels=labels, reg=reg, batch=batch)
    x = np.zeros(d)
    for _ in range(100):
        g = obj.grad(x)
        if np.linalg.norm(g) <= 1e-13:
            break
        w = (1 / (1 + np.exp(labels * (A @ x)[None, :])))
        curv = (w * (1 - w)).mean(axis=0)
        H = (A.T * curv) @ A / m + reg * np.eye(d)
        x = x - np.linalg.solve(H, g)
    obj = _replace(obj, x_star=x, f_star=obj.loss(x), zeta2=obj.zeta2_of(x))
    return _with_sigma2_at(obj, x)


def robust(n: int, d: int = 16, *, samples: int = 64, heterogeneity: float = 1.0,
           outliers: float = 0.1, batch: int = 8, L: float = 1.0, seed: Seed = 0) -> Objective:
    """Nonconvex robust regression (Geman-McClure loss); f* unknown.

    zeta2 and sigma2 are uniform bounds over x from sup|phi'| (constants_kind
    "uniform_bound"): ||grad f_i - grad f|| <= 2 sup|phi'| mean_j ||a_j||, and
    E||g - grad f_i||^2 <= sup|phi'|^2 mean_j ||a_j||^2 / B.
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
    return Objective("robust", GEMAN_MCCLURE, n, d, L, 0.0, zeta2, sigma2, None, None, s,
                     features=np.ascontiguousarray(A), labels=labels, batch=batch,
                     constants_kind="uniform_bound")


OBJECTIVES = {"quadratic": quadratic, "least_squares": least_squares, "logistic": logistic,
              "robust": robust, "heterogeneous_quadratic": heterogeneous_quadratic}


#: Command-line names of objective parameters: --noise SIGMA2, --heterogeneity ZETA2.
CLI_PARAMETERS = {"noise": "sigma2", "heterogeneity": "zeta2"}


def objective_parameters(name: str) -> tuple[str, ...]:
    """The keyword parameters of objective ``name`` (after n)."""
    import inspect

    require_choice("objective", name, OBJECTIVES)
    return tuple(p for p in inspect.signature(OBJECTIVES[name]).parameters if p != "n")


def make_objective(name: str, n: int, **params) -> Objective:
    """Objective ``name`` on n workers; a parameter it does not take is refused by name.

    >>> make_objective("quadratic", 4, d=2, sigma2=0.0).sigma2
    0.0
    """
    takes = objective_parameters(name)
    refused = sorted(set(params) - set(takes))
    if refused:
        flags = {param: flag for flag, param in CLI_PARAMETERS.items()}
        named = ", ".join(f"{p} (--{flags[p]})" if p in flags else p for p in refused)
        raise ParameterError(f"objective {name} does not take {named} (it takes: {', '.join(takes)})")
    return OBJECTIVES[name](n, **params)
