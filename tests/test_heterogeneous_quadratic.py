"""The quadratic with worker-specific Hessians: its constants, its draws, and that the
engines and the gossip-learning kernels run it unchanged."""

import dataclasses
import json

import numpy as np
import pytest

from mixlab.cli import main
from mixlab.kernels import objectives as ob
from mixlab.kernels.engines import simulate
from mixlab.kernels.gossip.learning import simulate_gossip_learning
from mixlab.runs import build_algorithm


@pytest.mark.parametrize("n,d,mu", [(6, 5, 0.1), (5, 1, 0.2), (3, 4, 0.0)])
def test_constants_are_exact(n, d, mu):
    f = ob.heterogeneous_quadratic(n, d, mu=mu, zeta2=0.8, sigma2=0.3, seed=4)
    H = f.hessians
    assert H.shape == (n, d, d) and np.array_equal(H, H.transpose(0, 2, 1))
    ev = np.linalg.eigvalsh(H)  # (n, d), ascending
    assert ev.max() == pytest.approx(f.L, abs=1e-12) and ev.min() == pytest.approx(f.mu, abs=1e-12)
    assert (ev >= f.mu - 1e-12).all() and (ev <= f.L + 1e-12).all()
    x_star = np.linalg.solve(H.sum(axis=0), np.einsum("ijl,il->j", H, f.centers))
    np.testing.assert_allclose(f.x_star, x_star, atol=1e-12)
    assert np.linalg.norm(f.grad(f.x_star)) < 1e-12
    assert f.zeta2_of(f.x_star) == pytest.approx(0.8, rel=1e-12)
    assert f.loss(f.x_star) == pytest.approx(f.f_star, rel=1e-12)
    gaps = [np.linalg.norm(H[i] - H[j]) for i in range(n) for j in range(i)]
    assert min(gaps) > 0.01  # the Hessians really differ
    c = f.constants()
    assert (c["each_strongly_convex"], c["sigma2_uniform"], c["zeta2_uniform"], c["constants_kind"]) == (
        mu > 0,
        True,
        False,
        "exact",
    )
    assert c["L"] == 1.0 and c["mu"] == mu and c["sigma2"] == 0.3


def test_heterogeneity_depends_on_x():
    f = ob.heterogeneous_quadratic(4, 3, zeta2=1.0, seed=2)
    rng = np.random.default_rng(0)
    values = [f.zeta2_of(f.x_star + rng.standard_normal(3)) for _ in range(5)]
    assert np.ptp(values) > 0.01


def test_common_diagonal_hessians_reproduce_quadratic():
    """With every H_i = diag(h) the kind draws the same noise with the same counters:
    the compiled and NumPy stochastic gradients, loss and gradient equal quadratic's."""
    q = ob.quadratic(5, 4, zeta2=0.6, sigma2=0.2, seed=3)
    h = dataclasses.replace(q, kind=ob.HETERO_QUADRATIC, features=np.tile(np.diag(q.hdiag), (5, 1)))
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 4))
    a, b = np.empty(4), np.empty(4)
    for k in (0, 7):
        np.testing.assert_allclose(
            h.stochastic_grads(X, k, 11), q.stochastic_grads(X, k, 11), rtol=1e-14, atol=1e-15
        )
        for i in range(5):
            ob.stochastic_grad(q.arrays(), 11, i, k, X[i], a)
            ob.stochastic_grad(h.arrays(), 11, i, k, X[i], b)
            np.testing.assert_allclose(b, a, rtol=1e-14, atol=1e-15)
    assert h.loss(X[0]) == pytest.approx(q.loss(X[0]), rel=1e-14)
    np.testing.assert_allclose(h.grad(X[0]), q.grad(X[0]), rtol=1e-14, atol=1e-15)


def test_compiled_gradient_matches_reference():
    f = ob.heterogeneous_quadratic(6, 5, zeta2=1.0, sigma2=0.4, seed=9)
    X = np.random.default_rng(3).standard_normal((6, 5))
    out = np.empty(5)
    for k in (0, 3, 40):
        G = f.stochastic_grads(X, k, 21)
        for i in range(6):
            ob.stochastic_grad(f.arrays(), 21, i, k, X[i], out)
            np.testing.assert_allclose(out, G[i], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("order", ["cta", "atc"])
def test_engines_agree(order):
    f = ob.heterogeneous_quadratic(8, 4, zeta2=1.0, sigma2=0.5, seed=1)
    alg = build_algorithm("dpsgd", 8, topology="ring", order=order)
    a = simulate(f, alg, 25, lr=0.2, seed=5, backend="numba", record_every=5)
    b = simulate(f, alg, 25, lr=0.2, seed=5, backend="reference", record_every=5)
    for col in ("loss_gap", "grad_norm_sq", "consensus"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-10, err_msg=col)
    assert a["loss_gap"][-1] < 0.1 * a["loss_gap"][0]


def test_gossip_learning_runs_it():
    f = ob.heterogeneous_quadratic(6, 3, zeta2=0.5, sigma2=0.01, seed=2)
    kw = {"duration": 40, "gossip_rate": 2.0, "lr": 0.2, "seed": 3, "record_every": 4}
    a = simulate_gossip_learning(f, **kw)
    b = simulate_gossip_learning(f, backend="reference", **kw)
    for c in a.columns:
        np.testing.assert_allclose(a[c], b[c], rtol=1e-12, atol=1e-14, err_msg=c)
    assert a["loss_gap"][-1] < 0.1 * a["loss_gap"][0]


def test_cli_runs_it(capsys):
    assert (
        main(
            [
                "run",
                "--objective",
                "heterogeneous_quadratic",
                "--workers",
                "8",
                "--steps",
                "20",
                "--dim",
                "3",
                "--algorithm",
                "dpsgd",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["objective"] == "heterogeneous_quadratic"
    assert out["final_loss_gap"] < out["history"]["loss_gap"][0]
