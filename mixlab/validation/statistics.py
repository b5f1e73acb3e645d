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
    """A measured value with its standard error and degrees of freedom.

    Parameters
    ----------
    value : float
        The measurement (a mean for a statistical estimate).
    stderr : float, default 0.0
        Its standard error (0 for a deterministic measurement).
    dof : int or None, default None
        Degrees of freedom of ``stderr`` (samples - 1); None for a deterministic measurement.
    comparisons : int, default 1
        The value was selected as the worst of this many tested quantities (e.g. the
        largest mean over recorded steps), so the false-alarm rate is split among them
        (Bonferroni).

    Examples
    --------
    >>> Estimate(1.5, 0.2, dof=9).statistical, Estimate(1.5).statistical
    (True, False)
    """

    value: float
    stderr: float = 0.0
    dof: int | None = None
    comparisons: int = 1

    @property
    def statistical(self) -> bool:
        """Whether the estimate carries sampling error (``dof`` is not None).

        Returns
        -------
        bool
            True for a Monte Carlo estimate, False for a deterministic measurement.
        """
        return self.dof is not None


def exact(value: float) -> Estimate:
    """A deterministic measurement: no standard error, no degrees of freedom.

    Parameters
    ----------
    value : float
        The measured value.

    Returns
    -------
    Estimate
        ``Estimate(float(value))``; its tolerance and power are 0 and None.

    Examples
    --------
    >>> exact(3).value, exact(3).statistical
    (3.0, False)
    """
    return Estimate(float(value))


def mean_estimate(samples) -> Estimate:
    """Mean of independent samples (or batch means), stderr = s / sqrt(m), m - 1 dof.

    Parameters
    ----------
    samples : array_like
        m >= 2 independent samples (flattened), e.g. one value per run or per batch.

    Returns
    -------
    Estimate
        Sample mean, s / sqrt(m) with s the sample standard deviation (ddof 1), dof m - 1.

    Raises
    ------
    ParameterError
        If there are fewer than 2 samples.
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size < 2:
        raise ParameterError(f"a mean estimate needs at least 2 samples, got {x.size}")
    return Estimate(float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)), x.size - 1)


def worst_mean(samples) -> Estimate:
    """The largest column mean of ``samples``, with the Bonferroni count of the columns compared.

    Parameters
    ----------
    samples : array_like, shape (runs, quantities)
        One row per independent run (runs >= 2), one column per tested quantity
        (e.g. Gamma_t at each recorded step).

    Returns
    -------
    Estimate
        The selected column's mean and standard error, dof runs - 1, ``comparisons``
        the number of columns.

    Raises
    ------
    ParameterError
        If ``samples`` is not 2-D with at least 2 rows.

    Examples
    --------
    >>> worst_mean([[1.0, 5.0], [3.0, 7.0]]).value, worst_mean([[1.0, 5.0], [3.0, 7.0]]).comparisons
    (6.0, 2)
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ParameterError(f"worst_mean needs a (runs >= 2, quantities) array, got shape {x.shape}")
    means = x.mean(axis=0)
    stderr = x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])
    col = int(np.argmax(means))
    return Estimate(float(means[col]), float(stderr[col]), x.shape[0] - 1, x.shape[1])


def critical_value(alpha: float, dof: int | None, *, two_sided: bool) -> float:
    """The t quantile with upper-tail probability ``alpha`` (split in two when two-sided).

    Parameters
    ----------
    alpha : float
        False-alarm rate, in (0, 1).
    dof : int or None
        Degrees of freedom of Student's t; None for the standard normal.
    two_sided : bool
        Split ``alpha`` between both tails (an equality) instead of one (a bound).

    Returns
    -------
    float
        t_{1 - alpha, dof} (t_{1 - alpha/2, dof} when two-sided).

    Raises
    ------
    ParameterError
        If ``alpha`` is not in (0, 1).

    Examples
    --------
    >>> round(critical_value(0.05, None, two_sided=True), 4)
    1.96
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie in (0, 1), got {alpha}")
    tail = alpha / 2 if two_sided else alpha
    return float(stats.norm.isf(tail) if dof is None else stats.t.isf(tail, dof))


def tolerance(estimate: Estimate, relation: str, alpha: float = ALPHA) -> float:
    """Half-width t * stderr of the acceptance region of a comparison.

    Parameters
    ----------
    estimate : Estimate
        The measurement; ``alpha`` is split over its ``comparisons``.
    relation : {"<=", ">=", "=="}
        The comparison: one-sided for a bound, two-sided for an equality.
    alpha : float, default ALPHA
        False-alarm rate of the comparison.

    Returns
    -------
    float
        ``critical_value(alpha / comparisons, dof) * stderr``; 0 for a deterministic
        estimate or a zero standard error.

    Examples
    --------
    >>> est = Estimate(1.0, 0.1, dof=3)
    >>> round(tolerance(est, "==", alpha=0.05), 4), tolerance(exact(1.0), "<=")
    (0.3182, 0.0)
    """
    if not estimate.statistical or estimate.stderr == 0:
        return 0.0
    return (
        critical_value(alpha / estimate.comparisons, estimate.dof, two_sided=relation == "==")
        * estimate.stderr
    )


def power(estimate: Estimate, bound: float, relation: str, alpha: float = ALPHA) -> float | None:
    """Estimated probability that a comparison of ``estimate`` with ``bound`` rejects.

    The measured effect (value - bound) / stderr is taken as the true one: the
    probability P(T > t - z) for ``<=`` (P(T > t + z) for ``>=``, both tails for ``==``),
    T Student's t with the estimate's dof. Used for the power of a control.

    Parameters
    ----------
    estimate : Estimate
        The control's measurement.
    bound : float
        The bound or predicted value it is compared with.
    relation : {"<=", ">=", "=="}
        The comparison.
    alpha : float, default ALPHA
        False-alarm rate of the comparison (split over ``comparisons``).

    Returns
    -------
    float or None
        The estimated rejection probability in [0, 1]; None for a deterministic estimate
        or a zero standard error.

    Examples
    --------
    >>> round(power(Estimate(1.3, 0.1, dof=19), 1.0, "<=", alpha=0.05), 4)
    0.8904
    >>> power(exact(2.0), 1.0, "<=") is None
    True
    """
    if not estimate.statistical or estimate.stderr == 0:
        return None
    t = critical_value(alpha / estimate.comparisons, estimate.dof, two_sided=relation == "==")
    z = (estimate.value - bound) / estimate.stderr
    if relation == "<=":
        return float(stats.t.sf(t - z, estimate.dof))
    if relation == ">=":
        return float(stats.t.sf(t + z, estimate.dof))
    return float(stats.t.sf(t - abs(z), estimate.dof) + stats.t.sf(t + abs(z), estimate.dof))
