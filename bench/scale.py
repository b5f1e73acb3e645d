"""Scale ladder of the ``mixlab`` command line: wall time and peak memory against n.

Every advertised command of the README (``age``, ``mixing``, ``capacity``, ``run``)
runs at n = 10^2, 10^4 and 10^6 (``--sizes``; the hypercube at the smallest power
of 2 >= n, 128, 16384 and 1048576, the torus at the nearest square n = a * a with
a >= 3, so 100, 10000 and 1000000 themselves), each row in a fresh subprocess,
``sys.executable -c LAUNCHER ... --json``: a tiny launcher that imports
``mixlab.cli``, calls ``mixlab.cli.main(argv)`` (what ``python -m mixlab.cli``
runs) and, in a ``finally``, writes ``resource.getrusage(RUSAGE_SELF).ru_maxrss``
to a file the benchmark reads back. So each row's memory is that child's own
peak resident set size (KiB on Linux), not the running maximum over all
children that ``RUSAGE_CHILDREN`` would give. The seconds are
``time.perf_counter()`` around ``subprocess.run``: interpreter start, imports,
loading the compiled kernels from numba's on-disk cache, the work and printing
the JSON. A row's stdout must parse as JSON, else the row is reported failed.

The baseline is the same launcher with no command, i.e. ``python -c "import
mixlab.cli"`` (the median of three runs): the import cost that every row pays.
Rows report gross numbers and the net above the baseline. The net still holds
what a command imports beyond ``mixlab.cli`` (numba, SciPy, the kernels), a cost
that does not grow with n.

Per command, the growth exponent k of net time ~ n^k and of net memory ~ n^k is
fitted by least squares on log-log over the sizes that ran ("fitted exponent");
sizes whose net time is below 0.05 s (or net memory below 1 MiB) are below the
resolution of a subprocess measurement and left out, and with fewer than two
sizes left the exponent is null with the reason. Because the net values keep a
constant import cost, the fitted exponent understates the asymptotic one where
the small sizes are dominated by it; the slope between the two largest sizes
("last step") is reported beside it.

Before its ladder each command runs once, untimed, at its smallest size
(``--no-warm-up`` skips it): a cold numba cache then compiles there, not in the
first timed row. A row that times out (``--timeout``, 300 s by default) or fails
is reported as such with the last line of its stderr; it never stops the
benchmark. ``capacity --measure`` (the Monte Carlo at the thresholds) is
advertised up to n = 10^4 only: larger sizes are listed as "not advertised" and
not run. Progress goes to stderr, one line per row.

Run ``python -m bench.scale`` (all rows; several minutes), ``--only SUBSTRING``
to select commands, ``--sizes 10,100`` for a tiny ladder, ``--json`` for one
JSON object instead of the table.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import common

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (10**2, 10**4, 10**6)
DEFAULT_TIMEOUT = 300.0
BASELINE_REPEATS = 3
#: Net values below these are below the resolution of a subprocess measurement.
TIME_RESOLUTION_S = 0.05
MEMORY_RESOLUTION_MIB = 1.0
#: ru_maxrss is in KiB on Linux, in bytes on macOS.
RSS_UNIT_BYTES = 1 if sys.platform == "darwin" else 1024

#: Runs ``mixlab.cli.main(argv)`` (none: only imports it) and writes the peak RSS to argv[1].
LAUNCHER = """\
import resource, sys
path, argv = sys.argv[1], sys.argv[2:]
sys.argv = ["mixlab", *argv]
code = 1
try:
    import mixlab.cli
    code = mixlab.cli.main(argv) if argv else 0
except SystemExit as exc:
    code = exc.code
finally:
    with open(path, "w") as f:
        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


@dataclass(frozen=True)
class Command:
    """One row family: ``template`` with ``{n}``, how n maps to a valid size, the largest advertised n."""

    template: str
    size: str = "n"  # "n", "hypercube" (smallest power of 2 >= n, >= 4), "torus" (nearest square, side >= 3)
    max_n: int | None = None

    @property
    def label(self) -> str:
        return self.template.replace("{n}", "N")

    def n_for(self, n: int) -> int:
        if self.size == "hypercube":
            return 2 ** max(2, (n - 1).bit_length())
        if self.size == "torus":
            return max(3, round(math.sqrt(n))) ** 2
        return n

    def line(self, n: int) -> str:
        return self.template.format(n=n)

    def argv(self, n: int) -> list[str]:
        return [*self.line(n).split(), "--json"]


COMMANDS = (
    Command("age --topology complete --model user --method exact -n {n}"),
    Command("age --topology ring --method exact -n {n}"),
    Command("age --topology complete --method mc --events 10000000 -n {n}"),
    Command("age --topology ring --method mc --events 10000000 -n {n}"),
    Command("mixing --topology ring -n {n}"),
    Command("mixing --topology torus -n {n}", size="torus"),
    Command("mixing --topology hypercube -n {n}", size="hypercube"),
    Command("mixing --topology exponential -n {n}"),
    Command("capacity -n {n}"),
    Command("capacity -n {n} --measure --events 100000", max_n=10**4),
    Command("run --algorithm dpsgd --objective quadratic --workers {n} --steps 10 --dim 16"),
    Command("run --algorithm allreduce --objective quadratic --workers {n} --steps 10 --dim 16"),
)


def last_line(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def measure(cli_args: list[str], timeout: float) -> dict:
    """Run the launcher on ``cli_args`` in a fresh subprocess: status, seconds, peak MiB, message."""
    with tempfile.TemporaryDirectory(prefix="mixlab-scale-") as tmp:
        rss_path = Path(tmp) / "maxrss"
        argv = [sys.executable, "-c", LAUNCHER, str(rss_path), *cli_args]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            message = last_line(exc.stderr)
            return {
                "status": "timeout",
                "seconds": None,
                "peak_mib": None,
                "returncode": None,
                "message": f"timed out after {timeout:g} s" + (f"; stderr: {message}" if message else ""),
                "warnings": [],
            }
        seconds = time.perf_counter() - t0
        try:
            peak_mib = int(rss_path.read_text()) * RSS_UNIT_BYTES / 2**20
        except (OSError, ValueError):
            peak_mib = None
    status, message = "ok", ""
    if proc.returncode != 0:
        status, message = "failed", last_line(proc.stderr) or f"exit status {proc.returncode}"
    elif cli_args:
        try:
            json.loads(proc.stdout)
        except ValueError:
            status, message = "failed", "stdout is not one JSON object"
    warnings = [line.strip() for line in proc.stderr.splitlines() if "warning" in line.lower()]
    return {
        "status": status,
        "seconds": seconds,
        "peak_mib": peak_mib,
        "returncode": proc.returncode,
        "message": message,
        "warnings": warnings,
    }


def baseline(timeout: float) -> dict:
    """The import cost, median of a few runs (at least a minute each before it counts as failed:
    without it nothing can be netted)."""
    runs = [measure([], max(timeout, 60.0)) for _ in range(BASELINE_REPEATS)]
    bad = [r for r in runs if r["status"] != "ok" or r["peak_mib"] is None]
    if bad:
        raise RuntimeError(f"the baseline (import mixlab.cli) failed: {bad[0]['message']}")
    return {
        "command": 'python -c "import mixlab.cli"',
        "repeats": BASELINE_REPEATS,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mib": statistics.median(r["peak_mib"] for r in runs),
        "all_seconds": [r["seconds"] for r in runs],
        "all_peak_mib": [r["peak_mib"] for r in runs],
    }


def fit(points: list[tuple[int, float]], resolution: float) -> dict:
    """Least-squares slope of log(value) on log(n) over the points at or above ``resolution``.

    Null, with the reason, when fewer than two sizes are left; noted ``flat`` when the values
    left differ by less than ``resolution`` (the exponent is then noise)."""
    ran = [(n, v) for n, v in points if v is not None]
    used = [(n, v) for n, v in ran if v >= resolution]
    result = {"fitted_exponent": None, "last_step": None, "sizes": [n for n, _ in used], "note": ""}
    if len({n for n, _ in used}) < 2:
        result["note"] = "below resolution" if len(used) < len(ran) else "fewer than 2 sizes ran"
        return result
    x = np.log([n for n, _ in used])
    y = np.log([v for _, v in used])
    result["fitted_exponent"] = float(np.polyfit(x, y, 1)[0])
    result["last_step"] = float((y[-1] - y[-2]) / (x[-1] - x[-2]))
    notes = []
    if len(used) < len(ran):
        notes.append("some sizes below resolution")
    values = [v for _, v in used]
    if max(values) - min(values) < resolution:
        notes.append("flat: growth below resolution")
    result["note"] = "; ".join(notes)
    return result


def exponents(rows: list[dict]) -> dict:
    ran = [r for r in rows if r["status"] == "ok"]
    return {
        "time": fit([(r["n"], r["net_seconds"]) for r in ran], TIME_RESOLUTION_S),
        "memory": fit([(r["n"], r["net_mib"]) for r in ran], MEMORY_RESOLUTION_MIB),
    }


def progress(text: str) -> None:
    print(f"bench.scale: {text}", file=sys.stderr, flush=True)


def selected(only: list[str] | None) -> list[Command]:
    """The commands whose line (``-n N`` for the size) contains one of ``only`` (all without it)."""
    return [c for c in COMMANDS if not only or any(s in c.label for s in only)]


def run(sizes: list[int], timeout: float, only: list[str] | None, warm_up: bool) -> dict:
    commands = selected(only)
    progress(f"baseline: import mixlab.cli, {BASELINE_REPEATS} runs")
    base = baseline(timeout)
    progress(f"baseline: {base['seconds']:.2f} s, {base['peak_mib']:.1f} MiB")
    total = len(commands) * len(sizes)
    rows, fits, done = [], {}, 0
    for command in commands:
        runnable = [n for n in sizes if command.max_n is None or n <= command.max_n]
        if warm_up and runnable:
            n = command.n_for(min(runnable))
            w = measure(command.argv(n), timeout)
            progress(f"warm-up {command.line(n)}: {w['status']}, {_secs(w['seconds'])}")
        ladder = []
        for requested in sizes:
            n = command.n_for(requested)
            row = {"command": command.label, "n_requested": requested, "n": n}
            if requested not in runnable:
                row.update(
                    status="not advertised",
                    seconds=None,
                    peak_mib=None,
                    returncode=None,
                    message=f"advertised up to n = {command.max_n:,} only (a measurement this large is long)",
                    warnings=[],
                    argv=command.argv(n),
                )
            else:
                row["argv"] = command.argv(n)
                row.update(measure(row["argv"], timeout))
            ok = row["status"] == "ok" and row["seconds"] is not None and row["peak_mib"] is not None
            if not ok and row["status"] == "ok":
                row.update(status="failed", message="no peak memory read back")
            row["net_seconds"] = row["seconds"] - base["seconds"] if ok else None
            row["net_mib"] = row["peak_mib"] - base["peak_mib"] if ok else None
            ladder.append(row)
            done += 1
            shown = (
                f"{row['seconds']:.2f} s, {row['peak_mib']:.1f} MiB"
                if ok
                else f"{row['status']}: {row['message']}"
            )
            progress(f"[{done}/{total}] {command.line(n)}: {shown}")
        rows += ladder
        fits[command.label] = exponents(ladder)
    return {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "sizes": sizes,
        "timeout_s": timeout,
        "only": only,
        "warm_up": warm_up,
        "time_resolution_s": TIME_RESOLUTION_S,
        "memory_resolution_mib": MEMORY_RESOLUTION_MIB,
        "baseline": base,
        "rows": rows,
        "exponents": fits,
    }


def _secs(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f} s"


def _num(x: float | None, form: str = ".2f") -> str:
    return "-" if x is None else format(x, form)


def _exp(f: dict) -> str:
    if f["fitted_exponent"] is None:
        return f["note"]
    return f"{f['fitted_exponent']:.2f}" + (" (flat)" if "flat" in f["note"] else "")


def print_table(r: dict) -> None:
    base = r["baseline"]
    print(
        f"mixlab scale ladder: python {r['python']}, {r['cpu_count']} cores; one fresh subprocess per row "
        f"(mixlab.cli.main ... --json), timeout {r['timeout_s']:g} s"
    )
    print(
        f"baseline {base['command']} (median of {base['repeats']}): {base['seconds']:.2f} s, "
        f"peak {base['peak_mib']:.1f} MiB; net = gross - baseline\n"
    )
    width = max([len(row["command"]) for row in r["rows"]] + [20])
    print(f"{'command':<{width}}{'n':>10}{'seconds':>9}{'net s':>8}{'peak MiB':>10}{'net MiB':>9}")
    notes = []
    for row in r["rows"]:
        head = f"{row['command']:<{width}}{row['n']:>10}"
        if row["status"] != "ok":
            print(f"{head}  {row['status']}: {row['message']}")
            continue
        mark = ""
        if row["warnings"]:
            notes.append((row, row["warnings"][-1]))
            mark = f" [{len(notes)}]"
        print(
            f"{head}{_num(row['seconds']):>9}{_num(row['net_seconds']):>8}"
            f"{_num(row['peak_mib'], '.1f'):>10}{_num(row['net_mib'], '.1f'):>9}{mark}"
        )
    for i, (row, line) in enumerate(notes, 1):
        print(f"  [{i}] n = {row['n']}: {line}")
    print(
        f"\nFitted exponent k of net value ~ n^k (least squares on log-log over the sizes that ran; "
        f"net time < {r['time_resolution_s']:g} s\nor net memory < {r['memory_resolution_mib']:g} MiB "
        "is below resolution); last step: slope between the two largest of those sizes.\n"
    )
    print(f"{'command':<{width}}{'time: fitted':>26}{'last step':>11}{'memory: fitted':>26}{'last step':>11}")
    for label, f in r["exponents"].items():
        t, m = f["time"], f["memory"]
        print(
            f"{label:<{width}}{_exp(t):>26}{_num(t['last_step']):>11}{_exp(m):>26}{_num(m['last_step']):>11}"
        )


def sizes_arg(text: str) -> list[int]:
    """Comma-separated sizes, each as 100 or 1e6."""
    sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    if not sizes or any(n < 1 for n in sizes):
        raise ValueError(text)
    return sorted(set(sizes))


def main(argv=None) -> None:
    parser = common.parser("scale", __doc__)
    parser.add_argument(
        "--sizes",
        type=sizes_arg,
        default=list(DEFAULT_SIZES),
        help="comma-separated n of the ladder (default 100,10000,1000000; 1e6 also reads)",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per row before it is reported"
    )
    parser.add_argument(
        "--only",
        metavar="SUBSTRING",
        action="append",
        help="only the commands whose line (e.g. 'mixing --topology ring -n N') contains it; repeatable",
    )
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="skip the untimed run of each command at its smallest size",
    )
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be > 0")
    if args.only and not selected(args.only):
        parser.error(
            f"--only {args.only} matches no command; they are: " + "; ".join(c.label for c in COMMANDS)
        )
    common.emit(run(args.sizes, args.timeout, args.only, args.warm_up), args.json, print_table)


if __name__ == "__main__":
    main()
