"""Running checks with progress, and reporting them as a table or JSON."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mixlab.io import atomic_write_bytes, atomic_write_json, json_safe
from mixlab.validation.checks import CheckBase, CheckResult


def run_checks(checks: Sequence[CheckBase], *, progress: bool = True) -> list[CheckResult]:
    """Run every check in order; with ``progress``, one line per check and a bar on stderr.

    Parameters
    ----------
    checks : sequence of CheckBase
        The checks to run.
    progress : bool, default True
        Print ``[i/total] verdict id (seconds)`` to stderr after each check, and, when
        stderr is a terminal, a tqdm bar over the checks (rate, time left, the
        check running) below those lines.

    Returns
    -------
    list of CheckResult
        One result per check, in order.

    Examples
    --------
    >>> from mixlab.validation.checks import Check
    >>> check = Check("one", "1 = 1", "example", "==", 0.0, lambda: (1.0, 1.0))
    >>> results = run_checks([check], progress=False)
    >>> [r.verdict for r in results]
    ['pass']
    """
    from tqdm import tqdm

    results = []
    with tqdm(
        total=len(checks),
        desc="mixlab verify",
        unit="check",
        file=sys.stderr,
        disable=None if progress else True,
        dynamic_ncols=True,
        leave=False,
    ) as bar:
        for i, check in enumerate(checks, start=1):
            bar.set_postfix_str(check.id, refresh=True)
            start = time.perf_counter()
            result = check()
            if progress:
                tqdm.write(
                    f"[{i:>2}/{len(checks)}] {result.verdict:<14} {check.id} "
                    f"({time.perf_counter() - start:.1f}s)",
                    file=sys.stderr,
                )
            bar.update(1)
            results.append(result)
    return results


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _params(params: dict) -> str:
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items() if k != "seed"
    )


def _num(value: float | None, digits: int = 6) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _proof(r: CheckResult) -> str:
    """The label of the statement's derivation in mixlab (complete / bookkeeping), or "-"."""
    return r.proof_label or "-"


def _control(r: CheckResult) -> str:
    c = r.control
    if c is None:
        return "-"
    outcome = {"fail": "fails", "pass": "PASSES", "not_applicable": "N/A"}[c.verdict]
    return f"{_num(c.measured, 4)} {r.relation} {_num(c.bound, 4)}: {outcome}"


def summary(results: Sequence[CheckResult]) -> dict:
    """Counts per verdict, checks with a control, and the suite's false-alarm rate.

    Parameters
    ----------
    results : sequence of CheckResult
        The results of a run of checks.

    Returns
    -------
    dict
        ``checks``, ``pass``, ``weak``, ``fail``, ``not_applicable``, ``with_control``,
        ``statistical`` (number of statistical checks) and ``false_alarm_total`` (the sum of
        their false-alarm rates: a union bound on the suite's).
    """
    counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "weak", "fail", "not_applicable")}
    alarms = [r.false_alarm for r in results if r.false_alarm is not None]
    return {
        "checks": len(results),
        **counts,
        "with_control": sum(r.control is not None for r in results),
        "statistical": len(alarms),
        "false_alarm_total": float(sum(alarms)),
    }


def _summary_line(results: Sequence[CheckResult]) -> str:
    s = summary(results)
    return (
        f"{s['pass']}/{s['checks']} checks pass ({s['weak']} weak, {s['fail']} fail, "
        f"{s['not_applicable']} not applicable); {s['with_control']} controls; "
        f"{s['statistical']} statistical checks, suite false-alarm rate <= {s['false_alarm_total']:.2g}"
    )


def format_table(results: Sequence[CheckResult]) -> str:
    """The results as a plain-text table with a summary line.

    Parameters
    ----------
    results : sequence of CheckResult
        The results to show.

    Returns
    -------
    str
        Columns check, source, proof, measured, relation, bound, ratio, control (must fail)
        and verdict, one row per check, then the summary line.
    """
    rows = [
        ("check", "source", "proof", "measured", "rel", "bound", "ratio", "control (must fail)", "verdict")
    ]
    rows += [
        (
            r.id,
            _short(r.source, 30),
            _proof(r),
            _num(r.measured),
            r.relation,
            _num(r.bound),
            _num(r.ratio, 4),
            _control(r),
            r.verdict.upper(),
        )
        for r in results
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(_summary_line(results))
    return "\n".join(lines)


def write_report(directory, results: Sequence[CheckResult], *, figures: bool = True) -> Path:
    """Write ``directory``/report.md and, optionally, the PNG figures beside it (atomically).

    Parameters
    ----------
    directory : str or path
        Output directory.
    results : sequence of CheckResult
        The results; one table row each (statement, source, proof label, parameters,
        measured, bound, ratio, control, verdict), then the notes.
    figures : bool, default True
        Also render the figures of :mod:`mixlab.validation.figures` (slow: they run
        their own simulations) and link them.

    Returns
    -------
    Path
        The path of report.md.
    """
    directory = Path(directory)
    images = []
    if figures:
        from mixlab.validation.figures import write_figures

        images = write_figures(directory)
    md = [
        f"# mixlab verify: {_summary_line(results)}",
        "",
        "| check | statement | source | proof | parameters | measured | rel | bound | ratio | control | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        control = (
            "-"
            if r.control is None
            else f"{r.control.description}: {_control(r)}"
            + ("" if r.control.power is None else f" (power {r.control.power:.3f})")
        )
        md.append(
            f"| {r.id} | ${r.theorem}$ | {r.source} | {_proof(r)} | {_params(r.parameters)} | "
            f"{_num(r.measured)} | {r.relation} | {_num(r.bound)} | {_num(r.ratio, 4)} | {control} | "
            f"**{r.verdict}** |"
        )
    notes = [f"- `{r.id}`: {r.note}" for r in results if r.note]
    notes += [f"- `{r.id}` control: {r.control.note}" for r in results if r.control and r.control.note]
    if notes:
        md += ["", "## Notes", ""] + notes
    if images:
        md += ["", "## Figures", ""] + [f"![{p.stem}]({p.name})" for p in images]
    return atomic_write_bytes(directory / "report.md", ("\n".join(md) + "\n").encode())


def write_json(path, results: Sequence[CheckResult]) -> None:
    """Write the results as JSON (atomically); non-finite numbers become "inf", "-inf" or "nan".

    Parameters
    ----------
    path : str or path
        Output file.
    results : sequence of CheckResult
        The results: ``passed`` (every verdict is ``pass``), ``summary`` (see
        :func:`summary`) and ``checks`` (one :meth:`CheckResult.as_dict` each).
    """
    atomic_write_json(
        path,
        json_safe(
            {
                "passed": all(r.verdict == "pass" for r in results),
                "summary": summary(results),
                "checks": [r.as_dict() for r in results],
            }
        ),
    )
