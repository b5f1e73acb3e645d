"""Simulated time under stragglers: WAGMA-SGD's wait avoidance against allreduce SGD."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixlab.kernels import algorithms as al
from mixlab.kernels.engines import reference as er
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import quadratic
from mixlab.kernels.timing import TimingModel
from mixlab.theory.groups import ButterflyGroups
from mixlab.vocabulary import ACTIVATIONS, COMPUTE_DISTRIBUTIONS

N, S, TAU = 64, 4, 8


def wagma(n=N, s=S, tau=TAU, **kw):
    sched = ButterflyGroups(n, s)
    return al.WAGMA(groups=np.stack([sched.groups(t) for t in range(sched.period)]), sync_period=tau, **kw)


def sim(alg, timing, steps=200, backend="reference", n=N):
    return simulate(
        quadratic(n, 4, seed=0),
        alg,
        steps,
        lr=0.1,
        timing=timing,
        seed=3,
        record_every=steps // 4,
        backend=backend,
    )


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_random_stragglers_wagma_is_much_faster_than_allreduce(backend):
    """64 workers, 2 random stragglers per iteration slowed 5x (as in the reference
    experiments), S = 4, tau = 8: at least 1.8x less simulated time, staleness <= tau."""
    timing = TimingModel(stragglers=2, slowdown=5.0)
    w, a = sim(wagma(), timing, backend=backend), sim(al.AllreduceSGD(), timing, backend=backend)
    assert a["sim_time"][-1] >= 1.8 * w["sim_time"][-1]
    assert 0 < w["staleness_max"].max() <= TAU
    assert w["loss_gap"][-1] < 0.1 * w["loss_gap"][0]


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_persistent_straggler_sets_the_pace_of_wagma(backend):
    """One fixed worker slowed 5x: the global average every tau iterations waits for
    it, so WAGMA's long-run time per iteration is the straggler's (within 10%)."""
    timing = TimingModel(stragglers=1, persistent=True, slowdown=5.0)
    tr = sim(wagma(), timing, steps=400, backend=backend)
    per_iteration = np.diff(tr["sim_time"][1:]) / np.diff(tr["step"][1:])
    assert per_iteration == pytest.approx(5.0, rel=0.10)


@settings(max_examples=20)
@given(
    dist=st.sampled_from(COMPUTE_DISTRIBUTIONS),
    scale=st.floats(0.1, 10),
    k=st.integers(0, 16),
    persistent=st.booleans(),
    slowdown=st.floats(1, 20),
    delay=st.floats(0, 5),
    tau=st.integers(1, 12),
    alpha=st.floats(0, 1),
    activation=st.sampled_from(ACTIVATIONS),
)
def test_wagma_staleness_never_exceeds_tau(
    dist, scale, k, persistent, slowdown, delay, tau, alpha, activation
):
    timing = TimingModel(
        dist,
        scale=scale,
        shift=scale / 2,
        stragglers=k,
        persistent=persistent,
        slowdown=slowdown,
        delay=delay,
        alpha=alpha,
    )
    tr = simulate(
        quadratic(16, 2, seed=1),
        wagma(16, 2, tau, activation=activation),
        40,
        lr=0.05,
        timing=timing,
        seed=7,
        backend="reference",
    )
    assert tr["staleness_max"].max() <= tau - 1


def stale_contributions(monkeypatch, alg, timing):
    """The trajectory and every contribution's staleness (the reference engine's records)."""
    seen = []
    record = er.Recorder.staleness

    def spy(self, values):
        seen.append(np.ravel(values))
        record(self, values)

    with monkeypatch.context() as m:
        m.setattr(er.Recorder, "staleness", spy)
        tr = sim(alg, timing)
    return tr, np.concatenate(seen)


def test_global_activation_is_staler_than_group_activation(monkeypatch):
    """Exponential compute times, 2 random 5x stragglers, n = 64, S = 4, tau = 8, 200
    iterations: the first arrival anywhere opens every group's window, so late groups
    reduce from send buffers. Measured (seed 3): mean staleness 2.680 (global) against
    1.576 (group); stale contributions 11024 against 8400 of 12800."""
    timing = TimingModel("exponential", stragglers=2, slowdown=5.0)
    glob, s_glob = stale_contributions(monkeypatch, wagma(activation="global"), timing)
    group, s_group = stale_contributions(monkeypatch, wagma(activation="group"), timing)
    assert s_glob.size == s_group.size == 200 * N
    assert glob["staleness_mean"][1:].mean() == pytest.approx(s_glob.mean(), rel=1e-12)
    assert glob["staleness_mean"][1:].mean() > 1.5 * group["staleness_mean"][1:].mean()
    assert (s_glob > 0).sum() > (s_group > 0).sum() + 2000


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_global_activation_by_hand(backend):
    """n = 4, S = 2 (groups {0,1},{2,3} then {0,2},{1,3}), compute time 1, one worker
    delayed by 1 per iteration (seed 2: worker 0 at t = 0, worker 2 at t = 1),
    alpha = 1/8, beta = 0, so allreduce_cost(2) = 1/4.

    t = 0: a = (2, 1, 1, 1); worker 0 misses both windows (group: 1 + 1/8; global:
    1 + 2/8) and contributes x0. Clocks: group (2, 5/4, 5/4, 5/4); global
    R = 5/4 + 1/4, so (2, 3/2, 3/2, 3/2).
    t = 1, group {0, 2}: group activation A_G = a_0 = 3, window 3 + 1/8: worker 0
    fresh, worker 2 (a = 13/4) stale by 1. Global: A = 5/2, window 11/4: worker 0 (3)
    and worker 2 (7/2) both stale by 1, the whole group from send buffers."""
    timing = TimingModel(stragglers=1, delay=1.0, alpha=0.125, beta=0.0)
    assert [np.flatnonzero(timing.straggler_mask(4, t, 2)).tolist() for t in (0, 1)] == [[0], [2]]
    expected = {"group": ([0, 0.25, 0.25], [0, 2.0, 3.25]), "global": ([0, 0.25, 0.5], [0, 2.0, 3.5])}
    for activation, (stale_mean, sim_time) in expected.items():
        tr = simulate(
            quadratic(4, 2, seed=0),
            wagma(4, 2, activation=activation),
            2,
            lr=0.1,
            timing=timing,
            seed=2,
            backend=backend,
        )
        assert tr["staleness_mean"].tolist() == stale_mean, activation
        assert tr["staleness_max"].tolist() == [0, 1, 1], activation
        assert tr["sim_time"].tolist() == sim_time, activation
