"""Step-size schedules eta_t for t = 0..steps-1.

>>> step_sizes(1.0, 4, "inverse_sqrt").round(3).tolist()
[1.0, 0.707, 0.577, 0.5]
"""

from __future__ import annotations

import numpy as np

from mixlab.validate import require_choice, require_int, require_real
from mixlab.vocabulary import LR_SCHEDULES


def step_sizes(
    lr: float, steps: int, schedule: str = "constant", *, decay_every: int = 0, decay: float = 0.1
) -> np.ndarray:
    """Constant; cosine from lr to 0; lr / sqrt(t + 1); or step decay (times ``decay``
    every ``decay_every`` steps)."""
    lr = require_real("step size", lr, low=0, low_open=True)
    steps = require_int("steps", steps, minimum=1)
    require_choice("step-size schedule", schedule, LR_SCHEDULES)
    t = np.arange(steps, dtype=np.float64)
    if schedule == "constant":
        return np.full(steps, lr)
    if schedule == "cosine":
        return lr * 0.5 * (1 + np.cos(np.pi * t / steps))
    if schedule == "inverse_sqrt":
        return lr / np.sqrt(t + 1)
    every = require_int("decay_every", decay_every, minimum=1)
    return lr * require_real("decay", decay, low=0, high=1, low_open=True) ** (t // every)
