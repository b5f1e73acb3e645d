"""D-PSGD (Lian et al., NeurIPS 2017): W_t = mixing[t mod q], a fixed matrix or a
time-varying period. CTA: X <- W_t X - eta D; ATC: X <- W_t (X - eta D).
Neighbourhood-synchronous: worker i starts its next iteration when its
in-neighbours have arrived, messages in parallel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numba
import numpy as np
import scipy.sparse as sp

from mixlab.errors import ParameterError
from mixlab.kernels.algorithms.base import (
    Algorithm,
    axpy_into,
    gradients,
    local_updates,
    local_updates_np,
    neighbourhood_clocks,
    neighbourhood_clocks_np,
    register,
)
from mixlab.kernels.averaging.mixing import sparse_mix_numba
from mixlab.kernels.config import NUMBA_JIT


class MixingParams(NamedTuple):
    """A period of CSR matrices stacked: row pointers (q, n + 1) into shared indices/data."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    cta: bool


def csr_period(mixing) -> tuple:
    """Canonical CSR copies of a period of matrices (sorted, duplicates summed)."""
    mats = []
    for W in mixing:
        W = sp.csr_matrix(W, dtype=np.float64, copy=True)
        W.sum_duplicates()
        W.sort_indices()
        mats.append(W)
    if not mats:
        raise ParameterError("a mixing period needs at least one matrix")
    return tuple(mats)


def stacked_csr(mats, cta: bool) -> MixingParams:
    """The period as :class:`MixingParams` for the compiled steps."""
    n = mats[0].shape[0]
    indptr = np.zeros((len(mats), n + 1), dtype=np.int64)
    offset = 0
    for q, W in enumerate(mats):
        indptr[q] = W.indptr + offset
        offset += W.nnz
    return MixingParams(
        indptr,
        np.concatenate([W.indices for W in mats]).astype(np.int64),
        np.concatenate([W.data for W in mats]).astype(np.float64),
        bool(cta),
    )


@numba.njit(**NUMBA_JIT)
def mix_step(t, eta, s, D, p):
    """X <- W_t X - eta D (CTA) or W_t (X - eta D) (ATC), in place; neighbourhood clocks."""
    rows = p.indptr[t % p.indptr.shape[0]]
    if p.cta:
        sparse_mix_numba(rows, p.indices, p.data, s.X, s.Y)
        axpy_into(s.X, s.Y, eta, D)
    else:
        axpy_into(s.Z, s.X, eta, D)
        sparse_mix_numba(rows, p.indices, p.data, s.Z, s.X)
    neighbourhood_clocks(rows, p.indices, s.a, s.costs.message, s.clocks)


@numba.njit(**NUMBA_JIT)
def dpsgd_step(t, eta, s, p):
    gradients(s.objective, s.timing.seed, t, s.X, s.G)
    mix_step(t, eta, s, local_updates(s), p)


@register
@dataclass(frozen=True, kw_only=True)
class DPSGD(Algorithm):
    mixing: tuple = field(default=(), repr=False)
    name = "dpsgd"
    options: ClassVar[tuple[str, ...]] = ("momentum", "topology", "weights", "order")
    default_topology = "ring"
    numba_step = staticmethod(dpsgd_step)

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "mixing", csr_period(self.mixing))

    @classmethod
    def from_options(
        cls, n: int, *, seed: int = 0, topology: str | None = None, weights: str = "metropolis", **options
    ) -> DPSGD:
        from mixlab.theory.schedules import mixing_period

        return cls(mixing=mixing_period(topology or cls.default_topology, n, weights, seed), **options)

    def check_workers(self, n: int) -> None:
        for W in self.mixing:
            if W.shape != (n, n):
                raise ParameterError(
                    f"inconsistent n: the problem has n = {n} workers, a mixing matrix has shape {W.shape}"
                )

    def params(self) -> dict:
        return {**super().params(), "period": len(self.mixing)}

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        return [self.mixing[t % len(self.mixing)] for t in range(steps)], self.order

    def numba_params(self, X0: np.ndarray) -> tuple:
        return stacked_csr(self.mixing, self.order == "cta")

    def reference_step(self, st, t, eta):
        D = local_updates_np(st, st.objective.stochastic_grads(st.X, t, st.seed))
        W = self.mixing[t % len(self.mixing)]
        st.X = W @ st.X - eta * D if self.order == "cta" else W @ (st.X - eta * D)
        st.clocks = neighbourhood_clocks_np(W, st.a, st.costs.message)
