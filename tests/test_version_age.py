import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mixlab.errors import ParameterError
from mixlab.kernels.gossip.exact import MAX_NODES, node_ages, subset_ages_numba, subset_ages_reference
from mixlab.theory import version_age as va


def complete_rates(n, lam=1.0):
    R = np.zeros((n + 1, n + 1))
    R[0, 1:] = lam / n
    R[1:, 1:] = lam / (n - 1)
    np.fill_diagonal(R[1:, 1:], 0)
    return R


def ring_rates(n, lam=1.0):
    R = np.zeros((n + 1, n + 1))
    R[0, 1:] = lam / n
    for i in range(n):
        R[i + 1, (i + 1) % n + 1] = R[i + 1, (i - 1) % n + 1] = lam / 2
    return R


def user_rates(n, lam=1.0):
    """User 0 is the source; users 1..n-1 receive; every user pushes at lam/(n-1) per pair."""
    R = np.full((n, n), lam / (n - 1))
    np.fill_diagonal(R, 0)
    R[:, 0] = 0
    return R


def test_known_exact_values_complete_graph():
    assert [va.complete_graph_age(n, exact=True) for n in (2, 3, 4)] == [
        Fraction(4, 3),
        Fraction(33, 20),
        Fraction(732, 385),
    ]


@pytest.mark.parametrize("n", range(2, 13))
def test_general_solver_matches_symmetric_solvers(n):
    assert node_ages(complete_rates(n)) == pytest.approx(va.complete_graph_age(n), rel=1e-12)
    if n >= 3:
        assert node_ages(ring_rates(n)) == pytest.approx(va.ring_age(n), rel=1e-12)
    assert node_ages(user_rates(n), 1.7) == pytest.approx(va.user_staleness_complete(n, 1, 1.7), rel=1e-12)


@settings(max_examples=25)
@given(n=st.integers(1, 7), seed=st.integers(0, 2**20), le=st.floats(0.1, 5))
def test_compiled_subset_recursion_matches_reference(n, seed, le):
    rng = np.random.default_rng(seed)
    R = rng.random((n + 1, n + 1)) * (rng.random((n + 1, n + 1)) < 0.6)
    R[:, 0] = 0
    R[0, 1] = 1.0  # node 1 reachable from the source
    R[1:, 1:][np.diag_indices(n)] = 0
    if n > 1:
        R[1:, 1:] += 0.3 * np.roll(np.eye(n), 1, axis=1)  # a cycle: every node reachable
    np.testing.assert_allclose(subset_ages_numba(R, le)[1:], subset_ages_reference(R, le)[1:], rtol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 7, 30])
def test_user_staleness_telescopes_to_harmonic_number(n):
    H = sum(Fraction(1, k) for k in range(1, n))
    assert va.user_staleness_complete(n, 3, 2, exact=True) == Fraction(2, 3) * H
    assert va.user_staleness_complete(n, 3, 2, mode="exchange", exact=True) == Fraction(1, 3) * H
    closed = va.user_staleness_closed_form().subs({va.u_sym: 2, va.lam_sym: 3, va.n_sym: n})
    assert sp.Rational(closed) == sp.Rational(H.numerator * 2, H.denominator * 3)


@pytest.mark.parametrize("n", [100, 10**4, 10**6])
def test_float_solvers_at_scale(n):
    assert va.user_staleness_complete(n) == pytest.approx(va.harmonic(n - 1), rel=1e-12)
    assert va.complete_graph_age(n) == pytest.approx(
        math.log(n) + va.EULER_GAMMA, abs=2 / math.sqrt(n) + 0.01
    )
    assert va.ring_age(n) / math.sqrt(math.pi * n / 2) == pytest.approx(1, abs=1.5 / math.sqrt(n))


def test_asymptotic_gaps_shrink():
    gaps = [abs(va.complete_graph_age(n) - (math.log(n) + va.EULER_GAMMA)) for n in (10, 100, 10**4)]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-3
    ratios = [va.ring_age(n) / math.sqrt(math.pi * n / 2) for n in (10, 100, 10**4)]
    assert ratios == sorted(ratios) and ratios[-1] > 0.99
    expr = va.complete_age_asymptotic().subs(va.n_sym, 10**4)
    assert float(expr) == pytest.approx(va.complete_graph_age(10**4), abs=1e-3)


def test_capacity_c_log_n_keeps_staleness_bounded_and_constant_capacity_does_not():
    c, u = 2.0, 1.0
    ns = [10, 100, 10**3, 10**4, 10**5, 10**6]
    scaled = [va.user_staleness_complete(n, c * math.log(n), u) for n in ns]
    assert scaled == sorted(scaled, reverse=True)  # decreasing toward u/c
    assert all(u / c < s <= 1.5 * u / c + 0.3 for s in scaled) and scaled[-1] < 1.05 * u / c
    constant = [va.user_staleness_complete(n, 1.0, u) for n in ns]
    assert all(abs(s - math.log(n) - va.EULER_GAMMA) < 0.1 for s, n in zip(constant, ns, strict=True))


def test_thresholds():
    for n in (10, 1000, 10**6):
        lam = va.uniform_capacity_threshold(n, 2.0, 1.0)
        assert va.user_staleness_complete(n, lam, 1.0) == pytest.approx(2.0, rel=1e-9)
        assert va.opportunistic_staleness(n, va.opportunistic_capacity_threshold(n, 2.0)) == pytest.approx(
            2.0
        )
    assert va.uniform_capacity_threshold(100, 1, mode="exchange") == va.uniform_capacity_threshold(100, 1) / 2
    ratio = [
        va.opportunistic_capacity_threshold(n, 1) / va.uniform_capacity_threshold(n, 1)
        for n in (10, 10**3, 10**6)
    ]
    assert ratio == sorted(ratio) and ratio[-1] > 5e4  # (n-1)/H_{n-1} grows like n/ln n
    assert va.opportunistic_capacity_threshold(2001, 1) == 2 * va.opportunistic_capacity_threshold(1001, 1)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: node_ages(-complete_rates(3)), r"rates must be >= 0; rates\[0, 1\] = -"),
        (lambda: node_ages(np.full((3, 3), np.nan)), r"rates must be finite"),
        (lambda: node_ages(np.ones((3, 4))), r"rates must be an \(n\+1\) x \(n\+1\) matrix"),
        (
            lambda: node_ages(np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]])),
            r"node\(s\) \[2\] cannot be reached from the source: their version age is infinite",
        ),
        (lambda: node_ages(complete_rates(3) + 1), r"column 0 of rates must be 0"),
        (
            lambda: node_ages(complete_rates(MAX_NODES + 1)),
            r"handles n <= 20 nodes .* use mixlab.theory.version_age.complete_graph_age, ring_age",
        ),
        (lambda: node_ages(complete_rates(3), 0.0), r"update rate must be > 0"),
        (lambda: va.uniform_capacity_threshold(10, 0.0), r"target staleness s\* must be > 0, got 0.0"),
        (lambda: va.opportunistic_capacity_threshold(10, -1), r"target staleness s\* must be > 0"),
        (lambda: va.complete_graph_age(5, gossip_rate=float("nan")), r"gossip rate must be finite, got nan"),
        (lambda: va.complete_graph_age(5, gossip_rate=-1, exact=True), r"gossip rate must be > 0, got -1"),
        (
            lambda: va.user_staleness_complete(5, mode="pull"),
            r"unknown gossip mode 'pull'; valid: push, exchange",
        ),
        (lambda: va.ring_age(2), r"n must be >= 3, got 2"),
    ],
)
def test_bad_age_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
