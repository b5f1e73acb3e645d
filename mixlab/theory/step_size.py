"""Step sizes that minimize a theorem's bound.

:func:`closed_form_step_size` solves d bound / d eta = 0 symbolically (SymPy) and
keeps the positive real roots; :func:`minimizing_step_size` minimizes the bound
at given parameters over the step sizes the theorem admits: the admissible
range (0, eta_max] comes from bisecting the theorem's own assumptions (each is
monotone in eta), critical points from the sign changes of the SymPy
derivative, refined by Brent's method; the best of those and eta_max wins.

>>> import sympy as sp
>>> from mixlab.theory.convergence import nonconvex_rate
>>> closed_form_step_size(nonconvex_rate(sp.Integer(0)))       # minibatch SGD
[sqrt(2)*sqrt(f0)*sqrt(n)/(sqrt(L)*sqrt(T)*sqrt(sigma2))]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from mixlab.errors import AssumptionError, ParameterError
from mixlab.theory.convergence import eta
from mixlab.theory.theorems import Theorem
from mixlab.validate import require_real

GRID = 400


@dataclass(frozen=True)
class StepSize:
    """The step size minimizing a theorem's bound, with the bound it achieves.

    Parameters
    ----------
    eta : float
        The minimizing step size.
    bound : float
        The theorem's bound at ``eta``.
    eta_max : float
        Largest admissible step size (every assumption holds on (0, eta_max]).
    interior : bool
        True when ``eta`` is a critical point of the bound, False when it is ``eta_max``.
    """

    eta: float
    bound: float
    eta_max: float
    interior: bool  # a critical point (True) or the admissible ceiling (False)


def closed_form_step_size(bound: sp.Expr) -> list[sp.Expr]:
    """Solutions of d bound / d eta = 0 with all symbols positive.

    Roots SymPy proves negative or non-real are dropped; a cubic's Cardano branches
    stay (SymPy cannot decide their sign).

    Parameters
    ----------
    bound : sympy.Expr
        A bound in the symbol ``eta`` (:data:`mixlab.theory.convergence.eta`) and others.

    Returns
    -------
    list of sympy.Expr
        Candidate minimizers eta*, in the bound's own symbols.

    Examples
    --------
    >>> from mixlab.theory.convergence import L, T, eta, f0
    >>> closed_form_step_size(f0 / (eta * T) + L * eta)
    [sqrt(f0)/(sqrt(L)*sqrt(T))]

    References
    ----------
    A. Meurer et al., "SymPy: symbolic computing in Python", PeerJ Computer Science 3,
    e103, 2017.
    """
    free = {s: sp.Symbol(s.name, positive=True) for s in bound.free_symbols}
    expr = bound.subs(free)
    e = free.get(eta, sp.Symbol("eta", positive=True))
    roots = sp.solve(sp.diff(expr, e), e)
    back = {v: k for k, v in free.items()}
    return [sp.simplify(r).subs(back) for r in roots if r.is_positive is not False and r.is_real is not False]


def admissible_eta_max(theorem: Theorem, upper: float, params: dict, iterations: int = 60) -> float:
    """The largest eta in (0, upper] at which every assumption of ``theorem`` holds.

    Bisection, which is exact because every assumption is monotone in eta.

    Parameters
    ----------
    theorem : Theorem
        Theorem whose assumptions bound eta.
    upper : float
        Ceiling of the search, > 0.
    params : dict
        Every parameter of the assumptions except ``eta``.
    iterations : int, default 60
        Bisection steps.

    Returns
    -------
    float
        ``upper`` if it is admissible, else the bisection's admissible end.

    Raises
    ------
    AssumptionError
        If no eta in (0, upper] satisfies the assumptions.

    Examples
    --------
    >>> from mixlab.theory.convergence import DPSGD_NONCONVEX
    >>> p = dict(L=1.0, rho=0.8, atc=0, doubly_stochastic=True, momentum=0.0,
    ...          zeta2_uniform=True, sigma2_uniform=True)
    >>> round(admissible_eta_max(DPSGD_NONCONVEX, 1.0, p), 9)      # rho + eta L < 1
    0.2

    References
    ----------
    Derived in mixlab; the assumptions are those of :mod:`mixlab.theory.convergence`.
    """

    def ok(value: float) -> bool:
        try:
            theorem.check_assumptions(**{**params, "eta": value})
        except AssumptionError:
            return False
        return True

    if ok(upper):
        return upper
    lo, hi = 0.0, upper
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    if lo == 0.0:
        raise AssumptionError(f"{theorem.name}: no step size in (0, {upper}] satisfies the assumptions")
    return lo


def minimizing_step_size(theorem: Theorem, upper: float = 1.0, **params) -> StepSize:
    """The admissible eta minimizing ``theorem``'s bound at ``params`` (all but eta).

    The admissible range (0, eta_max] comes from :func:`admissible_eta_max`; the
    critical points from sign changes of the SymPy derivative on a log grid, refined
    by Brent's method; the best of those and eta_max wins.

    Parameters
    ----------
    theorem : Theorem
        Theorem whose bound is minimized.
    upper : float, default 1.0
        Ceiling of the admissible range, > 0.
    **params
        Every parameter of the bound and the assumptions except ``eta``.

    Returns
    -------
    StepSize
        The minimizer, its bound, eta_max and whether it is interior.

    Raises
    ------
    ParameterError
        If ``eta`` is passed or ``upper`` <= 0.
    AssumptionError
        If no admissible eta exists or a parameter of the bound is missing.

    Examples
    --------
    >>> import mixlab as ml
    >>> from mixlab.theory.convergence import LOCAL_SGD_NONCONVEX
    >>> p = dict(L=1.0, n=8, zeta2=1.0, sigma2=0.5, f0=1.0, T=400, H=1, momentum=0.0,
    ...          zeta2_uniform=True, sigma2_uniform=True)
    >>> best = ml.minimizing_step_size(LOCAL_SGD_NONCONVEX, **p)    # H = 1: minibatch SGD
    >>> round(best.eta, 6), best.interior                            # sqrt(2 f0 n / (L T sigma2))
    (0.282843, True)

    References
    ----------
    Derived in mixlab (bounds of :mod:`mixlab.theory.convergence`).
    R. P. Brent, "Algorithms for Minimization without Derivatives", Prentice-Hall, 1973.
    """
    upper = require_real("upper", upper, low=0, low_open=True)
    if "eta" in params:
        raise ParameterError("minimizing_step_size chooses eta; do not pass it")
    eta_max = admissible_eta_max(theorem, upper, params)
    subs = {s: params[str(s)] for s in theorem.bound.free_symbols if s != eta and str(s) in params}
    missing = [str(s) for s in theorem.bound.free_symbols if s != eta and s not in subs]
    if missing:
        raise AssumptionError(f"{theorem.name}: the bound needs parameters {sorted(missing)}")
    phi = theorem.bound.subs(subs)
    f = sp.lambdify(eta, phi, "numpy")
    df = sp.lambdify(eta, sp.diff(phi, eta), "numpy")
    grid = eta_max * np.logspace(-6, 0, GRID)
    slopes = np.array([float(df(x)) for x in grid])
    candidates = [(float(f(eta_max)), eta_max, False)]
    for i in np.flatnonzero((slopes[:-1] < 0) & (slopes[1:] >= 0)):
        x = brentq(lambda v: float(df(v)), grid[i], grid[i + 1], xtol=1e-15, rtol=1e-13)
        candidates.append((float(f(x)), x, True))
    _, best, interior = min(candidates)
    return StepSize(float(best), float(theorem.evaluate(**{**params, "eta": best})), eta_max, interior)
