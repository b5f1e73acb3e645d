"""Algorithms, one module each, found through a registry.

Every module of this package defines one algorithm and registers it (see
:mod:`mixlab.kernels.algorithms.base`); importing the package imports them all,
so a new algorithm is one new module.

>>> from mixlab.kernels.algorithms import ALGORITHMS, build
>>> sorted(ALGORITHMS)[:3]
['adpsgd', 'allreduce', 'dpsgd']
>>> build("local_sgd", 8, local_steps=2).local_steps
2
"""

from __future__ import annotations

import importlib
import pkgutil

from mixlab.kernels.algorithms.base import ALGORITHMS, OPTIONS, Algorithm, Option, build, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")


def __getattr__(name: str) -> type[Algorithm]:
    """Every registered algorithm class is also an attribute of the package (``WAGMA``, ...)."""
    for cls in ALGORITHMS.values():
        if cls.__name__ == name:
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ALGORITHMS", "OPTIONS", "Algorithm", "Option", "build", "register"]
