"""Group averaging of stacked models, in place.

For every group G (a row of ``groups``) and member i of G, with contribution
c_j = stale[j] if ``stale_mask[j]`` else X[j]:

- ``mean``:          X[i] <- (1/S) sum_{j in G} c_j
- ``self_weighted``: X[i] <- (sum_{j in G} c_j + X[i]) / (S + 1)

Every member, stale or not, receives the result (a late WAGMA member takes the
averaged model when it arrives). In ``self_weighted`` the own term is the
member's current row X[i] even when its contribution c_i was stale: the
WAGMA-SGD reference code computes ``(group sum + input) / (S + 1)`` with
``input`` the model the process holds when it (possibly late) calls the
collective. Workers in no group are left untouched.

>>> import numpy as np
>>> X = np.arange(8.0).reshape(4, 2)
>>> group_average(X, np.array([[0, 1], [2, 3]]), backend="reference").tolist()
[[1.0, 2.0], [1.0, 2.0], [5.0, 6.0], [5.0, 6.0]]
"""

from __future__ import annotations

import numba
import numpy as np

from mixlab.errors import ParameterError
from mixlab.kernels.averaging.arrays import check_models, is_device_array
from mixlab.kernels.averaging.backends import check_backend, cuda_cores
from mixlab.kernels.config import CPU_COLUMN_BLOCK, NUMBA_PARALLEL
from mixlab.validate import require_choice
from mixlab.vocabulary import GROUP_RULES


def group_average(
    X,
    groups,
    rule: str = "mean",
    *,
    stale_mask=None,
    stale=None,
    backend: str = "numba",
    check_finite: bool = True,
):
    """Average the models ``X`` in place inside each group of workers (WAGMA group averaging).

    Every member of a group G receives ``mean``: (1/S) sum_{j in G} c_j, or
    ``self_weighted``: (sum_{j in G} c_j + X[i]) / (S + 1), with c_j = ``stale[j]``
    for members flagged in ``stale_mask`` and X[j] otherwise (see the module
    docstring). Workers in no group are left untouched.

    Parameters
    ----------
    X : numpy.ndarray or CUDA device array
        (n, d) float32/float64 models, C-contiguous and writeable; updated in place.
    groups : array_like of int
        (m, S): m disjoint groups of S worker indices in [0, n).
    rule : {"mean", "self_weighted"}
        The averaging rule (default ``"mean"``).
    stale_mask : array_like of bool, optional
        (n,): members that contribute ``stale[i]`` instead of ``X[i]``; given with
        ``stale`` or not at all.
    stale : numpy.ndarray, optional
        (n, d), X's dtype: the stale models of the flagged members.
    backend : {"numba", "cuda", "reference"}
        Kernel backend (default ``"numba"``); a device array needs ``"cuda"``.
    check_finite : bool
        Scan the inputs for NaN/inf, O(nd) (default True).

    Returns
    -------
    numpy.ndarray or CUDA device array
        ``X``, averaged.

    Raises
    ------
    ParameterError
        For an unknown rule or backend, malformed or overlapping groups, invalid
        arrays, or only one of ``stale_mask`` and ``stale``.
    BackendUnavailableError
        For ``backend="cuda"`` without a usable CUDA device or simulator.

    See Also
    --------
    mixlab.theory.groups.ButterflyGroups : WAGMA's groups, which change every iteration.

    References
    ----------
    S. Li, T. Ben-Nun, G. Nadiradze, S. Di Girolamo, N. Dryden, D. Alistarh and
    T. Hoefler, "Breaking (global) barriers in parallel stochastic optimization with
    wait-avoiding group averaging", IEEE TPDS 32(7), 2021 (WAGMA-SGD); the
    ``self_weighted`` rule is that of its reference code,
    github.com/Shigangli/WAGMA-SGD.

    Examples
    --------
    Worker 1 is late and contributes an old (zero) model; both members of its
    group still receive the average:

    >>> import numpy as np
    >>> import mixlab as ml
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> late = np.array([False, True, False, False])
    >>> ml.group_average(X, [[0, 1], [2, 3]], stale_mask=late, stale=np.zeros_like(X)).tolist()
    [[0.0, 0.5], [0.0, 0.5], [5.0, 6.0], [5.0, 6.0]]
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> np.round(ml.group_average(X, [[0, 1]], "self_weighted"), 3).tolist()
    [[0.667, 1.667], [1.333, 2.333], [4.0, 5.0], [6.0, 7.0]]
    """
    check_backend(backend)
    require_choice("averaging rule", rule, GROUP_RULES)
    X = check_models("X", X, writeable=True, check_finite=check_finite)
    n = X.shape[0]
    groups = _check_groups(groups, n)
    if (stale_mask is None) != (stale is None):
        raise ParameterError("stale_mask and stale must be given together")
    use_stale = stale_mask is not None
    if use_stale:
        stale_mask = np.asarray(stale_mask)
        if stale_mask.dtype != np.bool_ or stale_mask.shape != (n,):
            raise ParameterError(
                f"stale_mask must be a bool array of shape ({n},), got {stale_mask.dtype} {stale_mask.shape}"
            )
        stale = check_models("stale", stale, check_finite=check_finite)
        if stale.shape != X.shape or np.dtype(stale.dtype) != np.dtype(X.dtype):
            raise ParameterError(
                f"stale must have X's shape {X.shape} and dtype {X.dtype}, got {stale.shape} {stale.dtype}"
            )
    else:
        stale_mask = np.zeros(0, dtype=np.bool_)
        stale = np.zeros((0, X.shape[1]), dtype=X.dtype)
    self_weighted = rule == "self_weighted"
    if backend == "cuda":
        cuda_cores().group_average(X, groups, self_weighted, use_stale, stale_mask, stale)
    elif is_device_array(X):
        raise ParameterError(f"a CUDA device array needs backend='cuda', got {backend!r}")
    elif backend == "numba":
        group_average_numba(X, groups, self_weighted, use_stale, stale_mask, stale)
    else:
        group_average_reference(X, groups, self_weighted, use_stale, stale_mask, stale)
    return X


def _check_groups(groups, n: int) -> np.ndarray:
    groups = np.asarray(groups)
    if groups.ndim != 2 or groups.shape[1] < 1 or not np.issubdtype(groups.dtype, np.integer):
        raise ParameterError(
            f"groups must be an integer array of shape (m, S), got {groups.dtype} {groups.shape}"
        )
    if groups.size and (groups.min() < 0 or groups.max() >= n):
        raise ParameterError(
            f"group members must lie in [0, {n}); got range [{groups.min()}, {groups.max()}]"
        )
    counts = np.bincount(groups.ravel(), minlength=n)
    if counts.max(initial=0) > 1:
        raise ParameterError(
            f"groups must be disjoint; worker {int(counts.argmax())} appears {int(counts.max())} times"
        )
    return np.ascontiguousarray(groups, dtype=np.int64)


def group_average_reference(X, groups, self_weighted, use_stale, stale_mask, stale):
    """Group averaging in NumPy: the reference core, and the specification of the others.

    Takes validated arrays (see :func:`group_average`); updates ``X`` in place.

    Parameters
    ----------
    X : numpy.ndarray
        (n, d) float32/float64 models, C-contiguous; averaged in place.
    groups : numpy.ndarray
        (m, S) int64, disjoint worker indices in [0, n).
    self_weighted : bool
        The ``self_weighted`` rule (else ``mean``).
    use_stale : bool
        Read ``stale_mask`` and ``stale`` (else they are ignored and may be empty).
    stale_mask : numpy.ndarray
        bool (n,): members that contribute ``stale[i]`` instead of ``X[i]``.
    stale : numpy.ndarray
        (n, d), X's dtype: the stale contributions.
    """
    C = X
    if use_stale:
        C = X.copy()
        C[stale_mask] = stale[stale_mask]
    members = C[groups]  # (m, S, d)
    total = members.sum(axis=1)  # (m, d)
    S = groups.shape[1]
    if self_weighted:
        X[groups] = (total[:, None, :] + X[groups]) / (S + 1)
    else:
        X[groups] = (total / S)[:, None, :]


@numba.njit(**NUMBA_PARALLEL)
def group_average_numba(X, groups, self_weighted, use_stale, stale_mask, stale):
    """Group averaging, compiled core: (group, column block) tasks in parallel.

    Each task reads the group's rows once into an L1-resident accumulator and writes
    them once; loops run over 0-based slices so that LLVM vectorizes them. Takes
    validated arrays (see :func:`group_average`); updates ``X`` in place.

    Parameters
    ----------
    X : numpy.ndarray
        (n, d) float32/float64 models, C-contiguous; averaged in place.
    groups : numpy.ndarray
        (m, S) int64, disjoint worker indices in [0, n).
    self_weighted : bool
        The ``self_weighted`` rule (else ``mean``).
    use_stale : bool
        Read ``stale_mask`` and ``stale`` (else they are ignored and may be empty).
    stale_mask : numpy.ndarray
        bool (n,): members that contribute ``stale[i]`` instead of ``X[i]``.
    stale : numpy.ndarray
        (n, d), X's dtype: the stale contributions.
    """
    m, S = groups.shape
    d = X.shape[1]
    scale = 1.0 / (S + 1) if self_weighted else 1.0 / S
    blocks = (d + CPU_COLUMN_BLOCK - 1) // CPU_COLUMN_BLOCK
    for task in numba.prange(m * blocks):
        g = task // blocks
        c0 = (task - g * blocks) * CPU_COLUMN_BLOCK
        c1 = min(c0 + CPU_COLUMN_BLOCK, d)
        acc = np.zeros(c1 - c0, dtype=X.dtype)
        for k in range(S):
            i = groups[g, k]
            src = stale[i, c0:c1] if (use_stale and stale_mask[i]) else X[i, c0:c1]
            for c in range(c1 - c0):
                acc[c] += src[c]
        for k in range(S):
            i = groups[g, k]
            dst = X[i, c0:c1]
            if self_weighted:
                for c in range(c1 - c0):
                    dst[c] = (acc[c] + dst[c]) * scale
            else:
                for c in range(c1 - c0):
                    dst[c] = acc[c] * scale
