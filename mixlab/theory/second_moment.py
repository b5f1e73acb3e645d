"""Exact expected error of decentralized SGD on a quadratic (second-moment dynamics).

Derived in mixlab (linear Gaussian recursion). For f_i(x) = 1/2 (x - c_i)^T H_i
(x - c_i) with symmetric H_i (one per worker, or common) and gradient noise with
independent N(0, s^2) coordinates, plain SGD steps (no momentum, no stragglers)
under any sequence of mixing matrices W_t are linear in z = vec(X) in R^{nd}
(block i = x_i). With H = blkdiag(H_i), c = vec(C) and W = W_t kron I_d:

- CTA: z' = (W - eta_t H) z + eta_t H c - eta_t xi_t,
- ATC: z' = W (I - eta_t H) z + eta_t W H c - eta_t W xi_t,

so the mean m and covariance P follow m' = A m + b, P' = A P A^T + Q with
Q = eta^2 s^2 I (CTA) or eta^2 s^2 W W^T (ATC). Hence, exactly,

    E[Gamma_t] = tr(((I - J) kron I_d)(P + m m^T)),
    E[f(xbar_t)] - f* = 1/2 tr(Hbar (Cov xbar + (E xbar - x*)(E xbar - x*)^T)),

with Hbar = mean_i H_i and x* = (sum_i H_i)^{-1} sum_i H_i c_i (pseudo-inverse when
the sum is singular: every minimizer gives the same gap): a prediction
(not a bound) that a measured average over independent runs must match within
its confidence interval. It covers allreduce (W = J, ATC), D-PSGD in either
order, local SGD (W_t = I or J) and WAGMA without stragglers (group matrices).
With a common Hessian the average model follows centralized SGD whatever the
mixing, so only the consensus distance depends on it; with worker-specific
Hessians the loss gap does too. When every H_i is diagonal the coordinates
decouple: d recursions in n dimensions (the cost of the common-Hessian case)
instead of one in n d.
"""

from __future__ import annotations

import numpy as np

from mixlab.errors import ParameterError
from mixlab.validate import require_choice, require_real


def predict(hessians, centers, noise_std: float, x0, mixing: list, order: str, lr) -> dict:
    """Expected loss gap and consensus after each of len(lr) steps.

    Parameters
    ----------
    hessians : array_like
        A common diagonal (d,), per-worker diagonals (n, d), or per-worker symmetric
        matrices (n, d, d) of f_i(x) = 1/2 (x - c_i)^T H_i (x - c_i).
    centers : array_like
        (n, d) centres c_i; they fix n and d.
    noise_std : float
        Standard deviation s >= 0 of every gradient-noise coordinate.
    x0 : array_like
        (d,) common starting point of every worker.
    mixing : list of array_like or scipy.sparse matrix
        Mixing matrices W_0, W_1, ..., each (n, n), used cyclically.
    order : {"cta", "atc"}
        Update order: combine-then-adapt or adapt-then-combine.
    lr : array_like
        Step sizes eta_0, eta_1, ...; their number is the number of steps.

    Returns
    -------
    dict
        ``loss_gap``: (steps + 1,) E f(xbar_t) - f*; ``consensus``: (steps + 1,)
        E Gamma_t; ``xbar``: (steps + 1, d) E xbar_t, the path of a noise-free run;
        step 0 first.

    Raises
    ------
    ParameterError
        If ``order`` is unknown, ``noise_std`` < 0, or a shape does not match (n, d),
        or a Hessian is not symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> H = np.array([[[1.0, 0.0], [0.0, 0.5]], [[0.5, 0.2], [0.2, 1.0]]])
    >>> C = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> alone, averaged = (predict(H, C, 0.0, np.zeros(2), [W], "atc", np.full(200, 0.5))["loss_gap"][-1]
    ...                    for W in (np.eye(2), np.full((2, 2), 0.5)))
    >>> round(float(alone), 4), round(float(averaged), 12)    # alone: the models never meet at x*
    (0.0222, 0.0)

    References
    ----------
    Derived in mixlab; see the module docstring, docs/design.md, section Objectives,
    and :func:`mixlab.proofs.derivations.second_moment_recursion` (the statement is
    :data:`mixlab.theory.theorems.QUADRATIC_SECOND_MOMENT`).
    X. Lian et al., "Can decentralized algorithms outperform centralized algorithms? A
    case study for decentralized parallel stochastic gradient descent", NeurIPS 2017
    (D-PSGD, the CTA order).
    """
    require_choice("update order", order, ("cta", "atc"))
    s2 = require_real("noise_std", noise_std, low=0) ** 2
    C = np.asarray(centers, dtype=np.float64)
    n, d = C.shape
    mats = [np.asarray(W.toarray() if hasattr(W, "toarray") else W, dtype=np.float64) for W in mixing]
    if not mats or any(W.shape != (n, n) for W in mats):
        raise ParameterError(f"mixing matrices must be n x n with n = {n}")
    eta = np.asarray(lr, dtype=np.float64)
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.shape != (d,):
        raise ParameterError(f"x0 must have shape (d,) = ({d},); got {x0.shape}")
    X0 = np.tile(x0, (n, 1))
    H = _worker_hessians(hessians, n, d)
    if H.ndim == 2:  # diagonal: block k holds coordinate k of the n models
        E, c, m = np.eye(1), C.T, X0.T
        Hb = H.T[:, :, None] * np.eye(n)  # (d, n, n): diag(H[:, k])
        Hbar = H.mean(axis=0)[:, None, None]
    else:  # one block: z = vec(X)
        E, c, m = np.eye(d), C.reshape(1, n * d), X0.reshape(1, n * d)
        Hb = np.einsum("ij,iab->iajb", np.eye(n), H).reshape(1, n * d, n * d)
        Hbar = H.mean(axis=0)[None]
    P = np.zeros_like(Hb)  # m: E z, P: Cov z, per block
    lifted = [np.kron(W, E) for W in mats]
    M = np.kron(np.full((1, n), 1.0 / n), E)  # z -> xbar of a block
    centering = np.kron(np.eye(n) - 1.0 / n, E)
    Hc = np.einsum("kab,kb->ka", Hb, c)
    x_star = np.einsum("kab,kb->ka", np.linalg.pinv(Hbar), Hc @ M.T)
    eye = np.eye(Hb.shape[1])

    def measure():
        second = P + m[:, :, None] * m[:, None, :]
        gamma = float(np.einsum("ij,kji->", centering, second))
        dev = m @ M.T - x_star  # E xbar - x*
        cov = M @ P @ M.T  # Cov xbar
        gap = 0.5 * float(np.einsum("kab,kba->", Hbar, cov + dev[:, :, None] * dev[:, None, :]))
        return gap, gamma

    history, xbar = [measure()], [(m @ M.T).reshape(d)]
    for t, e in enumerate(eta):
        W = lifted[t % len(lifted)]
        if order == "cta":
            A, b, Q = W - e * Hb, e * Hc, e * e * s2 * eye
        else:
            A, b, Q = W @ (eye - e * Hb), e * Hc @ W.T, e * e * s2 * (W @ W.T)
        m = np.einsum("kab,kb->ka", A, m) + b
        P = A @ P @ A.transpose(0, 2, 1) + Q
        history.append(measure())
        xbar.append((m @ M.T).reshape(d))
    gaps, gammas = np.array(history).T
    return {"loss_gap": gaps, "consensus": gammas, "xbar": np.array(xbar)}


def _worker_hessians(hessians, n: int, d: int) -> np.ndarray:
    """(n, d) per-worker diagonals, or (n, d, d) when some H_i is not diagonal."""
    H = np.asarray(hessians, dtype=np.float64)
    if H.shape == (d,):
        return np.broadcast_to(H, (n, d))
    if H.shape == (n, d):
        return H
    if H.shape != (n, d, d):
        raise ParameterError(
            f"hessians must have shape (d,), (n, d) or (n, d, d) with (n, d) = {(n, d)} "
            f"from the centers; got {H.shape}"
        )
    asym = float(np.abs(H - H.transpose(0, 2, 1)).max())
    if asym > 1e-12 * max(float(np.abs(H).max()), 1.0):
        raise ParameterError(f"hessians must be symmetric; got max |H_i - H_i^T| = {asym}")
    off_diagonal = H * (1 - np.eye(d))
    return np.diagonal(H, axis1=1, axis2=2) if not off_diagonal.any() else H
