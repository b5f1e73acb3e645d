"""mixlab: theory and verification of decentralized and asynchronous model averaging.

The public API is loaded on first use (``import mixlab`` stays light):

>>> import mixlab
>>> tr = mixlab.run("wagma", "quadratic", workers=16, steps=20, group_size=4, backend="reference")
>>> tr.params["algorithm"], sorted(mixlab.ALGORITHMS)[:3]
('wagma', ['adpsgd', 'allreduce', 'dpsgd'])

Design, notation and the semantics of every algorithm: docs/design.md.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mixlab")
except PackageNotFoundError:  # a source tree that was not installed
    __version__ = "0+unknown"

#: public name -> the module that defines it
_API = {
    # runs
    "run": "mixlab.runs",
    "build_algorithm": "mixlab.runs",
    "simulate": "mixlab.kernels.engines",
    "ALGORITHMS": "mixlab.kernels.algorithms",
    "ENGINES": "mixlab.kernels.engines",
    "TimingModel": "mixlab.kernels.timing",
    "Trajectory": "mixlab.kernels.trajectory",
    "step_sizes": "mixlab.kernels.step_sizes",
    # objectives
    "make_objective": "mixlab.kernels.objectives",
    "quadratic": "mixlab.kernels.objectives",
    "heterogeneous_quadratic": "mixlab.kernels.objectives",
    "least_squares": "mixlab.kernels.objectives",
    "logistic": "mixlab.kernels.objectives",
    "robust": "mixlab.kernels.objectives",
    "least_squares_from_data": "mixlab.kernels.objectives",
    "logistic_from_data": "mixlab.kernels.objectives",
    "custom_objective": "mixlab.kernels.objectives",
    "load_dataset": "mixlab.data",
    # topologies, weights, spectra, schedules
    "make_graph": "mixlab.theory.graphs",
    "mixing_matrix": "mixlab.theory.weights",
    "optimal_weights": "mixlab.proofs.optimal_weights",
    "spectral_summary": "mixlab.theory.spectral",
    "window_sums": "mixlab.theory.spectral",
    "ButterflyGroups": "mixlab.theory.groups",
    "RandomGroups": "mixlab.theory.groups",
    "OnePeerExponential": "mixlab.theory.schedules",
    "mixing_period": "mixlab.theory.schedules",
    # averaging kernels
    "group_average": "mixlab.kernels.averaging.group_averaging",
    "sparse_mix": "mixlab.kernels.averaging.mixing",
    "dense_mix": "mixlab.kernels.averaging.mixing",
    # version age and capacity
    "age": "mixlab.age_and_capacity",
    "capacity": "mixlab.age_and_capacity",
    "simulate_age": "mixlab.kernels.gossip.monte_carlo",
    "simulate_gossip_learning": "mixlab.kernels.gossip.learning",
    # theorems and verification
    "all_theorems": "mixlab.theory.theorems",
    "minimizing_step_size": "mixlab.theory.step_size",
    "predict_second_moment": "mixlab.theory.second_moment",
    "verify": "mixlab.verification",
    # errors
    "MixlabError": "mixlab.errors",
    "ParameterError": "mixlab.errors",
    "AssumptionError": "mixlab.errors",
    "ResourceError": "mixlab.errors",
    "DivergenceWarning": "mixlab.errors",
    # the closed forms of the structured families
    "structured_spectrum": "mixlab.theory.structured",
}
_RENAMED = {"predict_second_moment": "predict"}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'mixlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
