"""Stochastic gradient push (Assran et al., ICML 2019): push-sum on column-stochastic
P_t (default: the one-peer exponential schedule). Gradients at the de-biased
models z_i = x_i / w_i; x <- P_t (x - eta D), w <- P_t w (adapt-then-combine)."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.algorithms.base import (
    gradients,
    local_updates,
    local_updates_np,
    neighbourhood_clocks_np,
    register,
)
from mixlab.kernels.algorithms.dpsgd import DPSGD, mix_step
from mixlab.kernels.config import NUMBA_JIT


@numba.njit(**NUMBA_JIT)
def sgp_step(t, eta, s, p):
    n = s.X.shape[0]
    for i in range(n):
        s.Z[i] = s.X[i] / s.w[i]
    gradients(s.objective, s.timing.seed, t, s.Z, s.G)
    mix_step(t, eta, s, local_updates(s), p)
    rows = p.indptr[t % p.indptr.shape[0]]
    w_new = np.empty(n)
    for i in range(n):
        acc = 0.0
        for k in range(rows[i], rows[i + 1]):
            acc += p.data[k] * s.w[p.indices[k]]
        w_new[i] = acc
    s.w[:] = w_new


@register
@dataclass(frozen=True, kw_only=True)
class SGP(DPSGD):
    order: str = "atc"
    name = "sgp"
    default_topology = "one_peer_exponential"
    debiased = True
    numba_step = staticmethod(sgp_step)

    def __post_init__(self):
        super().__post_init__()
        if self.order != "atc":
            raise ParameterError(
                f"SGP is adapt-then-combine (push-sum after the local step); got order {self.order!r}"
            )

    def check_workers(self, n: int) -> None:
        super().check_workers(n)
        for W in self.mixing:
            dev = np.abs(np.asarray(W.sum(axis=0)).ravel() - 1).max()
            if dev > 1e-10 or (W.data < 0).any():
                raise ParameterError(
                    "SGP needs nonnegative column-stochastic mixing matrices "
                    f"(worst column-sum deviation {dev:.3g})"
                )

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        raise ParameterError("sgp is push-sum (de-biased by its weights), not a sequence of mixing matrices")

    def reference_step(self, st, t, eta):
        D = local_updates_np(st, st.objective.stochastic_grads(st.X / st.w[:, None], t, st.seed))
        P = self.mixing[t % len(self.mixing)]
        st.X = P @ (st.X - eta * D)
        st.w = P @ st.w
        st.clocks = neighbourhood_clocks_np(P, st.a, st.costs.message)
