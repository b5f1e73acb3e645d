"""Statistical estimates and their error rates.

A check that holds a Monte Carlo estimate against a prediction uses a
tolerance of t * stderr, t the (1 - alpha) quantile of Student's t
distribution with the estimate's degrees of freedom (independent runs:
runs - 1; batch means: batches - 1), one-sided for a bound and two-sided for
an equality. ``alpha`` is then the check's false-alarm rate: the probability
that a true statement fails because of sampling noise (exact for normal
samples, approximate otherwise). Every statistical check of ``mixlab verify``
uses :data:`ALPHA`, so that with at most :data:`MAX_STATISTICAL_CHECKS` such
checks the suite's false-alarm rate is at most 1e-3 (union bound).

A control must fail; its *power* is the probability that it does, estimated
as P(T > t - |effect| / stderr) with the effect taken as measured.

>>> est = mean_estimate([1.0, 2.0, 3.0, 4.0])
>>> est.value, round(est.stderr, 6), est.dof
(2.5, 0.645497, 3)
>>> round(critical_value(0.05, 3, two_sided=True), 4)          # t_{0.975, 3}
3.1824
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mixlab.errors import ParameterError

#: False-alarm rate of each statistical check of ``mixlab verify``.
ALPHA = 2.5e-5
#: The suite's false-alarm budget is ALPHA * MAX_STATISTICAL_CHECKS = 1e-3.
MAX_STATISTICAL_CHECKS = 40


@dataclass(frozen=True)
class Estimate:
    """A measured value with its standard error and degrees of freedom
    (``dof`` None: a deterministic measurement, ``stderr`` 0). ``comparisons``:
    the value was selected as the worst of that many tested quantities (e.g. the
    largest mean over recorded steps), so the false-alarm rate is split among them
    (Bonferroni)."""

    value: float
    stderr: float = 0.0
    dof: int | None = None
    comparisons: int = 1

    @property
    def statistical(self) -> bool:
        return self.dof is not None


def exact(value: float) -> Estimate:
    """A deterministic measurement."""
    return Estimate(float(value))


def mean_estimate(samples) -> Estimate:
    """Mean of independent samples (or batch means), stderr = s / sqrt(m), m - 1 dof."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size < 2:
        raise ParameterError(f"a mean estimate needs at least 2 samples, got {x.size}")
    return Estimate(float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)), x.size - 1)


def worst_mean(samples, bound=None) -> Estimate:
    """The largest column mean of ``samples`` (runs x quantities), or the one with the
    largest excess over ``bound`` (an array of per-quantity bounds), with the
    Bonferroni count of the columns compared.

    >>> worst_mean([[1.0, 5.0], [3.0, 7.0]]).value, worst_mean([[1.0, 5.0], [3.0, 7.0]]).comparisons
    (6.0, 2)
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ParameterError(f"worst_mean needs a (runs >= 2, quantities) array, got shape {x.shape}")
    means = x.mean(axis=0)
    stderr = x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])
    col = int(np.argmax(means if bound is None else means - np.asarray(bound)))
    return Estimate(float(means[col]), float(stderr[col]), x.shape[0] - 1, x.shape[1])


def critical_value(alpha: float, dof: int | None, *, two_sided: bool) -> float:
    """The t quantile with tail probability alpha (split in two when two-sided);
    the normal quantile when ``dof`` is None."""
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie in (0, 1), got {alpha}")
    tail = alpha / 2 if two_sided else alpha
    return float(stats.norm.isf(tail) if dof is None else stats.t.isf(tail, dof))


def tolerance(estimate: Estimate, relation: str, alpha: float = ALPHA) -> float:
    """Half-width t * stderr of the acceptance region (0 for a deterministic estimate)."""
    if not estimate.statistical or estimate.stderr == 0:
        return 0.0
    return (
        critical_value(alpha / estimate.comparisons, estimate.dof, two_sided=relation == "==")
        * estimate.stderr
    )


def power(estimate: Estimate, bound: float, relation: str, alpha: float = ALPHA) -> float | None:
    """Estimated probability that a comparison of ``estimate`` with ``bound`` rejects,
    taking the measured effect as the true one (None for deterministic estimates)."""
    if not estimate.statistical or estimate.stderr == 0:
        return None
    t = critical_value(alpha / estimate.comparisons, estimate.dof, two_sided=relation == "==")
    z = (estimate.value - bound) / estimate.stderr
    if relation == "<=":
        return float(stats.t.sf(t - z, estimate.dof))
    if relation == ">=":
        return float(stats.t.sf(t + z, estimate.dof))
    return float(stats.t.sf(t - abs(z), estimate.dof) + stats.t.sf(t + abs(z), estimate.dof))
