"""The compiled engine: whole runs (gradients, mixing, timing, metrics) in Numba
loops, workers in parallel. Semantics are those of
:mod:`mixlab.kernels.engine_reference` (the specification); same seed, same
draws, so the two agree to rounding (tested to 1e-10 relative).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mixlab.kernels import counter_rng as crng
from mixlab.kernels import progress
from mixlab.kernels.algorithms import ADPSGD, SGP, WAGMA, AllreduceSGD, DPSGD, LocalSGD
from mixlab.kernels.config import NUMBA_DRIVER, NUMBA_JIT, NUMBA_PARALLEL
from mixlab.kernels.mixing import sparse_mix_numba
from mixlab.kernels.objectives import full_loss_grad, stochastic_grad
from mixlab.kernels.timing import allreduce_cost, compute_time, straggler_mask
from mixlab.kernels.trajectory import COLUMNS

ALLREDUCE, LOCAL, DPSGD_CODE, SGP_CODE, WAGMA_CODE = 0, 1, 2, 3, 4
NCOL = len(COLUMNS)


def _record_count(steps: int, record_every: int) -> int:
    return 1 + sum(1 for t in range(steps) if (t + 1) % record_every == 0 or t + 1 == steps)


def _stack_csr(mats, n):
    """Concatenate a period of CSR matrices: (indptr (q, n+1) absolute, indices, data)."""
    indptr = np.zeros((max(len(mats), 1), n + 1), dtype=np.int64)
    offset, indices, data = 0, [], []
    for q, W in enumerate(mats):
        indptr[q] = W.indptr + offset
        offset += W.nnz
        indices.append(W.indices)
        data.append(W.data)
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
    return indptr, cat(indices, np.int64), cat(data, np.float64)


def run_numba(objective, alg, steps, lr, timing, seed, record_every, x0) -> dict:
    n, d = objective.n, objective.d
    out = np.zeros((_record_count(steps, record_every), NCOL))
    f_args = (objective.kind, *objective.kernel_args(), float(objective.f_star or 0.0))
    t_args = (*timing.kernel_args(), seed)
    costs = (timing.allreduce_cost(n, d), timing.message_cost(d), timing.alpha, timing.beta,
             float(timing.word_bytes))
    if isinstance(alg, ADPSGD):
        _run_adpsgd(f_args, t_args, costs, alg.indptr, alg.indices, alg.momentum, lr, steps,
                    record_every, x0, n, out)
    else:
        code = {AllreduceSGD: ALLREDUCE, LocalSGD: LOCAL, DPSGD: DPSGD_CODE, SGP: SGP_CODE,
                WAGMA: WAGMA_CODE}[type(alg)]
        indptr, indices, data = _stack_csr(getattr(alg, "mixing", ()), n)
        groups = alg.groups if isinstance(alg, WAGMA) else np.zeros((1, 1, 1), np.int64)
        _run_sync(f_args, t_args, costs, code, alg.momentum, alg.order == "cta",
                  getattr(alg, "local_steps", 1), indptr, indices, data, groups,
                  getattr(alg, "sync_period", 1), getattr(alg, "rule", "mean") == "self_weighted",
                  getattr(alg, "wait_avoiding", True), getattr(alg, "activation", "group") == "global",
                  lr, steps, record_every, x0, n, out)
    return {name: out[:, c].copy() for c, name in enumerate(COLUMNS)}


@numba.njit(**NUMBA_JIT)
def _record(f_args, row, step, X, w, use_w, stale_max, stale_sum, stale_count, sim_time, out):
    kind, hdiag, centers, noise_std, features, labels, reg, batch, f_star = f_args
    n, d = X.shape
    xbar = np.zeros(d)
    for i in range(n):
        for j in range(d):
            xbar[j] += X[i, j]
    xbar /= n
    mbar = np.zeros(d)                     # mean of the models (SGP: de-biased)
    for i in range(n):
        s = 1.0 / w[i] if use_w else 1.0
        for j in range(d):
            mbar[j] += X[i, j] * s
    mbar /= n
    gamma = 0.0
    for i in range(n):
        s = 1.0 / w[i] if use_w else 1.0
        for j in range(d):
            r = X[i, j] * s - mbar[j]
            gamma += r * r
    g = np.empty(d)
    loss = full_loss_grad(kind, hdiag, centers, noise_std, features, labels, reg, batch, xbar, g)
    out[row, 0] = step
    out[row, 1] = loss - f_star
    out[row, 2] = np.dot(g, g)
    out[row, 3] = gamma
    out[row, 4] = gamma / n
    out[row, 5] = stale_max
    out[row, 6] = stale_sum / stale_count if stale_count > 0 else 0.0
    out[row, 7] = sim_time


@numba.njit(**NUMBA_PARALLEL)
def _gradients(f_args, seed, t, Z, G):
    kind, hdiag, centers, noise_std, features, labels, reg, batch, f_star = f_args
    for i in numba.prange(Z.shape[0]):
        stochastic_grad(kind, hdiag, centers, noise_std, features, labels, reg, batch, seed,
                        i, t, Z[i], G[i])


@numba.njit(**NUMBA_JIT)
def _arrivals(t_args, n, t, clocks, mask, scratch, a):
    dist, scale, shift, sigma, K, persistent, slowdown, delay, seed = t_args
    straggler_mask(dist, scale, shift, sigma, K, persistent, slowdown, delay, seed, n, t, mask, scratch)
    for i in range(n):
        a[i] = clocks[i] + compute_time(dist, scale, shift, sigma, K, persistent, slowdown, delay,
                                        seed, n, i, t, mask[i])


@numba.njit(**NUMBA_PARALLEL)
def _axpy_into(out, X, eta, D):
    for i in numba.prange(X.shape[0]):
        out[i] = X[i] - eta * D[i]


@numba.njit(**NUMBA_JIT)
def _neighbourhood_clocks(indptr, indices, a, cost, clocks):
    for i in range(a.shape[0]):
        m = -np.inf
        for k in range(indptr[i], indptr[i + 1]):
            m = max(m, a[indices[k]])
        clocks[i] = m + cost


@numba.njit(**NUMBA_DRIVER)
def _run_sync(f_args, t_args, costs, code, momentum, cta, local_steps, indptr, indices, data,
              groups, tau, self_weighted, wait_avoiding, global_activation, lr, steps, record_every,
              x0, n, out):
    d = x0.shape[0]
    seed = t_args[8]
    allreduce_n, message, alpha, beta, wbytes = costs
    X = np.empty((n, d))
    for i in range(n):
        X[i] = x0
    G = np.zeros((n, d))
    U = np.zeros((n, d))
    Y = np.empty((n, d))
    Z = np.empty((n, d))
    w = np.ones(n)
    w_new = np.ones(n)
    clocks = np.zeros(n)
    a = np.empty(n)
    mask = np.zeros(n, dtype=np.bool_)
    scratch = np.zeros(max(t_args[4], 1), dtype=np.int64)
    q = indptr.shape[0]
    hist = np.empty((tau, n, d)) if code == WAGMA_CODE else np.empty((1, 1, 1))
    arr = np.full((tau, n), -np.inf) if code == WAGMA_CODE else np.empty((1, 1))
    if code == WAGMA_CODE:
        hist[tau - 1] = X
    back = np.zeros(n, dtype=np.int64)
    stale_max, stale_sum, stale_count = 0.0, 0.0, 0
    _record(f_args, 0, 0, X, w, False, 0.0, 0.0, 0, 0.0, out)
    row = 1
    for t in range(steps):
        eta = lr[t]
        _arrivals(t_args, n, t, clocks, mask, scratch, a)
        if code == SGP_CODE:
            for i in range(n):
                Z[i] = X[i] / w[i]
            _gradients(f_args, seed, t, Z, G)
        else:
            _gradients(f_args, seed, t, X, G)
        D = G
        if momentum != 0.0:
            U *= momentum
            U += G
            D = U
        if code == ALLREDUCE:
            xbar = np.zeros(d)
            dbar = np.zeros(d)
            for i in range(n):
                xbar += X[i]
                dbar += D[i]
            xbar /= n
            dbar /= n
            for i in range(n):
                X[i] = xbar - eta * dbar
            clocks[:] = a.max() + allreduce_n
        elif code == LOCAL:
            X -= eta * D
            if (t + 1) % local_steps == 0:
                xbar = np.zeros(d)
                for i in range(n):
                    xbar += X[i]
                xbar /= n
                for i in range(n):
                    X[i] = xbar
                clocks[:] = a.max() + allreduce_n
            else:
                clocks[:] = a
        elif code == DPSGD_CODE or code == SGP_CODE:
            p = indptr[t % q]
            if cta:
                sparse_mix_numba(p, indices, data, X, Y)
                _axpy_into(Y, Y, eta, D)
            else:
                _axpy_into(Z, X, eta, D)
                sparse_mix_numba(p, indices, data, Z, Y)
            X, Y = Y, X
            if code == SGP_CODE:
                for i in range(n):
                    s = 0.0
                    for k in range(p[i], p[i + 1]):
                        s += data[k] * w[indices[k]]
                    w_new[i] = s
                w, w_new = w_new, w
            _neighbourhood_clocks(p, indices, a, message, clocks)
        else:
            slot = t % tau
            if cta:
                hist[slot] = X
            else:
                _axpy_into(hist[slot], X, eta, D)
            arr[slot] = a
            if t % tau == tau - 1:
                pbar = np.zeros(d)
                for i in range(n):
                    pbar += hist[slot, i]
                pbar /= n
                for i in range(n):
                    X[i] = pbar - eta * D[i] if cta else pbar
                clocks[:] = a.max() + allreduce_n
                back[:] = 0
            else:
                _wagma_groups(groups[t % groups.shape[0]], t, tau, hist, arr, a, D, eta, cta,
                              self_weighted, wait_avoiding, global_activation, alpha, beta, wbytes,
                              X, clocks, back)
            for i in range(n):
                stale_max = max(stale_max, float(back[i]))
                stale_sum += back[i]
            stale_count += n
        if (t + 1) % record_every == 0 or t + 1 == steps:
            _record(f_args, row, t + 1, X, w, code == SGP_CODE, stale_max, stale_sum, stale_count,
                    clocks.max(), out)
            row += 1
            with numba.objmode():
                progress.report(t + 1, steps)
            stale_max, stale_sum, stale_count = 0.0, 0.0, 0


@numba.njit(**NUMBA_PARALLEL)
def _wagma_groups(groups, t, tau, hist, arr, a, D, eta, cta, self_weighted, wait_avoiding,
                  global_activation, alpha, beta, wbytes, X, clocks, back):
    m, S = groups.shape
    d = X.shape[1]
    cost = allreduce_cost(S, d, alpha, beta, wbytes)
    slot = t % tau
    global_window = a.min() + math.ceil(math.log2(a.shape[0])) * alpha
    for g in numba.prange(m):
        first, last = np.inf, -np.inf
        for k in range(S):
            first = min(first, a[groups[g, k]])
            last = max(last, a[groups[g, k]])
        if wait_avoiding:
            if global_activation:
                window = global_window
                ready = global_window + cost
            else:
                window = first + math.ceil(math.log2(S)) * alpha
                ready = first + cost
            for k in range(S):
                j = groups[g, k]
                b = 0
                if a[j] > window:
                    b = 1
                    while b < tau and t - b >= -1 and arr[(t - b) % tau, j] > window:
                        b += 1
                back[j] = b
        else:
            ready = last + cost
            for k in range(S):
                back[groups[g, k]] = 0
        total = np.zeros(d)
        for k in range(S):
            j = groups[g, k]
            src = hist[(t - back[j]) % tau, j]
            for c in range(d):
                total[c] += src[c]
        inv = 1.0 / (S + 1) if self_weighted else 1.0 / S
        step = eta if cta else 0.0
        for k in range(S):
            i = groups[g, k]
            own = hist[slot, i]
            dst, upd = X[i], D[i]
            if self_weighted:
                for c in range(d):
                    dst[c] = (total[c] + own[c]) * inv - step * upd[c]
            else:
                for c in range(d):
                    dst[c] = total[c] * inv - step * upd[c]
            clocks[i] = max(a[i], ready)


# ---- AD-PSGD: event loop on a binary heap keyed by (time, worker) ---------------------------

@numba.njit(**NUMBA_JIT)
def _less(times, ids, p, q):
    return times[p] < times[q] or (times[p] == times[q] and ids[p] < ids[q])


@numba.njit(**NUMBA_JIT)
def _swap(times, ids, p, q):
    times[p], times[q] = times[q], times[p]
    ids[p], ids[q] = ids[q], ids[p]


@numba.njit(**NUMBA_JIT)
def _heap_push(times, ids, size, time, wid):
    p = size
    times[p] = time
    ids[p] = wid
    while p > 0:
        parent = (p - 1) // 2
        if _less(times, ids, p, parent):
            _swap(times, ids, p, parent)
            p = parent
        else:
            break
    return size + 1


@numba.njit(**NUMBA_JIT)
def _heap_pop(times, ids, size):
    time, wid = times[0], ids[0]
    size -= 1
    times[0], ids[0] = times[size], ids[size]
    p = 0
    while True:
        l, r, best = 2 * p + 1, 2 * p + 2, p
        if l < size and _less(times, ids, l, best):
            best = l
        if r < size and _less(times, ids, r, best):
            best = r
        if best == p:
            break
        _swap(times, ids, p, best)
        p = best
    return time, wid, size


@numba.njit(**NUMBA_DRIVER)
def _run_adpsgd(f_args, t_args, costs, indptr, indices, momentum, lr, steps, record_every, x0, n, out):
    kind, hdiag, centers, noise_std, features, labels, reg, batch, f_star = f_args
    dist, scale, shift, sigma, K, persistent, slowdown, delay, seed = t_args
    message = costs[1]
    d = x0.shape[0]
    X = np.empty((n, d))
    for i in range(n):
        X[i] = x0
    read = X.copy()
    U = np.zeros((n, d))
    g = np.empty(d)
    version = np.zeros(n, dtype=np.int64)
    read_version = np.zeros(n, dtype=np.int64)
    k = np.zeros(n, dtype=np.int64)
    mask = np.zeros(n, dtype=np.bool_)
    scratch = np.zeros(max(K, 1), dtype=np.int64)
    times = np.empty(n)
    ids = np.empty(n, dtype=np.int64)
    size = 0
    straggler_mask(dist, scale, shift, sigma, K, persistent, slowdown, delay, seed, n, 0, mask, scratch)
    for i in range(n):
        c = compute_time(dist, scale, shift, sigma, K, persistent, slowdown, delay, seed, n, i, 0, mask[i])
        size = _heap_push(times, ids, size, c, i)
    _record(f_args, 0, 0, X, np.ones(n), False, 0.0, 0.0, 0, 0.0, out)
    row = 1
    events = 0
    stale_max, stale_sum, stale_count = 0.0, 0.0, 0
    while size > 0:
        time, i, size = _heap_pop(times, ids, size)
        stochastic_grad(kind, hdiag, centers, noise_std, features, labels, reg, batch, seed,
                        i, k[i], read[i], g)
        if momentum != 0.0:
            U[i] = momentum * U[i] + g
            g[:] = U[i]
        deg = indptr[i + 1] - indptr[i]
        j = indices[indptr[i] + int(crng.uniform(seed, crng.PEER, k[i] * n + i) * deg)]
        for c in range(d):
            avg = (X[i, c] + X[j, c]) / 2
            X[i, c] = avg
            X[j, c] = avg
        version[j] += 1
        s = float(version[i] - read_version[i])
        stale_max = max(stale_max, s)
        stale_sum += s
        stale_count += 1
        X[i] -= lr[k[i]] * g
        version[i] += 1
        k[i] += 1
        events += 1
        if k[i] < steps:
            read[i] = X[i]
            read_version[i] = version[i]
            straggler_mask(dist, scale, shift, sigma, K, persistent, slowdown, delay, seed, n,
                           k[i], mask, scratch)
            c = compute_time(dist, scale, shift, sigma, K, persistent, slowdown, delay, seed, n, i,
                             k[i], mask[i])
            size = _heap_push(times, ids, size, time + message + c, i)
        if events % n == 0:
            step = events // n
            if step % record_every == 0 or step == steps:
                _record(f_args, row, step, X, np.ones(n), False, stale_max, stale_sum, stale_count,
                        time, out)
                row += 1
                with numba.objmode():
                    progress.report(step, steps)
                stale_max, stale_sum, stale_count = 0.0, 0.0, 0
