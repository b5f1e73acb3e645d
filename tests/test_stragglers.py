"""Simulated time under stragglers: WAGMA-SGD's wait avoidance against allreduce SGD."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixlab.kernels import algorithms as al
from mixlab.kernels.engine import simulate
from mixlab.kernels.objectives import quadratic
from mixlab.kernels.timing import DISTRIBUTIONS, TimingModel
from mixlab.theory.groups import ButterflyGroups

N, S, TAU = 64, 4, 8


def wagma(n=N, s=S, tau=TAU, **kw):
    sched = ButterflyGroups(n, s)
    return al.WAGMA(groups=np.stack([sched.groups(t) for t in range(sched.period)]), sync_period=tau, **kw)


def sim(alg, timing, steps=200, engine="reference", n=N):
    return simulate(quadratic(n, 4, seed=0), alg, steps, lr=0.1, timing=timing, seed=3,
                    record_every=steps // 4, engine=engine)


@pytest.mark.parametrize("engine", ["reference", "numba"])
def test_random_stragglers_wagma_is_much_faster_than_allreduce(engine):
    """64 workers, 2 random stragglers per iteration slowed 5x (as in the reference
    experiments), S = 4, tau = 8: at least 1.8x less simulated time, staleness <= tau."""
    timing = TimingModel(stragglers=2, slowdown=5.0)
    w, a = sim(wagma(), timing, engine=engine), sim(al.AllreduceSGD(), timing, engine=engine)
    assert a["sim_time"][-1] >= 1.8 * w["sim_time"][-1]
    assert 0 < w["staleness_max"].max() <= TAU
    assert w["loss_gap"][-1] < 0.1 * w["loss_gap"][0]


@pytest.mark.parametrize("engine", ["reference", "numba"])
def test_persistent_straggler_sets_the_pace_of_wagma(engine):
    """One fixed worker slowed 5x: the global average every tau iterations waits for
    it, so WAGMA's long-run time per iteration is the straggler's (within 10%)."""
    timing = TimingModel(stragglers=1, persistent=True, slowdown=5.0)
    tr = sim(wagma(), timing, steps=400, engine=engine)
    per_iteration = np.diff(tr["sim_time"][1:]) / np.diff(tr["step"][1:])
    assert per_iteration == pytest.approx(5.0, rel=0.10)


@settings(max_examples=20)
@given(dist=st.sampled_from(DISTRIBUTIONS), scale=st.floats(0.1, 10), k=st.integers(0, 16),
       persistent=st.booleans(), slowdown=st.floats(1, 20), delay=st.floats(0, 5),
       tau=st.integers(1, 12), alpha=st.floats(0, 1))
def test_wagma_staleness_never_exceeds_tau(dist, scale, k, persistent, slowdown, delay, tau, alpha):
    timing = TimingModel(dist, scale=scale, shift=scale / 2, stragglers=k, persistent=persistent,
                         slowdown=slowdown, delay=delay, alpha=alpha)
    tr = simulate(quadratic(16, 2, seed=1), wagma(16, 2, tau), 40, lr=0.05, timing=timing, seed=7,
                  engine="reference")
    assert tr["staleness_max"].max() <= tau - 1
