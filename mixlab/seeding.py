"""One place that turns a user's ``seed`` argument into a NumPy generator."""

from __future__ import annotations

import numpy as np

from mixlab.errors import ParameterError

Seed = int | np.random.Generator | np.random.SeedSequence | None

#: The largest integer seed: compiled kernels take seeds as int64.
SEED_MAX = 2**63 - 1


def as_generator(seed: Seed) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed``.

    An ``int`` or ``SeedSequence`` gives a fresh PCG64 generator (same seed, same
    stream); a ``Generator`` is returned as is (its state advances); ``None``
    draws fresh entropy from the OS.

    Parameters
    ----------
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        The user's seed; an int must be >= 0 (``bool`` is refused).

    Returns
    -------
    numpy.random.Generator
        A new PCG64 generator, or ``seed`` itself when it is a ``Generator``.

    Raises
    ------
    ParameterError
        If ``seed`` is a negative int or of another type.

    Examples
    --------
    >>> bool(as_generator(7).integers(10**6) == as_generator(7).integers(10**6))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ParameterError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise ParameterError(
        f"seed must be an int, a numpy.random.Generator, a SeedSequence or None, got {type(seed).__name__}"
    )


def seed_sequence(seed: Seed) -> np.random.SeedSequence:
    """Return a ``SeedSequence`` for ``seed`` (a ``Generator`` contributes one draw of entropy).

    Used where a stream must be addressable by index (``spawn_key``), e.g. the
    groups of iteration t of a random group schedule.

    Parameters
    ----------
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        As for :func:`as_generator`; a ``SeedSequence`` is returned as is.

    Returns
    -------
    numpy.random.SeedSequence
        The sequence (same int, same entropy; ``None``: fresh OS entropy).

    Raises
    ------
    ParameterError
        If ``seed`` is a negative int or of another type.

    Examples
    --------
    >>> seed_sequence(3).entropy
    3
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    as_generator(seed)  # validates
    return np.random.SeedSequence(seed)
