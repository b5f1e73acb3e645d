import math
from fractions import Fraction as F

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixlab.errors import CertificateError, ParameterError
from mixlab.proofs.exact_certificate import certify_contraction, rational_upper_bound, to_fraction
from mixlab.proofs.optimal_weights import optimal_weights
from mixlab.theory import spectral


def metropolis_ring(n):
    """Exact Metropolis ring weights: 1/3 to self and each neighbour."""
    return [[F(1, 3) if (j - i) % n in (0, 1, n - 1) else F(0) for j in range(n)] for i in range(n)]


@pytest.mark.parametrize("n", [4, 5, 8, 12])
def test_ring_spectral_gap_certified_exactly(n):
    rho = 1 / 3 + 2 / 3 * math.cos(2 * math.pi / n)  # largest non-unit eigenvalue
    assert rho == pytest.approx(spectral.rho(np.array(metropolis_ring(n), dtype=float)))
    cert = certify_contraction(metropolis_ring(n), rational_upper_bound(rho))
    assert cert.verify() and all(d >= 0 for d in cert.D)
    with pytest.raises(CertificateError, match=r"\|\|W - J\|\|_2 <= .* is false"):
        certify_contraction(metropolis_ring(n), F(rho - 1e-6).limit_denominator(10**9))


@settings(max_examples=20)
@given(n=st.integers(2, 7), seed=st.integers(0, 2**20))
def test_random_rational_doubly_stochastic_matrices(n, seed):
    rng = np.random.default_rng(seed)
    W = [[F(0)] * n for _ in range(n)]
    for _ in range(3):  # average of 3 permutation matrices, weights 1/3
        for i, j in enumerate(rng.permutation(n)):
            W[i][j] += F(1, 3)
    rho = spectral.rho(np.array(W, dtype=float))
    cert = certify_contraction(W, rational_upper_bound(rho))
    assert cert.verify()
    if rho > 1e-6:
        with pytest.raises(CertificateError):
            certify_contraction(W, F(rho * (1 - 1e-6)).limit_denominator(10**12))


def test_a_perturbed_matrix_fails_verification():
    W = metropolis_ring(6)
    cert = certify_contraction(W, F(2, 3))
    assert cert.verify()
    W[0][0] += F(1, 10)  # no longer stochastic: the old certificate fails
    W[0][1] -= F(1, 10)
    tampered = type(cert)(tuple(map(tuple, W)), cert.rho_hat, cert.L, cert.D)
    assert not tampered.verify()


def test_fmmc_answer_certified_in_rational_arithmetic():
    res = optimal_weights(nx.path_graph(6), "fmmc")
    W = [[to_fraction(str(x)) for x in row] for row in np.round(res.W, 12)]
    n = len(W)
    for i in range(n):  # restore exact stochasticity after rounding
        W[i][i] = 1 - sum(W[i][j] for j in range(n) if j != i)
    cert = certify_contraction(W, rational_upper_bound(res.rho, 1e-8))
    assert cert.verify() and float(cert.rho_hat) < math.cos(math.pi / 6) + 1e-6


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (
            lambda: certify_contraction([[0.5, 0.5], [0.5, 0.5]], F(1)),
            ParameterError,
            r"exact certificates need rational entries, got the float 0.5",
        ),
        (
            lambda: certify_contraction([[F(1)]], F(1)),
            ParameterError,
            r"W must be a square matrix with n >= 2",
        ),
        (
            lambda: certify_contraction(metropolis_ring(4), F(-1)),
            ParameterError,
            r"rho_hat must be >= 0, got -1",
        ),
        (
            lambda: certify_contraction(metropolis_ring(4), "x"),
            ParameterError,
            r"cannot read 'x' as an exact rational",
        ),
        (
            lambda: certify_contraction([[F(1), F(0)], [F(0), F(1)]], F(1, 2)),
            CertificateError,
            r"is false: elimination step",
        ),
    ],
)
def test_bad_certificate_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
