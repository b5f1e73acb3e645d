"""Convergence theorems (mixlab.theory.convergence) held against measured runs.

Expectations are estimated by the mean over independent runs (run seeds
0..runs-1 on one objective); the tolerance is 4 standard errors. Strongly
convex checks measure E f(xbar_T) - f* on the additive-noise quadratic,
nonconvex checks the time-averaged E||grad f(xbar_t)||^2 on the robust
(Geman-McClure) regression, whose heterogeneity, variance and stochastic
gradients have uniform bounds. The asynchronous-SGD check runs delayed SGD
(:func:`delayed_sgd`), the WAGMA stale-window check runs WAGMA-SGD with random
stragglers and judges every recorded step.
"""

from __future__ import annotations

import numpy as np

from mixlab.kernels import counter_rng as crng
from mixlab.kernels.engine import simulate
from mixlab.kernels.objectives import make_objective
from mixlab.kernels.timing import TimingModel
from mixlab.theory import convergence as cv
from mixlab.theory import spectral
from mixlab.theory.theorems import WAGMA_CONSENSUS
from mixlab.validation.checks import Check, TheoremCheck
from mixlab.validation.runner import build_algorithm

DIM = 4
STRAGGLERS = TimingModel("exponential", stragglers=2, slowdown=5.0)
CONSENSUS_THEOREM = {"dpsgd": cv.DPSGD_CONSENSUS, "local_sgd": cv.LOCAL_SGD_CONSENSUS,
                     "wagma": WAGMA_CONSENSUS}
THEOREM_OF = {("dpsgd", "sc"): cv.DPSGD_STRONGLY_CONVEX, ("dpsgd", "nc"): cv.DPSGD_NONCONVEX,
              ("local_sgd", "sc"): cv.LOCAL_SGD_STRONGLY_CONVEX, ("local_sgd", "nc"): cv.LOCAL_SGD_NONCONVEX,
              ("wagma", "sc"): cv.WAGMA_STRONGLY_CONVEX, ("wagma", "nc"): cv.WAGMA_NONCONVEX}


def objective_for(regime: str, n: int, seed: int = 7):
    """The additive-noise quadratic ("sc"), the robust regression ("nc") or any objective by name."""
    if regime == "sc":
        return make_objective("quadratic", n, d=DIM, zeta2=1.0, sigma2=0.5, seed=seed)
    return make_objective("robust" if regime == "nc" else regime, n, d=DIM, seed=seed)


def theorem_params(f, alg, steps: int, lr: float) -> dict:
    """The parameters a convergence theorem needs, from the objective and the algorithm
    (runs start at x0 = 0): constants, eta, T, n, r0 = ||x*||^2 where x* is known,
    f0 = f(0) - f* (f(0) for the robust loss, whose infimum is >= 0), and the mixing's
    rho, order and doubly stochasticity, H or tau where the algorithm has them."""
    c = f.constants()
    p = {"eta": lr, "T": steps, "n": f.n, "momentum": alg.momentum, "order": alg.order,
         "f0": f.loss(np.zeros(f.d)) - (f.f_star or 0.0),
         **{k: c[k] for k in ("L", "mu", "zeta2", "sigma2", "zeta2_uniform", "sigma2_uniform",
                              "each_strongly_convex")}}
    if f.x_star is not None:
        p["r0"] = float(np.sum(f.x_star**2))
    if hasattr(alg, "mixing"):
        W = alg.mixing[0]
        p.update(rho=spectral.rho(W), atc=int(alg.order == "atc"),
                 doubly_stochastic=bool(np.allclose(W.sum(axis=0), 1) and np.allclose(W.sum(axis=1), 1)))
    if hasattr(alg, "local_steps"):
        p["H"] = alg.local_steps
    if hasattr(alg, "sync_period"):
        p["tau"] = alg.sync_period
    return p


def measured_runs(algorithm: str, regime: str, n: int, steps: int, runs: int, lr: float, **kw):
    """Independent runs (seeds 0..runs-1) and the theorem parameters they share."""
    f = objective_for(regime, n)
    alg = build_algorithm(algorithm, n, **kw)
    trs = [simulate(f, alg, steps, lr=lr, seed=s, record_every=1) for s in range(runs)]
    params = {**theorem_params(f, alg, steps, lr),
              "staleness_max": max(float(tr["staleness_max"].max()) for tr in trs)}
    return f, trs, params


def consensus(algorithm: str, n: int, steps: int, runs: int, lr: float = 0.05, regime: str = "sc", **kw):
    """Max over steps of the mean consensus distance over runs, at 4 standard errors."""
    _, trs, params = measured_runs(algorithm, regime, n, steps, runs, lr, **kw)
    gamma = np.array([tr["consensus"] for tr in trs])
    mean, se = gamma.mean(axis=0), gamma.std(axis=0, ddof=1) / np.sqrt(runs)
    worst = int(mean.argmax())
    return float(mean[worst]), params, 4 * float(se[worst])


def averaged_model(algorithm: str, regime: str, n: int, steps: int, runs: int, lr: float, **kw):
    """Mean over runs of f(xbar_T) - f* ("sc") or of (1/T) sum_{t<T} ||grad f(xbar_t)||^2 ("nc"),
    the theorem's parameters, 4 standard errors."""
    _, trs, params = measured_runs(algorithm, regime, n, steps, runs, lr, **kw)
    values = np.array([tr["loss_gap"][-1] if regime == "sc" else tr["grad_norm_sq"][:-1].mean() for tr in trs])
    return float(values.mean()), params, 4 * float(values.std(ddof=1) / np.sqrt(runs))


def at_minimizing_step(algorithm: str, regime: str, n: int, steps: int, runs: int, **kw):
    """averaged_model at the step size that minimizes the theorem's own bound
    (mixlab.theory.step_size), found from the run's constants before running."""
    from mixlab.theory.step_size import minimizing_step_size

    thm = THEOREM_OF[algorithm, regime]
    fixed = theorem_params(objective_for(regime, n), build_algorithm(algorithm, n, **kw), steps, 0.0)
    del fixed["eta"]
    best = minimizing_step_size(thm, **fixed, staleness_max=0.0)
    measured, params, tol = averaged_model(algorithm, regime, n, steps, runs, best.eta, **kw)
    return measured, {**params, "eta_max": best.eta_max}, tol


def delayed_sgd(objective, steps: int, runs: int, lr: float, tau: int, seed: int = 0):
    """Asynchronous (parameter-server) SGD with staleness <= tau, ``runs`` independent runs at once:
    x_{t+1} = x_t - lr g_t, g_t the minibatch gradient of a uniformly random worker's f_i at
    x_{t - tau_t}, tau_t uniform on {0..min(t, tau)}. Returns (runs, steps + 1) arrays of
    ||grad f(x_t)||^2 and f(x_t). Draws: stream PEER (worker, delay), the objective's
    minibatch stream with counter t runs + r."""
    n, d = objective.n, objective.d
    hist = np.zeros((tau + 1, runs, d))                                 # x_{t-j} at hist[(t - j) % (tau+1)]
    grad_sq = np.empty((runs, steps + 1))
    loss = np.empty((runs, steps + 1))
    r = np.arange(runs, dtype=np.int64)
    for t in range(steps + 1):
        x = hist[t % (tau + 1)]
        for j in range(runs):
            loss[j, t] = objective.loss(x[j])
            grad_sq[j, t] = float(np.sum(objective.grad(x[j]) ** 2))
        if t == steps:
            break
        u = crng.uniform_np(seed, crng.PEER, (t * runs + r) * 2)
        v = crng.uniform_np(seed, crng.PEER, (t * runs + r) * 2 + 1)
        workers = np.minimum((u * n).astype(np.int64), n - 1)
        delay = np.minimum((v * (min(t, tau) + 1)).astype(np.int64), min(t, tau))
        stale = hist[(t - delay) % (tau + 1), r]
        g = objective.stochastic_grads(stale, t * runs + r, seed, workers=workers)
        hist[(t + 1) % (tau + 1)] = x - lr * g
    return grad_sq, loss


def async_sgd(n: int, steps: int, runs: int, lr: float, tau: int):
    """Mean over runs of (1/T) sum_{t<T} ||grad f(x_t)||^2 for delayed SGD on the robust regression;
    sigma2 = zeta2 + sigma2 of the objective (a random worker's minibatch gradient)."""
    f = objective_for("nc", n)
    grad_sq, loss = delayed_sgd(f, steps, runs, lr, tau)
    values = grad_sq[:, :-1].mean(axis=1)
    c = f.constants()
    params = {"eta": lr, "T": steps, "L": c["L"], "tau": tau, "sigma2": c["zeta2"] + c["sigma2"],
              "f0": float(loss[0, 0]), "staleness_max": float(tau),
              "sigma2_uniform": c["sigma2_uniform"] and c["zeta2_uniform"]}
    return float(values.mean()), params, 4 * float(values.std(ddof=1) / np.sqrt(runs))


def _stale_setup(n, lr, rule, group_size, sync_period):
    f = objective_for("nc", n)
    alg = build_algorithm("wagma", n, group_size=group_size, sync_period=sync_period, rule=rule)
    theorem = cv.WAGMA_STALE_MEAN if rule == "mean" else cv.WAGMA_STALE_SELF_WEIGHTED
    c = f.constants()
    base = {"eta": lr, "n": n, "S": group_size, "tau": sync_period, "G": c["grad_bound"],
            "order": alg.order, "momentum": alg.momentum}
    return f, alg, theorem, base


def _stale_params(base: dict, gamma, state: int) -> dict:
    """k and Gamma_g for the state after ``state`` iterations (global steps at t = tau - 1 mod tau;
    before the first one the anchor is the common initial model, Gamma_0 = 0)."""
    tau = base["tau"]
    g = 0 if state < tau else state - 1 - (state - 1 - (tau - 1)) % tau
    return {**base, "k": state - g, "gamma_g": float(gamma[g])}


def stale_window_curve(n: int, steps: int, lr: float, rule: str, group_size: int, sync_period: int,
                       seed: int = 0):
    """(measured Gamma_t, bound) for t = 1..steps of one WAGMA run with 2 random 5x stragglers."""
    f, alg, theorem, base = _stale_setup(n, lr, rule, group_size, sync_period)
    tr = simulate(f, alg, steps, lr=lr, timing=STRAGGLERS, seed=seed, record_every=1)
    gamma = tr["consensus"]
    bounds = np.array([theorem.evaluate(**_stale_params(base, gamma, s)) for s in range(1, steps + 1)])
    return gamma[1:], bounds


def wagma_stale_window(n: int, steps: int, runs: int, lr: float, rule: str, group_size: int, sync_period: int):
    """Worst step of WAGMA-SGD with 2 random 5x stragglers per iteration: the measured Gamma_{g+k}
    at the step with the largest ratio to n (w_k sqrt(Gamma_g) + k eta G)^2, over all runs."""
    f, alg, theorem, base = _stale_setup(n, lr, rule, group_size, sync_period)
    if base["G"] is None:
        return 0.0, {**base, "k": 1, "gamma_g": 0.0}, 0.0
    worst, at, stale = -1.0, None, 0.0
    for s in range(runs):
        tr = simulate(f, alg, steps, lr=lr, timing=STRAGGLERS, seed=s, record_every=1)
        gamma = tr["consensus"]
        stale = max(stale, float(tr["staleness_max"].max()))
        for state in range(1, steps + 1):
            p = _stale_params(base, gamma, state)
            ratio = gamma[state] / theorem.evaluate(**p)
            if ratio > worst:
                worst, at = ratio, (float(gamma[state]), p)
    return at[0], {**at[1], "staleness_max": stale}, 0.0


def convergence_checks(size: str = "default") -> list[Check]:
    runs = {"quick": 40, "default": 100, "full": 400}[size]
    steps = {"quick": 200, "default": 400, "full": 1000}[size]
    common = {"n": 8, "steps": steps, "runs": runs}
    checks = []
    for algorithm, kw in (("dpsgd", {"lr": 0.05, "topology": "ring"}),
                          ("local_sgd", {"lr": 0.05, "local_steps": 4}),
                          ("wagma", {"lr": 0.05, "group_size": 2, "sync_period": 4})):
        thm = CONSENSUS_THEOREM[algorithm]
        checks.append(TheoremCheck(f"{thm.id}-bound", thm, consensus,
                                   {"algorithm": algorithm, **common, "steps": 60, **kw}))
        for regime in ("sc", "nc"):
            thm = THEOREM_OF[algorithm, regime]
            checks.append(TheoremCheck(f"{thm.id}", thm, averaged_model,
                                       {"algorithm": algorithm, "regime": regime, **common, **kw}))
    checks.append(TheoremCheck("dpsgd-nonconvex-minimizing-step", cv.DPSGD_NONCONVEX, at_minimizing_step,
                               {"algorithm": "dpsgd", "regime": "nc", **common, "topology": "ring"}))
    checks.append(TheoremCheck("async-sgd-nonconvex", cv.ASYNC_SGD_NONCONVEX, async_sgd,
                               {"n": 8, "steps": steps, "runs": runs, "lr": 0.05, "tau": 4}))
    for rule, thm in (("mean", cv.WAGMA_STALE_MEAN), ("self_weighted", cv.WAGMA_STALE_SELF_WEIGHTED)):
        checks.append(TheoremCheck(thm.id, thm, wagma_stale_window,
                                   {"n": 16, "steps": 64, "runs": max(2, runs // 20), "lr": 0.05, "rule": rule,
                                    "group_size": 4, "sync_period": 4}))
    return checks
