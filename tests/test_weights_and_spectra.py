import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from mixlab.errors import MatrixError, ParameterError
from mixlab.testing.strategies import connected_graphs, doubly_stochastic_matrices
from mixlab.theory import graphs, spectral
from mixlab.theory.mixing_matrix import DENSE_MAX_N, check_mixing_matrix, properties
from mixlab.theory.weights import RULES, mixing_matrix

SYMMETRIC_RULES = ("metropolis", "max_degree", "best_constant")


def centered(X):
    return X - X.mean(axis=0)


# ---- known answers -----------------------------------------------------------


@pytest.mark.parametrize("n", [3, 8, 17, 64])
def test_ring_metropolis_spectrum(n):
    W = mixing_matrix(graphs.ring(n), "metropolis")
    expected = np.sort(1 / 3 + 2 / 3 * np.cos(2 * np.pi * np.arange(n) / n))
    np.testing.assert_allclose(np.linalg.eigvalsh(W), expected, atol=1e-13)
    rho = max(abs(1 / 3 + 2 / 3 * np.cos(2 * np.pi * k / n)) for k in range(1, n))
    assert spectral.rho(W) == pytest.approx(rho, abs=1e-13)


def test_ring_rho_large_n_closed_form_and_sparse():
    n = 10_000
    W = mixing_matrix(graphs.ring(n), "metropolis")
    assert sp.issparse(W)
    assert spectral.rho(W) == pytest.approx(1 / 3 + 2 / 3 * math.cos(2 * math.pi / n), abs=1e-13)


def test_complete_graph_averages_in_one_step():
    W = mixing_matrix(graphs.complete(7), "metropolis")
    np.testing.assert_allclose(W, np.full((7, 7), 1 / 7), atol=1e-15)
    assert spectral.rho(W) == pytest.approx(0, abs=1e-14)
    assert spectral.steps_to_exact_average(iter([W]), 1) == 1


@pytest.mark.parametrize("k", [2, 3, 5])
def test_hypercube_spectrum(k):
    # W = (I + A)/(k+1); eigenvalues of A on the k-cube are k - 2m, m = 0..k.
    W = mixing_matrix(graphs.hypercube(2**k), "metropolis")
    expected = sorted((1 + k - 2 * m) / (k + 1) for m in range(k + 1) for _ in range(math.comb(k, m)))
    np.testing.assert_allclose(np.linalg.eigvalsh(W), expected, atol=1e-13)
    assert spectral.rho(W) == pytest.approx((k - 1) / (k + 1), abs=1e-13)


@pytest.mark.parametrize("family,n", [("torus", 20), ("star", 9), ("ring", 12), ("hypercube", 8)])
def test_best_constant_formula(family, n):
    G = graphs.make_graph(family, n)
    lam = np.linalg.eigvalsh(nx.laplacian_matrix(G).toarray().astype(float))
    alpha = 2 / (lam[-1] + lam[1])
    W = mixing_matrix(G, "best_constant")
    np.testing.assert_allclose(W, np.eye(n) - alpha * nx.laplacian_matrix(G).toarray(), atol=1e-14)
    # Xiao & Boyd 2004, eq. (16): rho = (lambda_1 - lambda_{n-1}) / (lambda_1 + lambda_{n-1})
    assert spectral.rho(W) == pytest.approx((lam[-1] - lam[1]) / (lam[-1] + lam[1]), abs=1e-12)
    assert spectral.rho(W) <= spectral.rho(mixing_matrix(G, "max_degree")) + 1e-12


def test_mixing_matrix_storage_threshold():
    assert isinstance(mixing_matrix(graphs.ring(DENSE_MAX_N), "metropolis"), np.ndarray)
    assert sp.issparse(mixing_matrix(graphs.ring(DENSE_MAX_N + 1), "metropolis"))
    assert sp.issparse(mixing_matrix(graphs.ring(10), "metropolis", sparse=True))
    assert isinstance(mixing_matrix(graphs.ring(DENSE_MAX_N + 1), "metropolis", sparse=False), np.ndarray)


@pytest.mark.parametrize(
    "family,params",
    [
        ("torus", {}),
        ("random_regular", {"degree": 4, "seed": 1}),
        ("erdos_renyi", {"p": 0.02, "seed": 2}),
        ("star", {}),
    ],
)
@pytest.mark.parametrize("rule", ["metropolis", "best_constant"])
def test_sparse_spectral_path_matches_dense(family, params, rule):
    W = mixing_matrix(graphs.make_graph(family, 400, **params), rule, sparse=True)
    a, b = spectral.spectral_summary(W), spectral.spectral_summary(W.toarray())
    assert a.rho == pytest.approx(b.rho, abs=1e-9) and a.beta == pytest.approx(b.beta, abs=1e-9)


def test_large_sparse_symmetric_matches_dense_at_threshold(monkeypatch):
    G = graphs.make_graph("random_regular", 600, degree=3, seed=3)
    dense = spectral.spectral_summary(mixing_matrix(G, "metropolis"))
    monkeypatch.setattr(spectral, "DENSE_MAX_N", 100)
    monkeypatch.setattr("mixlab.theory.spectral.DENSE_MAX_N", 100)
    fast = spectral.spectral_summary(mixing_matrix(G, "metropolis", sparse=True))
    assert fast.rho == pytest.approx(dense.rho, abs=1e-9)
    assert spectral.laplacian_extreme_eigenvalues(G) == pytest.approx(
        tuple(np.linalg.eigvalsh(nx.laplacian_matrix(G).toarray().astype(float))[[-1, 1]]), abs=1e-9
    )


def test_circulant_detection():
    assert spectral.circulant_first_row(mixing_matrix(graphs.ring(9), "metropolis")) is not None
    assert spectral.circulant_first_row(mixing_matrix(graphs.star(9), "metropolis")) is None
    assert spectral.circulant_first_row(mixing_matrix(graphs.ring(9), "metropolis", sparse=True)) is not None


def test_nonsymmetric_rho_is_operator_norm():
    W = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.3, 0.0, 0.7]])
    assert spectral.rho(W) == pytest.approx(np.linalg.norm(W - 1 / 3, 2))
    assert spectral.beta(W) == pytest.approx(np.linalg.norm(np.eye(3) - W, 2))


# ---- properties (hypothesis) --------------------------------------------------


@given(connected_graphs(max_n=12), st.sampled_from(SYMMETRIC_RULES))
def test_symmetric_rules_give_symmetric_doubly_stochastic_weights(G, rule):
    p = properties(mixing_matrix(G, rule))
    assert p.symmetric and p.doubly_stochastic
    assert p.nonnegative or rule == "best_constant"


@given(connected_graphs(max_n=12))
def test_uniform_rule_is_row_stochastic_and_doubly_iff_regular(G):
    p = properties(mixing_matrix(G, "uniform"))
    assert p.row_stochastic and p.nonnegative
    assert p.doubly_stochastic == (len({d for _, d in G.degree()}) == 1)


@given(connected_graphs(min_n=3, max_n=12), st.sampled_from(RULES), st.integers(1, 5), st.integers(0, 2**31))
def test_mixing_preserves_mean_and_contracts(G, rule, d, seed):
    W = mixing_matrix(G, rule)
    X = np.random.default_rng(seed).standard_normal((G.number_of_nodes(), d))
    Y = W @ X
    if properties(W).doubly_stochastic:
        np.testing.assert_allclose(Y.mean(axis=0), X.mean(axis=0), atol=1e-12)
        rho = spectral.rho(W)
        assert np.linalg.norm(centered(Y)) <= rho * np.linalg.norm(centered(X)) + 1e-12
        assert rho < 1  # connected graph


@given(doubly_stochastic_matrices(max_n=8), st.integers(0, 2**31))
def test_contraction_for_any_doubly_stochastic_matrix(W, seed):
    X = np.random.default_rng(seed).standard_normal((W.shape[0], 3))
    assert np.linalg.norm(centered(W @ X)) <= spectral.rho(W) * np.linalg.norm(centered(X)) + 1e-12


@given(connected_graphs(max_n=10), st.sampled_from(RULES), st.randoms())
def test_relabelling_commutes_with_mixing(G, rule, rnd):
    n = G.number_of_nodes()
    perm = list(range(n))
    rnd.shuffle(perm)
    H = nx.relabel_nodes(G, dict(enumerate(perm)))
    W, V = mixing_matrix(G, rule), mixing_matrix(H, rule)
    X = np.arange(n * 2, dtype=float).reshape(n, 2) ** 1.5
    P = np.eye(n)[perm]  # (P X)[i] = X[perm[i]]; node k of G is node perm[k] of H
    np.testing.assert_allclose(V @ (P.T @ X), P.T @ (W @ X), atol=1e-12)


# ---- mixing time and validation -----------------------------------------------


def test_mixing_time():
    assert spectral.mixing_time(0.5, 1e-3) == 10  # 0.5^10 <= 1e-3 < 0.5^9
    assert spectral.mixing_time(0.0, 1e-3) == 1
    assert spectral.mixing_time(1.0, 1e-3) is None
    r, t = 0.9, spectral.mixing_time(0.9, 1e-6)
    assert r**t <= 1e-6 < r ** (t - 1)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (
            lambda: check_mixing_matrix(np.ones((2, 3)) / 3),
            MatrixError,
            r"must be square, got shape \(2, 3\)",
        ),
        (lambda: check_mixing_matrix(np.ones((1, 1))), MatrixError, r"needs n >= 2 workers, got n = 1"),
        (
            lambda: check_mixing_matrix(np.array([[0.5, 0.6], [0.5, 0.5]])),
            MatrixError,
            r"must be row-stochastic; row 0 sums to 1.1.*worst row deviation 0.1",
        ),
        (
            lambda: check_mixing_matrix(np.array([[1.0, 0.0], [1.0, 0.0]]), doubly_stochastic=True),
            MatrixError,
            r"must be doubly stochastic; column 0 sums to 2 \(worst column deviation 1 > 1e-10\)",
        ),
        (
            lambda: check_mixing_matrix(
                np.array([[0.5, 0.5, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]]), symmetric=True
            ),
            MatrixError,
            r"must be symmetric; max \|W - W\^T\| = 0.5",
        ),
        (
            lambda: check_mixing_matrix(np.array([[1.5, -0.5], [-0.5, 1.5]])),
            MatrixError,
            r"must have nonnegative weights; min entry is -0.5",
        ),
        (
            lambda: check_mixing_matrix(np.array([[np.nan, 1.0], [0.5, 0.5]])),
            ParameterError,
            r"mixing matrix must be finite; entry \(0, 0\) is nan",
        ),
        (
            lambda: mixing_matrix(graphs.ring(5), "fastest"),
            ParameterError,
            r"unknown weight rule 'fastest'; valid: metropolis, max_degree, uniform, best_constant",
        ),
        (lambda: mixing_matrix(nx.Graph([(0, 1), (2, 3)])), ParameterError, r"graph must be connected"),
        (lambda: spectral.mixing_time(0.5, 0), ParameterError, r"eps must be > 0"),
        (lambda: spectral.mixing_time(-0.1, 0.1), ParameterError, r"rho must be >= 0"),
        (lambda: spectral.mixing_time(float("nan"), 0.1), ParameterError, r"rho must be finite, got nan"),
        (
            lambda: spectral.steps_to_exact_average(iter([np.eye(3)]), 0),
            ParameterError,
            r"max_steps must be >= 1",
        ),
    ],
)
def test_bad_matrix_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_sparse_nonnegativity_check_sees_explicit_negative():
    W = sp.csr_matrix(np.array([[1.5, -0.5], [-0.5, 1.5]]))
    with pytest.raises(MatrixError, match=r"min entry is -0\.5"):
        check_mixing_matrix(W)
    check_mixing_matrix(W, nonnegative=False)


def test_lanczos_results_repeat_bit_for_bit():
    """ARPACK starts from a fixed vector: the same large matrix, the same digits."""
    from mixlab.theory import graphs, spectral
    from mixlab.theory.weights import mixing_matrix

    G = graphs.make_graph("torus", 2500)  # not circulant, above the dense limit
    assert spectral.laplacian_extreme_eigenvalues(G) == spectral.laplacian_extreme_eigenvalues(G)
    W = mixing_matrix(G, "metropolis", sparse=True)
    assert spectral.spectral_summary(W) == spectral.spectral_summary(W)
