import os

from mixlab.testing import register_profiles

register_profiles()

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    # Tiny launches under the simulator so that several blocks run and the
    # grid-stride loops wrap around.
    from mixlab.kernels import config

    config.CUDA_THREADS_PER_BLOCK = 8
    config.CUDA_MAX_BLOCKS = 3
