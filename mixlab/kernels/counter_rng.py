"""Counter-based random numbers: draw k of stream s under seed is a pure
function of (seed, s, k).

Every random quantity of an optimizer run (gradient noise, minibatch indices,
compute times, straggler sets, gossip peers) is addressed by a counter built
from (iteration, worker, component), so the compiled engine and the NumPy
reference engine draw the same numbers in any evaluation order, and
asynchronous runs do not depend on event order. The mixer is SplitMix64
(Steele, Lea & Flood, OOPSLA 2014), applied three times to
(seed, stream, counter). Uniforms are (m + 1/2) 2^-53, m an integer, in (0, 1);
the scalar (Numba) and vector (NumPy) versions agree bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np

from mixlab.kernels.config import NUMBA_JIT

#: Streams (one per kind of draw).
NOISE, BATCH, COMPUTE, STRAGGLER, PEER, INIT, GOSSIP, UPDATE = 1, 2, 3, 4, 5, 6, 7, 8

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 2.0**-53


@numba.njit(**NUMBA_JIT)
def _mix(z):
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(**NUMBA_JIT)
def uniform(seed, stream, counter):
    """U(0, 1) draw number ``counter`` of ``stream`` under ``seed`` (compiled).

    Parameters
    ----------
    seed : int
        The run seed (>= 0).
    stream : int
        The kind of draw, one of the module's stream constants (``NOISE``, ``BATCH``, ...).
    counter : int
        Index of the draw within the stream (>= 0).

    Returns
    -------
    float
        (m + 1/2) 2^-53 for an integer m in [0, 2^53), so in (0, 1); a pure function of
        (seed, stream, counter), bit-identical to :func:`uniform_np`.

    Examples
    --------
    >>> u = uniform(0, NOISE, 7)
    >>> bool(0 < u < 1), u == uniform(0, NOISE, 7), u == float(uniform_np(0, NOISE, [7])[0])
    (True, True, True)
    """
    h = _mix(_mix(_mix(np.uint64(seed)) + np.uint64(stream)) + np.uint64(counter))
    return (float(h >> _S11) + 0.5) * _TWO_M53


@numba.njit(**NUMBA_JIT)
def normal(seed, stream, counter):
    """N(0, 1) draw ``counter`` of ``stream``: Box-Muller on uniforms 2 counter and 2 counter + 1.

    Parameters
    ----------
    seed : int
        The run seed (>= 0).
    stream : int
        The kind of draw (a stream constant of this module).
    counter : int
        Index of the normal draw within the stream (>= 0).

    Returns
    -------
    float
        A standard normal draw; equal to :func:`normal_np` up to libm rounding (~1e-15).
    """
    u1 = uniform(seed, stream, 2 * counter)
    u2 = uniform(seed, stream, 2 * counter + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def uniform_np(seed: int, stream: int, counters) -> np.ndarray:
    """Vectorized :func:`uniform` over an integer array of counters (NumPy, no compilation).

    Parameters
    ----------
    seed : int
        The run seed (>= 0).
    stream : int
        The kind of draw (a stream constant of this module).
    counters : array_like of int
        Draw indices (>= 0), any shape.

    Returns
    -------
    numpy.ndarray
        float64 uniforms in (0, 1), of the shape of ``counters``.

    Examples
    --------
    >>> uniform_np(0, BATCH, np.arange(3)).shape
    (3,)
    """
    with np.errstate(over="ignore"):
        base = _mix_np(_mix_np(np.array([seed], dtype=np.uint64)) + np.uint64(stream))
        h = _mix_np(base + np.asarray(counters).astype(np.uint64))
    return ((h >> _S11).astype(np.float64) + 0.5) * _TWO_M53


def normal_np(seed: int, stream: int, counters) -> np.ndarray:
    """Vectorized :func:`normal` over an integer array of counters (NumPy, no compilation).

    Parameters
    ----------
    seed : int
        The run seed (>= 0).
    stream : int
        The kind of draw (a stream constant of this module).
    counters : array_like of int
        Indices of the normal draws (>= 0), any shape.

    Returns
    -------
    numpy.ndarray
        float64 standard normal draws, of the shape of ``counters``.
    """
    c = np.asarray(counters, dtype=np.int64)
    u1, u2 = uniform_np(seed, stream, 2 * c), uniform_np(seed, stream, 2 * c + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@numba.njit(**NUMBA_JIT)
def sample_without_replacement(seed, stream, base, n, k, out):
    """Floyd's algorithm: k distinct integers of range(n) into ``out[:k]``.

    Uses uniforms ``base`` .. ``base + k - 1`` of ``stream``, so the NumPy reference
    (:meth:`mixlab.kernels.timing.TimingModel.straggler_mask`) draws the same set.

    Parameters
    ----------
    seed : int
        The run seed (>= 0).
    stream : int
        The kind of draw (a stream constant of this module).
    base : int
        Counter of the first uniform used.
    n : int
        Size of the range sampled from.
    k : int
        Number of distinct integers drawn (0 <= k <= n).
    out : numpy.ndarray
        int64 array of size >= k; ``out[:k]`` receives the sample (in place).

    References
    ----------
    J. Bentley and R. Floyd, "Programming pearls: a sample of brilliance",
    Communications of the ACM 30(9), 1987.
    """
    for m in range(k):
        j = n - k + m
        r = int(uniform(seed, stream, base + m) * (j + 1))
        hit = False
        for q in range(m):
            if out[q] == r:
                hit = True
                break
        out[m] = j if hit else r
