"""Version age of gossip: symmetric exact solvers, closed forms, capacity thresholds.

Yates' model ("The Age of Gossip in Networks", ISIT 2021, arXiv 2102.02893,
Thm. 1): a source makes versions at rate lambda_e and pushes to node j at
lambda_0j; node i pushes to node j at lambda_ij. For a node set S, with
lambda_0(S) = sum_{j in S} lambda_0j, lambda_i(S) = sum_{j in S} lambda_ij and
N(S) = {i not in S : lambda_i(S) > 0}, the limiting mean version age of the
freshest node of S is

    v_S = (lambda_e + sum_{i in N(S)} lambda_i(S) v_{S+i}) / (lambda_0(S) + sum_{i in N(S)} lambda_i(S)),

v_N = lambda_e / lambda_0(N). The general solver over all subsets is compute and
lives in :mod:`mixlab.kernels.gossip.exact`; here symmetry reduces it to n
unknowns (v depends on |S| on the complete graph, only arcs occur on the ring):

- complete graph, lambda_0j = lambda/n, lambda_ij = lambda/(n-1);
- ring, lambda_0j = lambda/n, lambda/2 to each neighbour;
- user-as-source (the fully connected network of Mitra & Ulukus, "Scale-Robust
  Timely Asynchronous Decentralized Learning", arXiv 2404.19749): user i makes
  versions at mean rate u and all n users push at lambda/(n-1) per pair; the
  n - 1 others receive. The recursion telescopes (derived in mixlab, checked
  exactly for small n and by Monte Carlo) to E[S_i^j] = (u/lambda) H_{n-1};
  two-way exchange doubles every rate and halves it.

Capacity. Mitra & Ulukus's abstract states: "if the gossip capacity of
individual users scales as Omega(log n), we can guarantee the convergence of
user models in finite time. Furthermore, we show that the bounded staleness can
only be guaranteed by any distributed opportunistic scheme by Omega(n)
scaling." Their precise definition of an opportunistic scheme is not reproduced
here (the full text was not available to us): mixlab models it by the
owner-only scheme, in which only user i spreads its model. Both closed forms,
(u/lambda) H_{n-1} for uniform gossip and u (n-1)/lambda for the owner-only
scheme, and hence both capacity thresholds, are derived in mixlab;
``mixlab capacity --measure`` checks them by Monte Carlo at the thresholds.

Each solver returns an exact ``Fraction`` with ``exact=True`` (rational rates)
and a float otherwise; floats use the vectorized solution of the first-order
recursion v_k = a_k + b_k v_{k+1}, O(n) for n up to 10^6 and more.

>>> complete_graph_age(3, exact=True)
Fraction(33, 20)
>>> user_staleness_complete(5, exact=True)      # H_4
Fraction(25, 12)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from mixlab.errors import ParameterError
from mixlab.validate import require_choice, require_int, require_real
from mixlab.vocabulary import GOSSIP_MODES

EULER_GAMMA = 0.5772156649015329


def _rate(name: str, value, exact: bool):
    if exact:
        if isinstance(value, float) and not value.is_integer():
            value = Fraction(value).limit_denominator(10**12)
        value = Fraction(value)
        if value <= 0:
            raise ParameterError(f"{name} must be > 0, got {value}")
        return value
    return require_real(name, value, low=0, low_open=True)


#: Terms of the float recursion evaluated at once (memory O(CHUNK), not O(n)).
CHUNK = 1 << 20


def _recursion(m: int, a_of, b_of, v_last, exact: bool):
    """v_1 of v_k = a(k) + b(k) v_{k+1}, k = m-1 .. 1, from v_m = v_last.

    Floats: v_1 = sum_k (prod_{j<k} b_j) a_k + (prod_{j<m} b_j) v_last, accumulated
    over chunks of :data:`CHUNK` terms (one chunk, i.e. the same arithmetic as a single
    pass, for m <= CHUNK)."""
    if exact:
        v = v_last
        for k in range(m - 1, 0, -1):
            v = a_of(k) + b_of(k) * v
        return v
    total, product = 0.0, 1.0  # product: prod_{j<k} b_j at the chunk's first k
    for start in range(1, m, CHUNK):
        ks = np.arange(start, min(start + CHUNK, m), dtype=np.float64)
        prefix = product * np.concatenate(([1.0], np.cumprod(b_of(ks))))
        total += float(prefix[:-1] @ a_of(ks))
        product = float(prefix[-1])
    return float(total + product * float(v_last))


def _node_rate(lam, mode: str):
    """Exchange between nodes i and j at rate r acts, for version age, as pushes
    i -> j and j -> i at rate r each; the source is never contacted."""
    return lam * 2 if require_choice("gossip mode", mode, GOSSIP_MODES) == "exchange" else lam


def complete_graph_age(n: int, gossip_rate=1, update_rate=1, *, mode: str = "push", exact: bool = False):
    """Mean version age of one node of the complete graph, in Yates' normalization.

    The source pushes at lambda/n to each node and every ordered node pair gossips
    at lambda/(n-1); symmetry reduces Yates' recursion to n unknowns.

    Parameters
    ----------
    n : int
        Number of nodes, >= 2.
    gossip_rate : int, float or Fraction, default 1
        Gossip rate lambda > 0.
    update_rate : int, float or Fraction, default 1
        Rate lambda_e > 0 at which the source makes versions.
    mode : {"push", "exchange"}, default "push"
        ``exchange`` makes every contact two-way.
    exact : bool, default False
        Solve in exact rational arithmetic (rates converted to ``Fraction``).

    Returns
    -------
    Fraction or float
        A ``Fraction`` when ``exact``, else a float.

    Raises
    ------
    ParameterError
        If n < 2, a rate is not positive or ``mode`` is unknown.

    Examples
    --------
    >>> complete_graph_age(3, exact=True), complete_graph_age(3, mode="exchange", exact=True)
    (Fraction(33, 20), Fraction(39, 28))
    >>> round(complete_graph_age(1000), 4)
    7.4796

    References
    ----------
    R. D. Yates, "The age of gossip in networks", IEEE ISIT 2021, arXiv 2102.02893, Thm. 1.
    docs/design.md, section Version age of gossip.
    """
    n = require_int("n", n, minimum=2)
    lam, le = _rate("gossip rate", gossip_rate, exact), _rate("update rate", update_rate, exact)
    node = _node_rate(lam, mode)

    # |S| = k: lambda_0(S) = k lam/n, n-k neighbours each with lambda_i(S) = k node/(n-1)
    def inflow(k):
        return k * (n - k) * node / (n - 1)

    def denom(k):
        return k * lam / n + inflow(k)

    return _recursion(n, lambda k: le / denom(k), lambda k: inflow(k) / denom(k), le / lam, exact)


def ring_age(n: int, gossip_rate=1, update_rate=1, *, mode: str = "push", exact: bool = False):
    """Mean version age of one node of the ring, in Yates' normalization.

    The source pushes at lambda/n to each node, each node at lambda/2 to each
    neighbour. Arcs of k < n nodes receive from outside at total rate lambda (two
    ends at lambda/2, or one node with both neighbours inside).

    Parameters
    ----------
    n : int
        Number of nodes, >= 3.
    gossip_rate : int, float or Fraction, default 1
        Gossip rate lambda > 0.
    update_rate : int, float or Fraction, default 1
        Rate lambda_e > 0 at which the source makes versions.
    mode : {"push", "exchange"}, default "push"
        ``exchange`` makes every contact two-way.
    exact : bool, default False
        Solve in exact rational arithmetic (rates converted to ``Fraction``).

    Returns
    -------
    Fraction or float
        A ``Fraction`` when ``exact``, else a float.

    Raises
    ------
    ParameterError
        If n < 3, a rate is not positive or ``mode`` is unknown.

    Examples
    --------
    >>> ring_age(3, exact=True) == complete_graph_age(3, exact=True)   # the 3-ring is K_3
    True
    >>> ring_age(4, exact=True)
    Fraction(68, 35)

    References
    ----------
    R. D. Yates, "The age of gossip in networks", IEEE ISIT 2021, arXiv 2102.02893, Thm. 1.
    docs/design.md, section Version age of gossip.
    """
    n = require_int("n", n, minimum=3)
    lam, le = _rate("gossip rate", gossip_rate, exact), _rate("update rate", update_rate, exact)
    node = _node_rate(lam, mode)

    def denom(k):
        return k * lam / n + node

    return _recursion(n, lambda k: le / denom(k), lambda k: node / denom(k), le / lam, exact)


def user_staleness_complete(n: int, gossip_rate=1, update_rate=1, *, mode: str = "push", exact: bool = False):
    """Limiting mean staleness E[S_i^j] of user i's model at another user j on the complete graph.

    Every user gossips at rate lambda to a uniform other user and user i makes
    versions at mean rate u; ``exchange`` updates both sides. Equals
    (u/lambda) H_{n-1} (halved for exchange).

    Parameters
    ----------
    n : int
        Number of users, >= 2.
    gossip_rate : int, float or Fraction, default 1
        Gossip rate lambda > 0.
    update_rate : int, float or Fraction, default 1
        Mean rate u > 0 at which user i makes versions.
    mode : {"push", "exchange"}, default "push"
        ``exchange`` makes every contact two-way.
    exact : bool, default False
        Solve in exact rational arithmetic (rates converted to ``Fraction``).

    Returns
    -------
    Fraction or float
        A ``Fraction`` when ``exact``, else a float.

    Raises
    ------
    ParameterError
        If n < 2, a rate is not positive or ``mode`` is unknown.

    Examples
    --------
    >>> user_staleness_complete(5, exact=True), user_staleness_complete(5, 2, mode="exchange", exact=True)
    (Fraction(25, 12), Fraction(25, 48))

    References
    ----------
    R. D. Yates, "The age of gossip in networks", IEEE ISIT 2021, arXiv 2102.02893,
    Thm. 1 (the recursion).
    P. Mitra and S. Ulukus, "Scale-robust timely asynchronous decentralized learning",
    arXiv 2404.19749, 2024 (the model).
    Closed form derived in mixlab: :func:`mixlab.proofs.derivations.telescoping`.
    """
    n = require_int("n", n, minimum=2)
    require_choice("gossip mode", mode, GOSSIP_MODES)
    lam, u = _rate("gossip rate", gossip_rate, exact), _rate("update rate", update_rate, exact)
    m = n - 1
    pair = (2 if mode == "exchange" else 1) * lam / m  # rate per ordered pair

    # receivers S, |S| = k: source pushes at k*pair, each of the m-k others at k*pair
    def denom(k):
        return k * pair * (1 + m - k)

    return _recursion(
        m, lambda k: u / denom(k), lambda k: (m - k) * k * pair / denom(k), u / (m * pair), exact
    )


def opportunistic_staleness(n: int, gossip_rate=1, update_rate=1):
    """E[S_i^j] under the owner-only scheme, mixlab's model of Mitra & Ulukus's
    opportunistic scheme (their definition is not reproduced; see the module
    docstring): only user i pushes, at total rate lambda to a uniform other user,
    so j is reached at lambda/(n-1) and S_i^j counts the versions made since:
    u (n-1) / lambda (derived in mixlab).

    Parameters
    ----------
    n : int
        Number of users, >= 2.
    gossip_rate : int, float or Fraction, default 1
        Gossip rate lambda > 0.
    update_rate : int, float or Fraction, default 1
        Mean rate u > 0 at which user i makes versions.

    Returns
    -------
    float
        u (n - 1) / lambda.

    Raises
    ------
    ParameterError
        If n < 2 or a rate is not positive.

    Examples
    --------
    >>> opportunistic_staleness(5), opportunistic_staleness(5, gossip_rate=2, update_rate=3)
    (4.0, 6.0)

    References
    ----------
    Derived in mixlab: :func:`mixlab.proofs.derivations.owner_only`; docs/design.md,
    section Version age of gossip.
    P. Mitra and S. Ulukus, "Scale-robust timely asynchronous decentralized learning",
    arXiv 2404.19749, 2024 (the model).
    """
    n = require_int("n", n, minimum=2)
    return _rate("update rate", update_rate, False) * (n - 1) / _rate("gossip rate", gossip_rate, False)


def harmonic(m: int) -> float:
    """Harmonic number H_m = sum_{k<=m} 1/k.

    Summed exactly up to 10^5 terms; beyond, ln m + gamma + 1/(2m) - 1/(12 m^2).

    Parameters
    ----------
    m : int
        Number of terms, >= 0 (H_0 = 0).

    Returns
    -------
    float
        H_m.

    Examples
    --------
    >>> round(harmonic(4), 6), harmonic(0)
    (2.083333, 0.0)

    References
    ----------
    R. L. Graham, D. E. Knuth and O. Patashnik, "Concrete Mathematics", 2nd ed.,
    Addison-Wesley, 1994 (harmonic numbers and their asymptotic expansion).
    """
    m = require_int("m", m, minimum=0)
    if m <= 100_000:
        return float(np.sum(1.0 / np.arange(1, m + 1)))
    return math.log(m) + EULER_GAMMA + 1 / (2 * m) - 1 / (12 * m * m)


# ---- closed forms (SymPy) -------------------------------------------------------------------

u_sym, lam_sym, n_sym = sp.symbols("u lambda n", positive=True)


def user_staleness_closed_form(mode: str = "push") -> sp.Expr:
    """Closed form (u/lambda) H_{n-1} of the user staleness, halved for exchange.

    Parameters
    ----------
    mode : {"push", "exchange"}, default "push"
        Gossip mode.

    Returns
    -------
    sympy.Expr
        Expression in the symbols :data:`u_sym`, :data:`lam_sym`, :data:`n_sym`.

    Raises
    ------
    ParameterError
        If ``mode`` is unknown.

    Examples
    --------
    >>> user_staleness_closed_form()
    u*harmonic(n - 1)/lambda
    >>> user_staleness_closed_form("exchange").subs({n_sym: 5, u_sym: 1, lam_sym: 1})
    25/24

    References
    ----------
    Derived in mixlab (:func:`mixlab.proofs.derivations.telescoping`) from Yates'
    recursion: R. D. Yates, "The age of gossip in networks", IEEE ISIT 2021,
    arXiv 2102.02893, Thm. 1.
    P. Mitra and S. Ulukus, "Scale-robust timely asynchronous decentralized learning",
    arXiv 2404.19749, 2024 (the model).
    """
    require_choice("gossip mode", mode, GOSSIP_MODES)
    expr = u_sym / lam_sym * sp.harmonic(n_sym - 1)
    return expr / 2 if mode == "exchange" else expr


def user_staleness_asymptotic(mode: str = "push") -> sp.Expr:
    """Asymptotic user staleness (u/lambda)(ln n + gamma), halved for exchange.

    Uses H_{n-1} = ln n + gamma - 1/(2n) + O(1/n^2).

    Parameters
    ----------
    mode : {"push", "exchange"}, default "push"
        Gossip mode.

    Returns
    -------
    sympy.Expr
        Expression in :data:`u_sym`, :data:`lam_sym`, :data:`n_sym`.

    Examples
    --------
    >>> user_staleness_asymptotic("exchange")
    u*(log(n) + EulerGamma)/(2*lambda)

    References
    ----------
    Derived in mixlab from :func:`user_staleness_closed_form`; docs/design.md, section Version age of gossip.
    """
    require_choice("gossip mode", mode, GOSSIP_MODES)
    expr = u_sym / lam_sym * (sp.log(n_sym) + sp.EulerGamma)
    return expr / 2 if mode == "exchange" else expr


def complete_age_asymptotic() -> sp.Expr:
    """Approximate version age ln n + gamma on Yates' complete graph with lambda_e = lambda.

    A numerically checked approximation, not a proved bound: the gap to
    :func:`complete_graph_age` is 0.09 at n = 10 and 1e-5 at n = 10^6.

    Returns
    -------
    sympy.Expr
        ln n + gamma in the symbol :data:`n_sym`.

    Examples
    --------
    >>> round(float(complete_age_asymptotic().subs(n_sym, 1000)), 4), round(complete_graph_age(1000), 4)
    (7.485, 7.4796)

    References
    ----------
    R. D. Yates, "The age of gossip in networks", IEEE ISIT 2021, arXiv 2102.02893,
    Thm. 1 (the model; the log n growth on the complete graph).
    """
    return sp.log(n_sym) + sp.EulerGamma


def ring_age_asymptotic() -> sp.Expr:
    """Approximate version age sqrt(pi n / 2) on Yates' ring with lambda_e = lambda.

    A numerically checked approximation, not a proved bound.

    Returns
    -------
    sympy.Expr
        sqrt(pi n / 2) in the symbol :data:`n_sym`.

    Examples
    --------
    >>> round(float(ring_age_asymptotic().subs(n_sym, 100)), 4), round(ring_age(100), 4)
    (12.5331, 11.8772)

    References
    ----------
    R. D. Yates, "The age of gossip in networks", IEEE ISIT 2021, arXiv 2102.02893, Thm. 1
    (the model). The form sqrt(pi n / 2) is checked numerically in mixlab; see docs/design.md,
    section Version age of gossip.
    """
    return sp.sqrt(sp.pi * n_sym / 2)


# ---- capacity thresholds --------------------------------------------------------------------


def uniform_capacity_threshold(n: int, target: float, update_rate=1, *, mode: str = "push") -> float:
    """Smallest per-user gossip rate lambda with E[S] = (u/lambda) H_{n-1} <= target.

    lambda = u H_{n-1} / target (halved for exchange), Theta(log n).

    Parameters
    ----------
    n : int
        Number of users, >= 2.
    target : float
        Target mean staleness s* > 0 (versions).
    update_rate : int or float, default 1
        Mean rate u > 0 at which a user makes versions.
    mode : {"push", "exchange"}, default "push"
        Gossip mode.

    Returns
    -------
    float
        The threshold gossip rate lambda.

    Raises
    ------
    ParameterError
        If n < 2, ``target`` or ``update_rate`` is not positive, or ``mode`` is unknown.

    Examples
    --------
    >>> round(uniform_capacity_threshold(5, 1.0), 6)            # u H_4 / s*
    2.083333
    >>> round(uniform_capacity_threshold(5, 1.0, mode="exchange"), 6)
    1.041667

    References
    ----------
    Derived in mixlab; see docs/design.md, section Version age of gossip.
    P. Mitra and S. Ulukus, "Scale-robust timely asynchronous decentralized learning",
    arXiv 2404.19749, 2024 (the model). (the Omega(log n) capacity statement)
    """
    n = require_int("n", n, minimum=2)
    target = require_real("target staleness s*", target, low=0, low_open=True)
    require_choice("gossip mode", mode, GOSSIP_MODES)
    u = _rate("update rate", update_rate, False)
    return u * harmonic(n - 1) / target / (2 if mode == "exchange" else 1)


def opportunistic_capacity_threshold(n: int, target: float, update_rate=1) -> float:
    """Smallest lambda with which the owner-only scheme keeps E[S] = u (n-1)/lambda
    <= target: lambda = u (n-1)/target, Theta(n) (derived in mixlab; mixlab's model
    of the Omega(n) statement quoted in the module docstring).

    Parameters
    ----------
    n : int
        Number of users, >= 2.
    target : float
        Target mean staleness s* > 0 (versions).
    update_rate : int or float, default 1
        Mean rate u > 0 at which a user makes versions.

    Returns
    -------
    float
        The threshold gossip rate lambda = u (n - 1) / target.

    Raises
    ------
    ParameterError
        If n < 2 or ``target`` or ``update_rate`` is not positive.

    Examples
    --------
    >>> opportunistic_capacity_threshold(5, 2.0)
    2.0

    References
    ----------
    Derived in mixlab: :func:`mixlab.proofs.derivations.owner_only`; docs/design.md,
    section Version age of gossip.
    P. Mitra and S. Ulukus, "Scale-robust timely asynchronous decentralized learning",
    arXiv 2404.19749, 2024 (the model). (the Omega(n) statement)
    """
    n = require_int("n", n, minimum=2)
    target = require_real("target staleness s*", target, low=0, low_open=True)
    return _rate("update rate", update_rate, False) * (n - 1) / target
