import math

import networkx as nx
import numpy as np
import pytest

from mixlab.errors import GraphError, ParameterError, SolverError
from mixlab.proofs import fmmc_first_order
from mixlab.proofs.fmmc_first_order import SubgradientWeights, fmmc_subgradient
from mixlab.proofs.optimal_weights import OptimalWeights, optimal_weights
from mixlab.theory import spectral
from mixlab.theory.graphs import torus
from mixlab.theory.mixing_matrix import check_mixing_matrix
from mixlab.theory.weights import mixing_matrix

SMALL_GRAPHS = {
    "path8": nx.path_graph(8),
    "path10": nx.path_graph(10),
    "path12": nx.path_graph(12),
    "ring10": nx.cycle_graph(10),
    "gnp20": nx.gnp_random_graph(20, 0.25, seed=3),
}


@pytest.fixture(scope="module")
def solved():
    """name -> (SDP optimum, subgradient answer), solved once for the module."""
    return {
        name: (optimal_weights(G, "fmmc"), fmmc_subgradient(G, iterations=2000, tol=0))
        for name, G in SMALL_GRAPHS.items()
    }


@pytest.mark.parametrize("name", SMALL_GRAPHS)
def test_subgradient_reaches_the_sdp_optimum_from_above(solved, name):
    sdp, sub = solved[name]
    assert sdp.rho - 1e-6 <= sub.rho <= sdp.rho + 1e-3
    assert sub.lower_bound <= sdp.rho + 1e-6  # weak duality against the certified optimum
    assert sub.lower_bound <= sub.rho and sub.gap == sub.rho - sub.lower_bound


@pytest.mark.parametrize("n", [8, 10, 12])
def test_path_slem_is_cos_pi_over_n(solved, n):
    """Boyd, Diaconis, Parrilo & Xiao (2009): the optimal path chain has SLEM cos(pi/n)."""
    sub = solved[f"path{n}"][1]
    assert sub.rho == pytest.approx(math.cos(math.pi / n), abs=1e-6)
    assert sub.gap <= 1e-5  # a single eigenvector at each end suffices


@pytest.mark.parametrize("name", SMALL_GRAPHS)
def test_returned_chain_is_exactly_feasible_on_the_graph(solved, name):
    sub = solved[name][1]
    G = SMALL_GRAPHS[name]
    W = check_mixing_matrix(sub.W, doubly_stochastic=True, symmetric=True, nonnegative=True, atol=1e-12)
    off = np.abs(W) * (1 - np.eye(len(W))) > 0
    allowed = nx.to_numpy_array(G, nodelist=sorted(G)) > 0
    assert not (off & ~allowed).any()
    res = sub.residuals
    assert (
        max(res["asymmetry"], res["row_sum"], res["outside_support"]) <= 1e-12 and res["min_entry"] >= -1e-12
    )
    assert np.array_equal(sub.edges, np.array(sorted(tuple(sorted(e)) for e in G.edges())))
    assert np.array_equal(W[sub.edges[:, 0], sub.edges[:, 1]], sub.edge_weights)
    assert spectral.rho(W) == pytest.approx(sub.rho, abs=1e-12)  # recomputed independently
    assert sub.solver_value == pytest.approx(sub.rho, abs=1e-9)  # the loop measured the same
    assert isinstance(sub, OptimalWeights) and sub.problem == "fmmc" and sub.solver == "subgradient"


def test_improves_on_metropolis_for_a_non_regular_graph():
    G = nx.lollipop_graph(5, 6)
    res = fmmc_subgradient(G, iterations=300)
    metropolis = spectral.rho(mixing_matrix(G, "metropolis"))
    assert res.history[0] == pytest.approx(metropolis, abs=1e-12)
    assert res.rho < metropolis - 1e-3
    assert res.rho == pytest.approx(res.history.min(), abs=1e-12)


def test_lanczos_path_on_a_torus_improves_and_certifies():
    G = torus(200, (10, 20))  # n = LANCZOS_MIN_N: eigenpairs by ARPACK
    assert G.number_of_nodes() >= fmmc_first_order.LANCZOS_MIN_N
    res = fmmc_subgradient(G, iterations=40, initial="max_degree")
    assert res.rho < spectral.rho(mixing_matrix(G, "max_degree")) - 1e-3
    assert res.solver_value == pytest.approx(res.rho, abs=1e-9)  # ARPACK vs LAPACK
    assert res.lower_bound <= res.rho
    assert res.residuals["row_sum"] <= 1e-12 and res.residuals["min_entry"] >= -1e-12


def test_stops_when_the_improvement_stalls():
    res = fmmc_subgradient(nx.path_graph(6), iterations=1000, tol=1.0, patience=7)
    assert res.status == "stalled" and res.iterations == 7 and len(res.history) == 8


def test_optimal_weights_selects_the_subgradient_method():
    res = optimal_weights(
        nx.star_graph(4), "fmmc", method="subgradient", solver_options={"iterations": 50, "step": 0.3}
    )
    assert isinstance(res, SubgradientWeights) and res.iterations == 50
    assert res.rho <= spectral.rho(mixing_matrix(nx.star_graph(4), "metropolis"))


def test_a_failed_bound_lp_is_reported_as_no_bound(monkeypatch):
    class Failed:
        status, message = 4, "numerical difficulties"

    monkeypatch.setattr(fmmc_first_order, "linprog", lambda *a, **k: Failed())
    with pytest.warns(UserWarning, match=r"no lower bound: the restricted dual LP failed \(numerical"):
        res = fmmc_subgradient(nx.path_graph(5), iterations=3)
    assert res.lower_bound == -np.inf and res.gap == np.inf


def test_the_certificate_refuses_an_infeasible_answer():
    chain = fmmc_first_order._Chain(nx.path_graph(5))
    with pytest.raises(
        SolverError, match=r"subgradient FMMC answer is not feasible: residuals .*'min_entry': -0\.(2|19)"
    ):
        fmmc_first_order._certify(chain, np.full(4, 0.6), 0.5, "iteration_limit", 0, np.zeros(1))


def test_the_certificate_refuses_a_bound_above_rho(monkeypatch):
    monkeypatch.setattr(fmmc_first_order, "_lower_bound", lambda chain, W: 2.0)
    with pytest.raises(SolverError, match=r"weak duality fails: lower bound 2\.0+ > rho\(W\) = 0\.8\d+$"):
        fmmc_subgradient(nx.path_graph(5), iterations=3)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: fmmc_subgradient(nx.Graph([(0, 1), (2, 3)])), GraphError, r"graph must be connected"),
        (
            lambda: fmmc_subgradient(nx.path_graph(4), iterations=0),
            ParameterError,
            r"iterations must be >= 1, got 0",
        ),
        (lambda: fmmc_subgradient(nx.path_graph(4), step=0.0), ParameterError, r"step must be > 0"),
        (lambda: fmmc_subgradient(nx.path_graph(4), tol=-1e-3), ParameterError, r"tol must be >= 0"),
        (
            lambda: fmmc_subgradient(nx.path_graph(4), patience=0),
            ParameterError,
            r"patience must be >= 1, got 0",
        ),
        (
            lambda: fmmc_subgradient(nx.path_graph(4), initial="best_constant"),
            ParameterError,
            r"unknown initial rule 'best_constant'; valid: metropolis, max_degree",
        ),
        (
            lambda: optimal_weights(nx.path_graph(4), method="newton"),
            ParameterError,
            r"unknown method 'newton'; valid: sdp, subgradient",
        ),
        (
            lambda: optimal_weights(nx.path_graph(4), "fdla", method="subgradient"),
            ParameterError,
            r"the subgradient method solves fmmc only, got problem 'fdla'",
        ),
        (
            lambda: optimal_weights(nx.path_graph(4), method="subgradient", solver_options={"max_iters": 5}),
            ParameterError,
            r"unknown subgradient option\(s\) max_iters; valid: iterations, step,",
        ),
    ],
)
def test_bad_subgradient_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
