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
from mixlab.resources import require_memory
from mixlab.validate import require_choice, require_int

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
    backend="numba",
    record_every: int | None = None,
    timing: TimingModel | None = None,
    objective_params: dict | None = None,
    data: tuple | None = None,
    **algorithm_options,
):
    """Simulate a distributed SGD algorithm on an objective, both given by name.

    Generates the objective (from ``seed``, dimension ``dim``) or builds it from
    the user's ``data`` (A, b), builds the algorithm from its options, and runs
    it for ``steps`` iterations with the chosen engine.

    Parameters
    ----------
    algorithm : str
        One of :data:`mixlab.ALGORITHMS` (``"dpsgd"``, ``"wagma"``, ...).
    objective : str
        One of ``quadratic``, ``heterogeneous_quadratic``, ``least_squares``,
        ``logistic``, ``robust``.
    workers : int
        Number of workers n.
    steps : int
        Iterations T.
    dim : int, optional
        Model dimension d (default 16); refused with ``data``, where d is the
        number of columns of A.
    lr : float, default 0.1
        Step size eta (its value at step 0 under a schedule).
    lr_schedule : str, default "constant"
        ``constant``, ``cosine``, ``inverse_sqrt`` or ``step`` (decays by 10 after each
        third of the run), see :func:`mixlab.step_sizes`.
    seed : int, default 0
        Seeds the objective (with ``data``: the row shuffle), the algorithm's
        randomness and the timing model.
    backend : str or Engine, default "numba"
        The compiled engine ("numba"), the NumPy specification ("reference"), real
        processes ("mpi"), or a configured engine such as ``MPIEngine(lockstep=True)``.
    record_every : int, optional
        Record the history every this many steps (default: max(1, steps // 100)).
    timing : TimingModel, optional
        Compute times and stragglers (default: constant unit compute time).
    objective_params : dict, optional
        Keyword arguments of the objective (e.g. ``sigma2``, ``zeta2``); one it
        does not take is refused.
    data : tuple, optional
        ``(A, b)``: the objective from the user's data (``least_squares`` or
        ``logistic``).
    **algorithm_options
        The algorithm's options (``topology``, ``group_size``, ``rule``, ...);
        one it does not take is refused.

    Returns
    -------
    Trajectory
        The recorded history (loss gap, gradient norm, consensus distance Gamma,
        staleness, simulated time), with ``params`` and the objective's constants.

    Raises
    ------
    ParameterError
        On an unknown name, an option or parameter that does not apply, ``dim``
        together with ``data``, or an invalid value.

    See Also
    --------
    mixlab.simulate : The same run from built objects.

    References
    ----------
    X. Lian, C. Zhang, H. Zhang, C.-J. Hsieh, W. Zhang and J. Liu, "Can
    Decentralized Algorithms Outperform Centralized Algorithms? A Case Study for
    Decentralized Parallel Stochastic Gradient Descent", NeurIPS 2017 (D-PSGD).
    S. Li, T. Ben-Nun, G. Nadiradze, S. Di Girolamo, N. Dryden, D. Alistarh and
    T. Hoefler, "Breaking (Global) Barriers in Parallel Stochastic Optimization
    with Wait-Avoiding Group Averaging", IEEE TPDS 32(7), 2021 (WAGMA-SGD).
    docs/design.md, section Algorithms (the semantics of every algorithm).

    Examples
    --------
    >>> import mixlab as ml
    >>> tr = ml.run("dpsgd", "quadratic", workers=4, steps=10, dim=2, backend="reference")
    >>> tr.params["workers"], tr.params["steps"], len(tr)
    (4, 10, 11)
    >>> gap = tr.columns["loss_gap"]
    >>> bool(gap[-1] < gap[0])
    True
    """
    require_choice("objective", objective, OBJECTIVES)
    if data is not None and dim is not None:
        raise ParameterError(
            f"dim does not apply to an objective from data (d is the columns of A); got dim = {dim}"
        )
    shape = {} if data is not None else {"d": 16 if dim is None else dim}
    if data is None:
        _require_run_memory(objective, algorithm, workers, shape["d"], algorithm_options.get("topology"))
    f = make_objective(objective, workers, data=data, seed=seed, **shape, **(objective_params or {}))
    alg = build_algorithm(algorithm, workers, seed=seed, **algorithm_options)
    eta = step_sizes(lr, steps, lr_schedule)
    every = record_every or max(1, steps // 100)
    return simulate(f, alg, steps, lr=eta, timing=timing, seed=seed, record_every=every, backend=backend)


#: Model-sized (n, d) arrays a run holds at once, generously: models, gradients,
#: momentum, the algorithm's buffers (stale copies, trackers, push-sum weights).
RUN_MODEL_COPIES = 8
#: Floats per worker of each generated objective beyond the models (centres,
#: Hessians and their eigenvectors, samples and labels), in units of d (d^2 for
#: the Hessians); the data objectives are counted from their arrays.
OBJECTIVE_FLOATS_PER_WORKER = {"quadratic": (4, 0), "heterogeneous_quadratic": (4, 2)}
#: Bytes per stored entry of a graph held by networkx and its mixing matrix.
GRAPH_BYTES_PER_EDGE = 400


def _require_run_memory(objective: str, algorithm: str, workers, d, topology) -> None:
    """Refuse, before allocating, a run whose arrays would not fit in memory."""
    n = require_int("workers", workers, minimum=1)
    d = require_int("dim", d, minimum=1)
    linear, quadratic = OBJECTIVE_FLOATS_PER_WORKER.get(objective, (80, 0))
    nbytes = 8.0 * n * ((RUN_MODEL_COPIES + linear) * d + quadratic * d * d)
    instead = "reduce the workers n or the dimension d"
    if topology == "complete":
        nbytes += GRAPH_BYTES_PER_EDGE * n * n
        instead = (
            f"{algorithm} on the complete graph stores n^2 weights; allreduce averages exactly without them"
        )
    require_memory(f"a {algorithm} run on {objective} with n = {n}, d = {d}", nbytes, instead)
