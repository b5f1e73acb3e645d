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
        return {k: float(v[-1]) for k, v in self.columns.items()}

    def throughput(self) -> float:
        """Iterations per unit of simulated time over the run."""
        return float(self["step"][-1] / self["sim_time"][-1]) if self["sim_time"][-1] > 0 else float("inf")

    def summary(self) -> dict:
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
        return {k: v.tolist() for k, v in self.columns.items()}

    def as_dict(self) -> dict:
        return {"params": self.params, "constants": self.constants, "history": self.history()}

    def save(self, path) -> Path:
        """Atomically write ``.npz`` (arrays + JSON metadata) or ``.json``."""
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
