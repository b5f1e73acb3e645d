# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tour of mixlab: averaging, staleness and the theorems that govern them
#
# This notebook runs top to bottom in about a minute. Each section states a
# piece of theory, runs the compiled kernels or the engine, and holds the
# measurement against the statement. (It is a jupytext percent script:
# `jupytext --to ipynb notebooks/tour.py` makes a notebook of it.)

# %%
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from mixlab.kernels.averaging.group_averaging import group_average
from mixlab.kernels.averaging.mixing import sparse_mix
from mixlab.kernels.timing import TimingModel
from mixlab.runs import run
from mixlab.theory import graphs, spectral
from mixlab.theory import theorems as thm
from mixlab.theory import version_age as va
from mixlab.theory.groups import ButterflyGroups
from mixlab.theory.weights import mixing_matrix

# %% [markdown]
# ## 1. Mixing matrices and the spectral gap
#
# A mixing step replaces every model by a weighted average of its neighbours',
# X <- W X. For a symmetric doubly stochastic W the distance to consensus
# shrinks at least by rho = ||W - J||_2 per step; the spectral gap 1 - rho
# says how fast a topology mixes.

# %%
n = 16
families = ["ring", "torus", "hypercube", "exponential"]
fig, axes = plt.subplots(2, 4, figsize=(14, 6))
for col, family in enumerate(families):
    G = graphs.make_graph(family, n)
    W = mixing_matrix(G, "metropolis")
    nx.draw_circular(G, ax=axes[0, col], node_size=60)
    axes[0, col].set_title(f"{family}: rho = {spectral.rho(W):.3f}")
    axes[1, col].stem(np.sort(np.linalg.eigvalsh(W)))
    axes[1, col].set_ylim(-1, 1.05)
axes[1, 0].set_ylabel("eigenvalues of W")
plt.tight_layout()

# %% [markdown]
# The contraction bound is tight: a power iteration through the mixing kernel
# finds the worst direction, and the measured ratio climbs to rho.

# %%
W = mixing_matrix(graphs.torus(64), "metropolis", sparse=True)
rho = spectral.rho(W)
Y = np.random.default_rng(0).standard_normal((64, 2))
for _ in range(200):
    Z = sparse_mix(W, Y)
    ratio = np.linalg.norm(Z - Z.mean(0)) / np.linalg.norm(Y - Y.mean(0))
    Y = (Z - Z.mean(0)) / np.linalg.norm(Z - Z.mean(0))
verdict = thm.CONSENSUS_CONTRACTION.check(ratio, rho=rho, initial=1.0, doubly_stochastic=True)
print(f"measured {ratio:.6f} <= rho = {rho:.6f}: {verdict.verdict}")
assert verdict.verdict == "pass"

# %% [markdown]
# ## 2. Butterfly groups reach exact consensus
#
# WAGMA-SGD averages inside groups of S workers that differ in one base-S digit
# of their rank. After log_S n phases every worker holds the exact average.

# %%
sched = ButterflyGroups(64, 4)
X = np.random.default_rng(1).standard_normal((64, 3))
gammas = [((X - X.mean(0)) ** 2).sum()]
for t in range(sched.period):
    group_average(X, sched.groups(t), "mean")
    gammas.append(((X - X.mean(0)) ** 2).sum())
plt.semilogy(np.maximum(gammas, 1e-32), "o-")
plt.xlabel("phase")
plt.ylabel("consensus distance")
plt.title("n = 64, S = 4: exact after log_4 64 = 3 phases")
print(gammas)
assert gammas[-1] < 1e-25 and gammas[-2] > 1e-3

# %% [markdown]
# ## 3. WAGMA-SGD against D-PSGD and allreduce SGD under stragglers
#
# Two random workers per iteration are five times slower (as in the WAGMA
# experiments). Allreduce waits for them every iteration; WAGMA's group
# collectives go ahead and take their stale models; a global average every
# tau = 8 iterations bounds the staleness.

# %%
stragglers = TimingModel(stragglers=2, slowdown=5.0)
runs = {
    "allreduce": run("allreduce", "quadratic", workers=64, steps=300, timing=stragglers),
    "dpsgd (ring)": run("dpsgd", "quadratic", workers=64, steps=300, timing=stragglers),
    "wagma (S=4, tau=8)": run(
        "wagma", "quadratic", workers=64, steps=300, group_size=4, sync_period=8, timing=stragglers
    ),
}
for name, tr in runs.items():
    plt.semilogy(tr["sim_time"], tr["loss_gap"], label=name)
plt.xlabel("simulated time")
plt.ylabel("f(x-bar) - f*")
plt.legend()
speedup = runs["allreduce"]["sim_time"][-1] / runs["wagma (S=4, tau=8)"]["sim_time"][-1]
print(
    f"allreduce needs {speedup:.2f}x the time of WAGMA; "
    f"WAGMA's max staleness {runs['wagma (S=4, tau=8)']['staleness_max'].max():.0f} <= tau = 8"
)
assert speedup > 1.8

# %% [markdown]
# ## 4. Version age of gossip and the capacity threshold
#
# A user's model spreads by gossip. Its staleness at another user, the number
# of versions the other has missed, averages (u / lambda) H_{n-1} on the
# complete graph: logarithmic in n. A gossip capacity lambda = c ln n keeps it
# bounded; if only the owner spreads its model, the capacity must grow like n.

# %%
ns = np.unique(np.logspace(1, 6, 30).astype(int))
constant = [va.user_staleness_complete(int(k), 1.0, 1.0) for k in ns]
scaled = [va.user_staleness_complete(int(k), 2 * np.log(k), 1.0) for k in ns]
fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
a.semilogx(ns, constant, label="lambda = 1")
a.semilogx(ns, scaled, label="lambda = 2 ln n")
a.set(xlabel="n", ylabel="mean staleness", title="staleness vs n")
a.legend()
b.loglog(ns, [va.uniform_capacity_threshold(int(k), 1.0) for k in ns], label="uniform gossip")
b.loglog(ns, [va.opportunistic_capacity_threshold(int(k), 1.0) for k in ns], label="owner only")
b.set(xlabel="n", ylabel="capacity for staleness <= 1", title="capacity thresholds")
b.legend()
print(thm.USER_STALENESS.evaluate(u=1.0, lam=1.0, n=1000), va.harmonic(999))

# %% [markdown]
# ## 5. Optimal weights by semidefinite programming, certified
#
# The fastest-mixing symmetric chain on a graph (FMMC) is an SDP. mixlab solves
# it with CVXPY and then checks the answer without trusting the solver: rho by
# eigenvalues and a lower bound rebuilt from the duals. An exact rational
# certificate then proves the spectral gap of a rational W without floating point.

# %%
from fractions import Fraction

from mixlab.proofs.exact_certificate import certify_contraction, rational_upper_bound
from mixlab.proofs.optimal_weights import optimal_weights

G = nx.path_graph(8)
opt = optimal_weights(G, "fmmc")
print(
    f"FMMC rho = {opt.rho:.6f} (cos(pi/8) = {np.cos(np.pi / 8):.6f}), certified gap {opt.gap:.1e}; "
    f"Metropolis rho = {spectral.rho(mixing_matrix(G)):.6f}"
)
ring = [[Fraction(1, 3) if (j - i) % 8 in (0, 1, 7) else Fraction(0) for j in range(8)] for i in range(8)]
cert = certify_contraction(ring, rational_upper_bound(1 / 3 + 2 / 3 * np.cos(2 * np.pi / 8)))
print("exact certificate for the ring of 8 verifies:", cert.verify(), "with rho_hat =", cert.rho_hat)
assert cert.verify() and opt.gap < 1e-4

# %% [markdown]
# ## 6. Convergence theorems against runs, their controls, and the step size that minimizes a bound
#
# mixlab derives its convergence bounds itself (SymPy checks the algebra in
# `mixlab.proofs.derivations`; each derivation is labelled `complete` or
# `bookkeeping`). A consensus bound B on E Gamma_t = E sum_i ||x_i - x-bar||^2
# turns into a rate for the averaged model; for D-PSGD on a ring, B depends on
# rho, eta, L, zeta^2 and sigma^2. A bound that a run without communication
# also satisfies would prove nothing, so every check has a *control*: here the
# same bound, with the ring's rho still claimed, against runs with W = I. It
# must fail, and does. Right: the nonconvex rate as a function of eta with the
# minimizing eta that `minimizing_step_size` finds inside the range the theorem
# admits (rho + eta L < 1).

# %%
from mixlab.theory import convergence as cv
from mixlab.theory.step_size import minimizing_step_size
from mixlab.validation import convergence_checks as cc

gamma, params = cc.consensus_runs("dpsgd", 8, 200, 40)
isolated, _ = cc.consensus_runs("dpsgd", 8, 200, 40, control=True)
B = cv.DPSGD_CONSENSUS.evaluate(**params)
fixed = {k: v for k, v in params.items() if k != "eta"}  # includes f0 = f(0) - f*
best = minimizing_step_size(cv.DPSGD_NONCONVEX, **fixed)
etas = np.linspace(0.002, 0.99 * best.eta_max, 200)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.semilogy(gamma.mean(axis=0)[1:], label="ring: measured E Gamma_t (40 runs)")
ax1.semilogy(isolated.mean(axis=0)[1:], ":", label="control, W = I: measured")
ax1.axhline(B, ls="--", color="k", label="derived bound B (the ring's rho)")
ax1.set(xlabel="iteration", title="D-PSGD, quadratic, ring of 8")
ax1.legend()
ax2.semilogy(etas, [cv.DPSGD_NONCONVEX.evaluate(**fixed, eta=e) for e in etas])
ax2.axvline(best.eta, ls="--", color="r", label=f"eta* = {best.eta:.4f}")
ax2.set(xlabel="eta", ylabel="bound on (1/T) sum E||grad f||^2", title="Nonconvex rate vs step size")
ax2.legend()
print(
    f"max measured E Gamma = {gamma.mean(axis=0).max():.4f} <= B = {B:.4f} < control "
    f"{isolated.mean(axis=0).max():.2f}; eta* = {best.eta:.4f} (admissible up to {best.eta_max:.4f})"
)
assert gamma.mean(axis=0).max() <= B < isolated.mean(axis=0).max() and best.eta < best.eta_max

# %% [markdown]
# ## 7. Your own data: heterogeneity from how the samples are split
#
# Real workers hold different samples. `logistic_from_data` splits the rows of
# a dataset across n workers, iid (a shuffle cut into equal parts) or by label
# (sorted by class, then cut: most workers see one class only), and computes
# the constants from the data: L from each worker's samples, x* by Newton's
# method, zeta2 and sigma2 exactly at x*. mixlab ships the Wisconsin breast
# cancer diagnostic data (569 tumours, 30 standardized features, UCI,
# CC BY 4.0). Both splits keep the same rows, so f and f* are the same; only
# how the rows are assigned differs. D-PSGD on a ring of 8, averaged over 8 runs:
# the label split has the larger heterogeneity at x* and keeps the models
# further apart.

# %%
from mixlab.data import load_dataset
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import logistic_from_data
from mixlab.runs import build_algorithm

A, b = load_dataset("breast_cancer")
ring = build_algorithm("dpsgd", 8, topology="ring")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
mean_consensus, zeta2 = {}, {}
for partition in ("iid", "label"):
    f = logistic_from_data(A, b, 8, partition=partition, seed=0)
    runs = [simulate(f, ring, 300, lr=0.1, seed=s, record_every=2) for s in range(8)]
    gap, gamma = (np.mean([tr[c] for tr in runs], axis=0) for c in ("loss_gap", "consensus"))
    ax1.semilogy(runs[0]["step"], gap, label=partition)
    ax2.semilogy(runs[0]["step"][1:], gamma[1:], label=partition)
    mean_consensus[partition], zeta2[partition] = gamma[1:].mean(), f.zeta2
    print(
        f"{partition:>5}: L = {f.L:.3f}, mu = {f.mu:g}, zeta2 = {f.zeta2:.5f}, sigma2 = {f.sigma2:.5f}, "
        f"final gap {gap[-1]:.4f}, mean consensus distance {gamma[1:].mean():.5f}"
    )
ax1.set(xlabel="iteration", ylabel="f(x-bar) - f*", title="D-PSGD, logistic regression, ring of 8")
ax2.set(xlabel="iteration", ylabel="consensus distance", title="sum_i ||x_i - x-bar||^2 (mean of 8 runs)")
ax1.legend()
ax2.legend()
assert zeta2["label"] > zeta2["iid"] and mean_consensus["label"] > 1.2 * mean_consensus["iid"]
