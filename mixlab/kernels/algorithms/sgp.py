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
    """One SGP iteration: gradients at z_i = x_i / w_i, then x <- P_t (x - eta D) and w <- P_t w.

    Parameters
    ----------
    t : int
        Iteration.
    eta : float
        Step size of this iteration.
    s : RunState
        The run; X, w, the scratch Z and the clocks are updated in place.
    p : MixingParams
        The period of column-stochastic P_t (adapt-then-combine).
    """
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
    """Stochastic gradient push (Assran et al., ICML 2019): push-sum on column-stochastic P_t.

    The recorded models are the de-biased z_i = x_i / w_i (``debiased = True``);
    the default topology is the one-peer exponential schedule.

    Parameters
    ----------
    momentum : float, default 0.0
        Heavy-ball momentum m in [0, 1).
    order : str, default "atc"
        Must be "atc": push-sum follows the local step.
    mixing : sequence of array_like or sparse matrix
        The period P_0, ..., P_{q-1}, each (n, n), nonnegative and column-stochastic
        (checked by :meth:`check_workers`).

    Raises
    ------
    ParameterError
        If the order is not "atc", the period is empty or m is outside [0, 1).
    """

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
        """Check that every P_t is (n, n), nonnegative and column-stochastic (to 1e-10).

        Parameters
        ----------
        n : int
            Number of workers of the problem.

        Raises
        ------
        ParameterError
            If a matrix has another shape, a negative entry or a column sum off 1.
        """
        super().check_workers(n)
        for W in self.mixing:
            dev = np.abs(np.asarray(W.sum(axis=0)).ravel() - 1).max()
            if dev > 1e-10 or (W.data < 0).any():
                raise ParameterError(
                    "SGP needs nonnegative column-stochastic mixing matrices "
                    f"(worst column-sum deviation {dev:.3g})"
                )

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """Refuse: push-sum's de-biased models x_i / w_i are not a linear mixing of the models.

        Parameters
        ----------
        n : int
            Number of workers.
        steps : int
            Number of iterations T.

        Raises
        ------
        ParameterError
            Always.
        """
        raise ParameterError("sgp is push-sum (de-biased by its weights), not a sequence of mixing matrices")

    def reference_step(self, st, t, eta):
        """One SGP iteration in NumPy: gradients at x_i / w_i, then push-sum of x - eta D and w.

        Parameters
        ----------
        st : ReferenceState
            The reference run; X, w, U and the clocks are rebound or updated.
        t : int
            Iteration.
        eta : float
            Step size of this iteration.
        """
        D = local_updates_np(st, st.objective.stochastic_grads(st.X / st.w[:, None], t, st.seed))
        P = self.mixing[t % len(self.mixing)]
        st.X = P @ (st.X - eta * D)
        st.w = P @ st.w
        st.clocks = neighbourhood_clocks_np(P, st.a, st.costs.message)

    def mpi_step(self, st, t, eta):
        """One SGP iteration on MPI ranks: push-sum of [x - eta D, w, a] by neighbour exchange.

        Parameters
        ----------
        st : RankState
            This rank's block; X, w, U and the clocks are updated.
        t : int
            Iteration.
        eta : float
            Step size of this iteration.
        """
        plan = st.mixing_plan(self.mixing)
        q = t % len(self.mixing)
        D = st.local_updates(st.gradients(t, st.X / st.w[:, None]))
        ext = plan.halo(q, np.column_stack([st.X - eta * D, st.w, st.a]))
        mixed = plan.mix(q, ext[:, :-1])
        st.X, st.w = mixed[:, :-1], mixed[:, -1].copy()
        st.clocks = plan.neighbour_max(q, ext[:, -1]) + st.costs.message
