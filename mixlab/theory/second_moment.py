"""Exact expected error of decentralized SGD on a quadratic (second-moment dynamics).

For f_i(x) = 1/2 (x - c_i)^T H (x - c_i), H = diag(h), and gradient noise with
independent N(0, s^2) coordinates, every coordinate k evolves linearly across
workers. With x_t in R^n the k-th coordinates of the models and W_t the
mixing matrix of step t:

- CTA: x_{t+1} = (W_t - eta_t h_k I) x_t + eta_t h_k c - eta_t xi_t,
- ATC: x_{t+1} = (1 - eta_t h_k) W_t x_t + eta_t h_k W_t c - eta_t W_t xi_t,

so the mean m and covariance P follow m' = A m + b, P' = A P A^T + Q with
Q = eta^2 s^2 I (CTA) or eta^2 s^2 W W^T (ATC). Hence, exactly,

    E[Gamma_t] = sum_k tr((I - J)(P_k + m_k m_k^T)),
    E[f(xbar_t)] - f* = 1/2 sum_k h_k E[(xbar_k - x*_k)^2],  x* = mean of the c_i,

a prediction (not a bound) that a measured average over independent runs must
match within its confidence interval. This covers allreduce (W = J, ATC),
D-PSGD, local SGD (W_t = I or J) and WAGMA without stragglers (group matrices).
Derived in mixlab (linear Gaussian recursion; no momentum).
"""

from __future__ import annotations

import numpy as np

from mixlab.errors import ParameterError
from mixlab.validate import require_choice


def predict(hdiag, centers, noise_std: float, x0, mixing: list, order: str, lr) -> dict:
    """Expected loss gap and consensus after each of len(lr) steps.

    ``mixing``: the mixing matrices W_0, W_1, ... (dense, used cyclically);
    ``lr``: step sizes per step. Returns arrays of length steps + 1 (step 0 first).
    """
    require_choice("update order", order, ("cta", "atc"))
    h = np.asarray(hdiag, dtype=np.float64)
    C = np.asarray(centers, dtype=np.float64)
    n, d = C.shape
    mats = [np.asarray(W.toarray() if hasattr(W, "toarray") else W, dtype=np.float64) for W in mixing]
    if not mats or any(W.shape != (n, n) for W in mats):
        raise ParameterError(f"mixing matrices must be n x n with n = {n}")
    eta = np.asarray(lr, dtype=np.float64)
    x_star = C.mean(axis=0)
    m = np.tile(np.asarray(x0, dtype=np.float64), (n, 1)).T        # (d, n): mean per coordinate
    P = np.zeros((d, n, n))                                         # covariance per coordinate
    centering = np.eye(n) - 1.0 / n
    ones = np.full(n, 1.0 / n)
    s2 = noise_std**2

    def measure():
        second = P + m[:, :, None] * m[:, None, :]
        gamma = float(np.einsum("ij,kji->", centering, second))
        mean_bar = m @ ones
        var_bar = np.einsum("i,kij,j->k", ones, P, ones)
        gap = 0.5 * float(h @ ((mean_bar - x_star) ** 2 + var_bar))
        return gap, gamma

    gaps, gammas = [], []
    g, c = measure()
    gaps.append(g)
    gammas.append(c)
    for t, e in enumerate(eta):
        W = mats[t % len(mats)]
        for k in range(d):
            if order == "cta":
                A = W - e * h[k] * np.eye(n)
                b = e * h[k] * C[:, k]
                Q = e * e * s2 * np.eye(n)
            else:
                A = (1 - e * h[k]) * W
                b = e * h[k] * (W @ C[:, k])
                Q = e * e * s2 * (W @ W.T)
            m[k] = A @ m[k] + b
            P[k] = A @ P[k] @ A.T + Q
        g, c = measure()
        gaps.append(g)
        gammas.append(c)
    return {"loss_gap": np.array(gaps), "consensus": np.array(gammas)}
