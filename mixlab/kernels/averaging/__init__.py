"""Compiled averaging kernels: group averaging and sparse/dense mixing, each with
Numba, CUDA and NumPy-reference backends (:mod:`~mixlab.kernels.averaging.backends`)."""
