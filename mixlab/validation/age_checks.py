"""Checks of version age and asynchronous gossip learning.

Sources: Yates, "The Age of Gossip in Networks", ISIT 2021, Thm. 1 (the subset
recursion; complete-graph values 4/3, 33/20, 732/385); Mitra & Ulukus,
arXiv 2404.19749 (user-as-source staleness, capacity Omega(log n) vs Omega(n));
the telescoped closed form (u/lambda) H_{n-1} is derived in mixlab.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from mixlab.kernels.gossip_learning import simulate_gossip_learning
from mixlab.kernels.gossip_mc import GossipTopology, simulate_age
from mixlab.kernels.objectives import quadratic
from mixlab.kernels.version_age_exact import node_ages
from mixlab.theory import version_age as va
from mixlab.validation.age import contact_matrix, push_rates
from mixlab.theory import theorems as thm
from mixlab.validation.checks import Check, TheoremCheck
from mixlab.theory.graphs import make_graph

YATES = "Yates, ISIT 2021, Thm. 1"
MITRA = "Mitra & Ulukus, arXiv 2404.19749"
DERIVED = "derived in mixlab (mixlab.theory.version_age)"


def yates_known_values() -> tuple[float, float]:
    """Number of mismatches of the exact complete-graph ages with 4/3, 33/20, 732/385."""
    got = [va.complete_graph_age(n, exact=True) for n in (2, 3, 4)]
    return sum(g != e for g, e in zip(got, (Fraction(4, 3), Fraction(33, 20), Fraction(732, 385)))), 0


def general_vs_symmetric(n: int) -> tuple[float, float]:
    """Max relative difference of the subset recursion and the symmetric solvers."""
    worst = 0.0
    for topology, solver in (("complete", va.complete_graph_age), ("ring", va.ring_age)):
        C = contact_matrix(make_graph(topology, n), "yates", 1.0)
        general = node_ages(push_rates(C, "push"), 1.0)
        worst = max(worst, float(np.abs(general / solver(n) - 1).max()))
    return worst, 1e-12


def telescoping(n: int) -> tuple[float, float]:
    """|E[S] / ((u/lambda) H_{n-1}) - 1| in exact rational arithmetic."""
    H = sum(Fraction(1, k) for k in range(1, n))
    return float(abs(va.user_staleness_complete(n, 3, 2, exact=True) / (Fraction(2, 3) * H) - 1)), 0


def mc_vs_exact(topology: str, n: int, model: str, events: int) -> tuple[float, float]:
    """|Monte Carlo - exact| in standard errors (<= 4)."""
    C = contact_matrix(make_graph(topology, n), model, 1.0)
    exact = float(node_ages(push_rates(C, "push"), 1.0).mean())
    est = simulate_age(GossipTopology.from_contacts(C), events=events, seed=11)
    return abs(est.node_average - exact) / est.node_average_stderr, 4.0


def log_capacity_bounded(c: float) -> tuple[float, float]:
    """max over n in 10..10^6 of E[S] with lambda = c ln n, against (u/c)(1 + 1/ln 10)."""
    worst = max(va.user_staleness_complete(n, c * math.log(n), 1.0) for n in (10, 100, 10**4, 10**6))
    return worst, (1 / c) * (1 + 1 / math.log(10))


def opportunistic_ratio(n: int) -> tuple[float, float]:
    """Opportunistic / uniform capacity threshold, against (n-1)/H_{n-1}."""
    ratio = va.opportunistic_capacity_threshold(n, 1.0) / va.uniform_capacity_threshold(n, 1.0)
    return ratio, (n - 1) / va.harmonic(n - 1)


def learning_staleness(n: int, duration: float):
    """Measured time-averaged staleness (u = 1, lambda = 1.5); tolerance 4 standard errors."""
    run = simulate_gossip_learning(quadratic(n, 4, zeta2=0.2, seed=2), duration=duration,
                                   gossip_rate=1.5, seed=3)
    return run.staleness, {"u": 1.0, "lam": 1.5, "n": n}, 4 * run.staleness_stderr


def age_checks(size: str = "default") -> list[Check]:
    events = {"quick": 200_000, "default": 1_000_000, "full": 10_000_000}[size]
    duration = {"quick": 800.0, "default": 2500.0, "full": 10_000.0}[size]
    return [
        Check("yates-complete-known-values", "v(n=2,3,4) = 4/3, 33/20, 732/385 (mismatches)", YATES,
              "==", 0, yates_known_values),
        Check("age-general-equals-symmetric", "subset recursion = symmetric solvers (relative)", YATES,
              "<=", 0, general_vs_symmetric, {"n": 12}),
        Check("user-staleness-telescopes", "E[S] = (u/lambda) H_{n-1} exactly", DERIVED, "==", 0,
              telescoping, {"n": 40}),
        Check("age-mc-complete", "Monte Carlo = exact (z-score)", YATES, "<=", 0, mc_vs_exact,
              {"topology": "complete", "n": 10, "model": "yates", "events": events}),
        Check("age-mc-ring-user", "Monte Carlo = exact (z-score)", MITRA, "<=", 0, mc_vs_exact,
              {"topology": "ring", "n": 12, "model": "user", "events": events}),
        Check("capacity-log-n-bounded", "lambda = c ln n keeps E[S] bounded (n = 10..10^6)", MITRA,
              "<=", 0, log_capacity_bounded, {"c": 2.0}),
        Check("opportunistic-capacity-ratio", "opportunistic / uniform = (n-1)/H_{n-1}", MITRA,
              "==", 1e-9, opportunistic_ratio, {"n": 10**4}),
        TheoremCheck("gossip-learning-staleness", thm.USER_STALENESS, learning_staleness,
                     {"n": 10, "duration": duration}),
    ]
