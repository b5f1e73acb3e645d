"""Algorithm specifications shared by every engine (reference, numba, and later MPI).

A spec holds plain parameters and arrays (communication patterns arrive as
CSR arrays or group-index arrays built by :mod:`mixlab.theory`), so engines do
not depend on the theory layer. Semantics (docs/design.md, "Algorithms"), with
D_i the local update (G_i, or the heavy-ball buffer U_i <- m U_i + G_i; buffers
are never averaged) and eta_t the step size of iteration t:

- ``AllreduceSGD``: every worker applies the mean update: x <- x - eta mean_i D_i.
- ``LocalSGD(H)``: x_i <- x_i - eta D_i; after every H-th step a global average.
- ``DPSGD(mixing)``: W_t = mixing[t mod q]. CTA: X <- W_t X - eta D;
  ATC: X <- W_t (X - eta D).
- ``SGP(mixing)`` (push-sum, Assran et al. 2019): gradients at z_i = x_i / w_i;
  X <- P_t (X - eta D), w <- P_t w with column-stochastic P_t.
- ``WAGMA(groups, sync_period)``: see :mod:`mixlab.kernels.engine_reference`.
- ``ADPSGD(neighbors)`` (Lian et al. 2018): asynchronous; see the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from mixlab.errors import ParameterError
from mixlab.validate import require_choice, require_int, require_real

ORDERS = ("cta", "atc")
#: WAGMA-SGD wait-avoiding activation: one broadcast from the first arrival anywhere
#: (the reference code), or per group from its own first arrival.
ACTIVATIONS = ("global", "group")
SCHEDULES = ("constant", "cosine", "inverse_sqrt", "step")


def step_sizes(lr: float, steps: int, schedule: str = "constant", *, decay_every: int = 0,
               decay: float = 0.1) -> np.ndarray:
    """eta_t for t = 0..steps-1: constant; cosine from lr to 0; lr / sqrt(t + 1);
    or step decay (times ``decay`` every ``decay_every`` steps)."""
    lr = require_real("step size", lr, low=0, low_open=True)
    steps = require_int("steps", steps, minimum=1)
    require_choice("step-size schedule", schedule, SCHEDULES)
    t = np.arange(steps, dtype=np.float64)
    if schedule == "constant":
        return np.full(steps, lr)
    if schedule == "cosine":
        return lr * 0.5 * (1 + np.cos(np.pi * t / steps))
    if schedule == "inverse_sqrt":
        return lr / np.sqrt(t + 1)
    every = require_int("decay_every", decay_every, minimum=1)
    return lr * require_real("decay", decay, low=0, high=1, low_open=True) ** (t // every)


def _csr_period(mixing) -> tuple:
    mats = []
    for W in mixing:
        W = sp.csr_matrix(W, dtype=np.float64, copy=True)
        W.sum_duplicates()
        W.sort_indices()
        mats.append(W)
    if not mats:
        raise ParameterError("a mixing period needs at least one matrix")
    return tuple(mats)


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    """Common parameters: momentum m in [0, 1) and the update order."""

    momentum: float = 0.0
    order: str = "cta"
    name = "algorithm"
    synchronous = True

    def __post_init__(self):
        require_real("momentum", self.momentum, low=0, high=1, high_open=True)
        require_choice("update order", self.order, ORDERS)

    def check_workers(self, n: int) -> None:
        """Raise if the spec does not fit n workers."""

    def params(self) -> dict:
        return {"algorithm": self.name, "momentum": self.momentum, "order": self.order}


@dataclass(frozen=True, kw_only=True)
class AllreduceSGD(Algorithm):
    name = "allreduce"


@dataclass(frozen=True, kw_only=True)
class LocalSGD(Algorithm):
    local_steps: int = 1
    order: str = "atc"
    name = "local_sgd"

    def __post_init__(self):
        super().__post_init__()
        require_int("local steps H", self.local_steps, minimum=1)
        if self.order != "atc":
            raise ParameterError("local SGD is adapt-then-combine (the average follows the local step); "
                                 f"got order {self.order!r}")

    def params(self) -> dict:
        return {**super().params(), "local_steps": self.local_steps}


@dataclass(frozen=True, kw_only=True)
class DPSGD(Algorithm):
    mixing: tuple = field(default=(), repr=False)
    name = "dpsgd"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "mixing", _csr_period(self.mixing))

    def check_workers(self, n: int) -> None:
        for W in self.mixing:
            if W.shape != (n, n):
                raise ParameterError(f"inconsistent n: the problem has n = {n} workers, "
                                     f"a mixing matrix has shape {W.shape}")

    def params(self) -> dict:
        return {**super().params(), "period": len(self.mixing)}


@dataclass(frozen=True, kw_only=True)
class SGP(DPSGD):
    name = "sgp"

    def __post_init__(self):
        super().__post_init__()
        if self.order != "atc":
            raise ParameterError("SGP is adapt-then-combine (push-sum after the local step); "
                                 f"got order {self.order!r}")

    def check_workers(self, n: int) -> None:
        super().check_workers(n)
        for W in self.mixing:
            dev = np.abs(np.asarray(W.sum(axis=0)).ravel() - 1).max()
            if dev > 1e-10 or (W.data < 0).any():
                raise ParameterError("SGP needs nonnegative column-stochastic mixing matrices "
                                     f"(worst column-sum deviation {dev:.3g})")


@dataclass(frozen=True, kw_only=True)
class WAGMA(Algorithm):
    """groups: (k, n/S, S) int array, the groups of phase t mod k; sync_period tau >= 1:
    iterations t with t mod tau = tau - 1 do a blocking global mean instead. The defaults
    (``self_weighted`` rule, ``global`` activation) are those of the reference code."""

    groups: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.int64), repr=False)
    sync_period: int = 8
    rule: str = "self_weighted"
    wait_avoiding: bool = True
    activation: str = "global"
    name = "wagma"

    def __post_init__(self):
        super().__post_init__()
        require_int("sync period tau", self.sync_period, minimum=1)
        require_choice("averaging rule", self.rule, ("mean", "self_weighted"))
        require_choice("activation", self.activation, ACTIVATIONS)
        g = np.asarray(self.groups)
        if g.ndim != 3 or g.shape[0] < 1:
            raise ParameterError(f"groups must be a (phases, n/S, S) array, got shape {g.shape}")
        object.__setattr__(self, "groups", np.ascontiguousarray(g, dtype=np.int64))

    @property
    def group_size(self) -> int:
        return self.groups.shape[2]

    def check_workers(self, n: int) -> None:
        k, m, S = self.groups.shape
        if m * S != n:
            raise ParameterError(f"inconsistent n: the problem has n = {n} workers, the groups "
                                 f"cover {m * S} ({m} groups of S = {S})")
        for phase in self.groups:
            if sorted(phase.ravel().tolist()) != list(range(n)):
                raise ParameterError("every phase of groups must partition the workers 0..n-1")

    def params(self) -> dict:
        return {**super().params(), "group_size": self.group_size, "sync_period": self.sync_period,
                "rule": self.rule, "wait_avoiding": self.wait_avoiding,
                "activation": self.activation, "phases": self.groups.shape[0]}


@dataclass(frozen=True, kw_only=True)
class ADPSGD(Algorithm):
    """neighbors: CSR adjacency (indptr, indices) of the undirected communication graph."""

    indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64), repr=False)
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    name = "adpsgd"
    synchronous = False

    def check_workers(self, n: int) -> None:
        if self.indptr.shape != (n + 1,):
            raise ParameterError(f"inconsistent n: the problem has n = {n} workers, the "
                                 f"neighbour lists cover {self.indptr.size - 1}")
        if (np.diff(self.indptr) < 1).any():
            raise ParameterError("AD-PSGD needs every worker to have at least one neighbour")
