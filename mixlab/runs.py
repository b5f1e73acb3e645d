"""Build a run from names (objective, algorithm and its options) and simulate it.

>>> tr = run("wagma", "quadratic", workers=16, steps=50, group_size=4, backend="reference")
>>> tr.params["algorithm"], tr.params["group_size"], len(tr)
('wagma', 4, 51)
"""

from __future__ import annotations

from mixlab.errors import ParameterError
from mixlab.kernels.algorithms import build as build_algorithm
from mixlab.kernels.engines import simulate
from mixlab.kernels.objectives import OBJECTIVES, make_objective
from mixlab.kernels.step_sizes import step_sizes
from mixlab.kernels.timing import TimingModel
from mixlab.validate import require_choice

__all__ = ["build_algorithm", "run"]


def run(
    algorithm: str,
    objective: str,
    *,
    workers: int,
    steps: int,
    dim: int | None = None,
    lr: float = 0.1,
    lr_schedule: str = "constant",
    seed: int = 0,
    backend: str = "numba",
    record_every: int | None = None,
    timing: TimingModel | None = None,
    objective_params: dict | None = None,
    data: tuple | None = None,
    **algorithm_options,
):
    """Generate the objective (from ``seed``, dimension ``dim``, default 16) or build it
    from the user's ``data`` (A, b) (``seed`` shuffles the rows; d is the columns of A,
    ``dim`` is refused), build the algorithm from its options (an option it does not
    take is refused), simulate; returns a Trajectory."""
    require_choice("objective", objective, OBJECTIVES)
    if data is not None and dim is not None:
        raise ParameterError(
            f"dim does not apply to an objective from data (d is the columns of A); got dim = {dim}"
        )
    shape = {} if data is not None else {"d": 16 if dim is None else dim}
    f = make_objective(objective, workers, data=data, seed=seed, **shape, **(objective_params or {}))
    alg = build_algorithm(algorithm, workers, seed=seed, **algorithm_options)
    eta = step_sizes(lr, steps, lr_schedule)
    every = record_every or max(1, steps // 100)
    return simulate(f, alg, steps, lr=eta, timing=timing, seed=seed, record_every=every, backend=backend)
