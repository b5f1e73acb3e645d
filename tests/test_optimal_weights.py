import math

import networkx as nx
import numpy as np
import pytest
from test_cli import run_json

from mixlab.errors import ParameterError, SolverError
from mixlab.proofs.optimal_weights import optimal_weights
from mixlab.theory import graphs, spectral
from mixlab.theory.mixing_matrix import check_mixing_matrix
from mixlab.theory.weights import mixing_matrix


@pytest.mark.parametrize("n", [4, 7, 12])
def test_fmmc_on_a_path_has_slem_cos_pi_over_n(n):
    """Boyd, Diaconis, Parrilo & Xiao (2009): the optimal path chain has SLEM cos(pi/n)."""
    res = optimal_weights(nx.path_graph(n), "fmmc")
    assert res.rho == pytest.approx(math.cos(math.pi / n), abs=1e-5)
    assert res.gap <= 1e-4 and res.lower_bound <= math.cos(math.pi / n) + 1e-9


@pytest.mark.parametrize("problem", ["fmmc", "fdla"])
def test_ring_optimum_has_equal_edge_weights(problem):
    res = optimal_weights(nx.cycle_graph(9), problem)
    assert np.ptp(res.edge_weights) < 1e-4
    best = spectral.rho(mixing_matrix(nx.cycle_graph(9), "best_constant"))
    assert res.rho == pytest.approx(best, abs=1e-5)  # uniform weights: best constant is optimal


@pytest.mark.parametrize(
    "graph", [nx.star_graph(5), nx.petersen_graph(), nx.random_regular_graph(3, 12, seed=2)]
)
def test_optimal_weights_are_certified_and_beat_heuristics(graph):
    fmmc, fdla = optimal_weights(graph, "fmmc"), optimal_weights(graph, "fdla")
    check_mixing_matrix(fmmc.W, doubly_stochastic=True, symmetric=True, nonnegative=True)
    check_mixing_matrix(fdla.W, doubly_stochastic=True, symmetric=True, nonnegative=False)
    assert spectral.rho(fmmc.W) == pytest.approx(fmmc.rho, abs=1e-12)  # recomputed independently
    assert fdla.rho <= fmmc.rho + 1e-4  # FDLA relaxes FMMC
    for rule in ("metropolis", "max_degree", "best_constant"):
        heuristic = spectral.rho(mixing_matrix(graph, rule))
        assert fdla.rho <= heuristic + 1e-4
        if rule != "best_constant":
            assert fmmc.rho <= heuristic + 1e-4
    assert fmmc.lower_bound <= fmmc.rho and fmmc.gap <= 1e-4


def test_star_fdla_uses_negative_weights_and_beats_fmmc():
    fmmc, fdla = optimal_weights(nx.star_graph(6), "fmmc"), optimal_weights(nx.star_graph(6), "fdla")
    assert fdla.W.min() < 0 and fdla.rho < fmmc.rho - 0.05


def test_a_hundred_node_ring_solves_and_certifies():
    res = optimal_weights(nx.cycle_graph(100), "fmmc")
    assert res.gap <= 1e-4 and np.ptp(res.edge_weights) < 1e-2


def test_an_inaccurate_solve_is_refused_by_the_certificate():
    with (
        pytest.warns(UserWarning, match="inaccurate"),
        pytest.raises(SolverError, match=r"not certified: rho\(W\) = .* but the rebuilt dual bound is"),
    ):
        optimal_weights(nx.cycle_graph(30), "fmmc", solver_options={"max_iters": 20})


def test_mixing_cli_fmmc(capsys):
    out = run_json(capsys, "mixing", "--topology", "ring", "-n", "8", "--weights", "fmmc", "--json")
    assert out["weights"] == "fmmc" and out["certified_gap"] <= 1e-4
    assert out["rho"] == pytest.approx(
        spectral.rho(mixing_matrix(nx.cycle_graph(8), "best_constant")), abs=1e-5
    )
    assert out["symmetric"] and out["doubly_stochastic"]


def test_mixing_cli_fmmc_subgradient(capsys):
    out = run_json(
        capsys,
        "mixing",
        "--topology",
        "torus",
        "-n",
        "64",
        "--weights",
        "fmmc",
        "--method",
        "subgradient",
        "--json",
    )
    assert out["solver"] == "subgradient" and out["nonnegative"] and out["doubly_stochastic"]
    assert out["rho"] < spectral.rho(mixing_matrix(graphs.torus(64), "metropolis"))
    assert out["certified_gap"] >= 0


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (
            lambda: optimal_weights(nx.path_graph(4), "fastest"),
            ParameterError,
            r"unknown problem 'fastest'; valid: fmmc, fdla",
        ),
        (
            lambda: optimal_weights(nx.path_graph(4), solver="GUROBI9"),
            ParameterError,
            r"unknown or missing solver 'GUROBI9'; installed:",
        ),
        (lambda: optimal_weights(nx.Graph([(0, 1), (2, 3)])), ParameterError, r"graph must be connected"),
    ],
)
def test_bad_sdp_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
