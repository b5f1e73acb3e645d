import math

import numpy as np
import pytest

from mixlab.errors import ParameterError
from mixlab.kernels import timing as tm
from mixlab.vocabulary import COMPUTE_DISTRIBUTIONS


@pytest.mark.parametrize("dist", COMPUTE_DISTRIBUTIONS)
@pytest.mark.parametrize("stragglers,persistent", [(0, False), (3, False), (2, True)])
def test_compiled_timing_matches_reference(dist, stragglers, persistent):
    model = tm.TimingModel(
        dist, scale=1.5, shift=0.5, stragglers=stragglers, persistent=persistent, slowdown=5.0, delay=0.25
    )
    n, seed = 12, 9
    mask, scratch = np.zeros(n, dtype=np.bool_), np.zeros(max(stragglers, 1), dtype=np.int64)
    for k in range(6):
        ref = model.compute_times(n, k, seed)
        tm.straggler_mask(model.arrays(seed), n, k, mask, scratch)
        np.testing.assert_array_equal(mask, model.straggler_mask(n, k, seed))
        assert mask.sum() == stragglers
        got = [tm.compute_time(model.arrays(seed), n, i, k, mask[i]) for i in range(n)]
        np.testing.assert_allclose(got, ref, rtol=1e-14)


@pytest.mark.parametrize(
    "dist,mean", [("constant", 2.0), ("exponential", 2.0), ("shifted_exponential", 2.5), ("lognormal", 2.0)]
)
def test_compute_time_means(dist, mean):
    model = tm.TimingModel(dist, scale=2.0, shift=0.5, sigma=0.4)
    t = np.concatenate([model.compute_times(1000, k, 3) for k in range(40)])
    assert abs(t.mean() - mean) <= 4 * t.std() / math.sqrt(t.size) + 1e-12


def test_random_stragglers_change_persistent_ones_do_not():
    rnd = tm.TimingModel(stragglers=2, slowdown=5.0)
    per = tm.TimingModel(stragglers=2, slowdown=5.0, persistent=True)
    sets_r = {tuple(np.flatnonzero(rnd.straggler_mask(64, k, 1))) for k in range(20)}
    sets_p = {tuple(np.flatnonzero(per.straggler_mask(64, k, 1))) for k in range(20)}
    assert len(sets_r) > 10 and len(sets_p) == 1
    t = rnd.compute_times(64, 4, 1)
    assert sorted(np.unique(t).tolist()) == [1.0, 5.0] and (t == 5.0).sum() == 2


def test_alpha_beta_costs():
    model = tm.TimingModel(alpha=1e-3, beta=1e-6, word_bytes=4)
    assert model.allreduce_cost(8, 100) == pytest.approx(2 * 3 * 1e-3 + 2 * 7 / 8 * 400 * 1e-6)
    assert model.allreduce_cost(1, 100) == 0.0
    assert model.allreduce_cost(5, 1) == pytest.approx(6e-3 + 2 * 4 / 5 * 4e-6)  # ceil(log2 5) = 3
    assert model.message_cost(100) == pytest.approx(1e-3 + 400e-6)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"distribution": "pareto"}, r"unknown compute-time distribution 'pareto'"),
        ({"scale": 0.0}, r"scale must be > 0"),
        ({"alpha": -1.0}, r"alpha must be >= 0, got -1.0"),
        ({"beta": float("nan")}, r"beta must be finite, got nan"),
        ({"slowdown": 0.5}, r"slowdown must be >= 1, got 0.5"),
        ({"stragglers": -2}, r"stragglers must be >= 0, got -2"),
    ],
)
def test_bad_timing_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        tm.TimingModel(**kwargs)


def test_more_stragglers_than_workers():
    with pytest.raises(ParameterError, match=r"stragglers must be <= n = 4, got 5"):
        tm.TimingModel(stragglers=5).check_workers(4)
