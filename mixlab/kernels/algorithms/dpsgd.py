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
    """A period of q CSR matrices stacked for the compiled steps.

    Parameters
    ----------
    indptr : numpy.ndarray of int64, (q, n + 1)
        Row pointers of W_0, ..., W_{q-1}, offset into the shared ``indices`` and ``data``.
    indices : numpy.ndarray of int64
        Column indices of all q matrices, concatenated.
    data : numpy.ndarray of float64
        Entries of all q matrices, concatenated.
    cta : bool
        True for combine-then-adapt, False for adapt-then-combine.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    cta: bool


def csr_period(mixing) -> tuple:
    """Canonical CSR copies of a period of mixing matrices (sorted, duplicates summed).

    Parameters
    ----------
    mixing : iterable of array_like or sparse matrix
        W_0, ..., W_{q-1}, dense or sparse, each (n, n).

    Returns
    -------
    tuple of scipy.sparse.csr_matrix
        The q matrices as float64 CSR copies.

    Raises
    ------
    ParameterError
        If the period is empty.
    """
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
    """The period as :class:`MixingParams` for the compiled steps.

    Parameters
    ----------
    mats : sequence of scipy.sparse.csr_matrix
        The period, canonical CSR (from :func:`csr_period`), all (n, n).
    cta : bool
        The update order: True for combine-then-adapt.

    Returns
    -------
    MixingParams
        Stacked row pointers (q, n + 1) into the concatenated indices and data.
    """
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
    """X <- W_t X - eta D (CTA) or W_t (X - eta D) (ATC), in place; neighbourhood clocks.

    W_t is the matrix t mod q of the period; worker i starts its next iteration
    when its in-neighbours have arrived, plus one message.

    Parameters
    ----------
    t : int
        Iteration.
    eta : float
        Step size of this iteration.
    s : RunState
        The run; X, the scratch Y or Z and the clocks are updated in place.
    D : numpy.ndarray, (n, d)
        The local updates.
    p : MixingParams
        The mixing period and the order.
    """
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
    """One D-PSGD iteration: gradients at the own models, then :func:`mix_step` with W_{t mod q}.

    Parameters
    ----------
    t : int
        Iteration.
    eta : float
        Step size of this iteration.
    s : RunState
        The run, updated in place.
    p : MixingParams
        The mixing period and the order.
    """
    gradients(s.objective, s.timing.seed, t, s.X, s.G)
    mix_step(t, eta, s, local_updates(s), p)


@register
@dataclass(frozen=True, kw_only=True)
class DPSGD(Algorithm):
    """D-PSGD (Lian et al., NeurIPS 2017): gossip averaging with a fixed or periodic W_t.

    CTA: X <- W_t X - eta D; ATC: X <- W_t (X - eta D), W_t = mixing[t mod q].
    Neighbourhood-synchronous timing (see the module docstring).

    Parameters
    ----------
    momentum : float, default 0.0
        Heavy-ball momentum m in [0, 1).
    order : {"cta", "atc"}, default "cta"
        Update order (CTA, as in Lian et al.).
    mixing : sequence of array_like or sparse matrix
        The period W_0, ..., W_{q-1}, each (n, n); stored as canonical CSR.

    Raises
    ------
    ParameterError
        If the period is empty, m is outside [0, 1) or the order is unknown.
    """

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
        """D-PSGD on the mixing period of a named topology under a weight rule.

        Parameters
        ----------
        n : int
            Number of workers.
        seed : int, default 0
            Seeds a random topology.
        topology : str or None, default None
            A graph family or time-varying topology; None: the class's
            ``default_topology`` ("ring" here).
        weights : str, default "metropolis"
            Weight rule of a static graph's mixing matrix.
        **options
            ``momentum`` and ``order``.

        Returns
        -------
        DPSGD
            The spec with the period of :func:`mixlab.mixing_period`.
        """
        from mixlab.theory.schedules import mixing_period

        return cls(mixing=mixing_period(topology or cls.default_topology, n, weights, seed), **options)

    def check_workers(self, n: int) -> None:
        """Check that every matrix of the period is (n, n).

        Parameters
        ----------
        n : int
            Number of workers of the problem.

        Raises
        ------
        ParameterError
            If a mixing matrix has another shape.
        """
        for W in self.mixing:
            if W.shape != (n, n):
                raise ParameterError(
                    f"inconsistent n: the problem has n = {n} workers, a mixing matrix has shape {W.shape}"
                )

    def params(self) -> dict:
        """The common run parameters and the length q of the mixing period.

        Returns
        -------
        dict
            ``algorithm``, ``momentum``, ``order`` and ``period``.
        """
        return {**super().params(), "period": len(self.mixing)}

    def mixing_matrices(self, n: int, steps: int) -> tuple[list, str]:
        """W_{t mod q} for t = 0, ..., T - 1, in the spec's update order.

        Parameters
        ----------
        n : int
            Number of workers.
        steps : int
            Number of iterations T.

        Returns
        -------
        tuple of (list, str)
            The T sparse (n, n) matrices and the order, "cta" or "atc".
        """
        return [self.mixing[t % len(self.mixing)] for t in range(steps)], self.order

    def numba_params(self, X0: np.ndarray) -> tuple:
        """The stacked mixing period and the order; D-PSGD keeps no state of its own.

        Parameters
        ----------
        X0 : numpy.ndarray, (n, d)
            The initial models (unused).

        Returns
        -------
        MixingParams
            The parameters of :func:`dpsgd_step`.
        """
        return stacked_csr(self.mixing, self.order == "cta")

    def reference_step(self, st, t, eta):
        """One D-PSGD iteration in NumPy: mix with W_{t mod q} (CTA or ATC); neighbourhood clocks.

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
        W = self.mixing[t % len(self.mixing)]
        st.X = W @ st.X - eta * D if self.order == "cta" else W @ (st.X - eta * D)
        st.clocks = neighbourhood_clocks_np(W, st.a, st.costs.message)

    def mpi_step(self, st, t, eta):
        """One D-PSGD iteration on MPI ranks: neighbour exchange of [X or X - eta D, a] with W_{t mod q}.

        Parameters
        ----------
        st : RankState
            This rank's block; X, U and the clocks are updated.
        t : int
            Iteration.
        eta : float
            Step size of this iteration.
        """
        plan = st.mixing_plan(self.mixing)
        q = t % len(self.mixing)
        D = st.local_updates(st.gradients(t))
        cta = self.order == "cta"
        ext = plan.halo(q, np.column_stack([st.X if cta else st.X - eta * D, st.a]))
        mixed = plan.mix(q, ext[:, :-1])
        st.X = mixed - eta * D if cta else mixed
        st.clocks = plan.neighbour_max(q, ext[:, -1]) + st.costs.message
