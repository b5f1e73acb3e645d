"""Objectives from the user's data (least_squares_from_data, logistic_from_data) and the
dataset shipped in mixlab.data: constants against brute force, the two partitions, the
two engines, and every refusal."""

import gzip
import hashlib
import itertools
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from test_engine_reference import ALGORITHMS, N

from mixlab.data import DATASETS, load_arrays, load_dataset
from mixlab.errors import ParameterError
from mixlab.kernels import objectives as ob
from mixlab.kernels.engines import simulate
from mixlab.kernels.timing import TimingModel

BUILD = {"least_squares": ob.least_squares_from_data, "logistic": ob.logistic_from_data}


def small(kind, partition="iid", n=3, batch=2, seed=0):
    """16 rows (n = 3: m = 5 per worker, one row left out), 3 features of unequal scales."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((16, 3)) * [2.0, 1.0, 0.5]
    t = A @ [1.0, -1.0, 0.5] + 0.5 * rng.standard_normal(16)
    b = (t > 0).astype(float) if kind == "logistic" else t
    return BUILD[kind](A, b, n, partition=partition, batch=batch, reg=0.05, seed=seed), A, b


def worker_rows(f):
    """(n, m, d) samples and (n, m) targets of every worker."""
    return f.features.reshape(f.n, -1, f.d), f.labels


def sample_grads(f, x):
    """(n, m, d): the gradient of every sample loss at x (without the ridge term), by loops."""
    A, y = worker_rows(f)
    G = np.empty(A.shape)
    for i, r in itertools.product(range(A.shape[0]), range(A.shape[1])):
        z = float(A[i, r] @ x)
        slope = z - y[i, r] if f.kind == ob.SQUARED else -y[i, r] / (1 + math.exp(y[i, r] * z))
        G[i, r] = slope * A[i, r]
    return G


def brute_loss(f, x):
    A, y = worker_rows(f)
    z = A @ x
    sample = 0.5 * (z - y) ** 2 if f.kind == ob.SQUARED else np.log1p(np.exp(-y * z))
    return float(sample.mean() + 0.5 * f.reg * x @ x)


# ---- constants against brute force -----------------------------------------------------------


@pytest.mark.parametrize("partition", ob.PARTITIONS)
@pytest.mark.parametrize("kind", BUILD)
def test_constants_against_brute_force(kind, partition):
    f, _, _ = small(kind, partition)
    A, _ = worker_rows(f)
    singular = np.stack([np.linalg.svd(Ai, compute_uv=False) for Ai in A]) ** 2 / A.shape[1]
    scale = 1.0 if kind == "least_squares" else 0.25
    assert pytest.approx(scale * singular.max() + f.reg, rel=1e-12) == f.L
    assert f.mu == pytest.approx(singular.min() + f.reg if kind == "least_squares" else f.reg, rel=1e-12)
    # x*: stationary (both engines' gradients), and for least squares the normal equations
    assert np.linalg.norm(f.grad(f.x_star)) <= 1e-12 and np.linalg.norm(f.reference_grad(f.x_star)) <= 1e-12
    if kind == "least_squares":
        F, y = f.features, f.labels.ravel()
        normal = np.linalg.solve(F.T @ F / F.shape[0] + f.reg * np.eye(f.d), F.T @ y / F.shape[0])
        np.testing.assert_allclose(f.x_star, normal, rtol=1e-10)
    assert f.f_star == pytest.approx(brute_loss(f, f.x_star), rel=1e-12)
    # zeta2: the workers' gradients at x* by loops
    G = sample_grads(f, f.x_star).mean(axis=1) + f.reg * f.x_star
    assert f.zeta2 == pytest.approx(float(((G - G.mean(axis=0)) ** 2).sum(axis=1).mean()), rel=1e-10)
    # sigma2: every ordered minibatch of B = 2 rows drawn with replacement, equally likely
    S = sample_grads(f, f.x_star)
    m = S.shape[1]
    var = [
        np.mean(
            [
                np.sum((S[i, list(rows)].mean(axis=0) - S[i].mean(axis=0)) ** 2)
                for rows in itertools.product(range(m), repeat=f.batch)
            ]
        )
        for i in range(f.n)
    ]
    assert f.sigma2 == pytest.approx(float(np.mean(var)), rel=1e-10)


@pytest.mark.parametrize("kind", BUILD)
def test_gradients_match_finite_differences_on_the_shipped_data(kind):
    A, b = load_dataset("breast_cancer")
    f = BUILD[kind](A, b, 8, partition="label")
    x = f.x_star + 0.3 * np.random.default_rng(0).standard_normal(f.d)
    eps = 1e-6
    fd = np.array([(f.loss(x + eps * e) - f.loss(x - eps * e)) / (2 * eps) for e in np.eye(f.d)])
    assert np.linalg.norm(fd - f.grad(x)) <= 1e-6 * np.linalg.norm(f.grad(x))
    np.testing.assert_allclose(f.reference_grad(x), f.grad(x), rtol=1e-11, atol=1e-14)
    assert f.reference_loss(x) == pytest.approx(f.loss(x), rel=1e-13)
    assert f.loss(x) == pytest.approx(brute_loss(f, x), rel=1e-12)


# ---- partitions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", BUILD)
def test_partitions_split_the_same_rows_into_equal_parts(kind):
    (iid, A, b), (label, _, _) = small(kind, "iid"), small(kind, "label")
    target = b if kind == "least_squares" else 2 * b - 1
    for f in (iid, label):
        assert f.features.shape == (15, 3) and f.labels.shape == (3, 5) and f.row_stride == 5
        kept = [int(np.flatnonzero((row == A).all(axis=1))[0]) for row in f.features]
        assert len(set(kept)) == 15  # 16 rows: one left out
        np.testing.assert_array_equal(f.labels.ravel(), target[kept])
    assert sorted(map(tuple, iid.features)) == sorted(map(tuple, label.features))
    assert (np.diff(label.labels.ravel()) >= 0).all() and not (np.diff(iid.labels.ravel()) >= 0).all()
    # the same rows: the same f, x* and f*; only how they are assigned differs
    x = np.random.default_rng(1).standard_normal(3)
    assert iid.loss(x) == pytest.approx(label.loss(x), rel=1e-13)
    np.testing.assert_allclose(iid.x_star, label.x_star, rtol=1e-9)
    assert iid.zeta2 != label.zeta2
    again = small(kind, "iid")[0]
    np.testing.assert_array_equal(again.features, iid.features)
    assert not np.array_equal(small(kind, "iid", seed=1)[0].features[:5], iid.features[:5])


@pytest.mark.parametrize("kind", BUILD)
def test_label_partition_is_more_heterogeneous(kind):
    A, b = load_dataset("breast_cancer")
    iid, label = (BUILD[kind](A, b, 8, partition=p) for p in ob.PARTITIONS)
    assert label.zeta2 > iid.zeta2
    assert iid.f_star == pytest.approx(label.f_star, rel=1e-12)
    c = label.constants()
    assert c["constants_kind"] == "computed from data" and not c["zeta2_uniform"] and not c["sigma2_uniform"]
    assert c["each_strongly_convex"] and c["convex"]


# ---- engines ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    A, b = load_dataset("breast_cancer")
    return {
        "least_squares": ob.least_squares_from_data(A, b, N, partition="label", batch=3, seed=1),
        "logistic": ob.logistic_from_data(A, b, N, partition="iid", batch=3, seed=1),
    }


@pytest.mark.parametrize("kind", BUILD)
@pytest.mark.parametrize("name", ALGORITHMS)
def test_engines_agree_on_objectives_from_data(shipped, name, kind):
    f = shipped[kind]
    timing = TimingModel("shifted_exponential", shift=0.5, stragglers=3, slowdown=4.0, delay=0.1)
    a, b = (
        simulate(f, ALGORITHMS[name](), 30, lr=0.5 / f.L, timing=timing, seed=11, record_every=7, backend=e)
        for e in ("numba", "reference")
    )
    for m in b.columns:
        np.testing.assert_allclose(a[m], b[m], rtol=1e-10, atol=1e-13, err_msg=m)
    assert a["loss_gap"][-1] < a["loss_gap"][0]


@pytest.mark.parametrize("kind", BUILD)
def test_the_reference_engine_runs_objectives_from_data_without_compiled_code(shipped, kind, monkeypatch):
    from mixlab.kernels import timing

    def refuse(*args, **kwargs):
        raise AssertionError("the reference engine called compiled code")

    for module, fn in (
        (ob, "stochastic_grad"),
        (ob, "full_loss_grad"),
        (timing, "compute_time"),
        (timing, "straggler_mask"),
    ):
        monkeypatch.setattr(module, fn, refuse)
    f = shipped[kind]
    tr = simulate(f, ALGORITHMS["dpsgd"](), 10, lr=0.5 / f.L, backend="reference")
    assert tr["loss_gap"][-1] < tr["loss_gap"][0]


# ---- the shipped dataset ----------------------------------------------------------------------------


def test_the_shipped_dataset_is_the_documented_file():
    raw = gzip.decompress(resources.files("mixlab.data").joinpath(DATASETS["breast_cancer"]).read_bytes())
    readme = (Path(ob.__file__).parents[1] / "data" / "README.md").read_text()
    assert hashlib.sha256(raw).hexdigest() in readme and "CC BY 4.0" in readme
    A, b = load_dataset("breast_cancer")
    assert A.shape == (569, 30) and (b == 0).sum() == 212 and (b == 1).sum() == 357
    np.testing.assert_allclose(A.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(A.std(axis=0), 1, rtol=1e-12)


def test_load_arrays_reads_A_and_b(tmp_path):
    np.savez(tmp_path / "d.npz", A=np.eye(3), b=np.arange(3.0), extra=np.zeros(1))
    A, b = load_arrays(tmp_path / "d.npz")
    np.testing.assert_array_equal(A, np.eye(3))
    np.testing.assert_array_equal(b, np.arange(3.0))


def save_one_array(path):
    with open(path, "wb") as fh:
        np.save(fh, np.eye(2))


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda path: None, r"data file '.*d.npz' must be a readable file; it does not exist"),
        (save_one_array, r"must be an .npz archive \(numpy.savez\): File is not a zip file"),
        (
            lambda path: path.write_bytes(b"PK\x03\x04 not a zip"),
            r"must be an .npz archive \(numpy.savez\): ",
        ),
        (lambda path: np.savez(path, A=np.eye(2)), r"must hold arrays A and b; it lacks b \(it has: A\)"),
        (
            lambda path: np.savez(path, A=np.array([None]), b=np.ones(1)),
            r"array A of data file '.*d.npz' must hold a numeric array; it holds Python objects",
        ),
    ],
)
def test_load_arrays_refuses(tmp_path, make, match):
    make(tmp_path / "d.npz")
    with pytest.raises(ParameterError, match=match):
        load_arrays(tmp_path / "d.npz")


# ---- refusals ----------------------------------------------------------------------------------------

A5 = np.arange(10.0).reshape(5, 2)


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: ob.least_squares_from_data([["a", "b"]], [1.0], 1),
            r"A and b must be arrays of real numbers",
        ),
        (
            lambda: ob.least_squares_from_data(np.ones(5), np.ones(5), 1),
            r"A must be a 2-D array \(rows x features, at least one of each\); got shape \(5,\)",
        ),
        (
            lambda: ob.least_squares_from_data(np.ones((0, 2)), np.ones(0), 1),
            r"A must be a 2-D array .* \(0, 2\)",
        ),
        (
            lambda: ob.least_squares_from_data(A5, np.ones(4), 1),
            r"b must have shape \(rows of A,\) = \(5,\); got \(4,\)",
        ),
        (
            lambda: ob.least_squares_from_data(np.where(A5 == 3, np.nan, A5), np.ones(5), 1),
            r"A must be finite; entry \(1, 1\) is nan",
        ),
        (
            lambda: ob.least_squares_from_data(A5, [1, 2, np.inf, 4, 5], 1),
            r"b must be finite; entry \(2,\) is inf",
        ),
        (
            lambda: ob.least_squares_from_data(A5, np.ones(5), 6),
            r"n must be <= the rows of A \(every worker needs a sample\); got n = 6, rows = 5",
        ),
        (lambda: ob.least_squares_from_data(A5, np.ones(5), 0), r"n must be >= 1, got 0"),
        (
            lambda: ob.least_squares_from_data(A5, np.ones(5), 2, partition="random"),
            r"unknown partition 'random'; valid: iid, label",
        ),
        (lambda: ob.least_squares_from_data(A5, np.ones(5), 2, batch=0), r"batch must be >= 1, got 0"),
        (lambda: ob.least_squares_from_data(A5, np.ones(5), 2, reg=-1), r"reg must be >= 0, got -1.0"),
        (
            lambda: ob.logistic_from_data(A5, np.ones(4), 1),
            r"y must have shape \(rows of A,\) = \(5,\); got \(4,\)",
        ),
        (
            lambda: ob.logistic_from_data(A5, [0, 1, 2, 1, 0], 1),
            r"y must hold class labels in \{-1, \+1\} or \{0, 1\}; got the values \[0.0, 1.0, 2.0\]",
        ),
        (lambda: ob.logistic_from_data(A5, [-1, 0, 1, 1, 0], 1), r"got the values \[-1.0, 0.0, 1.0\]"),
        (lambda: ob.logistic_from_data(A5, np.ones(5), 1, reg=0), r"reg must be > 0, got 0.0"),
        (
            lambda: ob.make_objective("quadratic", 2, data=(A5, np.ones(5))),
            r"unknown objective from data 'quadratic'; valid: least_squares, logistic",
        ),
        (
            lambda: ob.make_objective("least_squares", 2, data=(A5, np.ones(5)), sigma2=1.0),
            r"objective least_squares from data does not take sigma2 \(--noise\) \(it takes: partition, batch, reg, seed\)",
        ),
        (lambda: load_dataset("iris"), r"unknown dataset 'iris'; valid: breast_cancer"),
    ],
)
def test_bad_data_objective_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_newton_that_does_not_converge_is_refused(monkeypatch):
    monkeypatch.setattr(ob, "DATA_NEWTON_TOL", 0.0)
    with pytest.raises(
        ParameterError, match=r"Newton's method must reach \|\|grad f\|\| <= 0.0 in 100 steps; got"
    ):
        small("logistic")


def test_the_runner_builds_from_data_and_refuses_a_dimension():
    from mixlab.runs import run

    A, b = load_dataset("breast_cancer")
    tr = run(
        "dpsgd",
        "logistic",
        workers=8,
        steps=20,
        data=(A, b),
        objective_params={"partition": "label"},
        backend="reference",
    )
    assert tr.params["objective"] == "logistic_from_data" and tr.params["dim"] == 30
    with pytest.raises(
        ParameterError,
        match=r"dim does not apply to an objective from data \(d is the columns "
        r"of A\); got dim = 30",
    ):
        run("dpsgd", "logistic", workers=8, steps=20, dim=30, data=(A, b))
