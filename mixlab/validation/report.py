"""Running checks with progress, and reporting them as a table or JSON."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from mixlab.io import atomic_write_json
from mixlab.validation.checks import Check, CheckResult


def run_checks(checks: Sequence[Check], *, progress: bool = True) -> list[CheckResult]:
    """Run every check in order; with ``progress``, one line per check on stderr."""
    results = []
    for i, check in enumerate(checks, start=1):
        start = time.perf_counter()
        result = check()
        if progress:
            print(f"[{i:>2}/{len(checks)}] {result.verdict:<4} {check.id} "
                  f"({time.perf_counter() - start:.1f}s)", file=sys.stderr, flush=True)
        results.append(result)
    return results


def format_table(results: Sequence[CheckResult]) -> str:
    rows = [("check", "measured", "rel", "bound/expected", "verdict")]
    rows += [(r.id, f"{r.measured:.6g}", r.relation, "-" if r.bound is None else f"{r.bound:.6g}",
              r.verdict.upper()) for r in results]
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    passed = sum(r.verdict == "pass" for r in results)
    lines.append(f"{passed}/{len(results)} checks pass")
    return "\n".join(lines)


def write_json(path, results: Sequence[CheckResult]) -> None:
    atomic_write_json(path, {
        "passed": all(r.verdict == "pass" for r in results),
        "checks": [r.as_dict() for r in results],
    })
