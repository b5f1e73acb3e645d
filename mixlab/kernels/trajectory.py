"""The trajectory of a run: metrics over recorded steps, plus the run's parameters
and the objective's constants. Saved atomically as NPZ or JSON (by suffix).

Columns (one entry per recorded step; the first at step 0):
``step``, ``loss_gap`` (f(xbar) - f*, or f(xbar) when f* is unknown),
``grad_norm_sq`` (||grad f(xbar)||^2), ``consensus`` (Gamma = sum_i ||x_i - xbar||^2),
``consensus_normalized`` (Gamma / n), ``staleness_max`` and ``staleness_mean``
(iterations, over the steps since the previous record), ``sim_time``.

Divergence. Both engines check every recorded row, with the same rule
(:func:`divergence_code`), and stop at the first row where the loss gap or the
consensus distance is not finite or exceeds :data:`DIVERGENCE_FACTOR` times its
scale at step 0 (:func:`divergence_limits`); the trajectory then ends at that row
and carries ``diverged_at``, its step (:func:`mixlab.simulate` warns with a
:class:`~mixlab.errors.DivergenceWarning`). A run that does not diverge is
unchanged by the check.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from mixlab.errors import ParameterError
from mixlab.io import atomic_write_bytes, atomic_write_json, check_writable, json_safe

#: The file formats of :meth:`Trajectory.save`, by suffix.
SUFFIXES = (".npz", ".json")

COLUMNS = (
    "step",
    "loss_gap",
    "grad_norm_sq",
    "consensus",
    "consensus_normalized",
    "staleness_max",
    "staleness_mean",
    "sim_time",
)


class _Columns(NamedTuple):
    step: int
    loss_gap: int
    grad_norm_sq: int
    consensus: int
    consensus_normalized: int
    staleness_max: int
    staleness_mean: int
    sim_time: int


#: The index of each column in a recorded row (compiled engines write rows by name).
COLUMN = _Columns(*range(len(COLUMNS)))

#: A run has diverged when its loss gap |f(xbar) - f*| or its normalized consensus
#: distance Gamma / n exceeds this many times its scale at step 0 (see
#: :func:`divergence_limits`), or is not finite; checked at every recorded step. A
#: converging run shrinks both, and a noisy one keeps them within a few orders of
#: magnitude of their scale; a divergent one grows them geometrically, so it crosses
#: the limit within a few records of leaving its basin (a step size past 2/L grows
#: the loss gap by (eta L - 1)^2 per step).
DIVERGENCE_FACTOR = 1e6
#: :func:`divergence_code` values: no divergence, the loss gap, the consensus distance.
STABLE, LOSS_GAP_DIVERGED, CONSENSUS_DIVERGED = 0, 1, 2


def model_scale(X0: np.ndarray, x_star: np.ndarray | None) -> float:
    """The squared size of a run's models at the start: max(||xbar_0||^2, ||x*||^2).

    The consensus distance of a run is measured against it (with a floor of 1);
    ``x*`` counts where the objective knows it, so that workers travelling from x0
    to a distant x* do not count as diverging.

    Parameters
    ----------
    X0 : numpy.ndarray, (n, d)
        The initial models.
    x_star : numpy.ndarray or None
        The objective's minimizer, (d,), where known.

    Returns
    -------
    float
        max(||mean row of X0||^2, ||x*||^2) (the first alone without x*).

    Examples
    --------
    >>> model_scale(np.zeros((4, 2)), np.array([3.0, 4.0]))
    25.0
    """
    xbar = np.asarray(X0, dtype=np.float64).mean(axis=0)
    scale = float(xbar @ xbar)
    if x_star is not None:
        x_star = np.asarray(x_star, dtype=np.float64)
        scale = max(scale, float(x_star @ x_star))
    return scale


def divergence_limits(loss_gap0: float, consensus0: float, scale: float) -> tuple[float, float]:
    """The limits of the loss gap and of Gamma / n beyond which a run has diverged.

    Loss gap: DIVERGENCE_FACTOR max(|loss gap at step 0|, 1); Gamma / n:
    DIVERGENCE_FACTOR max(Gamma_0 / n, scale, 1), ``scale`` from :func:`model_scale`
    (Gamma_0 is 0 when every worker starts from one model). The floors of 1 keep a
    run that starts at its optimum from counting as divergent; a diverging run
    passes any fixed limit, the floors only delay detection by a few records.
    Plain Python on floats: the reference engine calls it as it is, the compiled
    engine compiles it.

    Parameters
    ----------
    loss_gap0 : float
        The loss gap recorded at step 0.
    consensus0 : float
        Gamma / n recorded at step 0.
    scale : float
        The squared size of the models, :func:`model_scale`.

    Returns
    -------
    tuple of float
        (limit of |loss gap|, limit of Gamma / n); a NaN at step 0 counts as 0, an
        infinity gives an infinite limit (then only NaN counts as divergent).

    Examples
    --------
    >>> divergence_limits(2.0, 0.0, 0.25)
    (2000000.0, 1000000.0)
    """
    gap = abs(loss_gap0)
    gap_scale = gap if gap > 1.0 else 1.0  # written out (no max): NaN is handled alike when compiled
    consensus_scale = consensus0 if consensus0 > scale else scale
    consensus_scale = consensus_scale if consensus_scale > 1.0 else 1.0
    return DIVERGENCE_FACTOR * gap_scale, DIVERGENCE_FACTOR * consensus_scale


def divergence_code(loss_gap: float, consensus: float, loss_limit: float, consensus_limit: float) -> int:
    """Which quantity of a recorded row has diverged: the rule both engines apply.

    Parameters
    ----------
    loss_gap : float
        The row's loss gap.
    consensus : float
        The row's Gamma / n.
    loss_limit, consensus_limit : float
        The limits from :func:`divergence_limits`.

    Returns
    -------
    int
        :data:`STABLE` (0) when |loss gap| <= its limit and Gamma / n <= its limit;
        else :data:`LOSS_GAP_DIVERGED` (1) or :data:`CONSENSUS_DIVERGED` (2), the loss
        gap first. A NaN or an infinity never satisfies a limit.

    Examples
    --------
    >>> divergence_code(3.0, 0.5, 1e6, 1e6), divergence_code(float("nan"), 0.5, 1e6, 1e6)
    (0, 1)
    >>> divergence_code(3.0, float("inf"), 1e6, 1e6)
    2
    """
    if not abs(loss_gap) <= loss_limit:
        return LOSS_GAP_DIVERGED
    if not consensus <= consensus_limit:
        return CONSENSUS_DIVERGED
    return STABLE


def first_divergence(columns: dict, scale: float) -> tuple[int, int] | None:
    """The first recorded row at which :func:`divergence_code` says a run diverged.

    Parameters
    ----------
    columns : dict of str to numpy.ndarray
        Trajectory columns (at least ``loss_gap`` and ``consensus_normalized``); row 0
        is the initial state.
    scale : float
        The squared size of the models, :func:`model_scale`.

    Returns
    -------
    tuple of int or None
        (row, code) of the first divergent row after row 0, or None.

    Examples
    --------
    >>> cols = {"loss_gap": np.array([1.0, 0.5, 3e6, np.inf]), "consensus_normalized": np.zeros(4)}
    >>> first_divergence(cols, 0.0)
    (2, 1)
    """
    gap, cons = columns["loss_gap"], columns["consensus_normalized"]
    limits = divergence_limits(float(gap[0]), float(cons[0]), scale)
    for row in range(1, len(gap)):
        code = divergence_code(float(gap[row]), float(cons[row]), *limits)
        if code != STABLE:
            return row, code
    return None


@dataclass
class Trajectory:
    """The recorded metrics of one run, with the run's parameters and the objective's constants.

    Index it by column name (``tr["loss_gap"]``); ``len(tr)`` is the number of
    records. The columns are described in the module docstring (:data:`COLUMNS`).

    Parameters
    ----------
    columns : dict of str to numpy.ndarray
        Every name of :data:`COLUMNS` (others allowed), each a 1-D array with one
        entry per recorded step, all of one length.
    params : dict
        The run's parameters (algorithm, n, steps, seed, ...); default empty.
    constants : dict
        The objective's constants (:meth:`~mixlab.kernels.objectives.Objective.constants`);
        default empty.
    diverged_at : int or None
        The recorded step at which the run was found to diverge (it stopped there,
        and the columns end with that record); None for a run that did not diverge.

    Raises
    ------
    ParameterError
        If a column of :data:`COLUMNS` is missing or the columns differ in length.

    See Also
    --------
    mixlab.run : returns a Trajectory.

    References
    ----------
    The metrics are those of the consensus and convergence bounds checked by
    :mod:`mixlab.theory.convergence`; notation (Gamma, xbar) of docs/design.md,
    section "Notation".

    Examples
    --------
    >>> import numpy as np
    >>> import mixlab as ml
    >>> from mixlab.kernels.trajectory import COLUMNS
    >>> cols = {c: np.zeros(3) for c in COLUMNS}
    >>> cols["step"], cols["sim_time"] = np.array([0.0, 5, 10]), np.array([0.0, 2, 4])
    >>> tr = ml.Trajectory(cols, params={"algorithm": "dpsgd"})
    >>> len(tr), tr.throughput(), tr.summary()["algorithm"]
    (3, 2.5, 'dpsgd')
    """

    columns: dict[str, np.ndarray]
    params: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)
    diverged_at: int | None = None

    def __post_init__(self):
        missing = set(COLUMNS) - set(self.columns)
        if missing:
            raise ParameterError(f"trajectory lacks columns {sorted(missing)}")
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) != 1:
            raise ParameterError(f"trajectory columns must have equal lengths, got {sorted(lengths)}")

    @property
    def diverged(self) -> bool:
        """Whether the run diverged (and stopped early at :attr:`diverged_at`).

        Returns
        -------
        bool
            ``diverged_at is not None``.
        """
        return self.diverged_at is not None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["step"])

    @property
    def final(self) -> dict:
        """The last record.

        Returns
        -------
        dict
            Column name -> its last value, as a float.
        """
        return {k: float(v[-1]) for k, v in self.columns.items()}

    def throughput(self) -> float:
        """Iterations per unit of simulated time over the run.

        Returns
        -------
        float
            Last ``step`` / last ``sim_time``; inf when no simulated time elapsed.
        """
        return float(self["step"][-1] / self["sim_time"][-1]) if self["sim_time"][-1] > 0 else float("inf")

    def summary(self) -> dict:
        """The run's parameters and its final metrics, in one flat dict (a table row).

        Returns
        -------
        dict
            ``params`` plus ``final_loss_gap``, ``final_grad_norm_sq``,
            ``final_consensus``, ``max_staleness`` (over the run), ``sim_time``,
            ``throughput`` (iterations per unit of simulated time, not wall-clock),
            ``diverged`` and ``diverged_at``.
        """
        f = self.final
        return {
            **self.params,
            "final_loss_gap": f["loss_gap"],
            "final_grad_norm_sq": f["grad_norm_sq"],
            "final_consensus": f["consensus"],
            "max_staleness": float(self["staleness_max"].max()),
            "sim_time": f["sim_time"],
            "throughput": self.throughput(),
            "diverged": self.diverged,
            "diverged_at": self.diverged_at,
        }

    def history(self) -> dict:
        """The columns as lists (JSON-ready).

        Returns
        -------
        dict
            Column name -> list of floats.
        """
        return {k: v.tolist() for k, v in self.columns.items()}

    def as_dict(self) -> dict:
        """The whole trajectory as JSON-ready data (the ``.json`` file format).

        Returns
        -------
        dict
            ``{"params": ..., "constants": ..., "diverged": ..., "diverged_at": ...,
            "history": ...}``; non-finite numbers as the strings ``"inf"``, ``"-inf"``
            and ``"nan"`` (:func:`mixlab.io.json_safe`).
        """
        return json_safe(
            {
                "params": self.params,
                "constants": self.constants,
                "diverged": self.diverged,
                "diverged_at": self.diverged_at,
                "history": self.history(),
            }
        )

    def save(self, path) -> Path:
        """Write the trajectory atomically, as ``.npz`` (arrays + JSON metadata) or ``.json``.

        Parameters
        ----------
        path : str or os.PathLike
            Target file; its suffix, ``.npz`` or ``.json``, selects the format.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        ParameterError
            For any other suffix, or a path that cannot be written
            (:func:`mixlab.io.check_writable`).
        """
        path = check_writable(path, suffixes=SUFFIXES, kind="trajectory files")
        if path.suffix == ".json":
            return atomic_write_json(path, self.as_dict())
        buf = io.BytesIO()
        meta = json.dumps(
            json_safe({"params": self.params, "constants": self.constants, "diverged_at": self.diverged_at})
        )
        arrays: dict[str, Any] = {"meta": np.array(meta), **self.columns}
        np.savez(buf, **arrays)
        return atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path) -> Trajectory:
        """Read a trajectory written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A ``.json`` file, or else an ``.npz`` file.

        Returns
        -------
        Trajectory
            The columns (float64 from JSON), parameters and constants.
        """
        path = Path(path)
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            return cls(
                {k: np.asarray(v, dtype=np.float64) for k, v in data["history"].items()},
                data["params"],
                data["constants"],
                data.get("diverged_at"),
            )
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            return cls(
                {k: z[k] for k in z.files if k != "meta"},
                meta["params"],
                meta["constants"],
                meta.get("diverged_at"),
            )
