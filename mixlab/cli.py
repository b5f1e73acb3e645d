"""The ``mixlab`` command.

    mixlab run --algorithm wagma --objective quadratic --workers 64 --steps 500 --group-size 4
               [--activation global|group] [--rule self_weighted|mean]
    mixlab run --algorithm dpsgd --objective logistic --data FILE.npz [--partition iid|label] ...
    mixlab run --engine mpi --procs 4 [--lockstep] [--time-unit SECONDS] ...   (or under mpiexec -n P)
    mixlab age --topology complete -n 100 [--model yates|user] [--method exact|mc|both] [--json]
    mixlab capacity -n 1000 [--target 1] [--measure [--events E] [--seed S]] [--json]
    mixlab calibrate --procs 2 [--sizes 1,1024,65536] [--repeats R] [--dims D1,D2] [--json]
    mixlab mixing --topology ring -n 64 [--weights metropolis] [--json]
    mixlab schedule --kind butterfly -n 64 -S 4 [--rule mean] [--json]
    mixlab verify [--quick | --full] [--json PATH] [--report DIR] [--quiet]

Bad arguments, files that cannot be read or written, and requests that would not
fit in memory exit with status 2 and a one-line message (before any work starts);
Ctrl-C exits 130 with one line and leaves no partial file. A run that diverges
stops early with a one-line warning and ``"diverged": true`` in its JSON. Progress
(rate, time left) goes to stderr when it is a terminal; ``--quiet`` turns it off.
Under MPI only rank 0 prints and writes; a rank that dies ends the job with exit
status 3 and a line naming the rank and the step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from mixlab.errors import MixlabError
from mixlab.seeding import SEED_MAX
from mixlab.theory import graphs, spectral
from mixlab.theory.groups import ButterflyGroups, GroupSchedule, RandomGroups
from mixlab.theory.schedules import OnePeerExponential
from mixlab.theory.structured import STRUCTURED, structured_spectrum
from mixlab.theory.weights import RULES as WEIGHT_RULES
from mixlab.theory.weights import mixing_matrix
from mixlab.vocabulary import GROUP_RULES

TIME_VARYING = ("one_peer_exponential",)
OPTIMAL_RULES = ("fmmc", "fdla")
TOPOLOGIES = (*graphs.FAMILIES, *TIME_VARYING)
#: Accuracy of the reported epsilon-mixing time.
MIXING_EPS = 1e-6


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports errors on one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _print(obj: dict, as_json: bool) -> None:
    if as_json:
        from mixlab.io import json_safe

        print(json.dumps(json_safe(obj), allow_nan=False))
        return
    width = max(map(len, obj))
    for key, value in obj.items():
        shown = f"{value:.12g}" if isinstance(value, float) else ("null" if value is None else value)
        print(f"{key:<{width}}  {shown}")


def _cmd_mixing(args) -> int:
    extra: dict[str, object] = {}
    weights = args.weights
    if args.topology in TIME_VARYING:
        sched = OnePeerExponential(args.n)
        weights = "one_peer"
        period_rho, exact = sched.period_rho(), sched.steps_to_exact_average()
        periods = spectral.mixing_time(min(period_rho, 1.0), MIXING_EPS)
        extra = {
            "period": sched.period,
            "period_rho": period_rho,
            "steps_to_exact_average": exact,
            "mixing_time": exact or (None if periods is None else periods * sched.period),
        }
        s = spectral.spectral_summary(sched.matrix(0))
    elif args.topology in STRUCTURED and weights in WEIGHT_RULES:  # closed forms, any n
        spec = structured_spectrum(args.topology, args.n, weights)
        s = spectral.SpectralSummary(
            n=args.n,
            rho=spec.rho,
            spectral_gap=spec.spectral_gap,
            beta=spec.beta,
            symmetric=True,
            doubly_stochastic=True,
            nonnegative=spec.nonnegative,
        )
        extra = {"edges": spec.edges}
    else:
        params = {}
        if args.topology == "random_regular":
            params["degree"] = args.degree
        if args.topology == "erdos_renyi":
            params["p"] = args.p
        G = graphs.make_graph(args.topology, args.n, seed=args.seed, **params)
        extra = {"edges": G.number_of_edges()}
        if weights in OPTIMAL_RULES:
            from mixlab.proofs.optimal_weights import optimal_weights

            opt = optimal_weights(G, weights, method=args.method)
            W = opt.W
            extra.update(certified_gap=opt.gap, solver=opt.solver)
        else:
            W = mixing_matrix(G, weights)
        s = spectral.spectral_summary(W)
    out = {
        "n": args.n,
        "topology": args.topology,
        "weights": weights,
        "rho": s.rho,
        "spectral_gap": s.spectral_gap,
        "beta": s.beta,
        "symmetric": s.symmetric,
        "doubly_stochastic": s.doubly_stochastic,
        "nonnegative": s.nonnegative,
        "mixing_time": spectral.mixing_time(min(s.rho, 1.0), MIXING_EPS),
        "mixing_time_eps": MIXING_EPS,
        **extra,
    }  # time-varying: steps, via the period
    _print(out, args.json)
    return 0


def _cmd_schedule(args) -> int:
    sched: GroupSchedule = (
        ButterflyGroups(args.n, args.S, args.rule)
        if args.kind == "butterfly"
        else RandomGroups(args.n, args.S, args.rule, seed=args.seed)
    )
    out = {
        "n": args.n,
        "kind": args.kind,
        "group_size": args.S,
        "rule": args.rule,
        "period": sched.period,
        "period_rho": sched.period_rho(),
        "period_rho_kind": sched.period_rho_kind,
        "steps_to_exact_average": sched.steps_to_exact_average(),
    }
    if isinstance(sched, RandomGroups):
        out["expected_gamma_factor"] = sched.expected_gamma_factor()
    _print(out, args.json)
    return 0


def _cmd_verify(args) -> int:
    from mixlab.validation.report import format_table
    from mixlab.verification import verify

    size = "quick" if args.quick else "full" if args.full else "default"
    results = verify(size, json=args.json, report=args.report, progress=not args.quiet)
    print(format_table(results))
    if args.report:
        print(f"report: {args.report}/report.md", file=sys.stderr)
    return 0 if all(r.verdict == "pass" for r in results) else 1


#: Flags of the run command that only the MPI engine takes.
MPI_FLAGS = {
    "procs": "--procs",
    "lockstep": "--lockstep",
    "time_unit": "--time-unit",
    "fail_rank": "--fail-rank",
    "fail_step": "--fail-step",
}


def _without_procs(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--procs":
            skip = True
        elif not arg.startswith("--procs="):
            out.append(arg)
    return out


def _engine(args):
    """The engine of a run: a name, or a configured MPI engine; MPI flags elsewhere are refused."""
    from mixlab.errors import ParameterError

    given = [flag for name, flag in MPI_FLAGS.items() if getattr(args, name) not in (None, False)]
    if args.backend != "mpi":
        if given:
            raise ParameterError(
                f"only --engine mpi takes {', '.join(given)} (this run uses {args.backend!r})"
            )
        return args.backend
    from mixlab.kernels.engines.mpi import MPIEngine

    return MPIEngine(
        lockstep=args.lockstep,
        time_unit=args.time_unit or 0.0,
        fail_rank=args.fail_rank,
        fail_step=args.fail_step,
    )


def _cmd_run(args) -> int:
    from mixlab.io import check_writable, json_safe
    from mixlab.kernels.progress import progress_bar
    from mixlab.kernels.timing import TimingModel
    from mixlab.kernels.trajectory import SUFFIXES
    from mixlab.launch import launch, launched_rank
    from mixlab.runs import run

    engine = _engine(args)
    rank = launched_rank()
    if args.procs is not None:
        if rank is not None:
            from mixlab.errors import ParameterError

            raise ParameterError("--procs starts mpiexec itself: under mpiexec, leave it out")
        if args.save:
            check_writable(args.save, suffixes=SUFFIXES, kind="trajectory files")
        return launch(_without_procs(args.argv), args.procs)
    root = rank in (None, 0)
    if args.save:  # refuse an unwritable path before the run, not after it
        check_writable(args.save, suffixes=SUFFIXES, kind="trajectory files")
    timing = TimingModel(
        args.compute,
        stragglers=args.stragglers,
        persistent=args.persistent,
        slowdown=args.slowdown,
        delay=args.delay,
    )
    from mixlab.kernels.algorithms import OPTIONS

    options = {name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None}
    from mixlab.data import load_arrays
    from mixlab.kernels.objectives import CLI_PARAMETERS

    objective = {
        param: getattr(args, flag)
        for flag, param in CLI_PARAMETERS.items()
        if getattr(args, flag) is not None
    }
    data = None if args.data is None else load_arrays(args.data)
    kwargs = dict(
        workers=args.workers,
        steps=args.steps,
        dim=args.dim,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        seed=args.seed,
        backend=engine,
        timing=timing,
        record_every=args.record_every,
        objective_params=objective,
        data=data,
        **options,
    )
    with progress_bar("mixlab run", total=args.steps, enabled=root and not args.quiet):  # only on a terminal
        tr = run(args.algorithm, args.objective, **kwargs)
    if not root:  # under MPI, rank 0 prints and writes
        return 0
    if args.save:
        tr.save(args.save)
    summary = {key: tr.params[key] for key in ("algorithm", "objective", "workers", "steps")}
    summary.update(
        {
            k: v
            for k, v in tr.summary().items()
            if k
            in (
                "final_loss_gap",
                "final_grad_norm_sq",
                "final_consensus",
                "max_staleness",
                "sim_time",
                "throughput",
                "diverged",
                "diverged_at",
            )
        }
    )
    if "wall_time" in tr.columns:  # measured on real processes (the MPI engine)
        summary["wall_time"] = float(tr["wall_time"][-1])
    if args.json:  # wall-clock only from the MPI engine: otherwise the same command prints the same bytes
        print(
            json.dumps(
                json_safe(
                    {**summary, "params": tr.params, "constants": tr.constants, "history": tr.history()}
                )
            )
        )
    else:
        _print(summary, False)
    return 0


def _cmd_age(args) -> int:
    from mixlab.age_and_capacity import age

    if args.rates is None and args.n is None:
        raise MixlabError("age needs -n N (or --rates PATH)")
    out = age(
        topology=args.topology,
        n=args.n,
        rates_path=args.rates,
        model=args.model,
        mode=args.mode,
        gossip_rate=args.gossip_rate,
        update_rate=args.update_rate,
        method=args.method,
        events=args.events,
        seed=args.seed,
    )
    _print(out, args.json)
    return 0


def _cmd_capacity(args) -> int:
    from mixlab.age_and_capacity import capacity

    _print(
        capacity(
            args.n,
            args.target,
            args.update_rate,
            args.mode,
            measure=args.measure,
            events=args.events,
            seed=args.seed,
        ),
        args.json,
    )
    return 0


def _cmd_calibrate(args) -> int:
    from mixlab.calibration import calibrate, format_report
    from mixlab.errors import ParameterError
    from mixlab.io import json_safe
    from mixlab.launch import launched_rank

    if launched_rank() is not None:
        raise ParameterError(
            "mixlab calibrate starts mpiexec itself: under mpiexec, run python -m mixlab.calibration"
        )
    result = calibrate(
        args.procs, sizes=args.sizes, repeats=args.repeats, dims=args.dims, time_unit=args.time_unit
    )
    print(json.dumps(json_safe(result), allow_nan=False) if args.json else format_report(result))
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2^63 - 1], got {value}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (0 < value <= 1) or math.isnan(value):
        raise argparse.ArgumentTypeError(f"must lie in (0, 1], got {text}")
    return value


def build_parser() -> _ArgumentParser:
    """Build the ``mixlab`` argument parser, one subcommand per command of the module docstring.

    Each subcommand stores its handler as ``func``; argument errors exit with
    status 2 and a one-line message.

    Returns
    -------
    argparse.ArgumentParser
        The parser of ``mixlab run``, ``age``, ``capacity``, ``mixing``,
        ``schedule`` and ``verify``.

    Examples
    --------
    >>> args = build_parser().parse_args(["capacity", "-n", "10", "--target", "2"])
    >>> args.command, args.n, args.target, args.measure
    ('capacity', 10, 2.0, False)
    """
    parser = _ArgumentParser(prog="mixlab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    from mixlab.kernels.algorithms import ALGORITHMS, OPTIONS
    from mixlab.kernels.engines import ENGINES
    from mixlab.kernels.objectives import OBJECTIVES, PARTITIONS
    from mixlab.vocabulary import COMPUTE_DISTRIBUTIONS, LR_SCHEDULES

    p = sub.add_parser("run", help="simulate a distributed SGD algorithm")
    p.add_argument("--algorithm", required=True, choices=tuple(ALGORITHMS))
    p.add_argument("--objective", required=True, choices=tuple(OBJECTIVES))
    p.add_argument("--workers", type=_positive_int, required=True, help="number of workers n")
    p.add_argument("--steps", type=_positive_int, required=True, help="iterations T")
    p.add_argument(
        "--dim",
        type=_positive_int,
        default=None,
        help="model dimension d (default 16; with --data the columns of A)",
    )
    options = p.add_argument_group("algorithm options (each algorithm refuses those it does not take)")
    for name, opt in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if opt.type is bool:
            options.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=opt.help)
        else:
            kind = _positive_int if opt.type is int else opt.type
            options.add_argument(
                flag,
                type=kind,
                default=None,
                choices=opt.choices,
                help=f"{opt.help} (default: {opt.default})",
            )
    objective = p.add_argument_group("objective parameters (an objective refuses those it does not take)")
    objective.add_argument(
        "--noise",
        type=float,
        default=None,
        metavar="SIGMA2",
        help="gradient-noise variance sigma2 (quadratic objectives)",
    )
    objective.add_argument(
        "--heterogeneity",
        type=float,
        default=None,
        metavar="ZETA2",
        help="heterogeneity zeta2 at x* (quadratic objectives, least squares)",
    )
    objective.add_argument(
        "--data",
        default=None,
        metavar="FILE.npz",
        help="the objective from your data: arrays A (rows x features) and b (one "
        "target per row; logistic: labels in {0, 1} or {-1, +1}) of FILE.npz, "
        "--objective least_squares or logistic; --seed shuffles the rows",
    )
    objective.add_argument(
        "--partition",
        default=None,
        choices=PARTITIONS,
        help="with --data: split the rows across the workers iid or by label (default: iid)",
    )
    p.add_argument("--lr", type=float, default=0.1, help="step size eta")
    p.add_argument("--lr-schedule", default="constant", choices=LR_SCHEDULES)
    p.add_argument(
        "--compute", default="constant", choices=COMPUTE_DISTRIBUTIONS, help="compute-time distribution"
    )
    p.add_argument("--stragglers", type=int, default=0, help="K stragglers per iteration")
    p.add_argument("--slowdown", type=float, default=1.0, help="straggler slowdown factor F")
    p.add_argument("--delay", type=float, default=0.0, help="straggler added delay")
    p.add_argument("--persistent", action="store_true", help="a fixed set of K stragglers")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument(
        "--backend",
        "--engine",
        dest="backend",
        default="numba",
        choices=tuple(ENGINES),
        help="the engine: compiled (numba), the NumPy specification (reference) or real processes (mpi)",
    )
    real = p.add_argument_group("real processes (--engine mpi; see README, Running on real processes)")
    real.add_argument(
        "--procs",
        type=_positive_int,
        default=None,
        help="start mpiexec with P ranks (one worker or more each)",
    )
    real.add_argument(
        "--lockstep",
        action="store_true",
        help="follow the simulated schedule: the trajectory equals the numba engine's for the same seed",
    )
    real.add_argument(
        "--time-unit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="sleep this many seconds per unit of simulated compute time (real stragglers)",
    )
    real.add_argument(
        "--fail-rank", type=int, default=None, metavar="R", help="fault injection: rank R dies ..."
    )
    real.add_argument("--fail-step", type=int, default=None, metavar="T", help="... when it starts step T")
    p.add_argument("--record-every", type=_positive_int, default=None, help="default: steps / 100")
    p.add_argument("--json", action="store_true", help="print one JSON object with the history")
    p.add_argument(
        "--save", metavar="PATH", help="write the trajectory (.npz or .json; checked before the run)"
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress bar (drawn only when stderr is a terminal)"
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("age", help="version age of gossip: exact and Monte Carlo")
    p.add_argument("--topology", default="complete", choices=tuple(graphs.FAMILIES))
    p.add_argument("-n", type=_positive_int, default=None, help="number of nodes (users)")
    p.add_argument("--rates", metavar="PATH", help="(n+1)x(n+1) push rates (.npy/.csv), row/col 0 = source")
    p.add_argument("--gossip-rate", type=float, default=1.0, help="lambda, per node")
    p.add_argument("--update-rate", type=float, default=1.0, help="lambda_e (yates) or u (user)")
    p.add_argument("--model", default="yates", choices=("yates", "user"))
    p.add_argument("--mode", default="push", choices=("push", "exchange"))
    p.add_argument("--method", default="both", choices=("exact", "mc", "both"))
    p.add_argument("--events", type=_positive_int, default=10**6, help="Monte Carlo events")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_age)

    p = sub.add_parser("capacity", help="gossip capacity needed for a staleness target")
    p.add_argument("-n", type=_positive_int, required=True, help="number of users")
    p.add_argument("--target", type=float, default=1.0, help="mean staleness s*")
    p.add_argument("--update-rate", type=float, default=1.0, help="u, versions per unit time")
    p.add_argument("--mode", default="push", choices=("push", "exchange"))
    p.add_argument(
        "--measure", action="store_true", help="also measure the staleness at the thresholds by Monte Carlo"
    )
    p.add_argument(
        "--events",
        type=_positive_int,
        default=None,
        help="Monte Carlo events per run (default: max(10^6, 100 n H_{n-1}))",
    )
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_capacity)

    from mixlab import calibration

    p = sub.add_parser(
        "calibrate", help="fit the alpha-beta model to measured MPI Allreduce times and check predictions"
    )
    p.add_argument("--procs", type=_positive_int, required=True, help="start mpiexec with P >= 2 ranks")
    p.add_argument(
        "--sizes",
        type=calibration.parse_sizes,
        default=calibration.DEFAULT_SIZES,
        metavar="D1,D2,...",
        help="message sizes timed, floats per rank (default: %(default)s)",
    )
    p.add_argument(
        "--repeats",
        type=_positive_int,
        default=calibration.DEFAULT_REPEATS,
        help="timed calls per size (median)",
    )
    p.add_argument(
        "--dims",
        type=lambda text: () if text == "" else calibration.parse_sizes(text),
        default=calibration.DEFAULT_DIMS,
        metavar="D1,D2,...",
        help="dimensions of the predicted-vs-measured allreduce SGD runs ('' for none; default: %(default)s)",
    )
    p.add_argument(
        "--time-unit",
        type=float,
        default=calibration.DEFAULT_TIME_UNIT,
        metavar="SECONDS",
        help="seconds slept per simulated compute unit in those runs (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser("mixing", help="spectral summary of a topology's mixing matrix")
    p.add_argument("--topology", required=True, choices=TOPOLOGIES)
    p.add_argument("-n", type=_positive_int, required=True, help="number of workers")
    p.add_argument(
        "--weights",
        default="metropolis",
        choices=(*WEIGHT_RULES, *OPTIMAL_RULES),
        help="weight rule; fmmc/fdla solve an SDP (certified)",
    )
    p.add_argument(
        "--method",
        default="sdp",
        choices=("sdp", "subgradient"),
        help="fmmc solver: the SDP, or the first-order method for large graphs",
    )
    p.add_argument("--degree", type=_positive_int, default=3, help="degree (random_regular)")
    p.add_argument("--p", type=_probability, default=None, help="edge probability (erdos_renyi)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of random topologies")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_mixing)

    p = sub.add_parser("schedule", help="contraction of a group schedule")
    p.add_argument("--kind", required=True, choices=("butterfly", "random"))
    p.add_argument("-n", type=_positive_int, required=True, help="number of workers")
    p.add_argument("-S", type=_positive_int, required=True, help="group size")
    p.add_argument("--rule", default="mean", choices=GROUP_RULES)
    p.add_argument("--seed", type=_seed, default=0, help="seed of random groups")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_schedule)

    p = sub.add_parser("verify", help="run every check; exit 0 iff all pass")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes")
    size.add_argument("--full", action="store_true", help="large sizes")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON (path checked first)")
    p.add_argument("--report", metavar="DIR", help="write report.md and PNG figures into DIR (checked first)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr (per-check lines, bar)")
    p.set_defaults(func=_cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``mixlab`` command line and return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``mixlab`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success (also when a run diverged: it stopped early and its warning
        was printed); 1 when ``verify`` has a check that did not pass; 2 when a
        mixlab error (bad value, unwritable output, failed solver, ...) was
        reported on stderr (under MPI by rank 0 only); 3 when a rank of an MPI job
        died (:class:`~mixlab.errors.RankFailure`); 130 when interrupted (Ctrl-C), with the line
        ``mixlab <command>: interrupted`` on stderr and no traceback. Unparsable
        arguments raise ``SystemExit(2)`` with a one-line message. A mixlab
        warning (:class:`~mixlab.errors.MixlabWarning`, e.g. a diverged run) is
        printed as one line, ``mixlab <command>: warning: ...``.

    Examples
    --------
    >>> main(["schedule", "--kind", "butterfly", "-n", "8", "-S", "2"])
    n                       8
    kind                    butterfly
    group_size              2
    rule                    mean
    period                  3
    period_rho              0
    period_rho_kind         worst_case
    steps_to_exact_average  3
    0
    """
    import warnings

    from mixlab.errors import MixlabWarning, RankFailure
    from mixlab.launch import launched_rank

    prog = "mixlab"
    root = launched_rank() in (None, 0)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        prog = f"mixlab {args.command}"
        with warnings.catch_warnings():  # restores showwarning on exit
            others = warnings.showwarning

            def show(message, category, filename, lineno, file=None, line=None):
                if issubclass(category, MixlabWarning):
                    if root:
                        print(f"{prog}: warning: {message}", file=sys.stderr)
                else:
                    others(message, category, filename, lineno, file, line)

            warnings.showwarning = show
            return args.func(args)
    except RankFailure as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 3
    except MixlabError as exc:  # every rank of an MPI job raises the same: rank 0 says it
        if root:
            print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: files are written atomically, so nothing partial is left
        if root:
            print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `mixlab run --json | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
