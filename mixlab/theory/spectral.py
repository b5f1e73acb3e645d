"""Spectral quantities of mixing matrices and of time-varying schedules.

rho = ||W - J||_2 (consensus contraction of one step), spectral gap 1 - rho,
beta = ||I - W||_2, per-period contraction ||W_{q-1}...W_0 - J||_2, steps to
exact consensus, and the epsilon-mixing time ceil(log(1/eps) / log(1/rho)).

Algorithms: circulant matrices (ring, exponential graphs, one-peer schedules)
use their closed-form spectrum, the DFT of the first row (circulants are
normal, so singular values are |eigenvalues|); other dense matrices use LAPACK;
large sparse symmetric stochastic matrices use Lanczos (ARPACK) on the deflated
operator W - J (:func:`deflated_operator`; shift-invert was 20-90 s on expanders
because of LU fill-in); anything else ARPACK's SVD on a LinearOperator.

>>> from mixlab.theory.graphs import ring
>>> from mixlab.theory.weights import mixing_matrix
>>> round(rho(mixing_matrix(ring(8))), 12)   # 1/3 + 2/3 cos(2 pi / 8)
0.804737854124
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mixlab.errors import ParameterError
from mixlab.theory.mixing_matrix import DENSE_MAX_N, as_matrix, properties
from mixlab.validate import require_int, require_real

#: Entries of a product within this distance of J count as exact consensus.
EXACT_ATOL = 1e-12


def circulant_first_row(W) -> np.ndarray | None:
    """First row c of W if W is circulant (W[i, j] = c[(j - i) mod n]), else None.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        (n, n) matrix; checked exactly (no tolerance).

    Returns
    -------
    numpy.ndarray or None
        (n,) first row of W, or None when W is not circulant.

    Examples
    --------
    >>> import networkx as nx
    >>> from mixlab.theory.graphs import ring
    >>> from mixlab.theory.weights import mixing_matrix
    >>> W = mixing_matrix(ring(4))            # weights 1/3 on the diagonal and both neighbours
    >>> circulant_first_row(W).round(4).tolist()
    [0.3333, 0.3333, 0.0, 0.3333]
    >>> circulant_first_row(mixing_matrix(nx.path_graph(3))) is None
    True

    References
    ----------
    R. M. Gray, "Toeplitz and circulant matrices: a review", Foundations and Trends in
    Communications and Information Theory 2(3), 2006.
    """
    W = as_matrix(W)
    n = W.shape[0]
    if sp.issparse(W):
        C = W.tocoo()
        c = W[[0]].toarray().ravel()
        ok = C.nnz == n * np.count_nonzero(c) and np.array_equal(C.data, c[(C.col - C.row) % n])
        return c if ok else None
    c = W[0]
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    return c.copy() if np.array_equal(W, c[idx]) else None


def circulant_eigenvalues(first_row: np.ndarray) -> np.ndarray:
    """Eigenvalues of the circulant with this first row (index k <-> frequency k).

    Parameters
    ----------
    first_row : numpy.ndarray
        (n,) first row c of the circulant.

    Returns
    -------
    numpy.ndarray
        (n,) complex eigenvalues lambda_k = sum_j c_j exp(-2 pi i j k / n), the DFT of c.

    Examples
    --------
    >>> import numpy as np
    >>> circulant_eigenvalues(np.array([1, 1, 0, 1]) / 3).real.round(4).tolist()
    [1.0, 0.3333, -0.3333, 0.3333]

    References
    ----------
    R. M. Gray, "Toeplitz and circulant matrices: a review", Foundations and Trends in
    Communications and Information Theory 2(3), 2006.
    """
    return np.fft.fft(first_row)


def _dense(W) -> np.ndarray:
    return W.toarray() if sp.issparse(W) else W


def lanczos_start(n: int) -> np.ndarray:
    """The fixed start vector of every Lanczos (ARPACK) call, so that results repeat bit for bit.

    ARPACK's default start vector is random: without this, the same matrix gives
    eigenvalues that differ in the last digits from call to call (and so do the
    best-constant weights built from them, and every run that uses those weights).

    Parameters
    ----------
    n : int
        Dimension.

    Returns
    -------
    numpy.ndarray
        (n,) standard normal draws of a generator seeded with 0.

    Examples
    --------
    >>> bool((lanczos_start(5) == lanczos_start(5)).all())
    True

    References
    ----------
    R. B. Lehoucq, D. C. Sorensen and C. Yang, "ARPACK Users' Guide", SIAM, 1998
    (the starting vector of the implicitly restarted Lanczos method).
    """
    return np.random.default_rng(0).standard_normal(n)


def _sparse_symmetric_extremes(W: sp.csr_matrix) -> tuple[float, float]:
    """(||W - J||_2, lambda_min(W)) of a large symmetric doubly stochastic W, by
    Lanczos (ARPACK) on the deflated operator W - J and on W."""
    v0 = lanczos_start(W.shape[0])
    r = spla.eigsh(deflated_operator(W), k=1, which="LM", v0=v0, return_eigenvectors=False)
    lam_min = spla.eigsh(W, k=1, which="SA", v0=v0, return_eigenvectors=False)
    return float(abs(r[0])), float(lam_min[0])


def _norm2(A, n: int) -> float:
    """Largest singular value of a matrix or operator of size n."""
    if isinstance(A, np.ndarray):
        return float(np.linalg.norm(A, 2))
    return float(spla.svds(A, k=1, return_singular_vectors=False, random_state=0)[0])


def deflated_operator(W) -> spla.LinearOperator:
    """The operator x -> (W - J) x = W x - mean(x) 1, without forming J.

    Parameters
    ----------
    W : numpy.ndarray or scipy.sparse matrix
        (n, n) matrix, dense or sparse.

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        (n, n) operator with ``matvec`` W x - mean(x) and ``rmatvec`` W^T x - mean(x)
        (J is symmetric), for Lanczos / ARPACK.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.theory.graphs import ring
    >>> from mixlab.theory.weights import mixing_matrix
    >>> W = mixing_matrix(ring(4))            # weights 1/3 on the diagonal and both neighbours
    >>> (deflated_operator(W) @ np.array([1.0, 0.0, 0.0, 0.0])).round(4).tolist()
    [0.0833, 0.0833, -0.25, 0.0833]

    References
    ----------
    R. B. Lehoucq, D. C. Sorensen and C. Yang, "ARPACK Users' Guide", SIAM, 1998.
    """
    n = W.shape[0]
    return spla.LinearOperator(
        (n, n),
        dtype=np.float64,
        matvec=lambda x: W @ x - x.mean(axis=0),
        rmatvec=lambda x: W.T @ x - x.mean(axis=0),
    )


@dataclass(frozen=True)
class SpectralSummary:
    """Spectral quantities and properties of one mixing matrix.

    Parameters
    ----------
    n : int
        Number of workers.
    rho : float
        Consensus contraction ||W - J||_2 of one step.
    spectral_gap : float
        1 - rho.
    beta : float
        ||I - W||_2.
    symmetric : bool
        W = W^T (within the mixing-matrix tolerance).
    doubly_stochastic : bool
        Rows and columns sum to 1.
    nonnegative : bool
        No negative weight.
    """

    n: int
    rho: float
    spectral_gap: float
    beta: float
    symmetric: bool
    doubly_stochastic: bool
    nonnegative: bool

    def as_dict(self) -> dict:
        """The fields as a plain dict (for JSON reports).

        Returns
        -------
        dict
            Field name -> value.
        """
        return asdict(self)


def spectral_summary(W) -> SpectralSummary:
    """rho = ||W - J||_2, gap = 1 - rho, beta = ||I - W||_2 and W's properties.

    Circulants use the DFT of their first row, other matrices with n <= DENSE_MAX_N
    dense LAPACK, large symmetric doubly stochastic ones Lanczos on W - J, anything
    else ARPACK's SVD.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        (n, n) mixing matrix, n >= 2, finite.

    Returns
    -------
    SpectralSummary
        rho, spectral gap, beta and the properties of W.

    Raises
    ------
    MatrixError
        If W is not square or has n < 2.

    Examples
    --------
    >>> import mixlab as ml
    >>> s = ml.spectral_summary(ml.mixing_matrix(ml.make_graph("ring", 4)))
    >>> round(s.rho, 4), round(s.spectral_gap, 4), round(s.beta, 4), s.doubly_stochastic
    (0.3333, 0.6667, 1.3333, True)

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    docs/design.md, section Notation (rho, spectral gap, beta, per-period contraction).
    R. B. Lehoucq, D. C. Sorensen and C. Yang, "ARPACK Users' Guide", SIAM, 1998.
    """
    W = as_matrix(W)
    n = W.shape[0]
    props = properties(W)
    c = circulant_first_row(W)
    if c is not None:
        lam = circulant_eigenvalues(c)
        r = float(max(abs(lam[0] - 1.0), np.abs(lam[1:]).max(initial=0.0)))
        b = float(np.abs(1.0 - lam).max())
    elif not sp.issparse(W) or n <= DENSE_MAX_N:
        D = _dense(W)
        if props.symmetric:
            ev = np.linalg.eigvalsh(D - 1.0 / n)
            r = float(np.abs(ev).max())
            b = float(np.abs(1.0 - np.linalg.eigvalsh(D)).max())
        else:
            r = _norm2(D - 1.0 / n, n)
            b = _norm2(np.eye(n) - D, n)
    elif props.symmetric and props.doubly_stochastic:
        r, lam_min = _sparse_symmetric_extremes(W)
        b = 1.0 - lam_min
    else:
        r = _norm2(deflated_operator(W), n)
        b = _norm2(sp.identity(n, format="csr") - W, n)
    return SpectralSummary(
        n=n,
        rho=r,
        spectral_gap=1.0 - r,
        beta=b,
        symmetric=props.symmetric,
        doubly_stochastic=props.doubly_stochastic,
        nonnegative=props.nonnegative,
    )


def rho(W) -> float:
    """Consensus contraction ||W - J||_2 of one mixing step.

    For symmetric doubly stochastic W this is max_{i >= 2} |lambda_i(W)|.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        (n, n) mixing matrix.

    Returns
    -------
    float
        rho(W) = ||W - J||_2, J = 1 1^T / n.

    Examples
    --------
    >>> from mixlab.theory.graphs import ring
    >>> from mixlab.theory.weights import mixing_matrix
    >>> W = mixing_matrix(ring(4))            # weights 1/3 on the diagonal and both neighbours
    >>> round(rho(W), 4)
    0.3333

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    docs/design.md, section Notation (rho, spectral gap, beta, per-period contraction).
    """
    return spectral_summary(W).rho


def spectral_gap(W) -> float:
    """Spectral gap 1 - rho(W) of a mixing matrix.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        (n, n) mixing matrix.

    Returns
    -------
    float
        1 - ||W - J||_2 (positive iff one step contracts the consensus distance).

    Examples
    --------
    >>> from mixlab.theory.graphs import ring
    >>> from mixlab.theory.weights import mixing_matrix
    >>> W = mixing_matrix(ring(4))            # weights 1/3 on the diagonal and both neighbours
    >>> round(spectral_gap(W), 4)
    0.6667

    References
    ----------
    docs/design.md, section Notation (rho, spectral gap, beta, per-period contraction).
    """
    return spectral_summary(W).spectral_gap


def beta(W) -> float:
    """beta = ||I - W||_2 of a mixing matrix.

    Parameters
    ----------
    W : array_like or scipy.sparse matrix
        (n, n) mixing matrix.

    Returns
    -------
    float
        Largest singular value of I - W (at most 2 for doubly stochastic W).

    Examples
    --------
    >>> from mixlab.theory.graphs import ring
    >>> from mixlab.theory.weights import mixing_matrix
    >>> W = mixing_matrix(ring(4))            # weights 1/3 on the diagonal and both neighbours
    >>> round(beta(W), 4)
    1.3333

    References
    ----------
    docs/design.md, section Notation (rho, spectral gap, beta, per-period contraction).
    """
    return spectral_summary(W).beta


def laplacian_extreme_eigenvalues(G: nx.Graph | sp.spmatrix) -> tuple[float, float]:
    """Largest and second smallest eigenvalues of the graph Laplacian L.

    These are the lambda_1(L) and lambda_{n-1}(L) of the best-constant weights
    alpha = 2 / (lambda_1(L) + lambda_{n-1}(L)); lambda_{n-1}(L) is the algebraic
    connectivity.

    Parameters
    ----------
    G : networkx.Graph or scipy.sparse matrix
        Undirected graph on nodes 0..n-1, or its symmetric 0/1 adjacency matrix.

    Returns
    -------
    tuple of float
        ``(lambda_1(L), lambda_{n-1}(L))``, the largest first.

    Examples
    --------
    >>> from mixlab.theory.graphs import ring
    >>> laplacian_extreme_eigenvalues(ring(4))
    (4.0, 2.0)

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004.
    M. Fiedler, "Algebraic connectivity of graphs", Czechoslovak Mathematical Journal
    23(2), 1973.
    """
    if sp.issparse(G):  # an adjacency matrix: L = D - A (small integers, so exact either way)
        A = sp.csr_matrix(G, dtype=np.float64)
        n = A.shape[0]
        L = (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()
        L.sort_indices()
    else:
        n = G.number_of_nodes()
        L = nx.laplacian_matrix(G, nodelist=range(n)).astype(np.float64).tocsr()
    c = circulant_first_row(L)
    if c is not None:
        ev = np.sort(circulant_eigenvalues(c).real)
    elif n <= DENSE_MAX_N:
        ev = np.linalg.eigvalsh(L.toarray())
    else:
        v0 = lanczos_start(n)
        top = float(spla.eigsh(L, k=1, which="LA", v0=v0, return_eigenvectors=False)[0])
        # lambda_2(L) = top - lambda_max(top*I - L on the complement of 1)
        M = spla.LinearOperator((n, n), dtype=np.float64, matvec=lambda x: top * (x - x.mean(axis=0)) - L @ x)
        ev = np.array([0.0, top - spla.eigsh(M, k=1, which="LA", v0=v0, return_eigenvectors=False)[0], top])
    return float(ev[-1]), float(ev[1])


def period_contraction(matrices: Iterable) -> float:
    """Per-period contraction ||W_{q-1} ... W_1 W_0 - J||_2 (W_0 applied first).

    Parameters
    ----------
    matrices : iterable of array_like or scipy.sparse matrix
        W_0, ..., W_{q-1}, each (n, n); non-circulant periods need n <= DENSE_MAX_N.

    Returns
    -------
    float
        Spectral norm of the period's product minus J (0 for exact averaging).

    Raises
    ------
    ParameterError
        If ``matrices`` is empty, or non-circulant with n > DENSE_MAX_N.

    Examples
    --------
    >>> from mixlab.theory.schedules import OnePeerExponential
    >>> s = OnePeerExponential(4)
    >>> period_contraction([s.matrix(0), s.matrix(1)]), round(period_contraction([s.matrix(0)]), 4)
    (0.0, 0.7071)

    References
    ----------
    docs/design.md, section Notation (rho, spectral gap, beta, per-period contraction).
    B. Ying et al., "Exponential graph is provably efficient for decentralized deep
    training", NeurIPS 2021 (one-peer exponential periods average exactly).
    """
    mats = [as_matrix(W) for W in matrices]
    if not mats:
        raise ParameterError("a period needs at least one matrix")
    n = mats[0].shape[0]
    rows = [c for c in map(circulant_first_row, mats) if c is not None]
    if len(rows) == len(mats):
        lam = np.prod([circulant_eigenvalues(c) for c in rows], axis=0)
        return float(max(abs(lam[0] - 1.0), np.abs(lam[1:]).max(initial=0.0)))
    if n > DENSE_MAX_N:
        raise ParameterError(
            f"period contraction of a non-circulant schedule needs n <= {DENSE_MAX_N}, got n = {n}"
        )
    P = np.eye(n)
    for W in mats:
        P = W @ P
    return _norm2(np.asarray(P) - 1.0 / n, n)


@dataclass(frozen=True)
class WindowSums:
    """Window profile c_l and window sums A1, A2 of a mixing sequence.

    c_l = max over positions t of ||W_{t-1} ... W_{t-l} - J||_2 (c_0 = ||I - J||_2 = 1),
    and A1 = sum c_l, A2 = sum c_l^2 over the window of an update order (CTA: l >= 0,
    ATC: l >= 1), tails included.

    Parameters
    ----------
    profile : numpy.ndarray
        (horizon,) array c_0, ..., c_{horizon-1}.
    A1 : float
        sum of c_l (inf when the tail does not contract).
    A2 : float
        sum of c_l^2 (inf when the tail does not contract).
    """

    profile: np.ndarray
    A1: float
    A2: float


def window_sums(matrices, order: str, horizon: int) -> WindowSums:
    """Window sums of the periodic sequence W_t = matrices[t mod q] (dense, n <= DENSE_MAX_N).

    c_l is computed exactly for l < horizon; beyond, the submultiplicative
    c_{a+b} <= c_a c_b bounds the tail: sum_{l>=M} c_l <= c_M/(1 - c_M) sum_{l<M} c_l
    with M = horizon (an upper bound; exact when c_l = c_1^l, as for a fixed
    normal W); l runs from 0 inside the tail bound for either order. A product
    through a J (a global average) is J, so c_l = 0 there.
    These sums enter :data:`mixlab.theory.convergence.WINDOWED_CONSENSUS`.

    Parameters
    ----------
    matrices : sequence of array_like or scipy.sparse matrix
        One period W_0, ..., W_{q-1}, each (n, n) with n <= DENSE_MAX_N.
    order : {"cta", "atc"}
        Update order: combine-then-adapt (window l >= 0) or adapt-then-combine (l >= 1).
    horizon : int
        Number M >= 2 of exactly computed terms c_0..c_{M-1}; c_M bounds the tail.

    Returns
    -------
    WindowSums
        The profile and A1, A2 (both inf when c_M >= 1).

    Raises
    ------
    ParameterError
        If ``order`` is unknown, ``horizon`` < 2, ``matrices`` is empty or n > DENSE_MAX_N.

    Examples
    --------
    >>> from mixlab.theory.graphs import ring
    >>> from mixlab.theory.weights import mixing_matrix
    >>> W = mixing_matrix(ring(8))
    >>> s = window_sums([W], "cta", 200)
    >>> round(s.A1 * (1 - rho(W)), 9)            # sum_l rho^l = 1/(1 - rho)
    1.0

    References
    ----------
    Derived in mixlab; see docs/design.md, section Consensus bounds (derived in mixlab),
    and :func:`mixlab.proofs.derivations.windowed_consensus`.
    """
    from mixlab.validate import require_choice

    require_choice("update order", order, ("cta", "atc"))
    horizon = require_int("horizon", horizon, minimum=2)
    mats = [np.asarray(_dense(as_matrix(W)), dtype=np.float64) for W in matrices]
    if not mats:
        raise ParameterError("a period needs at least one matrix")
    n = mats[0].shape[0]
    if n > DENSE_MAX_N:
        raise ParameterError(f"window sums need n <= {DENSE_MAX_N}, got n = {n}")
    q = len(mats)
    J = np.full((n, n), 1.0 / n)
    c = np.zeros(horizon + 1)
    for end in range(q):  # products W_{t-1} ... W_{t-l}, t = end mod q
        P = np.eye(n)
        for ell in range(horizon + 1):
            c[ell] = max(c[ell], _norm2(P - J, n))
            P = P @ mats[(end - ell - 1) % q]
    first = 0 if order == "cta" else 1
    head, r = c[:horizon], c[horizon]
    if r >= 1.0:
        return WindowSums(head, math.inf, math.inf)
    return WindowSums(
        head,
        float(head[first:].sum() + r / (1 - r) * head.sum()),
        float((head[first:] ** 2).sum() + r**2 / (1 - r**2) * (head**2).sum()),
    )


def steps_to_exact_average(matrices: Iterable, max_steps: int) -> int | None:
    """Smallest t <= max_steps with W_{t-1} ... W_0 = J, or None.

    The product counts as J when every entry is within :data:`EXACT_ATOL` of 1/n.

    Parameters
    ----------
    matrices : iterable of array_like or scipy.sparse matrix
        W_0, W_1, ... (may be endless); only the first ``max_steps`` are used.
        Non-circulant sequences need n <= DENSE_MAX_N.
    max_steps : int
        Longest prefix searched, >= 1.

    Returns
    -------
    int or None
        The first t at which the prefix product equals J, None if there is none.

    Raises
    ------
    ParameterError
        If ``max_steps`` < 1, or the sequence is non-circulant with n > DENSE_MAX_N.

    Examples
    --------
    >>> from mixlab.theory.schedules import OnePeerExponential
    >>> from mixlab.theory.groups import ButterflyGroups
    >>> steps_to_exact_average(OnePeerExponential(4).matrices(), 10)
    2
    >>> b = ButterflyGroups(9, 3)
    >>> steps_to_exact_average((b.matrix(t) for t in range(10)), 10)
    2

    References
    ----------
    S. Li, T. Ben-Nun, G. Nadiradze, S. Di Girolamo, N. Dryden, D. Alistarh and
    T. Hoefler, "Breaking (global) barriers in parallel stochastic optimization with
    wait-avoiding group averaging" (WAGMA-SGD), IEEE TPDS 32(7), 2021.
    B. Ying et al., "Exponential graph is provably efficient for decentralized deep
    training", NeurIPS 2021.
    """
    max_steps = require_int("max_steps", max_steps, minimum=1)
    mats = [as_matrix(W) for W, _ in zip(matrices, range(max_steps), strict=False)]
    if not mats:
        raise ParameterError("the exact-consensus search needs at least one mixing matrix, got none")
    n = mats[0].shape[0]
    rows = [c for c in map(circulant_first_row, mats) if c is not None]
    if len(rows) == len(mats):
        lam = np.ones(n, dtype=complex)
        for t, c in enumerate(rows, start=1):
            lam = lam * circulant_eigenvalues(c)
            if abs(lam[0] - 1) <= EXACT_ATOL and np.abs(lam[1:]).max(initial=0) <= EXACT_ATOL:
                return t
        return None
    if n > DENSE_MAX_N:
        raise ParameterError(
            f"exact-consensus search of a non-circulant schedule needs n <= {DENSE_MAX_N}, got n = {n}"
        )
    P = np.eye(n)
    for t, W in enumerate(mats, start=1):
        P = np.asarray(W @ P)
        if np.abs(P - 1.0 / n).max() <= EXACT_ATOL:
            return t
    return None


def mixing_time(rho_value: float, eps: float) -> int | None:
    """Steps t = ceil(log(1/eps) / log(1/rho)) after which rho^t <= eps.

    Parameters
    ----------
    rho_value : float
        Per-step (or per-period) contraction rho >= 0.
    eps : float
        Target relative consensus distance, in (0, 1).

    Returns
    -------
    int or None
        The step count (at least 1); 1 when rho = 0 (one step averages exactly),
        None when rho >= 1 (never).

    Raises
    ------
    ParameterError
        If rho < 0 or eps is not in (0, 1).

    Examples
    --------
    >>> mixing_time(0.5, 1e-3), mixing_time(0.0, 0.1), mixing_time(1.0, 0.1)
    (10, 1, None)

    References
    ----------
    L. Xiao and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53(1), 2004 (convergence time 1 / log(1 / rho)).
    """
    r = require_real("rho", rho_value, low=0)
    eps = require_real("eps", eps, low=0, high=1, low_open=True, high_open=True)
    if r >= 1.0:
        return None
    if r == 0.0:
        return 1
    return max(1, math.ceil(math.log(1.0 / eps) / math.log(1.0 / r)))
