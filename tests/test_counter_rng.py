import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mixlab.kernels import counter_rng as crng


@given(st.integers(0, 2**40), st.integers(0, 8), st.lists(st.integers(0, 2**50), min_size=1, max_size=20))
def test_scalar_and_vector_draws_agree_bit_for_bit(seed, stream, counters):
    vec = crng.uniform_np(seed, stream, np.array(counters))
    assert [crng.uniform(seed, stream, c) for c in counters] == vec.tolist()
    nv = crng.normal_np(seed, stream, np.array(counters))
    np.testing.assert_allclose([crng.normal(seed, stream, c) for c in counters], nv, rtol=1e-15, atol=1e-15)


def test_uniform_range_and_moments():
    u = crng.uniform_np(7, crng.NOISE, np.arange(200_000))
    assert u.min() > 0 and u.max() < 1
    se = math.sqrt(1 / 12 / u.size)
    assert abs(u.mean() - 0.5) < 4 * se
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / math.sqrt(u.size)


def test_normal_moments():
    z = crng.normal_np(3, crng.NOISE, np.arange(200_000))
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / z.size)


def test_streams_and_seeds_are_distinct():
    a = crng.uniform_np(1, crng.NOISE, np.arange(100))
    assert not np.array_equal(a, crng.uniform_np(1, crng.BATCH, np.arange(100)))
    assert not np.array_equal(a, crng.uniform_np(2, crng.NOISE, np.arange(100)))


@pytest.mark.parametrize("n,k", [(10, 0), (10, 3), (10, 10), (64, 2)])
def test_sample_without_replacement_is_distinct_and_uniform(n, k):
    out = np.empty(k, dtype=np.int64)
    counts = np.zeros(n)
    for rep in range(3000):
        crng.sample_without_replacement(5, crng.STRAGGLER, rep * k, n, k, out)
        assert len(set(out.tolist())) == k and all(0 <= v < n for v in out)
        counts[out] += 1
    if 0 < k < n:  # each element is chosen with probability k/n
        p = k / n
        se = math.sqrt(3000 * p * (1 - p))
        assert np.abs(counts - 3000 * p).max() < 4.5 * se
