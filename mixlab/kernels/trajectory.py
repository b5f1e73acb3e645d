"""The trajectory of a run: metrics over recorded steps, plus the run's parameters
and the objective's constants. Saved atomically as NPZ or JSON (by suffix).

Columns (one entry per recorded step; the first at step 0):
``step``, ``loss_gap`` (f(xbar) - f*, or f(xbar) when f* is unknown),
``grad_norm_sq`` (||grad f(xbar)||^2), ``consensus`` (Gamma = sum_i ||x_i - xbar||^2),
``consensus_normalized`` (Gamma / n), ``staleness_max`` and ``staleness_mean``
(iterations, over the steps since the previous record), ``sim_time``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from mixlab.errors import ParameterError
from mixlab.io import atomic_write_bytes, atomic_write_json

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

    def __post_init__(self):
        missing = set(COLUMNS) - set(self.columns)
        if missing:
            raise ParameterError(f"trajectory lacks columns {sorted(missing)}")
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) != 1:
            raise ParameterError(f"trajectory columns must have equal lengths, got {sorted(lengths)}")

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
            ``final_consensus``, ``max_staleness`` (over the run), ``sim_time`` and
            ``throughput``.
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
            ``{"params": ..., "constants": ..., "history": ...}``.
        """
        return {"params": self.params, "constants": self.constants, "history": self.history()}

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
            For any other suffix.
        """
        path = Path(path)
        if path.suffix == ".json":
            return atomic_write_json(path, self.as_dict())
        if path.suffix != ".npz":
            raise ParameterError(f"trajectory files end in .npz or .json, got {path.name!r}")
        buf = io.BytesIO()
        meta = json.dumps({"params": self.params, "constants": self.constants})
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
            )
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            return cls({k: z[k] for k in z.files if k != "meta"}, meta["params"], meta["constants"])
