"""Convergence theorems (mixlab.theory.convergence) held against measured runs,
each with a control that breaks the theorem's mechanism.

- Consensus bounds: the mean of Gamma_t over independent runs (seeds
  0..runs-1) on the additive-noise quadratic (uniform zeta2 and sigma2), the
  worst recorded step with a Bonferroni split of the false-alarm rate. Controls:
  no communication (W = I, no global average, singleton groups) while the
  claimed rho, H or S stay.
- Averaged-model rates: on a common-Hessian quadratic the average model does
  not depend on the mixing, so a rate measured there passes without any
  communication. The rates are therefore measured on the heterogeneous
  quadratic (worker-specific Hessians), deterministically (sigma2 = 0), with
  zeta2 the maximum heterogeneity along the run's own path of averaged
  iterates (exact, from the linear recursion); without communication the
  average drifts to the mean of the local minimizers and the rate fails. The
  strongly convex rate starts at x* (its steady-state term is the one that
  depends on communication; it is loose: the lemma is linear in Gamma, the
  true bias quadratic), the nonconvex one at 0, where its 2 f0/(eta T) term
  is within a small factor of the measurement.
- Asynchronous SGD: delayed SGD on the additive-noise quadratic; control: a
  constant delay of 6 tau while tau is claimed.
- WAGMA-SGD with stale contributions: a sure bound, judged at every recorded
  step of runs with random stragglers. Its k eta G term dominates on these runs
  (G is a sup over all stochastic gradients), and removing only the global
  average does not cross it (the group averaging alone keeps Gamma below
  n (eta G)^2); the control removes all communication (singleton groups, no
  global average) with S and tau claimed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mixlab.kernels import counter_rng as crng
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import heterogeneous_quadratic, quadratic
from mixlab.kernels.timing import TimingModel
from mixlab.runs import build_algorithm
from mixlab.theory import convergence as cv
from mixlab.theory import spectral
from mixlab.validation import controls
from mixlab.validation.checks import CheckBase, Control, TheoremCheck
from mixlab.validation.statistics import mean_estimate, worst_mean

DIM = 4
STRAGGLERS = TimingModel("exponential", stragglers=2, slowdown=5.0)
#: Window length used for the window sums of fixed and time-varying mixing (tail bounded beyond).
WINDOW = 64

#: name -> (theorem, builder of the intact algorithm, builder of the control, what the control breaks)
SETUPS = {
    "dpsgd": (
        cv.DPSGD_CONSENSUS,
        lambda n: build_algorithm("dpsgd", n, topology="ring"),
        lambda alg, steps: controls.isolated(alg.mixing[0].shape[0]),
        "no communication (W = I), the ring's rho claimed",
    ),
    "one_peer": (
        cv.WINDOWED_CONSENSUS,
        lambda n: build_algorithm("dpsgd", n, topology="one_peer_exponential"),
        lambda alg, steps: controls.isolated(alg.mixing[0].shape[0]),
        "no communication (W = I), the one-peer schedule's window sums claimed",
    ),
    "local_sgd": (
        cv.LOCAL_SGD_CONSENSUS,
        lambda n: build_algorithm("local_sgd", n, local_steps=4),
        lambda alg, steps: controls.never_averaging(alg),
        "no global average, H = 4 claimed",
    ),
    "wagma": (
        cv.WAGMA_CONSENSUS,
        lambda n: build_algorithm("wagma", n, group_size=4, sync_period=8),
        lambda alg, steps: controls.singleton_groups(alg),
        "singleton groups, S = 4 claimed",
    ),
}
#: Controls of the rate checks where they differ from the consensus checks': WAGMA's global
#: average alone keeps the average model near x*, so the rate's control removes it too.
RATE_CONTROLS = {
    "wagma": (
        lambda alg, steps: controls.singleton_groups(alg, sync_period=steps + 1),
        "no communication (singleton groups, no global average), S = 4 claimed",
    )
}
RATE_THEOREMS = {
    ("dpsgd", "sc"): cv.DPSGD_STRONGLY_CONVEX,
    ("dpsgd", "nc"): cv.DPSGD_NONCONVEX,
    ("local_sgd", "sc"): cv.LOCAL_SGD_STRONGLY_CONVEX,
    ("local_sgd", "nc"): cv.LOCAL_SGD_NONCONVEX,
    ("wagma", "sc"): cv.WAGMA_STRONGLY_CONVEX,
    ("wagma", "nc"): cv.WAGMA_NONCONVEX,
}


def noisy_quadratic(n: int):
    """Common Hessian, heterogeneous centers: uniform zeta2 = 1 and additive noise sigma2 = 0.5.

    Parameters
    ----------
    n : int
        Number of workers.

    Returns
    -------
    Objective
        The quadratic of :func:`mixlab.kernels.objectives.quadratic`, d = 4, seed 7.

    Examples
    --------
    >>> c = noisy_quadratic(4).constants()
    >>> c["zeta2"], c["sigma2"], c["zeta2_uniform"]
    (1.0, 0.5, True)
    """
    return quadratic(n, d=DIM, zeta2=1.0, sigma2=0.5, seed=7)


def heterogeneous(n: int):
    """Worker-specific Hessians, zeta2 = 1 at x*, no gradient noise.

    Parameters
    ----------
    n : int
        Number of workers.

    Returns
    -------
    Objective
        The quadratic of :func:`mixlab.kernels.objectives.heterogeneous_quadratic`, d = 4, seed 7.
    """
    return heterogeneous_quadratic(n, d=DIM, zeta2=1.0, sigma2=0.0, seed=7)


def theorem_params(f, alg, steps: int, lr: float, x0=None) -> dict:
    """The parameters a convergence theorem needs, from the objective and the algorithm.

    Parameters
    ----------
    f : Objective
        The objective; its constants (L, mu, zeta2, sigma2 and their flags) are copied.
    alg : Algorithm
        The (intact) algorithm; its communication pattern is summarized.
    steps : int
        Number of iterations T.
    lr : float
        Step size eta.
    x0 : ndarray, shape (d,), optional
        Start (default 0).

    Returns
    -------
    dict
        eta, T, n, momentum, order, the constants, f0 = f(x0) - f* (f(x0) when f* is
        unknown and f >= 0), r0 = ||x0 - x*||^2 where x* is known, and the pattern: for
        mixing matrices rho = max_t ||W_t - J||_2, atc, the window sums A1 and A2 (window
        :data:`WINDOW`) and doubly_stochastic; H for local SGD; S, phases, tau, rule,
        self_weighted and activation for WAGMA-SGD.

    Examples
    --------
    >>> from mixlab.runs import build_algorithm
    >>> p = theorem_params(noisy_quadratic(8), build_algorithm("dpsgd", 8, topology="ring"), 10, 0.05)
    >>> round(p["rho"], 4), p["T"], p["doubly_stochastic"]
    (0.8047, 10, True)
    """
    x0 = np.zeros(f.d) if x0 is None else x0
    c = f.constants()
    p = {
        "eta": lr,
        "T": steps,
        "n": f.n,
        "momentum": alg.momentum,
        "order": alg.order,
        "f0": f.loss(x0) - (f.f_star or 0.0),
        "staleness_max": 0.0,
        **{
            k: c[k]
            for k in ("L", "mu", "zeta2", "sigma2", "zeta2_uniform", "sigma2_uniform", "each_strongly_convex")
        },
    }
    if f.x_star is not None:
        p["r0"] = float(np.sum((x0 - f.x_star) ** 2))
    if hasattr(alg, "mixing"):
        sums = spectral.window_sums(alg.mixing, alg.order, WINDOW)
        p.update(
            rho=max(spectral.rho(W) for W in alg.mixing),
            atc=int(alg.order == "atc"),
            A1=sums.A1,
            A2=sums.A2,
            doubly_stochastic=all(
                np.allclose(W.sum(axis=0), 1) and np.allclose(W.sum(axis=1), 1) for W in alg.mixing
            ),
        )
    if hasattr(alg, "local_steps"):
        p["H"] = alg.local_steps
    if hasattr(alg, "groups"):
        p.update(
            S=alg.group_size,
            phases=alg.groups.shape[0],
            tau=alg.sync_period,
            rule=alg.rule,
            self_weighted=int(alg.rule == "self_weighted"),
            activation=alg.activation,
            doubly_stochastic=True,
        )  # group matrices of either rule are symmetric
    return p


# ---- consensus bounds -------------------------------------------------------------------------


def consensus_runs(setup: str, n: int, steps: int, runs: int, lr: float = 0.05, control: bool = False):
    """Gamma_t of independent runs of the setup's algorithm (or its control) on the additive-noise quadratic.

    Parameters
    ----------
    setup : {"dpsgd", "one_peer", "local_sgd", "wagma"}
        A key of :data:`SETUPS`.
    n : int
        Number of workers.
    steps : int
        Iterations per run.
    runs : int
        Independent runs (seeds 0..runs-1).
    lr : float, default 0.05
        Step size eta.
    control : bool, default False
        Run the setup's control instead of the intact algorithm.

    Returns
    -------
    gamma : ndarray, shape (runs, steps + 1)
        Consensus distance Gamma_t of every run and step.
    params : dict
        The intact algorithm's theorem parameters (:func:`theorem_params`).
    """
    _, build, broken, _ = SETUPS[setup]
    f, alg = noisy_quadratic(n), build(n)
    run = broken(alg, steps) if control else alg
    gamma = np.array(
        [simulate(f, run, steps, lr=lr, seed=s, record_every=1)["consensus"] for s in range(runs)]
    )
    return gamma, theorem_params(f, alg, steps, lr)


def consensus(setup: str, n: int, steps: int, runs: int, lr: float = 0.05, control: bool = False):
    """The worst recorded step of the mean consensus distance (Bonferroni over the steps).

    Parameters
    ----------
    setup : {"dpsgd", "one_peer", "local_sgd", "wagma"}
        A key of :data:`SETUPS`.
    n : int
        Number of workers.
    steps : int
        Iterations per run.
    runs : int
        Independent runs (seeds 0..runs-1).
    lr : float, default 0.05
        Step size eta.
    control : bool, default False
        Run the setup's control while the intact algorithm's constants are claimed.

    Returns
    -------
    measured : Estimate
        The largest mean Gamma_t over t, ``comparisons`` = steps + 1.
    params : dict
        The intact algorithm's theorem parameters.
    """
    gamma, params = consensus_runs(setup, n, steps, runs, lr, control)
    return worst_mean(gamma), params


# ---- averaged-model rates, deterministic heterogeneous runs ---------------------------------


@lru_cache(maxsize=16)
def _path_zeta2(setup: str, n: int, steps: int, lr: float, start: str) -> float:
    """max_t zeta2(xbar_t) along the (deterministic) run of the setup's intact algorithm."""
    from mixlab.theory.second_moment import predict

    f, alg = heterogeneous(n), SETUPS[setup][1](n)
    mats, order = alg.mixing_matrices(n, steps)
    x0 = _start(f, start)
    path = predict(f.hessians, f.centers, 0.0, x0, mats, order, np.full(steps, lr))["xbar"]
    return max(f.zeta2_of(x) for x in path)


def _start(f, start: str) -> np.ndarray:
    return f.x_star.copy() if start == "optimum" else np.zeros(f.d)


def rate(
    setup: str, regime: str, n: int, steps: int, lr: float, start: str = "optimum", control: bool = False
):
    """The averaged-model rate of one deterministic run on the heterogeneous quadratic.

    Parameters
    ----------
    setup : {"dpsgd", "local_sgd", "wagma"}
        A key of :data:`SETUPS`.
    regime : {"sc", "nc"}
        Strongly convex: f(xbar_T) - f*; nonconvex: (1/T) sum_{t<T} ||grad f(xbar_t)||^2.
    n : int
        Number of workers.
    steps : int
        Iterations T.
    lr : float
        Step size eta.
    start : {"optimum", "zero"}, default "optimum"
        Start at x* or at 0.
    control : bool, default False
        Run the control (:data:`RATE_CONTROLS` where given, else the setup's).

    Returns
    -------
    measured : float
        The rate's left-hand side.
    params : dict
        The intact algorithm's theorem parameters, with zeta2 the maximum heterogeneity
        along the intact run's path of averaged iterates (and ``zeta2_along_path``).
    """
    _, build, broken, _ = SETUPS[setup]
    broken = RATE_CONTROLS.get(setup, (broken,))[0]
    f, alg = heterogeneous(n), build(n)
    x0 = _start(f, start)
    run = broken(alg, steps) if control else alg
    tr = simulate(f, run, steps, lr=lr, x0=x0, record_every=1)
    measured = tr["loss_gap"][-1] if regime == "sc" else tr["grad_norm_sq"][:-1].mean()
    params = {
        **theorem_params(f, alg, steps, lr, x0),
        "zeta2": _path_zeta2(setup, n, steps, lr, start),
        "zeta2_along_path": True,
    }
    return float(measured), params


def at_minimizing_step(setup: str, n: int, steps: int, control: bool = False):
    """The nonconvex rate from 0 at the step size that minimizes the theorem's own bound.

    The step size comes from :func:`mixlab.theory.step_size.minimizing_step_size` with
    zeta2 at x*; the run is judged with zeta2 along its path (see :func:`rate`).

    Parameters
    ----------
    setup : {"dpsgd", "local_sgd", "wagma"}
        A key of :data:`SETUPS` (and of :data:`RATE_THEOREMS`).
    n : int
        Number of workers.
    steps : int
        Iterations T.
    control : bool, default False
        Run the control at the same step size.

    Returns
    -------
    measured : float
        (1/T) sum_{t<T} ||grad f(xbar_t)||^2.
    params : dict
        The theorem parameters of :func:`rate` plus ``eta_max``, the largest admissible eta.
    """
    from mixlab.theory.step_size import minimizing_step_size

    thm = RATE_THEOREMS[setup, "nc"]
    f = heterogeneous(n)
    fixed = {**theorem_params(f, SETUPS[setup][1](n), steps, 0.0), "zeta2_along_path": True}
    del fixed["eta"]
    best = minimizing_step_size(thm, **fixed)
    measured, params = rate(setup, "nc", n, steps, best.eta, "zero", control)
    return measured, {**params, "eta_max": best.eta_max}


# ---- asynchronous SGD -------------------------------------------------------------------------


def delayed_sgd(
    objective, steps: int, runs: int, lr: float, tau: int, seed: int = 0, always_max: bool = False
):
    """Asynchronous (parameter-server) SGD with staleness <= tau, ``runs`` independent runs at once.

    x_{t+1} = x_t - lr g_t, g_t the stochastic gradient of a uniformly random worker's f_i at
    x_{t - tau_t}, tau_t uniform on {0..min(t, tau)} (``always_max``: tau_t = min(t, tau)),
    from x_0 = 0. Draws: stream PEER (worker, delay), the objective's gradient stream with
    counter t runs + r.

    Parameters
    ----------
    objective : Objective
        The problem (n workers, dimension d).
    steps : int
        Iterations T.
    runs : int
        Independent runs.
    lr : float
        Step size eta.
    tau : int
        Maximum staleness.
    seed : int, default 0
        Seed of the counter-based draws.
    always_max : bool, default False
        Always use the largest delay min(t, tau).

    Returns
    -------
    grad_sq : ndarray, shape (runs, steps + 1)
        ||grad f(x_t)||^2.
    loss : ndarray, shape (runs, steps + 1)
        f(x_t).

    Examples
    --------
    >>> grad_sq, loss = delayed_sgd(noisy_quadratic(4), steps=5, runs=3, lr=0.1, tau=2)
    >>> grad_sq.shape, bool(np.all(loss[:, 0] == loss[0, 0]))
    ((3, 6), True)
    """
    n, d = objective.n, objective.d
    hist = np.zeros((tau + 1, runs, d))  # x_{t-j} at hist[(t - j) % (tau+1)]
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
        delay = (
            np.full(runs, min(t, tau))
            if always_max
            else np.minimum((v * (min(t, tau) + 1)).astype(np.int64), min(t, tau))
        )
        stale = hist[(t - delay) % (tau + 1), r]
        g = objective.stochastic_grads(stale, t * runs + r, seed, workers=workers)
        hist[(t + 1) % (tau + 1)] = x - lr * g
    return grad_sq, loss


def async_sgd(n: int, steps: int, runs: int, lr: float, tau: int, claimed_tau: int | None = None):
    """Mean over runs of (1/T) sum_{t<T} ||grad f(x_t)||^2 for delayed SGD on the additive-noise quadratic.

    The theorem's sigma2 is zeta2 + sigma2 (the variance of a random worker's stochastic
    gradient, uniform bounds).

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations T.
    runs : int
        Independent runs.
    lr : float
        Step size eta.
    tau : int
        Maximum staleness of the run.
    claimed_tau : int, optional
        A control: run with the constant delay ``tau`` but claim this bound.

    Returns
    -------
    measured : Estimate
        Mean over runs and its standard error.
    params : dict
        Theorem parameters eta, T, L, tau (claimed), sigma2, f0, staleness_max and
        sigma2_uniform.
    """
    f = noisy_quadratic(n)
    grad_sq, loss = delayed_sgd(f, steps, runs, lr, tau, always_max=claimed_tau is not None)
    claimed = claimed_tau or tau
    c = f.constants()
    params = {
        "eta": lr,
        "T": steps,
        "L": c["L"],
        "tau": claimed,
        "sigma2": c["zeta2"] + c["sigma2"],
        "f0": float(loss[0, 0]) - f.f_star,
        "staleness_max": float(claimed),
        "sigma2_uniform": c["sigma2_uniform"] and c["zeta2_uniform"],
    }
    return mean_estimate(grad_sq[:, :-1].mean(axis=1)), params


# ---- WAGMA-SGD with stale contributions ----------------------------------------------------


def _stale_setup(n, lr, activation, rule, group_size, sync_period):
    from mixlab.kernels.objectives import make_objective

    f = make_objective("robust", n, d=DIM, seed=7)
    alg = build_algorithm(
        "wagma", n, group_size=group_size, sync_period=sync_period, rule=rule, activation=activation
    )
    base = {
        "eta": lr,
        "n": n,
        "S": group_size,
        "tau": sync_period,
        "G": f.constants()["grad_bound"],
        "order": alg.order,
        "momentum": alg.momentum,
        "rule": rule,
        "activation": activation,
    }
    return f, alg, base


def _stale_params(base: dict, gamma, state: int) -> dict:
    """k and Gamma_g for the state after ``state`` iterations (global steps at t = tau - 1 mod tau;
    before the first one the anchor is the common initial model, Gamma_0 = 0)."""
    tau = base["tau"]
    g = 0 if state < tau else state - 1 - (state - 1 - (tau - 1)) % tau
    return {**base, "k": state - g, "gamma_g": float(gamma[g])}


def stale_window_curve(
    n: int,
    steps: int,
    lr: float,
    activation: str,
    rule: str,
    group_size: int,
    sync_period: int,
    seed: int = 0,
    control: bool = False,
):
    """Gamma_t and the stale-window bound at every step of one WAGMA-SGD run with stragglers.

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations (robust objective, d = 4, 2 random 5x stragglers per iteration).
    lr : float
        Step size eta.
    activation : {"global", "group"}
        WAGMA's activation rule.
    rule : {"mean", "self_weighted"}
        Group averaging rule; (activation, rule) must be a key of
        :data:`mixlab.theory.convergence.WAGMA_STALE`.
    group_size : int
        Group size S.
    sync_period : int
        Global averaging period tau.
    seed : int, default 0
        Seed of the run.
    control : bool, default False
        Remove all communication (singleton groups, no global average) while the bound
        keeps the claimed S and period.

    Returns
    -------
    gamma : ndarray, shape (steps + 1,)
        Gamma_t for t = 0..steps.
    bounds : ndarray, shape (steps,)
        The bound n (w_k sqrt(Gamma_g) + k eta G)^2 for t = 1..steps.
    staleness : float
        The largest recorded staleness.
    """
    f, alg, base = _stale_setup(n, lr, activation, rule, group_size, sync_period)
    run = controls.singleton_groups(alg, sync_period=steps + 1) if control else alg
    tr = simulate(f, run, steps, lr=lr, timing=STRAGGLERS, seed=seed, record_every=1)
    gamma = tr["consensus"]
    theorem = cv.WAGMA_STALE[activation, rule]
    bounds = np.array([theorem.evaluate(**_stale_params(base, gamma, s)) for s in range(1, steps + 1)])
    return gamma, bounds, float(tr["staleness_max"].max())


def wagma_stale_window(
    n: int,
    steps: int,
    runs: int,
    lr: float,
    activation: str,
    rule: str,
    group_size: int,
    sync_period: int,
    control: bool = False,
):
    """The recorded step with the largest ratio Gamma_{g+k} / (n (w_k sqrt(Gamma_g) + k eta G)^2).

    A sure bound: every step of every run counts.

    Parameters
    ----------
    n : int
        Number of workers.
    steps : int
        Iterations (robust objective, d = 4, 2 random 5x stragglers per iteration).
    runs : int
        Independent runs (seeds 0..runs-1), runs >= 1.
    lr : float
        Step size eta.
    activation : {"global", "group"}
        WAGMA's activation rule.
    rule : {"mean", "self_weighted"}
        Group averaging rule; (activation, rule) must be a key of
        :data:`mixlab.theory.convergence.WAGMA_STALE`.
    group_size : int
        Group size S.
    sync_period : int
        Global averaging period tau.
    control : bool, default False
        Remove all communication while the bound keeps the claimed S and period.

    Returns
    -------
    measured : float
        Gamma at the worst step.
    params : dict
        Theorem parameters at that step (k and gamma_g from its last global step) and
        ``staleness_max`` over all runs.
    """
    _, _, base = _stale_setup(n, lr, activation, rule, group_size, sync_period)
    worst, stale = None, 0.0
    for s in range(runs):
        gamma, bounds, st = stale_window_curve(
            n, steps, lr, activation, rule, group_size, sync_period, s, control
        )
        stale = max(stale, st)
        i = int(np.argmax(gamma[1:] / bounds))
        if worst is None or gamma[i + 1] / bounds[i] > worst[0]:
            worst = (gamma[i + 1] / bounds[i], gamma, i + 1)
    assert worst is not None  # runs >= 1
    _, gamma, state = worst
    return float(gamma[state]), {**_stale_params(base, gamma, state), "staleness_max": stale}


def convergence_checks(size: str = "default") -> list[CheckBase]:
    """The convergence checks: consensus bounds, averaged-model rates, delayed SGD, stale windows.

    Parameters
    ----------
    size : {"quick", "default", "full"}, default "default"
        Sets the independent runs (40, 100, 400) and the rate runs' steps (4000, 10^4, 2 x 10^4).

    Returns
    -------
    list of CheckBase
        The checks, not yet run.

    Raises
    ------
    KeyError
        If ``size`` is not one of the three.
    """
    runs = {"quick": 40, "default": 100, "full": 400}[size]
    rate_steps = {"quick": 4000, "default": 10000, "full": 20000}[size]
    checks: list[CheckBase] = []
    for setup, n in (("dpsgd", 8), ("one_peer", 16), ("local_sgd", 8), ("wagma", 16)):
        thm, _, _, what = SETUPS[setup]
        spec = {"setup": setup, "n": n, "steps": 60, "runs": runs}
        checks.append(
            TheoremCheck(
                f"{thm.id}-bound" + ("-one-peer" if setup == "one_peer" else ""),
                thm,
                consensus,
                spec,
                Control(what, consensus, {**spec, "control": True}),
            )
        )
    for setup, n in (("dpsgd", 8), ("local_sgd", 8), ("wagma", 16)):
        what = RATE_CONTROLS.get(setup, SETUPS[setup][2:])[1]
        for regime, start in (("sc", "optimum"), ("nc", "zero")):
            thm = RATE_THEOREMS[setup, regime]
            spec = {"setup": setup, "regime": regime, "n": n, "steps": rate_steps, "lr": 0.01, "start": start}
            checks.append(
                TheoremCheck(thm.id, thm, rate, spec, Control(what, rate, {**spec, "control": True}))
            )
    spec = {"setup": "dpsgd", "n": 8, "steps": rate_steps}
    checks.append(
        TheoremCheck(
            "dpsgd-nonconvex-minimizing-step",
            cv.DPSGD_NONCONVEX,
            at_minimizing_step,
            spec,
            Control(SETUPS["dpsgd"][3], at_minimizing_step, {**spec, "control": True}),
        )
    )
    spec = {"n": 8, "steps": 400, "runs": runs, "lr": 0.1, "tau": 4}
    checks.append(
        TheoremCheck(
            "async-sgd-nonconvex",
            cv.ASYNC_SGD_NONCONVEX,
            async_sgd,
            spec,
            Control(
                "staleness past tau: a constant delay of 6 tau, tau claimed",
                async_sgd,
                {**spec, "tau": 24, "claimed_tau": 4},
            ),
        )
    )
    for (activation, rule), thm in cv.WAGMA_STALE.items():
        spec = {
            "n": 16,
            "steps": 64,
            "runs": max(2, runs // 20),
            "lr": 0.05,
            "activation": activation,
            "rule": rule,
            "group_size": 4,
            "sync_period": 4,
        }
        checks.append(
            TheoremCheck(
                thm.id,
                thm,
                wagma_stale_window,
                spec,
                Control(
                    "no communication (singleton groups, no global average), S = 4 and tau = 4 claimed",
                    wagma_stale_window,
                    {**spec, "control": True},
                ),
            )
        )
    return checks
