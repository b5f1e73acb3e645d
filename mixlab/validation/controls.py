"""Algorithms with a broken mechanism, for the controls of ``mixlab verify``.

A control runs one of these while the statement keeps the constants claimed
for the intact algorithm (the ring's rho, the butterfly's S, local SGD's H),
and must then fail.

>>> from mixlab.runs import build_algorithm
>>> alg = singleton_groups(build_algorithm("wagma", 16, group_size=4, sync_period=8))
>>> alg.groups.shape, alg.sync_period
((1, 16, 1), 8)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from mixlab.kernels.algorithms.dpsgd import DPSGD
from mixlab.kernels.algorithms.local_sgd import LocalSGD
from mixlab.kernels.algorithms.wagma import WAGMA


def isolated(n: int, order: str = "cta") -> DPSGD:
    """D-PSGD with W = I: no communication at all.

    Parameters
    ----------
    n : int
        Number of workers.
    order : {"cta", "atc"}, default "cta"
        Update order (combine-then-adapt or adapt-then-combine).

    Returns
    -------
    DPSGD
        D-PSGD whose single mixing matrix is the sparse n x n identity.

    Examples
    --------
    >>> alg = isolated(4)
    >>> alg.mixing[0].toarray().tolist() == [[float(i == j) for j in range(4)] for i in range(4)]
    True
    """
    return DPSGD(mixing=(sp.identity(n, format="csr"),), order=order)


def singleton_groups(wagma: WAGMA, *, sync_period: int | None = None) -> WAGMA:
    """The same WAGMA-SGD with groups of one worker (no group averaging).

    Parameters
    ----------
    wagma : WAGMA
        The intact algorithm; every other field is kept.
    sync_period : int, optional
        New global-averaging period tau (default: ``wagma``'s); one beyond the run's
        length removes the global average too.

    Returns
    -------
    WAGMA
        A copy with a single phase of n singleton groups, shape (1, n, 1).
    """
    n = wagma.groups.shape[1] * wagma.groups.shape[2]
    return replace(
        wagma,
        groups=np.arange(n, dtype=np.int64).reshape(1, n, 1),
        sync_period=sync_period or wagma.sync_period,
    )


def never_averaging(local: LocalSGD) -> LocalSGD:
    """Local SGD whose global average never comes.

    Parameters
    ----------
    local : LocalSGD
        The intact algorithm; every other field is kept.

    Returns
    -------
    LocalSGD
        A copy with H = 2**62 local steps between averages.

    Examples
    --------
    >>> from mixlab.runs import build_algorithm
    >>> never_averaging(build_algorithm("local_sgd", 8, local_steps=4)).local_steps == 2**62
    True
    """
    return replace(local, local_steps=2**62)
