"""Equivalences, invariants and convergence of the algorithms (reference engine;
the numba engine is held to the same trajectories in test_engine_numba.py)."""

import math

import numpy as np
import pytest

from mixlab.errors import ParameterError
from mixlab.kernels import algorithms as al
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import least_squares, quadratic
from mixlab.kernels.timing import TimingModel
from mixlab.theory.graphs import ring
from mixlab.theory.groups import ButterflyGroups
from mixlab.theory.schedules import OnePeerExponential
from mixlab.theory.weights import mixing_matrix
from mixlab.vocabulary import ACTIVATIONS

N, D, T = 16, 4, 40
METRICS = ("loss_gap", "grad_norm_sq", "consensus", "sim_time")


def butterfly(n, S, **kw):
    """WAGMA on butterfly groups (the groups do not depend on the rule)."""
    sched = ButterflyGroups(n, S)
    return al.WAGMA(groups=np.stack([sched.groups(t) for t in range(sched.period)]), **kw)


def run(alg, f=None, backend="reference", **kw):
    f = f or least_squares(N, D, batch=2, seed=3)
    return simulate(f, alg, kw.pop("steps", T), lr=kw.pop("lr", 0.2), backend=backend, seed=5, **kw)


def assert_same(a, b, metrics=("loss_gap", "grad_norm_sq", "consensus")):
    for m in metrics:
        np.testing.assert_allclose(a[m], b[m], rtol=1e-10, atol=1e-12, err_msg=m)


J = np.full((N, N), 1 / N)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_atc_equivalences_with_allreduce(momentum):
    ref = run(al.AllreduceSGD(momentum=momentum))
    assert_same(run(butterfly(N, N, rule="mean", order="atc", momentum=momentum, sync_period=1000)), ref)
    assert_same(run(al.DPSGD(mixing=(J,), order="atc", momentum=momentum)), ref)
    assert_same(run(al.LocalSGD(local_steps=1, momentum=momentum)), ref)
    assert_same(run(butterfly(N, 4, order="atc", momentum=momentum, sync_period=1)), ref)


def test_cta_wagma_with_one_group_equals_dpsgd_with_J_not_allreduce():
    a = run(butterfly(N, N, rule="mean", order="cta", sync_period=1000))
    assert_same(a, run(al.DPSGD(mixing=(J,), order="cta")))
    with pytest.raises(AssertionError):
        assert_same(a, run(al.AllreduceSGD()))


def test_sgp_on_doubly_stochastic_schedule_equals_atc_dpsgd():
    sched = OnePeerExponential(N)
    mats = tuple(sched.matrix(t) for t in range(sched.period))
    assert_same(
        run(al.SGP(mixing=mats, order="atc")), run(al.DPSGD(mixing=mats, order="atc")), metrics=METRICS
    )


def test_wagma_butterfly_equals_dpsgd_on_the_group_matrices_without_stragglers():
    sched = ButterflyGroups(N, 4, "self_weighted")
    mats = tuple(sched.matrix(t) for t in range(sched.period))
    for order in ("cta", "atc"):
        a = run(butterfly(N, 4, rule="self_weighted", order=order, sync_period=1000))
        assert_same(a, run(al.DPSGD(mixing=mats, order=order)))
        assert a["staleness_max"].max() == 0


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_wait_avoidance_with_constant_times_is_synchronous_group_averaging(activation):
    """Everyone arrives together, so every contribution is fresh; global activation
    only delays each group step by its broadcast, ceil(log2 n) alpha."""
    kw = {"order": "cta", "sync_period": 3, "rule": "self_weighted"}
    a = run(butterfly(N, 4, activation=activation, **kw))
    b = run(butterfly(N, 4, wait_avoiding=False, **kw))
    assert_same(a, b)
    assert a["staleness_max"].max() == 0
    group_steps = np.cumsum([0] + [t % 3 != 2 for t in range(T)])
    broadcast = math.ceil(math.log2(N)) * TimingModel().alpha if activation == "global" else 0.0
    np.testing.assert_allclose(a["sim_time"], b["sim_time"] + broadcast * group_steps, rtol=1e-12)


def test_mixing_preserves_the_mean_of_models():
    f = quadratic(N, D, sigma2=0.0, zeta2=0.0, seed=1)  # all gradients equal at equal models
    x0 = np.arange(D, dtype=float)
    for alg in (
        al.DPSGD(mixing=(mixing_matrix(ring(N)),)),
        butterfly(N, 4, rule="self_weighted", sync_period=5),
    ):
        tr = simulate(f, alg, 1, lr=1e-300, backend="reference", x0=x0)
        assert tr["consensus"][-1] == pytest.approx(0, abs=1e-24)


def test_push_sum_weights_sum_to_n_and_debias():
    """A column-stochastic (not row-stochastic) schedule: worker i keeps p_i and
    pushes 1 - p_i to i + 2^(t mod 4); z = x/w still converges."""
    keep = np.random.default_rng(0).uniform(0.3, 0.7, N)
    mats = []
    for hop in (1, 2, 4):
        P = np.diag(keep)
        P[(np.arange(N) + hop) % N, np.arange(N)] = 1 - keep
        mats.append(P)
    f = quadratic(N, D, sigma2=0.0, zeta2=0.0, seed=2)  # no heterogeneity: consensus -> 0
    alg = al.SGP(mixing=tuple(mats), order="atc")
    w = np.ones(N)
    for t in range(30):
        w = mats[t % 3] @ w
        assert w.sum() == pytest.approx(N, rel=1e-13)
    assert not np.allclose(w, 1)
    tr = simulate(f, alg, 400, lr=0.3, backend="reference")
    assert tr["loss_gap"][-1] < 1e-3 * tr["loss_gap"][0]
    assert tr["consensus"][-1] < 1e-3 * max(tr["consensus"])


#: Every registered algorithm with its example options (new algorithms join automatically).
ALGORITHMS = {
    name: (lambda name=name, cls=cls: al.build(name, N, **cls.example)) for name, cls in al.ALGORITHMS.items()
}


@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_algorithm_converges_on_the_strongly_convex_quadratic(name):
    f = quadratic(N, D, sigma2=1e-4, zeta2=0.5, seed=4)
    tr = simulate(f, ALGORITHMS[name](), 300, lr=0.5 / f.L, backend="reference", record_every=50)
    assert tr["loss_gap"][-1] < 0.05 * tr["loss_gap"][0]
    assert len(tr) == 7 and tr["step"][0] == 0 and tr["step"][-1] == 300


@pytest.mark.parametrize("name", ALGORITHMS)
def test_same_seed_same_trajectory(name):
    timing = TimingModel("exponential", stragglers=2, slowdown=3.0)
    a = run(ALGORITHMS[name](), timing=timing)
    b = run(ALGORITHMS[name](), timing=timing)
    for m in a.columns:
        np.testing.assert_array_equal(a[m], b[m])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: run(al.AllreduceSGD(), lr=0.0), r"step size must be > 0 and not NaN; eta\[0\] = 0.0"),
        (
            lambda: run(al.AllreduceSGD(), lr=float("nan")),
            r"step size must be > 0 and not NaN; eta\[0\] = nan",
        ),
        (
            lambda: run(al.AllreduceSGD(), lr=np.ones(3)),
            r"step sizes must be a number or an array of length steps = 40",
        ),
        (
            lambda: run(al.DPSGD(mixing=(np.eye(8),))),
            r"inconsistent n: the problem has n = 16 workers, a mixing matrix has shape \(8, 8\)",
        ),
        (lambda: run(butterfly(8, 2)), r"inconsistent n: the problem has n = 16 workers, the groups cover 8"),
        (
            lambda: al.WAGMA(groups=np.zeros((1, 4, 4), np.int64), sync_period=0),
            r"sync period tau must be >= 1, got 0",
        ),
        (
            lambda: al.WAGMA(groups=np.zeros((1, 4, 4), np.int64), activation="first"),
            r"unknown activation 'first'; valid: global, group",
        ),
        (
            lambda: al.WAGMA(groups=np.zeros((1, 4, 4), np.int64), rule="median"),
            r"unknown averaging rule 'median'; valid: self_weighted, mean",
        ),
        (lambda: al.LocalSGD(local_steps=0), r"local steps H must be >= 1, got 0"),
        (lambda: al.LocalSGD(local_steps=2, order="cta"), r"local SGD is adapt-then-combine"),
        (lambda: al.AllreduceSGD(momentum=1.0), r"momentum must be < 1, got 1.0"),
        (lambda: al.DPSGD(mixing=(J,), order="tac"), r"unknown update order 'tac'; valid: cta, atc"),
        (lambda: al.SGP(mixing=(J,), order="cta"), r"SGP is adapt-then-combine"),
        (lambda: run(al.SGP(mixing=(np.full((N, N), 2 / N),), order="atc")), r"column-stochastic"),
        (
            lambda: run(al.AllreduceSGD(), timing=TimingModel(stragglers=20)),
            r"stragglers must be <= n = 16, got 20",
        ),
        (lambda: run(al.AllreduceSGD(), steps=0), r"steps must be >= 1, got 0"),
        (lambda: run(al.AllreduceSGD(), backend="gpu"), r"unknown backend 'gpu'; valid: numba, reference"),
        (
            lambda: run(al.ADPSGD(indptr=np.zeros(17, np.int64), indices=np.zeros(0, np.int64))),
            r"at least one neighbour",
        ),
    ],
)
def test_bad_run_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_an_engine_refuses_an_algorithm_it_does_not_implement():
    """A new algorithm with only a reference step runs on the reference engine and is
    refused by name, not by a KeyError, on the compiled one."""
    from dataclasses import dataclass

    @dataclass(frozen=True, kw_only=True)
    class Halving(al.Algorithm):
        name = "halving"

        def reference_step(self, st, t, eta):
            st.X = st.X / 2

    f = quadratic(N, D, seed=0)
    assert simulate(f, Halving(), 3, x0=np.ones(D), backend="reference")["loss_gap"].size == 4
    with pytest.raises(ParameterError, match="engine 'numba' does not implement algorithm 'halving'"):
        simulate(f, Halving(), 3, backend="numba")


@pytest.mark.parametrize(
    "name,options,match",
    [
        (
            "dpsgd",
            {"group_size": 4},
            r"dpsgd does not take --group-size \(its options: --momentum, --topology",
        ),
        ("allreduce", {"local_steps": 9, "rule": "mean"}, r"allreduce does not take --local-steps, --rule"),
        ("wagma", {"topology": "ring"}, r"wagma does not take --topology"),
        ("nope", {}, r"unknown algorithm 'nope'; valid: adpsgd"),
    ],
)
def test_options_an_algorithm_does_not_take_are_refused(name, options, match):
    with pytest.raises(ParameterError, match=match):
        al.build(name, N, **options)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_the_advertised_option_defaults_are_the_defaults(name):
    """``--help`` shows OPTIONS[...].default: an algorithm built without the option is the
    algorithm built with the advertised value."""
    cls = al.ALGORITHMS[name]
    example = {k: v for k, v in cls.example.items() if k != "local_steps"}
    for option in cls.options:
        advertised = al.OPTIONS[option].default
        if advertised is None or option in example:
            continue
        implicit = al.build(name, N, **example).params()
        assert implicit == al.build(name, N, **example, **{option: advertised}).params(), option


@pytest.mark.parametrize("name", ALGORITHMS)
def test_the_reference_engine_calls_no_compiled_objective_or_timing_code(name, monkeypatch):
    """An independent specification: with the compiled gradient, loss, timing and cost
    functions made to raise, every algorithm still runs on the reference engine."""
    from mixlab.kernels import objectives, timing

    def refuse(*args, **kwargs):
        raise AssertionError("the reference engine called compiled code")

    for module, fn in (
        (objectives, "stochastic_grad"),
        (objectives, "full_loss_grad"),
        (timing, "compute_time"),
        (timing, "straggler_mask"),
        (timing, "allreduce_cost"),
    ):
        monkeypatch.setattr(module, fn, refuse)
    f = least_squares(N, D, batch=3, seed=2)
    tr = run(ALGORITHMS[name](), f=f, timing=TimingModel("exponential", stragglers=2, slowdown=3.0))
    assert np.isfinite(tr["loss_gap"]).all()


def test_reference_loss_and_gradient_agree_with_the_compiled_ones():
    for f in (quadratic(N, D, seed=1), least_squares(N, D, seed=1)):
        x = np.random.default_rng(3).standard_normal(D)
        assert f.reference_loss(x) == pytest.approx(f.loss(x), rel=1e-12)
        np.testing.assert_allclose(f.reference_grad(x), f.grad(x), rtol=1e-12, atol=1e-14)
