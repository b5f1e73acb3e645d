"""Group schedules: at each iteration the workers are partitioned into groups of
size S and every group averages its models.

Averaging rules (for a group G and member i):
- ``mean``: x_i <- (1/S) sum_{j in G} x_j;
- ``self_weighted``: x_i <- (sum_{j in G} x_j + x_i) / (S + 1), as in the
  WAGMA-SGD reference code.

Schedules:
- :class:`ButterflyGroups` (WAGMA-SGD, Li et al., IEEE TPDS 2021): n = S^k; at
  iteration t the phase is j = t mod k and a group is the set of ranks that
  agree on every base-S digit except digit j.
- :class:`RandomGroups`: a uniformly random partition into n/S groups per iteration.

>>> ButterflyGroups(9, 3).groups(1).tolist()
[[0, 3, 6], [1, 4, 7], [2, 5, 8]]
"""

from __future__ import annotations

import itertools
import math
from abc import abstractmethod
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from mixlab.errors import ParameterError
from mixlab.seeding import Seed, seed_sequence
from mixlab.theory.mixing_matrix import want_sparse
from mixlab.theory.schedules import Schedule
from mixlab.validate import require_choice, require_int
from mixlab.vocabulary import GROUP_RULES


def group_matrix(groups: np.ndarray, n: int, rule: str, *, sparse: bool | None = None):
    """The n x n mixing matrix of one round of group averaging.

    Parameters
    ----------
    groups : array_like of int
        (n/S, S) worker indices partitioning 0..n-1 (row g = members of group g).
    n : int
        Number of workers.
    rule : {"mean", "self_weighted"}
        ``mean``: each member gets the group mean; ``self_weighted``: member i gets
        (sum of the group + x_i) / (S + 1).
    sparse : bool or None, optional
        Force CSR (True) or dense (False); None: dense for n <= DENSE_MAX_N.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
        (n, n) symmetric doubly stochastic W, block diagonal up to a permutation.

    Raises
    ------
    ParameterError
        If ``rule`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlab.theory.groups import group_matrix
    >>> group_matrix(np.array([[0, 1], [2, 3]]), 4, "mean")[0].tolist()
    [0.5, 0.5, 0.0, 0.0]
    >>> group_matrix(np.array([[0, 1], [2, 3]]), 4, "self_weighted")[0].round(4).tolist()
    [0.6667, 0.3333, 0.0, 0.0]

    References
    ----------
    S. Li, T. Ben-Nun, G. Nadiradze, S. Di Girolamo, N. Dryden, D. Alistarh and
    T. Hoefler, "Breaking (global) barriers in parallel stochastic optimization with
    wait-avoiding group averaging" (WAGMA-SGD), IEEE TPDS 32(7), 2021.
    docs/design.md, section Communication patterns (averaging rules).
    """
    require_choice("averaging rule", rule, GROUP_RULES)
    groups = np.asarray(groups, dtype=np.int64)
    _m, S = groups.shape
    rows = np.repeat(groups, S, axis=1).ravel()
    cols = np.tile(groups, (1, S)).ravel()
    vals = np.full(rows.size, 1.0 / S) if rule == "mean" else np.where(rows == cols, 2.0, 1.0) / (S + 1)
    W = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    return W if want_sparse(n, sparse) else W.toarray()


class GroupSchedule(Schedule):
    """A schedule of group averaging rounds (``groups(t)`` and ``rule``; abstract).

    Parameters
    ----------
    n : int
        Number of workers, >= 2.
    group_size : int
        Group size S, 2 <= S <= n.
    rule : {"mean", "self_weighted"}
        Averaging rule inside a group (see :func:`group_matrix`).
    """

    def __init__(self, n: int, group_size: int, rule: str):
        self.n = require_int("n", n, minimum=2)
        self.group_size = require_int("group size S", group_size, minimum=2)
        if self.group_size > self.n:
            raise ParameterError(f"group size S = {self.group_size} exceeds n = {self.n}")
        self.rule = require_choice("averaging rule", rule, GROUP_RULES)

    @abstractmethod
    def groups(self, t: int) -> np.ndarray:
        """The groups of iteration t.

        Parameters
        ----------
        t : int
            Iteration, >= 0.

        Returns
        -------
        numpy.ndarray
            (n/S, S) int64 array; row g lists the members of group g.
        """

    def __iter__(self) -> Iterator[np.ndarray]:
        """groups(0), groups(1), ... (endless)."""
        return map(self.groups, itertools.count())

    def matrix(self, t: int, *, sparse: bool | None = None):
        """W_t = :func:`group_matrix` (groups(t), n, rule).

        Parameters
        ----------
        t : int
            Iteration, >= 0.
        sparse : bool or None, optional
            Force CSR (True) or dense (False); None: dense for n <= DENSE_MAX_N.

        Returns
        -------
        numpy.ndarray or scipy.sparse.csr_matrix
            (n, n) mixing matrix of iteration t.
        """
        return group_matrix(self.groups(t), self.n, self.rule, sparse=sparse)


class ButterflyGroups(GroupSchedule):
    """WAGMA-SGD's butterfly groups; ``period`` k = log_S n phases.

    With ``mean`` any k consecutive phases average exactly (the product is J)
    and no shorter prefix does; with ``self_weighted`` the per-period
    contraction is 1/(S+1) (derived in mixlab: the phase matrices commute and act
    on one base-S digit each, with eigenvalues 1 and 1/(S+1)) and exact
    averaging never happens.

    Parameters
    ----------
    n : int
        Number of workers, a power S^k of the group size.
    group_size : int
        Group size S >= 2.
    rule : {"mean", "self_weighted"}, default "mean"
        Averaging rule inside a group.

    Attributes
    ----------
    period : int
        k = log_S n.

    Raises
    ------
    ParameterError
        If n is not a power of S.

    Examples
    --------
    >>> import mixlab as ml
    >>> b = ml.ButterflyGroups(4, 2)
    >>> b.period, b.groups(0).tolist(), b.groups(1).tolist(), b.steps_to_exact_average()
    (2, [[0, 1], [2, 3]], [[0, 2], [1, 3]], 2)
    >>> round(ml.ButterflyGroups(4, 2, "self_weighted").period_rho(), 4)
    0.3333

    References
    ----------
    S. Li, T. Ben-Nun, G. Nadiradze, S. Di Girolamo, N. Dryden, D. Alistarh and
    T. Hoefler, "Breaking (global) barriers in parallel stochastic optimization with
    wait-avoiding group averaging" (WAGMA-SGD), IEEE TPDS 32(7), 2021.
    Self-weighted period contraction derived in mixlab: see
    :func:`mixlab.proofs.derivations.self_weighted_period`.
    """

    period: int

    def __init__(self, n: int, group_size: int, rule: str = "mean"):
        super().__init__(n, group_size, rule)
        S = self.group_size
        guess = round(math.log(self.n, S))
        k = next((c for c in (guess - 1, guess, guess + 1) if c >= 1 and S**c == self.n), None)
        if k is None:
            raise ParameterError(
                f"butterfly groups need n to be a power of S; n = {self.n} is not a power of S = {S}"
            )
        self.period = k

    def groups(self, t: int) -> np.ndarray:
        """Butterfly groups of phase j = t mod k: ranks agreeing on every base-S digit but digit j.

        Parameters
        ----------
        t : int
            Iteration, >= 0.

        Returns
        -------
        numpy.ndarray
            (n/S, S) int64 array; row g lists the members of group g.
        """
        j = require_int("t", t, minimum=0) % self.period
        S = self.group_size
        ranks = np.arange(self.n, dtype=np.int64).reshape(S ** (self.period - j - 1), S, S**j)
        return np.ascontiguousarray(ranks.transpose(0, 2, 1).reshape(-1, S))

    def period_rho(self) -> float:
        """Per-period contraction in closed form: 0 (mean) or 1/(S+1) (self-weighted).

        Returns
        -------
        float
            ||W_{k-1} ... W_0 - J||_2.
        """
        return 0.0 if self.rule == "mean" else 1.0 / (self.group_size + 1)

    def steps_to_exact_average(self, max_steps: int | None = None) -> int | None:
        """k = log_S n for the mean rule, None for self-weighted (never exact).

        Parameters
        ----------
        max_steps : int, optional
            Longest prefix considered; None for no limit.

        Returns
        -------
        int or None
            k if the mean rule averages exactly within ``max_steps``, else None.
        """
        if self.rule == "mean" and (max_steps is None or max_steps >= self.period):
            return self.period
        return None


class RandomGroups(GroupSchedule):
    """Uniformly random partition into n/S groups at every iteration, reproducible
    from ``seed`` and addressable by t (iteration t uses its own spawned stream).

    Not periodic; ``period_rho()`` is the mean-square factor: one round gives
    E[Gamma'] = f * Gamma exactly, with f = a for ``mean`` and
    f = ((S^2 + 2S) a + 1) / (S+1)^2 for ``self_weighted``, where
    a = (n - S) / (S (n - 1)) (derived in mixlab: the group-mean projection P
    has E[P] = a I + (1 - a) J, and W^T W = P, resp. ((S^2+2S) P + I)/(S+1)^2).

    Parameters
    ----------
    n : int
        Number of workers, a multiple of S.
    group_size : int
        Group size S >= 2.
    rule : {"mean", "self_weighted"}, default "mean"
        Averaging rule inside a group.
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Root of the per-iteration streams; None draws fresh entropy.

    Raises
    ------
    ParameterError
        If S does not divide n.

    Examples
    --------
    >>> import mixlab as ml
    >>> r = ml.RandomGroups(6, 3, seed=0)
    >>> sorted(r.groups(4).ravel().tolist()), r.groups(4).tolist() == r.groups(4).tolist()
    ([0, 1, 2, 3, 4, 5], True)
    >>> r.expected_gamma_factor(), round(r.period_rho(), 4)    # (n - S) / (S (n - 1))
    (0.2, 0.4472)

    References
    ----------
    Derived in mixlab; see docs/design.md, section Communication patterns (Random
    groups), and :func:`mixlab.proofs.derivations.random_group_factor`.
    S. Li, T. Ben-Nun, G. Nadiradze, S. Di Girolamo, N. Dryden, D. Alistarh and
    T. Hoefler, "Breaking (global) barriers in parallel stochastic optimization with
    wait-avoiding group averaging" (WAGMA-SGD), IEEE TPDS 32(7), 2021 (group averaging).
    """

    period = None
    period_rho_kind = "mean_square"

    def __init__(self, n: int, group_size: int, rule: str = "mean", seed: Seed = None):
        super().__init__(n, group_size, rule)
        if self.n % self.group_size:
            raise ParameterError(f"random groups need S to divide n; n = {self.n}, S = {self.group_size}")
        self._seed = seed_sequence(seed)

    def groups(self, t: int) -> np.ndarray:
        """A uniformly random partition for iteration t, drawn from t's own spawned stream.

        Parameters
        ----------
        t : int
            Iteration, >= 0 (the same t always gives the same groups).

        Returns
        -------
        numpy.ndarray
            (n/S, S) int64 array; row g lists the members of group g.
        """
        t = require_int("t", t, minimum=0)
        ss = np.random.SeedSequence(self._seed.entropy, spawn_key=self._seed.spawn_key + (t,))
        perm = np.random.default_rng(ss).permutation(self.n)
        return perm.reshape(-1, self.group_size)

    def expected_gamma_factor(self) -> float:
        """E[Gamma after one round] / Gamma (exact, for any X).

        Returns
        -------
        float
            a = (n - S) / (S (n - 1)) for ``mean``, ((S^2 + 2S) a + 1) / (S + 1)^2
            for ``self_weighted``.
        """
        n, S = self.n, self.group_size
        a = (n - S) / (S * (n - 1))
        return a if self.rule == "mean" else ((S * S + 2 * S) * a + 1) / (S + 1) ** 2

    def period_rho(self) -> float:
        """Mean-square factor sqrt(E[Gamma'] / Gamma) of one round (``period_rho_kind``).

        Returns
        -------
        float
            sqrt of :meth:`expected_gamma_factor`.
        """
        return math.sqrt(self.expected_gamma_factor())

    def steps_to_exact_average(self, max_steps: int | None = None) -> int | None:
        """1 when one group holds everyone under the mean rule, else None.

        Parameters
        ----------
        max_steps : int, optional
            Ignored (exact averaging happens at step 1 or never).

        Returns
        -------
        int or None
            1 if S = n and the rule is ``mean``, else None.
        """
        return 1 if (self.group_size == self.n and self.rule == "mean") else None
