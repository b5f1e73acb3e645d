"""The ``mixlab`` command.

    mixlab mixing --topology ring -n 64 [--weights metropolis] [--json]
    mixlab schedule --kind butterfly -n 64 -S 4 [--rule mean] [--json]
    mixlab verify [--quick | --full] [--json PATH]

Bad arguments exit with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from mixlab.errors import MixlabError
from mixlab.theory import graphs, spectral
from mixlab.theory.groups import RULES as GROUP_RULES
from mixlab.theory.groups import ButterflyGroups, RandomGroups
from mixlab.theory.schedules import OnePeerExponential
from mixlab.theory.weights import RULES as WEIGHT_RULES
from mixlab.theory.weights import mixing_matrix

TIME_VARYING = ("one_peer_exponential",)
TOPOLOGIES = (*graphs.FAMILIES, *TIME_VARYING)
#: Accuracy of the reported epsilon-mixing time.
MIXING_EPS = 1e-6


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports errors on one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _print(obj: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(obj))
        return
    width = max(map(len, obj))
    for key, value in obj.items():
        shown = f"{value:.12g}" if isinstance(value, float) else ("null" if value is None else value)
        print(f"{key:<{width}}  {shown}")


def cmd_mixing(args) -> int:
    if args.topology in TIME_VARYING:
        sched = OnePeerExponential(args.n)
        W = sched.matrix(0)
        weights = "one_peer"
        period_rho, exact = sched.period_rho(), sched.steps_to_exact_average()
        periods = spectral.mixing_time(min(period_rho, 1.0), MIXING_EPS)
        extra = {"period": sched.period, "period_rho": period_rho, "steps_to_exact_average": exact,
                 "mixing_time": exact or (None if periods is None else periods * sched.period)}
    else:
        params = {}
        if args.topology == "random_regular":
            params["degree"] = args.degree
        if args.topology == "erdos_renyi":
            params["p"] = args.p
        G = graphs.make_graph(args.topology, args.n, seed=args.seed, **params)
        W = mixing_matrix(G, args.weights)
        weights = args.weights
        extra = {"edges": G.number_of_edges()}
    s = spectral.spectral_summary(W)
    out = {"n": args.n, "topology": args.topology, "weights": weights,
           "rho": s.rho, "spectral_gap": s.spectral_gap, "beta": s.beta,
           "symmetric": s.symmetric, "doubly_stochastic": s.doubly_stochastic,
           "nonnegative": s.nonnegative,
           "mixing_time": spectral.mixing_time(min(s.rho, 1.0), MIXING_EPS),
           "mixing_time_eps": MIXING_EPS, **extra}   # time-varying: steps, via the period
    _print(out, args.json)
    return 0


def cmd_schedule(args) -> int:
    if args.kind == "butterfly":
        sched = ButterflyGroups(args.n, args.S, args.rule)
    else:
        sched = RandomGroups(args.n, args.S, args.rule, seed=args.seed)
    out = {"n": args.n, "kind": args.kind, "group_size": args.S, "rule": args.rule,
           "period": sched.period, "period_rho": sched.period_rho(),
           "period_rho_kind": sched.period_rho_kind,
           "steps_to_exact_average": sched.steps_to_exact_average()}
    if args.kind == "random":
        out["expected_gamma_factor"] = sched.expected_gamma_factor()
    _print(out, args.json)
    return 0


def cmd_verify(args) -> int:
    from mixlab.validation.foundation import foundation_checks
    from mixlab.validation.report import format_table, run_checks, write_json

    size = "quick" if args.quick else "full" if args.full else "default"
    results = run_checks(foundation_checks(size))
    print(format_table(results))
    if args.json:
        write_json(args.json, results)
    return 0 if all(r.verdict == "pass" for r in results) else 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (0 < value <= 1) or math.isnan(value):
        raise argparse.ArgumentTypeError(f"must lie in (0, 1], got {text}")
    return value


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="mixlab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    p = sub.add_parser("mixing", help="spectral summary of a topology's mixing matrix")
    p.add_argument("--topology", required=True, choices=TOPOLOGIES)
    p.add_argument("-n", type=_positive_int, required=True, help="number of workers")
    p.add_argument("--weights", default="metropolis", choices=WEIGHT_RULES)
    p.add_argument("--degree", type=_positive_int, default=3, help="degree (random_regular)")
    p.add_argument("--p", type=_probability, default=None, help="edge probability (erdos_renyi)")
    p.add_argument("--seed", type=int, default=0, help="seed of random topologies")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_mixing)

    p = sub.add_parser("schedule", help="contraction of a group schedule")
    p.add_argument("--kind", required=True, choices=("butterfly", "random"))
    p.add_argument("-n", type=_positive_int, required=True, help="number of workers")
    p.add_argument("-S", type=_positive_int, required=True, help="group size")
    p.add_argument("--rule", default="mean", choices=GROUP_RULES)
    p.add_argument("--seed", type=int, default=0, help="seed of random groups")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("verify", help="run every check; exit 0 iff all pass")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes")
    size.add_argument("--full", action="store_true", help="large sizes")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except MixlabError as exc:
        print(f"mixlab {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
