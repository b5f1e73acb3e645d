"""Local SGD: x_i <- x_i - eta D_i, and after every H-th step a blocking global
average (adapt-then-combine by construction: the average follows the local step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numba
import numpy as np

from mixlab.errors import ParameterError
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
from mixlab.validate import require_int


class LocalParams(NamedTuple):
    """The parameters of :func:`local_sgd_step`.

    Parameters
    ----------
    local_steps : int
        H >= 1: a global average after every H-th step.
    """

    local_steps: int


@numba.njit(**NUMBA_JIT)
def local_sgd_step(t, eta, s, p):
    """One local-SGD iteration: x_i <- x_i - eta D_i; after every H-th step a blocking global mean.

    Without the average each worker starts its next iteration on arrival; with it
    everyone waits for the slowest, plus an allreduce of all n.

    Parameters
    ----------
    t : int
        Iteration; the average follows step t when (t + 1) mod H = 0.
    eta : float
        Step size of this iteration.
    s : RunState
        The run; X, G, U and the clocks are updated in place.
    p : LocalParams
        H.
    """
    gradients(s.objective, s.timing.seed, t, s.X, s.G)
    D = local_updates(s)
    X = s.X
    X -= eta * D
    if (t + 1) % p.local_steps == 0:
        xbar = np.empty(s.X.shape[1])
        row_mean(s.X, xbar)
        for i in range(s.X.shape[0]):
            s.X[i] = xbar
        wait_for_all(s.a, s.costs.allreduce_n, s.clocks)
    else:
        s.clocks[:] = s.a


@register
@dataclass(frozen=True, kw_only=True)
class LocalSGD(Algorithm):
    """Local SGD (Stich, ICLR 2019): H local steps, then a blocking global model average.

    Parameters
    ----------
    momentum : float, default 0.0
        Heavy-ball momentum m in [0, 1); buffers are never averaged.
    order : str, default "atc"
        Must be "atc": the average follows the local step.
    local_steps : int, default 4
        H >= 1 local steps per global average; H = 1 is allreduce SGD.

    Raises
    ------
    ParameterError
        If H < 1, the order is not "atc" or m is outside [0, 1).
    """

    local_steps: int = 4
    order: str = "atc"
    name = "local_sgd"
    options = ("momentum", "local_steps", "order")
    example: ClassVar[dict] = {"local_steps": 4}
    numba_step = staticmethod(local_sgd_step)

    def __post_init__(self):
        super().__post_init__()
        require_int("local steps H", self.local_steps, minimum=1)
        if self.order != "atc":
            raise ParameterError(
                "local SGD is adapt-then-combine (the average follows the local step); "
                f"got order {self.order!r}"
            )

    def params(self) -> dict:
        """The common run parameters and H.

        Returns
        -------
        dict
            ``algorithm``, ``momentum``, ``order`` and ``local_steps``.
        """
        return {**super().params(), "local_steps": self.local_steps}

    def numba_params(self, X0: np.ndarray) -> LocalParams:
        """H for the compiled step; local SGD keeps no state of its own.

        Parameters
        ----------
        X0 : numpy.ndarray, (n, d)
            The initial models (unused).

        Returns
        -------
        LocalParams
            The parameters of :func:`local_sgd_step`.
        """
        return LocalParams(int(self.local_steps))

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """J after every H-th step, I otherwise, adapt-then-combine.

        Parameters
        ----------
        n : int
            Number of workers.
        steps : int
            Number of iterations T.

        Returns
        -------
        tuple of (list, str)
            The T dense (n, n) matrices and "atc".
        """
        J, H = np.full((n, n), 1.0 / n), self.local_steps
        return [J if (t + 1) % H == 0 else np.eye(n) for t in range(steps)], "atc"

    def reference_step(self, st, t, eta):
        """One local-SGD iteration in NumPy: a local step, and the global mean after every H-th.

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
        st.X = st.X - eta * D
        if (t + 1) % self.local_steps == 0:
            st.X = np.tile(st.X.mean(axis=0), (st.n, 1))
            st.clocks[:] = st.a.max() + st.costs.allreduce_n
        else:
            st.clocks = st.a.copy()

    def mpi_step(self, st, t, eta):
        """One local-SGD iteration on MPI ranks: a local step; after every H-th an ``Allreduce`` of X.

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
        st.X -= eta * D
        if (t + 1) % self.local_steps == 0:
            st.X[:] = st.allreduce_sum(st.X) / st.n
            st.wait_for_all(st.costs.allreduce_n)
        else:
            st.clocks = st.a.copy()
