"""CUDA backend under the simulator (NUMBA_ENABLE_CUDASIM=1, own pytest process,
tiny sizes; conftest shrinks launches to 8 threads x 3 blocks so the
grid-stride loops wrap). The backend-agreement tests with the ``cudasim``
mark in test_backends.py run in the same process."""

import os

import numpy as np
import pytest
import scipy.sparse as sp

pytestmark = pytest.mark.cudasim
if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip(
        "needs NUMBA_ENABLE_CUDASIM=1 (make test runs it in its own process)", allow_module_level=True
    )

from numba import cuda  # noqa: E402

from mixlab.errors import ParameterError  # noqa: E402
from mixlab.kernels import config  # noqa: E402
from mixlab.kernels.averaging.group_averaging import group_average  # noqa: E402
from mixlab.kernels.averaging.mixing import sparse_mix  # noqa: E402
from mixlab.theory.groups import ButterflyGroups  # noqa: E402


def test_launch_geometry_forces_several_blocks_and_wrapping():
    assert config.cuda_launch(5) == (1, 8)
    blocks, threads = config.cuda_launch(16 * 9)
    assert (blocks, threads) == (3, 8) and blocks * threads < 16 * 9


def test_device_arrays_stay_on_device():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((16, 9))
    groups = ButterflyGroups(16, 4).groups(1)
    dX = cuda.to_device(X)
    assert group_average(dX, groups, "self_weighted", backend="cuda") is dX
    expected = group_average(X.copy(), groups, "self_weighted", backend="reference")
    np.testing.assert_allclose(dX.copy_to_host(), expected, rtol=0, atol=1e-12)


def test_sparse_mix_into_device_output():
    X = np.arange(32.0).reshape(8, 4)
    W = sp.csr_matrix(np.roll(np.eye(8), 1, axis=1) * 0.5 + np.eye(8) * 0.5)
    dout = cuda.device_array_like(X)
    sparse_mix(W, cuda.to_device(X), dout, backend="cuda")
    np.testing.assert_allclose(dout.copy_to_host(), W @ X, atol=1e-12)


def test_device_array_with_a_cpu_backend_is_refused():
    dX = cuda.to_device(np.zeros((4, 2)))
    with pytest.raises(ParameterError, match=r"a CUDA device array needs backend='cuda', got 'numba'"):
        group_average(dX, np.array([[0, 1]]), backend="numba")
    with pytest.raises(ParameterError, match=r"a CUDA device array needs backend='cuda', got 'reference'"):
        sparse_mix(sp.identity(4, format="csr"), dX, backend="reference")
