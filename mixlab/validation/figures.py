"""Figures of the verification report (matplotlib, Agg backend, written atomically).

- contraction.png: Gamma_t of repeated mixing against the bound rho^(2t) Gamma_0;
- version_age.png: exact version age vs n (complete graph, ring) with the
  ln n + gamma and sqrt(pi n / 2) curves and Monte Carlo points;
- consensus.png: consensus distance per algorithm on one problem;
- staleness.png: WAGMA-SGD's per-iteration staleness under stragglers;
- consensus_bounds.png: mean consensus distance over iterations against the derived
  bounds (D-PSGD, local SGD, WAGMA-SGD), and the stale-window bound per step.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mixlab.io import atomic_write_bytes
from mixlab.kernels.averaging.mixing import sparse_mix
from mixlab.kernels.gossip.monte_carlo import GossipTopology, simulate_age
from mixlab.kernels.timing import TimingModel
from mixlab.runs import run
from mixlab.theory import graphs, spectral
from mixlab.theory import version_age as va
from mixlab.theory.weights import mixing_matrix


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def contraction_figure(path: Path, n: int = 64, steps: int = 60) -> Path:
    """Gamma_t of repeated Metropolis mixing (ring, torus, exponential) against rho^(2t) Gamma_0.

    Parameters
    ----------
    path : Path
        Output PNG file.
    n : int, default 64
        Number of workers.
    steps : int, default 60
        Mixing steps.

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    rng = np.random.default_rng(0)
    for family in ("ring", "torus", "exponential"):
        W = mixing_matrix(graphs.make_graph(family, n), "metropolis", sparse=True)
        r = spectral.rho(W)
        X = rng.standard_normal((n, 4))
        gamma = [float(((X - X.mean(axis=0)) ** 2).sum())]
        for _ in range(steps):
            X = sparse_mix(W, X)
            gamma.append(float(((X - X.mean(axis=0)) ** 2).sum()))
        t = np.arange(steps + 1)
        (line,) = ax.semilogy(t, gamma, label=f"{family}: measured")
        ax.semilogy(t, gamma[0] * r ** (2 * t), "--", color=line.get_color(), label=f"{family}: bound rho^2t")
    ax.set(xlabel="mixing steps t", ylabel="consensus distance Gamma", title=f"Contraction, n = {n}")
    ax.legend(fontsize=7)
    return _save(fig, path)


def version_age_figure(path: Path) -> Path:
    """Exact version age vs n (complete graph, ring) with ln n + gamma, sqrt(pi n / 2) and Monte Carlo.

    Parameters
    ----------
    path : Path
        Output PNG file.

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    ns = np.unique(np.logspace(1, 5, 25).astype(int))
    complete = [va.complete_graph_age(int(k)) for k in ns]
    ring = [va.ring_age(int(k)) for k in ns]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(ns, complete, "o-", ms=3, label="complete graph (exact)")
    ax.loglog(ns, np.log(ns) + va.EULER_GAMMA, "--", label="ln n + gamma")
    ax.loglog(ns, ring, "s-", ms=3, label="ring (exact)")
    ax.loglog(ns, np.sqrt(np.pi * ns / 2), "--", label="sqrt(pi n / 2)")
    small = [10, 30, 100]
    mc = [
        simulate_age(GossipTopology.complete_graph(k, 1.0, 1.0), events=200 * k * 20, seed=1) for k in small
    ]
    ax.errorbar(
        small,
        [e.node_average for e in mc],
        yerr=[4 * e.node_average_stderr for e in mc],
        fmt="k.",
        label="Monte Carlo (4 s.e.)",
    )
    ax.set(xlabel="n", ylabel="mean version age", title="Version age of gossip (lambda_e = lambda = 1)")
    ax.legend(fontsize=7)
    return _save(fig, path)


def consensus_figure(path: Path, n: int = 64, steps: int = 200) -> Path:
    """Gamma/n per iteration of each algorithm on one quadratic.

    Values below 1e-6 (allreduce is exactly 0, local SGD after each average) sit on
    the axis floor.

    Parameters
    ----------
    path : Path
        Output PNG file.
    n : int, default 64
        Number of workers.
    steps : int, default 200
        Iterations.

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    specs: dict[str, dict[str, Any]] = {
        "allreduce": {},
        "local_sgd": {"local_steps": 8},
        "dpsgd": {"topology": "ring"},
        "sgp": {},
        "adpsgd": {"topology": "ring"},
        "wagma": {"group_size": 4, "sync_period": 8},
    }
    for name, kw in specs.items():
        tr = run(name, "quadratic", workers=n, steps=steps, dim=8, lr=0.1, record_every=1, **kw)
        ax.semilogy(tr["step"][1:], np.maximum(tr["consensus_normalized"][1:], 1e-6), label=name)
    ax.set_ylim(5e-7, None)
    ax.set(
        xlabel="iteration", ylabel="Gamma / n (floor 1e-6)", title=f"Consensus distance, quadratic, n = {n}"
    )
    ax.legend(fontsize=7)
    return _save(fig, path)


def staleness_figure(path: Path, n: int = 64, steps: int = 400) -> Path:
    """Histogram of WAGMA-SGD's per-iteration max staleness (tau = 8) with 2 random 5x stragglers.

    Parameters
    ----------
    path : Path
        Output PNG file.
    n : int, default 64
        Number of workers.
    steps : int, default 400
        Iterations.

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    timing = TimingModel(stragglers=2, slowdown=5.0)
    tr = run(
        "wagma",
        "quadratic",
        workers=n,
        steps=steps,
        group_size=4,
        sync_period=8,
        timing=timing,
        record_every=1,
    )
    fig, ax = plt.subplots(figsize=(6, 4))
    values = tr["staleness_max"][1:]
    ax.hist(values, bins=list(np.arange(values.max() + 2) - 0.5), rwidth=0.8)
    ax.axvline(7, color="r", ls="--", label="tau - 1 = 7 (bound)")
    ax.set(
        xlabel="max staleness in an iteration",
        ylabel="iterations",
        title="WAGMA-SGD, 2 random 5x stragglers per iteration",
    )
    ax.legend()
    return _save(fig, path)


def consensus_bounds_figure(path: Path, steps: int = 60, runs: int = 50) -> Path:
    """Mean consensus distance against each derived bound, and the stale-window bound per step.

    Left: D-PSGD, local SGD and WAGMA-SGD with their control runs (no communication, the
    same claimed constants) that must cross the bound. Right: one WAGMA run with
    stragglers (global activation, self-weighted rule).

    Parameters
    ----------
    path : Path
        Output PNG file.
    steps : int, default 60
        Iterations of the consensus runs.
    runs : int, default 50
        Independent runs averaged.

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    from mixlab.validation import convergence_checks as cc

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    t = np.arange(1, steps + 1)
    for setup, n in (("dpsgd", 8), ("local_sgd", 8), ("wagma", 16)):
        theorem, _, _, broken = cc.SETUPS[setup]
        gamma, params = cc.consensus_runs(setup, n, steps, runs)
        control, _ = cc.consensus_runs(setup, n, steps, runs, control=True)
        (line,) = ax.plot(t, np.maximum(gamma.mean(axis=0)[1:], 1e-4), label=f"{setup}: measured")
        ax.plot(
            t,
            np.maximum(control.mean(axis=0)[1:], 1e-4),
            ":",
            color=line.get_color(),
            label=f"{setup}: control, {broken.split(',')[0]}",
        )
        ax.axhline(theorem.evaluate(**params), ls="--", color=line.get_color(), label=f"{setup}: bound")
    ax.set(
        yscale="log",
        ylim=(5e-5, None),
        xlabel="iteration",
        ylabel="E Gamma_t (floor 1e-4)",
        title=f"Consensus vs derived bounds (quadratic, mean of {runs} runs)",
    )
    ax.legend(fontsize=6)
    gamma, bounds, _ = cc.stale_window_curve(16, 48, 0.05, "global", "self_weighted", 4, 4, seed=0)
    t = np.arange(1, len(bounds) + 1)
    ax2.semilogy(t, gamma[1:], label="measured Gamma_t")
    ax2.semilogy(t, bounds, "--", label="n (w_k sqrt(Gamma_g) + k eta G)^2")
    ax2.set(
        xlabel="iteration",
        ylabel="Gamma_t",
        title="WAGMA-SGD (global activation) with stragglers: stale-window bound",
    )
    ax2.legend(fontsize=7)
    return _save(fig, path)


FIGURES = {
    "contraction.png": contraction_figure,
    "version_age.png": version_age_figure,
    "consensus.png": consensus_figure,
    "staleness.png": staleness_figure,
    "consensus_bounds.png": consensus_bounds_figure,
}


def write_figures(directory: Path) -> list[Path]:
    """Write every figure of :data:`FIGURES` into ``directory`` (slow: each runs its own simulations).

    Parameters
    ----------
    directory : Path
        Output directory.

    Returns
    -------
    list of Path
        The PNG files written.
    """
    return [make(Path(directory) / name) for name, make in FIGURES.items()]
