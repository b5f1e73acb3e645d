"""``mixlab verify``: every check of :mod:`mixlab.validation` on fresh runs.

>>> results = verify("quick", progress=False)          # doctest: +SKIP
>>> all(r.verdict == "pass" for r in results)          # doctest: +SKIP
True
"""

from __future__ import annotations

from pathlib import Path

from mixlab.io import check_writable, check_writable_dir
from mixlab.validate import require_choice
from mixlab.validation import age_checks, convergence_checks, engine_checks, foundation
from mixlab.validation.checks import CheckBase, CheckResult
from mixlab.validation.report import run_checks, write_json, write_report

SIZES = ("quick", "default", "full")


def checks(size: str = "default") -> list[CheckBase]:
    """Build the checks of every suite (foundation, engines, convergence, age) at ``size``.

    Parameters
    ----------
    size : {"quick", "default", "full"}
        Problem sizes and run counts.

    Returns
    -------
    list of CheckBase
        The checks, not yet run (call one, or pass them to
        :func:`mixlab.validation.report.run_checks`).

    Raises
    ------
    ParameterError
        If ``size`` is not one of :data:`SIZES`.

    Examples
    --------
    >>> quick = checks("quick")
    >>> "hypercube-rho" in [c.id for c in quick]
    True
    """
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
    """Run every check at ``size``; optionally write the results as JSON and a Markdown report.

    Each check holds a fresh run against a theorem's bound or exact value, and
    runs a control that breaks the theorem's mechanism and must fail (a check
    whose control passes too is ``weak``). Files are written atomically, and
    their paths are checked before the first check runs.

    Parameters
    ----------
    size : {"quick", "default", "full"}
        Problem sizes and run counts.
    json : path, optional
        Where to write the results (``passed``, ``summary``, ``checks``).
    report : path, optional
        A directory for ``report.md`` and its PNG figures.
    progress : bool, default True
        One line per check on stderr (and a progress bar when it is a terminal).

    Returns
    -------
    list of CheckResult
        One verdict per check: ``pass``, ``fail``, ``weak`` (its control passed too) or
        ``not_applicable``.

    Raises
    ------
    ParameterError
        If ``size`` is not one of :data:`SIZES`, or ``json`` or ``report`` cannot be
        written (a directory, under a regular file, not writable), before any check runs.

    See Also
    --------
    checks : The checks, without running them.

    References
    ----------
    docs/design.md, section Conventions ("A check has teeth", "Statistics with
    stated error rates"). Each check names its source; they include S. Li et
    al., "Breaking (Global) Barriers in Parallel Stochastic Optimization with
    Wait-Avoiding Group Averaging", IEEE TPDS 32(7), 2021 (WAGMA-SGD); L. Xiao
    and S. Boyd, "Fast linear iterations for distributed averaging", Systems &
    Control Letters 53, 2004; S. Boyd, A. Ghosh, B. Prabhakar and D. Shah,
    "Randomized gossip algorithms", IEEE Trans. Inf. Theory 52(6), 2006; B. Ying
    et al., "Exponential Graph is Provably Efficient for Decentralized Deep
    Training", NeurIPS 2021; R. D. Yates, "The Age of Gossip in Networks", ISIT
    2021; and the derivations of :mod:`mixlab.proofs.derivations` (derived in
    mixlab).

    Examples
    --------
    The whole quick suite takes minutes:

    >>> import mixlab as ml
    >>> results = ml.verify("quick", progress=False)  # doctest: +SKIP

    One check of it, run the same way:

    >>> from mixlab.validation.report import run_checks
    >>> one = [c for c in checks("quick") if c.id == "hypercube-rho"]
    >>> [r.verdict for r in run_checks(one, progress=False)]
    ['pass']
    """
    require_choice("size", size, SIZES)
    if json is not None:
        check_writable(json)
    if report is not None:
        check_writable_dir(report)
    results = run_checks(checks(size), progress=progress)
    if json is not None:
        write_json(json, results)
    if report is not None:
        write_report(report, results)
    return results
