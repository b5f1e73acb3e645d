"""Yates' version-age recursion for an arbitrary rate matrix, over all 2^n - 1
node subsets (bitmasks), compiled, with a NumPy reference.

``rates`` is (n+1) x (n+1): row/column 0 is the source, rates[0, j] = lambda_0j,
rates[i, j] = lambda_ij (pushes from node i to node j), column 0 must be 0 (no
one pushes to the source). Subsets are processed in decreasing mask order, so
every superset S + {i} (a larger mask) is solved before S. Memory 2^n floats;
n <= MAX_NODES.
"""

from __future__ import annotations

import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.config import NUMBA_JIT
from mixlab.validate import require_choice, require_finite, require_real
from mixlab.vocabulary import CPU_BACKENDS

#: Largest node count of the general solver (2^20 subsets, 8 MiB, seconds).
MAX_NODES = 20


def check_rates(rates) -> np.ndarray:
    """Validate a push-rate matrix of a source and n nodes.

    Parameters
    ----------
    rates : array_like
        (n+1, n+1), n >= 1: ``rates[i, j]`` the rate at which agent i pushes to agent j
        (0 the source). Finite, >= 0, column 0 all zero, and every node reachable
        from the source.

    Returns
    -------
    numpy.ndarray
        ``rates`` as a float64 array.

    Raises
    ------
    ParameterError
        Naming the violated condition (an unreachable node has infinite age).
    """
    R = np.asarray(rates, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 2:
        raise ParameterError(f"rates must be an (n+1) x (n+1) matrix with n >= 1, got shape {R.shape}")
    require_finite("rates", R)
    if (R < 0).any():
        i, j = np.argwhere(R < 0)[0]
        raise ParameterError(f"rates must be >= 0; rates[{i}, {j}] = {R[i, j]}")
    if (R[:, 0] != 0).any():
        raise ParameterError("column 0 of rates must be 0: nobody pushes to the source")
    unreached = _unreachable(R)
    if unreached:
        raise ParameterError(
            f"node(s) {unreached} cannot be reached from the source: their version age is infinite"
        )
    return R


def _unreachable(R: np.ndarray) -> list[int]:
    seen = np.zeros(R.shape[0], dtype=bool)
    seen[0] = True
    frontier = [0]
    while frontier:
        i = frontier.pop()
        for j in np.flatnonzero((R[i] > 0) & ~seen):
            seen[j] = True
            frontier.append(int(j))
    return [int(j) for j in np.flatnonzero(~seen)]


def node_ages(rates, update_rate: float = 1.0, *, backend: str = "numba") -> np.ndarray:
    """Exact mean version age of every node under Yates' subset recursion.

    Solves v_S for all 2^n - 1 nonempty node subsets S (see the module docstring);
    the age of node j is v_{{j}}.

    Parameters
    ----------
    rates : array_like
        (n+1, n+1) push rates, row/column 0 the source (see :func:`check_rates`);
        1 <= n <= :data:`MAX_NODES`.
    update_rate : float
        Rate lambda_e > 0 of the source's new versions (default 1).
    backend : {"numba", "reference"}
        Compiled recursion or the NumPy reference (default ``"numba"``).

    Returns
    -------
    numpy.ndarray
        float64 (n,): the limiting mean version age of nodes 1..n.

    Raises
    ------
    ParameterError
        For an invalid rate matrix, n > MAX_NODES, or update_rate <= 0.

    References
    ----------
    R. D. Yates, "The age of gossip in networks", ISIT 2021 (arXiv 2102.02893).

    Examples
    --------
    On the complete graph with Yates' normalization (source lambda/n to each node,
    lambda/(n-1) per node pair) it agrees with the symmetric O(n) recursion:

    >>> import numpy as np
    >>> from mixlab.theory.version_age import complete_graph_age
    >>> n = 3
    >>> R = np.zeros((n + 1, n + 1))
    >>> R[0, 1:], R[1:, 1:] = 1 / n, (1 - np.eye(n)) / (n - 1)
    >>> np.round(node_ages(R), 4).tolist(), round(complete_graph_age(n), 4)
    ([1.65, 1.65, 1.65], 1.65)
    """
    require_choice("backend", backend, CPU_BACKENDS)
    R = check_rates(rates)
    n = R.shape[0] - 1
    if n > MAX_NODES:
        raise ParameterError(
            f"the general solver handles n <= {MAX_NODES} nodes (2^n subsets), got n = {n}; for "
            "symmetric topologies use mixlab.theory.version_age.complete_graph_age, ring_age or "
            "user_staleness_complete (O(n))"
        )
    le = require_real("update rate", update_rate, low=0, low_open=True)
    v = subset_ages_numba(R, le) if backend == "numba" else subset_ages_reference(R, le)
    return v[1 << np.arange(n)]


@numba.njit(**NUMBA_JIT)
def subset_ages_numba(R, le):
    """Version ages v_S of every nonempty node subset, compiled (one mask at a time).

    Masks are solved in decreasing order, so every superset is known when needed.

    Parameters
    ----------
    R : numpy.ndarray
        (n+1, n+1) float64 rate matrix, validated by :func:`check_rates`.
    le : float
        Update rate lambda_e of the source (> 0).

    Returns
    -------
    numpy.ndarray
        float64 (2^n,): v[mask] for every mask (bit j-1 <-> node j); ``v[0]`` = 0
        is unused.
    """
    n = R.shape[0] - 1
    full = (1 << n) - 1
    v = np.zeros(full + 1)
    lam_in = np.empty(n)
    for mask in range(full, 0, -1):
        src = 0.0
        for j in range(n):
            lam_in[j] = 0.0
        for j in range(n):
            if mask >> j & 1:
                src += R[0, j + 1]
                for i in range(n):
                    lam_in[i] += R[i + 1, j + 1]
        num, den = le, src
        for i in range(n):
            if not (mask >> i & 1) and lam_in[i] > 0:
                num += lam_in[i] * v[mask | (1 << i)]
                den += lam_in[i]
        v[mask] = num / den
    return v


def subset_ages_reference(R: np.ndarray, le: float) -> np.ndarray:
    """Version ages v_S of every nonempty node subset in NumPy (the reference).

    All masks of one size at a time, from the full set down.

    Parameters
    ----------
    R : numpy.ndarray
        (n+1, n+1) float64 rate matrix, validated by :func:`check_rates`.
    le : float
        Update rate lambda_e of the source (> 0).

    Returns
    -------
    numpy.ndarray
        float64 (2^n,): v[mask] for every mask (bit j-1 <-> node j); ``v[0]`` = 0
        is unused.
    """
    n = R.shape[0] - 1
    masks = np.arange(1 << n)
    bits = (masks[:, None] >> np.arange(n)) & 1  # (2^n, n) membership
    size = bits.sum(axis=1)
    src = bits @ R[0, 1:]  # lambda_0(S)
    lam_in = bits @ R[1:, 1:].T  # lambda_i(S) for each i
    v = np.zeros(1 << n)
    for k in range(n, 0, -1):
        S = masks[size == k]
        outside = bits[S] == 0
        w = np.where(outside, lam_in[S], 0.0)  # (|level|, n)
        sup = S[:, None] | (1 << np.arange(n))[None, :]
        v[S] = (le + (w * v[sup]).sum(axis=1)) / (src[S] + w.sum(axis=1))
    return v
