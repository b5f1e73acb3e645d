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

    ``groups`` is an (n/S, S) array of worker indices partitioning 0..n-1.
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
    """A schedule of group averaging rounds (``groups(t)`` and ``rule``)."""

    def __init__(self, n: int, group_size: int, rule: str):
        self.n = require_int("n", n, minimum=2)
        self.group_size = require_int("group size S", group_size, minimum=2)
        if self.group_size > self.n:
            raise ParameterError(f"group size S = {self.group_size} exceeds n = {self.n}")
        self.rule = require_choice("averaging rule", rule, GROUP_RULES)

    @abstractmethod
    def groups(self, t: int) -> np.ndarray:
        """(n/S, S) int64 array: row g lists the members of group g at iteration t."""

    def __iter__(self) -> Iterator[np.ndarray]:
        """groups(0), groups(1), ... (endless)."""
        return map(self.groups, itertools.count())

    def matrix(self, t: int, *, sparse: bool | None = None):
        return group_matrix(self.groups(t), self.n, self.rule, sparse=sparse)


class ButterflyGroups(GroupSchedule):
    """WAGMA-SGD's butterfly groups; ``period`` k = log_S n phases.

    With ``mean`` any k consecutive phases average exactly (the product is J)
    and no shorter prefix does; with ``self_weighted`` the per-period
    contraction is 1/(S+1) (derived in mixlab: the phase matrices commute and act
    on one base-S digit each, with eigenvalues 1 and 1/(S+1)) and exact
    averaging never happens.
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
        j = require_int("t", t, minimum=0) % self.period
        S = self.group_size
        ranks = np.arange(self.n, dtype=np.int64).reshape(S ** (self.period - j - 1), S, S**j)
        return np.ascontiguousarray(ranks.transpose(0, 2, 1).reshape(-1, S))

    def period_rho(self) -> float:
        return 0.0 if self.rule == "mean" else 1.0 / (self.group_size + 1)

    def steps_to_exact_average(self, max_steps: int | None = None) -> int | None:
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
    """

    period = None
    period_rho_kind = "mean_square"

    def __init__(self, n: int, group_size: int, rule: str = "mean", seed: Seed = None):
        super().__init__(n, group_size, rule)
        if self.n % self.group_size:
            raise ParameterError(f"random groups need S to divide n; n = {self.n}, S = {self.group_size}")
        self._seed = seed_sequence(seed)

    def groups(self, t: int) -> np.ndarray:
        t = require_int("t", t, minimum=0)
        ss = np.random.SeedSequence(self._seed.entropy, spawn_key=self._seed.spawn_key + (t,))
        perm = np.random.default_rng(ss).permutation(self.n)
        return perm.reshape(-1, self.group_size)

    def expected_gamma_factor(self) -> float:
        """E[Gamma after one round] / Gamma (exact, for any X)."""
        n, S = self.n, self.group_size
        a = (n - S) / (S * (n - 1))
        return a if self.rule == "mean" else ((S * S + 2 * S) * a + 1) / (S + 1) ** 2

    def period_rho(self) -> float:
        return math.sqrt(self.expected_gamma_factor())

    def steps_to_exact_average(self, max_steps: int | None = None) -> int | None:
        return 1 if (self.group_size == self.n and self.rule == "mean") else None
