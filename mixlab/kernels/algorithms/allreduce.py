"""Allreduce SGD: every worker applies the mean update, x <- xbar - eta mean_i D_i
(D_i the gradient or heavy-ball buffer); a blocking collective of all n workers."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from mixlab.kernels.algorithms.base import (
    Algorithm,
    gradients,
    local_updates,
    local_updates_np,
    register,
    row_mean,
    wait_for_all,
)
from mixlab.kernels.config import NUMBA_JIT


@numba.njit(**NUMBA_JIT)
def allreduce_step(t, eta, s, p):
    """One allreduce-SGD iteration: every x_i <- xbar - eta mean_j D_j; all wait for the slowest.

    Parameters
    ----------
    t : int
        Iteration.
    eta : float
        Step size of this iteration.
    s : RunState
        The run; X, G, U and the clocks are updated in place.
    p : tuple
        Unused (the empty tuple).
    """
    gradients(s.objective, s.timing.seed, t, s.X, s.G)
    D = local_updates(s)
    n, d = s.X.shape
    xbar = np.empty(d)
    dbar = np.empty(d)
    row_mean(s.X, xbar)
    row_mean(D, dbar)
    for i in range(n):
        s.X[i] = xbar - eta * dbar
    wait_for_all(s.a, s.costs.allreduce_n, s.clocks)


@register
@dataclass(frozen=True, kw_only=True)
class AllreduceSGD(Algorithm):
    """Allreduce SGD: every worker applies the mean update after a blocking collective of all n.

    Parameters
    ----------
    momentum : float, default 0.0
        Heavy-ball momentum m in [0, 1); each worker's buffer is local and only the
        mean of the buffers is applied.
    order : str, default "cta"
        Accepted for the common interface; with exact averaging both orders give
        the same update (its mixing matrices are reported as ATC).
    """

    name = "allreduce"
    numba_step = staticmethod(allreduce_step)

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """J = 11^T/n at every step, adapt-then-combine.

        Parameters
        ----------
        n : int
            Number of workers.
        steps : int
            Number of iterations T.

        Returns
        -------
        tuple of (list, str)
            T references to one dense (n, n) matrix J, and "atc".
        """
        return [np.full((n, n), 1.0 / n)] * steps, "atc"

    def reference_step(self, st, t, eta):
        """One allreduce-SGD iteration in NumPy: X <- 1 (xbar - eta Dbar)^T, clocks max_j a_j + cost.

        Parameters
        ----------
        st : ReferenceState
            The reference run; X, U and the clocks are rebound or updated.
        t : int
            Iteration.
        eta : float
            Step size of this iteration.
        """
        D = local_updates_np(st, st.objective.stochastic_grads(st.X, t, st.seed))
        st.X = np.tile(st.X.mean(axis=0) - eta * D.mean(axis=0), (st.n, 1))
        st.clocks[:] = st.a.max() + st.costs.allreduce_n

    def mpi_step(self, st, t, eta):
        """One allreduce-SGD iteration on MPI ranks: one ``Allreduce`` of the row sums of X - eta D (d floats).

        Parameters
        ----------
        st : RankState
            This rank's block; X, U and the clocks are updated.
        t : int
            Iteration.
        eta : float
            Step size of this iteration.
        """
        D = st.local_updates(st.gradients(t))
        st.X[:] = st.allreduce_sum(st.X - eta * D) / st.n  # xbar - eta Dbar, up to rounding
        st.wait_for_all(st.costs.allreduce_n)
