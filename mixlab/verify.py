"""``mixlab verify``: every check of :mod:`mixlab.validation` on fresh runs.

>>> results = verify("quick", progress=False)          # doctest: +SKIP
>>> all(r.verdict == "pass" for r in results)          # doctest: +SKIP
True
"""

from __future__ import annotations

from pathlib import Path

from mixlab.validate import require_choice
from mixlab.validation import age_checks, convergence_checks, engine_checks, foundation
from mixlab.validation.checks import CheckBase, CheckResult
from mixlab.validation.report import run_checks, write_json, write_report

SIZES = ("quick", "default", "full")


def checks(size: str = "default") -> list[CheckBase]:
    """The checks of every suite at ``size`` (quick, default or full)."""
    require_choice("size", size, SIZES)
    return (
        foundation.foundation_checks(size)
        + engine_checks.engine_checks(size)
        + convergence_checks.convergence_checks(size)
        + age_checks.age_checks(size)
    )


def verify(
    size: str = "default",
    *,
    json: str | Path | None = None,
    report: str | Path | None = None,
    progress: bool = True,
) -> list[CheckResult]:
    """Run every check at ``size``; optionally write the results as JSON and a Markdown
    report with figures (atomically).

    Parameters
    ----------
    size : {"quick", "default", "full"}
        Problem sizes and run counts.
    json : path, optional
        Where to write the results (``passed``, ``summary``, ``checks``).
    report : path, optional
        A directory for ``report.md`` and its PNG figures.
    progress : bool
        One line per check on stderr.

    Returns
    -------
    list of CheckResult
        One verdict per check: ``pass``, ``fail``, ``weak`` (its control passed too) or
        ``not_applicable``.
    """
    results = run_checks(checks(size), progress=progress)
    if json is not None:
        write_json(json, results)
    if report is not None:
        write_report(report, results)
    return results
