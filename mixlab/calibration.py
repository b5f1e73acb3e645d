"""Calibration of the alpha-beta model: fit alpha and beta to measured ``Allreduce``
times on this machine, and hold the simulator's predicted per-iteration times against
measured ones.

Measurement. P ranks time MPI ``Allreduce`` (sum) of d float64 per rank for each
message size d: a few untimed calls, then ``repeats`` calls each preceded by a
``Barrier``; a call's time is the largest over the ranks (the collective ends when
its last rank leaves it), and the size's time is the median over the calls.

Fit. The simulator charges an allreduce of P participants on d floats of w bytes

    T(d) = 2 ceil(log2 P) alpha + 2 (P - 1)/P d w beta

(:meth:`~mixlab.kernels.timing.TimingModel.allreduce_cost`). alpha >= 0 and
beta >= 0 are fitted by nonnegative least squares on the relative errors, i.e.
minimizing sum_d ((T(d) - t_d) / t_d)^2 over the measured times t_d, so that
latency-bound small messages and bandwidth-bound large ones weigh alike; the
relative residuals (T(d) - t_d) / t_d say how well a straight line in d describes
this machine's ``Allreduce`` (MPICH switches algorithms with the message size, and
shared memory caches small messages, so it is a line only approximately).

Prediction. With the fit, allreduce SGD runs for real on the P ranks (the MPI
engine, real mode, one worker per rank: n = P) in dimension d, with a constant
compute time of ``COMPUTE_UNITS`` simulated units, each slept as ``time_unit``
seconds, and the timing model's alpha and beta the fitted ones in those units
(alpha / time_unit, beta / time_unit). The simulator's per-iteration time is then
COMPUTE_UNITS + T(d) units, so it predicts

    COMPUTE_UNITS * time_unit + T(d) seconds per iteration

(read from the runs' own ``sim_time``). The problem is the quadratic
``quadratic(P, d, seed=0)``. The measured time per iteration is the marginal one,
(W(2 T) - W(T)) / T for the ``wall_time`` W of runs of 2 T and T iterations (the
fastest of a few runs each), so that a run's fixed costs (its first and last
records) cancel. The relative error (measured - predicted) / predicted shows,
besides the fit's own error at d, what the model leaves out of a real iteration:
the gradient (O(d) with its Gaussian noise draws, about 50 ns per coordinate on
the 2-core machine this was written on, so from d ~ 10^4 on it outweighs the 1 ms
slept; a user's compute time would include it), a one-float ``MAX`` reduction
of the simulated clocks beside the ``Allreduce`` of d floats, the sleep's
overshoot (the ranks poll MPI every
:data:`~mixlab.kernels.engines.mpi.POLL_SECONDS` while they sleep) and the Python
of each step. On a machine shared with other work, or with more ranks than cores,
the measured times also hold the waits for a core.

Run ``mixlab calibrate --procs P`` (or :func:`calibrate`), which starts
``mpiexec -n P python -m mixlab.calibration``; each rank runs :func:`main`, and
rank 0 prints the result (a table, or one JSON object with ``--json``).

>>> fit = fit_alpha_beta(4, [1, 1024, 65536], [4e-6 + 3e-10 * 12 * d for d in (1, 1024, 65536)])
>>> round(fit.alpha, 12), round(fit.beta, 15)  # 2 ceil(log2 4) = 4 alpha, 2 (3/4) 8 d beta = 12 d beta
(1e-06, 3e-10)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from typing import NamedTuple

import numpy as np

from mixlab.errors import MixlabError, ParameterError, RankFailure
from mixlab.validate import require_int, require_real

#: Message sizes (floats per rank) timed by default.
DEFAULT_SIZES = (1, 16, 256, 4096, 65536, 1048576)
#: Timed calls per size by default.
DEFAULT_REPEATS = 50
#: Model dimensions of the predicted-vs-measured runs by default.
DEFAULT_DIMS = (1024, 16384, 131072)
#: Seconds per simulated time unit in the predicted-vs-measured runs by default.
DEFAULT_TIME_UNIT = 1e-3
#: Constant compute time of an iteration, in simulated units (slept as COMPUTE_UNITS * time_unit s).
COMPUTE_UNITS = 1.0
#: T: the predicted-vs-measured runs have T and 2 T iterations (after a short untimed one).
PREDICTION_STEPS = 20
#: Runs of each length; the fastest of each counts.
PREDICTION_REPEATS = 3
#: Iterations of the untimed run before each timed one (first calls at the size, page faults).
WARM_UP_STEPS = 3
#: Untimed ``Allreduce`` calls before the timed ones of each size.
WARM_UP_CALLS = 3
#: Largest message size accepted (floats per rank: 2 GiB of float64).
MAX_SIZE = 1 << 28


class AlphaBetaFit(NamedTuple):
    """The fitted alpha-beta model of an allreduce and how well it fits.

    Parameters
    ----------
    alpha : float
        Latency per message, seconds (>= 0).
    beta : float
        Time per byte, seconds per byte (>= 0).
    relative_residuals : numpy.ndarray
        float64 (k,): (T(d) - t_d) / t_d for each size d, T the fitted model and t_d
        the measured time.
    """

    alpha: float
    beta: float
    relative_residuals: np.ndarray


def check_sizes(sizes, *, distinct: int = 1) -> tuple[int, ...]:
    """Message sizes as a tuple of ints in [1, :data:`MAX_SIZE`].

    Parameters
    ----------
    sizes : sequence of int
        Floats per rank of each message.
    distinct : int, default 1
        The least number of distinct sizes needed.

    Returns
    -------
    tuple of int
        The sizes, in the given order.

    Raises
    ------
    ParameterError
        If a size is not an integer in [1, MAX_SIZE], or there are fewer than
        ``distinct`` distinct sizes.

    Examples
    --------
    >>> check_sizes([1, np.int64(1024)], distinct=2)
    (1, 1024)
    """
    if isinstance(sizes, str | bytes) or not hasattr(sizes, "__iter__"):
        raise ParameterError(f"sizes must be a sequence of integers, got {sizes!r}")
    out = tuple(require_int("message size", d, minimum=1, maximum=MAX_SIZE) for d in sizes)
    if len(set(out)) < distinct:
        raise ParameterError(
            f"at least {distinct} distinct message sizes are needed, got {list(out)}"
            + (" (alpha and beta need two)" if distinct == 2 else "")
        )
    return out


def parse_sizes(text: str) -> tuple[int, ...]:
    """Comma-separated message sizes, as the ``--sizes`` option takes them.

    Parameters
    ----------
    text : str
        E.g. ``"1,1024,65536"``.

    Returns
    -------
    tuple of int
        The sizes.

    Raises
    ------
    argparse.ArgumentTypeError
        If an entry is not an integer in [1, MAX_SIZE].

    Examples
    --------
    >>> parse_sizes("1, 4096")
    (1, 4096)
    """
    try:
        return check_sizes([int(part) for part in text.split(",")])
    except (ValueError, ParameterError) as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers in [1, {MAX_SIZE}], got {text!r}"
        ) from exc


def measure_allreduce(comm, sizes, repeats: int) -> np.ndarray:
    """Median seconds of one MPI ``Allreduce`` of d float64 per rank, for each size d.

    Collective: every rank of ``comm`` calls it with the same arguments. Per size,
    :data:`WARM_UP_CALLS` untimed calls, then ``repeats`` calls each after a
    ``Barrier``; a call's time is the largest over the ranks.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        The ranks.
    sizes : sequence of int
        Floats per rank of each message, in [1, MAX_SIZE].
    repeats : int
        Timed calls per size, >= 1.

    Returns
    -------
    numpy.ndarray
        float64 (len(sizes),), the same on every rank: the median over the calls
        of the slowest rank's seconds.

    Raises
    ------
    ParameterError
        For a bad size or repeats < 1 (before any MPI call).
    """
    sizes = check_sizes(sizes)
    repeats = require_int("repeats", repeats, minimum=1)
    from mixlab.kernels.engines.mpi import mpi

    MPI = mpi()
    out = np.empty(len(sizes))
    for k, d in enumerate(sizes):
        send, recv = np.ones(d), np.empty(d)
        for _ in range(WARM_UP_CALLS):
            comm.Allreduce(send, recv)
        own = np.empty(repeats)
        for r in range(repeats):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(send, recv)
            own[r] = time.perf_counter() - start
        slowest = np.empty(repeats)
        comm.Allreduce(own, slowest, op=MPI.MAX)
        out[k] = float(np.median(slowest))
    return out


def allreduce_terms(procs: int, d, word_bytes: int = 8) -> np.ndarray:
    """The coefficients of alpha and beta in the allreduce cost of P participants on d floats.

    Parameters
    ----------
    procs : int
        Participants P >= 1.
    d : array_like of int
        Floats per participant.
    word_bytes : int, default 8
        Bytes w per float.

    Returns
    -------
    numpy.ndarray
        float64 (len(d), 2): rows (2 ceil(log2 P), 2 (P - 1)/P d w), so that the
        cost is ``terms @ [alpha, beta]``.

    Examples
    --------
    >>> allreduce_terms(4, [1, 10]).tolist()
    [[4.0, 12.0], [4.0, 120.0]]
    """
    d = np.atleast_1d(np.asarray(d, dtype=np.float64))
    latency = 2 * math.ceil(math.log2(procs)) if procs > 1 else 0
    bandwidth = 2 * (procs - 1) / procs * d * word_bytes
    return np.column_stack([np.full(d.shape, float(latency)), bandwidth])


def fit_alpha_beta(procs: int, sizes, seconds, word_bytes: int = 8) -> AlphaBetaFit:
    """Fit alpha, beta >= 0 of 2 ceil(log2 P) alpha + 2 (P - 1)/P d w beta to measured times.

    Nonnegative least squares on the relative errors (see the module docstring):
    minimize sum_k ((T(d_k) - t_k) / t_k)^2 over alpha, beta >= 0.

    Parameters
    ----------
    procs : int
        Participants P >= 2 of the measured allreduces.
    sizes : sequence of int
        Floats per participant d_k, at least two distinct values.
    seconds : array_like of float
        Measured times t_k > 0, one per size.
    word_bytes : int, default 8
        Bytes w per float.

    Returns
    -------
    AlphaBetaFit
        alpha (s), beta (s per byte) and the relative residuals (T(d_k) - t_k) / t_k.

    Raises
    ------
    ParameterError
        If P < 2, a size is not an integer in [1, MAX_SIZE], there are fewer than two
        distinct sizes, the times are not one finite positive value per size, or
        word_bytes < 1.

    Examples
    --------
    >>> fit = fit_alpha_beta(2, [1, 1000], [2e-6 + 8e-9, 2e-6 + 8e-6])  # alpha 1e-6, beta 1e-9
    >>> round(fit.alpha, 15), round(fit.beta, 18), float(abs(fit.relative_residuals).max()) < 1e-9
    (1e-06, 1e-09, True)
    """
    from scipy.optimize import nnls

    procs = require_int("procs", procs, minimum=2)
    word_bytes = require_int("word_bytes", word_bytes, minimum=1)
    sizes = check_sizes(sizes, distinct=2)
    t = np.asarray(seconds, dtype=np.float64)
    if t.shape != (len(sizes),):
        raise ParameterError(f"seconds must hold one time per size ({len(sizes)}), got shape {t.shape}")
    if not (np.isfinite(t).all() and (t > 0).all()):
        raise ParameterError(f"measured times must be finite and > 0, got {t.tolist()}")
    A = allreduce_terms(procs, sizes, word_bytes) / t[:, None]
    norms = np.linalg.norm(A, axis=0)
    solution, _ = nnls(A / norms, np.ones(len(sizes)))
    alpha, beta = (float(v) for v in solution / norms)
    predicted = allreduce_terms(procs, sizes, word_bytes) @ np.array([alpha, beta])
    return AlphaBetaFit(alpha, beta, (predicted - t) / t)


def predicted_vs_measured(
    alpha: float,
    beta: float,
    dims=DEFAULT_DIMS,
    *,
    time_unit: float = DEFAULT_TIME_UNIT,
    steps: int = PREDICTION_STEPS,
    word_bytes: int = 8,
) -> list[dict]:
    """Simulated vs measured seconds per iteration of allreduce SGD on the ranks of ``COMM_WORLD``.

    Collective (every rank calls it alike). For each d, allreduce SGD on a
    quadratic of n = P workers in dimension d (``quadratic(P, d, seed=0)``), on
    the MPI engine in real mode (``MPIEngine(time_unit=time_unit)``), with a
    constant compute time of :data:`COMPUTE_UNITS` units and the timing model's
    alpha and beta the given ones in simulated units: an untimed run of
    :data:`WARM_UP_STEPS` iterations, then :data:`PREDICTION_REPEATS` runs of
    T = ``steps`` and as many of 2 T iterations; per iteration, (fastest 2 T run -
    fastest T run) / T of the final ``wall_time`` (measured), and the same of
    ``sim_time`` (predicted), so that a run's fixed costs (its first and last
    records) cancel. See the module docstring for what the prediction leaves out.

    Parameters
    ----------
    alpha : float
        Latency per message, seconds (>= 0).
    beta : float
        Time per byte, seconds per byte (>= 0).
    dims : sequence of int, default DEFAULT_DIMS
        Model dimensions d, in [1, MAX_SIZE].
    time_unit : float, default DEFAULT_TIME_UNIT
        Seconds per simulated time unit, > 0.
    steps : int, default PREDICTION_STEPS
        T, iterations of the shorter timed run, >= 1.
    word_bytes : int, default 8
        Bytes w per float of the timing model.

    Returns
    -------
    list of dict
        Per d: ``d``, ``predicted_s`` (simulated time per iteration times
        time_unit: COMPUTE_UNITS time_unit + the fitted allreduce cost of d floats),
        ``predicted_allreduce_s`` (the allreduce's share of it), ``measured_s``
        (wall-clock seconds per iteration) and ``relative_error``
        (measured - predicted) / predicted.

    Raises
    ------
    ParameterError
        For a value outside the ranges above.
    """
    from mixlab.kernels.engines import simulate
    from mixlab.kernels.engines.mpi import MPIEngine, mpi
    from mixlab.kernels.objectives import quadratic
    from mixlab.kernels.timing import TimingModel
    from mixlab.runs import build_algorithm

    alpha = require_real("alpha", alpha, low=0)
    beta = require_real("beta", beta, low=0)
    dims = check_sizes(dims)
    time_unit = require_real("time unit", time_unit, low=0, low_open=True)
    steps = require_int("steps", steps, minimum=1)
    procs = mpi().COMM_WORLD.Get_size()
    timing = TimingModel(
        "constant",
        scale=COMPUTE_UNITS,
        alpha=alpha / time_unit,
        beta=beta / time_unit,
        word_bytes=word_bytes,
    )
    engine = MPIEngine(time_unit=time_unit)
    algorithm = build_algorithm("allreduce", procs)
    rows = []
    for d in dims:
        objective = quadratic(procs, d, seed=0)

        def go(T, objective=objective):
            tr = simulate(objective, algorithm, T, lr=0.5, timing=timing, record_every=T, backend=engine)
            return float(tr["wall_time"][-1] - tr["wall_time"][0]), float(tr["sim_time"][-1])

        go(WARM_UP_STEPS)
        short = [go(steps) for _ in range(PREDICTION_REPEATS)]
        long = [go(2 * steps) for _ in range(PREDICTION_REPEATS)]
        measured = (min(w for w, _ in long) - min(w for w, _ in short)) / steps
        predicted = (long[0][1] - short[0][1]) / steps * time_unit
        rows.append(
            {
                "d": d,
                "predicted_s": predicted,
                "predicted_allreduce_s": timing.allreduce_cost(procs, d) * time_unit,
                "measured_s": measured,
                "relative_error": (measured - predicted) / predicted,
            }
        )
    return rows


def run_calibration(
    comm,
    sizes=DEFAULT_SIZES,
    repeats: int = DEFAULT_REPEATS,
    dims=DEFAULT_DIMS,
    time_unit: float = DEFAULT_TIME_UNIT,
) -> dict:
    """Measure, fit and predict on the ranks of ``comm`` (collective): what :func:`calibrate` returns.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        ``COMM_WORLD`` (the prediction runs on it), P >= 2 ranks.
    sizes : sequence of int, default DEFAULT_SIZES
        Message sizes timed (floats per rank), at least two distinct.
    repeats : int, default DEFAULT_REPEATS
        Timed calls per size.
    dims : sequence of int, default DEFAULT_DIMS
        Dimensions of the predicted-vs-measured runs (empty: none).
    time_unit : float, default DEFAULT_TIME_UNIT
        Seconds per simulated time unit of those runs.

    Returns
    -------
    dict
        ``procs``, ``word_bytes``, ``repeats``, ``alpha`` (s), ``beta`` (s/byte),
        ``worst_relative_residual`` (largest |residual| of the fit), ``allreduce``
        (per size: ``d``, ``bytes``, ``measured_s``, ``fitted_s``,
        ``relative_residual``) and ``prediction`` (the runs' settings and, in
        ``rows``, :func:`predicted_vs_measured`'s rows).

    Raises
    ------
    ParameterError
        If comm has one rank, or for a bad size, repeats, dimension or time unit
        (before any MPI call).
    """
    procs = comm.Get_size()
    if procs < 2:
        raise ParameterError("calibration needs at least 2 ranks (an allreduce of one rank costs nothing)")
    sizes = check_sizes(sizes, distinct=2)
    repeats = require_int("repeats", repeats, minimum=1)
    dims = check_sizes(dims) if len(dims) else ()
    time_unit = require_real("time unit", time_unit, low=0, low_open=True)
    seconds = measure_allreduce(comm, sizes, repeats)
    fit = fit_alpha_beta(procs, sizes, seconds)
    fitted = allreduce_terms(procs, sizes) @ np.array([fit.alpha, fit.beta])
    rows = predicted_vs_measured(fit.alpha, fit.beta, dims, time_unit=time_unit) if dims else []
    return {
        "procs": procs,
        "word_bytes": 8,
        "repeats": repeats,
        "alpha": fit.alpha,
        "beta": fit.beta,
        "worst_relative_residual": float(np.abs(fit.relative_residuals).max()),
        "allreduce": [
            {
                "d": d,
                "bytes": 8 * d,
                "measured_s": float(seconds[k]),
                "fitted_s": float(fitted[k]),
                "relative_residual": float(fit.relative_residuals[k]),
            }
            for k, d in enumerate(sizes)
        ],
        "prediction": {
            "algorithm": "allreduce",
            "engine": "mpi (real mode)",
            "workers": procs,
            "compute_units": COMPUTE_UNITS,
            "time_unit": time_unit,
            "steps": PREDICTION_STEPS,
            "rows": rows,
        },
    }


def format_report(result: dict) -> str:
    """The calibration result as the text ``mixlab calibrate`` prints.

    Parameters
    ----------
    result : dict
        What :func:`calibrate` or :func:`run_calibration` returns.

    Returns
    -------
    str
        alpha, beta, the fit's worst relative residual, the measured and fitted
        allreduce times, and the predicted-vs-measured table (several lines).
    """
    pred = result["prediction"]
    lines = [
        f"alpha-beta fit of MPI Allreduce on P = {result['procs']} ranks "
        f"(float64, median of {result['repeats']} calls per size)",
        f"alpha                    {result['alpha']:.4g} s",
        f"beta                     {result['beta']:.4g} s/byte",
        f"worst relative residual  {result['worst_relative_residual']:.3g}",
        "",
        f"{'d':>10}  {'bytes':>10}  {'measured s':>11}  {'fitted s':>11}  {'rel. residual':>13}",
    ]
    lines += [
        f"{r['d']:>10}  {r['bytes']:>10}  {r['measured_s']:>11.4g}  {r['fitted_s']:>11.4g}  "
        f"{r['relative_residual']:>+13.3f}"
        for r in result["allreduce"]
    ]
    if pred["rows"]:
        lines += [
            "",
            f"predicted vs measured: allreduce SGD, n = {pred['workers']} workers (one per rank), "
            f"MPI engine in real mode, compute {pred['compute_units']:g} unit = "
            f"{pred['compute_units'] * pred['time_unit']:g} s slept; per iteration: (fastest run of "
            f"{2 * pred['steps']} - fastest of {pred['steps']}) / {pred['steps']}",
            f"{'d':>10}  {'predicted s/iter':>16}  {'(allreduce s)':>13}  {'measured s/iter':>15}  "
            f"{'rel. error':>10}",
        ]
        lines += [
            f"{r['d']:>10}  {r['predicted_s']:>16.4g}  {r['predicted_allreduce_s']:>13.4g}  "
            f"{r['measured_s']:>15.4g}  {r['relative_error']:>+10.3f}"
            for r in pred["rows"]
        ]
        lines.append(
            "(predicted: the slept compute and the fitted allreduce of d floats; the model leaves out "
            "the gradient, the clocks' one-float reduction and per-step overheads)"
        )
    return "\n".join(lines)


def _memory(procs: int, sizes, dims) -> float:
    """Estimated bytes of a calibration job: two buffers per size, ~P + 12 rows of d per run."""
    largest = max(sizes)
    run = max(dims, default=0) * (procs + 12)
    return 8.0 * procs * max(2 * largest, run)


def _check(procs, sizes, repeats, dims, time_unit):
    procs = require_int("procs", procs, minimum=2)
    sizes = check_sizes(sizes, distinct=2)
    repeats = require_int("repeats", repeats, minimum=1)
    dims = check_sizes(dims) if len(dims) else ()
    time_unit = require_real("time unit", time_unit, low=0, low_open=True)
    return procs, sizes, repeats, dims, time_unit


def calibrate(
    procs: int,
    sizes=DEFAULT_SIZES,
    repeats: int = DEFAULT_REPEATS,
    dims=DEFAULT_DIMS,
    time_unit: float = DEFAULT_TIME_UNIT,
) -> dict:
    """Start ``mpiexec -n P python -m mixlab.calibration --json`` and return its result.

    ``NUMBA_NUM_THREADS`` is 1 in every rank. See the module docstring for what is
    measured and how.

    Parameters
    ----------
    procs : int
        Number of ranks P >= 2.
    sizes : sequence of int, default DEFAULT_SIZES
        Message sizes timed (floats per rank), at least two distinct, in [1, MAX_SIZE].
    repeats : int, default DEFAULT_REPEATS
        Timed calls per size, >= 1.
    dims : sequence of int, default DEFAULT_DIMS
        Dimensions of the predicted-vs-measured runs (empty: none).
    time_unit : float, default DEFAULT_TIME_UNIT
        Seconds per simulated time unit of those runs, > 0.

    Returns
    -------
    dict
        See :func:`run_calibration`.

    Raises
    ------
    ParameterError
        For a value outside the ranges above (before mpiexec starts).
    ResourceError
        If the buffers would not fit in memory.
    BackendUnavailableError
        If no ``mpiexec`` is found.
    RankFailure
        If the job failed (the message ends with its last line of error output).
    """
    from mixlab.launch import mpiexec_path
    from mixlab.resources import require_memory

    procs, sizes, repeats, dims, time_unit = _check(procs, sizes, repeats, dims, time_unit)
    require_memory(f"a calibration on {procs} ranks up to d = {max(sizes)}", _memory(procs, sizes, dims))
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    cmd = [mpiexec_path(), "-n", str(procs), sys.executable, "-m", "mixlab.calibration", "--json"]
    cmd += ["--sizes", ",".join(map(str, sizes)), "--repeats", str(repeats)]
    cmd += ["--dims", ",".join(map(str, dims)), "--time-unit", repr(time_unit)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        said = [line.strip() for line in proc.stderr.splitlines() if line.strip() and "=====" not in line]
        raise RankFailure(
            f"the calibration job on {procs} ranks failed (exit status {proc.returncode})"
            + (f": {said[-1]}" if said else "")
        )
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    """``python -m mixlab.calibration``: what each rank runs under ``mpiexec``; rank 0 prints.

    Parameters
    ----------
    argv : list of str, optional
        ``[--sizes D1,D2,...] [--repeats R] [--dims D1,...] [--time-unit S] [--json]``
        (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 after a mixlab error (rank 0 prints it on stderr).
    """
    from mixlab.launch import launched_rank

    parser = argparse.ArgumentParser(
        prog="python -m mixlab.calibration", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes", type=parse_sizes, default=DEFAULT_SIZES, help="floats per rank, e.g. 1,4096"
    )
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="timed calls per size")
    parser.add_argument(
        "--dims",
        type=lambda text: () if text == "" else parse_sizes(text),
        default=DEFAULT_DIMS,
        help="dimensions of the predicted-vs-measured runs ('' for none)",
    )
    parser.add_argument("--time-unit", type=float, default=DEFAULT_TIME_UNIT, metavar="SECONDS")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    root = launched_rank() in (None, 0)
    try:
        _check(2, args.sizes, args.repeats, args.dims, args.time_unit)
        from mixlab.kernels.engines.mpi import mpi

        result = run_calibration(mpi().COMM_WORLD, args.sizes, args.repeats, args.dims, args.time_unit)
    except MixlabError as exc:
        if root:
            print(f"mixlab calibrate: error: {exc}", file=sys.stderr)
        return 2
    if root:
        from mixlab.io import json_safe

        print(
            json.dumps(json_safe(result), allow_nan=False) if args.json else format_report(result), flush=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
