"""Running checks with progress, and reporting them as a table or JSON."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mixlab.io import atomic_write_bytes, atomic_write_json
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


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
                     if k != "seed")


def format_table(results: Sequence[CheckResult]) -> str:
    """Columns: check, source, parameters, measured, relation, bound, ratio, verdict."""
    rows = [("check", "source", "parameters", "measured", "rel", "bound", "ratio", "verdict")]
    rows += [(r.id, _short(r.source, 34), _short(_params(r.parameters), 30), f"{r.measured:.6g}",
              r.relation, "-" if r.bound is None else f"{r.bound:.6g}",
              "-" if r.ratio is None else f"{r.ratio:.4g}", r.verdict.upper()) for r in results]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    passed = sum(r.verdict == "pass" for r in results)
    lines.append(f"{passed}/{len(results)} checks pass")
    return "\n".join(lines)


def write_report(directory, results: Sequence[CheckResult], *, figures: bool = True) -> Path:
    """``directory``/report.md (every check with statement, source, parameters,
    measured, bound, ratio, verdict) and the PNG figures beside it."""
    directory = Path(directory)
    images = []
    if figures:
        from mixlab.validation.figures import write_figures

        images = write_figures(directory)
    passed = sum(r.verdict == "pass" for r in results)
    md = [f"# mixlab verify: {passed}/{len(results)} checks pass", "",
          "| check | statement | source | parameters | measured | rel | bound | ratio | verdict |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        bound = "-" if r.bound is None else f"{r.bound:.6g}"
        ratio = "-" if r.ratio is None else f"{r.ratio:.4g}"
        md.append(f"| {r.id} | ${r.theorem}$ | {r.source} | {_params(r.parameters)} | "
                  f"{r.measured:.6g} | {r.relation} | {bound} | {ratio} | **{r.verdict}** |")
    notes = [f"- `{r.id}`: {r.note}" for r in results if r.note]
    if notes:
        md += ["", "## Notes", ""] + notes
    if images:
        md += ["", "## Figures", ""] + [f"![{p.stem}]({p.name})" for p in images]
    return atomic_write_bytes(directory / "report.md", ("\n".join(md) + "\n").encode())


def write_json(path, results: Sequence[CheckResult]) -> None:
    atomic_write_json(path, {
        "passed": all(r.verdict == "pass" for r in results),
        "checks": [r.as_dict() for r in results],
    })
