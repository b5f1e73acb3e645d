"""The engine protocol: an engine runs any registered algorithm it implements,
or refuses it by name.

An engine is an object with a ``name``, ``supports(algorithm) -> bool`` and
``run(objective, algorithm, steps, lr, timing, seed, record_every, X0) -> dict``
returning the trajectory columns (:data:`mixlab.kernels.trajectory.COLUMNS`).
It reads an algorithm's semantics from the algorithm unit (its reference or
compiled step), never by testing its type.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from mixlab.errors import ParameterError


class Engine(Protocol):
    name: str

    def supports(self, algorithm) -> bool: ...

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
    ) -> dict: ...


def unsupported(engine: str, algorithm: str) -> ParameterError:
    return ParameterError(f"engine {engine!r} does not implement algorithm {algorithm!r}")


def due(t: int, steps: int, record_every: int) -> bool:
    """Record after step t (0-based) ends: every record_every steps and at the end."""
    return (t + 1) % record_every == 0 or t + 1 == steps


def record_count(steps: int, record_every: int) -> int:
    return 1 + sum(1 for t in range(steps) if due(t, steps, record_every))
