"""Every kernel backend against the NumPy reference, on the same inputs.

The ``cuda`` parameter carries the ``cudasim`` mark: it runs in its own pytest
process with NUMBA_ENABLE_CUDASIM=1 (``make test`` does both).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mixlab.errors import BackendUnavailableError, MatrixError, ParameterError
from mixlab.kernels.averaging.backends import cuda_available
from mixlab.kernels.averaging.group_averaging import group_average
from mixlab.kernels.averaging.mixing import dense_mix, sparse_mix
from mixlab.testing.strategies import connected_graphs, doubly_stochastic_matrices, group_partitions
from mixlab.theory.weights import mixing_matrix

BACKENDS = ["numba", pytest.param("cuda", marks=pytest.mark.cudasim)]
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]
N, S = 12, 3


def assert_agrees(actual, expected, dtype):
    scale = max(1.0, float(np.abs(expected).max(initial=0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=RTOL[dtype] * scale)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(
    groups=group_partitions(N, S),
    rule=st.sampled_from(["mean", "self_weighted"]),
    d=st.integers(1, 9),
    stale=st.booleans(),
    seed=st.integers(0, 2**31),
)
@settings(max_examples=15)
def test_group_average_matches_reference(backend, dtype, groups, rule, d, stale, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)).astype(dtype)
    kw = {}
    if stale:
        kw = {"stale_mask": rng.random(N) < 0.4, "stale": rng.standard_normal((N, d)).astype(dtype)}
    expected = group_average(X.copy(), groups, rule, backend="reference", **kw)
    actual = X.copy()
    result = group_average(actual, groups, rule, backend=backend, **kw)
    assert result is actual  # in place
    assert_agrees(actual, expected, dtype)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(
    G=connected_graphs(min_n=2, max_n=10),
    rule=st.sampled_from(["metropolis", "uniform"]),
    d=st.integers(1, 7),
    seed=st.integers(0, 2**31),
)
@settings(max_examples=15)
def test_sparse_mix_matches_reference(backend, dtype, G, rule, d, seed):
    W = mixing_matrix(G, rule, sparse=True)
    X = np.random.default_rng(seed).standard_normal((G.number_of_nodes(), d)).astype(dtype)
    expected = sparse_mix(W, X, backend="reference")
    out = np.full_like(X, np.nan)
    assert sparse_mix(W, X, out, backend=backend) is out
    assert_agrees(out, expected, dtype)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(W=doubly_stochastic_matrices(max_n=8), d=st.integers(1, 7), seed=st.integers(0, 2**31))
@settings(max_examples=15)
def test_dense_mix_matches_reference(backend, dtype, W, d, seed):
    X = np.random.default_rng(seed).standard_normal((W.shape[0], d)).astype(dtype)
    assert_agrees(dense_mix(W, X, backend=backend), dense_mix(W, X, backend="reference"), dtype)


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_group_average_leaves_ungrouped_workers_and_preserves_mean(backend):
    X = np.random.default_rng(0).standard_normal((6, 4))
    Y = group_average(X.copy(), np.array([[0, 3], [5, 1]]), "mean", backend=backend)
    np.testing.assert_array_equal(Y[[2, 4]], X[[2, 4]])
    np.testing.assert_allclose(Y.mean(axis=0), X.mean(axis=0), atol=1e-15)
    np.testing.assert_allclose(Y[0], (X[0] + X[3]) / 2, atol=1e-15)


def test_stale_members_contribute_their_stale_row_and_receive_the_result():
    X = np.array([[0.0], [10.0], [20.0]])
    stale = np.array([[0.0], [4.0], [0.0]])
    mask = np.array([False, True, False])
    group_average(X, np.array([[0, 1, 2]]), "mean", stale_mask=mask, stale=stale)
    np.testing.assert_allclose(X.ravel(), [8.0, 8.0, 8.0])  # (0 + 4 + 20) / 3
    X = np.array([[0.0], [10.0], [20.0]])
    group_average(X, np.array([[0, 1, 2]]), "self_weighted", stale_mask=mask, stale=stale)
    np.testing.assert_allclose(X.ravel(), [6.0, 8.5, 11.0])  # (24 + own current row) / 4


def test_cuda_backend_without_gpu_raises_one_clear_error():
    import mixlab.kernels.averaging.cuda_cores  # noqa: F401  (imports cleanly without a GPU)

    if cuda_available():
        pytest.skip("a CUDA device or the simulator is present")
    with pytest.raises(BackendUnavailableError, match=r"backend 'cuda' needs a CUDA GPU"):
        group_average(np.zeros((2, 2)), np.array([[0, 1]]), backend="cuda")
    with pytest.raises(RuntimeError, match=r"NUMBA_ENABLE_CUDASIM=1"):
        sparse_mix(sp.identity(2, format="csr"), np.zeros((2, 2)), backend="cuda")


X4 = np.zeros((4, 3))
G4 = np.array([[0, 1], [2, 3]])


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (
            lambda: group_average(X4.copy(), G4, backend="opencl"),
            ParameterError,
            r"unknown backend 'opencl'; valid: numba, cuda, reference",
        ),
        (lambda: group_average(X4.copy(), G4, "max"), ParameterError, r"unknown averaging rule 'max'"),
        (
            lambda: group_average(X4.astype(int), G4),
            ParameterError,
            r"X must be float32 or float64, got dtype int64",
        ),
        (
            lambda: group_average(np.zeros(4), G4),
            ParameterError,
            r"X must be 2-D \(n workers x d\), got shape \(4,\)",
        ),
        (lambda: group_average(np.zeros((3, 4)).T, G4), ParameterError, r"X must be C-contiguous"),
        (lambda: group_average([[0.0]], G4), ParameterError, r"X must be a NumPy array, got list"),
        (
            lambda: group_average(np.array([[0.0, np.inf]] * 4), G4),
            ParameterError,
            r"X must be finite; entry \(0, 1\) is inf",
        ),
        (
            lambda: group_average(X4.copy(), np.array([[0, 4]])),
            ParameterError,
            r"group members must lie in \[0, 4\); got range \[0, 4\]",
        ),
        (
            lambda: group_average(X4.copy(), np.array([[0, 1], [1, 2]])),
            ParameterError,
            r"groups must be disjoint; worker 1 appears 2 times",
        ),
        (
            lambda: group_average(X4.copy(), np.array([0, 1])),
            ParameterError,
            r"groups must be an integer array of shape \(m, S\)",
        ),
        (
            lambda: group_average(X4.copy(), G4, stale_mask=np.zeros(4, bool)),
            ParameterError,
            r"stale_mask and stale must be given together",
        ),
        (
            lambda: group_average(X4.copy(), G4, stale_mask=np.zeros(3, bool), stale=X4),
            ParameterError,
            r"stale_mask must be a bool array of shape \(4,\)",
        ),
        (
            lambda: group_average(X4.copy(), G4, stale_mask=np.zeros(4, bool), stale=np.zeros((4, 2))),
            ParameterError,
            r"stale must have X's shape \(4, 3\)",
        ),
        (
            lambda: sparse_mix(np.eye(4), X4),
            MatrixError,
            r"W must be a scipy.sparse matrix for sparse_mix, got ndarray",
        ),
        (lambda: dense_mix(sp.identity(4), X4), MatrixError, r"W must be a dense NumPy matrix for dense_mix"),
        (
            lambda: sparse_mix(sp.identity(3, format="csr"), X4),
            MatrixError,
            r"W must be n x n with n = X.shape\[0\] = 4, got shape \(3, 3\)",
        ),
        (
            lambda: dense_mix(np.full((4, 4), np.nan), X4),
            ParameterError,
            r"W must be finite; entry \(0, 0\) is nan",
        ),
        (lambda: dense_mix(np.eye(4), X4, out=X4), ParameterError, r"out must not overlap X"),
        (
            lambda: dense_mix(np.eye(4), X4, out=np.zeros((4, 3), np.float32)),
            ParameterError,
            r"out must have shape \(4, 3\) and dtype float64",
        ),
    ],
)
def test_bad_kernel_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_read_only_X_is_refused_for_in_place_averaging():
    X = np.zeros((4, 3))
    X.flags.writeable = False
    with pytest.raises(ParameterError, match="X must be writeable"):
        group_average(X, G4)


def test_sparse_mix_does_not_modify_a_non_canonical_caller_matrix():
    W = sp.csr_matrix(
        (np.array([0.25, 0.25, 0.5, 1.0]), np.array([1, 1, 0, 1]), np.array([0, 3, 4])), shape=(2, 2)
    )  # duplicate entry (0, 1), unsorted
    before = (W.indptr.copy(), W.indices.copy(), W.data.copy())
    Y = sparse_mix(W, np.array([[2.0], [4.0]]))
    np.testing.assert_allclose(Y.ravel(), [0.5 * 4 + 0.5 * 2, 4.0])
    for a, b in zip(before, (W.indptr, W.indices, W.data), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("d", [1, 2047, 2048, 2049, 5000])
def test_column_blocks_cover_every_column(d):
    """Widths around the CPU column block (config.CPU_COLUMN_BLOCK = 2048)."""
    rng = np.random.default_rng(d)
    X = rng.standard_normal((6, d))
    groups = np.array([[0, 5, 2], [1, 3, 4]])
    for rule in ("mean", "self_weighted"):
        np.testing.assert_allclose(
            group_average(X.copy(), groups, rule),
            group_average(X.copy(), groups, rule, backend="reference"),
            atol=1e-12,
        )
    W = np.abs(rng.standard_normal((6, 6)))
    np.testing.assert_allclose(dense_mix(W, X), W @ X, atol=1e-11)
    np.testing.assert_allclose(sparse_mix(sp.csr_matrix(W), X), W @ X, atol=1e-11)
