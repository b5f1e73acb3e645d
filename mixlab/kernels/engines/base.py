"""The engine protocol: an engine runs any registered algorithm it implements,
or refuses it by name.

An engine is an object with a ``name``, ``supports(algorithm) -> bool`` and
``run(objective, algorithm, steps, lr, timing, seed, record_every, X0) -> dict``
returning the trajectory columns (:data:`mixlab.kernels.trajectory.COLUMNS`),
ending at the first record that :func:`mixlab.kernels.trajectory.divergence_code`
calls divergent (limits from the first record and
:func:`~mixlab.kernels.trajectory.model_scale`). It reads an algorithm's semantics from the algorithm unit (its reference or
compiled step), never by testing its type.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from mixlab.errors import ParameterError


class Engine(Protocol):
    """What an engine provides: a ``name``, :meth:`supports` and :meth:`run`.

    A structural type (a ``typing.Protocol``): engines do not inherit from it and
    it is not instantiated.

    Parameters
    ----------
    *args, **kwargs
        Not accepted: a protocol class cannot be instantiated.
    """

    name: str

    def supports(self, algorithm) -> bool:
        """Whether this engine implements ``algorithm``.

        Parameters
        ----------
        algorithm : Algorithm
            An algorithm spec; an engine reads its ``kind`` and the steps it defines,
            never its type.

        Returns
        -------
        bool
            True if :meth:`run` can run it.
        """
        ...

    def run(
        self,
        objective,
        algorithm,
        steps: int,
        lr: np.ndarray,
        timing,
        seed: int,
        record_every: int,
        X0: np.ndarray,
    ) -> dict:
        """Run ``algorithm`` on ``objective`` and return the trajectory columns.

        Inputs are already validated by :func:`mixlab.simulate`.

        Parameters
        ----------
        objective : Objective
            The problem on n workers in dimension d.
        algorithm : Algorithm
            A spec this engine supports, checked against n.
        steps : int
            Number of iterations T >= 1 (event-driven: per worker).
        lr : numpy.ndarray, (steps,)
            Step sizes eta_t > 0.
        timing : TimingModel
            Compute times, stragglers and alpha-beta costs.
        seed : int
            Seed of the run's draws.
        record_every : int
            Record every this many steps, and after the last.
        X0 : numpy.ndarray, (n, d)
            The initial models.

        Returns
        -------
        dict
            name -> (records,) array for every name of
            :data:`mixlab.kernels.trajectory.COLUMNS`; row 0 is the initial state, and
            a divergent run stops at (and its columns end with) its first divergent record.
        """
        ...


def unsupported(engine: str, algorithm: str) -> ParameterError:
    """The error an engine gives for an algorithm it does not implement.

    Parameters
    ----------
    engine : str
        The engine's name.
    algorithm : str
        The algorithm's name.

    Returns
    -------
    ParameterError
        The error, to be raised by the caller.
    """
    return ParameterError(f"engine {engine!r} does not implement algorithm {algorithm!r}")


def due(t: int, steps: int, record_every: int) -> bool:
    """Whether to record after step t (0-based) ends: every record_every steps and at the end.

    Parameters
    ----------
    t : int
        The step that just ended, 0-based.
    steps : int
        Number of steps T of the run.
    record_every : int
        Recording period, >= 1.

    Returns
    -------
    bool
        True when (t + 1) mod record_every = 0 or t + 1 = T.
    """
    return (t + 1) % record_every == 0 or t + 1 == steps


def record_count(steps: int, record_every: int) -> int:
    """Number of records of a run: the initial state and every step :func:`due` selects.

    Parameters
    ----------
    steps : int
        Number of steps T of the run.
    record_every : int
        Recording period, >= 1.

    Returns
    -------
    int
        1 + floor(T / record_every), plus 1 when record_every does not divide T.

    Examples
    --------
    >>> record_count(10, 4)  # steps 0, 4, 8 and 10
    4
    """
    return 1 + sum(1 for t in range(steps) if due(t, steps, record_every))
