"""Gradient tracking: DIGing (Nedic, Olshevsky & Shi, SIAM J. Optim. 2017) with
stochastic gradients, GT-DSGD (Pu & Nedic, Math. Program. 2021).

Each worker keeps a tracker y_i of the average gradient:

    y_0 = g_0,   y_t = W_{t-1} y_{t-1} + g_t - g_{t-1}   (t >= 1),
    x_{t+1} = W_t x_t - eta y_t,

g_t the stochastic gradients at x_t. With doubly stochastic W the mean of the
trackers is the mean gradient, so with exact gradients and a constant step the
models converge linearly to the minimizer of f, where D-PSGD stalls at a
distance that grows with the heterogeneity zeta2. Timing: worker i sends x_i and
y_i to its neighbours in one message of 2 d floats and starts its next
iteration when its in-neighbours have arrived (as D-PSGD).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.algorithms.base import (
    axpy_into,
    gradients,
    neighbourhood_clocks,
    neighbourhood_clocks_np,
    register,
)
from mixlab.kernels.algorithms.dpsgd import DPSGD, stacked_csr
from mixlab.kernels.averaging.mixing import sparse_mix_numba
from mixlab.kernels.config import NUMBA_JIT


class TrackingParams(NamedTuple):
    """The mixing period (stacked CSR) and the state: trackers y and the previous gradients.

    Parameters
    ----------
    indptr : numpy.ndarray of int64, (q, n + 1)
        Row pointers of the period's matrices into ``indices`` and ``data``.
    indices : numpy.ndarray of int64
        Column indices of all q matrices, concatenated.
    data : numpy.ndarray of float64
        Entries of all q matrices, concatenated.
    y : numpy.ndarray, (n, d)
        The trackers y_t of the average gradient.
    g_prev : numpy.ndarray, (n, d)
        The stochastic gradients g_{t-1} of the previous iteration.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    y: np.ndarray
    g_prev: np.ndarray


@numba.njit(**NUMBA_JIT)
def tracking_step(t, eta, s, p):
    """One gradient-tracking iteration: y_t = W_{t-1} y_{t-1} + g_t - g_{t-1}, x <- W_t x - eta y_t.

    At t = 0 the tracker is y_0 = g_0. Clocks: neighbourhood-synchronous, one
    message of 2 d floats (x_i and y_i).

    Parameters
    ----------
    t : int
        Iteration.
    eta : float
        Step size of this iteration.
    s : RunState
        The run; X, G, the scratch Y and Z and the clocks are updated in place.
    p : TrackingParams
        The mixing period and the trackers, updated in place.
    """
    q = p.indptr.shape[0]
    gradients(s.objective, s.timing.seed, t, s.X, s.G)
    if t == 0:
        p.y[:] = s.G
    else:
        sparse_mix_numba(p.indptr[(t - 1) % q], p.indices, p.data, p.y, s.Z)
        p.y[:] = s.Z + s.G - p.g_prev
    p.g_prev[:] = s.G
    rows = p.indptr[t % q]
    sparse_mix_numba(rows, p.indices, p.data, s.X, s.Y)
    axpy_into(s.X, s.Y, eta, p.y)
    message = s.costs.alpha + 2 * s.X.shape[1] * s.costs.word_bytes * s.costs.beta
    neighbourhood_clocks(rows, p.indices, s.a, message, s.clocks)


@register
@dataclass(frozen=True, kw_only=True)
class GradientTracking(DPSGD):
    """Gradient tracking (DIGing; GT-DSGD with stochastic gradients) on a mixing period.

    Each worker mixes its model and a tracker of the average gradient (see the
    module docstring); with exact gradients and a constant step it converges
    linearly to x*, where D-PSGD stalls at a distance that grows with zeta2.

    Parameters
    ----------
    momentum : float, default 0.0
        Must be 0: tracking takes no momentum.
    order : str, default "cta"
        Must be "cta": the update is x <- W_t x - eta y_t.
    mixing : sequence of array_like or sparse matrix
        The period W_0, ..., W_{q-1}, each (n, n) and doubly stochastic for the
        tracking property; stored as canonical CSR.

    Raises
    ------
    ParameterError
        If m != 0, the order is not "cta" or the period is empty.
    """

    name = "gradient_tracking"
    options = ("topology", "weights")
    example: ClassVar[dict] = {"topology": "complete"}  # stable up to eta = 2/L (ring: eta <~ 0.2/L)
    numba_step = staticmethod(tracking_step)

    def __post_init__(self):
        super().__post_init__()
        if self.momentum != 0.0 or self.order != "cta":
            raise ParameterError(
                "gradient tracking takes no momentum and no update order "
                f"(got momentum = {self.momentum}, order = {self.order!r})"
            )

    def numba_params(self, X0: np.ndarray) -> TrackingParams:
        """The stacked mixing period with zero trackers and previous gradients (set at t = 0).

        Parameters
        ----------
        X0 : numpy.ndarray, (n, d)
            The initial models (their shape sizes the state).

        Returns
        -------
        TrackingParams
            The parameters of :func:`tracking_step`.
        """
        mix = stacked_csr(self.mixing, True)
        return TrackingParams(mix.indptr, mix.indices, mix.data, np.zeros_like(X0), np.zeros_like(X0))

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """Refuse: the trackers are mixed too, so x alone is not a linear mixing sequence.

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
        raise ParameterError("gradient_tracking mixes trackers too: not a sequence of mixing matrices on x")

    def reference_step(self, st, t, eta):
        """One gradient-tracking iteration in NumPy; the trackers y and gradients g live in ``st.extra``.

        Parameters
        ----------
        st : ReferenceState
            The reference run; X, the clocks and ``st.extra`` are rebound.
        t : int
            Iteration (t = 0 starts the trackers at y_0 = g_0).
        eta : float
            Step size of this iteration.
        """
        G = st.objective.stochastic_grads(st.X, t, st.seed)
        if t == 0:
            st.extra["y"] = G
        else:
            st.extra["y"] = self.mixing[(t - 1) % len(self.mixing)] @ st.extra["y"] + G - st.extra["g"]
        st.extra["g"] = G
        W = self.mixing[t % len(self.mixing)]
        st.X = W @ st.X - eta * st.extra["y"]
        message = st.costs.alpha + 2 * st.d * st.costs.word_bytes * st.costs.beta
        st.clocks = neighbourhood_clocks_np(W, st.a, message)

    def mpi_step(self, st, t, eta):
        """One gradient-tracking iteration on MPI ranks: exchanges of y (W_{t-1}) and [x, a] (W_t).

        Parameters
        ----------
        st : RankState
            This rank's block; X, the clocks and ``st.extra`` (y, g) are updated.
        t : int
            Iteration (t = 0 starts the trackers at y_0 = g_0).
        eta : float
            Step size of this iteration.
        """
        plan, q = st.mixing_plan(self.mixing), len(self.mixing)
        G = st.gradients(t)
        if t == 0:
            st.extra["y"] = G
        else:
            p = (t - 1) % q
            st.extra["y"] = plan.mix(p, plan.halo(p, st.extra["y"])) + G - st.extra["g"]
        st.extra["g"] = G
        ext = plan.halo(t % q, np.column_stack([st.X, st.a]))
        st.X = plan.mix(t % q, ext[:, :-1]) - eta * st.extra["y"]
        message = st.costs.alpha + 2 * st.d * st.costs.word_bytes * st.costs.beta
        st.clocks = plan.neighbour_max(t % q, ext[:, -1]) + message
