"""Checks of version age, gossip capacity and asynchronous gossip learning.

Sources: Yates, "The Age of Gossip in Networks", ISIT 2021, Thm. 1 (the subset
recursion; complete-graph values 4/3, 33/20, 732/385). The user-as-source
staleness (u/lambda) H_{n-1} and the capacity thresholds are derived in
mixlab; the model is that of Mitra & Ulukus, arXiv 2404.19749, whose abstract
states that gossip capacity Omega(log n) per user keeps staleness bounded and
that "the bounded staleness can only be guaranteed by any distributed
opportunistic scheme by Omega(n) scaling". Their definition of an opportunistic
scheme is not reproduced here: the owner-only scheme (only the owner spreads
its model) is mixlab's model of it. Capacity checks measure staleness by Monte
Carlo at the computed thresholds; they do not restate the formulas.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from mixlab.age_and_capacity import capacity, contact_matrix, push_rates
from mixlab.kernels.gossip.exact import node_ages
from mixlab.kernels.gossip.learning import simulate_gossip_learning
from mixlab.kernels.gossip.monte_carlo import GossipTopology, simulate_age
from mixlab.kernels.objectives import quadratic
from mixlab.theory import theorems as thm
from mixlab.theory import version_age as va
from mixlab.theory.graphs import make_graph
from mixlab.validation.checks import Check, CheckBase, Control, TheoremCheck
from mixlab.validation.statistics import Estimate

YATES = "Yates, ISIT 2021, Thm. 1"
DERIVED = "derived in mixlab (mixlab.theory.version_age)"
#: Batch means of every Monte Carlo here (simulate_age's default).
BATCHES = 20


def yates_known_values() -> tuple[float, float]:
    """Number of mismatches of the exact complete-graph ages with 4/3, 33/20, 732/385 (Yates).

    Returns
    -------
    measured : int
        How many of the exact rational ages for n = 2, 3, 4 differ from Yates' values.
    bound : int
        0, the exact value.

    Examples
    --------
    >>> yates_known_values()
    (0, 0)
    """
    got = [va.complete_graph_age(n, exact=True) for n in (2, 3, 4)]
    return sum(
        g != e for g, e in zip(got, (Fraction(4, 3), Fraction(33, 20), Fraction(732, 385)), strict=True)
    ), 0


def general_vs_symmetric(n: int) -> tuple[float, float]:
    """Max relative difference of the general subset recursion and the symmetric solvers.

    Parameters
    ----------
    n : int
        Number of nodes; the complete graph and the ring (Yates' model, lambda = 1).

    Returns
    -------
    measured : float
        max over nodes and both graphs of |age_general / age_symmetric - 1|.
    bound : float
        0.0, the exact value.
    """
    worst = 0.0
    for topology, solver in (("complete", va.complete_graph_age), ("ring", va.ring_age)):
        C = contact_matrix(make_graph(topology, n), "yates", 1.0)
        general = node_ages(sp.csr_matrix(push_rates(C, "push")).toarray(), 1.0)
        worst = max(worst, float(np.abs(general / solver(n) - 1).max()))
    return worst, 0.0


def telescoping(n: int) -> tuple[float, float]:
    """|E[S] / ((u/lambda) H_{n-1}) - 1| in exact rational arithmetic (u = 2, lambda = 3).

    Parameters
    ----------
    n : int
        Number of users (complete graph, user as source).

    Returns
    -------
    measured : float
        The relative deviation of the exact staleness from the telescoped formula.
    bound : int
        0, the exact value.

    Examples
    --------
    >>> telescoping(6)
    (0.0, 0)
    """
    H = sum(Fraction(1, k) for k in range(1, n))
    return float(abs(va.user_staleness_complete(n, 3, 2, exact=True) / (Fraction(2, 3) * H) - 1)), 0


def _exact_age(topology: str, n: int, model: str) -> float:
    C = contact_matrix(make_graph(topology, n), model, 1.0)
    return float(node_ages(sp.csr_matrix(push_rates(C, "push")).toarray(), 1.0).mean())


def mc_vs_exact(topology: str, n: int, model: str, events: int, claimed: str | None = None):
    """Monte Carlo mean version age against the exact subset recursion.

    Parameters
    ----------
    topology : str
        Graph family of the run (complete, ring, ...), gossip rate 1.
    n : int
        Number of nodes.
    model : {"yates", "user"}
        A separate source (Yates) or every user as the source of its own model.
    events : int
        Gossip events of the Monte Carlo (seed 11, :data:`BATCHES` batch means).
    claimed : str, optional
        The family whose exact age is claimed instead of ``topology``'s (a control).

    Returns
    -------
    measured : Estimate
        Mean version age over nodes with its batch-means standard error.
    bound : float
        The exact mean version age.
    """
    C = contact_matrix(make_graph(topology, n), model, 1.0)
    est = simulate_age(GossipTopology.from_contacts(C), events=events, seed=11, batches=BATCHES)
    return (
        Estimate(est.node_average, est.node_average_stderr, BATCHES - 1),
        _exact_age(claimed or topology, n, model),
    )


@lru_cache(maxsize=8)
def _capacity(n: int, target: float) -> dict:
    return capacity(n, target, measure=True)


def _measured(report: dict, name: str) -> Estimate:
    return Estimate(report[f"{name}_measured"], report[f"{name}_measured_stderr"], BATCHES - 1)


def capacity_measured(n: int, target: float, scheme: str = "uniform") -> tuple[Estimate, float]:
    """Mean staleness measured by Monte Carlo at a capacity threshold, against the target s*.

    Parameters
    ----------
    n : int
        Number of users.
    target : float
        The target mean staleness s*.
    scheme : {"uniform", "opportunistic", "opportunistic_at_uniform"}, default "uniform"
        Every user gossiping at the uniform threshold lambda_u = u H_{n-1}/s*; only the
        owner spreading at lambda_o = u (n-1)/s*; or only the owner spreading at lambda_u
        (a control).

    Returns
    -------
    measured : Estimate
        The measured mean staleness (batch means, u = 1).
    bound : float
        ``target``.
    """
    return _measured(_capacity(n, target), scheme), target


def owner_only_at_uniform(n: int, target: float, claimed: str = "owner_only") -> tuple[Estimate, float]:
    """The owner-only scheme at the uniform threshold, against its prediction s* (n-1)/H_{n-1}.

    Parameters
    ----------
    n : int
        Number of users.
    target : float
        The target mean staleness s* that sets lambda_u = u H_{n-1}/s*.
    claimed : {"owner_only", "uniform"}, default "owner_only"
        Claim the owner-only prediction (linear in n up to log n) or s* (a control).

    Returns
    -------
    measured : Estimate
        The measured mean staleness of the owner-only scheme at lambda_u.
    bound : float
        The claimed value.
    """
    report = _capacity(n, target)
    bound = report["opportunistic_at_uniform_predicted"] if claimed == "owner_only" else target
    return _measured(report, "opportunistic_at_uniform"), bound


def learning_staleness(n: int, duration: float, claimed_n: int | None = None):
    """Measured staleness of asynchronous gossip learning against (u/lambda) H_{n-1}.

    Parameters
    ----------
    n : int
        Number of users (complete graph, quadratic objective, d = 4, u = 1, lambda = 1.5).
    duration : float
        Simulated time.
    claimed_n : int, optional
        The number of users to claim instead of ``n`` (a control).

    Returns
    -------
    measured : Estimate
        Time-averaged staleness with its batch-means standard error.
    params : dict
        Theorem parameters ``u``, ``lam`` and ``n`` (claimed).
    """
    run = simulate_gossip_learning(
        quadratic(n, 4, zeta2=0.2, seed=2), duration=duration, gossip_rate=1.5, seed=3, batches=BATCHES
    )
    return (
        Estimate(run.staleness, run.staleness_stderr, BATCHES - 1),
        {"u": 1.0, "lam": 1.5, "n": claimed_n or n},
    )


def age_checks(size: str = "default") -> list[CheckBase]:
    """The checks of version age, gossip capacity and asynchronous gossip learning.

    Parameters
    ----------
    size : {"quick", "default", "full"}, default "default"
        Sets the Monte Carlo events (2e5, 1e6, 1e7), the learning duration (800, 2500,
        10000) and the capacity sizes n (up to 1000, 10^4, 10^5).

    Returns
    -------
    list of CheckBase
        The checks, not yet run.

    Raises
    ------
    KeyError
        If ``size`` is not one of the three.
    """
    events = {"quick": 200_000, "default": 1_000_000, "full": 10_000_000}[size]
    duration = {"quick": 800.0, "default": 2500.0, "full": 10_000.0}[size]
    sizes = {"quick": (10, 1000), "default": (10, 1000, 10_000), "full": (10, 1000, 10_000, 100_000)}[size]
    largest = sizes[-1]
    mc_complete = {"topology": "complete", "n": 10, "model": "yates", "events": events}
    mc_ring = {"topology": "ring", "n": 12, "model": "user", "events": events}
    learn = {"n": 10, "duration": duration}
    checks: list[CheckBase] = [
        Check(
            "yates-complete-known-values",
            "v(n=2,3,4) = 4/3, 33/20, 732/385 (mismatches)",
            YATES,
            "==",
            0,
            yates_known_values,
        ),
        Check(
            "age-general-equals-symmetric",
            "subset recursion = symmetric solvers (relative)",
            YATES,
            "==",
            1e-12,
            general_vs_symmetric,
            {"n": 12},
        ),
        Check(
            "user-staleness-telescopes",
            "E[S] = (u/lambda) H_{n-1} exactly",
            DERIVED,
            "==",
            0,
            telescoping,
            {"n": 40},
            proof="telescoping",
        ),
        Check(
            "age-mc-complete",
            "Monte Carlo = exact subset recursion",
            YATES,
            "==",
            0,
            mc_vs_exact,
            mc_complete,
            Control(
                "the ring's exact age held against the complete graph's Monte Carlo",
                mc_vs_exact,
                {**mc_complete, "claimed": "ring"},
            ),
        ),
        Check(
            "age-mc-ring-user",
            "Monte Carlo = exact subset recursion (user as source)",
            f"{YATES}, user-as-source model",
            "==",
            0,
            mc_vs_exact,
            mc_ring,
            Control(
                "the complete graph's exact staleness held against the ring's Monte Carlo",
                mc_vs_exact,
                {**mc_ring, "claimed": "complete"},
            ),
        ),
    ]
    for n in sizes:
        checks.append(
            Check(
                f"capacity-uniform-n{n}",
                "uniform gossip at lambda = u H_{n-1}/s* measures E[S] = s*",
                DERIVED,
                "==",
                0,
                capacity_measured,
                {"n": n, "target": 1.0},
                Control(
                    "the owner-only scheme at the same lambda (no relaying)",
                    capacity_measured,
                    {"n": n, "target": 1.0, "scheme": "opportunistic_at_uniform"},
                ),
                proof="telescoping",
            )
        )
    checks += [
        Check(
            f"capacity-owner-only-n{largest}",
            "owner-only gossip at lambda = u (n-1)/s* measures E[S] = s*",
            DERIVED,
            "==",
            0,
            capacity_measured,
            {"n": largest, "target": 1.0, "scheme": "opportunistic"},
            proof="owner_only",
        ),
        Check(
            f"capacity-owner-only-at-uniform-n{largest}",
            "owner-only gossip at lambda = u H_{n-1}/s* measures s* (n-1)/H_{n-1}",
            DERIVED,
            "==",
            0,
            owner_only_at_uniform,
            {"n": largest, "target": 1.0},
            Control(
                "the uniform scheme's staleness s* claimed for the owner-only scheme",
                owner_only_at_uniform,
                {"n": largest, "target": 1.0, "claimed": "uniform"},
            ),
            proof="owner_only",
        ),
        TheoremCheck(
            "gossip-learning-staleness",
            thm.USER_STALENESS,
            learning_staleness,
            learn,
            Control(
                "the staleness of twice as many users claimed",
                learning_staleness,
                {**learn, "claimed_n": 2 * learn["n"]},
            ),
        ),
    ]
    return checks
